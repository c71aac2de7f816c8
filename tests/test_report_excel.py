"""The report's Excel workbook, written by tillit.reports._excel and read back with real
openpyxl (and pandas, as an analyst would)."""

from __future__ import annotations

import math
import zipfile
from datetime import datetime
from io import BytesIO

import pandas as pd
import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from tillit.query import Column, ReportTable, table
from tillit.reports._excel import ABOUT_SHEET, HEADER_ROW, workbook

INJECTION = '=HYPERLINK("http://x")'

COSTS = table(
    "kostnader",
    "Kostnad per invånare för äldreomsorg",
    [
        Column("municipality", "Kommunkod", kind="code"),
        Column("name", "Kommun"),
        Column("cost", "Kostnad", "kr/inv", "number", 0),
        Column("change", "Förändring", "%", "percent", 1),
        Column("year", "År", kind="year"),
    ],
    [
        ("0114", "Upplands Väsby", 12345.6, -3.25, 2022),
        ("1384", "Kungsbacka", None, 4.0, 2022),
        ("2584", INJECTION, 9876.0, float("nan"), 2021),
        ("0180", "Stockholm", -150.5, None, None),
    ],
    "Källa: Kolada, nyckeltal N20891; år 2021–2022; Tillits beräkningar",
    note="Kostnaden är i löpande priser; en tom cell betyder att Kolada saknar värdet.",
)
SHARES = table(
    "andelar",
    "Andel elever med behörighet",
    [
        Column("kpi", "Nyckeltal", kind="code"),
        Column("share", "Andel", "%", "percent"),
        Column("n", "Antal", "st", "number"),
    ],
    [("N15419", 87.25, 1200), ("N15428", 0.5, 35)],
    "Kolada, nyckeltal N15419, N15428",
)
ABOUT = (
    ("Kommun", "Kungsbacka (1384)"),
    ("År", "2022"),
    ("Källa", "Kolada (www.kolada.se), hämtat 2026-12-01"),
    ("Framtagen av", "Tillit"),
)


def render(*tables: ReportTable, created: datetime | None = None) -> bytes:
    return workbook(
        tables,
        title="Årsrapport 2022",
        subtitle="Kungsbacka jämfört med liknande kommuner",
        about=ABOUT,
        created=created,
    )


def reopen(data: bytes) -> Workbook:
    return load_workbook(BytesIO(data))


@pytest.fixture(scope="module")
def book() -> Workbook:
    return reopen(render(COSTS, SHARES))


def data_cell(sheet: Worksheet, t: ReportTable, row: int, key: str):  # type: ignore[no-untyped-def]
    column = [c.key for c in t.columns].index(key) + 1
    return sheet.cell(row=HEADER_ROW + 1 + row, column=column)


def test_the_about_sheet_comes_first_then_one_sheet_a_table_in_order(book: Workbook) -> None:
    assert book.sheetnames == [ABOUT_SHEET, COSTS.key, SHARES.key]
    assert book.active.title == ABOUT_SHEET


def test_each_sheet_has_title_note_and_headings_with_units(book: Workbook) -> None:
    for t in (COSTS, SHARES):
        sheet = book[t.key]
        assert sheet["A1"].value == t.title
        assert sheet["A1"].font.b
        assert sheet["A2"].value == t.note
        header = [c.value for c in sheet[HEADER_ROW]]
        assert header == [c.heading for c in t.columns]
    assert "Kostnad (kr/inv)" in [c.value for c in book[COSTS.key][HEADER_ROW]]
    assert all(c.font.b for c in book[COSTS.key][HEADER_ROW])


def test_numbers_are_numbers_years_integers_and_codes_text_with_their_zeros(
    book: Workbook,
) -> None:
    sheet = book[COSTS.key]
    for i, row in enumerate(COSTS.rows):
        code = data_cell(sheet, COSTS, i, "municipality")
        assert code.value == row[0]
        assert code.data_type == "s"
        assert code.number_format == "@"
        cost = data_cell(sheet, COSTS, i, "cost")
        if row[2] is None:
            assert cost.value is None
        else:
            assert cost.data_type == "n"
            assert isinstance(cost.value, int | float)
            assert cost.value == row[2]
        year = data_cell(sheet, COSTS, i, "year")
        if row[4] is not None:
            assert year.value == row[4]
            assert isinstance(year.value, int)
            assert year.number_format == "0"
    assert book[COSTS.key]["A4"].value.startswith("0")
    negative = data_cell(sheet, COSTS, 0, "change")
    assert negative.value == COSTS.rows[0][3] < 0


def test_no_value_is_an_empty_cell_never_a_placeholder(book: Workbook) -> None:
    sheet = book[COSTS.key]
    missing = [
        (i, c.key)
        for i, row in enumerate(COSTS.rows)
        for c, v in zip(COSTS.columns, row, strict=True)
        if v is None or (isinstance(v, float) and math.isnan(v))
    ]
    assert len(missing) == 4
    for i, key in missing:
        assert data_cell(sheet, COSTS, i, key).value is None
    texts = {str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None}
    assert not texts & {"nan", "NaN", "None", "–", "-"}


