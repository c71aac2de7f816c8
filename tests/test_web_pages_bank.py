"""The bank's Swedish pages: logging in and out, the account with its API tokens, the list
of examples with search and filters, one example, and the form that creates and edits
examples. Every test runs on SQLite and PostgreSQL (the ``bank`` fixture)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator

import pytest

from tests.bank_fixtures import PASSWORD, People
from tests.conftest import FakeClock, TestClient
from tillit.bank import Bank
from tillit.web import COOKIE_NAME, LoginLimiter, create_app

FORM = {"content-type": "application/x-www-form-urlencoded"}


@pytest.fixture
def client(bank: Bank, people: People, clock: FakeClock) -> Iterator[TestClient]:
    app = create_app(bank=bank, limiter=LoginLimiter(clock=clock))
    with TestClient(app, follow_redirects=False) as test_client:
        yield test_client


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert found, "the page has no form with a csrf_token"
    return found.group(1)


def text_of(page: str) -> str:
    """The page's text without tags, entities decoded, white space collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


LogIn = Callable[..., str]


@pytest.fixture
def log_in(client: TestClient) -> LogIn:
    """``log_in(email)`` logs ``client`` in through the login form; returns the session's
    CSRF token (from the account page's forms)."""

    def go(email: str, password: str = PASSWORD) -> str:
        form = client.get("/logga-in")
        response = client.post(
            "/logga-in",
            data={"csrf_token": csrf_of(form.text), "email": email, "password": password},
        )
        assert response.status_code == 303, response.text
        return csrf_of(client.get("/konto").text)

    return go


