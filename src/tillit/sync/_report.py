"""The rejected-rows reports of imports and syncs: CSV files a person opens in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

__all__ = ["neutralise", "write_rejected"]

_BATCH = 10_000
# A cell starting with one of these is a formula to a spreadsheet (=HYPERLINK(…) sends data away),
# so it gets a leading apostrophe, as OWASP's "CSV injection" advice says.
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(cell: Any) -> Any:
    """``cell`` made safe to open in a spreadsheet: text that starts like a formula gets a
    leading apostrophe (shown as text, never run); everything else is returned as it is."""
    if isinstance(cell, str) and cell.startswith(_FORMULA_STARTS):
        return "'" + cell
    return cell


def write_rejected(
    path: Path,
    header: Sequence[str],
    cursor: duckdb.DuckDBPyConnection,
    *,
    prefix: Sequence[Any] = (),
) -> int:
    """Write the rows of ``cursor`` (an executed query) after ``header`` to ``path``, each
    row preceded by ``prefix``; return the number of rows. Rows are fetched in batches, so a
    report of millions of rows never sits in memory, and every text cell is neutralised."""
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        while batch := cursor.fetchmany(_BATCH):
            writer.writerows([neutralise(c) for c in (*prefix, *row)] for row in batch)
            written += len(batch)
    return written
