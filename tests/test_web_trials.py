"""The trial pages over the real analysis store and a bank with registered trials: the list,
one trial with its synthetic-control evaluation (verdict, charts, weights, balance, the
numbers), an honest refusal, the JSON twin from the same function, and the page that says
an evaluation is still being computed."""

from __future__ import annotations

import csv
import html
import io
import re
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.bank_fixtures import FAST_PASSWORDS, PASSWORD
from tillit.analyses import METHOD_VERSION
from tillit.bank import Bank, open_bank, upgrade
from tillit.config import Settings
from tillit.query import Atlas, register_trial
from tillit.store import Store
from tillit.web import create_app
from tillit.web.pages._trial_eval import TrialEvaluator

KUNGSBACKA = "1384"
SCHOOL = "N15419"
OTHER = "N00945"
#: A small donor pool keeps an evaluation at a second or two (50 peers take a minute).
PEERS = 12


@dataclass
class Site:
    client: TestClient
    app: FastAPI
    bank: Bank
    evaluated: int  # Kungsbacka, school results, from 2016: evaluated
    refused: int  # Kungsbacka, school results, from 2010: too short a pre-period
    two: int  # Kungsbacka, two KPIs, from 2016
    store: Store


@pytest.fixture(scope="module")
def site(analysis_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path_factory.mktemp('trials') / 'bank.sqlite'}"
    upgrade(url)
    bank = open_bank(url, passwords=FAST_PASSWORDS)
    store = Store(analysis_settings.store_dir, memory_limit="512MB")
    bank.seed_organisations(
        [(m["id"], m["title"], "kommun") for m in store.municipalities() if m["type"] == "K"]
    )
    editor = bank.add_user("red@kungsbacka.se", PASSWORD, "Red", "editor", KUNGSBACKA)
    bank.add_user("red@varberg.se", PASSWORD, "Var", "editor", "1383")
    evaluated = register_trial(
        store,
        bank,
        editor,
        {
            "municipality": "Kungsbacka",
            "title": "Läxhjälp på eftermiddagen",
            "description": "Läxhjälp i alla skolor.",
            "start_year": 2016,
            "kpis": [{"kpi": SCHOOL, "direction": "ökning"}],
        },
    )
    refused = register_trial(
        store,
        bank,
        editor,
        {
            "municipality": KUNGSBACKA,
            "title": "Tidig start",
            "description": "Skolstart i augusti i stället för i september.",
            "start_year": 2010,
            "kpis": [{"kpi": SCHOOL, "direction": "increase"}],
        },
    )
    two = register_trial(
        store,
        bank,
        editor,
        {
            "municipality": KUNGSBACKA,
            "title": "Läxhjälp och föräldrastöd",
            "description": "Två nyckeltal.",
            "start_year": 2016,
            "kpis": [
                {"kpi": SCHOOL, "direction": "increase"},
                {"kpi": OTHER, "direction": "decrease"},
            ],
        },
    )
    app = create_app(bank=bank, atlas=Atlas(store))
    app.state.trial_evaluator = TrialEvaluator(peers=PEERS, wait=300)
    with TestClient(app, follow_redirects=False) as client:
        yield Site(client, app, bank, evaluated.id, refused.id, two.id, store)
    bank.close()


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def test_list_shows_the_trials_and_filters_by_municipality_name_and_kpi(site: Site) -> None:
    page = site.client.get("/forsok")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Läxhjälp på eftermiddagen" in text and "Tidig start" in text
    assert f'href="/forsok/{site.evaluated}"' in page.text
    assert "resultat var kända vid registreringen" in text  # the store has 2016–2022 already
    twin = site.client.get("/forsok.json?kommun=Kungsbacka").json()
    assert {t["id"] for t in twin["items"]} == {site.evaluated, site.refused, site.two}
    assert twin["items"][0]["municipality_name"] == "Kungsbacka"
    first = next(t for t in twin["items"] if t["id"] == site.evaluated)
    assert first["kpis"][0]["title"].startswith("Elever i åk 9")
    # nothing is evaluated yet, and the list does not compute
    assert {k["verdict_label"] for t in twin["items"] for k in t["kpis"]} == {"inte utvärderat än"}
    assert "N15419: inte utvärderat än" in text
    only = site.client.get(f"/forsok.json?nyckeltal={OTHER}").json()["items"]
    assert [t["id"] for t in only] == [site.two]
    assert site.client.get("/forsok.json?nyckeltal=N17531").json()["items"] == []
    assert site.client.get("/forsok.json?kommun=1383").json()["items"] == []
    unknown = site.client.get("/forsok?kommun=Ingenstans")
    assert "Ingen kommun eller region som heter" in unknown.text


