"""The Swedish pages in a real browser (Debian's headless Chromium, ``tillit serve`` on
loopback): axe-core finds no WCAG 2.1 A/AA violation on any template, Tab reaches every control
with a visible focus, nothing loads from outside the server, the search works without
JavaScript, and an editor writes and edits an example that another municipality's editor
cannot touch. Screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from tests.browser_fixtures import (
    KUNGSBACKA_EDITOR,
    PASSWORD,
    VARBERG_EDITOR,
    LiveServer,
    OutsideRequests,
    assert_no_outside_requests,
    check_axe,
    save_screenshot,
    tab_through,
)

if TYPE_CHECKING:
    from playwright.sync_api import Locator, Page

pytestmark = pytest.mark.browser

VARBERG_EXAMPLE = "Föräldraledighet som delas lika i Varberg"
KUNGSBACKA_EXAMPLE = "Läsfrämjande i Kungsbackas grundskolor"

#: Login state (cookies) per (server, e-mail): each editor logs in through the form once.
_SESSIONS: dict[tuple[str, str], Any] = {}


def log_in(page: Page, server: LiveServer, email: str) -> None:
    """Log in through the form at /logga-in."""
    page.goto(f"{server}/logga-in")
    form = page.locator("main form")
    field(form, "E-postadress").fill(email)
    field(form, "Lösenord").fill(PASSWORD)
    form.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state()
    assert "/logga-in" not in page.url, page.locator("main").inner_text()


def page_as(new_page: Callable[..., Page], server: LiveServer, email: str | None) -> Page:
    """A page in a new context, logged in as ``email`` (None: nobody)."""
    if email is None:
        return new_page()
    key = (str(server), email)
    if key not in _SESSIONS:
        page = new_page()
        log_in(page, server, email)
        _SESSIONS[key] = page.context.storage_state()
    return new_page(storage_state=_SESSIONS[key])


def field(scope: Page | Locator, label: str) -> Locator:
    """The form control labelled ``label``, with or without " (obligatoriskt)" after it."""
    return scope.get_by_label(re.compile(rf"^{re.escape(label)}( \(obligatoriskt\))?$"))


def open_preview(page: Page) -> None:
    field(page, "Titel").fill("Förhandsgranskat exempel")
    field(page, "Sammanfattning").fill("Ett stycke.\n\nOch ett till.")
    page.get_by_role("button", name="Förhandsgranska").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Förhandsgranskat exempel").is_visible()


def has_a_funnel(page: Page) -> None:
    assert page.locator("#figur-tratt svg").count() == 1  # N15419 has none


def submit_a_bad_kpi(page: Page) -> None:
    field(page, "Titel").fill("Ett exempel med fel")
    field(page, "Nyckeltal").fill("N1")
    page.get_by_role("button", name="Spara").click()
    page.wait_for_load_state()
    assert page.get_by_role("alert").is_visible()  # the summary of what to correct


# name -> (path, who is logged in, expected status, what to do on the page before checking)
# {varberg}/{kungsbacka} are the ids of the examples the live server was seeded with.
PAGES: dict[str, tuple[str, str | None, int, Callable[[Page], None] | None]] = {
    "start": ("/", None, 200, None),
    "sok": ("/sok?q=kungsbacka", None, 200, None),
    "kommun": ("/kommun/1384", None, 200, None),
    "kommun-lika": ("/kommun/1384/lika", None, 200, None),
    "nyckeltal": ("/nyckeltal/N15419?kommun=1384", None, 200, None),
    "nyckeltal-tratt": ("/nyckeltal/N31807?kommun=1384", None, 200, has_a_funnel),
    "region": ("/region/0013", None, 200, None),
    "region-lika": ("/region/0013/lika", None, 200, None),
    "nyckeltal-region": ("/nyckeltal/U01405?region=0013", None, 200, None),
    "nyckeltal-kommunalt-for-region": ("/nyckeltal/N15419?region=0013", None, 422, None),
    "exempel": ("/exempel", None, 200, None),
    "exempel-sok": ("/exempel?q=föräldraledighet", None, 200, None),
    "exempel-sida": ("/exempel/{varberg}", None, 200, None),
    "logga-in": ("/logga-in", None, 200, None),
    "konto": ("/konto", KUNGSBACKA_EDITOR, 200, None),
    "exempel-nytt": ("/exempel/nytt", KUNGSBACKA_EDITOR, 200, None),
    "exempel-forhandsgranskning": ("/exempel/nytt", KUNGSBACKA_EDITOR, 200, open_preview),
    "exempel-fel": ("/exempel/nytt", KUNGSBACKA_EDITOR, 200, submit_a_bad_kpi),
    "exempel-andra": ("/exempel/{kungsbacka}/andra", KUNGSBACKA_EDITOR, 200, None),
    "saknas": ("/kommun/9999", None, 404, None),
}
KEYBOARD_PAGES = (
    "start",
    "sok",
    "kommun",
    "kommun-lika",
    "nyckeltal",
    "region",
    "exempel",
    "exempel-sida",
    "logga-in",
    "exempel-nytt",
)


def open_named(new_page: Callable[..., Page], server: LiveServer, name: str) -> Page:
    path, user, status, then = PAGES[name]
    page = page_as(new_page, server, user)
    url = server + path.format(
        varberg=server.examples[VARBERG_EXAMPLE], kungsbacka=server.examples[KUNGSBACKA_EXAMPLE]
    )
    response = page.goto(url)
    assert response is not None and response.status == status, (
        f"{name}: GET {url} answered {response and response.status}, not {status}"
    )
    if then is not None:
        then(page)
    return page


@pytest.mark.parametrize("name", list(PAGES))
def test_page_has_no_axe_violation_and_loads_nothing_from_outside(
    new_page: Callable[..., Page],
    live_server: LiveServer,
    outside_requests: OutsideRequests,
    name: str,
) -> None:
    page = open_named(new_page, live_server, name)
    violations = check_axe(page)
    save_screenshot(page, name)
    assert not violations, f"{name} ({page.url}):\n" + "\n".join(violations)
    assert_no_outside_requests(outside_requests)


@pytest.mark.parametrize("name", KEYBOARD_PAGES)
def test_tab_reaches_every_control_with_a_visible_focus(
    new_page: Callable[..., Page], live_server: LiveServer, name: str
) -> None:
    page = open_named(new_page, live_server, name)
    walk = tab_through(page)
    assert walk.focused, f"{name}: Tab focused nothing"
    first = walk.focused[0]["what"]
    assert "Hoppa till innehållet" in first, f"{name}: the first Tab reached {first}"
    missed = walk.missed()
    assert not missed, f"{name}: Tab never reached:\n  " + "\n  ".join(missed)
    hidden = walk.without_visible_focus()
    assert not hidden, f"{name}: no visible focus indicator on:\n  " + "\n  ".join(hidden)


def test_the_skip_link_moves_focus_to_the_content(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server}/kommun/1384")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "innehall"
    page.keyboard.press("Tab")  # the next Tab goes on inside the content, not in the header
    assert page.evaluate("() => !!document.activeElement.closest('main')")


def test_the_start_page_search_works_without_javascript(
    new_page: Callable[..., Page], live_server: LiveServer
) -> None:
    page = new_page(java_script_enabled=False)
    page.goto(f"{live_server}/")
    search = page.locator("main form[role=search]")
    search.get_by_role("searchbox").fill("Kungsbacka")
    search.get_by_role("button", name="Sök").click()
    page.wait_for_load_state()
    assert re.search(r"/sok\?q=Kungsbacka$", page.url), page.url
    assert page.locator("main").get_by_role("link", name="Kungsbacka").first.is_visible()
    save_screenshot(page, "sok-utan-javascript")


def test_search_as_you_type_suggests_a_region(page: Page, live_server: LiveServer) -> None:
    page.goto(f"{live_server}/")
    page.locator("main form[role=search]").get_by_role("searchbox").fill("halland")
    suggestion = page.locator("#sok-start-forslag a[href='/region/0013']")
    suggestion.wait_for(state="visible")
    assert suggestion.inner_text() == "Region Halland"
    suggestion.click()
    page.wait_for_load_state()
    assert page.url == f"{live_server}/region/0013"
    assert page.get_by_role("heading", level=1).inner_text() == "Region Halland"


def test_an_editor_writes_and_edits_an_example_that_another_municipality_cannot_edit(
    page: Page, live_server: LiveServer
) -> None:
    log_in(page, live_server, KUNGSBACKA_EDITOR)
    page.goto(f"{live_server}/exempel/nytt")
    form = page.locator("main form.example-form")
    field(form, "Titel").fill("Hemtjänst med kvällsrundor i Kungsbacka")
    field(form, "Sammanfattning").fill("Färre byten av personal på kvällen.")
    field(form, "Problem").fill("De äldre träffade många olika personer.")
    field(form, "Vad som gjordes").fill("Fasta kvällslag per område.")
    field(form, "Resultat").fill("Färre personer per vecka hos varje brukare.")
    field(form, "Verksamhetsområde").fill("Äldreomsorg")
    field(form, "Nyckeltal").fill("N15419")
    field(form, "Kommun").fill("1384")
    field(form, "Från år").fill("2016")
    field(form, "Till år").fill("2020")
    field(form, "Publicerad").check()
    form.get_by_role("button", name="Förhandsgranska").click()
    page.wait_for_load_state()
    preview = page.locator("section.preview")
    assert preview.get_by_text("Hemtjänst med kvällsrundor i Kungsbacka").is_visible()
    # The form keeps what was written, and Spara saves it.
    page.locator("main form.example-form").get_by_role("button", name="Spara").click()
    page.wait_for_load_state()
    match = re.search(r"/exempel/(\d+)$", page.url)
    assert match, page.url
    example_url = page.url
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "Hemtjänst med kvällsrundor i Kungsbacka"
    kpis = page.locator("table.kpi-links")
    assert "N15419" in kpis.inner_text() and "Kungsbacka (1384)" in kpis.inner_text()
    save_screenshot(page, "exempel-sparat")

    page.goto(f"{live_server}/exempel?q=kvällsrundor")
    hit = page.locator("main").get_by_role("link", name="Hemtjänst med kvällsrundor i Kungsbacka")
    assert hit.is_visible()
    hit.click()
    page.wait_for_load_state()
    assert page.url == example_url

    page.get_by_role("link", name="Ändra", exact=True).click()
    page.wait_for_load_state()
    form = page.locator("main form.example-form")
    field(form, "Titel").fill("Hemtjänst med fasta kvällslag i Kungsbacka")
    form.get_by_role("button", name="Spara").click()
    page.wait_for_load_state()
    assert page.url == example_url
    heading = page.get_by_role("heading", level=1)
    assert heading.inner_text() == "Hemtjänst med fasta kvällslag i Kungsbacka"

    page.get_by_role("button", name="Logga ut").click()
    page.wait_for_load_state()
    log_in(page, live_server, VARBERG_EDITOR)
    page.goto(example_url)
    assert page.get_by_role("heading", level=1).inner_text() == (
        "Hemtjänst med fasta kvällslag i Kungsbacka"
    )
    assert page.get_by_role("link", name="Ändra", exact=True).count() == 0
    response = page.goto(example_url + "/andra")
    assert response is not None and response.status == 403
    assert "Du får inte ändra det här exemplet" in page.locator("main").inner_text()
    save_screenshot(page, "exempel-andra-nekas")


# --- the trial page ---------------------------------------------------------------------------
# `tillit serve` evaluates a trial against 50 peers, about a minute and a half on this store;
# the trial page is checked on an app of its own in this process, with 12 peers (seconds).


@pytest.fixture(scope="module")
def trial_server(
    analysis_settings: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, int]]:
    """The web app on a loopback port in a thread, over the session's store and a bank with
    Kungsbacka's trial on school results from 2016, evaluated once before the tests."""
    import threading

    import httpx
    import uvicorn

    from tests.bank_fixtures import FAST_PASSWORDS
    from tests.browser_fixtures import _free_port
    from tillit.bank import open_bank, upgrade
    from tillit.query import Atlas, register_trial
    from tillit.store import Store
    from tillit.web import create_app
    from tillit.web.pages._trial_eval import TrialEvaluator

    url = f"sqlite:///{tmp_path_factory.mktemp('trial-server') / 'bank.sqlite'}"
    upgrade(url)
    bank = open_bank(url, passwords=FAST_PASSWORDS)
    store = Store(analysis_settings.store_dir, memory_limit="512MB")
    bank.seed_organisations(
        [(m["id"], m["title"], "kommun") for m in store.municipalities() if m["type"] == "K"]
    )
    editor = bank.add_user(KUNGSBACKA_EDITOR, PASSWORD, "Red", "editor", "1384")
    trial = register_trial(
        store,
        bank,
        editor,
        {
            "municipality": "1384",
            "title": "Läxhjälp på eftermiddagen",
            "description": "Läxhjälp i alla skolor.",
            "start_year": 2016,
            "kpis": [{"kpi": "N15419", "direction": "increase"}],
        },
    )
    app = create_app(bank=bank, atlas=Atlas(store))
    app.state.trial_evaluator = TrialEvaluator(peers=12, wait=300)
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "the trial server did not start"
            time.sleep(0.05)
        assert httpx.get(f"{base}/forsok/{trial.id}.json", timeout=300).status_code == 200
        yield base, trial.id
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        bank.close()


