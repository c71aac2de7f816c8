"""Import Kolada-shaped files: value tables (Parquet/CSV) and Kolada's metadata JSON.

Values are validated row by row in DuckDB; rows that fail are written to a report
(file, line, reason) and the good ones are kept. Metadata JSON goes through the same
validation as a sync, so v2 files are accepted with schema-drift warnings.
"""

from __future__ import annotations

import csv
import hashlib
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.csv as pacsv

from tillit.errors import InvalidInputError
from tillit.sources.kolada import parse_metadata
from tillit.store import MergeResult, Provenance, Store
from tillit.sync._progress import NullProgress, Progress

__all__ = ["ImportResult", "Rejected", "import_path"]

_VALUE_SUFFIXES = (".parquet", ".csv", ".csv.gz", ".tsv")
_ALIASES = {
    "kpi": ("kpi", "kpi_id"),
    "municipality": ("municipality_id", "municipality", "kommun_id", "geo"),
    "period": ("year", "period", "ar", "år"),
    "gender": ("gender", "kon", "kön"),
    "value": ("value", "varde", "värde"),
    "count": ("count",),
    "status": ("status",),
}
_REQUIRED = ("kpi", "municipality", "period", "value")


@dataclass(frozen=True)
class Rejected:
    file: str
    line: int
    reason: str
    row: dict[str, Any]


@dataclass
class ImportResult:
    path: Path
    kind: str  # "values" or a metadata kind
    rows_read: int
    rows_kept: int
    merge: MergeResult | None = None
    metadata_rows: dict[str, int] = field(default_factory=dict)
    rejected: list[Rejected] = field(default_factory=list)
    rejected_total: int = 0
    report: Path | None = None
    seconds: float = 0.0

    @property
    def rows_per_second(self) -> float:
        return self.rows_read / self.seconds if self.seconds > 0 else 0.0


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def import_path(store: Store, path: Path, *, progress: Progress | None = None) -> ImportResult:
    """Import one file into the store; the kind is told by its name and content."""
    progress = progress or NullProgress()
    if not path.exists():
        raise InvalidInputError(f"Filen {path} finns inte.", hint="Kontrollera sökvägen.")
    name = path.name.lower()
    if name.endswith(".json"):
        return _import_metadata(store, path, progress)
    if name.endswith(_VALUE_SUFFIXES):
        return _import_values(store, path, progress)
    raise InvalidInputError(
        f"Kan inte läsa in {path.name}: okänd filtyp.",
        hint="Tillit läser in Parquet- eller CSV-filer med värden (kolumnerna kpi, "
        "municipality_id, year, gender, value) och Koladas metadata som JSON.",
    )


# -- metadata ---------------------------------------------------------------------------
def _metadata_kind(rows: list[Any], path: Path) -> str:
    sample = next((r for r in rows if isinstance(r, dict)), None)
    if sample is None:
        raise InvalidInputError(f"{path.name} innehåller inga metadataposter.")
    keys = set(sample)
    if "members" in keys:
        member: dict[str, Any] = next((m for r in rows for m in (r.get("members") or [])), {})
        member_id = str(member.get("member_id", ""))
        return "municipality_groups" if member_id.isdigit() else "kpi_groups"
    if keys & {"operating_area", "auspice", "auspices", "perspective"}:
        return "kpi"
    if "type" in keys:
        return "municipality"
    if "municipality" in keys:
        return "ou"
    raise InvalidInputError(
        f"Känner inte igen metadatan i {path.name} (fält: {', '.join(sorted(keys))}).",
        hint="Tillit läser Koladas /kpi, /kpi_groups, /municipality, /municipality_groups och "
        '/ou i JSON, som lista eller som {"values": [...]}.',
    )


