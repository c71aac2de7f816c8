"""The rejected-rows reports of imports and syncs: CSV files a person opens in a spreadsheet."""

from __future__ import annotations

import csv
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

__all__ = ["write_rejected"]

_BATCH = 10_000


def write_rejected(
    path: Path,
    header: Sequence[str],
    cursor: duckdb.DuckDBPyConnection,
    *,
    prefix: Sequence[Any] = (),
) -> int:
    """Write the rows of ``cursor`` (an executed query) after ``header`` to ``path``, each
    row preceded by ``prefix``; return the number of rows. Rows are fetched in batches."""
    path.parent.mkdir(parents=True, exist_ok=True)
    written = 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        while batch := cursor.fetchmany(_BATCH):
            writer.writerows([*prefix, *row] for row in batch)
            written += len(batch)
    return written
