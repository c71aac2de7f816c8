"""A report's tables as data: each table of the yearly and national reports is built
once here, and the HTML (its data tables under each chart), the Excel workbook (one
sheet a table) and the JSON twin all render that one value, so that no surface can
show a number differently."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

__all__ = ["Column", "ReportTable", "table"]

#: How a column's cells are to be shown: text, a number (with ``decimals`` if given), a
#: share in per cent already multiplied (0–100), a year, or a code (a Kolada id kept as
#: text so that "0114" keeps its zero).
ColumnKind = Literal["text", "number", "percent", "year", "code"]


@dataclass(frozen=True)
class Column:
    """One column: its key in the JSON rows, its Swedish heading and the unit of its
    numbers (shown in the heading: "Värde (%)"), or None for text."""

    key: str
    title: str
    unit: str | None = None
    kind: ColumnKind = "text"
    decimals: int | None = None

    @property
    def heading(self) -> str:
        return f"{self.title} ({self.unit})" if self.unit else self.title


@dataclass(frozen=True)
class ReportTable:
    """One table of a report. ``key`` is short, unique within the report and safe as a
    sheet name (at most 31 characters, none of ``[]:*?/\\``); ``source`` names where every
    number comes from ("Källa: Kolada, nyckeltal N15419, N15428; år 2022; Tillits
    beräkningar"); ``note`` explains a column or what is left out. A cell is None where
    there is no value."""

    key: str
    title: str
    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]
    source: str
    note: str | None = None

    def __post_init__(self) -> None:
        if len(self.key) > 31 or any(c in self.key for c in "[]:*?/\\"):
            raise ValueError(f"table key {self.key!r} is not a valid sheet name")
        for row in self.rows:
            if len(row) != len(self.columns):
                raise ValueError(
                    f"table {self.key!r}: a row has {len(row)} cells, not {len(self.columns)}"
                )

    def records(self) -> list[dict[str, Any]]:
        """The rows as JSON objects keyed by column."""
        keys = [c.key for c in self.columns]
        return [dict(zip(keys, row, strict=True)) for row in self.rows]

    def data(self) -> dict[str, Any]:
        """The table as JSON: title, columns (with units), rows, source and note."""
        return {
            "key": self.key,
            "title": self.title,
            "columns": [
                {"key": c.key, "title": c.title, "unit": c.unit, "kind": c.kind}
                for c in self.columns
            ],
            "rows": self.records(),
            "source": self.source,
            "note": self.note,
        }


def table(
    key: str,
    title: str,
    columns: Sequence[Column],
    rows: Sequence[Sequence[Any]],
    source: str,
    note: str | None = None,
) -> ReportTable:
    """A :class:`ReportTable` from lists."""
    return ReportTable(key, title, tuple(columns), tuple(tuple(r) for r in rows), source, note)
