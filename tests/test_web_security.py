"""The security cases of issue 4, through HTTP on a real bank (SQLite and PostgreSQL).

A draft of another organisation answers 404, not 403: telling "exists but not yours" apart
from "does not exist" would leak which drafts exist. A published example of another
organisation is visible, so changing it answers 403."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.bank_fixtures import PASSWORD, People
from tests.conftest import FakeClock
from tillit.bank import Bank, LoginLimits
from tillit.web import create_app

Login = Callable[..., str]
SCRIPT = '<script>alert("x")</script><img src=x onerror=alert(1)> <!-- kommentar -->'


def _example(**fields: Any) -> dict[str, Any]:
    return {"title": "Hemtjänst i Majorna", "summary": "Hemtjänsten planerar själv.", **fields}


def _state(bank: Bank, admin: Any) -> tuple[Any, ...]:
    """Everything a failed request must leave as it was: examples, revisions, audit log."""
    page = bank.list_examples(admin, limit=500)
    revisions = [len(bank.revisions(admin, e.id)) for e in page.items]
    audit = [(a.id, a.action) for a in bank.audit_log(admin, limit=1000)]
    return page.items, revisions, audit


@pytest.fixture
def goteborg_examples(bank: Bank, people: People) -> dict[str, int]:
    """Göteborg's draft and published example, made directly in the bank."""
    draft = bank.create_example(people.goteborg, _example(title="Göteborgs utkast"))
    public = bank.create_example(
        people.goteborg, _example(title="Göteborgs publicerade", status="published")
    )
    return {"draft": draft.id, "published": public.id}


def _status(response: Any, status: int, code: str | None = None) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    if code is not None:
        assert response.json()["error"]["code"] == code


# -- roles -------------------------------------------------------------------------------------


def test_editor_of_another_municipality_cannot_edit_or_delete(
    api: TestClient, bank: Bank, people: People, login: Login, goteborg_examples: dict[str, int]
) -> None:
    csrf = {"X-CSRF-Token": login("s@example.se")}  # Stockholm's editor
    before = _state(bank, people.admin)
    url = f"/api/examples/{goteborg_examples['published']}"
    _status(api.patch(url, json={"version": 1, "title": "Kapad"}, headers=csrf), 403)
    _status(api.put(url, json={"version": 1, "title": "Kapad"}, headers=csrf), 403)
    _status(api.delete(url, headers=csrf), 403, "permission_denied")
    _status(api.post(f"{url}/unpublish", headers=csrf), 403)
    _status(
        api.post("/api/examples", json=_example(organisation="1480"), headers=csrf),
        403,
        "permission_denied",
    )
    assert _state(bank, people.admin) == before


def test_drafts_of_another_municipality_are_invisible(
    api: TestClient, bank: Bank, people: People, login: Login, goteborg_examples: dict[str, int]
) -> None:
    csrf = {"X-CSRF-Token": login("s@example.se")}
    draft = goteborg_examples["draft"]
    missing = 999_999
    # The same answer as for an id that does not exist: 404, so existence does not leak.
    for example_id in (draft, missing):
        _status(api.get(f"/api/examples/{example_id}"), 404, "not_found")
        _status(api.get(f"/api/examples/{example_id}/revisions"), 404, "not_found")
        _status(api.patch(f"/api/examples/{example_id}", json={"version": 1}, headers=csrf), 404)
        _status(api.delete(f"/api/examples/{example_id}", headers=csrf), 404)
        _status(api.post(f"/api/examples/{example_id}/publish", headers=csrf), 404)
    hidden = api.get(f"/api/examples/{draft}").json()["error"]
    absent = api.get(f"/api/examples/{missing}").json()["error"]
    assert hidden["message"] == absent["message"].replace(str(missing), str(draft))
    assert {**hidden, "message": ""} == {**absent, "message": ""}
    listed = api.get("/api/examples", params={"limit": 500}).json()
    assert draft not in [e["id"] for e in listed["items"]]
    assert api.get("/api/examples", params={"status": "draft"}).json()["total"] == 0
    searched = api.get("/api/search", params={"q": "utkast"}).json()
    assert draft not in [h["id"] for h in searched["hits"]]
    # Göteborg's own editor does see it.
    login("g@example.se")
    assert api.get(f"/api/examples/{draft}").status_code == 200


