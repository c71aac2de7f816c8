"""Evaluating a treatment with a synthetic control, and saying honestly what it shows.

Beyond the fit itself (:mod:`tillit.analyses._synth`) an evaluation runs

* **placebo-in-space** inference (Abadie, Diamond & Hainmueller 2010): every donor in turn is
  treated as if it had had the treatment, fitted from the other donors by the same procedure;
  ``p = (1 + #placebos whose post/pre RMSPE ratio ≥ the treated one's) / (J + 1)``;
* an **in-time placebo**: the same fit with a fake start some years before the real one, on
  data before the real start only; a method that works shows no "effect" there;
* **leave-one-out** over the donors with the largest weights: does the effect hang on one?
* a **difference-in-differences** estimate against the same donors (equal weights), with
  its own placebo p-value;

and ends in a :class:`Verdict` in plain Swedish. It refuses (NotEvaluableError) when the
pre-period is shorter than ``min_pre`` years, and withholds a verdict when the treated unit's
pre-period fit is poor, since a gap after the start then says nothing about the treatment.
"""

from __future__ import annotations

import builtins
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from tillit import swedish
from tillit.analyses._synth import SynthFit, fit_synthetic_control, outcome_lags, prepare_fit
from tillit.analyses._synth_panel import FloatArray, Predictor, SynthPanel
from tillit.errors import InvalidInputError, NotEvaluableError

__all__ = [
    "METHOD_VERSION",
    "MIN_PRE_YEARS",
    "VERDICT_LABELS",
    "Alternatives",
    "Check",
    "DiffInDiff",
    "Effect",
    "FitQuality",
    "InTimePlacebo",
    "LeaveOneOut",
    "Placebo",
    "SynthEvaluation",
    "SynthSpec",
    "Verdict",
    "WeightRange",
    "adjust_for_multiplicity",
    "design_checks",
    "evaluate_synthetic_control",
]

METHOD_VERSION = "6"
"""Raised whenever a change could alter an evaluation's numbers or verdict: a stored
evaluation made by another version is computed again."""
MIN_PRE_YEARS = 5
"""Fewer years before the start than this and there is nothing to judge a fit by."""
BALANCE_SD = 0.25
"""A predictor whose synthetic value is more than this many standard deviations from the
treated unit's is poorly matched (the usual threshold for a standardised difference in
matching, Stuart 2010)."""
IN_TIME_MIN_FIT = 3
"""The in-time placebo needs at least this many years before its fake start."""

Direction = Literal["increase", "decrease"]
VerdictKind = Literal[
    "clear_improvement",
    "clear_deterioration",
    "clear_increase",
    "clear_decrease",
    "possible_improvement",
    "possible_deterioration",
    "possible_increase",
    "possible_decrease",
    "no_clear_effect",
    "no_clear_effect_yet",
    "too_few_donors",
    "poor_fit",
]
VERDICT_LABELS: dict[str, str] = {
    "clear_improvement": "tydlig förbättring",
    "clear_deterioration": "tydlig försämring",
    "clear_increase": "tydlig ökning",
    "clear_decrease": "tydlig minskning",
    "possible_improvement": "möjlig förbättring, men osäker",
    "possible_deterioration": "möjlig försämring, men osäker",
    "possible_increase": "möjlig ökning, men osäker",
    "possible_decrease": "möjlig minskning, men osäker",
    "no_clear_effect": "ingen säker effekt",
    "no_clear_effect_yet": "ingen säker effekt än",
    "too_few_donors": "för få jämförbara för att visa en effekt",
    "poor_fit": "går inte att bedöma",
}
MapFunction = Callable[[Callable[[Any], Any], Iterable[Any]], Iterable[Any]]


@dataclass(frozen=True)
class SynthSpec:
    """How every fit of one evaluation is made (the treated one and each placebo alike:
    inference is only valid when they all get the same procedure)."""

    outcome: str
    start: int
    predictors: tuple[Predictor, ...]
    fit: tuple[int, int] | None = None
    v: tuple[float, ...] | None = None
    rounds: int | None = None  # None: until the V search converges
    seed: int = 0
    #: The outcome's unit as the reader knows it ("kr/inv 65+", "%"), used in the words.
    unit: str = ""
    #: Column → the name a reader knows it by, for the checks' words: "Andel 0–19 år
    #: (2017)" for a structural variable, or with "{år}" where the predictor's years go
    #: ("Kostnad hemtjänst ({år})"). A column without a name is told as its label.
    names: tuple[tuple[str, str], ...] = ()

    def predictor_name(self, predictor: Predictor) -> str:
        """``predictor`` as the reader knows it: "Kostnad hemtjänst (medel 2003–2007)"."""
        template = dict(self.names).get(predictor.column)
        if template is None:
            return predictor.label
        span = predictor.swedish_span
        return template.replace("{år}", span)


@dataclass(frozen=True)
class Check:
    """One check of the design, passed or not, in plain Swedish (``key`` one of
    ``CHECK_KEYS``). A failed check that casts doubt on an effect (``doubt``) keeps the
    verdict at "osäker" at best; the others are said, not turned into doubts."""

    key: str
    passed: bool
    text: str
    doubt: bool = False


@dataclass(frozen=True)
class Effect:
    time: int
    treated: float
    synthetic: float
    gap: float  # treated − synthetic


