"""Consultations (remisser): create, edit with optimistic locking, delete, read and find a
remiss with its proposals and consulted bodies. :class:`Remisser` adds the responses and
their stances (:mod:`tillit.bank._remiss_responses`, :mod:`tillit.bank._remiss_review`);
reach it with :func:`remisser_of`.

Remisser and responses are public documents (remissvar are allmänna handlingar): anyone,
also an anonymous visitor, reads them. A remiss has an owner (``organisation_id``): its
editors and admins write it and its responses; a remiss without an owner (an imported page
of regeringen.se) is written by admins only, until an admin names an owner. Editors create
remisser for their own organisation; admins for any, or none."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from tillit.bank._base import BankBase, utc, utcnow
from tillit.bank._models import Organisation, User
from tillit.bank._records import UserRecord
from tillit.bank._remiss_models import (
    Remiss,
    RemissBody,
    RemissProposal,
    RemissResponse,
    RemissStance,
)
from tillit.bank._remiss_pages import BodyMatcher
from tillit.bank._remiss_records import (
    BodyRecord,
    ProposalRecord,
    RemissRecord,
    clean_remiss,
    document_key,
    may_write_remiss,
    stale,
)
from tillit.bank._remiss_review import RemissReview
from tillit.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError

__all__ = ["RemissBase", "Remisser", "remiss_snapshot", "remisser_of"]

MAX_PAGE = 500
_SCALARS = ("document", "title", "ministry", "diarienummer", "deadline", "url")


def remiss_snapshot(remiss: Remiss) -> dict[str, Any]:
    """The whole remiss as JSON, for the audit log."""
    return {
        "id": remiss.id,
        "organisation_id": remiss.organisation_id,
        **{name: getattr(remiss, name) for name in _SCALARS},
        "proposals": [[p.key, p.heading] for p in remiss.proposals],
        "bodies": [[b.name, b.organisation_id, b.kind] for b in remiss.bodies],
        "version": remiss.version,
    }


def _record(remiss: Remiss, responses: int) -> RemissRecord:
    org = remiss.organisation
    return RemissRecord(
        id=remiss.id,
        document=remiss.document,
        title=remiss.title,
        ministry=remiss.ministry,
        diarienummer=remiss.diarienummer,
        deadline=date.fromisoformat(remiss.deadline) if remiss.deadline else None,
        url=remiss.url,
        proposals=tuple(
            ProposalRecord(p.id, p.key, p.heading, p.position) for p in remiss.proposals
        ),
        bodies=tuple(
            BodyRecord(
                b.id,
                b.name,
                b.organisation_id,
                b.organisation.code if b.organisation is not None else None,
                b.kind,
            )
            for b in remiss.bodies
        ),
        version=remiss.version,
        organisation_id=remiss.organisation_id,
        organisation_code=org.code if org is not None else None,
        organisation_name=org.name if org is not None else None,
        source=remiss.source,
        created_at=utc(remiss.created_at),
        created_by=remiss.created_by,
        updated_at=utc(remiss.updated_at),
        updated_by=remiss.updated_by,
        responses=responses,
    )


class RemissBase(BankBase):
    """Remisser themselves; :class:`~tillit.bank.Remisser` adds responses and stances."""

    # -- loading -------------------------------------------------------------------------

    @staticmethod
    def _remiss_query() -> Any:
        return select(Remiss).options(
            selectinload(Remiss.organisation),
            selectinload(Remiss.proposals),
            selectinload(Remiss.bodies).selectinload(RemissBody.organisation),
        )

    def _remiss_records(self, session: Session, remisser: list[Remiss]) -> list[RemissRecord]:
        ids = [r.id for r in remisser]
        counts: dict[int, int] = {}
        if ids:
            counts = dict(
                session.execute(
                    select(RemissResponse.remiss_id, func.count())
                    .where(RemissResponse.remiss_id.in_(ids))
                    .group_by(RemissResponse.remiss_id)
                ).all()
            )
        return [_record(r, counts.get(r.id, 0)) for r in remisser]

    def _load_remiss(self, session: Session, remiss_id: int) -> Remiss:
        remiss: Remiss | None = session.scalar(self._remiss_query().where(Remiss.id == remiss_id))
        if remiss is None:
            raise NotFoundError(
                f"Remissen {remiss_id} finns inte.", hint="Se `tillit remiss list`."
            )
        return remiss

    def _writable_remiss(self, session: Session, user: User | None, remiss_id: int) -> Remiss:
        remiss = self._load_remiss(session, remiss_id)
        if not may_write_remiss(user, remiss.organisation_id):
            raise PermissionDeniedError(
                "Du får inte ändra den här remissen.",
                hint="Remissens organisations redaktörer och administratörer får ändra den (på "
                "kommandoraden: --user E-POST); "
                "en inläst remiss utan organisation ändrar bara administratörer.",
            )
        return remiss

    def _bodies(self, session: Session, bodies: list[tuple[str, Any]]) -> list[RemissBody]:
        matcher = BodyMatcher(session.scalars(select(Organisation)))
        out = []
        for position, (name, wanted) in enumerate(bodies):
            org, kind = matcher.match(name)
            if wanted is not None:
                org = self._find_organisation(session, wanted)
                kind = org.kind if org.kind in ("kommun", "region") else kind
            out.append(
                RemissBody(
                    position=position, name=name, organisation_id=org.id if org else None, kind=kind
                )
            )
        return out

    def _owner(self, session: Session, user: User, wanted: Any, creating: bool) -> int | None:
        if wanted is None:
            if user.role == "admin":
                return None
            return user.organisation_id
        org = self._find_organisation(session, wanted)
        if user.role != "admin" and org.id != user.organisation_id:
            raise PermissionDeniedError(
                f"Du får bara {'skapa' if creating else 'ge'} remisser för din egen "
                f"organisation, inte för {org.name}."
            )
        return org.id

    # -- writing -------------------------------------------------------------------------

    def create_remiss(self, actor: UserRecord | None, data: Mapping[str, Any]) -> RemissRecord:
        """A new remiss (version 1): ``title`` and any of ``document``, ``ministry``,
        ``diarienummer``, ``deadline`` (a date or "2019-03-12"), ``url``, ``proposals``
        (``[(key, heading)]``), ``bodies`` (names, or ``{"name", "organisation"}``) and
        ``organisation`` (the owner: an editor's own by default; admins may name any, or
        none). Editors and admins only."""
        fields = clean_remiss(data, creating=True)
        with self.transaction() as session:
            user = self._actor(session, actor)
            if user is None or user.role not in ("admin", "editor"):
                raise PermissionDeniedError(
                    "Bara redaktörer och administratörer får skapa remisser.",
                    hint="Logga in som redaktör (på kommandoraden: --user E-POST), eller be en "
                    "administratör om redaktörsbehörighet för din organisation.",
                )
            owner = self._owner(session, user, fields.get("organisation"), True)
            self._check_url(session, fields.get("url"), None)
            now = utcnow()
            remiss = Remiss(
                organisation_id=owner,
                **{
                    name: fields.get(name, "")
                    for name in _SCALARS
                    if name not in ("deadline", "url")
                },
                deadline=fields.get("deadline"),
                url=fields.get("url"),
                source="",
                created_at=now,
                created_by=user.id,
                updated_at=now,
                updated_by=user.id,
                version=1,
            )
            remiss.proposals = [
                RemissProposal(key=k, heading=h, position=p)
                for p, (k, h) in enumerate(fields.get("proposals", []))
            ]
            remiss.bodies = self._bodies(session, fields.get("bodies", []))
            session.add(remiss)
            session.flush()
            remiss_id = remiss.id
            session.expunge_all()
            loaded = self._load_remiss(session, remiss_id)
            self._audit(
                session, user, "remiss.create", "remiss", remiss_id, remiss=remiss_snapshot(loaded)
            )
            return self._remiss_records(session, [loaded])[0]

    @staticmethod
    def _check_url(session: Session, url: str | None, remiss_id: int | None) -> None:
        if url:
            other = session.scalar(select(Remiss.id).where(Remiss.url == url))
            if other is not None and other != remiss_id:
                raise ConflictError(
                    f"Remissen {other} har redan adressen {url}.",
                    hint=f"Ändra remissen {other} i stället.",
                )

    def update_remiss(
        self,
        actor: UserRecord | None,
        remiss_id: int,
        expected_version: int,
        changes: Mapping[str, Any],
    ) -> RemissRecord:
        """Change any field of :meth:`create_remiss`. ``proposals`` is the whole list: a
        kept section number keeps its stances, a removed one leaves them without a proposal
        (they keep the number). Only an admin changes the owner. ConflictError when someone
        saved since ``expected_version``; a change that changes nothing writes nothing."""
        fields = clean_remiss(changes, creating=False)
        with self.transaction() as session:
            user = self._actor(session, actor)
            remiss = self._writable_remiss(session, user, remiss_id)
            assert user is not None
            if remiss.version != expected_version:
                raise stale(f"Remissen {remiss_id}", expected_version, remiss.version)
            before = remiss_snapshot(remiss)
            changed = [n for n in _SCALARS if n in fields and fields[n] != getattr(remiss, n)]
            if "organisation" in fields:
                if user.role != "admin":
                    raise PermissionDeniedError(
                        "Bara en administratör får byta remissens organisation."
                    )
                owner = self._owner(session, user, fields["organisation"], False)
                if owner != remiss.organisation_id:
                    changed.append("organisation_id")
                    remiss.organisation_id = owner
            if "proposals" in fields and fields["proposals"] != [
                (p.key, p.heading) for p in remiss.proposals
            ]:
                changed.append("proposals")
                self._apply_proposals(session, remiss, fields["proposals"])
            if "bodies" in fields:
                bodies = self._bodies(session, fields["bodies"])
                new = [(b.name, b.organisation_id, b.kind) for b in bodies]
                if new != [(b.name, b.organisation_id, b.kind) for b in remiss.bodies]:
                    changed.append("bodies")
                    remiss.bodies.clear()
                    session.flush()
                    remiss.bodies.extend(bodies)
            if not changed:
                return self._remiss_records(session, [remiss])[0]
            if "url" in changed:
                self._check_url(session, fields["url"], remiss.id)
            for name in _SCALARS:
                if name in changed:
                    setattr(remiss, name, fields[name])
            self._claim_remiss(session, remiss, expected_version, user)
            session.flush()
            session.expunge_all()
            loaded = self._load_remiss(session, remiss_id)
            after = remiss_snapshot(loaded)
            self._audit(
                session,
                user,
                "remiss.update",
                "remiss",
                remiss_id,
                version=loaded.version,
                fields=changed,
                changes={n: {"old": before.get(n), "new": after.get(n)} for n in [*changed]},
            )
            return self._remiss_records(session, [loaded])[0]

    def set_proposals(
        self,
        actor: UserRecord | None,
        remiss_id: int,
        proposals: list[tuple[str, str]] | list[Mapping[str, Any]],
        *,
        expected_version: int | None = None,
    ) -> RemissRecord:
        """Replace the remiss's proposals (``[(key, heading)]``, in order); see
        :meth:`update_remiss`. Without ``expected_version``, the current one."""
        if expected_version is None:
            expected_version = self.remiss(actor, remiss_id).version
        return self.update_remiss(actor, remiss_id, expected_version, {"proposals": proposals})

    @staticmethod
    def _apply_proposals(session: Session, remiss: Remiss, wanted: list[tuple[str, str]]) -> None:
        by_key = {p.key: p for p in remiss.proposals}
        keys = [k for k, _ in wanted]
        for gone in [p for p in remiss.proposals if p.key not in keys]:
            remiss.proposals.remove(gone)
        session.flush()
        for position, (key, heading) in enumerate(wanted):
            proposal = by_key.get(key)
            if proposal is None:
                remiss.proposals.append(
                    RemissProposal(key=key, heading=heading, position=-1 - position)
                )
            else:
                proposal.heading, proposal.position = heading, -1 - position
        session.flush()  # negative positions first: no clash while reordering
        for proposal in remiss.proposals:
            proposal.position = -1 - proposal.position
        session.flush()
        responses = select(RemissResponse.id).where(RemissResponse.remiss_id == remiss.id)
        for proposal in remiss.proposals:
            session.execute(
                update(RemissStance)
                .where(
                    RemissStance.response_id.in_(responses),
                    RemissStance.proposal_key == proposal.key,
                )
                .values(proposal_id=proposal.id)
                .execution_options(synchronize_session=False)
            )

    @staticmethod
    def _claim_remiss(session: Session, remiss: Remiss, expected: int, user: User | None) -> None:
        result = session.execute(
            update(Remiss)
            .where(Remiss.id == remiss.id, Remiss.version == expected)
            .values(version=expected + 1, updated_at=utcnow(), updated_by=user.id if user else None)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 1) != 1:
            raise stale(f"Remissen {remiss.id}", expected, None)
        session.expire(remiss, ["version", "updated_at", "updated_by"])

    def delete_remiss(
        self, actor: UserRecord | None, remiss_id: int, expected_version: int
    ) -> None:
        """Delete a remiss with its proposals, bodies, responses and stances; the audit log
        keeps its last state."""
        with self.transaction() as session:
            user = self._actor(session, actor)
            remiss = self._writable_remiss(session, user, remiss_id)
            if remiss.version != expected_version:
                raise stale(f"Remissen {remiss_id}", expected_version, remiss.version)
            last = remiss_snapshot(remiss)
            session.delete(remiss)
            self._audit(session, user, "remiss.delete", "remiss", remiss_id, last=last)

    # -- reading -------------------------------------------------------------------------

    def remiss(self, actor: UserRecord | None, remiss_id: int) -> RemissRecord:
        """One remiss (public); NotFoundError when there is none."""
        with self.sessions() as session:
            self._actor(session, actor)
            return self._remiss_records(session, [self._load_remiss(session, remiss_id)])[0]

    def remisser(
        self, actor: UserRecord | None, *, limit: int = 100, offset: int = 0
    ) -> list[RemissRecord]:
        """Remisser, the latest deadline first (those without one last), then newest."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInputError(f"limit ska vara 1–{MAX_PAGE}, inte {limit}.")
        if offset < 0:
            raise InvalidInputError(f"offset ska vara 0 eller mer, inte {offset}.")
        with self.sessions() as session:
            self._actor(session, actor)
            query = (
                self._remiss_query()
                .order_by(Remiss.deadline.is_(None), Remiss.deadline.desc(), Remiss.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return self._remiss_records(session, list(session.scalars(query)))

    def find_remiss(self, actor: UserRecord | None, text: str) -> RemissRecord:
        """The remiss named by ``text``: its id, its address, or its referred document
        ("SOU 2018:47", without regard to case or spaces; the newest of several)."""
        wanted = text.strip()
        with self.sessions() as session:
            self._actor(session, actor)
            found: Remiss | None = None
            if wanted.isdigit():
                found = session.scalar(self._remiss_query().where(Remiss.id == int(wanted)))
            if found is None and wanted:
                found = session.scalar(self._remiss_query().where(Remiss.url == wanted))
            if found is None and wanted:
                key = document_key(wanted)
                rows = session.execute(
                    select(Remiss.id, Remiss.document).order_by(Remiss.id.desc())
                )
                ids = [i for i, doc in rows if doc and document_key(doc) == key]
                if ids:
                    found = session.scalar(self._remiss_query().where(Remiss.id == ids[0]))
            if found is None:
                raise NotFoundError(
                    f"Ingen remiss heter {text!r}.",
                    hint="Ange remissens nummer eller dokument, t.ex. SOU 2018:47; se "
                    "`tillit remiss list`.",
                )
            return self._remiss_records(session, [found])[0]


class Remisser(RemissReview, RemissBase):
    """Remisser, their responses and the stances of each, in the bank's database (reach it
    with :func:`remisser_of`). Every method runs in its own transaction and returns frozen
    records; ``actor`` is the logged-in user or None for an anonymous visitor."""


def remisser_of(bank: BankBase) -> Remisser:
    """The remisser of ``bank`` (the same engine and sessions)."""
    if isinstance(bank, Remisser):
        return bank
    remisser = Remisser(bank.engine, bank.passwords)
    remisser.sessions = bank.sessions
    return remisser
