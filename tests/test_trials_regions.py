"""Trials in regions (issue 15): a region registers a trial for itself (the bank's rules, on
SQLite and PostgreSQL; the query layer, the CLI and the web form over the regions' store),
the synthetic control takes the other regions as donors, and the verdict says honestly when
20 donors are too few for the significance level claimed: the smallest placebo p-value with
J donors is 1/(J + 1), 1/21 ≈ 0,048 for a region. The rule is the general one, tested on a
generated panel of 21 units as well as on Region Halland's real values."""

from __future__ import annotations

import html
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.bank_fixtures import FAST_PASSWORDS, PASSWORD, seed_people
from tests.test_synth import START, factor_panel, per_year_predictors
from tillit.analyses import evaluate_synthetic_control
from tillit.bank import Bank, UserRecord, open_bank, upgrade
from tillit.cli import main
from tillit.config import Settings
from tillit.errors import InvalidInputError
from tillit.query import (
    Atlas,
    evaluate_trial,
    register_trial,
    trial_evaluation_data,
    trial_panel,
    units,
    update_trial,
)
from tillit.store import Store
from tillit.web import create_app
from tillit.web.pages._trial_eval import TrialEvaluator

HALLAND = "0013"
SKANE = "0012"
KUNGSBACKA = "1384"
#: Vårdtillfällen i åldersgruppen 85+ per 100 000 invånare: a region KPI (municipality_type
#: "L"), 2008–2022 in the regions' store, so a start in 2016 leaves 8 years before and 7 after.
CARE = "N70815"
#: Valdeltagande (municipality_type "A"): municipalities and regions alike.
TURNOUT = "N05400"
#: A municipal KPI (municipality_type "K"): school results, no value of a region's own.
SCHOOL = "N15419"
HALLAND_EDITOR = "red@regionhalland.se"
KUNGSBACKA_EDITOR = "red@kungsbacka.se"
ADMIN = "admin@example.se"


def _trial(unit: str, kpi: str = CARE, start: int = 2016, direction: str = "minskning") -> dict:
    return {
        "municipality": unit,
        "title": "Mobila team för sköra äldre",
        "description": "Hemsjukvårdsteam besöker de sköraste äldre hemma i stället för akuten.",
        "start_year": start,
        "kpis": [{"kpi": kpi, "direction": direction}],
    }


# -- the rule, on a generated panel of 21 units ---------------------------------------------


def _twenty_donors(alpha: float, effect: float = 8.0) -> object:
    """A treated unit that is an exact mix of 20 donors with ``effect`` planted from START:
    the 21 units of a region's evaluation."""
    panel, treated, _ = factor_panel(21, donors=20, effect=effect)
    predictors = per_year_predictors()
    return evaluate_synthetic_control(
        panel,
        outcome="y",
        treated=treated,
        start=START,
        predictors=predictors,
        v=[1.0] * len(predictors),
        rounds=1,
        expected="increase",
        alpha=alpha,
    )


def test_twenty_donors_show_a_planted_effect_at_the_default_level_without_a_caveat() -> None:
    result = _twenty_donors(0.1)
    assert len(result.placebos) == 20
    assert result.rank == 1 and result.p_value == pytest.approx(1 / 21)
    assert result.verdict.kind == "clear_improvement"
    # 2/21 ≈ 0,095 ≤ 0,1: the second largest deviation would have reached the level too.
    assert "svagt" not in result.verdict.explanation


def test_twenty_donors_at_the_five_percent_level_say_the_result_is_as_weak_as_it_can_be() -> None:
    result = _twenty_donors(0.05)
    assert result.p_value == pytest.approx(1 / 21) and result.p_value <= 0.05
    assert result.verdict.kind == "clear_improvement"
    explanation = result.verdict.explanation
    assert "Resultatet är ändå svagt: med 20 jämförbara" in explanation
    assert "1/21 = 0,0476" in explanation and "nivån 0,050" in explanation
    assert "hade p blivit 0,0952" in explanation and "minst 39 jämförbara" in explanation


