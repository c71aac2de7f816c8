"""Tillit's Swedish: search terms (``_terms``) shared by every search, and the one voice in
which numbers, units and counted nouns are written to a person."""

from __future__ import annotations

from tillit.swedish._numbers import (
    GROUP,
    MINUS,
    MISSING,
    UNIT_SPACE,
    decimals_for,
    difference,
    distinguishing_decimals,
    interval,
    kpi_unit,
    money,
    number,
    per_year,
    percent,
    share,
    side_by_side,
    with_unit,
)
from tillit.swedish._terms import fold, term
from tillit.swedish._words import NOUNS, count, count_of, kpi_label, plural

__all__ = [
    "GROUP",
    "MINUS",
    "MISSING",
    "NOUNS",
    "UNIT_SPACE",
    "count",
    "count_of",
    "decimals_for",
    "difference",
    "distinguishing_decimals",
    "fold",
    "interval",
    "kpi_label",
    "kpi_unit",
    "money",
    "number",
    "per_year",
    "percent",
    "plural",
    "share",
    "side_by_side",
    "term",
    "with_unit",
]
