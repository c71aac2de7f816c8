"""What the bank returns about consultations (remisser): frozen records, never ORM objects,
and the checks of what callers hand in (Swedish errors naming the field)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from tillit.bank._models import User
from tillit.bank._records import UserRecord
from tillit.errors import ConflictError, InvalidInputError

__all__ = [
    "REMISS_FIELDS",
    "STANCES",
    "STANCE_BASES",
    "BodyRecord",
    "ProposalRecord",
    "RemissRecord",
    "ResponseRecord",
    "StanceInput",
    "StanceRecord",
    "clean_remiss",
    "clean_stance",
    "document_key",
    "may_write_remiss",
    "stale",
]

#: The stances a response takes on a proposal (the same as ``tillit.analyses.STANCES``).
STANCES: tuple[str, ...] = ("tillstyrker", "delvis", "avstyrker", "inga_synpunkter")
#: How a stance was tied to its proposal (the extraction's, and "reviewer" for a person's).
STANCE_BASES: tuple[str, ...] = (
    "section",
    "range",
    "heading",
    "words",
    "i_ovrigt",
    "general",
    "reviewer",
)
#: The fields of a remiss that ``create_remiss`` and ``update_remiss`` take.
REMISS_FIELDS: tuple[str, ...] = (
    "document",
    "title",
    "ministry",
    "diarienummer",
    "deadline",
    "url",
    "organisation",
    "proposals",
    "bodies",
)
_LIMITS = {"document": 300, "title": 1000, "ministry": 200, "diarienummer": 100, "url": 1000}

#: A stance as the extraction hands it in: (proposal key or None, stance, quote, start,
#: end, page or None, basis).
StanceInput = tuple[str | None, str, str, int, int, int | None, str]


@dataclass(frozen=True)
class ProposalRecord:
    id: int
    key: str  # the section number, "7.1"
    heading: str
    position: int


@dataclass(frozen=True)
class BodyRecord:
    id: int
    name: str  # as the remiss names it, "Ale kommun"
    organisation_id: int | None
    organisation_code: str | None
    kind: str  # kommun | region | myndighet | organisation


@dataclass(frozen=True)
class RemissRecord:
    id: int
    document: str  # "SOU 2018:47", "Ds 2019:3", "promemoria …" or ""
    title: str
    ministry: str
    diarienummer: str
    deadline: date | None
    url: str | None
    proposals: tuple[ProposalRecord, ...]
    bodies: tuple[BodyRecord, ...]
    version: int
    organisation_id: int | None  # the owner; None: admins only (an imported page)
    organisation_code: str | None
    organisation_name: str | None
    source: str  # "g0vse" for an imported page, else ""
    created_at: datetime
    created_by: int | None
    updated_at: datetime
    updated_by: int | None
    responses: int = 0  # how many responses it has


@dataclass(frozen=True)
class StanceRecord:
    id: int
    response_id: int
    proposal_id: int | None
    proposal_key: str | None  # None: a stance on the whole remiss
    stance: str  # one of STANCES
    quote: str  # exactly the response's text[start:end]
    start: int
    end: int
    page: int | None
    basis: str
    confirmed: bool
    source: str  # "extracted" | "reviewer"
    version: int


@dataclass(frozen=True)
class ResponseRecord:
    id: int
    remiss_id: int
    respondent_name: str
    organisation_id: int | None
    organisation_code: str | None
    file_name: str
    format: str
    text: str
    pages: tuple[tuple[int, int, int], ...]
    needs_ocr: bool
    uploaded_at: datetime
    stances: tuple[StanceRecord, ...]
    version: int = 1
    uploaded_by: int | None = None
    organisation_name: str | None = None


def _error(field: str, message: str, hint: str | None = None) -> InvalidInputError:
    return InvalidInputError(f"{field}: {message}", hint=hint)


def document_key(text: str) -> str:
    """A referred document's name compared without case, spaces or a full stop: "sou
    2018:47" and "SOU 2018:47" are one."""
    return re.sub(r"[\s.]+", "", text).casefold()


