"""API tokens and login sessions. Only hashes of the secrets are stored."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from tillit.bank._base import BankBase, user_record, utc, utcnow
from tillit.bank._models import ApiToken, LoginSession, User
from tillit.bank._records import SessionRecord, TokenRecord, UserRecord
from tillit.bank._validate import clean_text
from tillit.errors import NotFoundError

__all__ = ["Logins"]

TOKEN_PREFIX = "tlt_"


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _token_record(token: ApiToken) -> TokenRecord:
    return TokenRecord(
        id=token.id,
        user_id=token.user_id,
        name=token.name,
        prefix=token.prefix,
        created_at=utc(token.created_at),
        last_used_at=None if token.last_used_at is None else utc(token.last_used_at),
        revoked_at=None if token.revoked_at is None else utc(token.revoked_at),
    )


class Logins(BankBase):
    # -- API tokens ----------------------------------------------------------------------

    def create_token(self, user: UserRecord, name: str) -> tuple[str, TokenRecord]:
        """A new API token for ``user``: the plain token (shown once) and its record."""
        name = clean_text("name", name, 200, required=True)
        plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
        with self.transaction() as session:
            owner = self._actor(session, user)
            token = ApiToken(
                user_id=user.id,
                name=name,
                prefix=plain[:12],
                token_hash=_sha256(plain),
                created_at=utcnow(),
            )
            session.add(token)
            session.flush()
            self._audit(session, owner, "token.create", "api_token", token.id, name=name)
            return plain, _token_record(token)

    def tokens(self, user: UserRecord) -> list[TokenRecord]:
        with self.sessions() as session:
            rows = session.scalars(
                select(ApiToken).where(ApiToken.user_id == user.id).order_by(ApiToken.id)
            )
            return [_token_record(t) for t in rows]

    def user_for_token(self, plain: str) -> UserRecord | None:
        """The active user owning this unrevoked token, or None; records its last use."""
        with self.transaction() as session:
            token = session.scalar(select(ApiToken).where(ApiToken.token_hash == _sha256(plain)))
            if token is None or token.revoked_at is not None:
                return None
            user = session.get(User, token.user_id)
            if user is None or not user.is_active:
                return None
            now = utcnow()
            # Minute resolution is enough and spares a write on every API request.
            if token.last_used_at is None or now - utc(token.last_used_at) > timedelta(minutes=1):
                token.last_used_at = now
            return user_record(user)

    def revoke_token(self, actor: UserRecord, token_id: int) -> None:
        """Revoke a token (its owner or an admin)."""
        with self.transaction() as session:
            acting = self._actor(session, actor)
            token = session.get(ApiToken, token_id)
            if token is None:
                raise NotFoundError(f"Token {token_id} finns inte.")
            if token.user_id != actor.id and (acting is None or acting.role != "admin"):
                # Someone else's token answers like a missing one: its existence is not told.
                raise NotFoundError(f"Token {token_id} finns inte.")
            if token.revoked_at is None:
                token.revoked_at = utcnow()
                self._audit(session, acting, "token.revoke", "api_token", token_id)

    # -- login sessions ------------------------------------------------------------------

    def create_session(
        self, user: UserRecord, ttl: timedelta = timedelta(hours=12)
    ) -> tuple[str, str]:
        """Log ``user`` in: returns ``(plain session id for the cookie, CSRF token)``."""
        plain = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = utcnow()
        with self.transaction() as session:
            owner = self._actor(session, user)
            row = LoginSession(
                user_id=user.id,
                session_hash=_sha256(plain),
                csrf_token=csrf,
                created_at=now,
                expires_at=now + ttl,
            )
            session.add(row)
            session.flush()
            self._audit(session, owner, "user.login", "user", user.id)
        return plain, csrf

    def session_user(self, plain: str) -> tuple[UserRecord, SessionRecord] | None:
        """The user and session of a session cookie, or None when unknown or expired."""
        with self.transaction() as session:
            row = session.scalar(
                select(LoginSession).where(LoginSession.session_hash == _sha256(plain))
            )
            if row is None:
                return None
            if utc(row.expires_at) <= utcnow():
                session.delete(row)
                return None
            user = session.get(User, row.user_id)
            if user is None or not user.is_active:
                return None
            return user_record(user), SessionRecord(
                row.id, row.user_id, row.csrf_token, utc(row.created_at), utc(row.expires_at)
            )

    def end_session(self, plain: str) -> bool:
        """Log out; True when there was such a session."""
        with self.transaction() as session:
            row = session.scalar(
                select(LoginSession).where(LoginSession.session_hash == _sha256(plain))
            )
            if row is None:
                return False
            user = session.get(User, row.user_id)
            session.delete(row)
            self._audit(session, user, "user.logout", "user", row.user_id)
            return True

    def purge_sessions(self) -> int:
        """Delete expired login sessions; returns how many."""
        with self.transaction() as session:
            result = session.execute(
                delete(LoginSession).where(LoginSession.expires_at <= utcnow())
            )
            return int(getattr(result, "rowcount", 0) or 0)
