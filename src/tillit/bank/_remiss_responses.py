"""Responses (remissvar) to a remiss and their stances: add a response with the stances the
rules extracted, override who answered, and re-extract without losing a person's judgement
(the review itself is in :mod:`tillit.bank._remiss_review`). Every change is audited.

A re-extraction (:meth:`RemissResponses.replace_extracted`) replaces only the unconfirmed
stances the rules made. It never touches a confirmed stance or one a reviewer made or
corrected, drops a new stance on a proposal a person has already judged, and does not bring
back a stance a reviewer deleted."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session, selectinload

from tillit.bank._base import BankBase, utc, utcnow
from tillit.bank._models import Organisation, User
from tillit.bank._records import UserRecord
from tillit.bank._remiss_models import Remiss, RemissProposal, RemissResponse, RemissStance
from tillit.bank._remiss_records import (
    ResponseRecord,
    StanceInput,
    StanceRecord,
    clean_stance,
    may_write_remiss,
    stale,
)
from tillit.errors import InvalidInputError, NotFoundError, PermissionDeniedError

__all__ = ["RemissResponses"]

_RESPONSE_FIELDS = (
    "respondent_name",
    "organisation",
    "file_name",
    "format",
    "text",
    "pages",
    "needs_ocr",
)


def _stance_record(s: RemissStance) -> StanceRecord:
    return StanceRecord(
        s.id,
        s.response_id,
        s.proposal_id,
        s.proposal_key,
        s.stance,
        s.quote,
        s.quote_start,
        s.quote_end,
        s.page,
        s.basis,
        s.confirmed,
        s.source,
        s.version,
    )


def _response_record(r: RemissResponse) -> ResponseRecord:
    org = r.organisation
    return ResponseRecord(
        id=r.id,
        remiss_id=r.remiss_id,
        respondent_name=r.respondent_name,
        organisation_id=r.organisation_id,
        organisation_code=org.code if org is not None else None,
        file_name=r.file_name,
        format=r.format,
        text=r.text,
        pages=tuple((int(p), int(a), int(b)) for p, a, b in r.pages or []),
        needs_ocr=r.needs_ocr,
        uploaded_at=utc(r.uploaded_at),
        stances=tuple(_stance_record(s) for s in r.stances if not s.rejected),
        version=r.version,
        uploaded_by=r.uploaded_by,
        organisation_name=org.name if org is not None else None,
    )


def _stance_data(s: RemissStance) -> dict[str, Any]:
    return {
        "proposal_key": s.proposal_key,
        "stance": s.stance,
        "quote": s.quote,
        "start": s.quote_start,
        "end": s.quote_end,
        "page": s.page,
        "basis": s.basis,
        "confirmed": s.confirmed,
        "source": s.source,
    }


def _pages(value: Any, length: int) -> list[list[int]]:
    if value is None:
        return [[1, 0, length]]
    out = []
    for i, item in enumerate(value):
        if not (
            isinstance(item, Sequence) and len(item) == 3 and all(isinstance(v, int) for v in item)
        ):
            raise InvalidInputError(f"pages[{i}]: ska vara (sida, start, slut).")
        out.append([int(v) for v in item])
    return out


def _page_of(pages: Iterable[Sequence[int]], offset: int) -> int | None:
    for page, start, end in pages:
        if start <= offset < end:
            return int(page)
    return None


def _overlaps(a: RemissStance, start: int, end: int) -> bool:
    return a.quote_start < end and start < a.quote_end


class RemissResponses(BankBase):
    """Responses and their stances (a part of :class:`~tillit.bank.Remisser`)."""

    def _load_response(self, session: Session, response_id: int) -> RemissResponse:
        response = session.scalar(
            select(RemissResponse)
            .where(RemissResponse.id == response_id)
            .options(
                selectinload(RemissResponse.stances), selectinload(RemissResponse.organisation)
            )
        )
        if response is None:
            raise NotFoundError(f"Svaret {response_id} finns inte.", hint="Se remissens svar.")
        return response

    @staticmethod
    def _check_writer(session: Session, user: User | None, remiss_id: int) -> Remiss:
        remiss = session.get(Remiss, remiss_id)
        if remiss is None:
            raise NotFoundError(
                f"Remissen {remiss_id} finns inte.", hint="Se `tillit remiss list`."
            )
        if not may_write_remiss(user, remiss.organisation_id):
            raise PermissionDeniedError(
                "Du får inte ändra svaren på den här remissen.",
                hint="Remissens organisations redaktörer och administratörer får ändra dem "
                "(på kommandoraden: --user E-POST).",
            )
        return remiss

    def _organisation(self, session: Session, wanted: Any) -> Organisation:
        """An organisation by code, name or id (also an id written as text, "#312" or
        "312", as a respondent without a code is named)."""
        try:
            return self._find_organisation(session, wanted)
        except NotFoundError:
            number = wanted.strip() if isinstance(wanted, str) else ""  # "#312": found above
            if number.isascii() and number.isdigit() and len(number) < 10:
                found = session.get(Organisation, int(number))
                if found is not None:
                    return found
            raise

    @staticmethod
    def _proposal_ids(session: Session, remiss_id: int) -> dict[str, int]:
        rows = session.execute(
            select(RemissProposal.key, RemissProposal.id).where(
                RemissProposal.remiss_id == remiss_id
            )
        )
        return {key: pid for key, pid in rows}

    def _new_stances(
        self,
        session: Session,
        response: RemissResponse,
        stances: Iterable[Any],
        source: str,
        user: User | None,
    ) -> list[RemissStance]:
        proposals = self._proposal_ids(session, response.remiss_id)
        out = []
        for i, item in enumerate(stances):
            key, stance, quote, start, end, page, basis = clean_stance(
                item, response.text, f"stances[{i}]"
            )
            if key is not None and key not in proposals:
                raise InvalidInputError(
                    f"stances[{i}].proposal_key: remissen har inget förslag {key}.",
                    hint="Lägg till förslaget på remissen eller knyt ställningstagandet till "
                    "helheten.",
                )
            out.append(
                RemissStance(
                    proposal_id=proposals.get(key) if key else None,
                    proposal_key=key,
                    stance=stance,
                    quote=quote,
                    quote_start=start,
                    quote_end=end,
                    page=page if page is not None else _page_of(response.pages, start),
                    basis=basis,
                    confirmed=source == "reviewer",
                    source=source,
                    rejected=False,
                    updated_at=utcnow(),
                    updated_by=user.id if user else None,
                    version=1,
                )
            )
        return out

    def _reload(self, session: Session, response_id: int) -> ResponseRecord:
        session.flush()
        session.expunge_all()
        return _response_record(self._load_response(session, response_id))

    # -- responses -----------------------------------------------------------------------

    def add_response(
        self,
        actor: UserRecord | None,
        remiss_id: int,
        fields: Mapping[str, Any],
        stances: Iterable[StanceInput | Mapping[str, Any]] = (),
    ) -> ResponseRecord:
        """A response: ``fields`` has ``text`` and any of ``respondent_name``,
        ``organisation`` (code, name or id), ``file_name``, ``format``, ``pages``
        (``[(page, start, end)]``) and ``needs_ocr``; ``stances`` the extracted ones,
        ``(proposal_key | None, stance, quote, start, end, page | None, basis)``, each
        quote exactly ``text[start:end]`` (else InvalidInputError, nothing written)."""
        unknown = sorted(set(fields) - set(_RESPONSE_FIELDS))
        if unknown:
            raise InvalidInputError(
                f"Okänt fält: {', '.join(unknown)}.",
                hint=f"Fälten är {', '.join(_RESPONSE_FIELDS)}.",
            )
        text = fields.get("text")
        if not isinstance(text, str):
            raise InvalidInputError(
                "text: svarets text saknas.", hint="Läs ut texten ur filen först."
            )
        with self.transaction() as session:
            user = self._actor(session, actor)
            self._check_writer(session, user, remiss_id)
            wanted = fields.get("organisation")
            org = self._organisation(session, wanted) if wanted not in (None, "") else None
            response = RemissResponse(
                remiss_id=remiss_id,
                respondent_name=" ".join(str(fields.get("respondent_name") or "").split())[:500],
                organisation_id=org.id if org else None,
                file_name=str(fields.get("file_name") or "")[:500],
                format=str(fields.get("format") or "")[:16],
                text=text,
                pages=_pages(fields.get("pages"), len(text)),
                needs_ocr=bool(fields.get("needs_ocr", False)),
                uploaded_at=utcnow(),
                uploaded_by=user.id if user else None,
                version=1,
            )
            response.stances = self._new_stances(session, response, stances, "extracted", user)
            session.add(response)
            session.flush()
            self._audit(
                session,
                user,
                "remiss.response.add",
                "remiss_response",
                response.id,
                remiss_id=remiss_id,
                respondent=response.respondent_name,
                organisation_id=response.organisation_id,
                file=response.file_name,
                stances=len(response.stances),
            )
            return self._reload(session, response.id)

    def update_response(
        self,
        actor: UserRecord | None,
        response_id: int,
        expected_version: int,
        changes: Mapping[str, Any],
    ) -> ResponseRecord:
        """Override who answered: ``respondent_name`` and/or ``organisation`` (code, name,
        id, or None for none)."""
        unknown = sorted(set(changes) - {"respondent_name", "organisation"})
        if unknown:
            raise InvalidInputError(
                f"Okänt fält: {', '.join(unknown)}.",
                hint="Fälten är respondent_name och organisation.",
            )
        with self.transaction() as session:
            user = self._actor(session, actor)
            response = self._load_response(session, response_id)
            self._check_writer(session, user, response.remiss_id)
            if response.version != expected_version:
                raise stale(f"Svaret {response_id}", expected_version, response.version)
            before = {
                "respondent_name": response.respondent_name,
                "organisation_id": response.organisation_id,
            }
            if "respondent_name" in changes:
                response.respondent_name = " ".join(str(changes["respondent_name"] or "").split())[
                    :500
                ]
            if "organisation" in changes:
                wanted = changes["organisation"]
                response.organisation_id = (
                    None if wanted in (None, "") else self._organisation(session, wanted).id
                )
            after = {
                "respondent_name": response.respondent_name,
                "organisation_id": response.organisation_id,
            }
            if after == before:
                return _response_record(response)
            self._claim(
                session, RemissResponse, response_id, expected_version, f"Svaret {response_id}"
            )
            self._audit(
                session,
                user,
                "remiss.response.update",
                "remiss_response",
                response_id,
                version=expected_version + 1,
                old=before,
                new=after,
            )
            return self._reload(session, response_id)

    def delete_response(
        self, actor: UserRecord | None, response_id: int, expected_version: int
    ) -> None:
        """Delete a response and its stances; the audit log keeps who it was from."""
        with self.transaction() as session:
            user = self._actor(session, actor)
            response = self._load_response(session, response_id)
            self._check_writer(session, user, response.remiss_id)
            if response.version != expected_version:
                raise stale(f"Svaret {response_id}", expected_version, response.version)
            last = {
                "remiss_id": response.remiss_id,
                "respondent": response.respondent_name,
                "file": response.file_name,
                "stances": [_stance_data(s) for s in response.stances if not s.rejected],
            }
            session.delete(response)
            self._audit(
                session, user, "remiss.response.delete", "remiss_response", response_id, last=last
            )

    def response(self, actor: UserRecord | None, response_id: int) -> ResponseRecord:
        """One response with its stances (public)."""
        with self.sessions() as session:
            self._actor(session, actor)
            return _response_record(self._load_response(session, response_id))

    def responses(self, actor: UserRecord | None, remiss_id: int) -> list[ResponseRecord]:
        """The responses to a remiss, in the order they came (public)."""
        with self.sessions() as session:
            self._actor(session, actor)
            if session.get(Remiss, remiss_id) is None:
                raise NotFoundError(
                    f"Remissen {remiss_id} finns inte.", hint="Se `tillit remiss list`."
                )
            rows = session.scalars(
                select(RemissResponse)
                .where(RemissResponse.remiss_id == remiss_id)
                .order_by(RemissResponse.id)
                .options(
                    selectinload(RemissResponse.stances), selectinload(RemissResponse.organisation)
                )
            )
            return [_response_record(r) for r in rows]

    def replace_extracted(
        self,
        actor: UserRecord | None,
        response_id: int,
        stances: Iterable[StanceInput | Mapping[str, Any]],
    ) -> ResponseRecord:
        """A new extraction's stances in place of the unconfirmed extracted ones; see the
        module's description of what is kept."""
        with self.transaction() as session:
            user = self._actor(session, actor)
            response = self._load_response(session, response_id)
            self._check_writer(session, user, response.remiss_id)
            kept = [s for s in response.stances if s.confirmed or s.source == "reviewer"]
            rejected = [s for s in response.stances if s.rejected]
            judged = {s.proposal_key for s in kept if s.proposal_key is not None}
            new = self._new_stances(session, response, stances, "extracted", user)
            added = [
                s
                for s in new
                if s.proposal_key not in judged
                and not (
                    s.proposal_key is None
                    and any(
                        k.proposal_key is None and _overlaps(k, s.quote_start, s.quote_end)
                        for k in kept
                    )
                )
                and not any(
                    r.proposal_key == s.proposal_key
                    and r.stance == s.stance
                    and _overlaps(r, s.quote_start, s.quote_end)
                    for r in rejected
                )
            ]
            removed = [s for s in response.stances if s not in kept and not s.rejected]
            for stance in removed:
                response.stances.remove(stance)
            response.stances.extend(added)
            self._audit(
                session,
                user,
                "remiss.response.reextract",
                "remiss_response",
                response_id,
                removed=len(removed),
                added=len(added),
                kept=len(kept),
                dropped=len(new) - len(added),
            )
            return self._reload(session, response_id)

    @staticmethod
    def _claim(session: Session, table: Any, row_id: int, expected: int, what: str) -> None:
        result = session.execute(
            update(table)
            .where(table.id == row_id, table.version == expected)
            .values(version=expected + 1)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 1) != 1:
            raise stale(what, expected, None)