@dataclass(frozen=True)
class Placebo:
    unit: str
    pre_rmspe: float
    post_rmspe: float
    ratio: float
    gaps: FloatArray  # aligned to the evaluation's ``times``, NaN where the unit has no value


@dataclass(frozen=True)
class InTimePlacebo:
    """The fit repeated with a fake start, on data before the real start only."""

    start: int | None
    times: tuple[int, ...]
    gaps: FloatArray
    average_gap: float
    pre_rmspe: float
    reason: str | None  # why it could not be run, else None


@dataclass(frozen=True)
class LeaveOneOut:
    left_out: str
    weight: float  # its weight in the full fit
    synthetic_series: FloatArray
    average_effect: float
    pre_rmspe: float


@dataclass(frozen=True)
class DiffInDiff:
    """(treated after − before) − (donor average after − before), the donors equally weighted;
    ``p_value`` from the same estimate with each donor as the treated one."""

    estimate: float
    p_value: float
    placebo_sd: float


@dataclass(frozen=True)
class FitQuality:
    poor: bool
    reason: str | None
    placebo_median_pre_rmspe: float
    outside_range_share: float  # share of fit times where the treated lies outside all donors
    #: The upper quartile of the placebos' pre-period RMSPE: a treated fit worse than this
    #: is in the worst quarter of what the same method achieves for the comparison units.
    placebo_upper_quartile_pre_rmspe: float = float("nan")


@dataclass(frozen=True)
class WeightRange:
    """A donor's weight across the near-optimal synthetic controls (every V whose
    pre-period loss is within 1 % of the best found): ``chosen`` in the one reported."""

    donor: str
    low: float
    high: float
    chosen: float


@dataclass(frozen=True)
class Alternatives:
    """What the near-optimal synthetic controls say: how many distinct ones were found,
    each donor's weight range, the range of the average effect and of the placebo p-value
    among them (the placebos' own fits unchanged); whether the verdict's claim holds across
    them is the ``alternatives`` check."""

    count: int
    ranges: tuple[WeightRange, ...]
    effect_low: float
    effect_high: float
    p_low: float
    p_high: float


@dataclass(frozen=True)
class Verdict:
    kind: VerdictKind
    label: str  # plain Swedish, e.g. "ingen säker effekt än"
    explanation: str  # why, in plain Swedish, with the numbers


@dataclass(frozen=True)
class SynthEvaluation:
    spec: SynthSpec
    fit: SynthFit
    expected: Direction | None
    effects: tuple[Effect, ...]
    average_effect: float
    placebos: tuple[Placebo, ...]
    p_value: float
    rank: int  # 1 = the treated ratio is the largest
    in_time: InTimePlacebo
    leave_one_out: tuple[LeaveOneOut, ...]
    did: DiffInDiff
    quality: FitQuality
    alpha: float
    verdict: Verdict
    #: Every check of the design, passed or failed, in the order they are told.
    checks: tuple[Check, ...] = ()
    #: How many KPIs of the trial are judged together (Holm over them), and the p-value
    #: after that adjustment (None when the evaluation stands alone).
    family: int = 1
    adjusted_p_value: float | None = None
    #: The near-optimal synthetic controls and whether the verdict holds across them.
    alternatives: Alternatives | None = None

    @property
    def times(self) -> tuple[int, ...]:
        return self.fit.times

    @property
    def judged_p_value(self) -> float:
        """The p-value the verdict is judged by: Holm-adjusted within the trial's KPIs."""
        return self.p_value if self.adjusted_p_value is None else self.adjusted_p_value


