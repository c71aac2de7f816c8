from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.stats import mstats

from tillit.analyses._funnel import (
    additive_tau2,
    funnel,
    normal_limits,
    normal_z,
    overdispersion,
    poisson_ratio_limits,
    proportion_limits,
    proportion_z,
    ratio_z,
)
from tillit.errors import InvalidInputError

# Spiegelhalter-style example of six units: observed and expected counts.
OBSERVED = np.array([100.0, 150.0, 180.0, 80.0, 120.0, 225.0])
EXPECTED = np.array([108.0, 112.0, 165.0, 95.0, 100.0, 220.0])


@pytest.mark.parametrize(
    ("expected", "level", "lower", "upper"),
    [
        (15.0, 0.95, 0.5596924, 1.649348),
        (15.0, 0.998, 0.3862650, 2.082907),
        (30.0, 0.95, 0.6746958, 1.427562),
    ],
)
def test_poisson_ratio_limits_worked_numbers(
    expected: float, level: float, lower: float, upper: float
) -> None:
    lo, hi = poisson_ratio_limits([expected], level)
    assert lo[0] == pytest.approx(lower, abs=1e-6)
    assert hi[0] == pytest.approx(upper, abs=1e-6)


def test_overdispersion_worked_number_six_units_are_not_winsorized() -> None:
    z = ratio_z(OBSERVED, EXPECTED)
    np.testing.assert_allclose(z, np.sqrt(EXPECTED) * np.log(OBSERVED / EXPECTED))
    assert overdispersion(z) == pytest.approx(2.948033, abs=1e-6)
    # With 6 units floor(0.1·6) = 0 values are pulled in, so φ is the plain mean of z².
    assert overdispersion(z) == pytest.approx(float(np.mean(z**2)))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-50, 50), min_size=1, max_size=80))
def test_overdispersion_winsorizes_like_scipy(z: list[float]) -> None:
    arr = np.array(z)
    winsorized = np.asarray(mstats.winsorize(arr, limits=(0.1, 0.1)))
    assert overdispersion(arr) == pytest.approx(float(np.mean(winsorized**2)), rel=1e-9)


def test_overdispersion_pulls_in_an_extreme_unit_when_there_are_enough_units() -> None:
    z = np.array([0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.8, 0.9, 40.0])
    # 10 units: the largest (40) becomes the second largest (0.9), the smallest (−0.8) the −0.6.
    expected = np.mean(np.array([0.1, -0.2, 0.3, -0.4, 0.5, -0.6, 0.7, -0.6, 0.9, 0.9]) ** 2)
    assert overdispersion(z) == pytest.approx(expected)


def test_additive_tau2_worked_number() -> None:
    z = ratio_z(OBSERVED, EXPECTED)
    se = 1.0 / np.sqrt(EXPECTED)
    phi = overdispersion(z)
    # Σw = 800, Σw² = 118 858 with w = E.
    assert additive_tau2(z, se, phi) == pytest.approx((6 * phi - 5) / (800 - 118_858 / 800))
    assert additive_tau2(z, se, phi) == pytest.approx(0.0194779, abs=1e-6)


def test_additive_tau2_is_zero_without_overdispersion() -> None:
    se = np.array([0.1, 0.2, 0.3, 0.4])
    assert additive_tau2([0.1, -0.2, 0.3, 0.0], se, phi=0.75) == 0.0  # I·φ = 3 = I − 1
    assert additive_tau2([1.0], [0.1], phi=5.0) == 0.0


def test_z_scores() -> None:
    assert proportion_z([0.3], [100], 0.2)[0] == pytest.approx(0.1 / np.sqrt(0.2 * 0.8 / 100))
    assert normal_z([12.0], [2.0], 10.0)[0] == pytest.approx(1.0)
    assert ratio_z([0.0], [4.0])[0] == -np.inf
    assert np.isnan(ratio_z([1.0], [0.0])[0])


