"""The bank's Swedish pages: logging in and out, the account with its API tokens, the list
of examples with search and filters, one example, and the form that creates and edits
examples. Every test runs on SQLite and PostgreSQL (the ``bank`` fixture)."""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from typing import Any

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


# --- examples: the form ---------------------------------------------------------------------------
def example_form(csrf: str, **fields: Any) -> dict[str, Any]:
    """A filled-in example form as the browser would post it (three KPI rows)."""
    data: dict[str, Any] = {
        "csrf_token": csrf,
        "title": "Hemtjänst med tillit",
        "summary": "Personalen planerar själva.",
        "problem": "Många olika personal per brukare.",
        "what_was_done": "Små team med eget schema.",
        "results": "Färre personal per brukare.",
        "operating_area": "Äldreomsorg",
        "period_start": "2019",
        "period_end": "2021",
        "contact_role": "Verksamhetschef hemtjänst",
        "tags": "hemtjänst, kontinuitet",
        "principles": ["tillit", "handlingsutrymme"],
        "status": "published",
        "action": "save",
    }
    for i in range(3):
        for name in ("kpi", "municipality", "year_from", "year_to", "note"):
            data[f"kpi-{i}-{name}"] = ""
    data.update({"kpi-0-kpi": "n00945", "kpi-0-municipality": "1480"})
    data.update({"kpi-0-year_from": "2019", "kpi-0-year_to": "2022"})
    data.update(fields)
    return data


def main_of(page: str) -> str:
    return page.split('<main id="innehall"', 1)[1].split("</main>", 1)[0]


def test_creating_an_example_through_the_form_shows_it_with_its_kpi_link(
    client: TestClient, log_in: LogIn, bank: Bank, people: People
) -> None:
    form = client.get("/exempel/nytt")
    assert form.status_code == 303
    assert form.headers["location"] == "/logga-in?nasta=/exempel/nytt"
    csrf = log_in("g@example.se")
    page = client.get("/exempel/nytt")
    assert page.status_code == 200
    for label in ("Titel", "Sammanfattning", "Problem", "Vad som gjordes", "Resultat",
                  "Verksamhetsområde", "Startår", "Slutår", "Kontaktroll", "Taggar",
                  "Nyckeltal", "Kommun", "Från år", "Till år", "Utkast", "Publicerad"):  # fmt: skip
        assert re.search(rf"<label for=\"[^\"]+\">{label}\b", page.text), label
    assert "<legend>Tillitsprinciper</legend>" in page.text
    assert "<legend>Kopplade nyckeltal</legend>" in page.text
    assert 'name="organisation"' not in page.text  # an editor writes for their own
    response = client.post("/exempel/nytt", data=example_form(csrf))
    assert response.status_code == 303
    location = response.headers["location"]
    assert re.fullmatch(r"/exempel/\d+", location)
    example_id = int(location.rsplit("/", 1)[1])
    stored = bank.example(None, example_id)
    assert stored.organisation_code == "1480" and stored.status == "published"
    assert stored.principles == ("tillit", "handlingsutrymme")
    assert stored.tags == ("hemtjänst", "kontinuitet")
    assert [(k.kpi, k.municipality, k.year_from, k.year_to) for k in stored.kpis] == [
        ("N00945", "1480", 2019, 2022)
    ]
    shown = client.get(location)
    assert shown.status_code == 200
    body = text_of(main_of(shown.text))
    assert "Hemtjänst med tillit" in body and "N00945" in body and "2019–2022" in body
    assert 'href="/nyckeltal/N00945?kommun=1480"' in shown.text
    assert 'href="/kommun/1480"' in shown.text
    assert f'href="/exempel/{example_id}/andra"' in shown.text


def test_preview_shows_the_example_and_saves_nothing(
    client: TestClient, log_in: LogIn, bank: Bank
) -> None:
    csrf = log_in("g@example.se")
    response = client.post("/exempel/nytt", data=example_form(csrf, action="preview"))
    assert response.status_code == 200
    assert "Förhandsgranskning" in response.text
    preview = response.text.split('id="forhandsvisning"', 1)[1].split("<form", 1)[0]
    assert "Hemtjänst med tillit" in preview and "N00945" in preview
    assert 'value="Hemtjänst med tillit"' in response.text  # the form is still filled in
    assert bank.list_examples(None).total == 0
    assert bank.list_examples(bank.user_by_email("admin@example.se")).total == 0


