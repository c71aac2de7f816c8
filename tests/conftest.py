"""Shared fixtures. Real DuckDB, real Parquet files, real HTTP on loopback; data is built at
run time from ../shared/data (never copied into the repository)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest

from tillit.config import Settings
from tillit.store import Store

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TILLIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
PANEL = SHARED / "kolada_panel" / "kolada_values_1994_2022.parquet"
METADATA = SHARED / "kolada_api_metadata"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    if not PANEL.exists():
        reason = f"the shared Kolada data is not at {SHARED} (set TILLIT_SHARED_DATA)"
        if os.environ.get("TILLIT_REQUIRE_SHARED_DATA"):
            pytest.fail(reason)
        pytest.skip(reason)
    return SHARED


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path / "home", kolada_rate=0, kolada_timeout=5, kolada_retries=3)


@pytest.fixture
def store(settings: Settings) -> Store:
    return Store(settings.store_dir, memory_limit="512MB")


@pytest.fixture
def tillit_env(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point the CLI (which reads the environment) at the test's home directory."""
    monkeypatch.setenv("TILLIT_HOME", str(settings.home))
    monkeypatch.setenv("TILLIT_KOLADA_RATE", "0")
    monkeypatch.setenv("COLUMNS", "160")
    return settings


def stored_rows(store: Store, *, ou: bool = False) -> list[tuple[object, ...]]:
    """Every stored value as (kpi, unit, period, gender, value, count, status), sorted."""
    dataset = store.ou_values if ou else store.values
    source = dataset.source_sql()
    if source is None:
        return []
    con = store.connect()
    try:
        return con.execute(
            f"SELECT kpi, {dataset.unit}, period, gender, value, count, status FROM {source} "
            "ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()


def panel_sample(target: Path, kpis: list[str], municipalities: list[str] | None = None) -> Path:
    """Write a small Parquet file cut from the real panel and return its path."""
    where = "kpi IN (" + ", ".join(f"'{k}'" for k in kpis) + ")"
    if municipalities:
        where += " AND municipality_id IN (" + ", ".join(f"'{m}'" for m in municipalities) + ")"
    con = duckdb.connect()
    try:
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{PANEL}') WHERE {where} "
            f"ORDER BY ALL) TO '{target}' (FORMAT parquet)"
        )
    finally:
        con.close()
    return target


@pytest.fixture
def metadata_store(store: Store, shared_data: Path) -> Iterator[Store]:
    """A store holding the real v3 KPI, municipality and municipality-group metadata."""
    from tillit.sync import import_path

    for name in ("kpi", "municipality", "municipality_groups"):
        import_path(store, METADATA / f"{name}_v3_2026-03.values.json")
    yield store
