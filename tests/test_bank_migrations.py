from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from tillit.bank import (
    Base,
    create_bank_engine,
    current_revision,
    head_revision,
    open_bank,
    upgrade,
)
from tillit.errors import NotFoundError, StoreError

#: Mapped tables that later migrations add (0005: trials; 0006: login attempts; 0009: goals;
#: 0010: remisser; 0011: stored trial evaluations).
LATER_TABLES = frozenset(
    {
        "trials",
        "trial_kpis",
        "login_attempts",
        "goals",
        "goal_indicators",
        "goal_trials",
        "goal_examples",
        "goal_revisions",
        "remisser",
        "remiss_proposals",
        "remiss_bodies",
        "remiss_responses",
        "remiss_stances",
        "trial_evaluations",
    }
)
#: Mapped columns and indexes that later migrations add (0007: kinds and sources).
LATER_OBJECTS = frozenset(
    {
        ("examples", "kind"),
        ("examples", "source_name"),
        ("examples", "source_url"),
        ("examples", "source_area"),
        ("examples", "ix_examples_kind"),
    }
)


def _diff(
    url: str,
    *,
    only_mapped: bool,
    without: frozenset[str] = frozenset(),
    later: frozenset[tuple[str, str]] = frozenset(),
) -> list[Any]:
    engine = create_bank_engine(url)

    def mapped(obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any) -> bool:
        table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
        if table in without or (table, name) in later:
            return False
        # Later migrations may add objects the ORM does not map (search indexes).
        return not (only_mapped and reflected and compare_to is None)

    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "include_object": mapped}
            )
            return list(compare_metadata(context, Base.metadata))
    finally:
        engine.dispose()


def test_migration_0001_creates_exactly_the_models_tables(blank_url: str) -> None:
    assert upgrade(blank_url, "0001") == "0001"
    assert _diff(blank_url, only_mapped=False, without=LATER_TABLES, later=LATER_OBJECTS) == []


def test_upgrade_to_head_keeps_every_mapped_table_and_is_idempotent(blank_url: str) -> None:
    head = head_revision()
    assert upgrade(blank_url) == head
    assert upgrade(blank_url) == head
    assert _diff(blank_url, only_mapped=True) == []
    engine = create_bank_engine(blank_url)
    try:
        assert current_revision(engine) == head
    finally:
        engine.dispose()


def test_an_unmigrated_bank_says_to_run_db_upgrade(blank_url: str) -> None:
    with pytest.raises(NotFoundError) as info:
        open_bank(blank_url)
    assert "tillit db upgrade" in (info.value.hint or "")


def test_a_bank_behind_the_newest_migration_says_to_upgrade(blank_url: str) -> None:
    if head_revision() == "0001":
        pytest.skip("only one migration so far")
    upgrade(blank_url, "0001")
    with pytest.raises(NotFoundError, match="version 0001") as info:
        open_bank(blank_url)
    assert "tillit db upgrade" in (info.value.hint or "")


def test_sqlite_enforces_foreign_keys_and_uses_wal(tmp_path: Path) -> None:
    engine = create_bank_engine(f"sqlite:///{tmp_path / 'sub' / 'bank.sqlite'}")
    try:
        with engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
    finally:
        engine.dispose()


def test_an_unreachable_server_is_a_store_error_with_a_hint() -> None:
    with pytest.raises(StoreError, match="går inte att nå") as info:
        open_bank("postgresql+psycopg://nobody@127.0.0.1:9/none?connect_timeout=2")
    assert "TILLIT_DATABASE_URL" in (info.value.hint or "")


def test_migration_0006_adds_the_login_attempts_and_downgrades(blank_url: str) -> None:
    from tests.test_bank_trials import _downgrade, _tables

    assert upgrade(blank_url, "0005") == "0005"
    assert "login_attempts" not in _tables(blank_url)
    assert upgrade(blank_url, "0006") == "0006"
    assert "login_attempts" in _tables(blank_url)
    _downgrade(blank_url, "0005")
    assert "login_attempts" not in _tables(blank_url)
    assert {"trials", "users"} <= _tables(blank_url)


def test_the_sqlite_bank_and_its_wal_files_are_private(tmp_path: Path) -> None:
    """The bank holds password and token hashes: owner-only, whatever the umask."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        path = tmp_path / "bank.sqlite"
        upgrade(f"sqlite:///{path}")
        with open_bank(f"sqlite:///{path}") as bank:
            bank.seed_organisations([("1480", "Göteborg", "kommun")])
            files = [path, path.with_name("bank.sqlite-wal"), path.with_name("bank.sqlite-shm")]
            modes = {f.name: stat.S_IMODE(f.stat().st_mode) for f in files}
    finally:
        os.umask(old)
    assert modes == {f.name: 0o600 for f in files}
