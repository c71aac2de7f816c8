"""No request ends in a 500 because of an odd integer (issue 12): every route of the app,
found by walking ``app.routes`` so that a new one cannot be missed, gets superscript,
circled, Arabic-Indic and fullwidth digits and a 25-digit number in each of its fields
(path, query, form and JSON body) and answers 4xx or a page, never 5xx; a form with more
fields than a form may have answers 413 with the Swedish error page (JSON under /api)."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.bank_fixtures import FAST_PASSWORDS, PASSWORD
from tillit.bank import Bank, goals_of, open_bank, upgrade
from tillit.config import Settings
from tillit.query import Atlas, register_trial
from tillit.store import Store
from tillit.web import create_app
from tillit.web._params import request_int
from tillit.web.pages._trial_eval import TrialEvaluator

KUNGSBACKA = "1384"
SCHOOL = "N15419"
ADMIN = "admin@tillit.se"
#: Each passes str.isdigit() or int() although it is no ASCII number, or is far out of range.
ODD = ["²", "٢٠٢١", "9" * 25]
ODD_IDS = ["①", "²²²²", "9" * 25]


@dataclass
class Site:
    app: FastAPI
    client: TestClient
    csrf: str
    ids: dict[str, str]


@pytest.fixture(scope="module")
def site(analysis_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The whole app over the analysis store and an SQLite bank with one example, one trial
    and one API token; the client is logged in as an admin."""
    url = f"sqlite:///{tmp_path_factory.mktemp('integers') / 'bank.sqlite'}"
    upgrade(url)
    bank: Bank = open_bank(url, passwords=FAST_PASSWORDS)
    store = Store(analysis_settings.store_dir, memory_limit="512MB")
    bank.seed_organisations([(KUNGSBACKA, "Kungsbacka", "kommun")])
    admin = bank.add_user(ADMIN, PASSWORD, "Admin", "admin")
    example = bank.create_example(admin, {"title": "Läxhjälp", "organisation": KUNGSBACKA})
    trial = register_trial(
        store,
        bank,
        admin,
        {
            "municipality": KUNGSBACKA,
            "title": "Läxhjälp på eftermiddagen",
            "description": "Läxhjälp i alla skolor.",
            "start_year": 2016,
            "kpis": [{"kpi": SCHOOL, "direction": "increase"}],
        },
    )
    goal = goals_of(bank).create_goal(
        admin,
        {
            "organisation": KUNGSBACKA,
            "title": "Fler klarar alla ämnen",
            "indicators": [
                {
                    "kpi": SCHOOL,
                    "baseline_year": 2015,
                    "baseline_value": 80,
                    "target_value": 85,
                    "target_year": 2024,
                    "direction": "increase",
                }
            ],
        },
    )
    from tillit.bank import remisser_of

    remisser = remisser_of(bank)
    remiss = remisser.create_remiss(
        admin, {"title": "Starkare kommuner", "proposals": [("7.1", "En konsultationsordning")]}
    )
    quote = "Kommunen tillstyrker förslaget."
    answer = remisser.add_response(
        admin,
        remiss.id,
        {"text": quote, "respondent_name": "Kungsbacka"},
        [("7.1", "tillstyrker", quote, 0, len(quote), 1, "section")],
    )
    _plain, token = bank.create_token(admin, "skript")
    app = create_app(Settings(home=analysis_settings.home), bank=bank, atlas=Atlas(store))
    app.state.trial_evaluator = TrialEvaluator(peers=3, wait=0)
    with TestClient(app, follow_redirects=False, raise_server_exceptions=False) as client:
        form = client.get("/logga-in").text
        response = client.post(
            "/logga-in",
            data={"csrf_token": _csrf(form), "email": ADMIN, "password": PASSWORD},
        )
        assert response.status_code == 303, response.text
        ids = {
            "example_id": str(example.id),
            "trial_id": str(trial.id),
            "goal_id": str(goal.id),
            "remiss_id": str(remiss.id),
            "response_id": str(answer.id),
            "fmt": "csv",
            "token_id": str(token.id),
            "code": KUNGSBACKA,
            "kpi": SCHOOL,
            "chart": "tidsserie",
        }
        yield Site(app, client, _csrf(client.get("/konto").text), ids)
    bank.close()


