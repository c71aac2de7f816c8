"""Reading Kolada-shaped value files (Parquet, CSV) and the SQL that validates their rows."""

from __future__ import annotations

import csv
import gzip
from array import array
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from tillit.errors import InvalidInputError
from tillit.store import reraise_interrupt

__all__ = [
    "REASON_COUNT_TOO_LARGE",
    "REASON_KPI",
    "REASON_MUNICIPALITY",
    "BrokenLines",
    "file_columns",
    "open_source",
    "validated_sql",
]

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

# Why a row is refused; the same words for an imported row and a synced one.
REASON_KPI = "ogiltigt nyckeltals-id (väntade t.ex. N00945)"
REASON_MUNICIPALITY = "ogiltig kommun-/regionkod (väntade fyra siffror, t.ex. 0180)"
REASON_COUNT_TOO_LARGE = "count är för stort (högst 2 147 483 647)"


def _quote(path: Path) -> str:
    return "'" + str(path).replace("'", "''") + "'"


_CSV_HINT = (
    "Spara filen som CSV (UTF-8, UTF-16 eller Latin-1) med rubrikrad: kpi, municipality_id, year, "
    "gender, value."
)


def _encoding(path: Path) -> str:
    """The text encoding of a CSV: UTF-16 when it starts with a byte-order mark, UTF-8 when its
    first 64 KiB are UTF-8, else Windows-1252 (Excel's "CSV" on Swedish Windows, a superset of
    Latin-1's letters). A ``.gz`` file that is not gzip is an error naming the file."""
    gz = path.name.lower().endswith(".gz")
    try:
        with gzip.open(path, "rb") if gz else path.open("rb") as handle:
            head = handle.read(1 << 16)
    except (OSError, EOFError) as exc:
        if not gz:
            raise InvalidInputError(f"Kan inte läsa {path.name}: {exc}", hint=_CSV_HINT) from None
        raise InvalidInputError(
            f"Kan inte läsa {path.name}: filen är ingen hel gzip-fil.",
            hint="Packa upp filen och läs in den som .csv, eller packa den på nytt med gzip.",
        ) from None
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "utf-16"
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 3:  # not just a character cut at the end of the sample
            return "cp1252"
    return "utf-8"


class BrokenLines:
    """Lines of a CSV that could not be split into the header's columns: their numbers in a
    compact array, and (line, reason, text) spilled in batches to a Parquet file in
    ``directory``, so that millions of them never sit in memory as Python objects."""

    _BATCH = 10_000
    _SCHEMA = pa.schema([("line", pa.int64()), ("reason", pa.string()), ("text", pa.string())])

    def __init__(self, directory: Path) -> None:
        self.lines = array("q")
        self.path = directory / "broken-lines.parquet"
        self._batch: list[tuple[int, str, str]] = []
        self._writer: pq.ParquetWriter | None = None

    def __len__(self) -> int:
        return len(self.lines)

    def add(self, line: int, reason: str, text: str) -> None:
        self.lines.append(line)
        self._batch.append((line, reason, text))
        if len(self._batch) >= self._BATCH:
            self._flush()

    def _flush(self) -> None:
        if not self._batch:
            return
        columns = list(zip(*self._batch, strict=True))
        table = pa.table(
            {
                name: pa.array(column)
                for name, column in zip(self._SCHEMA.names, columns, strict=True)
            },
            schema=self._SCHEMA,
        )
        if self._writer is None:
            self._writer = pq.ParquetWriter(self.path, self._SCHEMA)
        self._writer.write_table(table)
        self._batch.clear()

    def close(self) -> None:
        self._flush()
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def source_sql(self) -> str | None:
        """A DuckDB table expression over the broken lines; None when there are none."""
        self.close()
        return f"read_parquet({_quote(self.path)})" if self.lines else None


def _read_csv(path: Path, broken: BrokenLines) -> pa.Table:
    """Read a CSV as text columns plus ``file_row_number`` (0 for the line after the header).

    Rows that cannot be split into the header's columns come back as (line, reason, text).
    Records are assumed to be one line each, as Kolada-shaped value files are.
    """
    encoding = _encoding(path)
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as handle:
        raw = handle.read(1 << 16)
    lines = raw.decode(encoding, errors="replace").lstrip("\ufeff").splitlines()
    head = lines[0] if lines else ""
    delimiter = "\t" if "\t" in head else (";" if head.count(";") > head.count(",") else ",")
    names = [n.strip() for n in next(csv.reader([head], delimiter=delimiter), [])]

    def on_invalid(row: Any) -> str:
        reason = (
            f"raden kan inte tolkas: {row.actual_columns} kolumner i stället för "
            f"{row.expected_columns}"
        )
        broken.add(int(row.number), reason, str(row.text)[:200])
        return "skip"

    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(
                use_threads=False,
                block_size=1 << 24,
                encoding="utf8" if encoding == "utf-8" else encoding,
            ),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string())),
        )
    except (pa.ArrowException, UnicodeError, OSError, EOFError, ValueError) as exc:
        raise InvalidInputError(
            f"Kan inte läsa {path.name} som CSV: {str(exc)[:200]}", hint=_CSV_HINT
        ) from None
    # The kept rows are, in order, every line from 2 on except the broken ones.
    rows = pa.array(range(table.num_rows + len(broken)), pa.int64())
    if len(broken):
        skipped = pc.subtract(pa.array(broken.lines, pa.int64()), 2)
        rows = pc.filter(rows, pc.invert(pc.is_in(rows, value_set=skipped)))
    return table.append_column("file_row_number", rows)


