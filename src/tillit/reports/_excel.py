"""A report's tables as an Excel workbook for analysts: a first sheet about the report
with links to every table, then one sheet a :class:`~tillit.query.ReportTable`.

Every sheet has the same shape so that a script can read any of them alike::

    row 1   the table's title (bold)
    row 2   its note, or empty
    row 3   the column headings, units in brackets ("Kostnad (kr/inv)"): an Excel table
    row 4…  the rows: numbers as numbers, years as integers, codes as text, no value empty
    …       one empty row, then the source ("Källa: …")

So ``pandas.read_excel(path, sheet_name=key, header=2, nrows=len(table.rows))`` gives
the data frame. The header is an Excel table object (with its filter buttons), which is
what screen readers and Excel's accessibility checker look for; its rows are frozen and
repeated on every printed page.

The bytes depend only on the arguments: the zip entries carry a fixed time, and the
workbook's created date is the one passed (none if none is)."""

from __future__ import annotations

import math
import numbers
import re
import unicodedata
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from io import BytesIO
from typing import Any
from zipfile import ZIP_DEFLATED, ZipFile, ZipInfo

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.hyperlink import Hyperlink
from openpyxl.worksheet.table import Table, TableStyleInfo
from openpyxl.worksheet.worksheet import Worksheet
from openpyxl.writer.excel import ExcelWriter

from tillit.query import Column, ReportTable
from tillit.swedish import decimals_for, number

__all__ = ["ABOUT_SHEET", "HEADER_ROW", "workbook"]

#: The first sheet's name.
ABOUT_SHEET = "Om rapporten"
#: The row (1-based) of every table sheet's column headings.
HEADER_ROW = 3

# Excel keeps this name for itself and refuses a sheet so named.
_RESERVED_SHEETS = frozenset({"history"})
# What makes Excel (or a program importing text) read a cell as a formula. openpyxl itself
# only turns "=…" into a formula, but a person who edits such a cell gets one, unless the
# cell is marked as text typed with a leading apostrophe (quotePrefix).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Excel's limit on the characters in one cell.
_MAX_CELL_CHARS = 32767
# Column widths in characters: from the longest content, within these bounds.
_MIN_WIDTH, _MAX_WIDTH = 8, 50
# The zip entries' time (the zip format's epoch), so that equal workbooks are equal bytes.
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_TABLE_STYLE = "TableStyleMedium2"

_BOLD = Font(bold=True)
_TITLE = Font(bold=True, size=14)
_HEADING = Font(bold=True, size=12)
_HEADER_ALIGNMENT = Alignment(wrap_text=True, vertical="top")
_HEADER_BORDER = Border(bottom=Side(style="thin"))


def workbook(
    tables: Sequence[ReportTable],
    *,
    title: str,
    subtitle: str | None = None,
    about: Sequence[tuple[str, str]] = (),
    created: datetime | None = None,
) -> bytes:
    """The .xlsx bytes of ``tables``: a sheet "Om rapporten" with ``title``, ``subtitle``,
    the ``about`` pairs (("Kommun", "Kungsbacka (1384)"), ("Källa", "Kolada …")) and a
    linked list of the sheets, then one sheet a table, named by its key, in the order given.

    ``created`` (naive UTC) is recorded as the workbook's created and modified date; without
    it the workbook has no date, and the same arguments always give the same bytes.

    Raises ValueError when two tables' keys name the same sheet (Excel ignores case), when
    a key is empty, reserved or the first sheet's name, or when a number, percent or year
    column holds a value that is not a number."""
    _check_keys(tables)
    book = Workbook()
    about_sheet = book.active
    assert about_sheet is not None  # a new workbook has its one sheet
    about_sheet.title = ABOUT_SHEET
    table_names = _TableNames()
    _write_about(about_sheet, tables, title, subtitle, about, table_names)
    for report_table in tables:
        _write_table(book.create_sheet(report_table.key), report_table, table_names)

    props = book.properties
    props.title = _clean(title)
    props.subject = _clean(subtitle) if subtitle else None
    props.creator = "Tillit"
    props.language = "sv-SE"
    # openpyxl cannot leave the dates out; without ``created`` _save removes them.
    props.created = props.modified = created or datetime(*_ZIP_TIME)
    return _save(book, dated=created is not None)


def _check_keys(tables: Sequence[ReportTable]) -> None:
    seen = {ABOUT_SHEET.casefold(): ABOUT_SHEET}
    for report_table in tables:
        key = report_table.key
        if not key.strip() or key.startswith("'") or key.endswith("'"):
            raise ValueError(f"table key {key!r} is not a valid sheet name")
        if key.casefold() in _RESERVED_SHEETS:
            raise ValueError(f"table key {key!r} is a sheet name Excel keeps for itself")
        if key.casefold() in seen:
            raise ValueError(f"table key {key!r} names the same sheet as {seen[key.casefold()]!r}")
        seen[key.casefold()] = key


# --- cells --------------------------------------------------------------------------


