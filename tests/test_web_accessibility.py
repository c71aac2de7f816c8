"""The accessibility statement (``/tillganglighet``) says what Digg's model asks for and stays
true: its compliance level follows from its list of known gaps, each gap is shown still to
exist, the contact comes from the settings, and every page links to it. In a real browser
(marked ``browser``): the municipality and region pages reflow at 320 × 640 without sideways
scrolling and keep their tables' semantics, and the statement passes axe and the keyboard."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from fastapi.testclient import TestClient

from tests.bank_fixtures import FAST_PASSWORDS
from tests.browser_fixtures import (
    KUNGSBACKA_EDITOR,
    LiveServer,
    check_axe,
    save_screenshot,
    tab_through,
)
from tests.test_web_browser import page_as
from tillit.bank import open_bank, upgrade
from tillit.config import Settings, load_settings
from tillit.errors import ConfigError
from tillit.web import create_app
from tillit.web._auth import SESSION_TTL
from tillit.web.pages._accessibility import (
    ASSESSED,
    DIGG_REPORT_URL,
    GAPS,
    UPDATED,
    compliance,
    statement_data,
)
from tillit.web.pages._render import env

if TYPE_CHECKING:
    from playwright.sync_api import Page

ROOT = Path(__file__).resolve().parents[1]

#: The headings of Digg's model statement (digg.se, "Skapa en tillgänglighetsredogörelse").
DIGG_HEADINGS = (
    "Hur tillgänglig är webbplatsen?",
    "Vad kan du göra om du inte kan använda delar av webbplatsen?",
    "Rapportera brister i webbplatsens tillgänglighet",
    "Tillsyn",
    "Teknisk information om webbplatsens tillgänglighet",
    "Innehåll som inte är tillgängligt",
    "Bristande förenlighet med lagkraven",
    "Oskäligt betungande anpassning",
    "Innehåll som inte omfattas av lagkraven",
    "Hur vi testat webbplatsen",
)

#: The success criteria of WCAG 2.1 at levels A and AA, with their levels.
_LEVEL_A = (
    "1.1.1 1.2.1 1.2.2 1.2.3 1.3.1 1.3.2 1.3.3 1.4.1 1.4.2 2.1.1 2.1.2 2.1.4 2.2.1 2.2.2 2.3.1 "
    "2.4.1 2.4.2 2.4.3 2.4.4 2.5.1 2.5.2 2.5.3 2.5.4 3.1.1 3.2.1 3.2.2 3.3.1 3.3.2 4.1.1 4.1.2"
)
_LEVEL_AA = (
    "1.2.4 1.2.5 1.3.4 1.3.5 1.4.3 1.4.4 1.4.5 1.4.10 1.4.11 1.4.12 1.4.13 2.4.5 2.4.6 2.4.7 "
    "3.1.2 3.2.3 3.2.4 3.3.3 3.3.4 4.1.3"
)
WCAG21 = {
    **{criterion: "A" for criterion in _LEVEL_A.split(" ")},
    **{criterion: "AA" for criterion in _LEVEL_AA.split(" ")},
}
assert len(WCAG21) == 50


class Outline(HTMLParser):
    """The headings (h1–h4, text) and links (href, text) of a page's <main>, and its
    footer's links."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[tuple[str, str]] = []
        self.links: list[tuple[str, str]] = []
        self.footer_links: list[str] = []
        self._heading: str | None = None
        self._link: str | None = None
        self._text: list[str] = []
        self._where: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("main", "footer"):
            self._where.append(tag)
        if tag in ("h1", "h2", "h3", "h4"):
            self._heading, self._text = tag, []
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if "footer" in self._where:
                self.footer_links.append(href)
            self._link = href
            if self._heading is None:
                self._text = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("main", "footer") and tag in self._where:
            self._where.remove(tag)
        if tag == self._heading:
            self.headings.append((tag, " ".join("".join(self._text).split())))
            self._heading = None
        if tag == "a" and self._link is not None:
            if "main" in self._where:
                self.links.append((self._link, " ".join("".join(self._text).split())))
            self._link = None

    def handle_data(self, data: str) -> None:
        self._text.append(data)


def outline(html: str) -> Outline:
    parsed = Outline()
    parsed.feed(html)
    return parsed


