"""Goals (issue 16): judging 20 goals for each of the 290 municipalities, and how well the
judged probabilities are calibrated, on generated and on real data.

On the real store (the shared 7.4 M-row panel, bench/_common.full_store) as of 2018:

* the noise of every testable KPI × municipality from
  ``load_context(store, testable_only=True, as_of=2018).evidence()`` (fitted on data up to
  2018 only, so nothing from the years judged leaks in);
* per municipality 20 KPIs with a known polarity (seeded at random among those with a
  2018 value, at least three values 2011–2018 and a known noise), each given a goal of
  ``--per-year`` noise SDs of improvement per year over ``--years`` years from 2018
  (default +1 SD a year to 2022);
* judged as of 2018 with data up to 2018 by ``judge_many`` (numbers only) and by
  ``judge_indicators`` (with the Swedish texts and projections), each best of ``--runs``,
  and one goal at a time by ``judge_indicator`` (once);
* whether a unit's trend goes on: per size of its slope in standard errors, the median
  change it projects over the next four years and the median change that came;
* a real-data calibration check: how many were met by 2022 per bin of the judged
  probability, for those goals and for every eligible KPI × municipality with targets of
  −1, −0.5, 0, +0.5 and +1 SD a year (so that every bin fills), judged as of 2014 (the
  period the constants SLOPE_SD and PERSISTENCE_SD were chosen on) and as of 2018 (out of
  sample), by Tillit's judgement, without its persistence term, and by a plain trend.

Then the generated-data calibration table (tests/test_goals_analysis.simulate_goals:
a line plus AR(1) noise, ``--simulated`` goals) against the issue's target, observed
share within ±0.05 of each bin.

    python bench/bench_goals.py [--runs 5] [--simulated 200000] [--per-year 1.0]
                                [--years 4] [--as-of 2018]
"""

from __future__ import annotations

import argparse
import math
import time
from typing import Any

import numpy as np

from _common import full_store, line

TARGET_S = 5.0
GOALS_PER_UNIT = 20
TOLERANCE = 0.05


def status(ok: bool) -> str:
    return "met" if ok else "NOT MET"


def calibration(p: np.ndarray, met: np.ndarray, title: str, *, check: bool) -> bool:
    """Print the table per bin of 0.1; with ``check``, mark each bin against ±TOLERANCE of
    its mean judged probability. Returns whether every filled bin was inside."""
    ok = ~np.isnan(p)
    bins = np.minimum((p[ok] * 10).astype(int), 9)
    print(f"\n{title}")
    print(f"{'bin':<11} {'goals':>8} {'judged':>8} {'met':>8} {'diff':>8}")
    good = True
    for b in range(10):
        inside = bins == b
        n = int(inside.sum())
        if n == 0:
            print(f"{b / 10:.1f}–{(b + 1) / 10:.1f}    {0:>8}")
            continue
        judged = float(p[ok][inside].mean())
        share = float(met[ok][inside].mean())
        diff = share - judged
        mark = ""
        if check:
            inside_tolerance = abs(diff) <= TOLERANCE
            good &= inside_tolerance
            mark = f"  {status(inside_tolerance)}"
        span = f"{b / 10:.1f}–{(b + 1) / 10:.1f}"
        print(f"{span}    {n:>8} {judged:>8.3f} {share:>8.3f} {diff:>+8.3f}{mark}")
    return good


def real_goals(store: Any, as_of: int, years: int, rng: np.random.Generator) -> dict[str, Any]:
    """The noise as of ``as_of`` and the values up to ``as_of`` and in ``as_of + years``
    for every testable KPI × municipality."""
    from tillit.query import load_context

    start = time.perf_counter()
    past = load_context(store, testable_only=True, as_of=as_of)
    ev = past.evidence()
    line("load_context + evidence as of the judging year", f"{time.perf_counter() - start:.1f} s")
    start = time.perf_counter()
    later = load_context(store, testable_only=True)
    line("load_context with the later years (outcomes)", f"{time.perf_counter() - start:.1f} s")
    kpis = ev.kpis
    munis = ev.municipalities
    panel = past.panel
    k_index = {k: i for i, k in enumerate(panel.kpis)}
    m_index = {m: i for i, m in enumerate(panel.municipalities)}
    pk = np.array([k_index[k] for k in kpis])
    pm = np.array([m_index[m] for m in munis])
    years_axis = np.asarray(panel.years)
    window = (years_axis > as_of - 8) & (years_axis <= as_of)
    values = panel.values[np.ix_(pk, pm, np.flatnonzero(window))]  # (kpi, muni, year)
    lk = {k: i for i, k in enumerate(later.panel.kpis)}
    lm = {m: i for i, m in enumerate(later.panel.municipalities)}
    target_year = as_of + years
    outcome = np.full((len(kpis), len(munis)), np.nan)
    if target_year in later.panel.years:
        ty = later.panel.years.index(target_year)
        rows = [i for i, k in enumerate(kpis) if k in lk]
        cols = [j for j, m in enumerate(munis) if m in lm]
        outcome[np.ix_(rows, cols)] = later.panel.values[
            np.ix_([lk[kpis[i]] for i in rows], [lm[munis[j]] for j in cols], [ty])
        ][..., 0]
    sd = np.sqrt(ev.noise.variance)
    return {
        "kpis": kpis,
        "municipalities": munis,
        "years": years_axis[window],
        "values": values,
        "sd": sd,
        "df": ev.noise.total_df,
        "rho": np.broadcast_to(ev.noise.rho[:, None], sd.shape),
        "sign": np.broadcast_to(ev.signs[:, None], sd.shape),
        "outcome": outcome,
    }


