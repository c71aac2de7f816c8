"""Does "tydligt efter/före" mean what it says? The method validated on the real panel.

Everything goes through the product's own code path: ``load_context`` (with ``as_of`` for
the backtest), ``Context.evidence`` and ``learning_matrix`` with the structural peers,
exactly as ``national_report`` and the web pages call them (checked at the start: the
flags equal ``national_report``'s). Printed:

(a) backtest: flags set as of ``--origin`` (default 2019) still on the same side of the
    same peers 2 and 3 years later (the peers' median of published values in that year
    against the municipality's), next to two rules flagging the same number of pairs: the
    raw national rank (bottom/top, the way Kolada colours results) and the largest raw gaps
    to the same peers' median (in national standard deviations); a cluster bootstrap over
    municipalities gives a 95 % interval for each difference; each rule per side (efter /
    före), and the share of Tillit's flags the noise model expects to persist if the
    true gaps stood still (``standstill``);
(a') the 3-year backtest pooled over the origins ``--pool`` (default 2015–2019), printed
    beside the target as context (the target is judged at ``--origin``);
(b) false flags under a per-municipality null (each municipality's series replaced by its
    peers' median plus noise at its own estimated level, at most 5 municipalities at a
    time; the level drawn from the noise model's posterior for the series, or the series'
    own estimate; AR(1) with the KPI's estimated ρ, or independent years; share of
    municipalities with any flag), and the level of the trend test under shuffled years;
(c) coverage of the noise bands on held-back years at 95 % and 99.8 %, by population
    tercile (the product's ``check_noise``), for the KPIs it tests;
(d) the 20 KPIs flagging the largest share of municipalities, with their kind;
(e) whether "improving" learning partners out-improved the learner over the next years
    more often than any peer did (and level partners stayed better);

then every target of issue 13 as MET / NOT MET with its figure.

    cd bench && ../.venv/bin/python bench_validation.py [--quick] [--origin 2019]
        [--pool 2015 2016 2017 2018 2019] [--boot 2000] [--seed 13]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import io
import os
import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from _common import full_store, line

K = 7
Q = 0.05
MIN_PEERS = 3
MUNICIPALITY = "Kungsbacka"
#: KPIs the audit found flagging most municipalities although they describe the place.
AUDIT_GEOGRAPHY = ("N60111", "N85054", "N85055", "N85057")
NOT_PERFORMANCE = ("binary", "categorical", "step_shaped", "structural", "no_metadata")


# -- the product's path ------------------------------------------------------------------


def national(ctx: Any, focal: Sequence[int] | None = None) -> Any:
    """The national learning matrix as ``national_report`` and the pages compute it
    (structural peers, k = 7, q = 0.05), optionally for some focal municipalities only."""
    from tillit.analyses import learning_matrix

    evidence = ctx.evidence()
    peers = ctx.structure.neighbour_indices(K)
    if focal is None:
        return learning_matrix(evidence, peers, q=Q)
    return learning_matrix(evidence, peers[list(focal)], focal=list(focal), q=Q)


def with_values(ctx: Any, values: np.ndarray) -> Any:
    """The same context (KPIs, eligibility, polarity, structure) over other values."""
    from tillit.analyses import Panel

    panel = Panel(ctx.panel.kpis, ctx.panel.municipalities, ctx.panel.years, values)
    return dataclasses.replace(ctx, panel=panel)


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{100 * x:.1f} %"


def wilson(share: float, n: int) -> str:
    """A 95 % Wilson interval for a proportion, as "a–b %"."""
    if n == 0:
        return "n/a"
    z = 1.959964
    centre = (share + z * z / (2 * n)) / (1 + z * z / n)
    half = z * np.sqrt(share * (1 - share) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return f"{100 * (centre - half):.1f}–{100 * (centre + half):.1f} %"


def met(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


# -- (a) backtest --------------------------------------------------------------------------


@dataclasses.dataclass
class Flags:
    """Flagged pairs: KPI index (of the origin evidence), municipality index, side
    (+1 = ahead/better, −1 = behind/worse)."""

    kpi: np.ndarray
    municipality: np.ndarray
    side: np.ndarray

    def __len__(self) -> int:
        return int(self.kpi.size)


def method_flags(matrix: Any) -> Flags:
    focal = np.asarray(matrix.focal)
    kb, fb = np.nonzero(matrix.behind)
    ka, fa = np.nonzero(matrix.ahead)
    return Flags(
        np.concatenate([kb, ka]),
        np.concatenate([focal[fb], focal[fa]]),
        np.concatenate([-np.ones(kb.size, int), np.ones(ka.size, int)]),
    )


def pick(score: np.ndarray, eligible: np.ndarray, n_low: int, n_high: int, rng: Any) -> Flags:
    """The ``n_low`` lowest and ``n_high`` highest scores (kpi, municipality) among
    ``eligible`` pairs as behind / ahead flags (ties broken at random)."""
    k, m = np.nonzero(eligible & np.isfinite(score))
    s = score[k, m] + rng.uniform(0, 1e-9, k.size)
    order = np.argsort(s, kind="stable")
    low, high = order[:n_low], order[::-1][:n_high]
    return Flags(
        np.concatenate([k[low], k[high]]),
        np.concatenate([m[low], m[high]]),
        np.concatenate([-np.ones(low.size, int), np.ones(high.size, int)]),
    )


def peer_median(values: np.ndarray, peers: np.ndarray) -> np.ndarray:
    """(kpi, municipality) median of each municipality's peers' values, NaN with fewer
    than MIN_PEERS."""
    v = values[:, peers]  # (kpi, municipality, k)
    count = (~np.isnan(v)).sum(axis=2)
    with np.errstate(all="ignore"), _quiet():
        med = np.nanmedian(v, axis=2)
    return np.where(count >= MIN_PEERS, med, np.nan)


class _quiet:
    def __enter__(self) -> None:
        import warnings

        self._w = warnings.catch_warnings()
        self._w.__enter__()
        warnings.simplefilter("ignore", RuntimeWarning)

    def __exit__(self, *exc: object) -> None:
        self._w.__exit__(*exc)


def persistence(
    flags: Flags,
    later: np.ndarray,
    later_peer_median: np.ndarray,
    signs: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per flag: evaluable (own value and ≥ 3 peers' values in the later year) and still
    on the flagged side of the same peers' median."""
    own = later[flags.kpi, flags.municipality]
    med = later_peer_median[flags.kpi, flags.municipality]
    ok = np.isfinite(own) & np.isfinite(med)
    with np.errstate(invalid="ignore"):
        same = flags.side * signs[flags.kpi] * (own - med) > 0
    return ok, same & ok