def test_number_formats_follow_the_decimals_in_excels_locale_neutral_notation(
    book: Workbook,
) -> None:
    costs = book[COSTS.key]
    assert data_cell(costs, COSTS, 0, "cost").number_format == "#,##0"
    assert data_cell(costs, COSTS, 0, "change").number_format == "#,##0.0"
    shares = book[SHARES.key]
    # decimals None: as tillit.swedish.decimals_for chooses (one from 1 to 100, none if whole)
    assert data_cell(shares, SHARES, 0, "share").number_format == "#,##0.0"
    assert data_cell(shares, SHARES, 0, "n").number_format == "#,##0"
    # percent values are 0–100 already: never Excel's %-format, which multiplies by 100
    assert all("%" not in c.number_format for row in shares.iter_rows() for c in row)


def test_text_that_looks_like_a_formula_is_stored_as_a_string() -> None:
    risky = [INJECTION, "+1+2", "-3+4", "@SUM(A1)", "#N/A"]
    t = table("text", "Text", [Column("t", "Text")], [(r,) for r in risky], "Källa: test")
    data = render(t)
    sheet = reopen(data)["text"]
    for i, text in enumerate(risky):
        cell = sheet.cell(row=HEADER_ROW + 1 + i, column=1)
        assert cell.value == text
        assert cell.data_type == "s"
        assert cell.quotePrefix is (text[0] in "=+-@")
    with zipfile.ZipFile(BytesIO(data)) as z:
        xml = z.read("xl/worksheets/sheet2.xml").decode()
    assert "<f>" not in xml
    assert "HYPERLINK" in xml


def test_the_injection_in_a_data_row_is_plain_text(book: Workbook) -> None:
    cell = data_cell(book[COSTS.key], COSTS, 2, "name")
    assert cell.value == INJECTION
    assert cell.data_type == "s"


def test_every_sheet_ends_with_its_source_after_an_empty_row(book: Workbook) -> None:
    for t in (COSTS, SHARES):
        sheet = book[t.key]
        last_data = HEADER_ROW + len(t.rows)
        assert all(c.value is None for c in sheet[last_data + 1])
        source = sheet.cell(row=last_data + 2, column=1).value
        assert source.startswith("Källa: ")
        assert t.source.removeprefix("Källa: ") in source
        assert sheet.max_row == last_data + 2


def test_headings_are_an_excel_table_with_filter_frozen_and_printed_on_every_page(
    book: Workbook,
) -> None:
    names = set()
    for t in (COSTS, SHARES):
        sheet = book[t.key]
        assert sheet.freeze_panes == f"A{HEADER_ROW + 1}"
        (excel_table,) = sheet.tables.values()
        last = chr(ord("A") + len(t.columns) - 1)
        assert excel_table.ref == f"A{HEADER_ROW}:{last}{HEADER_ROW + len(t.rows)}"
        assert excel_table.headerRowCount == 1
        assert excel_table.column_names == [c.heading for c in t.columns]
        assert excel_table.autoFilter.ref == excel_table.ref
        assert excel_table.tableStyleInfo.name
        assert sheet.print_title_rows == f"${HEADER_ROW}:${HEADER_ROW}"
        names.add(excel_table.displayName)
    assert len(names) == 2


def test_repeated_or_empty_headings_are_made_unique_for_the_excel_table() -> None:
    t = table(
        "upprepat",
        "Upprepat",
        [Column("a", "Värde", "%", "number"), Column("b", "värde", "%", "number"), Column("c", "")],
        [(1, 2, "x")],
        "Källa: test",
    )
    sheet = reopen(render(t))["upprepat"]
    header = [c.value for c in sheet[HEADER_ROW]]
    assert header[0] == "Värde (%)"
    assert len({h.casefold() for h in header}) == 3
    assert all(header)
    (excel_table,) = sheet.tables.values()
    assert excel_table.column_names == header


def test_an_empty_table_still_has_a_valid_excel_table_and_its_source() -> None:
    t = table("tom", "Tom", [Column("a", "A"), Column("b", "B", "kr", "number")], [], "Källa: x")
    sheet = reopen(render(t))["tom"]
    (excel_table,) = sheet.tables.values()
    assert excel_table.ref == f"A{HEADER_ROW}:B{HEADER_ROW + 1}"
    assert sheet.cell(row=HEADER_ROW + 3, column=1).value == "Källa: x"


