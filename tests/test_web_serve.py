"""`tillit serve` over real HTTP: the app answers on loopback and stops on Ctrl-C."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tillit.bank import upgrade
from tillit.config import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_on_loopback_and_stops_on_ctrl_c(
    settings: Settings, tmp_path: Path, workers: int
) -> None:
    upgrade(settings.database_url)
    port = _free_port()
    env = {**os.environ, "TILLIT_HOME": str(settings.home)}
    env.pop("TILLIT_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "tillit", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/api/organisations", timeout=2)
                break
            except httpx.TransportError:
                assert server.poll() is None, "tillit serve stopped"
                assert time.monotonic() < deadline, "tillit serve did not start in 20 s"
                time.sleep(0.2)
        assert response.status_code == 200
        assert response.json() == []  # a fresh bank has no organisations yet
        docs = httpx.get(f"http://127.0.0.1:{port}/api/docs", timeout=5)
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        missing = httpx.get(f"http://127.0.0.1:{port}/api/examples/999999", timeout=5)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        # The pages answer too; with an empty store they say what to do, in Swedish.
        start = httpx.get(f"http://127.0.0.1:{port}/kommun/1384", timeout=10)
        assert start.status_code == 404 and "tillit" in start.text.lower()
        assert "Nästa steg" in start.text
    finally:
        server.send_signal(signal.SIGINT)
        try:
            _, stderr = server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
            raise
    assert "Tillit lyssnar på" in stderr
