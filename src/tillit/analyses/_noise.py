"""Year-to-year noise of every KPI series, its check on held-back years, and
empirical-Bayes shrunken levels.

Kolada publishes no counts or denominators for most KPIs, so the precision of a
municipality's value is estimated from its own series. The estimator works on
first differences, not on residuals around a straight line: a difference is blind to the
series' level, so a level shift costs one difference instead of bending a whole line, and
curvature hardly matters over one year. Changes shared by every municipality in a year
(a national reform, a change of definition) are removed first — each year's mean over
municipalities, whose own small noise is then subtracted exactly — since they move the
peers as much as the municipality and are no noise in a comparison. The noise is
modelled as AR(1) with a correlation ρ per KPI, estimated from the pooled variogram of
the series at lags of two and three years relative to one (the spans of the test's
three-year mean and of the check's predictions: the lag-1 correlation of the differences
alone is blind to slow drifts that build up over several years); the expected sums of
squares under that model turn the sums into unbiased variances with their effective
degrees of freedom. A series' own mean change is not taken out: the model gives a
municipality no drift of its own relative to the others, and measures the noise the
way it predicts.

Small municipalities' series are short and jumpy, so each estimate is moderated as in
limma (Smyth 2004): the prior scale s0² follows log population (log variance falls
linearly with log size, per KPI), and the prior degrees of freedom d0 are estimated per
KPI from the spread of log variances around that line by the method of moments, never
more than the degrees of freedom the series pool. A test then refers to a t distribution
with d0 + d degrees of freedom. docs/analyses.md gives the reasoning; everything here is
vectorized over KPIs × municipalities.
"""

from __future__ import annotations

import functools
import importlib.resources
import os
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special
from scipy.special import digamma, polygamma

from tillit.analyses._blocks import for_blocks
from tillit.analyses._panel import FloatArray, Panel

#: The prior degrees of freedom are estimated per KPI; this caps them (a KPI whose
#: series' variances scatter no more than sampling error explains gets the size model).
MAX_PRIOR_DF = 1000.0
#: A KPI with fewer series than this (the 21 regions, or a KPI few municipalities report)
#: has two errors of its pooled estimates counted that are negligible with the 290
#: municipalities (docs/analyses.md, "Regions: 21 units"): ρ's standard error (tests
#: average over it) and the size model's error at each size (:func:`_unit_prior_df`).
FEW_SERIES = 50
#: Years of history used for noise, levels and trends.
WINDOW = 10
#: A KPI's noise counts as measured when at least this many municipalities have a series
#: with two or more year-to-year changes in the window; otherwise nothing is called
#: beyond noise.
MIN_MEASURED = 3
#: KPIs whose last value is more than this many years older than the panel's last year have
#: ended (or been replaced) and are left out.
STALE_AFTER = 2
#: The noise's AR(1) correlation is kept in [0, MAX_RHO]: a negative estimate is taken as
#: 0 (conservative), and a series that wanders like a random walk is capped.
MAX_RHO = 0.9
#: Years held back when checking a KPI's noise model (the analyses hold back the years
#: they test, see ``_evidence.RECENT``).
HELD_OUT = 3
#: The check fails when the held-back years' standardised changes (on the normal scale,
#: each capped at ±4 so that a few real changes do not decide it) vary more than this
#: many times what the model says (1 is perfect) …
MAX_VARIANCE_RATIO = 1.5
#: … or when more of them fall outside the 99.8 % band than 0.2 % could give by chance:
#: a one-sided binomial test at this level …
TAIL_TEST_LEVEL = 0.001
#: … and it cannot be done with fewer held-back changes than this.
MIN_CHECKED = 20
#: The score at which a standardised change is capped in the variance ratio.
SCORE_CAP = 4.0


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


# -- AR(1) noise seen through centred first differences --------------------------------------

_RHO_GRID = np.linspace(0.0, MAX_RHO, 91)


@functools.lru_cache(maxsize=64)
def _difference_table(changes: int) -> tuple[FloatArray, FloatArray]:
    """For a series of ``changes`` consecutive first differences e of AR(1) noise with
    unit variance, on the grid of ρ: E[Σ e²] and the effective degrees of freedom
    tr(M)² / tr(M²) of Σ e²."""
    n = changes
    points = n + 1
    lag = np.abs(np.subtract.outer(np.arange(points), np.arange(points)))
    diff = np.zeros((n, points))
    diff[np.arange(n), np.arange(1, points)] = 1.0
    diff[np.arange(n), np.arange(n)] = -1.0
    ss = np.empty(_RHO_GRID.size)
    df = np.empty(_RHO_GRID.size)
    for g, rho in enumerate(_RHO_GRID):
        m = diff @ (rho**lag) @ diff.T
        ss[g] = np.trace(m)
        df[g] = np.trace(m) ** 2 / np.trace(m @ m) if np.trace(m @ m) > 0 else 0.0
    return ss, df


def _table(changes: npt.NDArray[np.int64]) -> tuple[FloatArray, FloatArray]:
    """The tables of :func:`_difference_table` stacked for every count in ``changes``
    (0 and 1 give zeros)."""
    top = int(changes.max()) if changes.size else 0
    ss = np.zeros((top + 1, _RHO_GRID.size))
    df = np.zeros_like(ss)
    for c in range(2, top + 1):
        ss[c], df[c] = _difference_table(c)
    return ss, df


