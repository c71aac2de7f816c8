"""Validation of Kolada payloads: JSON in, plain records and columnar value batches out.

Every field we keep is checked; a payload that does not fit raises KoladaPayloadError naming
the URL and the field. Known differences of the older v2 API (``auspices``, an integer
``is_divided_by_gender``, ``ou_publication_date``) and unknown extra fields are accepted with
a :class:`KoladaSchemaDriftWarning` instead of a crash.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tillit.errors import KoladaPayloadError

__all__ = [
    "METADATA_FIELDS",
    "KoladaSchemaDriftWarning",
    "ValueBatch",
    "parse_envelope",
    "parse_metadata",
    "parse_values",
]

GENDERS = frozenset({"T", "K", "M"})


class KoladaSchemaDriftWarning(UserWarning):
    """Kolada sent a field we know from another API version, or one we do not know at all."""


METADATA_FIELDS: dict[str, tuple[str, ...]] = {
    "kpi": (
        "id",
        "title",
        "description",
        "is_divided_by_gender",
        "municipality_type",
        "auspice",
        "operating_area",
        "perspective",
        "prel_publication_date",
        "publication_date",
        "publ_period",
        "has_ou_data",
    ),
    "municipality": ("id", "title", "type"),
    "ou": ("id", "municipality", "title"),
    "kpi_groups": ("id", "title", "members"),
    "municipality_groups": ("id", "title", "members"),
}
"""The fields kept for each metadata endpoint, in v3 naming."""

# v2 name -> v3 name (None: dropped in v3).
_RENAMED: dict[str, dict[str, str | None]] = {
    "kpi": {"auspices": "auspice", "ou_publication_date": None},
}
_BOOL_FIELDS = {"kpi": ("is_divided_by_gender", "has_ou_data")}
_REQUIRED = ("id", "title")


def _fail(url: str, field_path: str, problem: str) -> KoladaPayloadError:
    return KoladaPayloadError(
        f"Oväntat svar från Kolada: fältet {field_path} {problem} ({url}).",
        url=url,
        field=field_path,
        hint="Inget lagrat har ändrats. Försök igen senare; om felet består har Koladas API "
        "ändrats – rapportera det med adressen ovan.",
    )


class _DriftNotes:
    """Collects drift notices while parsing and warns once per notice."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.seen: set[str] = set()

    def note(self, text: str) -> None:
        if text not in self.seen:
            self.seen.add(text)
            warnings.warn(f"{text} ({self.url})", KoladaSchemaDriftWarning, stacklevel=4)


def parse_envelope(payload: Any, url: str) -> tuple[list[Any], str | None]:
    """Check a page envelope ``{"count", "values", "next_url"}``; return (values, next_url).

    ``count`` is the number of rows on this page (v3 has no total). A missing, null or empty
    ``next_url`` ends the paging.
    """
    if not isinstance(payload, dict):
        raise _fail(url, "(svaret)", "är inte ett JSON-objekt")
    values = payload.get("values")
    if not isinstance(values, list):
        raise _fail(url, "values", "saknas eller är inte en lista")
    count = payload.get("count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool)):
        raise _fail(url, "count", "är inte ett heltal")
    if count is not None and count != len(values):
        raise _fail(url, "count", f"säger {count} rader men sidan har {len(values)}")
    next_url = payload.get("next_url")
    if next_url is not None and not isinstance(next_url, str):
        raise _fail(url, "next_url", "är inte en text")
    if "next_page" in payload and "next_url" not in payload:
        _DriftNotes(url).note("Fältet next_page (Kolada v2) följs inte; Tillit läser next_url")
    return values, (next_url or None)


def _as_bool(value: Any, url: str, path: str, drift: _DriftNotes, name: str) -> bool | None:
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        drift.note(f"Fältet {name} är ett heltal (Kolada v2), inte sant/falskt")
        return bool(value)
    raise _fail(url, path, "är inte sant/falskt")


def _as_text(value: Any, url: str, path: str) -> str | None:
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    raise _fail(url, path, "är inte en text")


def _members(value: Any, url: str, path: str) -> list[dict[str, str | None]]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise _fail(url, path, "är inte en lista")
    out: list[dict[str, str | None]] = []
    for j, member in enumerate(value):
        if not isinstance(member, dict) or not isinstance(member.get("member_id"), str):
            raise _fail(url, f"{path}[{j}].member_id", "saknas eller är inte en text")
        out.append(
            {
                "member_id": member["member_id"],
                "member_title": _as_text(member.get("member_title"), url, f"{path}[{j}]"),
            }
        )
    return out


def parse_metadata(kind: str, rows: Iterable[Any], url: str) -> list[dict[str, Any]]:
    """Validate metadata rows of one endpoint (``kpi``, ``municipality``, ``ou``, ``kpi_groups``,
    ``municipality_groups``) and return them with exactly the fields of METADATA_FIELDS[kind]."""
    keep = METADATA_FIELDS[kind]
    renamed = _RENAMED.get(kind, {})
    bools = _BOOL_FIELDS.get(kind, ())
    drift = _DriftNotes(url)
    out: list[dict[str, Any]] = []
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise _fail(url, f"values[{i}]", "är inte ett objekt")
        record: dict[str, Any] = dict.fromkeys(keep)
        for key, value in row.items():
            name: str | None = key
            if key in renamed:
                name = renamed[key]
                drift.note(
                    f"Fältet {key} (Kolada v2) "
                    + (f"läses som {name}" if name else "finns inte i v3 och hoppas över")
                )
            elif key not in record:
                drift.note(f"Okänt fält {key} i {kind} hoppas över")
                continue
            if name is None:
                continue
            path = f"values[{i}].{key}"
            if name in bools:
                record[name] = _as_bool(value, url, path, drift, key)
            elif name == "members":
                record[name] = _members(value, url, path)
            else:
                record[name] = _as_text(value, url, path)
        for name in _REQUIRED:
            if not record.get(name):
                raise _fail(url, f"values[{i}].{name}", "saknas")
        if kind == "municipality" and not _is_unit_code(record["id"]):
            raise _fail(url, f"values[{i}].id", "är inte en fyrsiffrig kod")
        if "members" in record and record["members"] is None:
            record["members"] = []
        out.append(record)
    return out


def _is_unit_code(code: str) -> bool:
    return len(code) == 4 and code.isascii() and code.isdigit()


@dataclass
class ValueBatch:
    """Values of one page, column by column. ``unit`` is a municipality code or an OU id.

    ``deleted[i]`` marks a row Kolada flagged ``isdeleted``: the stored value must go.
    """

    url: str
    kpi: list[str] = field(default_factory=list)
    unit: list[str] = field(default_factory=list)
    period: list[int] = field(default_factory=list)
    gender: list[str] = field(default_factory=list)
    value: list[float | None] = field(default_factory=list)
    count: list[int | None] = field(default_factory=list)
    status: list[str | None] = field(default_factory=list)
    deleted: list[bool] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.kpi)


