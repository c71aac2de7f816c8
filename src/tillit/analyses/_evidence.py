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
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from tillit.analyses._blocks import for_blocks
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
#: Var(median of n) / Var(order statistic n/2 of n) for n independent N(0, 1), n even:
#: the median of an even count is the mean of two order statistics, whose covariance
#: :func:`median_noise_variance` takes from this ratio (double integrals over their joint
#: density; tests/test_median_variance.py checks them). Beyond 20: 1.
EVEN_MEDIAN_RATIO = {
    4: 0.8273,
    6: 0.8722,
    8: 0.8984,
    10: 0.9157,
    12: 0.9279,
    14: 0.9371,
    16: 0.9441,
    18: 0.9497,
    20: 0.9543,
}


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
    #: (kpi, focal): the standard error of ``mean_difference`` the test divides by (natural
    #: units), for showing the gap with an interval; None when not computed.
    se: FloatArray | None = None


def peer_gaps(
    evidence: Evidence, focal: npt.NDArray[np.int64], peers: npt.NDArray[np.int64]
) -> Gaps:
    """Gap of each focal municipality to its peers' median. The test uses the published
    values: t = mean gap / sqrt(f(ρ, n) · (s̃²_own + V_median) + b²), where f is the
    variance of a mean of n neighbouring years under AR(1) noise, V_median the noise
    variance of the peers' median and b its bias (:func:`median_noise`); its p-value
    allows for the own variance's d0 + d degrees of freedom (:func:`mixture_p`). It needs
    the latest year and MIN_PEERS peers with a value in each year used. The shrunken
    levels are kept for showing."""
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
        median_var, median_bias = median_noise(
            peer_values, s2[:, peers], evidence.noise.rho, where=~np.isnan(gap)
        )
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
        # The peers' median is not centred on their levels' median when the levels are
        # unequal (its bias, :func:`median_noise`). The bias is the same every year, so
        # it enters the mean's error once, as its square, not divided over the years.
        bias2 = masked_mean(median_bias, present, axis=2) ** 2
        se = np.sqrt(factor * mean_var + bias2)
        t = direction * beyond / se
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
        other_part = masked_mean(median_var, present, axis=2) + bias2 / factor
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
        se=np.where(np.isnan(t), np.nan, se),
    )


#: Gauss–Hermite nodes (standard normal) and weights over which the p-value is averaged
#: for the uncertainty of the KPI's ρ (:func:`rho_integrated_p`).
RHO_NODES = np.array([-np.sqrt(3.0), 0.0, np.sqrt(3.0)])
RHO_WEIGHTS = np.array([1.0, 4.0, 1.0]) / 6.0


