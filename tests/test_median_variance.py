"""The noise variance of the peers' median (``median_noise_variance``, ``median_variance``
in analyses/_evidence.py): the exact variance of the sample median of independent normals
with unequal means and variances, checked against Monte Carlo for peers at one level, far
apart and in between; and the plug-in of the peers' levels that the gap test uses."""

from __future__ import annotations

from math import factorial

import numpy as np
import pytest
from scipy import special, stats

from tillit.analyses._evidence import (
    EVEN_MEDIAN_RATIO,
    MEDIAN_VARIANCE,
    median_noise_moments,
    median_noise_variance,
    median_variance,
)


def _monte_carlo(level: np.ndarray, sd: np.ndarray, draws: int, seed: int) -> np.ndarray:
    """Var(median) per row of ``level`` (rows, k) by simulation."""
    rng = np.random.default_rng(seed)
    values = level[:, None, :] + sd[:, None, :] * rng.standard_normal(
        (level.shape[0], draws, level.shape[1])
    )
    return np.asarray(np.median(values, axis=2).var(axis=1))


@pytest.mark.parametrize("n", range(3, 16))
def test_at_one_level_it_is_the_variance_of_a_median_of_n(n: int) -> None:
    variance = median_noise_variance(np.zeros((1, n)), np.full((1, n), 4.0))[0]
    # MEDIAN_VARIANCE is the published table (three decimals), per unit variance.
    assert variance / 4.0 == pytest.approx(MEDIAN_VARIANCE[n], abs=0.0015)


def test_at_one_level_many_peers_approach_pi_over_2n() -> None:
    """The median's SD is then a fraction of a peer's: the second, narrower grid."""
    for n in (21, 41, 81):
        variance = median_noise_variance(np.zeros((1, n)), np.ones((1, n)))[0]
        assert variance == pytest.approx(np.pi / (2 * n), rel=0.04)
        simulated = _monte_carlo(np.zeros((1, n)), np.ones((1, n)), 100_000, seed=n)[0]
        assert variance == pytest.approx(simulated, rel=0.015)