def per_municipality(flags: Flags, ok: np.ndarray, same: np.ndarray, n: int) -> np.ndarray:
    """(2, n): evaluable flags and persisting flags per municipality (the clusters)."""
    out = np.zeros((2, n))
    np.add.at(out[0], flags.municipality[ok], 1)
    np.add.at(out[1], flags.municipality[same], 1)
    return out


def bootstrap_difference(
    a: np.ndarray, b: np.ndarray, boot: int, rng: Any
) -> tuple[float, float, float]:
    """Share persisting under rule a minus under rule b, with a 95 % percentile interval
    from resampling municipalities (clusters) with replacement."""
    n = a.shape[1]
    weights = rng.multinomial(n, np.full(n, 1.0 / n), size=boot).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        da = (weights @ a[1]) / (weights @ a[0])
        db = (weights @ b[1]) / (weights @ b[0])
    diff = da - db
    point = a[1].sum() / a[0].sum() - b[1].sum() / b[0].sum()
    lo, hi = np.nanpercentile(diff, [2.5, 97.5])
    return float(point), float(lo), float(hi)


def by_side(flags: Flags, ok: np.ndarray, same: np.ndarray) -> dict[int, tuple[float, int]]:
    """Per side (−1 efter, +1 före): the share of judged flags persisting, and how many
    were judged."""
    out = {}
    for side in (-1, 1):
        judged = ok & (flags.side == side)
        n = int(judged.sum())
        out[side] = (float((same & judged).sum() / n) if n else float("nan"), n)
    return out


def standstill(matrix: Any, flags: Flags, signs: np.ndarray, offset: int = 3) -> np.ndarray:
    """Per flag: the chance, under the noise model, that the published value is on the
    flagged side of the peers' median ``offset`` years after the latest tested year *if
    the true gaps stood still*. Per KPI the true gaps g are N(0, τ²), τ² the tested
    pairs' mean squared gap less their mean squared standard error (so the flags' winner's
    curse is counted); the tested mean gap is g plus noise of variance se² (the test's),
    one later year's difference g plus noise of variance σ² = se² / f(ρ, n) that is
    correlated with the tested years' by c σ², c the mean of ρ^lag over the n years (AR(1)).
    Given the mean gap ḡ, the later difference is normal with mean ḡ (τ² + c σ²) / (τ² +
    se²) and variance τ² + σ² − (τ² + c σ²)² / (τ² + se²). Persistence below this is the
    true gaps moving (or the noise model misfitting), which no test of the present gap can
    foresee."""
    from scipy import special

    from tillit.analyses._noise import mean_variance_factor

    gaps = matrix.gaps
    tested = np.asarray(matrix.tested)
    gap = np.asarray(gaps.mean_difference) * signs[:, None]
    se2 = np.asarray(gaps.se) ** 2
    years = np.asarray(gaps.years)
    rho = np.asarray(matrix.evidence.noise.rho)[:, None]
    ok = tested & np.isfinite(gap) & np.isfinite(se2)
    with np.errstate(invalid="ignore", divide="ignore"), _quiet():
        tau2 = np.nanmean(np.where(ok, gap * gap, np.nan), axis=1) - np.nanmean(
            np.where(ok, se2, np.nan), axis=1
        )
        tau2 = np.maximum(np.nan_to_num(tau2, nan=0.0), 0.0)[:, None]
        sigma2 = se2 / mean_variance_factor(rho, years)
        # The mean of ρ^lag over the tested years, the latest ``offset`` years back.
        n = np.maximum(years, 1)
        c = rho**offset * (1.0 - rho**n) / np.where(rho < 1.0, (1.0 - rho) * n, np.inf)
        c = np.where(rho > 0.0, c, 0.0)
        cov = tau2 + c * sigma2
        total = tau2 + se2
        mean = gap * cov / total
        spread = tau2 + sigma2 - cov * cov / total
        column = {int(m): i for i, m in enumerate(np.asarray(matrix.focal))}
        at = np.array([column[int(m)] for m in flags.municipality], dtype=np.int64)
        z = flags.side * mean[flags.kpi, at] / np.sqrt(spread[flags.kpi, at])
    return np.asarray(special.ndtr(z))


def outcome_cube(full: Any, evidence: Any, offset: int) -> tuple[np.ndarray, np.ndarray]:
    """(kpi, municipality) published values in each origin KPI's end year + ``offset``,
    from the full store (NaN where that year or KPI is not there), and the KPI's sign."""
    out = np.full((len(evidence.kpis), len(evidence.municipalities)), np.nan)
    years = {y: i for i, y in enumerate(full.panel.years)}
    index = {k: i for i, k in enumerate(full.panel.kpis)}
    assert tuple(full.panel.municipalities) == tuple(evidence.municipalities)
    for k, kpi in enumerate(evidence.kpis):
        y = int(evidence.windowed.end_years[k]) + offset
        if kpi in index and y in years:
            out[k] = full.panel.values[index[kpi], :, years[y]]
    return out, np.asarray(evidence.signs)


