"""bench/bench_validation.py's diagnostics that docs/analyses.md quotes: the persistence
the noise model expects of a flag if the true gaps stood still (``standstill``), and the
per-side shares (``by_side``), on generated gaps whose truth is known; the held-back years
by level third (``level_thirds``, ``coverage``, ``variance_ratio``, ``mean_signed_score``)."""

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


def test_level_thirds_follow_the_polarity_and_leave_gaps_out() -> None:
    """Each KPI's municipalities split into thirds by the mean of the last three fitted
    years relative to each year's mean: the worst third first, whichever way is better."""
    rng = np.random.default_rng(7)
    kpis, units, years, held = 3, 30, 8, 3
    level = rng.permutation(units).astype(float)  # distinct true levels
    values = level[None, :, None] + rng.normal(0, 0.01, (kpis, units, years))
    values[:, :, :] += np.arange(years)  # a shared change each year is taken out
    values[:, :, -held:] = rng.normal(0, 100, (kpis, units, held))  # held back: unused
    values[1, 4, :] = np.nan  # no value: no third
    values[2, :22, :] = np.nan  # 8 levels, fewer than 9: no thirds at all
    thirds = bench.level_thirds(values, np.array([1, -1, 1]), held)
    # Polarity not known: higher counts as better. Only the last three fitted years count.
    early = values.copy()
    early[:, :, : years - held - 3] = -10 * level[None, :, None]  # reversed before them
    assert (bench.level_thirds(early, np.array([0, -1, 1]), held) == thirds).all()
    order = np.argsort(level)
    assert list(thirds[0, order]) == [0] * 10 + [1] * 10 + [2] * 10  # higher is better
    rest = [m for m in order if m != 4]
    assert thirds[1, 4] == -1
    assert thirds[1, rest[:9]].tolist() == [2] * 9 and thirds[1, rest[-9:]].tolist() == [0] * 9
    assert (thirds[2] == -1).all()


def test_level_thirds_split_ties_into_equal_thirds() -> None:
    """Series at a bound (many tied levels) still give thirds of equal size."""
    values = np.zeros((1, 30, 6))
    values[0, 20:, :] = np.arange(1, 11)[:, None]  # 20 tied at 0, 10 above
    thirds = bench.level_thirds(values, np.array([1]), 2)
    assert np.bincount(thirds[0]).tolist() == [10, 10, 10]
    assert (thirds[0, 20:] == 2).all()


def test_coverage_and_variance_ratio_by_a_group_per_series() -> None:
    """A group per (kpi, municipality) gives each group's share of held-back scores inside
    the band and their mean square; a group per municipality gives what it gave before."""
    rng = np.random.default_rng(8)
    score = rng.normal(0, 1, (4, 50, 3)) * np.array([0.5, 1.0, 2.0, 1.5])[:, None, None]
    score[0, 0, 0] = np.nan
    bound = 1.959963984540054
    check = SimpleNamespace(score=score, covered=lambda level: np.abs(score) <= bound)
    kpis = np.array([True, True, False, True])
    thirds = rng.integers(-1, 3, (4, 50))
    score[3, 1, 1] = 30.0  # a real change: capped at 4 as the product's check caps it
    thirds[3, 1] = 0
    signs = np.array([1, -1, 1, -1])
    got = bench.coverage(check, kpis, thirds, 0.95)
    ratio = bench.variance_ratio(check, kpis, thirds)
    moved = bench.mean_signed_score(check, kpis, thirds, signs)
    oriented = np.clip(score, -4, 4) * signs[:, None, None]
    for g in range(3):
        pick = score[kpis][thirds[kpis] == g]
        ok = np.isfinite(pick)
        assert abs(got[g] - np.mean(np.abs(pick[ok]) <= bound)) < 1e-12
        assert abs(ratio[g] - np.mean(np.minimum(pick[ok] ** 2, 16.0))) < 1e-12
        assert abs(moved[g] - np.mean(oriented[kpis][thirds[kpis] == g][ok])) < 1e-12
    assert max(ratio) < 5  # the 30 counted as 4
    population_third = rng.integers(0, 3, 50)
    got = bench.coverage(check, kpis, population_third, 0.95)
    for g in range(3):
        pick = score[kpis][:, population_third == g]
        pick = pick[np.isfinite(pick)]
        assert abs(got[g] - np.mean(np.abs(pick) <= bound)) < 1e-12
