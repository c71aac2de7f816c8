"""Goals as data: the one JSON shape of a goal (:func:`goal_data`) that the CLI's ``-f json``
and the API answer with, a target change as a Swedish sentence, and the målträngsel notes."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from tillit.analyses import Ambition, IndicatorJudgement, Measurability
from tillit.query._goals import GOAL_DIRECTION_LABELS, GoalAssessment, IndicatorCheck
from tillit.query._reports import resolve_municipality
from tillit.store import Store
from tillit.swedish import kpi_label, number

if TYPE_CHECKING:
    from tillit.bank import Bank, GoalRecord, TargetChange
    from tillit.query._atlas import Atlas

__all__ = ["change_text", "check_data", "goal_crowding", "goal_data", "unit_goals_data"]

_GENDERS = {"T": "totalt", "K": "kvinnor", "M": "män"}


# -- few goals (målträngsel) -----------------------------------------------------------------


def goal_crowding(
    goals: Sequence[GoalRecord], limit: int, titles: Mapping[str, str] | None = None
) -> tuple[str, ...]:
    """Notes on målträngsel for one organisation's ``goals`` (all of them): more goals than
    ``limit`` (TILLIT_GOALS_MAX), or several goals on the same KPI. Empty when neither."""
    if not goals:
        return ()
    notes = []
    name = goals[0].organisation_name
    if len(goals) > limit:
        notes.append(
            f"{name} har {number(len(goals))} mål, fler än {number(limit)}. Många mål blir "
            "svåra att styra efter och att följa upp, och ett mål som inte prioriteras styr "
            "inget: välj färre (målträngsel)."
        )
    uses: Counter[str] = Counter()
    where: dict[str, list[int]] = {}
    for goal in goals:
        for kpi in dict.fromkeys(i.kpi for i in goal.indicators):
            uses[kpi] += 1
            where.setdefault(kpi, []).append(goal.id)
    for kpi, count in sorted(uses.items()):
        if count > 1:
            ids = ", ".join(str(i) for i in where[kpi])
            label = kpi_label(kpi, (titles or {}).get(kpi))
            notes.append(
                f"{label} följs upp i {number(count)} mål ({ids}). Samma nyckeltal i flera mål "
                "räknar samma framsteg flera gånger och kan dra åt olika håll: samla dem i ett "
                "mål (målträngsel)."
            )
    return tuple(notes)


# -- one shape for every surface -------------------------------------------------------------


def _float(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _measurability_data(m: Measurability) -> dict[str, Any]:
    return {
        "measurable": m.measurable,
        "required_change": _float(m.required_change),
        "smallest_detectable_change": _float(m.smallest_detectable_change),
        "reliable_change": _float(m.reliable_change),
        "years": m.years,
        "text": m.text,
    }


def _ambition_data(a: Ambition) -> dict[str, Any]:
    return {
        "level": a.level,
        "label": a.label,
        "achieved": a.achieved,
        "peers": a.peers,
        "share": _float(a.share),
        "horizon_years": a.horizon_years,
        "text": a.text,
    }


def _judgement_data(j: IndicatorJudgement) -> dict[str, Any]:
    return {
        "verdict": j.verdict,
        "verdict_label": j.verdict_label,
        "reason": j.reason,
        "probability_met": _float(j.probability_met),
        "expected": _float(j.expected),
        "low": _float(j.low),
        "high": _float(j.high),
        "slope": _float(j.slope),
        "slope_low": _float(j.slope_low),
        "slope_high": _float(j.slope_high),
        "trend_years": list(j.trend_years) if j.trend_years else None,
        "now": j.now,
        "projection": [
            {"year": y, "mean": _float(m), "low": _float(lo), "high": _float(hi)}
            for y, m, lo, hi in j.projection
        ],
        "interim": [
            {"year": c.year, "target": c.target, "value": _float(c.value), "met": c.met}
            for c in j.interim
        ],
    }


def check_data(check: IndicatorCheck) -> dict[str, Any]:
    """One indicator's check before saving, as JSON."""
    return {
        "kpi": check.kpi,
        "gender": check.gender,
        "title": check.title,
        "unit": check.series.unit,
        "baseline_year": check.target.baseline_year,
        "baseline_value": check.target.baseline_value,
        "baseline_from_store": check.baseline_from_store,
        "noise_sd": _float(check.series.noise_sd),
        "measurability": _measurability_data(check.measurability),
        "ambition": _ambition_data(check.ambition),
    }


def change_text(change: TargetChange, titles: Mapping[str, str] | None = None) -> str:
    """A target change in Swedish: "2026: målvärdet för Gymnasieelever med examen inom 3 år,
    hemkommun, andel (%) (N17445) sänktes från 88 till 86 (Kim Redaktör, version 2: …)."
    (``titles``: KPI titles by id; without one the KPI is named by its id)."""
    label = kpi_label(change.kpi, (titles or {}).get(change.kpi))
    if change.gender != "T":
        label = f"{label} ({_GENDERS[change.gender]})"
    what = {
        "target_value": "målvärdet",
        "target_year": "målåret",
        "baseline_value": "basvärdet",
        "baseline_year": "basåret",
        "direction": "riktningen",
        "interim": "delmålen",
    }
    year = change.at.year
    if change.field == "added":
        text = f"{year}: indikatorn {label} lades till"
    elif change.field == "removed":
        text = f"{year}: indikatorn {label} togs bort"
    elif change.field == "target_value":
        verb = _moved(change.old, change.new, "höjdes", "sänktes")
        text = f"{year}: målvärdet för {label} {verb} från {number(change.old)} till " + number(
            change.new
        )
    elif change.field == "target_year":
        verb = _moved(change.old, change.new, "flyttades fram", "tidigarelades")
        text = f"{year}: målåret för {label} {verb} från {change.old} till {change.new}"
    elif change.field == "direction":
        text = (
            f"{year}: riktningen för {label} ändrades från "
            f"{GOAL_DIRECTION_LABELS.get(change.old, change.old)} till "
            f"{GOAL_DIRECTION_LABELS.get(change.new, change.new)}"
        )
    elif change.field == "interim":
        text = f"{year}: delmålen för {label} ändrades"
    else:
        old = number(change.old) if isinstance(change.old, float) else str(change.old)
        new = number(change.new) if isinstance(change.new, float) else str(change.new)
        name = what.get(change.field, change.field)
        text = f"{year}: {name} för {label} ändrades från {old} till {new}"
    who = change.author or "okänd"
    note = f": {change.note}" if change.note else ""
    return f"{text} ({who}, version {change.version}{note})."


