"""Good examples: create, edit with optimistic locking, publish, unpublish, delete.

Who may do what: an admin everything; an editor creates, edits, publishes and deletes the
examples of their own organisation and sees its drafts; a reader and an anonymous visitor
(``actor=None``) see published examples only. A draft someone may not see does not exist for
them (NotFoundError), so its existence does not leak. Every change bumps ``version``, stores
the whole example as an ExampleRevision and writes an AuditEntry."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload

from tillit.bank._base import BankBase, utc, utcnow
from tillit.bank._models import (
    TRUST_PRINCIPLES,
    Example,
    ExampleKpi,
    ExampleRevision,
    ExampleTag,
    User,
)
from tillit.bank._records import ExampleRecord, KpiLink, UserRecord
from tillit.bank._validate import check_period, clean_example
from tillit.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError

__all__ = ["MAX_PAGE", "Examples", "can_see", "can_write", "example_record", "snapshot"]

_SCALARS = (
    "title",
    "summary",
    "problem",
    "what_was_done",
    "results",
    "operating_area",
    "period_start",
    "period_end",
    "contact_role",
    "status",
    "source",
    "kind",
    "source_name",
    "source_url",
    "source_area",
)
MAX_PAGE = 500


def example_record(example: Example) -> ExampleRecord:
    tags = sorted(t.tag for t in example.tags if not t.principle)
    principles = [p for p in TRUST_PRINCIPLES if any(t.tag == p for t in example.tags)]
    return ExampleRecord(
        id=example.id,
        organisation_id=example.organisation_id,
        organisation_code=example.organisation.code,
        organisation_name=example.organisation.name,
        title=example.title,
        summary=example.summary,
        problem=example.problem,
        what_was_done=example.what_was_done,
        results=example.results,
        operating_area=example.operating_area,
        period_start=example.period_start,
        period_end=example.period_end,
        contact_role=example.contact_role,
        status=example.status,
        source=example.source,
        kind=example.kind,
        source_name=example.source_name,
        source_url=example.source_url,
        source_area=example.source_area,
        version=example.version,
        tags=tuple(tags),
        principles=tuple(principles),
        kpis=tuple(
            KpiLink(k.kpi, k.municipality, k.year_from, k.year_to, k.note) for k in example.kpis
        ),
        created_at=utc(example.created_at),
        updated_at=utc(example.updated_at),
        created_by=example.created_by,
        updated_by=example.updated_by,
    )


def snapshot(example: Example) -> dict[str, Any]:
    """The example as JSON for its revision: every field a reader could see, times ISO."""
    record = example_record(example)
    return {
        "id": record.id,
        "organisation_id": record.organisation_id,
        "organisation_code": record.organisation_code,
        **{name: getattr(record, name) for name in _SCALARS},
        "version": record.version,
        "tags": list(record.tags),
        "principles": list(record.principles),
        "kpis": [
            {
                "kpi": k.kpi,
                "municipality": k.municipality,
                "year_from": k.year_from,
                "year_to": k.year_to,
                "note": k.note,
            }
            for k in record.kpis
        ],
        "updated_at": record.updated_at.isoformat(),
        "updated_by": record.updated_by,
    }


def can_write(user: User | None, organisation_id: int) -> bool:
    if user is None:
        return False
    return user.role == "admin" or (
        user.role == "editor" and user.organisation_id == organisation_id
    )


def can_see(user: User | None, example: Example) -> bool:
    return example.status == "published" or can_write(user, example.organisation_id)


class Examples(BankBase):
    def _load(self, session: Session, example_id: int) -> Example | None:
        return session.scalar(
            select(Example)
            .where(Example.id == example_id)
            .options(
                selectinload(Example.kpis),
                selectinload(Example.tags),
                selectinload(Example.organisation),
            )
        )

    def _writable(self, session: Session, user: User | None, example_id: int) -> Example:
        """The example, if ``user`` may change it; NotFound when they may not even see it."""
        example = self._load(session, example_id)
        if example is None or not can_see(user, example):
            raise NotFoundError(f"Exemplet {example_id} finns inte.")
        if not can_write(user, example.organisation_id):
            raise PermissionDeniedError(
                "Du får inte ändra det här exemplet.",
                hint="Bara exemplets organisations redaktörer och administratörer får ändra det.",
            )
        return example

    def _record_change(
        self, session: Session, user: User | None, example: Example, action: str, **details: Any
    ) -> None:
        session.flush()
        session.refresh(example)
        session.add(
            ExampleRevision(
                example_id=example.id,
                version=example.version,
                data=snapshot(example),
                created_at=example.updated_at,
                created_by=user.id if user else None,
            )
        )
        self._audit(
            session, user, action, "example", example.id, version=example.version, **details
        )
        self._examples_changed(session, [example.id])

    @staticmethod
    def _apply(session: Session, example: Example, fields: dict[str, Any]) -> list[str]:
        """Set the fields on the example; returns the names of those that changed."""
        changed: list[str] = []
        for name in _SCALARS:
            if name in fields and getattr(example, name) != fields[name]:
                setattr(example, name, fields[name])
                changed.append(name)
        check_period(example.period_start, example.period_end)
        old_tags = sorted(t.tag for t in example.tags if not t.principle)
        old_principles = [t.tag for t in example.tags if t.principle]
        tags = old_tags
        principles = list(old_principles)
        if "tags" in fields:
            tags = sorted(t for t in fields["tags"] if t not in TRUST_PRINCIPLES)
            principles += [t for t in fields["tags"] if t in TRUST_PRINCIPLES]
        if "principles" in fields:
            principles = list(fields["principles"]) + [
                t for t in fields.get("tags", []) if t in TRUST_PRINCIPLES
            ]
        principles = [p for p in TRUST_PRINCIPLES if p in principles]
        if tags != old_tags or principles != [p for p in TRUST_PRINCIPLES if p in old_principles]:
            if tags != old_tags:
                changed.append("tags")
            if sorted(principles) != sorted(old_principles):
                changed.append("principles")
            keep = set(tags) | set(principles)
            for tag in list(example.tags):
                if tag.tag not in keep:
                    example.tags.remove(tag)
            session.flush()
            present = {t.tag for t in example.tags}
            for name in [*tags, *principles]:
                if name not in present:
                    example.tags.append(ExampleTag(tag=name, principle=name in TRUST_PRINCIPLES))
        if "kpis" in fields:
            old = [
                KpiLink(k.kpi, k.municipality, k.year_from, k.year_to, k.note) for k in example.kpis
            ]
            if old != fields["kpis"]:
                changed.append("kpis")
                example.kpis.clear()
                session.flush()
                for link in fields["kpis"]:
                    example.kpis.append(
                        ExampleKpi(
                            kpi=link.kpi,
                            municipality=link.municipality,
                            year_from=link.year_from,
                            year_to=link.year_to,
                            note=link.note,
                        )
                    )
        return changed

    # -- writing -------------------------------------------------------------------------

    def create_example(self, actor: UserRecord | None, data: Mapping[str, Any]) -> ExampleRecord:
        """A new example (version 1; status draft unless ``data["status"]`` says otherwise).
        ``data["organisation"]`` (code, name or id) defaults to an editor's own."""
        fields = clean_example(data, creating=True)
        check_period(fields["period_start"], fields["period_end"])
        with self.transaction() as session:
            user = self._actor(session, actor)
            if user is None or user.role not in ("admin", "editor"):
                raise PermissionDeniedError(
                    "Bara redaktörer och administratörer får lägga till exempel."
                )
            target = fields.pop("organisation", None)
            if target is None:
                if user.organisation_id is None:
                    raise InvalidInputError(
                        "Fältet 'organisation': ange vilken organisation exemplet gäller."
                    )
                org_id = user.organisation_id
            else:
                org_id = self._find_organisation(session, target).id
            if not can_write(user, org_id):
                raise PermissionDeniedError(
                    "Du får bara lägga till exempel för din egen organisation."
                )
            now = utcnow()
            example = Example(
                organisation_id=org_id,
                version=1,
                created_at=now,
                updated_at=now,
                created_by=user.id,
                updated_by=user.id,
                title=fields["title"],
            )
            session.add(example)
            self._apply(session, example, fields)
            self._record_change(
                session,
                user,
                example,
                "example.create",
                fields=sorted(k for k in fields if k != "organisation"),
            )
            return example_record(example)

    def update_example(
        self,
        actor: UserRecord | None,
        example_id: int,
        data: Mapping[str, Any],
        expected_version: int,
    ) -> ExampleRecord:
        """Change the given fields. ``expected_version`` is the version the editor started
        from; ConflictError when someone saved in between. Moving an example to another
        organisation is for admins. A change that changes nothing writes nothing."""
        fields = clean_example(data, creating=False)
        try:
            with self.transaction() as session:
                user = self._actor(session, actor)
                example = self._writable(session, user, example_id)
                if example.version != expected_version:
                    raise _stale(example_id, expected_version, example.version)
                before = example_record(example)
                self._claim(session, user, example, expected_version)
                target = fields.pop("organisation", None)
                changed: list[str] = []
                if target is not None:
                    org = self._find_organisation(session, target)
                    if org.id != example.organisation_id:
                        self._require_admin(user)
                        example.organisation_id = org.id
                        example.organisation = org
                        changed.append("organisation")
                changed += self._apply(session, example, fields)
                if not changed:
                    raise _Unchanged(before)  # rolls the claimed version back
                self._record_change(session, user, example, "example.update", fields=changed)
                return example_record(example)
        except _Unchanged as unchanged:
            return unchanged.record

    @staticmethod
    def _claim(session: Session, user: User | None, example: Example, expected: int) -> None:
        """Raise the version before changing anything, and only if nobody else did first: a
        conditional UPDATE, atomic on both databases. It also locks the row (PostgreSQL) or
        the database (SQLite) until the commit, so a second writer waits, then conflicts."""
        result = session.execute(
            update(Example)
            .where(Example.id == example.id, Example.version == expected)
            .values(version=expected + 1, updated_at=utcnow(), updated_by=user.id if user else None)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 1) != 1:
            raise _stale(example.id, expected, None)
        session.expire(example, ["version", "updated_at", "updated_by"])

    def _set_status(
        self, actor: UserRecord | None, example_id: int, status: str, expected_version: int | None
    ) -> ExampleRecord:
        with self.transaction() as session:
            user = self._actor(session, actor)
            example = self._writable(session, user, example_id)
            expected = example.version if expected_version is None else expected_version
            if example.version != expected:
                raise _stale(example_id, expected, example.version)
            if example.status == status:
                return example_record(example)
            self._claim(session, user, example, expected)
            example.status = status
            action = "example.publish" if status == "published" else "example.unpublish"
            self._record_change(session, user, example, action, fields=["status"])
            return example_record(example)

    def publish(
        self, actor: UserRecord | None, example_id: int, expected_version: int | None = None
    ) -> ExampleRecord:
        """Make an example visible to everyone."""
        return self._set_status(actor, example_id, "published", expected_version)

    def unpublish(
        self, actor: UserRecord | None, example_id: int, expected_version: int | None = None
    ) -> ExampleRecord:
        """Turn an example back into a draft."""
        return self._set_status(actor, example_id, "draft", expected_version)

    def delete_example(
        self, actor: UserRecord | None, example_id: int, expected_version: int | None = None
    ) -> None:
        """Delete an example and its history; the audit log keeps its last version."""
        with self.transaction() as session:
            user = self._actor(session, actor)
            example = self._writable(session, user, example_id)
            if expected_version is not None and example.version != expected_version:
                raise _stale(example_id, expected_version, example.version)
            last = snapshot(example)
            # A conditional DELETE (the database cascades to KPIs, tags and revisions), so
            # that of two simultaneous deletes or a delete and a save only one wins.
            result = session.execute(
                delete(Example)
                .where(Example.id == example_id, Example.version == example.version)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 1) != 1:
                raise _stale(example_id, example.version, None)
            session.expunge(example)
            self._audit(session, user, "example.delete", "example", example_id, last=last)
            self._examples_changed(session, [example_id])


class _Unchanged(Exception):
    def __init__(self, record: ExampleRecord) -> None:
        super().__init__("unchanged")
        self.record = record


def _stale(example_id: int, expected: int, current: int | None) -> ConflictError:
    now = f" (nu version {current})" if current is not None else ""
    return ConflictError(
        f"Exemplet {example_id} har ändrats av någon annan sedan version {expected}{now}.",
        hint="Läs in exemplet igen och gör om din ändring.",
    )
