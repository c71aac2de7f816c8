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
from tillit.bank import Bank, open_bank, upgrade
from tillit.config import Settings
from tillit.query import Atlas, register_trial
from tillit.store import Store
from tillit.web import create_app
from tillit.web.pages._trial_eval import TrialEvaluator

KUNGSBACKA = "1384"
SCHOOL = "N15419"
#: A small donor pool keeps an evaluation at a second or two (50 peers take a minute).
PEERS = 12


@dataclass
class Site:
    client: TestClient
    app: FastAPI
    bank: Bank
    evaluated: int  # Kungsbacka, school results, from 2016: evaluated
    refused: int  # Kungsbacka, school results, from 2010: too short a pre-period


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
    app = create_app(bank=bank, atlas=Atlas(store))
    app.state.trial_evaluator = TrialEvaluator(peers=PEERS, wait=300)
    with TestClient(app, follow_redirects=False) as client:
        yield Site(client, app, bank, evaluated.id, refused.id)
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
    assert {t["id"] for t in twin["items"]} == {site.evaluated, site.refused}
    assert twin["items"][0]["municipality_name"] == "Kungsbacka"
    assert twin["items"][0]["kpis"][0]["title"].startswith("Elever i åk 9")
    assert site.client.get("/forsok.json?nyckeltal=N00945").json()["items"] == []
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
    assert verdict["explanation"] in text
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
    assert twin["kpis"] == [
        {
            "kpi": SCHOOL,
            "title": twin["kpis"][0]["title"],
            "url": f"/forsok/{site.evaluated}?nyckeltal={SCHOOL}",
            "json": f"/forsok/{site.evaluated}.json?nyckeltal={SCHOOL}",
        }
    ]


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
