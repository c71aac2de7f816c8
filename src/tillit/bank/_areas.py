"""Kolada's operating area of an imported text, from its source's own category.

The table is ``tillit/bank/data/operating_areas.csv`` (documented in docs/bank.md): a
category maps to one of Kolada's operating areas, or to none when no area fits (an EU
programme such as "Kategat-Skagerrak", "Värde saknas"). A category the table does not list
also maps to none: a source's own category never becomes an operating area."""

from __future__ import annotations

import csv
import io
import re
from functools import cache
from importlib import resources

__all__ = ["area_table", "kolada_area"]

_NUMBER = re.compile(r"^\s*\d+[.)]?\s+")


def _key(category: str) -> str:
    return " ".join(_NUMBER.sub("", category).split()).casefold()


@cache
def area_table() -> dict[str, str | None]:
    """Folded source category -> Kolada operating area (None: no area fits)."""
    raw = resources.files("tillit.bank").joinpath("data/operating_areas.csv").read_text("utf-8")
    lines = [line for line in raw.splitlines() if not line.startswith("#")]
    table: dict[str, str | None] = {}
    for row in csv.DictReader(io.StringIO("\n".join(lines))):
        table[_key(row["source_area"])] = row["operating_area"].strip() or None
    return table


def kolada_area(category: str | None) -> str | None:
    """The Kolada operating area for a source's category; None when it has none, the
    table says none fits, or the table does not list it."""
    if not category or not category.strip():
        return None
    return area_table().get(_key(category))
