"""Goals (mål) through the JSON API on the real analysis store and a real bank (SQLite and
PostgreSQL): everyone reads a goal with its judgement; the measurability check before saving;
the owning municipality's editors and admins write, others are refused; optimistic locking;
a lowered target stays visible; målträngsel notes; a server without a store."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.bank_fixtures import PASSWORD, People
from tillit.bank import Bank
from tillit.query import Atlas
from tillit.store import Store
from tillit.web import create_app
from tillit.web._auth import LoginLimiter

GOAL: dict[str, Any] = {
    "organisation": "1480",
    "title": "Fler elever klarar alla ämnen i årskurs 9",
    "political_level": "kommunfullmäktige",
    "indicators": [
        {"kpi": "N15419", "target_value": 80, "target_year": 2026, "direction": "ökning"}
    ],
}


@pytest.fixture
def site(bank: Bank, people: People, analysis_store: Store) -> Iterator[TestClient]:
    """The web app over the bank (with the people) and the analysis store."""
    app = create_app(bank=bank, atlas=Atlas(analysis_store), limiter=LoginLimiter())
    with TestClient(app) as client:
        yield client


def _login(client: TestClient, email: str) -> dict[str, str]:
    response = client.post("/api/login", json={"email": email, "password": PASSWORD})
    assert response.status_code == 200, response.text
    return {"X-CSRF-Token": response.json()["csrf_token"]}


def _create(client: TestClient, headers: dict[str, str], **changes: Any) -> dict[str, Any]:
    response = client.post("/api/goals", json={**GOAL, **changes}, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def test_an_editor_sets_a_goal_with_the_baseline_from_the_store_and_everyone_reads_it(
    site: TestClient,
) -> None:
    goal = _create(site, _login(site, "g@example.se"))
    indicator = goal["indicators"][0]
    # Göteborg's N15419 in 2022, the store's latest year, is 67.8 %.
    assert (indicator["baseline_year"], indicator["baseline_value"]) == (2022, 67.8)
    assert indicator["direction"] == "increase" and indicator["target_value"] == 80.0
    check = indicator["check"]
    assert check["baseline_from_store"] is True
    assert check["measurability"]["measurable"] is True
    assert "Målet kräver +12" in check["measurability"]["text"]
    judgement = indicator["judgement"]
    assert judgement["verdict"] in {"on_track", "uncertain", "off_track"}
    assert 0 <= judgement["probability_met"] <= 1
    assert "Sannolikheten att målet nås" in judgement["reason"]
    assert judgement["projection"][-1]["year"] == 2026
    assert goal["judgement"]["verdict"] == judgement["verdict"]
    assert goal["organisation"] == {
        "id": goal["organisation"]["id"],
        "code": "1480",
        "name": "Göteborg",
        "kind": "kommun",
    }
    site.post("/api/logout", headers=_login(site, "g@example.se"))
    site.cookies.clear()
    read = site.get(f"/api/goals/{goal['id']}")
    assert read.status_code == 200
    shown = read.json()
    assert shown["indicators"][0]["judgement"] == judgement
    assert "check" not in shown["indicators"][0]
    listed = site.get("/api/goals", params={"organisation": "1480"}).json()
    assert [g["id"] for g in listed] == [goal["id"]]
    assert site.get("/api/goals", params={"organisation": "0180"}).json() == []
    assert [g["id"] for g in site.get("/api/goals", params={"q": "ämnen"}).json()] == [goal["id"]]


def test_the_check_runs_before_saving_and_saves_nothing(site: TestClient) -> None:
    small = {**GOAL["indicators"][0], "target_value": 68.5, "baseline_year": 2021}
    response = site.post("/api/goals/check", json={**GOAL, "indicators": [small]})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["organisation"] == {"code": "1480", "name": "Göteborg"}
    (check,) = body["checks"]
    assert (check["baseline_year"], check["baseline_value"]) == (2021, 67.8)
    assert check["measurability"]["measurable"] is False
    assert "inte att skilja från slumpen" in check["measurability"]["text"]
    assert check["ambition"]["peers"] == 7
    assert site.get("/api/goals").json() == []


def test_who_may_write_a_goal(site: TestClient, people: People) -> None:
    assert site.post("/api/goals", json=GOAL).status_code == 401
    stockholm = _login(site, "s@example.se")
    refused = site.post("/api/goals", json=GOAL, headers=stockholm)
    assert refused.status_code == 403, refused.text
    reader = _login(site, "r@example.se")
    assert site.post("/api/goals", json=GOAL, headers=reader).status_code == 403
    goal = _create(site, _login(site, "g@example.se"))
    stockholm = _login(site, "s@example.se")
    patch = site.patch(
        f"/api/goals/{goal['id']}", json={"version": 1, "title": "x"}, headers=stockholm
    )
    assert patch.status_code == 403
    assert site.delete(f"/api/goals/{goal['id']}", headers=stockholm).status_code == 403
    admin = _login(site, "admin@example.se")
    changed = site.patch(
        f"/api/goals/{goal['id']}", json={"version": 1, "title": "Av admin"}, headers=admin
    )
    assert changed.status_code == 200 and changed.json()["version"] == 2


def test_a_lowered_target_stays_visible_and_a_stale_version_is_refused(site: TestClient) -> None:
    editor = _login(site, "g@example.se")
    goal = _create(site, editor)
    lowered = {**GOAL["indicators"][0], "target_value": 75}
    response = site.patch(
        f"/api/goals/{goal['id']}",
        json={"version": 1, "indicators": [lowered], "note": "Realistiskt mål."},
        headers=editor,
    )
    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["version"] == 2
    assert changed["indicators"][0]["baseline_value"] == 67.8
    (change,) = changed["target_changes"]
    assert (change["field"], change["old"], change["new"]) == ("target_value", 80.0, 75.0)
    assert change["author"] == "Gö" and change["note"] == "Realistiskt mål."
    assert "(N15419) sänktes från 80 till 75" in change["text"]
    assert ": målvärdet för Elever i åk 9" in change["text"]
    stale = site.patch(
        f"/api/goals/{goal['id']}", json={"version": 1, "title": "x"}, headers=editor
    )
    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "conflict"
    revisions = site.get(f"/api/goals/{goal['id']}/revisions").json()
    assert [r["version"] for r in revisions] == [1, 2]
    assert revisions[1]["target_changes"][0]["text"] == change["text"]
    assert site.delete(f"/api/goals/{goal['id']}?version=1", headers=editor).status_code == 409
    assert site.delete(f"/api/goals/{goal['id']}", headers=editor).status_code == 204
    assert site.get(f"/api/goals/{goal['id']}").status_code == 404


def test_bad_goals_are_refused_with_the_field_named(site: TestClient) -> None:
    editor = _login(site, "g@example.se")
    wrong_way = {**GOAL["indicators"][0], "direction": "minskning"}
    response = site.post("/api/goals", json={**GOAL, "indicators": [wrong_way]}, headers=editor)
    assert response.status_code == 422
    assert "under basvärdet" in response.json()["error"]["message"]
    no_value = {**GOAL["indicators"][0], "baseline_year": 1995}
    response = site.post("/api/goals", json={**GOAL, "indicators": [no_value]}, headers=editor)
    assert response.status_code == 404
    assert "inget värde" in response.json()["error"]["message"]
    unknown = site.post(
        "/api/goals", json={**GOAL, "indicators": [], "colour": "röd"}, headers=editor
    )
    assert unknown.status_code == 422
    assert site.get("/api/goals").json() == []


def test_a_region_cannot_set_a_goal_on_a_municipal_kpi(site: TestClient) -> None:
    admin = _login(site, "admin@example.se")
    response = site.post("/api/goals", json={**GOAL, "organisation": "0014"}, headers=admin)
    assert response.status_code == 422, response.text
    assert "nyckeltal för kommuner" in response.json()["error"]["message"]


def test_many_goals_or_one_kpi_in_several_goals_get_a_note(
    site: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TILLIT_GOALS_MAX", "1")
    editor = _login(site, "g@example.se")
    first = _create(site, editor)
    assert first["notes"] == []
    _create(site, editor, title="Ännu ett mål")
    notes = site.get(f"/api/goals/{first['id']}").json()["notes"]
    assert len(notes) == 2
    assert "Göteborg har 2 mål, fler än 1" in notes[0]
    assert "N15419" in notes[1] and "2 mål" in notes[1] and "målträngsel" in notes[1]


def test_a_server_without_a_store_reads_goals_but_cannot_set_them(
    bank: Bank, people: People, site: TestClient
) -> None:
    goal = _create(site, _login(site, "g@example.se"))
    bare = create_app(bank=bank, limiter=LoginLimiter())
    with TestClient(bare) as client:
        shown = client.get(f"/api/goals/{goal['id']}").json()
        assert "judgement" not in shown and shown["title"] == GOAL["title"]
        response = client.post("/api/goals", json=GOAL, headers=_login(client, "g@example.se"))
        assert response.status_code == 404
        assert "inget arkiv" in response.json()["error"]["message"]


def test_the_unit_goals_page_data_has_the_api_s_goals_and_notes(
    site: TestClient, bank: Bank, analysis_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from tillit.query import unit_goals_data

    monkeypatch.setenv("TILLIT_GOALS_MAX", "1")
    editor = _login(site, "g@example.se")
    _create(site, editor)
    _create(site, editor, title="Ännu ett mål")
    page = unit_goals_data(analysis_store, bank, "Göteborg", limit=1)
    assert page["organisation"] == {"code": "1480", "name": "Göteborg", "kind": "kommun"}
    assert page["goals"] == site.get("/api/goals", params={"organisation": "1480"}).json()
    assert page["notes"] == page["goals"][0]["notes"] and len(page["notes"]) == 2
    empty = unit_goals_data(analysis_store, bank, "0180", limit=15)
    assert (empty["goals"], empty["notes"]) == ([], [])
