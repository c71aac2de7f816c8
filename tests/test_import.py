from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import pytest

from tests.conftest import METADATA, panel_sample, stored_rows
from tillit.config import Settings
from tillit.errors import InvalidInputError
from tillit.sources.kolada import KoladaSchemaDriftWarning
from tillit.store import Store
from tillit.sync import import_path


def test_parquet_import_keeps_every_row_and_records_provenance(
    store: Store, shared_data: Path, tmp_path: Path
) -> None:
    sample = panel_sample(tmp_path / "s.parquet", ["N00945", "N01951"], ["0180", "1280", "1480"])
    result = import_path(store, sample)
    assert result.rejected_total == 0
    assert result.rows_read == result.rows_kept > 0
    table = store.query_values(["N01951"], municipalities=["0180"], years=[2022], genders=["T"])
    assert table.column("value").to_pylist() == [984748.0]  # PROVENANCE.md spot check
    record = store.provenance()[-1]
    assert record.kind == "import" and record.licence == "Källa: Kolada"
    assert record.checksum.startswith("sha256:") and record.rows["inserted"] == result.rows_read


def test_reimport_changes_nothing(store: Store, shared_data: Path, tmp_path: Path) -> None:
    sample = panel_sample(tmp_path / "s.parquet", ["N00945"])
    first = import_path(store, sample)
    again = import_path(store, sample)
    assert again.merge is not None and first.merge is not None
    assert (again.merge.inserted, again.merge.updated) == (0, 0)
    assert again.merge.total == first.merge.total


def test_csv_bad_rows_are_reported_with_line_and_reason_and_good_rows_kept(
    store: Store, tmp_path: Path
) -> None:
    path = tmp_path / "values.csv"
    rows = [
        ["kpi", "municipality_id", "year", "gender", "value"],
        ["N00945", "0180", "2020", "T", "31.5"],  # line 2: good
        ["N00945", "180", "2021", "T", "32,5"],  # line 3: good (Excel dropped the zero; comma)
        ["X", "0180", "2020", "T", "1"],  # line 4: bad kpi
        ["N00945", "01800", "2020", "T", "1"],  # line 5: bad municipality
        ["N00945", "0180", "tjugo", "T", "1"],  # line 6: bad year
        ["N00945", "0180", "2020", "Q", "1"],  # line 7: bad gender
        ["N00945", "0180", "2019", "T", "mycket"],  # line 8: bad value
        ["N00945", "0180", "2018", "K", ""],  # line 9: good, missing value
        ["N00945", "0180", "2020", "T", "33"],  # line 10: duplicate of line 2, wins
    ]
    with path.open("w", newline="") as handle:
        csv.writer(handle).writerows(rows)
    result = import_path(store, path)
    reasons = {r.line: r.reason for r in result.rejected}
    assert set(reasons) == {2, 4, 5, 6, 7, 8}
    assert "nyckeltals-id" in reasons[4] and "kommun" in reasons[5]
    assert "år" in reasons[6] and "kön" in reasons[7] and "tal" in reasons[8]
    assert "dubblett" in reasons[2] and "10" in reasons[2]
    kept = {
        (r["municipality"], r["period"], r["gender"]): r["value"]
        for r in store.query_values(["N00945"], genders=None).to_pylist()
    }
    assert kept == {("0180", 2020, "T"): 33.0, ("0180", 2021, "T"): 32.5, ("0180", 2018, "K"): None}
    assert result.report is not None
    with result.report.open() as handle:
        report = list(csv.DictReader(handle))
    assert [int(r["line"]) for r in report] == [2, 4, 5, 6, 7, 8]
    assert all(r["file"] == "values.csv" for r in report)


