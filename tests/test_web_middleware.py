"""The gate in front of the costly pages: at most ``limit`` of them run at once, and the
other pages pass at once."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from tillit.web._middleware import HeavyRequestsMiddleware


def test_costly_pages_run_at_most_limit_at_once_and_others_pass() -> None:
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

    gate = HeavyRequestsMiddleware(app, prefixes=("/sok",), limit=2)

    async def request(path: str) -> None:
        await gate({"type": "http", "path": path}, None, None)

    async def main() -> None:
        await asyncio.gather(*(request(f"/sok?q={i}") for i in range(8)), request("/kommun/1384"))

    # A thread of its own: the browser tests' Playwright keeps an event loop in this one.
    worker = threading.Thread(target=asyncio.run, args=(main(),))
    worker.start()
    worker.join(10)
    assert running["most"] == 2
    # The cheap page did not wait behind the eight searches.
    assert log.index("/kommun/1384") <= 2