def test_a_validation_error_keeps_the_input_and_points_at_the_field(
    client: TestClient, log_in: LogIn, bank: Bank
) -> None:
    csrf = log_in("g@example.se")
    data = example_form(csrf, period_start="2021", period_end="2019", summary="Min <b>text</b>")
    response = client.post("/exempel/nytt", data=data)
    assert response.status_code == 422
    page = response.text
    assert 'role="alert"' in page and 'href="#f-period_end"' in page
    assert re.search(r'id="f-period_end"[^>]*aria-describedby="[^"]*f-period_end-fel"', page)
    assert re.search(r'id="f-period_end"[^>]*aria-invalid="true"', page)
    assert "Slutår: 2019 ligger före 2021." in text_of(page)
    assert "Min &lt;b&gt;text&lt;/b&gt;</textarea>" in page
    assert 'value="Äldreomsorg"' in page and 'value="n00945"' in page
    assert 'value="tillit" checked' in page
    # A bad KPI in the second row (the first left empty) is reported on that row.
    data = example_form(csrf, **{"kpi-0-kpi": "", "kpi-0-municipality": ""})
    data.update({"kpi-0-year_from": "", "kpi-0-year_to": "", "kpi-1-kpi": "X1"})
    data["kpi-1-municipality"] = "1480"
    response = client.post("/exempel/nytt", data=data)
    assert response.status_code == 422
    assert 'href="#f-kpi-1-kpi"' in response.text
    assert re.search(r'id="f-kpi-1-kpi"[^>]*aria-invalid="true"', response.text)
    assert bank.list_examples(None).total == 0


def test_form_posts_without_the_csrf_token_are_refused(
    client: TestClient, log_in: LogIn, bank: Bank
) -> None:
    log_in("g@example.se")
    data = example_form("")
    del data["csrf_token"]
    assert client.post("/exempel/nytt", data=data).status_code == 403
    assert client.post("/exempel/nytt", data={**data, "csrf_token": "fel"}).status_code == 403
    assert bank.list_examples(bank.user_by_email("admin@example.se")).total == 0


def test_editor_of_another_organisation_cannot_edit_and_sees_no_edit_link(
    client: TestClient, log_in: LogIn, bank: Bank, people: People
) -> None:
    example = bank.create_example(people.goteborg, {"title": "Göteborgs", "status": "published"})
    csrf = log_in("s@example.se")
    page = client.get(f"/exempel/{example.id}")
    assert page.status_code == 200 and f"/exempel/{example.id}/andra" not in page.text
    assert client.get(f"/exempel/{example.id}.json").json()["may_edit"] is False
    refused = client.get(f"/exempel/{example.id}/andra")
    assert refused.status_code == 403
    assert "Du får inte ändra det här exemplet." in refused.text
    data = example_form(csrf, title="Kapad", version=str(example.version))
    assert client.post(f"/exempel/{example.id}/andra", data=data).status_code == 403
    assert bank.example(None, example.id).title == "Göteborgs"


def test_readers_and_visitors_cannot_write(
    client: TestClient, log_in: LogIn, bank: Bank, people: People
) -> None:
    example = bank.create_example(people.goteborg, {"title": "Publicerat", "status": "published"})
    draft = bank.create_example(people.goteborg, {"title": "Hemligt utkast"})
    assert client.get(f"/exempel/{example.id}/andra").status_code == 303
    assert client.get(f"/exempel/{draft.id}").status_code == 404
    assert client.get(f"/exempel/{draft.id}.json").status_code == 404
    assert "Nytt exempel" not in client.get("/exempel").text
    csrf = log_in("r@example.se")
    assert client.get("/exempel/nytt").status_code == 403
    assert client.post("/exempel/nytt", data=example_form(csrf)).status_code == 403
    assert client.get(f"/exempel/{example.id}/andra").status_code == 403
    assert client.get(f"/exempel/{draft.id}/andra").status_code == 404
    assert "Nytt exempel" not in client.get("/exempel").text
    assert bank.list_examples(people.admin).total == 2


