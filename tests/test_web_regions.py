"""The regions on the web, over the real store (the regions' key KPIs and the municipalities'
"Läget i kommunen"): a region's page and its JSON twin from the same query function as the
CLI, its peers, the redirects between /kommun and /region, the KPI pages with a region,
search and the start page (a large and a small region: Halland and Gotland)."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tests.bank_fixtures import FAST_PASSWORDS
from tillit.bank import open_bank, upgrade
from tillit.config import Settings
from tillit.query import (
    Atlas,
    learn_data,
    learn_report,
    municipalities_in,
    peers_data,
    peers_report,
    units,
)
from tillit.store import Store
from tillit.web import create_app

HALLAND = "0013"  # Region Halland, 340,000 inhabitants, six municipalities
GOTLAND = "0009"  # Region Gotland, 61,000: the smallest, one municipality (0980)
REGIONS = (HALLAND, GOTLAND)
REGION_KPI = "N01451"  # förtida dödsfall: a key KPI of the regions, published for both kinds
REGION_ONLY = "N60077"  # heltidsarbetande, region: Kolada publishes it for regions only
MUNICIPAL = "N15419"  # åk 9 i alla ämnen: municipalities only


@pytest.fixture(scope="module")
def site(
    region_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The web app over the regions' store and a fresh SQLite bank."""
    url = f"sqlite:///{tmp_path_factory.mktemp('regions-site') / 'bank.sqlite'}"
    upgrade(url)
    bank = open_bank(url, passwords=FAST_PASSWORDS)
    store = Store(region_settings.store_dir, memory_limit="512MB")
    app = create_app(bank=bank, atlas=Atlas(store))
    with TestClient(app) as client:
        yield client
    bank.close()


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def links(page: str) -> list[str]:
    return [html.unescape(h) for h in re.findall(r'href="(/[^"#]*)"', page)]


@pytest.mark.parametrize("region", REGIONS)
def test_region_page_and_its_json_twin_show_the_cli_s_learning_among_regions(
    site: TestClient, region_store: Store, region: str
) -> None:
    page = site.get(f"/region/{region}")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    twin = site.get(f"/region/{region}.json").json()
    cli = learn_report(region_store, region)
    assert twin["kind"] == "L" and twin["name"] == cli.name
    assert f"<h1>{cli.name}</h1>" in page.text
    # The same peers, findings and partners as `tillit learn` for the region.
    assert [m["municipality"] for m in twin["peers"]["members"]] == list(cli.peers.members)
    assert twin["learning"]["findings"] == learn_data(cli)["learning"]["findings"]
    regions = set(units(region_store, "L"))
    assert {m["municipality"] for m in twin["peers"]["members"]} <= regions - {region}
    assert twin["kommungrupp"] is None and twin["region"] is None
    # Key results are the regions' key KPIs, each compared with the other regions.
    key = [r for a in twin["areas"] for r in a["key_results"]]
    assert key and all(r["comparison"]["count"] <= 21 for r in key)
    assert twin["clearly_better"] == sum(r["comparison"]["tier"] == "clearly_better" for r in key)
    text = text_of(page.text)
    assert "jämförelseregionerna" in text and "Regionernas nyckeltal" in text
    assert "Läget i kommunen" not in text and "kommungrupp" not in text
    assert "liknande kommuner" not in text and "jämförelsekommun" not in text
    # Peers and partners link to region pages, key KPIs to the KPI page with the region.
    hrefs = links(page.text)
    for member in twin["peers"]["members"]:
        assert f"/region/{member['municipality']}" in hrefs
    for finding in twin["learning"]["findings"]:
        assert f"/nyckeltal/{finding['kpi']}?region={region}" in hrefs
        for partner in finding["partners"]:
            assert f"/region/{partner['municipality']}" in hrefs
    assert not any(h.startswith("/kommun/00") for h in hrefs)
    # Its county's municipalities, linked to their pages.
    members = municipalities_in(region_store, region)
    assert [m["municipality"] for m in twin["municipalities"]] == list(members)
    for code in members:
        assert f"/kommun/{code}" in hrefs


