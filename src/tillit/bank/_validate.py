"""Checking a good example's fields before anything is written. A bad field raises
:class:`InvalidInputError` naming it; nothing is stored."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tillit.bank._models import STATUSES, TRUST_PRINCIPLES
from tillit.bank._records import KpiLink
from tillit.errors import InvalidInputError

__all__ = ["EXAMPLE_FIELDS", "clean_example", "clean_text"]

KPI_ID = re.compile(r"^[A-Z]\d{5}$")
MUNICIPALITY_CODE = re.compile(r"^\d{4}$")
YEARS = (1900, 2200)

# field -> (max length, required non-empty); None: unlimited text
_TEXTS: dict[str, tuple[int | None, bool]] = {
    "title": (300, True),
    "summary": (None, False),
    "problem": (None, False),
    "what_was_done": (None, False),
    "results": (None, False),
    "contact_role": (300, False),
}
_OPTIONAL_TEXTS = {"operating_area": 200, "source": 500}
_MAX_TEXT = 100_000

#: Every key ``create_example``/``update_example`` accept.
EXAMPLE_FIELDS: tuple[str, ...] = (
    "organisation",
    *_TEXTS,
    *_OPTIONAL_TEXTS,
    "period_start",
    "period_end",
    "status",
    "tags",
    "principles",
    "kpis",
)


def _bad(field: str, message: str, hint: str | None = None) -> InvalidInputError:
    error = InvalidInputError(f"Fältet {field!r}: {message}", hint=hint)
    error.field = field  # type: ignore[attr-defined]
    return error


def clean_text(field: str, value: Any, limit: int | None, *, required: bool = False) -> str:
    """A text field, stripped at the ends only (HTML and all else kept verbatim)."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _bad(field, "ska vara text.")
    text = value.strip()
    if required and not text:
        raise _bad(field, "får inte vara tomt.")
    maximum = limit or _MAX_TEXT
    if len(text) > maximum:
        raise _bad(field, f"är {len(text)} tecken långt; högst {maximum} är tillåtet.")
    return text


def _year(field: str, value: Any) -> int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _bad(field, "ska vara ett årtal.")
    try:
        year = int(value)
    except ValueError:
        raise _bad(field, f"{value!r} är inget årtal.") from None
    if not YEARS[0] <= year <= YEARS[1]:
        raise _bad(field, f"{year} ligger utanför {YEARS[0]}–{YEARS[1]}.")
    return year


def _tags(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise _bad("tags", "ska vara en lista med taggar.")
    tags: list[str] = []
    for i, raw in enumerate(value):
        tag = clean_text(f"tags[{i}]", raw, 100, required=True)
        if tag not in tags:
            tags.append(tag)
    return tags


def _principles(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise _bad("principles", "ska vara en lista med tillitsprinciper.")
    found: set[str] = set()
    for i, raw in enumerate(value):
        name = raw.strip().lower() if isinstance(raw, str) else raw
        if name not in TRUST_PRINCIPLES:
            raise _bad(
                f"principles[{i}]",
                f"{raw!r} är ingen av tillitsprinciperna.",
                hint="Välj bland: " + ", ".join(TRUST_PRINCIPLES) + ".",
            )
        found.add(name)
    return [p for p in TRUST_PRINCIPLES if p in found]


def _kpis(value: Any) -> list[KpiLink]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise _bad("kpis", "ska vara en lista med nyckeltal.")
    links: list[KpiLink] = []
    for i, raw in enumerate(value):
        where = f"kpis[{i}]"
        if isinstance(raw, KpiLink):
            raw = {
                "kpi": raw.kpi,
                "municipality": raw.municipality,
                "year_from": raw.year_from,
                "year_to": raw.year_to,
                "note": raw.note,
            }
        if not isinstance(raw, Mapping):
            raise _bad(where, "ska vara ett objekt med kpi, municipality, year_from, year_to.")
        unknown = sorted(set(raw) - {"kpi", "municipality", "year_from", "year_to", "note"})
        if unknown:
            raise _bad(f"{where}.{unknown[0]}", "är inget känt fält.")
        kpi = raw.get("kpi")
        kpi = kpi.strip().upper() if isinstance(kpi, str) else kpi
        if not isinstance(kpi, str) or not KPI_ID.match(kpi):
            raise _bad(
                f"{where}.kpi", f"{raw.get('kpi')!r} är inget nyckeltals-id.", "T.ex. N00945."
            )
        municipality = raw.get("municipality")
        municipality = municipality.strip() if isinstance(municipality, str) else municipality
        if not isinstance(municipality, str) or not MUNICIPALITY_CODE.match(municipality):
            raise _bad(
                f"{where}.municipality",
                f"{raw.get('municipality')!r} är ingen kommun- eller regionkod.",
                "Ange Koladas fyrsiffriga kod, t.ex. 1480.",
            )
        year_from = _year(f"{where}.year_from", raw.get("year_from"))
        year_to = _year(f"{where}.year_to", raw.get("year_to"))
        if year_from is not None and year_to is not None and year_from > year_to:
            raise _bad(f"{where}.year_to", f"{year_to} ligger före {year_from}.")
        note = clean_text(f"{where}.note", raw.get("note"), None)
        links.append(KpiLink(kpi, municipality, year_from, year_to, note))
    return links


def clean_example(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """The fields of ``data``, checked and normalised. On create, missing fields take their
    defaults and ``title`` is required; on update only the given fields are returned.
    ``organisation`` is passed through for the caller to resolve."""
    if not isinstance(data, Mapping):
        raise InvalidInputError("Exemplet ska vara ett objekt med fält.")
    unknown = sorted(set(data) - set(EXAMPLE_FIELDS))
    if unknown:
        raise _bad(unknown[0], "är inget känt fält.", "Kända fält: " + ", ".join(EXAMPLE_FIELDS))
    out: dict[str, Any] = {}
    if "organisation" in data:
        out["organisation"] = data["organisation"]
    for name, (limit, required) in _TEXTS.items():
        if name in data or creating:
            out[name] = clean_text(name, data.get(name), limit, required=required)
    for name, limit in _OPTIONAL_TEXTS.items():
        if name in data or creating:
            out[name] = clean_text(name, data.get(name), limit) or None
    for name in ("period_start", "period_end"):
        if name in data or creating:
            out[name] = _year(name, data.get(name))
    if "status" in data or creating:
        status = data.get("status") or "draft"
        if status not in STATUSES:
            raise _bad("status", f"{status!r} är ingen status.", "Använd draft eller published.")
        out["status"] = status
    if "tags" in data or creating:
        out["tags"] = _tags(data.get("tags"))
    if "principles" in data or creating:
        out["principles"] = _principles(data.get("principles"))
    if "kpis" in data or creating:
        out["kpis"] = _kpis(data.get("kpis"))
    return out


def check_period(start: int | None, end: int | None) -> None:
    if start is not None and end is not None and start > end:
        raise _bad("period_end", f"{end} ligger före {start}.")
