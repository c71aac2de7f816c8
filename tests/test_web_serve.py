"""`tillit serve` over real HTTP: the app answers on loopback and stops on Ctrl-C."""

from __future__ import annotations

import html
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from tillit.bank import upgrade
from tillit.config import Settings


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class Served:
    """A `tillit serve` subprocess on loopback; ``stderr`` is filled in once it has stopped."""

    base: str
    first: httpx.Response
    stderr: str = ""


@contextmanager
def _serve(home: Path, path: str, *extra: str) -> Iterator[Served]:
    """Start `tillit serve` on a free port with ``home`` as TILLIT_HOME, wait (20 s at most)
    until ``path`` answers, and stop it with Ctrl-C on the way out."""
    port = _free_port()
    env = {**os.environ, "TILLIT_HOME": str(home)}
    env.pop("TILLIT_DATABASE_URL", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "tillit", "serve", "--port", str(port), *extra],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                first = httpx.get(base + path, timeout=5)
                break
            except httpx.TransportError:
                assert server.poll() is None, "tillit serve stopped"
                assert time.monotonic() < deadline, "tillit serve did not start in 20 s"
                time.sleep(0.2)
        served = Served(base, first)
        yield served
    finally:
        server.send_signal(signal.SIGINT)
        try:
            _, stderr = server.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            server.kill()
            server.communicate()
            raise
    served.stderr = stderr


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_serve_answers_on_loopback_and_stops_on_ctrl_c(
    settings: Settings, tmp_path: Path, workers: int
) -> None:
    upgrade(settings.database_url)
    with _serve(settings.home, "/api/organisations", "--workers", str(workers)) as served:
        response = served.first
        assert response.status_code == 200
        assert response.json() == []  # a fresh bank has no organisations yet
        docs = httpx.get(f"{served.base}/api/docs", timeout=5)
        assert docs.status_code == 200 and "/api/openapi.json" in docs.text
        missing = httpx.get(f"{served.base}/api/examples/999999", timeout=5)
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
        # The pages answer too; with an empty store they say what to do, in Swedish.
        start = httpx.get(f"{served.base}/kommun/1384", timeout=10)
        assert start.status_code == 404 and "tillit" in start.text.lower()
        assert "Nästa steg" in start.text
    stderr = served.stderr
    assert "Tillit lyssnar på" in stderr


# --- a newcomer's first minute: `tillit serve` on an empty home --------------------------------
def _text(page: str) -> str:
    """The visible text of a page's main content, white space collapsed."""
    main = page.split("<main", 1)[-1].split("</main>", 1)[0]
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", main)).split())


def _main_has_search_form(page: str) -> bool:
    main = page.split("<main", 1)[-1].split("</main>", 1)[0]
    return bool(re.search(r'<form[^>]*action="/sok"', main))


@pytest.fixture
def empty_site(tillit_env: Settings, caplog: pytest.LogCaptureFixture) -> Iterator[TestClient]:
    """The app exactly as `tillit serve` builds it (``prepare_bank``, then
    ``app_from_environment`` with the analyses warmed in the background) on a fresh home."""
    from tillit.cli._serve import prepare_bank
    from tillit.web import app_from_environment

    caplog.set_level(logging.INFO)
    prepare_bank(tillit_env)
    with TestClient(app_from_environment()) as client:
        client.get("/api/organisations")  # the lifespan has started the warming thread
        for thread in threading.enumerate():
            if thread.name == "tillit-warm":
                thread.join(timeout=30)
        yield client


