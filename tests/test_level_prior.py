"""scripts/level_prior_backtest.py, the level term in the noise model's prior tried for
issue 13 and not adopted (docs/analyses.md, Validation): the level is each series' mean
relative to the years' means in the levels' spread, the prior follows a variance that
grows with it (through the product's own check of the noise), adds nothing where there is
none, and the product's noise model comes back after a run, an error included, with its
evidence cache emptied."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tests.scripts_loader import load_script
from tillit.analyses import _noise, estimate_noise
from tillit.query import _context

script = load_script("level_prior_backtest")


def _panel(seed: int, level_slope: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two KPIs × 290 municipalities × 10 years: distinct levels, a shared change each
    year, noise whose log variance falls with log population and grows with the level
    by ``level_slope`` per spread."""
    rng = np.random.default_rng(seed)
    kpis, units, years = 2, 290, 10
    population = np.exp(rng.uniform(np.log(3e3), np.log(9e5), units))
    level = rng.normal(0.0, 1.0, (kpis, units))
    log_sd = 0.5 * (-0.5 * (np.log(population) - 10.0))[None, :] + 0.5 * level_slope * level
    noise = rng.normal(size=(kpis, units, years)) * np.exp(log_sd)[..., None]
    values = 50.0 + 10.0 * level[..., None] + noise + np.arange(years) * 0.7
    return values, population, level


def test_series_level_is_the_mean_relative_to_the_years_in_the_spread() -> None:
    values, _, level = _panel(1, 0.0)
    values[0, 3, :4] = np.nan  # missing years are left out, not counted as 0
    values[1, :, -1] = np.nan  # a KPI without its latest year keeps its scale
    z = script.series_level(values)
    assert np.corrcoef(z[0], level[0])[0, 1] > 0.99
    with warnings.catch_warnings():  # the KPI without its latest year: an empty mean
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = np.nanmean(values - np.nanmean(values, axis=1, keepdims=True), axis=-1)
    spread = np.std(expected, axis=1, ddof=1)
    assert np.allclose(z, np.clip(expected / spread[:, None], -3, 3))
    assert np.mean(np.abs(z[1]) >= 3.0) < 0.02  # in SDs of the levels: few at the clip
    values[1, 5, :] = 1e6  # far out: clipped
    assert script.series_level(values)[1, 5] == 3.0
    flat = np.ones((1, 20, 5))
    flat[0, 0, :] = np.nan
    got = script.series_level(flat)
    assert np.isnan(got[0, 0]) and (got[0, 1:] == 0).all()


def test_the_prior_follows_a_variance_that_grows_with_the_level() -> None:
    values, population, level = _panel(2, 1.0)
    shipped = estimate_noise(values, population)
    with script.level_prior(1):
        trend = _noise.estimate_noise(values, population)
        # The product's path (gather_evidence → check_noise) takes it too.
        checked = _noise.check_noise(values, population).noise
    high, low = level[0] > 1.0, level[0] < -1.0
    # The shipped prior is the same at every level; the level prior follows the truth.
    assert trend.model[0, high].mean() / trend.model[0, low].mean() > 3.0
    assert shipped.model[0, high].mean() / shipped.model[0, low].mean() < 1.5
    assert checked.model[0, high].mean() / checked.model[0, low].mean() > 3.0
    plain = _noise.check_noise(values, population).noise
    assert plain.model[0, high].mean() / plain.model[0, low].mean() < 1.5


def test_without_a_level_effect_the_prior_is_nearly_the_product_s() -> None:
    values, population, _ = _panel(3, 0.0)
    shipped = estimate_noise(values, population)
    with script.level_prior(2):
        trend = _noise.estimate_noise(values, population)
    ratio = trend.model / shipped.model
    assert np.median(np.abs(np.log(ratio))) < 0.1


def test_the_product_s_noise_model_comes_back_and_the_cache_is_emptied() -> None:
    estimate, size_model = _noise.estimate_noise, _noise._size_model
    _context._GATHERED[b"x"] = None  # type: ignore[assignment]
    with script.level_prior(1):
        assert _noise.estimate_noise is not estimate
        assert not _context._GATHERED
        _context._GATHERED[b"y"] = None  # type: ignore[assignment]
    assert _noise.estimate_noise is estimate and _noise._size_model is size_model
    assert not _context._GATHERED
    with script.level_prior(None):
        assert _noise.estimate_noise is estimate
        _context._GATHERED[b"z"] = None  # type: ignore[assignment]
    assert not _context._GATHERED
    with pytest.raises(RuntimeError), script.level_prior(2):
        raise RuntimeError("a failed run")
    assert _noise.estimate_noise is estimate and _noise._size_model is size_model
