"""The noise model and the gap test on the real regions (issue 15): the KPIs with a 2022 value
for at least 20 of the 21 regions in the shared Kolada panel, 2013–2022, gender T; each
region against its 5 structural peers (Ledoit–Wolf, as ``build_structure`` does by default
for 21 units). KPIs are tested twice: all of them read as "higher is better", and, closer to
the product, only those with a known polarity (``resolve_polarity`` on the v3 titles) that
are not on Tillit's eligibility list (its value rules, binary or step-shaped series, are not
applied here). Prints ρ's standard error, d0, how many KPIs
pass the noise check, and the flags per region as shipped and with ρ taken as known and d0
per KPI (before issue 15). Then the validation's per-unit null on the real regions
(``bench/bench_validation.py`` part (b) for the municipalities): batches of regions, none
another's peer, have their series replaced by their peers' published median plus AR(1) noise
with the KPI's ρ at a level drawn from the noise model's posterior, keeping missing years
missing; the share of replaced regions with any flag. Reads ../shared/data at run time;
writes nothing.

    .venv/bin/python scripts/regions_evidence.py             # about a minute
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from pathlib import Path

import duckdb
import numpy as np

from tillit.analyses import (
    Evidence,
    Panel,
    Polarity,
    build_structure,
    curated_eligibility,
    gather_evidence,
    learning_matrix,
    resolve_polarity,
)

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TILLIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
PANEL = SHARED / "kolada_panel" / "kolada_values_1994_2022.parquet"
REGIONS = "municipality_id BETWEEN '0001' AND '0025'"
KPI_METADATA = SHARED / "kolada_api_metadata" / "kpi_v3_2026-03.values.json"


def product_polarity(kpis: tuple[str, ...]) -> dict[str, Polarity]:
    """Known polarity from the titles, UNKNOWN (not tested) for KPIs on the eligibility list."""
    titles = {row["id"]: row["title"] for row in json.loads(KPI_METADATA.read_text())}
    excluded = curated_eligibility()
    return {
        k: Polarity.UNKNOWN if k in excluded else resolve_polarity(k, titles.get(k)).polarity
        for k in kpis
    }


def region_panel() -> Panel:
    frame = duckdb.sql(
        f"""
        WITH kpis AS (
            SELECT kpi FROM read_parquet('{PANEL}')
            WHERE year = 2022 AND gender = 'T' AND value IS NOT NULL AND {REGIONS}
            GROUP BY kpi HAVING count(DISTINCT municipality_id) >= 20
        )
        SELECT kpi, municipality_id AS municipality, CAST(year AS BIGINT) AS period, value
        FROM read_parquet('{PANEL}') JOIN kpis USING (kpi)
        WHERE gender = 'T' AND year BETWEEN 2013 AND 2022 AND value IS NOT NULL AND {REGIONS}
        """
    ).to_arrow_table()
    return Panel.from_frame(frame)


def main() -> None:
    panel = region_panel()
    structure = build_structure(panel, drop_missing=True)
    peers = structure.neighbour_indices(5)
    population = panel.values[panel.kpi_index("N01951"), :, -1]
    for label, polarity in (
        ("all KPIs, higher is better", dict.fromkeys(panel.kpis, Polarity.HIGHER)),
        ("known polarity, eligible", product_polarity(panel.kpis)),
    ):
        print(f"-- {label}")
        evidence = gather_evidence(panel, population, polarity=polarity)
        noise = evidence.noise
        tested = noise.measured & evidence.noise_fits & (evidence.signs != 0)
        print(
            f"{len(panel.kpis)} KPIs × {len(panel.municipalities)} regions; testable "
            f"(measured, noise check passed, polarity known) {int(tested.sum())}; of those "
            f"with ρ at the cap {int((tested & (noise.rho >= 0.9)).sum())}"
        )
        q = np.quantile
        print(f"  ρ: quartiles {np.round(q(noise.rho[tested], [0.25, 0.5, 0.75]), 2)}")
        print(f"  ρ's SE: quartiles {np.round(q(noise.rho_se[tested], [0.25, 0.5, 0.75]), 3)}")
        print(
            f"  d0 per KPI: quartiles {np.round(q(noise.prior_df[tested], [0.25, 0.5, 0.75]), 1)}"
        )
        before = without_issue_15(evidence)
        for name, ev in (("shipped", evidence), ("before issue 15", before)):
            m = learning_matrix(ev, peers)
            flags = (m.behind | m.ahead).sum(axis=0)
            print(
                f"  {name}: {int(m.behind.sum())} behind, {int(m.ahead.sum())} ahead of "
                f"{int(m.tested.sum())} tested pairs; per region median {int(np.median(flags))}, "
                f"range {int(flags.min())}–{int(flags.max())}"
            )
        null(panel, population, peers, polarity, draws=10)


def without_issue_15(evidence: Evidence) -> Evidence:
    """ρ taken as known and d0 per KPI, as before issue 15."""
    noise = evidence.noise
    return dataclasses.replace(
        evidence,
        noise=dataclasses.replace(
            noise,
            rho_se=np.zeros_like(noise.rho_se),
            unit_prior_df=np.broadcast_to(noise.prior_df[:, None], noise.df.shape).copy(),
        ),
    )


def batches(peers: np.ndarray) -> list[list[int]]:
    """Regions in groups none of which is another's peer (either way), greedily."""
    n = peers.shape[0]
    conflict = [set() for _ in range(n)]
    for i in range(n):
        for j in peers[i]:
            conflict[i].add(int(j))
            conflict[int(j)].add(i)
    out: list[list[int]] = []
    for i in sorted(range(n), key=lambda i: -len(conflict[i])):
        for group in out:
            if not conflict[i] & set(group):
                group.append(i)
                break
        else:
            out.append([i])
    return out