@settings(max_examples=200, deadline=None)
@given(
    st.floats(0.01, 0.99),
    st.integers(1, 100_000),
    st.integers(1, 100_000),
    st.sampled_from([0.8, 0.95, 0.998]),
    st.floats(0.0, 0.01),
)
def test_proportion_limits_widen_as_n_shrinks_and_contain_the_target(
    target: float, n1: int, n2: int, level: float, tau2: float
) -> None:
    small, big = min(n1, n2), max(n1, n2)
    lo, hi = proportion_limits(target, [small, big], level, tau2)
    assert lo[0] <= lo[1] <= target <= hi[1] <= hi[0]
    assert lo[0] >= 0.0 and hi[0] <= 1.0


@settings(max_examples=200, deadline=None)
@given(
    st.floats(0.05, 50_000),
    st.floats(1.01, 100.0),
    st.sampled_from([0.8, 0.95, 0.998]),
)
def test_poisson_limits_widen_as_expected_shrinks_and_contain_one(
    expected: float, factor: float, level: float
) -> None:
    lo, hi = poisson_ratio_limits([expected, expected * factor], level)
    assert lo[0] <= lo[1] < 1.0 < hi[1] <= hi[0]


@settings(max_examples=100, deadline=None)
@given(st.floats(-1e3, 1e3), st.floats(0.001, 100), st.floats(1.01, 100), st.floats(0, 10))
def test_normal_limits_widen_with_the_standard_error(
    target: float, se: float, factor: float, tau2: float
) -> None:
    lo, hi = normal_limits(target, [se * factor, se], 0.95, tau2)
    assert lo[0] < lo[1] < target < hi[1] < hi[0]


def test_proportion_funnel_pooled_target_and_positions() -> None:
    y = np.array([0.10, 0.12, 0.30, 0.11, 0.02, 0.10])
    n = np.array([1000, 400, 500, 2000, 800, 50])
    result = funnel(y, n, kind="proportion", overdispersion=False)
    assert result.target == pytest.approx(float((y * n).sum() / n.sum()))
    assert not result.adjusted
    assert result.tau2 == 0.0
    assert result.levels == (0.95, 0.998)
    lo, hi = proportion_limits(result.target, n, 0.998)
    np.testing.assert_allclose(result.lower[0.998], lo)
    np.testing.assert_allclose(result.upper[0.998], hi)
    assert result.position[2] == "above_998"
    assert result.position[4] == "below_998"
    assert result.position[5] == "inside"
    np.testing.assert_allclose(result.z, proportion_z(y, n, result.target))


def test_ratio_funnel_uses_exact_poisson_limits_and_adjusts_for_overdispersion() -> None:
    ratio = OBSERVED / EXPECTED
    plain = funnel(ratio, EXPECTED, kind="ratio", overdispersion=False)
    assert plain.target == 1.0
    lo, hi = poisson_ratio_limits(EXPECTED, 0.95)
    np.testing.assert_allclose(plain.lower[0.95], lo)
    np.testing.assert_allclose(plain.upper[0.95], hi)
    assert plain.phi == pytest.approx(2.948033, abs=1e-6)
    assert plain.position[1] == "above_998"  # O = 150 vs E = 112, z = 3.09

    adjusted = funnel(ratio, EXPECTED, kind="ratio")
    assert adjusted.adjusted
    assert adjusted.tau2 == pytest.approx(0.0194779, abs=1e-6)
    se2 = 1.0 / EXPECTED + adjusted.tau2
    np.testing.assert_allclose(adjusted.z, np.log(ratio) / np.sqrt(se2))
    np.testing.assert_allclose(adjusted.upper[0.95], np.exp(1.959963985 * np.sqrt(se2)))
    assert (adjusted.upper[0.998] > plain.upper[0.998]).all()
    assert adjusted.position[1] == "inside"