# --- logging in and out -------------------------------------------------------------------------
def test_login_form_sets_the_session_cookie_and_redirects_to_the_next_page(
    client: TestClient,
) -> None:
    form = client.get("/logga-in?nasta=/exempel/nytt")
    assert form.status_code == 200
    assert 'for="email">E-postadress' in form.text and 'for="password">Lösenord' in form.text
    cookie = form.headers["set-cookie"]
    assert "tillit_csrf=" in cookie and "HttpOnly" in cookie
    assert "SameSite=strict" in cookie or "samesite=strict" in cookie.lower()
    assert "Path=/logga-in" in cookie
    response = client.post(
        "/logga-in",
        data={
            "csrf_token": csrf_of(form.text),
            "email": "G@example.se",
            "password": PASSWORD,
            "nasta": "/exempel/nytt",
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/exempel/nytt"
    session = [c for c in response.headers.get_list("set-cookie") if c.startswith(COOKIE_NAME)]
    assert session and "HttpOnly" in session[0] and "samesite=lax" in session[0].lower()
    me = client.get("/konto")
    assert me.status_code == 200
    assert "g@example.se" in me.text and "redaktör" in me.text


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil", "x"])
def test_login_never_redirects_off_the_site(client: TestClient, target: str) -> None:
    form = client.get("/logga-in")
    response = client.post(
        "/logga-in",
        data={
            "csrf_token": csrf_of(form.text),
            "email": "r@example.se",
            "password": PASSWORD,
            "nasta": target,
        },
    )
    assert response.status_code == 303
    assert response.headers["location"] == "/konto"


def test_wrong_password_shows_the_message_keeps_the_email_and_counts_toward_the_limit(
    client: TestClient,
) -> None:
    token = csrf_of(client.get("/logga-in").text)
    for _ in range(5):
        response = client.post(
            "/logga-in",
            data={"csrf_token": token, "email": "g@example.se", "password": "fel lösenord!"},
        )
        assert response.status_code == 401
        assert "Fel e-postadress eller lösenord." in response.text
        assert 'role="alert"' in response.text
        assert 'value="g@example.se"' in response.text
        assert COOKIE_NAME not in response.headers.get("set-cookie", "")
    # The sixth attempt is refused even with the right password, like POST /api/login.
    response = client.post(
        "/logga-in", data={"csrf_token": token, "email": "g@example.se", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0
    assert "För många misslyckade inloggningsförsök." in response.text
    api = client.post("/api/login", json={"email": "g@example.se", "password": PASSWORD})
    assert api.status_code == 429


def test_login_without_the_csrf_cookie_or_token_is_refused(client: TestClient) -> None:
    data = {"email": "g@example.se", "password": PASSWORD}
    assert client.post("/logga-in", data=data).status_code == 403
    token = csrf_of(client.get("/logga-in").text)
    assert client.post("/logga-in", data={**data, "csrf_token": "fel"}).status_code == 403
    client.cookies.clear()
    assert client.post("/logga-in", data={**data, "csrf_token": token}).status_code == 403


def test_logout_needs_the_csrf_token_and_ends_the_session(
    client: TestClient, log_in: LogIn
) -> None:
    token = log_in("g@example.se")
    assert client.post("/logga-ut", data={"x": "1"}).status_code == 403
    assert client.get("/konto").status_code == 200
    session = client.cookies[COOKIE_NAME]
    response = client.post("/logga-ut", data={"csrf_token": token})
    assert response.status_code == 303 and response.headers["location"] == "/"
    # The session is gone on the server: the old cookie no longer logs anyone in.
    client.cookies.set(COOKIE_NAME, session)
    assert client.get("/konto").status_code == 303
    assert client.get("/api/me").json()["user"] is None


# --- the account ----------------------------------------------------------------------------------
def test_account_needs_a_login(client: TestClient) -> None:
    response = client.get("/konto")
    assert response.status_code == 303
    assert response.headers["location"] == "/logga-in?nasta=/konto"
    assert client.get("/konto.json").status_code == 401


def test_new_token_is_shown_once_and_never_in_the_json_twin(
    client: TestClient, log_in: LogIn, bank: Bank
) -> None:
    token = log_in("g@example.se")
    assert client.post("/konto/tokens", data={"name": "import"}).status_code == 403
    created = client.post("/konto/tokens", data={"csrf_token": token, "name": "import"})
    assert created.status_code == 201
    plain = re.search(r'value="(tlt_[^"]+)"', created.text)
    assert plain and "visas inte igen" in created.text
    # It works as a Bearer token, and is not shown again.
    me = client.get("/api/me", headers={"Authorization": f"Bearer {plain.group(1)}"})
    assert me.json()["user"]["email"] == "g@example.se"
    page = client.get("/konto")
    assert plain.group(1) not in page.text and "import" in page.text
    data = client.get("/konto.json")
    assert data.status_code == 200
    body = data.text
    assert plain.group(1) not in body and "password" not in body and "hash" not in body
    account = data.json()
    assert account["user"]["email"] == "g@example.se"
    assert account["user"]["organisation"]["code"] == "1480"
    assert [t["name"] for t in account["tokens"]] == ["import"]
    assert set(account["tokens"][0]) == {
        "id",
        "name",
        "prefix",
        "created_at",
        "last_used_at",
        "revoked_at",
    }


def test_revoking_a_token_from_the_account_page(client: TestClient, log_in: LogIn) -> None:
    token = log_in("r@example.se")
    created = client.post("/konto/tokens", data={"csrf_token": token, "name": "skript"})
    plain = re.search(r'value="(tlt_[^"]+)"', created.text)
    assert plain
    token_id = client.get("/konto.json").json()["tokens"][0]["id"]
    assert client.post(f"/konto/tokens/{token_id}/aterkalla", data={"x": "1"}).status_code == 403
    response = client.post(f"/konto/tokens/{token_id}/aterkalla", data={"csrf_token": token})
    assert response.status_code == 303
    assert "återkallad" in client.get(response.headers["location"]).text.lower()
    assert client.get("/konto.json").json()["tokens"][0]["revoked_at"] is not None
    bearer = {"Authorization": f"Bearer {plain.group(1)}"}
    assert client.get("/api/me", headers=bearer).status_code == 401