def _import_metadata(store: Store, path: Path, progress: Progress) -> ImportResult:
    start = time.monotonic()
    progress.stage(f"Läser in {path.name}", 1)
    try:
        payload = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise InvalidInputError(f"{path.name} är inte giltig JSON: {exc}") from None
    rows = payload.get("values") if isinstance(payload, dict) else payload
    if not isinstance(rows, list):
        raise InvalidInputError(f"{path.name} har ingen lista med poster.")
    kind = _metadata_kind(rows, path)
    records = parse_metadata(kind, rows, str(path))
    with store.lock():
        written = store.metadata.replace(kind, records)
        seconds = round(time.monotonic() - start, 3)
        store.record(
            Provenance(
                kind="import",
                source=str(path.resolve()),
                dataset=kind,
                rows=written,
                checksum=_sha256(path),
                seconds=seconds,
            )
        )
    progress.advance(1, rows=len(records))
    return ImportResult(
        path=path,
        kind=kind,
        rows_read=len(rows),
        rows_kept=len(records),
        metadata_rows=written,
        seconds=seconds,
    )


# -- values -----------------------------------------------------------------------------
def _read_csv(path: Path) -> tuple[pa.Table, list[tuple[int, str, str]]]:
    """Read a CSV as text columns plus ``file_row_number`` (0 for the line after the header).

    Rows that cannot be split into the header's columns come back as (line, reason, text).
    Records are assumed to be one line each, as Kolada-shaped value files are.
    """
    with path.open("rb") as handle:
        head = handle.readline().decode("utf-8-sig", errors="replace")
    delimiter = "	" if "	" in head else (";" if head.count(";") > head.count(",") else ",")
    names = [n.strip() for n in next(csv.reader([head], delimiter=delimiter))]
    broken: list[tuple[int, str, str]] = []

    def on_invalid(row: Any) -> str:
        reason = (
            f"raden kan inte tolkas: {row.actual_columns} kolumner i stället för "
            f"{row.expected_columns}"
        )
        broken.append((int(row.number), reason, str(row.text)[:200]))
        return "skip"

    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(use_threads=False, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())),
        )
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        raise InvalidInputError(
            f"Kan inte läsa {path.name} som CSV: {exc}",
            hint="Spara filen som CSV i UTF-8 med rubrikrad (kpi, municipality_id, year, gender, "
            "value).",
        ) from None
    # The kept rows are, in order, every line from 2 on except the broken ones.
    skipped = {line for line, _, _ in broken}
    if skipped:
        total = table.num_rows + len(skipped)
        rows = pa.array([n - 2 for n in range(2, total + 2) if n not in skipped], pa.int64())
    else:
        rows = pa.array(range(table.num_rows), pa.int64())
    return table.append_column("file_row_number", rows), sorted(broken)


def _source(con: Any, path: Path) -> tuple[str, list[tuple[int, str, str]]]:
    if path.name.lower().endswith(".parquet"):
        return f"read_parquet({_quote(path)}, file_row_number = true)", []
    table, broken = _read_csv(path)
    con.register("_csv_rows", table)
    return "_csv_rows", broken


