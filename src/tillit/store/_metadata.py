"""Metadata tables (KPIs, KPI groups, municipalities, municipality groups, OUs) as Parquet.

A metadata import merges its records into a table by id; a sync from a complete listing (or an
import with ``--replace``) replaces the table. Each table file is swapped in atomically.
KPI and municipality rows carry precomputed search terms (see ``_search``).
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from tillit.store._files import fsync_dir
from tillit.store._search import fold, terms

__all__ = ["KOMMUNGRUPP_2023", "TABLES", "MetadataTables", "classify_group"]

_S = pa.string()
TABLES: dict[str, pa.Schema] = {
    "kpi": pa.schema(
        [
            ("id", _S),
            ("title", _S),
            ("description", _S),
            ("is_divided_by_gender", pa.bool_()),
            ("municipality_type", _S),
            ("auspice", _S),
            ("operating_area", _S),
            ("perspective", _S),
            ("prel_publication_date", _S),
            ("publication_date", _S),
            ("publ_period", _S),
            ("has_ou_data", pa.bool_()),
            ("search_title", _S),
            ("search_body", _S),
            ("search_exact", _S),
        ]
    ),
    "kpi_groups": pa.schema([("id", _S), ("title", _S), ("search_title", _S)]),
    "kpi_group_members": pa.schema([("group_id", _S), ("kpi", _S), ("kpi_title", _S)]),
    "municipality": pa.schema(
        [("id", _S), ("title", _S), ("type", _S), ("search_title", _S), ("search_exact", _S)]
    ),
    "municipality_groups": pa.schema(
        [
            ("id", _S),
            ("title", _S),
            ("kind", _S),
            ("code", _S),
            ("area", _S),
            ("focal_title", _S),
            ("year", pa.int16()),
        ]
    ),
    "municipality_group_members": pa.schema(
        [("group_id", _S), ("municipality", _S), ("municipality_title", _S)]
    ),
    "ou": pa.schema([("id", _S), ("municipality", _S), ("title", _S)]),
}

# SKR's municipality groups 2023 (kommungruppsindelning), as Kolada names its groups.
KOMMUNGRUPP_2023: dict[str, str] = {
    "Storstäder": "A1",
    "Pendlingskommun nära storstad": "A2",
    "Större stad": "B3",
    "Pendlingskommun nära större stad": "B4",
    "Lågpendlingskommun nära större stad": "B5",
    "Mindre stad/tätort": "C6",
    "Pendlingskommun nära mindre tätort": "C7",
    "Landsbygdskommun, ej nära större stad": "C8",
    "Landsbygdskommun": "C8",
    "Landsbygdskommun med besöksnäring": "C9",
}
# "Liknande kommuner äldreomsorg, Ale, 2024" and "Liknande kommuner, övergripande, Ale, 2025".
# "Liknande kommuner äldreomsorg, Ale, 2024", "Liknande kommuner, övergripande, Ale, 2025",
# "Liknande regioner socioekonomi, Region Dalarna, 2024".
_LIKNANDE = re.compile(
    r"^Liknande (?P<who>kommuner|regioner),? (?P<area>.+?), (?P<focal>[^,]+), (?P<year>\d{4})$"
)


def group_name(title: str) -> str:
    """A group's title without Kolada's "(ovägt medel)" (unweighted mean) suffix."""
    return re.sub(r"\s*\(ovägt medel\)\s*$", "", title).strip()


def classify_group(title: str) -> dict[str, Any]:
    """Recognise SKR's kommungrupp 2023 groups and Kolada's "Liknande kommuner" and
    "Liknande regioner" groups (kind ``liknande_kommuner`` / ``liknande_regioner``)."""
    name = group_name(title)
    if name in KOMMUNGRUPP_2023 and name != title:
        return {
            "kind": "kommungrupp_2023",
            "code": KOMMUNGRUPP_2023[name],
            "area": None,
            "focal_title": None,
            "year": 2023,
        }
    match = _LIKNANDE.match(title)
    if match:
        return {
            "kind": f"liknande_{match['who']}",
            "code": None,
            "area": match["area"],
            "focal_title": match["focal"],
            "year": int(match["year"]),
        }
    return {"kind": "other", "code": None, "area": None, "focal_title": None, "year": None}


_MEMBER_TABLES = {
    "kpi_groups": "kpi_group_members",
    "municipality_groups": "municipality_group_members",
}


def _joined(text: str | None) -> str:
    return " ".join(terms(text))


def _rows_for(kind: str, records: Iterable[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Turn validated records of a Kolada metadata endpoint into the rows of our tables."""
    records = list(records)
    if kind == "kpi":
        rows = []
        for r in records:
            rows.append(
                {
                    **r,
                    "search_title": _joined(r["title"]),
                    "search_body": _joined(r.get("description")),
                    "search_exact": fold(r["title"] or ""),
                }
            )
        return {"kpi": rows}
    if kind == "municipality":
        return {
            "municipality": [
                {
                    **r,
                    "search_title": " ".join(terms(r["title"], keep_stopwords=True)),
                    "search_exact": fold(r["title"]),
                }
                for r in records
            ]
        }
    if kind == "ou":
        return {"ou": records}
    if kind == "kpi_groups":
        return {
            "kpi_groups": [
                {"id": r["id"], "title": r["title"], "search_title": _joined(r["title"])}
                for r in records
            ],
            "kpi_group_members": [
                {"group_id": r["id"], "kpi": m["member_id"], "kpi_title": m["member_title"]}
                for r in records
                for m in r["members"]
            ],
        }
    if kind == "municipality_groups":
        return {
            "municipality_groups": [
                {"id": r["id"], "title": r["title"], **classify_group(r["title"])} for r in records
            ],
            "municipality_group_members": [
                {
                    "group_id": r["id"],
                    "municipality": m["member_id"],
                    "municipality_title": m["member_title"],
                }
                for r in records
                for m in r["members"]
            ],
        }
    raise ValueError(f"unknown metadata kind {kind!r}")


