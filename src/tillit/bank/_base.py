"""What every part of :class:`~tillit.bank.Bank` shares: the engine, sessions, the acting
user, the audit log and UTC times."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from tillit.bank._models import AuditEntry, Organisation, User
from tillit.bank._passwords import Passwords
from tillit.bank._records import OrganisationRecord, UserRecord
from tillit.errors import NotFoundError, PermissionDeniedError

__all__ = ["BankBase", "ExampleListener", "utc", "utcnow"]

#: Called inside the transaction of every change to examples, with the ids changed
#: (created, edited, deleted or imported); e.g. to keep a search index in step.
ExampleListener = Callable[[Session, list[int]], None]


def utcnow() -> datetime:
    return datetime.now(UTC)


def utc(value: datetime) -> datetime:
    """A stored time as an aware UTC datetime (SQLite gives naive UTC, PostgreSQL aware)."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def utc_or_none(value: datetime | None) -> datetime | None:
    return None if value is None else utc(value)


class BankBase:
    """The engine and sessionmaker; parts of the bank add their methods to this."""

    def __init__(self, engine: Engine, passwords: Passwords | None = None) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.passwords = passwords or Passwords()
        self.example_listeners: list[ExampleListener] = []

    @property
    def url(self) -> str:
        """The database URL, password hidden."""
        return self.engine.url.render_as_string(hide_password=True)

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def close(self) -> None:
        """Close the database connections."""
        self.engine.dispose()

    def __enter__(self) -> BankBase:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session in one transaction: committed on success, rolled back on any error."""
        with self.sessions.begin() as session:
            yield session

    # -- shared helpers ------------------------------------------------------------------

    def _examples_changed(self, session: Session, ids: Iterable[int]) -> None:
        changed = list(ids)
        if changed:
            session.flush()
            for listener in self.example_listeners:
                listener(session, changed)

    @staticmethod
    def _audit(
        session: Session,
        actor: User | None,
        action: str,
        entity: str,
        entity_id: object | None,
        **details: Any,
    ) -> None:
        session.add(
            AuditEntry(
                at=utcnow(),
                user_id=actor.id if actor is not None else None,
                action=action,
                entity=entity,
                entity_id=None if entity_id is None else str(entity_id),
                details=details,
            )
        )

    @staticmethod
    def _actor(session: Session, actor: UserRecord | None) -> User | None:
        """The acting user as stored now (a role changed since login counts), or None."""
        if actor is None:
            return None
        user = session.get(User, actor.id)
        if user is None or not user.is_active:
            raise PermissionDeniedError(
                "Kontot finns inte längre eller är avstängt.", hint="Logga in igen."
            )
        return user

    @staticmethod
    def _require_admin(user: User | None) -> User:
        if user is None or user.role != "admin":
            raise PermissionDeniedError("Bara en administratör får göra detta.")
        return user

    @staticmethod
    def _find_organisation(session: Session, code_or_id: str | int) -> Organisation:
        org: Organisation | None = None
        if isinstance(code_or_id, int) and not isinstance(code_or_id, bool):
            org = session.get(Organisation, code_or_id)
        elif isinstance(code_or_id, str):
            text = code_or_id.strip()
            org = session.scalar(select(Organisation).where(Organisation.code == text))
            if org is None:
                org = session.scalar(
                    select(Organisation).where(Organisation.name == text).order_by(Organisation.id)
                )
            number = text.removeprefix("#")
            if org is None and text.startswith("#") and number.isascii() and number.isdigit():
                org = session.get(Organisation, int(number[:9]))  # "#312": by id (no code)
        if org is None:
            raise NotFoundError(
                f"Organisationen {code_or_id!r} finns inte i banken.",
                hint="Ange Koladas kod (t.ex. 1480) eller namnet; kör `tillit bank seed` om "
                "kommunerna och regionerna saknas.",
            )
        return org


def organisation_record(org: Organisation) -> OrganisationRecord:
    return OrganisationRecord(org.id, org.code, org.name, org.kind, utc(org.created_at))


def user_record(user: User) -> UserRecord:
    return UserRecord(
        id=user.id,
        email=user.email,
        display_name=user.display_name,
        role=user.role,
        organisation_id=user.organisation_id,
        organisation_code=user.organisation.code if user.organisation is not None else None,
        is_active=user.is_active,
        created_at=utc(user.created_at),
    )
