from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats
from statsmodels.datasets import nile

from tillit.analyses._polarity import Polarity
from tillit.analyses._trend import (
    mann_kendall,
    shortest_testable,
    theil_sen,
    trend,
    trend_matrix,
)
from tillit.errors import InvalidInputError


@pytest.fixture(scope="module")
def nile_flow() -> tuple[np.ndarray, np.ndarray]:
    data = nile.load_pandas().data
    return data["year"].to_numpy(), data["volume"].to_numpy()


def test_mann_kendall_nile_worked_numbers(nile_flow: tuple[np.ndarray, np.ndarray]) -> None:
    result = mann_kendall(*nile_flow)
    assert result.n == 100
    assert result.s == -1387
    assert round(result.z, 4) == -4.1281
    assert result.method == "normal"  # 100 points, and the series has ties
    assert result.p_value == pytest.approx(2 * stats.norm.sf(4.128066522844101))


def test_theil_sen_nile_matches_scipy(nile_flow: tuple[np.ndarray, np.ndarray]) -> None:
    years, volume = nile_flow
    result = theil_sen(years, volume)
    assert result.slope == pytest.approx(-2.6)
    reference = stats.theilslopes(volume, years, alpha=0.95, method="joint")
    assert result.intercept == pytest.approx(reference.intercept)
    assert result.slope_low == pytest.approx(reference.low_slope)
    assert result.slope_high == pytest.approx(reference.high_slope)


def test_trend_nile_summary(nile_flow: tuple[np.ndarray, np.ndarray]) -> None:
    result = trend(*nile_flow)
    assert result.direction == "decreasing"
    assert result.first_year == 1871
    assert result.last_year == 1970
    assert result.summary == (
        "Minskar med 2,6 per år 1871–1970 (Mann–Kendall p < 0,001; 100 värden); "
        "okänt vilket håll som är bättre."
    )


def test_tie_corrected_variance_by_hand() -> None:
    # Tie groups of 2 and 3: (6·5·17 − 2·1·9 − 3·2·11)/18 = 426/18.
    result = mann_kendall(range(2000, 2006), [1, 2, 2, 3, 3, 3])
    assert result.var_s == pytest.approx(426 / 18)
    assert result.s == 11
    assert result.method == "normal"
    assert result.z == pytest.approx(10 / math.sqrt(426 / 18))


@settings(max_examples=150, deadline=None)
@given(st.integers(2, 20), st.data())
def test_exact_p_value_matches_scipy_kendall_exact(n: int, data: st.DataObject) -> None:
    values = np.array(data.draw(st.permutations(range(n))), dtype=float)
    result = mann_kendall(np.arange(2000, 2000 + n), values)
    assert result.method == "exact"
    reference = stats.kendalltau(np.arange(n), values, method="exact")
    assert result.p_value == pytest.approx(reference.pvalue, rel=1e-9)


def test_all_values_tied_is_no_change() -> None:
    result = trend([2001, 2002, 2003, 2004, 2005], [5.0, 5.0, 5.0, 5.0, 5.0])
    assert result.s == 0
    assert result.p_value == 1.0
    assert result.slope == 0.0
    assert result.direction == "no_clear_change"


def test_actual_years_are_used_and_gaps_are_not_closed() -> None:
    dense = theil_sen([2000, 2001, 2002, 2003], [1.0, 2.0, 3.0, 4.0])
    gappy = theil_sen([2000, 2001, 2002, 2012], [1.0, 2.0, 3.0, 4.0])
    assert dense.slope == 1.0
    assert gappy.slope < 1.0
    shuffled = mann_kendall([2003, 2000, 2002, 2001], [4.0, 1.0, 3.0, 2.0])
    assert shuffled.s == 6


def test_missing_values_are_dropped() -> None:
    years, values = [2000, 2001, 2002, 2003, 2004], [1.0, np.nan, 3.0, np.nan, 4.0]
    assert trend(years, values).n == 3
    assert mann_kendall(years, values).s == 3
    assert theil_sen(years, values).slope == pytest.approx(0.75)


