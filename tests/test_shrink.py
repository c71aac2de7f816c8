from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.meta_analysis import combine_effects

from tillit.analyses._shrink import shrink
from tillit.errors import InvalidInputError


def test_shrink_closed_form_three_units() -> None:
    # y = (−2, 0, 2), v = 1: ȳ = 0, Q = 8, τ² = (8 − 2)/(3 − 1) = 3, B = 3/4.
    result = shrink([-2.0, 0.0, 2.0], [1.0, 1.0, 1.0])
    assert result.mu == pytest.approx(0.0)
    assert result.tau2 == pytest.approx(3.0)
    np.testing.assert_allclose(result.weight, [0.75, 0.75, 0.75])
    np.testing.assert_allclose(result.shrunk, [-1.5, 0.0, 1.5])
    np.testing.assert_allclose(result.posterior_sd, [math.sqrt(0.75)] * 3)


def test_shrink_with_given_mean_uses_k_degrees_of_freedom() -> None:
    # Around μ = 1: Q = 9 + 1 + 1 = 11, τ² = (11 − 3)/3 = 8/3, B = (8/3)/(11/3) = 8/11.
    result = shrink([-2.0, 0.0, 2.0], [1.0, 1.0, 1.0], mean=1.0)
    assert result.mu == 1.0
    assert result.tau2 == pytest.approx(8 / 3)
    np.testing.assert_allclose(result.shrunk, 1.0 + 8 / 11 * (np.array([-2.0, 0.0, 2.0]) - 1.0))


def test_shrink_tau2_matches_statsmodels_dersimonian_laird() -> None:
    rng = np.random.default_rng(7)
    variances = rng.uniform(0.2, 3.0, size=25)
    values = rng.normal(10.0, 1.5, size=25) + rng.normal(0.0, np.sqrt(variances))
    result = shrink(values, variances)
    reference = combine_effects(values, variances, method_re="dl")
    assert result.tau2 == pytest.approx(reference.tau2, rel=1e-10)
    assert result.mu == pytest.approx(reference.mean_effect_re, rel=1e-10)


def test_shrink_no_between_unit_spread_gives_everyone_the_mean() -> None:
    # The values differ less than their noise would make them: Q < k − 1, τ² = 0.
    result = shrink([9.9, 10.0, 10.1, 10.05], [1.0, 2.0, 1.0, 4.0])
    assert result.tau2 == 0.0
    np.testing.assert_allclose(result.shrunk, result.mu)
    np.testing.assert_allclose(result.weight, 0.0)
    np.testing.assert_allclose(result.posterior_sd, 0.0)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(st.floats(-100, 100), min_size=3, max_size=30),
    st.floats(0.01, 10.0),
    st.floats(1.01, 100.0),
)
def test_noisier_units_move_more_towards_the_mean(
    values: list[float], small_variance: float, factor: float
) -> None:
    y = np.array([*values, values[0]])
    v = np.full(y.size, small_variance)
    v[-1] = small_variance * factor  # same value as unit 0, but noisier
    result = shrink(y, v)
    assert result.weight[-1] <= result.weight[0]
    assert abs(result.shrunk[-1] - result.mu) <= abs(result.shrunk[0] - result.mu) + 1e-9
    # Shrinkage never overshoots the mean.
    assert np.all((result.shrunk - result.mu) * (y - result.mu) >= -1e-9)


def test_shrink_is_nan_safe() -> None:
    full = shrink([-2.0, 0.0, 2.0], [1.0, 1.0, 1.0])
    gappy = shrink([-2.0, np.nan, 0.0, 2.0, 5.0], [1.0, 1.0, 1.0, 1.0, np.nan])
    assert gappy.tau2 == pytest.approx(full.tau2)
    assert np.isnan(gappy.shrunk[[1, 4]]).all()
    np.testing.assert_allclose(gappy.shrunk[[0, 2, 3]], full.shrunk)


def test_shrink_rejects_bad_input() -> None:
    with pytest.raises(InvalidInputError):
        shrink([1.0, 2.0], [1.0])
    with pytest.raises(InvalidInputError):
        shrink([1.0, 2.0], [1.0, 0.0])
    with pytest.raises(InvalidInputError):
        shrink([np.nan], [1.0])
