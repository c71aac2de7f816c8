"""What every comparison rests on, computed once for all KPIs × municipalities: the
aligned history window, each series' noise and its check on held-back years, shrunken
levels and shrunken slopes, and gaps to the peer median. Comparison, learning and the
national matrix all read these, so the CLI, the pages and the report can never disagree.

The test of a gap is one statistic per (municipality, KPI): the mean of the published
values' gap to the peers' median over the last RECENT years, over its standard error
(the noise's AR(1) correlation inflates the variance of a mean of neighbouring years),
referred to a t distribution with the moderated degrees of freedom d0 + d (see
:mod:`tillit.analyses._noise`). Benjamini–Hochberg then runs once per municipality over
the KPIs tested for it (``judge_gaps``)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from tillit.analyses._eligibility import practical_gap
from tillit.analyses._multiple import benjamini_hochberg
from tillit.analyses._noise import (
    MAX_RHO,
    WINDOW,
    Levels,
    Noise,
    Windowed,
    align_windows,
    check_noise,
    mean_variance_factor,
    mixture_p,
    series_moments,
    shrink_levels,
)
from tillit.analyses._panel import FloatArray, Panel
from tillit.analyses._polarity import Polarity
from tillit.analyses._scale import size_dependent
from tillit.analyses._trend import trend_matrix
from tillit.errors import InvalidInputError

#: A gap is the mean over this many latest years.
RECENT = 3
#: Two-sided 95% normal quantile (the trend shrinkage's "clearly improving").
Z95 = float(special.ndtri(0.975))
#: Fewer peers with a value than this and no comparison is made.
MIN_PEERS = 3
#: Var(median of n independent N(0, 1)) for n = 1 … 15 (beyond: π / 2n).
MEDIAN_VARIANCE = np.array(
    [
        np.nan,
        1.0,
        0.5,
        0.449,
        0.298,
        0.287,
        0.215,
        0.21,
        0.168,
        0.166,
        0.138,
        0.137,
        0.117,
        0.117,
        0.102,
        0.102,
    ],
    dtype=np.float64,
)
#: A peer within this many of its own noise SDs of the median could be the median.
MEDIAN_REACH = 1.5


@dataclass(frozen=True)
class Evidence:
    """Noise, shrunken levels and slopes for every KPI (axis 0) and municipality
    (axis 1) over each KPI's last ``window`` years (axis 2)."""

    windowed: Windowed
    noise: Noise
    levels: Levels
    polarity: tuple[Polarity, ...]
    areas: tuple[str, ...]
    comparable: npt.NDArray[np.bool_]  # False for totals that grow with population
    population: FloatArray
    #: Per KPI: the noise model predicted the held-back latest years (``check_noise``);
    #: a KPI that failed is never tested, and ``misfit`` says why (Swedish).
    fits: npt.NDArray[np.bool_] | None = None
    misfit: tuple[str | None, ...] = ()
    #: Per KPI: the minimum practical difference in its unit (docs/eligibility.md). Gaps
    #: are tested against it, H0: |gap| ≤ mpd; None tests against 0.
    mpd: FloatArray | None = None

    @property
    def noise_fits(self) -> npt.NDArray[np.bool_]:
        """Per KPI: passed the held-back check (all True when it was not run)."""
        if self.fits is None:
            return np.ones(len(self.kpis), dtype=bool)
        return self.fits

    def misfit_reason(self, kpi_index: int) -> str | None:
        """Why the noise model of KPI ``kpi_index`` may not be trusted, or None."""
        return self.misfit[kpi_index] if self.misfit else None

    @property
    def kpis(self) -> tuple[str, ...]:
        return self.windowed.kpis

    @property
    def municipalities(self) -> tuple[str, ...]:
        return self.windowed.municipalities

    @functools.cached_property
    def signs(self) -> npt.NDArray[np.int64]:
        """+1, −1 or 0 per KPI (computed once: compare and learn ask for it often)."""
        signs = np.array([p.sign for p in self.polarity], dtype=np.int64)
        signs.flags.writeable = False
        return signs

    def recent_years(self, kpi_index: int) -> tuple[int, ...]:
        return tuple(int(y) for y in self.windowed.years(kpi_index)[-RECENT:])


