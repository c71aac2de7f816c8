"""`tillit learn` for one municipality and the national matrix over the 7.4 M-row panel.

Measures, on a warm store (every step run once before timing):

* `learn_report(store, "Kungsbacka")` in-process, split into load_context, evidence and
  learning the way learn_report calls them; the whole `tillit learn Kungsbacka` process,
  next to a bare Python start-up and `import tillit.cli`;
* `national_report(store)`: the matrix for all 290 municipalities (structural peers);
* the floor: one full DuckDB scan of the store's panel (`count(*), sum(value)` over every
  Parquet file, with the store's own connection settings);
* the baseline: the same analysis written in pandas the way an analyst would
  (groupby/merge/apply, scipy per series; see `pandas_learning`), from the Parquet panel
  the store was imported from, and how far its findings agree with Tillit's (Jaccard of
  the behind, ahead, partner and tested sets).

* the same for a region (`learn_report(store, "Region Halland")`, the process, and
  `national_report(store, kind="L")` over the 21 regions), with how far a region's
  structural peers agree with Kolada's "Liknande regioner" groups.

Last, how far the 7 structural peers agree with Kolada's "Liknande kommuner" groups.

    python bench/bench_learn.py [--runs 5] [--national-runs 3] [--skip-baseline]
                                [--sample 0] [--municipality Kungsbacka]
                                [--region "Region Halland"] [--skip-regions]
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from scipy import special, stats

from _common import PANEL, best_of, full_store, line

ROWS = 7_387_543
TARGET_LEARN_S = 1.0
TARGET_NATIONAL_S = 60.0
TARGET_SPEEDUP = 10.0
K = 7
Q = 0.05
# Tillit's method constants (tillit.analyses._noise, _evidence), repeated for the baseline.
WINDOW, RECENT, MIN_HOLDING, PRIOR_DF, MIN_PEERS, HISTORY = 10, 3, 2, 4.0, 3, 12
MIN_MEASURED, STALE_AFTER = 3, 2
Z95 = float(stats.norm.ppf(0.975))


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def runs_text(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


# -- Tillit ---------------------------------------------------------------------------------


def learn_parts(store: Any, municipality: str) -> tuple[dict[str, float], Any]:
    """learn_report's steps, timed one by one (same calls, same order)."""
    from tillit.analyses import find_learning_partners
    from tillit.query import load_context, resolve_municipality

    t: dict[str, float] = {}
    start = time.perf_counter()
    focal = resolve_municipality(store, municipality)
    ctx = load_context(store)
    t["load_context (DuckDB read, cube, structure, polarity)"] = time.perf_counter() - start
    start = time.perf_counter()
    evidence = ctx.evidence(ctx.testable())
    t["evidence (windows, noise, shrunken levels)"] = time.perf_counter() - start
    start = time.perf_counter()
    peer_set = ctx.peer_set(focal["id"], "struktur", k=K)
    learning = find_learning_partners(evidence, focal["id"], peer_set.members, q=Q)
    t["learning (gaps, BH, partners, slopes)"] = time.perf_counter() - start
    return t, learning


def national_parts(store: Any) -> dict[str, float]:
    from tillit.analyses import learning_matrix
    from tillit.query import load_context

    t: dict[str, float] = {}
    t["load_context"], ctx = timed(lambda: load_context(store))
    t["evidence"], evidence = timed(lambda: ctx.evidence(ctx.testable()))
    t["learning_matrix"], _ = timed(
        lambda: learning_matrix(evidence, ctx.structure.neighbour_indices(K), q=Q)
    )
    return t


@dataclass(frozen=True)
class Findings:
    """What the two implementations are compared on (municipality codes, KPI ids)."""

    behind: set[tuple[str, str]]
    ahead: set[tuple[str, str]]
    level: set[tuple[str, str, str]]  # (municipality, kpi, partner)
    improving: set[tuple[str, str, str]]
    tested: set[tuple[str, str]] = field(default_factory=set)  # (municipality, kpi)

    @property
    def partners(self) -> set[tuple[str, str, str]]:
        return self.level | self.improving


