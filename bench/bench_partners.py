"""Do "clearly improving" peers carry information? A quick backtest of the learning
partners on the real panel.

The analysis is run as of ORIGIN (the panel cut after that year, the same code as
`tillit learn --alla`: structural peers, k = 7), and for every finding (a municipality
clearly behind on a KPI) each peer is followed HORIZON years on: did it improve more than
the municipality (in the KPI's better direction), and is it still better? Printed for level
partners, for clearly improving peers, and for all peers of the findings (the base rate).

    python bench/bench_partners.py [--origin 2019] [--horizon 3]
"""

from __future__ import annotations

import argparse

import numpy as np

from _common import full_store, line


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--origin", type=int, default=2019)
    parser.add_argument("--horizon", type=int, default=3)
    args = parser.parse_args()
    _, store = full_store()
    from tillit.analyses import Panel, gather_evidence, learning_matrix
    from tillit.query import load_context

    ctx = load_context(store)
    kpis = ctx.testable()
    full = ctx.panel
    rows = [full.kpi_index(k) for k in kpis]
    cut = full.years.index(args.origin) + 1
    panel = Panel(
        kpis=tuple(kpis),
        municipalities=full.municipalities,
        years=full.years[:cut],
        values=full.values[rows, :, :cut],
    )
    evidence = gather_evidence(
        panel,
        ctx.population(),
        polarity={k: ctx.polarity[k].polarity for k in kpis},
        areas={k: ctx.area(k) for k in kpis},
        titles={k: ctx.title(k) for k in kpis},
    )
    peers = ctx.structure.neighbour_indices(7)
    m = learning_matrix(evidence, peers)
    values = full.values[[full.kpi_index(k) for k in evidence.kpis]]
    years = np.asarray(full.years)
    start = np.searchsorted(years, evidence.windowed.end_years)
    later = start + args.horizon
    ok_k = later < len(years)
    sign = evidence.signs.astype(float)
    k_idx, f_pos = np.nonzero(m.behind & ok_k[:, None])
    groups: dict[str, list[tuple[bool, bool]]] = {"level partners": [], "improving": [], "all": []}
    for k, f in zip(k_idx, f_pos, strict=True):
        i = m.focal[f]
        a, b = start[k], later[k]
        own_change = sign[k] * (values[k, i, b] - values[k, i, a])
        for slot, j in enumerate(m.peers[f]):
            change = sign[k] * (values[k, j, b] - values[k, j, a])
            ahead = sign[k] * (values[k, j, b] - values[k, i, b])
            if np.isnan(change) or np.isnan(own_change) or np.isnan(ahead):
                continue
            outcome = (bool(change > own_change), bool(ahead > 0))
            groups["all"].append(outcome)
            if m.level_partner[k, f, slot]:
                groups["level partners"].append(outcome)
            if m.improving_partner[k, f, slot]:
                groups["improving"].append(outcome)
    print(f"origin {args.origin}, outcome {args.horizon} years later; {len(k_idx):,} findings")
    for name, outcomes in groups.items():
        if not outcomes:
            line(name, "none")
            continue
        arr = np.array(outcomes)
        n = len(arr)
        se = np.sqrt(arr.mean(axis=0) * (1 - arr.mean(axis=0)) / n)
        line(
            f"{name} (n = {n:,})",
            f"out-improved the learner {100 * arr[:, 0].mean():.1f} % (±{196 * se[0]:.1f}), "
            f"still better {100 * arr[:, 1].mean():.1f} % (±{196 * se[1]:.1f})",
        )


if __name__ == "__main__":
    main()
