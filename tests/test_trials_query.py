"""Trials in the query layer: registering against the real analysis store (data_through
read from it), a trial's panel (structural peers, trial municipalities left out), evaluating
a trial or refusing honestly, and a synthetic control on any CSV panel."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from tests.bank_fixtures import FAST_PASSWORDS, PASSWORD
from tests.test_trial_store import same
from tillit.analyses import METHOD_VERSION, MIN_PRE_YEARS
from tillit.bank import Bank, UserRecord, open_bank
from tillit.errors import ConflictError, InvalidInputError, NotFoundError
from tillit.query import (
    Atlas,
    evaluate_panel_csv,
    evaluate_trial,
    evaluate_trial_kpis,
    evaluation_data,
    evaluation_keys,
    kpi_data_through,
    multiplicity_text,
    parse_direction,
    register_trial,
    stored_trial_evaluations,
    stored_verdicts,
    trial_evaluation_data,
    trial_evaluations,
    trial_evaluations_data,
    trial_panel,
    update_trial,
    yearly_report,
)
from tillit.store import Store
from tillit.swedish import kpi_unit

KUNGSBACKA = "1384"
KPI = "N15419"  # pupils in year 9 with passing grades in all subjects, 2008–2022 in the store


@pytest.fixture
def trial_bank(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[Bank, UserRecord]]:
    """A real SQLite bank with Kungsbacka, Lerum and Göteborg and an editor for each."""
    path = tmp_path / "bank.sqlite"
    path.write_bytes(sqlite_template.read_bytes())
    bank = open_bank(f"sqlite:///{path}", passwords=FAST_PASSWORDS)
    bank.seed_organisations(
        [
            (KUNGSBACKA, "Kungsbacka", "kommun"),
            ("1441", "Lerum", "kommun"),
            ("1480", "Göteborg", "kommun"),
        ]
    )
    admin = bank.add_user("admin@example.se", PASSWORD, "Admin", "admin")
    editor = bank.add_user("k@example.se", PASSWORD, "K", "editor", KUNGSBACKA, actor=admin)
    try:
        yield bank, editor
    finally:
        bank.close()


def _register(
    store: Store, bank: Bank, actor: UserRecord, start: int, municipality: str = "Kungsbacka"
) -> int:
    return register_trial(
        store,
        bank,
        actor,
        {
            "municipality": municipality,
            "title": "Läxhjälp för alla",
            "description": "Läxhjälp varje eftermiddag på alla skolor.",
            "start_year": start,
            "kpis": [{"kpi": KPI.lower(), "direction": "ökning"}],
        },
    ).id


def test_register_trial_reads_data_through_from_the_store(
    analysis_store: Store, trial_bank: tuple[Bank, UserRecord]
) -> None:
    bank, editor = trial_bank
    trial = bank.trial(None, _register(analysis_store, bank, editor, 2016))
    assert trial.municipality == KUNGSBACKA
    (kpi,) = trial.kpis
    assert (kpi.kpi, kpi.direction, kpi.data_through) == (KPI, "increase", 2022)
    assert kpi.results_known and not trial.pre_registered
    later = bank.trial(None, _register(analysis_store, bank, editor, 2023))
    assert later.pre_registered and later.kpis[0].data_through == 2022


def test_register_trial_checks_kpi_and_municipality_against_the_store(
    analysis_store: Store, trial_bank: tuple[Bank, UserRecord]
) -> None:
    bank, editor = trial_bank
    with pytest.raises(NotFoundError) as unknown:
        _register(analysis_store, bank, editor, 2016, municipality="Atlantis")
    assert unknown.value.hint and "municipality search" in unknown.value.hint
    data = {
        "municipality": "Kungsbacka",
        "title": "t",
        "description": "d",
        "start_year": 2016,
        "kpis": [{"kpi": "N99999", "direction": "increase"}],
    }
    with pytest.raises(NotFoundError, match="N99999"):
        register_trial(analysis_store, bank, editor, data)
    with pytest.raises(InvalidInputError, match="riktning"):
        register_trial(
            analysis_store, bank, editor, {**data, "kpis": [{"kpi": KPI, "direction": "åt sidan"}]}
        )
    assert bank.trials(None) == []


def test_update_trial_stamps_new_kpis_and_a_new_start_year_from_the_store(
    analysis_store: Store, trial_bank: tuple[Bank, UserRecord]
) -> None:
    bank, editor = trial_bank
    trial = bank.trial(None, _register(analysis_store, bank, editor, 2023))
    assert trial.pre_registered
    kept = trial.kpis[0]
    through = kpi_data_through(analysis_store, KUNGSBACKA, ["N00945", KPI])
    assert through[KPI] == 2022 and through["N00945"] is not None
    # a new KPI (Swedish direction) is stamped from the store; the kept one keeps its stamp
    changes = {
        "kpis": [{"kpi": KPI, "direction": "increase"}, {"kpi": "n00945", "direction": "ner"}]
    }
    added = update_trial(analysis_store, bank, editor, trial.id, 1, changes)
    stamps = {k.kpi: (k.direction, k.data_through, k.registered_at) for k in added.kpis}
    assert stamps[KPI] == ("increase", 2022, kept.registered_at)
    assert stamps["N00945"][:2] == ("decrease", through["N00945"])
    assert added.version == 2 and added.pre_registered
    # a start year inside the data re-stamps every KPI: results were known for both
    moved = update_trial(analysis_store, bank, editor, trial.id, 2, {"start_year": 2016})
    assert moved.start_year == 2016 and not moved.pre_registered
    assert all(k.results_known and k.registered_at > kept.registered_at for k in moved.kpis)
    # the same store checks as registering, and the version is the bank's
    with pytest.raises(NotFoundError, match="N99999"):
        bad = {"kpis": [{"kpi": "N99999", "direction": "increase"}]}
        update_trial(analysis_store, bank, editor, trial.id, 3, bad)
    with pytest.raises(InvalidInputError, match="minst ett nyckeltal"):
        update_trial(analysis_store, bank, editor, trial.id, 3, {"kpis": []})
    with pytest.raises(ConflictError):
        update_trial(analysis_store, bank, editor, trial.id, 2, {"title": "Ny"})
    assert bank.trial(None, trial.id).version == 3


def test_directions_are_read_in_english_and_swedish() -> None:
    assert {parse_direction(t) for t in ("increase", "upp", "Ökning")} == {"increase"}
    assert {parse_direction(t) for t in ("decrease", "ner", "minskning")} == {"decrease"}


def test_trial_panel_takes_structural_peers_and_leaves_out_the_excluded(
    analysis_store: Store,
) -> None:
    panel, donors, predictors = trial_panel(analysis_store, KUNGSBACKA, KPI, 2016, peers=10)
    assert len(donors) == 10 and KUNGSBACKA not in donors
    assert set(panel.units) == {KUNGSBACKA, *donors}
    assert panel.times[0] == 2008 and panel.times[-1] == 2022  # the whole series
    nearest = donors[0]
    _, without, _ = trial_panel(analysis_store, KUNGSBACKA, KPI, 2016, peers=10, exclude={nearest})
    assert nearest not in without and len(without) == 10
    assert without[:9] == donors[1:]
    columns = {p.column for p in predictors}
    assert KPI in columns and "struktur:population" in columns
    # The outcome lags cover only the years before the start.
    assert max(t for p in predictors if p.column == KPI for t in p.times) == 2015


def test_a_start_year_without_enough_years_before_it_is_refused_with_the_reason(
    analysis_store: Store, trial_bank: tuple[Bank, UserRecord]
) -> None:
    bank, editor = trial_bank
    trial_id = _register(analysis_store, bank, editor, 2011)
    result = evaluate_trial(analysis_store, bank, trial_id, peers=10)
    assert result.evaluation is None
    assert result.refusal is not None
    assert "Förperioden är för kort" in result.refusal
    assert f"minst {MIN_PRE_YEARS}" in result.refusal and "Kungsbacka har 3 år" in result.refusal
    assert result.refusal_hint
    data = trial_evaluation_data(result)
    assert data["evaluation"] is None and data["refusal"] == result.refusal


def test_evaluate_trial_rejects_a_kpi_the_trial_does_not_have(
    analysis_store: Store, trial_bank: tuple[Bank, UserRecord]
) -> None:
    bank, editor = trial_bank
    trial_id = _register(analysis_store, bank, editor, 2016)
    with pytest.raises(InvalidInputError) as error:
        evaluate_trial(analysis_store, bank, trial_id, "N00945", peers=10)
    assert error.value.hint and KPI in error.value.hint


@pytest.mark.slow
def test_a_trial_on_the_same_kpi_elsewhere_removes_that_municipality_from_the_donors(
    analysis_store: Store, trial_bank: tuple[Bank, UserRecord]
) -> None:
    bank, editor = trial_bank
    _, donors, _ = trial_panel(analysis_store, KUNGSBACKA, KPI, 2016, peers=12)
    nearest = donors[0]
    names = {m["id"]: m["title"] for m in analysis_store.municipalities()}
    admin = bank.user_by_email("admin@example.se")
    bank.seed_organisations([(nearest, names[nearest], "kommun")])
    other = register_trial(
        analysis_store,
        bank,
        admin,
        {
            "municipality": nearest,
            "title": "Annat försök",
            "description": "Samma nyckeltal.",
            "start_year": 2014,
            "kpis": [{"kpi": KPI, "direction": "increase"}],
            "organisation_id": next(o.id for o in bank.organisations() if o.code == nearest),
        },
    )
    trial_id = _register(analysis_store, bank, editor, 2016)
    result = evaluate_trial(analysis_store, bank, trial_id, peers=12)
    assert result.excluded == (nearest,)
    assert result.evaluation is not None
    fit = result.evaluation.fit
    assert fit.treated == "Kungsbacka"
    assert names[nearest] not in fit.donors
    assert len(fit.donors) + len(fit.dropped) == 12
    assert [e.time for e in result.evaluation.effects] == list(range(2016, 2023))
    assert result.expected == "increase" and not result.pre_registered
    data = trial_evaluation_data(result)
    assert data["excluded"] == [nearest] and data["names"][nearest] == names[nearest]
    assert abs(sum(data["evaluation"]["weights"].values()) - 1) < 1e-6
    # The other trial itself leaves Kungsbacka out of its own donors.
    assert evaluate_trial(analysis_store, bank, other.id, peers=12).excluded == (KUNGSBACKA,)


@pytest.mark.slow
def test_own_predictors_replace_the_defaults_and_may_not_look_past_the_start(
    analysis_store: Store, trial_bank: tuple[Bank, UserRecord]
) -> None:
    bank, editor = trial_bank
    trial_id = _register(analysis_store, bank, editor, 2016)
    result = evaluate_trial(
        analysis_store,
        bank,
        trial_id,
        peers=10,
        predictors=[
            "n15419:2008-2011",
            f"{KPI}:2012-2015",
            "N00945:2010-2015",
            "struktur:population:2010",
        ],
    )
    assert result.evaluation is not None
    used = result.evaluation.spec.predictors
    assert [(p.column, p.times[0], p.times[-1]) for p in used] == [
        (KPI, 2008, 2011),
        (KPI, 2012, 2015),
        ("N00945", 2010, 2015),
        ("struktur:population", 2010, 2010),
    ]
    # The other KPI is read from the store: Kungsbacka's own value is the predictor's.
    balance = result.evaluation.fit.balance[2]
    values = analysis_store.query_values(["N00945"], municipalities=[KUNGSBACKA], genders=["T"])
    own = {
        int(p): v
        for p, v in zip(
            values.column("period").to_pylist(), values.column("value").to_pylist(), strict=True
        )
        if 2010 <= int(p) <= 2015 and v is not None
    }
    assert balance.treated == pytest.approx(sum(own.values()) / len(own))
    # Without structure, the defaults are the outcome lags alone.
    lags = evaluate_trial(analysis_store, bank, trial_id, peers=10, structure_predictors=False)
    assert lags.evaluation is not None
    assert {p.column for p in lags.evaluation.spec.predictors} == {KPI}
    with pytest.raises(InvalidInputError, match="före försökets start 2016"):
        evaluate_trial(analysis_store, bank, trial_id, peers=10, predictors=[f"{KPI}:2012-2016"])
    with pytest.raises(NotFoundError, match="N99999"):
        evaluate_trial(analysis_store, bank, trial_id, peers=10, predictors=["N99999:2012"])


@pytest.mark.slow
def test_utfall_is_each_kpis_own_history_and_a_trial_kpi_by_id_is_refused(
    analysis_store: Store, trial_bank: tuple[Bank, UserRecord]
) -> None:
    """Own predictors serve every KPI of a trial: "utfall" is each KPI's own history, while
    naming one of the trial's KPIs would make it the other's predictor, and is refused."""
    bank, editor = trial_bank
    trial_id = _register_two(analysis_store, bank, editor)
    with pytest.raises(InvalidInputError, match="Egna prediktorer gäller alla") as refused:
        evaluate_trial(analysis_store, bank, trial_id, peers=10, predictors=[f"{KPI}:2010-2015"])
    assert "utfall:2010-2015" in (refused.value.hint or "")
    result = evaluate_trial_kpis(
        analysis_store, bank, trial_id, peers=10, predictors=["utfall:2009-2015"]
    )
    for e in result.evaluations:
        assert e.evaluation is not None
        assert [(p.column, p.times[0], p.times[-1]) for p in e.evaluation.spec.predictors] == [
            (e.kpi, 2009, 2015)
        ]
        # the checks speak of the KPI by its title, with its years in Swedish
        name = e.evaluation.spec.predictor_name(e.evaluation.spec.predictors[0])
        assert name == f"{e.kpi_title} (medel 2009–2015)"


def _csv(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "panel.csv"
    path.write_text(text, encoding="utf-8")
    return path


def test_evaluate_panel_csv_names_a_missing_file_column_or_unit(tmp_path: Path) -> None:
    rows = ["land;år;bnp"] + [
        f"{u};{t};{1 + i + 0.1 * t}" for i, u in enumerate("ABCD") for t in range(2000, 2010)
    ]
    path = _csv(tmp_path, "\n".join(rows) + "\n")
    with pytest.raises(InvalidInputError, match="finns inte"):
        evaluate_panel_csv(
            tmp_path / "saknas.csv", unit="land", time="år", outcome="bnp", treated="A", start=2007
        )
    with pytest.raises(InvalidInputError, match="saknar kolumnerna gdp") as column:
        evaluate_panel_csv(path, unit="land", time="år", outcome="gdp", treated="A", start=2007)
    assert column.value.hint and "bnp" in column.value.hint
    with pytest.raises(InvalidInputError, match="ingen enhet 'E'") as unit:
        evaluate_panel_csv(path, unit="land", time="år", outcome="bnp", treated="E", start=2007)
    assert unit.value.hint and "A, B, C, D" in unit.value.hint
    result = evaluate_panel_csv(
        path, unit="land", time="år", outcome="bnp", treated="A", start=2007
    )
    data = evaluation_data(result)
    assert data["treated"] == "A" and set(data["weights"]) == {"B", "C", "D"}
    assert [e["time"] for e in data["effects"]] == [2007, 2008, 2009]


# -- every KPI of a trial, judged together and kept ------------------------------------------

OTHER = "N00945"


def _register_two(store: Store, bank: Bank, actor: UserRecord, start: int = 2016) -> int:
    return register_trial(
        store,
        bank,
        actor,
        {
            "municipality": "Kungsbacka",
            "title": "Läxhjälp och föräldrastöd",
            "description": "Två nyckeltal.",
            "start_year": start,
            "kpis": [
                {"kpi": KPI, "direction": "ökning"},
                {"kpi": OTHER, "direction": "minskning"},
            ],
        },
    ).id


def test_multiplicity_is_said_in_swedish() -> None:
    assert multiplicity_text(1, 1, 0.1) is None
    two = multiplicity_text(2, 2, 0.1)
    assert two is not None and two.startswith("Försöket har 2 nyckeltal; p-värdena är justerade")
    assert "Holms metod" in two and "minst ett felaktigt" in two and "10\xa0%" in two
    some = multiplicity_text(3, 2, 0.05)
    assert some is not None and "3 nyckeltal, varav 2 kunde utvärderas" in some
    assert "5\xa0%" in some
    one = multiplicity_text(2, 1, 0.1)
    assert one is not None and "bara ett kunde utvärderas" in one


@pytest.mark.slow
def test_a_two_kpi_trial_gets_two_verdicts_judged_together_and_kept(
    analysis_store: Store, trial_bank: tuple[Bank, UserRecord], monkeypatch: pytest.MonkeyPatch
) -> None:
    bank, editor = trial_bank
    trial_id = _register_two(analysis_store, bank, editor)
    trial = bank.trial(None, trial_id)
    assert stored_trial_evaluations(analysis_store, bank, trial, peers=10) is None
    result = trial_evaluations(analysis_store, bank, trial_id, peers=10)
    assert not result.stored and result.family == 2
    assert [e.kpi for e in result.evaluations] == [OTHER, KPI]  # the trial's order (by id)
    assert result.multiplicity and "Försöket har 2 nyckeltal" in result.multiplicity
    for e in result.evaluations:
        assert e.evaluation is not None
        assert e.evaluation.family == 2 and e.evaluation.adjusted_p_value is not None
        assert e.evaluation.judged_p_value >= e.evaluation.p_value
        assert e.evaluation.spec.unit == kpi_unit(e.kpi_title) == e.unit
    assert result.kpi(KPI).unit == "%"  # a share: its effect is in percentage points
    # Holm: the smaller p-value times 2, the larger at least that
    ps = sorted((e.evaluation.p_value, e.evaluation.judged_p_value) for e in result.evaluations)  # type: ignore[union-attr]
    assert ps[0][1] == pytest.approx(min(1.0, 2 * ps[0][0]))
    assert ps[1][1] == pytest.approx(max(ps[0][1], ps[1][0]))
    # the single-KPI function gives the same verdict as the family
    single = evaluate_trial(analysis_store, bank, trial_id, OTHER, peers=10)
    assert single.evaluation is not None
    assert single.evaluation.verdict == result.kpi(OTHER).evaluation.verdict  # type: ignore[union-attr]
    # kept: the same evaluation comes back from the bank, data for data
    again = trial_evaluations(analysis_store, bank, trial_id, peers=10)
    assert again.stored and again.computed_at is not None
    assert trial_evaluations_data(again)["kpis"] == trial_evaluations_data(result)["kpis"]
    # the whole dataclass tree, arrays and all, read back equal to what was computed
    for kept_one, computed in zip(again.evaluations, result.evaluations, strict=True):
        assert same(replace(kept_one, trial=computed.trial), computed)
    # other settings are another evaluation
    assert stored_trial_evaluations(analysis_store, bank, again.trial, peers=10, alpha=0.05) is None
    # the trials list reads the stored verdicts
    labels = stored_verdicts(analysis_store, bank, [again.trial], peers=10)[trial_id]
    assert [(v.kpi, v.label) for v in labels] == [
        (e.kpi, e.evaluation.verdict.label)
        for e in result.evaluations  # type: ignore[union-attr]
    ]
    # …and only those made with its settings: the default list (50 peers) has none yet
    default = stored_verdicts(analysis_store, bank, [again.trial])[trial_id]
    assert [v.label for v in default] == ["inte utvärderat än"] * 2
    # a new method version computes anew
    import tillit.query._trial_store as kept

    monkeypatch.setattr(kept, "METHOD_VERSION", "another")
    assert stored_trial_evaluations(analysis_store, bank, again.trial, peers=10) is None
    monkeypatch.undo()
    assert stored_trial_evaluations(analysis_store, bank, again.trial, peers=10) is not None
    # an edit of the trial (a new version) computes anew, and says nothing is evaluated yet
    update_trial(analysis_store, bank, editor, trial_id, 1, {"title": "Nytt namn"})
    edited = bank.trial(None, trial_id)
    assert stored_trial_evaluations(analysis_store, bank, edited, peers=10) is None
    assert {v.label for v in stored_verdicts(analysis_store, bank, [edited])[trial_id]} == {
        "inte utvärderat än"
    }
    assert not trial_evaluations(analysis_store, bank, trial_id, peers=10).stored


def test_a_stored_evaluation_that_cannot_be_read_is_computed_again(
    analysis_store: Store, trial_bank: tuple[Bank, UserRecord]
) -> None:
    from tillit.bank import NewEvaluation

    bank, editor = trial_bank
    trial_id = _register(analysis_store, bank, editor, 2011)  # refused: quick to evaluate
    trial = bank.trial(None, trial_id)
    keys = evaluation_keys(analysis_store, bank, trial, peers=10)
    old = NewEvaluation(KPI, keys.keys[KPI], None, "kan inte utvärderas", '{"format": 0}')
    bank.store_evaluations(trial_id, trial.version, keys.store_state, METHOD_VERSION, [old])
    assert stored_trial_evaluations(analysis_store, bank, trial, peers=10, keys=keys) is None
    result = trial_evaluations(analysis_store, bank, trial_id, peers=10)
    assert not result.stored and result.evaluations[0].refusal
    assert trial_evaluations(analysis_store, bank, trial_id, peers=10).stored


def test_refused_kpis_are_no_part_of_the_family(
    analysis_store: Store, trial_bank: tuple[Bank, UserRecord]
) -> None:
    bank, editor = trial_bank
    trial_id = _register_two(analysis_store, bank, editor, start=2011)  # 3 years before: refused
    result = evaluate_trial_kpis(analysis_store, bank, trial_id, peers=10)
    assert [e.refusal is not None for e in result.evaluations] == [True, True]
    assert result.family == 0
    assert result.multiplicity == "Försöket har 2 nyckeltal, men inget av dem kunde utvärderas."
    data = trial_evaluations_data(result)
    assert data["family"] == 0 and data["family_kpis"] == [] and len(data["kpis"]) == 2
    assert trial_evaluations_data(result, [KPI])["kpis"][0]["kpi"] == KPI


@pytest.mark.slow
def test_the_yearly_report_shows_the_stored_evaluations(
    analysis_store: Store, trial_bank: tuple[Bank, UserRecord]
) -> None:
    bank, editor = trial_bank
    trial_id = _register_two(analysis_store, bank, editor)
    state = Atlas(analysis_store).loaded_for(KUNGSBACKA)
    # nothing stored and nothing to evaluate with: not evaluated yet
    before = yearly_report(state, KUNGSBACKA, bank=bank)
    assert [ev for _, ev in before.trials[0].evaluations] == [None, None]
    stored = trial_evaluations(analysis_store, bank, trial_id)  # the defaults, as the page's
    report = yearly_report(state, KUNGSBACKA, bank=bank)
    (trial,) = report.trials
    rows = {r[2]: r for r in next(t for t in report.tables if t.key == "forsok").rows}
    for e in stored.evaluations:
        shown = dict(trial.evaluations)[e.kpi]
        assert shown is not None and shown.evaluation is not None and e.evaluation is not None
        assert shown.evaluation.verdict == e.evaluation.verdict
        row = rows[e.kpi]
        assert row[5] == e.evaluation.verdict.label
        assert row[6] == pytest.approx(e.evaluation.average_effect)
        assert row[7] == pytest.approx(e.evaluation.judged_p_value)
