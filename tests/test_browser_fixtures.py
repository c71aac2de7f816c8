"""The browser tests' own tools can fail: axe finds a real violation, the blocker catches a
request to another host, and ``tillit serve`` runs over the prepared bank."""

from __future__ import annotations

from typing import TYPE_CHECKING

import httpx
import pytest

from tests.browser_fixtures import (
    VARBERG_EDITOR,
    LiveServer,
    OutsideRequests,
    ScriptErrors,
    assert_no_outside_requests,
    check_axe,
    save_screenshot,
    tab_through,
)

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = pytest.mark.browser

GOOD = """<!doctype html>
<html lang="sv"><head><meta charset="utf-8"><title>Prov</title></head>
<body><main><h1>Prov</h1><img src="data:image/gif;base64,R0lGODlhAQABAAAAACw=" alt="En punkt">
<label for="q">Sök</label> <input id="q" name="q"> <button>Sök</button></main></body></html>"""


def test_axe_names_the_rule_and_the_element_of_a_violation(page: Page) -> None:
    page.set_content(GOOD.replace(' alt="En punkt"', ' id="punkt"'))
    violations = check_axe(page)
    assert len(violations) == 1, violations
    assert violations[0].startswith("image-alt (critical): Images must have alternative text")
    assert "#punkt" in violations[0]


def test_axe_finds_nothing_on_a_good_page_and_it_can_be_photographed(page: Page) -> None:
    page.set_content(GOOD)
    assert check_axe(page) == []
    shot = save_screenshot(page, "self-test")
    assert shot.read_bytes().startswith(b"\x89PNG")


def test_a_request_to_another_host_is_blocked_and_recorded(
    page: Page, outside_requests: OutsideRequests
) -> None:
    with page.expect_event("requestfailed") as failed:
        page.set_content('<html lang="sv"><img src="https://example.com/spy.png" alt=""></html>')
    assert failed.value.url == "https://example.com/spy.png"
    assert outside_requests == ["https://example.com/spy.png"]
    with pytest.raises(AssertionError, match=r"example\.com/spy\.png"):
        assert_no_outside_requests(outside_requests)
    outside_requests.clear()  # else the fixture fails the test at the end, as it should


def test_live_server_serves_the_prepared_bank(live_server: LiveServer) -> None:
    (title, example_id), *_ = live_server.examples.items()
    response = httpx.get(f"{live_server}/api/examples/{example_id}", timeout=10)
    assert response.status_code == 200
    example = response.json()
    assert example["title"] == title and example["status"] == "published"
    assert example["kpis"][0]["kpi"] == "N15419"
    login = httpx.post(
        f"{live_server}/api/login",
        json={"email": VARBERG_EDITOR, "password": "ett långt lösenord"},
        timeout=10,
    )
    assert login.status_code == 200, login.text


KEYBOARD = """<!doctype html><html lang="sv"><head><title>Tangenter</title><style>
.skip { position: absolute; left: -999px } .skip:focus { left: 0 }
#utan:focus { outline: none } #skugga:focus { outline: none; box-shadow: 0 0 0 3px black }
</style></head><body><a class="skip" href="#main">Hoppa till innehållet</a>
<main id="main" tabindex="-1"><a id="utan" href="/a">Utan fokusram</a>
<button id="skugga">Med skugga</button><a id="mus" href="/b" tabindex="-1">Bara med mus</a>
<a href="/c" hidden>Dold</a><details><summary>Mer</summary><a href="/d">Inuti</a></details>
<input type="radio" name="val" id="ja" checked><label for="ja">Ja</label>
<input type="radio" name="val" id="nej"><label for="nej">Nej</label></main></body></html>"""


def test_tab_through_names_mouse_only_controls_and_invisible_focus(page: Page) -> None:
    page.set_content(KEYBOARD)
    walk = tab_through(page)
    assert walk.focused[0]["what"].startswith('<a href="#main"> Hoppa till innehållet')
    # The hidden link and the one in the closed <details> are no controls; one radio suffices.
    assert walk.missed() == ['<a#mus href="/b"> Bara med mus']
    assert walk.without_visible_focus() == ['<a#utan href="/a"> Utan fokusram']


def test_an_uncaught_script_error_is_recorded(page: Page, script_errors: ScriptErrors) -> None:
    page.set_content('<html lang="sv"><script>throw new Error("trasig")</script></html>')
    page.wait_for_function("() => document.readyState === 'complete'")
    assert len(script_errors) == 1 and "trasig" in script_errors[0]
    script_errors.clear()  # else the fixture fails the test at the end, as it should
