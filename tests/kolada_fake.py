"""A Kolada v3 API on loopback, replaying real data from ../shared/data, with faults on demand.

``FakeKolada`` is a real HTTP/1.1 server (keep-alive, one thread per connection) for testing
Tillit's Kolada client at the network edge and for throughput benchmarks. Everything it serves
is built at run time from the shared data; nothing is copied into the repository.

Served, under ``http://127.0.0.1:PORT/v3``:

- ``/kpi[/{ids}]``, ``/municipality[/{ids}]``, ``/municipality_groups[/{ids}]`` — the rKolada v3
  snapshots in ``kolada_api_metadata/`` (objects as stored). ``/kpi_groups[/{ids}]`` — built from
  ``kolada_panel/kpi_groups_tags.csv`` and ``kpi_metadata.csv``. ``/ou[/{ids}]`` — synthetic.
  ``?title=`` filters by case-insensitive substring of the title.
- ``/data/kpi/{ids}/municipality/{ids}/year/{years}`` (any two of the three segments, in that
  order) from ``kolada_panel/kolada_values_1994_2022.parquet``, one row per
  (kpi, municipality, period) with the genders grouped in ``values``, ordered by kpi,
  municipality, period; ``/oudata/kpi/{ids}/ou/{ids}/year/{years}`` likewise, synthetic.
- Envelope ``{"count": <rows on this page>, "values": [...], "next_url": "<absolute URL>"}``;
  ``per_page`` 1..5000 (default 5000); the paging state travels as ``page`` inside next_url.
  ``from_date=YYYY-MM-DD`` keeps rows changed on or after that date, deleted rows included as
  ``{"kpi", "municipality", "period", "isdeleted": true, "values": []}``.
- Errors (unknown path 404; more than 25 ids in a segment, bad ``per_page`` and the like 400)
  are JSON ``{"status", "error", "message"}``.

The panel is held column by column (``array`` module): a small subset loads in ~0.3 s, and
even ``kpis=None`` (all 7.4 M values) takes ~5 s and ~350 MB (DuckDB peaks near 1.3 GB while
loading). Up to ``PRERENDER_VALUES`` values, every row's JSON is also built once at load, so a
page costs a memory copy; above that, rows are formatted per request (~1 M values/s). Pages are
wrapped by orjson and cached by request URL. Mutations (``update_value``, ``delete_row``,
``add_row``) are kept in a small overlay that takes precedence over the panel. Run
``python tests/kolada_fake.py --help`` to serve standalone.
"""

from __future__ import annotations

import argparse
import array
import bisect
import contextlib
import csv
import os
import re
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, cast
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import duckdb
import orjson


def _resolve_shared_data() -> Path:
    env = os.environ.get("TILLIT_SHARED_DATA")
    if env:
        return Path(env)
    # <repo root>/../shared/data; this file is <repo root>/tests/kolada_fake.py.
    return Path(__file__).resolve().parents[2] / "shared" / "data"


SHARED_DATA: Path = _resolve_shared_data()
"""``$TILLIT_SHARED_DATA`` if set, else ``<repo root>/../shared/data``."""

PANEL = "kolada_panel/kolada_values_1994_2022.parquet"
KPI_METADATA_CSV = "kolada_panel/kpi_metadata.csv"
KPI_GROUP_TAGS_CSV = "kolada_panel/kpi_groups_tags.csv"
KPI_JSON = "kolada_api_metadata/kpi_v3_2026-03.values.json"
MUNICIPALITY_JSON = "kolada_api_metadata/municipality_v3_2026-03.values.json"
MUNICIPALITY_GROUPS_JSON = "kolada_api_metadata/municipality_groups_v3_2026-03.values.json"
_REQUIRED_FILES = (
    PANEL,
    KPI_METADATA_CSV,
    KPI_GROUP_TAGS_CSV,
    KPI_JSON,
    MUNICIPALITY_JSON,
    MUNICIPALITY_GROUPS_JSON,
)

