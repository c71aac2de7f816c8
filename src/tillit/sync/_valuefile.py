"""Reading Kolada-shaped value files (Parquet, CSV) and the SQL that validates their rows."""

from __future__ import annotations

import csv
import gzip
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv

from tillit.errors import InvalidInputError

__all__ = ["file_columns", "open_source", "validated_sql"]

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


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


def _read_csv(path: Path) -> tuple[pa.Table, list[tuple[int, str, str]]]:
    """Read a CSV as text columns plus ``file_row_number`` (0 for the line after the header).

    Rows that cannot be split into the header's columns come back as (line, reason, text).
    Records are assumed to be one line each, as Kolada-shaped value files are.
    """
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
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


def open_source(con: Any, path: Path) -> tuple[str, list[tuple[int, str, str]]]:
    if path.name.lower().endswith(".parquet"):
        return f"read_parquet({_quote(path)}, file_row_number = true)", []
    table, broken = _read_csv(path)
    con.register("_csv_rows", table)
    return "_csv_rows", broken


def file_columns(con: Any, source: str, path: Path) -> tuple[dict[str, str], dict[str, str]]:
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
            f"{path.name} saknar kolumnerna {', '.join(_ALIASES[c][0] for c in missing)} "
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


def validated_sql(
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