def _moved(old: Any, new: Any, up: str, down: str) -> str:
    try:
        return up if float(new) > float(old) else down
    except (TypeError, ValueError):
        return "ändrades"


def goal_data(
    goal: GoalRecord,
    assessment: GoalAssessment | None = None,
    *,
    notes: Sequence[str] = (),
    checks: Sequence[IndicatorCheck] = (),
    titles: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """The goal as JSON, the one shape the CLI's ``-f json`` and the API answer with: the
    record, its target history (with a Swedish sentence each, naming KPIs by ``titles`` or
    the assessment's), the målträngsel ``notes``, and, when given, the judgement of each
    indicator and the checks made before saving."""
    judged = (
        {(a.indicator.kpi, a.indicator.gender): a for a in assessment.indicators}
        if (assessment)
        else {}
    )
    checked = {(c.kpi, c.gender): c for c in checks}
    titles = {**{a.indicator.kpi: a.title for a in judged.values()}, **(titles or {})}
    indicators = []
    for ind in goal.indicators:
        item: dict[str, Any] = {
            "kpi": ind.kpi,
            "gender": ind.gender,
            "baseline_year": ind.baseline_year,
            "baseline_value": ind.baseline_value,
            "target_value": ind.target_value,
            "target_year": ind.target_year,
            "direction": ind.direction,
            "direction_label": GOAL_DIRECTION_LABELS[ind.direction],
            "interim": [{"year": y, "value": v} for y, v in ind.interim],
        }
        found = judged.get((ind.kpi, ind.gender))
        if found is not None:
            item["title"] = found.title
            item["unit"] = found.series.unit
            item["judgement"] = _judgement_data(found.judgement)
            item["measurability"] = _measurability_data(found.measurability)
            item["ambition"] = _ambition_data(found.ambition)
        check = checked.get((ind.kpi, ind.gender))
        if check is not None:
            item["check"] = check_data(check)
        indicators.append(item)
    data: dict[str, Any] = {
        "id": goal.id,
        "organisation": {
            "id": goal.organisation_id,
            "code": goal.organisation_code,
            "name": goal.organisation_name,
            "kind": goal.organisation_kind,
        },
        "title": goal.title,
        "description": goal.description,
        "political_level": goal.political_level,
        "indicators": indicators,
        "trials": [{"id": t.id, "title": t.title} for t in goal.trials],
        "examples": [{"id": e.id, "title": e.title} for e in goal.examples],
        "target_changes": [
            {
                "version": c.version,
                "at": c.at.isoformat(),
                "by": c.by,
                "author": c.author,
                "kpi": c.kpi,
                "gender": c.gender,
                "field": c.field,
                "old": c.old,
                "new": c.new,
                "note": c.note,
                "text": change_text(c, titles),
            }
            for c in goal.target_changes
        ],
        "notes": list(notes),
        "created_at": goal.created_at.isoformat(),
        "created_by": goal.created_by,
        "updated_at": goal.updated_at.isoformat(),
        "updated_by": goal.updated_by,
        "version": goal.version,
    }
    if assessment is not None:
        summary = assessment.summary
        data["judgement"] = {
            "verdict": summary.verdict,
            "verdict_label": summary.verdict_label,
            "text": summary.text,
            "counts": {verdict: n for verdict, n in summary.counts},
            "worst": summary.worst,
            "lowest_probability": _float(summary.lowest_probability),
        }
    return data


def unit_goals_data(
    store: Store,
    bank: Bank,
    code: str,
    *,
    limit: int,
    atlas: Atlas | None = None,
) -> dict[str, Any]:
    """A municipality's or region's goals page (``/kommun/{kod}/mal``) and its JSON twin, in
    one call: the unit, every goal of it judged (oldest first, each as :func:`goal_data`), and
    the målträngsel notes (``limit``: TILLIT_GOALS_MAX). NotFoundError when the unit has no
    organisation in the bank (run ``tillit bank seed``)."""
    from tillit.bank import goals_of
    from tillit.query._goals import assess_goals

    unit = resolve_municipality(store, code)
    goals = goals_of(bank).goals(None, organisation=unit["id"], limit=500)
    titles = {k["id"]: k["title"] for k in store.kpis()}
    notes = goal_crowding(goals, limit, titles)
    return {
        "organisation": {
            "code": unit["id"],
            "name": unit["title"],
            "kind": "region" if unit.get("type") == "L" else "kommun",
        },
        "goals": [
            goal_data(a.goal, a, notes=notes, titles=titles)
            for a in assess_goals(store, goals, atlas=atlas)
        ],
        "notes": list(notes),
        "goals_max": limit,
    }