def rho_integrated_p(
    noise: Noise,
    years: npt.NDArray[np.int64] | None,
    standardised: FloatArray,
    own: FloatArray,
    other: FloatArray,
    df: FloatArray,
    *,
    factor: Callable[[FloatArray], FloatArray] | None = None,
) -> FloatArray:
    """Two-sided p-values of the gap test (kpi, focal), averaged over the KPI's ρ as
    estimated: ρ̂ ± its standard error (Gauss–Hermite, three nodes, kept in [0, MAX_RHO]).
    ρ is one estimate per KPI, shared by every municipality, so its error is in no
    series' degrees of freedom; with 21 regions it is about 0.2, and a ρ estimated too
    low understates the variance of a three-year mean twice (the variance from
    differences, 2σ²(1 − ρ), and the mean's factor f(ρ, n)). Under another ρ every
    variance of the test scales by f(ρ, n)(1 − ρ̂) / (f(ρ̂, n)(1 − ρ)) (the expected sum
    of squared differences is 2(1 − ρ) per difference, so each own variance and the
    prior scale with 1 / (1 − ρ)). With a standard error of 0 this is :func:`mixture_p`.
    ``factor`` (ρ → variance factor) stands for the mean's f(ρ, n) when the years are
    weighted otherwise (scripts/gap_horizon_backtest.py); then ``years`` is not used."""
    if factor is None:
        if years is None:
            raise ValueError("rho_integrated_p needs the years or a variance factor")
        counts = years

        def factor(r: FloatArray) -> FloatArray:
            return mean_variance_factor(r, counts)

    shape = standardised.shape
    tail = np.broadcast_to(noise.tail_df[:, None], shape).ravel()
    own_flat, other_flat, df_flat = own.ravel(), other.ravel(), df.ravel()
    centre = mixture_p(standardised.ravel(), own_flat, other_flat, df_flat, tail)
    out = centre.copy()
    rho = noise.rho[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        base = factor(rho) / (1.0 - rho)
        for node, weight in zip(RHO_NODES, RHO_WEIGHTS, strict=True):
            if node == 0.0:
                continue
            at = np.clip(rho + node * noise.rho_se[:, None], 0.0, MAX_RHO)
            scale = (factor(at) / (1.0 - at) / base).ravel()
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


def median_variance(
    values: FloatArray,
    variance: FloatArray,
    rho: FloatArray,
    where: npt.NDArray[np.bool_] | None = None,
) -> FloatArray:
    """:func:`median_noise`'s variance."""
    return median_noise(values, variance, rho, where)[0]


def median_noise(
    values: FloatArray,
    variance: FloatArray,
    rho: FloatArray,
    where: npt.NDArray[np.bool_] | None = None,
) -> tuple[FloatArray, FloatArray]:
    """The noise variance of the peers' median and its bias (E[median] − the median of
    the levels), per (kpi, focal, year): ``values`` are the peers' published values
    (kpi, focal, k, year), ``variance`` their noise variances (kpi, focal, k) and
    ``rho`` the KPIs' AR(1) correlation (kpi,).

    Both are exact for the sample median of independent normals with the peers' levels
    as means and their noise variances (:func:`median_noise_moments`): π/2 · σ²/n for n
    peers at one level, the middle one's σ² for peers far apart, and everything between.
    The levels are plugged in: a peer's level is its mean over the years present, whose
    spread over the peers overstates the levels' by the means' own noise (f(ρ, n) · σ²),
    which would push the variance toward the far-apart σ². The deviations from the
    peers' mean are therefore scaled so that their spread is the estimated spread of the
    true levels, τ̂² = max(0, spread − mean noise), peer i by √(τ̂² / (τ̂² + f σᵢ²)) (the
    constrained Bayes estimate, Louis 1984). Only the peers present in a year count for
    its median; years with the same peers share one computation. NaN where no peer has a
    value, and outside ``where`` (kpi, focal, year) when it is given."""
    kpis, focal, k, years = values.shape
    present = ~np.isnan(values)
    with np.errstate(invalid="ignore", divide="ignore"):
        count = present.sum(axis=3)
        level = np.where(present, values, 0.0).sum(axis=3) / count
        noise = mean_variance_factor(rho[:, None, None], count) * variance
        seen = count > 0
        n = seen.sum(axis=2)
        centre = masked_mean(level, seen, axis=2)[..., None]
        dev = np.where(seen, level - centre, 0.0)
        spread = (dev * dev).sum(axis=2) / (n - 1)
        between = np.maximum(spread - masked_mean(noise, seen, axis=2), 0.0)[..., None]
        scale = np.sqrt(np.where(between > 0, between / (between + noise), 0.0))
    level = np.where(seen, centre + np.nan_to_num(scale) * dev, np.nan)
    out = np.full((kpis * focal, years), np.nan)
    bias = np.full((kpis * focal, years), np.nan)
    flat_level = level.reshape(kpis * focal, k)
    flat_var = np.broadcast_to(variance, level.shape).reshape(kpis * focal, k)
    mask = present.reshape(kpis * focal, k, years)
    weights = np.left_shift(1, np.arange(k, dtype=np.int64)) if k < 63 else None
    for y in range(years - 1, -1, -1):
        wanted = mask[:, :, y].any(axis=1)
        if where is not None:
            wanted &= where.reshape(kpis * focal, years)[:, y]
        todo = np.flatnonzero(np.isnan(out[:, y]) & wanted)
        if not todo.size:
            continue
        m = mask[todo, :, y]
        out[todo, y], bias[todo, y] = median_noise_moments(
            np.where(m, flat_level[todo], np.nan), np.where(m, flat_var[todo], np.nan)
        )
        if weights is None:
            continue
        key = (mask[todo] * weights[None, :, None]).sum(axis=1)  # (todo, year)
        for earlier in range(y):
            same = key[:, earlier] == key[:, y]
            if where is not None:
                same &= where.reshape(kpis * focal, years)[todo, earlier]
            out[todo[same], earlier] = out[todo[same], y]
            bias[todo[same], earlier] = bias[todo[same], y]
    return out.reshape(kpis, focal, years), bias.reshape(kpis, focal, years)


#: Points of the grid over which the median's distribution function is integrated, and
#: how many noise SDs beyond the middle peers' levels it reaches (the mass left out is
#: below k · Φ(−4.5) ≈ 3e-6 per peer).
MEDIAN_GRID = 24
MEDIAN_TAIL = 4.5
#: Where the median's distribution function is within MEDIAN_EDGE of 0 and 1 on under
#: MEDIAN_NARROW of the first grid, it is integrated again over that part alone.
MEDIAN_EDGE = 1e-9
MEDIAN_NARROW = 0.6


def median_noise_variance(level: FloatArray, variance: FloatArray) -> FloatArray:
    """:func:`median_noise_moments`' variance."""
    return median_noise_moments(level, variance)[0]


def median_noise_moments(level: FloatArray, variance: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Var(median) and its bias, E[median] − the median of the levels, for independent
    N(level_i, variance_i) over the last axis (NaN: no peer), for every row of the
    leading axes.

    With n present, odd: the median is the order statistic r = (n + 1)/2, whose
    distribution function H(x) is P(at least r values ≤ x), a Poisson-binomial tail
    computed exactly on a grid of x (MEDIAN_GRID points from the r-th lowest of level −
    4.5 SD to the r-th lowest of level + 4.5 SD). With U the grid's top, E[U − X] = ∫H and
    E[(U − X)²] = ∫2(U − x)H, by the trapezoid rule, which for these smooth integrands is
    within 0.5 % even for peers' SDs three-fold apart (the second integrand's kink at the
    grid's top is corrected exactly: + h²/6). With n even the median is the mean of the
    order statistics n/2 and n/2 + 1: its mean is exact, but their covariance needs a
    double integral, so their two exact variances are combined with the ratio that is
    exact at equal levels (``EVEN_MEDIAN_RATIO``); for peers far apart it overstates the
    variance of the mean of two independent values 1.65-fold (n = 4) to 1.9-fold (n =
    20), on the safe side."""
    shape = level.shape[:-1]
    k = level.shape[-1]
    mu = level.reshape(-1, k)
    var = variance.reshape(-1, k)
    present = ~(np.isnan(mu) | np.isnan(var))
    n = present.sum(axis=1)
    out = np.full(mu.shape[0], np.nan)
    bias = np.where(n > 0, 0.0, np.nan)
    one = n == 1
    out[one] = np.where(present[one], var[one], 0.0).sum(axis=1)
    two = n == 2
    out[two] = np.where(present[two], var[two], 0.0).sum(axis=1) / 4.0
    for size in np.unique(n[n >= 3]):
        rows = np.flatnonzero(n == size)
        # The present peers first; an even count gets one more at +∞ (never ≤ x), so
        # that the middle two of the present are the order statistics r − 1 and r.
        order = np.argsort(~present[rows], axis=1, kind="stable")[:, :size]
        m = np.take_along_axis(mu[rows], order, axis=1)
        v = np.take_along_axis(var[rows], order, axis=1)
        even = size % 2 == 0
        if even:
            m = np.concatenate([m, np.full((rows.size, 1), np.inf)], axis=1)
            v = np.concatenate([v, np.ones((rows.size, 1))], axis=1)
        upper, lower, upper_mean, lower_mean = _order_statistic_moments(m, v, both=even)
        centre = np.median(m[:, :size], axis=1)
        if even:
            out[rows] = EVEN_MEDIAN_RATIO.get(int(size), 1.0) * (upper + lower) / 2.0
            bias[rows] = (upper_mean + lower_mean) / 2.0 - centre
        else:
            out[rows] = upper
            bias[rows] = upper_mean - centre
    return out.reshape(shape), bias.reshape(shape)


def _order_statistic_moments(
    mu: FloatArray, var: FloatArray, *, both: bool
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """Var(X_(r)), Var(X_(r−1)), E[X_(r)] and E[X_(r−1)] (without ``both`` the second
    of each is the first) for rows of K (odd) independent
    normals N(mu, var) (mu may be +∞: never ≤ x), r = (K + 1)/2. A first grid spans
    the bounds above; where the distribution functions are within MEDIAN_EDGE of 0 and 1
    on under MEDIAN_NARROW of it (many peers at one level: the median's SD is a fraction
    of a peer's), a second grid spans only that part."""
    k = mu.shape[1]
    r = (k + 1) // 2
    sd = np.sqrt(np.maximum(var, np.finfo(np.float64).tiny))  # a constant peer: a step
    with np.errstate(invalid="ignore"):
        low = np.sort(mu - MEDIAN_TAIL * sd, axis=1)[:, r - 2 if both else r - 1]
        high = np.sort(mu + MEDIAN_TAIL * sd, axis=1)[:, r - 1]
    x, upper, lower = _order_statistic_cdfs(mu, sd, low, high, both=both)
    first = np.argmax(lower >= MEDIAN_EDGE, axis=1) - 1
    last = MEDIAN_GRID - np.argmax(upper[:, ::-1] <= 1.0 - MEDIAN_EDGE, axis=1)
    first, last = np.maximum(first, 0), np.minimum(last, MEDIAN_GRID - 1)
    narrow = np.flatnonzero(last - first < MEDIAN_NARROW * (MEDIAN_GRID - 1))
    if narrow.size:
        low[narrow] = x[narrow, first[narrow]]
        high[narrow] = x[narrow, last[narrow]]
        x_n, upper_n, lower_n = _order_statistic_cdfs(
            mu[narrow], sd[narrow], low[narrow], high[narrow], both=both
        )
        x, upper, lower = x.copy(), upper.copy(), lower.copy()
        x[narrow], upper[narrow], lower[narrow] = x_n, upper_n, lower_n
    step = (high - low) / (MEDIAN_GRID - 1)
    weight = np.full(MEDIAN_GRID, 1.0)
    weight[0] = weight[-1] = 0.5
    distance = 2.0 * (high[:, None] - x) * weight

    def moments_of(cdf: FloatArray) -> tuple[FloatArray, FloatArray]:
        # E[U − X] = ∫H and E[(U − X)²] = ∫2(U − x)H over [low, high]; the second
        # integrand's slope is −2 at the upper end and 0 at the lower, so the trapezoid
        # rule's error there is −h²/6 exactly (Euler–Maclaurin), added back.
        below_high = step * (cdf * weight).sum(axis=1)  # per row: no BLAS blocking
        square = step * (cdf * distance).sum(axis=1) + step * step / 6.0
        variance = np.maximum(square - below_high * below_high, 0.0)
        return np.asarray(variance, dtype=np.float64), np.asarray(high - below_high)

    upper_var, upper_mean = moments_of(upper)
    lower_var, lower_mean = moments_of(lower) if both else (upper_var, upper_mean)
    return upper_var, lower_var, upper_mean, lower_mean


#: Rows of :func:`_order_statistic_cdfs` computed together: its working arrays (about
#: k/2 + 4 of rows × MEDIAN_GRID floats) then stay in the processor's cache instead of
#: streaming hundreds of megabytes through memory once per peer; the blocks run on the
#: machine's cores (:mod:`tillit.analyses._blocks`). Every element is computed by the
#: same operations either way, so the results are the same to the bit.
MEDIAN_BLOCK = 1024


def _order_statistic_cdfs(
    mu: FloatArray, sd: FloatArray, low: FloatArray, high: FloatArray, *, both: bool
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The grid from ``low`` to ``high`` (rows, MEDIAN_GRID) and on it P(X_(r) ≤ x) and
    P(X_(r−1) ≤ x) (the same without ``both``): the Poisson-binomial tail of how many
    peers lie below x, built up one peer at a time (in blocks of MEDIAN_BLOCK rows)."""
    rows = mu.shape[0]
    x = np.empty((rows, MEDIAN_GRID))
    upper, lower = np.empty_like(x), np.empty_like(x)

    def run(part: slice) -> None:
        x[part], upper[part], lower[part] = _order_statistic_block(
            mu[part], sd[part], low[part], high[part], both=both
        )

    for_blocks(run, rows, MEDIAN_BLOCK)
    return x, upper, lower


def _order_statistic_block(
    mu: FloatArray, sd: FloatArray, low: FloatArray, high: FloatArray, *, both: bool
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`_order_statistic_cdfs` for one block of rows."""
    k = mu.shape[1]
    r = (k + 1) // 2
    step = (high - low) / (MEDIAN_GRID - 1)
    x = low[:, None] + step[:, None] * np.arange(MEDIAN_GRID)
    # p[j] = P(exactly j of the peers so far ≤ x) for j < r; p[r] = P(at least r).
    p = [np.ones_like(x)] + [np.zeros_like(x) for _ in range(r)]
    below, above, carry = np.empty_like(x), np.empty_like(x), np.empty_like(x)
    for i in range(k):
        with np.errstate(invalid="ignore", divide="ignore"):
            np.subtract(x, mu[:, i, None], out=below)
            below /= sd[:, i, None]
            special.ndtr(below, out=below)
        np.subtract(1.0, below, out=above)
        # Peer i joins: the count below x moves up by one with probability ``below``.
        # Only the first i + 1 counts can be reached yet.
        np.multiply(p[r - 1], below, out=carry)
        p[r] += carry
        for j in range(min(r - 1, i + 1), 0, -1):
            np.multiply(p[j - 1], below, out=carry)
            p[j] *= above
            p[j] += carry
        p[0] *= above
    return x, p[r], (p[r] + p[r - 1] if both else p[r])


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
    # Contiguous along the sorted axis first: sorting many short strided rows is slower
    # than copying them together once.
    x = np.ascontiguousarray(np.moveaxis(x, axis, -1))
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