class MetadataTables:
    """The metadata tables under ``directory``; reads are cached per instance."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # table -> (the file's (mtime_ns, size, inode) or None, its rows)
        self._cache: dict[str, tuple[tuple[int, int, int] | None, list[dict[str, Any]]]] = {}

    def path(self, table: str) -> Path:
        return self.directory / f"{table}.parquet"

    def exists(self, table: str) -> bool:
        return self.path(table).exists()

    def read(self, table: str) -> list[dict[str, Any]]:
        """The table's rows; read again when the file changed, also when another process
        (a `tillit sync` or `tillit import` beside a running server) wrote it. The same
        list is returned while the file is unchanged (the search indexes key on it)."""
        path = self.path(table)
        try:
            stat = path.stat()
            stamp: tuple[int, int, int] | None = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        except FileNotFoundError:
            stamp = None
        cached = self._cache.get(table)
        if cached is None or cached[0] != stamp:
            # ParquetFile, not read_table: read_table loads pyarrow.dataset and pandas (~300 ms).
            rows = pq.ParquetFile(path).read().to_pylist() if stamp is not None else []
            cached = self._cache[table] = (stamp, rows)
        return cached[1]

    def replace(self, kind: str, records: Iterable[dict[str, Any]]) -> dict[str, int]:
        """Replace the table(s) of a metadata endpoint; return rows written per table."""
        return self._write(_rows_for(kind, records))

    def merge(self, kind: str, records: Iterable[dict[str, Any]]) -> dict[str, int]:
        """Merge records of a metadata endpoint into its table(s) by id: a record whose id is
        stored replaces it (a group's members with it), a new id is added, and every other
        stored row is kept. Returns the rows in each table afterwards."""
        incoming = _rows_for(kind, records)
        ids = {row["id"] for row in incoming[kind]}
        by_id = {row["id"]: row for row in self.read(kind)}
        by_id.update((row["id"], row) for row in incoming[kind])
        tables = {kind: list(by_id.values())}
        members = _MEMBER_TABLES.get(kind)
        if members is not None:
            kept = [m for m in self.read(members) if m["group_id"] not in ids]
            tables[members] = kept + incoming[members]
        return self._write(tables)

    def _write(self, tables: dict[str, list[dict[str, Any]]]) -> dict[str, int]:
        written: dict[str, int] = {}
        for table, rows in tables.items():
            schema = TABLES[table]
            data = pa.Table.from_pylist(
                [{name: row.get(name) for name in schema.names} for row in rows], schema=schema
            )
            self.directory.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{table}.", suffix=".tmp", dir=self.directory)
            os.close(fd)
            try:
                pq.write_table(data, tmp, compression="zstd")
                with open(tmp, "rb") as handle:
                    os.fsync(handle.fileno())
                os.replace(tmp, self.path(table))
            finally:
                if os.path.exists(tmp):
                    os.unlink(tmp)
            fsync_dir(self.directory)
            self._cache.pop(table, None)
            written[table] = len(rows)
        return written