def test_twenty_donors_cannot_support_the_one_percent_level_and_say_so_with_the_numbers() -> None:
    result = _twenty_donors(0.01)
    assert result.p_value == pytest.approx(1 / 21)  # the smallest there is, and still too big
    assert result.verdict.kind == "too_few_donors"
    assert result.verdict.label == "för få jämförbara för att visa en effekt"
    explanation = result.verdict.explanation
    assert "Med 20 jämförbara kan p-värdet aldrig bli lägre än 1/21 = 0,0476" in explanation
    assert "nivån 0,010" in explanation and "minst 99 jämförbara" in explanation


@pytest.mark.parametrize(("donors", "alpha", "refused"), [(8, 0.1, True), (9, 0.1, False)])
def test_too_few_donors_follows_from_one_over_j_plus_one_for_any_panel(
    donors: int, alpha: float, refused: bool
) -> None:
    """Not a rule for regions: any panel whose J gives 1/(J + 1) > α is refused."""
    panel, treated, _ = factor_panel(5, donors=donors, effect=8.0)
    predictors = per_year_predictors()
    result = evaluate_synthetic_control(
        panel,
        outcome="y",
        treated=treated,
        start=START,
        predictors=predictors,
        v=[1.0] * len(predictors),
        rounds=1,
        alpha=alpha,
    )
    assert (result.verdict.kind == "too_few_donors") == refused
    assert (1 / (len(result.placebos) + 1) > alpha) == refused


# -- the bank: who may register a region's trial (SQLite and PostgreSQL) --------------------


def test_a_region_registers_a_trial_for_itself_but_not_for_another_region(bank: Bank) -> None:
    people = seed_people(bank)  # Göteborg, Stockholm (0180) and Region Västra Götaland (0014)
    bank.seed_organisations([(HALLAND, "Region Halland", "region")])
    region = bank.add_user(HALLAND_EDITOR, PASSWORD, "Reg", "editor", HALLAND, actor=people.admin)
    through = {CARE: 2022}
    data = {**_trial(HALLAND), "kpis": [{"kpi": CARE, "direction": "decrease"}]}
    own = bank.register_trial(region, data, through)
    assert (own.municipality, own.organisation_code) == (HALLAND, HALLAND)
    assert bank.trial_municipalities(CARE) == frozenset({HALLAND})
    # another region's trial is that region's to register
    with pytest.raises(InvalidInputError) as other:
        bank.register_trial(region, {**data, "municipality": "0014"}, through)
    assert "inte för en annan region (0014)" in other.value.message
    assert "ingen kommun" not in other.value.message
    # a region may still run a trial in a municipality, as before
    assert bank.register_trial(region, {**data, "municipality": "1480"}, through).id
    # a municipality (0180 begins with 0 too, but is Stockholm) may not register for a region
    with pytest.raises(InvalidInputError, match="sin egen kommun"):
        bank.register_trial(people.stockholm, {**data, "municipality": HALLAND}, through)
    # an admin may register it for the region's own organisation
    vg = next(o.id for o in bank.organisations() if o.code == "0014")
    assert (
        bank.register_trial(
            people.admin, {**data, "municipality": "0014", "organisation_id": vg}, through
        ).municipality
        == "0014"
    )


def test_the_bank_takes_a_region_code_and_refuses_riket(bank: Bank) -> None:
    people = seed_people(bank)
    data = {**_trial("0000"), "kpis": [{"kpi": CARE, "direction": "decrease"}]}
    with pytest.raises(InvalidInputError) as riket:
        bank.register_trial(people.admin, {**data, "organisation_id": 1}, {CARE: 2022})
    assert "0000 är hela landet (Riket)" in riket.value.message
    with pytest.raises(InvalidInputError) as bad:
        bank.register_trial(people.admin, {**data, "municipality": "13"}, {CARE: 2022})
    assert "är ingen kommun- eller regionkod" in bad.value.message
    assert bad.value.hint and "0013 för Region Halland" in bad.value.hint


# -- the query layer over the regions' store ------------------------------------------------


