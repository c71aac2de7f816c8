"""The users' override files (polarity, eligibility): one CSV reader for both.

A file is CSV with a header row; ``;`` or ``,`` separates fields (whichever the header
uses), a byte-order mark is dropped, and blank lines and lines starting with ``#`` are
skipped. Errors name the file and the line, in Swedish."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass

from tillit.errors import InvalidInputError

_KPI_ID = re.compile(r"[A-Z][0-9]{5}")  # ASCII digits: "\d" takes other scripts' too


@dataclass(frozen=True)
class OverrideTable:
    columns: dict[str, int]
    """Each header cell (stripped, case-folded) -> its index."""
    delimiter: str
    rows: list[tuple[int, list[str]]]
    """(line number, cells) of each data row."""
    source: str

    def where(self, number: int) -> str:
        """ "FILE, rad N", for error messages."""
        return f"{self.source}, rad {number}"


def read_override_table(
    text: str, source: str, *, accepts: Callable[[set[str]], bool], needs: str, hint: str
) -> OverrideTable | None:
    """The table in ``text`` (None when it has no rows at all). A header that ``accepts``
    refuses raises :class:`InvalidInputError` saying it lacks ``needs``."""
    lines = [
        (number, line)
        for number, line in enumerate(text.removeprefix("\ufeff").splitlines(), start=1)
        if line.strip() and not line.lstrip().startswith("#")
    ]
    if not lines:
        return None
    header_number, header_line = lines[0]
    delimiter = ";" if ";" in header_line else ","
    header = [cell.strip().casefold() for cell in _cells(header_line, delimiter)]
    if not accepts(set(header)):
        raise InvalidInputError(
            f"{source}, rad {header_number}: rubrikraden saknar kolumnerna {needs} "
            f"(fick {header_line.strip()!r}).",
            hint=hint,
        )
    columns: dict[str, int] = {}
    for i, name in enumerate(header):
        columns.setdefault(name, i)
    rows = [(number, _cells(line, delimiter)) for number, line in lines[1:]]
    return OverrideTable(columns, delimiter, rows, source)


def checked_kpi(text: str, where: str) -> str:
    """``text`` as a KPI id in upper case, or :class:`InvalidInputError` naming ``where``."""
    kpi = text.strip().upper()
    if not _KPI_ID.fullmatch(kpi):
        raise InvalidInputError(
            f"{where}: {text.strip()!r} är inget nyckeltals-id.",
            hint="Ett Kolada-id är en bokstav och fem siffror, t.ex. N15507 eller U23401.",
        )
    return kpi


def _cells(line: str, delimiter: str) -> list[str]:
    return next(csv.reader([line], delimiter=delimiter))