def open_source(con: Any, path: Path, broken: BrokenLines) -> str:
    """The file as a DuckDB table expression (with ``file_row_number``); a CSV's lines that
    cannot be split into columns go to ``broken``."""
    if path.name.lower().endswith(".parquet"):
        return f"read_parquet({_quote(path)}, file_row_number = true)"
    con.register("_csv_rows", _read_csv(path, broken))
    return "_csv_rows"


def file_columns(con: Any, source: str, path: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Map our column names to the file's, and give each file column's DuckDB type."""
    try:
        described = con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()
    except duckdb.Error as exc:
        reraise_interrupt(exc)
        if path.name.lower().endswith(".parquet"):
            raise InvalidInputError(
                f"Kan inte läsa {path.name}: filen är ingen giltig Parquet-fil.",
                hint="Kontrollera filen; är den en CSV-fil, ge den ändelsen .csv.",
            ) from None
        raise InvalidInputError(
            f"Kan inte läsa {path.name}: {str(exc)[:200]}", hint=_CSV_HINT
        ) from None
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
    The ``*_raw`` columns keep the text as given, for the report; ``period_num`` and
    ``count_num`` hold the numbers read (as DOUBLE), so that a fraction is refused, never
    rounded, and a number out of range rejects its row, not the file.
    """

    def col(name: str) -> str:
        return '"' + cols[name].replace('"', '""') + '"'

    def numeric(name: str) -> bool:
        return name in cols and types[cols[name]].upper().startswith(_NUMERIC)

    def text(name: str) -> str:
        return f"nullif(trim(CAST({col(name)} AS VARCHAR)), '')" if name in cols else "NULL"

    muni = f"trim(CAST({col('municipality')} AS VARCHAR))"
    gender = f"upper(trim(CAST({col('gender')} AS VARCHAR)))" if "gender" in cols else "'T'"

    def as_double(name: str) -> str:
        """The column as DOUBLE (NULL when absent or not a number): TRY_CAST, so that one
        value out of range never fails the whole file."""
        if name not in cols:
            return "NULL::DOUBLE"
        if numeric(name):
            return f"TRY_CAST({col(name)} AS DOUBLE)"
        return f"TRY_CAST(replace({text(name)}, ',', '.') AS DOUBLE)"

    def whole(name: str, low: int, high: int) -> str:
        """The column as INTEGER when it is a whole number in low..high, else NULL: a
        fraction is never rounded."""
        number = f"{name}_num"
        return (
            f"CASE WHEN {number} = floor({number}) AND {number} BETWEEN {low} AND {high} "
            f"THEN CAST({number} AS INTEGER) END"
        )

    value = (
        f"TRY_CAST({col('value')} AS DOUBLE)"
        if numeric("value")
        else f"TRY_CAST(replace({text('value')}, ',', '.') AS DOUBLE)"
    )
    raw = {name: "NULL" if numeric(name) else text(name) for name in ("period", "value", "count")}
    return f"""
    WITH numbers AS (
        SELECT *,
               {as_double("period")} AS period_num,
               {as_double("count")} AS count_num
        FROM {source}
    ), typed AS (
        SELECT file_row_number + {line_offset} AS line,
               upper(trim(CAST({col("kpi")} AS VARCHAR))) AS kpi,
               CASE WHEN regexp_full_match({muni}, '[0-9]{{1,3}}') THEN lpad({muni}, 4, '0')
                    ELSE {muni} END AS municipality,
               {whole("period", 1900, 2200)} AS period,
               {gender} AS gender,
               {value} AS value,
               {whole("count", -(2**31), 2**31 - 1)} AS count,
               {text("status")} AS status,
               {raw["period"]} AS period_raw,
               {raw["value"]} AS value_raw,
               {raw["count"]} AS count_raw,
               period_num,
               count_num
        FROM numbers
    )
    SELECT *,
        CASE
            WHEN kpi IS NULL OR NOT regexp_full_match(kpi, '[A-Z][0-9]{{5}}')
                THEN '{REASON_KPI}'
            WHEN municipality IS NULL OR NOT regexp_full_match(municipality, '[0-9]{{4}}')
                THEN '{REASON_MUNICIPALITY}'
            WHEN period IS NULL OR period NOT BETWEEN 1900 AND 2200
                THEN 'ogiltigt år'
            WHEN gender IS NULL OR gender NOT IN ('T', 'K', 'M')
                THEN 'ogiltigt kön (ska vara T, K eller M)'
            WHEN (value_raw IS NOT NULL AND value IS NULL) OR isnan(value) OR isinf(value)
                THEN 'värdet är inget tal'
            WHEN count IS NULL AND abs(count_num) >= 2147483648
                THEN '{REASON_COUNT_TOO_LARGE}'
            WHEN count IS NULL AND (count_num IS NOT NULL OR count_raw IS NOT NULL)
                THEN 'count är inget heltal'
        END AS reason
    FROM typed"""
