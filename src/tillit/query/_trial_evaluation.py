"""Evaluating a registered trial: every KPI of it against a synthetic control built from
structurally similar units of its own kind (municipalities for a municipality, the other
regions for a region) without a trial of their own on the KPI, the KPIs judged together
(Holm's adjustment over the ones evaluated), or an honest refusal.

The bank (SQLAlchemy) is only named for type checking here: it loads when a trial command
runs, not with every query."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from tillit.analyses import (
    METHOD_VERSION,
    STRUCTURAL_VARIABLES,
    Predictor,
    SynthEvaluation,
    SynthPanel,
    adjust_for_multiplicity,
    evaluate_synthetic_control,
    parse_predictor,
)
from tillit.errors import InvalidInputError, NotEvaluableError, NotFoundError
from tillit.query._context import unit_word, units
from tillit.query._store_state import store_state
from tillit.query._trials import (
    STRUCTURE_PREFIX,
    Direction,
    MapFunction,
    _unit_row,
    parse_direction,
    trial_panel,
)
from tillit.store import Store
from tillit.swedish import count, kpi_unit, number, share

if TYPE_CHECKING:
    from tillit.bank import Bank, TrialKpiRecord, TrialRecord, UserRecord

__all__ = [
    "TrialEvaluation",
    "TrialEvaluations",
    "evaluate_trial",
    "evaluate_trial_kpis",
    "multiplicity_text",
    "trial_exclusions",
]


# -- evaluating a trial -------------------------------------------------------------------


@dataclass(frozen=True)
class TrialEvaluation:
    """A trial judged on one of its KPIs: the evaluation, or why it was refused."""

    trial: TrialRecord
    kpi: str
    kpi_title: str
    municipality: str  # code
    municipality_name: str
    names: Mapping[str, str]  # code → name of the municipalities on the panel and excluded
    # The evaluation's units are the municipalities' names (``names``), so that the verdict
    # and its reasons speak of Kungsbacka rather than 1384.
    expected: Direction
    pre_registered: bool  # the KPI's results were not known when it was registered
    data_through: int | None  # the last year with a value at registration
    excluded: tuple[str, ...]  # units of the same kind left out: their own trial on the KPI
    peers: int  # the most donors asked for (the N structurally nearest)
    evaluation: SynthEvaluation | None
    refusal: str | None  # why there is no evaluation (NotEvaluableError's message)
    refusal_hint: str | None
    #: "K" when the trial is a municipality's, "L" when it is a region's: the donors are
    #: of the same kind.
    kind: str = "K"
    #: The donor pool (codes, nearest first), before the fit drops any without values.
    donors: tuple[str, ...] = ()
    #: How many units of the kind could have been donors: all the others without a trial
    #: of their own on the KPI (20 at most for a region).
    available: int = 0
    #: The donor pool in words: "de 50 strukturellt mest lika kommunerna", "alla 20 andra
    #: regioner".
    pool: str = ""
    #: What the pool's size means for the claim, in Swedish with the numbers, or None: the
    #: pool is all there is (fewer units exist than ``peers`` asked for), and when the
    #: verdict is that too few donors exist for the significance level, that no more exist.
    pool_note: str | None = None
    #: The significance level the verdict is judged at (``evaluate_synthetic_control``).
    alpha: float = 0.1
    #: The KPI's unit as a reader knows it ("kr/inv 65+", "%"; "" for a count), from the
    #: tail of its title (``tillit.swedish.kpi_unit``).
    unit: str = ""


@dataclass(frozen=True)
class TrialEvaluations:
    """Every KPI of a trial evaluated and judged together: ``evaluations`` in the trial's
    order of KPIs, the ones not refused with their p-values adjusted by Holm's method over
    the evaluated ones (``adjust_for_multiplicity``), and what they were computed from (the
    key a stored evaluation is found by)."""

    trial: TrialRecord
    evaluations: tuple[TrialEvaluation, ...]
    peers: int
    alpha: float
    #: Own predictors (``COL:FROM-TO[:op]`` texts) for every KPI; () for the defaults.
    predictors: tuple[str, ...]
    structure_predictors: bool
    #: ``store_state`` of the store when the evaluation began.
    store_state: str
    method_version: str
    #: When it was computed (UTC); ``stored`` when it was read from the bank, not computed now.
    computed_at: datetime | None = None
    stored: bool = False

    @property
    def family(self) -> int:
        """How many KPIs were judged together (the ones not refused)."""
        return sum(1 for e in self.evaluations if e.evaluation is not None)

    @property
    def multiplicity(self) -> str | None:
        """The multiplicity across the trial's KPIs in plain Swedish, or None for a trial
        with a single KPI."""
        return multiplicity_text(len(self.evaluations), self.family, self.alpha)

    def kpi(self, kpi: str | None = None) -> TrialEvaluation:
        """The evaluation of ``kpi`` (default the trial's first KPI); InvalidInputError,
        naming the trial's KPIs, for one the trial does not have."""
        return self.evaluations[_kpi_index(self.trial, kpi)]


def multiplicity_text(kpis: int, evaluated: int, alpha: float) -> str | None:
    """What judging ``evaluated`` of a trial's ``kpis`` KPIs together means, in Swedish."""
    if kpis <= 1:
        return None
    have = f"Försöket har {count(kpis, 'nyckeltal', 'nyckeltal')}"
    if evaluated >= 2:
        some = f", varav {number(evaluated)} kunde utvärderas" if evaluated < kpis else ""
        return (
            f"{have}{some}; p-värdena är justerade med Holms metod så att risken för minst "
            f"ett felaktigt ”tydligt” bland dem är högst {share(alpha)}."
        )
    if evaluated == 1:
        return (
            f"{have}, men bara ett kunde utvärderas, så dess p-värde behöver ingen "
            "justering för flera nyckeltal."
        )
    return f"{have}, men inget av dem kunde utvärderas."


def _kpi_index(trial: TrialRecord, kpi: str | None) -> int:
    if kpi is None:
        return 0
    wanted = kpi.strip().upper()
    for i, k in enumerate(trial.kpis):
        if k.kpi == wanted:
            return i
    raise InvalidInputError(
        f"Försöket {trial.id} har inte nyckeltalet {kpi!r}.",
        hint="Försökets nyckeltal: " + ", ".join(k.kpi for k in trial.kpis) + ".",
    )


def _trial_kind(store: Store, trial: TrialRecord) -> str:
    kind = str(_unit_row(store, trial.municipality)["type"])
    return kind if kind in ("K", "L") else "K"


def trial_exclusions(store: Store, bank: Bank, trial: TrialRecord) -> dict[str, tuple[str, ...]]:
    """Per KPI of the trial, the units of its own kind left out of the donors because they
    have a trial of their own on the KPI (codes, sorted)."""
    same_kind = set(units(store, _trial_kind(store, trial)))
    # Only units of the trial's own kind can be donors, so only they are left out.
    return {
        k.kpi: tuple(
            sorted(
                (bank.trial_municipalities(k.kpi, exclude_trial=trial.id) & same_kind)
                - {trial.municipality}
            )
        )
        for k in trial.kpis
    }


def _check_predictors(trial: TrialRecord, predictors: Sequence[str]) -> tuple[Predictor, ...]:
    chosen = tuple(_kpi_column(parse_predictor(text)) for text in predictors)
    late = [p.label for p in chosen if max(p.times) >= trial.start_year]
    if late:
        # Measured after the start, a predictor can carry the trial's own effect into the
        # choice of the comparison and so hide (or fake) that very effect. (The analysis API
        # allows it, because published specifications such as ADH 2015's do it.)
        raise InvalidInputError(
            f"Prediktorerna får bara avse år före försökets start {trial.start_year}: "
            + ", ".join(late)
            + ".",
            hint="Välj år före starten för varje prediktor.",
        )
    own = [p.label for p in chosen if p.column in {k.kpi for k in trial.kpis}]
    if own and len(trial.kpis) > 1:
        # every KPI of the trial is fitted with the same predictors: one KPI's own history
        # would become the other's predictor
        raise InvalidInputError(
            "Egna prediktorer gäller alla försökets nyckeltal, så ett av dem kan inte anges "
            "med id: " + ", ".join(own) + ".",
            hint=f"Skriv {OUTCOME}:ÅR-ÅR för varje nyckeltals egen historik, t.ex. "
            f"{OUTCOME}:{trial.start_year - 6}-{trial.start_year - 1}.",
        )
    return chosen


#: A predictor column that means the evaluated KPI itself (``utfall:2010-2014``).
OUTCOME = "utfall"


def _for_kpi(predictors: Sequence[Predictor], kpi: str) -> tuple[Predictor, ...]:
    """The predictors with ``utfall`` read as ``kpi``."""
    return tuple(
        Predictor(kpi, p.times, p.op) if p.column.lower() == OUTCOME else p for p in predictors
    )


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise InvalidInputError(
            f"Signifikansnivån ska ligga mellan 0 och 1, inte {alpha}.",
            hint="Standard är 0,1; vanliga val är 0,05 och 0,01.",
        )


def evaluate_trial_kpis(
    store: Store,
    bank: Bank,
    trial_id: int,
    *,
    peers: int = 50,
    map_function: MapFunction | None = None,
    actor: UserRecord | None = None,
    predictors: Sequence[str] = (),
    structure_predictors: bool = True,
    alpha: float = 0.1,
) -> TrialEvaluations:
    """Evaluate every KPI of trial ``trial_id`` (each as :func:`evaluate_trial` describes:
    its panel, its donors, an honest refusal) and judge them together: the placebo p-values
    of the KPIs not refused are adjusted by Holm's method (``adjust_for_multiplicity``), so
    that the chance of at least one false "clear" verdict among them stays at most
    ``alpha``, and each verdict is judged by its adjusted p-value. A refused KPI is no part
    of the family. ``predictors`` apply to every KPI."""
    trial = bank.trial(actor, trial_id)
    chosen_predictors = _check_predictors(trial, predictors)
    _check_alpha(alpha)
    state = store_state(store)
    kind = _trial_kind(store, trial)
    same_kind = set(units(store, kind))
    exclusions = trial_exclusions(store, bank, trial)
    names = _labels(store)
    single = [
        _evaluate_kpi(
            store,
            trial,
            k,
            excluded=exclusions[k.kpi],
            available=len(same_kind - set(exclusions[k.kpi]) - {trial.municipality}),
            kind=kind,
            names=names,
            peers=peers,
            map_function=map_function,
            predictors=chosen_predictors,
            structure_predictors=structure_predictors,
            alpha=alpha,
        )
        for k in trial.kpis
    ]
    evaluated = [i for i, r in enumerate(single) if r.evaluation is not None]
    judged = adjust_for_multiplicity([e for r in single if (e := r.evaluation) is not None])
    for i, evaluation in zip(evaluated, judged, strict=True):
        r = single[i]
        pool, note = _pool_words(
            r.kind, len(r.donors), r.available, r.peers, bool(r.excluded), evaluation
        )
        single[i] = replace(r, evaluation=evaluation, pool=pool, pool_note=note)
    return TrialEvaluations(
        trial=trial,
        evaluations=tuple(single),
        peers=peers,
        alpha=alpha,
        predictors=tuple(predictors),
        structure_predictors=structure_predictors,
        store_state=state,
        method_version=METHOD_VERSION,
        computed_at=datetime.now(UTC),
    )


def evaluate_trial(
    store: Store,
    bank: Bank,
    trial_id: int,
    kpi: str | None = None,
    *,
    peers: int = 50,
    map_function: MapFunction | None = None,
    actor: UserRecord | None = None,
    predictors: Sequence[str] = (),
    structure_predictors: bool = True,
    alpha: float = 0.1,
) -> TrialEvaluation:
    """Evaluate trial ``trial_id`` on ``kpi`` (default: its first KPI) against a synthetic
    control from its ``peers`` structurally nearest units of its own kind (municipalities,
    or for a region's trial the other regions: with the default 50, all 20), leaving out
    those with a trial of their own on the KPI. A refusal (too short a pre-period, no year
    after the start yet, fewer than two donors) is returned as ``refusal``, not raised: it
    is an answer.

    The verdict is the one the KPI gets judged together with the trial's other KPIs (see
    :func:`evaluate_trial_kpis`, which this calls: every KPI is evaluated), so that it is
    the same as on the trial's page.

    ``alpha`` is the significance level the verdict claims. The placebo p-value is at least
    1/(J + 1) with J donors, so a level below that cannot be reached: the verdict is then
    "too few donors", with the numbers (with a region's 20 donors, 1/21 ≈ 0,048, so a
    level of 0,01 is refused and 0,05 is reached only by the largest deviation of all).

    ``predictors`` (``COL:FROM-TO[:op]`` texts, see ``parse_predictor``) replace the default
    ones (outcome lags and, unless ``structure_predictors`` is False, the structural
    variables). A column is the trial's KPI, another KPI id (read from the store) or
    ``struktur:<key>`` (a structural variable as of the year before the start)."""
    trial = bank.trial(actor, trial_id)
    _kpi_index(trial, kpi)  # a KPI the trial lacks is refused before anything is computed
    _check_predictors(trial, predictors)
    _check_alpha(alpha)
    return evaluate_trial_kpis(
        store,
        bank,
        trial_id,
        peers=peers,
        map_function=map_function,
        actor=actor,
        predictors=predictors,
        structure_predictors=structure_predictors,
        alpha=alpha,
    ).kpi(kpi)


def _evaluate_kpi(
    store: Store,
    trial: TrialRecord,
    chosen: TrialKpiRecord,
    *,
    excluded: tuple[str, ...],
    available: int,
    kind: str,
    names: Mapping[str, str],
    peers: int,
    map_function: MapFunction | None,
    predictors: tuple[Predictor, ...],
    structure_predictors: bool,
    alpha: float,
) -> TrialEvaluation:
    """One KPI of the trial evaluated on its own (not yet judged with the others)."""
    predictors = _for_kpi(predictors, chosen.kpi)
    try:
        title = str(store.kpi(chosen.kpi)["title"])
    except NotFoundError:
        title = chosen.kpi
    unit = kpi_unit(title)
    expected = parse_direction(chosen.direction)
    evaluation: SynthEvaluation | None = None
    refusal: tuple[str, str | None] | None = None
    shown = {trial.municipality, *excluded}
    donors: tuple[str, ...] = ()
    try:
        extra = [
            p.column
            for p in predictors
            if not p.column.startswith(STRUCTURE_PREFIX) and p.column != chosen.kpi
        ]
        panel, donors, defaults = trial_panel(
            store,
            trial.municipality,
            chosen.kpi,
            trial.start_year,
            peers=peers,
            exclude=excluded,
            extra_kpis=extra,
            structure_predictors=structure_predictors,
            kind=kind,
        )
        used = predictors or defaults
        shown |= set(panel.units)
        # The units by name, so that the verdict and its reasons speak of municipalities.
        named = SynthPanel(tuple(names[u] for u in panel.units), panel.times, panel.columns)
        evaluation = evaluate_synthetic_control(
            named,
            outcome=chosen.kpi,
            treated=names[trial.municipality],
            start=trial.start_year,
            predictors=used,
            donors=[names[d] for d in donors],
            expected=expected,
            map_function=map_function,
            alpha=alpha,
            unit=unit,
            names=_predictor_names(store, used, trial.start_year),
        )
    except NotEvaluableError as error:
        refusal = (error.message, error.hint)
    pool, note = _pool_words(kind, len(donors), available, peers, bool(excluded), evaluation)
    return TrialEvaluation(
        trial=trial,
        kpi=chosen.kpi,
        kpi_title=title,
        municipality=trial.municipality,
        municipality_name=names.get(trial.municipality, trial.municipality),
        names={code: names[code] for code in sorted(shown) if code in names},
        expected=expected,
        pre_registered=not chosen.results_known,
        data_through=chosen.data_through,
        excluded=excluded,
        peers=peers,
        evaluation=evaluation,
        refusal=refusal[0] if refusal else None,
        refusal_hint=refusal[1] if refusal else None,
        kind=kind,
        donors=donors,
        available=available,
        pool=pool,
        pool_note=note,
        alpha=alpha,
        unit=unit,
    )


def _pool_words(
    kind: str,
    count: int,
    available: int,
    peers: int,
    excluded: bool,
    evaluation: SynthEvaluation | None,
) -> tuple[str, str | None]:
    """The donor pool in words, and what its size means for the claim (or None)."""
    plural = unit_word(kind, plural=True)
    without = " utan eget försök på nyckeltalet" if excluded else ""
    if count and count >= available:
        pool = f"alla {count} andra {plural}{without}"
    else:
        pool = f"de {count or peers} strukturellt mest lika {unit_word(kind, definite=True)}"
    notes = []
    if peers > available:
        notes.append(
            f"Det finns bara {available} andra {plural}{without}, färre än de {peers} "
            f"jämförbara som utvärderingen får välja bland, så alla {available} är med."
        )
    too_few = evaluation is not None and evaluation.verdict.kind == "too_few_donors"
    if too_few and count < available and evaluation is not None:
        floor = 1 / (available + 1)
        if floor <= evaluation.alpha:
            notes.append(
                f"Jämförelsen fick bara välja bland de {count} närmaste; med alla {available} "
                f"andra {plural}{without} vore lägsta möjliga p 1/{available + 1} = "
                f"{number(floor)}, vilket räcker för nivån {number(evaluation.alpha)}: "
                f"låt jämförelsen välja bland alla {available}."
            )
    if too_few and count >= available and evaluation is not None:
        floor = 1 / (available + 1)
        notes.append(
            f"Fler jämförbara {plural} finns inte: på nivån {number(evaluation.alpha)} kan "
            f"placebotestet inte visa någon effekt här, hur stor den än är. Den lägsta nivå "
            f"som går att nå med alla {available} är 1/{available + 1} = {number(floor)}; "
            "välj den eller en högre, eller läs skattningen som en beskrivning, inte som belägg."
        )
    return pool, " ".join(notes) or None


def _kpi_column(predictor: Predictor) -> Predictor:
    """A KPI id in any case is the KPI's column (n15419 → N15419)."""
    column = predictor.column.strip()
    if not column.startswith(STRUCTURE_PREFIX):
        column = column.upper()
    return Predictor(column, predictor.times, predictor.op)


def _labels(store: Store) -> dict[str, str]:
    """Code → name of every municipality and region; a name that two share gets its code."""
    rows = store.municipalities()
    count: dict[str, int] = {}
    for row in rows:
        count[row["title"]] = count.get(row["title"], 0) + 1
    return {
        r["id"]: r["title"] if count[r["title"]] == 1 else f"{r['title']} ({r['id']})" for r in rows
    }


def _predictor_names(store: Store, predictors: Sequence[Predictor], start: int) -> dict[str, str]:
    """The predictors' columns as a reader knows them (``SynthSpec.names``): a KPI by its
    title with its years, a structural variable by its Swedish label as of the year before
    the start (the year it is read for)."""
    labels = {STRUCTURE_PREFIX + v.key: v.label for v in STRUCTURAL_VARIABLES}
    out: dict[str, str] = {}
    for predictor in predictors:
        column = predictor.column
        if column in labels:
            out[column] = f"{labels[column]} ({start - 1})"
        elif not column.startswith(STRUCTURE_PREFIX):
            try:
                out[column] = f"{store.kpi(column)['title']} ({{år}})"
            except NotFoundError:
                continue
    return out