def test_ratio_funnel_with_other_target_scales_the_poisson_limits() -> None:
    result = funnel([1.0], [10.0], target=1.5, kind="ratio", overdispersion=False)
    lo, hi = poisson_ratio_limits([15.0], 0.95)
    assert result.lower[0.95][0] == pytest.approx(1.5 * lo[0])
    assert result.upper[0.95][0] == pytest.approx(1.5 * hi[0])


def test_zero_count_is_below_and_left_out_of_phi() -> None:
    ratio = np.append(OBSERVED / EXPECTED, 0.0)
    result = funnel(ratio, np.append(EXPECTED, 30.0), kind="ratio", overdispersion=False)
    assert result.z[-1] == -np.inf
    assert result.position[-1] == "below_998"
    assert result.phi == pytest.approx(2.948033, abs=1e-6)


def test_normal_funnel_weighted_target_and_noise_band() -> None:
    y = np.array([10.0, 12.0, 11.0, 30.0])
    se = np.array([1.0, 2.0, 1.0, 2.0])
    result = funnel(y, se, kind="normal", overdispersion=False)
    w = 1 / se**2
    assert result.target == pytest.approx(float((w * y).sum() / w.sum()))
    lo, hi = normal_limits(result.target, se, 0.95)
    np.testing.assert_allclose(result.lower[0.95], lo)
    np.testing.assert_allclose(result.upper[0.95], hi)
    assert result.position[3] == "above_998"


def test_missing_values_are_excluded_and_come_out_missing() -> None:
    ratio = OBSERVED / EXPECTED
    full = funnel(ratio, EXPECTED, kind="ratio")
    gappy = funnel(np.append(ratio, [np.nan, 1.2]), np.append(EXPECTED, [50.0, 0.0]), kind="ratio")
    assert gappy.phi == pytest.approx(full.phi)
    assert gappy.tau2 == pytest.approx(full.tau2)
    assert np.isnan(gappy.z[-2:]).all()
    assert list(gappy.position[-2:]) == ["missing", "missing"]
    np.testing.assert_allclose(gappy.z[:6], full.z)


def test_limits_at_draws_the_same_curves() -> None:
    result = funnel(OBSERVED / EXPECTED, EXPECTED, kind="ratio")
    lo, hi = result.limits_at(EXPECTED, 0.998)
    np.testing.assert_allclose(lo, result.lower[0.998])
    np.testing.assert_allclose(hi, result.upper[0.998])


def test_result_arrays_are_read_only() -> None:
    result = funnel([0.1, 0.2], [100, 100])
    with pytest.raises(ValueError, match="read-only"):
        result.z[0] = 1.0


@pytest.mark.parametrize(
    ("values", "precision", "kwargs"),
    [
        ([0.1, 0.2], [100], {}),
        ([0.1, 0.2], [100, -1], {}),
        ([0.1, 1.2], [100, 100], {}),
        ([0.1, 0.2], [100, 100], {"levels": (0.95, 1.0)}),
        ([0.1, 0.2], [100, 100], {"levels": ()}),
        ([0.1, 0.2], [100, 100], {"kind": "poisson"}),
        ([-1.0, 0.2], [10, 10], {"kind": "ratio"}),
        ([1.0, 0.2], [10, 10], {"kind": "ratio", "target": 0.0}),
        ([np.nan], [10], {}),
    ],
)
def test_funnel_rejects_impossible_input(
    values: list[float], precision: list[float], kwargs: dict[str, object]
) -> None:
    with pytest.raises(InvalidInputError):
        funnel(values, precision, **kwargs)  # type: ignore[arg-type]


def test_limit_functions_reject_bad_levels_and_negative_sizes() -> None:
    with pytest.raises(InvalidInputError):
        poisson_ratio_limits([10.0], 0.0)
    with pytest.raises(InvalidInputError):
        proportion_limits(0.5, [-3], 0.95)
    with pytest.raises(InvalidInputError):
        normal_limits(0.0, [1.0], 1.5)
