"""The yearly analysis report of a municipality or a region (``tillit report``,
``/kommun/{kod}/rapport``): one value, :class:`YearlyReport`, built from the same query
functions as the pages (the municipality page's overview, the goals page's judgements, the
trial pages' evaluations), so that no number in the report differs from the page's. Its
tables (``report.tables``) are built here once; the HTML, the PDF, the Excel workbook and
the JSON twin all render them."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import TYPE_CHECKING, Any

from tillit.analyses import JUDGED_TIERS
from tillit.errors import NotFoundError
from tillit.query._atlas import Loaded
from tillit.query._goal_data import goal_crowding
from tillit.query._goals import GoalAssessment, assess_goals
from tillit.query._pages import (
    KeyResult,
    MunicipalityOverview,
    municipality_overview,
    resolve_code,
)
from tillit.query._tables import ReportTable
from tillit.query._trial_evaluation import TrialEvaluation
from tillit.query._trial_store import stored_trial_evaluations
from tillit.store import Store
from tillit.swedish import kpi_unit

if TYPE_CHECKING:
    from tillit.bank import Bank, ExampleRecord, TrialRecord

__all__ = [
    "ReportTrial",
    "YearlyReport",
    "kolada_url",
    "report_data",
    "yearly_report",
]

#: Where a KPI's definition and values are published (every number traces to one).
KOLADA_KPI_URL = "https://api.kolada.se/v3/kpi/{kpi}"

#: Evaluations of a trial's KPI, or None when it is not (yet) computed.
Evaluate = Callable[["TrialRecord", str], "TrialEvaluation | None"]

#: The most partners whose published examples the report lists.
PARTNERS_LISTED = 8


def kolada_url(kpi: str) -> str:
    """The Kolada address of a KPI's definition."""
    return KOLADA_KPI_URL.format(kpi=kpi)


@dataclass(frozen=True)
class ReportTrial:
    """A trial in the report: its record and, per KPI, its evaluation (None while it is not
    computed: the web asks a background evaluator and does not wait long)."""

    trial: TrialRecord
    evaluations: tuple[tuple[str, TrialEvaluation | None], ...]


@dataclass(frozen=True)
class YearlyReport:
    """A municipality's or region's yearly report: the overview its page shows, its goals
    judged, its trials, its own and its learning partners' published examples, and the
    tables every format renders."""

    code: str
    name: str
    kind: str  # "K" or "L"
    year: int
    made: date
    overview: MunicipalityOverview
    goals: tuple[GoalAssessment, ...]
    goal_notes: tuple[str, ...]
    trials: tuple[ReportTrial, ...]
    own_examples: tuple[ExampleRecord, ...]
    partner_examples: Mapping[str, tuple[ExampleRecord, ...]]
    units: Mapping[str, str]  # KPI → the unit its values are read in
    summary: tuple[str, ...]  # the politician's page, sentence by sentence
    tables: tuple[ReportTable, ...] = field(default=())

    @property
    def unit_word(self) -> str:
        return "region" if self.kind == "L" else "kommun"

    @property
    def peers_word(self) -> str:
        """The peers in words: "liknande kommuner" / "liknande regioner"."""
        return "liknande regioner" if self.kind == "L" else "liknande kommuner"

    @property
    def page(self) -> str:
        """The address of the unit's page."""
        return f"/{'region' if self.kind == 'L' else 'kommun'}/{self.code}"

    def table(self, key: str) -> ReportTable:
        for t in self.tables:
            if t.key == key:
                return t
        raise KeyError(key)


def tested(result: KeyResult) -> bool:
    """Whether the key result's comparison was tested (a verdict, a gap and its interval)."""
    return result.comparison.tier in JUDGED_TIERS


def clear_trend(result: KeyResult) -> bool:
    return result.trend.direction in ("improving", "worsening")


