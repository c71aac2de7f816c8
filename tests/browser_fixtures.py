"""Fixtures for the browser tests (``pytest -m browser``): Debian's headless Chromium driven by
Playwright, axe-core for accessibility, and ``tillit serve`` on loopback over the real store.

Chromium comes from Debian (``/usr/bin/chromium``; Playwright never downloads a browser here),
axe-core from the npm registry (``scripts/test`` installs it under ``.cache/npm``). Without them
the tests skip and say why; ``.ci/run`` sets ``TILLIT_REQUIRE_BROWSER=1``, which makes them fail
instead. Pages must load nothing from outside the server: every request to another host is
blocked, recorded, and fails the test."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx
import pytest

from tillit.config import Settings

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page, Route

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / ".cache" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
#: The WCAG 2.0 and 2.1 success criteria, levels A and AA.
AXE_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})
#: Chromium flags: no sandbox (we run as root), and no background traffic to Google's hosts.
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
VIEWPORT = {"width": 1280, "height": 900}

PASSWORD = "ett långt lösenord"
ADMIN = "admin@tillit.test"
KUNGSBACKA_EDITOR = "redaktor@kungsbacka.se"
VARBERG_EDITOR = "redaktor@varberg.se"
READER = "lasare@tillit.test"


def _give_up(reason: str) -> None:
    if os.environ.get("TILLIT_REQUIRE_BROWSER"):
        pytest.fail(f"{reason} (TILLIT_REQUIRE_BROWSER is set)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's headless Chromium, one per session."""
    if not CHROMIUM.exists():
        _give_up(f"no Chromium at {CHROMIUM} (apt-get install chromium chromium-driver)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _give_up("the playwright package is missing (pip install -e '.[test]')")
    if not AXE.exists():
        _give_up(f"axe-core is missing at {AXE} (scripts/test installs it with npm)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=list(CHROMIUM_ARGS)
        )
        try:
            yield launched
        finally:
            launched.close()


class OutsideRequests(list[str]):
    """The URLs of requests to other hosts than loopback, blocked before they left."""


@pytest.fixture
def outside_requests() -> OutsideRequests:
    return OutsideRequests()


def assert_no_outside_requests(blocked: OutsideRequests) -> None:
    """Fail, listing them, if a page tried to load anything from outside the server."""
    assert not blocked, "pages must load nothing from outside the server; they tried:\n" + (
        "\n".join(f"  {url}" for url in blocked)
    )


class ScriptErrors(list[str]):
    """Uncaught JavaScript errors of the test's pages."""


@pytest.fixture
def script_errors() -> ScriptErrors:
    return ScriptErrors()


@pytest.fixture
def new_page(
    browser: Browser, outside_requests: OutsideRequests, script_errors: ScriptErrors
) -> Iterator[Callable[..., Page]]:
    """``new_page(**context_options)``: a page in a new browser context (1280×900, sv-SE,
    unless the options say otherwise) whose requests to other hosts are blocked and recorded
    in ``outside_requests``, and whose uncaught script errors go to ``script_errors``. At the
    end the contexts close, and an outside request or a script error fails the test."""
    contexts: list[BrowserContext] = []

    def block_outside(route: Route) -> None:
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.hostname not in LOCAL_HOSTS:
            outside_requests.append(url)
            route.abort("blockedbyclient")
        else:
            route.continue_()

    def open_page(**options: Any) -> Page:
        context = browser.new_context(**{"viewport": VIEWPORT, "locale": "sv-SE", **options})
        context.set_default_timeout(15_000)
        context.route("**/*", block_outside)
        contexts.append(context)
        page = context.new_page()
        page.on("pageerror", lambda error: script_errors.append(f"{page.url}: {error}"))
        return page

    yield open_page
    for context in contexts:
        context.close()
    assert_no_outside_requests(outside_requests)
    assert not script_errors, "uncaught script errors:\n" + "\n".join(script_errors)


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A page in a fresh browser context (no cookies), 1280×900, Swedish locale."""
    return new_page()


def check_axe(page: Page, *, disable: tuple[str, ...] = ()) -> list[str]:
    """Run axe-core (WCAG 2.0/2.1 A and AA) on the page as it is now; the violations, one
    readable string each: rule, impact, what to fix, and the elements (CSS selectors)."""
    # Evaluated over the DevTools protocol, not as a <script>: the page's CSP does not apply.
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE.read_text(encoding="utf-8") + "\n;window.axe = axe; void 0;")
    results = page.evaluate(
        """async ([tags, disabled]) => {
            const rules = Object.fromEntries(disabled.map((id) => [id, {enabled: false}]));
            const r = await axe.run(document, {runOnly: {type: "tag", values: tags}, rules});
            return r.violations.map((v) => ({
                id: v.id, impact: v.impact, help: v.help, url: v.helpUrl,
                nodes: v.nodes.map((n) => ({
                    target: n.target.join(" "), summary: n.failureSummary || "",
                })),
            }));
        }""",
        [list(AXE_TAGS), list(disable)],
    )
    return [_violation(v) for v in results]


def _violation(v: dict[str, Any]) -> str:
    nodes = v["nodes"]
    lines = [f"{v['id']} ({v['impact']}): {v['help']} — {v['url']}"]
    for node in nodes[:10]:
        summary = " ".join(node["summary"].split())
        lines.append(f"    {node['target']}" + (f": {summary}" if summary else ""))
    if len(nodes) > 10:
        lines.append(f"    … and {len(nodes) - 10} more elements")
    return "\n".join(lines)


def save_screenshot(page: Page, name: str) -> Path:
    """A full-page PNG at test-artifacts/screenshots/{name}.png (CI keeps the directory)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


# --- the keyboard ------------------------------------------------------------------------------
#: Marks the page's visible controls (data-kbd) and records each element that gets focus, with
#: its outline and box-shadow at that moment.
_MARK_CONTROLS = """() => {
    const describe = (el) => {
        const text = (el.getAttribute("aria-label") || el.innerText || el.value || el.name || "")
            .trim().replace(/\\s+/g, " ").slice(0, 60);
        const id = el.id ? "#" + el.id : "";
        const href = el.getAttribute("href") ? ` href="${el.getAttribute("href")}"` : "";
        return `<${el.tagName.toLowerCase()}${id}${href}> ${text}`;
    };
    const look = (el) => {
        const s = getComputedStyle(el);
        const outline = s.outlineStyle !== "none" && parseFloat(s.outlineWidth) > 0;
        return {outline: outline ? `${s.outlineStyle} ${s.outlineWidth}` : "", shadow: s.boxShadow};
    };
    // Native controls count even with tabindex="-1" (a mouse-only control is a defect).
    const native = "a[href], area[href], button, input, select, textarea, details > summary";
    const controls = [];
    for (const el of document.querySelectorAll(native + ", [tabindex]")) {
        if (el.matches(":disabled") || el.type === "hidden" || el.closest("[inert]")) continue;
        if (!el.matches(native) && el.tabIndex < 0) continue;
        // false inside a closed <details>, under display: none or visibility: hidden
        const shown = el.checkVisibility({visibilityProperty: true}) && el.getClientRects().length;
        if (!shown) continue;
        el.dataset.kbd = String(controls.length);
        const group = el.type === "radio" && el.name ? `radio:${el.name}` : el.dataset.kbd;
        controls.push({id: el.dataset.kbd, group, what: describe(el), unfocused: look(el)});
    }
    window.__focused = [];
    document.addEventListener("focusin", (event) => {
        const el = event.target;
        window.__focused.push({id: (el.dataset && el.dataset.kbd) || null,
                               what: describe(el), focused: look(el)});
    }, true);
    return controls;
}"""
_TABS_PER_LOOK = 10


@dataclass(frozen=True)
class KeyboardWalk:
    """What pressing Tab from the top of a page reached. ``controls``: the visible controls
    (a[href], button, input, select, textarea, summary, any other element with tabindex >= 0;
    one radio group counts once); ``focused``: each element that got focus, in order, with its
    outline and box-shadow then."""

    controls: list[dict[str, Any]]
    focused: list[dict[str, Any]]

    def missed(self) -> list[str]:
        """The controls Tab never reached."""
        reached = {f["id"] for f in self.focused}
        groups = {c["group"] for c in self.controls if c["id"] in reached}
        return [c["what"] for c in self.controls if c["group"] not in groups]

    def without_visible_focus(self) -> list[str]:
        """The focused elements with no outline and the same box-shadow as unfocused."""
        before = {c["id"]: c["unfocused"]["shadow"] for c in self.controls}
        invisible = [
            f["what"]
            for f in self.focused
            if not f["focused"]["outline"] and f["focused"]["shadow"] == before.get(f["id"], "none")
        ]
        return list(dict.fromkeys(invisible))  # Tab may have wrapped round to the top


def tab_through(page: Page) -> KeyboardWalk:
    """Press Tab from the top of the page until every visible control got focus, or at
    most (number of controls + 10) times."""
    controls: list[dict[str, Any]] = page.evaluate(_MARK_CONTROLS)
    groups = {c["group"] for c in controls}
    group_of = {c["id"]: c["group"] for c in controls}
    focused: list[dict[str, Any]] = []
    presses = 0
    while presses < len(controls) + 10:
        for _ in range(_TABS_PER_LOOK):
            page.keyboard.press("Tab")
        presses += _TABS_PER_LOOK
        focused = page.evaluate("() => window.__focused")
        if {group_of[f["id"]] for f in focused if f["id"] in group_of} == groups:
            break
    return KeyboardWalk(controls, focused)


# --- tillit serve on loopback, over the real store and a bank of its own --------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


#: Published examples the pages can show: (organisation code, fields).
EXAMPLES: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "1383",
        {
            "title": "Föräldraledighet som delas lika i Varberg",
            "summary": "Varberg informerade blivande föräldrar om föräldrapenningen.",
            "problem": "Papporna tog ut en liten del av föräldrapenningdagarna.",
            "what_was_done": "Mödravården och förskolan bjöd in båda föräldrarna till samtal.",
            "results": "Papporna tog ut fler dagar än tidigare.",
            "operating_area": "Barn och familj",
            "period_start": 2016,
            "period_end": 2020,
            "tags": ["föräldraledighet", "jämställdhet"],
            "principles": ["helhetssyn"],
            "kpis": [{"kpi": "N15419", "municipality": "1383", "year_from": 2016, "year_to": 2020}],
        },
    ),
    (
        "1384",
        {
            "title": "Läsfrämjande i Kungsbackas grundskolor",
            "summary": "Skolbiblioteken och lärarna läste tillsammans med eleverna varje dag.",
            "problem": "Fler elever än förut nådde inte målen i svenska.",
            "what_was_done": "Tjugo minuters gemensam läsning varje morgon i årskurs 1–6.",
            "results": "Andelen som nådde målen ökade.",
            "operating_area": "Skola",
            "period_start": 2015,
            "period_end": 2019,
            "tags": ["läsning"],
            "principles": ["kunskap"],
            "kpis": [{"kpi": "N15419", "municipality": "1384", "year_from": 2015, "year_to": 2019}],
        },
    ),
    (
        "1384",
        {
            "title": "Ekonomiskt bistånd med en fast handläggare",
            "summary": "Varje hushåll fick en och samma handläggare hela vägen.",
            "problem": "Många bytte handläggare ofta och kom inte vidare.",
            "what_was_done": "Färre handläggare per hushåll och tätare uppföljning.",
            "results": "Fler gick vidare till arbete eller studier.",
            "operating_area": "Socialtjänst",
            "period_start": 2017,
            "period_end": 2021,
            "kpis": [{"kpi": "N31807", "municipality": "1384", "year_from": 2017}],
        },
    ),
)


