"""Reading good examples: one, a filtered page, the history. What a user may see follows
the rules in ``_examples.py``: published examples for everyone, drafts for those who may
edit them."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from tillit.bank._base import utc
from tillit.bank._examples import MAX_PAGE, Examples, can_see, example_record
from tillit.bank._models import (
    Example,
    ExampleKpi,
    ExampleRevision,
    ExampleTag,
    Organisation,
    User,
)
from tillit.bank._records import ExamplePage, ExampleRecord, RevisionRecord, UserRecord
from tillit.errors import InvalidInputError, NotFoundError

__all__ = ["Listing"]


class Listing(Examples):
    # -- reading -------------------------------------------------------------------------

    def example(self, actor: UserRecord | None, example_id: int) -> ExampleRecord:
        """One example the actor may see; NotFoundError otherwise."""
        with self.sessions() as session:
            user = self._actor(session, actor)
            example = self._load(session, example_id)
            if example is None or not can_see(user, example):
                raise NotFoundError(f"Exemplet {example_id} finns inte.")
            return example_record(example)

    def list_examples(
        self,
        actor: UserRecord | None,
        *,
        organisation: str | int | None = None,
        status: str | None = None,
        tag: str | None = None,
        principle: str | None = None,
        kpi: str | None = None,
        municipality: str | None = None,
        operating_area: str | None = None,
        kind: str | None = None,
        ids: list[int] | None = None,
        limit: int = 50,
        offset: int = 0,
    ) -> ExamplePage:
        """The examples the actor may see, newest change first, filtered (``kind``
        "example": good examples only). ``limit`` 1–500."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInputError(f"limit ska vara 1–{MAX_PAGE}, inte {limit}.")
        if offset < 0:
            raise InvalidInputError(f"offset ska vara 0 eller mer, inte {offset}.")
        if status is not None and status not in ("draft", "published"):
            raise InvalidInputError(f"Okänd status {status!r}.", hint="draft eller published.")
        with self.sessions() as session:
            user = self._actor(session, actor)
            query = visible(select(Example), user)
            if organisation is not None:
                query = query.where(
                    Example.organisation_id == self._find_organisation(session, organisation).id
                )
            if status is not None:
                query = query.where(Example.status == status)
            for name in (tag, principle):
                if name is not None:
                    query = query.where(
                        Example.id.in_(select(ExampleTag.example_id).where(ExampleTag.tag == name))
                    )
            if kpi is not None or municipality is not None:
                links = select(ExampleKpi.example_id)
                if kpi is not None:
                    links = links.where(ExampleKpi.kpi == kpi.strip().upper())
                if municipality is not None:
                    links = links.where(ExampleKpi.municipality == municipality.strip())
                query = query.where(Example.id.in_(links))
            if operating_area is not None:
                query = query.where(Example.operating_area == operating_area)
            if kind is not None:
                query = query.where(Example.kind == kind)
            if ids is not None:
                query = query.where(Example.id.in_(ids))
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            rows = session.scalars(
                query.options(
                    selectinload(Example.kpis),
                    selectinload(Example.tags),
                    selectinload(Example.organisation),
                )
                .order_by(Example.updated_at.desc(), Example.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return ExamplePage(tuple(example_record(e) for e in rows), total, limit, offset)

    def operating_areas(self, actor: UserRecord | None) -> list[str]:
        """The operating areas of the examples the actor may see, sorted (the list page's
        area filter offers these)."""
        with self.sessions() as session:
            user = self._actor(session, actor)
            query = visible(
                select(Example.operating_area).where(Example.operating_area.is_not(None)), user
            )
            return sorted({str(a) for a in session.scalars(query.distinct()) if a})

    def published_counts(self, municipalities: list[str]) -> dict[tuple[str, str | None], int]:
        """Published good examples (kind "example"; imported project descriptions and press
        releases are not) per (organisation code, operating area) for the organisations with
        these Kolada codes; the web pages link learning partners to their examples."""
        if not municipalities:
            return {}
        with self.sessions() as session:
            # Status is counted, not filtered on: a status condition lets SQLite's planner
            # pick the status index and read every published example (tens of ms on the
            # 11k bank) instead of the few examples of these organisations (< 1 ms).
            rows = session.execute(
                select(
                    Organisation.code,
                    Example.operating_area,
                    Example.status,
                    Example.kind,
                    func.count(),
                )
                .join(Organisation, Example.organisation_id == Organisation.id)
                .where(Organisation.code.in_(municipalities))
                .group_by(Organisation.code, Example.operating_area, Example.status, Example.kind)
            )
            return {
                (str(code), area): int(n)
                for code, area, status, kind, n in rows
                if status == "published" and kind == "example"
            }

    def linked_counts(self, municipalities: list[str]) -> dict[tuple[str, str], int]:
        """Published good examples per (organisation code, KPI) that the organisations with
        these Kolada codes linked to a KPI (a result they moved), whatever its area."""
        if not municipalities:
            return {}
        with self.sessions() as session:
            rows = session.execute(
                select(
                    Organisation.code,
                    ExampleKpi.kpi,
                    Example.status,
                    Example.kind,
                    func.count(func.distinct(Example.id)),
                )
                .join(Organisation, Example.organisation_id == Organisation.id)
                .join(ExampleKpi, ExampleKpi.example_id == Example.id)
                .where(Organisation.code.in_(municipalities))
                .group_by(Organisation.code, ExampleKpi.kpi, Example.status, Example.kind)
            )
            return {
                (str(code), str(kpi)): int(n)
                for code, kpi, status, kind, n in rows
                if status == "published" and kind == "example"
            }

    def revisions(self, actor: UserRecord | None, example_id: int) -> list[RevisionRecord]:
        """Every version of an example, oldest first. Drafts' history is for those who may
        edit the example; a published example's history is public."""
        with self.sessions() as session:
            user = self._actor(session, actor)
            example = self._load(session, example_id)
            if example is None or not can_see(user, example):
                raise NotFoundError(f"Exemplet {example_id} finns inte.")
            rows = session.scalars(
                select(ExampleRevision)
                .where(ExampleRevision.example_id == example_id)
                .order_by(ExampleRevision.version)
            )
            return [
                RevisionRecord(
                    r.example_id, r.version, dict(r.data), utc(r.created_at), r.created_by
                )
                for r in rows
            ]


Q = TypeVar("Q", bound=Select[Any])


def visible(query: Q, user: User | None) -> Q:
    """``query`` restricted to the examples ``user`` may see: published ones, and an
    editor's own organisation's drafts; an admin sees all."""
    if user is None or user.role == "reader":
        return query.where(Example.status == "published")
    if user.role == "editor":
        return query.where(
            or_(Example.status == "published", Example.organisation_id == user.organisation_id)
        )
    return query
