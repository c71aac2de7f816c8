"""Year-to-year noise of KPI series (estimate_noise: differences, AR(1), moderated toward
a size model with an estimated prior), its check on held-back years (check_noise), the
aligned history windows and empirical-Bayes shrunken levels (shrink_levels), on synthetic
series with known noise."""

from __future__ import annotations

import numpy as np
import pytest

from tillit.analyses import Panel, check_noise, estimate_noise, shrink_levels
from tillit.analyses._noise import (
    MAX_PRIOR_DF,
    align_windows,
    mean_variance_factor,
    series_moments,
)

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
    # The series' own estimate is unbiased for the noise variance, the year's shared
    # change (the common trend and the mean's own noise) taken out.
    np.testing.assert_allclose(
        [noise.own[0][sd == s].mean() for s in (0.5, 1.0, 4.0)], [0.25, 1.0, 16.0], rtol=0.15
    )
    # Nine differences of white noise carry about six degrees of freedom.
    assert (noise.df == noise.df[0, 0]).all() and 5.5 < noise.df[0, 0] < 7.0


def test_a_level_shift_or_a_bend_costs_the_noise_estimate_little() -> None:
    """Around a straight line a step of 8 noise units made a series look many times as
    noisy; between differences it is one difference of nine."""
    rng = np.random.default_rng(12)
    values = _series(rng, np.full(100, 1.0))
    stepped = values.copy()
    for i, year in enumerate(rng.integers(2, YEARS - 1, 20)):
        stepped[0, i, year:] += 8.0  # 20 municipalities shift their level once, each its year
    noise = estimate_noise(stepped, np.full(100, 10_000.0))
    line = series_moments(stepped).rss / (YEARS - 2)
    assert np.median(noise.own[0, :20]) <= np.median(line[0, :20])
    assert np.median(noise.own[0, :20]) < 9.0
    assert np.median(noise.own[0, 20:]) < 1.5  # the others keep their own noise
    bent = values.copy()
    bent[0, 50:] += 0.15 * (np.arange(YEARS) - 4.5) ** 2  # half of them bend
    curved = estimate_noise(bent, np.full(100, 10_000.0))
    line = series_moments(bent).rss / (YEARS - 2)
    assert np.median(curved.own[0, 50:]) < 0.7 * np.median(line[0, 50:])
    assert np.median(curved.own[0, 50:]) < 1.6


def test_the_prior_degrees_of_freedom_follow_how_much_true_variances_differ() -> None:
    rng = np.random.default_rng(13)
    population = np.full(290, 10_000.0)
    same = estimate_noise(_series(rng, np.full(290, 2.0), kpis=2), population)
    spread = np.exp(rng.normal(0.0, 0.6, 290))  # true SDs differ beyond the size model
    different = estimate_noise(_series(rng, 2.0 * spread, kpis=2), population)
    assert (same.prior_df >= 30).all()  # (often MAX_PRIOR_DF: the size model suffices)
    assert (different.prior_df < 10).all()
    assert (different.prior_df < same.prior_df).all()
    # The moderated test has d0 + d degrees of freedom.
    np.testing.assert_allclose(different.total_df, different.prior_df[:, None] + different.df)
    assert same.prior_df.max() <= MAX_PRIOR_DF


def test_the_noise_autocorrelation_is_estimated_per_kpi() -> None:
    rng = np.random.default_rng(14)
    n, rho = 290, 0.5
    e = np.empty((2, n, YEARS))
    e[:, :, 0] = rng.normal(0.0, 1.0, (2, n))
    for t in range(1, YEARS):
        e[:, :, t] = rho * e[:, :, t - 1] + np.sqrt(1 - rho**2) * rng.normal(0.0, 1.0, (2, n))
    white = rng.normal(0.0, 1.0, (1, n, YEARS))
    levels = rng.normal(50.0, 5.0, (3, n, 1))
    noise = estimate_noise(levels + np.concatenate([e, white]), np.full(n, 10_000.0))
    np.testing.assert_allclose(noise.rho[:2], rho, atol=0.12)
    assert noise.rho[2] < 0.1
    # … and the variance is of the values, not of their differences.
    np.testing.assert_allclose(np.median(noise.own[:2], axis=1), 1.0, rtol=0.2)
    # A mean of three AR(1) years varies (3 + 4ρ + 2ρ²) / 9 as much as one year.
    assert mean_variance_factor(np.array(rho), np.array(3.0)) == pytest.approx(
        (3 + 4 * rho + 2 * rho**2) / 9
    )


