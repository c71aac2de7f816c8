"""bench/bench_validation.py's diagnostics that docs/analyses.md quotes: the persistence
the noise model expects of a flag if the true gaps stood still (``standstill``), and the
per-side shares (``by_side``), on generated gaps whose truth is known."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace

import numpy as np

from tillit.analyses._noise import mean_variance_factor

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _load() -> ModuleType:
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module("bench_validation")


bench = _load()


def _generated(seed: int, drift: float) -> tuple[float, float, dict[int, tuple[float, int]]]:
    """Gaps of 290 municipalities on 60 KPIs: true gaps N(0, τ²) per KPI, three years of
    AR(1) noise, flags where |mean gap| > 3 standard errors, judged on one later year
    whose true gap is ``drift`` times the old one. Returns (observed share persisting,
    the standstill expectation, by side)."""
    rng = np.random.default_rng(seed)
    kpis, units, years = 60, 290, 3
    rho = rng.uniform(0.0, 0.8, kpis)
    tau = rng.uniform(0.5, 2.0, kpis)[:, None]
    sd = rng.uniform(0.5, 1.5, (kpis, units))
    true = rng.normal(0.0, 1.0, (kpis, units)) * tau
    noise = np.empty((kpis, units, years))
    noise[:, :, 0] = rng.normal(size=(kpis, units))
    for y in range(1, years):
        r = rho[:, None]
        noise[:, :, y] = r * noise[:, :, y - 1] + np.sqrt(1 - r * r) * rng.normal(
            size=(kpis, units)
        )
    mean = true + sd * noise.mean(axis=2)
    count = np.full((kpis, units), years)
    se = sd * np.sqrt(mean_variance_factor(rho[:, None], count))
    t = mean / se
    flagged = np.abs(t) > 3
    k, m = np.nonzero(flagged)
    flags = bench.Flags(k, m, np.sign(t[k, m]).astype(int))
    matrix = SimpleNamespace(
        gaps=SimpleNamespace(mean_difference=mean, se=se, years=count),
        tested=np.ones((kpis, units), bool),
        focal=np.arange(units),
        evidence=SimpleNamespace(noise=SimpleNamespace(rho=rho)),
    )
    expected = bench.standstill(matrix, flags, np.ones(kpis, int))
    later = drift * true[k, m] + sd[k, m] * rng.normal(size=k.size)
    same = flags.side * later > 0
    ok = np.ones(k.size, bool)
    return float(same.mean()), float(expected.mean()), bench.by_side(flags, ok, same)


def test_standstill_expects_what_stationary_gaps_do() -> None:
    for seed in (1, 2, 3):
        observed, expected, _ = _generated(seed, drift=1.0)
        assert abs(observed - expected) < 0.015, (seed, observed, expected)


def test_standstill_exceeds_persistence_when_true_gaps_move() -> None:
    observed, expected, _ = _generated(4, drift=0.3)
    assert expected - observed > 0.05


def test_by_side_counts_each_side() -> None:
    observed, _, sides = _generated(5, drift=1.0)
    total = sides[-1][1] + sides[1][1]
    assert sides[-1][1] > 0 and sides[1][1] > 0
    share = (sides[-1][0] * sides[-1][1] + sides[1][0] * sides[1][1]) / total
    assert abs(share - observed) < 1e-12