def _clean(text: str) -> str:
    """``text`` as Excel can hold it: without control characters, within a cell's limit."""
    cleaned: str = ILLEGAL_CHARACTERS_RE.sub("", text)
    return cleaned[:_MAX_CELL_CHARS]


def _put_text(cell: Cell, text: str) -> None:
    """``text`` in ``cell`` as a string, never as a formula or an error value, whatever it
    begins with ("=HYPERLINK(…)", "-5", "#N/A")."""
    text = _clean(text)
    cell.value = text
    cell.data_type = "s"
    if text.startswith(_FORMULA_START):
        cell.quotePrefix = True


def _finite(value: Any) -> float | int | None:
    """A number cell's value: None for None, NaN and ±∞ (an empty cell)."""
    if value is None:
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, numbers.Real | Decimal) and not isinstance(value, bool):
        x = float(value)
        return x if math.isfinite(x) else None
    if value != value:  # pandas.NA, NaT and other not-a-number markers
        return None
    raise TypeError


def _year(value: Any) -> int | None:
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    x = _finite(value)
    if x is None:
        return None
    if float(x).is_integer():
        return int(x)
    raise TypeError


def _cell_value(column: Column, value: Any) -> float | int | str | None:
    """The value a cell of ``column`` holds; TypeError when it does not fit the kind."""
    if value is None:
        return None
    if column.kind in ("number", "percent"):
        return _finite(value)
    if column.kind == "year":
        return _year(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)


def _number_format(column: Column, values: Sequence[float | int | str | None]) -> str:
    """The column's number format. Excel stores formats with "," for the thousands and "."
    for the decimals and shows them in the reader's locale: "1 234,5" in Swedish Excel
    ("# ##0" would be a literal space, not the locale's separator)."""
    if column.kind == "year":
        return "0"
    if column.kind in ("text", "code"):
        return "@"
    decimals = column.decimals
    if decimals is None:
        decimals = decimals_for([v for v in values if isinstance(v, int | float)])
    return "#,##0" + ("." + "0" * decimals if decimals > 0 else "")


