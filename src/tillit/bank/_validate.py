"""Checking a good example's fields before anything is written. A bad field raises
:class:`InvalidInputError` naming it; nothing is stored."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from tillit.bank._models import (
    EXAMPLE_KINDS,
    KIND_LABELS,
    STATUSES,
    TRIAL_DIRECTIONS,
    TRUST_PRINCIPLES,
)
from tillit.bank._records import KpiLink
from tillit.errors import InvalidInputError

__all__ = [
    "EXAMPLE_FIELDS",
    "TRIAL_FIELDS",
    "clean_data_through",
    "clean_example",
    "clean_text",
    "clean_trial",
    "field_error",
    "is_region_code",
]

# [0-9], not \d: \d also takes other scripts' digits ("N٠٠٩٤٥"), which are no Kolada ids.
KPI_ID = re.compile(r"^[A-Z][0-9]{5}$")
MUNICIPALITY_CODE = re.compile(r"^[0-9]{4}$")
_WHOLE = re.compile(r"[+-]?[0-9]{1,18}")
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
_OPTIONAL_TEXTS = {"operating_area": 200, "source": 500, "source_name": 200, "source_url": 1000}
_MAX_TEXT = 100_000

#: Every key ``create_example``/``update_example`` accept.
EXAMPLE_FIELDS: tuple[str, ...] = (
    "organisation",
    *_TEXTS,
    *_OPTIONAL_TEXTS,
    "period_start",
    "period_end",
    "status",
    "kind",
    "tags",
    "principles",
    "kpis",
)


#: What a person calls a field (its key stays in ``error.field`` and the API's ``fields``).
FIELD_NAMES: dict[str, str] = {
    "organisation": "organisation",
    "organisation_id": "organisation",
    "title": "rubrik",
    "summary": "sammanfattning",
    "problem": "problem",
    "what_was_done": "vad som gjordes",
    "results": "resultat",
    "contact_role": "kontaktroll",
    "operating_area": "verksamhetsområde",
    "source": "källa",
    "source_name": "källans namn",
    "source_url": "källans webbadress",
    "period_start": "startår",
    "period_end": "slutår",
    "status": "status",
    "kind": "slag",
    "tags": "taggar",
    "principles": "tillitsprinciper",
    "kpis": "nyckeltal",
    "kpi": "nyckeltal",
    "municipality": "kommun eller region",
    "year_from": "från år",
    "year_to": "till år",
    "direction": "väntad riktning",
    "description": "beskrivning",
    "start_year": "startår",
    "example_id": "gott exempel",
    "data_through": "data till och med",
}


def field_name(field: str) -> str:
    """A field's path in words: "kpis[0].municipality" → "nyckeltal nr 1, kommun"."""

    def part(segment: str) -> str:
        name, _, index = segment.partition("[")
        label = FIELD_NAMES.get(name, name)
        return f"{label} nr {int(index.rstrip(']')) + 1}" if index.rstrip("]").isdigit() else label

    return ", ".join(part(s) for s in field.split("."))


def _bad(field: str, message: str, hint: str | None = None) -> InvalidInputError:
    error = InvalidInputError(f"Fältet {field_name(field)!r}: {message}", hint=hint)
    error.field = field  # type: ignore[attr-defined]
    return error


def field_error(field: str, message: str, hint: str | None = None) -> InvalidInputError:
    """The InvalidInputError for a bad ``field`` (its name also in ``error.field``)."""
    return _bad(field, message, hint)


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
    url = out.get("source_url")
    if url and not url.startswith(("https://", "http://")):
        raise _bad("source_url", f"{url!r} är ingen webbadress.", "Börja med https://.")
    if "kind" in data or creating:
        kind = data.get("kind") or "example"
        if kind not in EXAMPLE_KINDS:
            raise _bad(
                "kind",
                f"{kind!r} är inget känt slag av text.",
                "Använd " + ", ".join(f"{k} ({KIND_LABELS[k]})" for k in EXAMPLE_KINDS) + ".",
            )
        out["kind"] = kind
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


# -- trials ------------------------------------------------------------------------------

TRIAL_YEARS = (1990, 2100)
#: Every key ``register_trial`` accepts; ``update_trial`` accepts ``TRIAL_EDITABLE``.
TRIAL_FIELDS: tuple[str, ...] = (
    "organisation_id",
    "municipality",
    "title",
    "description",
    "start_year",
    "kpis",
    "example_id",
)
TRIAL_EDITABLE: tuple[str, ...] = ("title", "description", "start_year", "kpis", "example_id")


