"""Does a series' noise depend on its level? (issue 13; tried and not adopted, see
docs/analyses.md, Validation.)

``bench/bench_validation.py`` (c) splits the held-back years by where each series' level
lay among the KPI's municipalities: the worse third's later years vary more than the noise
model says, the better third's less. One reading is that the noise itself depends on the
level (a share far from its bound, a cost far above the others, varies more), which the
size model (log variance on log population, per KPI) leaves to each series' own few
degrees of freedom. limma's answer to a variance that depends on the mean is a prior
whose scale follows it (limma-trend; Law et al. 2014): this script adds the series' level
to the size model, linearly or with a square too, and substitutes that for the product's
``_size_model`` while it runs (nothing in ``tillit`` changes). The level is the mean of
the fitted years relative to each year's mean over municipalities, in standard deviations
of those levels over the KPI's municipalities (clipped to ±3). A KPI with fewer than
``FEW_SERIES`` (50) series keeps the product's model: the prior's degrees of freedom
(``_noise._prior``, ``_unit_prior_df``) allow for two fitted parameters, which is close
enough with 50 or more series and not below.

Per variant it prints the held-back coverage by population tercile and by level third,
each third's held-back variance over the model's, the flags now, and the backtest of
``bench/bench_validation.py`` (a) at each origin (3 years later, against the raw national
rank with as many flags). Writes nothing.

    .venv/bin/python scripts/level_prior_backtest.py
    .venv/bin/python scripts/level_prior_backtest.py --variants shipped linear --origin 2019
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import sys
import warnings
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import digamma

from tillit.analyses import _noise

ROOT = Path(__file__).resolve().parents[1]
VARIANTS = {"shipped": None, "linear": 1, "quadratic": 2}
MIN_SERIES = _noise.FEW_SERIES


def _bench() -> Any:
    if str(ROOT / "bench") not in sys.path:
        sys.path.insert(0, str(ROOT / "bench"))
    return importlib.import_module("bench_validation")


def series_level(values: np.ndarray) -> np.ndarray:
    """(kpi, municipality): the mean over the years of each value less that year's mean
    over municipalities (``bench_validation.relative_level``), in standard deviations of
    these means over the KPI's municipalities, clipped to ±3 (NaN without a value; 0 on a
    KPI where they are equal)."""
    level = _bench().relative_level(values)
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # a KPI with fewer than two levels
        spread = np.nanstd(level, axis=1, ddof=1, keepdims=True)
        z = np.where(spread > 0, level / spread, np.where(np.isnan(level), np.nan, 0.0))
    return np.asarray(np.clip(z, -3.0, 3.0))


_SIZE_MODEL = _noise._size_model  # the product's, whatever is patched in below


def level_size_model(
    own: np.ndarray, df: np.ndarray, logpop: np.ndarray, level: np.ndarray, degree: int
) -> tuple[np.ndarray, np.ndarray]:
    """The product's size model with the level (and its square when ``degree`` is 2) as
    further regressors: weighted least squares of the bias-corrected log variance, per KPI."""
    base, base_slope = _SIZE_MODEL(own, df, logpop)
    use = (df > 0) & np.isfinite(own) & np.isfinite(logpop)[None, :] & np.isfinite(level)
    with np.errstate(divide="ignore", invalid="ignore"):
        half = np.where(use, df / 2.0, 1.0)
        target = np.where(use, np.log(own) - (digamma(half) - np.log(half)), 0.0)
    lp = np.where(np.isfinite(logpop), logpop, 0.0)
    z = np.nan_to_num(level)
    fitted = base.copy()
    slope = base_slope.copy()
    for k in range(own.shape[0]):
        u = use[k]
        if u.sum() < MIN_SERIES:
            continue
        columns = [np.ones_like(lp), lp] + [z[k] ** p for p in range(1, degree + 1)]
        x = np.column_stack(columns)
        w = np.sqrt(np.where(u, df[k], 0.0))
        coef = np.linalg.lstsq(x[u] * w[u, None], target[k, u] * w[u], rcond=None)[0]
        fitted[k] = np.where(np.isfinite(logpop), x @ coef, base[k])
        slope[k] = coef[1]
    return fitted, slope


@contextlib.contextmanager
def level_prior(degree: int | None) -> Iterator[None]:
    """``_noise.estimate_noise`` with the level in its size model while inside (nothing
    when ``degree`` is None). The process's cache of gathered evidence is emptied on the
    way in and out, so that no variant reads another's."""
    from tillit.query import _context

    def forget() -> None:
        with _context._GATHERED_LOCK:
            _context._GATHERED.clear()

    forget()
    if degree is None:
        try:
            yield
        finally:
            forget()
        return
    estimate, size_model = _noise.estimate_noise, _noise._size_model
    current: dict[str, np.ndarray] = {}

    def patched_estimate(values: Any, population: Any, *, diffs: Any = None) -> Any:
        current["level"] = series_level(values)
        try:
            return estimate(values, population, diffs=diffs)
        finally:
            current.pop("level", None)

    def patched_size(own: Any, df: Any, logpop: Any) -> Any:
        if "level" not in current:
            return size_model(own, df, logpop)
        return level_size_model(own, df, logpop, current["level"], degree)

    _noise.estimate_noise, _noise._size_model = patched_estimate, patched_size
    try:
        yield
    finally:
        _noise.estimate_noise, _noise._size_model = estimate, size_model
        forget()


