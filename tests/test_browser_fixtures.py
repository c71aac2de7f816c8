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
    assert_no_outside_requests,
    check_axe,
    save_screenshot,
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
