"""Goals on KPIs: how likely a target is met, whether its change can be measured at all,
and how ambitious it is against similar units (issue 16; method in docs/goals.md).

The model of a series is a line plus AR(1) noise: y_t = a + b·t + e_t with Var e_t = σ²
and corr(e_t, e_s) = ρ^|t−s|, where σ and ρ are the KPI's year-to-year noise (``_noise``:
σ per KPI × unit with its degrees of freedom, ρ per KPI), fitted over the last
``TREND_YEARS`` years up to ``now``. The level a is unknown; the slope b is drawn from
N(0, (SLOPE_SD·σ)²), so a trend the years show only weakly is shrunk toward none (with
``slope_sd`` inf, b is unknown too and the fit is plain generalised least squares). The
target year's *published* value is predicted by the best linear unbiased predictor
(universal kriging) under the covariance V = σ²(R + τ²ttᵀ), τ = SLOPE_SD: the line, plus
what the latest years lie off it as far as the noise's correlation carries. Its error
variance counts the level's and slope's uncertainty and the target year's own noise,

    Var(y_T − ŷ_T) = σ² [v_TT − cᵀV⁻¹c + uᵀ(XᵀV⁻¹X)⁻¹u],   u = x_T − XᵀV⁻¹c,

to which comes (PERSISTENCE_SD·b̂·h)² for how long the slope carried h years ahead goes
on; σ estimated with ν degrees of freedom makes the prediction a t with ν degrees of
freedom. A goal is *met* when the target year's published value is on the right side of
the target: what a council reads in the annual report, noise and all.

Everything is vectorised over goals (:func:`judge_many`): 5,800 goals take milliseconds.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy import special

from tillit import swedish
from tillit.errors import InvalidInputError

__all__ = [
    "AMBITION_LABELS",
    "DIRECTIONS",
    "GOAL_VERDICT_LABELS",
    "MIN_YEARS",
    "OFF_TRACK",
    "ON_TRACK",
    "PERSISTENCE_SD",
    "SLOPE_SD",
    "TREND_YEARS",
    "GoalJudgement",
    "IndicatorJudgement",
    "IndicatorSeries",
    "InterimCheck",
    "Judged",
    "Target",
    "judge_indicator",
    "judge_indicators",
    "judge_many",
    "summarise_goal",
]

FloatArray = npt.NDArray[np.float64]

#: Years of history (up to ``now``) the trend is fitted on.
TREND_YEARS = 8
#: The slope a projection carries forward is drawn from N(0, (SLOPE_SD·σ)²) a year: a
#: unit's trend is shrunk toward none by as much as its years leave it in doubt. On Kolada
#: a plain least-squares trend was overconfident (goals judged 97 % likely were met 86 %
#: of the time in 2014 → 2018 and 89 % in 2018 → 2022: weak trends do not go on, and
#: strong ones are as often a step as a lasting trend). Both constants were chosen on
#: 2014 → 2018 and checked on 2018 → 2022, docs/goals.md.
SLOPE_SD = 0.3
#: … and how long it goes on is uncertain: the change it makes over h years, s·h, counts
#: with an SD of PERSISTENCE_SD·|s|·h on top of the noise (docs/goals.md).
PERSISTENCE_SD = 1.0
#: Fewer observed years than this in that window give no judgement.
MIN_YEARS = 3
#: Verdict thresholds on the probability that the goal is met (docs/goals.md argues them).
ON_TRACK = 0.8
OFF_TRACK = 0.2
#: The level of the projection band and of the slope's interval.
BAND = 0.8
#: Measurability: a change is told from noise by a two-sided test at this level …
DETECTION_LEVEL = 0.95
#: … and "reliably" when a true change of that size passes the test this often.
POWER = 0.8
#: |ρ| is capped here (a random walk has no stationary noise to judge against).
MAX_RHO = 0.95

Direction = Literal["increase", "decrease", "at_least", "at_most"]
VerdictKey = Literal["met", "on_track", "uncertain", "off_track", "not_met", "cannot_judge"]

#: +1: met when the value is at least the target; −1: at most.
DIRECTIONS: dict[str, int] = {"increase": 1, "at_least": 1, "decrease": -1, "at_most": -1}

#: Verdicts, in the order of :attr:`Judged.verdict`'s codes.
VERDICTS: tuple[VerdictKey, ...] = (
    "met",
    "on_track",
    "uncertain",
    "off_track",
    "not_met",
    "cannot_judge",
)
GOAL_VERDICT_LABELS: dict[str, str] = {
    "met": "uppnått",
    "on_track": "på väg att nås",
    "uncertain": "osäkert",
    "off_track": "inte på väg",
    "not_met": "inte uppnått",
    "cannot_judge": "kan inte bedömas ännu",
}
#: Why a goal could not be judged (:attr:`Judged.why`): code → the words in brackets.
WHY: tuple[str, ...] = ("", "för få år", "okänt årsbrus", "inga värden")
#: Worst first: a goal's verdict is its worst indicator's (cannot_judge caps a good one).
_RANK: dict[str, int] = {
    "not_met": 0,
    "off_track": 1,
    "uncertain": 2,
    "cannot_judge": 3,
    "on_track": 4,
    "met": 5,
}
AMBITION_LABELS: dict[str, str] = {
    "beyond_peers": "mer än någon liknande har klarat",
    "ambitious": "ambitiöst",
    "realistic": "realistiskt",
    "modest": "lågt satt",
    "unknown": "kan inte jämföras",
}


@dataclass(frozen=True)
class IndicatorSeries:
    """A unit's series of one KPI and the KPI's noise there, as the query layer hands it
    over. ``noise_sd``: the SD of one year's value around the series' path (NaN when
    unknown); ``noise_df``: its degrees of freedom (inf when known exactly); ``rho``: the
    noise's correlation from one year to the next; ``unit``: the KPI's unit as a person
    reads it (``swedish.kpi_unit``), used in the texts."""

    years: tuple[int, ...]
    values: tuple[float, ...]
    noise_sd: float
    noise_df: float = math.inf
    rho: float = 0.0
    polarity_sign: int = 0
    unit: str = ""

    def __post_init__(self) -> None:
        if len(self.years) != len(self.values):
            raise InvalidInputError(
                f"Serien har {len(self.years)} år men {len(self.values)} värden.",
                hint="Ge ett värde per år.",
            )


@dataclass(frozen=True)
class Target:
    """A target on one indicator: met when the value in ``target_year`` is at least
    ``target`` (``increase``, ``at_least``) or at most it (``decrease``, ``at_most``)."""

    target: float
    target_year: int
    direction: str
    baseline_year: int
    baseline_value: float
    interim: tuple[tuple[int, float], ...] = ()

    def __post_init__(self) -> None:
        if self.direction not in DIRECTIONS:
            raise InvalidInputError(
                f"Okänd riktning {self.direction!r} för ett mål.",
                hint="Välj increase, decrease, at_least eller at_most.",
            )
        if not math.isfinite(self.target):
            raise InvalidInputError("Målvärdet måste vara ett tal.", hint="Ange ett målvärde.")
        if self.target_year < self.baseline_year:
            raise InvalidInputError(
                f"Målåret {self.target_year} ligger före utgångsåret {self.baseline_year}.",
                hint="Välj ett målår efter utgångsåret.",
            )

    @property
    def sign(self) -> int:
        return DIRECTIONS[self.direction]

    @property
    def required_change(self) -> float:
        """Target less baseline, in the KPI's unit (signed)."""
        return self.target - self.baseline_value