def test_start_page_on_an_empty_store_says_there_is_no_data_and_how_to_load_it(
    empty_site: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    page = empty_site.get("/")
    assert page.status_code == 200
    text = _text(page.text)
    assert "inga uppgifter" in text.lower()
    # Addressed to the administrator: the commands that load the data.
    assert "förvaltar" in text and "tillit import" in text and "tillit sync" in text
    assert _main_has_search_form(page.text)
    # Warming the analyses of an empty store is no error: no traceback in the server's log.
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_error_pages_on_an_empty_store_speak_of_the_site_not_of_commands(
    empty_site: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    for path in ("/kommun/0180", "/kommun/9999", "/nyckeltal/N01951", "/kommun?kod=Kungsbacka"):
        page = empty_site.get(path)
        assert page.status_code == 404, path
        text = _text(page.text)
        assert "tillit " not in text.lower() and "`" not in text, (path, text)
        assert "ännu" in text, (path, text)  # no data *yet*: not a wrong address
        assert _main_has_search_form(page.text), path
        assert 'href="/"' in page.text  # back to a start page that works
    for path in ("/kommun/0180.json", "/nyckeltal/N01951.json", "/kommun/0180/lika.json"):
        error = empty_site.get(path).json()["error"]
        assert error["status"] == 404 and error["code"] == "no_data", path
        assert "tillit " not in (error["hint"] or "").lower(), (path, error)
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def test_search_and_the_bank_pages_work_on_an_empty_store(empty_site: TestClient) -> None:
    page = empty_site.get("/sok", params={"q": "skola"})
    assert page.status_code == 200
    assert "inga uppgifter" in _text(page.text).lower()
    twin = empty_site.get("/sok.json", params={"q": "skola"})
    assert twin.status_code == 200
    assert twin.json()["municipalities"] == [] and twin.json()["kpis"] == []
    for path in ("/exempel", "/forsok", "/exempel.json", "/forsok.json"):
        assert empty_site.get(path).status_code == 200, path


def test_an_administrator_sees_the_command_that_fills_the_store_on_an_error_page(
    empty_site: TestClient, tillit_env: Settings
) -> None:
    from tillit.bank import open_bank

    bank = open_bank(tillit_env.database_url)
    try:
        bank.add_user("admin@example.se", "ett långt lösenord", "Admin", "admin")
    finally:
        bank.close()
    form = empty_site.get("/logga-in").text
    token = re.search(r'name="csrf_token" value="([^"]*)"', form)
    assert token is not None
    empty_site.post(
        "/logga-in",
        data={
            "csrf_token": token[1],
            "email": "admin@example.se",
            "password": "ett långt lösenord",
        },
        follow_redirects=False,
    )
    text = _text(empty_site.get("/kommun/0180").text)
    assert "tillit sync" in text and "förvaltare" in text.lower()


def test_unknown_municipality_offers_the_search(
    analysis_settings: Settings, tmp_path: Path
) -> None:
    from dataclasses import replace

    from tillit.query import Atlas
    from tillit.store import Store
    from tillit.web import create_app

    settings = replace(analysis_settings, database_url=f"sqlite:///{tmp_path / 'bank.sqlite'}")
    upgrade(settings.database_url)
    store = Store(settings.store_dir, memory_limit="512MB")
    with TestClient(create_app(settings, atlas=Atlas(store))) as client:
        page = client.get("/kommun/9999")
    assert page.status_code == 404
    assert _main_has_search_form(page.text)
    text = _text(page.text)
    assert "9999" in text and "tillit " not in text.lower() and "`" not in text


@pytest.mark.slow
def test_first_serve_on_an_empty_home_shows_a_start_page_and_no_traceback(tmp_path: Path) -> None:
    with _serve(tmp_path / "fresh", "/") as served:
        start = served.first
        assert start.status_code == 200
        assert "tillit import" in _text(start.text)
        assert httpx.get(f"{served.base}/kommun/1384", timeout=5).status_code == 404
        time.sleep(1)  # the warming thread has long finished on an empty store
    stderr = served.stderr
    assert "Traceback" not in stderr, stderr
    assert "tillit import" in stderr  # the server's own start-up note says how to fill it


def test_start_page_on_a_store_without_the_structural_kpis_names_what_is_missing(
    empty_site: TestClient, shared_data: Path, tmp_path: Path
) -> None:
    """Data loaded while the server runs is picked up without a restart; a store the
    analyses cannot use yet (no structural KPIs) says what is missing instead of a 404."""
    from tests.conftest import METADATA, panel_sample
    from tillit.cli import main

    sample = panel_sample(tmp_path / "s.parquet", ["N01951"], ["0180", "1384", "1480"])
    metadata = [str(METADATA / f"{n}_v3_2026-03.values.json") for n in ("kpi", "municipality")]
    assert main(["import", *metadata, str(sample)]) == 0
    page = empty_site.get("/")
    assert page.status_code == 200
    text = _text(page.text)
    assert "kan inte visas ännu" in text and "saknas" in text and "tillit sync --kpi" in text
    search = empty_site.get("/sok.json", params={"q": "Kungsbacka"}).json()
    assert search["municipalities"][0]["code"] == "1384" and not search["no_data"]
