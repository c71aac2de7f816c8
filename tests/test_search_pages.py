"""The search page says how many of each kind it found and shows them all: the first few of
each kind with "Visa alla …", and one kind in pages (``/sok?visa=nyckeltal&sida=2``)."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient

from tests.test_web_pages import site  # noqa: F401 (fixture)
from tillit.store import Store
from tillit.swedish import number


def test_the_overview_counts_everything_and_links_to_all(
    site: TestClient,  # noqa: F811
    analysis_store: Store,
) -> None:
    _, total = analysis_store.search_kpis_page("hemtjänst", limit=1)
    assert total > 8
    data = site.get("/sok.json", params={"q": "hemtjänst"}).json()
    assert data["kpis_total"] == total and len(data["kpis"]) == 8
    page = site.get("/sok", params={"q": "hemtjänst"})
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())
    assert f"{number(total)} nyckeltal och" in text
    assert f"Visa alla {number(total)} nyckeltal" in text
    assert 'href="/sok?q=hemtj%C3%A4nst&amp;visa=nyckeltal"' in page.text


def test_one_kind_in_pages_shows_every_hit_once(
    site: TestClient,  # noqa: F811
    analysis_store: Store,
) -> None:
    _, total = analysis_store.search_kpis_page("hemtjänst", limit=1)
    first = site.get("/sok.json", params={"q": "hemtjänst", "visa": "nyckeltal"}).json()
    pages = first["pages"]
    assert pages == -(-total // 20) and first["municipalities"] == [] and first["examples"] == []
    seen: list[str] = []
    for number_ in range(1, pages + 1):
        data = site.get(
            "/sok.json", params={"q": "hemtjänst", "visa": "nyckeltal", "sida": number_}
        ).json()
        assert len(data["kpis"]) == (20 if number_ < pages else total - 20 * (pages - 1))
        seen += [k["kpi"] for k in data["kpis"]]
    assert len(seen) == len(set(seen)) == total
    ranked = [r["id"] for r, _ in analysis_store.search_kpis("hemtjänst", limit=total)]
    assert seen == ranked


def test_a_page_of_one_kind_has_paging_links(site: TestClient) -> None:  # noqa: F811
    page = site.get("/sok", params={"q": "hemtjänst", "visa": "nyckeltal", "sida": 2})
    assert page.status_code == 200
    text = " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page.text)).split())
    assert "Visar 21–40 av" in text and "Sida 2 av" in text
    assert 'rel="prev" href="/sok?q=hemtj%C3%A4nst&amp;visa=nyckeltal&amp;sida=1"' in page.text
    assert 'rel="next" href="/sok?q=hemtj%C3%A4nst&amp;visa=nyckeltal&amp;sida=3"' in page.text
    assert 'id="r-kommuner"' not in page.text and 'id="r-exempel"' not in page.text


def test_municipalities_and_examples_page_too(site: TestClient) -> None:  # noqa: F811
    data = site.get("/sok.json", params={"q": "s", "visa": "kommuner"}).json()
    assert data["municipalities_total"] > 20 and len(data["municipalities"]) == 20
    second = site.get("/sok.json", params={"q": "s", "visa": "kommuner", "sida": 2}).json()
    assert not {m["code"] for m in data["municipalities"]} & {
        m["code"] for m in second["municipalities"]
    }
    data = site.get("/sok.json", params={"q": "läxhjälp", "visa": "exempel"}).json()
    assert data["examples_total"] == 1 and len(data["examples"]) == 1
    page = site.get("/sok", params={"q": "läxhjälp"})
    assert "1 gott exempel" in page.text and "Visa alla" not in page.text


def test_a_page_past_the_end_and_an_unknown_kind_are_harmless(
    site: TestClient,  # noqa: F811
) -> None:
    data = site.get("/sok.json", params={"q": "hemtjänst", "visa": "nyckeltal", "sida": 999}).json()
    assert data["kpis"] == [] and data["kpis_total"] > 0
    data = site.get("/sok.json", params={"q": "hemtjänst", "visa": "allt"}).json()
    assert data["kind"] is None and len(data["kpis"]) == 8
    assert site.get("/sok", params={"q": "x", "sida": 0}).status_code == 422
