"""The trial forms over the real analysis store and a real SQLite bank: registering a trial
(the municipality fixed for a municipality's editor, chosen by a region's), the warning that
KPIs with known results will be marked "inte förregistrerat" before anything is saved,
Swedish errors next to the fields with the input kept, editing with optimistic locking,
deleting through a confirmation page, and who may do what (CSRF, 403, the login page)."""

from __future__ import annotations

import html
import re
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from tests.bank_fixtures import FAST_PASSWORDS, PASSWORD
from tillit.bank import Bank, open_bank, upgrade
from tillit.config import Settings
from tillit.errors import NotFoundError
from tillit.query import Atlas, register_trial
from tillit.store import Store
from tillit.web import create_app
from tillit.web.pages._trial_eval import TrialEvaluator

KUNGSBACKA = "1384"
VARBERG = "1383"
SCHOOL = "N15419"  # values 2008–2022 in the store
LEAVE = "N00945"
KUNGSBACKA_EDITOR = "red@kungsbacka.se"
VARBERG_EDITOR = "red@varberg.se"
REGION_EDITOR = "red@regionhalland.se"
READER = "las@kungsbacka.se"
ADMIN = "admin@tillit.se"


@dataclass
class Site:
    client: TestClient
    bank: Bank
    store: Store


@pytest.fixture(scope="module")
def site(analysis_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path_factory.mktemp('trial-forms') / 'bank.sqlite'}"
    upgrade(url)
    bank = open_bank(url, passwords=FAST_PASSWORDS)
    store = Store(analysis_settings.store_dir, memory_limit="512MB")
    bank.seed_organisations(
        [(m["id"], m["title"], "kommun") for m in store.municipalities() if m["type"] == "K"]
        + [("0013", "Region Halland", "region")]
    )
    admin = bank.add_user(ADMIN, PASSWORD, "Admin", "admin")
    bank.add_user(KUNGSBACKA_EDITOR, PASSWORD, "Red", "editor", KUNGSBACKA, actor=admin)
    bank.add_user(VARBERG_EDITOR, PASSWORD, "Var", "editor", VARBERG, actor=admin)
    bank.add_user(REGION_EDITOR, PASSWORD, "Reg", "editor", "0013", actor=admin)
    bank.add_user(READER, PASSWORD, "Läs", "reader", actor=admin)
    app = create_app(bank=bank, atlas=Atlas(store))
    # a tiny donor pool: the trial pages the tests are sent to answer in a moment
    app.state.trial_evaluator = TrialEvaluator(peers=3, wait=0)
    with TestClient(app, follow_redirects=False) as client:
        yield Site(client, bank, store)
    bank.close()


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert found, "the page has no form with a csrf_token"
    return found.group(1)


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


LogIn = Callable[[str | None], str]


@pytest.fixture
def log_in(site: Site) -> LogIn:
    """``log_in(email)`` logs the client in through the login form as ``email`` (None: logs
    out) and returns the session's CSRF token."""

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


def trial_form(csrf: str, **fields: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf,
        "title": "Läxhjälp varje eftermiddag",
        "description": "Läxhjälp med lärare i alla skolor, fyra dagar i veckan.",
        "start_year": "2024",
        "kpi-0-kpi": SCHOOL.lower(),
        "kpi-0-direction": "increase",
        "kpi-1-kpi": "",
        "kpi-1-direction": "",
        "kpi-2-kpi": "",
        "kpi-2-direction": "",
        "example_id": "",
        "example_other": "",
        "accepted": "",
        "action": "save",
    }
    data.update(fields)
    return data


def registered(site: Site, email: str = KUNGSBACKA_EDITOR, start: int = 2024) -> int:
    """A trial registered directly (not through the form) by ``email``."""
    trial = register_trial(
        site.store,
        site.bank,
        site.bank.user_by_email(email),
        {
            "municipality": KUNGSBACKA,
            "title": "Tidig läsning",
            "description": "Läsning varje morgon.",
            "start_year": start,
            "kpis": [{"kpi": SCHOOL, "direction": "increase"}],
        },
    )
    return trial.id


def created_id(location: str) -> int:
    assert re.fullmatch(r"/forsok/\d+", location), location
    return int(location.rsplit("/", 1)[1])