def test_editing_keeps_the_text_on_a_stale_version_and_saves_on_the_second_try(
    client: TestClient, log_in: LogIn, bank: Bank, people: People
) -> None:
    example = bank.create_example(
        people.goteborg,
        {"title": "Första", "kpis": [{"kpi": "N00945", "municipality": "1480", "note": "obs"}]},
    )
    csrf = log_in("g@example.se")
    form = client.get(f"/exempel/{example.id}/andra")
    assert form.status_code == 200
    assert 'name="version" value="1"' in form.text and 'value="Första"' in form.text
    assert 'value="N00945"' in form.text and 'value="obs"' in form.text
    bank.update_example(people.admin, example.id, {"summary": "Admins ändring"}, 1)
    mine = example_form(csrf, title="Min titel", summary="Min långa text", version="1")
    response = client.post(f"/exempel/{example.id}/andra", data=mine)
    assert response.status_code == 409
    assert "har ändrats av någon annan sedan version 1" in response.text
    assert 'role="alert"' in response.text
    assert 'value="Min titel"' in response.text and "Min långa text</textarea>" in response.text
    assert 'name="version" value="2"' in response.text
    assert bank.example(people.admin, example.id).title == "Första"
    again = example_form(csrf, title="Min titel", summary="Min långa text", version="2")
    response = client.post(f"/exempel/{example.id}/andra", data=again)
    assert response.status_code == 303 and response.headers["location"] == f"/exempel/{example.id}"
    saved = bank.example(None, example.id)
    assert (saved.title, saved.summary, saved.version) == ("Min titel", "Min långa text", 3)


def test_edit_preview_saves_nothing_and_an_admin_chooses_the_organisation(
    client: TestClient, log_in: LogIn, bank: Bank, people: People
) -> None:
    example = bank.create_example(people.goteborg, {"title": "Före"})
    csrf = log_in("admin@example.se")
    stockholm = bank.organisation("0180")
    form = client.get(f"/exempel/{example.id}/andra")
    assert 'name="organisation"' in form.text
    data = example_form(csrf, title="Efter", version="1", organisation=str(stockholm.id))
    preview = client.post(f"/exempel/{example.id}/andra", data={**data, "action": "preview"})
    assert preview.status_code == 200 and "Stockholm" in preview.text
    assert bank.example(people.admin, example.id).title == "Före"
    assert client.post(f"/exempel/{example.id}/andra", data=data).status_code == 303
    moved = bank.example(people.admin, example.id)
    assert (moved.title, moved.organisation_code) == ("Efter", "0180")
    created = client.post("/exempel/nytt", data=example_form(csrf, organisation=str(stockholm.id)))
    assert created.status_code == 303
    new_id = int(created.headers["location"].rsplit("/", 1)[1])
    assert bank.example(None, new_id).organisation_code == "0180"


# --- examples: the list and the page ------------------------------------------------------------
def ids_in(page: str) -> list[int]:
    return [int(i) for i in re.findall(r'<h2 class="item-title"><a href="/exempel/(\d+)"', page)]


@pytest.fixture
def examples(bank: Bank, people: People) -> dict[str, int]:
    """Published examples in Göteborg and Stockholm, and a draft in Göteborg."""
    rows = [
        ("hemtjanst", people.goteborg, "Hemtjänst med tillit", "Äldreomsorg", 2018, 2021,
         ["tillit"], [{"kpi": "N00945", "municipality": "1480"}]),
        ("skola", people.stockholm, "Läsa tillsammans i skolan", "Grundskola", 2020, 2022,
         ["kunskap"], []),
        ("ekonomi", people.stockholm, "Budget med medborgarna", "Ekonomi", 2015, 2016,
         ["medborgarfokus", "tillit"], [{"kpi": "N00945", "municipality": "1480"}]),
    ]  # fmt: skip
    out = {}
    for key, who, title, area, start, end, principles, kpis in rows:
        e = bank.create_example(
            who,
            {"title": title, "summary": f"Om {title.lower()}.", "operating_area": area,
             "period_start": start, "period_end": end, "principles": principles,
             "kpis": kpis, "status": "published"},
        )  # fmt: skip
        out[key] = e.id
    out["draft"] = bank.create_example(
        people.goteborg, {"title": "Hemtjänst utkast", "operating_area": "Hemligt område"}
    ).id
    return out