def backtest(store: Any, full: Any, origin: int, boot: int, rng: Any) -> dict[str, Any]:
    from tillit.query import load_context

    print(f"\n(a) Backtest: flags as of {origin}, judged 2 and 3 years after each KPI's year")
    seconds, ctx = timed(lambda: load_context(store, testable_only=True, as_of=origin))
    matrix = national(ctx)
    ev = matrix.evidence
    dropped = ", ".join(v.key for v in ctx.structure.dropped) or "none"
    line(
        f"  context as of {origin}",
        f"{seconds:.1f} s; years {ctx.panel.years[0]}–{ctx.panel.years[-1]}; "
        f"structural variables left out: {dropped}",
    )
    tested = np.zeros((len(ev.kpis), len(ev.municipalities)), bool)
    tested[:, np.asarray(matrix.focal)] = matrix.tested
    flags = method_flags(matrix)
    n_behind = int(matrix.behind.sum())
    n_ahead = int(matrix.ahead.sum())
    line(
        "  flags (tydligt efter / före)",
        f"{n_behind:,} / {n_ahead:,} of {int(tested.sum()):,} tested pairs "
        f"({len(ev.kpis)} KPIs, {int(tested.any(axis=1).sum())} with a test)",
    )
    signs = np.where(np.asarray(ev.signs) == 0, 1, np.asarray(ev.signs))
    latest = ev.windowed.values[:, :, -1]
    signed = signs[:, None] * latest
    # Raw national rank: percentile among the tested municipalities of each KPI.
    rank = np.full(latest.shape, np.nan)
    for k in range(latest.shape[0]):
        m = np.flatnonzero(tested[k] & np.isfinite(signed[k]))
        if m.size > 1:
            order = np.argsort(np.argsort(signed[k, m] + rng.uniform(0, 1e-9, m.size)))
            rank[k, m] = order / (m.size - 1)
    peers = ctx.structure.neighbour_indices(K)
    med0 = peer_median(latest, peers)
    with np.errstate(invalid="ignore"), _quiet():
        sd = np.nanstd(np.where(tested, latest, np.nan), axis=1)
        gap = signed - signs[:, None] * med0
        gap = gap / np.where(sd > 0, sd, np.nan)[:, None]
    rules = {
        "Tillit": flags,
        "raw national rank": pick(rank, tested, n_behind, n_ahead, rng),
        "raw gap to the same peers": pick(gap, tested, n_behind, n_ahead, rng),
    }
    result: dict[str, Any] = {"flags": len(flags), "origin": origin}
    judged: dict[tuple[str, int], np.ndarray] = {}  # per rule and offset: flags judged
    for offset in (2, 3):
        later, later_med = _later(full, ev, peers, offset)
        clusters = {}
        shares = []
        for name, f in rules.items():
            ok, same = persistence(f, later, later_med, signs)
            clusters[name] = per_municipality(f, ok, same, len(ev.municipalities))
            judged[name, offset] = ok
            share = same.sum() / max(ok.sum(), 1)
            result[(name, offset)] = share
            result[("by side", name, offset)] = by_side(f, ok, same)
            shares.append(f"{name} {pct(share)} ({int(ok.sum()):,} judged)")
        line(f"  same side {offset} years later", "; ".join(shares))
        line(
            "    efter / före",
            "; ".join(
                f"{name} {pct(result[('by side', name, offset)][-1][0])} / "
                f"{pct(result[('by side', name, offset)][1][0])}"
                for name in rules
            ),
        )
        result[("clusters", offset)] = clusters
        for name in ("raw national rank", "raw gap to the same peers"):
            d, lo, hi = bootstrap_difference(clusters["Tillit"], clusters[name], boot, rng)
            result[("difference", name, offset)] = (d, lo, hi)
            line(
                f"    Tillit − {name}",
                f"{100 * d:+.1f} pp (95 % cluster bootstrap {100 * lo:+.1f} to {100 * hi:+.1f})",
            )
    expected = standstill(matrix, flags, signs)
    ok3 = judged["Tillit", 3]
    result["standstill"] = {
        side: float(np.mean(expected[ok3 & (flags.side == side)])) for side in (-1, 1)
    }
    result["standstill", 0] = float(np.mean(expected[ok3]))
    line(
        "  expected 3 years later if the true gaps stood still",
        f"{pct(result['standstill', 0])} (efter {pct(result['standstill'][-1])}, "
        f"före {pct(result['standstill'][1])}; the noise model, gaps shrunk by empirical Bayes)",
    )
    result["context"] = ctx
    result["matrix"] = matrix
    return result


def _later(
    full: Any, evidence: Any, peers: np.ndarray, offset: int
) -> tuple[np.ndarray, np.ndarray]:
    later, _ = outcome_cube(full, evidence, offset)
    return later, peer_median(later, peers)


def origin_rng(seed: int, origin: int) -> Any:
    """The random numbers of one origin's backtest (the rank rule's tie-breaks, its
    bootstrap): the same for an origin whatever else the run does."""
    return np.random.default_rng([seed, 0, origin])


def pooled_backtest(
    store: Any, full: Any, first: dict[str, Any], origins: Sequence[int], boot: int, seed: int
) -> dict[str, Any]:
    """The 3-year backtest over several origin years together: each origin's flags and
    the raw national rank's as many, judged as in :func:`backtest`, summed per
    municipality (the clusters the bootstrap resamples, the same across origins)."""
    print(f"\n(a') Backtest pooled over origins {', '.join(map(str, origins))}, 3 years later")
    runs = []
    for origin in origins:
        if origin == first["origin"]:
            back = first
        else:
            with contextlib.redirect_stdout(io.StringIO()):
                back = backtest(store, full, origin, boot, origin_rng(seed, origin))
        runs.append(back)
        d, lo, hi = back[("difference", "raw national rank", 3)]
        sides = back[("by side", "Tillit", 3)]
        rank_sides = back[("by side", "raw national rank", 3)]
        line(
            f"  as of {origin}",
            f"{back['flags']:,} flags; Tillit {pct(back[('Tillit', 3)])} vs raw national rank "
            f"{pct(back[('raw national rank', 3)])} = {100 * d:+.1f} pp (95 % {100 * lo:+.1f} "
            f"to {100 * hi:+.1f})",
        )
        line(
            "    efter / före",
            f"Tillit {pct(sides[-1][0])} / {pct(sides[1][0])}; expected if the true gaps "
            f"stood still {pct(back['standstill'][-1])} / {pct(back['standstill'][1])}; raw "
            f"national rank {pct(rank_sides[-1][0])} / {pct(rank_sides[1][0])}",
        )
    tillit = sum(r[("clusters", 3)]["Tillit"] for r in runs)
    rank = sum(r[("clusters", 3)]["raw national rank"] for r in runs)
    d, lo, hi = bootstrap_difference(tillit, rank, boot, np.random.default_rng([seed, 0]))
    line(
        "  together",
        f"Tillit {pct(tillit[1].sum() / tillit[0].sum())} of {int(tillit[0].sum()):,} judged vs "
        f"raw national rank {pct(rank[1].sum() / rank[0].sum())} = {100 * d:+.1f} pp "
        f"(95 % cluster bootstrap {100 * lo:+.1f} to {100 * hi:+.1f})",
    )
    return {"difference": (d, lo, hi), "origins": tuple(origins)}


