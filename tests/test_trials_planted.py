"""A trial whose effect we know: Kungsbacka's real N15419 series with a planted jump from the
start year on. The pre-period is untouched, so the synthetic control (weights, placebos)
must be exactly the one of the real series, the effect must grow by exactly the planted
amount, and the verdict must name it — an improvement when the trial expected the jump, a
deterioration when it expected the opposite. Real store (DuckDB, Parquet), real SQLite bank."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import duckdb
import numpy as np
import pytest

from tests.bank_fixtures import FAST_PASSWORDS, PASSWORD
from tests.conftest import METADATA, PANEL
from tillit.analyses import STRUCTURAL_KPIS
from tillit.bank import Bank, UserRecord, open_bank
from tillit.config import Settings
from tillit.query import TrialEvaluation, evaluate_trial, register_trial
from tillit.store import Store
from tillit.sync import import_path

KUNGSBACKA = "1384"
KPI = "N15419"  # year-9 pupils passing every subject: a noisy percentage
START = 2016
PLANTED = 12.0  # percentage points, about four times the series' year-to-year noise
PEERS = 20


def _store(root: Path, shift: float) -> Store:
    """The metadata, the structural KPIs and N15419 from 2005 on, with ``shift`` added to
    Kungsbacka's N15419 from START on."""
    settings = Settings(home=root, kolada_rate=0, kolada_timeout=5, kolada_retries=3)
    store = Store(settings.store_dir, memory_limit="512MB")
    for name in ("kpi", "municipality", "municipality_groups"):
        import_path(store, METADATA / f"{name}_v3_2026-03.values.json")
    kpis = ", ".join(repr(k) for k in {KPI, *STRUCTURAL_KPIS})
    values = root / "values.parquet"
    con = duckdb.connect()
    try:
        con.execute(
            f"COPY (SELECT kpi, municipality_id, year, gender, "
            f"CASE WHEN kpi = '{KPI}' AND municipality_id = '{KUNGSBACKA}' AND year >= {START} "
            f"THEN value + {shift} ELSE value END AS value "
            f"FROM read_parquet('{PANEL}') WHERE kpi IN ({kpis}) AND year >= 2005 "
            f"ORDER BY ALL) TO '{values}' (FORMAT parquet)"
        )
    finally:
        con.close()
    import_path(store, values)
    return store


@pytest.fixture
def trial_bank(sqlite_template: Path, tmp_path: Path) -> Iterator[tuple[Bank, UserRecord]]:
    path = tmp_path / "bank.sqlite"
    path.write_bytes(sqlite_template.read_bytes())
    bank = open_bank(f"sqlite:///{path}", passwords=FAST_PASSWORDS)
    bank.seed_organisations([(KUNGSBACKA, "Kungsbacka", "kommun")])
    admin = bank.add_user("admin@example.se", PASSWORD, "Admin", "admin")
    editor = bank.add_user("k@example.se", PASSWORD, "K", "editor", KUNGSBACKA, actor=admin)
    try:
        yield bank, editor
    finally:
        bank.close()


def _evaluate(store: Store, bank: Bank, editor: UserRecord, direction: str) -> TrialEvaluation:
    trial = register_trial(
        store,
        bank,
        editor,
        {
            "municipality": "Kungsbacka",
            "title": "Studiero",
            "description": "Lugna klassrum och läxhjälp från hösten 2016.",
            "start_year": START,
            "kpis": [{"kpi": KPI, "direction": direction}],
        },
    )
    result = evaluate_trial(store, bank, trial.id, peers=PEERS)
    bank.delete_trial(editor, trial.id, trial.version)
    return result


@pytest.mark.slow
def test_a_planted_jump_is_found_exactly_and_judged_by_the_expected_direction(
    shared_data: Path, tmp_path: Path, trial_bank: tuple[Bank, UserRecord]
) -> None:
    bank, editor = trial_bank
    real = _evaluate(_store(tmp_path / "real", 0.0), bank, editor, "increase")
    planted_store = _store(tmp_path / "planted", PLANTED)
    hoped = _evaluate(planted_store, bank, editor, "increase")
    feared = _evaluate(planted_store, bank, editor, "decrease")
    assert real.evaluation is not None and hoped.evaluation is not None
    assert feared.evaluation is not None
    before, after = real.evaluation, hoped.evaluation

    # The pre-period is the same, so the synthetic control is the same ...
    assert after.fit.donors == before.fit.donors
    np.testing.assert_allclose(after.fit.weights, before.fit.weights, atol=1e-9)
    np.testing.assert_allclose(after.fit.synthetic_series, before.fit.synthetic_series)
    assert after.fit.pre_rmspe == pytest.approx(before.fit.pre_rmspe)
    # ... and the effect grows by exactly what was planted, every year.
    for a, b in zip(after.effects, before.effects, strict=True):
        assert a.gap - b.gap == pytest.approx(PLANTED)
    assert after.average_effect - before.average_effect == pytest.approx(PLANTED)

    # The real series shows nothing special; the planted jump beats every placebo.
    assert before.verdict.kind in {"no_clear_effect", "no_clear_effect_yet"}
    assert after.rank == 1
    assert after.p_value == pytest.approx(1 / (len(after.placebos) + 1))
    assert after.verdict.kind == "clear_improvement"
    assert after.verdict.label == "tydlig förbättring"
    assert "Kungsbacka" in after.verdict.explanation
    # The same numbers read against a trial that hoped for a decrease: a deterioration.
    assert feared.evaluation.p_value == after.p_value
    assert feared.evaluation.verdict.kind == "clear_deterioration"
    assert feared.evaluation.verdict.label == "tydlig försämring"