def matrix_findings(matrix: Any) -> Findings:
    ev = matrix.evidence
    mun, kpi = ev.municipalities, ev.kpis
    out: dict[str, set[Any]] = {
        n: set() for n in ("behind", "ahead", "level", "improving", "tested")
    }
    for name in ("behind", "ahead", "tested"):
        for k, f in zip(*np.nonzero(getattr(matrix, name)), strict=True):
            out[name].add((mun[matrix.focal[f]], kpi[k]))
    for name in ("level", "improving"):
        for k, f, s in zip(*np.nonzero(getattr(matrix, f"{name}_partner")), strict=True):
            out[name].add((mun[matrix.focal[f]], kpi[k], mun[matrix.peers[f, s]]))
    return Findings(**out)


def learning_findings(learning: Any) -> Findings:
    m = learning.municipality
    return Findings(
        behind={(m, f.kpi) for f in learning.findings},
        ahead={(m, k) for k in learning.ahead},
        level={
            (m, f.kpi, p.municipality) for f in learning.findings for p in f.partners if p.level
        },
        improving={
            (m, f.kpi, p.municipality)
            for f in learning.findings
            for p in (*f.partners, *f.also_improving)
            if p.improving
        },
    )


# -- the pandas baseline --------------------------------------------------------------------


@dataclass(frozen=True)
class Inputs:
    """What the baseline takes from Tillit (not part of the measured analysis): the 290
    municipality codes, population, the testable KPIs' polarity signs (+1 higher is
    better, -1 lower) and the structural peers as rows (focal, slot, peer)."""

    municipalities: list[str]
    population: pd.Series
    sign: pd.Series
    peers: pd.DataFrame


def tillit_inputs(ctx: Any) -> Inputs:
    testable = ctx.testable()
    mun = list(ctx.municipalities)
    neighbours = ctx.structure.neighbour_indices(K)
    peers = pd.DataFrame(
        [(mun[i], s, mun[j]) for i, row in enumerate(neighbours) for s, j in enumerate(row)],
        columns=["focal", "slot", "peer"],
    )
    return Inputs(
        municipalities=mun,
        population=pd.Series(ctx.population(), index=mun, name="population"),
        sign=pd.Series({k: ctx.polarity[k].polarity.sign for k in testable}, name="sign"),
        peers=peers,
    )


def read_panel(inputs: Inputs) -> pd.DataFrame:
    """The panel file the store was imported from, read whole with pandas, then gender T,
    the last HISTORY years (as Tillit reads them), the 290 municipalities and the testable
    KPIs; with each KPI's 10-year window ending at its latest year (t = 0..9)."""
    df = pd.read_parquet(PANEL, columns=["kpi", "municipality_id", "year", "gender", "value"])
    df = df.rename(columns={"municipality_id": "municipality", "year": "period"})
    last = df["period"].max()
    df = df[
        (df["gender"] == "T")
        & (df["period"] > last - HISTORY)
        & df["value"].notna()
        & df["municipality"].isin(inputs.municipalities)
        & df["kpi"].isin(inputs.sign.index)
    ]
    df = df.astype({"kpi": str, "municipality": str, "period": int})
    df = df[["kpi", "municipality", "period", "value"]].reset_index(drop=True)
    end = df.groupby("kpi")["period"].transform("max")
    df["t"] = df["period"] - (end - WINDOW + 1)
    # KPIs that ended more than STALE_AFTER years before the last year are left out.
    return df[(df["t"] >= 0) & (end >= last - STALE_AFTER)]


def ols(df: pd.DataFrame) -> pd.DataFrame:
    """Least-squares line of value on t per (kpi, municipality): n, slope, sxx, rss."""
    by = ["kpi", "municipality"]
    g = df.groupby(by, sort=False)
    xc = df["t"] - g["t"].transform("mean")
    yc = df["value"] - g["value"].transform("mean")
    s = (
        pd.DataFrame({"kpi": df["kpi"], "municipality": df["municipality"]})
        .assign(one=1, xx=xc * xc, xy=xc * yc, yy=yc * yc)
        .groupby(by)
        .sum()
        .rename(columns={"one": "n", "xx": "sxx", "xy": "sxy", "yy": "syy"})
    )
    s["slope"] = (s["sxy"] / s["sxx"]).where(s["sxx"] > 0)
    s["rss"] = (s["syy"] - (s["slope"] * s["sxy"]).fillna(0.0)).clip(lower=0.0)
    return s