def test_column_widths_follow_the_longest_content_within_a_cap() -> None:
    long_name = "Kommunalförbundet " * 10
    t = table(
        "bredd",
        "Bredd",
        [Column("code", "Kod", kind="code"), Column("name", "Namn"), Column("v", "V", "kr")],
        [("01", "Ale", 1), ("02", long_name, 2)],
        "Källa: x",
    )
    sheet = reopen(render(t))["bredd"]
    widths = {c: sheet.column_dimensions[c].width for c in "ABC"}
    assert widths["B"] < len(long_name)
    assert widths["B"] > widths["A"]
    assert widths["C"] >= len("V (kr)")


def test_the_about_sheet_has_title_subtitle_facts_and_a_link_to_every_sheet(
    book: Workbook,
) -> None:
    sheet = book[ABOUT_SHEET]
    assert sheet["A1"].value == "Årsrapport 2022"
    assert sheet["A2"].value == "Kungsbacka jämfört med liknande kommuner"
    pairs = {row[0].value: row[1].value for row in sheet.iter_rows(max_col=2) if row[1].value}
    for label, value in ABOUT:
        assert pairs[label] == value
    links = {
        c.value: (c.hyperlink.location, sheet.cell(row=c.row, column=2).value)
        for c in sheet["A"]
        if c.hyperlink
    }
    assert links == {t.key: (f"'{t.key}'!A1", t.title) for t in (COSTS, SHARES)}
    for location, _ in links.values():
        assert location.split("!")[0].strip("'") in book.sheetnames
    (contents,) = sheet.tables.values()
    assert contents.column_names == ["Blad", "Tabell"]


def test_duplicate_keys_raise() -> None:
    again = table(COSTS.key, "Igen", COSTS.columns, COSTS.rows, COSTS.source)
    with pytest.raises(ValueError, match="kostnader"):
        render(COSTS, again)
    upper = table(COSTS.key.upper(), "Igen", COSTS.columns, COSTS.rows, COSTS.source)
    with pytest.raises(ValueError, match="same sheet"):
        render(COSTS, upper)
    about = table(ABOUT_SHEET, "Om", COSTS.columns, COSTS.rows, COSTS.source)
    with pytest.raises(ValueError, match=ABOUT_SHEET):
        render(about)


def test_a_text_in_a_number_column_raises() -> None:
    t = table("fel", "Fel", [Column("v", "Värde", "kr", "number")], [("12",)], "Källa: x")
    with pytest.raises(ValueError, match="not a number"):
        render(t)


def test_control_characters_are_dropped_not_written() -> None:
    t = table("ctl", "Rubrik\x07", [Column("t", "Text")], [("a\x00b\x1fc",)], "Källa: x")
    sheet = reopen(render(t))["ctl"]
    assert sheet["A1"].value == "Rubrik"
    assert sheet.cell(row=HEADER_ROW + 1, column=1).value == "abc"


def test_properties_name_title_creator_and_swedish() -> None:
    created = datetime(2026, 12, 1, 8, 30)
    props = reopen(render(COSTS, created=created)).properties
    assert props.title == "Årsrapport 2022"
    assert props.creator == "Tillit"
    assert props.language == "sv-SE"
    assert props.created == created
    assert props.modified == created


def test_the_same_arguments_give_the_same_bytes() -> None:
    assert render(COSTS, SHARES) == render(COSTS, SHARES)
    created = datetime(2026, 12, 1)
    assert render(COSTS, created=created) == render(COSTS, created=created)
    assert render(COSTS, created=created) != render(COSTS)
    with zipfile.ZipFile(BytesIO(render(COSTS))) as z:
        assert b"dcterms:created" not in z.read("docProps/core.xml")
        # not the clock's time, which would make runs a second apart differ
        assert {info.date_time for info in z.infolist()} == {(1980, 1, 1, 0, 0, 0)}


def test_pandas_reads_a_sheet_with_numeric_columns_and_text_codes() -> None:
    frame = pd.read_excel(
        BytesIO(render(COSTS, SHARES)),
        sheet_name=COSTS.key,
        header=HEADER_ROW - 1,
        nrows=len(COSTS.rows),
        # the cells are text, but pandas parses digit strings as numbers unless told
        dtype={"Kommunkod": str},
    )
    assert list(frame.columns) == [c.heading for c in COSTS.columns]
    assert frame["Kommunkod"].tolist() == [r[0] for r in COSTS.rows]
    assert pd.api.types.is_float_dtype(frame["Kostnad (kr/inv)"])
    assert pd.api.types.is_float_dtype(frame["Förändring (%)"])
    expected = [r[2] for r in COSTS.rows]
    got = frame["Kostnad (kr/inv)"].tolist()
    assert [None if math.isnan(x) else x for x in got] == expected
    assert frame["År"].dropna().astype(int).tolist() == [r[4] for r in COSTS.rows if r[4]]
    shares = pd.read_excel(
        BytesIO(render(SHARES)), sheet_name=SHARES.key, header=HEADER_ROW - 1, nrows=2
    )
    assert pd.api.types.is_integer_dtype(shares["Antal (st)"])
    assert shares["Andel (%)"].tolist() == [r[1] for r in SHARES.rows]