@dataclass(frozen=True)
class Judged:
    """:func:`judge_many`'s result, one entry per goal."""

    probability: FloatArray  # that the goal is (was) met; NaN when it cannot be judged
    mean: FloatArray  # the projected target-year value (the published one when known)
    scale: FloatArray  # the projection's scale (SD of y_T − ŷ_T); 0 when published
    df: FloatArray  # degrees of freedom of the projection's t
    slope: FloatArray  # per year, carried forward (shrunk toward 0, see SLOPE_SD)
    slope_se: FloatArray
    trend: FloatArray  # per year, the window's own least-squares slope (not shrunk)
    trend_se: FloatArray
    years_used: npt.NDArray[np.int64]  # observed years in the trend window
    first_year: npt.NDArray[np.int64]  # first and last observed year in the window (0: none)
    last_year: npt.NDArray[np.int64]
    observed: FloatArray  # the target year's value, when published by ``now``
    verdict: npt.NDArray[np.int8]  # index into VERDICTS
    why: npt.NDArray[np.int8]  # index into WHY (0 when judged)

    def verdicts(self) -> tuple[VerdictKey, ...]:
        return tuple(VERDICTS[int(v)] for v in self.verdict)

    def band(self, level: float = BAND) -> tuple[FloatArray, FloatArray]:
        """The central ``level`` interval of the target-year value."""
        q = _t_quantile(0.5 + level / 2.0, self.df)
        return self.mean - q * self.scale, self.mean + q * self.scale