def test_structurally_broken_csv_rows_are_reported_too(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "broken.csv"
    path.write_text(
        "kpi,municipality_id,year,gender,value\n"
        "N00945,0180,2020,T,1\n"
        "N00945,0180,2021,T,2,extra,columns\n"
        "N00945,0180,2022,T,3\n"
    )
    result = import_path(store, path)
    assert result.rows_kept == 2
    assert [r.line for r in result.rejected] == [3]


def test_missing_columns_name_what_is_needed(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("a,b\n1,2\n")
    with pytest.raises(InvalidInputError) as info:
        import_path(store, path)
    assert "kpi" in info.value.message and "municipality" in info.value.message


def test_unknown_file_type_is_refused(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "data.xlsx"
    path.write_bytes(b"PK")
    with pytest.raises(InvalidInputError):
        import_path(store, path)


def test_v3_metadata_imports_without_warnings(store: Store, shared_data: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        result = import_path(store, METADATA / "kpi_v3_2026-03.values.json")
    assert result.kind == "kpi" and result.metadata_rows == {"kpi": 6099}


def test_v2_metadata_imports_with_schema_drift_warnings(store: Store, shared_data: Path) -> None:
    with pytest.warns(KoladaSchemaDriftWarning) as caught:
        result = import_path(store, METADATA / "kpi_v2_2024-04.values.json")
    messages = " ".join(str(w.message) for w in caught)
    assert "auspices" in messages and "ou_publication_date" in messages
    assert "is_divided_by_gender" in messages
    assert result.metadata_rows == {"kpi": 6433}
    n00003 = store.kpi("N00003")
    assert n00003["auspice"] == "E" and n00003["is_divided_by_gender"] is False


def test_metadata_wrapped_in_an_envelope_is_accepted(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "muni.json"
    path.write_text(
        json.dumps({"count": 1, "values": [{"id": "0180", "title": "Stockholm", "type": "K"}]})
    )
    assert import_path(store, path).kind == "municipality"
    assert store.municipality("stockholm")["id"] == "0180"


@pytest.mark.slow
def test_the_full_panel_imports_completely(store: Store, shared_data: Path) -> None:
    result = import_path(store, shared_data / "kolada_panel" / "kolada_values_1994_2022.parquet")
    assert (result.rows_read, result.rows_kept, result.rejected_total) == (7387543, 7387543, 0)
    summary = store.summary()
    assert summary["values"] == 7387543 and summary["kpis_with_values"] == 1996


@pytest.mark.slow
def test_a_killed_import_leaves_the_old_or_the_new_state_never_a_mix(
    settings: Settings, store: Store, shared_data: Path, tmp_path: Path
) -> None:
    old = panel_sample(tmp_path / "old.parquet", ["N01951", "N00945", "N00097"])
    many = ["N01951", *(f"N0{n}" for n in range(1952, 1990))]  # ~40 KPIs, ~1 M values
    new = panel_sample(tmp_path / "new.parquet", many)
    import_path(store, old)
    before = stored_rows(store)
    reference = Store(tmp_path / "reference")
    import_path(reference, old)
    import_path(reference, new)
    after = stored_rows(reference)
    outcomes = set()
    # Kill moments spread over start-up, reading, merging and committing.
    for attempt, delay in enumerate([0.3, 0.8, 1.3, 1.8, 2.5, 3.5]):
        home = tmp_path / f"attempt{attempt}"
        shutil.copytree(settings.home, home)  # the old state, afresh each time
        proc = subprocess.Popen(
            [sys.executable, "-m", "tillit", "import", str(new)],
            env={**os.environ, "TILLIT_HOME": str(home)},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(delay)
        killed = proc.poll() is None
        if killed:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        attempt_store = Store(home / "store")
        now = stored_rows(attempt_store)
        assert now in (before, after), "a killed import left a mix of old and new"
        outcomes.add((killed, now == after))
        # Whatever the kill left, running the import again completes it.
        import_path(attempt_store, new)
        assert stored_rows(attempt_store) == after
    assert (True, False) in outcomes, "no kill landed before the commit"
    assert any(done for _, done in outcomes), "no import got to its commit"


def test_gzipped_semicolon_csv_from_excel_is_read(store: Store, tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "values.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8-sig") as handle:
        handle.write("kpi;municipality_id;year;gender;value\nN00945;0180;2020;T;31,5\n")
    result = import_path(store, path)
    assert (result.rows_kept, result.rejected_total) == (1, 0)
    assert store.query_values(["N00945"]).column("value").to_pylist() == [31.5]


# -- metadata imports merge; replacing a catalogue is explicit --------------------------------
def _json_file(path: Path, rows: list[dict[str, object]]) -> Path:
    path.write_text(json.dumps(rows), encoding="utf-8")
    return path


def test_importing_a_small_kpi_file_merges_into_the_catalogue_instead_of_replacing_it(
    store: Store, shared_data: Path, tmp_path: Path
) -> None:
    import_path(store, METADATA / "kpi_v3_2026-03.values.json")
    small = _json_file(
        tmp_path / "two.json",
        [
            {"id": "N00945", "title": "Ny titel", "operating_area": "X"},
            {"id": "U99999", "title": "Eget nyckeltal", "operating_area": "Y"},
        ],
    )
    result = import_path(store, small)
    kpis = {r["id"]: r for r in store.metadata.read("kpi")}
    assert len(kpis) == 6100  # 6 099 kept, one new
    assert kpis["N00945"]["title"] == "Ny titel" and kpis["U99999"]["title"] == "Eget nyckeltal"
    assert result.metadata_rows == {"kpi": 6100}
    assert store.search_kpis("Eget nyckeltal")[0][0]["id"] == "U99999"


def test_importing_with_replace_replaces_the_catalogue(
    store: Store, shared_data: Path, tmp_path: Path
) -> None:
    import_path(store, METADATA / "kpi_v3_2026-03.values.json")
    small = _json_file(tmp_path / "one.json", [{"id": "U99999", "title": "Eget", "auspice": "E"}])
    import_path(store, small, replace=True)
    assert [r["id"] for r in store.metadata.read("kpi")] == ["U99999"]


def test_municipality_and_group_imports_merge_by_id(
    store: Store, shared_data: Path, tmp_path: Path
) -> None:
    import_path(store, METADATA / "municipality_v3_2026-03.values.json")
    import_path(store, METADATA / "municipality_groups_v3_2026-03.values.json")
    groups_before = len(store.metadata.read("municipality_groups"))
    members_before = len(store.metadata.read("municipality_group_members"))
    import_path(
        store,
        _json_file(tmp_path / "m.json", [{"id": "0180", "title": "Stockholm", "type": "K"}]),
    )
    assert len(store.metadata.read("municipality")) == 312
    one_group = _json_file(
        tmp_path / "g.json",
        [
            {
                "id": "G_EGEN",
                "title": "Egen grupp",
                "members": [{"member_id": "0180", "member_title": "Stockholm"}],
            }
        ],
    )
    import_path(store, one_group)
    assert len(store.metadata.read("municipality_groups")) == groups_before + 1
    members = store.metadata.read("municipality_group_members")
    assert len(members) == members_before + 1
    # Importing the group again with other members replaces that group's members only.
    _json_file(
        one_group,
        [
            {
                "id": "G_EGEN",
                "title": "Egen grupp",
                "members": [
                    {"member_id": "1280", "member_title": "Malmö"},
                    {"member_id": "1480", "member_title": "Göteborg"},
                ],
            }
        ],
    )
    import_path(store, one_group)
    members = store.metadata.read("municipality_group_members")
    assert len(members) == members_before + 2
    assert sorted(m["municipality"] for m in members if m["group_id"] == "G_EGEN") == [
        "1280",
        "1480",
    ]


def test_duplicate_ids_in_a_metadata_file_are_refused_naming_them_and_nothing_is_written(
    store: Store, shared_data: Path, tmp_path: Path
) -> None:
    import_path(store, METADATA / "municipality_v3_2026-03.values.json")
    dup = _json_file(
        tmp_path / "dup.json",
        [
            {"id": "0180", "title": "Stockholm", "type": "K"},
            {"id": "1280", "title": "Malmö", "type": "K"},
            {"id": "0180", "title": "Sthlm", "type": "K"},
        ],
    )
    with pytest.raises(InvalidInputError) as info:
        import_path(store, dup)
    assert "0180" in info.value.message and "1280" not in info.value.message
    assert "dup.json" in info.value.message
    assert store.municipality("0180")["title"] == "Stockholm"
    assert len(store.metadata.read("municipality")) == 312


def test_cli_import_replace_flag_replaces_the_catalogue(
    tillit_env: Settings, shared_data: Path, tmp_path: Path
) -> None:
    from tillit.cli import main

    store = Store(tillit_env.store_dir)
    assert main(["import", str(METADATA / "municipality_v3_2026-03.values.json")]) == 0
    one = _json_file(tmp_path / "m.json", [{"id": "0180", "title": "Stockholm", "type": "K"}])
    assert main(["import", str(one)]) == 0
    assert len(Store(tillit_env.store_dir).metadata.read("municipality")) == 312
    assert main(["import", "--replace", str(one)]) == 0
    assert len(store.metadata.read("municipality")) == 1


class _Crash(BaseException):
    """The process dying at a chosen moment (BaseException: nothing on the way catches it)."""


def _groups(*groups: tuple[str, list[str]]) -> list[dict[str, object]]:
    return [
        {
            "id": gid,
            "title": f"Grupp {gid}",
            "members": [{"member_id": k, "member_title": f"KPI {k}"} for k in kpis],
        }
        for gid, kpis in groups
    ]


def _group_state(store: Store) -> tuple[list[str], list[tuple[str, str]]]:
    groups = sorted(g["id"] for g in store.metadata.read("kpi_groups"))
    members = sorted((m["group_id"], m["kpi"]) for m in store.metadata.read("kpi_group_members"))
    return groups, members


@pytest.mark.parametrize("replace", [False, True])
def test_a_crash_between_the_group_and_member_files_leaves_the_old_pair(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, replace: bool
) -> None:
    old = tmp_path / "old.json"
    old.write_text(json.dumps(_groups(("G2KPI1", ["N00001", "N00002"]), ("G2KPI2", ["N00003"]))))
    new = tmp_path / "new.json"
    new.write_text(json.dumps(_groups(("G2KPI1", ["N00009"]), ("G2KPI3", ["N00005"]))))
    store = Store(tmp_path / "store")
    import_path(store, old)
    before = _group_state(store)
    real_replace = os.replace
    moves: list[str] = []

    def replace_then_crash(src: str, dst: str) -> None:
        moves.append(Path(dst).name)
        if len(moves) == 2:  # the second file of the pair: die before it is swapped in
            raise _Crash
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace_then_crash)
    with pytest.raises(_Crash):
        import_path(store, new, replace=replace)
    monkeypatch.undo()
    assert _group_state(Store(tmp_path / "store")) == before, moves
    import_path(store, new, replace=replace)  # run again: the new pair, whole
    after = _group_state(Store(tmp_path / "store"))
    expected_groups = ["G2KPI1", "G2KPI3"] if replace else ["G2KPI1", "G2KPI2", "G2KPI3"]
    assert after[0] == expected_groups
    assert ("G2KPI1", "N00009") in after[1] and ("G2KPI1", "N00001") not in after[1]
    # Member files of earlier writes are removed (the last two are kept for running readers).
    for _ in range(3):
        import_path(store, new, replace=replace)
    assert len(list((tmp_path / "store" / "metadata").glob("kpi_group_members*.parquet"))) <= 2


def test_a_store_written_before_member_files_had_generations_is_read(tmp_path: Path) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    from tillit.store._metadata import TABLES

    directory = tmp_path / "store" / "metadata"
    directory.mkdir(parents=True)
    pq.write_table(
        pa.Table.from_pylist(
            [{"id": "G2KPI1", "title": "Grupp", "search_title": "grupp"}],
            schema=TABLES["kpi_groups"],
        ),
        directory / "kpi_groups.parquet",
    )
    pq.write_table(
        pa.Table.from_pylist(
            [{"group_id": "G2KPI1", "kpi": "N00001", "kpi_title": "x"}],
            schema=TABLES["kpi_group_members"],
        ),
        directory / "kpi_group_members.parquet",
    )
    store = Store(tmp_path / "store")
    assert _group_state(store) == (["G2KPI1"], [("G2KPI1", "N00001")])
    new = tmp_path / "new.json"
    new.write_text(json.dumps(_groups(("G2KPI2", ["N00002"]))))
    import_path(store, new)
    assert _group_state(Store(tmp_path / "store")) == (
        ["G2KPI1", "G2KPI2"],
        [("G2KPI1", "N00001"), ("G2KPI2", "N00002")],
    )
