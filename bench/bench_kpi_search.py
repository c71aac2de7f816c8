"""`tillit kpi search` over the full ~6,100-KPI Kolada v3 catalogue.

Prints the latency of the search call (warm: catalogue loaded, as in a server or a second
query) and of a whole cold `tillit kpi search` process (Python start-up, imports, loading the
catalogue, searching, printing), over a fixed set of Swedish queries.

    python bench/bench_kpi_search.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import METADATA, line
from tillit.store import Store
from tillit.sync import import_path

QUERIES = [
    "äldreomsorgen",
    "hemtjänsten",
    "väntetid särskilt boende",
    "kostnad grundskola",
    "elever behörighet gymnasiet",
    "invånare",
    "ekonomiskt bistånd",
    "brukarbedömning",
    "förskola barn per årsarbetare",
    "skattesats",
    "sjukfrånvaro",
    "vantetid",
    "nöjd medborgar-index",
    "LSS",
    "N00945",
    "räddningstjänst utryckningstid",
]
TARGET_MS = 200.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    home = Path(tempfile.mkdtemp(prefix="tillit-bench-search-"))
    store = Store(home / "store")
    import_path(store, METADATA / "kpi_v3_2026-03.values.json")
    count = len(Store(home / "store").kpis())
    # Warm: the first query loads the catalogue; the rest are what a server sees.
    fresh = Store(home / "store")
    start = time.perf_counter()
    fresh.search_kpis(QUERIES[0])
    first_ms = (time.perf_counter() - start) * 1000
    warm = []
    for _ in range(5):
        for q in QUERIES:
            t = time.perf_counter()
            hits = fresh.search_kpis(q, limit=20)
            warm.append((time.perf_counter() - t) * 1000)
            assert hits, q
    cold = []
    env = {**os.environ, "TILLIT_HOME": str(home)}
    for q in QUERIES[:8]:
        t = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "tillit", "kpi", "search", q, "--format", "json"],
            env=env,
            check=True,
            capture_output=True,
        )
        cold.append((time.perf_counter() - t) * 1000)
    line("KPIs in the catalogue", f"{count:,}")
    line("first search in a process (loads the catalogue)", f"{first_ms:.1f} ms")
    line(
        f"warm search, {len(warm)} queries: p50 / p95 / max",
        f"{statistics.median(warm):.1f} / {percentile(warm, 0.95):.1f} / {max(warm):.1f} ms",
    )
    line(
        f"cold `tillit kpi search` process, {len(cold)} queries: p50 / max",
        f"{statistics.median(cold):.0f} / {max(cold):.0f} ms",
    )
    line(
        f"target: search answers in under {TARGET_MS:.0f} ms",
        "met (first and warm searches)" if max(first_ms, max(warm)) < TARGET_MS else "NOT met",
    )


if __name__ == "__main__":
    main()