def test_held_back_years_that_follow_the_model_pass_the_check() -> None:
    rng = np.random.default_rng(15)
    population = _log_uniform(rng, 290, 2_500, 900_000)
    sd = 300.0 / np.sqrt(population)
    check = check_noise(_series(rng, sd, kpis=20), population, held_out=3)
    assert check.passed.all()
    assert check.checked.min() == 290 * 3
    assert 0.85 < check.variance_ratio.mean() < 1.15
    inside = check.covered(0.95)[~np.isnan(check.score)].mean()
    assert 0.94 < inside < 0.96
    assert check.reason(0) is None


def test_a_kpi_whose_latest_years_are_far_noisier_is_not_testable_and_says_why() -> None:
    rng = np.random.default_rng(16)
    population = _log_uniform(rng, 290, 2_500, 900_000)
    sd = 300.0 / np.sqrt(population)
    values = _series(rng, sd, kpis=2)
    values[1, :, -3:] += rng.normal(0.0, 1.0, (290, 3)) * 3.0 * sd[:, None]
    check = check_noise(values, population, held_out=3)
    assert check.passed.tolist() == [True, False]
    assert check.variance_ratio[1] > 1.5
    reason = check.reason(1)
    assert reason is not None and "årsbruset förutsäger inte" in reason
    # Heavy tails alone (a few municipalities jumping far) fail it too.
    jumpy = _series(rng, sd, kpis=1)
    jumpy[0, :12, -1] += 12.0 * sd[:12]
    assert not check_noise(jumpy, population, held_out=3).passed[0]
    # One real jump among 290 municipalities does not.
    single = _series(rng, sd, kpis=1)
    single[0, 0, -1] += 12.0 * sd[0]
    assert check_noise(single, population, held_out=3).passed[0]


def test_a_kpi_too_short_to_check_is_not_testable() -> None:
    rng = np.random.default_rng(17)
    values = _series(rng, np.full(30, 1.0))
    values[0, :, :-4] = np.nan  # four years: one to fit, three to check
    check = check_noise(values, np.full(30, 10_000.0), held_out=3)
    assert not check.passed[0]
    assert "kan inte prövas" in (check.reason(0) or "")


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
    # Moderating a ~6-df variance with the model is closer to the truth on average.
    assert pooled_error.mean() < own_error.mean()
    # And it lies between the series' own variance and the model's.
    low = np.minimum(noise.own, noise.model)
    high = np.maximum(noise.own, noise.model)
    assert ((noise.variance >= low * (1 - 1e-12)) & (noise.variance <= high * (1 + 1e-12))).all()


def test_constant_series_get_the_floor_not_zero() -> None:
    rng = np.random.default_rng(5)
    sd = np.full(40, 1.0)
    values = _series(rng, sd, slope=0.0)
    values[0, :5] = 17.0  # published once and carried forward
    noise = estimate_noise(values, np.full(40, 10_000.0))
    spread = np.std(values[0, :, -1], ddof=1)
    floor = (1e-3 * spread) ** 2
    # Constant against a year mean that moves only by the others' noise: at (or near) the
    # floor, far below the others.
    assert (noise.own[0, :5] < 0.05).all() and (noise.own[0, :5] >= floor).all()
    assert (noise.variance[0, :5] > 0).all()
    assert np.median(noise.own[0, 5:]) > 0.5


def test_a_missing_year_is_skipped_not_closed_up() -> None:
    rng = np.random.default_rng(6)
    values = _series(rng, np.full(30, 1.5))
    with_gap = values.copy()
    with_gap[0, 3, 4] = np.nan
    before = estimate_noise(values, np.full(30, 10_000.0))
    after = estimate_noise(with_gap, np.full(30, 10_000.0))
    # The gapped series has one difference fewer (a two-year step across the gap) …
    assert after.df[0, 3] < after.df[0, 4] == before.df[0, 4]
    # … and the others barely move (only the year mean of 2015 changed).
    others = np.arange(30) != 3
    np.testing.assert_allclose(after.own[0, others], before.own[0, others], rtol=0.1)


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
    values[0, 0, :-2] = np.nan  # two points: one difference, no variance of its own
    values[1, :, :-1] = np.nan  # a new KPI: one year for everybody
    noise = estimate_noise(values, np.full(30, 10_000.0))
    assert noise.df[0, 0] == 0 and np.isnan(noise.own[0, 0])
    assert noise.variance[0, 0] == pytest.approx(noise.model[0, 0])
    spread = np.std(values[1, :, -1], ddof=1)
    np.testing.assert_allclose(noise.variance[1], spread**2)
    assert noise.measured.tolist() == [True, False]


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