def test_trial_page_shows_verdict_charts_weights_balance_and_numbers(site: Site) -> None:
    page = site.client.get(f"/forsok/{site.evaluated}")
    assert page.status_code == 200
    text = text_of(page.text)
    twin = site.client.get(f"/forsok/{site.evaluated}.json").json()
    assert twin["status"] == "ready"
    evaluation = twin["evaluation"]["evaluation"]
    verdict = evaluation["verdict"]
    label = verdict["label"]
    assert f"{label[:1].upper()}{label[1:]}" in text
    assert " ".join(verdict["explanation"].split()) in text
    # the average effect in clear words, in the KPI's unit (a share: percentage points)
    effect = " ".join(evaluation["average_effect_text"].split())
    assert "procentenheter per år efter starten jämfört med den syntetiska kontrollen" in effect
    assert f"{effect[:1].upper()}{effect[1:]}" in text
    for check in evaluation["checks"]:
        assert " ".join(check["text"].split()) in text
    # the two charts, with their downloads
    assert page.text.count("<svg") >= 2
    for slug in ("syntes", "skillnad"):
        assert f'href="/forsok/{site.evaluated}/{slug}.csv?nyckeltal={SCHOOL}"' in page.text
        assert f'href="/forsok/{site.evaluated}/{slug}.svg?nyckeltal={SCHOOL}"' in page.text
    assert "Syntetisk kontroll" in text and "Placebo: varje jämförbar kommun" in text
    # donor weights, linked to the municipalities' pages
    names = twin["evaluation"]["names"]
    codes = {name: code for code, name in names.items()}
    weighted = [(u, w) for u, w in evaluation["weights"].items() if w >= 0.0005]
    assert weighted
    for unit, _weight in weighted:
        assert f'<a href="/kommun/{codes[unit]}">{html.escape(unit)}</a>' in page.text
    # predictor balance, in Swedish
    assert "Nyckeltalet, medel" in text and "Struktur: Invånare" in text
    # the numbers
    placebos = evaluation["placebo_count"]
    assert placebos == len(evaluation["placebos"]) and 2 <= placebos <= PEERS
    assert f"med {placebos} jämförbara kommuner som placebo" in text
    assert "Skillnad i skillnader" in text and "Placebo i tiden" in text
    assert "Utan en jämförbar i taget" in text
    assert "Effekt per år efter starten" in text
    # the results were in the store when the trial was registered: said plainly
    assert "Varning: resultaten var kända när nyckeltalet registrerades" in text
    assert twin["trial"]["pre_registered"] is False
    assert f'<a href="/kommun/{KUNGSBACKA}">Kungsbacka</a>' in page.text


def test_json_twin_is_the_query_functions_evaluation(site: Site) -> None:
    from tillit.query import evaluate_trial, trial_evaluation_data

    twin = site.client.get(f"/forsok/{site.evaluated}.json?nyckeltal={SCHOOL}").json()
    atlas = site.app.state.tillit.atlas
    direct = trial_evaluation_data(
        evaluate_trial(atlas.store, site.bank, site.evaluated, peers=PEERS)
    )
    direct.pop("trial")
    assert twin["evaluation"] == direct
    e = direct["evaluation"]
    assert twin["kpis"] == [
        {
            "kpi": SCHOOL,
            "title": twin["kpis"][0]["title"],
            "url": f"/forsok/{site.evaluated}?nyckeltal={SCHOOL}",
            "json": f"/forsok/{site.evaluated}.json?nyckeltal={SCHOOL}",
            "verdict": e["verdict"]["kind"],
            "label": e["verdict"]["label"],
            "tone": twin["kpis"][0]["tone"],
            "average_effect_text": e["average_effect_text"],
            "judged_p_value": e["judged_p_value"],
        }
    ]
    assert twin["family"] == 1 and twin["multiplicity"] is None


def test_refused_trial_shows_the_refusal_and_no_charts(site: Site) -> None:
    page = site.client.get(f"/forsok/{site.refused}")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "Tillit kan inte utvärdera försöket på det här nyckeltalet" in text
    assert "Förperioden är för kort" in text
    assert "<svg" not in page.text.split('id="utvardering"')[1]
    twin = site.client.get(f"/forsok/{site.refused}.json").json()
    assert twin["status"] == "ready"
    assert twin["evaluation"]["evaluation"] is None
    assert twin["evaluation"]["refusal"].startswith("Förperioden är för kort")
    chart = site.client.get(f"/forsok/{site.refused}/syntes.svg")
    assert chart.status_code == 404


