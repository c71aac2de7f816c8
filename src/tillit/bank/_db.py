"""Engines and migrations: one behaviour on SQLite (embedded) and PostgreSQL (shared server)."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError
from sqlalchemy.pool import NullPool

from tillit.errors import ConfigError, NotFoundError, StoreError

__all__ = ["create_bank_engine", "current_revision", "head_revision", "upgrade"]

_UPGRADE_HINT = "Kör `tillit db upgrade` först."


def create_bank_engine(url: str) -> Engine:
    """An engine for the bank's database. SQLite gets foreign keys, WAL and a busy timeout on
    every connection (its file's folder is created, and a new file is readable by its owner
    only, as SQLite then creates the -wal and -shm files); PostgreSQL uses psycopg 3."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(
            f"Databasadressen {url!r} går inte att tolka.",
            hint="Sätt TILLIT_DATABASE_URL till en sqlite:///- eller postgresql://-adress.",
        ) from None
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            _create_private(Path(database).expanduser())
            # A pool of connections (the pragmas run once per connection, not per session):
            # opening a connection and setting WAL cost more than most of the bank's
            # queries. SQLAlchemy lets pooled SQLite connections move between threads.
            engine = create_engine(parsed, pool_size=8, max_overflow=8, pool_timeout=30)
        else:  # in memory or a URI: a connection per use, as SQLite itself shares them
            engine = create_engine(parsed, poolclass=NullPool)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            parsed = parsed.set(drivername="postgresql+psycopg")
        return create_engine(parsed, pool_pre_ping=True)
    raise ConfigError(
        f"Databastypen {backend!r} stöds inte.", hint="Använd SQLite eller PostgreSQL."
    )


def _create_private(path: Path) -> None:
    """Create the bank's SQLite file empty (an empty file is an empty database) with mode
    0600 when it does not exist: it holds password and token hashes. SQLite gives the
    -wal and -shm files it makes later the database file's mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(descriptor)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 10000")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


@contextlib.contextmanager
def _script_location() -> Iterator[Path]:
    with resources.as_file(resources.files("tillit.bank") / "migrations") as path:
        yield path


def _alembic_config(location: Path) -> Config:
    config = Config()
    config.set_main_option("script_location", str(location))
    return config


def head_revision() -> str:
    """The newest migration Tillit ships."""
    with _script_location() as location:
        heads = ScriptDirectory.from_config(_alembic_config(location)).get_heads()
    return heads[0]


def current_revision(engine: Engine) -> str | None:
    """The migration the database is at, or ``None`` for a database never upgraded."""
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    except OperationalError as exc:
        raise _unreachable(engine, exc) from None


def check_migrated(engine: Engine) -> None:
    """Raise unless the database is at Tillit's newest migration."""
    current = current_revision(engine)
    if current is None:
        raise NotFoundError(
            f"Banken i {_where(engine)} är inte skapad ännu.",
            hint=_UPGRADE_HINT.replace("först", "för att skapa den"),
        )
    head = head_revision()
    if current != head:
        raise NotFoundError(
            f"Bankens databas är på version {current}, men Tillit behöver version {head}.",
            hint="Kör `tillit db upgrade` för att uppdatera den.",
        )


def upgrade(url_or_engine: str | Engine, revision: str = "head") -> str:
    """Apply the bank's migrations up to ``revision``; returns the revision now current."""
    engine = create_bank_engine(url_or_engine) if isinstance(url_or_engine, str) else url_or_engine
    try:
        with _script_location() as location, engine.begin() as connection:
            config = _alembic_config(location)
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
        now = current_revision(engine)
    except OperationalError as exc:
        raise _unreachable(engine, exc) from None
    finally:
        if isinstance(url_or_engine, str):
            engine.dispose()
    assert now is not None
    return now


def _where(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def _unreachable(engine: Engine, exc: OperationalError) -> StoreError:
    reason = str(exc.orig).strip().splitlines()[0] if exc.orig is not None else str(exc)
    return StoreError(
        f"Bankens databas {_where(engine)} går inte att nå: {reason}",
        hint="Kontrollera TILLIT_DATABASE_URL och att databasservern är igång.",
    )
