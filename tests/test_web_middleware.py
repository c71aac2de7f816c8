"""The lanes in front of the costly requests: at most one of a lane runs at once per
process, a costly request lets the cheap ones in flight finish first (for at most
``defer`` seconds), and the cheap requests pass at once."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any

import pytest

from tillit.web._app import LANES
from tillit.web._middleware import HeavyRequestsMiddleware, Lane


def _run(main: Callable[[], Coroutine[Any, Any, None]]) -> None:
    # A thread of its own: the browser tests' Playwright keeps an event loop in this one.
    errors: list[BaseException] = []

    def target() -> None:
        try:
            asyncio.run(main())
        except BaseException as error:  # re-raised in the test's thread
            errors.append(error)

    worker = threading.Thread(target=target)
    worker.start()
    worker.join(20)
    assert not worker.is_alive()
    if errors:
        raise errors[0]


NOTHING: Any = None  # receive and send: the apps here neither read nor write


def _search(method: str, path: str) -> bool:
    return path.startswith("/sok")


def test_a_lane_runs_at_most_its_limit_at_once_and_cheap_pages_pass() -> None:
    running = {"heavy": 0, "most": 0}
    log: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        heavy = scope["path"].startswith("/sok")
        if heavy:
            running["heavy"] += 1
            running["most"] = max(running["most"], running["heavy"])
        log.append(scope["path"])
        await asyncio.sleep(0.01)
        if heavy:
            running["heavy"] -= 1

    gate = HeavyRequestsMiddleware(app, lanes=[Lane("search", _search, limit=2)], defer=0)

    async def request(path: str) -> None:
        await gate({"type": "http", "method": "GET", "path": path}, NOTHING, NOTHING)

    async def main() -> None:
        await asyncio.gather(*(request(f"/sok?q={i}") for i in range(8)), request("/kommun/1384"))

    _run(main)
    assert running["most"] == 2
    # The cheap page did not wait behind the eight searches.
    assert log.index("/kommun/1384") <= 2


def test_a_costly_request_starts_when_the_cheap_ones_in_flight_are_done() -> None:
    events: list[tuple[str, str, float]] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        events.append(("start", scope["path"], time.perf_counter()))
        await asyncio.sleep(0.05 if scope["path"] == "/kommun/1" else 0.01)
        events.append(("end", scope["path"], time.perf_counter()))

    gate = HeavyRequestsMiddleware(app, lanes=LANES, defer=5.0)

    async def request(path: str, after: float = 0.0) -> None:
        await asyncio.sleep(after)
        await gate({"type": "http", "method": "GET", "path": path}, NOTHING, NOTHING)

    async def main() -> None:
        # The cheap page is in flight when the KPI page arrives; a second cheap page
        # arriving while the KPI page runs is not held back.
        await asyncio.gather(
            request("/kommun/1"), request("/nyckeltal/N1", 0.01), request("/kommun/2", 0.08)
        )

    _run(main)
    when = {(kind, path): at for kind, path, at in events}
    assert when[("start", "/nyckeltal/N1")] >= when[("end", "/kommun/1")]
    # It did not wait for the whole defer (5 s), only for the cheap page.
    assert when[("start", "/nyckeltal/N1")] - when[("end", "/kommun/1")] < 1.0
    assert when[("start", "/kommun/2")] < when[("end", "/nyckeltal/N1")] + 0.05


def test_a_costly_request_waits_no_longer_than_defer() -> None:
    started: dict[str, float] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        started[scope["path"]] = time.perf_counter()
        await asyncio.sleep(1.0 if scope["path"] == "/kommun/1" else 0.0)

    gate = HeavyRequestsMiddleware(app, lanes=LANES, defer=0.1)

    async def request(path: str, after: float = 0.0) -> None:
        await asyncio.sleep(after)
        await gate({"type": "http", "method": "GET", "path": path}, NOTHING, NOTHING)

    async def main() -> None:
        begin = time.perf_counter()
        await asyncio.gather(request("/kommun/1"), request("/kommun/2020/rapport.pdf", 0.01))
        started["begin"] = begin

    _run(main)
    waited = started["/kommun/2020/rapport.pdf"] - started["begin"]
    # Not before the defer (0.1 s after it arrived), not after the cheap page (1 s).
    assert 0.1 <= waited < 0.6


@pytest.mark.parametrize(
    ("method", "path", "lane"),
    [
        ("GET", "/nyckeltal/N03926", "costly"),
        ("GET", "/nyckeltal/N03926/fordelning.svg", "costly"),
        ("GET", "/kommun/1384/rapport", "costly"),
        ("GET", "/region/0013/rapport.pdf", "costly"),
        ("GET", "/riket/rapport.xlsx", "costly"),
        ("GET", "/forsok/3", "slow"),
        ("POST", "/remisser/2/svar", "slow"),
        ("GET", "/remisser/2/svar", None),
        ("GET", "/rapport.css", None),
        ("GET", "/kommun/1384", None),
        ("GET", "/sok.json", None),
        ("GET", "/exempel", None),
        ("GET", "/forsok", None),
        ("GET", "/static/tillit.css", None),
    ],
)
def test_the_server_lanes(method: str, path: str, lane: str | None) -> None:
    gate = HeavyRequestsMiddleware(NOTHING, lanes=LANES)
    found = gate.lane(method, path)
    assert (found.name if found else None) == lane