def _whole(field: str, value: Any) -> int:
    """A whole number given as an int or as digits (a form sends text)."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise _bad(field, "ska vara ett heltal.")
    if isinstance(value, str) and not _WHOLE.fullmatch(value.strip()):
        # ASCII digits only: int() would also take "٢٠٢١" and "２０２１".
        raise _bad(field, f"{value!r} är inget heltal.")
    return int(value)


def _trial_year(field: str, value: Any, years: tuple[int, int]) -> int:
    if value is None or value == "":
        raise _bad(field, "saknas.", "Ange ett årtal, t.ex. 2021.")
    year = _whole(field, value)
    if not years[0] <= year <= years[1]:
        raise _bad(field, f"{year} ligger utanför {years[0]}–{years[1]}.")
    return year


#: Kolada's code for the whole country: a trial is a municipality's or a region's, never Riket's.
RIKET = "0000"


def is_region_code(code: str) -> bool:
    """Kolada writes a region (a county's region, 0001–0025) with two leading zeros and a
    municipality with its four-digit code (0114–2584): the bank tells them apart by code,
    as it knows nothing of the store's catalogue."""
    return code.startswith("00") and code != RIKET


def _municipality(field: str, value: Any) -> str:
    """A trial's unit: a municipality's or a region's four-digit Kolada code."""
    code = value.strip() if isinstance(value, str) else value
    if not isinstance(code, str) or not MUNICIPALITY_CODE.match(code):
        raise _bad(
            field,
            f"{value!r} är ingen kommun- eller regionkod.",
            "Ange Koladas fyrsiffriga kod, t.ex. 1480 för Göteborg eller 0013 för Region Halland.",
        )
    if code == RIKET:
        raise _bad(
            field,
            "0000 är hela landet (Riket), ingen kommun eller region.",
            "Ett försök görs i en kommun eller en region: ange dess kod.",
        )
    return code


def _kpi_id(field: str, value: Any) -> str:
    kpi = value.strip().upper() if isinstance(value, str) else value
    if not isinstance(kpi, str) or not KPI_ID.match(kpi):
        raise _bad(field, f"{value!r} är inget nyckeltals-id.", "T.ex. N15419.")
    return kpi


def _trial_kpis(value: Any) -> list[tuple[str, str]]:
    """``[(kpi, direction), …]`` in the given order; at least one, no KPI twice."""
    if isinstance(value, str) or not isinstance(value, list | tuple):
        raise _bad("kpis", "ska vara en lista med nyckeltal och förväntad riktning.")
    if not value:
        raise _bad(
            "kpis",
            "ett försök ska ha minst ett nyckeltal.",
            "Ange vilka nyckeltal försöket väntas påverka och åt vilket håll.",
        )
    out: list[tuple[str, str]] = []
    for i, raw in enumerate(value):
        where = f"kpis[{i}]"
        if not isinstance(raw, Mapping):
            raise _bad(where, "ska vara ett objekt med kpi och direction.")
        unknown = sorted(set(raw) - {"kpi", "direction"})
        if unknown:
            raise _bad(
                f"{where}.{unknown[0]}", "är inget känt fält.", "Kända fält: kpi, direction."
            )
        kpi = _kpi_id(f"{where}.kpi", raw.get("kpi"))
        if any(kpi == seen for seen, _ in out):
            raise _bad(f"{where}.kpi", f"{kpi} finns redan i listan.")
        direction = raw.get("direction")
        direction = direction.strip().lower() if isinstance(direction, str) else direction
        if direction not in TRIAL_DIRECTIONS:
            raise _bad(
                f"{where}.direction",
                f"{raw.get('direction')!r} är ingen riktning.",
                "Använd increase (väntas öka) eller decrease (väntas minska).",
            )
        out.append((kpi, direction))
    return out


def clean_trial(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """The fields of a trial, checked and normalised. On register, ``municipality``,
    ``title``, ``description``, ``start_year`` and ``kpis`` are required; on update only
    the given fields are returned, and the municipality and owner cannot change."""
    if not isinstance(data, Mapping):
        raise InvalidInputError("Försöket ska vara ett objekt med fält.")
    allowed = TRIAL_FIELDS if creating else TRIAL_EDITABLE
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        if unknown[0] in TRIAL_FIELDS:
            raise _bad(
                unknown[0],
                "kan inte ändras på ett registrerat försök.",
                "Registrera ett nytt försök och ta bort det gamla.",
            )
        raise _bad(unknown[0], "är inget känt fält.", "Kända fält: " + ", ".join(allowed))
    out: dict[str, Any] = {}
    if creating:
        out["municipality"] = _municipality("municipality", data.get("municipality"))
        if data.get("organisation_id") is not None:
            out["organisation_id"] = _whole("organisation_id", data["organisation_id"])
    if "title" in data or creating:
        out["title"] = clean_text("title", data.get("title"), 200, required=True)
    if "description" in data or creating:
        out["description"] = clean_text("description", data.get("description"), None, required=True)
    if "start_year" in data or creating:
        out["start_year"] = _trial_year("start_year", data.get("start_year"), TRIAL_YEARS)
    if "kpis" in data or creating:
        out["kpis"] = _trial_kpis(data.get("kpis"))
    if "example_id" in data:
        raw = data["example_id"]
        out["example_id"] = None if raw is None or raw == "" else _whole("example_id", raw)
    elif creating:
        out["example_id"] = None
    return out


def clean_data_through(data_through: Mapping[str, int | None]) -> dict[str, int | None]:
    """``{KPI: last year with a value, or None}`` as the caller read it from the store; KPI
    ids are upper-cased."""
    if not isinstance(data_through, Mapping):
        raise InvalidInputError("data_through ska vara en mappning från nyckeltal till årtal.")
    out: dict[str, int | None] = {}
    for raw_kpi, year in data_through.items():
        kpi = _kpi_id(f"data_through[{raw_kpi!r}]", raw_kpi)
        where = f"data_through.{kpi}"
        out[kpi] = None if year is None else _trial_year(where, year, YEARS)
    return out