def test_list_shows_published_examples_and_the_viewers_drafts(
    client: TestClient, log_in: LogIn, examples: dict[str, int]
) -> None:
    page = client.get("/exempel")
    assert page.status_code == 200
    assert sorted(ids_in(page.text)) == sorted(v for k, v in examples.items() if k != "draft")
    assert "Visar 1–3 av 3" in text_of(page.text)
    assert "Hemligt område" not in page.text  # a draft's area is not offered either
    assert '<option value="Äldreomsorg">' in page.text
    log_in("g@example.se")
    page = client.get("/exempel")
    assert examples["draft"] in ids_in(page.text) and "Utkast" in page.text
    assert 'href="/exempel/nytt"' in page.text and "Nytt exempel" in page.text


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("q=hemtjänst", ["hemtjanst"]),
        ("omrade=Grundskola", ["skola"]),
        ("kommun=0180", ["skola", "ekonomi"]),
        ("kommun=Stockholm", ["skola", "ekonomi"]),
        ("kommun=1480", ["hemtjanst", "ekonomi"]),  # the organisation's or a linked KPI's
        ("kommun=Region+Västra+Götaland", ["hemtjanst", "ekonomi"]),
        ("princip=tillit", ["hemtjanst", "ekonomi"]),
        ("ar=2021", ["hemtjanst", "skola"]),
        ("q=tillsammans&kommun=0180&ar=2021&princip=kunskap&omrade=Grundskola", ["skola"]),
        ("q=budget&ar=2021", []),
    ],
)
def test_list_filters_and_search_and_the_json_twin_agree(
    client: TestClient, examples: dict[str, int], query: str, expected: list[str]
) -> None:
    page = client.get(f"/exempel?{query}")
    assert page.status_code == 200
    assert sorted(ids_in(page.text)) == sorted(examples[k] for k in expected)
    data = client.get(f"/exempel.json?{query}").json()
    assert [item["id"] for item in data["items"]] == ids_in(page.text)
    assert data["total"] == len(expected)
    if not expected:
        assert "Inga goda exempel matchar" in page.text


def test_search_marks_the_matched_words_and_escapes_stored_html(
    client: TestClient, bank: Bank, people: People
) -> None:
    bank.create_example(
        people.goteborg,
        {"title": "<script>alert(1)</script> Nattpatrull", "summary": "Trygg nattpatrull.",
         "status": "published"},
    )  # fmt: skip
    page = client.get("/exempel?q=nattpatrull")
    assert "<mark>" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_unknown_municipality_and_bad_filters_answer_in_swedish(
    client: TestClient, examples: dict[str, int]
) -> None:
    page = client.get("/exempel?kommun=Ingenstans")
    assert page.status_code == 200 and ids_in(page.text) == []
    assert "Ingen kommun eller region som heter 'Ingenstans'" in text_of(page.text)
    assert client.get("/exempel?ar=tjugo").status_code == 422
    assert client.get("/exempel?princip=lydnad").status_code == 422
    assert client.get("/exempel/999999").status_code == 404
    assert client.get("/exempel/99999999999").status_code == 404


def test_list_pages_twenty_at_a_time(client: TestClient, bank: Bank, people: People) -> None:
    for i in range(23):
        bank.create_example(people.goteborg, {"title": f"Exempel {i}", "status": "published"})
    first = client.get("/exempel")
    assert "Visar 1–20 av 23" in text_of(first.text)
    assert len(ids_in(first.text)) == 20
    assert 'rel="next" href="/exempel?sida=2"' in first.text and 'rel="prev"' not in first.text
    second = client.get("/exempel?sida=2")
    assert "Visar 21–23 av 23" in text_of(second.text)
    assert 'rel="prev" href="/exempel?sida=1"' in second.text and 'rel="next"' not in second.text
    assert set(ids_in(first.text)).isdisjoint(ids_in(second.text))
    assert [e["id"] for e in client.get("/exempel.json?sida=2").json()["items"]] == ids_in(
        second.text
    )
    filtered = client.get("/exempel?q=exempel&sida=2")
    assert 'rel="prev" href="/exempel?sida=1&amp;q=exempel"' in filtered.text