MAX_PER_PAGE = 5000
PRERENDER_VALUES = 2_000_000
"""Up to this many values the rows' JSON is built once at load (~100 bytes per value)."""
MAX_IDS = 25
GENDERS = ("T", "K", "M")
_GENDER_ORDER = {g: i for i, g in enumerate(GENDERS)}
KKIK_GROUP_ID = "G2KPI74586"
KKIK_GROUP_TITLE = "Kommunens kvalitet i korthet"
FAULTS = frozenset(
    {"429", "500", "503", "reset", "truncated", "truncated_json", "slow", "malformed"}
)
LastNextUrl = Literal["absent", "empty", "null"]

# Synthetic organisational units: (municipality, name, number of units), 20 in all. Kolada's
# OU ids look like V15E018000101 (prefix, municipality code, running number).
_OU_PLAN = (("0180", "Stockholm", 7), ("1280", "Malmö", 7), ("1480", "Göteborg", 6))
_OU_YEARS = tuple(range(2015, 2023))

_Value = tuple[str, float | None, int, str]
"""One gender's entry of a row: (gender, value or None, count, status)."""
ExpectedValue = tuple[str, str, int, str, float | None, int, str | None]
"""(kpi, municipality or ou, period, gender, value or None, count, status or None)."""


class SharedDataMissingError(FileNotFoundError):
    """The shared Kolada data the fake replays is not where it was looked for."""


@dataclass(frozen=True)
class RecordedRequest:
    """One request the fake received. ``status`` is None when the connection was reset."""

    path: str
    query: dict[str, str]
    status: int | None
    fault: str | None


@dataclass
class _Fault:
    name: str
    path_contains: str
    times: int
    opts: dict[str, Any] = field(default_factory=dict)


@dataclass
class _Row:
    """A row of the mutation overlay; it replaces the panel's row with the same key."""

    kpi: str
    place: str
    period: int
    values: list[_Value]
    changed: str
    deleted: bool = False


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


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


def _value_dicts(values: Sequence[_Value]) -> list[dict[str, Any]]:
    return [{"gender": g, "count": c, "status": s, "value": v} for g, v, c, s in values]


def _entry(gender: str, value: float | None, count: int | None, status: str | None) -> _Value:
    if count is None:
        count = 0 if value is None else 1
    if status is None:
        status = "Saknas" if value is None else ""
    return (gender, value, count, status)


def _error_body(status: int, message: str) -> bytes:
    return orjson.dumps({"status": status, "error": HTTPStatus(status).phrase, "message": message})


def _read_json(path: Path) -> list[dict[str, Any]]:
    return cast(list[dict[str, Any]], orjson.loads(path.read_bytes()))


def _corrupt(body: bytes, opts: Mapping[str, Any]) -> bytes:
    """Give the first row's ``field`` (default ``period``) a value of the wrong type."""
    name = str(opts.get("field", "period"))
    wrong_defaults: dict[str, Any] = {"period": "twenty-twenty", "values": "none", "value": "n/a"}
    wrong = opts.get("value", wrong_defaults.get(name, 12345))
    doc = orjson.loads(body)
    rows = doc.get("values") if isinstance(doc, dict) else None
    if rows:
        row = rows[0]
        inner = row.get("values")
        if name not in row and isinstance(inner, list) and inner and name in inner[0]:
            inner[0][name] = wrong
        else:
            row[name] = wrong
    return orjson.dumps(doc)


