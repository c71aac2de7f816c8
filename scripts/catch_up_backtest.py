"""Could the trend have foreseen which "tydligt efter" flags would not hold? (issue 13,
docs/analyses.md, Validation: "Where the margin is lost".)

The backtest of ``bench/bench_validation.py`` finds that the municipalities flagged behind
their peers came closer to them over the next three years than the noise model expects.
For each origin year this script splits the flags, as ``bench_validation.backtest`` sets
and judges them (3 years later, the same peers' median), by two things the analysis knew
at the origin:

- the municipality's own trend on the KPI is clearly improving (Mann–Kendall significant
  in the improving direction in at least two of the three windows ending in the last
  three years: ``recent_slopes``, the Mann–Kendall part of how "förbättras också" is
  judged for partners, without its shrunken-slope conditions);
- its trend points toward its peers: its slope's z (the latest window) differs from the
  peers' median z by more than 1 in their direction.

and prints the share persisting in each part. Writes nothing.

    cd bench && ../.venv/bin/python ../scripts/catch_up_backtest.py [--origin 2017 2018 2019]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import sys
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import numpy.typing as npt

BENCH = Path(__file__).resolve().parents[1] / "bench"


def _share(same: npt.NDArray[np.bool_], part: npt.NDArray[np.bool_]) -> str:
    n = int(part.sum())
    return f"{100 * same[part].sum() / n:.1f} % of {n:,}" if n else "none judged"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--origin", type=int, nargs="+", default=[2017, 2018, 2019])
    args = parser.parse_args(argv)
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    import bench_validation as bench
    from _common import full_store
    from tillit.analyses._evidence import recent_slopes
    from tillit.query import load_context

    _, store = full_store()
    full = load_context(store, testable_only=True)
    for origin in args.origin:
        with contextlib.redirect_stdout(io.StringIO()):
            back = bench.backtest(store, full, origin, 1, np.random.default_rng(13))
        ctx, matrix = back["context"], back["matrix"]
        ev = matrix.evidence
        signs = np.where(np.asarray(ev.signs) == 0, 1, np.asarray(ev.signs))
        peers = ctx.structure.neighbour_indices(bench.K)
        flags = bench.method_flags(matrix)
        ok, same = bench.persistence(flags, *bench._later(full, ev, peers, 3), signs)
        slopes = recent_slopes(ev, np.arange(len(ev.municipalities)))
        improving = (np.asarray(slopes.significant).sum(axis=2) >= 2)[flags.kpi, flags.municipality]
        z = np.asarray(slopes.z)[:, :, -1]  # signed: positive = improving
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            relative = (z - np.nanmedian(z[:, peers], axis=2))[flags.kpi, flags.municipality]
        # Toward the peers: an efter municipality improving faster than they do, a före
        # one slower.
        toward = -flags.side * relative > 1.0
        print(f"as of {origin}, 3 years later")
        for side, name in ((-1, "efter"), (1, "före")):
            judged = ok & (flags.side == side)
            bench.line(
                f"  {name}: own trend clearly improving / not",
                f"{_share(same, judged & improving)} / {_share(same, judged & ~improving)}",
            )
            bench.line(
                f"  {name}: trend toward the peers (z > 1) / not",
                f"{_share(same, judged & toward)} / {_share(same, judged & ~toward)}",
            )


if __name__ == "__main__":
    main()