def test_trial_page_has_no_axe_violation_and_tab_reaches_every_control(
    new_page: Callable[..., Page],
    trial_server: tuple[str, int],
    outside_requests: OutsideRequests,
) -> None:
    base, trial_id = trial_server
    for path, name in ((f"/forsok/{trial_id}", "forsok-sida"), ("/forsok", "forsok")):
        page = new_page()
        response = page.goto(base + path)
        assert response is not None and response.status == 200
        violations = check_axe(page)
        save_screenshot(page, name)
        assert not violations, f"{name} ({page.url}):\n" + "\n".join(violations)
        assert page.locator("#figur-syntes svg, #figur-skillnad svg").count() == (
            2 if name == "forsok-sida" else 0
        )
        walk = tab_through(page)
        assert "Hoppa till innehållet" in walk.focused[0]["what"]
        missed = walk.missed()
        assert not missed, f"{name}: Tab never reached:\n  " + "\n  ".join(missed)
        hidden = walk.without_visible_focus()
        assert not hidden, f"{name}: no visible focus indicator on:\n  " + "\n  ".join(hidden)
    assert_no_outside_requests(outside_requests)


def test_trial_form_has_no_axe_violation_and_tab_reaches_every_control(
    new_page: Callable[..., Page],
    trial_server: tuple[str, int],
    outside_requests: OutsideRequests,
) -> None:
    base, _trial_id = trial_server
    page = new_page()
    page.goto(f"{base}/logga-in?nasta=/forsok/ny")
    form = page.locator("main form")
    field(form, "E-postadress").fill(KUNGSBACKA_EDITOR)
    field(form, "Lösenord").fill(PASSWORD)
    form.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state()
    assert page.url == f"{base}/forsok/ny", page.locator("main").inner_text()
    assert page.get_by_role("heading", name="Registrera ett försök").is_visible()
    assert field(page, "Kommun eller region").input_value() == "Kungsbacka (1384)"
    violations = check_axe(page)
    save_screenshot(page, "forsok-ny")
    assert not violations, f"forsok-ny ({page.url}):\n" + "\n".join(violations)
    walk = tab_through(page)
    missed = walk.missed()
    assert not missed, "forsok-ny: Tab never reached:\n  " + "\n  ".join(missed)
    hidden = walk.without_visible_focus()
    assert not hidden, "forsok-ny: no visible focus indicator on:\n  " + "\n  ".join(hidden)
    assert_no_outside_requests(outside_requests)


