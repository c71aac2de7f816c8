"""The :class:`Bank`: the one object the CLI and the web app talk to."""

from __future__ import annotations

from collections.abc import Collection
from typing import Literal

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from tillit.bank._accounts import Accounts
from tillit.bank._base import utc
from tillit.bank._db import check_migrated, create_bank_engine
from tillit.bank._evaluations import StoredEvaluations
from tillit.bank._listing import Listing
from tillit.bank._logins import Logins
from tillit.bank._models import AuditEntry
from tillit.bank._passwords import Passwords
from tillit.bank._records import AuditRecord, UserRecord
from tillit.bank._search import (
    Hit,
    SearchFilters,
    SearchResult,
    index_examples,
    search_examples,
    similar_examples,
)
from tillit.bank._trials import Trials
from tillit.errors import InvalidInputError

__all__ = ["Bank", "open_bank"]


class Bank(Accounts, Logins, Listing, Trials, StoredEvaluations):
    """Organisations, users, tokens, sessions, good examples, trials (with their stored
    evaluations) and the audit log in one database. Every method runs in its own
    transaction and returns plain dataclasses.
    ``actor`` is the logged-in user (a :class:`UserRecord`) or None for an anonymous
    visitor; permission failures raise PermissionDeniedError."""

    def __init__(self, engine: Engine, passwords: Passwords | None = None) -> None:
        super().__init__(engine, passwords)
        # The search index (FTS5 / tsvector) follows every change in the same transaction.
        self.example_listeners.append(_reindex)

    def search(
        self,
        actor: UserRecord | None,
        query: str,
        *,
        filters: SearchFilters | None = None,
        limit: int = 20,
        offset: int = 0,
    ) -> SearchResult:
        """Swedish full-text search over the examples the actor may see (published ones,
        plus an editor's own organisation's drafts, or everything for an admin)."""
        if not 1 <= limit <= 500:
            raise InvalidInputError(f"limit ska vara 1–500, inte {limit}.")
        if offset < 0:
            raise InvalidInputError(f"offset ska vara 0 eller mer, inte {offset}.")
        return self._search(actor, query, filters, limit, offset)

    def _search(
        self,
        actor: UserRecord | None,
        query: str,
        filters: SearchFilters | None,
        limit: int,
        offset: int,
    ) -> SearchResult:
        """The search as the actor sees it: published examples, plus an editor's own
        organisation's drafts, or everything for an admin."""
        with self.sessions() as session:
            user = self._actor(session, actor)
            visibility: Literal["all"] | Collection[int] = ()
            if user is not None and user.role == "admin":
                visibility = "all"
            elif user is not None and user.role == "editor" and user.organisation_id:
                visibility = (user.organisation_id,)
            return search_examples(
                session, query, filters=filters, visibility=visibility, limit=limit, offset=offset
            )

    def count(
        self, actor: UserRecord | None, query: str, *, filters: SearchFilters | None = None
    ) -> int:
        """How many examples the actor may see match ``query`` and ``filters`` (what
        :meth:`search`'s ``total`` says, without ranking them)."""
        return self._search(actor, query, filters, 0, 0).total

    def similar(self, actor: UserRecord | None, example_id: int, limit: int = 5) -> list[Hit]:
        """Published examples most like this one ("liknande exempel"); the example itself
        must be one the actor may see."""
        self.example(actor, example_id)
        with self.sessions() as session:
            return similar_examples(session, example_id, limit)

    def audit_log(
        self,
        actor: UserRecord | None,
        limit: int = 100,
        offset: int = 0,
        entity: str | None = None,
        entity_id: object | None = None,
    ) -> list[AuditRecord]:
        """The newest audit entries first (admins only)."""
        if not 1 <= limit <= 1000:
            raise InvalidInputError(f"limit ska vara 1–1000, inte {limit}.")
        if offset < 0:
            raise InvalidInputError(f"offset ska vara 0 eller mer, inte {offset}.")
        with self.sessions() as session:
            self._require_admin(self._actor(session, actor))
            query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit).offset(offset)
            if entity is not None:
                query = query.where(AuditEntry.entity == entity)
            if entity_id is not None:
                query = query.where(AuditEntry.entity_id == str(entity_id))
            return [
                AuditRecord(
                    a.id, utc(a.at), a.user_id, a.action, a.entity, a.entity_id, dict(a.details)
                )
                for a in session.scalars(query)
            ]


def _reindex(session: Session, ids: list[int]) -> None:
    index_examples(session, ids)


def open_bank(url: str, *, passwords: Passwords | None = None, check: bool = True) -> Bank:
    """Open the bank at ``url`` (``Settings.database_url``). With ``check`` (the default),
    NotFoundError says "Kör `tillit db upgrade`" when the database is not migrated to the
    newest version. Close it with ``bank.close()`` or use it as a context manager."""
    engine = create_bank_engine(url)
    try:
        if check:
            check_migrated(engine)
    except BaseException:
        engine.dispose()
        raise
    return Bank(engine, passwords)
