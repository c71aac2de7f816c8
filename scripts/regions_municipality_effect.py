"""How much the n = 21 fixes move the 290 municipalities' results (issue 15): the KPIs with
a 2022 value for at least 250 municipalities in the shared Kolada panel, 2013–2022, all read
as "higher is better"; the 7 structural peers; learning_matrix at q = 0.05, once as shipped
and once with ρ taken as known and the prior's degrees of freedom per KPI (the analyses
before issue 15). Prints the flags of each and
how many differ. Reads ../shared/data at run time; writes nothing.

    .venv/bin/python scripts/regions_municipality_effect.py
"""

from __future__ import annotations

import dataclasses
import os
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from tillit.analyses import Panel, Polarity, build_structure, gather_evidence, learning_matrix

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TILLIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
PANEL = SHARED / "kolada_panel" / "kolada_values_1994_2022.parquet"


def municipality_panel() -> Panel:
    frame = duckdb.sql(
        f"""
        WITH kpis AS (
            SELECT kpi FROM read_parquet('{PANEL}')
            WHERE year = 2022 AND gender = 'T' AND value IS NOT NULL
              AND municipality_id >= '0114' AND length(municipality_id) = 4
            GROUP BY kpi HAVING count(DISTINCT municipality_id) >= 250
        )
        SELECT kpi, municipality_id AS municipality, CAST(year AS BIGINT) AS period, value
        FROM read_parquet('{PANEL}') JOIN kpis USING (kpi)
        WHERE gender = 'T' AND year BETWEEN 2013 AND 2022 AND value IS NOT NULL
          AND municipality_id >= '0114' AND length(municipality_id) = 4
        """
    ).to_arrow_table()
    return Panel.from_frame(pa.table(frame))


def main() -> None:
    start = time.perf_counter()
    panel = municipality_panel()
    structure = build_structure(panel, drop_missing=True)
    peers = structure.neighbour_indices(7)
    population = panel.values[panel.kpi_index("N01951"), :, -1]
    evidence = gather_evidence(
        panel, population, polarity=dict.fromkeys(panel.kpis, Polarity.HIGHER)
    )
    noise = evidence.noise
    before = dataclasses.replace(
        evidence,
        noise=dataclasses.replace(
            noise,
            rho_se=np.zeros_like(noise.rho_se),
            unit_prior_df=np.broadcast_to(noise.prior_df[:, None], noise.df.shape).copy(),
        ),
    )
    print(
        f"{len(panel.kpis)} KPIs × {len(panel.municipalities)} municipalities; "
        f"ρ standard error median {np.median(noise.rho_se):.3f}"
    )
    flags = {}
    variants = (
        ("before (ρ known, d0 per KPI)", before),
        ("now", evidence),
    )
    for name, ev in variants:
        m = learning_matrix(ev, peers)
        flags[name] = (m.behind, m.ahead, m.tested)
        print(
            f"{name}: {int(m.behind.sum())} behind, {int(m.ahead.sum())} ahead "
            f"of {int(m.tested.sum())} tested pairs"
        )
    b0, a0, _ = flags[variants[0][0]]
    for name, _ in variants[1:]:
        b1, a1, _ = flags[name]
        lost = int(((b0 | a0) & ~(b1 | a1)).sum())
        gained = int(((b1 | a1) & ~(b0 | a0)).sum())
        print(f"{name} against before: flags lost {lost}, gained {gained}")
    print(
        f"ρ standard error quartiles {np.round(np.quantile(noise.rho_se, [0.25, 0.5, 0.75]), 3)}; "
        f"{time.perf_counter() - start:.1f} s"
    )


if __name__ == "__main__":
    main()