def _t_quantile(p: float, df: FloatArray | float) -> FloatArray:
    df = np.asarray(df, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(df) & (df > 0)
        t = special.stdtrit(np.where(finite, df, 1.0), p)
    return np.asarray(np.where(finite, t, special.ndtri(p)), dtype=np.float64)


def _t_cdf(x: FloatArray, df: FloatArray) -> FloatArray:
    with np.errstate(invalid="ignore"):
        finite = np.isfinite(df) & (df > 0)
        t = special.stdtr(np.where(finite, df, 1.0), x)
    return np.asarray(np.where(finite, t, special.ndtr(x)), dtype=np.float64)


def _predict(
    values: FloatArray,
    years: FloatArray,
    now: FloatArray,
    when: FloatArray,
    rho: FloatArray,
    trend_years: int,
    slope_sd: float,
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray, npt.NDArray[np.int64], FloatArray]:
    """Per row: the BLUP of the value in year ``when`` from the row's values in the
    ``trend_years`` years up to ``now``, in units of σ²: AR(1)(ρ) noise of unit variance
    around a line whose level is unknown and whose slope is either unknown too
    (``slope_sd`` inf: generalised least squares) or drawn from N(0, slope_sd²) (a random
    slope, shrunk toward none by how little the years show it). Returns (prediction, its
    error variance, slope (its BLUP), the slope's error variance, observed years, observed
    mask). Rows with too few years give NaN."""
    y = values.shape[1]
    t = years[None, :] - now[:, None]  # ≤ 0 inside the window
    obs = ~np.isnan(values) & (t <= 0) & (t > -trend_years)
    n = obs.sum(axis=1)
    m = obs.astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        centre = np.where(obs, values, 0.0).sum(axis=1) / np.maximum(n, 1)
    yv = np.where(obs, values - centre[:, None], 0.0)
    # ρ^lag from a table of powers: lags are whole years, and a float power per cell of
    # (goal, year, year) costs more than the solve.
    lag = np.rint(np.abs(years[:, None] - years[None, :])).astype(np.int64)
    h = when - now
    ahead = np.rint(np.abs(h[:, None] - t)).astype(np.int64)
    top = int(max(lag.max(initial=0), ahead.max(initial=0)))
    powers = rho[:, None] ** np.arange(top + 1, dtype=np.float64)[None, :]
    r = np.take(powers, lag, axis=1)  # (g, y, y)
    c = np.take_along_axis(powers, ahead, axis=1)
    v_tt = np.ones_like(h)
    fixed = not math.isfinite(slope_sd)
    tau2 = 0.0 if fixed else slope_sd**2
    if tau2 > 0:
        r += tau2 * t[:, :, None] * t[:, None, :]
        c += tau2 * h[:, None] * t
        v_tt = v_tt + tau2 * h * h
    r *= m[:, :, None]
    r *= m[:, None, :]
    r[:, np.arange(y), np.arange(y)] += 1.0 - m  # unobserved years: independent dummies
    c *= m
    tm = t * m
    cs = tau2 * tm  # the slope's covariance with the values (random slope)
    design = [m, tm] if fixed else [m]
    x = np.stack(design, axis=2)  # (g, y, p)
    p_ = x.shape[2]
    s = np.linalg.solve(r, np.concatenate([x, np.stack([yv, c, cs], axis=2)], axis=2))
    a = np.swapaxes(x, 1, 2) @ s  # (g, p, p + 3): XᵀV⁻¹[X, y, c, cs]
    xvx = a[:, :, :p_]
    need = 2 if fixed else 1
    enough = n >= max(need, 2)
    xvx[~enough] = np.eye(p_)
    inv = np.linalg.inv(xvx)
    beta = np.einsum("gij,gj->gi", inv, a[:, :, p_])
    resid = yv - np.einsum("gyi,gi->gy", x, beta)
    xt = np.stack([np.ones_like(h), h], axis=1)[:, :p_]
    mean = centre + (xt * beta).sum(axis=1) + (s[..., p_ + 1] * resid).sum(axis=1)
    u = xt - a[:, :, p_ + 1]
    k = v_tt - (c * s[..., p_ + 1]).sum(axis=1) + np.einsum("gi,gij,gj->g", u, inv, u)
    if fixed:
        slope = beta[:, 1]
        slope_k = inv[:, 1, 1]
    else:
        slope = (s[..., p_ + 2] * resid).sum(axis=1)
        us = -a[:, :, p_ + 2]
        slope_k = tau2 - (cs * s[..., p_ + 2]).sum(axis=1) + np.einsum("gi,gij,gj->g", us, inv, us)
    nan = np.where(enough, 0.0, np.nan)
    return (
        np.asarray(mean + nan, dtype=np.float64),
        np.asarray(np.maximum(k, 0.0) + nan, dtype=np.float64),
        np.asarray(slope + nan, dtype=np.float64),
        np.asarray(slope_k + nan, dtype=np.float64),
        n.astype(np.int64),
        m,
    )


def judge_many(
    values: npt.ArrayLike,
    years: npt.ArrayLike,
    *,
    noise_sd: npt.ArrayLike,
    noise_df: npt.ArrayLike,
    rho: npt.ArrayLike,
    target: npt.ArrayLike,
    target_year: npt.ArrayLike,
    direction_sign: npt.ArrayLike,
    now: npt.ArrayLike,
    trend_years: int = TREND_YEARS,
    slope_sd: float = SLOPE_SD,
    persistence_sd: float = PERSISTENCE_SD,
) -> Judged:
    """Judge many goals at once. ``values`` (goal, year) hold each goal's series over
    ``years`` (NaN where missing); the rest are per goal (or scalars): the noise's SD,
    degrees of freedom and ρ, the target, its year, +1 (met when ≥ target) or −1 (≤), and
    the last year of data to use. A goal whose target year has a value by ``now`` is met
    or not (probability 1 or 0); otherwise its probability comes from the projection, with
    the slope drawn from N(0, (slope_sd·σ)²) (inf: the plain least-squares trend) and
    the change it makes over the h years ahead uncertain by persistence_sd times its size.
    Verdicts: ≥ ON_TRACK on track, ≤ OFF_TRACK off track, else uncertain."""
    v = np.atleast_2d(np.asarray(values, dtype=np.float64))
    g = v.shape[0]
    yrs = np.asarray(years, dtype=np.float64)

    def per_goal(a: npt.ArrayLike) -> FloatArray:
        return np.broadcast_to(np.asarray(a, dtype=np.float64), (g,)).astype(np.float64)

    sd, df, rh = per_goal(noise_sd), per_goal(noise_df), per_goal(rho)
    tgt, ty, sign, nw = (
        per_goal(target),
        per_goal(target_year),
        per_goal(direction_sign),
        per_goal(now),
    )
    rh = np.clip(np.nan_to_num(rh, nan=0.0), -MAX_RHO, MAX_RHO)
    # Only the years inside some goal's window enter the fit (the solve is cubic in them).
    cols = (yrs <= nw.max()) & (yrs > nw.min() - trend_years)
    window = (v[:, cols], yrs[cols], nw, ty, rh, trend_years)
    mean, k, slope, slope_k, n, _ = _predict(*window, slope_sd)
    # The line the years show by themselves (what a person sees), next to the shrunk one.
    trend, trend_k = slope, slope_k
    if math.isfinite(slope_sd):
        _, _, trend, trend_k, _, _ = _predict(*window, math.inf)
    # The target year's published value, when there is one by now.
    published = (yrs[None, :] == ty[:, None]) & ~np.isnan(v) & (ty <= nw)[:, None]
    known = published.any(axis=1)
    observed = np.where(known, np.where(published, v, 0.0).sum(axis=1), np.nan)
    noise_ok = np.isfinite(sd) & (sd > 0) & ~np.isnan(df) & (df > 0)
    few = n < MIN_YEARS
    why = np.where(few, 1, np.where(noise_ok, 0, 2)).astype(np.int8)
    why[(n == 0) & ~known] = 3
    why[known] = 0
    fit = np.where(noise_ok & ~few, 1.0, np.nan)
    # How long a trend goes on is itself uncertain: the slope carried h years ahead
    # counts with an SD of persistence_sd times its size.
    ahead = np.maximum(ty - nw, 0.0)
    scale = np.sqrt(sd**2 * k + (persistence_sd * slope * ahead) ** 2)
    dfs = np.where(np.isnan(df), np.inf, df)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = _t_cdf(sign * (mean - tgt) / scale, dfs)
    p = np.where(known, (sign * (observed - tgt) >= 0).astype(np.float64), p)
    judged = known | (why == 0)
    p = np.where(judged, p, np.nan)
    verdict = np.full(g, VERDICTS.index("cannot_judge"), dtype=np.int8)
    verdict[~known & judged & (p >= ON_TRACK)] = VERDICTS.index("on_track")
    verdict[~known & judged & (p <= OFF_TRACK)] = VERDICTS.index("off_track")
    verdict[~known & judged & (p > OFF_TRACK) & (p < ON_TRACK)] = VERDICTS.index("uncertain")
    verdict[known & (p == 1.0)] = VERDICTS.index("met")
    verdict[known & (p == 0.0)] = VERDICTS.index("not_met")
    t = yrs[None, :] - nw[:, None]
    inside = ~np.isnan(v) & (t <= 0) & (t > -trend_years)
    first = np.where(inside, yrs[None, :], np.inf).min(axis=1)
    last = np.where(inside, yrs[None, :], -np.inf).max(axis=1)
    return Judged(
        probability=p,
        mean=np.where(known, observed, mean * fit),
        scale=np.where(known, 0.0, scale * fit),
        df=dfs,
        slope=slope * fit,
        slope_se=sd * np.sqrt(slope_k) * fit,
        trend=trend * fit,
        trend_se=sd * np.sqrt(trend_k) * fit,
        years_used=n,
        first_year=np.where(np.isfinite(first), first, 0).astype(np.int64),
        last_year=np.where(np.isfinite(last), last, 0).astype(np.int64),
        observed=observed,
        verdict=verdict,
        why=why,
    )


# -- one indicator, with its words --------------------------------------------------------


@dataclass(frozen=True)
class InterimCheck:
    """An interim target and how it went (``met`` None while its year has no value)."""

    year: int
    target: float
    value: float  # NaN while unpublished
    met: bool | None


@dataclass(frozen=True)
class IndicatorJudgement:
    """The judgement of one indicator against its target."""

    verdict: VerdictKey
    verdict_label: str  # "uppnått", …, "kan inte bedömas ännu (för få år)"
    reason: str  # Swedish, with the numbers
    probability_met: float  # 0..1, NaN when it cannot be judged
    expected: float  # the projected (or published) target-year value
    low: float  # its central BAND interval (= expected when published)
    high: float
    #: (year, mean, low, high) for each year after ``now`` up to the target year: the
    #: published value's projection and its BAND interval.
    projection: tuple[tuple[int, float, float, float], ...]
    slope: float  # per year, NaN when no trend was fitted
    slope_low: float
    slope_high: float
    trend_years: tuple[int, int] | None  # first and last year of the fitted window
    now: int | None
    target: Target
    interim: tuple[InterimCheck, ...] = ()
    trend: float = math.nan  # per year, the window's own least-squares slope (not shrunk)


def _values(series: IndicatorSeries) -> tuple[FloatArray, FloatArray]:
    years = np.asarray(series.years, dtype=np.float64)
    values = np.asarray(series.values, dtype=np.float64)
    order = np.argsort(years, kind="stable")
    years, values = years[order], values[order]
    keep = ~np.isnan(values)
    return years[keep], values[keep]


def judge_indicator(
    series: IndicatorSeries,
    target: Target,
    *,
    now: int | None = None,
    trend_years: int = TREND_YEARS,
    slope_sd: float = SLOPE_SD,
    persistence_sd: float = PERSISTENCE_SD,
) -> IndicatorJudgement:
    """Judge one indicator as of year ``now`` (default: its last year with a value), using
    only values up to ``now``: met or not when the target year has a value, else the
    probability that its published value will be on the right side of the target, from
    the trend and the noise (the same computation as :func:`judge_many`)."""
    return judge_indicators(
        [(series, target)],
        now=now,
        trend_years=trend_years,
        slope_sd=slope_sd,
        persistence_sd=persistence_sd,
    )[0]


def judge_indicators(
    items: Sequence[tuple[IndicatorSeries, Target]],
    *,
    now: int | None = None,
    trend_years: int = TREND_YEARS,
    slope_sd: float = SLOPE_SD,
    persistence_sd: float = PERSISTENCE_SD,
) -> tuple[IndicatorJudgement, ...]:
    """:func:`judge_indicator` for many (series, target) pairs at once, in one
    :func:`judge_many` call: a page or a report with many goals costs one batch."""
    prepared: list[tuple[FloatArray, FloatArray, int | None, list[int]]] = []
    low_year, high_year = math.inf, -math.inf
    for series, target in items:
        years, values = _values(series)
        at = now if now is not None else (int(years[-1]) if years.size else None)
        when = [] if at is None else [target.target_year, *range(at + 1, target.target_year + 1)]
        prepared.append((years, values, at, when))
        if at is not None:
            first = min(float(years[0]), at - trend_years + 1.0) if years.size else float(at)
            low_year = min(low_year, first)
            high_year = max(high_year, at, target.target_year)
    rows = sum(len(w) for *_, w in prepared)
    judged = None
    if rows:
        grid = np.arange(low_year, high_year + 1.0)
        cube = np.full((rows, grid.size), np.nan)
        columns: dict[str, list[float]] = {
            k: [] for k in ("sd", "df", "rho", "t", "ty", "s", "now")
        }
        r = 0
        for (series, target), (years, values, at, when) in zip(items, prepared, strict=True):
            if at is None:
                continue
            # values after `now` are not seen (the target year's only when it is ≤ now)
            inside = years <= at
            cube[r : r + len(when), (years[inside] - low_year).astype(np.int64)] = values[inside]
            for key, value in (
                ("sd", series.noise_sd),
                ("df", series.noise_df),
                ("rho", series.rho),
                ("t", target.target),
                ("s", float(target.sign)),
                ("now", float(at)),
            ):
                columns[key] += [value] * len(when)
            columns["ty"] += [float(w) for w in when]
            r += len(when)
        judged = judge_many(
            cube,
            grid,
            noise_sd=columns["sd"],
            noise_df=columns["df"],
            rho=columns["rho"],
            target=columns["t"],
            target_year=columns["ty"],
            direction_sign=columns["s"],
            now=columns["now"],
            trend_years=trend_years,
            slope_sd=slope_sd,
            persistence_sd=persistence_sd,
        )
        low, high = judged.band()
        q = _t_quantile(0.5 + BAND / 2.0, judged.df)
    out = []
    r = 0
    for (series, target), (years, values, at, when) in zip(items, prepared, strict=True):
        interim = _interim(target, years, values, at)
        if at is None or judged is None:
            out.append(
                _cannot(target, None, "inga värden", "Det finns inga värden för nyckeltalet ännu.")
            )
            continue
        i = r
        r += len(when)
        verdict = VERDICTS[int(judged.verdict[i])]
        why = WHY[int(judged.why[i])]
        projection = tuple(
            (int(when[j - i]), float(judged.mean[j]), float(low[j]), float(high[j]))
            for j in range(i + 1, r)
            if judged.why[j] == 0 and not math.isnan(judged.mean[j])
        )
        slope, se = float(judged.slope[i]), float(judged.slope_se[i])
        window = (
            (int(judged.first_year[i]), int(judged.last_year[i]))
            if judged.years_used[i] > 0
            else None
        )
        reason = _reason(series, target, judged, i, at, verdict, why, float(low[i]), float(high[i]))
        label = GOAL_VERDICT_LABELS[verdict] + (f" ({why})" if verdict == "cannot_judge" else "")
        out.append(
            IndicatorJudgement(
                verdict=verdict,
                verdict_label=label,
                reason=reason,
                probability_met=float(judged.probability[i]),
                expected=float(judged.mean[i]),
                low=float(low[i]),
                high=float(high[i]),
                projection=projection,
                slope=slope,
                slope_low=slope - float(q[i]) * se,
                slope_high=slope + float(q[i]) * se,
                trend_years=window,
                now=at,
                target=target,
                interim=interim,
                trend=float(judged.trend[i]),
            )
        )
    return tuple(out)


def _cannot(target: Target, now: int | None, why: str, reason: str) -> IndicatorJudgement:
    nan = math.nan
    return IndicatorJudgement(
        verdict="cannot_judge",
        verdict_label=f"{GOAL_VERDICT_LABELS['cannot_judge']} ({why})",
        reason=reason,
        probability_met=nan,
        expected=nan,
        low=nan,
        high=nan,
        projection=(),
        slope=nan,
        slope_low=nan,
        slope_high=nan,
        trend_years=None,
        now=now,
        target=target,
    )


def _interim(
    target: Target, years: FloatArray, values: FloatArray, now: int | None
) -> tuple[InterimCheck, ...]:
    out = []
    for year, goal in sorted(target.interim):
        hit = np.flatnonzero(years == year)
        published = hit.size > 0 and now is not None and year <= now
        value = float(values[hit[0]]) if published else math.nan
        met = None if math.isnan(value) else bool(target.sign * (value - goal) >= 0)
        out.append(InterimCheck(int(year), float(goal), value, met))
    return tuple(out)


def _side(target: Target) -> str:
    return "minst" if target.sign > 0 else "högst"


def _probability(p: float) -> str:
    if p > 0.99:
        return "över 99 %"
    if p < 0.01:
        return "under 1 %"
    return swedish.share(p)


def _reason(
    series: IndicatorSeries,
    target: Target,
    judged: Judged,
    i: int,
    now: int,
    verdict: VerdictKey,
    why: str,
    low: float,
    high: float,
) -> str:
    unit = series.unit
    goal = f"målet är {_side(target)} {swedish.with_unit(target.target, unit)}"
    ty = target.target_year
    if verdict in ("met", "not_met"):
        value = float(judged.observed[i])
        goal = goal.replace("målet är", "målet var")
        text = f"Värdet {ty} blev {swedish.with_unit(value, unit)}; {goal}."
        sd = series.noise_sd
        if math.isfinite(sd) and sd > 0 and abs(value - target.target) < sd:
            margin = _with(swedish.number(abs(value - target.target)), swedish.change_unit(unit))
            text += (
                f" Marginalen ({margin}) är mindre än nyckeltalets årsbrus "
                f"({swedish.number(sd)}), så det kunde lika gärna ha slagit åt andra hållet."
            )
        return text
    n = int(judged.years_used[i])
    if verdict == "cannot_judge":
        if why == "för få år":
            return (
                f"Det finns {swedish.count(n, 'år', 'år')} med värden under de "
                f"{swedish.number(TREND_YEARS)} åren till och med {now}; en trend kräver minst "
                f"{swedish.number(MIN_YEARS)}."
            )
        if why == "inga värden":
            return f"Det finns inga värden till och med {now}."
        return (
            "Nyckeltalets årsbrus här är okänt, så osäkerheten i en framskrivning går inte att "
            "ange."
        )
    first, last = int(judged.first_year[i]), int(judged.last_year[i])
    trend = swedish.per_year(float(judged.trend[i]), unit)
    carried = swedish.per_year(float(judged.slope[i]), unit)
    mean = float(judged.mean[i])
    p = float(judged.probability[i])
    lo, hi = swedish.side_by_side((low, high))
    missing = f"Värdet för {ty} är inte publicerat. " if ty <= now else ""
    damped = (
        ""
        if carried == trend
        else f"; framskrivningen räknar med {carried} och med att trenden kan plana ut eller "
        "byta riktning, som trender ofta gör"
    )
    return (
        f"{missing}Trenden {first}–{last} ({swedish.count(n, 'år', 'år')} med värden) är "
        f"{trend}{damped}. {ty} väntas värdet bli {swedish.with_unit(mean, unit)} "
        f"({swedish.share(BAND)} sannolikt mellan {lo} och {hi}); {goal}. "
        f"Sannolikheten att målet nås är {_probability(p)}."
    )


def _with(text: str, unit: str) -> str:
    return f"{text}{swedish.UNIT_SPACE}{unit}" if unit else text


@dataclass(frozen=True)
class GoalJudgement:
    """A goal's verdict: its worst indicator's, so that no bad one is hidden; a goal with
    an indicator that cannot be judged is at best "kan inte bedömas ännu"."""

    verdict: VerdictKey
    verdict_label: str
    text: str
    counts: tuple[tuple[VerdictKey, int], ...]  # per verdict present, worst first
    worst: int | None  # index of the worst indicator
    lowest_probability: float  # of the judged indicators still open (NaN when none)


def summarise_goal(judgements: Sequence[IndicatorJudgement]) -> GoalJudgement:
    """Summarise a goal's indicators without hiding a bad one: the verdict is the worst
    indicator's (not met, off track, uncertain, cannot be judged, on track, met), the text
    counts each verdict."""
    if not judgements:
        return GoalJudgement(
            "cannot_judge",
            f"{GOAL_VERDICT_LABELS['cannot_judge']} (inga indikatorer)",
            "Målet har inga indikatorer att bedöma.",
            (),
            None,
            math.nan,
        )
    ranks = [_RANK[j.verdict] for j in judgements]
    worst = int(np.argmin(ranks))
    verdict = judgements[worst].verdict
    present = sorted({j.verdict for j in judgements}, key=lambda v: _RANK[v])
    counts = tuple((v, sum(j.verdict == v for j in judgements)) for v in present)
    open_p = [
        j.probability_met for j in judgements if j.verdict in ("on_track", "uncertain", "off_track")
    ]
    total = len(judgements)
    listing = ", ".join(f"{GOAL_VERDICT_LABELS[v]}: {swedish.number(c)}" for v, c in counts)
    if total == 1:
        text = f"Målet har en indikator: {GOAL_VERDICT_LABELS[verdict]}."
        label = judgements[0].verdict_label
    else:
        text = (
            f"Målet bedöms efter sin sämsta indikator (nummer {worst + 1}): "
            f"{GOAL_VERDICT_LABELS[verdict]}. Av {swedish.number(total)} indikatorer: {listing}."
        )
        label = GOAL_VERDICT_LABELS[verdict]
        if verdict == "cannot_judge":
            n = dict(counts)["cannot_judge"]
            label += f" ({swedish.number(n)} av {swedish.number(total)} indikatorer)"
    return GoalJudgement(
        verdict,
        label,
        text,
        counts,
        worst,
        min(open_p) if open_p else math.nan,
    )