def test_halland_and_gotland_differ_in_size_and_counties(site: TestClient) -> None:
    halland = site.get(f"/region/{HALLAND}.json").json()
    gotland = site.get(f"/region/{GOTLAND}.json").json()
    assert halland["population"] > 4 * gotland["population"]
    assert len(halland["municipalities"]) == 6
    assert [m["municipality"] for m in gotland["municipalities"]] == ["0980"]
    assert "Länet har 1 kommun." in text_of(site.get(f"/region/{GOTLAND}").text)


def test_region_tier_labels_name_the_comparison_regions(site: TestClient) -> None:
    twin = site.get(f"/region/{HALLAND}.json").json()
    labels = {r["comparison"]["tier_label"] for a in twin["areas"] for r in a["key_results"]}
    assert labels and not any("kommun" in label for label in labels)
    assert "regioner" in twin["learning"]["what_clearly_means"]
    assert "kommun" not in twin["learning"]["what_clearly_means"]


def test_a_region_at_a_municipality_s_address_is_sent_to_its_region_page(
    site: TestClient,
) -> None:
    for path, target in (
        (f"/kommun/{HALLAND}", f"/region/{HALLAND}"),
        ("/kommun/Region Halland", f"/region/{HALLAND}"),
        (f"/kommun/{HALLAND}.json", f"/region/{HALLAND}.json"),
        (f"/kommun/{HALLAND}/lika", f"/region/{HALLAND}/lika"),
        (f"/kommun/{GOTLAND}/lika.json", f"/region/{GOTLAND}/lika.json"),
        ("/kommun?kod=Region Gotland", f"/region/{GOTLAND}"),
        ("/region/1384", "/kommun/1384"),  # and a municipality at a region's address
        ("/region?kod=Kungsbacka", "/kommun/1384"),
    ):
        moved = site.get(path, follow_redirects=False)
        assert moved.status_code == 303, path
        assert moved.headers["location"] == target, path
        followed = site.get(path)
        assert followed.status_code == 200
        assert "är ingen kommun" not in followed.text and "är ingen region" not in followed.text
    named = site.get("/region/Region Halland", follow_redirects=False)
    assert named.status_code == 308 and named.headers["location"] == f"/region/{HALLAND}"
    assert site.get("/region?kod=halland", follow_redirects=False).headers["location"] == (
        f"/region/{HALLAND}"
    )


def test_riket_and_unknown_codes_are_swedish_404s(site: TestClient) -> None:
    for path in ("/region/0000", "/region/9999", "/kommun/0000"):
        page = site.get(path, headers={"accept": "text/html"})
        assert page.status_code == 404, path
        assert "Nästa steg" in page.text and 'lang="sv"' in page.text
    twin = site.get("/region/0000.json")
    assert twin.status_code == 404 and twin.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("region", REGIONS)
def test_region_peers_page_shows_traits_and_kolada_s_similar_regions(
    site: TestClient, region_store: Store, region: str
) -> None:
    twin = site.get(f"/region/{region}/lika.json").json()
    assert twin == peers_data(peers_report(region_store, region))  # the CLI's JSON
    assert twin["kind"] == "L" and twin["kommungrupp"] is None
    assert all(p["municipality"].startswith("00") and p["traits"] for p in twin["peers"])
    page = site.get(f"/region/{region}/lika")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Regioner som liknar" in text and "utpendling mäts bara för kommuner" in text
    for p in twin["peers"]:
        assert f'href="/region/{p["municipality"]}"' in page.text
    if twin["liknande"] is not None:
        assert "liknande regioner" in twin["liknande"]["label"].lower()
        for m in twin["liknande"]["members"]:
            assert f'href="/region/{m["municipality"]}"' in page.text


