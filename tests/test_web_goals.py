"""The goal pages over the real analysis store and a real SQLite bank: a municipality's goals
page with each goal's verdict, reasons, measurability and ambition notes, progress chart (with
CSV and SVG) and målträngsel notes; its JSON twin from the same query as the API; a goal's
own page with its target history; a region's goals page; the forms that set and change a
goal (roles, CSRF, the preview that runs the measurability check and saves nothing, bad
input kept with Swedish messages, a stale version); and errors that are pages, never 500."""

from __future__ import annotations

import csv
import html
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.bank_fixtures import FAST_PASSWORDS, PASSWORD
from tillit.bank import Bank, goals_of, open_bank, upgrade
from tillit.config import Settings
from tillit.query import Atlas, add_goal, edit_goal, unit_goals_data
from tillit.store import Store
from tillit.web import create_app

KUNGSBACKA = "1384"
VARBERG = "1383"
SCHOOL = "N15419"  # values 2008–2022 in the analysis store
KUNGSBACKA_EDITOR = "red@kungsbacka.se"
VARBERG_EDITOR = "red@varberg.se"
READER = "las@kungsbacka.se"
ADMIN = "admin@tillit.se"


@dataclass
class Site:
    client: TestClient
    bank: Bank
    store: Store


@pytest.fixture(scope="module")
def site(analysis_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path_factory.mktemp('goal-pages') / 'bank.sqlite'}"
    upgrade(url)
    bank = open_bank(url, passwords=FAST_PASSWORDS)
    store = Store(analysis_settings.store_dir, memory_limit="512MB")
    bank.seed_organisations(
        [(m["id"], m["title"], "kommun") for m in store.municipalities() if m["type"] == "K"]
        + [("0013", "Region Halland", "region")]
    )
    admin = bank.add_user(ADMIN, PASSWORD, "Admin", "admin")
    bank.add_user(KUNGSBACKA_EDITOR, PASSWORD, "Kim Redaktör", "editor", KUNGSBACKA, actor=admin)
    bank.add_user(VARBERG_EDITOR, PASSWORD, "Var", "editor", VARBERG, actor=admin)
    bank.add_user(READER, PASSWORD, "Läs", "reader", actor=admin)
    app = create_app(bank=bank, atlas=Atlas(store))
    with TestClient(app, follow_redirects=False) as client:
        yield Site(client, bank, store)
    bank.close()


@pytest.fixture(autouse=True)
def no_goals(site: Site) -> Iterator[None]:
    """Each test starts without goals (the module shares one bank)."""
    yield
    admin = site.bank.user_by_email(ADMIN)
    goals = goals_of(site.bank)
    for goal in goals.goals(admin, limit=500):
        goals.delete_goal(admin, goal.id, goal.version)


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert found, "the page has no form with a csrf_token"
    return found.group(1)


