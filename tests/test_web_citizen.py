"""The public pages for citizens (/kommun/{kod}/for-invanare, /region/{kod}/for-invanare) over
the real store and a real SQLite bank: the goals, 8–12 key results with the analyst pages'
own numbers, trials and examples, plain Swedish (LIX at most 40 on every municipality's and
region's page, no statistician's jargon), the JSON twin, redirects and Swedish 404s; and, in
headless Chromium at 320×640, no axe violation, no sideways scrolling, every control reached
by Tab, and the page read and reached without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from tests.bank_fixtures import FAST_PASSWORDS, PASSWORD
from tests.browser_fixtures import LiveServer, check_axe, save_screenshot, tab_through
from tillit.bank import Bank, open_bank, upgrade
from tillit.config import Settings
from tillit.query import Atlas, add_goal, municipality_overview
from tillit.query._citizen import MOST_RESULTS, choose_results, plain_titles
from tillit.store import Store
from tillit.swedish._lix import lix
from tillit.web import create_app

if TYPE_CHECKING:
    from playwright.sync_api import Page

KUNGSBACKA = "1384"
HALLAND = "0013"
SCHOOL = "N15419"
EDITOR = "red@kungsbacka.se"
TRIAL = "Läxhjälp efter skolan i Kungsbacka"
EXAMPLE = "Läsfrämjande i Kungsbackas skolor"
GOAL = "Fler elever klarar alla ämnen i årskurs 9"

#: Words a citizen is not expected to know: the statistics behind the verdicts
#: (Mahalanobis distance, false discovery rate, Benjamini–Hochberg, shrinkage, z and p
#: values, confidence intervals, Theil–Sen, Mann–Kendall), and the analyst pages' own terms
#: for them (empirical Bayes, "skattad", "signifikant", "median", "jämförelsekommun"). The
#: page says "mittvärde" and "liknande kommuner" instead. ("Nyckeltal", a word of everyday
#: Swedish, is allowed: the site's header and footer use it.)
JARGON = (
    "mahalanobis",
    "fdr",
    "false discovery",
    "benjamini",
    "hochberg",
    "shrinkage",
    "krympning",
    "empirical bayes",
    "empirisk bayes",
    "skattad",
    "z-värde",
    "p-värde",
    "q-värde",
    "konfidensintervall",
    "signifikant",
    "theil",
    "mann-kendall",
    "median",
    "jämförelsekommun",
    "jämförelseregion",
    "standardavvikelse",
    "prediktion",
)
LIX_LIMIT = 40


@dataclass
class Site:
    client: TestClient
    bank: Bank
    store: Store


@pytest.fixture(scope="module")
def site(region_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The web app over the regions' store (every municipality and region) and a bank with
    Kungsbacka's editor, one goal, one trial and one published good example."""
    url = f"sqlite:///{tmp_path_factory.mktemp('citizen') / 'bank.sqlite'}"
    upgrade(url)
    bank = open_bank(url, passwords=FAST_PASSWORDS)
    store = Store(region_settings.store_dir, memory_limit="512MB")
    kinds = {"K": "kommun", "L": "region"}
    bank.seed_organisations(
        [
            (m["id"], m["title"], kinds[m["type"]])
            for m in store.municipalities()
            if m["type"] in kinds and m["id"] != "0000"
        ]
    )
    admin = bank.add_user("admin@tillit.se", PASSWORD, "Admin", "admin")
    editor = bank.add_user(EDITOR, PASSWORD, "Kim", "editor", KUNGSBACKA, actor=admin)
    add_goal(
        store,
        bank,
        editor,
        {
            "organisation": KUNGSBACKA,
            "title": GOAL,
            "indicators": [
                {"kpi": SCHOOL, "target_value": 88, "target_year": 2026, "direction": "ökning"}
            ],
        },
    )
    bank.register_trial(
        editor,
        {
            "municipality": KUNGSBACKA,
            "title": TRIAL,
            "description": "Alla skolor har öppen läxhjälp varje eftermiddag från 2021.",
            "start_year": 2021,
            "kpis": [{"kpi": SCHOOL, "direction": "increase"}],
        },
        {SCHOOL: 2022},
    )
    bank.create_example(
        editor,
        {
            "organisation": KUNGSBACKA,
            "title": EXAMPLE,
            "summary": "Eleverna läser tjugo minuter varje morgon.",
            "status": "published",
        },
    )
    app = create_app(bank=bank, atlas=Atlas(store))
    with TestClient(app, follow_redirects=False) as client:
        yield Site(client, bank, store)
    bank.close()