@pytest.fixture
def region_bank(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[Bank, UserRecord]]:
    """A real SQLite bank with Region Halland, Region Skåne and Kungsbacka, an editor for
    Region Halland and one for Kungsbacka."""
    path = tmp_path / "bank.sqlite"
    path.write_bytes(sqlite_template.read_bytes())
    bank = open_bank(f"sqlite:///{path}", passwords=FAST_PASSWORDS)
    bank.seed_organisations(
        [
            (HALLAND, "Region Halland", "region"),
            (SKANE, "Region Skåne", "region"),
            (KUNGSBACKA, "Kungsbacka", "kommun"),
        ]
    )
    admin = bank.add_user(ADMIN, PASSWORD, "Admin", "admin")
    editor = bank.add_user(HALLAND_EDITOR, PASSWORD, "Reg", "editor", HALLAND, actor=admin)
    bank.add_user(KUNGSBACKA_EDITOR, PASSWORD, "Red", "editor", KUNGSBACKA, actor=admin)
    try:
        yield bank, editor
    finally:
        bank.close()


def test_a_region_registers_its_trial_by_name_with_data_through_from_the_store(
    region_store: Store, region_bank: tuple[Bank, UserRecord]
) -> None:
    bank, editor = region_bank
    trial = register_trial(region_store, bank, editor, _trial("Region Halland"))
    assert (trial.municipality, trial.organisation_name) == (HALLAND, "Region Halland")
    (kpi,) = trial.kpis
    assert (kpi.kpi, kpi.direction, kpi.data_through) == (CARE, "decrease", 2022)
    assert kpi.results_known  # honest: the store had 2016–2022 already


def test_a_municipal_kpi_is_refused_for_a_region_naming_region_kpis(
    region_store: Store, region_bank: tuple[Bank, UserRecord]
) -> None:
    bank, editor = region_bank
    with pytest.raises(InvalidInputError) as error:
        register_trial(region_store, bank, editor, _trial(HALLAND, kpi=SCHOOL, direction="upp"))
    assert (
        f"{SCHOOL} (" in error.value.message and "ett nyckeltal för kommuner" in error.value.message
    )
    assert "Kolada redovisar det inte för Region Halland" in error.value.message
    assert error.value.hint and error.value.hint.startswith("Närmaste nyckeltal för regioner:")
    # and Riket is no unit for a trial
    admin = bank.user_by_email(ADMIN)
    with pytest.raises(InvalidInputError, match="hela landet"):
        register_trial(region_store, bank, admin, _trial("Riket"))
    assert bank.trials(None) == []


def test_a_regions_panel_has_the_other_regions_as_donors_and_their_structure_before_the_start(
    region_store: Store,
) -> None:
    regions = units(region_store, "L")
    assert len(regions) == 21 and HALLAND in regions and "0000" not in regions
    panel, donors, predictors = trial_panel(region_store, HALLAND, CARE, 2016)
    # the default 50 is more than there are: all 20 others, nearest first, no municipality
    assert sorted(donors) == sorted(set(regions) - {HALLAND})
    assert set(panel.units) == set(regions)
    _, nearest, _ = trial_panel(region_store, HALLAND, CARE, 2016, peers=5, exclude={SKANE})
    assert len(nearest) == 5 and SKANE not in nearest and set(nearest) < set(donors)
    columns = {p.column for p in predictors}
    # regions are compared without out-commuting (a municipal measure), and as of 2015:
    # Kolada has a region's share aged 65+ from 2018 and its foreign-born from 2020 only
    assert "struktur:population" in columns and "struktur:commuting" not in columns
    assert "struktur:old" not in columns and "struktur:foreign_born" not in columns
    assert max(t for p in predictors if p.column == CARE for t in p.times) == 2015