def test_too_short_series() -> None:
    result = trend([2020, 2021, 2022], [1.0, np.nan, 2.0])
    assert result.direction == "too_short"
    assert result.summary == "För kort serie för att bedöma: 2 värden, minst 5 behövs."
    assert result.slope is None and result.p_value is None and result.s is None
    alone = trend([2020], [1.0])
    assert alone.summary == "För kort serie för att bedöma: 1 värde, minst 5 behövs."
    assert trend([1, 2, 3], [1.0, 2.0, 3.0], alpha=0.5).direction == "increasing"
    assert trend([], []).first_year is None


def test_a_series_too_short_to_test_says_so_even_when_its_interval_excludes_zero() -> None:
    # Three or four points can never reach p < 0.05 (the exact minimum is 2/3! and 2/4!),
    # while Sen's interval, clamped to the extreme slopes, excludes zero for any monotone
    # series: "ingen tydlig förändring" would be a verdict the data cannot give.
    for values in ([1.0, 2.0, 3.0], [3.0, 2.5, 1.0, 0.5]):
        result = trend(range(2020, 2020 + len(values)), values, polarity=Polarity.HIGHER)
        assert result.direction == "too_short"
        assert result.summary.startswith("För kort serie för att bedöma: ")
        assert result.summary.endswith("minst 5 behövs.")
    # A looser alpha needs fewer points: 2/4! < 0.1.
    assert trend([1, 2, 3, 4], [1.0, 2.0, 3.0, 4.0], alpha=0.1).direction == "increasing"


@settings(max_examples=300, deadline=None)
@given(
    st.lists(st.integers(0, 6).map(float) | st.floats(-5, 5), min_size=5, max_size=15),
    st.sampled_from(list(Polarity)),
)
def test_a_verdict_of_change_agrees_with_the_slopes_interval(
    values: list[float], polarity: Polarity
) -> None:
    result = trend(range(2000, 2000 + len(values)), values, polarity=polarity)
    assert result.slope_low is not None and result.slope_high is not None
    excludes_zero = result.slope_low > 0 or result.slope_high < 0
    if result.direction != "no_clear_change":  # a change: its interval excludes zero
        assert excludes_zero
    elif excludes_zero:  # no change although the interval excludes zero: the test says so
        assert result.p_value is not None and result.p_value >= 0.05


def test_bad_input_is_rejected() -> None:
    with pytest.raises(InvalidInputError):
        mann_kendall([2000, 2000, 2001], [1.0, 2.0, 3.0])
    with pytest.raises(InvalidInputError):
        trend([2000, 2001], [1.0])
    with pytest.raises(InvalidInputError):
        trend([2000, 2001, 2002], [1.0, 2.0, 3.0], min_points=1)
    with pytest.raises(InvalidInputError):
        mann_kendall([2000], [1.0])
    with pytest.raises(InvalidInputError):
        trend([2000, 2001, 2002], [1.0, np.inf, 3.0])


distinct_years = st.lists(st.integers(1950, 2050), min_size=8, max_size=8, unique=True)
increasing_values = st.lists(
    st.floats(-1e6, 1e6, allow_nan=False), min_size=8, max_size=8, unique=True
).map(sorted)


@settings(max_examples=100, deadline=None)
@given(distinct_years, increasing_values)
def test_strictly_monotone_eight_points_is_a_significant_trend(
    years: list[int], values: list[float]
) -> None:
    years = sorted(years)
    result = trend(years, values)
    assert result.s == 28
    assert result.method == "exact"
    assert result.p_value == pytest.approx(2 / math.factorial(8))
    assert result.direction == "increasing"
    assert trend(years, values, polarity=Polarity.HIGHER).direction == "improving"
    assert trend(years, values, polarity=Polarity.LOWER).direction == "worsening"
    falling = trend(years, values[::-1], polarity=Polarity.LOWER)
    assert falling.direction == "improving"
    assert falling.summary.startswith("Förbättring: minskar med ")


# Ranks that zig-zag out from the middle: 3, 4, 2, 5, 1, 6, 0, 7. Kendall's S is 4 of a possible
# 28 (S depends only on the ranks), exact p ≈ 0.71, whatever the values and years.
ZIGZAG = [3, 4, 2, 5, 1, 6, 0, 7]


