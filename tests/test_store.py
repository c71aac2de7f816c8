from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import stored_rows
from tillit.errors import NoDataError, NotFoundError, StoreLockedError
from tillit.store import Store, bucket_of, classify_group


def _incoming(con: duckdb.DuckDBPyConnection, rows: list[tuple[object, ...]]) -> str:
    """rows: (kpi, municipality, period, gender, value, deleted)."""
    table = pa.table(
        {
            "kpi": [r[0] for r in rows],
            "municipality": [r[1] for r in rows],
            "period": pa.array([r[2] for r in rows], pa.int16()),
            "gender": [r[3] for r in rows],
            "value": pa.array([r[4] for r in rows], pa.float64()),
            "count": pa.array([1] * len(rows), pa.int32()),
            "status": pa.array([None] * len(rows), pa.string()),
            "deleted": pa.array([r[5] for r in rows], pa.bool_()),
            "seq": pa.array(range(len(rows)), pa.int64()),
        }
    )
    con.register("incoming_rows", table)
    return "incoming_rows"


def _values(store: Store) -> list[tuple[object, ...]]:
    """(kpi, municipality, period, gender, value) of every stored value."""
    return [r[:5] for r in stored_rows(store)]


def test_bucket_of_matches_duckdb_md5() -> None:
    con = duckdb.connect()
    for kpi in ("N00945", "U28116", "N01951"):
        assert con.execute("SELECT left(md5(?), 2)", [kpi]).fetchone() == (bucket_of(kpi),)


def test_merge_inserts_updates_deletes_and_is_idempotent(store: Store) -> None:
    con = store.connect()
    first = store.values.merge(
        con,
        _incoming(
            con,
            [
                ("N1", "0180", 2020, "T", 1.0, False),
                ("N1", "0180", 2021, "T", 2.0, False),
                ("N2", "1480", 2020, "K", None, False),
            ],
        ),
    )
    assert (first.inserted, first.total) == (3, 3)
    second = store.values.merge(
        con,
        _incoming(
            con,
            [
                ("N1", "0180", 2021, "T", 2.5, False),  # changed
                ("N1", "0180", 2020, "T", 1.0, False),  # same
                ("N2", "1480", 2020, "K", None, True),  # deleted
                ("N3", "0114", 2019, "M", 7.0, False),  # new
                ("N9", "0114", 2019, "M", 7.0, True),  # deleting what is not there
            ],
        ),
    )
    assert (second.inserted, second.updated, second.deleted, second.unchanged) == (1, 1, 1, 2)
    expected = [
        ("N1", "0180", 2020, "T", 1.0),
        ("N1", "0180", 2021, "T", 2.5),
        ("N3", "0114", 2019, "M", 7.0),
    ]
    assert _values(store) == expected
    again = store.values.merge(con, _incoming(con, [("N1", "0180", 2021, "T", 2.5, False)]))
    assert (again.inserted, again.updated, again.unchanged, again.total) == (0, 0, 1, 3)
    assert _values(store) == expected
    con.close()


def test_null_values_are_kept_as_missing(store: Store) -> None:
    con = store.connect()
    store.values.merge(con, _incoming(con, [("N2", "1480", 2020, "K", None, False)]))
    con.close()
    table = store.query_values(["N2"])
    assert table.to_pylist() == [
        {
            "kpi": "N2",
            "municipality": "1480",
            "period": 2020,
            "gender": "K",
            "value": None,
            "count": 1,
            "status": None,
        }
    ]


def test_last_row_wins_within_one_merge(store: Store) -> None:
    con = store.connect()
    store.values.merge(
        con,
        _incoming(
            con,
            [
                ("N1", "0180", 2020, "T", 1.0, False),
                ("N1", "0180", 2020, "T", 9.0, False),
            ],
        ),
    )
    con.close()
    assert _values(store) == [("N1", "0180", 2020, "T", 9.0)]


