"""Shared bits of the benchmark scripts: where the data is, timing, printing."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("TILLIT_SHARED_DATA", ROOT.parent / "shared" / "data"))
PANEL = SHARED / "kolada_panel" / "kolada_values_1994_2022.parquet"
METADATA = SHARED / "kolada_api_metadata"
sys.path.insert(0, str(ROOT))  # so bench scripts can use tests/kolada_fake/


def best_of(runs: int, fn: Callable[[], object]) -> tuple[float, list[float]]:
    """Run ``fn`` ``runs`` times; return the median seconds and all timings."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), times


def line(label: str, value: str) -> None:
    print(f"{label:<58} {value}", flush=True)
