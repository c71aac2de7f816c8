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
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

import numpy as np

from tillit import swedish
from tillit.analyses._synth import SynthFit, fit_synthetic_control, outcome_lags
from tillit.analyses._synth_panel import FloatArray, Predictor, SynthPanel
from tillit.errors import InvalidInputError, NotEvaluableError

__all__ = [
    "METHOD_VERSION",
    "MIN_PRE_YEARS",
    "VERDICT_LABELS",
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
    "adjust_for_multiplicity",
    "evaluate_synthetic_control",
]

METHOD_VERSION = "2"
"""Raised whenever a change could alter an evaluation's numbers or verdict: a stored
evaluation made by another version is computed again."""
MIN_PRE_YEARS = 5
"""Fewer years before the start than this and there is nothing to judge a fit by."""
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
MapFunction = Callable[[Callable[[Any], SynthFit | None], Iterable[Any]], Iterable[SynthFit | None]]


@dataclass(frozen=True)
class SynthSpec:
    """How every fit of one evaluation is made (the treated one and each placebo alike:
    inference is only valid when they all get the same procedure)."""

    outcome: str
    start: int
    predictors: tuple[Predictor, ...]
    fit: tuple[int, int] | None = None
    v: tuple[float, ...] | None = None
    starts: int = 8
    seed: int = 0
    #: The outcome's unit as the reader knows it ("kr/inv 65+", "%"), used in the words.
    unit: str = ""


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
    starts: int = 8,
    seed: int = 0,
    expected: Direction | None = None,
    min_pre: int = MIN_PRE_YEARS,
    alpha: float = 0.1,
    poor_fit_factor: float = 5.0,
    leave_out: int = 5,
    map_function: MapFunction | None = None,
    unit: str = "",
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
        outcome, start, chosen, fit, None if v is None else tuple(v), starts, seed, unit
    )
    main = _fit(panel, spec, treated, donors)
    run = map_function or builtins.map
    pool = main.donors
    jobs: list[tuple[SynthPanel, SynthSpec, str, tuple[str, ...]]] = [
        (panel, spec, unit, tuple(u for u in pool if u != unit)) for unit in pool
    ]
    top = [(u, w) for u, w in main.top_donors(leave_out, minimum=0.01)]
    jobs += [(panel, spec, treated, tuple(u for u in pool if u != unit)) for unit, _ in top]
    results = list(run(_fit_job, jobs))
    placebo_fits, loo_fits = results[: len(pool)], results[len(pool) :]
    placebos = tuple(_placebo(f, main) for f in placebo_fits if f is not None)
    in_time = _in_time(panel, spec, main, treated, donors=pool)
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
    )
    return replace(evaluation, verdict=judge(evaluation))


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
        starts=spec.starts,
        seed=spec.seed,
    )


