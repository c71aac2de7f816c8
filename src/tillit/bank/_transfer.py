"""The whole bank as JSON Lines, and back: a backup that restores into either database.

The first line is ``{"table": "_bank", "format": 1, "revision": "<migration>"}``. Then one
object per row, ``{"table": <name>, <column>: <value>, …}``, tables in dependency order
(organisations before users before examples before trials before goals …) and rows by primary
key. Goals (migration 0009) are five more tables (``goals``, ``goal_indicators``,
``goal_trials``, ``goal_examples``, ``goal_revisions``) in the same format; an export written
before them has none of their rows and imports unchanged, with no goals.
Times are ISO 8601 in UTC; JSON columns are nested objects. An export written before the
bank kept kinds and sources (migration 0007) is read as that migration reads a bank: each
example's kind, source and operating area derived from its stored ``source`` and area.
Everything in the tables of
``tillit.bank._models`` is written, password hashes and token hashes included, so treat
the file as a secret."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from sqlalchemy import DateTime, Table, func, insert, select, text
from sqlalchemy.exc import DataError, IntegrityError

from tillit.bank._base import utc
from tillit.bank._corpus import Origin, origin_of
from tillit.bank._db import current_revision
from tillit.bank._models import Base, Example
from tillit.bank._repository import Bank
from tillit.errors import ConflictError, InvalidInputError

__all__ = ["TABLES", "export_bank", "import_bank"]

FORMAT = 1
#: Login attempts (the login limit's last 15 minutes) are no part of the bank's content: not
#: exported, and a target where someone has already tried to log in is still empty. Nor are
#: stored trial evaluations (migration 0011): derived from the store, computed again when
#: missing, and bound to the state of the store they were computed from.
TRANSIENT = frozenset({"login_attempts", "trial_evaluations"})
TABLES: tuple[Table, ...] = tuple(t for t in Base.metadata.sorted_tables if t.name not in TRANSIENT)
_BY_NAME = {t.name: t for t in TABLES}
_BATCH = 1000


def _encode(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc(value).isoformat()
    return value


def _lines(bank: Bank) -> Iterator[dict[str, Any]]:
    yield {"table": "_bank", "format": FORMAT, "revision": current_revision(bank.engine)}
    with bank.engine.connect() as connection:
        for table in TABLES:
            columns = list(table.columns)
            result = connection.execute(select(*columns).order_by(*table.primary_key.columns))
            for row in result:
                yield {"table": table.name} | {
                    c.name: _encode(v) for c, v in zip(columns, row, strict=True)
                }


def export_bank(bank: Bank, path: Path | IO[str]) -> dict[str, int]:
    """Write the whole bank to ``path`` (a file path or an open text stream); returns the
    rows written per table."""
    counts = {t.name: 0 for t in TABLES}
    if isinstance(path, Path):
        tmp = path.with_name(path.name + ".tmp")
        tmp.unlink(missing_ok=True)
        tmp.touch(mode=0o600)  # password and token hashes: readable by the owner only
        with tmp.open("w", encoding="utf-8") as out:
            counts = export_bank(bank, out)
        tmp.replace(path)
        return counts
    for line in _lines(bank):
        if line["table"] in counts:
            counts[line["table"]] += 1
        path.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
    return counts


def _decode(table: Table, row: dict[str, Any], where: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in row.items():
        if name == "table":
            continue
        column = table.columns.get(name)
        if column is None:
            raise InvalidInputError(f"{where}: tabellen {table.name} har ingen kolumn {name!r}.")
        if isinstance(column.type, DateTime) and value is not None:
            try:
                value = utc(datetime.fromisoformat(value))
            except (TypeError, ValueError):
                raise InvalidInputError(f"{where}: {name}={value!r} är ingen tidpunkt.") from None
        out[name] = value
    return out


def _read(source: Path | IO[str]) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(source, Path):
        with source.open(encoding="utf-8") as stream:
            yield from _read(stream)
        return
    for number, raw in enumerate(source, start=1):
        if not raw.strip():
            continue
        where = f"Rad {number}"
        try:
            row = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise InvalidInputError(f"{where} är ingen JSON: {exc.msg}.") from None
        if not isinstance(row, dict) or not isinstance(row.get("table"), str):
            raise InvalidInputError(f"{where} saknar fältet 'table'.")
        yield where, row


def import_bank(bank: Bank, path: Path | IO[str]) -> dict[str, int]:
    """Load an export into an empty, migrated bank, keeping every id; returns rows per
    table. Refuses (ConflictError) a bank that has any rows; a bad line raises
    InvalidInputError naming it and nothing is stored."""
    counts = {t.name: 0 for t in TABLES}
    with bank.transaction() as session:
        for table in TABLES:
            if session.scalar(select(func.count()).select_from(table)):
                raise ConflictError(
                    f"Banken i {bank.url} är inte tom (tabellen {table.name} har rader).",
                    hint="Importera till en ny databas: sätt TILLIT_DATABASE_URL till en tom "
                    "databas och kör `tillit db upgrade` först.",
                )
        pending: dict[str, list[dict[str, Any]]] = {t.name: [] for t in TABLES}
        order = [t.name for t in TABLES]
        reached = 0
        seen_header = False
        for where, row in _read(path):
            name = row["table"]
            if name == "_bank":
                if row.get("format") != FORMAT:
                    raise InvalidInputError(
                        f"{where}: formatet {row.get('format')!r} känns inte igen "
                        f"(Tillit läser format {FORMAT})."
                    )
                seen_header = True
                continue
            target = _BY_NAME.get(name)
            if target is None:
                raise InvalidInputError(f"{where}: okänd tabell {name!r}.")
            index = order.index(name)
            if index < reached:
                raise InvalidInputError(
                    f"{where}: tabellen {name} kommer efter {order[reached]}; "
                    "raderna ska komma i exportens ordning."
                )
            if index > reached:
                # The earlier tables are complete: write them before their dependants.
                for earlier in order[reached:index]:
                    _flush(session, _BY_NAME[earlier], pending[earlier])
                reached = index
            decoded = _decode(target, row, where)
            if name == "examples" and "kind" not in decoded:
                decoded.update(_origin(decoded))
            pending[name].append(decoded)
            counts[name] += 1
            if len(pending[name]) >= _BATCH:
                _flush(session, target, pending[name])
        if not seen_header:
            raise InvalidInputError("Filen är ingen export av banken (första raden saknas).")
        for name in order[reached:]:
            _flush(session, _BY_NAME[name], pending[name])
        if bank.dialect == "postgresql":
            for table in TABLES:
                if "id" not in table.columns:  # a composite key (trial_kpis): no sequence
                    continue
                session.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "
                        f"COALESCE((SELECT MAX(id) FROM {table.name}), 0) + 1, false)"
                    )
                )
        bank._examples_changed(session, session.scalars(select(Example.id)).all())
    return counts


def _origin(example: dict[str, Any]) -> dict[str, Any]:
    """The kind, source and operating area of an example from an export older than 0007."""
    source, area = example.get("source"), example.get("operating_area")
    if isinstance(source, str) and source:
        origin = origin_of(source, area)
    else:
        origin = Origin("example", None, None, None, area)
    return {  # every key, for every example: the rows are inserted in batches
        "kind": origin.kind,
        "source_name": origin.source_name,
        "source_url": origin.source_url,
        "source_area": origin.source_area,
        "operating_area": origin.operating_area,
    }


def _flush(session: Any, table: Table, rows: list[dict[str, Any]]) -> None:
    if rows:
        try:
            session.execute(insert(table), rows)
        except (IntegrityError, DataError) as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise InvalidInputError(
                f"Raderna för tabellen {table.name} går inte att läsa in: {reason}",
                hint="Filen ska vara en oförändrad export från `tillit bank export`.",
            ) from None
        rows.clear()
