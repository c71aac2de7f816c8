"""One result, one number: the KPI page, the municipality page, `tillit compare`,
`tillit learn` and the JSON twins show a municipality's value, its peers' median and the
difference from one computation, each labelled, and the difference shown can be
recomputed from the figures shown beside it (real data: Gävle on N31807)."""

from __future__ import annotations

import html
import json
import re

import pytest
from fastapi.testclient import TestClient

from tillit.cli import main
from tillit.config import Settings

FOCAL = "2180"  # Gävle
KPI = "N31807"  # social assistance, where Gävle is clearly behind its peers
NUMBER = r"([−+-]?\d[\d\u00a0\u202f]*(?:,\d+)?)"


def _num(text: str) -> float:
    return float(
        text.replace("\u2212", "-")
        .replace("\u00a0", "")
        .replace("\u202f", "")
        .replace(" ", "")
        .replace(",", ".")
    )


def _recomputes(value: str, median: str, difference: str) -> bool:
    """value − median = difference, up to half a unit in the last shown place of each."""
    slack = sum(0.5 * 10 ** -len(t.partition(",")[2]) for t in (value, median, difference))
    return abs(_num(value) - _num(median) - _num(difference)) <= slack + 1e-9


def _text(page: str) -> str:
    """The page's visible text on one line."""
    text = html.unescape(re.sub(r"<[^>]+>", " ", page))
    return re.sub(r"[ \t\r\n]+", " ", text).replace(" ,", ",").replace(" .", ".")


@pytest.fixture(scope="module")
def site(analysis_site: TestClient) -> TestClient:
    return analysis_site


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return re.sub(r"[ \t\r\n]+", " ", captured.out)  # long lines wrap


def test_kpi_page_difference_is_the_shown_value_minus_the_shown_peer_median(
    site: TestClient,
) -> None:
    text = _text(site.get(f"/nyckeltal/{KPI}", params={"kommun": FOCAL}).text)
    found = re.search(
        rf"Gävle: {NUMBER}, plats .*? Liknande kommuners median: {NUMBER} "
        rf"\(skillnad {NUMBER}\)",
        text,
    )
    assert found, text
    assert _recomputes(*found.groups()), found
    estimated = re.search(
        rf"skattad nivå med hänsyn till årsbruset {NUMBER} mot liknande kommuners skattade "
        rf"median {NUMBER}: skattad skillnad {NUMBER}",
        text,
    )
    assert estimated, text
    assert _recomputes(*estimated.groups()), estimated
    twin = site.get(f"/nyckeltal/{KPI}.json", params={"kommun": FOCAL}).json()
    assert twin["peer_median"] == pytest.approx(_num(found.group(2)), abs=0.051)
    assert twin["peer_median"] == twin["comparison"]["peer_median"]
    assert twin["difference"] == pytest.approx(twin["comparison"]["difference"])


def test_every_surface_shows_the_same_peer_median_and_difference(
    site: TestClient, analysis_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    kpi = site.get(f"/nyckeltal/{KPI}.json", params={"kommun": FOCAL}).json()
    c = kpi["comparison"]
    assert c["difference"] == pytest.approx(c["value"] - c["peer_median"])
    assert c["shrunk_difference"] == pytest.approx(c["shrunk"] - c["shrunk_peer_median"])

    municipality = site.get(f"/kommun/{FOCAL}.json").json()
    finding = next(f for f in municipality["learning"]["findings"] if f["kpi"] == KPI)
    for key in ("value", "peer_median", "difference", "shrunk_peer_median", "shrunk_difference"):
        assert finding[key] == pytest.approx(c[key]), key
    for r in (r["comparison"] for a in municipality["areas"] for r in a["key_results"]):
        if r["value"] is not None and r["peer_median"] is not None:
            assert r["difference"] == pytest.approx(r["value"] - r["peer_median"])

    page = _text(site.get(f"/kommun/{FOCAL}").text)
    shown = re.findall(
        rf"{NUMBER} mot de liknande kommunernas median {NUMBER}, skillnad {NUMBER} \(\d{{4}}\)",
        page,
    )
    assert shown, page
    for triple in shown:
        assert _recomputes(*triple), triple
    assert any(_num(m) == pytest.approx(c["peer_median"], abs=0.051) for _v, m, _d in shown)
    cells = re.findall(rf"{NUMBER} \(\d{{4}}\) {NUMBER} {NUMBER} [▲▼△▽●]", page)
    assert cells, page
    for triple in cells:
        assert _recomputes(*triple), triple

    compare = _run(capsys, "compare", FOCAL, KPI)
    found = re.search(
        rf"Värde {NUMBER}; jämförelsekommunernas median {NUMBER} \(skillnad {NUMBER}\)", compare
    )
    assert found, compare
    assert _recomputes(*found.groups()), found
    # the CLI writes numbers as the pages do (tillit.swedish): one decimal from 1 up
    assert _num(found.group(2)) == pytest.approx(c["peer_median"], abs=0.051)
    assert "verkliga nivån" not in compare
    rows = json.loads(_run(capsys, "compare", FOCAL, KPI, "-f", "json"))
    for key in ("value", "peer_median", "difference", "shrunk", "shrunk_peer_median"):
        assert rows[0][key] == pytest.approx(c[key]), key

    learn = _run(capsys, "learn", FOCAL)
    found = re.search(
        rf"\({KPI}\), 2022: {NUMBER} mot jämförelsekommunernas median {NUMBER}, "
        rf"skillnad {NUMBER}",
        learn,
    )
    assert found, learn
    assert _recomputes(*found.groups()), found
    # the CLI writes numbers as the pages do (tillit.swedish): one decimal from 1 up
    assert _num(found.group(2)) == pytest.approx(c["peer_median"], abs=0.051)


def test_a_total_is_not_shrunk_nor_called_its_true_level(
    analysis_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    text = _run(capsys, "compare", FOCAL, "N01951")
    assert "verkliga nivån" not in text and "Skattad nivå" not in text
    row = json.loads(_run(capsys, "compare", FOCAL, "N01951", "-f", "json"))[0]
    assert row["tier"] == "not_comparable"
    assert row["shrunk"] is None and row["shrunk_difference"] is None
    assert row["difference"] == pytest.approx(row["value"] - row["peer_median"])