def gather_evidence(
    panel: Panel,
    population: FloatArray,
    *,
    polarity: Mapping[str, Polarity],
    areas: Mapping[str, str | None] | None = None,
    titles: Mapping[str, str] | None = None,
    window: int = WINDOW,
) -> Evidence:
    """Evidence for every KPI of ``panel``. ``population`` is per municipality on the
    panel's axis (it sets the noise model's size effect); ``polarity`` and ``areas`` are
    per KPI (missing: unknown polarity, area "Övrigt"); ``titles`` tell which KPIs are
    totals that scale with size (those are never ranked or tested)."""
    if population.shape != (len(panel.municipalities),):
        raise InvalidInputError(
            "Befolkningen måste anges för varje kommun i underlaget.",
            hint="Bygg befolkningen och värdena på samma kommunlista.",
        )
    if window < RECENT + 3:
        raise InvalidInputError(
            f"Fönstret måste vara minst {RECENT + 3} år, inte {window}.",
            hint="Standard är 10 år.",
        )
    windowed = align_windows(panel, window)
    # The noise is fitted on the years before the RECENT ones that are tested, and those
    # years check it: a gap (or a step) in the tested years is not taken for noise.
    check = check_noise(windowed.values, population, held_out=RECENT)
    noise = check.noise
    levels = shrink_levels(windowed.values[:, :, -RECENT:], noise.variance)
    areas = areas or {}
    titles = titles or {}
    return Evidence(
        windowed=windowed,
        noise=noise,
        levels=levels,
        polarity=tuple(polarity.get(k, Polarity.UNKNOWN) for k in windowed.kpis),
        areas=tuple(areas.get(k) or "Övrigt" for k in windowed.kpis),
        comparable=np.array(
            [not size_dependent(titles.get(k, "")) for k in windowed.kpis], dtype=bool
        ),
        population=population,
        fits=check.passed,
        misfit=tuple(check.reason(k) for k in range(len(windowed.kpis))),
    )


@dataclass(frozen=True)
class Gaps:
    """For focal municipalities F with peers P (|F| × k). Per year of the last RECENT
    (kpi, focal, year): the shrunken level, the peers' shrunken median and their
    difference (for showing), and ``z``, the published value's gap to the peers'
    published median over its noise (signed so that positive is better when the polarity
    is known, higher otherwise). Per (kpi, focal): the test — ``mean_difference`` over
    the years with a gap, ``t`` (signed like ``z``), its degrees of freedom and two-sided
    ``p``."""

    focal: npt.NDArray[np.int64]
    peers: npt.NDArray[np.int64]
    own: FloatArray  # (kpi, focal, year), shrunken
    peer_median: FloatArray  # shrunken
    difference: FloatArray  # own − peer median (natural units, not signed), shrunken
    z: FloatArray  # per year, published values
    peer_count: npt.NDArray[np.int64]  # peers with a value, (kpi, focal, year)
    raw_difference: FloatArray  # published value − peers' published median, per year
    mean_difference: FloatArray  # (kpi, focal): mean of raw_difference, natural units
    t: FloatArray  # (kpi, focal): moderated t of mean_difference, signed
    df: FloatArray  # (kpi, focal): its degrees of freedom (d0 + d)
    p: FloatArray  # (kpi, focal): two-sided p-value
    years: npt.NDArray[np.int64]  # (kpi, focal): years in the mean


