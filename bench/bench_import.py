"""Import of the 7.4 M-row Kolada panel: seconds and peak memory, against the floor.

The floor is a bare DuckDB read of the same Parquet file into memory (every column, every row):
no import can be faster than reading its input once. Each import runs in a fresh process
(`python -m tillit import` into an empty TILLIT_HOME) so peak RSS is that of the import alone.

    python bench/bench_import.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time

from _common import PANEL, best_of, line

TARGET_SECONDS = 15.0
TARGET_RSS_MB = 2048


def import_once(home: str) -> tuple[float, float]:
    shutil.rmtree(home, ignore_errors=True)
    env = {**os.environ, "TILLIT_HOME": home}
    script = (
        "import resource, sys, time\n"
        "from pathlib import Path\n"
        "from tillit.config import load_settings\n"
        "from tillit.store import Store\n"
        "from tillit.sync import import_path\n"
        "s = load_settings(); store = Store(s.store_dir, memory_limit=s.memory_limit)\n"
        "t = time.perf_counter(); r = import_path(store, Path(sys.argv[1]))\n"
        "assert r.rows_kept == 7387543, r.rows_kept\n"
        "print(time.perf_counter() - t)\n"
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    out = subprocess.run(
        [sys.executable, "-c", script, str(PANEL)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return float(out.strip()), max(rss_kb, before) / 1024


def floor_once() -> float:
    import duckdb

    con = duckdb.connect()
    start = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_parquet('{PANEL}')")
    seconds = time.perf_counter() - start
    con.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    rows = 7_387_543
    floor, _ = best_of(args.runs, floor_once)
    home = tempfile.mkdtemp(prefix="tillit-bench-import-")
    timings, peaks = [], []
    try:
        for _ in range(args.runs):
            seconds, rss = import_once(home)
            timings.append(seconds)
            peaks.append(rss)
    finally:
        shutil.rmtree(home, ignore_errors=True)
    timings.sort()
    median = timings[len(timings) // 2]
    line("rows", f"{rows:,}")
    line("floor: bare DuckDB read of the Parquet file (median)", f"{floor:.2f} s")
    line(
        "tillit import into an empty store (median of runs)",
        f"{median:.2f} s (runs: {', '.join(f'{t:.2f}' for t in timings)})",
    )
    line("import throughput", f"{rows / median:,.0f} rows/s")
    line("ratio import / floor", f"{median / floor:.1f}x")
    line("peak RSS of the import process (max over runs)", f"{max(peaks):,.0f} MB")
    line(f"target: under {TARGET_SECONDS:.0f} s", "met" if median < TARGET_SECONDS else "NOT met")
    line(
        f"target: peak memory under {TARGET_RSS_MB} MB",
        "met" if max(peaks) < TARGET_RSS_MB else "NOT met",
    )


if __name__ == "__main__":
    main()
