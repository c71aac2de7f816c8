"""Analyses as of any year: a store that ends before Kolada's out-commuting KPI (N02279,
from 2020) begins, and an explicit as-of year on a full store. The structural variable
that is missing is left out of the peer search, and every surface says so."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient

from tests.bank_fixtures import FAST_PASSWORDS
from tests.conftest import build_analysis_store, laget_kpis, point_cli_at
from tillit.analyses import STRUCTURAL_KPIS, Panel
from tillit.bank import open_bank, upgrade
from tillit.cli import main
from tillit.config import Settings
from tillit.errors import NoDataError
from tillit.query import (
    Atlas,
    compare_report,
    learn_data,
    learn_report,
    load_context,
    municipality_data,
    municipality_overview,
    national_report,
    peers_report,
)
from tillit.query._context import HISTORY
from tillit.store import Store
from tillit.web import create_app

KUNGSBACKA = "1384"
LAST_YEAR = 2018
#: What the peers' description says when out-commuting is left out.
NOTE = "utan utpendling"


@pytest.fixture(scope="module")
def old_settings(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A store as a user would have had it in 2019: the v3 metadata and, for 2008–2018,
    the "Läget i kommunen" KPIs and the structural KPIs, cut from the real panel."""
    kpis = sorted(laget_kpis() | set(STRUCTURAL_KPIS))
    return build_analysis_store(
        tmp_path_factory.mktemp("as_of"), kpis, first_year=2008, last_year=LAST_YEAR
    )


@pytest.fixture
def old_store(old_settings: Settings) -> Store:
    return Store(old_settings.store_dir, memory_limit="512MB")


@pytest.fixture
def old_env(old_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    return point_cli_at(old_settings, monkeypatch)


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_a_store_ending_in_2018_is_analysed_without_out_commuting(old_store: Store) -> None:
    ctx = load_context(old_store, testable_only=True)
    assert ctx.panel.years[-1] == LAST_YEAR and ctx.structure.year == LAST_YEAR
    assert [v.key for v in ctx.structure.dropped] == ["commuting"]
    assert "commuting" not in [v.key for v in ctx.structure.variables]
    report = learn_report(old_store, "Kungsbacka")
    assert len(report.peers.members) == 7 and report.learning.tested > 0
    assert NOTE in report.peers.label and str(LAST_YEAR) in report.peers.label
    assert report.peers.label.startswith("de 7 strukturellt mest lika kommunerna")
    assert learn_data(report)["peers"]["label"] == report.peers.label
    compared = compare_report(old_store, "Kungsbacka", ["N15428"])
    assert NOTE in compared.peers.label and compared.comparisons[0].year <= LAST_YEAR
    national = national_report(old_store)
    assert national.matrix.behind.any()


def test_peers_of_an_old_store_name_the_variable_they_leave_out(old_store: Store) -> None:
    report = peers_report(old_store, "Kungsbacka")
    assert report.structural.year == LAST_YEAR
    assert report.structural.dropped == ("commuting",)
    traits = {t.key for p in report.structural.peers for t in p.traits}
    assert "commuting" not in traits


def test_tillit_peers_on_an_old_store_says_what_it_left_out(
    old_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "peers", "Kungsbacka")
    assert code == 0, err
    assert "bedömd utan utpendling, som saknas till och med 2018" in out
    code, out, err = _run(capsys, "peers", "Kungsbacka", "-f", "json")
    assert code == 0, err
    assert json.loads(out)["dropped"] == ["commuting"]


def test_learn_on_a_store_ending_in_2018_says_what_it_left_out(
    old_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "learn", "Kungsbacka")
    assert code == 0, err
    assert "Kungsbacka jämförd med de 7 strukturellt mest lika kommunerna" in out
    assert NOTE in out and "2018" in out
    code, out, err = _run(capsys, "learn", "Kungsbacka", "--format", "json")
    assert code == 0, err
    assert NOTE in json.loads(out)["peers"]["label"]


def test_the_municipality_page_of_an_old_store_says_what_the_peers_leave_out(
    old_store: Store, tmp_path: Path
) -> None:
    atlas = Atlas(old_store)
    data = municipality_data(municipality_overview(atlas.loaded(), KUNGSBACKA))
    assert NOTE in data["peers"]["label"] and data["structure_year"] == LAST_YEAR
    url = f"sqlite:///{tmp_path / 'bank.sqlite'}"
    upgrade(url)
    bank = open_bank(url, passwords=FAST_PASSWORDS)
    try:
        with TestClient(create_app(bank=bank, atlas=atlas)) as client:
            page = client.get(f"/kommun/{KUNGSBACKA}")
            assert page.status_code == 200
            assert NOTE in page.text
            twin = client.get(f"/kommun/{KUNGSBACKA}.json").json()
            assert twin["peers"]["label"] == data["peers"]["label"]
            peers = client.get(f"/kommun/{KUNGSBACKA}/lika")
            assert peers.status_code == 200
            assert "bedömd utan utpendling, som saknas till och med 2018" in peers.text
    finally:
        bank.close()


def test_an_as_of_year_cuts_a_full_store_at_that_year(analysis_store: Store) -> None:
    ctx = load_context(analysis_store, testable_only=True, as_of=2019)
    assert ctx.panel.years[-1] == 2019 and ctx.structure.year == 2019
    assert [v.key for v in ctx.structure.dropped] == ["commuting"]
    evidence = ctx.evidence()
    assert int(evidence.windowed.end_years.max()) <= 2019
    full = load_context(analysis_store, testable_only=True)
    assert full.panel.years[-1] == 2022 and full.structure.dropped == ()
    # The as-of panel holds exactly the full store's values up to 2019 (and reaches back
    # HISTORY years from 2019, where the full one starts from 2022).
    assert ctx.panel.years[0] == 2019 - HISTORY + 1
    shared = [y for y in ctx.panel.years if y in full.panel.years]
    kpis = [k for k in ctx.panel.kpis if k in full.panel.kpis]
    assert len(kpis) > 0.9 * len(ctx.panel.kpis)

    def cut(panel: Panel) -> np.ndarray:
        k = [panel.kpis.index(x) for x in kpis]
        y = [panel.years.index(x) for x in shared]
        return panel.values[k][:, :, y]

    np.testing.assert_array_equal(cut(ctx.panel), cut(full.panel))
    report = learn_report(analysis_store, "Kungsbacka", as_of=2019)
    assert NOTE in report.peers.label and "2019" in report.peers.label
    assert all(f.year <= 2019 for f in report.learning.findings)
    assert NOTE not in learn_report(analysis_store, "Kungsbacka").peers.label


def test_learn_as_of_a_year_on_the_cli(
    analysis_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "learn", "Kungsbacka", "--as-of", "2018", "-f", "json")
    assert code == 0, err
    data = json.loads(out)
    assert NOTE in data["peers"]["label"]
    assert all(f["year"] <= 2018 for f in data["learning"]["findings"])
    code, out, err = _run(capsys, "learn", "Kungsbacka", "--as-of", "2018")
    assert code == 0, err
    assert NOTE in out


def test_an_as_of_year_before_any_value_is_no_data(analysis_store: Store) -> None:
    with pytest.raises(NoDataError, match="1990"):
        load_context(analysis_store, as_of=1990)