def evaluate_synthetic_control(
    panel: SynthPanel,
    *,
    outcome: str,
    treated: str,
    start: int,
    predictors: Sequence[Predictor] | None = None,
    fit: tuple[int, int] | None = None,
    donors: Sequence[str] | None = None,
    v: Sequence[float] | None = None,
    rounds: int | None = None,
    seed: int = 0,
    expected: Direction | None = None,
    min_pre: int = MIN_PRE_YEARS,
    alpha: float = 0.1,
    poor_fit_factor: float = 5.0,
    leave_out: int = 5,
    map_function: MapFunction | None = None,
    unit: str = "",
    names: Mapping[str, str] | None = None,
) -> SynthEvaluation:
    """Fit, run every placebo and robustness check, and judge. ``expected`` is the direction
    the treatment was meant to move the outcome (then the verdict speaks of improvement or
    deterioration; without it, of increase or decrease). ``map_function`` (default the
    built-in ``map``) runs the independent fits, so a caller may spread them over processes:
    the function it is given and the items are picklable."""
    if not 0 < alpha < 1:
        raise InvalidInputError(f"alpha ska ligga mellan 0 och 1, inte {alpha}.")
    own = panel.column(outcome)[panel.unit(treated)]
    pre_years = [t for t, y in zip(panel.times, own, strict=True) if t < start and not np.isnan(y)]
    if fit is not None:
        pre_years = [t for t in pre_years if fit[0] <= t <= fit[1]]
    if len(pre_years) < min_pre:
        raise NotEvaluableError(
            f"Förperioden är för kort: {treated} har {len(pre_years)} år med värden för "
            f"{outcome} före {start}, och minst {min_pre} behövs för att kunna pröva om den "
            "syntetiska kontrollen följer utvecklingen.",
            hint="Välj ett nyckeltal med längre historik, eller vänta inte på fler år: "
            "förperioden kan inte bli längre i efterhand.",
        )
    post_years = [
        t for t, y in zip(panel.times, own, strict=True) if t >= start and not np.isnan(y)
    ]
    if not post_years:
        raise NotEvaluableError(
            f"Det finns ännu inga värden för {outcome} från {start} och framåt för {treated}.",
            hint="Utvärdera när det första året efter starten har publicerats.",
        )
    chosen = tuple(predictors) if predictors else outcome_lags(outcome, pre_years)
    spec = SynthSpec(
        outcome,
        start,
        chosen,
        fit,
        None if v is None else tuple(v),
        rounds,
        seed,
        unit,
        tuple(sorted((names or {}).items())),
    )
    # The donor pool and the years are known before any fit, so the treated fit, the
    # in-time placebo and every placebo in space run side by side; leave-one-out, which
    # needs the treated fit's largest donors, follows.
    try:
        pool, fit_times, times = prepare_fit(
            panel,
            outcome=outcome,
            treated=treated,
            start=start,
            predictors=chosen,
            fit=fit,
            donors=donors,
        )
    except InvalidInputError as error:
        # too few donors with complete values, the treated unit without a predictor value:
        # this outcome cannot be evaluated on these data (a trial's other KPIs still can)
        raise NotEvaluableError(error.message, hint=error.hint) from None
    n_post = sum(1 for t in times if t >= start)
    run = map_function or builtins.map
    jobs: list[_Job] = [
        ("main", panel, spec, treated, pool),
        ("in_time", panel, spec, treated, pool, fit_times, n_post),
    ]
    jobs += [("fit", panel, spec, unit, tuple(u for u in pool if u != unit)) for unit in pool]
    results = list(run(_fit_job, jobs))
    main, in_time = results[0], results[1]
    assert isinstance(main, SynthFit)
    assert isinstance(in_time, InTimePlacebo)
    placebos = tuple(_placebo(f, main) for f in results[2:] if isinstance(f, SynthFit))
    top = [(u, w) for u, w in main.top_donors(leave_out, minimum=0.01)]
    loo_jobs: list[_Job] = [
        ("fit", panel, spec, treated, tuple(u for u in pool if u != unit)) for unit, _ in top
    ]
    loo_fits = list(run(_fit_job, loo_jobs)) if loo_jobs else []
    effects = tuple(
        Effect(t, float(y), float(s), float(y - s))
        for t, y, s in zip(main.times, main.treated_series, main.synthetic_series, strict=True)
        if t >= start
    )
    average = float(np.mean([e.gap for e in effects]))
    ratios = np.array([p.ratio for p in placebos])
    exceed = int(np.sum(ratios >= main.ratio))
    p_value = (1 + exceed) / (len(placebos) + 1)
    loo = tuple(
        LeaveOneOut(
            left_out=unit,
            weight=weight,
            synthetic_series=f.synthetic_series,
            average_effect=float(np.mean(f.gaps[np.array(f.times) >= start])),
            pre_rmspe=f.pre_rmspe,
        )
        for (unit, weight), f in zip(top, loo_fits, strict=True)
        if f is not None
    )
    did = _did(panel, main)
    quality = _quality(panel, main, placebos, poor_fit_factor)
    alternatives = _alternatives(panel, main, ratios, alpha)
    evaluation = SynthEvaluation(
        spec=spec,
        fit=main,
        expected=expected,
        effects=effects,
        average_effect=average,
        placebos=placebos,
        p_value=p_value,
        rank=1 + int(np.sum(ratios > main.ratio)),
        in_time=in_time,
        leave_one_out=loo,
        did=did,
        quality=quality,
        alpha=alpha,
        verdict=Verdict("no_clear_effect", "", ""),
        alternatives=alternatives,
    )
    return _judged(evaluation)


def _judged(evaluation: SynthEvaluation) -> SynthEvaluation:
    """The evaluation with its checks and verdict (made again after a p-value adjustment)."""
    with_checks = replace(evaluation, checks=design_checks(evaluation))
    return replace(with_checks, verdict=judge(with_checks))


def _alternatives(
    panel: SynthPanel, main: SynthFit, ratios: FloatArray, alpha: float
) -> Alternatives | None:
    """The near-optimal synthetic controls of the V search, each with its average effect
    and its placebo p-value against the same placebos; None when V was given."""
    search = main.search
    if search is None or not search.near_optimal:
        return None
    y = panel.column(main.outcome)
    rows = [panel.unit_index[u] for u in main.donors]
    cols = [panel.time_index[t] for t in main.times]
    y0 = y[np.ix_(rows, cols)].T  # (times, J)
    fit_mask = np.isin(main.times, main.fit_times)
    post_mask = np.array(main.times) >= main.start
    effects, p_values = [], []
    for solution in search.near_optimal:
        gaps = main.treated_series - y0 @ solution.weights
        pre = float(np.sqrt(np.mean(gaps[fit_mask] ** 2)))
        post = float(np.sqrt(np.mean(gaps[post_mask] ** 2)))
        ratio = post / pre if pre > 0 else (float("inf") if post > 0 else 1.0)
        effects.append(float(np.mean(gaps[post_mask])))
        p_values.append((1 + int(np.sum(ratios >= ratio))) / (len(ratios) + 1))
    weights = np.array([s.weights for s in search.near_optimal])
    low, high = weights.min(axis=0), weights.max(axis=0)
    order = np.argsort(-high, kind="stable")
    ranges = tuple(
        WeightRange(main.donors[j], float(low[j]), float(high[j]), float(main.weights[j]))
        for j in order
        if high[j] >= 0.01
    )
    return Alternatives(
        count=len(search.near_optimal),
        ranges=ranges,
        effect_low=min(effects),
        effect_high=max(effects),
        p_low=min(p_values),
        p_high=max(p_values),
    )