def held_back(bench: Any, store: Any, full: Any, matrix: Any) -> tuple[int, dict[str, list[float]]]:
    """The number of KPIs tested as of the year before the held-back years, and the
    coverage of those years for them by population tercile and by level third, as
    ``bench_validation.bands`` prints them."""
    with contextlib.redirect_stdout(io.StringIO()):
        band = bench.bands(store, full, matrix)
    name = band["target_set"]
    return int(np.count_nonzero(band["target_kpis"])), {
        "by population 95 %": band[(name, 0.95)],
        "by population 99.8 %": band[(name, 0.998)],
        "by level 95 %": band[("level thirds", 0.95)],
        "by level 99.8 %": band[("level thirds", 0.998)],
        "by level variance ratio": band["level thirds", "variance ratio"],
        "by level mean signed score": band["level thirds", "mean signed score"],
    }


def _shown(label: str, value: float) -> str:
    if "score" in label:
        return f"{value:+.2f}"
    if "ratio" in label:
        return f"{value:.2f}"
    return f"{100 * value:.2f} %"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--variants", nargs="*", default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument("--origin", type=int, nargs="+", default=[2015, 2016, 2017, 2018, 2019])
    parser.add_argument("--boot", type=int, default=400)
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args(argv)
    bench = _bench()
    _, store = importlib.import_module("_common").full_store()
    from tillit.query import load_context

    for name in args.variants:
        print(f"\n== {name} ==")
        with level_prior(VARIANTS[name]):
            full = load_context(store, testable_only=True)
            matrix = bench.national(full)
            bench.line(
                "flags now (efter / före)",
                f"{int(matrix.behind.sum()):,} / {int(matrix.ahead.sum()):,}",
            )
            judged, parts_by_label = held_back(bench, store, full, matrix)
            bench.line("  held back, KPIs judged", str(judged))
            for label, parts in parts_by_label.items():
                bench.line(f"  held back, {label}", " / ".join(_shown(label, p) for p in parts))
            for origin in args.origin:
                with contextlib.redirect_stdout(io.StringIO()):
                    back = bench.backtest(
                        store, full, origin, args.boot, bench.origin_rng(args.seed, origin)
                    )
                d, lo, hi = back[("difference", "raw national rank", 3)]
                sides = back[("by side", "Tillit", 3)]
                bench.line(
                    f"  as of {origin}, 3 years later",
                    f"{back['flags']:,} flags; {100 * back[('Tillit', 3)]:.1f} % vs rank "
                    f"{100 * back[('raw national rank', 3)]:.1f} % = {100 * d:+.1f} pp "
                    f"(95 % {100 * lo:+.1f} to {100 * hi:+.1f}); efter / före "
                    f"{100 * sides[-1][0]:.1f} / {100 * sides[1][0]:.1f} %, expected "
                    f"{100 * back['standstill'][-1]:.1f} / {100 * back['standstill'][1]:.1f} %",
                )


if __name__ == "__main__":
    main()