def _shown(column: Column, value: float | int | str | None) -> str:
    """About what Excel shows for ``value``: for the column's width."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if column.kind == "year":
        return str(value)
    return number(value, column.decimals)


def _width(texts: Sequence[str], most: int = _MAX_WIDTH) -> float:
    longest = max((len(line) for text in texts for line in text.splitlines()), default=0)
    return float(min(max(longest + 2, _MIN_WIDTH), most))


# --- sheets -------------------------------------------------------------------------


class _TableNames:
    """Unique Excel table names ("Tabell_kostnader"): letters, digits and "_" of ASCII,
    beginning with a letter, so that no name looks like a cell reference."""

    def __init__(self) -> None:
        self._used: set[str] = set()

    def __call__(self, key: str) -> str:
        ascii_key = unicodedata.normalize("NFKD", key).encode("ascii", "ignore").decode("ascii")
        base = "Tabell_" + re.sub(r"[^A-Za-z0-9_]", "_", ascii_key)
        name, n = base, 1
        while name.casefold() in self._used:
            n += 1
            name = f"{base}_{n}"
        self._used.add(name.casefold())
        return name


def _unique_headings(headings: Sequence[str]) -> list[str]:
    """``headings`` made non-empty and unique (Excel compares them without case), as an
    Excel table needs: an empty one becomes "Kolumn 3", a repeated one gets " (2)"."""
    used: set[str] = set()
    unique = []
    for i, heading in enumerate(headings, start=1):
        base = " ".join(_clean(heading).split()) or f"Kolumn {i}"
        name, n = base, 1
        while name.casefold() in used:
            n += 1
            name = f"{base} ({n})"
        used.add(name.casefold())
        unique.append(name)
    return unique


def _add_table(sheet: Worksheet, name: str, first_row: int, last_row: int, n_columns: int) -> None:
    """An Excel table over ``first_row`` (the header) to ``last_row``: Excel needs at least
    one row under the header, so an empty table gets one empty row."""
    ref = f"A{first_row}:{get_column_letter(n_columns)}{max(last_row, first_row + 1)}"
    excel_table = Table(displayName=name, ref=ref)
    excel_table.tableStyleInfo = TableStyleInfo(name=_TABLE_STYLE, showRowStripes=True)
    sheet.add_table(excel_table)


def _write_header(sheet: Worksheet, row: int, headings: Sequence[str]) -> None:
    for col, heading in enumerate(headings, start=1):
        cell = sheet.cell(row=row, column=col)
        _put_text(cell, heading)
        cell.font = _BOLD
        cell.alignment = _HEADER_ALIGNMENT
        cell.border = _HEADER_BORDER


def _write_table(sheet: Worksheet, report_table: ReportTable, table_names: _TableNames) -> None:
    columns = report_table.columns
    _put_text(sheet.cell(row=1, column=1), report_table.title)
    sheet.cell(row=1, column=1).font = _HEADING
    if report_table.note:
        _put_text(sheet.cell(row=2, column=1), report_table.note)

    headings = _unique_headings([c.heading for c in columns])
    _write_header(sheet, HEADER_ROW, headings)

    by_column: list[list[float | int | str | None]] = [[] for _ in columns]
    for row in report_table.rows:
        for j, (column, value) in enumerate(zip(columns, row, strict=True)):
            try:
                by_column[j].append(_cell_value(column, value))
            except TypeError:
                raise ValueError(
                    f"table {report_table.key!r}, column {column.key!r} ({column.kind}): "
                    f"{value!r} is not a number"
                ) from None
    for j, (column, values) in enumerate(zip(columns, by_column, strict=True), start=1):
        number_format = _number_format(column, values)
        for i, value in enumerate(values, start=HEADER_ROW + 1):
            if value is None:
                continue  # no value: an empty cell, never "nan" or "–"
            cell = sheet.cell(row=i, column=j)
            if isinstance(value, str):
                _put_text(cell, value)
            else:
                cell.value = value
            cell.number_format = number_format
        letter = get_column_letter(j)
        sheet.column_dimensions[letter].width = _width(
            [headings[j - 1], *(_shown(column, v) for v in values)]
        )

    last_row = HEADER_ROW + max(len(report_table.rows), 1)
    if columns:
        _add_table(sheet, table_names(report_table.key), HEADER_ROW, last_row, len(columns))
    source = report_table.source.strip()
    if not source.casefold().startswith("källa"):
        source = f"Källa: {source}"
    _put_text(sheet.cell(row=last_row + 2, column=1), source)

    sheet.freeze_panes = f"A{HEADER_ROW + 1}"
    sheet.print_title_rows = f"{HEADER_ROW}:{HEADER_ROW}"
    sheet.sheet_properties.pageSetUpPr.fitToPage = True
    sheet.page_setup.fitToHeight = 0


def _write_about(
    sheet: Worksheet,
    tables: Sequence[ReportTable],
    title: str,
    subtitle: str | None,
    about: Sequence[tuple[str, str]],
    table_names: _TableNames,
) -> None:
    _put_text(sheet.cell(row=1, column=1), title)
    sheet.cell(row=1, column=1).font = _TITLE
    row = 2
    if subtitle:
        _put_text(sheet.cell(row=row, column=1), subtitle)
        row += 1
    row += 1
    for label, value in about:
        _put_text(sheet.cell(row=row, column=1), label)
        sheet.cell(row=row, column=1).font = _BOLD
        _put_text(sheet.cell(row=row, column=2), value)
        row += 1
    _put_text(
        sheet.cell(row=row + 1, column=1),
        "Varje tabell ligger på ett eget blad. En tom cell betyder att värdet saknas.",
    )
    row += 3

    _put_text(sheet.cell(row=row, column=1), "Tabeller")
    sheet.cell(row=row, column=1).font = _HEADING
    header = row + 1
    _write_header(sheet, header, ["Blad", "Tabell"])
    for i, report_table in enumerate(tables, start=header + 1):
        link = sheet.cell(row=i, column=1)
        link.style = "Hyperlink"  # first: a named style replaces the cell's whole style
        _put_text(link, report_table.key)
        quoted = report_table.key.replace("'", "''")
        link.hyperlink = Hyperlink(
            ref=link.coordinate,
            location=f"'{quoted}'!A1",
            tooltip=f"Gå till bladet {report_table.key}",
        )
        _put_text(sheet.cell(row=i, column=2), report_table.title)
    _add_table(sheet, table_names("innehall"), header, header + len(tables), 2)

    sheet.column_dimensions["A"].width = _width(
        ["Blad", *(label for label, _ in about), *(t.key for t in tables)]
    )
    sheet.column_dimensions["B"].width = _width(
        ["Tabell", *(value for _, value in about), *(t.title for t in tables)],
        most=_MAX_WIDTH + 30,
    )


_CORE_DATES = re.compile(rb"<dcterms:(created|modified)\b[^>]*>[^<]*</dcterms:\1>")


def _save(book: Workbook, *, dated: bool) -> bytes:
    """The workbook's bytes, every zip entry with the same fixed time; without the created
    and modified dates unless ``dated``."""
    written = BytesIO()
    # ExcelWriter rather than Workbook.save, which stamps the modified date with the clock.
    ExcelWriter(book, ZipFile(written, "w", ZIP_DEFLATED, allowZip64=True)).save()
    out = BytesIO()
    with ZipFile(written) as src, ZipFile(out, "w", ZIP_DEFLATED) as dst:
        for info in src.infolist():
            entry = ZipInfo(info.filename, date_time=_ZIP_TIME)
            entry.compress_type = ZIP_DEFLATED
            entry.external_attr = info.external_attr
            data = src.read(info)
            if info.filename == "docProps/core.xml" and not dated:
                data = _CORE_DATES.sub(b"", data)
            dst.writestr(entry, data)
    return out.getvalue()
