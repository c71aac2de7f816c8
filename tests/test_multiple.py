from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from statsmodels.stats.multitest import multipletests

from tillit.analyses._multiple import benjamini_hochberg
from tillit.errors import InvalidInputError


def test_bh_matches_statsmodels_on_a_worked_example() -> None:
    p = np.array([0.01, 0.04, 0.03, 0.005, 0.2, 0.5, 0.045, 0.9])
    rejected, q = benjamini_hochberg(p, q=0.05)
    sm_reject, sm_q, _, _ = multipletests(p, alpha=0.05, method="fdr_bh")
    np.testing.assert_array_equal(rejected, sm_reject)
    np.testing.assert_allclose(q, sm_q, rtol=1e-12)
    # By hand: sorted p 0.005, 0.01, 0.03, 0.04, 0.045 → q 0.04, 0.04, 0.072, 0.072, 0.072.
    assert q[3] == pytest.approx(0.04)
    assert q[2] == pytest.approx(0.072)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.one_of(st.floats(0.0, 1.0), st.just(float("nan"))),
        min_size=1,
        max_size=60,
    ),
    st.sampled_from([0.01, 0.05, 0.1, 0.25]),
)
def test_bh_matches_statsmodels_and_ignores_missing_p_values(p: list[float], q: float) -> None:
    arr = np.array(p)
    rejected, qv = benjamini_hochberg(arr, q=q)
    missing = np.isnan(arr)
    assert not rejected[missing].any()
    assert np.isnan(qv[missing]).all()
    if (~missing).any():
        sm_reject, sm_q, _, _ = multipletests(arr[~missing], alpha=q, method="fdr_bh")
        np.testing.assert_array_equal(rejected[~missing], sm_reject)
        np.testing.assert_allclose(qv[~missing], sm_q, rtol=1e-12, atol=1e-15)


def test_bh_missing_p_values_do_not_count_in_m() -> None:
    with_nan = benjamini_hochberg([0.01, 0.02, np.nan, np.nan, np.nan])[1]
    without = benjamini_hochberg([0.01, 0.02])[1]
    np.testing.assert_allclose(with_nan[:2], without)


def test_bh_all_missing_rejects_nothing() -> None:
    rejected, q = benjamini_hochberg([np.nan, np.nan])
    assert not rejected.any()
    assert np.isnan(q).all()


def test_bh_rejects_bad_input() -> None:
    with pytest.raises(InvalidInputError):
        benjamini_hochberg([0.1], q=0.0)
    with pytest.raises(InvalidInputError):
        benjamini_hochberg([1.2])


def test_a_p_value_exactly_on_its_threshold_is_rejected() -> None:
    # 0.05 is the third smallest of six at q = 0.1: its threshold 3/6 · 0.1 is 0.05 itself,
    # while 0.05 · 6 / 3 rounds to just above 0.1.
    rejected, _ = benjamini_hochberg([0.0, 0.0, 1.0, 1.0, 1.0, 0.05], q=0.1)
    assert rejected.tolist() == [True, True, False, False, False, True]
