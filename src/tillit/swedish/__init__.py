"""Tillit's Swedish: search terms (``_terms``) shared by every search, and the one voice in
which numbers, units and counted nouns are written to a person."""

from __future__ import annotations

from tillit.swedish._lix import lix
from tillit.swedish._numbers import (
    GROUP,
    MINUS,
    MISSING,
    UNIT_SPACE,
    change_unit,
    decimals_for,
    difference,
    distinguishing_decimals,
    interval,
    kpi_unit,
    money,
    number,
    p_value,
    per_year,
    percent,
    share,
    side_by_side,
    with_unit,
)
from tillit.swedish._terms import TERMS_VERSION, fold, lemma, prime, term, word_terms
from tillit.swedish._words import (
    DATASETS,
    NOUNS,
    ROW_COUNTS,
    count,
    count_of,
    dataset,
    kpi_label,
    plural,
)

__all__ = [
    "DATASETS",
    "GROUP",
    "MINUS",
    "MISSING",
    "NOUNS",
    "ROW_COUNTS",
    "TERMS_VERSION",
    "UNIT_SPACE",
    "change_unit",
    "count",
    "count_of",
    "dataset",
    "decimals_for",
    "difference",
    "distinguishing_decimals",
    "fold",
    "interval",
    "kpi_label",
    "kpi_unit",
    "lemma",
    "lix",
    "money",
    "number",
    "p_value",
    "per_year",
    "percent",
    "plural",
    "prime",
    "share",
    "side_by_side",
    "term",
    "with_unit",
    "word_terms",
]
