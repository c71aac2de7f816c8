"""Year-to-year noise of every KPI series, and empirical-Bayes shrunken levels.

Kolada publishes no counts or denominators for most KPIs, so the precision of a
municipality's value is estimated from its own series: the residual variation around
its trend line over the last years. Small municipalities' series are short and jumpy,
so each estimate is pooled (empirical Bayes on variances, as in limma) with a KPI-wide
model in which log variance falls linearly with log population. docs/analyses.md gives
the reasoning; everything here is vectorized over KPIs × municipalities.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.special import digamma

from tillit.analyses._panel import FloatArray, Panel

#: Prior degrees of freedom given to the size model when pooling a series' own variance.
PRIOR_DF = 4.0
#: Years of history used for noise, levels and trends.
WINDOW = 10
#: A KPI's noise counts as measured when at least this many municipalities have a series
#: of three or more years in the window; otherwise nothing is called beyond noise.
MIN_MEASURED = 3
#: KPIs whose last value is more than this many years older than the panel's last year have
#: ended (or been replaced) and are left out.
STALE_AFTER = 2


@dataclass(frozen=True)
class Windowed:
    """Each KPI's last ``window`` years, aligned so that the last column is the KPI's
    latest year with data (KPIs end in different years)."""

    kpis: tuple[str, ...]
    municipalities: tuple[str, ...]
    end_years: npt.NDArray[np.int64]  # per KPI, the year of the last column
    values: FloatArray  # (kpi, municipality, window)

    @property
    def window(self) -> int:
        return int(self.values.shape[2])

    def years(self, kpi_index: int) -> npt.NDArray[np.int64]:
        end = int(self.end_years[kpi_index])
        return np.arange(end - self.window + 1, end + 1, dtype=np.int64)


def align_windows(
    panel: Panel, window: int = WINDOW, *, stale_after: int | None = STALE_AFTER
) -> Windowed:
    """Cut each KPI's last ``window`` years out of the panel. KPIs without any value,
    and (with ``stale_after``) KPIs that ended more than that many years before the newest
    one, are dropped. Years before the panel's first year are NaN."""
    last = panel.latest_years()
    alive = last >= 0
    if stale_after is not None:
        # Years are consecutive: index len − 1 is the panel's last year.
        alive &= last >= len(panel.years) - 1 - stale_after
    keep = np.flatnonzero(alive)
    out = np.full((keep.size, len(panel.municipalities), window), np.nan)
    # KPIs end in only a handful of distinct years: slice once per end year.
    for end in np.unique(last[keep]):
        rows = np.flatnonzero(last[keep] == end)
        start = int(end) - window + 1
        lo = max(start, 0)
        out[rows, :, lo - start :] = panel.values[keep[rows], :, lo : int(end) + 1]
    years = np.asarray(panel.years, dtype=np.int64)
    return Windowed(
        kpis=tuple(panel.kpis[i] for i in keep),
        municipalities=panel.municipalities,
        end_years=years[last[keep]],
        values=out,
    )


@dataclass(frozen=True)
class Moments:
    """Least-squares line of each series over its observed points (closed form from
    sums, so that one pass over the cube serves many statistics)."""

    n: FloatArray
    slope: FloatArray  # per year; NaN with fewer than two points
    sxx: FloatArray  # Σ (year − mean year)² over observed points
    rss: FloatArray  # residual sum of squares around the line