def size_fit(g: pd.DataFrame) -> pd.Series:
    """Weighted (df) least squares of bias-corrected log variance on log population."""
    w, x, y = g["df"], g["logpop"], g["target"]
    xbar, ybar = np.average(x, weights=w), np.average(y, weights=w)
    sxx = (w * (x - xbar) ** 2).sum()
    beta = (w * (x - xbar) * (y - ybar)).sum() / sxx if len(g) >= 10 and sxx > 0 else 0.0
    return pd.Series({"xbar": xbar, "ybar": ybar, "beta": beta})


def noise(win: pd.DataFrame, inputs: Inputs) -> pd.DataFrame:
    """Per series: own residual variance, pooled with the KPI's size model (prior df 4)."""
    s = ols(win)
    s["df"] = (s["n"] - 2).clip(lower=0)
    latest = win[win["t"] == WINDOW - 1].groupby("kpi")["value"].agg(["std", "count"])
    spread = latest["std"].where((latest["count"] > 1) & (latest["std"] > 0), 1.0)
    s = s.join(spread.rename("spread"), on="kpi")
    s["floor"] = (1e-3 * s["spread"]) ** 2
    own = (s["rss"] / s["df"]).where(s["df"] > 0)
    s["own"] = np.maximum(own, s["floor"]).where(own.notna())
    s = s.join(np.log(inputs.population).rename("logpop"), on="municipality")
    use = s[(s["df"] > 0) & np.isfinite(s["logpop"])].copy()
    half = use["df"] / 2
    use["target"] = np.log(use["own"]) - (special.digamma(half) - np.log(half))
    fit = use.groupby("kpi")[["df", "logpop", "target"]].apply(size_fit)
    s = s.join(fit, on="kpi")
    logpop = s["logpop"].where(np.isfinite(s["logpop"]), s["xbar"])
    model = np.exp(s["ybar"] + s["beta"] * (logpop - s["xbar"]))
    model = model.fillna(s["spread"] ** 2)
    s["model"] = np.maximum(model, s["floor"])
    pooled = (s["own"].fillna(0) * s["df"] + s["model"] * PRIOR_DF) / (s["df"] + PRIOR_DF)
    s["variance"] = pooled.where(s["df"] > 0, s["model"])
    return s


def shrink_levels(win: pd.DataFrame, var: pd.DataFrame) -> pd.DataFrame:
    """Last RECENT years, each year's cross-section shrunk toward its mean (τ² by moments)."""
    lv = win[win["t"] >= WINDOW - RECENT].join(var["variance"], on=["kpi", "municipality"])
    g = lv.groupby(["kpi", "t"])
    mean = g["value"].transform("mean")
    total = g["value"].transform("var").fillna(0.0)
    tau2 = (total - g["variance"].transform("mean")).clip(lower=0.0)
    # A KPI too new to show its noise gets noise = its spread, so that τ² is 0 in exact
    # arithmetic; do not let rounding (1e-14) make it a test with p ≈ 1.
    tau2 = tau2.where(tau2 > 1e-9 * total, 0.0)
    weight = tau2 / (tau2 + lv["variance"])
    lv["shrunk"] = mean + weight * (lv["value"] - mean)
    lv["post_var"] = weight * lv["variance"]
    return lv


def peer_gaps(levels: pd.DataFrame, peers: pd.DataFrame, sign: pd.Series) -> pd.DataFrame:
    """Gap of the focal's shrunken level to its peers' median, noise-scaled, signed."""
    cols = ["kpi", "municipality", "t", "shrunk", "post_var"]
    on_peer = peers.merge(levels[cols].rename(columns={"municipality": "peer"}), on="peer")
    agg = (
        on_peer.groupby(["kpi", "focal", "t"])
        .agg(median=("shrunk", "median"), count=("shrunk", "size"), peer_var=("post_var", "mean"))
        .reset_index()
    )
    gaps = levels[cols].rename(columns={"municipality": "focal"}).merge(agg)
    gaps = gaps[gaps["count"] >= MIN_PEERS]
    se = np.sqrt(gaps["post_var"] + np.pi / 2 * gaps["peer_var"] / gaps["count"])
    gaps["z"] = gaps["kpi"].map(sign) * (gaps["shrunk"] - gaps["median"]) / se
    return gaps.dropna(subset=["z"])