def _fit(
    panel: SynthPanel, spec: SynthSpec, treated: str, donors: Sequence[str] | None
) -> SynthFit:
    return fit_synthetic_control(
        panel,
        outcome=spec.outcome,
        treated=treated,
        start=spec.start,
        predictors=spec.predictors,
        fit=spec.fit,
        donors=donors,
        v=spec.v,
        rounds=spec.rounds,
        seed=spec.seed,
    )


_Job = tuple[Any, ...]
"""("main" or "fit", panel, spec, treated, donors) or ("in_time", panel, spec, treated,
donors, fit_times, n_post): picklable, so that a process pool can run it."""


def _fit_job(job: _Job) -> SynthFit | InTimePlacebo | None:
    """One fit of an evaluation. A placebo or leave-one-out fit that cannot be made (a
    placebo unit without a predictor value, say) is None, which leaves it out of the
    inference; the treated fit's own error is raised."""
    kind, panel, spec, treated, donors, *rest = job
    if kind == "in_time":
        fit_times, n_post = rest
        return _in_time(panel, spec, treated, donors, fit_times, n_post)
    if kind == "main":
        return _fit(panel, spec, treated, donors)
    try:
        return _fit(panel, spec, treated, donors)
    except InvalidInputError:
        return None


def _placebo(fit: SynthFit, main: SynthFit) -> Placebo:
    gaps = np.full(len(main.times), np.nan)
    position = {t: i for i, t in enumerate(fit.times)}
    for i, t in enumerate(main.times):
        if t in position:
            gaps[i] = fit.gaps[position[t]]
    return Placebo(fit.treated, fit.pre_rmspe, fit.post_rmspe, fit.ratio, gaps)