@pytest.mark.parametrize("n", [3, 5, 7, 9])
def test_far_apart_it_is_the_middle_peers_own_variance(n: int) -> None:
    rng = np.random.default_rng(n)
    sd = rng.uniform(0.5, 3.0, (20, n))
    level = np.sort(rng.normal(0.0, 1.0, (20, n)), axis=1) * 0 + np.arange(n) * 100.0
    order = rng.permuted(np.tile(np.arange(n), (20, 1)), axis=1)
    level = np.take_along_axis(level, order, axis=1)  # the middle peer anywhere in the row
    middle = np.take_along_axis(sd, np.argsort(level, axis=1)[:, n // 2 : n // 2 + 1], axis=1)
    variance = median_noise_variance(level, sd**2)
    np.testing.assert_allclose(variance, middle[:, 0] ** 2, rtol=1e-4)


@pytest.mark.parametrize("spread", [0.5, 1.0, 2.0, 4.0])
@pytest.mark.parametrize("n", [3, 5, 7])
def test_between_it_matches_monte_carlo(spread: float, n: int) -> None:
    """Peers whose levels differ by a few noise SDs, each with its own noise SD (up to a
    factor of 3 apart): the exact variance is within Monte Carlo error (200,000 draws)."""
    rng = np.random.default_rng(int(10 * spread) + n)
    level = rng.normal(0.0, spread, (6, n))
    sd = np.exp(rng.uniform(np.log(0.6), np.log(1.8), (6, n)))
    exact = median_noise_variance(level, sd**2)
    simulated = _monte_carlo(level, sd, 200_000, seed=n)
    np.testing.assert_allclose(exact, simulated, rtol=0.012)


def test_five_peers_two_noise_sds_apart_their_median_varies_more_than_the_old_count() -> None:
    """docs/analyses.md: five peers with levels drawn with SD 2 noise SDs. Their median's
    noise variance is 0.49 σ² on average (the old count of peers near the median gave
    0.45 σ²); its mean squared error around the median of the levels, 0.56 σ², adds the
    square of its bias: with unequal levels the sample median is not centred on the
    levels' median."""
    rng = np.random.default_rng(1)
    level = rng.normal(0.0, 2.0, (4000, 5))
    exact = median_noise_variance(level, np.ones_like(level))
    draws = level[:, None, :] + rng.standard_normal((4000, 400, 5))
    median = np.median(draws, axis=2)
    assert exact.mean() == pytest.approx(median.var(axis=1).mean(), rel=0.02)
    assert 0.47 < exact.mean() < 0.51
    error = median - np.median(level, axis=1)[:, None]
    assert np.mean(error**2) > exact.mean() + 0.04


def _even_median_ratio(n: int, h: float = 0.01) -> float:
    """Var(median of n) / Var(X_(n/2)) for iid N(0, 1), n even, by the trapezoid rule over
    the joint density of the two middle order statistics (u, u + w), w ≥ 0."""
    m = n // 2
    u = np.arange(-7.0, 7.0, h)[:, None]
    v = u + np.arange(0.0, 8.0, h)[None, :]
    c = factorial(n) / (factorial(m - 1) * factorial(n - m - 1))
    density = (
        c
        * special.ndtr(u) ** (m - 1)
        * stats.norm.pdf(u)
        * stats.norm.pdf(v)
        * special.ndtr(-v) ** (n - m - 1)
    )
    weight = np.ones_like(density)
    weight[0, :] = weight[-1, :] = 0.5
    weight[:, 0] *= 0.5
    weight[:, -1] *= 0.5
    density = density * weight / (density * weight).sum()
    middle = (u + v) / 2.0
    median = (density * middle**2).sum() - (density * middle).sum() ** 2
    lower = (density * u**2).sum() - (density * u).sum() ** 2
    return float(median / lower)


@pytest.mark.parametrize("n", [4, 6, 8, 12, 20])
def test_the_even_ratio_table_is_the_double_integral(n: int) -> None:
    assert EVEN_MEDIAN_RATIO[n] == pytest.approx(_even_median_ratio(n), abs=2e-4)


@pytest.mark.parametrize("spread", [0.0, 1.0, 2.0, 30.0])
@pytest.mark.parametrize("n", [4, 6])
def test_an_even_count_is_exact_at_one_level_and_never_below_the_truth(
    spread: float, n: int
) -> None:
    """The mean of the two middle order statistics: their covariance is taken from equal
    levels, exact there and too large when they are different peers (at most 1.75-fold:
    the mean of two independent values has half the variance of one)."""
    rng = np.random.default_rng(n)
    level = rng.normal(0.0, spread, (6, n))
    sd = np.exp(rng.uniform(np.log(0.7), np.log(1.4), (6, n)))
    exact = median_noise_variance(level, sd**2)
    simulated = _monte_carlo(level, sd, 200_000, seed=n + 1)
    if spread == 0.0:
        equal = median_noise_variance(np.zeros((1, n)), np.ones((1, n)))[0]
        assert equal == pytest.approx(MEDIAN_VARIANCE[n], abs=0.0015)
    assert np.all(exact >= simulated * 0.985)
    assert np.all(exact <= simulated * 1.75)


def test_missing_peers_are_left_out() -> None:
    rng = np.random.default_rng(3)
    level = rng.normal(0.0, 1.5, (50, 7))
    variance = rng.uniform(0.5, 2.0, (50, 7))
    with_gaps = level.copy()
    with_gaps[:, [1, 4]] = np.nan
    dropped = median_noise_variance(level[:, [0, 2, 3, 5, 6]], variance[:, [0, 2, 3, 5, 6]])
    np.testing.assert_allclose(median_noise_variance(with_gaps, variance), dropped, rtol=1e-12)
    one = median_noise_variance(np.array([[np.nan, 2.0, np.nan]]), np.array([[1.0, 3.0, 1.0]]))
    assert one[0] == pytest.approx(3.0)
    assert np.isnan(median_noise_variance(np.full((1, 3), np.nan), np.ones((1, 3))))[0]


def _peer_values(level: np.ndarray, sd: np.ndarray, years: int, seed: int) -> np.ndarray:
    """(kpi, focal = 1, k, year) published values around ``level`` (kpi, k)."""
    rng = np.random.default_rng(seed)
    noise = rng.standard_normal((*level.shape, years)) * sd[..., None]
    return (level[..., None] + noise)[:, None, :, :]


def test_the_plug_in_of_peers_at_one_level_is_near_the_median_of_n() -> None:
    """Each peer's level is its mean over the three years, whose spread is mostly the
    means' own noise; scaled back to the spread of the true levels (here none) the
    variance is close to π/2-like value of seven at one level, not inflated toward σ²."""
    kpis, k = 3000, 7
    values = _peer_values(np.zeros((kpis, k)), np.ones((kpis, k)), 3, seed=5)
    estimate = median_variance(values, np.ones((kpis, 1, k)), np.zeros(kpis))
    assert estimate.shape == (kpis, 1, 3)
    assert np.mean(estimate) == pytest.approx(MEDIAN_VARIANCE[7], rel=0.15)


def test_the_plug_in_of_peers_far_apart_is_the_middle_peers_variance() -> None:
    kpis, k = 200, 7
    level = np.tile(np.arange(k) * 50.0, (kpis, 1))
    sd = np.tile(np.array([1.0, 1.0, 1.0, 2.0, 1.0, 1.0, 1.0]), (kpis, 1))
    values = _peer_values(level, sd, 3, seed=6)
    estimate = median_variance(values, sd[:, None, :] ** 2, np.full(kpis, 0.5))
    np.testing.assert_allclose(estimate, 4.0, rtol=1e-3)


def test_the_plug_in_is_near_the_truth_for_peers_two_sds_apart() -> None:
    """Five peers with levels drawn with SD 2 noise SDs (the regions' spread null): with
    the levels estimated from three years the variance is within a tenth of the exact
    one at the true levels on average."""
    kpis, k = 3000, 5
    rng = np.random.default_rng(7)
    level = rng.normal(0.0, 2.0, (kpis, k))
    values = _peer_values(level, np.ones((kpis, k)), 3, seed=8)
    estimate = median_variance(values, np.ones((kpis, 1, k)), np.zeros(kpis))
    truth = median_noise_variance(level, np.ones_like(level))
    assert np.mean(estimate) == pytest.approx(np.mean(truth), rel=0.1)


def test_a_year_with_fewer_peers_gets_its_own_variance_and_where_limits_the_work() -> None:
    values = _peer_values(np.zeros((2, 5)), np.ones((2, 5)), 3, seed=9)
    values[0, 0, 0, 0] = np.nan  # four peers in the first year of KPI 0
    out = median_variance(values, np.ones((2, 1, 5)), np.zeros(2))
    assert out[0, 0, 1] == out[0, 0, 2]
    assert out[0, 0, 0] != out[0, 0, 1]
    assert out[1, 0, 0] == out[1, 0, 1] == out[1, 0, 2]
    where = np.ones((2, 1, 3), dtype=bool)
    where[1, 0, 2] = False
    limited = median_variance(values, np.ones((2, 1, 5)), np.zeros(2), where=where)
    assert np.isnan(limited[1, 0, 2])
    np.testing.assert_allclose(limited[where], out[where], rtol=1e-12)


def test_a_rows_result_does_not_depend_on_the_other_rows() -> None:
    """``compare`` for one municipality and the national matrix must agree to the bit
    (tests/test_one_shape.py): each row is computed on its own, whatever it is batched
    with."""
    rng = np.random.default_rng(11)
    level = rng.normal(0.0, 2.0, (300, 7))
    variance = rng.uniform(0.3, 3.0, (300, 7))
    level[::3, 2] = np.nan
    variance_all, bias_all = median_noise_moments(level, variance)
    for i in (0, 1, 150, 299):
        variance_one, bias_one = median_noise_moments(level[i : i + 1], variance[i : i + 1])
        assert variance_one[0] == variance_all[i]
        assert bias_one[0] == bias_all[i]


def test_rows_in_blocks_give_the_same_result_to_the_bit(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of rows (MEDIAN_BLOCK, for speed) change nothing: odd and even counts, a
    missing peer, a constant peer, and a block boundary inside each size's rows."""
    from tillit.analyses import _evidence

    rng = np.random.default_rng(7)
    level = rng.normal(0.0, 2.0, (301, 7))
    variance = rng.uniform(0.1, 3.0, (301, 7))
    level[rng.random(level.shape) < 0.15] = np.nan
    variance[5, 2] = 0.0
    whole = np.stack(median_noise_moments(level, variance))
    monkeypatch.setattr(_evidence, "MEDIAN_BLOCK", 16)
    blocks = np.stack(median_noise_moments(level, variance))
    assert np.isfinite(whole).sum() > 500
    assert np.array_equal(whole, blocks, equal_nan=True)
