"""Shared bits of the benchmark scripts: where the data is, timing, printing."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

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


RESULTS = ROOT / "bench" / "results"  # git-ignored; stores kept between runs


def cached_home(name: str, paths: list[Path]) -> Path:
    """A TILLIT_HOME under bench/results/ with ``paths`` imported (in order), built once
    and kept; rebuilt when the list of files, their sizes or times change."""
    import json
    import shutil

    home = RESULTS / name
    stamp = home / "bench-stamp.json"
    wanted = [[str(p), p.stat().st_size, int(p.stat().st_mtime)] for p in paths]
    if stamp.exists() and json.loads(stamp.read_text()) == wanted:
        return home
    from tillit.store import Store
    from tillit.sync import import_path

    shutil.rmtree(home, ignore_errors=True)
    store = Store(home / "store")
    for path in paths:
        start = time.perf_counter()
        import_path(store, path)
        line(f"set-up: imported {path.name}", f"{time.perf_counter() - start:.1f} s")
    stamp.write_text(json.dumps(wanted))
    return home


def full_store() -> tuple[Path, Any]:
    """The whole shared panel (7.4 M values) with the v3 metadata, as a store under
    bench/results/learn-home (built once and kept), TILLIT_HOME pointing at it: (home, Store)."""
    home = cached_home(
        "learn-home",
        [
            METADATA / "kpi_v3_2026-03.values.json",
            METADATA / "municipality_v3_2026-03.values.json",
            METADATA / "municipality_groups_v3_2026-03.values.json",
            PANEL,
        ],
    )
    os.environ["TILLIT_HOME"] = str(home)
    from tillit.config import load_settings
    from tillit.store import Store

    settings = load_settings()
    return home, Store(settings.store_dir, memory_limit=settings.memory_limit)