# -- (b) nulls ------------------------------------------------------------------------------


#: At most this many municipalities are replaced at once: the noise model pools over all
#: municipalities (ρ, the prior), and replacing many at once would move those estimates
#: for everyone (replacing 45 at once moved a KPI's ρ from 0.90 to 0.26).
MAX_BATCH = 5


def colour_batches(peers: np.ndarray, max_batch: int = MAX_BATCH) -> list[list[int]]:
    """Municipalities in batches of at most ``max_batch``, none of which is another's
    peer (either way), so that a batch's series can be replaced at once while every
    peer's series stays real."""
    n = peers.shape[0]
    conflict: list[set[int]] = [set() for _ in range(n)]
    for i in range(n):
        for j in peers[i]:
            conflict[i].add(int(j))
            conflict[int(j)].add(i)
    colour = np.full(n, -1)
    for i in sorted(range(n), key=lambda i: -len(conflict[i])):
        used = {colour[j] for j in conflict[i]}
        c = 0
        while c in used:
            c += 1
        colour[i] = c
    out = []
    for c in range(colour.max() + 1):
        members = [int(i) for i in np.flatnonzero(colour == c)]
        out.extend(members[j : j + max_batch] for j in range(0, len(members), max_batch))
    return out


def ar1_noise(sd: np.ndarray, rho: np.ndarray, years: int, rng: Any) -> np.ndarray:
    """Stationary Gaussian AR(1) noise, (len(sd), years), with standard deviation ``sd``
    and lag-one correlation ``rho`` per row."""
    z = rng.standard_normal((sd.size, years))
    e = np.empty_like(z)
    e[:, 0] = z[:, 0]
    scale = np.sqrt(np.maximum(1.0 - rho * rho, 0.0))
    for t in range(1, years):
        e[:, t] = rho * e[:, t - 1] + scale * z[:, t]
    return e * sd[:, None]


#: How the null's noise level is set per series: "posterior", a draw from the noise
#: model's posterior for the series' variance (scaled inverse χ² with d0 + d degrees of
#: freedom around the moderated variance); "own", the series' own estimate taken as the
#: truth (its sampling scatter then adds heterogeneity the real series need not have).
NOISE_LEVELS = ("posterior", "own")


def null_variance(noise: Any, level: str, rng: Any) -> np.ndarray:
    """(kpi, municipality) true noise variances for the null series."""
    moderated = np.asarray(noise.variance, dtype=float)
    if level == "own":
        own = np.asarray(noise.own, dtype=float)
        return np.where(np.isfinite(own), own, moderated)
    total = getattr(noise, "total_df", None)
    if total is None:
        return moderated
    df = np.broadcast_to(np.asarray(total, dtype=float), moderated.shape)
    df = np.where(np.isfinite(df) & (df > 0), df, 1e6)
    return moderated * df / rng.chisquare(df)


def null_panel(
    ctx: Any,
    evidence: Any,
    batch: Sequence[int],
    rng: Any,
    *,
    autocorrelated: bool = True,
    level: str = "posterior",
) -> np.ndarray:
    """The panel with each municipality of ``batch`` replaced by its peers' median plus
    noise at its own estimated level (see NOISE_LEVELS; AR(1) with the KPI's estimated ρ
    when ``autocorrelated`` and the noise model has one, else independent years), keeping
    its missing years missing. KPIs without evidence keep their values (they are not
    tested)."""
    values = ctx.panel.values.copy()
    peers = ctx.structure.neighbour_indices(K)
    index = {k: i for i, k in enumerate(ctx.panel.kpis)}
    rows = np.array([index[k] for k in evidence.kpis])
    noise = evidence.noise
    variance = null_variance(noise, level, rng)
    rho = np.asarray(getattr(noise, "rho", np.zeros(len(evidence.kpis))), dtype=float)
    if not autocorrelated:
        rho = np.zeros_like(rho)
    years = values.shape[2]
    for i in batch:
        with np.errstate(all="ignore"), _quiet():
            med = np.nanmedian(ctx.panel.values[rows[:, None], peers[i][None, :], :], axis=1)
        e = ar1_noise(np.sqrt(variance[:, i]), rho, years, rng)
        present = ~np.isnan(values[rows, i, :])
        values[rows, i, :] = np.where(present, med + e, np.nan)
    return values


