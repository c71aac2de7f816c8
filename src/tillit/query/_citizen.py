"""The public page for the people who live in a municipality or region
(``/kommun/{kod}/for-invanare``): its goals and whether they are met, 8–12 key results in
plain Swedish against similar units and over time, what it tries (trials) and has shared
(good examples), and how sure the numbers are.

Every number comes from the analyst pages' own query functions: the key results are
``municipality_overview``'s comparisons and trends (the same tier, value, peers' median and
difference as ``/kommun/{kod}``), the goals are ``goal_data`` over ``assess_goals`` as the
goal page shows them. This module only chooses, names and words them."""

from __future__ import annotations

import csv
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING, Any

import numpy as np

from tillit.query._atlas import Loaded, nan_to_none
from tillit.query._data import plain
from tillit.query._pages import KeyResult, MunicipalityOverview, municipality_overview

if TYPE_CHECKING:
    from tillit.bank import ExampleRecord, TrialRecord

__all__ = [
    "CitizenExample",
    "CitizenGoal",
    "CitizenResult",
    "CitizenTrial",
    "CitizenView",
    "choose_results",
    "citizen_data",
    "citizen_view",
]

#: How many key results the page shows at most, and at least when the unit has that many.
MOST_RESULTS = 10
LEAST_RESULTS = 8

#: Tiers with a verdict, best first to be shown: the clear ones, then "about the same".
_CLEAR = ("clearly_better", "clearly_worse", "clearly_higher", "clearly_lower")
_VERDICTS = {
    "clearly_better": "better",
    "clearly_worse": "worse",
    "clearly_higher": "higher",
    "clearly_lower": "lower",
    "in_line": "same",
}
#: The comparison in plain words (the peers' words follow: "… i liknande kommuner").
_COMPARED = {
    "better": "Bättre än i",
    "worse": "Sämre än i",
    "higher": "Högre än i",
    "lower": "Lägre än i",
    "same": "Ungefär som i",
}
_OVER_TIME = {
    "improving": "Blir bättre",
    "worsening": "Blir sämre",
    "increasing": "Ökar",
    "decreasing": "Minskar",
    "no_clear_change": "Ingen tydlig ändring",
    "too_short": "För få år för att se en riktning",
}
#: A goal's verdict (``summarise_goal``'s) in plain words, and whether it is met.
GOAL_WORDS = {
    "met": ("Målet är nått", "met"),
    "on_track": ("På väg att nås", "met"),
    "uncertain": ("För tidigt att säga", "unclear"),
    "off_track": ("Inte på väg att nås", "not_met"),
    "missed": ("Målet nåddes inte", "not_met"),
    "cannot_judge": ("Går inte att säga ännu", "unclear"),
}


@cache
def plain_titles() -> Mapping[str, tuple[str, str]]:
    """The key KPIs' plain titles and units (``data/citizen_titles.csv``), by KPI id."""
    text = resources.files("tillit.query").joinpath("data/citizen_titles.csv").read_text("utf-8")
    rows = csv.DictReader(line for line in text.splitlines() if not line.startswith("#"))
    return {r["kpi"]: (r["title"].strip(), r["unit"].strip()) for r in rows}


@dataclass(frozen=True)
class CitizenResult:
    """One key result: ``municipality_overview``'s comparison and trend in plain words,
    and the series the chart draws: the unit's values and its peers' median per year, and
    the tested gap's 95 % interval (the comparison's) as a band around that median over
    the years the test reads."""

    kpi: str
    title: str  # plain (citizen_titles.csv), else Kolada's
    kolada_title: str
    area: str
    unit: str
    year: int
    value: float
    peer_median: float
    difference: float
    tier: str  # the comparison's, as on the analyst page
    verdict: str  # "better", "worse", "higher", "lower", "same" or "unknown"
    compared: str  # "Bättre än i liknande kommuner."
    trend: str  # the trend's direction
    over_time: str  # "Blir bättre."
    #: The comparison's tested gap: the mean difference to the peers' median over the
    #: ``gap_years`` latest years and its 95 % interval; None where it was not tested.
    gap: float | None
    gap_low: float | None
    gap_high: float | None
    gap_years: int
    years: tuple[int, ...]
    values: tuple[float | None, ...]
    peer_values: tuple[float | None, ...]


