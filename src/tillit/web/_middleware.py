"""ASGI middleware: the request body limit (checked before anything parses the body), the
security headers of every response, and the client's address behind trusted proxies."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import json
import logging
import re
import weakref
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tillit.web._errors import SECURITY_HEADERS, error_body
from tillit.web._params import request_int

__all__ = [
    "AllowMiddleware",
    "BodyLimitMiddleware",
    "ForwardedMiddleware",
    "HeavyRequestsMiddleware",
    "Lane",
    "SecurityHeadersMiddleware",
]

DEFAULT_MAX_BODY = 1_000_000
"""Bytes a request body may have (1 MB): far above any example, far below harm."""
DEFAULT_MAX_UPLOAD = 100_000_000
"""Bytes an upload of consultation responses may have (100 MB: several PDFs; the body is
held in memory, so not more). The upload page limits each file itself (20 MB)."""
#: The addresses that take uploads (``POST /remisser/{nr}/svar``).
UPLOADS = re.compile(r"/remisser/[0-9]+/svar")

# Everything under /api (JSON, and the plain docs page) may load nothing at all.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
#: Pages that show or take secrets (passwords, new API tokens): never stored by any cache.
_PRIVATE_PATHS = ("/logga-in", "/logga-ut", "/konto")


async def _send_json_error(send: Send, status: int, code: str, message: str, hint: str) -> None:
    body = json.dumps(error_body(status, code, message, hint), ensure_ascii=False).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
        (b"connection", b"close"),
        *((k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


class BodyLimitMiddleware:
    """Refuse a NUL in the path or query (400), and answer 413 (in the error shape) when a
    body is larger than ``max_bytes``, judged by Content-Length when given and by counting
    otherwise; the app never sees such a request."""

    def __init__(
        self,
        app: ASGIApp,
        max_bytes: int = DEFAULT_MAX_BODY,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes

    async def _too_large(self, send: Send, limit: int) -> None:
        size = f"{limit // 1_000_000} MB" if limit >= 1_000_000 else f"{limit // 1000} kB"
        await _send_json_error(
            send,
            413,
            "request_too_large",
            f"Begäran är större än {size}.",
            "Korta texterna eller dela upp ändringen (skicka färre filer åt gången).",
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # NUL cannot be stored or looked up (PostgreSQL refuses it in text): refuse it early.
        if "\x00" in scope.get("path", "") or b"%00" in scope.get("query_string", b""):
            await _send_json_error(
                send,
                400,
                "bad_request",
                "Adressen innehåller ett NUL-tecken (%00).",
                "Ta bort tecknet ur adressen.",
            )
            return
        limit = (
            max(self.max_bytes, self.max_upload_bytes)
            if UPLOADS.fullmatch(scope.get("path", ""))
            else self.max_bytes
        )
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                declared = request_int(value.decode("latin-1"), low=0, high=10**18)
                if declared is None:
                    await _send_json_error(
                        send, 400, "bad_request", "Content-Length är inget tal.", "Rätta huvudet."
                    )
                    return
                if declared > limit:
                    await self._too_large(send, limit)
                    return
        # Read the body up front (it is small by now) and hand it on in one piece.
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":
                await self.app(scope, _replay([message]), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > limit:
                await self._too_large(send, limit)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body", False))
        pending: list[Message] = [
            {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        ]

        async def receive_again() -> Message:
            return pending.pop() if pending else await receive()

        await self.app(scope, receive_again, send)


def _replay(messages: list[Message]) -> Receive:
    async def receive() -> Message:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    return receive


class SecurityHeadersMiddleware:
    """``X-Content-Type-Options: nosniff`` everywhere; under /api a CSP that allows nothing;
    ``Cache-Control: no-store`` on the login and account pages, and on every response to a
    request that carried credentials (a session cookie or an Authorization header: the
    answer is that person's) or that sets a cookie, static files excepted."""

    def __init__(self, app: ASGIApp, cookie_name: str) -> None:
        self.app = app
        self.cookie = cookie_name.encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        credentials = any(
            name == b"authorization" or (name == b"cookie" and self.cookie in value)
            for name, value in scope.get("headers", [])
        )

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                for key, value in SECURITY_HEADERS.items():
                    if key.lower().encode() not in present:
                        headers.append((key.lower().encode(), value.encode()))
                if path.startswith("/api") and b"content-security-policy" not in present:
                    headers.append((b"content-security-policy", API_CSP.encode()))
                private = path.startswith(_PRIVATE_PATHS) or (
                    (credentials or b"set-cookie" in present) and not path.startswith("/static")
                )
                if private:
                    headers = [(k, v) for k, v in headers if k.lower() != b"cache-control"]
                    headers.append((b"cache-control", b"no-store"))
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, send_with_headers)