class _Text(HTMLParser):
    """A page's prose as a reader meets it: one block (heading, paragraph, list item) per
    line; charts (SVG, whose own words are axis labels), tables of numbers, the pickers'
    option lists, scripts and styles left out."""

    BLOCKS = frozenset(
        ("p", "li", "h1", "h2", "h3", "h4", "h5", "h6", "td", "th", "caption", "summary", "dt",
         "dd", "div", "section", "article", "nav", "header", "footer", "ul", "ol", "figure",
         "figcaption", "details", "form", "label", "button", "option", "tr", "main", "br")
    )  # fmt: skip
    SKIP = frozenset(("svg", "script", "style", "table", "head", "select"))

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs: Any) -> None:
        self.skipping += tag in self.SKIP
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        self.skipping -= tag in self.SKIP
        if tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def prose(page: str) -> str:
    """The visible prose of a page's body (see ``_Text``)."""
    parser = _Text()
    parser.feed(page.split("<body>", 1)[1])
    return "".join(parser.parts)


def flat(text: str) -> str:
    return " ".join(text.split())


# --- LIX --------------------------------------------------------------------------------------
def test_lix_is_words_per_sentence_plus_the_share_of_long_words() -> None:
    # 6 words, 2 sentences, no word longer than six letters: 3 + 0
    assert lix("Jag är glad. Du är arg!") == pytest.approx(3.0)
    # 4 words, 1 sentence, 2 long ("kommunen", "förskolor"): 4 + 50
    assert lix("Kommunen har förskolor nu.") == pytest.approx(54.0)
    # a decimal comma is not a sentence's end; digits are not letters ("2022222" is short)
    assert lix("Värdet var 4,5 år 2022222.") == pytest.approx(5.0)
    assert lix("Skulder: 96\u202f664 kr.") == pytest.approx(1.5 + 100 / 3)
    # a line break ends a sentence (a heading, a list item)
    assert lix("Mål\nDet går bra") == pytest.approx(2.0)
    assert lix("") == 0.0


# --- the page and its twin ----------------------------------------------------------------------
def test_a_municipalitys_public_page_shows_goals_results_trials_examples_and_uncertainty(
    site: Site,
) -> None:
    page = site.client.get(f"/kommun/{KUNGSBACKA}/for-invanare")
    assert page.status_code == 200
    text = flat(prose(page.text))
    assert "<h1>Så går det för Kungsbacka</h1>" in page.text
    assert 'href="/static/citizen.css"' in page.text
    for heading in (
        "Kort sagt",
        "Hur säkra är siffrorna?",
        "Vilka jämför vi med?",
        "Mål",
        "Så ligger Kungsbacka till",
        "Det här prövar Kungsbacka",
        "Det här har Kungsbacka lärt sig och delat",
    ):
        assert re.search(rf"<h2 id=\"[a-z]+\">{re.escape(heading)}</h2>", page.text), heading
    assert "strukturellt lika" in text  # explained once
    assert text.count("strukturellt lika") == 1
    assert GOAL in text and TRIAL in text and EXAMPLE in text
    twin = site.client.get(f"/kommun/{KUNGSBACKA}/for-invanare.json").json()
    (goal,) = twin["goals"]
    assert f"{GOAL}: {goal['said']}." in text
    assert f'href="{goal["url"]}"' in page.text
    assert f'href="/kommun/{KUNGSBACKA}"' in page.text
    assert f'href="/kommun/{KUNGSBACKA}/rapport"' in page.text
    assert "Källa: Kolada." in text
    # each key result: a chart with the band of the tested gap, and its numbers as a table
    results = twin["results"]
    assert 8 <= len(results) <= 12
    assert page.text.count('<article class="result') == len(results)
    assert page.text.count('<div class="chart-svg"><svg') == len(results)
    assert page.text.count("<summary>Visa siffrorna som tabell</summary>") == len(results)
    for r in results:
        assert r["title"] in text
        assert f"{r['compared']} {r['over_time']}" in text
    banded = [r for r in results if r["gap"] is not None]
    assert banded  # Kungsbacka has tested gaps
    assert page.text.count("Troligt läge, lägst</th>") == len(banded)  # in the tables
    assert text.count("Troligen mellan") == len(banded)


