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


# --- a real store for the analyses: compare, trend, peers, learn ----------------------------
LAGET = SHARED / "kolada_panel" / "kolada_values_laget_i_kommunen_subset.csv"
#: School results, social assistance and parental leave, besides "Läget i kommunen".
ANALYSIS_EXTRA_KPIS = ("N17531", "N17479", "N15419", "N31807", "N00945")
ANALYSIS_FIRST_YEAR = 2008


def build_analysis_store(
    root: Path, kpis: list[str], first_year: int, last_year: int | None = None
) -> Settings:
    """Settings of a new store under ``root`` with the v3 KPI, municipality and group
    metadata and the values of ``kpis`` from ``first_year`` (to ``last_year``), cut from the
    real panel."""
    from tillit.sync import import_path

    settings = Settings(home=root / "home", kolada_rate=0, kolada_timeout=5, kolada_retries=3)
    store = Store(settings.store_dir, memory_limit="512MB")
    for name in ("kpi", "municipality", "municipality_groups"):
        import_path(store, METADATA / f"{name}_v3_2026-03.values.json")
    years = f"year >= {first_year}" + (f" AND year <= {last_year}" if last_year else "")
    values = root / "values.parquet"
    con = duckdb.connect()
    try:
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{PANEL}') WHERE kpi IN "
            f"({', '.join(repr(k) for k in kpis)}) AND {years} "
            f"ORDER BY ALL) TO '{values}' (FORMAT parquet)"
        )
    finally:
        con.close()
    import_path(store, values)
    return settings


def laget_kpis() -> set[str]:
    """The 80 "Läget i kommunen" KPIs of the shared subset."""
    con = duckdb.connect()
    try:
        return {
            r[0] for r in con.execute(f"SELECT DISTINCT kpi FROM read_csv('{LAGET}')").fetchall()
        }
    finally:
        con.close()


def point_cli_at(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point the CLI at ``settings``' store (read only), with Tillit's own polarity table."""
    monkeypatch.setenv("TILLIT_HOME", str(settings.home))
    monkeypatch.setenv("TILLIT_KOLADA_RATE", "0")
    monkeypatch.setenv("COLUMNS", "160")
    monkeypatch.delenv("TILLIT_POLARITY_FILE", raising=False)
    return settings


@pytest.fixture(scope="session")
def analysis_settings(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of a store built once per session and only read by the tests: the v3
    KPI, municipality and group metadata and, from 2008 on, the values of the 80 "Läget i
    kommunen" KPIs, the structural KPIs and ANALYSIS_EXTRA_KPIS, cut from the real panel."""
    from tillit.analyses import STRUCTURAL_KPIS

    kpis = sorted(laget_kpis() | set(STRUCTURAL_KPIS) | set(ANALYSIS_EXTRA_KPIS))
    return build_analysis_store(
        tmp_path_factory.mktemp("analyses"), kpis, first_year=ANALYSIS_FIRST_YEAR
    )


@pytest.fixture
def analysis_store(analysis_settings: Settings) -> Store:
    return Store(analysis_settings.store_dir, memory_limit="512MB")


def region_key_kpis() -> list[str]:
    """The KPIs of a region's page as shipped (query/data/key_kpis_regions.csv)."""
    from importlib import resources

    text = resources.files("tillit.query").joinpath("data/key_kpis_regions.csv").read_text()
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return lines[1:]


#: Municipal-only KPIs (Kolada's municipality_type "K") that the region store holds too, so
#: that asking a region about them is tested against real metadata and values.
REGION_EXTRA_KPIS = ("N15419", "N07917")


@pytest.fixture(scope="session")
def region_settings(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Settings of a store for the regions' tests, built once per session and only read:
    the analysis store's KPIs plus the regions' key KPIs (municipality and region values)."""
    from tillit.analyses import STRUCTURAL_KPIS

    kpis = sorted(
        laget_kpis()
        | set(STRUCTURAL_KPIS)
        | set(ANALYSIS_EXTRA_KPIS)
        | set(REGION_EXTRA_KPIS)
        | set(region_key_kpis())
    )
    return build_analysis_store(
        tmp_path_factory.mktemp("regions"), kpis, first_year=ANALYSIS_FIRST_YEAR
    )


@pytest.fixture(scope="session")
def region_store(region_settings: Settings) -> Store:
    return Store(region_settings.store_dir, memory_limit="512MB")


@pytest.fixture
def region_env(region_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point the CLI at the regions' store (read only)."""
    return point_cli_at(region_settings, monkeypatch)


@pytest.fixture
def analysis_env(analysis_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Point the CLI at the analysis store (read only)."""
    return point_cli_at(analysis_settings, monkeypatch)


# The bank's fixtures (SQLite and PostgreSQL), shared by the bank and web tests.
from tests.bank_fixtures import (  # noqa: E402, F401
    bank,
    bank_url,
    blank_url,
    people,
    postgres_migrated_url,
    postgres_url,
    sqlite_template,
)


# --- the web app (JSON API) over the bank, for tests/test_web_*.py ---------------------------
class FakeClock:
    """A monotonic clock the test moves by hand (for the login rate limit)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402

from starlette.exceptions import StarletteDeprecationWarning  # noqa: E402

from tillit.bank import Bank  # noqa: E402
from tillit.web import LoginLimiter, create_app  # noqa: E402

with warnings.catch_warnings():
    # Starlette's test client prefers httpx2 and warns (once, on import) when it finds the
    # httpx the project depends on; the client works the same with either.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from fastapi.testclient import TestClient


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def api(bank: Bank, people: object, clock: FakeClock) -> Iterator[TestClient]:  # noqa: F811
    """A test client of the web app over the ``bank`` fixture (SQLite and PostgreSQL), with
    the ``people`` in it and a login rate limit on a fake clock."""
    app = create_app(bank=bank, limiter=LoginLimiter(clock=clock))
    with TestClient(app) as client:
        yield client


@pytest.fixture
def login(api: TestClient) -> Callable[..., str]:
    """``login(email)`` logs ``api`` in (a session cookie) and returns the CSRF token."""
    from tests.bank_fixtures import PASSWORD

    def log_in(email: str, password: str = PASSWORD) -> str:
        response = api.post("/api/login", json={"email": email, "password": password})
        assert response.status_code == 200, response.text
        token: str = response.json()["csrf_token"]
        return token

    return log_in


# Headless Chromium, axe-core and `tillit serve` on loopback, for the tests marked `browser`.
from tests.browser_fixtures import (  # noqa: E402, F401
    browser,
    live_server,
    new_page,
    outside_requests,
    page,
    script_errors,
)


@pytest.fixture(scope="module")
def analysis_site(
    analysis_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The web app over the analysis store and an empty SQLite bank, for a test module."""
    from tests.bank_fixtures import FAST_PASSWORDS
    from tillit.bank import open_bank, upgrade
    from tillit.query import Atlas

    url = f"sqlite:///{tmp_path_factory.mktemp('site') / 'bank.sqlite'}"
    upgrade(url)
    site_bank = open_bank(url, passwords=FAST_PASSWORDS)
    store = Store(analysis_settings.store_dir, memory_limit="512MB")
    with TestClient(create_app(bank=site_bank, atlas=Atlas(store))) as client:
        yield client
    site_bank.close()
