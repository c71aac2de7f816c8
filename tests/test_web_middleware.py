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


def test_under_a_steady_stream_of_cheap_requests_a_lane_still_runs() -> None:
    """Cheap requests always in flight: each costly request starts at most ``defer`` after
    its turn, so five KPI pages of 20 ms take about 5 × (defer + 20 ms)."""
    done: dict[str, float] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(0.02)
        done[scope["path"]] = time.perf_counter()

    gate = HeavyRequestsMiddleware(app, lanes=LANES, defer=0.05)

    async def request(path: str) -> None:
        await gate({"type": "http", "method": "GET", "path": path}, NOTHING, NOTHING)

    async def stream(until: float) -> None:  # cheap requests, always a few in flight
        tasks: list[asyncio.Task[None]] = []
        while time.perf_counter() < until:
            tasks.append(asyncio.create_task(request(f"/kommun/{len(tasks)}")))
            await asyncio.sleep(0.005)
        await asyncio.gather(*tasks)

    async def main() -> None:
        begin = time.perf_counter()
        cheap = asyncio.create_task(stream(begin + 1.5))
        await asyncio.sleep(0.01)
        await asyncio.gather(*(request(f"/nyckeltal/N{i}") for i in range(5)))
        done["begin"] = begin
        await cheap

    _run(main)
    last = max(done[f"/nyckeltal/N{i}"] for i in range(5)) - done["begin"]
    assert 5 * 0.05 <= last < 5 * (0.05 + 0.02) + 0.3


def test_a_cheap_request_counts_until_its_answer_begins() -> None:
    """A cheap answer being sent (a slow download) no longer holds back a costly one."""
    started: dict[str, float] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        started[scope["path"]] = time.perf_counter()
        if scope["path"] == "/static/big.css":
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await asyncio.sleep(1.0)  # the body trickles out
            await send({"type": "http.response.body", "body": b""})

    async def send(message: Any) -> None:
        return None

    gate = HeavyRequestsMiddleware(app, lanes=LANES, defer=5.0)

    async def request(path: str, after: float = 0.0) -> None:
        await asyncio.sleep(after)
        await gate({"type": "http", "method": "GET", "path": path}, NOTHING, send)

    async def main() -> None:
        await asyncio.gather(request("/static/big.css"), request("/nyckeltal/N1", 0.05))

    _run(main)
    assert started["/nyckeltal/N1"] - started["/static/big.css"] < 0.5


def test_trial_pages_do_not_wait_for_cheap_requests_nor_for_an_upload() -> None:
    started: dict[str, float] = {}

    async def app(scope: Any, receive: Any, send: Any) -> None:
        started[scope["path"]] = time.perf_counter()
        await asyncio.sleep(1.0 if scope["path"] in ("/kommun/1", "/remisser/2/svar") else 0.0)

    gate = HeavyRequestsMiddleware(app, lanes=LANES, defer=5.0)

    async def request(path: str, method: str = "GET", after: float = 0.0) -> None:
        await asyncio.sleep(after)
        await gate({"type": "http", "method": method, "path": path}, NOTHING, NOTHING)

    async def main() -> None:
        await asyncio.gather(
            request("/kommun/1"),
            request("/remisser/2/svar", "POST", 0.01),
            request("/forsok/7", after=0.02),
            request("/forsok/7.json", after=0.02),
        )

    _run(main)
    assert started["/forsok/7"] - started["/kommun/1"] < 0.5
    assert started["/forsok/7.json"] - started["/kommun/1"] < 0.5


def test_the_gate_works_in_a_second_event_loop() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await asyncio.sleep(0.01)

    gate = HeavyRequestsMiddleware(app, lanes=LANES, defer=0.1)

    async def main() -> None:
        await asyncio.gather(
            *(
                gate({"type": "http", "method": "GET", "path": p}, NOTHING, NOTHING)
                for p in ("/kommun/1", "/nyckeltal/N1", "/nyckeltal/N2")
            )
        )

    _run(main)
    _run(main)  # asyncio's locks belong to one loop: the gate keeps one set per loop


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
        ("GET", "/nyckeltal/N03926", "page"),
        ("GET", "/nyckeltal/N03926.json", "page"),
        ("GET", "/nyckeltal/N03926/fordelning.svg", "page"),
        ("GET", "/exempel/12", "page"),
        ("GET", "/exempel/12.json", "page"),
        ("GET", "/api/examples/12", "page"),
        ("GET", "/kommun/1384/rapport", "document"),
        ("GET", "/region/0013/rapport.pdf", "document"),
        ("GET", "/riket/rapport.xlsx", "document"),
        ("GET", "/remisser/2", "document"),
        ("GET", "/remisser/2.docx", "document"),
        ("GET", "/forsok/3", "trial"),
        ("GET", "/forsok/3.json", "trial"),
        ("GET", "/forsok/3/syntes.svg", "trial"),
        ("POST", "/remisser/2/svar", "upload"),
        ("GET", "/forsok/ny", None),
        ("GET", "/forsok/3/andra", None),
        ("GET", "/forsok/3/ta-bort", None),
        ("GET", "/forsok", None),
        ("GET", "/remisser/2/svar", None),
        ("GET", "/remisser/svar/4", None),
        ("GET", "/rapport.css", None),
        ("GET", "/static/rapport-exempel.css", None),
        ("GET", "/kommun/1384", None),
        ("GET", "/sok.json", None),
        ("GET", "/exempel", None),
        ("GET", "/exempel/nytt", None),
        ("GET", "/static/tillit.css", None),
    ],
)
def test_the_server_lanes(method: str, path: str, lane: str | None) -> None:
    gate = HeavyRequestsMiddleware(NOTHING, lanes=LANES)
    found = gate.lane(method, path)
    assert (found.name if found else None) == lane