def null_false_flags(
    ctx: Any,
    matrix: Any,
    rng: Any,
    batches_to_run: int | None,
    *,
    autocorrelated: bool = True,
    level: str = "posterior",
) -> tuple[float, int, float, int, float]:
    """Share of municipalities with any flag when their series carry no difference; how
    many were judged, the seconds taken, the number of batches in all, and the share of
    the false flags on KPIs whose estimated ρ is at the noise model's ceiling."""
    real_rho = dict(
        zip(
            matrix.evidence.kpis,
            np.asarray(getattr(matrix.evidence.noise, "rho", np.zeros(len(matrix.evidence.kpis)))),
            strict=True,
        )
    )
    ceiling = max(real_rho.values(), default=0.0)
    at_ceiling = pairs = 0
    peers = ctx.structure.neighbour_indices(K)
    batches = colour_batches(peers)
    order = rng.permutation(len(batches))
    if batches_to_run is not None:
        order = order[:batches_to_run]
    flagged = 0
    judged = 0
    start = time.perf_counter()
    for b in order:
        batch = batches[b]
        values = null_panel(
            ctx, matrix.evidence, batch, rng, autocorrelated=autocorrelated, level=level
        )
        m = national(with_values(ctx, values), focal=batch)
        flags = np.asarray(m.behind) | np.asarray(m.ahead)
        any_flag = flags.any(axis=0)
        tested = np.asarray(m.tested).any(axis=0)
        flagged += int((any_flag & tested).sum())
        judged += int(tested.sum())
        for k in np.flatnonzero(flags.any(axis=1)):
            n = int(flags[k].sum())
            pairs += n
            if ceiling > 0 and real_rho.get(m.evidence.kpis[k], 0.0) >= ceiling - 1e-9:
                at_ceiling += n
    return (
        flagged / max(judged, 1),
        judged,
        time.perf_counter() - start,
        len(batches),
        at_ceiling / max(pairs, 1),
    )


def trend_level(ctx: Any, matrix: Any, sample: int, rng: Any) -> tuple[float, int]:
    """Share of series the trend test (``tillit.analyses.trend``, as the pages show it)
    calls rising or falling when the values are shuffled over their years."""
    from tillit.analyses import trend

    ev = matrix.evidence
    index = {k: i for i, k in enumerate(ctx.panel.kpis)}
    tested = np.asarray(matrix.tested)
    k, f = np.nonzero(tested)
    pick_ = rng.choice(k.size, size=min(sample, k.size), replace=False)
    years = np.asarray(ctx.panel.years)
    called = judged = 0
    for p in pick_:
        kpi = ev.kpis[k[p]]
        series = ctx.panel.values[index[kpi], int(matrix.focal[f[p]]), :]
        ok = ~np.isnan(series)
        values = series[ok].copy()
        rng.shuffle(values)
        t = trend(years[ok], values, polarity=ev.polarity[k[p]])
        if t.direction == "too_short":
            continue
        judged += 1
        called += t.direction != "no_clear_change"
    return called / max(judged, 1), judged


# -- (c) noise bands --------------------------------------------------------------------------


def noise_check(evidence: Any) -> Any:
    """The product's held-back-year check of the noise model: the one the evidence
    carries when it has one, else ``check_noise`` on the same window."""
    for field in dataclasses.fields(evidence):
        value = getattr(evidence, field.name)
        if type(value).__name__ == "NoiseCheck":
            return value
    import tillit.analyses as analyses

    check = getattr(analyses, "check_noise", None)
    if check is None:
        from tillit.analyses import _noise

        check = getattr(_noise, "check_noise", None)
    if check is None:
        return None
    return check(evidence.windowed.values, evidence.population)


def coverage(check: Any, kpis: np.ndarray, group: np.ndarray, level: float) -> list[float]:
    """Per group 0, 1, 2: the share of held-back values of ``kpis`` inside the ``level``
    band. ``group`` is per municipality (the population tercile) or per (kpi,
    municipality) (:func:`level_thirds`); -1 is in no group."""
    covered = np.asarray(check.covered(level))
    out = []
    for v in _group_cells(check, kpis, group):
        out.append((covered & v).sum() / max(v.sum(), 1))
    return out


def _group_cells(check: Any, kpis: np.ndarray, group: np.ndarray) -> list[np.ndarray]:
    """Per group 0, 1, 2: the held-back values (kpi, municipality, year) with a score of
    the KPIs in the boolean mask ``kpis`` and the group."""
    valid = ~np.isnan(np.asarray(check.score))
    kpis = np.asarray(kpis)
    assert kpis.dtype == bool and kpis.shape == valid.shape[:1], "kpis is a mask per KPI"
    groups = np.broadcast_to(group, valid.shape[:2])
    return [valid & ((groups == g) & kpis[:, None])[..., None] for g in range(3)]


def variance_ratio(check: Any, kpis: np.ndarray, group: np.ndarray) -> list[float]:
    """Per group 0, 1, 2 (as in :func:`coverage`): the mean squared standardised score of
    the held-back values, each capped at ±SCORE_CAP as the product's check caps them (so
    that a few real changes do not decide it); 1 when they vary as the noise model says."""
    from tillit.analyses._noise import SCORE_CAP

    score = np.asarray(check.score)
    capped = np.minimum(np.nan_to_num(score) ** 2, SCORE_CAP**2)
    return [
        float(np.mean(capped[v])) if v.any() else float("nan")
        for v in _group_cells(check, kpis, group)
    ]


def mean_signed_score(
    check: Any, kpis: np.ndarray, group: np.ndarray, signs: np.ndarray
) -> list[float]:
    """Per group 0, 1, 2 (as in :func:`coverage`): the mean held-back score signed by the
    polarity (positive: the series moved the better way; higher when it is not known),
    each capped at ±SCORE_CAP."""
    from tillit.analyses._noise import SCORE_CAP

    score = np.asarray(check.score)
    oriented = np.where(np.asarray(signs) < 0, -1.0, 1.0)[:, None, None] * np.clip(
        np.nan_to_num(score), -SCORE_CAP, SCORE_CAP
    )
    return [
        float(np.mean(oriented[v])) if v.any() else float("nan")
        for v in _group_cells(check, kpis, group)
    ]


def relative_level(values: np.ndarray) -> np.ndarray:
    """(kpi, municipality): the mean over the years (last axis) of each value less that
    year's mean over municipalities; NaN without a value."""
    with np.errstate(invalid="ignore"), _quiet():
        return np.asarray(np.nanmean(values - np.nanmean(values, axis=1, keepdims=True), axis=-1))