def test_the_twin_has_the_analyst_pages_numbers_and_verdicts(site: Site) -> None:
    twin = site.client.get(f"/kommun/{KUNGSBACKA}/for-invanare.json").json()
    analyst = site.client.get(f"/kommun/{KUNGSBACKA}.json").json()
    comparisons = {r["kpi"]: r["comparison"] for a in analyst["areas"] for r in a["key_results"]}
    for r in twin["results"]:
        c = comparisons[r["kpi"]]
        for field in ("tier", "value", "peer_median", "difference", "year", "gap_years"):
            assert r[field] == c[field] or (field == "gap_years" and r["gap"] is None)
        if r["gap"] is None:  # not tested: no interval on either page
            assert None in c["interval"]
        else:
            assert [r["gap"], r["gap_low"], r["gap_high"]] == [c["mean_difference"], *c["interval"]]
        # the chart's point of that year is the comparison's own median
        assert r["peer_values"][r["years"].index(r["year"])] == c["peer_median"]
    assert twin["peers"] == analyst["peers"]["members"]
    counts = twin["counts"]
    assert sum(counts.values()) == len(twin["results"])
    assert counts["better"] == sum(r["tier"] == "clearly_better" for r in twin["results"])
    goals = site.client.get(f"/kommun/{KUNGSBACKA}/mal.json").json()["goals"]
    assert [g["judgement"]["verdict"] for g in goals] == [g["verdict"] for g in twin["goals"]]
    assert twin["source"] == "Källa: Kolada"


def test_a_regions_public_page_speaks_of_regions_with_the_region_pages_numbers(
    site: Site,
) -> None:
    page = site.client.get(f"/region/{HALLAND}/for-invanare")
    assert page.status_code == 200
    assert "<h1>Så går det för Region Halland</h1>" in page.text
    text = flat(prose(page.text))
    assert "liknande regioner" in text and "liknande kommuner" not in text
    twin = site.client.get(f"/region/{HALLAND}/for-invanare.json").json()
    assert twin["kind"] == "L" and 8 <= len(twin["results"]) <= 12
    analyst = site.client.get(f"/region/{HALLAND}.json").json()
    tiers = {r["kpi"]: r["comparison"]["tier"] for a in analyst["areas"] for r in a["key_results"]}
    assert {r["kpi"]: r["tier"] for r in twin["results"]}.items() <= tiers.items()


def test_names_redirect_the_other_kind_is_sent_on_and_unknown_units_are_swedish_404s(
    site: Site,
) -> None:
    client = site.client
    moved = client.get("/kommun/Kungsbacka/for-invanare")
    assert moved.status_code == 308
    assert moved.headers["location"] == f"/kommun/{KUNGSBACKA}/for-invanare"
    other = client.get(f"/kommun/{HALLAND}/for-invanare")
    assert other.status_code == 303
    assert other.headers["location"] == f"/region/{HALLAND}/for-invanare"
    other = client.get(f"/region/{KUNGSBACKA}/for-invanare.json")
    assert other.status_code == 303
    assert other.headers["location"] == f"/kommun/{KUNGSBACKA}/for-invanare.json"
    missing = client.get("/kommun/9999/for-invanare")
    assert missing.status_code == 404 and "Hittar ingen kommun" in missing.text
    assert client.get("/kommun/9999/for-invanare.json").json()["error"]["status"] == 404
    picked = client.get("/for-invanare", params={"kod": "Region Halland"})
    assert picked.headers["location"] == f"/region/{HALLAND}/for-invanare"
    picked = client.get("/for-invanare", params={"kod": KUNGSBACKA})
    assert picked.headers["location"] == f"/kommun/{KUNGSBACKA}/for-invanare"


def test_the_start_page_offers_the_public_pages(site: Site) -> None:
    page = site.client.get("/").text
    assert "Så går det för din kommun" in page
    form = page[page.index('action="/for-invanare"') :]
    form = form[: form.index("</form>")]
    assert f'<option value="{KUNGSBACKA}">Kungsbacka</option>' in form
    assert f'<option value="{HALLAND}">Region Halland</option>' in form


def test_a_new_trial_shows_at_once(site: Site) -> None:
    before = site.client.get(f"/kommun/{KUNGSBACKA}/for-invanare").text
    title = "Kvällsöppet bibliotek i Kungsbacka"
    assert title not in before
    editor = site.bank.user_by_email(EDITOR)
    trial = site.bank.register_trial(
        editor,
        {
            "municipality": KUNGSBACKA,
            "title": title,
            "description": "Biblioteket har öppet till nio.",
            "start_year": 2022,
            "kpis": [{"kpi": SCHOOL, "direction": "increase"}],
        },
        {SCHOOL: 2022},
    )
    try:
        assert title in site.client.get(f"/kommun/{KUNGSBACKA}/for-invanare").text
        twin = site.client.get(f"/kommun/{KUNGSBACKA}/for-invanare.json").json()
        assert title in [t["title"] for t in twin["trials"]]
    finally:
        site.bank.delete_trial(editor, trial.id, trial.version)