def test_kpi_page_with_a_region_shows_the_21_regions(site: TestClient) -> None:
    data = site.get(f"/nyckeltal/{REGION_KPI}.json", params={"region": HALLAND}).json()
    assert data["kind"] == "L" and data["municipality"] == HALLAND
    assert {p["municipality"] for p in data["points"]} <= {f"00{i:02d}" for i in range(1, 26)}
    assert len(data["points"]) == 21
    roles = [p["role"] for p in data["points"]]
    assert roles.count("focal") == 1 and roles.count("peer") == len(data["peers"]["members"])
    # The tier is the region page's (the same false-discovery family).
    region = site.get(f"/region/{HALLAND}.json").json()
    key = next(r for a in region["areas"] for r in a["key_results"] if r["kpi"] == REGION_KPI)
    assert data["comparison"]["tier"] == key["comparison"]["tier"]
    page = site.get(f"/nyckeltal/{REGION_KPI}", params={"region": HALLAND})
    assert page.status_code == 200
    text = text_of(page.text)
    assert re.search(r"plats \d+ av 21 regioner", text)
    assert "Jämförelseregionernas median" in text and "Alla regioners median" in text
    assert "alla regioner" in text and 'name="region"' in page.text
    assert "Nyckeltalet finns också för kommuner" in text  # published for both kinds
    table = site.get(f"/nyckeltal/{REGION_KPI}.csv", params={"region": HALLAND})
    lines = table.text.lstrip("\ufeff").splitlines()
    assert lines[0] == "kpi,regionkod,region,ar,varde,roll"
    assert any(f",{HALLAND},Region Halland," in line and "vald region" in line for line in lines)
    for chart in ("fordelning", "tidsserie"):
        svg = site.get(f"/nyckeltal/{REGION_KPI}/{chart}.svg", params={"region": HALLAND})
        assert svg.status_code == 200 and svg.text.lstrip().startswith("<svg")
    # The same KPI for a municipality is still over the 290 municipalities.
    municipal = site.get(f"/nyckeltal/{REGION_KPI}.json", params={"kommun": "1384"}).json()
    assert municipal["kind"] == "K" and len(municipal["points"]) > 250


def test_kpi_page_addresses_of_a_region_are_made_canonical(site: TestClient) -> None:
    for params, target in (
        ({"kommun": HALLAND}, f"/nyckeltal/{REGION_KPI}?region={HALLAND}"),
        ({"region": "Region Halland"}, f"/nyckeltal/{REGION_KPI}?region={HALLAND}"),
        ({"region": ""}, f"/nyckeltal/{REGION_KPI}?visa=regioner"),
        ({"region": "1384"}, f"/nyckeltal/{REGION_KPI}?kommun=1384"),
    ):
        moved = site.get(f"/nyckeltal/{REGION_KPI}", params=params, follow_redirects=False)
        assert moved.status_code == 308, params
        assert moved.headers["location"] == target, params
    every = site.get(f"/nyckeltal/{REGION_KPI}.json", params={"visa": "regioner"}).json()
    assert every["kind"] == "L" and every["municipality"] is None and len(every["points"]) == 21
    # A KPI Kolada publishes only for regions shows the regions without being asked.
    only = site.get(f"/nyckeltal/{REGION_ONLY}.json").json()
    assert only["kind"] == "L" and len(only["points"]) >= 20
    page = site.get(f"/nyckeltal/{REGION_ONLY}")
    assert page.status_code == 200 and "Nyckeltalet finns också för" not in page.text