def test_chart_downloads_svg_and_csv_with_every_placebo_in_the_gap_csv(site: Site) -> None:
    svg = site.client.get(f"/forsok/{site.evaluated}/skillnad.svg?nyckeltal={SCHOOL}")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml")
    assert 'class="line line-placebo"' in svg.text
    twin = site.client.get(f"/forsok/{site.evaluated}.json").json()["evaluation"]["evaluation"]
    gap = site.client.get(f"/forsok/{site.evaluated}/skillnad.csv")
    rows = list(csv.DictReader(io.StringIO(gap.content.decode("utf-8-sig"))))
    assert [int(r["ar"]) for r in rows] == twin["times"]
    placebo_units = [p["unit"] for p in twin["placebos"]]
    assert list(rows[0])[2:] == placebo_units
    synth = site.client.get(f"/forsok/{site.evaluated}/syntes.csv")
    header = synth.content.decode("utf-8-sig").splitlines()[0]
    assert header == "ar,kommun,syntetisk,skillnad,period"
    # the page's table of the gap chart summarises the placebos instead of listing them
    page = site.client.get(f"/forsok/{site.evaluated}").text
    assert "Placebo, lägst" in page and "Placebo, median" in page and "Placebo, högst" in page
    assert site.client.get(f"/forsok/{site.evaluated}/annat.svg").status_code == 404


def test_unknown_trial_or_kpi_is_a_swedish_404_and_a_lower_case_kpi_redirects(
    site: Site,
) -> None:
    missing = site.client.get("/forsok/999999", headers={"accept": "text/html"})
    assert missing.status_code == 404 and "Försöket 999999 finns inte" in missing.text
    assert site.client.get("/forsok/0.json").status_code == 404
    wrong = site.client.get(f"/forsok/{site.evaluated}.json?nyckeltal=N00945")
    assert wrong.status_code == 404
    assert wrong.json()["error"]["hint"] == f"Försökets nyckeltal: {SCHOOL}."
    moved = site.client.get(f"/forsok/{site.evaluated}?nyckeltal={SCHOOL.lower()}")
    assert moved.status_code == 308
    assert moved.headers["location"] == f"/forsok/{site.evaluated}?nyckeltal={SCHOOL}"


def test_an_evaluation_still_running_answers_202_and_the_page_says_so(site: Site) -> None:
    kept = site.app.state.trial_evaluator
    # another donor pool: a new evaluation, which this evaluator does not wait for
    site.app.state.trial_evaluator = TrialEvaluator(peers=PEERS - 2, wait=0)
    try:
        page = site.client.get(f"/forsok/{site.evaluated}")
        assert page.status_code == 202 and page.headers["retry-after"] == "5"
        text = text_of(page.text)
        assert "Utvärderingen räknas fram" in text
        assert "Ladda om sidan för att se resultatet" in text
        deadline = time.monotonic() + 120
        while True:
            twin = site.client.get(f"/forsok/{site.evaluated}.json")
            if twin.status_code == 200 or time.monotonic() > deadline:
                break
            assert twin.json()["status"] == "computing" and twin.json()["retry_after"] == 5
            time.sleep(0.2)
        assert twin.status_code == 200 and twin.json()["status"] == "ready"
        assert twin.json()["evaluation"]["peers"] == PEERS - 2
    finally:
        site.app.state.trial_evaluator = kept


def test_the_main_menu_links_to_the_trials(site: Site) -> None:
    page = site.client.get("/forsok").text
    assert '<a href="/forsok" aria-current="page">Försök</a>' in page


