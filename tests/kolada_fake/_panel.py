"""The parquet panel held column by column, the missing-value hash, and rendering rows."""

from __future__ import annotations

import array
import bisect
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import duckdb

PRERENDER_VALUES = 2_000_000
"""Up to this many values the rows' JSON is built once at load (~100 bytes per value)."""
GENDERS = ("T", "K", "M")
_GENDER_ORDER = {g: i for i, g in enumerate(GENDERS)}

_Value = tuple[str, float | None, int, str]
"""One gender's entry of a row: (gender, value or None, count, status)."""


def _mix32(key: int) -> int:
    """A 32-bit integer hash (two multiply-xorshift rounds), spelt identically in SQL below."""
    h = (key & 0xFFFFFFFF) ^ (key >> 32)
    h = ((h ^ (h >> 16)) * 0x45D9F3B) & 0xFFFFFFFF
    h = ((h ^ (h >> 16)) * 0x45D9F3B) & 0xFFFFFFFF
    return h ^ (h >> 16)


def _value_key(kpi: str, place: int, period: int, gender: str) -> int:
    """The number a value's key hashes to: N00945/0180/2000/T -> (((78*10^5+945)*10^4+180)*10^4
    +2000)*4+0. Every panel KPI id is a letter and five digits, every municipality four digits."""
    number = ord(kpi[0]) * 100_000 + int(kpi[1:])
    return ((number * 10_000 + place) * 10_000 + period) * 4 + _GENDER_ORDER[gender]


def is_missing_by_hash(kpi: str, place: int, period: int, gender: str, one_in: int) -> bool:
    """Whether the fake serves this value as missing (null, count 0, status "Saknas")."""
    return one_in > 0 and _mix32(_value_key(kpi, place, period, gender)) % one_in == 0


def _panel_sql(where: str, one_in: int) -> str:
    """Load the panel into table ``v``; ``missing`` is ``is_missing_by_hash`` in SQL."""
    # A non-finite value (none in the 2024 dump) would not be valid JSON: serve it as missing.
    missing = "NOT isfinite(value)"
    if one_in > 0:
        missing += f" OR xor(h2, h2 >> 16) % {int(one_in)} = 0"
    return f"""
        CREATE TEMP TABLE v AS
        WITH a AS (
            SELECT kpi, municipality_id AS m, year, gender, value,
                (((ascii(kpi)::BIGINT * 100000 + substr(kpi, 2)::BIGINT) * 10000
                + municipality_id::BIGINT) * 10000 + year) * 4
                + CASE gender WHEN 'T' THEN 0 WHEN 'K' THEN 1 ELSE 2 END AS k
            FROM read_parquet(?) {where}),
        b AS (SELECT *, xor(k & 4294967295, k >> 32) AS h0 FROM a),
        c AS (SELECT *, (xor(h0, h0 >> 16) * 73244475) & 4294967295 AS h1 FROM b),
        d AS (SELECT *, (xor(h1, h1 >> 16) * 73244475) & 4294967295 AS h2 FROM c)
        SELECT kpi, m, year, gender, value, ({missing})::TINYINT AS missing,
            CASE gender WHEN 'T' THEN 0 WHEN 'K' THEN 1 ELSE 2 END::TINYINT AS g
        FROM d"""


def _column_buffer(col: Any, buffer: int, typecode: str, length: int) -> array.array[Any]:
    """``length`` items of an Arrow array's ``buffer`` as an ``array.array`` (one copy)."""
    out: array.array[Any] = array.array(typecode)
    if col.null_count:
        raise ValueError(f"unexpected nulls in a {col.type} column")
    data = col.buffers()[buffer]
    if data is not None:
        start = col.offset * out.itemsize
        out.frombytes(memoryview(data)[start : start + length * out.itemsize])
    return out


def _column(table: Any, name: str, typecode: str) -> array.array[Any]:
    """A fixed-width Arrow column as an ``array.array`` (no Python object per value)."""
    col = table.column(name).combine_chunks()
    if col.type.bit_width != array.array(typecode).itemsize * 8:
        raise TypeError(f"column {name} is {col.type}, not array typecode {typecode!r}")
    return _column_buffer(col, 1, typecode, len(col))


