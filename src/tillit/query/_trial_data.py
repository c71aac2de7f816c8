"""The JSON shape of trials and their evaluations: what `tillit trial … --format json`
prints and what the web pages' `.json` twins return, built in one place."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from tillit.analyses import SynthEvaluation
from tillit.bank import TrialRecord
from tillit.query._trial_evaluation import TrialEvaluation, TrialEvaluations
from tillit.query._trial_store import NOT_EVALUATED, StoredLabel
from tillit.swedish import UNIT_SPACE, change_unit, difference

__all__ = [
    "average_effect_text",
    "evaluation_data",
    "trial_data",
    "trial_evaluation_data",
    "trial_evaluations_data",
]

#: What every average effect is: a gap against the synthetic control, averaged over the
#: years after the start (not growth per year).
AFTER_START = "per år efter starten jämfört med den syntetiska kontrollen"


def average_effect_text(value: float, unit: str = "") -> str:
    """An average effect in words: "i genomsnitt +1 378 kr/inv 65+ per år efter starten
    jämfört med den syntetiska kontrollen" (``unit`` the KPI's, "%" read as
    procentenheter)."""
    unit = change_unit(unit)
    amount = difference(value)
    return f"i genomsnitt {amount}{UNIT_SPACE + unit if unit else ''} {AFTER_START}"


def _num(value: float) -> float | None:
    value = float(value)
    return value if math.isfinite(value) else None


def _series(values: Iterable[float]) -> list[float | None]:
    return [_num(v) for v in values]


def evaluation_data(evaluation: SynthEvaluation) -> dict[str, Any]:
    """The evaluation as plain JSON data: weights, V, effects, placebos, p-value, the
    robustness checks and the verdict (NaN and infinities become null)."""
    e, fit = evaluation, evaluation.fit
    order = np.argsort(-fit.weights, kind="stable")
    return {
        "outcome": fit.outcome,
        "treated": fit.treated,
        "start": fit.start,
        "expected": e.expected,
        "times": list(fit.times),
        "fit_times": list(fit.fit_times),
        "treated_series": _series(fit.treated_series),
        "synthetic_series": _series(fit.synthetic_series),
        "weights": {fit.donors[i]: float(fit.weights[i]) for i in order},
        "v": [
            {
                "predictor": b.predictor.label,
                "column": b.predictor.column,
                "times": list(b.predictor.times),
                "op": b.predictor.op,
                "v": _num(b.importance),
                "treated": _num(b.treated),
                "synthetic": _num(b.synthetic),
                "donor_mean": _num(b.donor_mean),
            }
            for b in fit.balance
        ],
        "dropped": [{"unit": u, "reason": r} for u, r in fit.dropped],
        "pre_rmspe": _num(fit.pre_rmspe),
        "post_rmspe": _num(fit.post_rmspe),
        "ratio": _num(fit.ratio),
        "effects": [
            {
                "time": x.time,
                "treated": _num(x.treated),
                "synthetic": _num(x.synthetic),
                "gap": _num(x.gap),
            }
            for x in e.effects
        ],
        "average_effect": _num(e.average_effect),
        "unit": e.spec.unit,
        "average_effect_text": average_effect_text(e.average_effect, e.spec.unit),
        "p_value": e.p_value,
        "family": e.family,
        "adjusted_p_value": e.adjusted_p_value,
        "judged_p_value": e.judged_p_value,
        "rank": e.rank,
        "placebo_count": len(e.placebos),
        "placebos": [
            {
                "unit": p.unit,
                "pre_rmspe": _num(p.pre_rmspe),
                "post_rmspe": _num(p.post_rmspe),
                "ratio": _num(p.ratio),
                "gaps": _series(p.gaps),
            }
            for p in e.placebos
        ],
        "did": {
            "estimate": _num(e.did.estimate),
            "p_value": e.did.p_value,
            "placebo_sd": _num(e.did.placebo_sd),
        },
        "in_time": {
            "start": e.in_time.start,
            "times": list(e.in_time.times),
            "gaps": _series(e.in_time.gaps),
            "average_gap": _num(e.in_time.average_gap),
            "pre_rmspe": _num(e.in_time.pre_rmspe),
            "reason": e.in_time.reason,
        },
        "leave_one_out": [
            {
                "left_out": x.left_out,
                "weight": x.weight,
                "average_effect": _num(x.average_effect),
                "pre_rmspe": _num(x.pre_rmspe),
            }
            for x in e.leave_one_out
        ],
        "quality": {
            "poor": e.quality.poor,
            "reason": e.quality.reason,
            "placebo_median_pre_rmspe": _num(e.quality.placebo_median_pre_rmspe),
            "placebo_upper_quartile_pre_rmspe": _num(e.quality.placebo_upper_quartile_pre_rmspe),
            "outside_range_share": _num(e.quality.outside_range_share),
        },
        "search": None
        if fit.search is None
        else {
            "local_searches": fit.search.starts,
            "rounds": fit.search.rounds,
            "rounds_requested": fit.search.requested,
            "converged": fit.search.converged,
            "certified": fit.search.certified,
            "pre_mspe": _num(fit.search.loss),
            "lowest_possible_pre_mspe": _num(fit.search.bound),
        },
        "alternatives": None
        if e.alternatives is None
        else {
            "count": e.alternatives.count,
            "effect_low": _num(e.alternatives.effect_low),
            "effect_high": _num(e.alternatives.effect_high),
            "p_low": _num(e.alternatives.p_low),
            "p_high": _num(e.alternatives.p_high),
            "weight_ranges": [
                {"donor": r.donor, "low": r.low, "high": r.high, "chosen": r.chosen}
                for r in e.alternatives.ranges
            ],
        },
        "alpha": e.alpha,
        "verdict": {
            "kind": e.verdict.kind,
            "label": e.verdict.label,
            "explanation": e.verdict.explanation,
        },
        "checks": [
            {"key": c.key, "passed": c.passed, "text": c.text, "doubt": c.doubt} for c in e.checks
        ],
    }


def trial_data(
    trial: TrialRecord, verdicts: tuple[StoredLabel, ...] | None = None
) -> dict[str, Any]:
    """A trial record as plain JSON data; with ``verdicts`` (``stored_verdicts``), each KPI
    has its latest stored verdict (``verdict`` its kind, None when refused or not evaluated;
    ``verdict_label`` e.g. "inte utvärderat än")."""
    out: dict[str, Any] = {
        "id": trial.id,
        "municipality": trial.municipality,
        "title": trial.title,
        "description": trial.description,
        "start_year": trial.start_year,
        "organisation_id": trial.organisation_id,
        "organisation_name": trial.organisation_name,
        "example_id": trial.example_id,
        "example_title": trial.example_title,
        "registered_at": trial.registered_at.isoformat(),
        "updated_at": trial.updated_at.isoformat(),
        "version": trial.version,
        "pre_registered": trial.pre_registered,
        "kpis": [
            {
                "kpi": k.kpi,
                "direction": k.direction,
                "registered_at": k.registered_at.isoformat(),
                "data_through": k.data_through,
                "results_known": k.results_known,
            }
            for k in trial.kpis
        ],
    }
    if verdicts is not None:
        labels = {v.kpi: v for v in verdicts}
        for k in out["kpis"]:
            found = labels.get(k["kpi"])
            k["verdict"] = found.kind if found else None
            k["verdict_label"] = found.label if found else NOT_EVALUATED
            k["evaluated"] = bool(found and found.evaluated)
    return out


def trial_evaluation_data(result: TrialEvaluation) -> dict[str, Any]:
    """A trial's evaluation as plain JSON data: the trial, the KPI, the kind of unit ("K" a
    municipality, "L" a region), the donor pool (codes, how many there could be, in words,
    and what its size means for the claim), the excluded units, the evaluation (see
    :func:`evaluation_data`) or the refusal."""
    return {
        "trial": trial_data(result.trial),
        "kpi": result.kpi,
        "kpi_title": result.kpi_title,
        "municipality": result.municipality,
        "municipality_name": result.municipality_name,
        "expected": result.expected,
        "pre_registered": result.pre_registered,
        "data_through": result.data_through,
        "kind": result.kind,
        "peers": result.peers,
        "donors": list(result.donors),
        "available": result.available,
        "pool": result.pool,
        "pool_note": result.pool_note,
        "alpha": result.alpha,
        "unit": result.unit,
        "excluded": list(result.excluded),
        "names": dict(result.names),
        "refusal": result.refusal,
        "refusal_hint": result.refusal_hint,
        "evaluation": None if result.evaluation is None else evaluation_data(result.evaluation),
    }


def trial_evaluations_data(
    result: TrialEvaluations, kpis: Iterable[str] | None = None
) -> dict[str, Any]:
    """Every KPI of a trial evaluated, as plain JSON data: the trial, the multiplicity (how
    many KPIs are judged together, in words), whether the evaluation was stored and when it
    was computed, and each KPI's evaluation (:func:`trial_evaluation_data` without the
    trial). ``kpis`` shows only those KPIs; the family is still all of them."""
    shown = None if kpis is None else set(kpis)
    return {
        "trial": trial_data(result.trial),
        "family": result.family,
        "family_kpis": [e.kpi for e in result.evaluations if e.evaluation is not None],
        "multiplicity": result.multiplicity,
        "alpha": result.alpha,
        "peers": result.peers,
        "stored": result.stored,
        "computed_at": result.computed_at.isoformat() if result.computed_at else None,
        "store_state": result.store_state,
        "method_version": result.method_version,
        "kpis": [
            {k: v for k, v in trial_evaluation_data(e).items() if k != "trial"}
            for e in result.evaluations
            if shown is None or e.kpi in shown
        ],
    }