def peer_gaps(
    evidence: Evidence, focal: npt.NDArray[np.int64], peers: npt.NDArray[np.int64]
) -> Gaps:
    """Gap of each focal municipality to its peers' median. The test uses the published
    values: t = mean gap / sqrt(f(ρ, n) · (s̃²_own + V_median)), where f is the variance
    of a mean of n neighbouring years under AR(1) noise and V_median the variance of the
    peers' median (:func:`median_variance`); its p-value allows for the own variance's
    d0 + d degrees of freedom (:func:`mixture_p`). It needs the latest year and
    MIN_PEERS peers with a value in each year used. The shrunken levels are kept for
    showing."""
    shrunk = evidence.levels.shrunk[:, :, -RECENT:]
    own = shrunk[:, focal, :]
    shrunk_median, _ = nan_median(shrunk[:, peers, :], axis=2)
    raw = evidence.windowed.values[:, :, -RECENT:]
    peer_values = raw[:, peers, :]  # (kpi, focal, k, year)
    median, count = nan_median(peer_values, axis=2)
    s2 = evidence.noise.variance
    direction = np.where(evidence.signs == 0, 1, evidence.signs)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.where(count >= MIN_PEERS, raw[:, focal, :] - median, np.nan)
        own_var = s2[:, focal, None]
        median_var = median_variance(peer_values, s2[:, peers], median)
        year_var = own_var + median_var
        z = direction[:, :, None] * gap / np.sqrt(year_var)
        present = ~np.isnan(gap)
        years = present.sum(axis=2)
        mean_gap = np.where(years > 0, np.where(present, gap, 0.0).sum(axis=2) / years, np.nan)
        mean_var = masked_mean(year_var, present, axis=2)
        factor = mean_variance_factor(evidence.noise.rho[:, None], years)
        # The minimum-effect test: only the part of the gap beyond the KPI's minimum
        # practical difference counts (docs/eligibility.md).
        beyond = practical_gap(mean_gap, mpd_per_kpi(evidence)[:, None])
        t = direction * beyond / np.sqrt(factor * mean_var)
    t = np.where(present[:, :, -1], t, np.nan)
    # The p-value integrates over the own variance's uncertainty (d0 + d degrees of
    # freedom) with the peers' median's variance taken as known (it pools their many):
    # exact under the moderated model (``mixture_p``). Welch–Satterthwaite's
    # approximation of the same gave the t many degrees of freedom where its own variance
    # rested on almost none (a series without two changes in the fitted years has the
    # prior alone, whose d0 can be below 2): under the per-municipality null it flagged
    # 7.9 % of the municipalities instead of at most 5 %, with |t| up to 60 at 5–12 df.
    df = evidence.noise.total_df[:, focal]
    shape = t.shape
    with np.errstate(invalid="ignore", divide="ignore"):
        own_part = np.broadcast_to(
            masked_mean(np.broadcast_to(own_var, year_var.shape), present, axis=2), shape
        )
        other_part = masked_mean(median_var, present, axis=2)
        standardised = beyond / np.sqrt(factor)
    p = rho_integrated_p(
        evidence.noise,
        years,
        np.where(np.isnan(t), np.nan, standardised),
        own_part,
        other_part,
        df,
    )
    return Gaps(
        focal=focal,
        peers=peers,
        own=own,
        peer_median=shrunk_median,
        difference=own - shrunk_median,
        z=z,
        peer_count=count,
        raw_difference=gap,
        mean_difference=np.where(np.isnan(t), np.nan, mean_gap),
        t=t,
        df=df,
        p=np.where(np.isnan(t), np.nan, p),
        years=years.astype(np.int64),
    )


#: Gauss–Hermite nodes (standard normal) and weights over which the p-value is averaged
#: for the uncertainty of the KPI's ρ (:func:`rho_integrated_p`).
RHO_NODES = np.array([-np.sqrt(3.0), 0.0, np.sqrt(3.0)])
RHO_WEIGHTS = np.array([1.0, 4.0, 1.0]) / 6.0