def level_thirds(values: np.ndarray, signs: np.ndarray, held: int, tested: int = 3) -> np.ndarray:
    """(kpi, municipality): the third of the KPI's municipalities each series' level lies
    in, 0 the worse, 1 the middle, 2 the better (higher when the polarity is not known):
    the mean of the last ``tested`` fitted years (the years before the ``held`` held back)
    relative to each year's mean over municipalities, signed by the polarity. -1 without a
    value, or on a KPI with fewer than 9 such levels. The thirds are by rank, equal in
    size (to one); tied levels (series at a bound) are split in the municipalities' order."""
    fitted = values[..., :-held][..., -tested:]
    level = np.where(signs[:, None] < 0, -1.0, 1.0) * relative_level(fitted)
    out = np.full(level.shape, -1, dtype=np.int64)
    for k in range(level.shape[0]):
        (ok,) = np.nonzero(np.isfinite(level[k]))
        if ok.size >= 9:
            order = ok[np.argsort(level[k, ok], kind="stable")]
            out[k, order] = 3 * np.arange(ok.size) // ok.size
    return out


def bands(store: Any, full: Any, matrix: Any) -> dict[str, Any]:
    from tillit.query import load_context

    print("\n(c) Noise bands on held-back years (the product's check: the noise model fitted")
    print("    on each KPI's window less its last years predicts those), by population tercile")
    ev = matrix.evidence
    check = noise_check(ev)
    if check is None:
        line("  no held-back check in the noise model", "n/a")
        return {}
    held = np.asarray(check.score).shape[-1]
    line("  years held back per window", str(held))
    population = np.asarray(full.population())
    group = np.digitize(population, np.quantile(population, [1 / 3, 2 / 3]))
    tested_now = np.asarray(matrix.tested).any(axis=1)
    earlier_year = int(full.panel.years[-1]) - held
    earlier = load_context(store, testable_only=True, as_of=earlier_year)
    before = national(earlier)
    tested_before = {
        kpi
        for kpi, t in zip(before.evidence.kpis, np.asarray(before.tested).any(axis=1), strict=True)
        if t
    }
    # KPIs whose window ends after the earlier year (so none of the years judged now was
    # seen by the check that let them be tested then).
    out_of_sample = np.array([k in tested_before for k in ev.kpis]) & (
        np.asarray(ev.windowed.end_years) >= earlier_year + held
    )
    sets = {
        "every KPI with evidence": np.ones(len(ev.kpis), bool),
        "KPIs tested now (chosen on these years)": tested_now,
        f"KPIs tested as of {earlier_year}, judged after": out_of_sample,
    }
    result: dict[str, Any] = {}
    for name, kpis in sets.items():
        for level in (0.95, 0.998):
            parts = coverage(check, kpis, group, level)
            result[(name, level)] = parts
            line(
                f"  {name}: {100 * level:g} %",
                ", ".join(f"T{g + 1} {100 * p:.2f} %" for g, p in enumerate(parts))
                + f"  ({int(kpis.sum())} KPIs)",
            )
    result["target_set"] = f"KPIs tested as of {earlier_year}, judged after"
    result["target_kpis"] = out_of_sample
    # Not a target: the same held-back values by where the series' level lay among the
    # KPI's municipalities, the worse third to the better (polarity-signed).
    signs = np.asarray(ev.signs)
    thirds = level_thirds(np.asarray(ev.windowed.values), signs, held)
    for level in (0.95, 0.998):
        parts = coverage(check, out_of_sample, thirds, level)
        result[("level thirds", level)] = parts
        line(
            f"    by level, worse / middle / better third: {100 * level:g} %",
            " / ".join(f"{100 * p:.2f} %" for p in parts),
        )
    ratio = variance_ratio(check, out_of_sample, thirds)
    result["level thirds", "variance ratio"] = ratio
    line(
        "    held-back variance over the model's, by level third",
        " / ".join(f"{r:.2f}" for r in ratio) + " (scores capped at ±4, as the check does)",
    )
    moved = mean_signed_score(check, out_of_sample, thirds, signs)
    result["level thirds", "mean signed score"] = moved
    line(
        "    mean held-back score toward better, by level third",
        " / ".join(f"{m:+.2f}" for m in moved),
    )
    return result


# -- (d) most flagged KPIs -----------------------------------------------------------------------


def kind_of(ctx: Any, kpi: str) -> str:
    eligibility = getattr(ctx, "eligibility", None)
    if not eligibility or kpi not in eligibility:
        return "okänd"
    e = eligibility[kpi]
    reason = "ordinary" if e.reason == "eligible" else e.reason
    return f"{reason} ({e.source})"


def binary_by_values(values: np.ndarray) -> bool:
    present = values[np.isfinite(values)]
    return bool(present.size) and bool(np.isin(present, (0.0, 1.0)).all())


def most_flagged(full: Any, matrix: Any) -> dict[str, Any]:
    print("\n(d) The 20 KPIs flagging the largest share of municipalities (now)")
    ev = matrix.evidence
    flagged = np.asarray(matrix.behind) | np.asarray(matrix.ahead)
    tested = np.asarray(matrix.tested)
    n = tested.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(n > 0, flagged.sum(axis=1) / n, 0.0)
    order = np.argsort(-share, kind="stable")[:20]
    for k in order:
        kpi = ev.kpis[k]
        title = full.title(kpi)
        line(
            f"  {kpi} {title[:48]}",
            f"{pct(share[k])} of {int(n[k])} (efter {int(np.asarray(matrix.behind)[k].sum())},"
            f" före {int(np.asarray(matrix.ahead)[k].sum())}); kind {kind_of(full, kpi)}",
        )
    eligibility = getattr(full, "eligibility", None) or {}
    listed: set[str] = set()
    try:
        from tillit.analyses import curated_eligibility

        listed = set(curated_eligibility())
    except ImportError:
        pass
    any_flag = flagged.any(axis=1)
    not_performance = []
    for k in np.flatnonzero(any_flag):
        kpi = ev.kpis[k]
        e = eligibility.get(kpi)
        if (
            (e is not None and e.reason in NOT_PERFORMANCE)
            or kpi in listed
            or kpi in AUDIT_GEOGRAPHY
            or binary_by_values(ev.windowed.values[k])
        ):
            not_performance.append(kpi)
    unexplained = [
        ev.kpis[k]
        for k in np.flatnonzero(share > 0.4)
        if not (
            ev.kpis[k] in eligibility and eligibility[ev.kpis[k]].source in ("table", "override")
        )
    ]
    line(
        "  flagged KPIs that are binary, categorical, step-shaped or geography",
        f"{len(not_performance)}"
        + (f": {', '.join(not_performance[:10])}" if not_performance else ""),
    )
    line(
        "  KPIs flagging > 40 % of municipalities without a listed reason",
        f"{len(unexplained)}" + (f": {', '.join(unexplained[:10])}" if unexplained else ""),
    )
    return {"not_performance": not_performance, "unexplained": unexplained}


