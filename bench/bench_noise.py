"""Does the noise model fit the real panel? Held-back-year coverage of its bands.

For every testable KPI (known polarity, not a total), the noise model is fitted on each
KPI's window less its last ``HELD_OUT`` years (the three years the analyses test), and
each held-back year is predicted from the last fitted one
(``tillit.analyses._noise.check_noise``, the same check that decides
whether a KPI may be tested). Printed: the share of held-back values inside the model's
95 % and 99.8 % bands, by population tercile, over all KPIs and over the KPIs that pass
the check; the share of KPIs whose held-back variance is more than twice the model's;
the median prior df and ρ.

    python bench/bench_noise.py
"""

from __future__ import annotations

import numpy as np

from _common import full_store, line


def main() -> None:
    _, store = full_store()
    from tillit.analyses._noise import align_windows, check_noise
    from tillit.query import load_context

    ctx = load_context(store)
    testable = set(ctx.testable())
    windowed = align_windows(ctx.panel)
    keep = np.array([k in testable for k in windowed.kpis])
    values = windowed.values[keep]
    population = ctx.population()
    check = check_noise(values, population)
    terciles = np.quantile(population, [1 / 3, 2 / 3])
    group = np.digitize(population, terciles)
    print(f"{int(keep.sum())} testable KPIs, {len(population)} municipalities")
    for label, kpis in (("all KPIs", np.ones(values.shape[0], bool)), ("passing", check.passed)):
        for level in (0.95, 0.998):
            covered = check.covered(level)
            parts = []
            for g in range(3):
                valid = ~np.isnan(check.score[kpis][:, group == g, :])
                inside = covered[kpis][:, group == g, :] & valid
                parts.append(f"T{g + 1} {100 * inside.sum() / valid.sum():.2f} %")
            line(f"{label}: {100 * level:.1f} % band covers", ", ".join(parts))
    line("KPIs passing the check", f"{int(check.passed.sum())} of {values.shape[0]}")
    enough = check.checked >= 20
    line(
        "KPIs with held-back variance > 2× the model",
        f"{100 * np.mean(check.variance_ratio[enough] > 2):.1f} % (of {int(enough.sum())})",
    )
    noise = check.noise
    line(
        "median prior df d0, median ρ",
        f"{np.median(noise.prior_df):.1f}, {np.median(noise.rho):.2f}",
    )
    u2 = check.score[check.passed] ** 2
    line("median score² (0.455 expected)", f"{np.nanmedian(u2):.3f}")


if __name__ == "__main__":
    main()
