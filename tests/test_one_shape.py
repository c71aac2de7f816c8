"""One JSON shape per result: `tillit compare|trend|peers|learn -f json` print the data
the pages' `.json` twins return, built once in tillit.query (real data, Kungsbacka)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tillit.cli import main
from tillit.config import Settings

KUNGSBACKA = "1384"
KPI = "N17531"  # not a key KPI: the KPI page compares it alone, as `tillit compare` does


@pytest.fixture(scope="module")
def site(analysis_site: TestClient) -> TestClient:
    return analysis_site


def _cli_json(capsys: pytest.CaptureFixture[str], *argv: str) -> Any:
    capsys.readouterr()
    code = main([*argv, "--format", "json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def test_compare_json_equals_the_kpi_pages_comparison(
    site: TestClient, analysis_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    (cli,) = _cli_json(capsys, "compare", KUNGSBACKA, KPI)
    twin = site.get(f"/nyckeltal/{KPI}.json", params={"kommun": KUNGSBACKA}).json()
    assert cli == twin["comparison"]
    assert cli["peers"][0].keys() == {"municipality", "name", "value", "shrunk"}


def test_peers_json_equals_the_peer_pages_twin(
    site: TestClient, analysis_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = _cli_json(capsys, "peers", KUNGSBACKA)
    assert cli == site.get(f"/kommun/{KUNGSBACKA}/lika.json").json()


def test_learn_json_equals_the_municipality_pages_learning(
    site: TestClient, analysis_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = _cli_json(capsys, "learn", KUNGSBACKA)
    twin = site.get(f"/kommun/{KUNGSBACKA}.json").json()
    assert cli["peers"] == twin["peers"]
    assert cli["learning"] == twin["learning"]
    assert (cli["municipality"], cli["name"]) == (twin["municipality"], twin["name"])


def test_trend_json_equals_the_kpi_pages_trend(
    site: TestClient, analysis_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    cli = _cli_json(capsys, "trend", KUNGSBACKA, KPI)
    twin = site.get(f"/nyckeltal/{KPI}.json", params={"kommun": KUNGSBACKA}).json()
    assert cli["trend"] == twin["trend"]
    shown = [(y, v) for y, v in zip(twin["years"], twin["series"], strict=True) if v is not None]
    assert list(zip(cli["years"], cli["values"], strict=True)) == shown
