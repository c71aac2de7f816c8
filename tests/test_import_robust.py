"""Bad input files: a clear Swedish error naming the file, never a traceback; one bad file
does not stop the import of the others; bad rows are rejected one by one."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from tests.conftest import stored_rows
from tillit.cli import main
from tillit.config import Settings
from tillit.errors import InvalidInputError
from tillit.store import Store
from tillit.sync import import_path

GOOD_CSV = "kpi,municipality_id,year,gender,value\nN00945,0180,2020,T,31.5\n"


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_latin1_csv_with_swedish_column_names_is_read(store: Store, tmp_path: Path) -> None:
    path = _write(
        tmp_path / "excel.csv",
        "kpi;kommun_id;år;kön;värde\nN00945;0180;2020;T;31,5\nN00945;0180;2021;K;Åtta\n".encode(
            "latin-1"
        ),
    )
    result = import_path(store, path)
    assert (result.rows_kept, result.rejected_total) == (1, 1)
    assert stored_rows(store) == [("N00945", "0180", 2020, "T", 31.5, None, None)]
    assert result.rejected[0].row["value"] == "Åtta"


def test_a_utf16_csv_is_read(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path / "utf16.csv", GOOD_CSV.encode("utf-16"))
    result = import_path(store, path)
    assert (result.rows_kept, result.rejected_total) == (1, 0)
    assert stored_rows(store) == [("N00945", "0180", 2020, "T", 31.5, None, None)]


@pytest.mark.parametrize(
    ("name", "data", "words"),
    [
        ("fake.parquet", b"kpi,municipality_id\nnot parquet at all", ["fake.parquet", "Parquet"]),
        ("plain.csv.gz", GOOD_CSV.encode(), ["plain.csv.gz", "gzip"]),
        ("cut.csv.gz", b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03", ["cut.csv.gz", "gzip"]),
        ("empty.csv", b"", ["empty.csv"]),
        ("binary.csv", bytes(range(256)) * 8, ["binary.csv"]),
    ],
)
def test_an_unreadable_file_is_a_clear_error_naming_it(
    store: Store, tmp_path: Path, name: str, data: bytes, words: list[str]
) -> None:
    path = _write(tmp_path / name, data)
    with pytest.raises(InvalidInputError) as info:
        import_path(store, path)
    for word in words:
        assert word in info.value.message
    assert info.value.hint
    assert stored_rows(store) == []


def test_fractional_years_and_counts_are_rejected_per_row_not_rounded(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "frac.csv"
    path.write_text(
        "kpi,municipality_id,year,gender,value,count\n"
        "N00945,0180,2020.5,T,31.5,\n"  # line 2: fractional year
        "N00945,0180,2021,T,31.5,1.5\n"  # line 3: fractional count
        "N00945,0180,2022,T,31.5,3000000000\n"  # line 4: count beyond int32
        "N00945,0180,2019,T,1,2\n"  # line 5: good
        "N00945,0180,2018.0,T,1,7.0\n"  # line 6: good, whole numbers written with .0
    )
    result = import_path(store, path)
    reasons = {r.line: r.reason for r in result.rejected}
    assert set(reasons) == {2, 3, 4}
    assert "år" in reasons[2] and "count" in reasons[3] and "count" in reasons[4]
    assert result.rejected[0].row["year"] == "2020.5"
    assert stored_rows(store) == [
        ("N00945", "0180", 2018, "T", 1.0, 7, None),
        ("N00945", "0180", 2019, "T", 1.0, 2, None),
    ]


def test_a_parquet_with_fractional_years_and_a_huge_count_rejects_only_those_rows(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "typed.parquet"
    con = duckdb.connect()
    con.execute(
        f"""COPY (SELECT * FROM (VALUES
            ('N00945', '0180', 2020.5::DOUBLE, 'T', 1.0::DOUBLE, 1::BIGINT),
            ('N00945', '0180', 2021.0::DOUBLE, 'T', 2.0::DOUBLE, 3000000000::BIGINT),
            ('N00945', '0180', 2022.0::DOUBLE, 'T', 3.0::DOUBLE, 5::BIGINT),
            ('N00945', '0180', 1e12::DOUBLE, 'T', 3.0::DOUBLE, 5::BIGINT)
        ) t(kpi, municipality_id, year, gender, value, count)) TO '{path}' (FORMAT parquet)"""
    )
    con.close()
    result = import_path(store, path)
    reasons = {r.line: r.reason for r in result.rejected}
    assert set(reasons) == {1, 2, 4}
    assert "år" in reasons[1] and "count" in reasons[2] and "år" in reasons[4]
    assert result.rejected[0].row["year"] == "2020.5"
    assert stored_rows(store) == [("N00945", "0180", 2022, "T", 3.0, 5, None)]


def test_cli_import_goes_on_after_a_bad_file_and_exits_1(
    tillit_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = [
        _write(tmp_path / "a_fake.parquet", b"nope"),
        _write(tmp_path / "b_plain.csv.gz", GOOD_CSV.encode()),
    ]
    good = _write(tmp_path / "c_good.csv", GOOD_CSV.encode())
    code = main(["import", *map(str, bad), str(good)])
    captured = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in captured.err
    assert "a_fake.parquet" in captured.err and "b_plain.csv.gz" in captured.err
    assert "Klart: c_good.csv" in captured.err
    assert "2 av 3 filer" in captured.err
    assert stored_rows(Store(tillit_env.store_dir)) == [
        ("N00945", "0180", 2020, "T", 31.5, None, None)
    ]


def test_cli_import_json_summary_names_the_failed_file(
    tillit_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    bad = _write(tmp_path / "fake.parquet", b"nope")
    good = _write(tmp_path / "good.csv", GOOD_CSV.encode())
    assert main(["import", "-f", "json", str(bad), str(good)]) == 1
    rows = json.loads(capsys.readouterr().out)
    by_file = {Path(r["file"]).name: r for r in rows}
    assert by_file["fake.parquet"]["error"] and by_file["good.csv"]["error"] is None
    assert by_file["good.csv"]["rows_kept"] == 1


_GROUP = {"id": "G1", "title": "Grupp"}


@pytest.mark.parametrize(
    ("rows", "field"),
    [
        ([{**_GROUP, "members": "abc"}], "values[0].members"),
        ([{**_GROUP, "members": 7}], "values[0].members"),
        ([{**_GROUP, "members": [None]}], "values[0].members[0]"),
        ([{**_GROUP, "members": [7]}], "values[0].members[0]"),
        ([1, {**_GROUP, "members": []}], "values[0]"),
        ([{**_GROUP, "members": {"member_id": "0180"}}], "values[0].members"),
    ],
    ids=["members-text", "members-number", "member-null", "member-number", "row-number", "dict"],
)
def test_cli_import_of_odd_group_metadata_is_a_clear_error_and_the_next_file_is_imported(
    tillit_env: Settings,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    rows: list[object],
    field: str,
) -> None:
    import json

    bad = _write(tmp_path / "a.json", json.dumps(rows).encode())
    good_group = {
        "id": "G2KPI1",
        "title": "Bra grupp",
        "members": [{"member_id": "N00945", "member_title": "Invånare"}],
    }
    good = _write(tmp_path / "b.json", json.dumps([good_group]).encode())
    code = main(["import", str(bad), str(good)])
    captured = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in captured.err
    assert "Fel: a.json går inte att läsa in: fältet " + field in captured.err
    assert "Rätta filen" in captured.err and "Kolada" not in captured.err.split("Nästa")[0]
    assert "Klart: b.json" in captured.err
    store = Store(tillit_env.store_dir)
    assert [g["id"] for g in store.metadata.read("kpi_groups")] == ["G2KPI1"]
    assert [m["kpi"] for m in store.metadata.read("kpi_group_members")] == ["N00945"]


def test_a_group_file_whose_member_ids_are_non_ascii_digits_is_read_as_kpi_groups(
    store: Store, tmp_path: Path
) -> None:
    import json

    # "²³" is str.isdigit() but no municipality code: the file is KPI groups, not kommungrupper.
    rows = [{**_GROUP, "members": [{"member_id": "²³", "member_title": "x"}]}]
    result = import_path(store, _write(tmp_path / "g.json", json.dumps(rows).encode()))
    assert result.kind == "kpi_groups"


def test_rejected_report_is_written_as_csv(store: Store, tmp_path: Path) -> None:
    path = _write(tmp_path / "x.csv", (GOOD_CSV + "N00945,0180,2020.5,T,1\n").encode())
    result = import_path(store, path)
    assert result.report is not None
    with result.report.open(newline="", encoding="utf-8") as handle:
        assert [r["year"] for r in csv.DictReader(handle)] == ["2020.5"]


# -- rejected rows are streamed to the report, and the report is safe in a spreadsheet --------
_PEAK_RSS = """
import resource, sys
from pathlib import Path
from tillit.store import Store
from tillit.sync import import_path
result = import_path(Store(Path(sys.argv[2]), memory_limit="256MB"), Path(sys.argv[1]))
print(result.rejected_total, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def _peak_rss_kib(path: Path, home: Path) -> tuple[int, int]:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-c", _PEAK_RSS, str(path), str(home)],
        capture_output=True,
        text=True,
        check=True,
    )
    rejected, peak = done.stdout.split()
    return int(rejected), int(peak)