def _in_time(
    panel: SynthPanel,
    spec: SynthSpec,
    treated: str,
    donors: Sequence[str],
    fit_times: Sequence[int],
    n_post: int,
) -> InTimePlacebo:
    pre = list(fit_times)
    # A third of the pre-period (at most as many years as there are after the start), so
    # that most of it is left to fit on: a fit on a handful of years overfits, and its
    # gap after the fake start would say more about that than about the method.
    shift = min(n_post, len(pre) // 3, len(pre) - IN_TIME_MIN_FIT)
    if shift < 1:
        return InTimePlacebo(
            None,
            (),
            np.array([]),
            float("nan"),
            float("nan"),
            f"Förperioden ({len(pre)} år) räcker inte för ett placebotest i tiden; det kräver "
            f"minst {IN_TIME_MIN_FIT} år före den låtsade starten och ett år efter.",
        )
    fake = pre[-shift]
    before = SynthPanel(
        panel.units,
        tuple(t for t in panel.times if t < spec.start),
        {k: m[:, : panel.time_index[spec.start]] for k, m in panel.columns.items()}
        if spec.start in panel.time_index
        else panel.columns,
    )
    fit_times = [t for t in pre if t < fake]
    if spec.predictors == outcome_lags(spec.outcome, pre):
        predictors = outcome_lags(spec.outcome, fit_times)
    else:  # the caller's own predictors, those measured before the fake start
        predictors = tuple(p for p in spec.predictors if max(p.times) < fake)
        predictors = predictors or outcome_lags(spec.outcome, fit_times)
    low = spec.fit[0] if spec.fit else fit_times[0]
    placebo_spec = replace(spec, start=fake, predictors=predictors, fit=(low, fake - 1), v=None)
    try:
        fitted = _fit(before, placebo_spec, treated, donors)
    except InvalidInputError as error:
        return InTimePlacebo(fake, (), np.array([]), float("nan"), float("nan"), error.message)
    mask = np.array(fitted.times) >= fake
    gaps = fitted.gaps[mask]
    return InTimePlacebo(
        fake,
        tuple(t for t in fitted.times if t >= fake),
        gaps,
        float(np.mean(gaps)),
        fitted.pre_rmspe,
        None,
    )


def _did(panel: SynthPanel, main: SynthFit) -> DiffInDiff:
    y = panel.column(main.outcome)
    pre = [panel.time_index[t] for t in main.fit_times]
    post = [panel.time_index[t] for t in main.post_times]
    units = [panel.unit_index[u] for u in (main.treated, *main.donors)]
    before = y[np.ix_(units, pre)].mean(axis=1)
    after = y[np.ix_(units, post)].mean(axis=1)
    change = after - before  # treated first
    estimates = np.empty(len(units))
    total = change.sum()
    for i in range(len(units)):
        # unit i against every other unit but the treated one (the treated's own DiD
        # against all donors when i = 0)
        others = total - change[i] - (change[0] if i else 0.0)
        estimates[i] = change[i] - others / (len(units) - 1 - (1 if i else 0))
    estimate = float(estimates[0])
    placebo = estimates[1:]
    p_value = (1 + int(np.sum(np.abs(placebo) >= abs(estimate)))) / (len(placebo) + 1)
    return DiffInDiff(
        estimate, p_value, float(np.std(placebo, ddof=1)) if len(placebo) > 1 else float("nan")
    )


def _quality(
    panel: SynthPanel, main: SynthFit, placebos: Sequence[Placebo], factor: float
) -> FitQuality:
    y = panel.column(main.outcome)
    cols = [panel.time_index[t] for t in main.fit_times]
    donors = y[np.ix_([panel.unit_index[u] for u in main.donors], cols)]
    own = y[panel.unit_index[main.treated], cols]
    outside = float(np.mean((own > donors.max(axis=0)) | (own < donors.min(axis=0))))
    median = float(np.median([p.pre_rmspe for p in placebos])) if placebos else float("nan")
    reasons: list[str] = []
    if outside >= 0.5:
        reasons.append(
            f"{main.treated} låg utanför alla jämförbaras värden {_percent(outside)} av åren "
            "före starten, så ingen viktad blandning av dem kan efterlikna utvecklingen"
        )
    if placebos and main.pre_rmspe > factor * median and main.pre_rmspe > 0:
        reasons.append(
            f"avvikelsen före starten (RMSPE {_number(main.pre_rmspe)}) är mer än "
            f"{_number(factor)} gånger så stor som för en typisk jämförbar enhet "
            f"({_number(median)})"
        )
    upper = float(np.quantile([p.pre_rmspe for p in placebos], 0.75)) if placebos else float("nan")
    return FitQuality(bool(reasons), "; ".join(reasons) or None, median, outside, upper)


def _signed(value: float, unit: str) -> str:
    """ "+1 378 kr/inv 65+", "−2,5 %": a gap with its sign and the outcome's unit."""
    text = swedish.number(value, _decimals(value), sign=True)
    unit = swedish.change_unit(unit)  # a gap in a percentage is in percentage points
    return f"{text} {unit}" if unit else text


def _decimals(value: float) -> int:
    return max(0, swedish.decimals_for((value,)))


def _p_for_claim(e: SynthEvaluation, p: float) -> float:
    """``p`` adjusted as the evaluation's own p-value was (Holm's factor within the trial)."""
    if e.adjusted_p_value is None or e.p_value <= 0:
        return p
    return min(1.0, p * e.adjusted_p_value / e.p_value)


def design_checks(e: SynthEvaluation) -> tuple[Check, ...]:
    """Every check of the design, passed or not, in plain Swedish. Those marked ``doubt``
    keep a significant effect at "osäker": the fit before the start worse than for three in
    four placebos, an in-time placebo gap as large as half the effect and beyond the
    placebos' usual gap (or no in-time placebo at all), a top donor whose removal flips the
    effect's sign, difference-in-differences pointing the other way, and near-optimal
    synthetic controls that disagree. The rest are told: V resting on one predictor,
    predictors matched poorly, a V search that did not converge."""
    fit = e.fit
    unit = e.spec.unit
    checks: list[Check] = []
    effect = e.average_effect
    q = e.quality
    # the pre-period fit against what the same method achieves for the placebos
    if len(e.placebos) >= 4 and np.isfinite(q.placebo_upper_quartile_pre_rmspe):
        own = f"{_amount(fit.pre_rmspe, unit)}"
        median = _amount(q.placebo_median_pre_rmspe, unit)
        worse = fit.pre_rmspe > q.placebo_upper_quartile_pre_rmspe
        if worse:
            text = (
                f"Före starten följde den syntetiska kontrollen {fit.treated} sämre än den "
                f"följde tre av fyra jämförbara i placebotestet: en genomsnittlig avvikelse "
                f"(RMSPE) på {own} mot {median} för en typisk jämförbar; en skillnad efter "
                "starten kan då vara en fortsättning på den sämre anpassningen"
            )
        elif fit.pre_rmspe > q.placebo_median_pre_rmspe:
            text = (
                f"Före starten följde den syntetiska kontrollen {fit.treated} något sämre än "
                f"en typisk jämförbar (genomsnittlig avvikelse, RMSPE, {own} mot {median}), "
                "men inte sämre än var fjärde"
            )
        else:
            text = (
                f"Före starten följde den syntetiska kontrollen {fit.treated} minst lika väl "
                f"som en typisk jämförbar (genomsnittlig avvikelse, RMSPE, {own} mot {median})"
            )
        checks.append(Check("pre_fit", not worse, text, doubt=worse))
    # the in-time placebo: a gap before the real start, large against the effect and
    # beyond what the placebos' own gaps after the start usually are
    it = e.in_time
    if it.reason is not None:
        checks.append(
            Check(
                "in_time",
                False,
                f"Placebotestet i tiden kunde inte göras, så metoden är inte prövad före "
                f"starten: {it.reason}",
                doubt=True,
            )
        )
    else:
        noise = _typical_placebo_gap(e)
        large = abs(it.average_gap) >= 0.5 * abs(effect) and abs(it.average_gap) > noise
        size = _relative(it.average_gap, effect)
        if large:
            text = (
                f"Redan med en låtsad start {it.start}, före det verkliga försöket, låg "
                f"{fit.treated} i genomsnitt {_signed(it.average_gap, unit)} jämfört med sin "
                f"syntetiska kontroll{size}: metoden ser skillnader även där inget försök fanns"
            )
        else:
            text = (
                f"Med en låtsad start {it.start}, före det verkliga försöket, blev skillnaden "
                f"i genomsnitt {_signed(it.average_gap, unit)}{size}"
                + (
                    ", inte mer än de jämförbaras vanliga avvikelse efter starten"
                    if abs(it.average_gap) <= noise and np.isfinite(noise)
                    else ""
                )
            )
        checks.append(Check("in_time", not large, text, doubt=large))
    # leave-one-out
    if e.leave_one_out:
        flipped = [
            x.left_out for x in e.leave_one_out if np.sign(x.average_effect) != np.sign(effect)
        ]
        names = _join([x.left_out for x in e.leave_one_out])
        if flipped:
            one = len(flipped) == 1
            text = (
                f"Effekten byter tecken när {flipped[0]} tas bort ur jämförelsen"
                if one
                else "Effekten byter tecken när någon av "
                + _join(flipped)
                + " tas bort ur jämförelsen (en i taget)"
            )
        else:
            text = (
                "Effekten behåller sitt tecken när de största jämförbara tas bort en i taget "
                f"({names})"
            )
        checks.append(Check("leave_one_out", not flipped, text, doubt=bool(flipped)))
    # difference-in-differences
    opposite = bool(np.sign(e.did.estimate) != np.sign(effect))
    checks.append(
        Check(
            "did",
            not opposite,
            "Skillnad-i-skillnader mot samma jämförbara, med lika vikter, pekar åt "
            + ("andra hållet" if opposite else "samma håll")
            + f" ({_signed(e.did.estimate, unit)})",
            doubt=opposite,
        )
    )
    # the near-optimal synthetic controls
    alt = e.alternatives
    if alt is not None:
        claim = _p_for_claim(e, e.p_value) <= e.alpha
        holds = bool(
            np.sign(alt.effect_low) == np.sign(alt.effect_high) == np.sign(effect)
            and (_p_for_claim(e, alt.p_low) <= e.alpha) == claim
            and (_p_for_claim(e, alt.p_high) <= e.alpha) == claim
        )
        if alt.count == 1:
            text = (
                "Ingen annan lika bra syntetisk kontroll hittades (inom 1 % av den bästa "
                "anpassningen före starten)"
            )
        else:
            spread = "; ".join(
                f"{r.donor} {_number(r.low)}–{_number(r.high)}" for r in alt.ranges[:6]
            )
            same = "ger samma svar" if holds else "ger olika svar"
            text = (
                f"De {alt.count} nästan lika bra syntetiska kontrollerna (den valda inräknad; "
                f"högst 1 % sämre anpassning före starten) {same}: effekten "
                f"{_signed(alt.effect_low, unit)} till {_signed(alt.effect_high, unit)}, p = "
                f"{_number(alt.p_low, 3)}–{_number(alt.p_high, 3)}; vikterna {spread}"
            )
        checks.append(Check("alternatives", holds, text, doubt=not holds))
    # what V rests on (meaningless when the predictors are matched exactly: then any V
    # gives the same comparison), and how well the predictors are matched
    exact = bool(fit.balance) and all(b.mismatch < 1e-6 for b in fit.balance)
    if e.spec.v is None and len(fit.balance) > 1 and not exact:
        top = max(fit.balance, key=lambda b: b.importance)
        one = top.importance >= 0.9
        name = e.spec.predictor_name(top.predictor)
        checks.append(
            Check(
                "v_concentration",
                not one,
                (
                    f"Prediktorvikterna vilar helt på en prediktor ({name}): den matchas "
                    "så nära det går, och bland de blandningar av jämförbara som gör det "
                    "väljs den som följer utfallet bäst före starten; de övriga "
                    "prediktorerna styr inte vilka som ingår"
                )
                if top.importance == 1.0
                else (
                    f"Prediktorvikterna vilar nästan helt på en prediktor ({name}, "
                    f"{_percent(top.importance)}): jämförelsen väljs i praktiken bara efter "
                    "den, och de övriga prediktorerna styr inte vilka som ingår"
                )
                if one
                else (
                    "Prediktorvikterna fördelas på flera prediktorer (störst "
                    f"{name}, {_percent(top.importance)})"
                ),
            )
        )
    if fit.balance:
        poor = [b for b in fit.balance if b.mismatch > BALANCE_SD]
        if poor:
            listed = "; ".join(
                f"{e.spec.predictor_name(b.predictor)}: {_number(b.treated)} mot "
                f"{_number(b.synthetic)}"
                for b in poor[:6]
            )
            more = f" och {len(poor) - 6} till" if len(poor) > 6 else ""
            text = (
                f"{fit.treated} liknar sin syntetiska kontroll dåligt i {len(poor)} av "
                f"{len(fit.balance)} prediktorer (mer än en fjärdedels standardavvikelse "
                f"ifrån): {listed}{more}"
            )
        else:
            text = (
                f"{fit.treated} liknar sin syntetiska kontroll i alla prediktorer (inom en "
                "fjärdedels standardavvikelse)"
            )
        checks.append(Check("balance", not poor, text))
    search = fit.search
    if search is not None:
        if search.certified:
            text = (
                "Anpassningen före starten är den bästa möjliga: ingen viktning av "
                "prediktorerna kan ge ett lägre fel"
            )
            passed = True
        elif search.near_bound:
            text = (
                "Anpassningen före starten ligger inom 0,1 % av den bästa möjliga (den som "
                "bara utfallet skulle ge), så sökningen behövde inte gå vidare "
                f"({search.starts} lokala sökningar)"
            )
            passed = True
        elif search.requested:
            text = (
                f"Sökningen efter den bästa jämförelsen gjorde det begärda antalet omgångar "
                f"({search.rounds}, {search.starts} lokala sökningar)"
            )
            passed = True
        elif search.converged:
            text = (
                "Sökningen efter den bästa jämförelsen avslutades när den inte längre blev "
                f"bättre ({search.starts} lokala sökningar i {search.rounds} omgångar)"
            )
            passed = True
        else:
            text = (
                f"Sökningen efter den bästa jämförelsen nådde sin gräns ({search.rounds} "
                "omgångar) medan den fortfarande blev bättre; en bättre anpassning kan finnas"
            )
            passed = False
        checks.append(Check("search", passed, text))
    return tuple(checks)


def _join(items: Sequence[str]) -> str:
    """ "A, B och C"."""
    items = list(items)
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " och " + items[-1]


def _typical_placebo_gap(e: SynthEvaluation) -> float:
    """The median |average gap after the start| of the placebos: how far the method's
    synthetic controls drift from units that had no trial."""
    post = np.array(e.fit.times) >= e.fit.start
    gaps = [
        abs(float(np.nanmean(p.gaps[post]))) for p in e.placebos if np.isfinite(p.gaps[post]).any()
    ]
    return float(np.median(gaps)) if gaps else 0.0


def _relative(gap: float, effect: float) -> str:
    """ ", N gånger den skattade effekten (+X)" or ", mer än halva …", told beside a gap."""
    if effect == 0 or not np.isfinite(effect):
        return ""
    ratio = abs(gap) / abs(effect)
    if ratio >= 1:
        how = f"{_number(ratio)} gånger så mycket som"
    elif ratio >= 0.5:
        how = "mer än hälften så mycket som"
    else:
        how = "mindre än hälften så mycket som"
    return f", {how} den skattade effekten"


def _amount(value: float, unit: str) -> str:
    unit = swedish.change_unit(unit)
    return f"{_number(value)} {unit}" if unit else _number(value)


def judge(evaluation: SynthEvaluation) -> Verdict:
    """The plain-Swedish verdict, from the fit quality, the placebo p-value (adjusted within
    the trial's KPIs), the number of years after the start and the design checks."""
    e = evaluation
    fit = e.fit
    unit = e.spec.unit
    years = len(e.effects)
    j = len(e.placebos)
    m = max(1, e.family)
    exceed = round(e.p_value * (j + 1)) - 1
    if years > 1:
        span = f"{e.effects[0].time}–{e.effects[-1].time}"
    else:
        span = str(e.effects[0].time) if e.effects else str(fit.start)
    deviating = "ingen" if exceed == 0 else str(exceed)
    facts = (
        f"{fit.treated} låg i genomsnitt {_signed(e.average_effect, unit)} per år efter "
        f"starten jämfört med den syntetiska kontrollen ({years} år, {span}). I "
        f"placebotestet, där var och en av de {j} jämförbara i tur och ordning behandlas som "
        f"om den hade gjort försöket, fick {deviating} en lika stor eller större avvikelse "
        "efter sin låtsade start, mätt mot hur väl den följdes före (p = "
        f"{_number(e.p_value, 3)})."
    )
    if e.adjusted_p_value is not None:
        facts += (
            f" Försöket prövas på {e.family} nyckeltal, så p-värdet är justerat med Holms "
            f"metod till {_number(e.adjusted_p_value, 3)}: risken att något av dem felaktigt "
            f"kallas tydligt är då högst {_percent(e.alpha)}."
        )
    checks = e.checks or design_checks(e)
    failed = [c for c in checks if not c.passed]
    doubts = [c for c in failed if c.doubt]
    told = "".join(f" {c.text}." for c in failed if not c.doubt)
    if e.quality.poor:
        return Verdict(
            "poor_fit",
            VERDICT_LABELS["poor_fit"],
            "Den syntetiska kontrollen följer inte utvecklingen före starten: "
            f"{e.quality.reason}. En skillnad efteråt säger då inget om försöket.",
        )
    if m / (j + 1) > e.alpha:
        # the smallest p-value is 1/(J + 1); Holm over m KPIs makes it m/(J + 1)
        kpis = f" och {m} nyckeltal som prövas tillsammans" if m > 1 else ""
        lowest = f"{m}/{j + 1}" if m > 1 else f"1/{j + 1}"
        return Verdict(
            "too_few_donors",
            VERDICT_LABELS["too_few_donors"],
            f"{facts} Med {j} jämförbara{kpis} kan p-värdet aldrig bli lägre än {lowest} = "
            f"{_number(m / (j + 1), 3)}, så ingen effekt kan visas på nivån {_number(e.alpha)}: "
            f"den kräver minst {needed_donors(e.alpha / m)} jämförbara"
            + (" eller färre nyckeltal." if m > 1 else "."),
        )
    weak = (
        " Dessutom är utformningen svag: " + "; ".join(_lower(c.text) for c in doubts) + "."
        if doubts
        else ""
    )
    if e.judged_p_value > e.alpha:
        kind: VerdictKind = "no_clear_effect_yet" if years < 3 else "no_clear_effect"
        more = (
            " Med fler år efter starten kan en effekt bli synlig."
            if kind == "no_clear_effect_yet"
            else ""
        )
        return Verdict(
            kind,
            VERDICT_LABELS[kind],
            f"{facts} Det är inte mer än vad slumpen och vanlig variation bland de "
            f"jämförbara ger (gränsen är p ≤ {_number(e.alpha)}).{more}{weak}{told}",
        )
    up = e.average_effect > 0
    if e.expected is None:
        base = "increase" if up else "decrease"
    else:
        base = "improvement" if up == (e.expected == "increase") else "deterioration"
    edge = _at_the_edge(j, e.alpha, m)
    if doubts:
        kind = f"possible_{base}"  # type: ignore[assignment]
        reasons = "; ".join(_lower(c.text) for c in doubts)
        return Verdict(kind, VERDICT_LABELS[kind], f"{facts} Men {reasons}.{edge}{told}")
    kind = f"clear_{base}"  # type: ignore[assignment]
    held = [
        _CHECK_NAMES[c.key]
        for c in checks
        if c.doubt is False and c.passed and c.key in _CHECK_NAMES
    ]
    holds = f", och det håller i kontrollerna: {_join(held)}" if held else ""
    return Verdict(
        kind,
        VERDICT_LABELS[kind],
        f"{facts} Det är mer än vad slumpen och vanlig variation bland de jämförbara brukar "
        f"ge{holds}.{edge}{told}",
    )


_CHECK_NAMES = {
    "pre_fit": "anpassningen före starten",
    "in_time": "placebotestet i tiden",
    "leave_one_out": "de största jämförbara borttagna en i taget",
    "did": "skillnad-i-skillnader",
    "alternatives": "de nästan lika bra syntetiska kontrollerna",
}


def _lower(text: str) -> str:
    """A check's sentence continued after "Men" or a colon: the first letter lowered when
    the sentence opens with one of the checks' own words (not a unit's name)."""
    if text.split(" ", 1)[0] in _OPENERS:
        return text[0].lower() + text[1:]
    return text


_OPENERS = frozenset(
    {"Före", "Redan", "Med", "Effekten", "Skillnad-i-skillnader", "Ingen", "Placebotestet", "De"}
)


def adjust_for_multiplicity(
    evaluations: Sequence[SynthEvaluation],
) -> tuple[SynthEvaluation, ...]:
    """The evaluations of one trial's KPIs judged together: Holm's step-down adjustment of
    their placebo p-values (so the chance of at least one false "clear" among them stays at
    most α), each verdict judged again by its adjusted p-value. A single evaluation comes
    back with ``family`` 1 and its own p-value."""
    m = len(evaluations)
    if m == 0:
        return ()
    order = sorted(range(m), key=lambda i: evaluations[i].p_value)
    adjusted = [0.0] * m
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (m - rank) * evaluations[i].p_value))
        adjusted[i] = running
    out = []
    for e, p in zip(evaluations, adjusted, strict=True):
        out.append(_judged(replace(e, family=m, adjusted_p_value=p if m > 1 else None)))
    return tuple(out)