def main_text(html: str) -> str:
    main = html[html.index("<main") : html.index("</main>")]
    return " ".join(re.sub(r"<[^>]+>", " ", main).split())


@pytest.fixture(scope="module")
def site_bank(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    url = f"sqlite:///{tmp_path_factory.mktemp('statement') / 'bank.sqlite'}"
    upgrade(url)
    bank = open_bank(url, passwords=FAST_PASSWORDS)
    yield bank
    bank.close()


@pytest.fixture
def site(site_bank: Any, tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    """``site(**settings)``: a test client of the app made with those settings."""
    clients: list[TestClient] = []

    def make(**fields: Any) -> TestClient:
        settings = Settings(home=tmp_path / "home", **fields)
        app = create_app(settings, bank=site_bank)
        # What create_app is asked to keep (see the report); the page reads it from there.
        app.state.settings = settings
        client = TestClient(app)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


OWNED = {
    "site_owner": "Kungsbacka kommun",
    "feedback_email": "tillganglighet@kungsbacka.se",
    "feedback_days": 5,
}


# --- what the statement says --------------------------------------------------------------------
def test_the_statement_has_every_heading_of_diggs_model(site: Callable[..., TestClient]) -> None:
    page = site(**OWNED).get("/tillganglighet")
    assert page.status_code == 200
    headings = [text for _, text in outline(page.text).headings]
    missing = [h for h in DIGG_HEADINGS if h not in headings]
    assert not missing, f"headings missing: {missing}; the page has {headings}"
    assert headings[0] == "Tillgänglighetsredogörelse för Tillit"


def test_the_statement_names_the_owner_and_the_contact_from_the_settings(
    site: Callable[..., TestClient],
) -> None:
    page = site(**OWNED).get("/tillganglighet")
    text = main_text(page.text)
    assert "Kungsbacka kommun står bakom den här webbplatsen" in text
    links = dict(outline(page.text).links)
    assert links.get("mailto:tillganglighet@kungsbacka.se") == "tillganglighet@kungsbacka.se"
    assert "Vi svarar inom 5 arbetsdagar." in text
    assert "inte komplett" not in text


def test_a_contact_form_address_is_linked_as_the_contact(site: Callable[..., TestClient]) -> None:
    page = site(site_owner="Region Halland", feedback_email="https://regionhalland.se/kontakt")
    links = dict(outline(page.get("/tillganglighet").text).links)
    assert links.get("https://regionhalland.se/kontakt") == "kontaktformuläret"


def test_without_owner_or_contact_the_statement_says_so_and_names_the_settings(
    site: Callable[..., TestClient],
) -> None:
    text = main_text(site().get("/tillganglighet").text)
    assert "Redogörelsen är inte komplett." in text
    assert "TILLIT_SITE_OWNER" in text and "TILLIT_FEEDBACK_EMAIL" in text
    assert "Vi svarar inom" not in text  # no promise without someone to keep it
    assert "står bakom" not in text


def test_the_statement_links_to_diggs_complaint_form(site: Callable[..., TestClient]) -> None:
    page = site(**OWNED).get("/tillganglighet")
    links = dict(outline(page.text).links)
    assert DIGG_REPORT_URL == "https://www.digg.se/tdosanmalan"
    assert links.get(DIGG_REPORT_URL) == "anmäla bristande tillgänglighet till Digg"
    assert "Myndigheten för digital förvaltning (Digg)" in main_text(page.text)


def test_the_compliance_level_follows_the_list_of_gaps(site: Callable[..., TestClient]) -> None:
    text = main_text(site(**OWNED).get("/tillganglighet").text)
    assert GAPS, "with no known gap, this test asks for 'helt förenlig' below instead"
    assert "Webbplatsen är delvis förenlig med lagen" in text
    assert "helt förenlig" not in text
    for gap in GAPS:
        assert f"{gap.criterion} {gap.name} (nivå {gap.level})" in text
        assert gap.problem in text and gap.alternative in text and gap.plan in text
    # And a statement with no gaps says "helt förenlig", never "delvis".
    settings = Settings(home=Path("/nonexistent"), **OWNED)  # type: ignore[arg-type]
    html = env.get_template("accessibility.html").render(
        s=statement_data(settings, gaps=()), path="/tillganglighet", viewer=None
    )
    clean = main_text(html)
    assert compliance(()) == "helt förenlig"
    assert "Webbplatsen är helt förenlig med lagen" in clean and "delvis" not in clean


def test_every_gap_names_a_wcag_2_1_criterion_at_its_level() -> None:
    for gap in GAPS:
        assert WCAG21.get(gap.criterion) == gap.level, gap


def test_the_json_twin_is_the_statements_data(site: Callable[..., TestClient]) -> None:
    answer = site(**OWNED).get("/tillganglighet.json")
    assert answer.status_code == 200
    settings = Settings(home=Path("/nonexistent"), **OWNED)  # type: ignore[arg-type]
    assert answer.json() == json.loads(json.dumps(statement_data(settings)))
    assert answer.json()["compliance"] == "delvis förenlig"
    assert answer.json()["feedback"]["contact"]["href"] == "mailto:tillganglighet@kungsbacka.se"


@pytest.mark.parametrize("path", ["/", "/logga-in", "/tillganglighet", "/sok?q=x", "/kommun/0"])
def test_every_page_links_to_the_statement_in_its_footer(
    site: Callable[..., TestClient], path: str
) -> None:
    page = site().get(path)
    assert "/tillganglighet" in outline(page.text).footer_links, (path, page.status_code)


# --- the dates ------------------------------------------------------------------------------------
def test_the_assessment_is_not_older_than_a_year_before_the_pages_last_change() -> None:
    """A change of the pages' templates, styles or scripts more than a year after the last
    assessment means it is due again: assess, then move ASSESSED."""
    assert ASSESSED <= UPDATED <= date.today()
    git = shutil.which("git")
    if git is None or not (ROOT / ".git").exists():
        pytest.skip("not a git checkout: the pages' last change is unknown")
    web = ROOT / "src" / "tillit" / "web"
    last = subprocess.run(
        [git, "log", "-1", "--format=%cs", "--", str(web / "templates"), str(web / "static")],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if not last:
        pytest.skip("the pages have no commit yet")
    changed = date.fromisoformat(last)
    assert changed - ASSESSED <= timedelta(days=365), (
        f"the pages changed on {changed}, more than a year after the last assessment "
        f"({ASSESSED}): assess the site again, then move ASSESSED and UPDATED"
    )


# --- each gap still exists ------------------------------------------------------------------------
def session_time_limit(site: Callable[..., TestClient]) -> None:
    """2.2.1: the session ends after less than the 20 hours WCAG allows without a warning,
    and a form sent after it ends is lost (a redirect to the login page that keeps nothing)."""
    assert timedelta(0) < SESSION_TTL < timedelta(hours=20), SESSION_TTL
    client = site(**OWNED)
    sent = client.post(
        "/exempel/nytt",
        data={"title": "En lång text skriven under en kväll", "action": "save"},
        follow_redirects=False,
    )
    assert sent.status_code == 303
    assert sent.headers["location"] == "/logga-in?nasta=/exempel/nytt"  # the text is gone


#: The checks that need no browser, by the name a gap gives in ``check``.
CHECKS: dict[str, Callable[[Callable[..., TestClient]], None]] = {
    "session_time_limit": session_time_limit,
}


def chart_text_zoom(new_page: Callable[..., Page], server: LiveServer) -> None:
    """1.4.4: zooming to 200 % (half the CSS width) leaves a chart's text well short of
    twice its size."""
    sizes = []
    for width, height in ((1280, 900), (640, 450)):
        page = new_page(viewport={"width": width, "height": height})
        page.goto(f"{server}/nyckeltal/N15419?kommun=1384")
        tall = page.evaluate(
            "() => document.querySelector('.chart-svg svg text').getBoundingClientRect().height"
        )
        sizes.append(tall * 1280 / width)  # in the screen's pixels at that zoom
    assert sizes[1] < 1.5 * sizes[0], f"chart text at 100 % and 200 % zoom: {sizes}"


#: The checks that need the browser.
BROWSER_CHECKS: dict[str, Callable[[Callable[..., Page], LiveServer], None]] = {
    "chart_text_zoom": chart_text_zoom,
}


def test_every_gap_has_a_check_and_every_check_a_gap() -> None:
    named = [gap.check for gap in GAPS]
    checks = set(CHECKS) | set(BROWSER_CHECKS)
    assert len(named) == len(set(named))
    assert not set(named) - checks, "a gap without a check that shows it still exists"
    assert not checks - set(named), "a check of a gap the statement no longer lists"


@pytest.mark.parametrize("gap", [g for g in GAPS if g.check in CHECKS], ids=lambda g: g.check)
def test_a_listed_gap_still_exists(site: Callable[..., TestClient], gap: Any) -> None:
    CHECKS[gap.check](site)


# --- the settings -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "value", "words"),
    [
        ("TILLIT_FEEDBACK_EMAIL", "http://kommunen.se/kontakt", "varken en e-postadress"),
        ("TILLIT_FEEDBACK_EMAIL", "mailto:a@kommunen.se", "varken en e-postadress"),
        ("TILLIT_FEEDBACK_EMAIL", "tillganglighet", "varken en e-postadress"),
        ("TILLIT_FEEDBACK_EMAIL", "https://", "varken en e-postadress"),
        ("TILLIT_FEEDBACK_DAYS", "0", "utanför 1–90"),
        ("TILLIT_FEEDBACK_DAYS", "2.5", "inget heltal"),
        ("TILLIT_SITE_OWNER", "Kommun\nmed radbrytning", "styrtecken"),
        ("TILLIT_SITE_OWNER", "x" * 201, "för lång"),
    ],
)
def test_a_malformed_statement_setting_is_a_swedish_config_error(
    name: str, value: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings({"TILLIT_HOME": "/tmp/tillit", name: value})
    assert name in caught.value.message and words in caught.value.message
    assert caught.value.hint and name in caught.value.hint


def test_the_statement_settings_are_read_and_default() -> None:
    read = load_settings(
        {
            "TILLIT_HOME": "/tmp/tillit",
            "TILLIT_SITE_OWNER": "  Kungsbacka kommun ",
            "TILLIT_FEEDBACK_EMAIL": "https://kungsbacka.se/kontakt",
            "TILLIT_FEEDBACK_DAYS": "3",
        }
    )
    assert (read.site_owner, read.feedback_email, read.feedback_days) == (
        "Kungsbacka kommun",
        "https://kungsbacka.se/kontakt",
        3,
    )
    default = load_settings({"TILLIT_HOME": "/tmp/tillit"})
    assert (default.site_owner, default.feedback_email, default.feedback_days) == ("", "", 10)
    email = load_settings({"TILLIT_HOME": "/tmp/x", "TILLIT_FEEDBACK_EMAIL": "a.b@kommun.se"})
    assert email.feedback_email == "a.b@kommun.se"


# --- in the browser ------------------------------------------------------------------------------
PHONE = {"width": 320, "height": 640}
#: Every table role the browser's accessibility tree must still hold after the reflow.
TABLE_ROLES = ("table", "row", "columnheader", "rowheader", "cell")


def _roles(page: Page) -> dict[str, int]:
    """How many nodes of each role Chromium's accessibility tree has (what a screen reader
    gets), over the DevTools protocol."""
    session = page.context.new_cdp_session(page)
    try:
        tree = session.send("Accessibility.getFullAXTree")
    finally:
        session.detach()
    counts: dict[str, int] = {}
    for node in tree["nodes"]:
        role = (node.get("role") or {}).get("value")
        if role:
            counts[role] = counts.get(role, 0) + 1
    return counts


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/kommun/1384", "/region/0013"])
def test_the_unit_pages_reflow_on_a_phone_and_keep_their_tables(
    new_page: Callable[..., Page], live_server: LiveServer, path: str
) -> None:
    page = new_page(viewport=PHONE)
    page.goto(live_server + path)
    width = page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path}: the page is {width} px wide at 320 px"
    scrolling = _scrolling_tables(page)
    assert not scrolling, f"{path}: tables that scroll sideways at 320 px: {scrolling}"
    # Each cell is labelled by its column heading.
    labels = page.evaluate(
        """() => [...document.querySelectorAll('table.reflow')].flatMap((table) => {
            const heads = [...table.querySelectorAll('thead th')].map((th) => th.innerText.trim());
            return [...table.querySelectorAll('tbody tr')].flatMap((tr) =>
                [...tr.children].slice(1).map((td, i) => [
                    getComputedStyle(td, '::before').content, heads[i + 1]]));
        })"""
    )
    assert labels, f"{path}: no table.reflow"
    wrong = [(shown, head) for shown, head in labels if shown.split(" / ")[0] != f'"{head}"']
    assert not wrong, f"{path}: cells labelled otherwise than their column: {wrong[:5]}"
    rows = page.locator("table.reflow tbody tr").count()
    roles = _roles(page)
    for role in TABLE_ROLES:
        assert roles.get(role, 0) > 0, f"{path}: no {role} left for screen readers: {roles}"
    assert roles["rowheader"] >= rows and roles["cell"] >= 5 * rows, (rows, roles)
    violations = check_axe(page)
    save_screenshot(page, "telefon" + path.replace("/", "-"))
    assert not violations, f"{path} at 320 px:\n" + "\n".join(violations)


def _scrolling_tables(page: Page) -> list[str]:
    """The tables (their frames' labels) that scroll sideways inside their frame."""
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('.table-wrap')]
                  .filter((w) => w.scrollWidth > w.clientWidth + 1)
                  .map((w) => w.getAttribute('aria-label'))"""
    )
    return found


@pytest.mark.browser
@pytest.mark.parametrize("path", ["/kommun/1384", "/region/0013"])
def test_the_unit_pages_tables_fit_a_desktop_screen(
    new_page: Callable[..., Page], live_server: LiveServer, path: str
) -> None:
    page = new_page()
    page.goto(live_server + path)
    scrolling = _scrolling_tables(page)
    assert not scrolling, f"{path}: tables that scroll sideways at 1280 px: {scrolling}"


@pytest.mark.browser
def test_the_kpi_page_has_no_sideways_scrolling_on_a_phone(
    new_page: Callable[..., Page], live_server: LiveServer
) -> None:
    page = new_page(viewport=PHONE)
    page.goto(f"{live_server}/nyckeltal/N15419?kommun=1384")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= PHONE["width"]


@pytest.mark.browser
@pytest.mark.parametrize("viewport", [None, PHONE], ids=["skrivbord", "telefon"])
def test_the_statement_passes_axe_and_the_keyboard(
    new_page: Callable[..., Page], live_server: LiveServer, viewport: dict[str, int] | None
) -> None:
    page = new_page(**({"viewport": viewport} if viewport else {}))
    page.goto(f"{live_server}/tillganglighet")
    heading = page.get_by_role("heading", level=1).inner_text()
    assert heading == "Tillgänglighetsredogörelse för Tillit"
    violations = check_axe(page)
    assert not violations, "\n".join(violations)
    if viewport:
        assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
    walk = tab_through(page)
    assert not walk.missed(), "Tab never reached:\n  " + "\n  ".join(walk.missed())
    assert not walk.without_visible_focus(), walk.without_visible_focus()
    reached = [f["what"] for f in walk.focused]
    assert any('href="https://www.digg.se/tdosanmalan"' in what for what in reached), reached


#: The pages the statement says axe checks that tests/test_web_browser.py does not open
#: (not /riket/rapport yet: it takes longer than the browser waits, the first time):
#: path, who is logged in.
MORE_PAGES = {
    "forsok": ("/forsok", None),
    "forsok-ny": ("/forsok/ny", KUNGSBACKA_EDITOR),
    "mal-kommun": ("/kommun/1384/mal", None),
    "mal-region": ("/region/0013/mal", None),
    "mal-ny": ("/mal/ny?kommun=1384", KUNGSBACKA_EDITOR),
    "rapport-kommun": ("/kommun/1384/rapport", None),
    "rapport-region": ("/region/0013/rapport", None),
}


@pytest.mark.browser
@pytest.mark.parametrize("name", list(MORE_PAGES))
def test_the_trial_goal_and_report_pages_pass_axe(
    new_page: Callable[..., Page], live_server: LiveServer, name: str
) -> None:
    path, user = MORE_PAGES[name]
    page = page_as(new_page, live_server, user)
    response = page.goto(live_server + path)
    assert response is not None and response.status == 200, (path, response and response.status)
    violations = check_axe(page)
    assert not violations, f"{path}:\n" + "\n".join(violations)


@pytest.mark.browser
@pytest.mark.parametrize(
    "gap", [g for g in GAPS if g.check in BROWSER_CHECKS], ids=lambda g: g.check
)
def test_a_listed_gap_still_exists_in_the_browser(
    new_page: Callable[..., Page], live_server: LiveServer, gap: Any
) -> None:
    BROWSER_CHECKS[gap.check](new_page, live_server)