def _columns(con: Any, source: str, path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Map our column names to the file's, and give each file column's DuckDB type."""
    described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    types = {r[0]: str(r[1]) for r in described}
    present = list(types)
    lowered = {c.lower(): c for c in present}
    found: dict[str, str] = {}
    for ours, names in _ALIASES.items():
        for n in names:
            if n in lowered:
                found[ours] = lowered[n]
                break
    missing = [c for c in _REQUIRED if c not in found]
    if missing:
        raise InvalidInputError(
            f"{path.name} saknar kolumnerna {', '.join(missing)} "
            f"(har: {', '.join(c for c in present if c != 'file_row_number')}).",
            hint="En värdefil behöver kpi, municipality_id, year, gender och value "
            "(count och status får finnas).",
        )
    return found, types


_NUMERIC = (
    "TINYINT",
    "SMALLINT",
    "INTEGER",
    "BIGINT",
    "HUGEINT",
    "UTINYINT",
    "USMALLINT",
    "UINTEGER",
    "UBIGINT",
    "FLOAT",
    "DOUBLE",
)


def _validated_sql(
    source: str, cols: dict[str, str], types: dict[str, str], line_offset: int
) -> str:
    """SELECT every row with typed columns and ``reason`` (NULL for a good row).

    Columns that are already numeric (Parquet) are used as they are; text columns (CSV) are
    parsed leniently (decimal comma, lost leading zeros) and reported when they do not parse.
    The ``*_raw`` columns keep the text as given, for the report.
    """

    def col(name: str) -> str:
        return '"' + cols[name].replace('"', '""') + '"'

    def numeric(name: str) -> bool:
        return name in cols and types[cols[name]].upper().startswith(_NUMERIC)

    def text(name: str) -> str:
        return f"nullif(trim(CAST({col(name)} AS VARCHAR)), '')" if name in cols else "NULL"

    muni = f"trim(CAST({col('municipality')} AS VARCHAR))"
    gender = f"upper(trim(CAST({col('gender')} AS VARCHAR)))" if "gender" in cols else "'T'"
    typed = {
        "period": (
            f"CAST({col('period')} AS INTEGER)"
            if numeric("period")
            else f"TRY_CAST({text('period')} AS INTEGER)"
        ),
        "value": (
            f"CAST({col('value')} AS DOUBLE)"
            if numeric("value")
            else f"TRY_CAST(replace({text('value')}, ',', '.') AS DOUBLE)"
        ),
        "count": (
            f"CAST({col('count')} AS INTEGER)"
            if numeric("count")
            else f"TRY_CAST({text('count')} AS INTEGER)"
        ),
    }
    raw = {name: "NULL" if numeric(name) else text(name) for name in ("period", "value", "count")}
    return f"""
    WITH typed AS (
        SELECT file_row_number + {line_offset} AS line,
               upper(trim(CAST({col("kpi")} AS VARCHAR))) AS kpi,
               CASE WHEN regexp_full_match({muni}, '[0-9]{{1,3}}') THEN lpad({muni}, 4, '0')
                    ELSE {muni} END AS municipality,
               {typed["period"]} AS period,
               {gender} AS gender,
               {typed["value"]} AS value,
               {typed["count"]} AS count,
               {text("status")} AS status,
               {raw["period"]} AS period_raw,
               {raw["value"]} AS value_raw,
               {raw["count"]} AS count_raw
        FROM {source}
    )
    SELECT *,
        CASE
            WHEN kpi IS NULL OR NOT regexp_full_match(kpi, '[A-Z][0-9]{{5}}')
                THEN 'ogiltigt nyckeltals-id (väntade t.ex. N00945)'
            WHEN municipality IS NULL OR NOT regexp_full_match(municipality, '[0-9]{{4}}')
                THEN 'ogiltig kommun-/regionkod (väntade fyra siffror, t.ex. 0180)'
            WHEN period IS NULL OR period NOT BETWEEN 1900 AND 2200
                THEN 'ogiltigt år'
            WHEN gender IS NULL OR gender NOT IN ('T', 'K', 'M')
                THEN 'ogiltigt kön (ska vara T, K eller M)'
            WHEN (value_raw IS NOT NULL AND value IS NULL) OR isnan(value) OR isinf(value)
                THEN 'värdet är inget tal'
            WHEN count_raw IS NOT NULL AND count IS NULL
                THEN 'count är inget heltal'
        END AS reason
    FROM typed"""


def _import_values(store: Store, path: Path, progress: Progress) -> ImportResult:
    start = time.monotonic()
    is_csv = not path.name.lower().endswith(".parquet")
    line_offset = 2 if is_csv else 1  # a CSV's first data row is line 2, after the header
    con = store.connect()
    try:
        source, broken = _source(con, path)
        cols, types = _columns(con, source, path)
        progress.stage(f"Läser och kontrollerar {path.name}", None)
        try:
            con.execute(
                "CREATE TEMP TABLE _checked AS "
                f"SELECT * FROM ({_validated_sql(source, cols, types, line_offset)})"
            )
            # Keys given more than once: the last line wins. Candidates by one 64-bit hash of
            # the key (fast), then confirmed on the real key (the candidates are few).
            con.execute(
                """CREATE TEMP TABLE _dups AS
                WITH candidates AS (
                    SELECT hash(kpi, municipality, period, gender) AS h FROM _checked
                    WHERE reason IS NULL GROUP BY h HAVING count(*) > 1)
                SELECT kpi, municipality, period, gender, max(line) AS kept_line
                FROM _checked WHERE reason IS NULL
                  AND hash(kpi, municipality, period, gender) IN (SELECT h FROM candidates)
                GROUP BY ALL HAVING count(*) > 1"""
            )
        except Exception as exc:  # duckdb raises many error types for unreadable files
            raise InvalidInputError(f"Kan inte läsa {path.name}: {exc}") from None
        rows_read = con.execute("SELECT count(*) FROM _checked").fetchall()[0][0]
        progress.advance(0, rows=int(rows_read))
        bad_sql = """
            SELECT line, reason, kpi, municipality, coalesce(period_raw, CAST(period AS VARCHAR)),
                   gender, coalesce(value_raw, CAST(value AS VARCHAR)), count_raw
            FROM _checked WHERE reason IS NOT NULL
            UNION ALL
            SELECT line, 'dubblett: rad ' || kept_line || ' har samma nyckel och gäller',
                   kpi, municipality, period_raw, gender, value_raw, count_raw
            FROM _checked JOIN _dups USING (kpi, municipality, period, gender)
            WHERE reason IS NULL AND line <> kept_line"""
        bad = con.execute(f"SELECT * FROM ({bad_sql})").fetchall()
        bad += [(line, reason, None, None, text, None, None, None) for line, reason, text in broken]
        bad.sort(key=lambda row: int(row[0]))
        report = None
        if bad:
            report = _write_report(store, path, bad)
        progress.stage("Sparar i arkivet", None)
        con.execute(
            """CREATE TEMP VIEW _incoming AS SELECT kpi, municipality, period, gender, value,
                count, status, false AS deleted, line AS seq FROM _checked c
            WHERE reason IS NULL AND NOT EXISTS (
                SELECT 1 FROM _dups d WHERE d.kpi = c.kpi AND d.municipality = c.municipality
                AND d.period = c.period AND d.gender = c.gender AND d.kept_line <> c.line)"""
        )
        with store.lock():
            merge = store.values.merge(con, "_incoming", unique=True)
            seconds = round(time.monotonic() - start, 3)
            store.record(
                Provenance(
                    kind="import",
                    source=str(path.resolve()),
                    dataset="values",
                    rows={
                        "read": int(rows_read),
                        "rejected": len(bad),
                        "inserted": merge.inserted,
                        "updated": merge.updated,
                        "unchanged": merge.unchanged,
                        "total_in_store": merge.total,
                    },
                    checksum=_sha256(path),
                    seconds=seconds,
                )
            )
        progress.advance(0, rows=merge.received)
    finally:
        con.close()
    rejected = [
        Rejected(
            path.name,
            int(r[0]),
            r[1],
            {
                "kpi": r[2],
                "municipality_id": r[3],
                "year": r[4],
                "gender": r[5],
                "value": r[6],
                "count": r[7],
            },
        )
        for r in bad[:1000]
    ]
    return ImportResult(
        path=path,
        kind="values",
        rows_read=int(rows_read),
        rows_kept=merge.received,
        merge=merge,
        rejected=rejected,
        rejected_total=len(bad),
        report=report,
        seconds=seconds,
    )


def _write_report(store: Store, path: Path, bad: list[tuple[Any, ...]]) -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    store.reports_dir.mkdir(parents=True, exist_ok=True)
    report = store.reports_dir / f"import-{stamp}-{path.stem}.rejected.csv"
    with report.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            ["file", "line", "reason", "kpi", "municipality_id", "year", "gender", "value", "count"]
        )
        for row in bad:
            writer.writerow([path.name, *row])
    return report
