"""A goal's fields checked before anything is written, and the records the bank returns for
goals. A bad field raises :class:`InvalidInputError` naming it (``error.field``); nothing is
stored."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from tillit.bank._models import GOAL_DIRECTIONS, GOAL_GENDERS
from tillit.errors import InvalidInputError
from tillit.swedish import number

__all__ = [
    "GOAL_EDITABLE",
    "GOAL_FIELDS",
    "INDICATOR_FIELDS",
    "MAX_INDICATORS",
    "GoalIndicatorRecord",
    "GoalLink",
    "GoalRecord",
    "GoalRevisionRecord",
    "TargetChange",
    "clean_goal",
    "clean_goal_indicators",
]

#: Every key ``Goals.create_goal`` accepts; ``update_goal`` accepts ``GOAL_EDITABLE``.
GOAL_FIELDS: tuple[str, ...] = (
    "organisation",
    "title",
    "description",
    "political_level",
    "indicators",
    "trial_ids",
    "example_ids",
)
GOAL_EDITABLE: tuple[str, ...] = (
    "title",
    "description",
    "political_level",
    "indicators",
    "trial_ids",
    "example_ids",
    "note",
)
#: The keys of one indicator (``gender`` defaults to T, ``interim`` to none).
INDICATOR_FIELDS: tuple[str, ...] = (
    "kpi",
    "gender",
    "baseline_year",
    "baseline_value",
    "target_value",
    "target_year",
    "direction",
    "interim",
)
#: A goal is about a few indicators; the "few goals" note counts goals, this caps one goal.
MAX_INDICATORS = 10
YEARS = (1990, 2100)
_KPI_ID = re.compile(r"^[A-Z][0-9]{5}$")
_WHOLE = re.compile(r"[+-]?[0-9]{1,18}")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:[.,][0-9]*)?|[.,][0-9]+)(?:[eE][+-]?[0-9]+)?")
_TEXTS = {"title": 300, "description": 100_000, "political_level": 200, "note": 2_000}
_NAMES = {
    "organisation": "organisation",
    "title": "titel",
    "description": "beskrivning",
    "political_level": "politisk nivå",
    "indicators": "indikator",
    "trial_ids": "försök",
    "example_ids": "goda exempel",
    "note": "motivering",
    "kpi": "nyckeltal",
    "gender": "kön",
    "baseline_year": "basår",
    "baseline_value": "basvärde",
    "target_value": "målvärde",
    "target_year": "målår",
    "direction": "riktning",
    "interim": "delmål",
}


def _label(field: str) -> str:
    """A field's path in words: "indicators[1].target_value" → "indikator nr 2, målvärde"."""
    parts = []
    for segment in field.split("."):
        name, _, index = segment.partition("[")
        label = _NAMES.get(name, name)
        number = index.rstrip("]")
        parts.append(f"{label} nr {int(number) + 1}" if number.isdigit() else label)
    return ", ".join(parts)


def goal_field_error(field: str, message: str, hint: str | None = None) -> InvalidInputError:
    """The InvalidInputError for a bad ``field`` of a goal (its path also in ``error.field``)."""
    error = InvalidInputError(f"Fältet {_label(field)!r}: {message}", hint=hint)
    error.field = field  # type: ignore[attr-defined]
    return error


def _text(field: str, value: Any, *, required: bool = False) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise goal_field_error(field, "ska vara text.")
    text = value.strip()
    if required and not text:
        raise goal_field_error(field, "får inte vara tomt.")
    if "\x00" in text:
        raise goal_field_error(field, "får inte innehålla NUL-tecken.")
    limit = _TEXTS[field]
    if len(text) > limit:
        raise goal_field_error(field, f"är {len(text)} tecken långt; högst {limit} är tillåtet.")
    return text