def needed_donors(alpha: float) -> int:
    """The fewest donors J whose smallest placebo p-value, 1/(J + 1), reaches ``alpha``."""
    # 1e-9: 1/0.05 − 1 is 19 in exact arithmetic but 19.000000000000004 in floating point.
    return max(1, math.ceil(1 / alpha - 1 - 1e-9))


def _at_the_edge(j: int, alpha: float, family: int = 1) -> str:
    """With so few donors that only the largest deviation of all reaches ``alpha`` (the
    second largest would give 2/(J + 1), times the KPIs judged together, above alpha), a
    significant result is as weak as a permutation test can be: one more donor deviating as
    much would have undone it. Said with the numbers; empty otherwise."""
    m = max(1, family)
    if 2 * m / (j + 1) <= alpha + 1e-12:
        return ""
    holm = f", justerat för {m} nyckeltal" if m > 1 else ""
    return (
        f" Resultatet är ändå svagt: med {j} jämförbara är det lägsta möjliga p-värdet "
        f"{m}/{j + 1} = {_number(m / (j + 1), 3)}{holm}, och bara den största avvikelsen av "
        f"alla når nivån {_number(alpha)}; om en enda jämförbar hade avvikit lika mycket hade "
        f"p blivit {_number(2 * m / (j + 1), 3)}. Först med minst "
        f"{needed_donors(alpha / (2 * m))} jämförbara räcker också den näst största avvikelsen."
    )


def _number(value: float, digits: int = 2) -> str:
    """In the one Swedish voice (``tillit.swedish.number``): 1 865, 18,6, 1,9, 0,094; below 1
    at least ``digits`` significant digits."""
    if value != 0 and abs(value) < 1:
        # decimals_for gives two significant digits below 1
        return swedish.number(value, max(0, swedish.decimals_for((value,)) + digits - 2))
    return swedish.number(value)


def _percent(share: float) -> str:
    return swedish.share(share)