@pytest.mark.parametrize("params", [{"region": HALLAND}, {"kommun": HALLAND}, {"visa": "regioner"}])
def test_a_municipal_kpi_for_a_region_says_so_in_swedish(
    site: TestClient, params: dict[str, str]
) -> None:
    page = site.get(f"/nyckeltal/{MUNICIPAL}", params=params, headers={"accept": "text/html"})
    assert page.status_code == 422
    text = text_of(page.text)
    assert f"{MUNICIPAL} (" in text and "är ett nyckeltal för kommuner" in text
    assert "Kolada redovisar det inte för" in text and "Nästa steg" in text
    twin = site.get(f"/nyckeltal/{MUNICIPAL}.json", params=params)
    assert twin.status_code == 422 and twin.json()["error"]["code"] == "invalid_input"
    assert "nyckeltal för kommuner" in twin.json()["error"]["message"]
    # And the reverse: a region KPI for a municipality.
    other = site.get(f"/nyckeltal/{REGION_ONLY}.json", params={"kommun": "1384"})
    assert other.status_code == 422
    assert "nyckeltal för regioner" in other.json()["error"]["message"]


def test_a_municipality_links_to_its_region(site: TestClient) -> None:
    for code, region, name in (("1384", HALLAND, "Region Halland"), ("0980", GOTLAND, None)):
        twin = site.get(f"/kommun/{code}.json").json()
        assert twin["kind"] == "K" and twin["region"]["municipality"] == region
        assert twin["municipalities"] == []
        page = site.get(f"/kommun/{code}")
        assert f'href="/region/{region}"' in page.text
        if name:
            assert f'Ligger i <a href="/region/{region}">{name}</a>.' in page.text


def test_search_finds_regions_beside_municipalities(site: TestClient) -> None:
    data = site.get("/sok.json", params={"q": "halland"}).json()
    assert [r["code"] for r in data["regions"]] == [HALLAND] and data["regions_total"] == 1
    assert all(m["code"] not in REGIONS for m in data["municipalities"])
    page = site.get("/sok", params={"q": "halland"})
    assert 'href="/region/0013"' in page.text
    assert "1 region" in text_of(page.text)
    gotland = site.get("/sok.json", params={"q": "gotland"}).json()
    assert [m["code"] for m in gotland["municipalities"]] == ["0980"]
    assert [r["code"] for r in gotland["regions"]][:1] == [GOTLAND]  # then Östergötland
    # Every region in pages of 20, Riket (0000) not among them.
    first = site.get("/sok.json", params={"q": "region", "visa": "regioner"}).json()
    second = site.get("/sok.json", params={"q": "region", "visa": "regioner", "sida": 2}).json()
    codes = [r["code"] for r in first["regions"] + second["regions"]]
    assert first["pages"] == 2 and first["noun"] == "region" and len(first["regions"]) == 20
    assert first["municipalities"] == [] and first["kpis"] == [] and first["examples"] == []
    assert first["regions_total"] >= 20 and len(set(codes)) == len(codes)
    assert "0000" not in codes
    paged = site.get("/sok", params={"q": "region", "visa": "regioner", "sida": 2})
    assert 'id="r-regioner"' in paged.text and 'id="r-kommuner"' not in paged.text
    assert 'rel="prev" href="/sok?q=region&amp;visa=regioner&amp;sida=1"' in paged.text


def test_start_page_lists_the_21_regions(site: TestClient, region_store: Store) -> None:
    page = site.get("/")
    assert page.status_code == 200
    listed = re.findall(r'href="/region/(\d{4})"', page.text)
    assert sorted(listed) == sorted(units(region_store, "L")) and len(listed) == 21
    assert 'id="regioner"' in page.text


def test_no_link_from_the_region_pages_fails(site: TestClient) -> None:
    """Every address a region's pages link to answers without a server error, and the
    pages of regions, municipalities and KPIs answer 200."""
    seen: set[str] = set()
    for start in (
        f"/region/{HALLAND}",
        f"/region/{GOTLAND}",
        f"/region/{HALLAND}/lika",
        f"/nyckeltal/{REGION_KPI}?region={GOTLAND}",
    ):
        for href in [start, *links(site.get(start).text)]:
            if href in seen or href.startswith("/static/"):
                continue
            seen.add(href)
            answer = site.get(href)
            assert answer.status_code < 500, href
            if href.startswith(("/region/", "/kommun/", "/nyckeltal/")):
                assert answer.status_code == 200, href
    assert len(seen) > 30
