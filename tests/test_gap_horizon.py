"""scripts/gap_horizon_backtest.py, the weightings of the recent years' gaps tried for
issue 13's backtest margin and not adopted (docs/analyses.md, Validation): the weights
are those of the best linear predictor under AR(1) noise, their variance factor is exact,
the plain mean through the script's code is the product's test, the product's gap
function comes back after a run, and every variant keeps the stated error rate on the
null panels of test_inference."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from tests import test_inference as inference
from tests.scripts_loader import load_script
from tillit.analyses import _compare, _evidence, _learn, learning_matrix
from tillit.analyses._noise import mean_variance_factor

script = load_script("gap_horizon_backtest")


def _weights(rho: float, present: list[bool], h: float) -> np.ndarray:
    return np.asarray(script.gap_weights(np.array([rho]), np.array([[present]]), h)[0, 0])


def _correlation(rho: float, positions: np.ndarray) -> np.ndarray:
    return np.asarray(rho ** np.abs(positions[:, None] - positions[None, :]), dtype=float)


@pytest.fixture(scope="module")
def null_panel() -> tuple[Any, np.ndarray]:
    values, population, peers, _ = inference._panel(seed=31)
    return inference._evidence(values, population), peers


def test_the_latest_year_alone_at_horizon_zero_and_the_mean_without_correlation() -> None:
    for rho in (0.0, 0.4, 0.9):
        np.testing.assert_allclose(_weights(rho, [True] * 3, 0.0), [0, 0, 1], atol=1e-12)
    # Independent years: the predictor of any later year is the plain mean …
    np.testing.assert_allclose(_weights(0.0, [True] * 3, 3.0), [1 / 3] * 3)
    # … but not with correlated years: the latest year then carries more (ρ³ of it).
    w = _weights(0.9, [True] * 3, 3.0)
    assert w[2] > 0.729 and w[2] > w[0] > w[1] > 0
    # A missing year gets no weight; the weights always sum to 1 (unbiased for a level).
    w = _weights(0.5, [False, True, True], 2.0)
    assert w[0] == 0 and w.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("rho", [0.2, 0.6, 0.9])
@pytest.mark.parametrize("h", [0.0, 1.0, 3.0, float("inf")])
@pytest.mark.parametrize("present", [[True] * 3, [True, False, True], [True] * 10])
def test_the_weights_are_the_best_unbiased_linear_predictor(
    rho: float, h: float, present: list[bool]
) -> None:
    """Minimising Var(Σ wₜyₜ − y_{T+h}) subject to Σ wₜ = 1 (a constant level of unknown
    size): the bordered system [R 1; 1ᵀ 0][w; λ] = [r; 1], r the correlations with the
    year predicted (0 for h = ∞, whose predictor is the level's GLS estimate)."""
    years = len(present)
    used = np.flatnonzero(present)
    positions = used.astype(float)
    n = used.size
    system = np.zeros((n + 1, n + 1))
    system[:n, :n] = _correlation(rho, positions)
    system[:n, n] = system[n, :n] = 1.0
    r = np.zeros(n) if np.isinf(h) else rho ** ((years - 1 + h) - positions)
    expected = np.zeros(years)
    expected[used] = np.linalg.solve(system, np.append(r, 1.0))[:n]
    np.testing.assert_allclose(_weights(rho, present, h), expected, atol=1e-12)


def test_the_gls_level_weights_the_ends_and_has_the_gls_variance() -> None:
    rho = 0.6
    w = _weights(rho, [True] * 3, float("inf"))
    np.testing.assert_allclose(w, np.array([1, 1 - rho, 1]) / (3 - rho))
    # Var(GLS mean of n AR(1) values) = σ²(1 + ρ) / (n − (n − 2)ρ).
    assert script.weighted_factor(w, rho) == pytest.approx((1 + rho) / (3 - rho))
    assert script.weighted_factor(w, rho) < mean_variance_factor(rho, 3)


def test_the_weighted_factor_is_the_variance_of_the_weighted_sum() -> None:
    rng = np.random.default_rng(5)
    weights = rng.normal(size=(2, 4, 5))
    rho = np.array([[0.3], [0.8]])
    expected = np.array(
        [
            [w @ _correlation(float(rho[k, 0]), np.arange(5.0)) @ w for w in weights[k]]
            for k in range(2)
        ]
    )
    np.testing.assert_allclose(script.weighted_factor(weights, rho), expected)
    for r in (0.0, 0.3, 0.9):
        for n in (2, 3, 5):
            assert script.weighted_factor(np.full(n, 1.0 / n), r) == pytest.approx(
                float(mean_variance_factor(r, n))
            )
    # One year alone has the full variance.
    assert script.weighted_factor(np.array([0.0, 0.0, 1.0]), 0.3) == pytest.approx(1.0)


def test_the_plain_mean_through_the_scripts_code_is_the_products_test(
    null_panel: tuple[Any, np.ndarray],
) -> None:
    evidence, peers = null_panel
    focal = np.arange(peers.shape[0], dtype=np.int64)
    product = _evidence.peer_gaps(evidence, focal, peers)
    mine = script.weighted_peer_gaps(evidence, focal, peers, None, 3)
    assert np.isfinite(product.p).mean() > 0.9
    for field in ("mean_difference", "t", "p", "se"):
        np.testing.assert_allclose(
            getattr(mine, field), getattr(product, field), rtol=1e-9, atol=1e-12, equal_nan=True
        )


def _in_use() -> list[object]:
    """The gap functions that the learning matrix and the comparison call."""
    return [vars(module)["peer_gaps"] for module in (_learn, _compare)]


def test_a_rule_replaces_the_products_gap_function_only_while_it_runs() -> None:
    product = _evidence.peer_gaps
    assert _in_use() == [product, product]
    with pytest.raises(RuntimeError), script.gap_rule(0.0):
        assert product not in _in_use() and _evidence.peer_gaps is not product
        raise RuntimeError
    assert _in_use() == [product, product] and _evidence.peer_gaps is product
    with script.gap_rule(None, 3):
        assert _in_use() == [product, product]
    with script.gap_rule(None, 10):
        assert product not in _in_use()
    assert _in_use() == [product, product]


@pytest.mark.parametrize("variant", [(0.0, 3), (3.0, 3), (float("inf"), 3), ("maxp", 3)])
def test_every_variant_keeps_the_error_rate_on_the_null_panel(
    null_panel: tuple[Any, np.ndarray], variant: tuple[object, int]
) -> None:
    evidence, peers = null_panel
    with script.gap_rule(*variant):
        matrix = learning_matrix(evidence, peers, q=inference.Q)
    p = matrix.gaps.p[matrix.tested]
    # The larger of two p-values is conservative (1.3 % below 0.05 here), the others not.
    assert (0.005 if variant[0] == "maxp" else 0.02) < (p < 0.05).mean() < 0.065
    flagged = (matrix.behind | matrix.ahead).any(axis=0)
    assert flagged.mean() <= inference.ANY_FLAG_LIMIT


def test_the_latest_year_alone_costs_power_on_a_planted_gap() -> None:
    """Five noise SDs behind for three years: the mean of three flags it; the latest year
    alone (nearly the whole noise of one year, at 11 degrees of freedom) does not survive
    Benjamini–Hochberg over the 60 KPIs (p 0.0016 against 0.00005)."""
    values, population, peers, sd = inference._panel(seed=34)
    values[7, 100, -3:] -= 5.0 * sd[7, 100]
    evidence = inference._evidence(values, population)
    mean = learning_matrix(evidence, peers, q=inference.Q)
    with script.gap_rule(0.0):
        latest = learning_matrix(evidence, peers, q=inference.Q)
    assert mean.behind[7, 100] and not latest.behind[7, 100]
    assert latest.gaps.p[7, 100] > 10 * mean.gaps.p[7, 100]
    assert latest.gaps.t[7, 100] < -3.0  # still a clear gap on its own
    assert not (latest.behind[7, 101] or mean.behind[7, 101])
