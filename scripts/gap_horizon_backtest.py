"""Which estimate of a municipality's gap to its peers should the test judge? (issue 13,
the backtest's margin over the raw national rank; tried and not adopted, see
docs/analyses.md, Validation.)

The product tests the plain mean of the last three years' gaps (``_evidence.peer_gaps``).
This script holds the alternatives tried and substitutes each for the product's gap
function while it runs (:func:`gap_rule`; nothing in ``tillit`` changes):

- the best linear predictor, under the AR(1) noise model around a constant level, of the
  gap h years after the latest year (:func:`gap_weights`; h = 0: the latest year alone,
  h = ∞: the GLS estimate of the level), from the last three years or the whole window;
- the mean of the whole window;
- the mean's and the latest year's tests both (the larger p-value).

Any weighting that sums to one estimates a constant level without bias; its variance
under AR(1) is exact (:func:`weighted_factor`) and its p-value averages over ρ's error as
the product's does (:func:`weighted_rho_p`).

For each origin year and variant it prints what ``bench/bench_validation.py`` (a) prints:
flags as of the origin, the share still on the same side of the same peers 2 and 3 years
later, the raw national rank rule with as many flags, and the cluster-bootstrap interval
of the difference. Then, per origin: each variant's most significant pairs as many as the
shipped test flags; the shipped test's most significant pairs as many as each variant
flags; which of the shipped test's flags persist (gap shrinking or not, by the KPI's ρ,
by the gap in one year's noise SDs); the shipped test's most significant half against the
rank rule with as many. Writes nothing.

    .venv/bin/python scripts/gap_horizon_backtest.py --origin 2015 2016 2017 2018 2019
    .venv/bin/python scripts/gap_horizon_backtest.py --origin 2019 --variants "latest"

``--bench NAME`` instead runs the whole of ``bench/bench_validation.py`` (its nulls, as of
its default origin) with the one variant NAME substituted:

    .venv/bin/python scripts/gap_horizon_backtest.py --bench "latest year"
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import io
import sys
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy import special

from tillit.analyses import _evidence
from tillit.analyses._eligibility import practical_gap
from tillit.analyses._evidence import (
    MIN_PEERS,
    RECENT,
    Evidence,
    Gaps,
    median_noise,
    mpd_per_kpi,
    nan_median,
)
from tillit.analyses._noise import Noise
from tillit.analyses._panel import FloatArray

BENCH = Path(__file__).resolve().parents[1] / "bench"

#: How the recent years' gaps are combined: None, their plain mean; a number h ≥ 0, the
#: best linear predictor of the gap h years after the latest year; "maxp", the mean's and
#: the latest year's tests both (the larger p-value).
Horizon = float | str | None


@dataclass(frozen=True)
class Variant:
    horizon: Horizon
    #: How many of the window's latest years enter the estimate.
    span: int = RECENT


VARIANTS: dict[str, Variant] = {
    "mean of 3 (shipped)": Variant(None),
    "latest year (h = 0)": Variant(0.0),
    "predictor h = 1": Variant(1.0),
    "predictor h = 2": Variant(2.0),
    "predictor h = 3": Variant(3.0),
    "GLS level of 3 (h = ∞)": Variant(float("inf")),
    "mean and latest both (max p)": Variant("maxp"),
    "mean of the window's 10 years": Variant(None, 10),
    "GLS level of 10 (h = ∞)": Variant(float("inf"), 10),
    "predictor h = 3 from 10 years": Variant(3.0, 10),
}
SHIPPED = "mean of 3 (shipped)"


# -- the weights and their variance -----------------------------------------------------


def gap_weights(rho: FloatArray, present: npt.NDArray[np.bool_], horizon: float) -> FloatArray:
    """Weights (kpi, focal, year), summing to 1 over the years present, of the best linear
    predictor of the gap ``horizon`` years after the last year under stationary AR(1)
    noise with the KPI's ``rho`` around an unknown constant level: the GLS estimate of
    the level, w = R⁻¹1 / 1ᵀR⁻¹1, plus R⁻¹r (r: the correlations of the predicted year
    with the years present) applied to the deviations from it. The latest year must be
    present. Any such weights estimate the level without bias when it is constant."""
    years = present.shape[2]
    bits = (present * np.left_shift(1, np.arange(years))[None, None, :]).sum(axis=2)
    out = np.zeros(present.shape)
    pos = np.arange(years, dtype=np.float64)
    for pattern in np.unique(bits):
        where = bits == pattern
        used = np.flatnonzero((int(pattern) >> np.arange(years)) & 1)
        if not used.size:
            continue
        for k in np.flatnonzero(where.any(axis=1)):
            r = float(rho[k])
            p = pos[used]
            R = r ** np.abs(p[:, None] - p[None, :]) if r > 0 else np.eye(used.size)
            one = np.linalg.solve(R, np.ones(used.size))
            gls = one / one.sum()
            if np.isinf(horizon):
                w = gls
            else:
                lag = (years - 1 + horizon) - p
                c = r**lag if r > 0 else (lag == 0).astype(float)
                a = np.linalg.solve(R, c)
                w = gls + a - a.sum() * gls
            row = np.zeros(years)
            row[used] = w
            out[k, where[k]] = row
    return out


def weighted_factor(weights: FloatArray, rho: npt.ArrayLike) -> FloatArray:
    """Var(Σ w_t e_t) / σ² under AR(1) noise with ``rho`` (broadcast over the leading
    axes of ``weights``, whose last axis is consecutive years): Σ_s Σ_t w_s w_t ρ^|s−t|."""
    years = weights.shape[-1]
    r = np.asarray(rho, dtype=np.float64)
    total = (weights * weights).sum(axis=-1)
    for lag in range(1, years):
        cross = (weights[..., lag:] * weights[..., :-lag]).sum(axis=-1)
        total = total + 2.0 * cross * r**lag
    return np.asarray(total, dtype=np.float64)


# -- the gap test over weighted years ---------------------------------------------------


def weighted_peer_gaps(
    evidence: Evidence,
    focal: npt.NDArray[np.int64],
    peers: npt.NDArray[np.int64],
    horizon: Horizon,
    span: int = RECENT,
) -> Gaps:
    """``_evidence.peer_gaps`` with the last ``span`` years' gaps weighted as ``horizon``
    says (:data:`Horizon`) instead of their plain mean of the last three. Per year as the
    product; the estimate's variance is :func:`weighted_factor` of the weights times the
    own variance plus the weighted peers' median variance, plus the weighted bias squared."""
    shrunk = evidence.levels.shrunk[:, :, -RECENT:]
    own = shrunk[:, focal, :]
    shrunk_median, _ = nan_median(shrunk[:, peers, :], axis=2)
    raw = evidence.windowed.values[:, :, -span:]
    peer_values = raw[:, peers, :]
    median, count = nan_median(peer_values, axis=2)
    s2 = evidence.noise.variance
    rho = evidence.noise.rho
    direction = np.where(evidence.signs == 0, 1, evidence.signs)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        gap = np.where(count >= MIN_PEERS, raw[:, focal, :] - median, np.nan)
        own_var = s2[:, focal, None]
        median_var, median_bias = median_noise(peer_values, s2[:, peers], rho, where=~np.isnan(gap))
        year_var = own_var + median_var
        z = direction[:, :, None] * gap / np.sqrt(year_var)
        present = ~np.isnan(gap)
        years = present.sum(axis=2)

    def test(weights: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
        with np.errstate(invalid="ignore", divide="ignore"):
            estimate = np.where(present, gap * weights, 0.0).sum(axis=2)
            vmed = np.where(present, median_var * weights, 0.0).sum(axis=2)
            bias = np.where(present, median_bias * weights, 0.0).sum(axis=2)
            factor = weighted_factor(weights, rho[:, None])
            beyond = practical_gap(estimate, mpd_per_kpi(evidence)[:, None])
            bias2 = bias**2
            se = np.sqrt(factor * (s2[:, focal] + vmed) + bias2)
            t = direction * beyond / se
            t = np.where(present[:, :, -1], t, np.nan)
            standardised = beyond / np.sqrt(factor)
            own_part = np.broadcast_to(s2[:, focal], t.shape)
            other_part = vmed + bias2 / factor
        p = weighted_rho_p(
            evidence.noise,
            weights,
            np.where(np.isnan(t), np.nan, standardised),
            own_part,
            other_part,
            evidence.noise.total_df[:, focal],
        )
        return estimate, t, p, se

    if horizon is None or horizon == "maxp":
        equal = np.where(present, 1.0, 0.0) / np.maximum(years, 1)[..., None]
        estimate, t, p, se = test(equal)
        if horizon == "maxp":
            latest = np.zeros(present.shape)
            latest[..., -1] = 1.0
            _, _, p1, _ = test(latest)
            p = np.fmax(p, p1)
    else:
        w = gap_weights(rho, present & present[:, :, -1:], float(horizon))
        estimate, t, p, se = test(w)
    df = evidence.noise.total_df[:, focal]
    return Gaps(
        focal=focal,
        peers=peers,
        own=own,
        peer_median=shrunk_median,
        difference=own - shrunk_median,
        z=z[:, :, -RECENT:],
        peer_count=count[:, :, -RECENT:],
        raw_difference=gap[:, :, -RECENT:],
        mean_difference=np.where(np.isnan(t), np.nan, estimate),
        t=t,
        df=df,
        p=np.where(np.isnan(t), np.nan, p),
        years=years.astype(np.int64),
        se=np.where(np.isnan(t), np.nan, se),
    )


def weighted_rho_p(
    noise: Noise,
    weights: FloatArray,
    standardised: FloatArray,
    own: FloatArray,
    other: FloatArray,
    df: FloatArray,
) -> FloatArray:
    """``_evidence.rho_integrated_p`` for weighted years: the p-value averaged over the
    KPI's ρ ± its standard error, every variance scaled by the weights' factor under that
    ρ over the factor under ρ̂ (and by (1 − ρ̂)/(1 − ρ), as the product's)."""
    return _evidence.rho_integrated_p(
        noise, None, standardised, own, other, df, factor=lambda r: weighted_factor(weights, r)
    )


@contextlib.contextmanager
def gap_rule(horizon: Horizon, span: int = RECENT) -> Iterator[None]:
    """Within the block, every ``tillit`` module's ``peer_gaps`` (the product's, imported
    by name into ``_learn``, ``_compare`` and the package) is :func:`weighted_peer_gaps`
    with ``horizon`` and ``span``; the product's afterwards, whatever happened. The
    shipped rule (None, RECENT) substitutes nothing."""
    if horizon is None and span == RECENT:
        yield
        return
    product = _evidence.peer_gaps

    def variant(
        evidence: Evidence, focal: npt.NDArray[np.int64], peers: npt.NDArray[np.int64]
    ) -> Gaps:
        return weighted_peer_gaps(evidence, focal, peers, horizon, span)

    modules = [
        module
        for name, module in list(sys.modules.items())
        if (name == "tillit" or name.startswith("tillit."))
        and getattr(module, "peer_gaps", None) is product
    ]
    for module in modules:
        module.peer_gaps = variant  # type: ignore[attr-defined]
    try:
        yield
    finally:
        for module in modules:
            module.peer_gaps = product  # type: ignore[attr-defined]


# -- the backtest ------------------------------------------------------------------------


def _bench() -> Any:
    """bench/bench_validation.py as a module (the bench scripts are no package)."""
    if str(BENCH) not in sys.path:
        sys.path.insert(0, str(BENCH))
    return importlib.import_module("bench_validation")


def _choose(names: Sequence[str] | None) -> dict[str, Variant]:
    return {name: v for name, v in VARIANTS.items() if not names or any(s in name for s in names)}


def _signed_scores(gaps: Gaps) -> FloatArray:
    """A normal score per pair from the two-sided p-value, with the t's sign (ranks pairs
    by their evidence, the larger p of "both tests" included)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.asarray(np.sign(gaps.t) * -special.ndtri(gaps.p / 2), dtype=np.float64)


def _top(bench: Any, score: FloatArray, tested: npt.NDArray[np.bool_], low: int, high: int) -> Any:
    """The ``low`` lowest and ``high`` highest scores among tested pairs as flags."""
    k, m = np.nonzero(tested & np.isfinite(score))
    order = np.argsort(score[k, m], kind="stable")
    lo, hi = order[:low], order[::-1][:high]
    return bench.Flags(
        np.concatenate([k[lo], k[hi]]),
        np.concatenate([m[lo], m[hi]]),
        np.concatenate([-np.ones(lo.size, int), np.ones(hi.size, int)]),
    )


def _share(ok: npt.NDArray[np.bool_], same: npt.NDArray[np.bool_]) -> str:
    n = int(ok.sum())
    return f"{100 * same.sum() / n:.1f} % of {n:,}" if n else "none judged"


def origin_report(
    bench: Any, store: Any, full: Any, origin: int, chosen: dict[str, Variant], boot: int, seed: int
) -> None:
    """Everything printed for one origin year."""
    print(f"\n=== origin {origin}")
    counts: dict[str, tuple[int, int]] = {}
    persisting: dict[str, float] = {}
    backs: dict[str, dict[Any, Any]] = {}
    for name, v in chosen.items():
        with gap_rule(v.horizon, v.span):
            rng = np.random.default_rng(seed)
            with contextlib.redirect_stdout(io.StringIO()):
                back = bench.backtest(store, full, origin, boot, rng)
        backs[name] = back
        m = back["matrix"]
        behind, ahead = int(np.asarray(m.behind).sum()), int(np.asarray(m.ahead).sum())
        counts[name] = (behind, ahead)
        persisting[name] = back[("Tillit", 3)]
        d2 = back[("difference", "raw national rank", 2)]
        d3 = back[("difference", "raw national rank", 3)]
        g3 = back[("difference", "raw gap to the same peers", 3)]
        bench.line(
            f"  {name}",
            f"{behind + ahead:,} flags ({behind:,} efter / {ahead:,} före); "
            f"3 y: {100 * back[('Tillit', 3)]:.1f} % vs rank "
            f"{100 * back[('raw national rank', 3)]:.1f} % = {100 * d3[0]:+.1f} pp "
            f"({100 * d3[1]:+.1f} to {100 * d3[2]:+.1f}); vs raw gap {100 * g3[0]:+.1f} pp; "
            f"2 y: {100 * back[('Tillit', 2)]:.1f} % ({100 * d2[0]:+.1f} pp)",
        )

    # The shipped test as of the origin: its pairs, scores and later outcomes.
    ctx, shipped = backs[SHIPPED]["context"], backs[SHIPPED]["matrix"]
    ev = shipped.evidence
    tested = np.asarray(shipped.tested)
    signs = np.where(np.asarray(ev.signs) == 0, 1, np.asarray(ev.signs))
    peers = ctx.structure.neighbour_indices(bench.K)
    everyone = np.arange(len(ev.municipalities), dtype=np.int64)
    later, _ = bench.outcome_cube(full, ev, 3)
    later_median = bench.peer_median(later, peers)

    def persist(flags: Any) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
        ok, same = bench.persistence(flags, later, later_median, signs)
        return np.asarray(ok), np.asarray(same)

    behind, ahead = int(np.asarray(shipped.behind).sum()), int(np.asarray(shipped.ahead).sum())
    mean_score = _signed_scores(shipped.gaps)
    print(
        f"  ranked by each variant's p, as many pairs as the shipped test flags "
        f"({behind:,} / {ahead:,}), same side 3 years later:"
    )
    for name, v in chosen.items():
        with gap_rule(v.horizon, v.span):
            score = _signed_scores(_evidence.peer_gaps(ev, everyone, peers))
        bench.line(f"    {name}", _share(*persist(_top(bench, score, tested, behind, ahead))))
    print("  the shipped test's most significant pairs, as many as each variant flags:")
    for name, (b, a) in counts.items():
        ok, same = persist(_top(bench, mean_score, tested, b, a))
        bench.line(
            f"    {name}",
            f"{b + a:,}: {_share(ok, same)} (the variant's flags {100 * persisting[name]:.1f} %)",
        )

    flags = bench.method_flags(shipped)
    ok, same = persist(flags)
    gaps = shipped.gaps
    focal = np.asarray(shipped.focal)
    column = np.searchsorted(focal, flags.municipality)
    oriented = (flags.side * signs[flags.kpi])[:, None]
    recent = np.asarray(gaps.raw_difference)[flags.kpi, column] * oriented
    shrank = recent[:, -1] < recent[:, 0]
    print("  the shipped test's flags, same side 3 years later:")
    bench.line("    all", _share(ok, same))
    bench.line(
        "    gap shrank over the three years / not",
        f"{_share(ok & shrank, same & shrank)} / {_share(ok & ~shrank, same & ~shrank)}",
    )
    rho = np.asarray(ev.noise.rho)[flags.kpi]
    bands = [(0.0, 0.2, "< 0.2"), (0.2, 0.5, "0.2–0.5"), (0.5, 0.8, "0.5–0.8"), (0.8, 2.0, "≥ 0.8")]
    bench.line(
        "    by the KPI's ρ",
        "; ".join(
            f"{label}: {_share(ok & (rho >= lo) & (rho < hi), same & (rho >= lo) & (rho < hi))}"
            for lo, hi, label in bands
        ),
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        sds = (
            np.asarray(gaps.mean_difference)[flags.kpi, column]
            * oriented[:, 0]
            / np.sqrt(np.asarray(ev.noise.variance)[flags.kpi, flags.municipality])
        )
    sizes = [(0.0, 2.0, "< 2"), (2.0, 3.0, "2–3"), (3.0, 4.0, "3–4"), (4.0, np.inf, "≥ 4")]
    bench.line(
        "    by the mean gap in one year's noise SDs",
        "; ".join(
            f"{label}: {_share(ok & (sds >= lo) & (sds < hi), same & (sds >= lo) & (sds < hi))}"
            for lo, hi, label in sizes
        ),
    )

    # The shipped test's most significant half against the raw national rank with as many
    # (the rank among the tested municipalities of each KPI, as the backtest's).
    rng = np.random.default_rng(seed)
    latest = ev.windowed.values[:, :, -1]
    signed = signs[:, None] * latest
    rank = np.full(latest.shape, np.nan)
    for k in range(latest.shape[0]):
        m = np.flatnonzero(tested[k] & np.isfinite(signed[k]))
        if m.size > 1:
            order = np.argsort(np.argsort(signed[k, m] + rng.uniform(0, 1e-9, m.size)))
            rank[k, m] = order / (m.size - 1)
    half_b, half_a = behind // 2, ahead // 2
    ok_t, same_t = persist(_top(bench, mean_score, tested, half_b, half_a))
    ok_r, same_r = persist(_top(bench, rank, tested, half_b, half_a))
    test_share, rank_share = same_t.sum() / ok_t.sum(), same_r.sum() / ok_r.sum()
    bench.line(
        f"  the shipped test's most significant half ({half_b:,} / {half_a:,})",
        f"{100 * test_share:.1f} % vs the raw national rank with as many "
        f"{100 * rank_share:.1f} % = {100 * (test_share - rank_share):+.1f} pp",
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--origin", type=int, nargs="+", default=[2019])
    parser.add_argument("--variants", nargs="*", help="names (substrings) of variants to run")
    parser.add_argument("--boot", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument(
        "--bench", metavar="NAME", help="run bench/bench_validation.py with this one variant"
    )
    args = parser.parse_args(argv)
    bench = _bench()
    if args.bench:
        matches = list(_choose([args.bench]))
        if len(matches) != 1:
            parser.error(f"--bench names one variant; {args.bench!r} matches {matches}")
        name = matches[0]
        v = VARIANTS[name]
        print(f"bench/bench_validation.py with the gap: {name}")
        sys.argv = ["bench_validation.py", "--seed", str(args.seed), "--boot", str(args.boot)]
        with gap_rule(v.horizon, v.span):
            bench.main()
        return
    _, store = importlib.import_module("_common").full_store()
    from tillit.query import load_context

    full = load_context(store, testable_only=True)
    chosen = _choose(args.variants)
    chosen.setdefault(SHIPPED, VARIANTS[SHIPPED])
    chosen = {name: VARIANTS[name] for name in VARIANTS if name in chosen}
    for origin in args.origin:
        origin_report(bench, store, full, origin, chosen, args.boot, args.seed)


if __name__ == "__main__":
    main()