# --- registering ------------------------------------------------------------------------------
def test_an_editor_registers_a_trial_through_the_form_and_lands_on_its_page(
    site: Site, log_in: LogIn
) -> None:
    csrf = log_in(KUNGSBACKA_EDITOR)
    listing = site.client.get("/forsok")
    assert '<a class="button" href="/forsok/ny">Registrera ett försök</a>' in listing.text
    form = site.client.get("/forsok/ny")
    assert form.status_code == 200
    for label in ("Kommun", "Titel", "Beskrivning", "Startår", "Nyckeltal", "Väntas",
                  "Gott exempel"):  # fmt: skip
        assert re.search(rf'<label for="[^"]+">{label}\b', form.text), label
    # a municipality's editor registers in the municipality itself: shown, not chosen
    assert re.search(r'id="f-municipality"[^>]*value="Kungsbacka \(1384\)"[^>]*readonly', form.text)
    assert 'name="municipality"' not in form.text
    assert "inte förregistrerat" in text_of(form.text)  # the rule is said before anything
    # a municipality posted anyway is not the editor's to choose
    response = site.client.post("/forsok/ny", data=trial_form(csrf, municipality=VARBERG))
    assert response.status_code == 303
    trial_id = created_id(response.headers["location"])
    stored = site.bank.trial(None, trial_id)
    assert (stored.municipality, stored.title, stored.start_year) == (
        KUNGSBACKA,
        "Läxhjälp varje eftermiddag",
        2024,
    )
    assert [(k.kpi, k.direction, k.data_through) for k in stored.kpis] == [
        (SCHOOL, "increase", 2022)
    ]
    assert stored.pre_registered
    page = site.client.get(response.headers["location"])
    assert page.status_code in (200, 202)
    text = text_of(page.text)
    assert "Läxhjälp varje eftermiddag" in text and "Förregistrerat" in text
    assert f'<a class="button" href="/forsok/{trial_id}/andra">Ändra</a>' in page.text


def test_a_region_chooses_the_municipality_and_links_a_good_example(
    site: Site, log_in: LogIn
) -> None:
    region = site.bank.user_by_email(REGION_EDITOR)
    example = site.bank.create_example(region, {"title": "Läxhjälp i Halland"})
    csrf = log_in(REGION_EDITOR)
    form = site.client.get("/forsok/ny")
    assert '<select id="f-municipality" name="municipality"' in form.text
    assert f'<option value="{VARBERG}">Varberg</option>' in form.text
    assert (
        f'<option value="{example.id}">Läxhjälp i Halland (nr {example.id})</option>' in form.text
    )
    data = trial_form(csrf, municipality=VARBERG, example_id=str(example.id))
    response = site.client.post("/forsok/ny", data=data)
    assert response.status_code == 303
    stored = site.bank.trial(region, created_id(response.headers["location"]))  # a draft
    assert (stored.municipality, stored.organisation_name) == (VARBERG, "Region Halland")
    assert stored.example_id == example.id
    missing = site.client.post("/forsok/ny", data=trial_form(csrf))
    assert missing.status_code == 422
    assert "Kommun eller region: välj kommunen eller regionen där försöket görs." in text_of(
        missing.text
    )
    unknown = site.client.post("/forsok/ny", data=trial_form(csrf, municipality=VARBERG,
                                                             example_other="999999"))  # fmt: skip
    assert unknown.status_code == 422
    assert 'href="#f-example_other"' in unknown.text
    assert "Gott exempel: exemplet 999999 finns inte." in text_of(unknown.text)
    # an admin chooses too, and the trial is the municipality's own
    csrf = log_in(ADMIN)
    assert '<select id="f-municipality"' in site.client.get("/forsok/ny").text
    response = site.client.post("/forsok/ny", data=trial_form(csrf, municipality=VARBERG))
    assert response.status_code == 303
    owned = site.bank.trial(None, created_id(response.headers["location"]))
    assert (owned.municipality, owned.organisation_name) == (VARBERG, "Varberg")


