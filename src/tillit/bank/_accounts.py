"""Organisations and users (accounts, roles, passwords)."""

from __future__ import annotations

import re
from collections.abc import Iterable

from sqlalchemy import delete, func, or_, select

from tillit.bank._base import BankBase, organisation_record, user_record, utcnow
from tillit.bank._logins import encodable, login_email
from tillit.bank._models import (
    ORGANISATION_KINDS,
    ROLES,
    LoginSession,
    Organisation,
    User,
)
from tillit.bank._records import OrganisationRecord, UserRecord
from tillit.bank._validate import clean_text
from tillit.errors import ConflictError, InvalidInputError, NotFoundError

__all__ = ["Accounts"]

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD = 10


class Accounts(BankBase):
    # -- organisations -------------------------------------------------------------------

    def seed_organisations(self, rows: Iterable[tuple[str, str, str]]) -> tuple[int, int]:
        """Add or rename organisations by Kolada code: rows of ``(code, name, kind)``.
        Idempotent; returns ``(added, updated)``."""
        wanted: dict[str, tuple[str, str]] = {}
        for code, name, kind in rows:
            code = clean_text("code", code, 16, required=True)
            if kind not in ORGANISATION_KINDS:
                raise InvalidInputError(f"Okänd organisationstyp {kind!r} för {code}.")
            wanted[code] = (clean_text("name", name, 200, required=True), kind)
        added = updated = 0
        with self.transaction() as session:
            existing = {
                org.code: org
                for org in session.scalars(
                    select(Organisation).where(Organisation.code.in_(list(wanted)))
                )
            }
            now = utcnow()
            for code, (name, kind) in wanted.items():
                org = existing.get(code)
                if org is None:
                    session.add(Organisation(code=code, name=name, kind=kind, created_at=now))
                    added += 1
                elif (org.name, org.kind) != (name, kind):
                    org.name, org.kind = name, kind
                    updated += 1
            if added or updated:
                self._audit(
                    session,
                    None,
                    "organisation.seed",
                    "organisation",
                    None,
                    added=added,
                    updated=updated,
                )
        return added, updated

    def organisations(self, kind: str | None = None) -> list[OrganisationRecord]:
        """All organisations (or those of one kind), by code then name."""
        with self.sessions() as session:
            query = select(Organisation).order_by(Organisation.code, Organisation.name)
            if kind is not None:
                query = query.where(Organisation.kind == kind)
            return [organisation_record(o) for o in session.scalars(query)]

    def organisation(self, code_or_id: str | int) -> OrganisationRecord:
        """One organisation by Kolada code, name or id; NotFoundError otherwise."""
        with self.sessions() as session:
            return organisation_record(self._find_organisation(session, code_or_id))

    def add_organisation(
        self,
        name: str,
        kind: str = "other",
        *,
        code: str | None = None,
        actor: UserRecord | None = None,
    ) -> OrganisationRecord:
        """Add an organisation such as SKR or an agency. ``actor`` must be an admin when given
        (None means the command line, which is trusted)."""
        name = clean_text("name", name, 200, required=True)
        if kind not in ORGANISATION_KINDS:
            raise InvalidInputError(
                f"Okänd organisationstyp {kind!r}.", hint="Använd " + ", ".join(ORGANISATION_KINDS)
            )
        code = clean_text("code", code, 16) or None
        with self.transaction() as session:
            user = self._actor(session, actor)
            if actor is not None:
                self._require_admin(user)
            same = func.lower(Organisation.name) == name.lower()
            clash = session.scalar(
                select(Organisation).where(or_(same, Organisation.code == code) if code else same)
            )
            if clash is not None:
                raise ConflictError(
                    f"Organisationen {clash.name!r} ({clash.code or 'utan kod'}) finns redan."
                )
            org = Organisation(code=code, name=name, kind=kind, created_at=utcnow())
            session.add(org)
            session.flush()
            self._audit(
                session,
                user,
                "organisation.create",
                "organisation",
                org.id,
                name=name,
                kind=kind,
                code=code,
            )
            return organisation_record(org)

    # -- users ---------------------------------------------------------------------------

    def add_user(
        self,
        email: str,
        password: str,
        display_name: str,
        role: str,
        organisation: str | int | None = None,
        actor: UserRecord | None = None,
    ) -> UserRecord:
        """Create an account. Editors need an organisation (code, name or id); ``actor`` must
        be an admin when given (None: the command line)."""
        email = clean_text("email", email, 320, required=True).lower()
        if not EMAIL.match(email):
            raise InvalidInputError(f"{email!r} är ingen e-postadress.")
        display_name = clean_text("display_name", display_name, 200) or email.split("@")[0]
        if role not in ROLES:
            raise InvalidInputError(
                f"Okänd roll {role!r}.", hint="Använd admin, editor eller reader."
            )
        if role == "editor" and organisation is None:
            raise InvalidInputError(
                "En redaktör (editor) måste höra till en organisation.",
                hint="Ange organisationen, t.ex. --organisation 1480.",
            )
        if len(password) < MIN_PASSWORD:
            raise InvalidInputError(f"Lösenordet måste ha minst {MIN_PASSWORD} tecken.")
        password_hash = self.passwords.hash(password)
        with self.transaction() as session:
            user = self._actor(session, actor)
            if actor is not None:
                self._require_admin(user)
            org = None if organisation is None else self._find_organisation(session, organisation)
            if session.scalar(select(User.id).where(User.email == email)) is not None:
                raise ConflictError(
                    f"Det finns redan ett konto för {email}.",
                    hint="Välj en annan e-postadress.",
                )
            new = User(
                email=email,
                display_name=display_name,
                password_hash=password_hash,
                role=role,
                organisation=org,
                is_active=True,
                created_at=utcnow(),
            )
            session.add(new)
            session.flush()
            self._audit(
                session,
                user,
                "user.create",
                "user",
                new.id,
                email=email,
                role=role,
                organisation=org.code if org else None,
            )
            return user_record(new)

    def user(self, user_id: int) -> UserRecord:
        with self.sessions() as session:
            found = session.get(User, user_id)
            if found is None:
                raise NotFoundError(f"Användaren {user_id} finns inte.")
            return user_record(found)

    def user_by_email(self, email: str) -> UserRecord:
        with self.sessions() as session:
            found = session.scalar(select(User).where(User.email == email.strip().lower()))
            if found is None:
                raise NotFoundError(
                    f"Det finns inget konto för {email}.",
                    hint=f"Skapa det med `tillit user add {email.strip()} --role editor "
                    "--organisation KOMMUN --password-stdin`.",
                )
            return user_record(found)

    def users(self) -> list[UserRecord]:
        with self.sessions() as session:
            return [user_record(u) for u in session.scalars(select(User).order_by(User.id))]

    def authenticate(
        self, email: str, password: str, *, client: str | None = None
    ) -> UserRecord | None:
        """The active user with this e-mail and password, or None. Takes about as long for an
        unknown e-mail as for a wrong password; upgrades an outdated hash on success. A
        failure is written to the audit log ("user.login_failed", with the e-mail as typed
        and ``client``, the caller's address), so that attacks on accounts can be seen."""
        with self.transaction() as session:
            wanted = email.strip().lower()
            # NUL or a lone surrogate cannot be looked up (PostgreSQL refuses it): no one's.
            key = login_email(wanted)
            user = session.scalar(select(User).where(User.email == key)) if key == wanted else None
            typed = encodable(password)  # a lone surrogate: a wrong password, no error
            ok = self.passwords.verify(user.password_hash if user else None, typed)
            ok = ok and typed == password
            if user is None or not ok or not user.is_active:
                reason = (
                    "unknown_user" if user is None else "wrong_password" if not ok else "inactive"
                )
                self._audit(
                    session,
                    None,
                    "user.login_failed",
                    "user",
                    user.id if user is not None else None,
                    email=key,
                    client=client,
                    reason=reason,
                )
                return None
            if self.passwords.needs_rehash(user.password_hash):
                user.password_hash = self.passwords.hash(password)
            return user_record(user)

    def set_password(self, user_id: int, password: str, actor: UserRecord | None = None) -> None:
        """Change a password (the user themself or an admin; None: the command line)."""
        if len(password) < MIN_PASSWORD:
            raise InvalidInputError(f"Lösenordet måste ha minst {MIN_PASSWORD} tecken.")
        with self.transaction() as session:
            acting = self._actor(session, actor)
            if actor is not None and actor.id != user_id:
                self._require_admin(acting)
            user = session.get(User, user_id)
            if user is None:
                raise NotFoundError(f"Användaren {user_id} finns inte.")
            user.password_hash = self.passwords.hash(password)
            self._audit(session, acting, "user.password", "user", user_id)

    def set_role(
        self,
        actor: UserRecord | None,
        user_id: int,
        role: str,
        organisation: str | int | None = None,
    ) -> UserRecord:
        """Change a user's role (and organisation); admins only (None: the command line)."""
        if role not in ROLES:
            raise InvalidInputError(
                f"Okänd roll {role!r}.", hint="Använd admin, editor eller reader."
            )
        with self.transaction() as session:
            acting = self._actor(session, actor)
            if actor is not None:
                self._require_admin(acting)
            user = session.get(User, user_id)
            if user is None:
                raise NotFoundError(f"Användaren {user_id} finns inte.")
            if organisation is not None:
                user.organisation = self._find_organisation(session, organisation)
            if role == "editor" and user.organisation is None:
                raise InvalidInputError("En redaktör (editor) måste höra till en organisation.")
            user.role = role
            self._audit(
                session,
                acting,
                "user.role",
                "user",
                user_id,
                role=role,
                organisation=user.organisation.code if user.organisation else None,
            )
            return user_record(user)

    def set_active(self, actor: UserRecord | None, user_id: int, active: bool) -> UserRecord:
        """Deactivate (or reactivate) an account; its sessions end. Admins only."""
        with self.transaction() as session:
            acting = self._actor(session, actor)
            if actor is not None:
                self._require_admin(acting)
            user = session.get(User, user_id)
            if user is None:
                raise NotFoundError(f"Användaren {user_id} finns inte.")
            user.is_active = active
            if not active:
                session.execute(delete(LoginSession).where(LoginSession.user_id == user_id))
            self._audit(
                session, acting, "user.activate" if active else "user.deactivate", "user", user_id
            )
            return user_record(user)