@dataclass(frozen=True)
class Lane:
    """Requests that cost far more than a page read from memory (``matches(method, path)``):
    at most ``limit`` of them run at once in a server process. ``defer``: they use this
    process's CPU, so they let the cheap requests in flight go first; a lane whose requests
    wait on something else (another process) does not."""

    name: str
    matches: Callable[[str, str], bool]
    limit: int = 1
    defer: bool = True


class _LoopState:
    """What the gate keeps per event loop (asyncio's locks belong to one loop)."""

    def __init__(self) -> None:
        self.gates: dict[str, asyncio.Semaphore] = {}
        self.cheap = 0  # cheap requests whose answer has not begun
        self.idle = asyncio.Event()
        self.idle.set()


class HeavyRequestsMiddleware:
    """Cheap requests first. A request of one of ``lanes`` (KPI pages, reports, …: tens of
    ms to seconds of CPU) waits here, before it takes a route thread, until fewer than its
    lane's limit of its lane run in this process; then, if its lane defers, until no cheap
    request (any other) is being answered in the process — from its arrival until its
    answer begins — but at most ``defer`` seconds.

    Why: a process runs Python on one core at a time (the interpreter lock), so a costly
    page running beside a cheap one makes the cheap one take several times its few ms.
    Serving the short requests first is what minimises the mean waiting time (shortest job
    first). ``defer`` bounds what that costs a costly request: the app's 50 ms is about ten
    cheap requests, so even under a steady stream of cheap ones a lane's request starts at
    most 50 ms after its turn (a KPI page of 40 ms is then slowed by at most that much, and
    the lane is never stopped). docs/web.md, "Cheap requests first"."""

    def __init__(self, app: ASGIApp, lanes: Iterable[Lane], defer: float = 0.05) -> None:
        self.app = app
        self.lanes = tuple(lanes)
        self.defer = defer
        self._states: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _LoopState] = (
            weakref.WeakKeyDictionary()
        )

    def lane(self, method: str, path: str) -> Lane | None:
        return next((lane for lane in self.lanes if lane.matches(method, path)), None)

    def _state(self) -> _LoopState:
        loop = asyncio.get_running_loop()
        state = self._states.get(loop)
        if state is None:
            state = self._states[loop] = _LoopState()
        return state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = self._state()
        lane = self.lane(scope.get("method", "GET"), scope.get("path", ""))
        if lane is None:
            await self._cheap(state, scope, receive, send)
            return
        gate = state.gates.get(lane.name)
        if gate is None:
            gate = state.gates[lane.name] = asyncio.Semaphore(lane.limit)
        async with gate:
            if lane.defer and state.cheap and self.defer > 0:
                # Waited long enough: then it runs beside the cheap ones.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(state.idle.wait(), self.defer)
            await self.app(scope, receive, send)

    async def _cheap(self, state: _LoopState, scope: Scope, receive: Receive, send: Send) -> None:
        """A cheap request counts until its answer begins (what follows is sending it)."""
        counted = True
        state.cheap += 1
        state.idle.clear()

        def done() -> None:
            nonlocal counted
            if counted:
                counted = False
                state.cheap -= 1
                if not state.cheap:
                    state.idle.set()

        async def send_counted(message: Message) -> None:
            if message["type"] == "http.response.start":
                done()
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            done()


Network = ipaddress.IPv4Network | ipaddress.IPv6Network


Address = ipaddress.IPv4Address | ipaddress.IPv6Address
_PORT = re.compile(r"[0-9]{1,5}")
log = logging.getLogger("tillit.web")


def _ip(text: str) -> Address | None:
    try:
        return ipaddress.ip_address(text)
    except ValueError:
        return None