def _reset(h: BaseHTTPRequestHandler) -> None:
    """Close the connection with a TCP RST (SO_LINGER 0) instead of a FIN."""
    h.close_connection = True
    conn = cast(socket.socket, h.connection)
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.rfile.close()  # the makefile() reference would otherwise keep the descriptor open
    conn.close()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        self._fake().connection_opened(cast(socket.socket, self.connection))

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self._fake().connection_closed(cast(socket.socket, self.connection))

    def _fake(self) -> FakeKolada:
        return cast(_Server, self.server).fake

    def do_GET(self) -> None:
        self._fake().handle(self)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default one-line-per-request log on stderr."""


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], fake: FakeKolada) -> None:
        self.fake = fake
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind calls socket.getfqdn, a reverse DNS lookup that can stall.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client went away; that is its business
        self.fake.note_error(traceback.format_exc())


class FakeKolada:
    """A loopback Kolada v3 server replaying the shared data. Use as a context manager.

    ``kpis``/``municipalities`` restrict the panel (None = everything in the parquet file).
    ``kkik_kpis`` are the members of the synthetic KKiK group (default: the first 10 served
    KPIs). ``null_one_in``: one value in N, chosen by a hash of its key, is served as missing
    (0 = none). ``changed`` is the change date of every panel row, compared with ``from_date``.
    ``prerender``: build every row's JSON once at load (default: when at most
    ``PRERENDER_VALUES`` values are served) so that pages cost a memory copy; otherwise rows
    are formatted per request (~1 M values/s).
    """

    def __init__(
        self,
        kpis: Sequence[str] | None = None,
        municipalities: Sequence[str] | None = None,
        *,
        kkik_kpis: Sequence[str] | None = None,
        last_next_url: LastNextUrl = "empty",
        null_one_in: int = 200,
        changed: str = "2024-01-01",
        data_dir: Path | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        page_cache_bytes: int = 256 * 2**20,
        prerender: bool | None = None,
    ) -> None:
        self.data_dir = Path(data_dir) if data_dir is not None else SHARED_DATA
        missing = [name for name in _REQUIRED_FILES if not (self.data_dir / name).is_file()]
        if missing:
            raise SharedDataMissingError(
                f"The fake Kolada server needs the shared data in {self.data_dir}, but "
                f"{', '.join(missing)} is missing. Set TILLIT_SHARED_DATA to the shared/data "
                "folder (see ../shared/README.md)."
            )
        self.last_next_url = last_next_url
        self.null_one_in = null_one_in
        self.changed = changed
        self._host, self._port = host, port
        self._panel = _Panel(self.data_dir / PANEL, kpis, municipalities, null_one_in, prerender)
        self._overlay: dict[str, dict[str, dict[int, _Row]]] = {}
        self._ou = [
            {
                "id": f"V15E{muni}{100 + i:05d}",
                "municipality": muni,
                "title": f"Exempelskolan {i} i {town} (syntetisk)",
            }
            for muni, town, n in _OU_PLAN
            for i in range(1, n + 1)
        ]
        self._ou_ids = sorted(str(u["id"]) for u in self._ou)
        kkik = list(kkik_kpis) if kkik_kpis is not None else self._panel.kpi_names[:10]
        self._metadata = self._load_metadata(kkik)
        self._lock = threading.RLock()
        self._pages: dict[tuple[str, str], bytes] = {}
        self._pages_bytes, self._page_cache_limit = 0, page_cache_bytes
        self._queries: dict[tuple[Any, ...], list[Any]] = {}
        self._faults: deque[_Fault] = deque()
        self._requests: list[RecordedRequest] = []
        self._log_lock = threading.Lock()
        self._connections: dict[socket.socket, threading.Thread] = {}
        self.connections_accepted = 0
        self.server_errors: list[str] = []
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind (port 0 = any free port) and serve from a daemon thread."""
        if self._server is not None:
            raise RuntimeError("FakeKolada is already started")
        self._stopping.clear()
        self._server = _Server((self._host, self._port), self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="fake-kolada",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, close the listening socket and every open connection."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.server_close()
        with self._log_lock:
            open_connections = list(self._connections.items())
        for conn, _ in open_connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for _, thread in open_connections:
            thread.join(timeout=5)
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeKolada is not started; use it as a context manager")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The API root, e.g. ``http://127.0.0.1:43210/v3``."""
        return f"http://{self._host}:{self.port}/v3"

    @property
    def last_next_url(self) -> LastNextUrl:
        """How the last page ends: next_url ``"absent"``, ``"empty"`` ("") or ``"null"``."""
        return self._last_next_url

    @last_next_url.setter
    def last_next_url(self, value: LastNextUrl) -> None:
        if value not in ("absent", "empty", "null"):
            raise ValueError(f"last_next_url must be absent, empty or null, not {value!r}")
        self._last_next_url = value
        if hasattr(self, "_lock"):
            self._invalidate()

    @property
    def served_kpis(self) -> list[str]:
        """KPIs with panel data, sorted (rows added with ``add_row`` not included)."""
        return list(self._panel.kpi_names)

    @property
    def served_municipalities(self) -> list[str]:
        return list(self._panel.muni_names)

    @property
    def ou_units(self) -> list[dict[str, str]]:
        """The synthetic organisational units served by ``/v3/ou``."""
        return [dict(u) for u in self._ou]

    # -- faults and the request log ---------------------------------------------------------

    def inject(self, fault: str, *, path_contains: str = "", times: int = 1, **opts: Any) -> None:
        """Queue ``fault`` for the next ``times`` requests whose path+query contains
        ``path_contains``. Faults are consumed first in, first out. Options: ``retry_after``
        (429, seconds), ``delay`` (slow, seconds), ``field``/``value`` (malformed)."""
        if fault not in FAULTS:
            raise ValueError(f"unknown fault {fault!r}; choose from {sorted(FAULTS)}")
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._log_lock:
            self._faults.append(_Fault(fault, path_contains, times, dict(opts)))

    def clear_faults(self) -> None:
        with self._log_lock:
            self._faults.clear()

    @property
    def pending_faults(self) -> int:
        """How many injected faults are still waiting for a request."""
        with self._log_lock:
            return sum(f.times for f in self._faults)

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request so far, in arrival order."""
        with self._log_lock:
            return list(self._requests)

    def clear_requests(self) -> None:
        with self._log_lock:
            self._requests.clear()

    def _take_fault(self, target: str) -> _Fault | None:
        with self._log_lock:
            for fault in self._faults:
                if fault.path_contains in target:
                    fault.times -= 1
                    if fault.times == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def note_error(self, text: str) -> None:
        with self._log_lock:
            self.server_errors.append(text)

    def connection_opened(self, conn: socket.socket) -> None:
        with self._log_lock:
            self._connections[conn] = threading.current_thread()
            self.connections_accepted += 1

    def connection_closed(self, conn: socket.socket) -> None:
        with self._log_lock:
            self._connections.pop(conn, None)

    # -- mutations between requests ---------------------------------------------------------

    def update_value(
        self,
        kpi: str,
        municipality: str,
        period: int,
        gender: str,
        value: float | None,
        *,
        changed: str = "2026-01-01",
        count: int | None = None,
        status: str | None = None,
    ) -> None:
        """Set one gender's value of a row (created if missing, undeleted if deleted).
        A None value is served with count 0 and status "Saknas" unless given."""
        with self._lock:
            row = self._overlay_row(kpi, municipality, period, changed, create=True)
            kept = [v for v in row.values if v[0] != gender] if not row.deleted else []
            kept.append(_entry(gender, value, count, status))
            row.values = sorted(kept, key=lambda v: _GENDER_ORDER.get(v[0], 9))
            row.deleted, row.changed = False, changed
            self._invalidate()

    def delete_row(
        self, kpi: str, municipality: str, period: int, *, changed: str = "2026-01-01"
    ) -> None:
        """Delete a row: served as ``isdeleted`` to ``from_date <= changed``, else not at all."""
        with self._lock:
            row = self._overlay_row(kpi, municipality, period, changed, create=False)
            row.values, row.deleted, row.changed = [], True, changed
            self._invalidate()

    def add_row(
        self,
        kpi: str,
        municipality: str,
        period: int,
        values: Mapping[str, float | None],
        *,
        changed: str = "2026-01-01",
    ) -> None:
        """Create or entirely replace a row; ``values`` maps gender (T/K/M) to value or None."""
        entries = [_entry(g, v, None, None) for g, v in values.items()]
        with self._lock:
            row = self._overlay_row(kpi, municipality, period, changed, create=True)
            row.values = sorted(entries, key=lambda v: _GENDER_ORDER.get(v[0], 9))
            row.deleted, row.changed = False, changed
            self._invalidate()

    def _overlay_row(
        self, kpi: str, municipality: str, period: int, changed: str, *, create: bool
    ) -> _Row:
        by_period = self._overlay.setdefault(kpi, {}).setdefault(municipality, {})
        row = by_period.get(period)
        if row is None:
            r = self._panel.find_row(kpi, municipality, period)
            if r is None and not create:
                raise KeyError(f"no row {kpi}/{municipality}/{period} to delete")
            values = [] if r is None else self._panel.values_of(r)
            row = by_period[period] = _Row(kpi, municipality, period, values, changed)
        return row

    def _invalidate(self) -> None:
        with self._lock:
            self._pages.clear()
            self._pages_bytes = 0
            self._queries.clear()

    # -- what tests compare against ---------------------------------------------------------

    def expected_values(
        self,
        kpis: Sequence[str] | None = None,
        municipalities: Sequence[str] | None = None,
        years: Sequence[int] | None = None,
        *,
        empty_status: str | None = None,
    ) -> list[ExpectedValue]:
        """Every value ``/v3/data`` serves now (without from_date), as
        (kpi, municipality, period, gender, value or None, count, status) in serving order.
        An empty status "" is reported as ``empty_status`` (default None)."""
        with self._lock:
            items = self._data_items(kpis, municipalities, years, None)
            panel = self._panel
            out: list[ExpectedValue] = []
            for item in items:
                if isinstance(item, _Row):
                    key, values = (item.kpi, item.place, item.period), item.values
                else:
                    kc, mc = panel.row_kpi[item], panel.row_muni[item]
                    key = (panel.kpi_names[kc], panel.muni_names[mc], panel.row_period[item])
                    values = panel.values_of(item)
                out.extend((*key, g, v, c, s or empty_status) for g, v, c, s in values)
        return out

    def expected_ou_values(self, *, empty_status: str | None = None) -> list[ExpectedValue]:
        """Every value ``/v3/oudata`` serves, as (kpi, ou, period, gender, value, count, status)."""
        items = self._ou_items(None, None, None, None)
        return [
            (k, ou, p, g, v, c, s or empty_status)
            for k, ou, p in items
            for g, v, c, s in [self._ou_value(k, ou, p)]
        ]

    # -- serving ----------------------------------------------------------------------------

    def handle(self, h: BaseHTTPRequestHandler) -> None:
        split = urlsplit(h.path)
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        fault = self._take_fault(h.path)
        name = fault.name if fault else None
        opts = fault.opts if fault else {}

        def log(status: int | None) -> None:
            # Before the answer leaves: a client that got it must find its request logged.
            with self._log_lock:
                self._requests.append(RecordedRequest(split.path, query, status, name))

        if name == "reset":
            log(None)
            _reset(h)
            return
        if name == "slow":
            self._stopping.wait(float(opts.get("delay", 2.0)))
        if name in ("429", "500", "503"):
            code = int(name)
            extra = [("Retry-After", str(opts.get("retry_after", 1)))] if code == 429 else []
            log(code)
            self._send(h, code, _error_body(code, f"injected fault {name}"), extra)
            return
        host = h.headers.get("Host") or f"{self._host}:{self.port}"
        try:
            code, body = 200, self._page(host, h.path, split.path, query)
        except _HttpError as exc:
            code, body = exc.status, _error_body(exc.status, exc.message)
        except Exception:
            self.note_error(traceback.format_exc())
            code, body = 500, _error_body(500, "the fake failed; see FakeKolada.server_errors")
        cut = None
        if name == "malformed" and code == 200:
            body = _corrupt(body, opts)
        elif name == "truncated_json":
            body = body[: len(body) // 2]
        elif name == "truncated":
            cut = len(body) // 2
        log(code)
        self._send(h, code, body, cut=cut)
        if cut is not None:
            h.close_connection = True  # set after the headers went out without "close"

    @staticmethod
    def _send(
        h: BaseHTTPRequestHandler,
        code: int,
        body: bytes,
        extra: Sequence[tuple[str, str]] = (),
        *,
        cut: int | None = None,
    ) -> None:
        lines = [
            f"HTTP/1.1 {code} {HTTPStatus(code).phrase}",
            "Content-Type: application/json",
            f"Content-Length: {len(body)}",
            *(f"{k}: {v}" for k, v in extra),
        ]
        if h.close_connection:
            lines.append("Connection: close")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        try:
            # One write: a separate small header segment would meet Nagle + delayed ACK.
            h.wfile.write(head + (body if cut is None else body[:cut]))
        except OSError:
            h.close_connection = True

    def _page(self, host: str, target: str, path: str, query: dict[str, str]) -> bytes:
        with self._lock:
            cached = self._pages.get((host, target))
            if cached is not None:
                return cached
            body = self._render(host, path, query)
            if self._pages_bytes + len(body) <= self._page_cache_limit:
                self._pages[(host, target)] = body
                self._pages_bytes += len(body)
            return body

    def _render(self, host: str, path: str, query: dict[str, str]) -> bytes:
        parts = [unquote(p) for p in path.strip("/").split("/")]
        if len(parts) < 2 or parts[0] != "v3":
            raise _HttpError(404, f"no such endpoint: {path}")
        endpoint, rest = parts[1], parts[2:]
        per_page, page = _paging(query)
        render: Callable[[list[Any]], bytes]
        if endpoint in self._metadata:
            if len(rest) > 1:
                raise _HttpError(404, f"no such endpoint: {path}")
            items: list[Any] = self._metadata_items(endpoint, rest[0] if rest else None, query)
            render = orjson.dumps
        elif endpoint in ("data", "oudata"):
            place = "municipality" if endpoint == "data" else "ou"
            seg = _segments(rest, ("kpi", place, "year"), path)
            years = _years(seg["year"]) if "year" in seg else None
            from_date = _from_date(query)
            key = (endpoint, *(tuple(seg.get(k, ())) for k in ("kpi", place, "year")), from_date)
            found = self._queries.get(key)
            if found is None:
                if len(self._queries) >= 64:
                    self._queries.pop(next(iter(self._queries)))
                if endpoint == "data":
                    found = self._data_items(seg.get("kpi"), seg.get(place), years, from_date)
                else:
                    found = self._ou_items(seg.get("kpi"), seg.get(place), years, from_date)
                self._queries[key] = found
            items = found
            render = self._render_data if endpoint == "data" else self._render_ou
        else:
            raise _HttpError(404, f"no such endpoint: {path}")
        start = (page - 1) * per_page
        chunk = items[start : start + per_page]
        doc: dict[str, Any] = {"count": len(chunk), "values": orjson.Fragment(render(chunk))}
        if start + per_page < len(items):
            doc["next_url"] = f"http://{host}{path}?{urlencode({**query, 'page': page + 1})}"
        elif self._last_next_url != "absent":
            doc["next_url"] = "" if self._last_next_url == "empty" else None
        return orjson.dumps(doc)

    def _metadata_items(
        self, endpoint: str, ids: str | None, query: Mapping[str, str]
    ) -> list[dict[str, Any]]:
        items = self._metadata[endpoint]
        if ids is not None:
            wanted = _ids(ids, "id")
            items = [i for i in items if i.get("id") in wanted]
        title = query.get("title")
        if title:
            needle = title.casefold()
            items = [i for i in items if needle in str(i.get("title") or "").casefold()]
        if endpoint == "ou" and query.get("municipality"):
            munis = set(query["municipality"].split(","))
            items = [i for i in items if i.get("municipality") in munis]
        return items

    def _data_items(
        self,
        kpis: Sequence[str] | None,
        munis: Sequence[str] | None,
        years: Sequence[int] | set[int] | None,
        from_date: str | None,
    ) -> list[int | _Row]:
        """Rows to serve in order: panel row numbers, or overlay rows that replace them."""
        panel, overlay = self._panel, self._overlay
        year_set = None if years is None else set(years)
        base_ok = from_date is None or from_date <= self.changed
        kpi_names = sorted(set(kpis) if kpis is not None else {*panel.kpi_names, *overlay})
        wanted_munis = None if munis is None else sorted(set(munis))
        out: list[int | _Row] = []
        for kpi in kpi_names:
            over_k = overlay.get(kpi, {})
            pairs: Iterator[tuple[str, int | None]]
            if wanted_munis is not None:
                pairs = ((m, panel.find_pair(kpi, m)) for m in wanted_munis)
            else:
                base = {panel.muni_names[panel.pair_muni[p]]: p for p in panel.pairs_of(kpi)}
                pairs = ((m, base.get(m)) for m in sorted({*base, *over_k}))
            for muni, pair in pairs:
                rows = panel.rows_of(pair) if pair is not None and base_ok else range(0)
                over = over_k.get(muni)
                if not over:
                    if year_set is None:
                        out.extend(rows)
                    else:
                        out.extend(r for r in rows if panel.row_period[r] in year_set)
                    continue
                merged: dict[int, int | _Row] = {}
                for r in rows:
                    period = panel.row_period[r]
                    if period not in over and (year_set is None or period in year_set):
                        merged[period] = r
                for period, row in over.items():
                    if year_set is not None and period not in year_set:
                        continue
                    if (row.deleted or from_date is not None) and (
                        from_date is None or from_date > row.changed
                    ):
                        continue
                    merged[period] = row
                out.extend(merged[p] for p in sorted(merged))
        return out

    def _render_data(self, items: list[Any]) -> bytes:
        if all(isinstance(i, int) for i in items):
            body = self._panel.render(items)
        else:
            parts: list[bytes] = []
            for item in items:
                if isinstance(item, int):
                    parts.append(self._panel.render([item]))
                    continue
                row: dict[str, Any] = {"kpi": item.kpi, "municipality": item.place}
                row["period"] = item.period
                if item.deleted:
                    row["isdeleted"] = True
                row["values"] = _value_dicts(item.values)
                parts.append(orjson.dumps(row) + b",")
            body = b"".join(parts)
        return b"[" + body[:-1] + b"]" if body else b"[]"

    # -- synthetic OU data ------------------------------------------------------------------

    def _ou_items(
        self,
        kpis: Sequence[str] | None,
        ous: Sequence[str] | None,
        years: Sequence[int] | set[int] | None,
        from_date: str | None,
    ) -> list[tuple[str, str, int]]:
        """(kpi, ou, period) for every served KPI x synthetic OU x 2015..2022, all unchanged
        since ``self.changed``."""
        if from_date is not None and from_date > self.changed:
            return []
        served = set(self._panel.kpi_names)
        kpi_names = sorted(served if kpis is None else served & set(kpis))
        ou_ids = sorted(set(self._ou_ids) if ous is None else set(self._ou_ids) & set(ous))
        periods = [y for y in _OU_YEARS if years is None or y in years]
        return [(k, ou, p) for k in kpi_names for ou in ou_ids for p in periods]

    def _ou_value(self, kpi: str, ou: str, period: int) -> _Value:
        # The panel's rule with the OU id's digits as the place number (a bigger key, same hash).
        key = _value_key(kpi, int(ou[4:]), period, "T")
        if self.null_one_in > 0 and _mix32(key) % self.null_one_in == 0:
            return ("T", None, 0, "Saknas")
        return ("T", round(10 + _mix32(key + 1) % 90_000 / 1000, 2), 1, "")

    def _render_ou(self, items: list[Any]) -> bytes:
        return orjson.dumps(
            [
                {
                    "kpi": k,
                    "ou": ou,
                    "period": p,
                    "values": _value_dicts([self._ou_value(k, ou, p)]),
                }
                for k, ou, p in items
            ]
        )

    # -- metadata ---------------------------------------------------------------------------

    def _load_metadata(self, kkik: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        d = self.data_dir
        kpi = _read_json(d / KPI_JSON)
        titles = {row["kpi"]: row["title"] for row in _read_csv(d / KPI_METADATA_CSV)}
        titles.update({str(k["id"]): str(k["title"]) for k in kpi})
        members: dict[str, list[str]] = {}
        for row in _read_csv(d / KPI_METADATA_CSV):
            for tag in (row["kpi_group_tags"] or "").split(","):
                if tag.strip():
                    members.setdefault(tag.strip().upper(), []).append(row["kpi"])
        groups: dict[str, dict[str, Any]] = {}
        for row in _read_csv(d / KPI_GROUP_TAGS_CSV):
            if row["tag"].startswith("g2kpi"):
                gid = row["tag"].upper()
                ids = sorted(set(members.get(gid, ())))
                groups[gid] = {"id": gid, "title": row["name"], "members": ids}
        # Synthetic membership: the dump tags no KPI with the KKiK group, so its members are
        # whatever the caller names (default: the first 10 served KPIs).
        groups[KKIK_GROUP_ID] = {"id": KKIK_GROUP_ID, "title": KKIK_GROUP_TITLE, "members": kkik}
        for g in groups.values():
            g["members"] = [
                {"member_id": k, "member_title": titles.get(k, "")} for k in g["members"]
            ]
        return {
            "kpi": kpi,
            "kpi_groups": list(groups.values()),
            "municipality": _read_json(d / MUNICIPALITY_JSON),
            "municipality_groups": _read_json(d / MUNICIPALITY_GROUPS_JSON),
            "ou": self._ou,
        }


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def _ids(raw: str, what: str) -> set[str]:
    ids = [i for i in raw.split(",") if i]
    if not ids:
        raise _HttpError(400, f"no {what} given")
    if len(ids) > MAX_IDS:
        raise _HttpError(400, f"at most {MAX_IDS} {what} ids per request, got {len(ids)}")
    return set(ids)


def _segments(rest: list[str], allowed: tuple[str, ...], path: str) -> dict[str, list[str]]:
    if not rest or len(rest) % 2:
        raise _HttpError(404, f"no such endpoint: {path}")
    out: dict[str, list[str]] = {}
    last = -1
    for key, raw in zip(rest[::2], rest[1::2], strict=True):
        if key not in allowed or allowed.index(key) <= last:
            raise _HttpError(404, f"no such endpoint: {path}")
        last = allowed.index(key)
        out[key] = sorted(_ids(raw, key))
    if len(out) < 2:
        raise _HttpError(400, f"give at least two of {', '.join(allowed)}")
    return out


def _years(ids: Sequence[str]) -> set[int]:
    try:
        return {int(y) for y in ids}
    except ValueError:
        raise _HttpError(400, f"years must be integers: {','.join(ids)}") from None


def _from_date(query: Mapping[str, str]) -> str | None:
    value = query.get("from_date")
    if value is None:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise _HttpError(400, f"from_date must be YYYY-MM-DD, not {value!r}")
    return value


def _paging(query: Mapping[str, str]) -> tuple[int, int]:
    try:
        per_page = int(query.get("per_page", MAX_PER_PAGE))
        page = int(query.get("page", 1))
    except ValueError:
        raise _HttpError(400, "per_page and page must be integers") from None
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise _HttpError(400, f"per_page must be 1..{MAX_PER_PAGE}, got {per_page}")
    if page < 1:
        raise _HttpError(400, f"page must be at least 1, got {page}")
    return per_page, page


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [t.strip() for t in text.split(",") if t.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    """Serve standalone: print the API root URL on stdout, serve until Ctrl-C or SIGTERM."""
    parser = argparse.ArgumentParser(description="Serve a fake Kolada v3 API on loopback.")
    parser.add_argument("--port", type=int, default=0, help="port to bind (default: any free)")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--kpis", default="N00945,N01951", help="comma-separated KPI ids")
    which.add_argument("--all-kpis", action="store_true", help="serve every KPI in the panel")
    parser.add_argument("--municipalities", help="comma-separated codes (default: all)")
    parser.add_argument("--last-next-url", choices=("absent", "empty", "null"), default="empty")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    started = time.perf_counter()
    fake = FakeKolada(
        None if args.all_kpis else _split(args.kpis),
        _split(args.municipalities),
        port=args.port,
        last_next_url=args.last_next_url,
    )
    with fake:
        print(fake.url, flush=True)
        print(
            f"serving {len(fake.served_kpis)} KPIs x {len(fake.served_municipalities)} "
            f"municipalities (loaded in {time.perf_counter() - started:.1f} s); Ctrl-C stops",
            file=sys.stderr,
            flush=True,
        )
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0


if __name__ == "__main__":
    sys.exit(main())
