"""The analysis pages over the real store (Kolada metadata and "Läget i kommunen" values):
each page and its JSON twin come from one query function and show the CLI's numbers."""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
from fastapi.testclient import TestClient

from tests.bank_fixtures import FAST_PASSWORDS
from tests.conftest import PANEL
from tillit.bank import open_bank, upgrade
from tillit.config import Settings
from tillit.query import Atlas, learn_report
from tillit.store import Store
from tillit.web import create_app

KUNGSBACKA = "1384"
SCHOOL = "N15419"  # a key KPI with municipal values every year


@pytest.fixture(scope="module")
def site(
    analysis_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The web app over the analysis store and a fresh SQLite bank with one published
    example of Varberg's, linked to the school KPI."""
    url = f"sqlite:///{tmp_path_factory.mktemp('site') / 'bank.sqlite'}"
    upgrade(url)
    bank = open_bank(url, passwords=FAST_PASSWORDS)
    store = Store(analysis_settings.store_dir, memory_limit="512MB")
    bank.seed_organisations(
        [(m["id"], m["title"], "kommun") for m in store.municipalities() if m["type"] == "K"]
    )
    admin = bank.add_user("admin@example.se", "ett långt lösenord", "Admin", "admin")
    example = bank.create_example(
        admin,
        {
            "organisation": "1383",
            "title": "Läxhjälp i Varberg",
            "summary": "Läxhjälp varje eftermiddag.",
            "operating_area": "Grundskola åk 0-9 inkl förskoleklass",
            "kpis": [{"kpi": SCHOOL, "municipality": "1383", "year_from": 2018}],
        },
    )
    bank.publish(admin, example.id, example.version)
    app = create_app(bank=bank, atlas=Atlas(store))
    with TestClient(app) as client:
        yield client
    bank.close()


def test_municipality_page_and_its_json_twin_show_the_same_learning_as_the_cli(
    site: TestClient, analysis_store: Store
) -> None:
    page = site.get(f"/kommun/{KUNGSBACKA}")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<h1>Kungsbacka</h1>" in page.text
    twin = site.get(f"/kommun/{KUNGSBACKA}.json").json()
    cli = learn_report(analysis_store, KUNGSBACKA)
    assert [m["municipality"] for m in twin["peers"]["members"]] == list(cli.peers.members)
    assert [f["kpi"] for f in twin["learning"]["findings"]] == [
        f.kpi for f in cli.learning.findings
    ]
    assert sorted(twin["learning"]["ahead"]) == sorted(cli.learning.ahead)
    for member in twin["peers"]["members"]:
        assert f'href="/kommun/{member["municipality"]}"' in page.text
    tiers = {r["comparison"]["tier"] for a in twin["areas"] for r in a["key_results"]}
    assert tiers <= {
        "clearly_better",
        "clearly_worse",
        "clearly_higher",
        "clearly_lower",
        "in_line",
        "no_data",
        "too_few_peers",
        "noise_unknown",
        "noise_misfit",
    }
    for finding in twin["learning"]["findings"]:
        assert f"/nyckeltal/{finding['kpi']}?kommun={KUNGSBACKA}" in page.text


def test_partners_link_to_their_published_examples(site: TestClient) -> None:
    twin = site.get("/kommun/1383.json").json()
    assert twin["examples"].get("1383|Grundskola åk 0-9 inkl förskoleklass") == 1
    # Whoever has Varberg as a learning partner in that area links to the example list.
    for code in ("1384", "1380", "1382", "1315", "1381", "1415"):
        data = site.get(f"/kommun/{code}.json").json()
        partners = {
            (p["municipality"], f["area"])
            for f in data["learning"]["findings"]
            for p in f["partners"]
        }
        if ("1383", "Grundskola åk 0-9 inkl förskoleklass") in partners:
            page = site.get(f"/kommun/{code}").text
            assert "/exempel?kommun=1383&amp;omrade=Grundskola" in page
            assert "1 gott exempel inom området" in page


def test_a_name_redirects_to_the_code_and_an_unknown_code_is_a_swedish_404(
    site: TestClient,
) -> None:
    moved = site.get("/kommun/Kungsbacka", follow_redirects=False)
    assert moved.status_code == 308 and moved.headers["location"] == f"/kommun/{KUNGSBACKA}"
    missing = site.get("/kommun/9999", headers={"accept": "text/html"})
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "Nästa steg" in missing.text and 'lang="sv"' in missing.text
    twin = site.get("/kommun/9999.json")
    assert twin.status_code == 404 and twin.json()["error"]["code"] == "not_found"
    # Region Halland at a municipality's address: its region page (see test_web_regions).
    region = site.get("/kommun/0013.json", follow_redirects=False)
    assert region.status_code == 303 and region.headers["location"] == "/region/0013.json"


def test_kpi_page_marks_the_municipality_and_its_peers_and_ranks_by_polarity(
    site: TestClient,
) -> None:
    overview = site.get(f"/kommun/{KUNGSBACKA}.json").json()
    key = next(r for a in overview["areas"] for r in a["key_results"])
    kpi = key["kpi"]
    data = site.get(f"/nyckeltal/{kpi}.json", params={"kommun": KUNGSBACKA}).json()
    roles = [p["role"] for p in data["points"]]
    assert roles.count("focal") == 1 and roles.count("peer") == len(data["peers"]["members"])
    values = [p["value"] for p in data["points"]]
    assert values == sorted(values)
    focal = next(p for p in data["points"] if p["role"] == "focal")
    assert focal["municipality"] == KUNGSBACKA
    # The tier is the municipality page's, from the same false-discovery family.
    assert data["comparison"]["tier"] == key["comparison"]["tier"]
    page = site.get(f"/nyckeltal/{kpi}", params={"kommun": KUNGSBACKA})
    assert page.status_code == 200
    assert page.text.count('role="img"') >= 2  # distribution and series (+ sparkline-free)
    assert "Visa värdena som tabell" in page.text
    higher_better = data["polarity"]["polarity"] == "higher"
    better = sum(1 for v in values if (v > focal["value"] if higher_better else v < focal["value"]))
    assert f"plats {better + 1} av {len(values)} kommuner" in page.text


def test_funnel_chart_for_a_rate_per_inhabitant_and_downloads(site: TestClient) -> None:
    kpi = "N07403"  # anmälda våldsbrott per 100 000 invånare: a Poisson funnel
    data = site.get(f"/nyckeltal/{kpi}.json", params={"kommun": KUNGSBACKA}).json()
    if data["funnel"] is None:
        pytest.skip(f"{kpi} has no population denominator in this store")
    funnel = data["funnel"]
    assert funnel["method"] == "poisson"
    widths95 = [u - lo for lo, u in zip(funnel["lower95"], funnel["upper95"], strict=True)]
    assert widths95[0] > widths95[-1]  # the funnel narrows as the population grows
    svg = site.get(f"/nyckeltal/{kpi}/tratt.svg", params={"kommun": KUNGSBACKA})
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<svg") and "<script" not in svg.text
    table = site.get(f"/nyckeltal/{kpi}/tratt.csv", params={"kommun": KUNGSBACKA})
    assert table.content.startswith("\ufeff".encode())
    lines = table.text.lstrip("\ufeff").splitlines()
    assert lines[0] == "kommunkod,kommun,invanare,varde,roll"
    assert any(line.startswith(f"{KUNGSBACKA},Kungsbacka,") for line in lines)
    no_funnel = site.get(f"/nyckeltal/{SCHOOL}/tratt.svg")
    if site.get(f"/nyckeltal/{SCHOOL}.json").json()["funnel"] is None:
        assert no_funnel.status_code == 404


def test_pages_load_nothing_from_outside(site: TestClient) -> None:
    for path in ("/", f"/kommun/{KUNGSBACKA}", f"/nyckeltal/{SCHOOL}?kommun={KUNGSBACKA}"):
        page = site.get(path)
        assert page.status_code == 200
        for ref in re.findall(r'(?:src|href)="([^"]+)"', page.text):
            if ref.startswith("http"):
                assert ref == "https://kolada.se", f"{path} refers to {ref}"
        csp = page.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "script-src 'self'" in csp


def test_search_finds_municipalities_kpis_and_examples(site: TestClient) -> None:
    data = site.get("/sok.json", params={"q": "varberg"}).json()
    assert [m["code"] for m in data["municipalities"]][:1] == ["1383"]
    data = site.get("/sok.json", params={"q": "läxhjälp"}).json()
    assert [e["title"] for e in data["examples"]] == ["Läxhjälp i Varberg"]
    page = site.get("/sok", params={"q": "meritvärde"})
    assert page.status_code == 200 and "/nyckeltal/" in page.text


def test_the_pages_follow_a_change_of_the_store(
    analysis_settings: Settings, tmp_path: Path
) -> None:
    """A sync or import while the server runs: the next page shows the new numbers."""
    from tillit.sync import import_path

    home = tmp_path / "home"
    shutil.copytree(analysis_settings.home, home)
    store = Store(home / "store", memory_limit="512MB")
    atlas = Atlas(store)
    before = atlas.loaded()
    assert atlas.loaded() is before  # nothing changed: the same analyses
    extra = tmp_path / "extra.parquet"
    con = duckdb.connect()
    try:
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{PANEL}') WHERE kpi = 'N01951' "
            f"AND year < 2008) TO '{extra}' (FORMAT parquet)"
        )
    finally:
        con.close()
    import_path(store, extra)
    after = atlas.loaded()
    assert after is not before and after.stamp != before.stamp