def test_a_region_trial_cut_to_five_donors_says_all_twenty_would_reach_the_level(
    region_store: Store, region_bank: tuple[Bank, UserRecord]
) -> None:
    """The user's own pool of 5: 1/6 > 0,1, so no effect can be shown, and the note says
    that the 20 regions there are would have given 1/21."""
    bank, editor = region_bank
    trial = register_trial(region_store, bank, editor, _trial(HALLAND))
    result = evaluate_trial(region_store, bank, trial.id, peers=5)
    assert result.pool == "de 5 strukturellt mest lika regionerna"
    assert result.evaluation is not None
    assert result.evaluation.verdict.kind == "too_few_donors"
    assert "1/6 = 0,167" in result.evaluation.verdict.explanation
    assert "minst 9 jämförbara" in result.evaluation.verdict.explanation
    assert result.pool_note is not None
    assert "med alla 20 andra regioner vore lägsta möjliga p 1/21 = 0,048" in result.pool_note
    # the trial keeps to region KPIs when it is changed, too
    school = {"kpis": [{"kpi": SCHOOL, "direction": "increase"}]}
    with pytest.raises(InvalidInputError, match="ett nyckeltal för kommuner"):
        update_trial(region_store, bank, editor, trial.id, trial.version, school)


@pytest.mark.slow
def test_a_region_trial_is_evaluated_against_the_other_regions_and_refused_at_one_percent(
    region_store: Store, region_bank: tuple[Bank, UserRecord]
) -> None:
    bank, editor = region_bank
    admin = bank.user_by_email(ADMIN)
    skane = next(o.id for o in bank.organisations() if o.code == SKANE)
    register_trial(
        region_store, bank, admin, {**_trial(SKANE, start=2014), "organisation_id": skane}
    )
    # Kungsbacka's trial on a KPI of both kinds is no reason to leave a region out
    kungsbacka = bank.user_by_email(KUNGSBACKA_EDITOR)
    register_trial(region_store, bank, kungsbacka, _trial(KUNGSBACKA, kpi=TURNOUT, start=2018))
    trial = register_trial(region_store, bank, editor, _trial(HALLAND))
    result = evaluate_trial(region_store, bank, trial.id, alpha=0.01)
    assert result.kind == "L" and result.excluded == (SKANE,)
    assert result.available == 19 and len(result.donors) == 19
    assert result.pool == "alla 19 andra regioner utan eget försök på nyckeltalet"
    evaluation = result.evaluation
    assert evaluation is not None and result.refusal is None
    assert evaluation.fit.treated == "Region Halland"
    assert "Region Skåne" not in evaluation.fit.donors
    region_names = {row["title"] for row in region_store.municipalities() if row["type"] == "L"}
    assert set(evaluation.fit.donors) <= region_names - {"Riket"}
    j = len(evaluation.placebos)
    assert 2 <= j <= 19 and evaluation.p_value >= 1 / (j + 1)
    assert [e.time for e in evaluation.effects] == list(range(2016, 2023))
    # a level of 0,01 needs 99 donors; 19 regions cannot give it, and both texts say why
    assert evaluation.verdict.kind == "too_few_donors"
    assert f"aldrig bli lägre än 1/{j + 1}" in evaluation.verdict.explanation
    assert "minst 99 jämförbara" in evaluation.verdict.explanation
    assert result.pool_note is not None
    assert "Det finns bara 19 andra regioner utan eget försök på nyckeltalet" in result.pool_note
    assert "Fler jämförbara regioner finns inte" in result.pool_note
    assert "1/20 = 0,050" in result.pool_note
    data = trial_evaluation_data(result)
    assert (data["kind"], data["available"], data["alpha"]) == ("L", 19, 0.01)
    assert data["evaluation"]["verdict"]["kind"] == "too_few_donors"
    assert data["names"][SKANE] == "Region Skåne"
    # a region's trial on a KPI of both kinds leaves out regions only
    turnout = register_trial(region_store, bank, editor, _trial(HALLAND, kpi=TURNOUT, start=2009))
    refused = evaluate_trial(region_store, bank, turnout.id)
    assert refused.excluded == () and refused.evaluation is None
    assert refused.refusal and "Förperioden är för kort: Region Halland" in refused.refusal


