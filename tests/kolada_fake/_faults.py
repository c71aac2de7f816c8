"""Faults on demand (injected, then consumed by matching requests) and the request log."""

from __future__ import annotations

import contextlib
import socket
import struct
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any, cast

import orjson

FAULTS = frozenset(
    {
        "429",
        "500",
        "503",
        "reset",
        "truncated",
        "truncated_json",
        "slow",
        "malformed",
        "extra_row",
        "next_url",
        "trickle",
    }
)


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


def _extra_row(body: bytes, opts: Mapping[str, Any]) -> bytes:
    """Append ``opts["row"]`` to the page's values (and its count)."""
    doc = orjson.loads(body)
    doc["values"].append(opts["row"])
    doc["count"] = len(doc["values"])
    return orjson.dumps(doc)


def _next_url(body: bytes, opts: Mapping[str, Any], served: int) -> bytes:
    """Point the page's next_url at ``opts["url"]``; ``{n}`` in it becomes a number that grows
    with every page so served (a listing that never ends)."""
    doc = orjson.loads(body)
    doc["next_url"] = str(opts["url"]).replace("{n}", str(served))
    return orjson.dumps(doc)


def _reset(h: BaseHTTPRequestHandler) -> None:
    """Close the connection with a TCP RST (SO_LINGER 0) instead of a FIN."""
    h.close_connection = True
    conn = cast(socket.socket, h.connection)
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    h.rfile.close()  # the makefile() reference would otherwise keep the descriptor open
    conn.close()


class _FaultLog:
    """FakeKolada's fault queue and request log."""

    _log_lock: threading.Lock
    _faults: deque[_Fault]
    _requests: list[RecordedRequest]
    server_errors: list[str]

    # -- faults and the request log ---------------------------------------------------------

    def inject(self, fault: str, *, path_contains: str = "", times: int = 1, **opts: Any) -> None:
        """Queue ``fault`` for the next ``times`` requests whose path+query contains
        ``path_contains``. Faults are consumed first in, first out. Options: ``retry_after``
        (429, seconds), ``delay`` (slow, seconds), ``field``/``value`` (malformed), ``row``
        (extra_row: a row appended to the page), ``url`` (next_url: where the page points next;
        ``{n}`` grows with each page), ``rate`` (trickle: body bytes per second)."""
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
