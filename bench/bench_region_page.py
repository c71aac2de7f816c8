"""Load on a region's pages: `tillit serve` over loopback on the full store (the 7.4 M-row
panel with the v3 metadata), 20 concurrent clients over region pages (``/region/{kod}``),
their JSON twins, their peer pages and KPI pages with a region chosen.

The store: ``--home`` (a TILLIT_HOME whose store has the metadata and the panel imported,
e.g. one made with ``TILLIT_HOME=/tmp/demo_web tillit import
../shared/data/kolada_api_metadata/*_v3_*.json
../shared/data/kolada_panel/kolada_values_1994_2022.parquet``), or by default the one
bench_web.py keeps in bench/results/web-home (imported on first use). Only read: the bank
is a fresh SQLite file in a temporary folder (no examples: a region's page asks the bank
for its partners' examples all the same).

Starts `tillit serve` (which loads the municipalities' and the regions' analyses and
renders every page in advance), waits until it is idle, runs ``--alone`` requests of each
kind by one client, then the mix (``MIX``) with ``--clients`` clients until ``--requests``
are done or ``--seconds`` have passed, and the floor (a static file, same clients and
count). Prints count, errors, p50/p95/p99 and requests/s per kind and the targets: region
page p95 < 150 ms, zero errors (the script exits 1 on any error).

    ../.venv/bin/python bench_region_page.py [--home PATH] [--clients 20]
        [--requests 3000] [--seconds 300] [--workers 2] [--json PATH] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from _common import cached_home, line
from bench_web import (
    FLOOR_PATH,
    HOME_FILES,
    TILLIT,
    Run,
    Server,
    figures,
    measure,
    row,
    target,
    wait_ready,
    warm_up,
)

# {reg}: one of the 21 regions; {id}: one of the regions' key KPIs.
PATHS = {
    "region": "/region/{reg}",
    "region_json": "/region/{reg}.json",
    "region_peers": "/region/{reg}/lika",
    "region_kpi": "/nyckeltal/{id}?region={reg}",
}
MIX = {"region": 50, "region_json": 20, "region_peers": 10, "region_kpi": 20}
TARGET_REGION_P95_MS = 150.0


def regions_and_kpis(home: Path) -> tuple[list[str], list[str]]:
    """The 21 regions' codes and the regions' key KPIs the store has values of."""
    from tillit.query import key_kpis, units
    from tillit.store import Store

    store = Store(home / "store")
    kpis = list(key_kpis(store, "L"))
    frame = store.query_values(kpis, municipalities=["0013"], genders=["T"])
    with_values = set(frame.column("kpi").to_pylist())
    return list(units(store, "L")), [k for k in kpis if k in with_values]


def plan(
    kinds: dict[str, int], n: int, seed: int, regions: list[str], kpis: list[str]
) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    out = []
    for kind in rng.choices(list(kinds), list(kinds.values()), k=n):
        out.append((kind, PATHS[kind].format(reg=rng.choice(regions), id=rng.choice(kpis))))
    return out


def page_report(
    mix: Run,
    floor_run: Run,
    alone: dict[str, Run],
    *,
    kinds: dict[str, int],
    paths: dict[str, str],
    page: str,
    what: str,
    target_ms: float,
) -> dict[str, Any]:
    """The table per kind of request (of ``kinds``, addresses ``paths``), CPU per request,
    and the targets: ``page``'s p95 under ``target_ms`` (named ``what``), zero errors. Shared
    with bench_goal_page.py."""
    floor = figures(floor_run.samples, floor_run.wall)
    by_kind = {
        k: figures([s for s in mix.samples if s.kind == k], mix.wall)
        for k in kinds
        if any(s.kind == k for s in mix.samples)
    }
    base = None if floor["errors"] or not floor["count"] else floor
    print()
    print(
        f"{'kind':<20} {'count':>6} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'req/s':>7} {'p50/floor':>10} {'p95/floor':>9} {'alone p50':>9} {'CPU ms':>8}"
    )
    for k, f in by_kind.items():
        print(row(k, f, base, alone.get(k)))
    print(row("all", figures(mix.samples, mix.wall), base, None))
    print(row("floor", floor, None, alone.get("floor")))
    print("  " + "; ".join(f"{k} {paths[k]}" for k in by_kind) + f"; floor {FLOOR_PATH}")
    print()
    server_ms, own_ms = mix.cpu_ms()
    line("CPU per request, mix: server / load generator", f"{server_ms:.2f} / {own_ms:.2f} ms")
    measured = by_kind.get(page)
    targets = [
        target(
            f"target: {what} p95 < {target_ms:.0f} ms",
            measured["p95_ms"] if measured else None,
            target_ms,
        )
    ]
    errors = [s for s in mix.samples + floor_run.samples if s.error]
    line("target: zero errors", f"{'met' if not errors else 'NOT met'}: {len(errors)} errors")
    targets.append({"target": "zero errors", "measured": len(errors), "met": not errors})
    for s in errors[:5]:
        print(f"  {s.url}: {s.error}")
    return {
        "seconds": mix.wall,
        "kinds": by_kind,
        "floor": floor,
        "cpu_ms_per_request": {"server": server_ms, "load_generator": own_ms},
        "targets": targets,
    }


def report(mix: Run, floor_run: Run, alone: dict[str, Run]) -> dict[str, Any]:
    return page_report(
        mix,
        floor_run,
        alone,
        kinds=MIX,
        paths=PATHS,
        page="region",
        what="region page",
        target_ms=TARGET_REGION_P95_MS,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--home", type=Path, help="a TILLIT_HOME with the full store")
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=3000, help="total, over the mix")
    parser.add_argument("--seconds", type=float, default=300.0, help="at most, per run")
    parser.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    parser.add_argument("--alone", type=int, default=20, help="requests of each kind first")
    parser.add_argument("--warmup-timeout", type=float, default=300.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args()

    load_before = os.getloadavg()
    line(
        "machine",
        f"{os.cpu_count()} cores; load average " + " ".join(f"{x:.2f}" for x in load_before),
    )
    home = args.home or cached_home("web-home", HOME_FILES)
    regions, kpis = regions_and_kpis(home)
    line("store / regions / region key KPIs", f"{home} / {len(regions)} / {len(kpis)}")
    requests = plan(MIX, args.requests, args.seed, regions, kpis)
    first = {k: p for k, p in reversed(requests)}
    warm = [(k, first[k]) for k in MIX if k in first] + [("floor", FLOOR_PATH)]
    with tempfile.TemporaryDirectory(prefix="bench-region-") as tmp:
        env = {
            **os.environ,
            "TILLIT_HOME": str(home),
            "TILLIT_DATABASE_URL": f"sqlite:///{Path(tmp) / 'bank.sqlite'}",
        }
        subprocess.run([str(TILLIT), "db", "upgrade"], env=env, check=True, capture_output=True)
        server = Server(env, Path(tmp) / "serve.log", args.workers)
        try:
            line("tillit serve", f"{server.base} ({args.workers} worker(s))")
            line("  answered after", f"{asyncio.run(wait_ready(server, 60)):.1f} s")
            asyncio.run(warm_up(server.port, warm, args.warmup_timeout))
            line("  server idle after another", f"{server.wait_idle(args.warmup_timeout):.0f} s")
            alone: dict[str, Run] = {}
            for k in [*MIX, "floor"]:
                some = (
                    [("floor", FLOOR_PATH)] * args.alone
                    if k == "floor"
                    else plan({k: 1}, args.alone, args.seed + 1, regions, kpis)
                )
                alone[k] = measure(server, some, 1, args.seconds)
            line(f"mix: {args.clients} clients, {len(requests):,} requests", str(MIX))
            mix = measure(server, requests, args.clients, args.seconds)
            line("  done", f"{len(mix.samples):,} requests in {mix.wall:.1f} s")
            floor = measure(server, [("floor", FLOOR_PATH)] * len(mix.samples), args.clients, 60)
        except BaseException:
            print(server.tail(), file=sys.stderr)
            raise
        finally:
            server.stop()
    result = report(mix, floor, alone)
    load_after = os.getloadavg()
    line("load average after", " ".join(f"{x:.2f}" for x in load_after))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))
    if any(t["met"] is False and t["target"] == "zero errors" for t in result["targets"]):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