def _csrf(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert found, "the page has no form with a csrf_token"
    return found.group(1)


# --- every route, from the app itself -------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    query: tuple[str, ...]
    """The query parameters the route declares."""


def _walk(routes: list[Any]) -> Iterator[Any]:
    """The app's routes, descending into included routers (FastAPI keeps them as branches)."""
    for route in routes:
        if hasattr(route, "effective_candidates"):
            yield from _walk(route.effective_candidates())
            yield from _walk(route.effective_low_priority_routes())
        elif hasattr(route, "routes") and not hasattr(route, "endpoint"):
            yield from _walk(route.routes)
        else:
            yield route


def endpoints(app: FastAPI) -> list[Endpoint]:
    found = []
    for route in _walk(app.routes):
        original = getattr(route, "original_route", route)
        dependant = getattr(original, "dependant", None)
        query = tuple(p.alias for p in dependant.query_params) if dependant else ()
        for method in sorted(getattr(original, "methods", None) or ()):
            if method != "HEAD":
                found.append(Endpoint(method, route.path, query))
    return found


def _listed_endpoints() -> list[Endpoint]:
    """The routes of an app over an empty bank (routes do not depend on what is stored)."""
    with tempfile.TemporaryDirectory() as home:
        url = f"sqlite:///{home}/bank.sqlite"
        upgrade(url)
        with open_bank(url) as bank:
            return endpoints(create_app(Settings(home=Path(home)), bank=bank))


ENDPOINTS = _listed_endpoints()
PATH_PARAM = re.compile(r"\{(\w+)(?::\w+)?\}")


def test_the_listing_finds_the_routes_of_every_part_of_the_app() -> None:
    paths = {e.path for e in ENDPOINTS}
    assert {"/api/examples/{example_id}", "/exempel", "/forsok/{trial_id:int}/andra"} <= paths
    assert len(ENDPOINTS) >= 55


def _fill(path: str, ids: dict[str, str], odd: tuple[str, str] | None = None) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        return odd[1] if odd and odd[0] == name else ids[name]

    return PATH_PARAM.sub(value, path)


#: Read by pages from ``request.query_params`` rather than declared: asked of every route.
QUERY_FIELDS = {"sida", "ar", "year", "version", "id", "kommun", "limit", "offset"}


def _page_fields(site: Site, path: str) -> set[str]:
    """What the page at ``path`` sends back: its forms' field names and its links' query
    keys (e.g. ``sida`` in the pagination)."""
    page = site.client.get(path)
    if page.status_code != 200 or not page.headers["content-type"].startswith("text/html"):
        return set()
    names = set(re.findall(r'name="([^"]+)"', page.text))
    for query in re.findall(r'href="[^"?]*\?([^"#]*)', page.text):
        names |= {pair.split("=", 1)[0] for pair in query.replace("&amp;", "&").split("&")}
    return names - {"csrf_token", ""}


def _json_fields(site: Site, endpoint: Endpoint) -> list[str]:
    """The integer fields of the route's JSON body, from the OpenAPI schema."""
    schema = site.app.openapi()
    operation = (
        schema["paths"].get(endpoint.path.replace(":int", ""), {}).get(endpoint.method.lower(), {})
    )
    body = operation.get("requestBody", {}).get("content", {}).get("application/json", {})
    ref = body.get("schema", {}).get("$ref", "")
    if not ref:
        return []
    model = schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    found = []
    for name, prop in model.get("properties", {}).items():
        kinds = [prop.get("type"), *(p.get("type") for p in prop.get("anyOf", []))]
        if "integer" in kinds:
            found.append(name)
    return found


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=lambda e: f"{e.method} {e.path}")
def test_odd_integers_in_any_field_never_give_a_server_error(
    site: Site, endpoint: Endpoint
) -> None:
    client, ids = site.client, site.ids
    headers = {"X-CSRF-Token": site.csrf}
    cases: list[tuple[str, str, dict[str, Any]]] = []
    for name in PATH_PARAM.findall(endpoint.path):
        for value in ODD_IDS:
            cases.append((f"path {name}={value}", _fill(endpoint.path, ids, (name, value)), {}))
    url = _fill(endpoint.path, ids)
    query = set(endpoint.query)
    if endpoint.method == "GET" and not endpoint.path.startswith("/api"):
        query |= QUERY_FIELDS | _page_fields(site, url)
    for name in sorted(query):
        for value in ODD:
            cases.append((f"query {name}={value}", url, {"params": {name: value}}))
    if endpoint.method != "GET" and not endpoint.path.startswith("/api"):
        for name in sorted(_page_fields(site, url)):
            for value in ODD:
                data = {"csrf_token": site.csrf, name: value}
                cases.append((f"form {name}={value}", url, {"data": data}))
    if endpoint.path.startswith("/api") and endpoint.method in ("POST", "PUT", "PATCH"):
        for name in _json_fields(site, endpoint):
            for value in [*ODD, True]:
                cases.append((f"json {name}={value!r}", url, {"json": {name: value}}))
    failures = []
    for what, target, extra in cases:
        response = client.request(endpoint.method, target, headers=headers, **extra)
        if response.status_code >= 500:
            failures.append(f"{what}: {response.status_code}")
    assert not failures, failures


def test_the_request_integer_parser_takes_ascii_digits_only() -> None:
    assert request_int("42", low=1, high=100) == 42
    assert request_int(" 7 ", low=1, high=100) == 7
    for text in ["²", "①", "٣", "３", "4２", "", "+", "1e3", "1_000", "0x10", "4.0", "9" * 25]:
        assert request_int(text, low=0, high=10**30) is None, text
    assert request_int("0", low=1, high=100) is None
    assert request_int("101", low=1, high=100) is None
    assert request_int("-3", low=-5, high=5) is None  # no sign unless asked for
    assert request_int("-3", low=-5, high=5, signed=True) == -3
    assert request_int("+3", low=-5, high=5, signed=True) == 3


@pytest.mark.parametrize("path", sorted({e.path for e in ENDPOINTS if e.method == "POST"}), ids=str)
def test_a_form_with_too_many_fields_is_refused_not_a_server_error(site: Site, path: str) -> None:
    body = "&".join(f"f{i}=1" for i in range(2_500))
    response = site.client.post(
        _fill(path, site.ids),
        content=body,
        headers={"Content-Type": "application/x-www-form-urlencoded", "X-CSRF-Token": site.csrf},
    )
    if path.startswith("/api"):  # a JSON API: a form is refused (415) or not read at all
        assert response.status_code < 500, response.text
        if response.status_code >= 400:
            assert response.headers["content-type"].startswith("application/json")
    else:
        assert response.status_code == 413
        assert response.headers["content-type"].startswith("text/html")
        assert "För många fält" in response.text