def text_of(page: str) -> str:
    page = re.sub(r"<svg.*?</svg>", " ", page, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def flat(text: str) -> str:
    """A text's words with single spaces (the page's no-break spaces too)."""
    return " ".join(text.split())


LogIn = Callable[[str | None], str]


@pytest.fixture
def log_in(site: Site) -> LogIn:
    """``log_in(email)`` logs in through the login form (None: logs out) and returns the
    session's CSRF token."""

    def go(email: str | None) -> str:
        site.client.cookies.clear()
        if email is None:
            return ""
        form = site.client.get("/logga-in")
        response = site.client.post(
            "/logga-in",
            data={"csrf_token": csrf_of(form.text), "email": email, "password": PASSWORD},
        )
        assert response.status_code == 303, response.text
        return csrf_of(site.client.get("/konto").text)

    return go


def a_goal(site: Site, title: str = "Fler elever klarar alla ämnen i årskurs 9", **ind: Any) -> int:
    """A Kungsbacka goal on N15419 set directly (not through the form)."""
    indicator = {"kpi": SCHOOL, "target_value": 88, "target_year": 2026, "direction": "ökning"}
    goal, _ = add_goal(
        site.store,
        site.bank,
        site.bank.user_by_email(KUNGSBACKA_EDITOR),
        {
            "organisation": KUNGSBACKA,
            "title": title,
            "political_level": "kommunfullmäktige",
            "indicators": [{**indicator, **ind}],
        },
    )
    return goal.id


def goal_form(csrf: str, **fields: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf,
        "title": "Fler elever klarar alla ämnen i årskurs 9",
        "description": "Läxhjälp och tidiga insatser.",
        "political_level": "barn- och förskolenämnden",
        "action": "save",
    }
    for i in range(3):
        row = {"kpi": "", "gender": "T", "direction": "", "target_value": "", "target_year": "",
               "baseline_value": "", "baseline_year": "", "interim": ""}  # fmt: skip
        if i == 0:
            row |= {"kpi": SCHOOL.lower(), "direction": "increase", "target_value": "86,5",
                    "target_year": "2026"}  # fmt: skip
        data |= {f"ind-{i}-{k}": v for k, v in row.items()}
    data.update(fields)
    return data


# --- the pages ---------------------------------------------------------------------------------
def test_a_municipality_s_goals_page_shows_each_goal_judged_with_its_chart_and_notes(
    site: Site,
) -> None:
    goal_id = a_goal(site)
    page = site.client.get(f"/kommun/{KUNGSBACKA}/mal")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Mål för Kungsbacka" in text
    assert "Fler elever klarar alla ämnen i årskurs 9" in text
    twin = site.client.get(f"/kommun/{KUNGSBACKA}/mal.json").json()
    (goal,) = twin["goals"]
    judgement = goal["indicators"][0]["judgement"]
    # the verdict, its reason, the measurability and the ambition are on the page
    assert goal["judgement"]["verdict_label"].capitalize() in text
    assert flat(judgement["reason"]) in text
    assert flat("Mätbarhet: " + goal["indicators"][0]["measurability"]["text"]) in text
    assert flat("Ambition: " + goal["indicators"][0]["ambition"]["text"]) in text
    assert "liknande kommuner" in goal["indicators"][0]["ambition"]["text"]
    # one progress chart per indicator: the values, the target path, the projection band
    svg = re.search(rf'<svg[^>]*role="img" aria-labelledby="mal-{goal_id}-indikator-1-', page.text)
    assert svg, "no progress chart"
    assert f'href="/mal/{goal_id}/indikator-1.csv"' in page.text
    assert f'href="/mal/{goal_id}/indikator-1.svg"' in page.text
    for legend in ("Målbana", "Prognos", "80\u00a0%-intervall"):
        assert legend in page.text, legend
    assert 'role="img"' in page.text or "<title" in page.text
    assert f'<a href="/mal/{goal_id}">' in page.text
    # the twin is the query's unit_goals_data with the series and the page's addresses
    data = unit_goals_data(site.store, site.bank, KUNGSBACKA, limit=twin["goals_max"])
    extra = {"series", "url", "may_edit", "unit_url"}
    strip = [
        {**{k: v for k, v in g.items() if k not in extra},
         "indicators": [{k: v for k, v in i.items() if k not in extra} for i in g["indicators"]]}
        for g in twin["goals"]
    ]  # fmt: skip
    assert strip == data["goals"]
    assert twin["organisation"] == data["organisation"] == {
        "code": KUNGSBACKA, "name": "Kungsbacka", "kind": "kommun"}  # fmt: skip
    years = [y for y, v in goal["indicators"][0]["series"] if v is not None]
    assert years[0] == 2008 and years[-1] == 2022
    assert goal["url"] == f"/mal/{goal_id}" and goal["may_edit"] is False


def test_the_goals_page_notes_too_many_goals_and_one_kpi_in_several_goals(
    site: Site, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TILLIT_GOALS_MAX", "1")
    a_goal(site)
    a_goal(site, "Fler elever når målen", target_value=84)
    text = text_of(site.client.get(f"/kommun/{KUNGSBACKA}/mal").text)
    assert "Målträngsel" in text
    assert "Kungsbacka har 2 mål, fler än 1." in text
    assert "följs upp i 2 mål" in text
    notes = site.client.get(f"/kommun/{KUNGSBACKA}/mal.json").json()["notes"]
    assert len(notes) == 2 and all(flat(n) in text for n in notes)


def test_a_municipality_without_goals_says_so_and_the_municipality_page_links_to_it(
    site: Site,
) -> None:
    text = text_of(site.client.get(f"/kommun/{VARBERG}/mal").text)
    assert "Varberg har inga mål i Tillit ännu." in text
    assert site.client.get(f"/kommun/{VARBERG}/mal.json").json()["goals"] == []
    municipality = site.client.get(f"/kommun/{VARBERG}")
    assert f'href="/kommun/{VARBERG}/mal"' in municipality.text


def test_a_goal_s_page_shows_its_target_history_and_its_twin_is_goal_data(site: Site) -> None:
    goal_id = a_goal(site)
    editor = site.bank.user_by_email(KUNGSBACKA_EDITOR)
    goal = goals_of(site.bank).goal(None, goal_id)
    lowered = [{"kpi": SCHOOL, "target_value": 84, "target_year": 2026, "direction": "ökning",
                "baseline_year": goal.indicators[0].baseline_year}]  # fmt: skip
    edit_goal(site.store, site.bank, editor, goal_id,
              {"indicators": lowered, "note": "Ingen liknande kommun har ökat så mycket."},
              version=1)  # fmt: skip
    page = site.client.get(f"/mal/{goal_id}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Målets historik" in text
    assert "sänktes från 88 till 84 (Kim Redaktör, version 2: Ingen liknande kommun" in text
    twin = site.client.get(f"/mal/{goal_id}.json").json()
    api = site.client.get(f"/api/goals/{goal_id}").json()
    assert twin["target_changes"] == api["target_changes"]
    assert twin["judgement"] == api["judgement"]
    assert twin["indicators"][0]["judgement"] == api["indicators"][0]["judgement"]
    assert twin["version"] == 2 and twin["unit_url"] == f"/kommun/{KUNGSBACKA}/mal"
    assert "Ändra målet" not in text  # an anonymous visitor
    # a deleted goal's page is gone, also after it was shown
    admin = site.bank.user_by_email(ADMIN)
    goals_of(site.bank).delete_goal(admin, goal_id, 2)
    assert site.client.get(f"/mal/{goal_id}").status_code == 404
    other = a_goal(site, "Ett nytt mål")
    assert "Ett nytt mål" in text_of(site.client.get(f"/mal/{other}").text)


def test_a_goal_s_chart_downloads_as_csv_and_svg(site: Site) -> None:
    goal_id = a_goal(site, interim=[[2024, 84]])
    assert goals_of(site.bank).goal(None, goal_id).indicators[0].interim == ((2024, 84.0),)
    response = site.client.get(f"/mal/{goal_id}/indikator-1.csv")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert list(rows[0]) == ["ar", "varde", "malbana", "prognos", "prognos_lag", "prognos_hog"]
    by_year = {r["ar"]: r for r in rows}
    assert by_year["2022"]["malbana"] == by_year["2022"]["varde"]  # the baseline
    assert float(by_year["2024"]["malbana"]) == 84.0 and float(by_year["2026"]["malbana"]) == 88
    low, mean, high = (float(by_year["2026"][k]) for k in ("prognos_lag", "prognos", "prognos_hog"))
    assert low < mean < high
    svg = site.client.get(f"/mal/{goal_id}/indikator-1.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert "<title" in svg.text and "<desc" in svg.text and "<script" not in svg.text
    missing = site.client.get(f"/mal/{goal_id}/indikator-2.svg")
    assert missing.status_code == 404 and "inget diagram som heter 'indikator-2'" in missing.text
    assert site.client.get(f"/mal/{goal_id}/indikator-².csv").status_code == 404


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/mal/0", 404),
        ("/mal/99999999999", 404),
        ("/mal/12345", 404),
        ("/mal/12345.json", 404),
        ("/mal/abc", 404),
        ("/mal/1/indikator-0.csv", 404),
        ("/kommun/9999/mal", 404),
        ("/kommun/9999/mal.json", 404),
        ("/region/0099/mal", 404),
        ("/kommun/%00/mal", 400),
    ],
)
def test_bad_addresses_are_pages_not_errors(site: Site, path: str, status: int) -> None:
    response = site.client.get(path)
    assert response.status_code == status, response.text
    if path.endswith((".json", ".csv", ".svg")) or status == 400:
        assert "error" in response.json()
    else:
        assert "<h1" in response.text


def test_a_unit_by_name_or_of_the_other_kind_is_sent_to_its_goals_page(site: Site) -> None:
    named = site.client.get("/kommun/Kungsbacka/mal")
    assert (named.status_code, named.headers["location"]) == (308, f"/kommun/{KUNGSBACKA}/mal")
    region = site.client.get("/kommun/0013/mal")
    assert (region.status_code, region.headers["location"]) == (303, "/region/0013/mal")
    back = site.client.get(f"/region/{KUNGSBACKA}/mal.json")
    assert back.headers["location"] == f"/kommun/{KUNGSBACKA}/mal.json"


# --- the forms ---------------------------------------------------------------------------------
def test_an_editor_previews_the_measurability_check_then_saves_through_the_form(
    site: Site, log_in: LogIn
) -> None:
    csrf = log_in(KUNGSBACKA_EDITOR)
    listing = site.client.get(f"/kommun/{KUNGSBACKA}/mal")
    assert f'href="/mal/ny?kommun={KUNGSBACKA}"' in listing.text
    form = site.client.get("/mal/ny")
    assert form.status_code == 200
    assert re.search(r'id="f-organisation"[^>]*value="Kungsbacka \(1384\)"[^>]*readonly', form.text)
    preview = site.client.post("/mal/ny", data=goal_form(csrf, action="preview"))
    assert preview.status_code == 200
    text = text_of(preview.text)
    assert "Förhandsgranskning" in text and "Inget är sparat än" in text
    assert "Mätbarhet: Målet kräver" in text and "Ambition:" in text
    assert "ur Kolada" in text  # the baseline was read from the store
    assert "målet: öka till 86,5 % till 2026" in flat(text)
    assert 'value="86,5"' in preview.text and 'value="n15419"' in preview.text
    assert goals_of(site.bank).goals(None, limit=10) == []  # nothing saved
    saved = site.client.post("/mal/ny", data=goal_form(csrf))
    assert saved.status_code == 303
    (goal,) = goals_of(site.bank).goals(None, limit=10)
    assert saved.headers["location"] == f"/mal/{goal.id}"
    assert goal.organisation_code == KUNGSBACKA and goal.indicators[0].target_value == 86.5
    assert goal.political_level == "barn- och förskolenämnden"
    # an editor posting another municipality still sets the goal for their own
    site.client.post("/mal/ny", data=goal_form(csrf, organisation=VARBERG, title="Annat"))
    assert {g.organisation_code for g in goals_of(site.bank).goals(None, limit=10)} == {KUNGSBACKA}
    page = site.client.get(f"/mal/{goal.id}")
    assert f'href="/mal/{goal.id}/andra"' in page.text


def test_bad_input_comes_back_with_messages_and_everything_typed(site: Site, log_in: LogIn) -> None:
    csrf = log_in(KUNGSBACKA_EDITOR)
    bad = goal_form(
        csrf, title="", **{"ind-0-target_value": "åttio", "ind-0-target_year": "20x6",
                           "ind-0-interim": "2024 83", "ind-1-kpi": "N15419",
                           "ind-1-target_value": "80"})  # fmt: skip
    response = site.client.post("/mal/ny", data=bad)
    assert response.status_code == 422
    text = text_of(response.text)
    assert "Målet är inte sparat – rätta det här" in text
    assert "Mål: skriv vad målet är." in text
    assert "Målvärde (rad 1): skriv ett tal" in text and "'åttio'" in text
    assert "Målår (rad 1): skriv ett årtal" in text
    assert "Delmål (rad 1): skriv år: värde" in text
    assert "Riktning (rad 2)" in text and "Målår (rad 2)" in text
    for typed in ("åttio", "20x6", "2024 83", "Läxhjälp och tidiga insatser."):
        assert html.escape(typed) in response.text or typed in response.text, typed
    assert 'aria-invalid="true"' in response.text
    assert 'href="#f-ind-0-target_value"' in response.text
    # the store's own checks: an unknown KPI, a target below the baseline of an increase
    unknown = site.client.post("/mal/ny", data=goal_form(csrf, **{"ind-0-kpi": "N99999"}))
    assert unknown.status_code == 422 and "N99999" in text_of(unknown.text)
    assert 'value="N99999"' in unknown.text
    below = site.client.post("/mal/ny", data=goal_form(csrf, **{"ind-0-target_value": "10"}))
    assert below.status_code == 422 and "målvärde över basvärdet" in text_of(below.text)
    assert goals_of(site.bank).goals(None, limit=10) == []


def test_who_may_use_the_goal_forms(site: Site, log_in: LogIn) -> None:
    goal_id = a_goal(site)
    log_in(None)
    for path in ("/mal/ny", f"/mal/{goal_id}/andra"):
        response = site.client.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith(
            "/logga-in?nasta="
        )
    csrf = log_in(READER)
    assert site.client.get("/mal/ny").status_code == 403
    assert site.client.post("/mal/ny", data=goal_form(csrf)).status_code == 403
    csrf = log_in(VARBERG_EDITOR)
    assert site.client.get(f"/mal/{goal_id}/andra").status_code == 403
    response = site.client.post(f"/mal/{goal_id}/andra", data=goal_form(csrf, version="1"))
    assert response.status_code == 403
    assert "Ändra målet" not in site.client.get(f"/mal/{goal_id}").text
    # CSRF: a post without the session's token is refused, nothing saved
    log_in(KUNGSBACKA_EDITOR)
    refused = site.client.post("/mal/ny", data=goal_form("fel"))
    assert refused.status_code == 403 and "säkerhetstoken" in text_of(refused.text)
    assert len(goals_of(site.bank).goals(None, limit=10)) == 1
    # an admin chooses the unit, also a region
    csrf = log_in(ADMIN)
    chosen = site.client.get(f"/mal/ny?kommun={VARBERG}")
    assert re.search(rf'<option value="{VARBERG}" selected>Varberg</option>', chosen.text)
    assert '<optgroup label="Regioner">' in chosen.text
    missing = site.client.post("/mal/ny", data=goal_form(csrf))
    assert missing.status_code == 422 and "välj kommunen eller regionen" in text_of(missing.text)
    made = site.client.post("/mal/ny", data=goal_form(csrf, organisation=VARBERG))
    assert made.status_code == 303
    assert site.client.get(f"/mal/{goal_id}/andra").status_code == 200


def test_an_editor_lowers_a_target_with_a_reason_and_a_stale_form_keeps_what_was_typed(
    site: Site, log_in: LogIn
) -> None:
    goal_id = a_goal(site)
    csrf = log_in(KUNGSBACKA_EDITOR)
    form = site.client.get(f"/mal/{goal_id}/andra")
    assert form.status_code == 200
    assert 'name="version" value="1"' in form.text and 'value="88"' in form.text
    baseline = re.search(r'name="ind-0-baseline_year" type="text" value="(\d+)"', form.text)
    assert baseline
    fields = {"version": "1", "ind-0-target_value": "84", "ind-0-baseline_year": baseline[1],
              "note": "Realistiskt mål."}  # fmt: skip
    preview_form = goal_form(csrf, **fields, action="preview")
    preview = site.client.post(f"/mal/{goal_id}/andra", data=preview_form)
    assert preview.status_code == 200 and "Mätbarhet:" in text_of(preview.text)
    assert goals_of(site.bank).goal(None, goal_id).version == 1
    saved = site.client.post(f"/mal/{goal_id}/andra", data=goal_form(csrf, **fields))
    assert (saved.status_code, saved.headers["location"]) == (303, f"/mal/{goal_id}")
    text = text_of(site.client.get(f"/mal/{goal_id}").text)
    assert "sänktes från 88 till 84 (Kim Redaktör, version 2: Realistiskt mål.)" in text
    # a form that started from version 1 is refused now, with what was typed kept
    stale = site.client.post(
        f"/mal/{goal_id}/andra", data=goal_form(csrf, **{**fields, "ind-0-target_value": "83"})
    )
    assert stale.status_code == 409
    assert "Någon annan hann spara målet före dig" in text_of(stale.text)
    assert 'value="83"' in stale.text and 'name="version" value="2"' in stale.text
    assert goals_of(site.bank).goal(None, goal_id).indicators[0].target_value == 84


# --- a region ----------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def region_site(
    region_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path_factory.mktemp('region-goals') / 'bank.sqlite'}"
    upgrade(url)
    bank = open_bank(url, passwords=FAST_PASSWORDS)
    store = Store(region_settings.store_dir, memory_limit="512MB")
    bank.seed_organisations([("0013", "Region Halland", "region")])
    admin = bank.add_user(ADMIN, PASSWORD, "Admin", "admin")
    bank.add_user("red@regionhalland.se", PASSWORD, "Reg", "editor", "0013", actor=admin)
    app = create_app(bank=bank, atlas=Atlas(store))
    with TestClient(app, follow_redirects=False) as client:
        yield Site(client, bank, store)
    bank.close()


def test_a_region_s_goals_page_judges_its_goal_against_the_other_regions(
    region_site: Site,
) -> None:
    editor = region_site.bank.user_by_email("red@regionhalland.se")
    goal, _ = add_goal(
        region_site.store,
        region_site.bank,
        editor,
        {
            "organisation": "0013",
            "title": "Färre förtida dödsfall",
            "indicators": [
                {
                    "kpi": "N01451",
                    "target_value": 140,
                    "target_year": 2026,
                    "direction": "minskning",
                }
            ],
        },
    )
    page = region_site.client.get("/region/0013/mal")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Mål för Region Halland" in text and "Färre förtida dödsfall" in text
    assert "liknande regioner" in text  # the ambition is measured against regions
    assert f'href="/mal/{goal.id}/indikator-1.svg"' in page.text
    twin = region_site.client.get("/region/0013/mal.json").json()
    assert twin["organisation"]["kind"] == "region"
    assert twin["goals"][0]["indicators"][0]["judgement"]["verdict"] != "cannot_judge"
    assert twin["goals"][0]["unit_url"] == "/region/0013/mal"
    one = text_of(region_site.client.get(f"/mal/{goal.id}").text)
    assert "Mål för Region Halland" in one
    assert 'href="/region/0013/mal"' in region_site.client.get("/region/0013").text


@pytest.mark.parametrize(
    "fields",
    [
        {"ind-0-kpi": "x" * 500},
        {"ind-0-gender": "X", "ind-0-direction": "sideways"},
        {"ind-0-target_value": "1e400"},
        {"ind-0-target_value": "nan"},
        {"ind-0-target_year": "٢٠٢٦"},
        {"ind-0-baseline_year": "1990", "ind-0-baseline_value": ""},
        {"ind-0-interim": "2024: 83; 2024: 84; 2030: 1"},
        {"ind-0-kpi": "N01451"},  # a region KPI for a municipality
        {"title": "x" * 400},
        {"political_level": "\x00"},
        {"organisation": "9999"},
    ],
)
def test_odd_form_input_is_a_message_never_a_server_error(
    site: Site, log_in: LogIn, fields: dict[str, str]
) -> None:
    csrf = log_in(ADMIN)
    for action in ("preview", "save"):
        data = goal_form(csrf, organisation=KUNGSBACKA, action=action) | fields
        response = site.client.post("/mal/ny", data=data)
        assert response.status_code in (200, 303, 422), response.text[:2000]
        if response.status_code == 422:
            assert "Målet är inte sparat – rätta det här" in text_of(response.text)


def test_a_goal_s_kept_page_changes_at_once_and_differs_by_who_may_see_its_links(
    site: Site, log_in: LogIn, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The goal's page is kept per the bank's change stamp of its organisation's goals and
    per the viewer's rights: a linked draft, its publishing, renaming and deletion, and a
    new or deleted goal of the same organisation show at once, to whom they should."""
    goal_id = a_goal(site)
    editor = site.bank.user_by_email(KUNGSBACKA_EDITOR)
    goals = goals_of(site.bank)
    draft = site.bank.create_example(editor, {"title": "Läxhjälp i Kungsbacka"})
    goals.update_goal(editor, goal_id, 1, {"example_ids": [draft.id]})

    def page(who: str | None) -> str:
        log_in(who)
        for _ in range(2):  # the second is the kept page
            text = text_of(site.client.get(f"/mal/{goal_id}").text)
        return text

    def twin() -> dict[str, Any]:
        log_in(None)
        body: dict[str, Any] = site.client.get(f"/mal/{goal_id}.json").json()
        return body

    assert "Läxhjälp i Kungsbacka" not in page(None)  # another's draft
    assert "Läxhjälp i Kungsbacka" not in page(READER)
    mine = page(KUNGSBACKA_EDITOR)
    assert "Läxhjälp i Kungsbacka" in mine and "Ändra målet" in mine
    assert "Ändra målet" not in page(VARBERG_EDITOR)
    assert "Läxhjälp i Kungsbacka" in page(ADMIN)
    assert "Läxhjälp i Kungsbacka" not in page(None) and twin()["examples"] == []
    published = site.bank.publish(editor, draft.id)
    assert "Läxhjälp i Kungsbacka" in page(None)
    assert [e["title"] for e in twin()["examples"]] == ["Läxhjälp i Kungsbacka"]
    site.bank.update_example(editor, draft.id, {"title": "Läxhjälp för alla"}, published.version)
    text = page(None)
    assert "Läxhjälp för alla" in text and "Läxhjälp i Kungsbacka" not in text
    site.bank.delete_example(editor, draft.id)
    assert "Läxhjälp för alla" not in page(None) and twin()["examples"] == []
    # the målträngsel notes count the organisation's other goals
    monkeypatch.setenv("TILLIT_GOALS_MAX", "1")
    assert "Målträngsel" not in page(None)
    other = a_goal(site, "Fler elever når målen", target_value=84)
    assert "Kungsbacka har 2 mål, fler än 1." in page(None)
    monkeypatch.setenv("TILLIT_GOALS_MAX", "2")  # the limit is read per request
    assert "Kungsbacka har 2 mål" not in page(None)
    monkeypatch.setenv("TILLIT_GOALS_MAX", "1")
    goals.delete_goal(site.bank.user_by_email(ADMIN), other, 1)
    assert "Målträngsel" not in page(None)