@pytest.mark.slow
def test_rejected_rows_are_streamed_not_held_in_memory(tmp_path: Path) -> None:
    rows = 600_000
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    with good.open("w") as g, bad.open("w") as b:
        g.write("kpi,municipality_id,year,gender,value\n")
        b.write("kpi,municipality_id,year,gender,value\n")
        for i in range(rows):
            g.write(f"N{i % 99999:05d},{i % 9999:04d},{1990 + i % 30},T,{i}.5\n")
            b.write(f"BAD{i % 99999:05d},{i % 9999:04d},{1990 + i % 30},T,{i}.5\n")
    _, peak_good = _peak_rss_kib(good, tmp_path / "a")
    rejected, peak_bad = _peak_rss_kib(bad, tmp_path / "b")
    assert rejected == rows
    # Holding 600 000 rejected rows as Python tuples costs ~260 MB more than importing them
    # as good rows; streamed through DuckDB it is ~50 MB.
    assert (peak_bad - peak_good) / 1024 < 150, (peak_good // 1024, peak_bad // 1024)


def test_lines_that_cannot_be_split_are_spilled_to_disk_not_kept_in_a_list(
    store: Store, tmp_path: Path
) -> None:
    from tillit.sync._valuefile import BrokenLines

    broken = BrokenLines(tmp_path)
    for line in range(2, 25_002):
        broken.add(line, "raden kan inte tolkas", "N00945,0180")
        assert len(broken._batch) <= BrokenLines._BATCH  # at most one batch in memory
    assert len(broken) == 25_000 and broken.source_sql() is not None
    # And end to end: every such line is in the report, in line order.
    path = tmp_path / "short.csv"
    path.write_text(
        "kpi,municipality_id,year,gender,value\n"
        + "".join(f"N00945,0180,{1990 + i % 30}\n" for i in range(25_000))
        + "N00945,0180,2020,T,1.5\n"
    )
    result = import_path(store, path)
    assert (result.rejected_total, result.rows_kept) == (25_000, 1)
    assert result.report is not None
    with result.report.open(newline="", encoding="utf-8") as handle:
        lines = [int(r["line"]) for r in csv.DictReader(handle)]
    assert lines == list(range(2, 25_002))
    assert stored_rows(store) == [("N00945", "0180", 2020, "T", 1.5, None, None)]


def test_the_rejected_rows_report_neutralises_spreadsheet_formulas(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "evil.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["kpi", "municipality_id", "year", "gender", "value", "status"])
        link = '=HYPERLINK("http://evil.example","klicka")'
        writer.writerow([link, "0180", "2020", "T", "1", ""])
        writer.writerow(["N00945", "+0180", "2020", "T", "1", ""])
        writer.writerow(["N00945", "0180", "-2020", "T", "1", ""])
        writer.writerow(["N00945", "0180", "2020", "@SUM(A1)", "1", ""])
        writer.writerow(["N00945", "0180", "2020", "T", "\t=1+1", ""])
        writer.writerow(["N00945", "0180", "2021", "T", "\r=1+1", ""])
    result = import_path(store, path)
    assert result.report is not None and result.rejected_total == 6
    with result.report.open(newline="", encoding="utf-8") as handle:
        cells = [cell for row in csv.reader(handle) for cell in row]
    risky = [c for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")]
    assert not risky, risky
    assert '\'=HYPERLINK("HTTP://EVIL.EXAMPLE","KLICKA")' in cells
    assert "'+0180" in cells


def test_a_directory_named_like_a_value_file_is_a_clear_error(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "values.csv"
    folder.mkdir()
    with pytest.raises(InvalidInputError) as info:
        import_path(store, folder)
    assert "values.csv" in info.value.message and "ingen fil" in info.value.message