def test_errors_are_shown_in_swedish_next_to_the_fields_and_nothing_typed_is_lost(
    site: Site, log_in: LogIn
) -> None:
    csrf = log_in(KUNGSBACKA_EDITOR)
    before = len(site.bank.trials(None, limit=500))
    data = trial_form(
        csrf,
        title="Min <b>titel</b>",
        description="Min långa beskrivning",
        **{"kpi-0-direction": "", "kpi-1-kpi": "N99999", "kpi-1-direction": "decrease"},
    )
    response = site.client.post("/forsok/ny", data=data)
    assert response.status_code == 422
    page, text = response.text, text_of(response.text)
    assert 'role="alert"' in page and "Försöket är inte sparat – rätta det här" in text
    assert "Väntas (rad 1): välj om nyckeltalet väntas öka eller minska." in text
    assert "Nyckeltal (rad 2): Nyckeltalet 'N99999' finns inte i arkivets metadata." in text
    for control in ("f-kpi-0-direction", "f-kpi-1-kpi"):
        assert f'href="#{control}"' in page
        assert re.search(rf'id="{control}"[^>]*aria-describedby="{control}-fel"', page)
        assert re.search(rf'id="{control}"[^>]*aria-invalid="true"', page)
    # what was typed is all still there (escaped)
    assert 'value="Min &lt;b&gt;titel&lt;/b&gt;"' in page
    assert "Min långa beskrivning</textarea>" in page
    assert 'value="n15419"' in page and 'value="N99999"' in page
    assert '<option value="decrease" selected>minska</option>' in page
    # the bank's own checks land next to their fields as well
    empty = site.client.post("/forsok/ny", data=trial_form(csrf, title="  "))
    assert empty.status_code == 422
    assert 'href="#f-title"' in empty.text and "Titel: får inte vara tomt." in text_of(empty.text)
    words = site.client.post("/forsok/ny", data=trial_form(csrf, start_year="tjugo"))
    assert words.status_code == 422 and 'value="tjugo"' in words.text
    assert "Startår: skriv året med siffror, t.ex. 2024." in text_of(words.text)
    early = trial_form(csrf, start_year="1850", accepted=SCHOOL)
    year = site.client.post("/forsok/ny", data=early)
    assert year.status_code == 422 and 'href="#f-start_year"' in year.text
    assert "Startår: 1850 ligger utanför 1990–2100." in text_of(year.text)
    twice = trial_form(csrf, **{"kpi-2-kpi": SCHOOL, "kpi-2-direction": "decrease"})
    twice_page = site.client.post("/forsok/ny", data=twice)
    assert twice_page.status_code == 422 and 'href="#f-kpi-2-kpi"' in twice_page.text
    none = trial_form(csrf, **{"kpi-0-kpi": "", "kpi-0-direction": ""})
    assert "minst ett nyckeltal" in site.client.post("/forsok/ny", data=none).text
    assert len(site.bank.trials(None, limit=500)) == before


def test_kpis_with_known_results_are_shown_as_not_pre_registered_before_saving(
    site: Site, log_in: LogIn
) -> None:
    csrf = log_in(KUNGSBACKA_EDITOR)
    before = len(site.bank.trials(None, limit=500))
    data = trial_form(csrf, start_year="2016")
    preview = site.client.post("/forsok/ny", data={**data, "action": "preview"})
    assert preview.status_code == 200
    shown = text_of(preview.text.split('id="forhandsvisning"', 1)[1].split("<form", 1)[0])
    assert "inte förregistrerat" in shown
    assert "Kolada har värden till och med 2022, och startåret är 2016" in shown
    # saving straight away (without having seen it) shows the warning and saves nothing
    first = site.client.post("/forsok/ny", data=data)
    assert first.status_code == 200
    warning = text_of(first.text.split('id="inte-forregistrerat"', 1)[1].split("<form", 1)[0])
    assert "Försöket är inte sparat än" in warning and "inte förregistrerat" in warning
    assert 'role="alert"' in first.text and ">Spara ändå</button>" in first.text
    assert f'name="accepted" value="{SCHOOL}"' in first.text
    assert len(site.bank.trials(None, limit=500)) == before
    # saving again, having seen it, registers the trial as not pre-registered
    again = site.client.post("/forsok/ny", data={**data, "accepted": SCHOOL})
    assert again.status_code == 303
    stored = site.bank.trial(None, created_id(again.headers["location"]))
    assert not stored.pre_registered and stored.kpis[0].results_known