# -- (e) learning partners ----------------------------------------------------------------------


def partners(full: Any, back: dict[str, Any], boot: int, rng: Any) -> dict[str, Any]:
    matrix = back["matrix"]
    ev = matrix.evidence
    origin = back["origin"]
    print(f"\n(e) Learning partners as of {origin}: what happened over the next 3 years")
    start, signs = outcome_cube(full, ev, 0)
    end, _ = outcome_cube(full, ev, 3)
    signs = np.where(signs == 0, 1, signs)
    peers = np.asarray(matrix.peers)
    focal = np.asarray(matrix.focal)
    kb, fb = np.nonzero(np.asarray(matrix.behind))
    n = len(ev.municipalities)
    result: dict[str, Any] = {}
    rows = []
    for name, mask in (
        ("improving", getattr(matrix, "improving_partner", None)),
        ("level", getattr(matrix, "level_partner", None)),
    ):
        if mask is None:
            continue
        mask = np.asarray(mask)
        k = np.repeat(kb, peers.shape[1])
        f = np.repeat(fb, peers.shape[1])
        slot = np.tile(np.arange(peers.shape[1]), kb.size)
        j = peers[f, slot]
        i = focal[f]
        chosen = mask[k, f, slot]
        gain_j = signs[k] * (end[k, j] - start[k, j])
        gain_i = signs[k] * (end[k, i] - start[k, i])
        still = signs[k] * (end[k, j] - end[k, i])
        ok = np.isfinite(gain_j) & np.isfinite(gain_i) & np.isfinite(still)
        with np.errstate(invalid="ignore"):
            out_improved = ok & (gain_j > gain_i)
            better = ok & (still > 0)
        # The same number of peers per pair, chosen by the best published value at the origin.
        value0 = signs[k] * start[k, j]
        for label, success in (
            ("out-improved the learner", out_improved),
            ("still better", better),
        ):
            sel = chosen & ok
            anyp = ok
            a = np.zeros((2, n))
            b = np.zeros((2, n))
            np.add.at(a[0], i[sel], 1)
            np.add.at(a[1], i[sel & success], 1)
            np.add.at(b[0], i[anyp], 1)
            np.add.at(b[1], i[anyp & success], 1)
            d, lo, hi = bootstrap_difference(a, b, boot, rng)
            share_sel = a[1].sum() / max(a[0].sum(), 1)
            share_any = b[1].sum() / max(b[0].sum(), 1)
            result[(name, label)] = (share_sel, share_any, d, lo, hi, int(a[0].sum()))
            rows.append(
                (
                    f"  {name} partners: {label}",
                    f"{pct(share_sel)} ({int(a[0].sum()):,}) vs any peer {pct(share_any)} "
                    f"({int(b[0].sum()):,}); {100 * d:+.1f} pp "
                    f"(95 % {100 * lo:+.1f} to {100 * hi:+.1f})",
                )
            )
        if name == "level":
            # Best raw peers: per behind pair as many peers as it has level partners,
            # the best by published value at the origin.
            count = mask[kb, fb].sum(axis=1)
            best = np.zeros(k.size, bool)
            scores = np.where(np.isfinite(value0), value0, -np.inf).reshape(kb.size, -1)
            ranks = np.argsort(np.argsort(-scores, axis=1, kind="stable"), axis=1)
            best = (ranks < count[:, None]).ravel() & ok
            share_best = (best & better).sum() / max(best.sum(), 1)
            result[("level", "best raw")] = share_best
            rows.append(
                (
                    "  best raw peers (as many as level partners): still better",
                    f"{pct(share_best)} ({int(best.sum()):,})",
                )
            )
    for label, value in rows:
        line(label, value)
    if not rows:
        line("  the matrix names no partners", "n/a")
    return result


# -- timing ---------------------------------------------------------------------------------


def timings(store: Any, runs: int) -> tuple[float, float]:
    from tillit.query import learn_report, national_report

    learn_report(store, MUNICIPALITY)
    national_report(store)
    learn = statistics.median(
        timed(lambda: learn_report(store, MUNICIPALITY))[0] for _ in range(runs)
    )
    nat = statistics.median(timed(lambda: national_report(store))[0] for _ in range(runs))
    return learn, nat


