"""The JSON API through HTTP (FastAPI's test client) on a real bank, SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, get_args

from fastapi.testclient import TestClient

from tests.bank_fixtures import PASSWORD, People
from tillit.bank import TRUST_PRINCIPLES, Bank
from tillit.web import create_app
from tillit.web._schemas import Principle

Login = Callable[..., str]

EXAMPLE: dict[str, Any] = {
    "title": "Hemtjänst med tillit",
    "summary": "Hemtjänsten i Majorna lät personalen planera besöken själva.",
    "what_was_done": "Självstyrande grupper och färre detaljregler.",
    "operating_area": "Äldreomsorg",
    "period_start": 2019,
    "period_end": 2022,
    "tags": ["hemtjänst"],
    "principles": ["tillit", "handlingsutrymme"],
    "kpis": [{"kpi": "N00945", "municipality": "1480", "year_from": 2019, "year_to": 2022}],
}


def _error(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The error body, after checking its shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"error"}
    error: dict[str, Any] = body["error"]
    assert {"status", "code", "message", "hint"} <= set(error)
    assert error["status"] == status
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code
    return error


def _create(api: TestClient, csrf: str, **fields: Any) -> dict[str, Any]:
    response = api.post("/api/examples", json={**EXAMPLE, **fields}, headers={"X-CSRF-Token": csrf})
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_login_me_and_logout_round_trip(api: TestClient, people: People, login: Login) -> None:
    anonymous = api.get("/api/me").json()
    assert anonymous == {"user": None, "authenticated_by": None, "csrf_token": None}
    csrf = login("g@example.se")
    me = api.get("/api/me").json()
    assert me["user"]["email"] == "g@example.se"
    assert me["user"]["role"] == "editor"
    assert me["user"]["organisation_code"] == "1480"
    assert me["authenticated_by"] == "session"
    assert me["csrf_token"] == csrf
    assert api.post("/api/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert api.get("/api/me").json()["user"] is None


def test_wrong_password_is_401_in_the_error_shape(api: TestClient, people: People) -> None:
    response = api.post("/api/login", json={"email": "g@example.se", "password": "fel lösenord"})
    error = _error(response, 401, "invalid_credentials")
    assert "lösenord" in error["message"]
    assert "set-cookie" not in response.headers


def test_editor_creates_reads_patches_publishes_and_deletes(
    api: TestClient, people: People, login: Login
) -> None:
    csrf = login("g@example.se")
    created = _create(api, csrf)
    assert created["organisation"]["code"] == "1480"  # an editor's own by default
    assert created["status"] == "draft" and created["version"] == 1
    assert created["principles"] == ["tillit", "handlingsutrymme"]
    assert created["kpis"][0]["kpi"] == "N00945"
    example_id = created["id"]

    detail = api.get(f"/api/examples/{example_id}").json()
    assert detail["title"] == EXAMPLE["title"]
    assert detail["tags"] == ["hemtjänst"]
    assert detail["similar"] == []

    patched = api.patch(
        f"/api/examples/{example_id}",
        json={"version": 1, "results": "Nöjdare brukare."},
        headers={"X-CSRF-Token": csrf},
    )
    assert patched.status_code == 200, patched.text
    assert patched.json()["version"] == 2
    assert patched.json()["summary"] == EXAMPLE["summary"]  # untouched fields stay

    published = api.post(
        f"/api/examples/{example_id}/publish", json={"version": 2}, headers={"X-CSRF-Token": csrf}
    )
    assert published.status_code == 200 and published.json()["status"] == "published"

    revisions = api.get(f"/api/examples/{example_id}/revisions").json()
    assert [r["version"] for r in revisions] == [1, 2, 3]
    assert revisions[1]["data"]["results"] == "Nöjdare brukare."

    deleted = api.delete(f"/api/examples/{example_id}", headers={"X-CSRF-Token": csrf})
    assert deleted.status_code == 204
    _error(api.get(f"/api/examples/{example_id}"), 404, "not_found")


def test_put_replaces_every_field(api: TestClient, people: People, login: Login) -> None:
    csrf = login("g@example.se")
    created = _create(api, csrf)
    response = api.put(
        f"/api/examples/{created['id']}",
        json={"version": 1, "title": "Ny titel"},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["title"] == "Ny titel"
    assert body["summary"] == "" and body["tags"] == [] and body["kpis"] == []
    assert body["organisation"]["code"] == "1480"


def test_patch_null_clears_optional_fields_and_ignores_the_rest(
    api: TestClient, people: People, login: Login
) -> None:
    csrf = login("g@example.se")
    created = _create(api, csrf)
    response = api.patch(
        f"/api/examples/{created['id']}",
        json={"version": 1, "operating_area": None, "period_end": None, "title": None},
        headers={"X-CSRF-Token": csrf},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["operating_area"] is None and body["period_end"] is None
    assert body["title"] == EXAMPLE["title"] and body["period_start"] == 2019


def test_stale_version_is_409_and_changes_nothing(
    api: TestClient, people: People, login: Login
) -> None:
    csrf = login("g@example.se")
    created = _create(api, csrf)
    url = f"/api/examples/{created['id']}"
    first = api.patch(url, json={"version": 1, "title": "Först"}, headers={"X-CSRF-Token": csrf})
    assert first.status_code == 200
    second = api.patch(url, json={"version": 1, "title": "Sist"}, headers={"X-CSRF-Token": csrf})
    error = _error(second, 409, "conflict")
    assert error["hint"]
    assert api.get(url).json()["title"] == "Först"


def test_anonymous_sees_published_examples_only(
    api: TestClient, people: People, login: Login
) -> None:
    csrf = login("g@example.se")
    draft = _create(api, csrf, title="Utkastet")
    public = _create(api, csrf, title="Det publicerade", status="published")
    api.post("/api/logout", headers={"X-CSRF-Token": csrf})
    listing = api.get("/api/examples").json()
    assert [e["id"] for e in listing["items"]] == [public["id"]]
    assert listing["total"] == 1
    _error(api.get(f"/api/examples/{draft['id']}"), 404)


def test_list_filters_and_pagination(api: TestClient, people: People, login: Login) -> None:
    csrf = login("admin@example.se")
    for i in range(5):
        _create(api, csrf, title=f"Exempel {i}", organisation="1480", status="published")
    _create(api, csrf, title="Stockholms", organisation="0180", status="published", tags=["skola"])
    page = api.get("/api/examples", params={"limit": 2, "offset": 2}).json()
    assert page["total"] == 6 and page["limit"] == 2 and page["offset"] == 2
    assert len(page["items"]) == 2
    by_org = api.get("/api/examples", params={"organisation": "0180"}).json()
    assert [e["title"] for e in by_org["items"]] == ["Stockholms"]
    by_tag = api.get("/api/examples", params={"tag": "skola"}).json()
    assert by_tag["total"] == 1
    by_kpi = api.get("/api/examples", params={"kpi": "N00945", "municipality": "1480"}).json()
    assert by_kpi["total"] == 6
    _error(api.get("/api/examples", params={"limit": 0}), 422, "validation_failed")


def test_search_returns_hits_with_escaped_snippets_and_filters(
    api: TestClient, people: People, login: Login
) -> None:
    csrf = login("admin@example.se")
    hit = _create(api, csrf, organisation="1480", status="published")
    _create(
        api,
        csrf,
        title="Skolmat",
        summary="Skolmaten lagas på plats.",
        organisation="0180",
        operating_area="Grundskola",
        principles=["kunskap"],
        kpis=[],
        period_start=2010,
        period_end=2012,
        status="published",
    )
    found = api.get("/api/search", params={"q": "hemtjänsten"}).json()
    assert found["total"] == 1 and found["hits"][0]["id"] == hit["id"]
    assert "<mark>" in found["hits"][0]["snippet_html"]
    assert found["hits"][0]["organisation"] == "Göteborg"
    for params, expected in [
        ({"area": "Äldreomsorg"}, [hit["id"]]),
        ({"municipality": "0180"}, None),
        ({"principle": "handlingsutrymme"}, [hit["id"]]),
        ({"year": 2020}, [hit["id"]]),
        ({"status": "published", "region": "0014"}, [hit["id"]]),
    ]:
        body = api.get("/api/search", params=params).json()
        ids = [h["id"] for h in body["hits"]]
        if expected is None:
            assert hit["id"] not in ids and len(ids) == 1
        else:
            assert ids == expected, params


def test_example_detail_lists_similar_examples(
    api: TestClient, people: People, login: Login
) -> None:
    csrf = login("admin@example.se")
    first = _create(api, csrf, organisation="1480", status="published")
    second = _create(api, csrf, organisation="0180", status="published", title="Hemtjänst i Kista")
    detail = api.get(f"/api/examples/{first['id']}").json()
    assert [s["id"] for s in detail["similar"]] == [second["id"]]


def test_organisations_list_and_lookup(api: TestClient, people: People) -> None:
    everything = api.get("/api/organisations").json()
    assert {o["code"] for o in everything} == {"1480", "0180", "0014"}
    regions = api.get("/api/organisations", params={"kind": "region"}).json()
    assert [o["name"] for o in regions] == ["Region Västra Götaland"]
    assert api.get("/api/organisations/1480").json()["name"] == "Göteborg"
    error = _error(api.get("/api/organisations/9999"), 404, "not_found")
    assert "9999" in error["message"] and error["hint"]


def test_audit_log_is_for_administrators(api: TestClient, people: People, login: Login) -> None:
    _error(api.get("/api/audit"), 401, "not_authenticated")
    login("g@example.se")
    _error(api.get("/api/audit"), 403, "permission_denied")
    login("admin@example.se")
    entries = api.get("/api/audit", params={"entity": "user"}).json()
    actions = {e["action"] for e in entries}
    assert {"user.create", "user.login"} <= actions


def test_api_tokens_authenticate_scripts_without_csrf(
    api: TestClient, people: People, login: Login
) -> None:
    csrf = login("g@example.se")
    made = api.post("/api/tokens", json={"name": "skript"}, headers={"X-CSRF-Token": csrf})
    assert made.status_code == 201, made.text
    token = made.json()["token"]
    assert token.startswith("tlt_")
    listed = api.get("/api/tokens").json()
    assert [t["name"] for t in listed] == ["skript"]
    assert "token" not in listed[0]  # the plain token is shown once only
    api.post("/api/logout", headers={"X-CSRF-Token": csrf})

    bearer = {"Authorization": f"Bearer {token}"}
    created = api.post("/api/examples", json=EXAMPLE, headers=bearer)
    assert created.status_code == 201, created.text
    assert api.get("/api/me", headers=bearer).json()["authenticated_by"] == "token"

    revoked = api.delete(f"/api/tokens/{made.json()['id']}", headers=bearer)
    assert revoked.status_code == 204
    _error(api.get("/api/me", headers=bearer), 401, "invalid_token")
    _error(api.get("/api/me", headers={"Authorization": "Basic abc"}), 401, "invalid_token")


def test_unknown_route_and_method_use_the_error_shape(api: TestClient, people: People) -> None:
    error = _error(api.get("/api/nothing-here"), 404, "not_found")
    assert error["hint"] is None
    _error(api.put("/api/organisations"), 405, "method_not_allowed")


def test_unexpected_exception_is_500_without_traceback(bank: Bank) -> None:
    app = create_app(bank=bank)

    def boom() -> None:
        raise RuntimeError("hemlig intern detalj")

    app.add_api_route("/api/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        response = client.get("/api/boom")
    error = _error(response, 500, "internal_error")
    assert "hemlig" not in response.text and "Traceback" not in response.text
    assert error["hint"]
    assert response.headers["x-content-type-options"] == "nosniff"


def test_openapi_schema_is_swedish_and_everything_is_under_api(api: TestClient) -> None:
    schema = api.get("/api/openapi.json").json()
    assert schema["info"]["title"] == "Tillit – goda exempel"
    assert "Inloggning" in schema["info"]["description"]
    assert schema["paths"] and all(p.startswith("/api/") for p in schema["paths"])
    assert schema["paths"]["/api/examples"]["post"]["summary"] == "Lägg till ett exempel"
    docs = api.get("/api/docs")
    assert docs.status_code == 200 and "Lägg till ett exempel" in docs.text


def test_validation_error_lists_the_fields(api: TestClient, people: People, login: Login) -> None:
    csrf = login("g@example.se")
    response = api.post(
        "/api/examples",
        json={"title": "", "period_start": 1800, "colour": "röd"},
        headers={"X-CSRF-Token": csrf},
    )
    error = _error(response, 422, "validation_failed")
    fields = {f["field"] for f in error["fields"]}
    assert fields == {"body.title", "body.period_start", "body.colour"}


def test_bank_field_errors_are_422_naming_the_field(
    api: TestClient, people: People, login: Login
) -> None:
    csrf = login("g@example.se")
    response = api.post(
        "/api/examples",
        json={**EXAMPLE, "period_start": 2022, "period_end": 2019},
        headers={"X-CSRF-Token": csrf},
    )
    error = _error(response, 422, "invalid_input")
    assert error["fields"] == [{"field": "period_end", "message": error["message"]}]
    assert "2019" in error["message"]


def test_the_api_knows_the_same_trust_principles_as_the_bank() -> None:
    assert get_args(Principle) == TRUST_PRINCIPLES


def test_password_is_never_in_a_response(api: TestClient, people: People, login: Login) -> None:
    login("admin@example.se")
    for url in ("/api/me", "/api/audit"):
        text = api.get(url).text
        assert PASSWORD not in text and "argon2" not in text


# -- the schema says what the API does -------------------------------------------------------------


def _operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in schema["paths"].items()
        for method, operation in item.items()
    ]


def test_the_schema_documents_every_error_an_operation_can_give(api: TestClient) -> None:
    schema = api.get("/api/openapi.json").json()
    error = "#/components/schemas/ErrorOut"
    for method, path, operation in _operations(schema):
        responses = operation["responses"]
        # Any request can be malformed (400: a NUL, broken JSON, a bad Content-Length), too
        # large (413) or have a bad field (422); a body that is not JSON is 415.
        wanted = {"400", "413", "422"} | ({"415"} if "requestBody" in operation else set())
        assert wanted <= set(responses), (method, path, sorted(responses))
        for status in wanted:
            body = responses[status]["content"]["application/json"]["schema"]
            assert body == {"$ref": error}, (method, path, status)
    detail = schema["components"]["schemas"]["ErrorDetail"]
    assert {"status", "code", "message", "hint", "fields"} <= set(detail["properties"])
    login = schema["paths"]["/api/login"]["post"]["responses"]
    assert "Retry-After" in login["429"]["headers"]


def test_kpi_ids_and_municipality_codes_have_their_patterns(api: TestClient) -> None:
    schema = api.get("/api/openapi.json").json()
    link = schema["components"]["schemas"]["KpiLinkIn"]["properties"]
    assert link["kpi"]["pattern"] == "^[A-Za-z][0-9]{5}$"
    assert link["municipality"]["pattern"] == "^[0-9]{4}$"
    search = {p["name"]: p for p in schema["paths"]["/api/search"]["get"]["parameters"]}
    for name in ("municipality", "region"):
        pattern = (
            search[name]["schema"].get("pattern") or search[name]["schema"]["anyOf"][0]["pattern"]
        )
        assert pattern == "^[0-9]{4}$"


def test_a_kpi_or_code_that_does_not_fit_the_pattern_is_refused(
    api: TestClient, people: People, login: Login
) -> None:
    csrf = {"X-CSRF-Token": login("g@example.se")}
    # "٠" is an Arabic-Indic zero: a digit to Python's \d, but no Kolada id.
    for link in (
        {"kpi": "N٠٠٩٤٥", "municipality": "1480"},
        {"kpi": "N00945", "municipality": "١٤٨٠"},
    ):
        body = {**EXAMPLE, "kpis": [link]}
        _error(api.post("/api/examples", json=body, headers=csrf), 422, "validation_failed")
    _error(api.get("/api/search", params={"municipality": "١٤٨٠"}), 422)


def test_a_bool_or_a_string_is_not_an_integer(
    api: TestClient, people: People, login: Login
) -> None:
    csrf = {"X-CSRF-Token": login("g@example.se")}
    created = _create(api, csrf["X-CSRF-Token"])
    url = f"/api/examples/{created['id']}"
    for patch in ({"version": True}, {"version": "1"}, {"version": 1.5}):
        _error(api.patch(url, json={**patch, "title": "Ny"}, headers=csrf), 422)
    _error(api.patch(url, json={"version": 1, "period_start": True}, headers=csrf), 422)
    assert api.get(url).json()["version"] == 1  # nothing changed
    assert api.patch(url, json={"version": 1, "title": "Ny"}, headers=csrf).status_code == 200


def test_options_and_unsupported_methods_say_which_methods_are_allowed(
    api: TestClient, people: People
) -> None:
    options = api.options("/api/examples")
    assert options.status_code == 204
    assert _methods(options) == {"GET", "HEAD", "OPTIONS", "POST"}
    one = api.options("/api/examples/1")
    assert _methods(one) == {"DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "PUT"}
    wrong = api.put("/api/examples", json={})
    _error(wrong, 405, "method_not_allowed")
    assert _methods(wrong) == {"GET", "HEAD", "OPTIONS", "POST"}
    assert api.options("/api/nothing-here").status_code == 404


def _methods(response: Any) -> set[str]:
    return {m.strip() for m in response.headers["allow"].split(",")}