def _hop(text: str) -> Address | None:
    """The address of one ``X-Forwarded-For`` hop: ``192.0.2.1``, ``192.0.2.1:4444``,
    ``2001:db8::1``, ``[2001:db8::1]`` or ``[2001:db8::1]:443``; None for anything else."""
    text = text.strip()
    if text.startswith("["):
        host, bracket, port = text[1:].partition("]")
        if not bracket or (port and not (port[0] == ":" and _PORT.fullmatch(port[1:]))):
            return None
        address = _ip(host)
        return address if isinstance(address, ipaddress.IPv6Address) else None
    if text.count(":") == 1:  # IPv4 and a port (a bare IPv6 address has two or more)
        host, _, port = text.partition(":")
        address = _ip(host)
        if not _PORT.fullmatch(port) or not isinstance(address, ipaddress.IPv4Address):
            return None
        return address
    return _ip(text)


class ForwardedMiddleware:
    """Behind a reverse proxy: for a connection from one of ``trusted`` (networks, from
    TILLIT_TRUSTED_PROXIES), the client is the right-most ``X-Forwarded-For`` address that
    is not itself trusted (those left of it were written by the client; a hop may carry a
    port, which is dropped) and ``X-Forwarded-Proto`` sets the scheme. A hop that is no
    address stops the walk with a warning in the log: the last trusted address is the
    client. Any other connection's headers are ignored."""

    def __init__(self, app: ASGIApp, trusted: Iterable[str]) -> None:
        self.app = app
        self.trusted: tuple[Network, ...] = tuple(
            ipaddress.ip_network(t, strict=False) for t in trusted
        )

    def _is_trusted(self, host: str) -> bool:
        address = _ip(host)
        return address is not None and any(address in network for network in self.trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        client = scope.get("client")
        if scope["type"] in ("http", "websocket") and client and self._is_trusted(client[0]):
            forwarded: list[str] = []
            proto = ""
            for name, value in scope.get("headers", []):
                if name == b"x-forwarded-for":
                    forwarded += value.decode("latin-1").split(",")
                elif name == b"x-forwarded-proto":
                    proto = value.decode("latin-1").split(",")[-1].strip().lower()
            host = client[0]
            for entry in reversed(forwarded):
                address = _hop(entry)
                if address is None:
                    # A malformed hop (a misconfigured proxy): believe nothing further left;
                    # the last trusted hop (e.g. the proxy itself) is the client.
                    log.warning(
                        "X-Forwarded-For hop %r from trusted proxy %s is not an address; "
                        "counting the client as %s",
                        entry.strip()[:100],
                        client[0],
                        host,
                    )
                    break
                host = str(address)
                if not self._is_trusted(host):
                    break
            scope = {**scope, "client": (host, 0 if host != client[0] else client[1])}
            if proto in ("http", "https"):
                ws = scope["type"] == "websocket"
                scope["scheme"] = {"http": "ws", "https": "wss"}[proto] if ws else proto
        await self.app(scope, receive, send)


class AllowMiddleware:
    """The API's methods per address, from its OpenAPI schema (``schema()``): ``OPTIONS``
    answers 204 with ``Allow``, and a 405 lists in ``Allow`` every method the address takes
    (Starlette's own names only those of the one route it matched)."""

    def __init__(self, app: ASGIApp, schema: Callable[[], dict[str, Any]]) -> None:
        self.app = app
        self.schema = schema
        self._table: list[tuple[re.Pattern[str], frozenset[str]]] | None = None

    def _allowed(self, path: str) -> str | None:
        if self._table is None:
            self._table = [
                (
                    re.compile("^" + re.sub(r"\\\{[^}]*\\\}", "[^/]+", re.escape(p)) + "$"),
                    frozenset(m.upper() for m in item),
                )
                for p, item in self.schema().get("paths", {}).items()
            ]
            self._table.append((re.compile(r"^/api/(docs|openapi\.json)$"), frozenset({"GET"})))
        methods = {m for regex, found in self._table if regex.match(path) for m in found}
        if not methods:
            return None
        methods |= {"HEAD", "OPTIONS"} if "GET" in methods else {"OPTIONS"}
        return ", ".join(sorted(methods))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        allow = self._allowed(path) if scope["type"] == "http" and path.startswith("/api") else None
        if allow is None:
            await self.app(scope, receive, send)
            return
        if scope["method"] == "OPTIONS":
            headers = [(b"allow", allow.encode()), (b"content-length", b"0")]
            await send({"type": "http.response.start", "status": 204, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_allow(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 405:
                headers = [(k, v) for k, v in message.get("headers", []) if k.lower() != b"allow"]
                message = {**message, "headers": [*headers, (b"allow", allow.encode())]}
            await send(message)

        await self.app(scope, receive, send_allow)