def test_example_page_and_json_twin_show_the_same_example(
    client: TestClient, examples: dict[str, int]
) -> None:
    example_id = examples["ekonomi"]
    page = client.get(f"/exempel/{example_id}")
    data = client.get(f"/exempel/{example_id}.json").json()
    assert data["id"] == example_id and data["title"] == "Budget med medborgarna"
    body = text_of(main_of(page.text))
    assert data["title"] in body and "Stockholm" in body and "Ekonomi" in body
    assert "2015–2016" in body and "Medborgarfokus" in body
    assert [k["kpi"] for k in data["kpis"]] == ["N00945"]
    assert data["kpis"][0]["url"] == "/nyckeltal/N00945?kommun=1480"
    assert data["kpis"][0]["url"] in page.text
    assert data["may_edit"] is False and "/andra" not in page.text
    assert "password" not in str(data) and "csrf" not in str(data)
    for similar in data["similar"]:
        assert f'href="/exempel/{similar["id"]}"' in page.text


def test_linked_results_take_the_kpi_title_from_the_store(
    bank: Bank, people: People, metadata_store: Any
) -> None:
    from tillit.query import Atlas

    example = bank.create_example(
        people.goteborg,
        {"title": "Med nyckeltal", "status": "published",
         "kpis": [{"kpi": "N15419", "municipality": "1480"},
                  {"kpi": "X99999", "municipality": "1480"}]},
    )  # fmt: skip
    app = create_app(bank=bank, atlas=Atlas(metadata_store))
    with TestClient(app) as client:
        data = client.get(f"/exempel/{example.id}.json").json()
        page = client.get(f"/exempel/{example.id}")
    known, unknown = data["kpis"]
    assert known["title"] and known["title"] in html.unescape(page.text)
    assert unknown["title"] is None and "X99999" in page.text


def test_an_empty_bank_says_how_examples_get_there(api: TestClient) -> None:
    page = api.get("/exempel")
    assert page.status_code == 200
    assert "Banken har inga publicerade goda exempel ännu." in page.text
    assert "tillit bank import-jsonl" in page.text
    assert "Banken har inga" not in api.get("/exempel", params={"q": "skola"}).text


# --- kinds and sources --------------------------------------------------------------------------


def _imported_bank(bank: Bank, tmp_path: Any) -> dict[str, int]:
    """A press release and a project description imported from files named like the shared
    corpus's, and one good example of Göteborg's; their ids by title."""
    import json

    from tillit.bank import import_jsonl

    press = tmp_path / "g0vse_pressmeddelanden.jsonl"
    press.write_text(
        json.dumps(
            {
                "path": "pressmeddelanden/2024/05/skolan.md",
                "url": "https://www.regeringen.se/pressmeddelanden/2024/05/skolan/",
                "title": "Skolan får mer",
                "text": "Skolan i Göteborg får mer.",
            },
            ensure_ascii=False,
        )
        + "\n"
    )
    projects = tmp_path / "tillvaxtverket_projektbanken_eruf_2007_2013.jsonl"
    projects.write_text(
        json.dumps(
            {
                "Ärende-ID": "9",
                "Projektnamn": "Skolans museum",
                "Projektbeskrivning": "Ett museum för skolan.",
                "Stödmottagare": "Göteborgs stad",
                "Insatsområde": "Kategat-Skagerrak",
            },
            ensure_ascii=False,
        )
        + "\n"
    )
    with bank.engine.begin() as conn:
        import_jsonl(conn, press)
        import_jsonl(conn, projects)
    return {e.title: e.id for e in bank.list_examples(None, limit=50).items}


