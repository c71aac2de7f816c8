"""Year-to-year noise of KPI series (estimate_noise), the aligned history windows and
empirical-Bayes shrunken levels (shrink_levels), on synthetic series with known noise."""

from __future__ import annotations

import numpy as np
import pytest

from tillit.analyses import Panel, estimate_noise, shrink_levels
from tillit.analyses._noise import align_windows, series_moments

YEARS = 10


def _series(
    rng: np.random.Generator, noise_sd: np.ndarray, *, kpis: int = 1, slope: float = 0.3
) -> np.ndarray:
    """(kpi, municipality, year): a level per municipality, a common trend, and noise
    with the given standard deviation per municipality."""
    n = noise_sd.size
    level = rng.normal(50.0, 5.0, (kpis, n, 1))
    trend = slope * np.arange(YEARS)
    return level + trend + rng.normal(0.0, 1.0, (kpis, n, YEARS)) * noise_sd[None, :, None]


def _log_uniform(rng: np.random.Generator, n: int, low: float, high: float) -> np.ndarray:
    return np.exp(rng.uniform(np.log(low), np.log(high), n))


def test_series_with_larger_noise_get_larger_estimated_variance() -> None:
    rng = np.random.default_rng(1)
    sd = np.tile([0.5, 1.0, 2.0, 4.0], 50)
    noise = estimate_noise(_series(rng, sd), np.full(sd.size, 10_000.0))
    for estimate in (noise.own[0], noise.variance[0]):
        means = [estimate[sd == s].mean() for s in (0.5, 1.0, 2.0, 4.0)]
        assert means == sorted(means)
    # The series' own estimate is unbiased for the variance around the trend line.
    np.testing.assert_allclose(
        [noise.own[0][sd == s].mean() for s in (0.5, 4.0)], [0.25, 16.0], rtol=0.2
    )
    assert (noise.df == YEARS - 2).all()


def test_size_model_slope_is_minus_one_when_noise_falls_with_sqrt_population() -> None:
    rng = np.random.default_rng(2)
    population = _log_uniform(rng, 290, 2_500, 900_000)
    sd = 300.0 / np.sqrt(population)  # variance ∝ 1 / population
    noise = estimate_noise(_series(rng, sd, kpis=4), population)
    np.testing.assert_allclose(noise.slope_on_size, -1.0, atol=0.1)
    # Bias-corrected for the log of a χ² variance: the model predicts the variance itself.
    ratio = np.median(noise.model / sd**2, axis=1)
    np.testing.assert_allclose(ratio, 1.0, atol=0.15)


def test_size_model_is_flat_when_noise_does_not_depend_on_size() -> None:
    rng = np.random.default_rng(3)
    population = _log_uniform(rng, 290, 2_500, 900_000)
    noise = estimate_noise(_series(rng, np.full(290, 2.0), kpis=3), population)
    np.testing.assert_allclose(noise.slope_on_size, 0.0, atol=0.15)


def test_small_municipalities_borrow_strength_from_the_size_model() -> None:
    rng = np.random.default_rng(4)
    population = _log_uniform(rng, 290, 2_500, 900_000)
    sd = 300.0 / np.sqrt(population)
    values = _series(rng, sd, kpis=3)
    noise = estimate_noise(values, population)
    truth = np.broadcast_to(sd**2, noise.own.shape)
    own_error = np.abs(np.log(noise.own / truth))
    pooled_error = np.abs(np.log(noise.variance / truth))
    # Pooling an 8-df variance with the model is closer to the truth on average.
    assert pooled_error.mean() < own_error.mean()
    # And it lies between the series' own variance and the model's.
    low = np.minimum(noise.own, noise.model)
    high = np.maximum(noise.own, noise.model)
    assert ((noise.variance >= low * (1 - 1e-12)) & (noise.variance <= high * (1 + 1e-12))).all()


def test_constant_series_get_the_floor_not_zero() -> None:
    rng = np.random.default_rng(5)
    sd = np.full(40, 1.0)
    values = _series(rng, sd)
    values[0, :5] = 17.0  # published once and carried forward
    noise = estimate_noise(values, np.full(40, 10_000.0))
    spread = np.std(values[0, :, -1], ddof=1)
    np.testing.assert_allclose(noise.own[0, :5], (1e-3 * spread) ** 2)
    assert (noise.variance[0, :5] > 0).all()
    assert (noise.own[0, 5:] > (1e-3 * spread) ** 2).all()


def test_a_missing_year_is_left_out_not_closed_up() -> None:
    rng = np.random.default_rng(6)
    values = _series(rng, np.full(30, 1.5))
    with_gap = values.copy()
    with_gap[0, 3, 4] = np.nan
    before = estimate_noise(values, np.full(30, 10_000.0))
    after = estimate_noise(with_gap, np.full(30, 10_000.0))
    # The other series' residuals are untouched.
    others = np.arange(30) != 3
    np.testing.assert_allclose(after.own[0, others], before.own[0, others], rtol=1e-12)
    # The gapped series is fitted on its real years.
    years = np.delete(np.arange(YEARS), 4)
    y = np.delete(values[0, 3], 4)
    residuals = y - np.polyval(np.polyfit(years, y, 1), years)
    assert after.df[0, 3] == YEARS - 3
    assert after.own[0, 3] == pytest.approx((residuals**2).sum() / (YEARS - 3), rel=1e-9)
    closed = np.arange(YEARS - 1)
    closed_up = y - np.polyval(np.polyfit(closed, y, 1), closed)
    assert after.own[0, 3] != pytest.approx((closed_up**2).sum() / (YEARS - 3), rel=1e-3)