def rho_integrated_p(
    noise: Noise,
    years: npt.NDArray[np.int64],
    standardised: FloatArray,
    own: FloatArray,
    other: FloatArray,
    df: FloatArray,
) -> FloatArray:
    """Two-sided p-values of the gap test (kpi, focal), averaged over the KPI's ρ as
    estimated: ρ̂ ± its standard error (Gauss–Hermite, three nodes, kept in [0, MAX_RHO]).
    ρ is one estimate per KPI, shared by every municipality, so its error is in no
    series' degrees of freedom; with 21 regions it is about 0.2, and a ρ estimated too
    low understates the variance of a three-year mean twice (the variance from
    differences, 2σ²(1 − ρ), and the mean's factor f(ρ, n)). Under another ρ every
    variance of the test scales by f(ρ, n)(1 − ρ̂) / (f(ρ̂, n)(1 − ρ)) (the expected sum
    of squared differences is 2(1 − ρ) per difference, so each own variance and the
    prior scale with 1 / (1 − ρ)). With a standard error of 0 this is :func:`mixture_p`."""
    shape = standardised.shape
    tail = np.broadcast_to(noise.tail_df[:, None], shape).ravel()
    own_flat, other_flat, df_flat = own.ravel(), other.ravel(), df.ravel()
    centre = mixture_p(standardised.ravel(), own_flat, other_flat, df_flat, tail)
    out = centre.copy()
    rho = noise.rho[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        base = mean_variance_factor(rho, years) / (1.0 - rho)
        for node, weight in zip(RHO_NODES, RHO_WEIGHTS, strict=True):
            if node == 0.0:
                continue
            at = np.clip(rho + node * noise.rho_se[:, None], 0.0, MAX_RHO)
            scale = (mean_variance_factor(at, years) / (1.0 - at) / base).ravel()
            moved = np.flatnonzero(np.isfinite(centre) & np.isfinite(scale) & (scale != 1.0))
            if moved.size:
                z = standardised.ravel()[moved] / np.sqrt(scale[moved])
                p = mixture_p(z, own_flat[moved], other_flat[moved], df_flat[moved], tail[moved])
                # Where ρ is known (standard error 0) the p-value is mixture_p's, to the bit.
                out[moved] += weight * (p - centre[moved])
    # The centre node's weight: out = centre + Σ weight · (p − centre) over the other nodes.
    return np.asarray(np.clip(out, 0.0, 1.0).reshape(shape), dtype=np.float64)


def mpd_per_kpi(evidence: Evidence) -> FloatArray:
    """The minimum practical difference per KPI, 0 where none was given."""
    if evidence.mpd is None:
        return np.zeros(len(evidence.kpis))
    return np.nan_to_num(np.asarray(evidence.mpd, dtype=np.float64), nan=0.0)


def median_variance(values: FloatArray, variance: FloatArray, median: FloatArray) -> FloatArray:
    """The noise variance of the median of ``values`` (kpi, focal, k, year), each peer's
    value having noise ``variance`` (kpi, focal, k). Only the peers close to the median
    (within MEDIAN_REACH of their noise SDs) could be it: with n of them it is the
    variance of a median of n, times their mean noise variance. Peers with equal true
    levels give the familiar π/2 · σ²/n; peers far apart leave the middle one's σ²,
    which the large-sample formula would understate up to n-fold."""
    present = ~np.isnan(values)
    v = np.broadcast_to(variance[..., None], values.shape)
    with np.errstate(invalid="ignore"):
        close = present & (np.abs(values - median[:, :, None, :]) <= MEDIAN_REACH * np.sqrt(v))
    n = close.sum(axis=2)
    mean_close = masked_mean(v, close, axis=2)
    mean_all = masked_mean(v, present, axis=2)
    factor = np.where(
        n < MEDIAN_VARIANCE.size,
        MEDIAN_VARIANCE[np.clip(n, 1, MEDIAN_VARIANCE.size - 1)],
        np.pi / (2.0 * np.maximum(n, 1)),
    )
    return np.asarray(np.where(n > 0, factor * mean_close, mean_all), dtype=np.float64)


@dataclass(frozen=True)
class Slopes:
    """Theil–Sen slopes over the windows ending in each of the last RECENT years, for
    the municipalities in ``rows``; shrunk toward the KPI's mean slope."""

    rows: npt.NDArray[np.int64]  # municipality indices, axis 1 of the arrays
    slope: FloatArray  # (kpi, row, window end), units per year
    shrunk: FloatArray
    z: FloatArray  # signed like Gaps.z: positive = improving (or rising)
    significant: npt.NDArray[np.bool_]  # Mann–Kendall p < 0.05 in the improving direction


def recent_slopes(evidence: Evidence, rows: npt.NDArray[np.int64]) -> Slopes:
    """Slopes of the series in ``rows`` over the last ``window − RECENT + 1`` years,
    once per window end among the last RECENT years. The shrinkage's between-municipality
    variance comes from least-squares slopes of all municipalities."""
    values = evidence.windowed.values
    kpis, _, window = values.shape
    span = window - RECENT + 1
    years = np.arange(span, dtype=np.float64)
    direction = np.where(evidence.signs == 0, 1, evidence.signs)[:, None]
    out = {name: np.full((kpis, rows.size, RECENT), np.nan) for name in ("slope", "shrunk", "z")}
    significant = np.zeros((kpis, rows.size, RECENT), dtype=bool)
    for e in range(RECENT):
        part = values[:, :, e : e + span]
        moments = series_moments(part)
        enough = moments.n >= 4
        all_slopes = np.where(enough, moments.slope, np.nan)
        sxx = np.where(enough, moments.sxx, np.nan)
        with np.errstate(invalid="ignore", divide="ignore"):
            sampling = evidence.noise.variance / sxx  # (kpi, municipality)
            mean = masked_mean(all_slopes, enough, axis=1)
            dev = np.where(enough, all_slopes - mean[:, None], 0.0)
            total = (dev * dev).sum(axis=1) / (enough.sum(axis=1) - 1)
            tau2 = np.maximum(total - masked_mean(sampling, enough, axis=1), 0.0)
        chosen = part[:, rows, :].reshape(-1, span)
        result = trend_matrix(years, chosen, min_points=4)
        slope = result.slope.reshape(kpis, rows.size)
        v = sampling[:, rows]
        with np.errstate(invalid="ignore", divide="ignore"):
            weight = tau2[:, None] / (tau2[:, None] + v)
            weight = np.nan_to_num(weight, nan=1.0)
            shrunk = mean[:, None] + weight * (slope - mean[:, None])
            z = direction * shrunk / np.sqrt(weight * v)
        mk = result.significant.reshape(kpis, rows.size) & (
            direction * np.sign(result.s.reshape(kpis, rows.size)) > 0
        )
        out["slope"][:, :, e] = slope
        out["shrunk"][:, :, e] = shrunk
        out["z"][:, :, e] = z
        significant[:, :, e] = mk
    return Slopes(rows=rows, significant=significant, **out)


def masked_mean(x: FloatArray, mask: npt.NDArray[np.bool_], *, axis: int) -> FloatArray:
    """Mean of ``x`` where ``mask`` along ``axis``; NaN (without a warning) where the
    mask is empty."""
    count = mask.sum(axis=axis)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = np.where(mask, x, 0.0).sum(axis=axis)
        return np.where(count > 0, total / count, np.nan)


def raw_median(values: FloatArray) -> float:
    """The median of the values present (NaN when none is): the peers' published values,
    shown beside the municipality's own value."""
    present = values[~np.isnan(values)]
    return float(np.median(present)) if present.size else float("nan")


def nan_median(x: FloatArray, *, axis: int) -> tuple[FloatArray, npt.NDArray[np.int64]]:
    """Median ignoring NaN along ``axis`` (NaN where all are missing) and the count of
    values; sort-based, much faster than np.nanmedian on many small groups."""
    x = np.moveaxis(x, axis, -1)
    count = (~np.isnan(x)).sum(axis=-1)
    ordered = np.sort(x, axis=-1)  # NaN sorts last
    lo = np.maximum((count - 1) // 2, 0)[..., None]
    hi = np.minimum(count // 2, x.shape[-1] - 1)[..., None]
    a = np.take_along_axis(ordered, lo, axis=-1)[..., 0]
    b = np.take_along_axis(ordered, hi, axis=-1)[..., 0]
    median = np.where(count > 0, (a + b) / 2.0, np.nan)
    return median, count.astype(np.int64)


@dataclass(frozen=True)
class Verdicts:
    """Per KPI × focal municipality: clearly better / clearly worse than the peers.

    A gap is clear when its p-value (one test per KPI, over the last RECENT years)
    survives Benjamini–Hochberg at ``q`` across all the KPIs tested for that
    municipality, and the latest year's gap lies on the same side: among the KPIs flagged
    for one municipality, the expected share of false flags is at most ``q``, and when no
    KPI truly differs the chance of any flag at all is at most ``q``."""

    better: npt.NDArray[np.bool_]
    worse: npt.NDArray[np.bool_]
    years_better: npt.NDArray[np.int64]  # years of the last RECENT with the gap this way
    years_worse: npt.NDArray[np.int64]
    q_value: FloatArray  # BH-adjusted p, NaN when not tested
    p_value: FloatArray  # two-sided, NaN when not tested


def judge_gaps(gaps: Gaps, tested: npt.NDArray[np.bool_], q: float) -> Verdicts:
    """Verdicts from the tests of :class:`Gaps`; ``tested`` (kpi, focal) says which KPIs
    count in the false-discovery control (one Benjamini–Hochberg per focal municipality).
    """
    p = gaps.p
    testable = tested & ~np.isnan(p)
    rejected = np.zeros(p.shape, dtype=bool)
    q_value = np.full(p.shape, np.nan)
    for f in range(p.shape[1]):
        mask = testable[:, f]
        if mask.any():
            rejected[mask, f], q_value[mask, f] = benjamini_hochberg(p[mask, f], q)
    with np.errstate(invalid="ignore"):
        years_better = (gaps.z > 0).sum(axis=2)
        years_worse = (gaps.z < 0).sum(axis=2)
        # The latest year must lie on the same side: a gap that has just closed is not
        # called (this only withholds flags, so the error rate stays within q).
        up = rejected & (gaps.t > 0) & (gaps.z[:, :, -1] > 0)
        down = rejected & (gaps.t < 0) & (gaps.z[:, :, -1] < 0)
    return Verdicts(
        better=up,
        worse=down,
        years_better=years_better.astype(np.int64),
        years_worse=years_worse.astype(np.int64),
        q_value=q_value,
        p_value=np.where(testable, p, np.nan),
    )