@pytest.fixture
def fresh_server(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A first `tillit serve` on a fresh TILLIT_HOME (no store, no bank yet): its base URL and
    the file its terminal output goes to."""
    from tests.browser_fixtures import _free_port

    port = _free_port()
    env = {**os.environ, "TILLIT_HOME": str(tmp_path / "home")}
    for name in ("TILLIT_DATABASE_URL", "TILLIT_POLARITY_FILE", "TILLIT_COOKIE_SECURE"):
        env.pop(name, None)
    log_path = tmp_path / "serve.log"
    with log_path.open("w", encoding="utf-8") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "tillit", "serve", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(base + "/api/organisations", timeout=10)
                break
            except httpx.TransportError:
                assert server.poll() is None, log_path.read_text(encoding="utf-8")
                assert time.monotonic() < deadline, "tillit serve did not start in 30 s"
                time.sleep(0.2)
        yield base, log_path
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def test_a_first_serve_on_an_empty_home_shows_a_page_that_says_what_to_do(
    page: Page, fresh_server: tuple[str, Path]
) -> None:
    base, log_path = fresh_server
    response = page.goto(base + "/")
    assert response is not None and response.status == 200
    notice = page.get_by_role("region", name="Här finns inga uppgifter ännu")
    assert notice.is_visible()
    assert "tillit import" in notice.inner_text() and "tillit sync" in notice.inner_text()
    assert not check_axe(page)
    save_screenshot(page, "forsta-minuten-start")
    # A municipality that is not there offers the search, and the search answers.
    response = page.goto(base + "/kommun/9999")
    assert response is not None and response.status == 404
    assert "tillit" not in page.locator("main").inner_text().lower()
    search = page.locator("main form[role=search]")
    search.get_by_role("searchbox").fill("hemtjänst")
    search.get_by_role("button", name="Sök").click()
    page.wait_for_load_state()
    assert "/sok?q=" in page.url and "inga uppgifter" in page.locator("main").inner_text()
    assert not check_axe(page)
    save_screenshot(page, "forsta-minuten-saknas")
    assert "Traceback" not in log_path.read_text(encoding="utf-8")


# --- the goal pages ---------------------------------------------------------------------------
@pytest.fixture(scope="module")
def goal_server(
    analysis_settings: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, int]]:
    """The web app on a loopback port in a thread, over the session's store and a bank with
    a Kungsbacka goal on school results (an interim target, the target lowered once)."""
    import threading

    import uvicorn

    from tests.bank_fixtures import FAST_PASSWORDS
    from tests.browser_fixtures import _free_port
    from tillit.bank import open_bank, upgrade
    from tillit.query import Atlas, add_goal, edit_goal
    from tillit.store import Store
    from tillit.web import create_app

    url = f"sqlite:///{tmp_path_factory.mktemp('goal-server') / 'bank.sqlite'}"
    upgrade(url)
    bank = open_bank(url, passwords=FAST_PASSWORDS)
    store = Store(analysis_settings.store_dir, memory_limit="512MB")
    bank.seed_organisations(
        [(m["id"], m["title"], "kommun") for m in store.municipalities() if m["type"] == "K"]
    )
    editor = bank.add_user(KUNGSBACKA_EDITOR, PASSWORD, "Red", "editor", "1384")
    indicator = {"kpi": "N15419", "target_value": 90, "target_year": 2026,
                 "direction": "ökning", "interim": [[2024, 85]]}  # fmt: skip
    goal, _ = add_goal(
        store,
        bank,
        editor,
        {
            "organisation": "1384",
            "title": "Fler elever klarar alla ämnen",
            "indicators": [indicator],
        },
    )
    lowered = {**indicator, "target_value": 88, "baseline_year": goal.indicators[0].baseline_year}
    edit_goal(store, bank, editor, goal.id, {"indicators": [lowered], "note": "Realistiskt."})
    app = create_app(bank=bank, atlas=Atlas(store))
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not server.started:
            assert time.monotonic() < deadline, "the goal server did not start"
            time.sleep(0.05)
        yield base, goal.id
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        bank.close()


def _accessible(page: Page, name: str, *, from_top: bool = True) -> None:
    """No axe violation, and Tab reaches every control with a visible focus (``from_top``:
    starting at the skip link; a preview moves the focus to itself first)."""
    violations = check_axe(page)
    save_screenshot(page, name)
    assert not violations, f"{name} ({page.url}):\n" + "\n".join(violations)
    walk = tab_through(page)
    if from_top:
        assert "Hoppa till innehållet" in walk.focused[0]["what"]
    missed = walk.missed()
    assert not missed, f"{name}: Tab never reached:\n  " + "\n  ".join(missed)
    hidden = walk.without_visible_focus()
    assert not hidden, f"{name}: no visible focus indicator on:\n  " + "\n  ".join(hidden)


def test_goal_pages_have_no_axe_violation_and_tab_reaches_every_control(
    new_page: Callable[..., Page],
    goal_server: tuple[str, int],
    outside_requests: OutsideRequests,
) -> None:
    base, goal_id = goal_server
    for path, name in ((f"/mal/{goal_id}", "mal-sida"), ("/kommun/1384/mal", "kommun-mal")):
        page = new_page()
        response = page.goto(base + path)
        assert response is not None and response.status == 200
        assert page.locator(f"#figur-mal-{goal_id}-indikator-1 svg").count() == 1
        _accessible(page, name)
        if name == "mal-sida":
            history = page.get_by_role("region", name="Målets historik").inner_text()
            assert "sänktes från 90 till 88" in history
    assert_no_outside_requests(outside_requests)


def test_goal_form_and_its_preview_have_no_axe_violation_and_tab_reaches_every_control(
    new_page: Callable[..., Page],
    goal_server: tuple[str, int],
    outside_requests: OutsideRequests,
) -> None:
    base, _goal_id = goal_server
    page = new_page()
    page.goto(f"{base}/logga-in?nasta=/mal/ny")
    form = page.locator("main form")
    field(form, "E-postadress").fill(KUNGSBACKA_EDITOR)
    field(form, "Lösenord").fill(PASSWORD)
    form.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state()
    assert page.url == f"{base}/mal/ny", page.locator("main").inner_text()
    assert field(page, "Kommun eller region").input_value() == "Kungsbacka (1384)"
    _accessible(page, "mal-ny")
    # the preview, without JavaScript's help: a plain submit that runs the check
    field(page, "Mål").fill("Fler elever klarar alla ämnen i årskurs 9")
    page.locator("#f-ind-0-kpi").fill("N15419")
    page.locator("#f-ind-0-direction").select_option("increase")
    page.locator("#f-ind-0-target_value").fill("86,5")
    page.locator("#f-ind-0-target_year").fill("2026")
    page.get_by_role("button", name="Förhandsgranska").click()
    page.wait_for_load_state()
    preview = page.get_by_role("region", name="Förhandsgranskning")
    assert "Mätbarhet:" in preview.inner_text()
    assert page.locator("#f-ind-0-target_value").input_value() == "86,5"
    assert page.evaluate("document.activeElement.id") == "forhandsgranskning"
    _accessible(page, "mal-forhandsgranskning", from_top=False)
    assert_no_outside_requests(outside_requests)
