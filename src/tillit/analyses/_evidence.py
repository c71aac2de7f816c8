"""What every comparison rests on, computed once for all KPIs × municipalities: the
aligned history window, each series' noise, shrunken levels and shrunken slopes, and
gaps to the peer median. Comparison, learning and the national matrix all read these,
so the CLI, the pages and the report can never disagree."""

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
    WINDOW,
    Levels,
    Noise,
    Windowed,
    align_windows,
    estimate_noise,
    series_moments,
    shrink_levels,
)
from tillit.analyses._panel import FloatArray, Panel
from tillit.analyses._polarity import Polarity
from tillit.analyses._scale import size_dependent
from tillit.analyses._trend import trend_matrix
from tillit.errors import InvalidInputError

#: The findings must hold in at least this many of the last ``RECENT`` years.
RECENT = 3
MIN_HOLDING = 2
#: Two-sided 95% normal quantile: "clearly" better or worse.
Z95 = float(special.ndtri(0.975))
#: Fewer peers with a value than this and no comparison is made.
MIN_PEERS = 3


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
    #: Per KPI: the minimum practical difference in its unit (docs/eligibility.md). Gaps
    #: are tested against it, H0: |gap| ≤ mpd; None tests against 0.
    mpd: FloatArray | None = None

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
    noise = estimate_noise(windowed.values, population)
    levels = shrink_levels(windowed.values[:, :, -RECENT:], noise.variance)
    areas = areas or {}
    titles = titles or {}
    return Evidence(
        windowed=windowed,
        noise=noise,
        levels=levels,
        polarity=tuple(polarity.get(k, Polarity.UNKNOWN) for k in windowed.kpis),
        areas=tuple(areas.get(k) or "Övrigt" for k in windowed.kpis),
        comparable=np.array([not size_dependent(titles.get(k, "")) for k in windowed.kpis]),
        population=population,
    )


@dataclass(frozen=True)
class Gaps:
    """For focal municipalities F with peers P (|F| × k): over the last RECENT years,
    the shrunken level, the peer median and the noise-scaled gap. ``z`` is signed so
    that positive is better when the polarity is known (higher otherwise)."""

    focal: npt.NDArray[np.int64]
    peers: npt.NDArray[np.int64]
    own: FloatArray  # (kpi, focal, year)
    peer_median: FloatArray
    difference: FloatArray  # own − peer median (natural units, not signed)
    z: FloatArray
    peer_count: npt.NDArray[np.int64]  # peers with a value, (kpi, focal, year)


def peer_gaps(
    evidence: Evidence, focal: npt.NDArray[np.int64], peers: npt.NDArray[np.int64]
) -> Gaps:
    """Gap of each focal municipality's shrunken level to its peers' median, scaled by
    the noise: z = (level − median) / sqrt(v_own + π/2 · mean(v_peers) / n_peers),
    the last term being the large-sample variance of a median."""
    shrunk = evidence.levels.shrunk[:, :, -RECENT:]
    variance = evidence.levels.posterior_variance[:, :, -RECENT:]
    own = shrunk[:, focal, :]
    peer_values = shrunk[:, peers, :]  # (kpi, focal, k, year)
    median, count = nan_median(peer_values, axis=2)
    with np.errstate(invalid="ignore", divide="ignore"):
        peer_var = masked_mean(variance[:, peers, :], ~np.isnan(peer_values), axis=2)
        se = np.sqrt(variance[:, focal, :] + (np.pi / 2.0) * peer_var / count)
        direction = np.where(evidence.signs == 0, 1, evidence.signs)[:, None, None]
        # The minimum-effect test: only the part of the gap beyond the KPI's minimum
        # practical difference counts (docs/eligibility.md).
        beyond = practical_gap(own - median, mpd_per_kpi(evidence)[:, None, None])
        z = direction * beyond / se
    z = np.where(count >= MIN_PEERS, z, np.nan)
    return Gaps(
        focal=focal,
        peers=peers,
        own=own,
        peer_median=median,
        difference=own - median,
        z=z,
        peer_count=count,
    )


def mpd_per_kpi(evidence: Evidence) -> FloatArray:
    """The minimum practical difference per KPI, 0 where none was given."""
    if evidence.mpd is None:
        return np.zeros(len(evidence.kpis))
    return np.nan_to_num(np.asarray(evidence.mpd, dtype=np.float64), nan=0.0)


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

    A gap counts in a year when its two-sided p-value survives Benjamini–Hochberg at
    ``q`` across all the KPIs tested for that municipality that year; a verdict needs
    the latest year and at least MIN_HOLDING of the last RECENT years, the same way."""

    better: npt.NDArray[np.bool_]
    worse: npt.NDArray[np.bool_]
    years_better: npt.NDArray[np.int64]
    years_worse: npt.NDArray[np.int64]
    q_value: FloatArray  # latest year, NaN when not tested


def judge_gaps(z: FloatArray, tested: npt.NDArray[np.bool_], q: float) -> Verdicts:
    """Verdicts from the gap z-scores (kpi, focal, year) of :class:`Gaps`; ``tested``
    (kpi, focal) says which KPIs count in the false-discovery control."""
    with np.errstate(invalid="ignore"):
        p = 2.0 * special.ndtr(-np.abs(z))
    testable = tested[:, :, None] & ~np.isnan(z)
    rejected = np.zeros(z.shape, dtype=bool)
    q_value = np.full(tested.shape, np.nan)
    for f in range(z.shape[1]):
        for y in range(z.shape[2]):
            mask = testable[:, f, y]
            if mask.any():
                rejected[mask, f, y], adjusted = benjamini_hochberg(p[mask, f, y], q)
                if y == z.shape[2] - 1:
                    q_value[mask, f] = adjusted
    with np.errstate(invalid="ignore"):
        up = rejected & (z > 0)
        down = rejected & (z < 0)
    years_better = up.sum(axis=2)
    years_worse = down.sum(axis=2)
    return Verdicts(
        better=tested & up[:, :, -1] & (years_better >= MIN_HOLDING),
        worse=tested & down[:, :, -1] & (years_worse >= MIN_HOLDING),
        years_better=years_better.astype(np.int64),
        years_worse=years_worse.astype(np.int64),
        q_value=q_value,
    )