def _number_or_none(value: Any) -> float | None:
    """Kolada's value: a finite number, or null for a missing value."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError
    number = float(value)
    if not math.isfinite(number):
        raise TypeError
    return number


def parse_values(rows: list[Any], url: str, *, unit_key: str = "municipality") -> ValueBatch:
    """Validate data rows ``{kpi, <unit_key>, period, values: [{gender, count, status, value}]}``
    (plus optional ``isdeleted`` on the row or a value) into a :class:`ValueBatch`.

    A municipality code given as a number is zero-padded back to four digits.
    """
    batch = ValueBatch(url=url)
    kpis, units, periods, genders = batch.kpi, batch.unit, batch.period, batch.gender
    values, counts, statuses, deleted = batch.value, batch.count, batch.status, batch.deleted
    check_unit: Callable[[str], bool] = (
        _is_unit_code if unit_key == "municipality" else (lambda u: bool(u))
    )
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise _fail(url, f"values[{i}]", "är inte ett objekt")
        kpi = row.get("kpi")
        if not isinstance(kpi, str) or not kpi:
            raise _fail(url, f"values[{i}].kpi", "saknas eller är inte en text")
        unit = row.get(unit_key)
        if isinstance(unit, int) and not isinstance(unit, bool) and unit_key == "municipality":
            unit = f"{unit:04d}"
        if not isinstance(unit, str) or not check_unit(unit):
            raise _fail(url, f"values[{i}].{unit_key}", "saknas eller är ingen giltig kod")
        period = row.get("period")
        if isinstance(period, str) and period.isascii() and period.isdigit():
            period = int(period)
        if not isinstance(period, int) or isinstance(period, bool) or not 1900 <= period <= 2200:
            raise _fail(url, f"values[{i}].period", "är inte ett årtal")
        row_deleted = row.get("isdeleted") is True
        inner = row.get("values")
        if inner is None and row_deleted:
            inner = []
        if not isinstance(inner, list):
            raise _fail(url, f"values[{i}].values", "saknas eller är inte en lista")
        if row_deleted and not inner:
            # A deleted row without values removes every gender of that key.
            for g in ("T", "K", "M"):
                kpis.append(kpi)
                units.append(unit)
                periods.append(period)
                genders.append(g)
                values.append(None)
                counts.append(None)
                statuses.append(None)
                deleted.append(True)
            continue
        for j, item in enumerate(inner):
            if not isinstance(item, Mapping):
                raise _fail(url, f"values[{i}].values[{j}]", "är inte ett objekt")
            gender = item.get("gender")
            if gender not in GENDERS:
                raise _fail(url, f"values[{i}].values[{j}].gender", "är inte T, K eller M")
            try:
                number = _number_or_none(item.get("value"))
            except TypeError:
                raise _fail(url, f"values[{i}].values[{j}].value", "är inte ett tal") from None
            count = item.get("count")
            if count is not None and (
                not isinstance(count, int) or isinstance(count, bool) or abs(count) >= 2**63
            ):
                raise _fail(url, f"values[{i}].values[{j}].count", "är inte ett heltal")
            status = item.get("status")
            if status is not None and not isinstance(status, str):
                raise _fail(url, f"values[{i}].values[{j}].status", "är inte en text")
            kpis.append(kpi)
            units.append(unit)
            periods.append(period)
            genders.append(gender)
            values.append(number)
            counts.append(count)
            statuses.append(status or None)
            deleted.append(row_deleted or item.get("isdeleted") is True)
    return batch