def test_a_trial_evaluated_elsewhere_shows_at_once_with_every_kpis_verdict(site: Site) -> None:
    from tillit.query import trial_evaluations, trial_evaluations_data

    # evaluated and stored the way `tillit trial evaluate` does it (same donor pool)
    result = trial_evaluations(site.store, site.bank, site.two, peers=PEERS)
    assert result.family == 2
    kept = site.app.state.trial_evaluator
    # a new evaluator, with nothing in memory, that does not wait: it must read the bank
    site.app.state.trial_evaluator = TrialEvaluator(peers=PEERS, wait=0)
    try:
        page = site.client.get(f"/forsok/{site.two}")
        assert page.status_code == 200
        text = text_of(page.text)
        assert "Försöket har 2 nyckeltal; p-värdena är justerade med Holms metod" in text
        assert "Sparad utvärdering från" in text
        for e in result.evaluations:
            assert e.evaluation is not None
            label = e.evaluation.verdict.label
            assert f"{label[:1].upper()}{label[1:]}" in text
        assert "per år efter starten jämfört med den syntetiska kontrollen" in text
        twin = site.client.get(f"/forsok/{site.two}.json?nyckeltal={SCHOOL}").json()
        assert twin["status"] == "ready" and twin["stored"] is True and twin["family"] == 2
        assert twin["multiplicity"] == result.multiplicity
        stored = trial_evaluations_data(result)["kpis"]
        assert [(k["kpi"], k["label"]) for k in twin["kpis"]] == [
            (k["kpi"], k["evaluation"]["verdict"]["label"]) for k in stored
        ]
        chosen = next(k for k in stored if k["kpi"] == SCHOOL)
        assert twin["evaluation"] == chosen
        assert twin["evaluation"]["evaluation"]["family"] == 2
        # the list shows each KPI's stored verdict
        listed = site.client.get("/forsok.json").json()["items"]
        item = next(t for t in listed if t["id"] == site.two)
        assert [k["verdict_label"] for k in item["kpis"]] == [k["label"] for k in twin["kpis"]]
        html_list = text_of(site.client.get("/forsok").text)
        assert f"{OTHER}: {twin['kpis'][0]['label']}" in html_list
    finally:
        site.app.state.trial_evaluator = kept


def test_an_edited_trial_is_evaluated_anew_and_listed_as_not_evaluated(site: Site) -> None:
    from tillit.query import trial_evaluations, update_trial

    trial = site.bank.trial(None, site.two)
    trial_evaluations(site.store, site.bank, site.two, peers=PEERS)  # stored, this version
    editor = site.bank.user_by_email("red@kungsbacka.se")
    update_trial(site.store, site.bank, editor, site.two, trial.version, {"title": "Nytt namn"})
    listed = site.client.get("/forsok.json").json()["items"]
    item = next(t for t in listed if t["id"] == site.two)
    assert {k["verdict_label"] for k in item["kpis"]} == {"inte utvärderat än"}
    kept = site.app.state.trial_evaluator
    site.app.state.trial_evaluator = TrialEvaluator(peers=PEERS, wait=0)
    try:
        page = site.client.get(f"/forsok/{site.two}")
        assert page.status_code == 202 and "Räknas fram" in text_of(page.text)
        deadline = time.monotonic() + 120
        while True:
            twin = site.client.get(f"/forsok/{site.two}.json")
            if twin.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert twin.status_code == 200 and twin.json()["stored"] is False
        assert twin.json()["trial"]["version"] == trial.version + 1
    finally:
        site.app.state.trial_evaluator = kept
    # what the page computed is stored: the list shows it
    listed = site.client.get("/forsok.json").json()["items"]
    item = next(t for t in listed if t["id"] == site.two)
    assert "inte utvärderat än" not in {k["verdict_label"] for k in item["kpis"]}


def test_a_stored_evaluation_of_an_older_format_is_computed_again_not_an_error(
    site: Site,
) -> None:
    from tillit.bank import NewEvaluation
    from tillit.query import evaluation_keys, trial_evaluations

    trial = site.bank.trial(None, site.evaluated)
    trial_evaluations(site.store, site.bank, site.evaluated, peers=PEERS)
    keys = evaluation_keys(site.store, site.bank, trial, peers=PEERS)
    old = [
        NewEvaluation(kpi, key, "no_clear_effect", "ingen säker effekt", '{"format": 1}')
        for kpi, key in keys.keys.items()
    ]
    site.bank.store_evaluations(trial.id, trial.version, keys.store_state, METHOD_VERSION, old)
    kept = site.app.state.trial_evaluator
    site.app.state.trial_evaluator = TrialEvaluator(peers=PEERS, wait=0)
    try:
        page = site.client.get(f"/forsok/{site.evaluated}")
        assert page.status_code == 202  # computed again, in the background
        deadline = time.monotonic() + 120
        while True:
            twin = site.client.get(f"/forsok/{site.evaluated}.json")
            if twin.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert twin.status_code == 200 and twin.json()["evaluation"]["evaluation"] is not None
    finally:
        site.app.state.trial_evaluator = kept
