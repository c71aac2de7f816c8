"""Metadata tables (KPIs, KPI groups, municipalities, municipality groups, OUs) as Parquet.

A metadata import merges its records into a table by id; a sync from a complete listing (or an
import with ``--replace``) replaces the table. Each table file is swapped in atomically.
KPI and municipality rows carry precomputed search terms (see ``_search``).

A group table and its members are swapped in as a pair: every write of the members goes to a new
file (``kpi_group_members.<generation>.parquet``), and the group file, written last, names it in
its Parquet metadata. The group file's swap is the commit point: a crash before it leaves the old
group file naming the old members. The members file the previous group file named is kept for
readers that are between the two files, older ones are removed. A store written before this
layout (``kpi_group_members.parquet``, named by nothing) is read as it is.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
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
_GROUP_TABLES = {members: groups for groups, members in _MEMBER_TABLES.items()}
_MEMBERS_FILE = b"tillit.members_file"  # in a group file's metadata: its members' file name


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


_Stamp = tuple[int, int, int] | None


def _stamp(path: Path) -> _Stamp:
    """A file's (mtime_ns, size, inode), None when it does not exist: it changes with every
    write, also another process's."""
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    return (stat.st_mtime_ns, stat.st_size, stat.st_ino)


class MetadataTables:
    """The metadata tables under ``directory``; reads are cached per instance."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        # table -> (the file's (mtime_ns, size, inode) or None, its rows)
        self._cache: dict[str, tuple[tuple[int, int, int] | None, list[dict[str, Any]]]] = {}
        # members table -> (its group file's stamp, the members file that group file names)
        self._members_files: dict[str, tuple[_Stamp, Path]] = {}

    def path(self, table: str) -> Path:
        """The table's file; a members table's is the one its group file names."""
        plain = self.directory / f"{table}.parquet"
        groups = _GROUP_TABLES.get(table)
        if groups is None:
            return plain
        groups_path = self.path(groups)
        stamp = _stamp(groups_path)
        cached = self._members_files.get(table)
        if cached is None or cached[0] != stamp:
            try:
                metadata = pq.read_schema(groups_path).metadata or {}
            except FileNotFoundError:
                metadata = {}
            name = metadata.get(_MEMBERS_FILE)
            cached = self._members_files[table] = (
                stamp,
                self.directory / name.decode() if name else plain,
            )
        return cached[1]

    def exists(self, table: str) -> bool:
        return self.path(table).exists()

    def read(self, table: str) -> list[dict[str, Any]]:
        """The table's rows; read again when the file changed, also when another process
        (a `tillit sync` or `tillit import` beside a running server) wrote it. The same
        list is returned while the file is unchanged (the search indexes key on it)."""
        path = self.path(table)
        stamp = _stamp(path)
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
        """Write each table; a members table first, to a new file that its group table (which
        must be written with it) then names."""
        written: dict[str, int] = {}
        new_members: dict[str, tuple[Path, Path]] = {}  # group table -> (new, previous) file
        for table in sorted(tables, key=lambda t: t not in _GROUP_TABLES):
            metadata = None
            if table in _GROUP_TABLES:
                if _GROUP_TABLES[table] not in tables:
                    raise ValueError(f"{table} is written only with {_GROUP_TABLES[table]}")
                target = self.directory / f"{table}.{uuid.uuid4().hex}.parquet"
                new_members[_GROUP_TABLES[table]] = (target, self.path(table))
            else:
                target = self.path(table)
                if table in new_members:
                    metadata = {_MEMBERS_FILE: new_members[table][0].name.encode()}
            self._write_file(table, tables[table], target, metadata)
            written[table] = len(tables[table])
        for groups, keep in new_members.items():
            members = _MEMBER_TABLES[groups]
            self._cache.pop(members, None)
            for old in self.directory.glob(f"{members}*.parquet"):
                if old not in keep:
                    old.unlink(missing_ok=True)
        return written

    def _write_file(
        self,
        table: str,
        rows: list[dict[str, Any]],
        target: Path,
        metadata: dict[bytes, bytes] | None,
    ) -> None:
        schema = TABLES[table]
        if metadata:
            schema = schema.with_metadata(metadata)
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
            os.replace(tmp, target)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        fsync_dir(self.directory)
        self._cache.pop(table, None)
