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
    """Gaps of 200 focal municipalities (a shuffled subset of 290) on 60 KPIs, half of
    them "lower is better": true gaps N(0, τ²) per KPI, AR(1) noise over the three tested
    years continued to the year judged, 3 years after the last; flags where |mean gap| > 3
    standard errors, judged on that year with the true gap ``drift`` times the old one.
    Returns (observed share persisting, the standstill expectation, by side)."""
    rng = np.random.default_rng(seed)
    kpis, units, years, offset = 60, 290, 3, 3
    focal = rng.permutation(units)[:200]
    signs = np.where(rng.random(kpis) < 0.5, -1, 1)
    rho = rng.uniform(0.0, 0.9, kpis)
    tau = rng.uniform(0.5, 2.0, kpis)[:, None]
    sd = rng.uniform(0.5, 1.5, (kpis, focal.size))
    true = rng.normal(0.0, 1.0, (kpis, focal.size)) * tau  # better-positive
    r = rho[:, None]
    noise = [rng.normal(size=(kpis, focal.size))]
    for _ in range(years - 1 + offset):
        noise.append(r * noise[-1] + np.sqrt(1 - r * r) * rng.normal(size=(kpis, focal.size)))
    tested = np.stack(noise[:years], axis=2).mean(axis=2)
    oriented = true + sd * tested  # better-positive mean gap
    count = np.full((kpis, focal.size), years)
    se = sd * np.sqrt(mean_variance_factor(r, count))
    t = oriented / se
    k, column = np.nonzero(np.abs(t) > 3)
    flags = bench.Flags(k, focal[column], np.sign(t[k, column]).astype(int))
    matrix = SimpleNamespace(
        gaps=SimpleNamespace(mean_difference=oriented * signs[:, None], se=se, years=count),
        tested=np.ones((kpis, focal.size), bool),
        focal=focal,
        evidence=SimpleNamespace(noise=SimpleNamespace(rho=rho)),
    )
    expected = bench.standstill(matrix, flags, signs, offset)
    later = drift * true[k, column] + sd[k, column] * noise[-1][k, column]
    same = flags.side * later > 0
    ok = np.ones(k.size, bool)
    return float(same.mean()), float(expected.mean()), bench.by_side(flags, ok, same)


def test_standstill_expects_what_stationary_gaps_do() -> None:
    for seed in (1, 2, 3, 4):
        observed, expected, _ = _generated(seed, drift=1.0)
        assert abs(observed - expected) < 0.006, (seed, observed, expected)


def test_standstill_exceeds_persistence_when_true_gaps_move() -> None:
    observed, expected, _ = _generated(4, drift=0.3)
    assert expected - observed > 0.05


def test_by_side_counts_each_side() -> None:
    observed, _, sides = _generated(5, drift=1.0)
    total = sides[-1][1] + sides[1][1]
    assert sides[-1][1] > 0 and sides[1][1] > 0
    share = (sides[-1][0] * sides[-1][1] + sides[1][0] * sides[1][1]) / total
    assert abs(share - observed) < 1e-12