# -- the command line -----------------------------------------------------------------------


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def region_cli(
    region_env: Settings, sqlite_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """The regions' store (read only) and a bank of its own with an editor for Region
    Halland."""
    path = tmp_path / "bank.sqlite"
    path.write_bytes(sqlite_template.read_bytes())
    bank = open_bank(f"sqlite:///{path}", passwords=FAST_PASSWORDS)
    try:
        bank.seed_organisations(
            [(HALLAND, "Region Halland", "region"), (SKANE, "Region Skåne", "region")]
        )
        admin = bank.add_user(ADMIN, PASSWORD, "Admin", "admin")
        bank.add_user(HALLAND_EDITOR, PASSWORD, "Reg", "editor", HALLAND, actor=admin)
    finally:
        bank.close()
    monkeypatch.setenv("TILLIT_DATABASE_URL", f"sqlite:///{path}")
    return region_env


def _register_cli(capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, str, str]:
    return _run(
        capsys,
        "trial",
        "register",
        "--region",
        "Region Halland",
        "--start",
        "2016",
        "--titel",
        "Mobila team för sköra äldre",
        "--beskrivning",
        "Hemsjukvårdsteam besöker de sköraste äldre hemma.",
        "--user",
        HALLAND_EDITOR,
        *extra,
    )


@pytest.mark.slow
def test_cli_registers_lists_and_evaluates_a_region_trial(
    region_cli: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _register_cli(capsys, "--kpi", f"{SCHOOL}:upp")
    assert code != 0 and "ett nyckeltal för kommuner" in err and "ingen kommun" not in err
    code, out, err = _register_cli(capsys, "--kpi", f"{CARE}:minskning")
    assert code == 0, err
    assert "Försöket är registrerat med id 1." in out
    assert "Mobila team för sköra äldre – Region Halland (0013), från 2016" in out
    code, out, err = _run(capsys, "trial", "list", "--region", "Region Halland", "-f", "json")
    assert code == 0, err
    assert [t["municipality"] for t in json.loads(out)] == [HALLAND]
    argv = ["trial", "evaluate", "1", "--workers", "1"]
    code, out, err = _run(capsys, *argv)
    assert code == 0, err
    assert "Försök 1: Mobila team för sköra äldre – Region Halland, från 2016" in out
    assert "Region Halland låg i genomsnitt" in out
    assert "Jämförbara: alla 20 andra regioner;" in out
    assert "J = 20 jämförbara" in out and "lägsta möjliga p är 0,0476" in out
    assert "Det finns bara 20 andra regioner, färre än de 50 jämförbara" in out
    assert "kommun" not in out.replace("Kolada", "")
    code, out, err = _run(capsys, *argv, "--niva", "0,01", "-f", "json")
    assert code == 0, err
    (data,) = json.loads(out)["kpis"]  # every KPI of the trial: here one
    assert (data["kind"], data["available"], data["pool"]) == ("L", 20, "alla 20 andra regioner")
    assert data["alpha"] == 0.01 and data["evaluation"]["alpha"] == 0.01
    assert len(data["evaluation"]["placebos"]) == 20
    assert data["evaluation"]["verdict"]["kind"] == "too_few_donors"
    assert "1/21 = 0,0476" in data["evaluation"]["verdict"]["explanation"]
    assert "Den lägsta nivå som går att nå med alla 20 är 1/21 = 0,048" in data["pool_note"]
    code, out, err = _run(capsys, *argv, "--niva", "1,5")
    assert code != 0 and "Signifikansnivån ska vara ett tal mellan 0 och 1" in err


# -- the web form and the trial page --------------------------------------------------------


@dataclass
class Site:
    client: TestClient
    bank: Bank
    store: Store


@pytest.fixture(scope="module")
def site(region_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path_factory.mktemp('region-trials') / 'bank.sqlite'}"
    upgrade(url)
    bank = open_bank(url, passwords=FAST_PASSWORDS)
    store = Store(region_settings.store_dir, memory_limit="512MB")
    bank.seed_organisations(
        [
            (m["id"], m["title"], "kommun" if m["type"] == "K" else "region")
            for m in store.municipalities()
            if m["type"] in ("K", "L") and m["id"] != "0000"
        ]
    )
    admin = bank.add_user(ADMIN, PASSWORD, "Admin", "admin")
    bank.add_user(HALLAND_EDITOR, PASSWORD, "Reg", "editor", HALLAND, actor=admin)
    app = create_app(bank=bank, atlas=Atlas(store))
    app.state.trial_evaluator = TrialEvaluator(wait=300)
    with TestClient(app, follow_redirects=False) as client:
        yield Site(client, bank, store)
    bank.close()


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def _log_in(site: Site, email: str) -> str:
    site.client.cookies.clear()
    form = site.client.get("/logga-in")
    token = re.search(r'name="csrf_token" value="([^"]*)"', form.text)
    assert token
    response = site.client.post(
        "/logga-in", data={"csrf_token": token.group(1), "email": email, "password": PASSWORD}
    )
    assert response.status_code == 303, response.text
    page = site.client.get("/forsok/ny")
    found = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
    assert found
    return found.group(1)


def _form(csrf: str, kpi: str, **fields: str) -> dict[str, str]:
    data = {
        "csrf_token": csrf,
        "municipality": HALLAND,
        "title": "Mobila team för sköra äldre",
        "description": "Hemsjukvårdsteam besöker de sköraste äldre hemma.",
        "start_year": "2016",
        "kpi-0-kpi": kpi,
        "kpi-0-direction": "decrease",
        "kpi-1-kpi": "",
        "kpi-1-direction": "",
        "example_id": "",
        "example_other": "",
        "accepted": CARE,
        "action": "save",
    }
    data.update(fields)
    return data


@pytest.mark.slow
def test_a_region_registers_its_own_trial_through_the_form_and_its_page_speaks_of_regions(
    site: Site,
) -> None:
    csrf = _log_in(site, HALLAND_EDITOR)
    form = site.client.get("/forsok/ny")
    assert '<optgroup label="Regioner">' in form.text
    assert f'<option value="{HALLAND}" selected>Region Halland</option>' in form.text
    assert '<option value="0000"' not in form.text
    # a municipal KPI is refused next to its row, naming region KPIs
    wrong = site.client.post("/forsok/ny", data=_form(csrf, SCHOOL.lower()))
    assert wrong.status_code == 422
    text = text_of(wrong.text)
    assert "Nyckeltal (rad 1): N15419" in text and "ett nyckeltal för kommuner" in text
    assert "Närmaste nyckeltal för regioner" in text
    assert "är ingen kommun" not in text
    saved = site.client.post("/forsok/ny", data=_form(csrf, CARE))
    assert saved.status_code == 303, text_of(saved.text)
    location = saved.headers["location"]
    trial = site.bank.trial(None, int(location.rsplit("/", 1)[1]))
    assert (trial.municipality, trial.organisation_name) == (HALLAND, "Region Halland")
    page = site.client.get(location)
    assert page.status_code == 200
    text = text_of(page.text)
    assert f'<a href="/region/{HALLAND}">Region Halland</a>' in page.text
    assert "Vilka regioner bildar den syntetiska kontrollen" in text
    assert "med 20 jämförbara regioner som placebo" in text
    assert "lägsta möjliga p med 20 jämförbara är 0,0476" in text
    assert "alla 20 andra regioner som bäst följer Region Halland" in text
    assert "Det finns bara 20 andra regioner" in text
    assert 'href="/region/00' in page.text  # the donors link to their regions' pages
    for municipal in ("kommuner", "Kommun ", "är ingen kommun"):
        assert municipal not in text
    gap = site.client.get(f"{location}/skillnad.svg?nyckeltal={CARE}")
    assert gap.status_code == 200
    assert "Placebo: varje jämförbar region" in gap.text and "kommun" not in gap.text
    twin = site.client.get(location + ".json").json()
    assert twin["kind"] == "L" and twin["evaluation"]["pool"] == "alla 20 andra regioner"
    assert len(twin["evaluation"]["evaluation"]["placebos"]) == 20
    listed = site.client.get("/forsok?kommun=Region+Halland")
    assert "Region Halland (region)" in text_of(listed.text)