def _prepare_bank(url: str, store_dir: Path) -> dict[str, int]:
    """Migrate the bank at ``url``, seed the organisations from the store's municipalities
    and regions (as ``tillit bank seed``), add the users and publish EXAMPLES. Returns the
    examples' ids by organisation code and title."""
    from argon2 import PasswordHasher

    from tillit.bank import Passwords, open_bank, upgrade
    from tillit.store import Store

    upgrade(url)
    kinds = {"K": "kommun", "L": "region"}
    store = Store(store_dir, memory_limit="512MB")
    rows = [
        (r["id"], r["title"], kinds[r["type"]])
        for r in store.municipalities()
        if r["type"] in kinds and r["id"] != "0000"
    ]
    fast = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    bank = open_bank(url, passwords=fast)
    try:
        bank.seed_organisations(rows)
        admin = bank.add_user(ADMIN, PASSWORD, "Administratör", "admin")
        editors = {
            "1384": bank.add_user(
                KUNGSBACKA_EDITOR, PASSWORD, "Redaktör Kungsbacka", "editor", "1384", actor=admin
            ),
            "1383": bank.add_user(
                VARBERG_EDITOR, PASSWORD, "Redaktör Varberg", "editor", "1383", actor=admin
            ),
        }
        bank.add_user(READER, PASSWORD, "Läsare", "reader", actor=admin)
        ids: dict[str, int] = {}
        for code, fields in EXAMPLES:
            record = bank.create_example(editors[code], {**fields, "status": "published"})
            ids[fields["title"]] = record.id
        return ids
    finally:
        bank.close()