def _whole(field: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise goal_field_error(field, "ska vara ett heltal.")
    if isinstance(value, str) and not _WHOLE.fullmatch(value.strip()):
        raise goal_field_error(field, f"{value!r} är inget heltal.")
    return int(value)


def _year(field: str, value: Any) -> int:
    if value is None or value == "":
        raise goal_field_error(field, "saknas.", "Ange ett årtal, t.ex. 2026.")
    year = _whole(field, value)
    if not YEARS[0] <= year <= YEARS[1]:
        raise goal_field_error(field, f"{year} ligger utanför {YEARS[0]}–{YEARS[1]}.")
    return year


def _number(field: str, value: Any) -> float:
    """A finite number, given as a number or as text with a decimal comma or point."""
    if value is None or value == "":
        raise goal_field_error(field, "saknas.", "Ange ett tal, t.ex. 85 eller 12,5.")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise goal_field_error(field, "ska vara ett tal.")
    if isinstance(value, str):
        text = value.strip().replace("\u2212", "-").replace(" ", "").replace("\u00a0", "")
        if not _NUMBER.fullmatch(text):
            raise goal_field_error(field, f"{value!r} är inget tal.", "T.ex. 85 eller 12,5.")
        value = float(text.replace(",", "."))
    number = float(value)
    if not math.isfinite(number):
        raise goal_field_error(field, "ska vara ett ändligt tal.")
    return number


def _ids(field: str, value: Any) -> list[int]:
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise goal_field_error(field, "ska vara en lista med id:n.")
    ids = []
    for i, item in enumerate(value):
        number = _whole(f"{field}[{i}]", item)
        if not 1 <= number <= 2_147_483_647:
            raise goal_field_error(f"{field}[{i}]", f"{number} är inget id.")
        ids.append(number)
    return sorted(set(ids))


def _interim(field: str, value: Any, first: int, last: int) -> list[list[Any]]:
    """Interim targets as ``[[year, value], …]`` sorted by year; each given as a pair or as
    ``{"year", "value"}``, its year after the baseline year and before the target year."""
    if value is None:
        return []
    if not isinstance(value, list | tuple):
        raise goal_field_error(field, "ska vara en lista med delmål (år och värde).")
    out: dict[int, float] = {}
    for i, item in enumerate(value):
        where = f"{field}[{i}]"
        if isinstance(item, Mapping):
            year_raw, value_raw = item.get("year"), item.get("value")
        elif isinstance(item, list | tuple) and len(item) == 2:
            year_raw, value_raw = item
        else:
            raise goal_field_error(where, "ska ha år och värde, t.ex. [2024, 82].")
        year = _year(where, year_raw)
        if not first < year < last:
            raise goal_field_error(
                where,
                f"året {year} ligger inte mellan basåret {first} och målåret {last}.",
                "Ett delmål gäller ett år efter basåret och före målåret.",
            )
        if year in out:
            raise goal_field_error(where, f"året {year} har redan ett delmål.")
        out[year] = _number(where, value_raw)
    return [[year, out[year]] for year in sorted(out)]


def _indicator(index: int, item: Any) -> dict[str, Any]:
    where = f"indicators[{index}]"
    if not isinstance(item, Mapping):
        raise goal_field_error(where, "ska ha kpi, baseline_year, target_value, target_year …")
    unknown = sorted(set(item) - set(INDICATOR_FIELDS))
    if unknown:
        raise goal_field_error(
            where, f"okänt fält {unknown[0]!r}.", "Fälten är " + ", ".join(INDICATOR_FIELDS) + "."
        )
    kpi = item.get("kpi")
    kpi = kpi.strip().upper() if isinstance(kpi, str) else kpi
    if not isinstance(kpi, str) or not _KPI_ID.match(kpi):
        raise goal_field_error(f"{where}.kpi", f"{item.get('kpi')!r} är inget nyckeltals-id.")
    gender = item.get("gender") or "T"
    gender = gender.strip().upper() if isinstance(gender, str) else gender
    if gender not in GOAL_GENDERS:
        raise goal_field_error(
            f"{where}.gender", f"{item.get('gender')!r} är inget kön.", "Ange T, K eller M."
        )
    direction = item.get("direction")
    if direction not in GOAL_DIRECTIONS:
        raise goal_field_error(
            f"{where}.direction",
            f"{direction!r} är ingen riktning.",
            "Ange " + ", ".join(GOAL_DIRECTIONS) + ".",
        )
    baseline_year = _year(f"{where}.baseline_year", item.get("baseline_year"))
    target_year = _year(f"{where}.target_year", item.get("target_year"))
    if target_year <= baseline_year:
        raise goal_field_error(
            f"{where}.target_year",
            f"målåret {target_year} ska komma efter basåret {baseline_year}.",
        )
    baseline = _number(f"{where}.baseline_value", item.get("baseline_value"))
    target = _number(f"{where}.target_value", item.get("target_value"))
    if direction == "increase" and not target > baseline:
        raise goal_field_error(
            f"{where}.target_value",
            f"en ökning ska ha ett målvärde över basvärdet ({number(baseline)}), inte "
            f"{number(target)}.",
            "Välj riktningen at_least (minst) för att hålla en nivå.",
        )
    if direction == "decrease" and not target < baseline:
        raise goal_field_error(
            f"{where}.target_value",
            f"en minskning ska ha ett målvärde under basvärdet ({number(baseline)}), inte "
            f"{number(target)}.",
            "Välj riktningen at_most (högst) för att hålla en nivå.",
        )
    return {
        "kpi": kpi,
        "gender": gender,
        "baseline_year": baseline_year,
        "baseline_value": baseline,
        "target_value": target,
        "target_year": target_year,
        "direction": direction,
        "interim": _interim(f"{where}.interim", item.get("interim"), baseline_year, target_year),
    }


def clean_goal_indicators(value: Any) -> list[dict[str, Any]]:
    """A goal's indicators, each checked; at least one, at most MAX_INDICATORS, no KPI and
    gender twice."""
    if not isinstance(value, list | tuple) or not value:
        raise goal_field_error(
            "indicators",
            "ange minst en indikator (ett nyckeltal med mål).",
            "T.ex. kpi N15419, målvärde och målår.",
        )
    if len(value) > MAX_INDICATORS:
        raise goal_field_error(
            "indicators", f"{len(value)} indikatorer; högst {MAX_INDICATORS} per mål."
        )
    out = [_indicator(i, item) for i, item in enumerate(value)]
    seen: set[tuple[str, str]] = set()
    for i, ind in enumerate(out):
        key = (ind["kpi"], ind["gender"])
        if key in seen:
            raise goal_field_error(
                f"indicators[{i}].kpi", f"{key[0]} ({key[1]}) finns redan i målet."
            )
        seen.add(key)
    return out


def clean_goal(data: Mapping[str, Any], *, creating: bool) -> dict[str, Any]:
    """The checked fields of ``data``: all of them when creating (title and indicators
    required), those given when updating."""
    allowed = GOAL_FIELDS if creating else GOAL_EDITABLE
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise goal_field_error(
            unknown[0],
            "kan inte anges här." if unknown[0] in GOAL_FIELDS else "finns inte.",
            "Fälten är " + ", ".join(allowed) + ".",
        )
    fields: dict[str, Any] = {}
    for name in ("title", "description", "political_level", "note"):
        if name in data or (creating and name != "note"):
            fields[name] = _text(name, data.get(name), required=name == "title")
    if creating or "indicators" in data:
        fields["indicators"] = clean_goal_indicators(data.get("indicators"))
    for name in ("trial_ids", "example_ids"):
        if creating or name in data:
            fields[name] = _ids(name, data.get(name))
    if creating:
        organisation = data.get("organisation")
        if organisation is not None and (
            isinstance(organisation, bool) or not isinstance(organisation, int | str)
        ):
            raise goal_field_error("organisation", "ange organisationens kod eller id.")
        fields["organisation"] = organisation
    return fields


# -- records -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalIndicatorRecord:
    """One indicator of a goal: ``kpi`` for ``gender``, from ``baseline_value`` in
    ``baseline_year`` to ``target_value`` in ``target_year``."""

    kpi: str
    gender: str
    baseline_year: int
    baseline_value: float
    target_value: float
    target_year: int
    direction: str
    """``increase``, ``decrease``, ``at_least`` or ``at_most`` (GOAL_DIRECTIONS)."""
    interim: tuple[tuple[int, float], ...]
    """Interim targets (year, value), by year."""


@dataclass(frozen=True)
class GoalLink:
    """A trial or good example linked to a goal (only those the reader may see)."""

    id: int
    title: str


@dataclass(frozen=True)
class TargetChange:
    """One change of a target, as saved in version ``version`` at ``at`` by ``author``:
    ``field`` is ``target_value``, ``target_year``, ``direction``, ``interim``,
    ``baseline_year``, ``baseline_value``, ``gender``, or ``added``/``removed`` (a whole
    indicator; ``old``/``new`` then hold it)."""

    version: int
    at: datetime
    by: int | None
    author: str | None
    kpi: str
    gender: str
    field: str
    old: Any
    new: Any
    note: str


@dataclass(frozen=True)
class GoalRevisionRecord:
    """The goal as saved in ``version``, with the targets that version changed."""

    goal_id: int
    version: int
    created_at: datetime
    created_by: int | None
    author: str | None
    target_changes: tuple[TargetChange, ...]
    note: str
    data: dict[str, Any]


@dataclass(frozen=True)
class GoalRecord:
    """A goal (mål) of a municipality or a region."""

    id: int
    organisation_id: int
    organisation_code: str
    """The unit the indicators are read for: a municipality's or region's Kolada code."""
    organisation_name: str
    organisation_kind: str
    title: str
    description: str
    political_level: str
    indicators: tuple[GoalIndicatorRecord, ...]
    trials: tuple[GoalLink, ...]
    examples: tuple[GoalLink, ...]
    """Linked good examples the reader may see (a draft of another organisation is left
    out, so its existence does not leak)."""
    target_changes: tuple[TargetChange, ...]
    """Every change of a target since the goal was set, oldest first: stays visible."""
    created_at: datetime
    created_by: int | None
    updated_at: datetime
    updated_by: int | None
    version: int