@functools.lru_cache(maxsize=64)
def _ratio_table(changes: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """For a series of ``changes`` consecutive first differences e of AR(1) noise, on the
    grid of ρ: the median lag-1 and lag-2 autocorrelations of e as one series shows them,
    Σ e_t e_{t−1} / Σ e² and Σ e_t e_{t−2} / Σ e², and the expected sample kurtosis
    n·Σe⁴ / (Σe²)² (:func:`simulate_ratio_table`). Read from the table shipped with Tillit
    (``data/ar1_ratios.npz``, written by ``scripts/ar1_ratio_tables.py``: the simulation
    costs 0.7 s per process and its last bits could differ between machines' BLAS), else
    simulated. The arrays are read-only (shared by threads)."""
    shipped = _shipped_ratio_tables()
    if f"r1_{changes}" in shipped:
        tables = tuple(np.array(shipped[f"{k}_{changes}"]) for k in ("r1", "r2", "kurtosis"))
    else:
        tables = simulate_ratio_table(changes)
    for table in tables:
        table.flags.writeable = False
    r1, r2, kurtosis = tables
    return r1, r2, kurtosis


@functools.lru_cache(maxsize=1)
def _shipped_ratio_tables() -> dict[str, FloatArray]:
    """The shipped tables, if they were made on this grid with this many draws."""
    resource = importlib.resources.files("tillit.analyses").joinpath(RATIO_TABLES)
    try:
        with resource.open("rb") as handle, np.load(handle) as data:
            tables = {k: np.asarray(data[k], dtype=np.float64) for k in data.files}
    except FileNotFoundError:
        return {}
    grid = tables.pop("grid", np.empty(0))
    draws = tables.pop("draws", np.zeros(1))
    if not (np.array_equal(grid, _RHO_GRID) and int(draws[0]) == _RATIO_DRAWS):
        return {}
    return tables


#: Where the simulated tables are shipped, in the package.
RATIO_TABLES = "data/ar1_ratios.npz"
#: The series lengths (numbers of differences) shipped.
SHIPPED_CHANGES = range(2, 13)


def simulate_ratio_table(changes: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """:func:`_ratio_table` by simulation with a fixed seed: such ratios have no closed
    form, and neighbouring differences are correlated."""
    points = changes + 1
    lag = np.abs(np.subtract.outer(np.arange(points), np.arange(points)))
    draws = np.random.default_rng(changes).standard_normal((_RATIO_DRAWS, points))
    r1 = np.empty(_RHO_GRID.size)
    r2 = np.empty(_RHO_GRID.size)
    kurtosis = np.empty(_RHO_GRID.size)
    for g, rho in enumerate(_RHO_GRID):
        x = draws @ np.linalg.cholesky(rho**lag).T
        e = np.diff(x, axis=1)
        squared = e * e
        ss = squared.sum(axis=1)
        r1[g] = np.median((e[:, 1:] * e[:, :-1]).sum(axis=1) / ss)
        r2[g] = np.median((e[:, 2:] * e[:, :-2]).sum(axis=1) / ss) if changes > 2 else 0.0
        kurtosis[g] = np.mean(changes * (squared * squared).sum(axis=1) / (ss * ss))
    return r1, r2, kurtosis


def write_ratio_tables(path: str | os.PathLike[str]) -> None:
    """Simulate the tables for SHIPPED_CHANGES and write them to ``path`` (.npz)."""
    out: dict[str, FloatArray] = {"grid": _RHO_GRID, "draws": np.array([float(_RATIO_DRAWS)])}
    for c in SHIPPED_CHANGES:
        out[f"r1_{c}"], out[f"r2_{c}"], out[f"kurtosis_{c}"] = simulate_ratio_table(c)
    np.savez(path, **out)  # type: ignore[arg-type]


def _weighted_median(x: FloatArray, weight: FloatArray) -> FloatArray:
    """Per row of ``x`` (kpi, series), the median weighted by ``weight`` (NaN without
    weight)."""
    return _weighted_quantile(x, weight, np.full(x.shape[0], 0.5))


def _weighted_quantile(x: FloatArray, weight: FloatArray, fraction: FloatArray) -> FloatArray:
    """Per row of ``x`` (kpi, series), the smallest value at which the cumulative
    ``weight`` reaches ``fraction`` (per row) of the row's total (NaN without weight)."""
    if x.shape[1] == 0:
        return np.full(x.shape[0], np.nan)
    order = np.argsort(np.where(weight > 0, x, np.inf), axis=1)
    xs = np.take_along_axis(x, order, axis=1)
    cum = np.cumsum(np.take_along_axis(weight, order, axis=1), axis=1)
    total = cum[:, -1:] if cum.size else np.zeros((x.shape[0], 1))
    first = np.argmax(cum >= fraction[:, None] * total, axis=1)
    out = np.take_along_axis(xs, first[:, None], axis=1)[:, 0]
    return np.asarray(np.where(total[:, 0] > 0, out, np.nan), dtype=np.float64)


#: Simulated series per point of the grid for :func:`_ratio_table`.
_RATIO_DRAWS = 4000


def _estimate_rho(diffs: Differences) -> tuple[FloatArray, FloatArray]:
    """ρ per KPI from the series' variograms at lags 2 and 3 relative to lag 1 (the spans
    of the test's three-year mean and of the check's predictions: the lag-1 correlation
    of the differences alone is blind to slow drifts that build up over several years).
    For differences e, Σ(y_{t+2} − y_t)² and Σ(y_{t+3} − y_t)² are about 2Σe² + 2Σe_t e_{t−1}
    and 3Σe² + 4Σe_t e_{t−1} + 2Σe_t e_{t−2}, so the ratios are set by the lag-1 and lag-2
    autocorrelations of e. Each series shows its own, and their median over the series
    (weighted by the number of differences) is matched to what it would be on the grid
    of ρ: one vote per municipality whatever its scale, so a few series with a step or a
    large noise cannot set ρ for all (pooled sums of squares let them). Returns ρ and
    its standard error (from the medians' order statistics, see below)."""
    changes = diffs.changes
    usable = (changes >= 2) & (diffs.ss > 0)
    weight = np.where(usable, changes, 0).astype(np.float64)
    # A lag-2 autocorrelation needs three differences: shorter series vote on lag 1 only.
    weight2 = np.where(changes >= 3, weight, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        r1 = np.where(usable, diffs.cross / diffs.ss, 0.0)
        r2 = np.where(usable, diffs.cross2 / diffs.ss, 0.0)
        total = weight.sum(axis=1)
        total2 = weight2.sum(axis=1)
        median1 = _weighted_median(r1, weight)
        median2 = _weighted_median(r2, weight2)
    top = int(changes.max()) if changes.size else 0
    table1 = np.zeros((top + 1, _RHO_GRID.size))
    table2 = np.zeros_like(table1)
    for c in range(2, top + 1):
        table1[c], table2[c], _ = _ratio_table(c)
    # Per KPI, the weighted mean of the tables over its series' numbers of differences.
    kpis, width = changes.shape[0], top + 1
    rows = np.repeat(np.arange(kpis), changes.shape[1]) * width + np.minimum(changes, top).ravel()

    def per_kpi(w: FloatArray) -> FloatArray:
        counts = np.bincount(rows, weights=w.ravel(), minlength=kpis * width)
        return np.asarray(counts, dtype=np.float64).reshape(kpis, width)

    with np.errstate(invalid="ignore", divide="ignore"):
        e1 = (per_kpi(weight) @ table1) / total[:, None]
        e2 = (per_kpi(weight2) @ table2) / total2[:, None]

    def match(m1: FloatArray, m2: FloatArray, rows: npt.NDArray[np.int64]) -> FloatArray:
        """ρ on the grid for medians ``m1``, ``m2`` of the KPIs ``rows``."""
        with np.errstate(invalid="ignore", divide="ignore"):
            d1 = e1[rows] - m1[:, None]
            d2 = np.where(total2[rows, None] > 0, e2[rows] - m2[:, None], 0.0)
            misfit = (2.0 * d1) ** 2 + (4.0 * d1 + 2.0 * d2) ** 2
        g = np.argmin(np.where(np.isfinite(misfit), misfit, np.inf), axis=1)
        return np.asarray(np.where(total[rows] > 0, _RHO_GRID[g], 0.0), dtype=np.float64)

    rho = match(median1, median2, np.arange(kpis))
    # Its standard error, counted only where fewer than FEW_SERIES series vote
    # (docs/analyses.md, "Regions: 21 units"; with 290 it would drop a tenth of the
    # municipalities' validated flags): the order statistics one standard error of rank
    # either side of each median (a median of n has rank SD √n / 2, so the fraction moves
    # 1 / (2√n), n the effective number of series), matched like the medians. Both
    # autocorrelations of the differences rise with ρ, so the upper ends give the upper
    # bound.
    se = np.zeros(kpis)
    with np.errstate(invalid="ignore", divide="ignore"):
        voters = total * total / (weight * weight).sum(axis=1)
        few = np.flatnonzero(np.nan_to_num(voters) < FEW_SERIES)
        if few.size:
            w1, w2 = weight[few], weight2[few]
            step1 = np.nan_to_num(0.5 * np.sqrt((w1 * w1).sum(axis=1)) / total[few])
            step2 = np.nan_to_num(0.5 * np.sqrt((w2 * w2).sum(axis=1)) / total2[few])
            lower, upper = (
                match(
                    _weighted_quantile(r1[few], w1, np.clip(0.5 + side * step1, 0.0, 1.0)),
                    _weighted_quantile(r2[few], w2, np.clip(0.5 + side * step2, 0.0, 1.0)),
                    few,
                )
                for side in (-1.0, 1.0)
            )
            se[few] = (upper - lower) / 2.0
    return rho, se


@dataclass(frozen=True)
class Differences:
    """Centred differences between successive observed values of every series, each
    year's mean level across municipalities taken out first."""

    changes: npt.NDArray[np.int64]  # differences per series (kpi, municipality)
    ss: FloatArray  # Σ e² per series
    cross: FloatArray  # Σ e_t e_{t−1} per series
    cross2: FloatArray  # Σ e_t e_{t−2} per series
    fourth: FloatArray  # Σ e⁴ per series (for the tails)
    last: FloatArray  # the series' last observed value relative to the year mean
    last_index: npt.NDArray[np.int64]  # its position on the year axis (−1: none)
    count: FloatArray  # (kpi,): municipalities with a value, on average over the years


def centred_differences(values: FloatArray) -> Differences:
    """Differences between successive observed values along the last axis of ``values``
    (kpi, municipality, year) after taking out each year's mean over municipalities
    (a change every municipality shares moves the peers as much: it is no noise in a
    comparison). A series' own mean change is not removed: the model gives a
    municipality no drift of its own (see :func:`check_noise`). A missing year is skipped,
    so a series published every other year gives two-year differences."""
    with np.errstate(invalid="ignore"):
        observed = ~np.isnan(values)
        per_year = observed.sum(axis=1)
        total = np.where(observed, values, 0.0).sum(axis=1)
        year_mean = np.where(per_year > 0, total / np.maximum(per_year, 1), np.nan)
        with_values = np.where(per_year > 0, per_year, 0)
        years_with = (per_year > 0).sum(axis=1)
        per_kpi = np.where(years_with > 0, with_values.sum(axis=1) / np.maximum(years_with, 1), 1.0)
    relative = values - year_mean[:, None, :]
    present = ~np.isnan(relative)
    width = values.shape[-1]
    n_obs = present.sum(axis=-1)
    first = np.where(n_obs > 0, np.argmax(present, axis=-1), -1)
    last_year = np.where(n_obs > 0, width - 1 - np.argmax(present[..., ::-1], axis=-1), -1)
    d = np.diff(relative, axis=-1)
    # A series with a missing year inside: its observed values packed first (a stable
    # sort on "missing"), so that the difference spans the gap.
    inside = (n_obs > 0) & (last_year - first + 1 > n_obs)
    if inside.any():
        rows = relative[inside]
        order = np.argsort(np.isnan(rows), axis=-1, kind="stable")
        d[inside] = np.diff(np.take_along_axis(rows, order, axis=-1), axis=-1)
    valid = ~np.isnan(d)
    count = valid.sum(axis=-1)
    e = np.where(valid, d, 0.0)
    last = np.take_along_axis(relative, np.maximum(last_year, 0)[..., None], -1)[..., 0]
    squared = e * e
    ss = squared.sum(axis=-1)
    # e is 0 where a difference is missing, so the products need no mask.
    cross = np.einsum("...i,...i->...", e[..., 1:], e[..., :-1])
    cross2 = np.einsum("...i,...i->...", e[..., 2:], e[..., :-2])
    fourth = np.einsum("...i,...i->...", squared, squared)
    return Differences(
        changes=count.astype(np.int64),
        ss=ss,
        cross=cross,
        cross2=cross2,
        fourth=fourth,
        last=np.where(n_obs > 0, last, np.nan),
        last_index=last_year.astype(np.int64),
        count=per_kpi.astype(np.float64),
    )


@dataclass(frozen=True)
class Noise:
    """Per KPI × municipality: the variance of one year's value around the series' own
    smooth path, moderated toward a size model (limma-style)."""

    variance: FloatArray  # moderated estimate s̃² (what analyses use), (kpi, municipality)
    own: FloatArray  # the series' own variance (NaN when df is 0)
    df: FloatArray  # its effective degrees of freedom (0 without two changes)
    model: FloatArray  # the prior scale s0² from the size model
    slope_on_size: FloatArray  # per KPI: d log variance / d log population
    measured: npt.NDArray[np.bool_]  # per KPI: enough series long enough to measure noise
    prior_df: FloatArray  # per KPI: d0, estimated from the data (≤ MAX_PRIOR_DF)
    rho: FloatArray  # per KPI: the noise's AR(1) correlation from one year to the next
    tail_df: FloatArray  # per KPI: ν of a t with the noise's kurtosis (MAX_PRIOR_DF: normal)
    #: Per KPI: the standard error of ρ (about 0.2 with 21 series of seven years), which the
    #: gap test averages over (``_evidence.rho_integrated_p``); 0, not counted, for a KPI
    #: with FEW_SERIES series or more.
    rho_se: FloatArray
    #: (kpi, municipality): d0 less what the size model's own error at the municipality's
    #: size costs (:func:`_unit_prior_df`; d0 itself for KPIs with FEW_SERIES series or
    #: more); the moderated variance and its t use it.
    unit_prior_df: FloatArray

    @property
    def total_df(self) -> FloatArray:
        """Degrees of freedom of a moderated t: d0 + d, (kpi, municipality)."""
        return self.unit_prior_df + self.df

    def subset(self, kpis: npt.NDArray[np.int64]) -> Noise:
        """The same noise for some KPIs (indices)."""
        return Noise(
            variance=self.variance[kpis],
            own=self.own[kpis],
            df=self.df[kpis],
            model=self.model[kpis],
            slope_on_size=self.slope_on_size[kpis],
            measured=self.measured[kpis],
            prior_df=self.prior_df[kpis],
            rho=self.rho[kpis],
            tail_df=self.tail_df[kpis],
            rho_se=self.rho_se[kpis],
            unit_prior_df=self.unit_prior_df[kpis],
        )

    def p_value(self, t: FloatArray) -> FloatArray:
        """Two-sided p-values of statistics ``t`` (kpi, municipality) that are a difference
        over its estimated standard error: referred to t with the moderated degrees of
        freedom, or, where the noise's tails are heavier than those, to a t with the
        tails' ν scaled to unit variance."""
        return two_sided_p(t, self.total_df, np.broadcast_to(self.tail_df[:, None], t.shape))


def two_sided_p(t: FloatArray, total_df: FloatArray, tail_df: FloatArray) -> FloatArray:
    """See :meth:`Noise.p_value`; broadcasts."""
    heavy = tail_df < total_df
    df = np.where(heavy, tail_df, total_df)
    with np.errstate(invalid="ignore", divide="ignore"):
        scale = np.where(heavy, np.sqrt(tail_df / np.maximum(tail_df - 2.0, 1e-9)), 1.0)
        return np.asarray(2.0 * special.stdtr(df, -np.abs(t) * scale), dtype=np.float64)


#: Nodes per p-value in :func:`mixture_p` (odd, for Simpson's rule) and their weights
#: (the spacing cancels in the ratio).
_MIX_NODES = 49
_SIMPSON = np.where(np.arange(_MIX_NODES) % 2 == 1, 4.0, 2.0)
_SIMPSON[[0, -1]] = 1.0


def mixture_p(
    z: FloatArray, own: FloatArray, other: FloatArray, total_df: FloatArray, tail_df: FloatArray
) -> FloatArray:
    """Two-sided p-values of standardised gaps ``z`` (a gap over the square root of its
    variance's multiplier) whose variance is ``own`` + ``other``: ``own`` an estimate
    with ``total_df`` degrees of freedom, ``other`` known far better (the peers' median).
    Exact under the moderated model: the own variance σ² is s̃²·ν/χ²_ν, and the p-value is
    E[2Φ(−|z| / √(σ² + other))] over it, integrated numerically over log(χ²_ν / ν) on a
    grid fitted to ν and z (out to where the χ² density has fallen by e⁻²³, and to the
    variances that still matter for that z). With ``other`` =
    0 it is the t_ν p-value, with ν → ∞ the normal one; where the noise's tails are
    heavier (``tail_df`` < ``total_df``), ν is the tails' and σ² is scaled to the same
    mean (the tails then apply to the own part only: with ``other`` = 0 this is exactly
    :func:`two_sided_p`). All arguments have one shape (flat); NaN in, NaN
    out. Within 1 % of the exact value (Simpson's rule on 49 nodes)."""
    out = np.full(z.shape, np.nan)
    ok = np.isfinite(z) & np.isfinite(own) & np.isfinite(other) & (total_df > 0)
    # Nothing known besides the own variance: the t distribution itself.
    plain = ok & (other == 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        out[plain] = two_sided_p(z[plain] / np.sqrt(own[plain]), total_df[plain], tail_df[plain])
    rows = np.flatnonzero(ok & ~plain)

    def run(part: slice) -> None:  # bounded memory: (chunk, nodes) arrays
        at = rows[part]
        out[at] = _mixture_chunk(z[at], own[at], other[at], total_df[at], tail_df[at])

    for_blocks(run, rows.size, _MIX_CHUNK)
    return out


#: Values per block in :func:`mixture_p`.
_MIX_CHUNK = 8192


def _mixture_chunk(
    z: FloatArray, own: FloatArray, other: FloatArray, total_df: FloatArray, tail_df: FloatArray
) -> FloatArray:
    """:func:`mixture_p` for finite values."""
    heavy = tail_df < total_df
    nu = np.where(heavy, tail_df, total_df)[:, None]
    scale = np.where(heavy, (nu[:, 0] - 2.0) / nu[:, 0], 1.0)[:, None]
    spread = 10.0 * np.sqrt(2.0 / nu)  # log χ²/ν has SD ≈ √(2/ν) for many df
    reach = np.log1p(z[:, None] ** 2 / nu)  # how large σ² may matter for this z
    lo = -np.minimum(600.0, np.maximum(46.0 / nu, reach + spread))
    hi = np.log1p(spread)
    grid = lo + (hi - lo) * np.linspace(0.0, 1.0, _MIX_NODES)[None, :]  # z = log(χ² / ν)
    c = nu * np.exp(grid)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore", under="ignore"):
        # χ²_ν density at c times dc/dz = c.
        weight = np.exp((nu / 2.0) * np.log(c / 2.0) - c / 2.0 - special.gammaln(nu / 2.0))
        variance = own[:, None] * scale * nu / c + other[:, None]
        tail = 2.0 * special.ndtr(-np.abs(z)[:, None] / np.sqrt(variance))
        # Simpson's rule on the evenly spaced nodes (an odd number of them).
        # A row-wise sum, not a matrix product: BLAS rounds a row differently depending on
        # how many rows it is given, and one p-value must not depend on its neighbours.
        p = (weight * tail * _SIMPSON).sum(axis=1) / (weight * _SIMPSON).sum(axis=1)
    return np.asarray(np.clip(p, 0.0, 1.0), dtype=np.float64)


def estimate_noise(
    values: FloatArray, population: FloatArray, *, diffs: Differences | None = None
) -> Noise:
    """Noise of each series in ``values`` (kpi, municipality, year) given each
    municipality's population. Missing years are left out, never closed up: only
    consecutive observed years give a difference. ``diffs`` are the values'
    :func:`centred_differences` when the caller has them already."""
    if diffs is None:
        diffs = centred_differences(values)
    changes = diffs.changes
    ss_table, df_table = _table(changes)
    rho, rho_se = _estimate_rho(diffs)
    g = np.rint(rho / (_RHO_GRID[1] - _RHO_GRID[0])).astype(np.int64)
    expectation = ss_table[changes, g[:, None]]  # (kpi, municipality)
    usable = changes >= 2
    df = np.where(usable, df_table[changes, g[:, None]], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        own = np.where(usable & (expectation > 0), diffs.ss / expectation, np.nan)
    own = _without_mean_noise(own, diffs.count)
    # A floor relative to the KPI's spread keeps constant series (published once, carried
    # forward) from claiming infinite precision.
    spread = _kpi_spread(values[:, :, -1])
    floor = (1e-3 * spread) ** 2
    own = np.where(np.isnan(own), np.nan, np.maximum(own, floor[:, None]))
    logpop = np.log(np.where(population > 0, population, np.nan))
    # Series at the floor are near-constant: they say nothing about the prior's spread.
    informative = own > floor[:, None] * (1 + 1e-9)
    weight = np.where(informative, df, 0.0)
    fitted, slope_on_size = _size_model(own, weight, logpop)
    prior_df, model = _prior(own, weight, fitted)
    unit_prior_df = _unit_prior_df(prior_df, weight, logpop, slope_fitted=slope_on_size != 0.0)
    # No series long enough to show its noise (a new KPI): assume noise as large as the
    # spread between municipalities, so that nothing is called beyond noise.
    model = np.where(np.isnan(model), (spread * spread)[:, None], model)
    model = np.maximum(model, floor[:, None])
    d0 = unit_prior_df
    moderated = np.where(
        df > 0,
        (np.nan_to_num(own) * df + model * d0) / (df + d0),
        model,
    )
    measured = (df > 0).sum(axis=1) >= MIN_MEASURED
    # With few series, ρ rests on the lag-2 autocorrelation of their changes (lag 1 alone
    # is blind to slow drifts, and the median of 21 series' single lag-1 product does not
    # pin it down): a KPI whose series have fewer than three changes each in the fitted
    # years (published every other year) is not measured. With 21 regions such KPIs gave
    # most of the false flags of a null on the real panel (docs/analyses.md).
    series = (df > 0).sum(axis=1)
    measured &= (series >= FEW_SERIES) | ((changes >= 3).sum(axis=1) >= MIN_MEASURED)
    tail_df = _tail_df(diffs, g)
    return Noise(
        variance=moderated,
        own=own,
        df=df,
        model=model,
        slope_on_size=slope_on_size,
        measured=measured,
        prior_df=prior_df,
        rho=rho,
        tail_df=tail_df,
        rho_se=rho_se,
        unit_prior_df=unit_prior_df,
    )


def _without_mean_noise(seen: FloatArray, count: FloatArray) -> FloatArray:
    """Variances of series measured against the year's mean of n series: y − ȳ has
    variance σ²(1 − 2/n) + Σσ²/n², so σ² = (seen − Σσ²/n²) / (1 − 2/n), with Σσ² the
    sum of what the series show (scaled up for those without an estimate)."""
    n = np.maximum(count, 3.0)[:, None]
    present = np.isfinite(seen)
    with np.errstate(invalid="ignore", divide="ignore"):
        total = (
            np.nansum(seen, axis=1, keepdims=True)
            * count[:, None]
            / np.maximum(present.sum(axis=1, keepdims=True), 1)
        )
        shared = total / (n * n)
        out = (seen - shared) / (1.0 - 2.0 / n)
    return np.asarray(np.where(present, np.maximum(out, 0.0), np.nan), dtype=np.float64)


def _tail_df(diffs: Differences, rho_index: npt.NDArray[np.int64]) -> FloatArray:
    """Per KPI, the ν of a t distribution with the noise's excess kurtosis: the pooled
    sample kurtosis of the differences less its expectation under normal AR(1) noise with
    the KPI's ρ (simulated: neighbouring differences are correlated, so it is below the
    3n/(n + 2) of independent values), doubled (a difference of two independent values
    has half their excess kurtosis); ν = 4 + 6/κ, at least 3. MAX_PRIOR_DF when κ ≤ 0.
    ``rho_index`` is each KPI's ρ as an index on the grid."""
    changes = diffs.changes
    n = changes.astype(np.float64)
    use = (n >= 3) & (diffs.ss > 0)
    top = int(changes.max()) if changes.size else 0
    table = np.zeros((top + 1, _RHO_GRID.size))
    for c in range(2, top + 1):
        table[c] = _ratio_table(c)[2]
    expected = table[np.minimum(changes, top), rho_index[:, None]]
    with np.errstate(invalid="ignore", divide="ignore"):
        kurtosis = np.where(use, n * diffs.fourth / (diffs.ss * diffs.ss), 0.0)
        excess = np.where(use, kurtosis - expected, 0.0)
        weight = np.where(use, n, 0.0)
        kappa = 2.0 * (excess * weight).sum(axis=1) / weight.sum(axis=1)
        nu = np.where(kappa > 0, np.maximum(4.0 + 6.0 / kappa, 3.0), MAX_PRIOR_DF)
    return np.asarray(np.where(np.isfinite(nu), np.minimum(nu, MAX_PRIOR_DF), MAX_PRIOR_DF))


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
    """Per KPI, weighted least squares of log variance on log population: the fitted
    E[log s²] − (ψ(d/2) − log(d/2)) for each series, and the slope.

    log s² is biased by ψ(df/2) − log(df/2) for a scaled χ² variance; the bias is
    removed before fitting so that the fit is of log σ² itself."""
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
    # Fewer than ten series with a variance: one pooled level, no size slope.
    beta = np.where(use.sum(axis=1) >= 10, beta, 0.0)
    beta = np.nan_to_num(beta)
    ybar = np.where(sw > 0, ybar, np.nan)
    fitted = ybar[:, None] + beta[:, None] * (lp - np.nan_to_num(xbar)[:, None])
    fitted = np.where(np.isfinite(logpop)[None, :], fitted, ybar[:, None])
    return fitted, beta


def _prior(own: FloatArray, df: FloatArray, fitted: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Smyth's (2004) moment estimates: per KPI the prior degrees of freedom d0 from the
    variance of log s² around the size model beyond what sampling explains,
    ψ′(d0/2) = mean(e² − ψ′(d/2)), and the prior scale s0² per series."""
    use = (df > 0) & np.isfinite(own) & np.isfinite(fitted)
    count = use.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = np.where(use, df / 2.0, 1.0)
        e = np.where(use, np.log(own) - (digamma(half) - np.log(half)) - fitted, 0.0)
        # Two parameters (level, slope) were fitted to e.
        scale = count / np.maximum(count - 2, 1)
        excess = (
            np.where(use, e * e, 0.0).sum(axis=1) * scale
            - np.where(use, polygamma(1, half), 0.0).sum(axis=1)
        ) / count
    # The prior scale is itself estimated from the series: never known better than the
    # degrees of freedom they pool (less the two fitted), however alike they look.
    pooled = np.maximum(np.where(use, df, 0.0).sum(axis=1) - 2.0, 1.0)
    ceiling = np.minimum(pooled, MAX_PRIOR_DF)
    prior_df = np.where(
        (count >= 3) & (excess > 0),
        np.minimum(2.0 * _trigamma_inverse(np.where(excess > 0, excess, 1.0)), ceiling),
        ceiling,
    )
    half0 = prior_df / 2.0
    model = np.exp(fitted + (digamma(half0) - np.log(half0))[:, None])
    return prior_df, model


def _unit_prior_df(
    prior_df: FloatArray,
    weight: FloatArray,
    logpop: FloatArray,
    *,
    slope_fitted: npt.NDArray[np.bool_],
) -> FloatArray:
    """Per (kpi, municipality), the prior degrees of freedom once the size model's own
    error at that size is counted: the line is fitted to the series' log variances, each
    off it by sampling (ψ′(d/2)) and by the prior's spread (ψ′(d₀/2)), so its value at
    log population x has variance Σ aⱼ² vⱼ (aⱼ the weighted least-squares weights of the
    fit at x), and d₀ᵢ solves ψ′(d₀ᵢ/2) = ψ′(d₀/2) + that variance. Smyth's moment estimate
    allows for the two fitted parameters only on average; at the ends of the size range
    (with 21 regions, Gotland and Stockholm) the line is far less certain than in the
    middle. With 290 municipalities the variance is a few thousandths, and it is not
    counted for a KPI with FEW_SERIES series or more (d₀ᵢ = d₀): the municipalities'
    results stay as they were validated."""
    out = np.broadcast_to(prior_df[:, None], weight.shape).copy()
    few = np.flatnonzero((weight > 0).sum(axis=1) < FEW_SERIES)
    if few.size == 0:
        return out
    d0 = prior_df[few]
    use = weight[few] > 0
    lp = np.where(np.isfinite(logpop), logpop, np.nan)[None, :]
    w = np.where(use, weight[few], 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        half = np.where(use, w / 2.0, 1.0)
        v = np.where(use, polygamma(1, half), 0.0) + polygamma(1, d0 / 2.0)[:, None]
        sw = w.sum(axis=1, keepdims=True)
        x = np.where(use, np.nan_to_num(lp), 0.0)
        xbar = (w * x).sum(axis=1, keepdims=True) / sw
        dx = np.where(use, x - xbar, 0.0)
        sxx = (w * dx * dx).sum(axis=1, keepdims=True)
        fitted = slope_fitted[few, None] & (sxx > 0)
        w2v = w * w * v
        a0 = w2v.sum(axis=1, keepdims=True) / (sw * sw)
        a1 = np.where(fitted, 2.0 * (w2v * dx).sum(axis=1, keepdims=True) / (sw * sxx), 0.0)
        a2 = np.where(fitted, (w2v * dx * dx).sum(axis=1, keepdims=True) / (sxx * sxx), 0.0)
        at = np.nan_to_num(lp - xbar)  # a municipality without a population: the mean
        extra = a0 + a1 * at + a2 * at * at
        target = polygamma(1, d0 / 2.0)[:, None] + extra
        lowered = 2.0 * _trigamma_inverse(np.where(np.isfinite(target) & (target > 0), target, 1.0))
    ok = np.isfinite(extra) & (sw > 0)
    out[few] = np.where(ok, np.minimum(lowered, d0[:, None]), d0[:, None])
    return out


def _trigamma_inverse(y: FloatArray) -> FloatArray:
    """x with ψ′(x) = y (y > 0), by Smyth's Newton iteration on 1/ψ′. Each value stops on
    its own once its step is below 1e-8 of it, so that a KPI's d0 is the same to the last
    bit whichever other KPIs are estimated beside it."""
    x = np.where(y > 1e6, 1.0 / np.sqrt(y), np.where(y < 1e-6, 1.0 / y, 0.5 + 1.0 / y))
    active = np.ones(np.shape(x), dtype=bool)
    for _ in range(50):
        tri = polygamma(1, x)
        step = tri * (1.0 - tri / y) / polygamma(2, x)
        x = np.where(active, x + step, x)
        active &= ~(np.abs(step) < 1e-8 * x)
        if not active.any():
            break
    return np.asarray(x, dtype=np.float64)


def mean_variance_factor(rho: npt.ArrayLike, years: npt.ArrayLike) -> FloatArray:
    """Var(mean of ``years`` consecutive values) / σ² under AR(1) noise with ``rho``:
    Σ_s Σ_t ρ^|s−t| / n² (broadcasts)."""
    n = np.asarray(years, dtype=np.float64)
    r = np.asarray(rho, dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        # Σ_{s,t} ρ^|s−t| = n + 2 Σ_{l=1}^{n−1} (n − l) ρ^l, closed form for ρ < 1.
        total = np.where(
            r > 0,
            n + 2.0 * r * (n - 1 - n * r + r**n) / (1 - r) ** 2,
            n,
        )
        return np.where(n > 0, total / (n * n), np.nan)


@dataclass(frozen=True)
class NoiseCheck:
    """How the noise model fitted on all but the last ``held_out`` years of a window
    predicts each of those years. ``u`` are standardised changes from the last fitted
    year (kpi, municipality, held-out year), referred to t with ``df`` degrees of
    freedom; ``score`` are the same on the normal scale (Φ⁻¹ of the t probability), so
    they are N(0, 1) when the model is right. Per KPI: the variance ratio mean(score²),
    capped at SCORE_CAP, the share outside the 99.8 % band, how many were checked, and
    whether it passed."""

    noise: Noise  # the model fitted on the years before the held-back ones
    u: FloatArray
    df: FloatArray  # (kpi, municipality)
    score: FloatArray
    variance_ratio: FloatArray
    tail_share: FloatArray
    checked: npt.NDArray[np.int64]
    passed: npt.NDArray[np.bool_]

    def covered(self, level: float) -> npt.NDArray[np.bool_]:
        """Per value of ``u`` (NaN counts as False): inside the two-sided ``level`` band
        of the model's t distribution."""
        with np.errstate(invalid="ignore"):
            inside: npt.NDArray[np.bool_] = np.abs(self.score) <= special.ndtri(0.5 + level / 2.0)
        return inside

    def reason(self, k: int) -> str | None:
        """Why KPI ``k`` failed the check, in Swedish (None when it passed)."""
        if self.passed[k]:
            return None
        if self.checked[k] < MIN_CHECKED:
            return (
                "årsbruset kan inte prövas på de senaste åren "
                f"(bara {int(self.checked[k])} värden att pröva på)"
            )
        return (
            "årsbruset förutsäger inte de senaste åren: de varierade "
            f"{self.variance_ratio[k]:.1f} gånger så mycket som beräknat och "
            f"{100 * self.tail_share[k]:.1f} % låg utanför 99,8 %-gränsen"
        ).replace(".", ",")


def check_noise(values: FloatArray, population: FloatArray, held_out: int = HELD_OUT) -> NoiseCheck:
    """Fit the noise on all but the last ``held_out`` years of ``values`` (kpi,
    municipality, year) and predict each held-back year from the last fitted one: the
    change y(T + j) − y(T), less that year's mean change over municipalities, has
    variance 2σ²(1 − ρʲ) when the model is right. A KPI
    passes when those standardised changes vary at most MAX_VARIANCE_RATIO times the
    model's variance and no more lie beyond its 99.8 % band than chance allows (a
    binomial test at TAIL_TEST_LEVEL)."""
    fit = values[..., :-held_out]
    diffs = centred_differences(fit)
    noise = estimate_noise(fit, population, diffs=diffs)
    with np.errstate(invalid="ignore"):
        tail = values[..., -held_out:]
        per_year = (~np.isnan(tail)).sum(axis=1)
        year_mean = np.nansum(tail, axis=1) / np.maximum(per_year, 1)
        later = tail - np.where(per_year > 0, year_mean, np.nan)[:, None, :]
    years = fit.shape[-1] + np.arange(held_out, dtype=np.float64)
    gap = years - diffs.last_index[..., None]  # years from the last fitted value
    rho = noise.rho[:, None, None]
    s2 = noise.variance[..., None]
    with np.errstate(invalid="ignore", divide="ignore"):
        # No drift: a municipality's own trend relative to the mean does not carry on
        # (extrapolating it made the predictions worse on the real panel).
        # Measured against the year's mean of n series (see _without_mean_noise).
        n = np.maximum(diffs.count, 3.0)[:, None, None]
        shared = np.nansum(noise.variance, axis=1)[:, None, None] / (n * n)
        seen = s2 * (1.0 - 2.0 / n) + shared
        u = (later - diffs.last[..., None]) / np.sqrt(seen * 2.0 * (1.0 - rho**gap))
    valid = np.isfinite(u) & (noise.df > 0)[..., None] & (diffs.last_index >= 0)[..., None]
    u = np.where(valid, u, np.nan)
    df = noise.total_df
    p = two_sided_p(u, df[..., None], noise.tail_df[:, None, None])
    with np.errstate(invalid="ignore"):
        score = np.sign(u) * special.ndtri(1.0 - p / 2.0)
    score = np.where(valid, np.clip(score, -40, 40), np.nan)
    checked = valid.sum(axis=(1, 2))
    capped = np.minimum(np.nan_to_num(score) ** 2, SCORE_CAP**2)
    beyond = (valid & (np.abs(np.nan_to_num(score)) > special.ndtri(0.999))).sum(axis=(1, 2))
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.where(valid, capped, 0.0).sum(axis=(1, 2)) / checked
        tail = beyond / checked
    # P(at least `beyond` of `checked` outside the band) when the model is right.
    chance = special.bdtrc(np.maximum(beyond - 1, 0), checked, 0.002)
    too_many = (beyond > 0) & (chance < TAIL_TEST_LEVEL)
    passed = (checked >= MIN_CHECKED) & (ratio <= MAX_VARIANCE_RATIO) & ~too_many
    return NoiseCheck(
        noise=noise,
        u=u,
        df=df,
        score=score,
        variance_ratio=ratio,
        tail_share=tail,
        checked=checked.astype(np.int64),
        passed=passed,
    )


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