class LiveServer(str):
    """The base URL of ``tillit serve`` (no trailing slash), with the ids of its examples."""

    examples: dict[str, int]


@pytest.fixture(scope="session")
def live_server(
    analysis_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """``tillit serve`` on a free loopback port over the session's real store (read only)
    and a fresh SQLite bank with Kungsbacka's and Varberg's editors and EXAMPLES in it."""
    root = tmp_path_factory.mktemp("live-server")
    database_url = f"sqlite:///{root / 'bank.sqlite'}"
    ids = _prepare_bank(database_url, analysis_settings.store_dir)
    port = _free_port()
    env = {
        **os.environ,
        "TILLIT_HOME": str(analysis_settings.home),
        "TILLIT_DATABASE_URL": database_url,
        "TILLIT_KOLADA_RATE": "0",
    }
    env.pop("TILLIT_POLARITY_FILE", None)
    env.pop("TILLIT_COOKIE_SECURE", None)
    log_path = root / "serve.log"
    with log_path.open("w", encoding="utf-8") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "tillit", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
        )
    base = LiveServer(f"http://127.0.0.1:{port}")
    base.examples = ids
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(base + "/", timeout=60)
                break
            except httpx.TransportError:
                if server.poll() is not None:
                    pytest.fail(
                        f"tillit serve stopped (exit {server.returncode}):\n"
                        + log_path.read_text(encoding="utf-8")
                    )
                if time.monotonic() > deadline:
                    pytest.fail(
                        "tillit serve did not answer on / in 60 s:\n"
                        + log_path.read_text(encoding="utf-8")
                    )
                time.sleep(0.2)
        yield base
    finally:
        died = server.poll() is not None
        if not died:
            server.send_signal(signal.SIGINT)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if died:  # past pytest's capture, so that the reason shows whatever failed
            print(
                f"tillit serve died during the tests (exit {server.returncode}):\n"
                + log_path.read_text(encoding="utf-8"),
                file=sys.__stderr__,
            )