# -- main -------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer null batches, trend series and bootstrap draws"
    )
    parser.add_argument("--origin", type=int, default=2019, help="the backtest's as-of year")
    parser.add_argument(
        "--pool",
        type=int,
        nargs="*",
        default=[2015, 2016, 2017, 2018, 2019],
        help="origin years of the pooled backtest, printed beside the target (none: skip)",
    )
    parser.add_argument(
        "--boot", type=int, default=None, help="bootstrap draws (default 2000, quick 400)"
    )
    parser.add_argument("--seed", type=int, default=13)
    args = parser.parse_args()
    boot = args.boot or (400 if args.quick else 2000)
    rng = np.random.default_rng([args.seed, 1])  # (b)–(e); each origin has its own below

    home, store = full_store()
    from tillit.query import load_context, national_report

    began = time.perf_counter()
    print(
        f"store {home}; {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}; "
        f"k = {K}, q = {Q}, seed {args.seed}{', quick' if args.quick else ''}"
    )
    full = load_context(store, testable_only=True)
    matrix = national(full)
    product = national_report(store).matrix
    same = np.array_equal(np.asarray(product.behind), np.asarray(matrix.behind)) and np.array_equal(
        np.asarray(product.ahead), np.asarray(matrix.ahead)
    )
    line("the bench's matrix equals national_report's", str(same))
    line(
        "now",
        f"{int(np.asarray(matrix.behind).sum()):,} efter, {int(np.asarray(matrix.ahead).sum()):,} "
        f"före of {int(np.asarray(matrix.tested).sum()):,} tested pairs; "
        f"years {full.panel.years[0]}–{full.panel.years[-1]}",
    )

    back = backtest(store, full, args.origin, boot, origin_rng(args.seed, args.origin))
    pooled = pooled_backtest(store, full, back, args.pool, boot, args.seed) if args.pool else None

    print("\n(b) False flags when there is nothing to find")
    rho = getattr(matrix.evidence.noise, "rho", None)
    if rho is not None:
        tested_kpis = np.asarray(matrix.tested).any(axis=1)
        q25, q50, q75 = np.nanpercentile(np.asarray(rho)[tested_kpis], [25, 50, 75])
        capped = float(np.mean(np.asarray(rho)[tested_kpis] >= np.max(rho) - 1e-9))
        line(
            "  the noise model's year-to-year ρ, tested KPIs",
            f"median {q50:.2f} (quartiles {q25:.2f}–{q75:.2f}); {pct(capped)} at its "
            f"ceiling {np.max(rho):.2f}",
        )
    nulls: dict[tuple[str, bool], float] = {}
    null_n: dict[tuple[str, bool], int] = {}
    sample = 15 if args.quick else None
    for level_name in NOISE_LEVELS:
        for autocorrelated in (True, False):
            share, judged, seconds, batches, ceiling = null_false_flags(
                full,
                matrix,
                rng,
                sample,
                autocorrelated=autocorrelated,
                level=level_name,
            )
            nulls[(level_name, autocorrelated)] = share
            null_n[(level_name, autocorrelated)] = judged
            line(
                f"  null, {level_name} variance, "
                + ("AR(1) at the model's ρ" if autocorrelated else "independent years"),
                f"{pct(share)} of {judged} municipalities with any flag "
                f"(95 % {wilson(share, judged)}; {sample or batches} of {batches} batches "
                f"of ≤ {MAX_BATCH}, {seconds:.0f} s)",
            )
            if rho is not None and autocorrelated:
                line(
                    "    of its false flags, on KPIs whose ρ is at the model's ceiling",
                    f"{pct(ceiling)} (such KPIs: {pct(capped)} of the tested)",
                )
    share_null = nulls[("posterior", True)]
    level, series = trend_level(full, matrix, 3000 if args.quick else 20000, rng)
    line("  trend test on series shuffled over their years", f"{pct(level)} of {series:,} series")

    band = bands(store, full, matrix)
    flagged = most_flagged(full, matrix)
    partner = partners(full, back, boot, rng)

    print("\nTiming (in-process, warm)")
    learn_s, national_s = timings(store, 1 if args.quick else 3)
    line(f"  learn_report({MUNICIPALITY!r})", f"{learn_s:.2f} s")
    line("  national_report (all 290)", f"{national_s:.2f} s")

    print("\nTargets (issue 13)")
    line(
        "per-municipality null: any false flag ≤ 5 %",
        f"{met(share_null <= 0.05)}: {pct(share_null)} "
        f"(95 % {wilson(share_null, null_n[('posterior', True)])}; posterior variance, AR(1)); "
        f"independent years {pct(nulls[('posterior', False)])}; own variance "
        f"{pct(nulls[('own', True)])} / {pct(nulls[('own', False)])}",
    )
    line("trend test level ≤ 5 %", f"{met(level <= 0.05)}: {pct(level)}")
    if band:
        name = band["target_set"]
        c95, c998 = band[(name, 0.95)], band[(name, 0.998)]
        line(
            "95 % band covers 94–96 % in every tercile",
            f"{met(all(0.94 <= c <= 0.96 for c in c95))}: "
            + ", ".join(f"{100 * c:.2f} %" for c in c95),
        )
        line(
            "99.8 % band covers ≥ 99.5 % in every tercile",
            f"{met(all(c >= 0.995 for c in c998))}: " + ", ".join(f"{100 * c:.2f} %" for c in c998),
        )
    else:
        line("noise bands", "NOT MET: no held-back check to measure")
    p3 = back[("Tillit", 3)]
    d3 = back[("difference", "raw national rank", 3)]
    line("flags persist 3 years later ≥ 92 %", f"{met(p3 >= 0.92)}: {pct(p3)}")
    line(
        "… and ≥ 12 pp above raw national rank",
        f"{met(d3[0] >= 0.12)}: {100 * d3[0]:+.1f} pp "
        f"(95 % {100 * d3[1]:+.1f} to {100 * d3[2]:+.1f})",
    )
    if pooled is not None:
        pd3 = pooled["difference"]
        line(
            "    (context, not the target: origins "
            f"{pooled['origins'][0]}–{pooled['origins'][-1]} pooled)",
            f"{100 * pd3[0]:+.1f} pp (95 % {100 * pd3[1]:+.1f} to {100 * pd3[2]:+.1f})",
        )
    line(
        "no geography/binary KPI flagged",
        f"{met(not flagged['not_performance'])}: {len(flagged['not_performance'])}",
    )
    line(
        "no KPI flags > 40 % without a listed reason",
        f"{met(not flagged['unexplained'])}: {len(flagged['unexplained'])}",
    )
    line("national matrix < 5 s", f"{met(national_s < 5)}: {national_s:.2f} s")
    line("learn for one municipality < 1 s", f"{met(learn_s < 1)}: {learn_s:.2f} s")
    improving = partner.get(("improving", "out-improved the learner"))
    if improving is not None:
        line(
            "improving partners out-improve more than any peer (lower bound > 0)",
            f"{'yes' if improving[3] > 0 else 'no'}: {pct(improving[0])} vs {pct(improving[1])}",
        )
    print(
        f"\n{time.perf_counter() - began:.0f} s in all; load average at the end "
        f"{os.getloadavg()[0]:.2f} (1 min)"
    )


if __name__ == "__main__":
    main()