def judge(gaps: pd.DataFrame) -> pd.DataFrame:
    """BH per municipality and year over the tested KPIs; behind/ahead need the latest year
    and MIN_HOLDING of the last RECENT years."""
    tested = gaps.loc[gaps["t"] == WINDOW - 1, ["kpi", "focal"]]
    tests = gaps.merge(tested)
    tests["p"] = 2 * stats.norm.sf(tests["z"].abs())
    tests["q"] = tests.groupby(["focal", "t"])["p"].transform(stats.false_discovery_control)
    tests["worse"] = (tests["q"] <= Q) & (tests["z"] < 0)
    tests["better"] = (tests["q"] <= Q) & (tests["z"] > 0)
    years = tests.groupby(["kpi", "focal"])[["worse", "better"]].sum()
    latest = tests[tests["t"] == WINDOW - 1].set_index(["kpi", "focal"])
    latest = latest.join(years.add_suffix("_years"))
    latest["behind"] = latest["worse"] & (latest["worse_years"] >= MIN_HOLDING)
    latest["ahead"] = latest["better"] & (latest["better_years"] >= MIN_HOLDING)
    return latest.reset_index()


def level_partners(
    behind: pd.DataFrame, peers: pd.DataFrame, levels: pd.DataFrame, sign: pd.Series
) -> pd.Series:
    """Peers clearly better in level (z > 1.96) in ≥ 2 of the 3 years, with a latest value."""
    cols = ["kpi", "municipality", "t", "shrunk", "post_var"]
    pairs = behind[["kpi", "focal"]].merge(peers)
    x = pairs.merge(levels[cols].rename(columns={"municipality": "peer"}), on=["kpi", "peer"])
    own = levels[cols].rename(
        columns={"municipality": "focal", "shrunk": "own", "post_var": "own_var"}
    )
    x = x.merge(own, on=["kpi", "focal", "t"])
    x["clearly"] = (
        x["kpi"].map(sign) * (x["shrunk"] - x["own"]) / np.sqrt(x["post_var"] + x["own_var"]) > Z95
    )
    x["latest"] = x["t"] == WINDOW - 1
    per = x.groupby(["kpi", "focal", "peer"])[["clearly", "latest"]].sum()
    return (per["clearly"] >= MIN_HOLDING) & (per["latest"] > 0)


def mann_kendall_theil_sen(g: pd.DataFrame) -> pd.Series:
    """Theil–Sen slope and the Mann–Kendall test of one series: exact p (kendalltau) when
    no values tie, else the normal score with tie and continuity corrections."""
    g = g.sort_values("t")
    x, y = g["t"].to_numpy(float), g["value"].to_numpy()
    slope = stats.theilslopes(y, x).slope
    n = y.size
    i, j = np.triu_indices(n, 1)
    s = np.sign(y[j] - y[i]).sum()
    _, ties = np.unique(y, return_counts=True)
    if ties.max() == 1 and n <= 20:
        p = stats.kendalltau(x, y, method="exact").pvalue
    else:
        var = (n * (n - 1) * (2 * n + 5) - (ties * (ties - 1) * (2 * ties + 5)).sum()) / 18
        z = (s - np.sign(s)) / np.sqrt(var) if var > 0 else 0.0
        p = 2 * stats.norm.sf(abs(z)) if var > 0 else 1.0
    return pd.Series({"ts": slope, "s": s, "p": p})