def trend_persistence(data: dict[str, Any], as_of: int, years: int) -> None:
    """Does a unit's trend go on? Per size of the window's least-squares slope in standard
    errors (|t|), the median change it would make over ``years`` years and the median change
    that came, both along the trend's direction and in noise SDs."""
    from tillit.analyses import judge_many

    values, sd, sign = data["values"], data["sd"], data["sign"]
    usable = (
        (sign != 0)
        & np.isfinite(sd)
        & (sd > 0)
        & ~np.isnan(values[..., -1])
        & ((~np.isnan(values)).sum(axis=2) >= 5)
        & ~np.isnan(data["outcome"])
    )
    kk, mm = np.nonzero(usable)
    plain = judge_many(
        values[kk, mm],
        data["years"],
        noise_sd=sd[kk, mm],
        noise_df=data["df"][kk, mm],
        rho=data["rho"][kk, mm],
        target=0.0,
        target_year=as_of + years,
        direction_sign=1,
        now=as_of,
        slope_sd=math.inf,
        persistence_sd=0.0,
    )
    t = np.abs(plain.trend / plain.trend_se)
    way = np.sign(plain.trend)
    s = sd[kk, mm]
    projected = way * plain.trend * years / s
    came = way * (data["outcome"][kk, mm] - values[kk, mm, -1]) / s
    print(
        f"\nDoes a trend go on? KPI × municipality series with 5+ values, {as_of - 7}–{as_of}, "
        f"and a {as_of + years} value (changes in noise SDs, along the trend)"
    )
    print(f"{'|t| of the slope':<18} {'series':>8} {'projected':>10} {'came':>8}")
    for lo, hi in ((0, 1), (1, 2), (2, 3), (3, 6), (6, math.inf)):
        inside = (t >= lo) & (t < hi) & np.isfinite(came)
        label = f"{lo}–{hi}" if math.isfinite(hi) else f"{lo}+"
        print(
            f"{label:<18} {int(inside.sum()):>8} {float(np.median(projected[inside])):>10.2f} "
            f"{float(np.median(came[inside])):>8.2f}"
        )


def measurability_check(rng: np.random.Generator, draws: int = 200_000) -> None:
    """How often AR(1) noise alone crosses the smallest detectable change, and how often a
    true change of that size, and of the reliable size, is seen (σ = 2, known)."""
    from tillit.analyses import IndicatorSeries, Target, measurability

    print(f"\nMeasurability on generated AR(1) noise (σ = 2, {draws:,} pairs each)")
    print(
        f"{'ρ':>4} {'years':>6} {'smallest':>9} {'reliable':>9} {'no change':>10} "
        f"{'smallest':>9} {'reliable':>9}   (share seen)"
    )
    for rho, years in ((0.0, 4), (0.6, 4), (0.8, 2)):
        m = measurability(
            IndicatorSeries((2020,), (10.0,), noise_sd=2.0, rho=rho),
            Target(11.0, 2020 + years, "increase", 2020, 10.0),
        )
        start = rng.standard_normal(draws)
        end = rho**years * start + math.sqrt(1 - rho ** (2 * years)) * rng.standard_normal(draws)
        noise = 2.0 * (end - start)
        seen = [
            float((np.abs(change + noise) > m.smallest_detectable_change).mean())
            for change in (0.0, m.smallest_detectable_change, m.reliable_change)
        ]
        print(
            f"{rho:>4} {years:>6} {m.smallest_detectable_change:>9.3f} {m.reliable_change:>9.3f} "
            f"{seen[0]:>10.4f} {seen[1]:>9.4f} {seen[2]:>9.4f}"
        )