@settings(max_examples=100, deadline=None)
@given(distinct_years, increasing_values)
def test_zigzag_shuffle_of_a_monotone_series_is_no_clear_change(
    years: list[int], values: list[float]
) -> None:
    years = sorted(years)
    shuffled = [values[r] for r in ZIGZAG]
    result = trend(years, shuffled, polarity=Polarity.HIGHER)
    assert result.s == 4
    assert result.p_value is not None and result.p_value > 0.5
    assert result.direction == "no_clear_change"
    assert result.summary.startswith("Ingen tydlig förändring ")


@st.composite
def panels(draw: st.DrawFn) -> tuple[np.ndarray, np.ndarray]:
    size = draw(st.integers(3, 24))
    years = np.array(draw(st.lists(st.integers(1990, 2040), min_size=size, max_size=size,
                                   unique=True)))  # fmt: skip
    rows = draw(st.integers(1, 12))
    # Small integers make ties common; NaN makes gaps and short rows.
    cells = st.one_of(st.integers(0, 6).map(float), st.floats(-5, 5), st.just(np.nan))
    values = draw(hnp.arrays(np.float64, (rows, size), elements=cells))
    return years, values


@settings(max_examples=150, deadline=None)
@given(panels(), st.sampled_from([0.01, 0.05, 0.1]), st.integers(2, 5))
def test_trend_matrix_equals_scalar_trend(
    panel: tuple[np.ndarray, np.ndarray], alpha: float, min_points: int
) -> None:
    years, values = panel
    result = trend_matrix(years, values, alpha=alpha, min_points=min_points)
    for row in range(values.shape[0]):
        scalar = trend(years, values[row], alpha=alpha, min_points=min_points)
        assert result.n[row] == scalar.n
        if scalar.direction == "too_short":
            # The scalar verdict also needs enough points to reach alpha at all.
            assert scalar.n < max(min_points, shortest_testable(alpha))
            if scalar.n < min_points:
                assert np.isnan(result.slope[row]) and np.isnan(result.p_value[row])
            assert not result.significant[row] or scalar.n >= min_points
            continue
        mk = mann_kendall(years, values[row])
        assert result.s[row] == scalar.s
        assert result.var_s[row] == pytest.approx(mk.var_s, rel=1e-12)
        assert result.z[row] == pytest.approx(scalar.z, rel=1e-12, abs=1e-12)
        assert result.p_value[row] == pytest.approx(scalar.p_value, rel=1e-9, abs=1e-15)
        assert result.slope[row] == pytest.approx(scalar.slope, rel=1e-12, abs=1e-12)
        # The scalar verdict also asks the slope's interval to exclude zero.
        if scalar.direction != "no_clear_change":
            assert result.significant[row]


def test_trend_matrix_handles_unsorted_years_and_empty_rows() -> None:
    years = np.array([2003, 2001, 2002])
    values = np.array([[3.0, 1.0, 2.0], [np.nan, np.nan, np.nan]])
    result = trend_matrix(years, values)
    assert list(result.n) == [3, 0]
    assert result.s[0] == 3
    assert result.slope[0] == 1.0
    assert np.isnan(result.s[1])
    assert list(result.significant) == [False, False]


def test_trend_matrix_rejects_bad_shapes() -> None:
    with pytest.raises(InvalidInputError):
        trend_matrix([2000, 2001], np.zeros((3, 3)))
    with pytest.raises(InvalidInputError):
        trend_matrix([2000, 2000, 2001], np.zeros((3, 3)))
    with pytest.raises(InvalidInputError):
        trend_matrix([2000, 2001, 2002], np.array([[1.0, -np.inf, 2.0]]))


@settings(max_examples=25, deadline=None)
@given(
    start=st.integers(1990, 2010),
    values=st.lists(st.floats(-1e3, 1e3, allow_nan=False), min_size=8, max_size=8, unique=True).map(
        sorted
    ),
)
def test_shuffled_years_remove_the_trend(start: int, values: list[float]) -> None:
    """A strictly monotone series is a significant trend; over every one of the 8! orders of
    its years the test is significant for at most 5 % of them (the exact test keeps its size),
    so shuffling the years removes the trend except by the rare chance the test allows."""
    years = np.arange(start, start + 8)
    assert trend(years, values).p_value is not None
    assert trend(years, values).p_value < 0.05
    orders = np.array(list(itertools.permutations(range(8))))
    shuffled = np.asarray(values)[orders]
    result = trend_matrix(years, shuffled)
    assert result.significant.mean() <= 0.05