def test_orphans_of_a_killed_merge_are_removed_and_never_read(store: Store) -> None:
    con = store.connect()
    store.values.merge(con, _incoming(con, [("N1", "0180", 2020, "T", 1.0, False)]))
    orphan = store.values.directory / f"{bucket_of('N1')}.g000099.0.parquet"
    orphan.write_bytes(b"half a parquet file")
    assert _values(store) == [("N1", "0180", 2020, "T", 1.0)]  # the manifest does not name it
    store.values.merge(con, _incoming(con, [("N2", "0180", 2020, "T", 2.0, False)]))
    con.close()
    assert not orphan.exists()
    manifest = orjson.loads((store.values.directory / "manifest.json").read_bytes())
    named = {f for files in manifest["buckets"].values() for f in files}
    on_disk = {p.name for p in store.values.directory.glob("*.parquet")}
    assert named == on_disk


def test_query_values_without_data_names_the_sync_command(store: Store) -> None:
    with pytest.raises(NoDataError) as info:
        store.query_values(["N00945"])
    assert "tillit sync --kpi N00945" in (info.value.hint or "")


def test_only_one_writer_at_a_time(store: Store) -> None:
    with store.lock(), pytest.raises(StoreLockedError), store.lock():
        pass


def test_unknown_kpi_suggests_close_matches(metadata_store: Store) -> None:
    with pytest.raises(NotFoundError) as info:
        metadata_store.kpi("invånare totalt")
    assert "N01951" in (info.value.hint or "")


def test_group_classification_recognises_kommungrupp_and_liknande() -> None:
    assert classify_group("Storstäder (ovägt medel)")["code"] == "A1"
    liknande = classify_group("Liknande kommuner äldreomsorg, Kungsbacka, 2024")
    assert (liknande["kind"], liknande["area"], liknande["focal_title"], liknande["year"]) == (
        "liknande_kommuner",
        "äldreomsorg",
        "Kungsbacka",
        2024,
    )
    overall = classify_group("Liknande kommuner, övergripande, Ale, 2025")
    assert (overall["area"], overall["focal_title"], overall["year"]) == (
        "övergripande",
        "Ale",
        2025,
    )
    assert classify_group("Fyrkommunsnätverket (ovägt medel)")["kind"] == "other"


def test_real_municipality_groups_hold_all_nine_kommungrupper(metadata_store: Store) -> None:
    groups = metadata_store.municipality_groups("kommungrupp_2023")
    assert sorted(g["code"] for g in groups) == [
        "A1",
        "A2",
        "B3",
        "B4",
        "B5",
        "C6",
        "C7",
        "C8",
        "C9",
    ]
    members = {
        m["municipality"]
        for m in metadata_store.metadata.read("municipality_group_members")
        if m["group_id"] in {g["id"] for g in groups}
    }
    assert len(members) == 290
    titled = [
        g["title"]
        for g in metadata_store.municipality_groups()
        if g["title"].startswith("Liknande")
    ]
    assert len(titled) == 3542  # and every one of them is recognised:
    assert len(metadata_store.municipality_groups("liknande_kommuner")) == 3500
    assert len(metadata_store.municipality_groups("liknande_regioner")) == 42


def test_a_merge_that_changes_nothing_rewrites_nothing(store: Store) -> None:
    con = store.connect()
    rows = [("N1", "0180", 2020, "T", 1.0, False)]
    store.values.merge(con, _incoming(con, rows))
    manifest = (store.values.directory / "manifest.json").read_bytes()
    files = sorted(p.name for p in store.values.directory.glob("*.parquet"))
    result = store.values.merge(con, _incoming(con, rows))
    con.close()
    assert (result.unchanged, result.total) == (1, 1)
    assert (store.values.directory / "manifest.json").read_bytes() == manifest
    assert sorted(p.name for p in store.values.directory.glob("*.parquet")) == files