def series_moments(values: FloatArray) -> Moments:
    """Moments of every series along the last axis (consecutive years)."""
    x = np.arange(values.shape[-1], dtype=np.float64)
    mask = ~np.isnan(values)
    m = mask.astype(np.float64)
    n = m.sum(axis=-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        # Centre each series on its mean first: sums of squares of raw values lose
        # precision for large counts (populations, tonnes).
        centre = np.where(mask, values, 0.0).sum(axis=-1) / n
        y = np.where(mask, values - centre[..., None], 0.0)
        sx = m @ x
        sxx = m @ (x * x) - sx * sx / n
        sxy = y @ x  # Σ y = 0 after centring
        syy = np.einsum("...i,...i->...", y, y)
        slope = np.where(sxx > 0, sxy / sxx, np.nan)
        rss = np.maximum(syy - np.where(sxx > 0, slope * sxy, 0.0), 0.0)
    return Moments(n=n, slope=slope, sxx=np.where(n > 0, sxx, np.nan), rss=rss)


@dataclass(frozen=True)
class Noise:
    """Per KPI × municipality: the variance of one year's value around the series' trend."""

    variance: FloatArray  # pooled estimate (what analyses use), (kpi, municipality)
    own: FloatArray  # the series' own residual variance (NaN when df < 1)
    df: FloatArray  # its degrees of freedom (points − 2)
    model: FloatArray  # the size model's prediction
    slope_on_size: FloatArray  # per KPI: d log variance / d log population
    measured: npt.NDArray[np.bool_]  # per KPI: enough series long enough to measure noise


def estimate_noise(values: FloatArray, population: FloatArray) -> Noise:
    """Noise of each series in ``values`` (kpi, municipality, year) given each
    municipality's population. Residuals are taken around the series' least-squares
    line; missing years are left out, never closed up."""
    moments = series_moments(values)
    df = np.maximum(moments.n - 2.0, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        own = np.where(df > 0, moments.rss / df, np.nan)
    # A floor relative to the KPI's spread keeps constant series (published once, carried
    # forward) from claiming infinite precision.
    spread = _kpi_spread(values[:, :, -1])
    floor = (1e-3 * spread) ** 2
    own = np.where(np.isnan(own), np.nan, np.maximum(own, floor[:, None]))
    logpop = np.log(np.where(population > 0, population, np.nan))
    model, slope_on_size = _size_model(own, df, logpop)
    # No series long enough to show its noise (a new KPI): assume noise as large as the
    # spread between municipalities, so that nothing is called beyond noise.
    model = np.where(np.isnan(model), (spread * spread)[:, None], model)
    model = np.maximum(model, floor[:, None])
    pooled = np.where(
        df > 0,
        (np.nan_to_num(own) * df + model * PRIOR_DF) / (df + PRIOR_DF),
        model,
    )
    measured = (df > 0).sum(axis=1) >= MIN_MEASURED
    return Noise(
        variance=pooled,
        own=own,
        df=df,
        model=model,
        slope_on_size=slope_on_size,
        measured=measured,
    )


def _kpi_spread(latest: FloatArray) -> FloatArray:
    """Per KPI, the standard deviation across municipalities of its latest values
    (1 when it has fewer than two)."""
    mask = ~np.isnan(latest)
    count = mask.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(mask, latest, 0.0).sum(axis=1) / count
        dev = np.where(mask, latest - mean[:, None], 0.0)
        sd = np.sqrt((dev * dev).sum(axis=1) / np.maximum(count - 1, 1))
    return np.where((count > 1) & (sd > 0), sd, 1.0)


def _size_model(
    own: FloatArray, df: FloatArray, logpop: FloatArray
) -> tuple[FloatArray, FloatArray]:
    """Per KPI, weighted least squares of log variance on log population.

    log s² is biased by ψ(df/2) − log(df/2) for a scaled χ² variance; the bias is
    removed before fitting so that the model predicts the variance itself."""
    use = (df > 0) & np.isfinite(own) & np.isfinite(logpop)[None, :]
    with np.errstate(divide="ignore", invalid="ignore"):
        half = np.where(use, df / 2.0, 1.0)
        target = np.where(use, np.log(own) - (digamma(half) - np.log(half)), 0.0)
    w = np.where(use, df, 0.0)
    lp = np.where(np.isfinite(logpop), logpop, 0.0)[None, :]
    sw = w.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        xbar = (w * lp).sum(axis=1) / sw
        ybar = (w * target).sum(axis=1) / sw
        dx = lp - xbar[:, None]
        sxx = (w * dx * dx).sum(axis=1)
        beta = np.where(sxx > 0, (w * dx * (target - ybar[:, None])).sum(axis=1) / sxx, 0.0)
    # Fewer than ten series with residual variance: one pooled level, no size slope.
    beta = np.where(use.sum(axis=1) >= 10, beta, 0.0)
    beta = np.nan_to_num(beta)
    ybar = np.where(sw > 0, ybar, np.nan)
    fitted = ybar[:, None] + beta[:, None] * (lp - np.nan_to_num(xbar)[:, None])
    fitted = np.where(np.isfinite(logpop)[None, :], fitted, ybar[:, None])
    model = np.exp(fitted)
    return model, beta


@dataclass(frozen=True)
class Levels:
    """Empirical-Bayes shrunken values: each municipality's value pulled toward the
    national mean by B = τ² / (τ² + s²), so a small municipality's lucky year counts
    for less. Arrays are (kpi, municipality, year) except the per (kpi, year) ones."""

    shrunk: FloatArray
    posterior_variance: FloatArray
    weight: FloatArray  # B, 1 = own value kept, 0 = fully the national mean
    mean: FloatArray  # (kpi, year)
    between_variance: FloatArray  # τ², (kpi, year)


def shrink_levels(values: FloatArray, variance: FloatArray) -> Levels:
    """Shrink every year's cross-section toward its mean; ``variance`` is the noise per
    (kpi, municipality). τ² is the method-of-moments estimate, floored at 0."""
    s2 = np.broadcast_to(variance[..., None], values.shape)
    mask = ~np.isnan(values)
    count = mask.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(mask, values, 0.0).sum(axis=1) / count
        dev = np.where(mask, values - mean[:, None, :], 0.0)
        total = (dev * dev).sum(axis=1) / np.maximum(count - 1, 1)
        noise = np.where(mask, s2, 0.0).sum(axis=1) / count
        tau2 = np.maximum(total - noise, 0.0)
        # Where the noise was set to the spread itself, τ² is 0 up to rounding: make it 0.
        tau2 = np.where(tau2 > 1e-9 * total, tau2, 0.0)
        weight = tau2[:, None, :] / (tau2[:, None, :] + s2)
    weight = np.where(mask, np.nan_to_num(weight, nan=1.0), np.nan)
    shrunk = mean[:, None, :] + weight * (values - mean[:, None, :])
    return Levels(
        shrunk=shrunk,
        posterior_variance=weight * s2,
        weight=weight,
        mean=mean,
        between_variance=tau2,
    )
