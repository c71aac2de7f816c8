"""KPI values as Parquet: hash buckets by KPI, committed through a manifest.

Layout of a value dataset directory::

    manifest.json              {"generation": 7, "buckets": {"3f": ["3f.g000007.0.parquet"], ...}}
    3f.g000007.0.parquet       rows of every KPI whose md5 starts with "3f"

A write (merge) produces new files for the buckets it touches, then swaps in a new manifest
with one atomic rename. Readers only read files the manifest names, so they see the old state or
the new one, never a half-written mix; files of a killed merge are orphans, removed by the next.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from tillit.store._files import atomic_write_bytes, fsync_dir, reraise_interrupt

__all__ = ["MergeResult", "ValueDataset", "bucket_of"]

_FORMAT = 1


def bucket_of(kpi: str) -> str:
    """The bucket of a KPI id: the first two hex digits of its md5 (256 buckets).

    DuckDB computes the same with ``left(md5(kpi), 2)``.
    """
    return hashlib.md5(kpi.encode()).hexdigest()[:2]


@dataclass(frozen=True)
class MergeResult:
    """What a merge changed, in values (one value = kpi x unit x period x gender)."""

    received: int
    inserted: int
    updated: int
    deleted: int
    unchanged: int
    total: int


class ValueDataset:
    """One value dataset: municipality values (unit column ``municipality``) or OU values
    (unit column ``ou``)."""

    def __init__(self, directory: Path, unit: str) -> None:
        self.directory = directory
        self.unit = unit
        self.key = ("kpi", unit, "period", "gender")

    # -- reading -------------------------------------------------------------------------
    def manifest(self) -> dict[str, Any]:
        path = self.directory / "manifest.json"
        try:
            data: dict[str, Any] = orjson.loads(path.read_bytes())
        except FileNotFoundError:
            return {"format": _FORMAT, "generation": 0, "buckets": {}, "rows": 0}
        return data

    def files(self, kpis: list[str] | None = None) -> list[Path]:
        """The Parquet files holding ``kpis`` (all files when ``kpis`` is None)."""
        buckets: dict[str, list[str]] = self.manifest()["buckets"]
        wanted = buckets.keys() if kpis is None else {bucket_of(k) for k in kpis}
        return [self.directory / f for b in sorted(wanted) for f in buckets.get(b, [])]

    def source_sql(self, kpis: list[str] | None = None) -> str | None:
        """A DuckDB table expression over the files of ``kpis``; None if there are none."""
        files = self.files(kpis)
        if not files:
            return None
        listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        return f"read_parquet([{listed}])"

    # -- writing -------------------------------------------------------------------------
    def merge(
        self, con: duckdb.DuckDBPyConnection, incoming: str, *, unique: bool | None = None
    ) -> MergeResult:
        """Upsert the rows of table ``incoming`` into the dataset; rows with ``deleted`` remove
        the stored value. The caller holds the write lock.

        ``incoming`` has the key columns, ``value``, ``count``, ``status``, ``deleted`` and
        ``seq``; where a key repeats, the row with the highest ``seq`` wins. ``unique=True``
        promises that no key repeats; None (the default) checks with one hash count and sorts
        out repeats only when there are any.
        """
        try:
            return self._merge(con, incoming, unique)
        except Exception as exc:
            reraise_interrupt(exc)
            raise

    def _merge(
        self, con: duckdb.DuckDBPyConnection, incoming: str, unique: bool | None
    ) -> MergeResult:
        unit = self.unit
        key = ", ".join(self.key)
        self.directory.mkdir(parents=True, exist_ok=True)
        self.remove_orphans()
        columns = (
            f"kpi, {unit}, period::SMALLINT AS period, gender, value::DOUBLE AS value, "
            "count::INTEGER AS count, status, deleted"
        )
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _merge_new AS SELECT {columns}, seq FROM {incoming}"
        )
        if unique is None:
            total_new, distinct = con.execute(
                f"SELECT count(*), count(DISTINCT hash({key})) FROM _merge_new"
            ).fetchall()[0]
            unique = total_new == distinct
        if not unique:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _merge_new AS SELECT * FROM _merge_new "
                f"QUALIFY row_number() OVER (PARTITION BY {key} ORDER BY seq DESC) = 1"
            )
        # Buckets per KPI, not per row: md5 of a few thousand ids instead of millions of rows.
        kpis = [r[0] for r in con.execute("SELECT DISTINCT kpi FROM _merge_new").fetchall()]
        touched = sorted({bucket_of(k) for k in kpis})
        manifest = self.manifest()
        old_files = [self.directory / f for b in touched for f in manifest["buckets"].get(b, [])]
        if old_files:
            listed = ", ".join("'" + str(f).replace("'", "''") + "'" for f in old_files)
            old = f"read_parquet([{listed}])"
            received, inserted, updated, deleted = con.execute(
                f"""SELECT count(*),
                    count(*) FILTER (WHERE o.kpi IS NULL AND NOT n.deleted),
                    count(*) FILTER (WHERE o.kpi IS NOT NULL AND NOT n.deleted AND (
                        n.value IS DISTINCT FROM o.value OR n.count IS DISTINCT FROM o.count
                        OR n.status IS DISTINCT FROM o.status)),
                    count(*) FILTER (WHERE o.kpi IS NOT NULL AND n.deleted)
                FROM _merge_new n LEFT JOIN {old} o USING ({key})"""
            ).fetchall()[0]
            kept_old = f"SELECT o.* FROM {old} o ANTI JOIN _merge_new n USING ({key}) UNION ALL "
            # Old rows of touched buckets need their bucket too: their KPIs may not be new.
            kpis += [r[0] for r in con.execute(f"SELECT DISTINCT kpi FROM {old}").fetchall()]
        else:
            received, inserted = con.execute(
                "SELECT count(*), count(*) FILTER (WHERE NOT deleted) FROM _merge_new"
            ).fetchall()[0]
            updated = deleted = 0
            kept_old = ""
        if not (inserted or updated or deleted):
            # Nothing changes: keep every file and the manifest as they are.
            con.execute("DROP TABLE _merge_new")
            total = int(manifest.get("rows", 0))
            return MergeResult(int(received), 0, 0, 0, int(received), total)
        kpis = sorted(set(kpis))
        con.register(
            "_merge_bucket", pa.table({"kpi": kpis, "bucket": [bucket_of(k) for k in kpis]})
        )
        generation = int(manifest["generation"]) + 1
        tmp = self.directory / f".tmp-g{generation:06d}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp_sql = str(tmp).replace("'", "''")
        con.execute(
            f"""COPY (
                SELECT r.*, b.bucket FROM (
                    {kept_old}
                    SELECT kpi, {unit}, period, gender, value, count, status
                    FROM _merge_new WHERE NOT deleted) r
                JOIN _merge_bucket b USING (kpi)
            ) TO '{tmp_sql}' (FORMAT parquet, PARTITION_BY (bucket), COMPRESSION zstd,
                              ROW_GROUP_SIZE 100000)"""
        )
        new_buckets: dict[str, list[str]] = {
            b: list(files) for b, files in manifest["buckets"].items() if b not in touched
        }
        bucket_rows = {b: n for b, n in manifest.get("bucket_rows", {}).items() if b not in touched}
        for part in sorted(tmp.glob("bucket=*")):
            b = part.name.split("=", 1)[1]
            names = []
            for i, f in enumerate(sorted(part.glob("*.parquet"))):
                name = f"{b}.g{generation:06d}.{i}.parquet"
                bucket_rows[b] = bucket_rows.get(b, 0) + pq.ParquetFile(f).metadata.num_rows
                with open(f, "rb") as handle:
                    os.fsync(handle.fileno())
                os.replace(f, self.directory / name)
                names.append(name)
            new_buckets[b] = names
        fsync_dir(self.directory)
        total = sum(bucket_rows.values())
        new_manifest = {
            "format": _FORMAT,
            "unit": unit,
            "generation": generation,
            "buckets": dict(sorted(new_buckets.items())),
            "bucket_rows": dict(sorted(bucket_rows.items())),
            "rows": total,
        }
        atomic_write_bytes(self.directory / "manifest.json", orjson.dumps(new_manifest))
        con.execute("DROP TABLE _merge_new")
        con.unregister("_merge_bucket")
        shutil.rmtree(tmp, ignore_errors=True)
        self.remove_orphans()
        return MergeResult(
            received=int(received),
            inserted=int(inserted),
            updated=int(updated),
            deleted=int(deleted),
            unchanged=int(received) - int(inserted) - int(updated) - int(deleted),
            total=total,
        )

    def remove_orphans(self) -> None:
        """Delete files no manifest names (left by a killed merge). Caller holds the lock."""
        if not self.directory.exists():
            return
        keep = {f for files in self.manifest()["buckets"].values() for f in files}
        for path in self.directory.iterdir():
            if path.name.startswith(".tmp-g"):
                shutil.rmtree(path, ignore_errors=True)
            elif path.suffix == ".parquet" and path.name not in keep:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