def _fit_job(job: tuple[SynthPanel, SynthSpec, str, tuple[str, ...]]) -> SynthFit | None:
    """One placebo or leave-one-out fit; None when the unit cannot be fitted (a placebo
    unit without a predictor value, say), which leaves it out of the inference."""
    panel, spec, treated, donors = job
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
    panel: SynthPanel, spec: SynthSpec, main: SynthFit, treated: str, donors: Sequence[str]
) -> InTimePlacebo:
    pre = list(main.fit_times)
    # A third of the pre-period (at most as many years as there are after the start), so
    # that most of it is left to fit on: a fit on a handful of years overfits, and its
    # gap after the fake start would say more about that than about the method.
    shift = min(len(main.post_times), len(pre) // 3, len(pre) - IN_TIME_MIN_FIT)
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
    return FitQuality(bool(reasons), "; ".join(reasons) or None, median, outside)


def judge(evaluation: SynthEvaluation) -> Verdict:
    """The plain-Swedish verdict, from the fit quality, the placebo p-value, the number of
    years after the start and the robustness checks."""
    e = evaluation
    fit = e.fit
    size = _number(abs(e.average_effect))
    where = "över" if e.average_effect > 0 else "under"
    years = len(e.effects)
    j = len(e.placebos)
    exceed = round(e.p_value * (j + 1)) - 1
    facts = (
        f"Från {fit.start} låg {fit.treated} i genomsnitt {size} {where} sin syntetiska kontroll "
        f"({years} år efter starten). I placebotestet, där var och en av de {j} jämförbara i "
        "tur och ordning behandlas som om den hade gjort försöket, fick "
        f"{exceed} en lika stor eller större avvikelse efter sin låtsade start, mätt mot hur väl "
        f"den följdes före (p = {_number(e.p_value, 3)})."
    )
    if e.quality.poor:
        return Verdict(
            "poor_fit",
            VERDICT_LABELS["poor_fit"],
            "Den syntetiska kontrollen följer inte utvecklingen före starten: "
            f"{e.quality.reason}. En skillnad efteråt säger då inget om försöket.",
        )
    if 1 / (j + 1) > e.alpha:
        return Verdict(
            "too_few_donors",
            VERDICT_LABELS["too_few_donors"],
            f"{facts} Med {j} jämförbara kan p-värdet aldrig bli lägre än 1/{j + 1} = "
            f"{_number(1 / (j + 1), 3)}, så ingen effekt kan visas på nivån {_number(e.alpha)}: "
            f"den kräver minst {needed_donors(e.alpha)} jämförbara.",
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
            f"jämförbara ger (gränsen är p ≤ {_number(e.alpha)}).{more}",
        )
    up = e.average_effect > 0
    if e.expected is None:
        base = "increase" if up else "decrease"
    else:
        base = "improvement" if up == (e.expected == "increase") else "deterioration"
    doubts: list[str] = []
    flipped = [
        x.left_out
        for x in e.leave_one_out
        if np.sign(x.average_effect) != np.sign(e.average_effect)
    ]
    if flipped:
        doubts.append(
            "effekten byter tecken när " + ", ".join(flipped) + " tas bort ur jämförelsen"
        )
    if np.sign(e.did.estimate) != np.sign(e.average_effect):
        doubts.append("skillnad-i-skillnader mot samma jämförbara pekar åt andra hållet")
    if e.in_time.reason is None and abs(e.in_time.average_gap) >= 0.5 * abs(e.average_effect):
        doubts.append(
            f"redan med en låtsad start {e.in_time.start} syns en skillnad på "
            f"{_number(abs(e.in_time.average_gap))}"
        )
    edge = _at_the_edge(j, e.alpha)
    if doubts:
        kind = f"possible_{base}"  # type: ignore[assignment]
        return Verdict(kind, VERDICT_LABELS[kind], f"{facts} Men {'; '.join(doubts)}.{edge}")
    kind = f"clear_{base}"  # type: ignore[assignment]
    return Verdict(
        kind,
        VERDICT_LABELS[kind],
        f"{facts} Det är mer än vad slumpen och vanlig variation bland de jämförbara brukar "
        f"ge, och resultatet håller när de största jämförelseenheterna tas bort en i taget.{edge}",
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
        again = replace(e, family=m, adjusted_p_value=p if m > 1 else None)
        out.append(replace(again, verdict=judge(again)))
    return tuple(out)


def needed_donors(alpha: float) -> int:
    """The fewest donors J whose smallest placebo p-value, 1/(J + 1), reaches ``alpha``."""
    # 1e-9: 1/0.05 − 1 is 19 in exact arithmetic but 19.000000000000004 in floating point.
    return max(1, math.ceil(1 / alpha - 1 - 1e-9))


def _at_the_edge(j: int, alpha: float) -> str:
    """With so few donors that only the largest deviation of all reaches ``alpha`` (the
    second largest would give 2/(J + 1) > alpha), a significant result is as weak as a
    permutation test can be: one more donor deviating as much would have undone it. Said
    with the numbers; empty otherwise."""
    if 2 / (j + 1) <= alpha:
        return ""
    return (
        f" Resultatet är ändå svagt: med {j} jämförbara är det lägsta möjliga p-värdet "
        f"1/{j + 1} = {_number(1 / (j + 1), 3)}, och bara den största avvikelsen av alla når "
        f"nivån {_number(alpha)}; om en enda jämförbar hade avvikit lika mycket hade "
        f"p blivit {_number(2 / (j + 1), 3)}. Först med minst {needed_donors(alpha / 2)} "
        "jämförbara räcker också den näst största avvikelsen."
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
