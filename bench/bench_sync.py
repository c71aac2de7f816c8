"""Sync throughput over loopback, against the usual pandas way of reading Kolada pages.

A fake Kolada v3 server (tests/kolada_fake/) runs in its own process and serves the real
panel values of the N KPIs with the most values, for every municipality, 1994–2022. Then:

* tillit: `sync_values` into an empty store, end to end (fetch, validate, stage, merge,
  provenance), throttle off, 5000 rows per page — values/s.
* baseline: the way existing Kolada clients read the same pages: httpx GET each page
  (following next_url), `pandas.json_normalize(values, record_path="values", meta=[...])`,
  `pandas.concat` — values/s, and the same parse alone on pre-fetched bodies.

Both read every page from the server's warm page cache (a first pass fills it).

    python bench/bench_sync.py [--kpis 50] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import httpx
import pandas as pd

from _common import PANEL, ROOT, line
from tillit.sources.kolada import KoladaClient
from tillit.store import Store
from tillit.sync import sync_values

YEARS = list(range(1994, 2023))
TARGET_VALUES_PER_S = 300_000
TARGET_RATIO = 5.0


def top_kpis(n: int) -> list[str]:
    con = duckdb.connect()
    rows = con.execute(
        f"SELECT kpi FROM read_parquet('{PANEL}') WHERE municipality_id <> '0000' "
        f"GROUP BY kpi ORDER BY count(*) DESC, kpi LIMIT {n}"
    ).fetchall()
    return [r[0] for r in rows]


def start_server(kpis: list[str]) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.kolada_fake", "--kpis", ",".join(kpis)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().strip()
    if not url.startswith("http"):
        proc.kill()
        raise SystemExit("the fake Kolada server did not start")
    return proc, url


def page_bodies(client: httpx.Client, urls: list[str]) -> list[bytes]:
    bodies = []
    for url in urls:
        next_url: str | None = url
        while next_url:
            body = client.get(next_url).raise_for_status().content
            bodies.append(body)
            next_url = json.loads(body).get("next_url") or None
    return bodies


def pandas_parse(bodies: list[bytes]) -> pd.DataFrame:
    frames = [
        pd.json_normalize(
            json.loads(b)["values"], record_path="values", meta=["kpi", "municipality", "period"]
        )
        for b in bodies
    ]
    return pd.concat(frames, ignore_index=True)


def pandas_sync(urls: list[str]) -> int:
    with httpx.Client(timeout=60) as client:
        frames = []
        for url in urls:
            next_url: str | None = url
            while next_url:
                payload = client.get(next_url).raise_for_status().json()
                frames.append(
                    pd.json_normalize(
                        payload["values"],
                        record_path="values",
                        meta=["kpi", "municipality", "period"],
                    )
                )
                next_url = payload.get("next_url") or None
    return len(pd.concat(frames, ignore_index=True))


def median(xs: list[float]) -> float:
    return sorted(xs)[len(xs) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--kpis", type=int, default=50)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    kpis = top_kpis(args.kpis)
    proc, url = start_server(kpis)
    try:
        with KoladaClient(url, rate=0) as c:
            urls = c.data_urls(kpis=kpis, years=YEARS)
        with httpx.Client(timeout=60) as h:
            page_bodies(h, urls)  # the first passes fill the server's page cache
            bodies = page_bodies(h, urls)
        values = sum(len(v["values"]) for b in bodies for v in json.loads(b)["values"])

        tillit_times = []
        for _ in range(args.runs):
            home = Path(tempfile.mkdtemp(prefix="tillit-bench-sync-"))
            try:
                with KoladaClient(url, rate=0) as c:
                    start = time.perf_counter()
                    result = sync_values(Store(home / "store"), c, kpis=kpis, years=YEARS)
                    tillit_times.append(time.perf_counter() - start)
                assert result.values_fetched == values, (result.values_fetched, values)
                assert result.merge is not None and result.merge.total == values
            finally:
                shutil.rmtree(home, ignore_errors=True)

        pandas_times, parse_times = [], []
        for _ in range(args.runs):
            start = time.perf_counter()
            assert pandas_sync(urls) == values
            pandas_times.append(time.perf_counter() - start)
            start = time.perf_counter()
            assert len(pandas_parse(bodies)) == values
            parse_times.append(time.perf_counter() - start)
    finally:
        proc.terminate()
        proc.wait()

    t, p, q = median(tillit_times), median(pandas_times), median(parse_times)
    line(
        "values served (KPIs x municipalities x years x genders)",
        f"{values:,} in {len(bodies)} pages ({len(kpis)} KPIs, {len(urls)} requests)",
    )
    line(
        "tillit sync end to end, into an empty store (median)",
        f"{t:.2f} s = {values / t:,.0f} values/s",
    )
    line(
        "baseline: httpx + pandas.json_normalize + concat (median)",
        f"{p:.2f} s = {values / p:,.0f} values/s",
    )
    line(
        "baseline parse only: json + json_normalize, bodies in memory",
        f"{q:.2f} s = {values / q:,.0f} values/s",
    )
    line("ratio tillit / baseline (fetch + parse)", f"{p / t:.1f}x")
    line("ratio tillit / baseline parse only", f"{q / t:.1f}x")
    line(
        f"target: at least {TARGET_VALUES_PER_S:,} values/s",
        "met" if values / t >= TARGET_VALUES_PER_S else "NOT met",
    )
    line(
        f"target: at least {TARGET_RATIO:.0f}x the pandas baseline",
        "met" if p / t >= TARGET_RATIO else "NOT met",
    )


if __name__ == "__main__":
    main()