def test_a_unit_missing_from_the_bank_still_has_its_public_page(
    analysis_site: TestClient,
) -> None:
    page = analysis_site.get(f"/kommun/{KUNGSBACKA}/for-invanare")
    assert page.status_code == 200
    text = flat(prose(page.text))
    assert "Kungsbacka har inte lagt in några mål här ännu." in text
    assert "Kungsbacka har inte lagt in något försök här ännu." in text
    twin = analysis_site.get(f"/kommun/{KUNGSBACKA}/for-invanare.json").json()
    assert twin["goals"] == [] and twin["examples"] == [] and twin["results"]


# --- every unit ---------------------------------------------------------------------------------
def test_every_public_page_is_plain_swedish_with_8_to_12_results_chosen_by_the_rule(
    site: Site,
) -> None:
    """LIX at most 40 and no jargon on the page of every municipality and every region;
    every result shown has a plain title; the results are the clear verdicts first, then
    "about the same", then the rest, and one area does not come twice before every area
    with such a result has come once."""
    atlas = site.client.app.state.tillit.atlas  # type: ignore[attr-defined]
    worst: list[tuple[float, str]] = []
    for kind, path in (("K", "/kommun"), ("L", "/region")):
        state = atlas.loaded(kind)
        assert len(state.context.municipalities) == (290 if kind == "K" else 21)
        for code in state.context.municipalities:
            page = site.client.get(f"{path}/{code}/for-invanare")
            assert page.status_code == 200, code
            text = prose(page.text)
            score = lix(text)
            worst.append((score, code))
            assert score <= LIX_LIMIT, f"{code}: LIX {score:.1f}\n{text}"
            lower = text.lower()
            found = [word for word in JARGON if word in lower]
            assert not found, f"{code}: {found}"
            chosen = choose_results(municipality_overview(state, code))
            assert 8 <= len(chosen) <= min(12, MOST_RESULTS), code
            assert page.text.count('<article class="result') == len(chosen)
            untitled = [r.kpi for _, r in chosen if r.kpi not in plain_titles()]
            assert not untitled, f"{code}: no plain title in citizen_titles.csv for {untitled}"
            ranks = [_rank(r.comparison.tier) for _, r in chosen]
            assert ranks == sorted(ranks), code
            for rank in set(ranks):
                areas = [a for (a, r), k in zip(chosen, ranks, strict=True) if k == rank]
                first_repeat = next((i for i, a in enumerate(areas) if a in areas[:i]), len(areas))
                assert len(set(areas[:first_repeat])) == len(set(areas)), (code, areas)
    worst.sort()
    print(f"LIX over {len(worst)} pages: {worst[0][0]:.1f}–{worst[-1][0]:.1f}")


def _rank(tier: str) -> int:
    if tier.startswith("clearly_"):
        return 0
    return 1 if tier == "in_line" else 2


# --- in a browser, on a phone -------------------------------------------------------------------
PHONE = {"width": 320, "height": 640}


@pytest.mark.browser
@pytest.mark.parametrize(
    "path", [f"/kommun/{KUNGSBACKA}/for-invanare", "/region/0013/for-invanare"]
)
def test_the_public_page_on_a_phone_has_no_axe_violation_no_sideways_scroll_and_tab_reaches_all(
    new_page: Callable[..., Page], live_server: LiveServer, path: str
) -> None:
    page = new_page(viewport=PHONE)
    response = page.goto(live_server + path)
    assert response is not None and response.status == 200
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    for summary in page.locator("main details > summary").all():
        summary.click()  # the tables too, open: stacked rows, no wider than the screen
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
    violations = check_axe(page)
    save_screenshot(page, "for-invanare-320" + ("-region" if "region" in path else ""))
    assert not violations, "\n".join(violations)
    page.goto(live_server + path)
    walk = tab_through(page)
    assert not walk.missed(), "Tab never reached:\n  " + "\n  ".join(walk.missed())
    assert not walk.without_visible_focus()


@pytest.mark.browser
def test_the_public_page_is_reached_and_read_without_javascript(
    new_page: Callable[..., Page], live_server: LiveServer
) -> None:
    page = new_page(java_script_enabled=False, viewport=PHONE)
    page.goto(f"{live_server}/")
    form = page.locator("form[action='/for-invanare']")
    form.get_by_label("Kommun eller region").select_option(KUNGSBACKA)
    form.get_by_role("button", name="Visa sidan för invånare").click()
    page.wait_for_load_state()
    assert page.url == f"{live_server}/kommun/{KUNGSBACKA}/for-invanare"
    assert page.get_by_role("heading", level=1).inner_text() == "Så går det för Kungsbacka"
    first = page.locator("main details").first
    first.locator("summary").click()
    assert first.locator("table").is_visible()  # the table alternative opens without a script
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]