_keys = st.tuples(
    st.sampled_from(["N1", "N2", "U3"]),
    st.sampled_from(["0180", "1480"]),
    st.integers(2019, 2021),
    st.sampled_from(["T", "K"]),
)
_ops = st.lists(
    st.tuples(_keys, st.one_of(st.none(), st.floats(-1e6, 1e6)), st.booleans()), max_size=12
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(_ops, min_size=1, max_size=4))
def test_merges_behave_like_a_dictionary(tmp_path: Path, batches: list[list[Any]]) -> None:
    """Any sequence of batches of upserts and deletes leaves exactly what a dict would hold,
    and each merge reports what it changed."""
    import uuid

    store = Store(tmp_path / uuid.uuid4().hex)
    model: dict[tuple[object, ...], float | None] = {}
    con = store.connect()
    for batch in batches:
        before = dict(model)
        latest: dict[tuple[object, ...], tuple[float | None, bool]] = {}
        for key, value, deleted in batch:
            latest[key] = (value, deleted)
        for key, (value, deleted) in latest.items():
            if deleted:
                model.pop(key, None)
            else:
                model[key] = value
        result = store.values.merge(con, _incoming(con, [(*k, v, d) for k, v, d in batch]))
        assert result.total == len(model)
        assert result.inserted == sum(1 for k in model if k not in before)
        assert result.deleted == sum(1 for k in before if k not in model)
        assert result.updated == sum(
            1
            for k in model
            if k in before
            and before[k] != model[k]
            and not (before[k] is None and model[k] is None)
        )
    con.close()
    assert _values(store) == sorted((*k, v) for k, v in model.items())


def test_kpi_group_by_id_exact_title_title_start_or_a_single_search_hit(store: Store) -> None:
    store.metadata.replace(
        "kpi_groups",
        [
            {
                "id": "G2KPI74586",
                "title": "Kommunens kvalitet i korthet (KKiK)",
                "members": [{"member_id": "N00945", "member_title": "x"}],
            },
            {"id": "G2KPI1", "title": "Läget i kommunen", "members": []},
            {"id": "G2KPI2", "title": "Läget i kommunen, fördjupning", "members": []},
        ],
    )
    assert store.kpi_group("g2kpi74586")[1] == ["N00945"]
    assert store.kpi_group("Kommunens kvalitet i korthet")[0]["id"] == "G2KPI74586"
    assert store.kpi_group("kvalitet korthet")[0]["id"] == "G2KPI74586"
    assert store.kpi_group("läget i kommunen")[0]["id"] == "G2KPI1"  # exact beats prefix
    with pytest.raises(NotFoundError) as info:
        store.kpi_group("läget")
    assert "G2KPI1" in (info.value.hint or "") and "G2KPI2" in (info.value.hint or "")


def test_the_panel_read_is_kept_only_while_the_store_is_unchanged(store: Store) -> None:
    """municipality_panel keeps its last reads for a warm process; a write (a new file
    generation) is seen at once, also through another Store object (another process)."""
    con = store.connect()
    store.values.merge(
        con,
        _incoming(
            con, [("N1", "0180", 2020, "T", 1.0, False), ("N1", "0180", 2021, "T", 2.0, False)]
        ),
    )

    def read(s: Store) -> list[tuple[object, ...]]:
        axis, table = s.municipality_panel(None, history=5, municipalities=["0180", "1480"])
        rows = sorted(zip(*(table.column(i).to_pylist() for i in range(4)), strict=True))
        return [(axis[k], m, p, v) for k, m, p, v in rows]

    assert read(store) == [("N1", 0, 2020, 1.0), ("N1", 0, 2021, 2.0)]
    assert read(store) == read(store)  # from the cache
    store.values.merge(con, _incoming(con, [("N1", "0180", 2021, "T", 2.5, False)]))
    assert read(store) == [("N1", 0, 2020, 1.0), ("N1", 0, 2021, 2.5)]
    store.values.merge(con, _incoming(con, [("N2", "1480", 2022, "T", 9.0, False)]))
    other = Store(store.directory)
    assert read(other)[-1] == ("N2", 1, 2022, 9.0)
    assert read(store) == read(other)
    con.close()