def improving_partners(
    win: pd.DataFrame,
    var: pd.DataFrame,
    behind: pd.DataFrame,
    peers: pd.DataFrame,
    sign: pd.Series,
) -> pd.Series:
    """Peers clearly improving in ≥ 2 of the 3 windows ending in the last 3 years: Mann–
    Kendall significant upward (in the better direction), shrunk slope z > 1.96 and a
    shrunk slope better than the focal's. Slopes are computed only for the series that can
    matter (the behind municipality and its peers)."""
    span = WINDOW - RECENT + 1
    pairs = behind[["kpi", "focal"]].merge(peers)
    pairs["sign"] = pairs["kpi"].map(sign)
    needed = pd.concat(
        [
            pairs[["kpi", "focal"]].rename(columns={"focal": "municipality"}),
            pairs[["kpi", "peer"]].rename(columns={"peer": "municipality"}),
        ]
    ).drop_duplicates()
    parts = []
    for e in range(RECENT):
        sub = win[(win["t"] >= e) & (win["t"] < e + span)]
        s = ols(sub)
        s = s[s["n"] >= 4].join(var["variance"])
        s["sampling"] = s["variance"] / s["sxx"]
        per_kpi = s.groupby("kpi").agg(
            mean=("slope", "mean"), total=("slope", "var"), noise=("sampling", "mean")
        )
        per_kpi["tau2"] = (per_kpi["total"] - per_kpi["noise"]).clip(lower=0.0)
        series = sub.merge(needed).merge(s[["n"]].reset_index())
        trend = series.groupby(["kpi", "municipality"])[["t", "value"]].apply(
            mann_kendall_theil_sen
        )
        trend = trend.join(s["sampling"]).join(per_kpi[["mean", "tau2"]], on="kpi")
        trend["sign"] = trend.index.get_level_values("kpi").map(sign)
        w = (trend["tau2"] / (trend["tau2"] + trend["sampling"])).fillna(1.0)
        trend["shrunk"] = trend["mean"] + w * (trend["ts"] - trend["mean"])
        trend["z"] = trend["sign"] * trend["shrunk"] / np.sqrt(w * trend["sampling"])
        trend["mk"] = (trend["p"] < 0.05) & (trend["sign"] * np.sign(trend["s"]) > 0)
        parts.append(trend.reset_index().assign(e=e))
    trends = pd.concat(parts)
    cols = ["kpi", "municipality", "e", "shrunk", "z", "mk"]
    x = pairs.merge(trends[cols].rename(columns={"municipality": "peer"}), on=["kpi", "peer"])
    own = trends[["kpi", "municipality", "e", "shrunk"]].rename(
        columns={"municipality": "focal", "shrunk": "own"}
    )
    x = x.merge(own, on=["kpi", "focal", "e"], how="left")
    x["clearly"] = x["mk"] & (x["z"] > Z95) & (x["sign"] * (x["shrunk"] - x["own"]) > 0)
    return x.groupby(["kpi", "focal", "peer"])["clearly"].sum() >= MIN_HOLDING


def pandas_learning(
    inputs: Inputs, focal: list[str] | None = None, steps: dict[str, float] | None = None
) -> Findings:
    """The whole analysis in pandas, for ``focal`` municipalities (default: all); the
    seconds of each step go into ``steps``."""
    steps = {} if steps is None else steps
    peers = inputs.peers if focal is None else inputs.peers[inputs.peers["focal"].isin(focal)]
    steps["read the Parquet panel, windows"], win = timed(lambda: read_panel(inputs))
    steps["noise (OLS per series, size model)"], var = timed(lambda: noise(win, inputs))
    steps["shrunken levels"], levels = timed(lambda: shrink_levels(win, var))
    # Only KPIs whose noise could be measured (≥ 3 municipalities with a 3-year series).
    measured = var[var["df"] > 0].groupby("kpi").size()
    measured = set(measured[measured >= MIN_MEASURED].index)
    steps["peer gaps, BH, verdicts"], verdicts = timed(
        lambda: judge(peer_gaps(levels[levels["kpi"].isin(measured)], peers, inputs.sign))
    )
    behind = verdicts[verdicts["behind"]]
    steps["level partners"], level = timed(
        lambda: level_partners(behind, peers, levels, inputs.sign)
    )
    steps["improving partners (Theil–Sen, Mann–Kendall)"], improving = timed(
        lambda: improving_partners(win, var, behind, peers, inputs.sign)
    )
    ahead = verdicts[verdicts["ahead"]]
    return Findings(
        behind=set(zip(behind["focal"], behind["kpi"], strict=True)),
        ahead=set(zip(ahead["focal"], ahead["kpi"], strict=True)),
        level={(f, k, p) for (k, f, p), ok in level.items() if ok},
        improving={(f, k, p) for (k, f, p), ok in improving.items() if ok},
        tested=set(zip(verdicts["focal"], verdicts["kpi"], strict=True)),
    )


# -- reporting ------------------------------------------------------------------------------


def only(findings: Findings, municipalities: set[str]) -> Findings:
    """The findings of some municipalities."""
    return Findings(
        **{
            name: {x for x in getattr(findings, name) if x[0] in municipalities}
            for name in ("behind", "ahead", "level", "improving", "tested")
        }
    )