def null(
    panel: Panel,
    population: np.ndarray,
    peers: np.ndarray,
    polarity: dict[str, Polarity],
    draws: int,
) -> None:
    base = gather_evidence(panel, population, polarity=polarity)
    rows = np.array([panel.kpi_index(k) for k in base.kpis])
    noise = base.noise
    rng = np.random.default_rng(15)
    flagged = judged = 0
    years = panel.values.shape[2]
    for label, known in (("shipped", False), ("before issue 15", True)):
        flagged = judged = 0
        rng = np.random.default_rng(15)
        for _ in range(draws):
            for batch in batches(peers):
                values = panel.values.copy()
                df = np.where(noise.total_df > 0, noise.total_df, 1e6)
                variance = noise.variance * df / rng.chisquare(df)
                for i in batch:
                    with np.errstate(all="ignore"), warnings.catch_warnings():
                        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices
                        median = np.nanmedian(panel.values[rows][:, peers[i], :], axis=1)
                    z = rng.standard_normal((rows.size, years))
                    e = np.empty_like(z)
                    e[:, 0] = z[:, 0]
                    rho = noise.rho
                    for t in range(1, years):
                        e[:, t] = rho * e[:, t - 1] + np.sqrt(1 - rho**2) * z[:, t]
                    e *= np.sqrt(variance[:, i])[:, None]
                    present = ~np.isnan(values[rows, i, :])
                    values[rows, i, :] = np.where(present, median + e, np.nan)
                replaced = dataclasses.replace(panel, values=values)
                ev = gather_evidence(replaced, population, polarity=polarity)
                if known:
                    ev = without_issue_15(ev)
                m = learning_matrix(ev, peers[batch], focal=batch)
                tested = m.tested.any(axis=0)
                flagged += int(((m.behind | m.ahead).any(axis=0) & tested).sum())
                judged += int(tested.sum())
        print(
            f"  null on the real regions, {label}: {flagged} of {judged} replaced regions "
            f"with any flag ({100 * flagged / max(judged, 1):.1f} %)",
            flush=True,
        )


if __name__ == "__main__":
    main()