def test_reader_cannot_write(
    api: TestClient, bank: Bank, people: People, login: Login, goteborg_examples: dict[str, int]
) -> None:
    csrf = {"X-CSRF-Token": login("r@example.se")}
    before = _state(bank, people.admin)
    url = f"/api/examples/{goteborg_examples['published']}"
    _status(
        api.post("/api/examples", json=_example(organisation="1480"), headers=csrf),
        403,
        "permission_denied",
    )
    _status(api.patch(url, json={"version": 1, "title": "Läsaren"}, headers=csrf), 403)
    _status(api.put(url, json={"version": 1, "title": "Läsaren"}, headers=csrf), 403)
    _status(api.delete(url, headers=csrf), 403)
    _status(api.post(f"{url}/unpublish", headers=csrf), 403)
    _status(api.get("/api/audit"), 403)
    assert _state(bank, people.admin) == before


def test_anonymous_cannot_write(
    api: TestClient, bank: Bank, people: People, goteborg_examples: dict[str, int]
) -> None:
    before = _state(bank, people.admin)
    _status(api.post("/api/examples", json=_example()), 401, "not_authenticated")
    url = f"/api/examples/{goteborg_examples['published']}"
    _status(api.delete(url), 401, "not_authenticated")
    _status(api.post("/api/tokens", json={"name": "x"}), 401)
    assert _state(bank, people.admin) == before


# -- stored HTML and search input --------------------------------------------------------------


def test_script_round_trips_verbatim_in_json_and_is_escaped_in_snippets(
    api: TestClient, people: People, login: Login
) -> None:
    csrf = {"X-CSRF-Token": login("g@example.se")}
    body = _example(title=f"Hemtjänst {SCRIPT}", summary=f"Hemtjänsten {SCRIPT} planerar själv.")
    created = api.post("/api/examples", json={**body, "status": "published"}, headers=csrf)
    assert created.status_code == 201, created.text
    read = api.get(f"/api/examples/{created.json()['id']}")
    assert read.headers["content-type"] == "application/json"
    assert read.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in read.headers["content-security-policy"]
    assert read.json()["title"] == body["title"]  # verbatim: JSON strings are inert
    assert read.json()["summary"] == body["summary"]

    hits = api.get("/api/search", params={"q": "hemtjänst"}).json()["hits"]
    assert len(hits) == 1
    snippet = hits[0]["snippet_html"]
    assert "<script" not in snippet and "<img" not in snippet and "<!--" not in snippet
    assert "&lt;script&gt;" in snippet
    assert set(re.findall(r"</?([a-zA-Z]+)", snippet)) == {"mark"}  # the only markup


@pytest.mark.parametrize(
    ("query", "finds"),
    [
        ("hemtjänst'; DROP TABLE examples; --", False),  # every word must match
        ("hemtjänsten'; --", True),  # punctuation is not part of any word
        ("' OR '1'='1", False),
        ("'='; --", True),  # no words at all: the plain listing of published examples
        ("hemtjänst) UNION SELECT password_hash FROM users --", False),
        ("hemtjänst*) OR title MATCH '*", False),
        ("NEAR(hemtjänst) -- %_\\", False),
    ],
)
def test_sql_looking_search_input_is_harmless(
    api: TestClient,
    bank: Bank,
    people: People,
    goteborg_examples: dict[str, int],
    query: str,
    finds: bool,
) -> None:
    before = _state(bank, people.admin)
    response = api.get("/api/search", params={"q": query})
    assert response.status_code == 200, response.text
    hits = response.json()["hits"]
    # Normal results: only the published example, found by its words, never everything.
    assert {h["id"] for h in hits} <= {goteborg_examples["published"]}
    assert bool(hits) == finds
    for name in ("area", "principle"):
        filtered = api.get("/api/search", params={"q": "hemtjänst", name: query[:16]})
        assert filtered.status_code == 200 and filtered.json()["total"] == 0, name
    for name in ("municipality", "region"):  # four digits or nothing
        filtered = api.get("/api/search", params={"q": "hemtjänst", name: query[:16]})
        _status(filtered, 422, "validation_failed")
    listed = api.get("/api/examples", params={"tag": query, "organisation": "1480"})
    assert listed.status_code == 200 and listed.json()["total"] == 0
    assert _state(bank, people.admin) == before
    assert api.get("/api/organisations").status_code == 200  # the tables are all still there