def yearly_report(
    state: Loaded,
    municipality: str,
    *,
    bank: Bank | None = None,
    evaluate: Evaluate | None = None,
    goals_max: int = 15,
    made: date | None = None,
) -> YearlyReport:
    """The yearly report of ``municipality`` (a municipality in the municipalities' state,
    a region in the regions') for the year ``state`` was analysed as of. ``bank`` gives the
    goals, trials and examples (without it those sections say there are none; a unit
    without an organisation in the bank has none); the goals are judged with ``state``'s
    analyses; a trial's evaluations are the stored ones (the trial page's) where the bank
    has them, else ``evaluate``'s, which evaluates one KPI of a trial (default: none
    evaluated; none for an earlier year's report, whose evaluation would read later years)."""
    from tillit.query._yearly_tables import build_tables, summary_sentences

    code = resolve_code(state, municipality)
    overview = municipality_overview(state, code)
    goals: tuple[GoalAssessment, ...] = ()
    notes: tuple[str, ...] = ()
    trials: tuple[ReportTrial, ...] = ()
    own: tuple[ExampleRecord, ...] = ()
    partner_examples: dict[str, tuple[ExampleRecord, ...]] = {}
    if bank is not None:
        partners = [p for p, _n in overview.top_partners(PARTNERS_LISTED)]
        counts = bank.published_counts(sorted({*partners, code}))
        linked = bank.linked_counts(sorted({*partners, code}))
        overview = municipality_overview(state, code, example_counts=counts, linked_counts=linked)
        goals, notes = _goals(state, bank, code, goals_max)
        # An earlier year's report evaluates no trial: an evaluation reads every year
        # there is, so it would show results the report's year had not seen.
        current = state.as_of is None
        trials = _trials(
            state.store, bank, code, state.year, evaluate if current else None, stored=current
        )
        own = _examples(bank, code)
        for partner in partners:
            found = _examples(bank, partner)
            if found:
                partner_examples[partner] = found
    titles = dict(overview.titles)
    for g in goals:
        for i in g.indicators:
            titles.setdefault(i.indicator.kpi, i.title)
    report = YearlyReport(
        code=code,
        name=overview.name,
        kind=state.kind,
        year=state.year,
        made=made or date.today(),
        overview=overview,
        goals=goals,
        goal_notes=notes,
        trials=trials,
        own_examples=own,
        partner_examples=partner_examples,
        units={kpi: kpi_unit(title) for kpi, title in titles.items()},
        summary=(),
    )
    report = replace(report, summary=summary_sentences(report))
    return replace(report, tables=build_tables(report))


def _goals(
    state: Loaded, bank: Bank, code: str, goals_max: int
) -> tuple[tuple[GoalAssessment, ...], tuple[str, ...]]:
    """The unit's goals judged as of the report's year; a goal whose every indicator's
    baseline is later than that year did not exist yet and is left out. None when the unit
    has no organisation in the bank."""
    from tillit.bank import goals_of  # the bank's import costs a command without one

    try:
        every = goals_of(bank).goals(None, organisation=code, limit=500)
    except NotFoundError:
        return (), ()
    year = state.year
    records = [g for g in every if any(i.baseline_year <= year for i in g.indicators)]
    if not records:
        return (), ()
    # The report's own analyses give the noise and peers (the CLI loads one unit's only).
    assessed = assess_goals(state.store, records, state=state, as_of=state.as_of)
    titles = {a.indicator.kpi: a.title for g in assessed for a in g.indicators}
    notes = goal_crowding(records, goals_max, titles)
    return tuple(assessed), tuple(notes)


def _trials(
    store: Store,
    bank: Bank,
    code: str,
    year: int,
    evaluate: Evaluate | None,
    *,
    stored: bool = True,
) -> tuple[ReportTrial, ...]:
    """The unit's trials begun by the report's year, each KPI's evaluation the stored one
    (the trial page's and `tillit trial evaluate`'s, with their default settings, for the
    store as it is now) where the bank has it and ``stored`` allows it, else from
    ``evaluate`` (else none)."""
    records = bank.trials(None, municipality=code, limit=100)
    out = []
    for trial in sorted(records, key=lambda t: (t.start_year, t.id)):
        if trial.start_year > year:
            continue  # not begun by the report's year
        found = stored_trial_evaluations(store, bank, trial) if stored else None
        evaluations: tuple[tuple[str, TrialEvaluation | None], ...]
        if found is not None:
            evaluations = tuple((e.kpi, e) for e in found.evaluations)
        else:
            evaluations = tuple(
                (k.kpi, evaluate(trial, k.kpi) if evaluate is not None else None)
                for k in trial.kpis
            )
        out.append(ReportTrial(trial, evaluations))
    return tuple(out)


def _examples(bank: Bank, code: str) -> tuple[ExampleRecord, ...]:
    """A unit's published good examples (none when it has no organisation in the bank)."""
    try:
        page = bank.list_examples(
            None, organisation=code, status="published", kind="example", limit=50
        )
    except NotFoundError:
        return ()
    return tuple(page.items)


def plain_rows(rows: Sequence[Sequence[Any]]) -> list[list[Any]]:
    """Rows with NaN as None."""
    return [
        [None if isinstance(v, float) and not math.isfinite(v) else v for v in row] for row in rows
    ]


def report_data(report: YearlyReport) -> dict[str, Any]:
    """The report's JSON twin: who and when, the summary, every table (columns with
    units, rows, source) and the goals' and trials' links. The same cells as the HTML, the
    PDF and the workbook."""
    from tillit.query._data import plain

    o = report.overview
    return {
        "municipality": report.code,
        "name": report.name,
        "kind": report.kind,
        "year": report.year,
        "made": report.made.isoformat(),
        "peers": {"label": o.peers.label, "members": list(o.peers.members)},
        "population": plain(o.population),
        "summary": list(report.summary),
        "goal_notes": list(report.goal_notes),
        "goals": [{"id": g.goal.id, "title": g.goal.title} for g in report.goals],
        "trials": [{"id": t.trial.id, "title": t.trial.title} for t in report.trials],
        "tables": [plain(t.data()) for t in report.tables],
        "source": "Kolada",
        "page": report.page,
    }
