"""Import Kolada-shaped files: value tables (Parquet/CSV) and Kolada's metadata JSON.

Values are validated row by row in DuckDB; rows that fail are written to a report
(file, line, reason) and the good ones are kept. Metadata JSON goes through the same
validation as a sync, so v2 files are accepted with schema-drift warnings.
"""

from __future__ import annotations

import hashlib
import re
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from tillit.errors import InvalidInputError, KoladaPayloadError
from tillit.sources.kolada import parse_metadata
from tillit.store import MergeResult, Provenance, Store, reraise_interrupt
from tillit.sync._checks import repeated_ids, shown_ids
from tillit.sync._progress import NullProgress, Progress
from tillit.sync._report import write_rejected
from tillit.sync._valuefile import BrokenLines, file_columns, open_source, validated_sql

__all__ = ["ImportResult", "Rejected", "import_path"]

_VALUE_SUFFIXES = (".parquet", ".csv", ".csv.gz", ".tsv")
_ASCII_DIGITS = re.compile("[0-9]+")  # a municipality code; str.isdigit() also takes "²"


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


def import_path(
    store: Store, path: Path, *, replace: bool = False, progress: Progress | None = None
) -> ImportResult:
    """Import one file into the store; the kind is told by its name and content.

    Metadata is merged into the stored catalogue by id; ``replace=True`` replaces the
    catalogue with the file's records instead. A metadata file naming an id twice is refused.
    """
    progress = progress or NullProgress()
    if not path.exists():
        raise InvalidInputError(f"Filen {path} finns inte.", hint="Kontrollera sökvägen.")
    if not path.is_file():
        raise InvalidInputError(f"{path.name} är ingen fil.", hint="Ange filer, inte mappar.")
    name = path.name.lower()
    if name.endswith(".json"):
        return _import_metadata(store, path, progress, replace=replace)
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
        # Only sniffed here, so odd shapes are skipped: parse_metadata then names what is wrong.
        member = next(
            (
                m
                for r in rows
                if isinstance(r, dict) and isinstance(r.get("members"), list)
                for m in r["members"]
                if isinstance(m, dict)
            ),
            {},
        )
        member_id = str(member.get("member_id", ""))
        return "municipality_groups" if _ASCII_DIGITS.fullmatch(member_id) else "kpi_groups"
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


def _refuse_duplicate_ids(records: list[dict[str, Any]], path: Path) -> None:
    repeated = repeated_ids(records)
    if repeated:
        raise InvalidInputError(
            f"{path.name} har samma id på flera poster: {shown_ids(repeated)}. Inget har lästs in.",
            hint="Rätta filen så att varje id förekommer en gång och kör kommandot igen.",
        )


def _import_metadata(
    store: Store, path: Path, progress: Progress, *, replace: bool
) -> ImportResult:
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
    try:
        records = parse_metadata(kind, rows, str(path))
    except KoladaPayloadError as exc:  # worded for a Kolada answer: reworded for a file
        problem = exc.message.removeprefix("Oväntat svar från Kolada: ").removesuffix(f" ({path}).")
        raise InvalidInputError(
            f"{path.name} går inte att läsa in: {problem}. Inget har lästs in.",
            hint="Rätta filen och kör kommandot igen. Tillit läser Koladas metadata som JSON, "
            'som lista eller som {"values": [...]}, med samma fält som Koladas API.',
        ) from None
    _refuse_duplicate_ids(records, path)
    with store.lock():
        if replace:
            written = store.metadata.replace(kind, records)
        else:
            written = store.metadata.merge(kind, records)
        store.prepare_search(kind)
        seconds = round(time.monotonic() - start, 3)
        store.record(
            Provenance(
                kind="import",
                source=str(path.resolve()),
                dataset=kind,
                rows=written,
                checksum=_sha256(path),
                seconds=seconds,
                parameters={"mode": "replace" if replace else "merge"},
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
def _import_values(store: Store, path: Path, progress: Progress) -> ImportResult:
    start = time.monotonic()
    is_csv = not path.name.lower().endswith(".parquet")
    line_offset = 2 if is_csv else 1  # a CSV's first data row is line 2, after the header
    con = store.connect()
    scratch = tempfile.TemporaryDirectory(prefix="tillit-import-")
    broken = BrokenLines(Path(scratch.name))
    try:
        source = open_source(con, path, broken)
        cols, types = file_columns(con, source, path)
        progress.stage(f"Läser och kontrollerar {path.name}", None)
        try:
            con.execute(
                "CREATE TEMP TABLE _checked AS "
                f"SELECT * FROM ({validated_sql(source, cols, types, line_offset)})"
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
            reraise_interrupt(exc)
            raise InvalidInputError(f"Kan inte läsa {path.name}: {exc}") from None
        rows_read = con.execute("SELECT count(*) FROM _checked").fetchall()[0][0] + len(broken)
        progress.advance(0, rows=int(rows_read))
        bad_sql = """
            SELECT line, reason, kpi, municipality,
                   coalesce(period_raw, CAST(period_num AS VARCHAR)), gender,
                   coalesce(value_raw, CAST(value AS VARCHAR)),
                   coalesce(count_raw, CAST(count_num AS VARCHAR)), NULL
            FROM _checked WHERE reason IS NOT NULL
            UNION ALL
            SELECT line, 'dubblett: rad ' || kept_line || ' har samma nyckel och gäller',
                   kpi, municipality, period_raw, gender, value_raw, count_raw, NULL
            FROM _checked JOIN _dups USING (kpi, municipality, period, gender)
            WHERE reason IS NULL AND line <> kept_line"""
        broken_source = broken.source_sql()
        if broken_source:  # lines that could not be split into columns, as rows of this shape
            bad_sql += f"""
            UNION ALL
            SELECT line, reason, NULL, NULL, NULL, NULL, NULL, NULL, text FROM {broken_source}"""
        # The rejected rows stay in DuckDB (which spills beyond its memory limit): counted here,
        # streamed to the report, and only the first 1000 come to Python.
        con.execute(f"CREATE TEMP VIEW _bad AS SELECT * FROM ({bad_sql})")
        rejected_total = int(con.execute("SELECT count(*) FROM _bad").fetchall()[0][0])
        first = con.execute("SELECT * FROM _bad ORDER BY 1 LIMIT 1000").fetchall()
        report = None
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
            if rejected_total:  # written once the good rows are safe, by the lock holder
                report = _write_report(store, path, con)
            seconds = round(time.monotonic() - start, 3)
            store.record(
                Provenance(
                    kind="import",
                    source=str(path.resolve()),
                    dataset="values",
                    rows={
                        "read": int(rows_read),
                        "rejected": rejected_total,
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
        broken.close()
        scratch.cleanup()
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
                "text": r[8],
            },
        )
        for r in first
    ]
    return ImportResult(
        path=path,
        kind="values",
        rows_read=int(rows_read),
        rows_kept=merge.received,
        merge=merge,
        rejected=rejected,
        rejected_total=rejected_total,
        report=report,
        seconds=seconds,
    )


def _write_report(store: Store, path: Path, con: Any) -> Path:
    """Write the rejected rows (table ``_bad``) to a CSV report, in line order, streamed."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    report = store.reports_dir / f"import-{stamp}-{path.stem}.rejected.csv"
    write_rejected(
        report,
        [
            "file",
            "line",
            "reason",
            "kpi",
            "municipality_id",
            "year",
            "gender",
            "value",
            "count",
            "text",
        ],
        con.execute("SELECT * FROM _bad ORDER BY 1"),
        prefix=[path.name],
    )
    return report
