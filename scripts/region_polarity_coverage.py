"""How Tillit decides polarity for region KPIs: counts by source and polarity.

A region KPI here is one with a total (gender T) value for at least 20 of the 21 regions
(Kolada ids 0001..0025; 0000, the whole country, is not a region) in 2022 in the shared panel.
Titles come from the current v3 metadata, or from the panel's kpi_metadata.csv for the few KPIs
v3 no longer lists. ``--v3-type L`` counts every v3 KPI of that municipality_type instead (most
region healthcare KPIs have no values in the 1994-2022 panel). Reads ../shared/data at run time
(or TILLIT_SHARED_DATA); writes nothing.

    .venv/bin/python scripts/region_polarity_coverage.py              # counts
    .venv/bin/python scripts/region_polarity_coverage.py --list       # plus one line per KPI
    .venv/bin/python scripts/region_polarity_coverage.py --unknown    # plus the unknown KPIs
    .venv/bin/python scripts/region_polarity_coverage.py --v3-type L  # all v3 region-only KPIs
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from collections import Counter
from pathlib import Path

import duckdb

from tillit.analyses._polarity import resolve_polarity

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TILLIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
PANEL = SHARED / "kolada_panel" / "kolada_values_1994_2022.parquet"
KPI_METADATA = SHARED / "kolada_api_metadata" / "kpi_v3_2026-03.values.json"
PANEL_METADATA = SHARED / "kolada_panel" / "kpi_metadata.csv"
YEAR = 2022
MIN_REGIONS = 20


def region_kpis(panel: Path = PANEL, year: int = YEAR, min_regions: int = MIN_REGIONS) -> list[str]:
    """KPI ids with a gender-T value for at least ``min_regions`` regions (0001..0025) in
    ``year``, sorted."""
    rows = duckdb.execute(
        f"""
        SELECT kpi FROM read_parquet('{panel}')
        WHERE year = ? AND gender = 'T' AND value IS NOT NULL
          AND municipality_id BETWEEN '0001' AND '0025'
        GROUP BY kpi HAVING count(DISTINCT municipality_id) >= ?
        ORDER BY kpi
        """,
        [year, min_regions],
    ).fetchall()
    return [kpi for (kpi,) in rows]


def kpi_titles() -> tuple[dict[str, dict[str, str]], dict[str, str]]:
    """The v3 metadata by KPI id, and titles by KPI id: v3's, else the panel metadata's."""
    metadata = {k["id"]: k for k in json.loads(KPI_METADATA.read_text(encoding="utf-8"))}
    with PANEL_METADATA.open(encoding="utf-8", newline="") as f:
        titles = {row["kpi"]: row["title"] for row in csv.DictReader(f)}
    titles.update({kpi: k["title"] for kpi, k in metadata.items()})
    return metadata, titles


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--list", action="store_true", help="print every KPI's decision")
    parser.add_argument("--unknown", action="store_true", help="print the KPIs left unknown")
    parser.add_argument("--v3-type", choices=("K", "L", "A"), help="all v3 KPIs of this type")
    args = parser.parse_args()

    metadata, titles = kpi_titles()
    if args.v3_type:
        kpis = sorted(k for k, m in metadata.items() if m["municipality_type"] == args.v3_type)
        print(f"{len(kpis)} KPIs of municipality_type {args.v3_type} in the v3 metadata")
    else:
        kpis = region_kpis()
        print(
            f"{len(kpis)} KPIs with a {YEAR} value (gender T) for >= {MIN_REGIONS} regions "
            f"({sum(kpi not in metadata for kpi in kpis)} titled from the panel, not v3)"
        )
    decisions = [resolve_polarity(kpi, titles.get(kpi)) for kpi in kpis]

    by_source = Counter(d.source for d in decisions)
    by_pair = Counter((d.source, d.polarity.value) for d in decisions)
    for source in ("table", "rule", "default"):
        parts = ", ".join(
            f"{polarity} {by_pair[source, polarity]}"
            for polarity in ("higher", "lower", "neither", "unknown")
            if by_pair[source, polarity]
        )
        print(f"  {source:8} {by_source[source]:4}  ({parts})")
    by_polarity = Counter(d.polarity.value for d in decisions)
    print(
        "  by polarity: "
        + ", ".join(f"{p} {by_polarity[p]}" for p in ("higher", "lower", "neither", "unknown"))
    )
    types = Counter(metadata.get(kpi, {}).get("municipality_type", "?") for kpi in kpis)
    print("  municipality_type: " + ", ".join(f"{t} {n}" for t, n in sorted(types.items())))

    if args.list or args.unknown:
        for decision in decisions:
            if args.unknown and not args.list and decision.source != "default":
                continue
            title = titles.get(decision.kpi, "?")
            print(f"{decision.kpi}\t{decision.source}\t{decision.polarity.value}\t{title}")


if __name__ == "__main__":
    main()