# The JSON of each row, as _Panel.render_rows formats it, followed by a comma.
_ROW_JSON_SQL = """
    SELECT concat('{"kpi":"', any_value(kpi), '","municipality":"', any_value(m),
        '","period":', year, ',"values":[',
        string_agg(CASE WHEN missing = 1
            THEN concat('{"gender":"', gender, '","count":0,"status":"Saknas","value":null}')
            ELSE concat('{"gender":"', gender, '","count":1,"status":"","value":', value, '}')
            END, ',' ORDER BY g),
        ']},') AS j
    FROM w GROUP BY kc, mc, year ORDER BY kc, mc, year"""


class _Panel:
    """The parquet panel sorted by kpi, municipality, period, gender (T, K, M), as columns.

    Three levels: values (one per gender), rows (kpi, municipality, period) and pairs
    (kpi, municipality). Codes are positions in the sorted ``kpi_names``/``muni_names``.
    """

    def __init__(
        self,
        parquet: Path,
        kpis: Sequence[str] | None,
        municipalities: Sequence[str] | None,
        null_one_in: int,
        prerender: bool | None,
    ) -> None:
        where: list[str] = []
        params: list[Any] = [str(parquet)]
        for column, ids in (("kpi", kpis), ("municipality_id", municipalities)):
            if ids is None:
                continue
            ids = sorted(set(ids))
            where.append(f"{column} IN ({', '.join('?' * len(ids))})" if ids else "false")
            params.extend(ids)
        con = duckdb.connect()
        try:
            con.execute("SET enable_progress_bar = false")
            con.execute(
                _panel_sql("WHERE " + " AND ".join(where) if where else "", null_one_in), params
            )
            self.kpi_names: list[str] = [
                r[0] for r in con.sql("SELECT DISTINCT kpi FROM v ORDER BY 1").fetchall()
            ]
            self.muni_names: list[str] = [
                r[0] for r in con.sql("SELECT DISTINCT m FROM v ORDER BY 1").fetchall()
            ]
            con.execute(
                "CREATE TEMP TABLE w AS SELECT kc.c AS kc, mc.c AS mc, v.* "
                "FROM v JOIN (SELECT kpi, (row_number() OVER (ORDER BY kpi) - 1)::SMALLINT AS c "
                "FROM (SELECT DISTINCT kpi FROM v)) kc USING (kpi) "
                "JOIN (SELECT m, (row_number() OVER (ORDER BY m) - 1)::SMALLINT AS c "
                "FROM (SELECT DISTINCT m FROM v)) mc USING (m)"
            )
            vals = con.sql("SELECT g, value, missing FROM w ORDER BY kc, mc, year, g")
            t = vals.to_arrow_table()
            self.gender = _column(t, "g", "b")
            self.value = _column(t, "value", "d")
            self.null = _column(t, "missing", "b")
            con.execute(
                "CREATE TEMP TABLE r AS SELECT kc, mc, year, count(*)::TINYINT AS n, "
                "(coalesce(sum(count(*)) OVER (ORDER BY kc, mc, year ROWS BETWEEN UNBOUNDED "
                "PRECEDING AND 1 PRECEDING), 0))::BIGINT AS start, "
                "(row_number() OVER (ORDER BY kc, mc, year) - 1)::BIGINT AS rid "
                "FROM w GROUP BY kc, mc, year"
            )
            t = con.sql("SELECT * FROM r ORDER BY rid").to_arrow_table()
            self.row_kpi = _column(t, "kc", "h")
            self.row_muni = _column(t, "mc", "h")
            self.row_period = _column(t, "year", "h")
            self.row_len = _column(t, "n", "b")
            self.row_start = _column(t, "start", "q")
            t = con.sql(
                "SELECT kc, mc, min(rid)::BIGINT AS first, count(*)::INTEGER AS n "
                "FROM r GROUP BY kc, mc ORDER BY kc, mc"
            ).to_arrow_table()
            pair_kpi = _column(t, "kc", "h")
            self.pair_muni = _column(t, "mc", "h")
            self.pair_first = _column(t, "first", "q")
            self.pair_rows = _column(t, "n", "i")
            # Pre-rendered JSON of every row, each followed by a comma, end to end in one
            # bytes object: a page of consecutive rows is then a single slice.
            self.text: bytes | None = None
            self.text_at = array.array("q")
            if prerender or (prerender is None and len(self.value) <= PRERENDER_VALUES):
                t = con.sql(_ROW_JSON_SQL).to_arrow_table()
                col = t.column("j").combine_chunks().cast("large_string")
                self.text_at = _column_buffer(col, 1, "q", len(col) + 1)
                self.text = bytes(col.buffers()[2] or b"")
        finally:
            con.close()
        self.kpi_code = {k: i for i, k in enumerate(self.kpi_names)}
        self.muni_code = {m: i for i, m in enumerate(self.muni_names)}
        # kpi code -> first pair; pairs of kpi c are kpi_pairs[c]:kpi_pairs[c + 1].
        self.kpi_pairs = array.array("q", [0] * (len(self.kpi_names) + 1))
        for kc in pair_kpi:
            self.kpi_pairs[kc + 1] += 1
        for i in range(len(self.kpi_names)):
            self.kpi_pairs[i + 1] += self.kpi_pairs[i]

    def pairs_of(self, kpi: str) -> range:
        kc = self.kpi_code.get(kpi)
        return range(0) if kc is None else range(self.kpi_pairs[kc], self.kpi_pairs[kc + 1])

    def find_pair(self, kpi: str, muni: str) -> int | None:
        pairs, mc = self.pairs_of(kpi), self.muni_code.get(muni)
        if mc is None or not pairs:
            return None
        i = bisect.bisect_left(self.pair_muni, mc, pairs.start, pairs.stop)
        return i if i < pairs.stop and self.pair_muni[i] == mc else None

    def rows_of(self, pair: int) -> range:
        first = self.pair_first[pair]
        return range(first, first + self.pair_rows[pair])

    def find_row(self, kpi: str, muni: str, period: int) -> int | None:
        pair = self.find_pair(kpi, muni)
        rows = range(0) if pair is None else self.rows_of(pair)
        return next((r for r in rows if self.row_period[r] == period), None)

    def values_of(self, r: int) -> list[_Value]:
        s = self.row_start[r]
        return [
            (GENDERS[self.gender[i]], None, 0, "Saknas")
            if self.null[i]
            else (GENDERS[self.gender[i]], self.value[i], 1, "")
            for i in range(s, s + self.row_len[r])
        ]

    def render(self, rows: Sequence[int]) -> bytes:
        """The rows' JSON, each followed by a comma. The benchmark's hot path."""
        if self.text is None:
            return self.render_rows(rows).encode()
        text, at, parts = memoryview(self.text), self.text_at, []
        first = last = -2
        for r in rows:  # consecutive rows are consecutive text
            if r != last + 1:
                if first >= 0:
                    parts.append(text[at[first] : at[last + 1]])
                first = r
            last = r
        if first >= 0:
            parts.append(text[at[first] : at[last + 1]])
        return b"".join(parts)

    def render_rows(self, rows: Sequence[int]) -> str:
        """Like ``render``, formatted from the columns: f-strings create no objects the garbage
        collector tracks, which halves the cost of dicts + orjson. The ids need no escaping
        (letter + digits) and repr() of a finite float is valid JSON."""
        gender, value, null, ok, missing = self.gender, self.value, self.null, _OK, _MISSING
        row_start, row_len, row_period = self.row_start, self.row_len, self.row_period
        kpi_names, muni_names = self.kpi_names, self.muni_names
        row_kpi, row_muni = self.row_kpi, self.row_muni
        out = []
        for r in rows:
            s = row_start[r]
            values = ",".join(
                [
                    missing[gender[i]] if null[i] else f"{ok[gender[i]]}{value[i]!r}}}"
                    for i in range(s, s + row_len[r])
                ]
            )
            out.append(
                f'{{"kpi":"{kpi_names[row_kpi[r]]}","municipality":"{muni_names[row_muni[r]]}",'
                f'"period":{row_period[r]},"values":[{values}]}},'
            )
        return "".join(out)


_OK = tuple(f'{{"gender":"{g}","count":1,"status":"","value":' for g in GENDERS)
_MISSING = tuple(f'{{"gender":"{g}","count":0,"status":"Saknas","value":null}}' for g in GENDERS)
