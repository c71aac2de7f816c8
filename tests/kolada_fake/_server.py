"""The HTTP side: FakeKolada itself, its request handler and its threaded server."""

from __future__ import annotations

import contextlib
import socket
import socketserver
import sys
import threading
import traceback
from collections import deque
from collections.abc import Callable, Sequence
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, Self, cast
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit

import orjson

from ._faults import RecordedRequest, _corrupt, _extra_row, _Fault, _FaultLog, _next_url, _reset
from ._metadata import _load_metadata, _metadata_items, _ou_units
from ._panel import _Panel
from ._request import _error_body, _from_date, _HttpError, _paging, _segments, _years
from ._shared_data import _REQUIRED_FILES, PANEL, SHARED_DATA, SharedDataMissingError
from ._values import _Row, _ValueRows

LastNextUrl = Literal["absent", "empty", "null"]


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


class FakeKolada(_FaultLog, _ValueRows):
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
        self._ou = _ou_units()
        self._ou_ids = sorted(str(u["id"]) for u in self._ou)
        kkik = list(kkik_kpis) if kkik_kpis is not None else self._panel.kpi_names[:10]
        self._metadata = _load_metadata(self.data_dir, kkik, self._ou)
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
        self._next_url_served = 0
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

    def set_catalogue(self, endpoint: str, items: Sequence[dict[str, Any]]) -> None:
        """Serve ``items`` from ``/v3/{endpoint}`` (kpi, kpi_groups, municipality, ...) from now
        on, e.g. an empty or cut-short listing."""
        if endpoint not in self._metadata:
            raise ValueError(f"unknown catalogue {endpoint!r}")
        with self._lock:
            self._metadata[endpoint] = [dict(i) for i in items]
            self._invalidate()

    def catalogue(self, endpoint: str) -> list[dict[str, Any]]:
        """What ``/v3/{endpoint}`` serves now."""
        return [dict(i) for i in self._metadata[endpoint]]

    @property
    def ou_units(self) -> list[dict[str, str]]:
        """The synthetic organisational units served by ``/v3/ou``."""
        return [dict(u) for u in self._ou]

    # -- connections ------------------------------------------------------------------------

    def connection_opened(self, conn: socket.socket) -> None:
        with self._log_lock:
            self._connections[conn] = threading.current_thread()
            self.connections_accepted += 1

    def connection_closed(self, conn: socket.socket) -> None:
        with self._log_lock:
            self._connections.pop(conn, None)

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
        elif name == "extra_row" and code == 200:
            body = _extra_row(body, opts)
        elif name == "next_url" and code == 200:
            with self._log_lock:
                self._next_url_served += 1
                served = self._next_url_served
            body = _next_url(body, opts, served)
        elif name == "trickle":
            log(code)
            self._trickle(h, code, body, float(opts.get("rate", 50)))
            return
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

    def _trickle(self, h: BaseHTTPRequestHandler, code: int, body: bytes, rate: float) -> None:
        """Send the body ``rate`` bytes per second, in small pieces, until done or closed."""
        head = (
            f"HTTP/1.1 {code} {HTTPStatus(code).phrase}\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        ).encode("latin-1")
        piece = max(1, int(rate / 10))
        try:
            h.wfile.write(head)
            for i in range(0, len(body), piece):
                if self._stopping.wait(piece / rate):
                    break
                h.wfile.write(body[i : i + piece])
                h.wfile.flush()
        except OSError:
            pass
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
            items: list[Any] = _metadata_items(
                self._metadata, endpoint, rest[0] if rest else None, query
            )
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

    def _invalidate(self) -> None:
        with self._lock:
            self._pages.clear()
            self._pages_bytes = 0
            self._queries.clear()