def _deadline(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            pass
    raise _error("deadline", f"{value!r} är inget datum.", "Skriv datumet som 2019-03-12.")


def _proposals(value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise _error("proposals", "ska vara en lista av (nummer, rubrik).")
    out: list[tuple[str, str]] = []
    for i, item in enumerate(value):
        if isinstance(item, Mapping):
            key, heading = item.get("key"), item.get("heading", "")
        elif isinstance(item, Sequence) and not isinstance(item, str) and len(item) == 2:
            key, heading = item
        else:
            raise _error(f"proposals[{i}]", "ska vara (nummer, rubrik).")
        key = str(key or "").strip()
        if not key or len(key) > 50:
            raise _error(f"proposals[{i}].key", "ange förslagets avsnittsnummer (högst 50 tecken).")
        if key in (k for k, _ in out):
            raise _error(f"proposals[{i}].key", f"{key} finns två gånger.", "Varje nummer en gång.")
        out.append((key, str(heading or "").strip()[:1000]))
    return out


def _bodies(value: Any) -> list[tuple[str, Any]]:
    if not isinstance(value, Sequence) or isinstance(value, str):
        raise _error("bodies", "ska vara en lista av remissinstanser.")
    out: list[tuple[str, Any]] = []
    for i, item in enumerate(value):
        name, organisation = (
            (item.get("name"), item.get("organisation"))
            if isinstance(item, Mapping)
            else (item, None)
        )
        name = " ".join(str(name or "").split())
        if not name or len(name) > 500:
            raise _error(f"bodies[{i}].name", "ange instansens namn (högst 500 tecken).")
        out.append((name, organisation))
    return out


def clean_remiss(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """The remiss fields of ``data``, checked: text fields stripped and within their
    lengths, ``deadline`` an ISO date string, ``url`` a web address, proposals as
    ``[(key, heading)]``, bodies as ``[(name, organisation or None)]``."""
    unknown = sorted(set(data) - set(REMISS_FIELDS))
    if unknown:
        raise InvalidInputError(
            f"Okänt fält: {', '.join(unknown)}.", hint=f"Fälten är {', '.join(REMISS_FIELDS)}."
        )
    out: dict[str, Any] = {}
    for name, limit in _LIMITS.items():
        if name in data:
            value = " ".join(str(data[name] or "").split())
            if len(value) > limit:
                raise _error(name, f"högst {limit} tecken.")
            out[name] = value
    if "url" in out:
        out["url"] = out["url"] or None
        if out["url"] and not out["url"].startswith(("http://", "https://")):
            raise _error("url", "ska börja med http:// eller https://.")
    if creating and not out.get("title"):
        raise _error(
            "title", "remissen behöver en titel.", "Skriv det remitterade dokumentets titel."
        )
    if not creating and "title" in out and not out["title"]:
        raise _error("title", "titeln får inte vara tom.")
    if "deadline" in data:
        out["deadline"] = _deadline(data["deadline"])
    if "proposals" in data:
        out["proposals"] = _proposals(data["proposals"] or [])
    if "bodies" in data:
        out["bodies"] = _bodies(data["bodies"] or [])
    if "organisation" in data:
        out["organisation"] = data["organisation"]
    return out


def clean_stance(item: Any, text: str, where: str) -> StanceInput:
    """A stance as (key, stance, quote, start, end, page, basis), checked against the
    response's ``text``: the quote must be exactly ``text[start:end]``."""
    if isinstance(item, Mapping):
        item = tuple(
            item.get(k)
            for k in ("proposal_key", "stance", "quote", "start", "end", "page", "basis")
        )
    if not isinstance(item, Sequence) or isinstance(item, str) or len(item) != 7:
        raise _error(
            where, "ska vara (förslag, ställningstagande, citat, start, slut, sida, grund)."
        )
    key, stance, quote, start, end, page, basis = item
    key = None if key in (None, "") else str(key).strip()
    if stance not in STANCES:
        raise _error(
            f"{where}.stance",
            f"{stance!r} är inget ställningstagande.",
            f"Välj ett av {', '.join(STANCES)}.",
        )
    if basis not in STANCE_BASES:
        raise _error(
            f"{where}.basis",
            f"{basis!r} är ingen grund.",
            f"Välj ett av {', '.join(STANCE_BASES)}.",
        )
    if not (isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text)):
        raise _error(f"{where}.start", f"{start}–{end} ligger inte inom texten.")
    if text[start:end] != quote:
        raise _error(
            f"{where}.quote",
            "citatet är inte exakt texten på sin plats.",
            "Citatet ska vara text[start:end] ur svarets text.",
        )
    if page is not None and (not isinstance(page, int) or page < 1):
        raise _error(f"{where}.page", f"{page!r} är ingen sida.")
    return (key, str(stance), str(quote), start, end, page, str(basis))


def may_write_remiss(user: User | UserRecord | None, organisation_id: int | None) -> bool:
    """Admins write every remiss; editors those their organisation owns."""
    if user is None:
        return False
    if user.role == "admin":
        return True
    return (
        user.role == "editor"
        and organisation_id is not None
        and (user.organisation_id == organisation_id)
    )


def stale(what: str, expected: int, current: int | None) -> ConflictError:
    now = f" (nu version {current})" if current is not None else ""
    return ConflictError(
        f"{what} har ändrats av någon annan sedan version {expected}{now}.",
        hint="Läs in den igen och gör om din ändring.",
    )