# --- editing ------------------------------------------------------------------------------------
def test_editing_on_a_stale_version_shows_the_conflict_and_keeps_the_text(
    site: Site, log_in: LogIn
) -> None:
    trial_id = registered(site)
    csrf = log_in(KUNGSBACKA_EDITOR)
    form = site.client.get(f"/forsok/{trial_id}/andra")
    assert form.status_code == 200
    assert 'name="version" value="1"' in form.text and 'value="Tidig läsning"' in form.text
    assert f'value="{SCHOOL}"' in form.text and '<option value="increase" selected>' in form.text
    assert f'href="/forsok/{trial_id}/ta-bort"' in form.text
    admin = site.bank.user_by_email(ADMIN)
    site.bank.update_trial(admin, trial_id, 1, {"description": "Admins ändring."}, {})
    mine = trial_form(
        csrf, title="Min titel", description="Min beskrivning", start_year="2024", version="1"
    )
    response = site.client.post(f"/forsok/{trial_id}/andra", data=mine)
    assert response.status_code == 409
    text = text_of(response.text)
    assert "Någon annan hann spara försöket före dig" in text
    assert f"Försöket {trial_id} har ändrats av någon annan sedan version 1" in text
    assert 'value="Min titel"' in response.text and "Min beskrivning</textarea>" in response.text
    assert 'name="version" value="2"' in response.text
    assert site.bank.trial(None, trial_id).title == "Tidig läsning"
    again = site.client.post(f"/forsok/{trial_id}/andra", data={**mine, "version": "2"})
    assert again.status_code == 303 and again.headers["location"] == f"/forsok/{trial_id}"
    saved = site.bank.trial(None, trial_id)
    assert (saved.title, saved.description, saved.version) == ("Min titel", "Min beskrivning", 3)


def test_moving_the_start_year_into_the_data_warns_before_it_restamps(
    site: Site, log_in: LogIn
) -> None:
    trial_id = registered(site)
    csrf = log_in(KUNGSBACKA_EDITOR)
    data = trial_form(csrf, title="Tidig läsning", start_year="2018", version="1")
    first = site.client.post(f"/forsok/{trial_id}/andra", data=data)
    assert first.status_code == 200 and "Försöket är inte sparat än" in text_of(first.text)
    assert site.bank.trial(None, trial_id).start_year == 2024
    again = site.client.post(f"/forsok/{trial_id}/andra", data={**data, "accepted": SCHOOL})
    assert again.status_code == 303
    moved = site.bank.trial(None, trial_id)
    assert moved.start_year == 2018 and not moved.pre_registered
    # a trial already marked keeps its mark without a new warning on an unrelated change
    title = trial_form(csrf, title="Läsning", start_year="2018", version="2", accepted=SCHOOL)
    assert site.client.post(f"/forsok/{trial_id}/andra", data=title).status_code == 303


# --- who may do what ----------------------------------------------------------------------------
def test_an_editor_of_another_organisation_gets_403_on_edit_and_delete(
    site: Site, log_in: LogIn
) -> None:
    trial_id = registered(site)
    csrf = log_in(VARBERG_EDITOR)
    page = site.client.get(f"/forsok/{trial_id}")
    assert f"/forsok/{trial_id}/andra" not in page.text
    refused = site.client.get(f"/forsok/{trial_id}/andra", headers={"accept": "text/html"})
    assert refused.status_code == 403 and "Du får inte ändra det här försöket." in refused.text
    data = trial_form(csrf, title="Kapad", version="1")
    assert site.client.post(f"/forsok/{trial_id}/andra", data=data).status_code == 403
    assert site.client.get(f"/forsok/{trial_id}/ta-bort").status_code == 403
    gone = {"csrf_token": csrf, "version": "1"}
    assert site.client.post(f"/forsok/{trial_id}/ta-bort", data=gone).status_code == 403
    assert site.bank.trial(None, trial_id).title == "Tidig läsning"


def test_a_reader_gets_403_and_an_anonymous_visitor_is_sent_to_log_in(
    site: Site, log_in: LogIn
) -> None:
    trial_id = registered(site)
    log_in(None)
    for path in ("/forsok/ny", f"/forsok/{trial_id}/andra", f"/forsok/{trial_id}/ta-bort"):
        response = site.client.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/logga-in?nasta={path}"
        assert site.client.post(path, data=trial_form("")).status_code == 303
    assert "/forsok/ny" not in site.client.get("/forsok").text
    csrf = log_in(READER)
    refused = site.client.get("/forsok/ny", headers={"accept": "text/html"})
    assert refused.status_code == 403
    assert "Bara redaktörer och administratörer får registrera" in refused.text
    assert site.client.post("/forsok/ny", data=trial_form(csrf)).status_code == 403
    assert site.client.get(f"/forsok/{trial_id}/andra").status_code == 403
    assert "/forsok/ny" not in site.client.get("/forsok").text