@dataclass(frozen=True)
class CitizenGoal:
    id: int
    title: str
    verdict: str  # the goal's verdict (goal_data's)
    status: str  # "met", "not_met" or "unclear"
    said: str  # "På väg att nås"
    text: str  # the goal's summary sentence
    url: str


@dataclass(frozen=True)
class CitizenTrial:
    id: int
    title: str
    start_year: int
    description: str
    url: str


@dataclass(frozen=True)
class CitizenExample:
    id: int
    title: str
    summary: str
    url: str


@dataclass(frozen=True)
class CitizenView:
    code: str
    name: str
    kind: str  # "K" or "L"
    unit: str  # "kommun" or "region"
    peers_word: str  # "liknande kommuner"
    peers: tuple[tuple[str, str], ...]  # (code, name) of the structurally similar units
    results: tuple[CitizenResult, ...]
    goals: tuple[CitizenGoal, ...]
    trials: tuple[CitizenTrial, ...]
    examples: tuple[CitizenExample, ...]
    analyst_url: str
    report_url: str
    goals_url: str
    #: The false-discovery level of the verdicts (0.05: one in twenty may be wrong).
    q: float

    def of(self, verdict: str) -> tuple[CitizenResult, ...]:
        return tuple(r for r in self.results if r.verdict == verdict)

    def going(self, trend: str) -> tuple[CitizenResult, ...]:
        return tuple(r for r in self.results if r.trend == trend)


def choose_results(
    report: MunicipalityOverview, limit: int = MOST_RESULTS
) -> list[tuple[str, KeyResult]]:
    """The key results the public page shows, at most ``limit``: first those with a clear
    verdict, then those "about the same", then those with a value but no verdict yet; within
    each, one per operating area in turn (so that one area cannot fill the page), the areas
    in the overview's order and each area's results in the overview's order. Each comes
    with its operating area."""
    ranks: list[list[tuple[str, KeyResult]]] = [[], [], []]
    for rank, wanted in enumerate((_CLEAR, ("in_line",), None)):
        by_area: list[list[tuple[str, KeyResult]]] = []
        for area in report.areas:
            if wanted is None:
                found = [
                    (area.area, r)
                    for r in area.key_results
                    if r.comparison.tier not in _VERDICTS and math.isfinite(r.comparison.value)
                ]
            else:
                found = [(area.area, r) for r in area.key_results if r.comparison.tier in wanted]
            if found:
                by_area.append(found)
        while any(by_area):
            for found in by_area:
                if found:
                    ranks[rank].append(found.pop(0))
    return [r for group in ranks for r in group][:limit]


def _peer_values(
    state: Loaded, result: KeyResult, peers: Sequence[str]
) -> tuple[float | None, ...]:
    """The peers' median per year of the overview's years, from the analyses' panel; the
    comparison's year has the comparison's own median (the number the analyst page shows)."""
    panel = state.context.panel
    rows = [panel.municipalities.index(p) for p in peers if p in panel.municipalities]
    values = panel.values[panel.kpi_index(result.kpi)][rows]
    medians = []
    for column in range(values.shape[1]):
        present = values[:, column][~np.isnan(values[:, column])]
        medians.append(float(np.median(present)) if present.size else float("nan"))
    out = list(nan_to_none(np.asarray(medians)))
    if result.comparison.year in result.years:
        out[result.years.index(result.comparison.year)] = result.comparison.peer_median
    return tuple(out)