def test_imported_texts_show_kind_and_source_and_are_not_listed_as_good_examples(
    client: TestClient, bank: Bank, people: People, tmp_path: Any
) -> None:
    ids = _imported_bank(bank, tmp_path)
    own = bank.create_example(
        people.goteborg, {"title": "Skolans läxhjälp", "operating_area": "Skola"}
    )
    bank.publish(people.goteborg, own.id, own.version)
    # The default list: good examples only, with a way to the other texts.
    listed = client.get("/exempel", params={"q": "skolan"}).text
    assert "Skolans läxhjälp" in listed
    assert "Skolan får mer" not in listed and "Skolans museum" not in listed
    data = client.get("/exempel.json").json()
    assert [i["title"] for i in data["items"]] == ["Skolans läxhjälp"]
    assert data["items"][0]["kind"] == "example" and data["items"][0]["source_url"] is None
    # Every kind, on asking; each imported text says what it is and where it came from.
    everything = client.get("/exempel.json", params={"typ": "alla", "q": "skolan"}).json()
    kinds = {i["title"]: (i["kind"], i["kind_label"]) for i in everything["items"]}
    assert kinds == {
        "Skolans läxhjälp": ("example", "gott exempel"),
        "Skolan får mer": ("press_release", "pressmeddelande"),
        "Skolans museum": ("project", "projektbeskrivning"),
    }
    press_only = client.get("/exempel", params={"typ": "pressmeddelande"}).text
    assert "Skolan får mer" in press_only and "Skolans läxhjälp" not in press_only
    assert 'href="https://www.regeringen.se/pressmeddelanden/2024/05/skolan/"' in press_only
    assert client.get("/exempel", params={"typ": "nyhet"}).status_code == 422
    # No good example matches: the list says so and offers the other texts.
    none = client.get("/exempel", params={"q": "museum"}).text
    assert "Inga goda exempel matchar" in text_of(none)
    assert "typ=alla" in none and "Visa inlästa texter av andra slag (1)" in text_of(none)
    # The page of an imported text: its kind, its source with a link, no operating area
    # from the source's own category (which is shown as the source's).
    page = client.get(f"/exempel/{ids['Skolan får mer']}").text
    assert "inte ett gott exempel" in text_of(page)
    assert (
        '<a href="https://www.regeringen.se/pressmeddelanden/2024/05/skolan/" '
        'rel="external noopener">Regeringskansliet, pressmeddelande på regeringen.se</a>'
    ) in page
    museum = client.get(f"/exempel/{ids['Skolans museum']}")
    words = text_of(museum.text)
    assert "Verksamhetsområde ej angivet" in words
    assert "Källans kategori Kategat-Skagerrak" in words
    assert 'href="https://projektbank.tillvaxtverket.se/"' in museum.text
    twin = client.get(f"/exempel/{ids['Skolans museum']}.json").json()
    assert (twin["kind"], twin["operating_area"], twin["source_area"]) == (
        "project",
        None,
        "Kategat-Skagerrak",
    )
    assert twin["source_url"] == "https://projektbank.tillvaxtverket.se/"
    own_page = text_of(client.get(f"/exempel/{own.id}").text)
    assert "inte ett gott exempel" not in own_page and "Slag av text" not in own_page
    # The site's search counts good examples only, and points to every text.
    found = client.get("/sok.json", params={"q": "skolan"}).json()
    assert [e["title"] for e in found["examples"]] == ["Skolans läxhjälp"]
    assert found["examples_total"] == 1
    assert "/exempel?q=skolan&amp;typ=alla" in client.get("/sok", params={"q": "skolan"}).text


def test_the_list_filters_by_a_linked_kpi(client: TestClient, bank: Bank, people: People) -> None:
    linked = bank.create_example(
        people.goteborg,
        {"title": "Kopplat", "kpis": [{"kpi": "N15419", "municipality": "1480"}]},
    )
    other = bank.create_example(people.goteborg, {"title": "Okopplat"})
    for e in (linked, other):
        bank.publish(people.goteborg, e.id, e.version)
    data = client.get("/exempel.json", params={"nyckeltal": "n15419", "kommun": "1480"}).json()
    assert [i["title"] for i in data["items"]] == ["Kopplat"]
    assert data["filters"]["nyckeltal"] == "N15419"