def test_the_mixture_p_value_is_t_without_a_known_part_and_between_t_and_normal_with_one() -> None:
    """mixture_p integrates over the own variance's uncertainty: with nothing known
    besides it, the t_ν p-value; with a known part, in the tail between the t of the whole
    variance (Hsu's cautious df) and the normal; with many df, the normal."""
    from scipy import special

    from tillit.analyses._noise import mixture_p, two_sided_p

    z = np.array([0.5, 1.96, 3.0, 5.0, 8.0, 15.0])
    ones, zeros, light = np.ones(z.size), np.zeros(z.size), np.full(z.size, MAX_PRIOR_DF)
    for nu in (1.2, 2.0, 4.0, 12.0, 100.0, 1000.0):
        df = np.full(z.size, nu)
        exact = two_sided_p(z, df, light)
        keep = exact > 1e-12
        np.testing.assert_allclose(
            mixture_p(z, ones, zeros, df, light)[keep], exact[keep], rtol=1e-2
        )
        with_known = mixture_p(z, ones, ones, df, light)
        whole = z / np.sqrt(2.0)
        tail = z >= 1.96  # (near p = 1 the order may turn)
        assert (with_known[tail] <= two_sided_p(whole, df, light)[tail] + 1e-12).all()
        assert (with_known >= 2.0 * special.ndtr(-whole) - 1e-12).all()
    # Heavier tails: the same as two_sided_p's unit-variance t.
    heavy = np.full(z.size, 5.0)
    np.testing.assert_allclose(
        mixture_p(z, ones, zeros, np.full(z.size, 50.0), heavy),
        two_sided_p(z, np.full(z.size, 50.0), heavy),
        rtol=1e-3,
    )
    nan = mixture_p(np.array([np.nan]), np.ones(1), np.zeros(1), np.ones(1), np.ones(1))
    assert np.isnan(nan).all()


def test_a_kpis_noise_is_the_same_to_the_bit_whichever_kpis_are_estimated_beside_it() -> None:
    """`tillit compare` estimates one KPI, the pages all of them: the same numbers, exactly
    (the prior's d0 came from a Newton iteration that stopped when all KPIs had converged)."""
    rng = np.random.default_rng(21)
    sd = _log_uniform(rng, 150, 0.3, 5.0)
    values = _series(rng, sd, kpis=6)
    values[1:] *= rng.uniform(0.5, 40.0, (5, 1, 1))  # other scales, other convergence
    population = _log_uniform(rng, 150, 2_000, 900_000)
    together = estimate_noise(values, population)
    alone = estimate_noise(values[:1], population)
    for name in ("variance", "prior_df", "rho", "tail_df", "model"):
        np.testing.assert_array_equal(getattr(alone, name)[0], getattr(together, name)[0])
    # The iteration behind d0, beside values that converge slowly or fast.
    from tillit.analyses._noise import _trigamma_inverse

    ys = np.array([0.05, 0.3, 1.0, 2.5, 7.0])
    crowd = np.concatenate([ys, [1e-7, 3e-5, 0.002, 40.0, 2e5]])
    np.testing.assert_array_equal(_trigamma_inverse(crowd)[: ys.size], _trigamma_inverse(ys))
    for y in ys:
        np.testing.assert_array_equal(
            _trigamma_inverse(np.array([y])), _trigamma_inverse(ys)[ys == y]
        )


def test_the_shipped_ar1_tables_are_the_simulation() -> None:
    """data/ar1_ratios.npz (scripts/ar1_ratio_tables.py) holds what simulate_ratio_table
    gives, for every series length shipped; _ratio_table reads it instead of simulating."""
    from tillit.analyses._noise import (
        SHIPPED_CHANGES,
        _ratio_table,
        _shipped_ratio_tables,
        simulate_ratio_table,
    )

    shipped = _shipped_ratio_tables()
    assert shipped, "the shipped tables are missing or made on another grid"
    for c in SHIPPED_CHANGES:
        for name, simulated in zip(("r1", "r2", "kurtosis"), simulate_ratio_table(c), strict=True):
            np.testing.assert_allclose(shipped[f"{name}_{c}"], simulated, rtol=1e-10, atol=1e-12)
            np.testing.assert_array_equal(
                _ratio_table(c)[("r1", "r2", "kurtosis").index(name)], shipped[f"{name}_{c}"]
            )
    # Longer series than shipped are simulated.
    assert not _ratio_table(max(SHIPPED_CHANGES) + 1)[0].flags.writeable