def jaccard(a: set[Any], b: set[Any]) -> str:
    union = a | b
    share = len(a & b) / len(union) if union else 1.0
    return f"Jaccard {share:.3f} (Tillit {len(a):,}, pandas {len(b):,}, both {len(a & b):,})"


def agreement(label: str, tillit: Findings, baseline: Findings, unknown: set[str]) -> None:
    """Jaccard of each set; ``unknown`` are the KPIs without a series of ≥ 3 years, whose
    noise is the fallback (the spread), where rounding decides whether they are tested."""
    for name in ("behind", "ahead", "partners", "level", "improving", "tested"):
        a, b = getattr(tillit, name), getattr(baseline, name)
        line(f"agreement, {label}: {name}", jaccard(a, b))
        for diff, which in ((a - b, "only Tillit"), (b - a, "only pandas")):
            if diff and name != "tested":
                print(f"    {which}: {sorted(diff)[:4]}{' …' if len(diff) > 4 else ''}")
    extra = tillit.tested - baseline.tested
    if extra:
        on_unknown = sum(k in unknown for _, k in extra)
        line(
            "  tested only by Tillit: on KPIs with no 3-year series",
            f"{on_unknown:,} of {len(extra):,} (τ² ≈ 1e-14 from rounding, z ≈ 0, p ≈ 1)",
        )


def peer_agreement_by_area(store: Any, structure: Any, names: dict[str, str]) -> None:
    """Kolada's latest "Liknande kommuner" group of each municipality, per area."""
    from tillit.analyses import peer_agreement

    code = {title: m for m, title in names.items() if m in set(structure.municipalities)}
    members: dict[str, list[str]] = {}
    for row in store.metadata.read("municipality_group_members"):
        members.setdefault(row["group_id"], []).append(row["municipality"])
    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for g in store.municipality_groups("liknande_kommuner"):
        key = (g["area"], g["focal_title"])
        if g["focal_title"] in code and (g["year"] or 0) >= (latest.get(key, {}).get("year") or 0):
            latest[key] = g
    print(f"\nStructural peers (k={K}) vs Kolada's 'Liknande kommuner' (reported, not asserted):")
    print(f"  {'area':<20} {'year':>5} {'kommuner':>8} {'in group':>9} {'random':>7} {'ratio':>6}")
    for area in sorted({a for a, _ in latest}):
        chosen = {title: g for (a, title), g in latest.items() if a == area}
        r = peer_agreement(
            structure, {code[t]: members.get(g["id"], []) for t, g in chosen.items()}, k=K
        )
        year = max(g["year"] or 0 for g in chosen.values())
        print(
            f"  {area:<20} {year:>5} {int(r['municipalities']):>8} {r['agreement']:>9.1%} "
            f"{r['random']:>7.1%} {r['agreement'] / r['random']:>5.1f}x"
        )


def floor_scan(store: Any) -> float:
    source = store.values.source_sql()
    con = store.connect()
    try:
        start = time.perf_counter()
        rows = con.execute(f"SELECT count(*), sum(value) FROM {source}").fetchall()[0][0]
        seconds = time.perf_counter() - start
    finally:
        con.close()
    assert rows == ROWS, rows
    return seconds


def process_times(runs: int, argv: list[str], env: dict[str, str]) -> tuple[float, list[float]]:
    def once() -> None:
        subprocess.run(argv, env=env, check=True, capture_output=True)

    once()
    return best_of(runs, once)


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def show_runs(label: str, median: float, runs: list[float], floor: float | None = None) -> None:
    line(label, f"{median:.3f} s (runs: {runs_text(runs)})")
    if floor:
        line("  rows/s over the panel", f"{ROWS / median:,.0f}")
        line("  ratio to the floor", f"{median / floor:.1f}x")


def median_parts(parts: list[dict[str, float]]) -> None:
    for key in parts[0]:
        line(f"  {key}", f"{float(np.median([p[key] for p in parts])):.3f} s")


