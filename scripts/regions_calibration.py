"""The analyses' false flags and power on generated panels of 21 regions (issue 15), with
the generator of tests/test_regions_calibration.py and more draws than the tests use.
Each figure is printed twice: as shipped, and with ρ taken as known and the prior's degrees
of freedom per KPI (the analyses before issue 15). Writes nothing.

    .venv/bin/python scripts/regions_calibration.py            # about a minute
"""

from __future__ import annotations

import dataclasses
import sys
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests import test_regions_calibration as regions

from tillit.analyses import Evidence, learning_matrix

SHIPPED = regions._evidence


def before(values: np.ndarray) -> Evidence:
    """The evidence as the analyses computed it before issue 15."""
    evidence = SHIPPED(values)
    noise = evidence.noise
    return dataclasses.replace(
        evidence,
        noise=dataclasses.replace(
            noise,
            rho_se=np.zeros_like(noise.rho_se),
            unit_prior_df=np.broadcast_to(noise.prior_df[:, None], noise.df.shape).copy(),
        ),
    )


def wilson(k: int, n: int) -> str:
    z = 1.96
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return f"{100 * max(centre - half, 0):.1f}–{100 * (centre + half):.1f} %"


def group_null(seeds: range, **options: float) -> tuple[int, int]:
    flagged = judged = 0
    for seed in seeds:
        generated = regions.generate(seed, **options)  # type: ignore[arg-type]
        flags, tested = regions._learn_flags(generated)
        flagged += int((flags.any(axis=0) & tested).sum())
        judged += int(tested.sum())
    return flagged, judged


def spread_null(seeds: range, spread: float) -> tuple[int, int]:
    """Peers at different levels (``spread`` mean noise SDs), regions 0, 7 and 14 at their
    peers' median level (as in the test)."""
    focal = [0, 7, 14]
    peers = np.array([list(np.argsort(np.abs(np.arange(regions.N) - i))[1:6]) for i in range(21)])
    flagged = judged = 0
    for seed in seeds:
        rng = np.random.default_rng(seed)
        generated = regions.generate(seed)
        noise = generated.values - generated.level[..., None]
        scale = generated.sd.mean(axis=1)[:, None, None]
        level = rng.normal(0.0, spread, (regions.KPIS, regions.N, 1)) * scale
        for i in focal:
            level[:, i] = np.median(level[:, peers[i]], axis=1)
        matrix = learning_matrix(regions._evidence(level + noise + 50.0), peers[focal], focal=focal)
        flagged += int((matrix.behind | matrix.ahead).any(axis=0).sum())
        judged += len(focal)
    return flagged, judged


def report(label: str, run: Callable[[], tuple[int, int]]) -> None:
    for name, evidence in (("shipped", SHIPPED), ("before issue 15", before)):
        regions._evidence = evidence
        start = time.perf_counter()
        k, n = run()
        print(
            f"{label:<58} {name:<16} {k:>4} of {n:<5} {100 * k / n:5.1f} % "
            f"(95 % {wilson(k, n)})  {time.perf_counter() - start:.1f} s",
            flush=True,
        )
    regions._evidence = SHIPPED


def power(seeds: range, shift: float) -> tuple[int, int]:
    found = 0
    for seed in seeds:
        found += regions._planted(seed, shift)[0]
    return found, 10 * len(seeds)


def main() -> None:
    print("Per-region null: regions with any flag (learning_matrix, q = 0.05)")
    report("groups of 7, peers the other 6 (seeds 0–99)", lambda: group_null(range(100)))
    report(
        "  variances scattered 0.7 (seeds 100–149)",
        lambda: group_null(range(100, 150), scatter=0.7),
    )
    report(
        "  white normal noise (seeds 100–149)",
        lambda: group_null(range(100, 150), max_rho=0.0, heavy_share=0.0),
    )
    report(
        "peers 2 SDs apart, 3 focal regions (seeds 600–799)",
        lambda: spread_null(range(600, 800), 2.0),
    )
    report(
        "peers at one level, 3 focal regions (seeds 600–799)",
        lambda: spread_null(range(600, 800), 0.0),
    )
    print("Power: of 10 KPIs per draw made better in Halland by s noise SDs, found")
    for shift in (1.0, 3.0, 5.0, 8.0):
        report(
            f"  s = {shift:g} (seeds 300–339)", lambda shift=shift: power(range(300, 340), shift)
        )


if __name__ == "__main__":
    main()
