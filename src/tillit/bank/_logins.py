"""API tokens and login sessions. Only hashes of the secrets are stored."""

from __future__ import annotations

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, delete, func, or_, select, text, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from tillit.bank._base import BankBase, user_record, utc, utcnow
from tillit.bank._models import ApiToken, LoginAttempt, LoginSession, User
from tillit.bank._records import SessionRecord, TokenRecord, UserRecord
from tillit.bank._validate import clean_text
from tillit.errors import NotFoundError

__all__ = ["LoginLimits", "Logins", "encodable", "login_email", "storable"]

TOKEN_PREFIX = "tlt_"
#: The PostgreSQL advisory lock that serialises reserving login attempts ("tillit" in ASCII).
_LOGIN_LOCK = 0x74696C6C6974


@dataclass(frozen=True)
class LoginLimits:
    """The login limit (docs/api.md, "Login limit"). Failed and still unchecked attempts
    within ``window`` count:

    - ``per_account_address`` per e-mail and client address, since the last success from
      that pair: the guesser at one address is stopped, the owner elsewhere is not;
    - ``per_address`` per client address over all e-mails (one address spraying many
      accounts), except for an e-mail that has logged in from that address within
      ``known_for`` (a guesser behind the owner's NAT cannot lock the owner out);
    - ``per_account`` per e-mail over all addresses: beyond it, addresses the account has
      not logged in from within ``known_for`` get one attempt per ``slow_interval``
      (slowed, never locked); known addresses are not affected."""

    window: timedelta = timedelta(minutes=15)
    per_account_address: int = 5
    per_address: int = 20
    per_account: int = 20
    slow_interval: timedelta = timedelta(minutes=1)
    known_for: timedelta = timedelta(days=90)


def encodable(text: str) -> str:
    """``text`` with each lone surrogate (not UTF-8: no database or hash takes it)
    replaced by U+FFFD."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return "".join("\ufffd" if 0xD800 <= ord(c) <= 0xDFFF else c for c in text)
    return text


def storable(text: str) -> str:
    """:func:`encodable`, and NUL (PostgreSQL refuses it in text) replaced by U+FFFD too."""
    return encodable(text).replace("\x00", "\ufffd")


def login_email(email: str) -> str:
    """``email`` as the login limit counts it and the accounts look it up: stripped, lower
    case, at most 320 characters, :func:`storable`. When this differs from the e-mail as
    typed (stripped, lower case), no account has it: an unknown user, never a database
    error."""
    return storable(email.strip().lower()[:320])


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

    # -- the login limit -----------------------------------------------------------------

    def reserve_login(
        self, email: str, address: str, now: datetime, limits: LoginLimits
    ) -> tuple[int | None, int]:
        """Reserve one login attempt before the password is checked: ``(attempt id, 0)``,
        or ``(None, seconds to wait)`` when ``limits`` refuse it. Counting and reserving
        are one step under a database-wide lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: an
        advisory lock), so simultaneous attempts from any number of processes cannot
        all pass the count before one of them is recorded."""
        email = login_email(email)
        address = storable(address[:64])
        with self.transaction() as session:
            self._lock_logins(session)
            session.execute(
                delete(LoginAttempt).where(
                    or_(
                        LoginAttempt.at < now - limits.known_for,
                        and_(
                            LoginAttempt.at < now - limits.window,
                            LoginAttempt.succeeded.is_not(True),
                        ),
                    )
                )
            )
            wait = _login_wait(session, email, address, now, limits)
            if wait is not None:
                return None, max(1, math.ceil(wait))
            attempt = LoginAttempt(email=email, address=address, at=now, succeeded=None)
            session.add(attempt)
            session.flush()
            return attempt.id, 0

    def finish_login(self, attempt_id: int, succeeded: bool) -> None:
        """Record the outcome of a reserved attempt (an attempt never finished counts as a
        failure until it leaves the window)."""
        with self.transaction() as session:
            session.execute(
                update(LoginAttempt)
                .where(LoginAttempt.id == attempt_id)
                .values(succeeded=succeeded)
            )

    def _lock_logins(self, session: Session) -> None:
        if self.dialect == "sqlite":
            # The first statement of the transaction: take the write lock now, not at the
            # insert, so no other connection counts between our count and our insert.
            session.execute(text("BEGIN IMMEDIATE"))
        else:
            session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOGIN_LOCK})

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


def _login_wait(
    session: Session, email: str, address: str, now: datetime, limits: LoginLimits
) -> float | None:
    """Seconds until ``limits`` allow another attempt by ``email`` from ``address``, or None
    when they allow one now."""
    window_start = now - limits.window
    unsettled = and_(LoginAttempt.at >= window_start, LoginAttempt.succeeded.is_not(True))
    pair = and_(LoginAttempt.email == email, LoginAttempt.address == address)
    last_success = session.scalar(
        select(func.max(LoginAttempt.id)).where(pair, LoginAttempt.succeeded.is_(True))
    )
    pair_failures: list[ColumnElement[bool]] = [unsettled, pair]
    if last_success is not None:
        pair_failures.append(LoginAttempt.id > last_success)
    waits = [_until_below(session, pair_failures, limits.per_account_address, now, limits.window)]
    # An account that has logged in from this address (within ``known_for``) is spared the
    # address-wide limit: a guesser behind the same NAT spraying other accounts cannot
    # lock its owner out; the pair limit above still stops guesses at this account.
    if last_success is None:
        waits.append(
            _until_below(
                session,
                [unsettled, LoginAttempt.address == address],
                limits.per_address,
                now,
                limits.window,
            )
        )
    # Successes are kept for ``known_for``: any left make this a known address.
    if last_success is None:
        account = [unsettled, LoginAttempt.email == email]
        count = session.scalar(select(func.count()).select_from(LoginAttempt).where(*account))
        if (count or 0) >= limits.per_account:
            latest = session.scalar(select(func.max(LoginAttempt.at)).where(*account))
            if latest is not None:
                left = (utc(latest) + limits.slow_interval - now).total_seconds()
                waits.append(left if left > 0 else None)
    found = [w for w in waits if w is not None]
    return max(found) if found else None


def _until_below(
    session: Session, where: list[ColumnElement[bool]], limit: int, now: datetime, window: timedelta
) -> float | None:
    """Seconds until fewer than ``limit`` rows match ``where`` (as the oldest leave the
    window), or None when fewer already do."""
    times = session.scalars(
        select(LoginAttempt.at).where(*where).order_by(LoginAttempt.at.desc()).limit(limit)
    ).all()
    if len(times) < limit:
        return None
    return max(0.0, (utc(times[-1]) + window - now).total_seconds())