def regions(store: Any, args: argparse.Namespace, env: dict[str, str]) -> float:
    """`learn` for one region (in-process and as a process) and the regions' matrix; how
    far the regions' structural peers agree with Kolada's "Liknande regioner" (socio-
    economic) groups. Returns the in-process warm time of learn_report for the region."""
    from tillit.query import learn_report, load_context, national_report

    print(f"\nregions ({args.region}):")
    first, report = timed(lambda: learn_report(store, args.region, k=K, q=Q))
    seconds, runs = best_of(args.runs, lambda: learn_report(store, args.region, k=K, q=Q))
    show_runs(f"learn_report({args.region!r}) in-process", seconds, runs)
    line("  first call in the process (regions' store reads, fresh caches)", f"{first:.3f} s")
    learning = report.learning
    line(
        f"  {learning.tested} KPIs tested",
        f"behind on {len(learning.findings)}, ahead on {len(learning.ahead)}; peers "
        + ", ".join(report.names[p] for p in report.peers.members),
    )
    argv = [sys.executable, "-m", "tillit", "learn", args.region, "--format", "json"]
    cli, cli_runs = process_times(args.runs, argv, env)
    show_runs(f"process: tillit learn {args.region!r} --format json", cli, cli_runs)
    national = national_report(store, k=K, q=Q, kind="L")
    nat, nat_runs = best_of(args.national_runs, lambda: national_report(store, k=K, q=Q, kind="L"))
    show_runs("national_report(kind='L'), all 21 regions", nat, nat_runs)
    rows = national.rows()
    line("  findings", f"{len(rows)} behind in {len({r['municipality'] for r in rows})} regions")
    from tillit.analyses import STRUCTURAL_KPIS

    ctx = load_context(store, kpis=list(STRUCTURAL_KPIS), kind="L")
    groups = {}
    for g in store.municipality_groups("liknande_regioner"):
        if g["area"] != "socioekonomi":
            continue
        focal = next((m for m, n in ctx.names.items() if n == g["focal_title"]), None)
        if focal in ctx.municipalities:
            groups[focal] = [
                m["municipality"]
                for m in store.metadata.read("municipality_group_members")
                if m["group_id"] == g["id"]
            ]
    from tillit.analyses import peer_agreement

    if groups:
        agree = peer_agreement(ctx.structure, groups, K)
        line(
            f"  {K} structural peers in Kolada's Liknande regioner (socioekonomi)",
            f"{agree['agreement']:.0%} (random {agree['random']:.0%}, "
            f"{agree['municipalities']:.0f} regions)",
        )
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=5, help="timed runs of the fast steps")
    parser.add_argument("--national-runs", type=int, default=3)
    parser.add_argument("--skip-baseline", action="store_true")
    parser.add_argument(
        "--sample",
        type=int,
        default=0,
        help="national baseline on this many random municipalities, extrapolated (0: all)",
    )
    parser.add_argument("--municipality", default="Kungsbacka")
    parser.add_argument("--region", default="Region Halland")
    parser.add_argument("--skip-regions", action="store_true")
    args = parser.parse_args()

    home, store = full_store()
    from tillit.query import learn_report, load_context, national_report

    assert store.values.manifest()["rows"] == ROWS
    env = {**os.environ, "TILLIT_HOME": str(home)}
    print(f"store {home} ({ROWS:,} rows); {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")

    floor_scan(store)
    floor, floor_runs = best_of(args.runs, lambda: floor_scan(store))
    show_runs("floor: DuckDB count(*), sum(value) over the store", floor, floor_runs)

    # One municipality, in-process, then as a whole process.
    first, report = timed(lambda: learn_report(store, args.municipality, k=K, q=Q))
    seconds, learn_runs = best_of(
        args.runs, lambda: learn_report(store, args.municipality, k=K, q=Q)
    )
    show_runs(f"learn_report({args.municipality!r}) in-process", seconds, learn_runs, floor)
    median_parts([learn_parts(store, args.municipality)[0] for _ in range(args.runs)])
    line("  first call in the process (lazy imports, fresh memory)", f"{first:.3f} s")
    learning = report.learning
    line(
        f"  {learning.tested} KPIs tested",
        f"behind on {len(learning.findings)}, ahead on {len(learning.ahead)}; peers "
        + ", ".join(report.names[p] for p in report.peers.members),
    )
    py = sys.executable
    start_up, start_runs = process_times(args.runs, [py, "-c", "pass"], env)
    imports, import_runs = process_times(args.runs, [py, "-c", "import tillit.cli"], env)
    cli_argv = [py, "-m", "tillit", "learn", args.municipality, "--format", "json"]
    cli, cli_runs = process_times(args.runs, cli_argv, env)
    show_runs("process: python -c pass", start_up, start_runs)
    show_runs("process: python -c 'import tillit.cli'", imports, import_runs)
    show_runs(f"process: tillit learn {args.municipality} --format json", cli, cli_runs)
    line("  of which Python start-up and imports", f"{imports:.3f} s ({imports / cli:.0%})")

    # The national matrix.
    national = national_report(store, k=K, q=Q)
    nat, nat_runs = best_of(args.national_runs, lambda: national_report(store, k=K, q=Q))
    show_runs("national_report, all 290 municipalities", nat, nat_runs, floor)
    median_parts([national_parts(store) for _ in range(args.national_runs)])
    tillit_all = matrix_findings(national.matrix)
    line(
        "  findings",
        f"{len(tillit_all.behind):,} behind, {len(tillit_all.ahead):,} ahead, "
        f"{len(tillit_all.partners):,} partner links, {len(tillit_all.tested):,} tested",
    )
    focal = report.municipality
    tillit_one = replace(learning_findings(learning), tested=only(tillit_all, {focal}).tested)
    line(
        f"  learn_report equals the matrix row of {args.municipality}",
        str(tillit_one == only(tillit_all, {focal})),
    )

    region_seconds = regions(store, args, env) if not args.skip_regions else None

    ctx = load_context(store)
    base_all = 0.0
    if not args.skip_baseline:
        ev = national.matrix.evidence
        unknown = {ev.kpis[k] for k in np.flatnonzero((ev.noise.df == 0).all(axis=1))}
        inputs = tillit_inputs(ctx)
        print("\npandas baseline (same Parquet panel, peers, polarity and population):")
        steps: dict[str, float] = {}
        base_one, pandas_one = timed(lambda: pandas_learning(inputs, [focal], steps))
        line(f"pandas, {args.municipality}", f"{base_one:.2f} s")
        for key, value in steps.items():
            line(f"  {key}", f"{value:.2f} s")
        line("  learn_report is faster by", f"{base_one / seconds:.1f}x")
        agreement(args.municipality, tillit_one, pandas_one, unknown)
        if args.sample:
            chosen = sorted(random.Random(1).sample(inputs.municipalities, args.sample))
            base_some, pandas_all = timed(lambda: pandas_learning(inputs, chosen, steps))
            base_all = base_one + (base_some - base_one) * 289 / (len(chosen) - 1)
            line(
                f"pandas, {len(chosen)} random municipalities",
                f"{base_some:.1f} s; EXTRAPOLATED linearly to 290: {base_all:.0f} s",
            )
            tillit_cmp = only(tillit_all, set(chosen))
        else:
            base_all, pandas_all = timed(lambda: pandas_learning(inputs, None, steps))
            line("pandas, all 290 municipalities", f"{base_all:.1f} s")
            tillit_cmp = tillit_all
        for key, value in steps.items():
            line(f"  {key}", f"{value:.2f} s")
        line("  national_report is faster by", f"{base_all / nat:.1f}x")
        agreement("sample" if args.sample else "national", tillit_cmp, pandas_all, unknown)

    print()
    line(f"target: learn_report under {TARGET_LEARN_S:.0f} s (warm)", met(seconds < TARGET_LEARN_S))
    line(
        f"target: the tillit learn process under {TARGET_LEARN_S:.0f} s", met(cli < TARGET_LEARN_S)
    )
    line(
        f"target: national matrix under {TARGET_NATIONAL_S:.0f} s on {os.cpu_count()} cores",
        met(nat < TARGET_NATIONAL_S),
    )
    if region_seconds is not None:
        line(
            f"target: learn_report for a region under {TARGET_LEARN_S:.0f} s (warm)",
            met(region_seconds < TARGET_LEARN_S),
        )
    if not args.skip_baseline:
        line(
            f"target: national ≥ {TARGET_SPEEDUP:.0f}x faster than pandas",
            met(base_all / nat >= TARGET_SPEEDUP),
        )
    peer_agreement_by_area(store, ctx.structure, dict(ctx.names))
    print(f"\nload average at the end: {os.getloadavg()[0]:.2f} (1 min)")


if __name__ == "__main__":
    main()