def every_pair(
    data: dict[str, Any], as_of: int, years: int, label: str, period: str, model: dict[str, float]
) -> None:
    """Judge every eligible KPI × municipality as of ``as_of`` with targets of −1, −0.5, 0,
    +0.5 and +1 noise SD a year over ``years`` years, and print the calibration."""
    from tillit.analyses import judge_many

    values, sd, sign = data["values"], data["sd"], data["sign"]
    eligible = (
        (sign != 0)
        & np.isfinite(sd)
        & (sd > 0)
        & ~np.isnan(values[..., -1])
        & ((~np.isnan(values)).sum(axis=2) >= 3)
    )
    kk, mm = np.nonzero(eligible)
    steps = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    kk, mm = np.repeat(kk, steps.size), np.repeat(mm, steps.size)
    step = np.tile(steps, kk.size // steps.size)
    target = values[kk, mm, -1] + sign[kk, mm] * step * years * sd[kk, mm]
    start = time.perf_counter()
    judged = judge_many(
        values[kk, mm],
        data["years"],
        noise_sd=sd[kk, mm],
        noise_df=data["df"][kk, mm],
        rho=data["rho"][kk, mm],
        target=target,
        target_year=as_of + years,
        direction_sign=sign[kk, mm],
        now=as_of,
        **model,
    )
    elapsed = time.perf_counter() - start
    outcome = data["outcome"][kk, mm]
    known = ~np.isnan(outcome)
    p = np.where(known, judged.probability, np.nan)
    met = sign[kk, mm] * (outcome - target) >= 0
    ok = ~np.isnan(p)
    brier = float(np.mean((p[ok] - met[ok]) ** 2))
    print()
    line(
        f"judge_many, {kk.size // steps.size:,} pairs × 5 targets as of {as_of}",
        f"{elapsed:.2f} s ({kk.size / elapsed:,.0f} goals/s)",
    )
    good = calibration(
        p,
        met,
        f"Real data, {label} ({period}): every eligible KPI × municipality, targets −1…+1 "
        f"noise SD a year, judged as of {as_of} with data up to {as_of}, met in "
        f"{as_of + years}? Brier score {brier:.4f}",
        check=True,
    )
    line(f"  every bin within ±{TOLERANCE}", status(good))
    verdicts = np.array(judged.verdicts())
    for v in ("on_track", "uncertain", "off_track"):
        chosen = ok & (verdicts == v)
        line(
            f"  {v}: goals, share met",
            f"{int(chosen.sum()):,}, {float(met[chosen].mean()):.3f}",
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--simulated", type=int, default=200_000)
    parser.add_argument("--per-year", type=float, default=1.0)
    parser.add_argument("--years", type=int, default=4)
    parser.add_argument("--as-of", type=int, default=2018)
    args = parser.parse_args()

    from tillit.analyses import (
        IndicatorSeries,
        Target,
        judge_indicator,
        judge_indicators,
        judge_many,
    )

    rng = np.random.default_rng(16)
    _, store = full_store()
    data = real_goals(store, args.as_of, args.years, rng)
    values, sd, sign = data["values"], data["sd"], data["sign"]
    counted = (~np.isnan(values)).sum(axis=2)
    eligible = (
        (sign != 0) & np.isfinite(sd) & (sd > 0) & ~np.isnan(values[..., -1]) & (counted >= 3)
    )
    # 20 KPIs per municipality, at random among the eligible ones
    picked_k: list[int] = []
    picked_m: list[int] = []
    for m in range(values.shape[1]):
        ks = np.flatnonzero(eligible[:, m])
        chosen = rng.choice(ks, size=min(GOALS_PER_UNIT, ks.size), replace=False)
        picked_k += chosen.tolist()
        picked_m += [m] * chosen.size
    k, m = np.array(picked_k), np.array(picked_m)
    n = k.size
    line("goals (KPIs with known polarity × municipalities)", f"{n:,}")
    line("municipalities with 20 goals", f"{int((np.bincount(m) == GOALS_PER_UNIT).sum())}")
    baseline = values[k, m, -1]
    target = baseline + sign[k, m] * args.per_year * args.years * sd[k, m]
    target_year = args.as_of + args.years
    batch = {
        "values": values[k, m],
        "years": data["years"],
        "noise_sd": sd[k, m],
        "noise_df": data["df"][k, m],
        "rho": data["rho"][k, m],
        "target": target,
        "target_year": target_year,
        "direction_sign": sign[k, m],
        "now": args.as_of,
    }
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        judged = judge_many(**batch)
        times.append(time.perf_counter() - start)
    best = min(times)
    line(f"judge_many, {n:,} goals (best of {args.runs})", f"{best * 1000:.1f} ms")
    line("  goals per second", f"{n / best:,.0f}")
    line(f"  target < {TARGET_S:.0f} s", status(best < TARGET_S))

    directions = np.where(sign[k, m] > 0, "increase", "decrease")
    items = []
    for i in range(n):
        row = values[k[i], m[i]]
        keep = ~np.isnan(row)
        series = IndicatorSeries(
            tuple(int(y) for y in data["years"][keep]),
            tuple(float(v) for v in row[keep]),
            float(sd[k[i], m[i]]),
            float(data["df"][k[i], m[i]]),
            float(data["rho"][k[i], m[i]]),
        )
        goal = Target(
            float(target[i]), target_year, str(directions[i]), args.as_of, float(baseline[i])
        )
        items.append((series, goal))
    times = []
    for _ in range(args.runs):
        start = time.perf_counter()
        batch = judge_indicators(items)
        times.append(time.perf_counter() - start)
    best_texts = min(times)
    line(
        f"judge_indicators with texts and projections, {n:,} goals (best of {args.runs})",
        f"{best_texts:.2f} s",
    )
    line("  goals per second", f"{n / best_texts:,.0f}")
    line(f"  target < {TARGET_S:.0f} s", status(best_texts < TARGET_S))
    start = time.perf_counter()
    one_by_one = [judge_indicator(series, goal) for series, goal in items]
    loop = time.perf_counter() - start
    line(f"judge_indicator one goal at a time, {n:,} goals (once)", f"{loop:.2f} s")
    line("  goals per second", f"{n / loop:,.0f}")
    same = np.allclose(
        [j.probability_met for j in one_by_one], judged.probability, equal_nan=True, atol=1e-9
    ) and all(a.reason == b.reason for a, b in zip(batch, one_by_one, strict=True))
    line("  same probabilities and texts as judge_many / judge_indicators", "yes" if same else "NO")

    verdicts = np.array(judged.verdicts())
    for v in ("on_track", "uncertain", "off_track", "cannot_judge"):
        line(f"  verdict {v}", f"{int((verdicts == v).sum()):,}")

    outcome = data["outcome"][k, m]
    known = ~np.isnan(outcome)
    met = sign[k, m] * (outcome - target) >= 0
    line(f"goals with a published {target_year} value", f"{int(known.sum()):,}")
    p = np.where(known, judged.probability, np.nan)
    calibration(
        p,
        met,
        f"Real data: goals of {args.per_year:+g} noise SD a year judged as of {args.as_of}, "
        f"met by {target_year}? (per bin of the judged probability)",
        check=False,
    )

    # Every eligible KPI × municipality, with targets from −1 to +1 SD a year, in the
    # period the model's constants were chosen on and in the one after (out of sample).
    for as_of, period in ((args.as_of - args.years, "chosen on"), (args.as_of, "checked on")):
        more = data if as_of == args.as_of else real_goals(store, as_of, args.years, rng)
        trend_persistence(more, as_of, args.years)
        for label, model in (
            ("Tillit's judgement", {}),
            ("damped trend, no persistence term", {"persistence_sd": 0.0}),
            ("plain least-squares trend", {"slope_sd": math.inf, "persistence_sd": 0.0}),
        ):
            every_pair(more, as_of, args.years, label, period, model)

    # Generated data: a line plus AR(1) noise, the calibration target.
    from tests.test_goals_analysis import simulate_goals

    goals = simulate_goals(np.random.default_rng(16), args.simulated)
    truth = goals.pop("met")
    start = time.perf_counter()
    sim = judge_many(**goals)
    elapsed = time.perf_counter() - start
    line(
        f"\njudge_many, {args.simulated:,} generated goals",
        f"{elapsed:.2f} s ({args.simulated / elapsed:,.0f} goals/s)",
    )
    good = calibration(
        sim.probability,
        truth,
        "Generated data (line + AR(1) noise): observed share met per bin, target ±0.05",
        check=True,
    )
    line("generated-data calibration, every bin within ±0.05", status(good))
    measurability_check(np.random.default_rng(7))


if __name__ == "__main__":
    main()
