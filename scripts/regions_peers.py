"""Structural peers of the 21 regions (issue 15) on the real Kolada values, with and without
the Ledoit–Wolf shrinkage of the correlation matrix, and what the same shrinkage would do to
the 290 municipalities' peers. Reads ../shared/data at run time; writes nothing.

    .venv/bin/python scripts/regions_peers.py
    .venv/bin/python scripts/regions_peers.py 0013 0009     # the regions to list (default)
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import duckdb
import numpy as np

from tillit.analyses import STRUCTURAL_KPIS, Panel, Structure, build_structure

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TILLIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
PANEL = SHARED / "kolada_panel" / "kolada_values_1994_2022.parquet"
REGIONS = "municipality_id BETWEEN '0001' AND '0025'"
MUNICIPALITIES = "municipality_id >= '0114' AND length(municipality_id) = 4"
NAMES = {
    "0001": "Stockholm", "0003": "Uppsala", "0004": "Södermanland", "0005": "Östergötland",
    "0006": "Jönköping", "0007": "Kronoberg", "0008": "Kalmar", "0009": "Gotland",
    "0010": "Blekinge", "0012": "Skåne", "0013": "Halland", "0014": "Västra Götaland",
    "0017": "Värmland", "0018": "Örebro", "0019": "Västmanland", "0020": "Dalarna",
    "0021": "Gävleborg", "0022": "Västernorrland", "0023": "Jämtland", "0024": "Västerbotten",
    "0025": "Norrbotten",
}  # fmt: skip


def structural_panel(where: str) -> Panel:
    kpis = ", ".join(f"'{k}'" for k in STRUCTURAL_KPIS)
    frame = duckdb.sql(
        f"""
        SELECT kpi, municipality_id AS municipality, CAST(year AS BIGINT) AS period, value
        FROM read_parquet('{PANEL}')
        WHERE gender = 'T' AND year BETWEEN 2015 AND 2022 AND value IS NOT NULL
          AND kpi IN ({kpis}) AND {where}
        """
    ).to_arrow_table()
    return Panel.from_frame(frame)


def changed(a: Structure, b: Structure, k: int) -> tuple[int, int]:
    """Units whose k nearest differ between ``a`` and ``b``, and the members replaced."""
    na, nb = a.neighbour_indices(k), b.neighbour_indices(k)
    sets = sum(set(x) != set(y) for x, y in zip(na, nb, strict=True))
    members = sum(len(set(x) - set(y)) for x, y in zip(na, nb, strict=True))
    return sets, members


def main() -> None:
    wanted = sys.argv[1:] or ["0013", "0009"]
    for label, where in (("290 municipalities", MUNICIPALITIES), ("21 regions", REGIONS)):
        panel = structural_panel(where)
        plain = build_structure(panel, drop_missing=True, shrink=False)
        shrunk = build_structure(panel, drop_missing=True, shrink=True)
        default = build_structure(panel, drop_missing=True)
        print(
            f"{label}: {len(plain.municipalities)} units, {len(plain.variables)} variables "
            f"(left out: {', '.join(v.key for v in plain.dropped) or 'none'}); "
            f"Ledoit–Wolf intensity {shrunk.shrinkage:.3f}; shrunk by default: "
            f"{'yes' if default.shrinkage > 0 else 'no'}"
        )
        for k in (5, 7):
            sets, members = changed(plain, shrunk, k)
            print(f"  k = {k}: shrinking changes {sets} of the sets, {members} members replaced")
    regions = structural_panel(REGIONS)
    keys = None
    for shrink in (False, True):
        structure = build_structure(regions, drop_missing=True, shrink=shrink)
        keys = [v.key for v in structure.variables]
        name = "Ledoit–Wolf" if shrink else "sample correlations"
        for region in wanted:
            for k in (5, 7):
                peers = structure.peers(region, k).peers
                listed = ", ".join(f"{NAMES[p.municipality]} ({p.distance:.2f})" for p in peers)
                print(f"{NAMES[region]}, k = {k}, {name}: {listed}")
    structure = build_structure(regions, drop_missing=True)
    print("raw values: " + " | ".join(keys or []))
    for i in np.argsort(structure.raw[:, 0]):
        row = "  ".join(f"{x:,.1f}" for x in structure.raw[i])
        print(f"  {NAMES[structure.municipalities[i]]:<16} {row}")


if __name__ == "__main__":
    main()
