from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tests.conftest import METADATA, panel_sample
from tillit.cli import main
from tillit.config import Settings


@pytest.fixture
def imported(tillit_env: Settings, shared_data: Path, tmp_path: Path) -> Settings:
    sample = panel_sample(
        tmp_path / "s.parquet", ["N01951", "N00945"], ["0180", "1384", "1480", "0000"]
    )
    files = [
        str(METADATA / f"{n}_v3_2026-03.values.json")
        for n in ("kpi", "municipality", "municipality_groups")
    ]
    assert main(["import", *files, str(sample)]) == 0
    return tillit_env


def test_status_shows_contents_and_provenance(
    imported: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["status"]) == 0
    out = capsys.readouterr().out
    assert "värden för 2" in out and "Metadata: 6" in out
    assert "Senaste synkar och importer" in out and "import" in out
    assert main(["status", "--format", "json"]) == 0
    (summary,) = json.loads(capsys.readouterr().out)
    assert summary["kpis_with_values"] == 2 and summary["unfinished_syncs"] == []
    assert all(h["licence"] == "Källa: Kolada" for h in summary["history"])


def test_values_table_shows_swedish_numbers(
    imported: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["values", "N01951", "--municipality", "Stockholm", "--years", "2022"]) == 0
    out = capsys.readouterr().out
    assert "984\u202f748" in out and "Stockholm (0180)" in out and "Källa: Kolada" in out


def test_values_json_and_csv_are_for_scripts(
    imported: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert (
        main(["values", "N01951", "-m", "0180,Kungsbacka", "-y", "2021-2022", "--format", "json"])
        == 0
    )
    rows = json.loads(capsys.readouterr().out)
    assert {(r["municipality"], r["period"]) for r in rows} == {
        ("0180", 2021),
        ("0180", 2022),
        ("1384", 2021),
        ("1384", 2022),
    }
    assert (
        main(["values", "N01951", "-m", "1384", "-y", "2022", "--gender", "all", "--format", "csv"])
        == 0
    )
    parsed = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert sorted(r["gender"] for r in parsed) == ["K", "M", "T"]
    assert parsed[0]["municipality"] == "1384"


def test_kpi_search_and_show(imported: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["kpi", "search", "invånare totalt", "--format", "json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert hits[0]["id"] == "N01951"
    assert main(["kpi", "show", "n01951"]) == 0
    assert "Invånare totalt" in capsys.readouterr().out


def test_municipality_search_and_show(
    imported: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["municipality", "search", "goteborg", "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["id"] == "1480"
    assert main(["municipality", "show", "Kungsbacka", "--format", "json"]) == 0
    shown = json.loads(capsys.readouterr().out)[0]
    assert shown["kommungrupp_2023"].startswith("A2")
    assert any(g.startswith("äldreomsorg") for g in shown["liknande_kommuner"])


def test_values_before_any_data_names_the_next_step(
    tillit_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["values", "N00945"]) == 1
    err = capsys.readouterr().err
    assert "Fel:" in err and "tillit sync --kpi N00945" in err


def test_kpi_search_before_metadata_names_the_next_step(
    tillit_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kpi", "search", "skola"]) == 1
    err = capsys.readouterr().err
    assert "tillit sync --metadata" in err and "tillit import" in err


def test_unknown_municipality_suggests_names(
    imported: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["values", "N01951", "-m", "Kungsbaka"]) == 1
    err = capsys.readouterr().err
    assert "Kungsbaka" in err and "Nästa steg:" in err


def test_sync_without_a_selection_explains_the_choices(
    tillit_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["sync"]) == 1
    err = capsys.readouterr().err
    assert "--group" in err and "--kpi" in err


def test_sync_when_kolada_cannot_be_reached_points_to_import(
    tillit_env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Port 9 (discard) on loopback: nothing listens, the connection is refused at once.
    monkeypatch.setenv("TILLIT_KOLADA_URL", "http://127.0.0.1:9/v3")
    monkeypatch.setenv("TILLIT_KOLADA_RETRIES", "1")
    assert main(["sync", "--kpi", "N00945"]) == 1
    err = capsys.readouterr().err
    assert "Kolada kunde inte nås" in err and "tillit import" in err


def test_bad_years_and_dates_are_usage_errors_with_examples(
    imported: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["values", "N01951", "--years", "förra året"]) == 1
    assert "--years 2015-2024" in capsys.readouterr().err
    assert main(["sync", "--kpi", "N01951", "--since", "igår"]) == 1
    assert "ÅÅÅÅ-MM-DD" in capsys.readouterr().err


def test_unknown_option_is_a_usage_error(tillit_env: Settings) -> None:
    assert main(["values", "--no-such-option"]) == 2


def test_import_of_a_missing_file_says_so(
    tillit_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "/nonexistent/file.parquet"]) == 1
    assert "finns inte" in capsys.readouterr().err


def test_import_json_output_stays_parseable_with_rejected_rows(
    tillit_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "v.csv"
    path.write_text(
        "kpi,municipality_id,year,gender,value\nN00945,0180,2020,T,1\nX,0180,2020,T,1\n"
        "N00945,0180,2021,T,1,extra\n"
    )
    assert main(["import", str(path), "--format", "json"]) == 0
    (summary,) = json.loads(capsys.readouterr().out)
    assert (summary["rows_read"], summary["rows_kept"], summary["rejected"]) == (3, 1, 2)
    assert Path(summary["report"]).exists()


def test_values_checks_what_it_is_given(
    imported: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["values", "N99999"]) == 1
    assert "N99999" in capsys.readouterr().err
    assert main(["values", "N01951", "--gender", "X"]) == 1
    assert "T, K, M" in capsys.readouterr().err


def test_kpi_groups_before_metadata_names_the_next_step(
    tillit_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["kpi", "groups"]) == 1
    assert "tillit sync --metadata" in capsys.readouterr().err


def test_values_imported_without_metadata_can_be_looked_up_by_code(
    tillit_env: Settings, shared_data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", str(METADATA / "data_n00945_v2_2024-04.csv")]) == 0
    capsys.readouterr()
    assert main(["values", "N00945", "-m", "0180", "-y", "2000", "-f", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert row["municipality"] == "0180" and abs(row["value"] - 31.32959689) < 1e-9