def test_form_posts_without_the_csrf_token_are_refused(site: Site, log_in: LogIn) -> None:
    trial_id = registered(site)
    log_in(KUNGSBACKA_EDITOR)
    before = len(site.bank.trials(None, limit=500))
    for path, data in (
        ("/forsok/ny", trial_form("")),
        (f"/forsok/{trial_id}/andra", trial_form("", title="Ny", version="1")),
        (f"/forsok/{trial_id}/ta-bort", {"version": "1"}),
    ):
        data.pop("csrf_token", None)
        assert site.client.post(path, data=data).status_code == 403, path
        assert site.client.post(path, data={**data, "csrf_token": "fel"}).status_code == 403
    assert len(site.bank.trials(None, limit=500)) == before
    assert site.bank.trial(None, trial_id).title == "Tidig läsning"


# --- deleting -----------------------------------------------------------------------------------
def test_deleting_asks_first_and_a_stale_version_deletes_nothing(site: Site, log_in: LogIn) -> None:
    trial_id = registered(site)
    csrf = log_in(KUNGSBACKA_EDITOR)
    confirm = site.client.get(f"/forsok/{trial_id}/ta-bort")
    assert confirm.status_code == 200
    text = text_of(confirm.text)
    assert "Ta bort försöket?" in text and "Tidig läsning" in text
    assert 'name="version" value="1"' in confirm.text
    site.bank.update_trial(site.bank.user_by_email(ADMIN), trial_id, 1, {"title": "Nytt"}, {})
    stale = site.client.post(
        f"/forsok/{trial_id}/ta-bort", data={"csrf_token": csrf, "version": "1"}
    )
    assert stale.status_code == 409 and "har ändrats av någon annan" in text_of(stale.text)
    assert 'name="version" value="2"' in stale.text
    done = site.client.post(
        f"/forsok/{trial_id}/ta-bort", data={"csrf_token": csrf, "version": "2"}
    )
    assert done.status_code == 303 and done.headers["location"] == "/forsok"
    with pytest.raises(NotFoundError):
        site.bank.trial(None, trial_id)


# --- the trial page while its evaluation runs ---------------------------------------------------
def test_a_page_still_computing_names_its_json_twin_for_the_script_to_poll(site: Site) -> None:
    trial_id = registered(site, start=2016)  # a new trial: an evaluation nobody has asked for
    page = site.client.get(f"/forsok/{trial_id}")
    assert page.status_code == 202
    twin = f"/forsok/{trial_id}.json?nyckeltal={SCHOOL}"
    assert f'data-poll="{twin}" data-retry="5"' in page.text
    assert "<meta http-equiv" not in page.text.lower()
    assert f'<a href="/forsok/{trial_id}?nyckeltal={SCHOOL}">Ladda om sidan' in page.text
    assert '<script src="/static/tillit.js' in page.text
    # what the script waits for: the twin says "computing" until the evaluation is there
    deadline = time.monotonic() + 120
    while (answer := site.client.get(twin)).json()["status"] == "computing":
        assert answer.status_code == 202 and time.monotonic() < deadline
        time.sleep(0.1)
    assert answer.status_code == 200 and answer.json()["status"] == "ready"


def test_the_municipality_page_links_to_its_trials_once_it_has_any(site: Site) -> None:
    link = f'<a href="/forsok?kommun={KUNGSBACKA}">Försök i Kungsbacka</a>'
    falkenberg = site.client.get("/kommun/1382")
    assert falkenberg.status_code == 200 and "Försök i Falkenberg" not in falkenberg.text
    registered(site)
    page = site.client.get(f"/kommun/{KUNGSBACKA}")
    assert page.status_code == 200 and link in page.text
    count = len(site.bank.trials(None, municipality=KUNGSBACKA))
    assert f"({count} registrerade," in text_of(page.text)
    # the page is kept per store state: a new trial is counted at once all the same
    registered(site)
    assert f"({count + 1} registrerade," in text_of(site.client.get(f"/kommun/{KUNGSBACKA}").text)
