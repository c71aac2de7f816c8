"""Fixtures for the bank: every ``bank`` test runs on SQLite and on PostgreSQL.

PostgreSQL comes from ``TILLIT_TEST_POSTGRES_URL`` (``.ci/run`` sets it). Each test session
creates a database of its own on that server (``tillit_test_<random>``) and drops it at the
end; without the variable, or when the server cannot be reached, the PostgreSQL cases skip
and say why."""

from __future__ import annotations

import os
import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from tillit.bank import Bank, Base, Passwords, UserRecord, open_bank, upgrade

# Cheap argon2id parameters: the tests check behaviour, not hashing cost.
FAST_PASSWORDS = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
PASSWORD = "ett långt lösenord"
DIALECTS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


def _admin_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql+psycopg").render_as_string(False)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test session."""
    server = os.environ.get("TILLIT_TEST_POSTGRES_URL", "").strip()
    # CI sets TILLIT_REQUIRE_POSTGRES=1: there, a missing server fails instead of skipping.
    give_up = pytest.fail if os.environ.get("TILLIT_REQUIRE_POSTGRES") else pytest.skip
    if not server:
        give_up(
            "TILLIT_TEST_POSTGRES_URL is not set (e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test)"
        )
    admin = create_engine(_admin_url(server), poolclass=NullPool, isolation_level="AUTOCOMMIT")
    name = f"tillit_test_{secrets.token_hex(6)}"
    try:
        with admin.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # an unreachable server: skip, saying why
        admin.dispose()
        give_up(f"PostgreSQL at {make_url(server).render_as_string()} is not reachable: {exc}")
    try:
        yield make_url(_admin_url(server)).set(database=name).render_as_string(False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_migrated_url(postgres_url: str) -> str:
    upgrade(postgres_url)
    return postgres_url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bank-template") / "bank.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


def _truncate(url: str) -> None:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            names = ", ".join(t.name for t in Base.metadata.sorted_tables)
            connection.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        engine.dispose()


@pytest.fixture(params=DIALECTS)
def bank_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty, migrated bank, on SQLite and on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "bank.sqlite"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_migrated_url")
    _truncate(url)
    return url


@pytest.fixture(params=DIALECTS)
def blank_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """The URL of a database with nothing in it (not migrated), on SQLite and PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'blank.sqlite'}"
        return
    base: str = request.getfixturevalue("postgres_url")
    schema = f"s_{secrets.token_hex(6)}"
    engine = create_engine(base, poolclass=NullPool)
    try:
        with engine.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(False)
    finally:
        with engine.begin() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


@pytest.fixture
def bank(bank_url: str) -> Iterator[Bank]:
    """An empty, migrated bank (SQLite and PostgreSQL) with cheap password hashing."""
    opened = open_bank(bank_url, passwords=FAST_PASSWORDS)
    try:
        yield opened
    finally:
        opened.close()


@dataclass(frozen=True)
class People:
    admin: UserRecord
    goteborg: UserRecord
    """An editor for Göteborg (1480)."""
    stockholm: UserRecord
    """An editor for Stockholm (0180)."""
    reader: UserRecord


ORGANISATIONS = [
    ("1480", "Göteborg", "kommun"),
    ("0180", "Stockholm", "kommun"),
    ("0014", "Region Västra Götaland", "region"),
]


@pytest.fixture
def people(bank: Bank) -> People:
    """Göteborg, Stockholm and a region; an admin, one editor for each city, a reader."""
    return seed_people(bank)


def seed_people(bank: Bank) -> People:
    """Seed ORGANISATIONS and the accounts of the ``people`` fixture into ``bank``."""
    bank.seed_organisations(ORGANISATIONS)
    admin = bank.add_user("admin@example.se", PASSWORD, "Admin", "admin")
    return People(
        admin=admin,
        goteborg=bank.add_user("g@example.se", PASSWORD, "Gö", "editor", "1480", actor=admin),
        stockholm=bank.add_user("s@example.se", PASSWORD, "Sthlm", "editor", "0180", actor=admin),
        reader=bank.add_user("r@example.se", PASSWORD, "Läsare", "reader", actor=admin),
    )