def _result(
    state: Loaded, area: str, r: KeyResult, peers: Sequence[str], peers_word: str
) -> CitizenResult:
    c = r.comparison
    title, unit = plain_titles().get(r.kpi, (r.title, ""))
    verdict = _VERDICTS.get(c.tier, "unknown")
    if verdict == "unknown":
        compared = f"Går inte att jämföra säkert med {peers_word} ännu."
    else:
        compared = f"{_COMPARED[verdict]} {peers_word}."
    tested = all(math.isfinite(x) for x in (c.mean_difference, c.interval_low, c.interval_high))
    # the chart shows the last ten years: enough to see a direction, few enough for a phone
    keep = [i for i, v in enumerate(r.values) if v is not None]
    start = max(0, (keep[-1] if keep else len(r.years) - 1) - 9)
    stop = (keep[-1] + 1) if keep else len(r.years)
    peer_values = _peer_values(state, r, peers)
    return CitizenResult(
        kpi=r.kpi,
        title=title,
        kolada_title=r.title,
        area=area,
        unit=unit,
        year=c.year,
        value=c.value,
        peer_median=c.peer_median,
        difference=c.difference,
        tier=c.tier,
        verdict=verdict,
        compared=compared,
        trend=r.trend.direction,
        over_time=_OVER_TIME.get(r.trend.direction, "Ingen tydlig ändring") + ".",
        gap=c.mean_difference if tested else None,
        gap_low=c.interval_low if tested else None,
        gap_high=c.interval_high if tested else None,
        gap_years=c.gap_years if tested else 0,
        years=r.years[start:stop],
        values=r.values[start:stop],
        peer_values=peer_values[start:stop],
    )


def _goal(data: Mapping[str, Any]) -> CitizenGoal:
    judgement = data.get("judgement") or {}
    verdict = str(judgement.get("verdict") or "cannot_judge")
    said, status = GOAL_WORDS.get(verdict, GOAL_WORDS["cannot_judge"])
    return CitizenGoal(
        id=int(data["id"]),
        title=str(data["title"]),
        verdict=verdict,
        status=status,
        said=said,
        text=str(judgement.get("text") or ""),
        url=f"/mal/{data['id']}",
    )


def _short(text: str, limit: int = 240) -> str:
    """The first paragraph of ``text``, cut at a word before ``limit`` characters."""
    first = text.strip().split("\n\n", 1)[0].strip()
    if len(first) <= limit:
        return first
    return first[:limit].rsplit(" ", 1)[0].rstrip(",;:") + " …"


def citizen_view(
    state: Loaded,
    code: str,
    *,
    goals: Sequence[Mapping[str, Any]] = (),
    trials: Sequence[TrialRecord] = (),
    examples: Sequence[ExampleRecord] = (),
) -> CitizenView:
    """The public page of the municipality (or, over the regions' analyses, the region)
    ``code``: the key results ``choose_results`` picks from ``municipality_overview``, and
    the unit's ``goals`` (``goal_data`` dicts, judged, as the goal pages give them), its
    ``trials`` and its published good ``examples`` as the bank lists them."""
    report = municipality_overview(state, code)
    kind = report.kind
    unit = "region" if kind == "L" else "kommun"
    peers_word = "liknande regioner" if kind == "L" else "liknande kommuner"
    members = report.peers.members
    path = "/region" if kind == "L" else "/kommun"
    return CitizenView(
        code=report.municipality,
        name=report.name,
        kind=kind,
        unit=unit,
        peers_word=peers_word,
        peers=tuple((m, report.names.get(m, m)) for m in members),
        results=tuple(
            _result(state, area, r, members, peers_word) for area, r in choose_results(report)
        ),
        goals=tuple(_goal(g) for g in goals),
        trials=tuple(
            CitizenTrial(t.id, t.title, t.start_year, _short(t.description), f"/forsok/{t.id}")
            for t in trials
        ),
        examples=tuple(
            CitizenExample(e.id, e.title, _short(e.summary), f"/exempel/{e.id}") for e in examples
        ),
        analyst_url=f"{path}/{report.municipality}",
        report_url=f"{path}/{report.municipality}/rapport",
        goals_url=f"{path}/{report.municipality}/mal",
        q=report.q,
    )


def citizen_data(view: CitizenView) -> dict[str, Any]:
    """The public page's JSON twin: the view as plain data (the peers as objects with
    ``municipality`` and ``name``), with the counts the summary states ("better", "worse",
    "same", "unknown" results; goals per status) and the source."""
    data: dict[str, Any] = plain(view)
    # peers as the other twins give them: objects with the code and the name
    data["peers"] = [{"municipality": code, "name": name} for code, name in view.peers]
    data["counts"] = {
        verdict: len(view.of(verdict))
        for verdict in ("better", "worse", "higher", "lower", "same", "unknown")
    }
    data["goal_counts"] = {
        status: sum(g.status == status for g in view.goals)
        for status in ("met", "not_met", "unclear")
    }
    data["source"] = "Källa: Kolada"
    return data