def test_series_moments_match_least_squares_on_observed_years() -> None:
    rng = np.random.default_rng(7)
    values = rng.normal(1e6, 500.0, (2, 5, YEARS)) + 1_000.0 * np.arange(YEARS)  # large counts
    values[0, 0, [1, 2, 7]] = np.nan
    values[1, 4, :9] = np.nan  # a single point
    moments = series_moments(values)
    for k, m in [(0, 0), (1, 2)]:
        observed = ~np.isnan(values[k, m])
        x, y = np.arange(YEARS)[observed], values[k, m][observed]
        fit = np.polyfit(x, y, 1)
        assert moments.n[k, m] == observed.sum()
        assert moments.slope[k, m] == pytest.approx(fit[0], rel=1e-9)
        assert moments.rss[k, m] == pytest.approx(((y - np.polyval(fit, x)) ** 2).sum(), rel=1e-6)
    assert moments.n[1, 4] == 1 and np.isnan(moments.slope[1, 4])


def test_short_series_take_the_size_model_and_new_kpis_the_spread() -> None:
    rng = np.random.default_rng(8)
    values = _series(rng, np.full(30, 1.0), kpis=2)
    values[0, 0, :-2] = np.nan  # two points: no residual variance of its own
    values[1, :, :-1] = np.nan  # a new KPI: one year for everybody
    noise = estimate_noise(values, np.full(30, 10_000.0))
    assert noise.df[0, 0] == 0 and np.isnan(noise.own[0, 0])
    assert noise.variance[0, 0] == pytest.approx(noise.model[0, 0])
    spread = np.std(values[1, :, -1], ddof=1)
    np.testing.assert_allclose(noise.variance[1], spread**2)


def test_windows_end_in_each_kpis_latest_year() -> None:
    values = np.full((3, 2, 8), np.nan)  # 2015–2022
    values[0, :, :] = np.arange(8)  # ends 2022
    values[1, 0, 2:6] = [1, 2, 3, 4]  # ends 2020
    panel = Panel(("A", "B", "C"), ("0180", "1384"), tuple(range(2015, 2023)), values)
    windowed = align_windows(panel, window=5)
    assert windowed.kpis == ("A", "B")  # C has no value at all
    assert windowed.end_years.tolist() == [2022, 2020]
    assert windowed.years(1).tolist() == [2016, 2017, 2018, 2019, 2020]
    np.testing.assert_array_equal(windowed.values[0, 1], [3, 4, 5, 6, 7])
    np.testing.assert_array_equal(windowed.values[1, 0], [np.nan, 1, 2, 3, 4])
    long = align_windows(panel, window=10)  # reaches before the panel's first year
    np.testing.assert_array_equal(long.values[0, 0, :2], [np.nan, np.nan])
    np.testing.assert_array_equal(long.values[0, 0, 2:], np.arange(8))


def _cross_section(values: list[float]) -> np.ndarray:
    return np.array(values, dtype=np.float64)[None, :, None]  # (kpi, municipality, year)


def test_a_small_noisy_municipality_moves_further_toward_the_mean() -> None:
    rng = np.random.default_rng(9)
    others = rng.normal(50.0, 5.0, 60)
    values = _cross_section([*others, 62.0, 62.0])
    variance = np.array([[*np.full(60, 1.0), 25.0, 0.25]])  # small noisy, large precise
    levels = shrink_levels(values, variance)
    mean = levels.mean[0, 0]
    small, large = levels.shrunk[0, 60, 0], levels.shrunk[0, 61, 0]
    assert mean < small < large < 62.0
    assert levels.weight[0, 60, 0] < levels.weight[0, 61, 0]
    tau2 = levels.between_variance[0, 0]
    assert levels.weight[0, 60, 0] == pytest.approx(tau2 / (tau2 + 25.0))
    assert levels.posterior_variance[0, 60, 0] == pytest.approx(levels.weight[0, 60, 0] * 25.0)


def test_between_variance_is_zero_when_all_differences_are_noise() -> None:
    rng = np.random.default_rng(10)
    values = _cross_section(list(rng.normal(40.0, 1.5, 200)))  # spread below the noise
    levels = shrink_levels(values, np.full((1, 200), 4.0))
    assert levels.between_variance[0, 0] == 0.0
    np.testing.assert_allclose(levels.weight, 0.0)
    np.testing.assert_allclose(levels.shrunk, levels.mean[0, 0])
    np.testing.assert_allclose(levels.posterior_variance, 0.0)


def test_shrinking_leaves_missing_values_missing_and_years_separate() -> None:
    rng = np.random.default_rng(11)
    values = rng.normal(50.0, 5.0, (2, 40, 3))
    values[0, 7, 1] = np.nan
    variance = np.full((2, 40), 1.0)
    levels = shrink_levels(values, variance)
    assert np.isnan(levels.shrunk[0, 7, 1]) and np.isnan(levels.weight[0, 7, 1])
    assert np.isfinite(levels.shrunk[0, 7, [0, 2]]).all()
    assert levels.mean.shape == (2, 3)
    np.testing.assert_allclose(levels.mean[0, 1], np.nanmean(values[0, :, 1]))
    alone = shrink_levels(values[:, :, 2:], variance)
    np.testing.assert_allclose(alone.shrunk[:, :, 0], levels.shrunk[:, :, 2])