# -- malformed and oversized requests ----------------------------------------------------------


def test_oversized_body_is_413_and_changes_nothing(
    api: TestClient, bank: Bank, people: People, login: Login
) -> None:
    csrf = {"X-CSRF-Token": login("g@example.se")}
    before = _state(bank, people.admin)
    huge = _example(summary="x" * 1_100_000)
    response = api.post("/api/examples", json=huge, headers=csrf)
    _status(response, 413, "request_too_large")
    assert response.json()["error"]["hint"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        yield b'{"title": "x", "summary": "'
        for _ in range(12):
            yield b"y" * 100_000
        yield b'"}'

    streamed = api.post(
        "/api/examples",
        content=chunks(),
        headers={**csrf, "content-type": "application/json"},
    )
    _status(streamed, 413, "request_too_large")
    assert _state(bank, people.admin) == before


def test_oversized_field_is_422_and_changes_nothing(
    api: TestClient, bank: Bank, people: People, login: Login
) -> None:
    csrf = {"X-CSRF-Token": login("g@example.se")}
    before = _state(bank, people.admin)
    response = api.post("/api/examples", json=_example(title="x" * 301), headers=csrf)
    _status(response, 422, "validation_failed")
    assert response.json()["error"]["fields"][0]["field"] == "body.title"
    assert _state(bank, people.admin) == before


@pytest.mark.parametrize(
    ("content", "status", "code"),
    [
        (b'{"title": "x",', 400, "invalid_json"),
        (b"\xff\xfe not json", 400, "bad_request"),
        (b'["title"]', 422, "validation_failed"),
        (b'{"title": 5}', 422, "validation_failed"),
        (b'{"title": "x", "organisation_id": 1}', 422, "validation_failed"),
        (b'{"title": "x\\u0000y"}', 422, "validation_failed"),
        # The schema's pattern refuses a KPI id that is none (the bank would too).
        (
            b'{"title": "x", "kpis": [{"kpi": "N1", "municipality": "1480"}]}',
            422,
            "validation_failed",
        ),
        # The bank refuses what a schema cannot say.
        (b'{"title": "x", "period_start": 2022, "period_end": 2019}', 422, "invalid_input"),
    ],
)
def test_malformed_body_is_a_clear_4xx_and_changes_nothing(
    api: TestClient,
    bank: Bank,
    people: People,
    login: Login,
    content: bytes,
    status: int,
    code: str,
) -> None:
    csrf = {"X-CSRF-Token": login("g@example.se")}
    before = _state(bank, people.admin)
    response = api.post(
        "/api/examples", content=content, headers={**csrf, "content-type": "application/json"}
    )
    _status(response, status, code)
    assert _state(bank, people.admin) == before


def test_nul_in_the_address_is_400(api: TestClient, people: People) -> None:
    _status(api.get("/api/search?q=a%00b"), 400, "bad_request")
    _status(api.get("/api/organisations/14%0080"), 400, "bad_request")


# -- CSRF, cookies, rate limit -----------------------------------------------------------------


def test_cookie_writes_need_the_csrf_token(
    api: TestClient, bank: Bank, people: People, login: Login
) -> None:
    csrf = login("g@example.se")
    before = _state(bank, people.admin)
    _status(api.post("/api/examples", json=_example()), 403, "csrf_failed")
    _status(
        api.post("/api/examples", json=_example(), headers={"X-CSRF-Token": "gissning"}),
        403,
        "csrf_failed",
    )
    _status(api.post("/api/tokens", json={"name": "x"}), 403, "csrf_failed")
    _status(api.post("/api/logout"), 403, "csrf_failed")
    assert _state(bank, people.admin) == before
    ok = api.post("/api/examples", json=_example(), headers={"X-CSRF-Token": csrf})
    assert ok.status_code == 201
    assert api.get("/api/me").status_code == 200  # reading needs no token


@pytest.mark.parametrize("media", ["text/plain", "application/x-www-form-urlencoded"])
def test_only_json_bodies_are_read_so_cross_site_forms_cannot_log_in(
    api: TestClient, people: People, media: str
) -> None:
    body = b'{"email": "g@example.se", "password": "' + PASSWORD.encode() + b'"}'
    response = api.post("/api/login", content=body, headers={"content-type": media})
    _status(response, 415, "unsupported_media_type")
    assert "set-cookie" not in response.headers


def test_bearer_token_writes_need_no_csrf_token(
    api: TestClient, bank: Bank, people: People
) -> None:
    plain, _ = bank.create_token(people.goteborg, "skript")
    response = api.post(
        "/api/examples", json=_example(), headers={"Authorization": f"Bearer {plain}"}
    )
    assert response.status_code == 201, response.text


def test_session_cookie_flags(bank: Bank, people: People) -> None:
    body = {"email": "g@example.se", "password": PASSWORD}
    with TestClient(create_app(bank=bank)) as plain_http:
        cookie = plain_http.post("/api/login", json=body).headers["set-cookie"]
    flags = [part.strip().lower() for part in cookie.split(";")]
    assert flags[0].startswith("tillit_session=")
    assert "httponly" in flags and "samesite=lax" in flags and "path=/" in flags
    assert "secure" not in flags  # plain http in development
    with TestClient(create_app(bank=bank), base_url="https://tillit.example") as https:
        response = https.post("/api/login", json=body)
        assert "secure" in response.headers["set-cookie"].lower().split("; ")
        assert response.headers["cache-control"] == "no-store"
    with TestClient(create_app(bank=bank, cookie_secure=True)) as behind_proxy:
        cookie = behind_proxy.post("/api/login", json=body).headers["set-cookie"]
        assert "secure" in cookie.lower().split("; ")


def test_logout_ends_the_session_on_the_server(api: TestClient, people: People) -> None:
    response = api.post("/api/login", json={"email": "g@example.se", "password": PASSWORD})
    cookie = response.cookies["tillit_session"]
    csrf = response.json()["csrf_token"]
    assert api.post("/api/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    api.cookies.set("tillit_session", cookie)  # a stolen copy of the old cookie
    assert api.get("/api/me").json()["user"] is None
    _status(api.post("/api/examples", json=_example()), 401, "not_authenticated")


def test_authenticated_responses_are_not_cached(
    api: TestClient, people: People, login: Login
) -> None:
    assert "no-store" not in api.get("/api/organisations").headers.get("cache-control", "")
    login("g@example.se")
    assert api.get("/api/me").headers["cache-control"] == "no-store"
    assert api.get("/api/organisations").headers["cache-control"] == "no-store"


def test_login_rate_limit_per_email(api: TestClient, people: People, clock: FakeClock) -> None:
    wrong = {"email": "g@example.se", "password": "fel lösenord"}
    for _ in range(5):
        _status(api.post("/api/login", json=wrong), 401, "invalid_credentials")
    blocked = api.post("/api/login", json=wrong)
    _status(blocked, 429, "rate_limited")
    assert 1 <= int(blocked.headers["retry-after"]) <= 15 * 60
    # The right password is refused too while blocked: guessing gains nothing.
    right = {"email": "g@example.se", "password": PASSWORD}
    _status(api.post("/api/login", json=right), 429, "rate_limited")
    clock.now += 15 * 60 + 1
    assert api.post("/api/login", json=right).status_code == 200


def test_logins_are_in_the_audit_log(api: TestClient, bank: Bank, people: People) -> None:
    api.post("/api/login", json={"email": "g@example.se", "password": PASSWORD})
    entries = bank.audit_log(people.admin, entity="user", entity_id=people.goteborg.id)
    assert "user.login" in [e.action for e in entries]


def test_nul_in_the_login_forms_email_is_a_failed_login_not_a_500(
    api: TestClient, bank: Bank, people: People
) -> None:
    """PostgreSQL refuses NUL in text: the login page answers with its form again."""
    page = api.get("/logga-in")
    token = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
    assert token
    for email, password in (("a\x00b@x.se", "x"), ("g@example.se", "a\x00b")):
        response = api.post(
            "/logga-in",
            data={"csrf_token": token.group(1), "email": email, "password": password},
            follow_redirects=False,
        )
        assert response.status_code in (401, 422), response.text
        assert response.headers["content-type"].startswith("text/html")
        assert 'name="email"' in response.text  # the form again, not an error page
    assert api.get("/konto", follow_redirects=False).status_code == 303  # not logged in


def test_the_bank_treats_an_unstorable_email_as_an_unknown_user(
    bank: Bank, people: People, clock: FakeClock
) -> None:
    """A caller that skips the web's checks still gets no database error."""
    now = datetime.fromtimestamp(clock(), UTC)
    for email in ("g@example.se\x00", "a\x00b@x.se", "a\ud800@x.se"):
        attempt, wait = bank.reserve_login(email, "192.0.2.1", now, LoginLimits())
        assert attempt is not None and wait == 0
        assert bank.authenticate(email, PASSWORD, client="192.0.2.1") is None
        bank.finish_login(attempt, succeeded=False)
    assert bank.authenticate("g@example.se", PASSWORD + "\ud800") is None
    assert bank.authenticate("g@example.se", PASSWORD) is not None


# -- headers and files ---------------------------------------------------------------------------


def test_api_docs_load_nothing_from_outside(api: TestClient) -> None:
    page = api.get("/api/docs")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<script" not in page.text.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page.text)  # no CDN, no other host
    assert 'href="/api/openapi.json"' in page.text
    assert "POST /api/examples" in page.text  # the operations, listed from the schema
    assert "default-src 'none'" in page.headers["content-security-policy"]
    assert api.get("/api/openapi.json").json()["paths"]


def test_pages_with_secrets_and_the_login_pages_are_never_cached(api: TestClient) -> None:
    def csrf_of(page: str) -> str:
        found = re.search(r'name="csrf_token" value="([^"]*)"', page)
        assert found
        return found.group(1)

    anonymous = api.get("/exempel")
    assert "no-store" not in anonymous.headers.get("cache-control", "")
    login_page = api.get("/logga-in")
    assert login_page.headers["cache-control"] == "no-store"
    logged_in = api.post(
        "/logga-in",
        data={
            "csrf_token": csrf_of(login_page.text),
            "email": "g@example.se",
            "password": PASSWORD,
        },
        follow_redirects=False,
    )
    assert logged_in.status_code == 303
    assert logged_in.headers["cache-control"] == "no-store"
    account = api.get("/konto")
    assert account.headers["cache-control"] == "no-store"
    assert api.get("/konto.json").headers["cache-control"] == "no-store"
    new_token = api.post(
        "/konto/tokens", data={"csrf_token": csrf_of(account.text), "name": "skript"}
    )
    assert new_token.status_code == 201 and "tlt_" in new_token.text
    assert new_token.headers["cache-control"] == "no-store"
    # Every page a logged-in visitor sees carries their name: not for shared caches either.
    assert api.get("/exempel").headers["cache-control"] == "no-store"


def test_a_bearer_token_cannot_mint_tokens(api: TestClient, bank: Bank, people: People) -> None:
    plain, _ = bank.create_token(people.goteborg, "skript")
    bearer = {"Authorization": f"Bearer {plain}"}
    _status(api.post("/api/tokens", json={"name": "ny"}, headers=bearer), 403, "permission_denied")
    assert [t.name for t in bank.tokens(people.goteborg)] == ["skript"]
    # A logged-in session (cookie and CSRF token) may.
    response = api.post("/api/login", json={"email": "g@example.se", "password": PASSWORD})
    csrf = {"X-CSRF-Token": response.json()["csrf_token"]}
    assert api.post("/api/tokens", json={"name": "ny"}, headers=csrf).status_code == 201
