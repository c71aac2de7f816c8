"""Load on the goal pages: `tillit serve` over loopback on the full store (the 7.4 M-row
panel with the v3 metadata), 20 concurrent clients over a goal's page (``/mal/{nr}``), its
JSON twin, Kungsbacka's goals page (``/kommun/1384/mal``) and a goal's chart as SVG.

The store: ``--home`` (a TILLIT_HOME whose store has the metadata and the panel imported,
e.g. /tmp/goals_home), or by default the one bench_web.py keeps in bench/results/web-home
(imported on first use). Only the store is read: the bank is a fresh SQLite file in a
temporary folder with the municipalities and regions (as ``tillit bank seed``) and
Kungsbacka's three goals of docs/cli.md, set through ``tillit.query.add_goal`` (baselines
and checks from the store), one of them with an interim target.

Starts `tillit serve`, waits until it is idle, runs ``--alone`` requests of each kind by one
client, then the mix (``MIX``) with ``--clients`` clients until ``--requests`` are done or
``--seconds`` have passed, and the floor (a static file, same clients and count). Prints
count, errors, p50/p95/p99 and requests/s per kind and the targets: goal page p95 < 150 ms,
zero errors (the script exits 1 on any error).

    ../.venv/bin/python bench_goal_page.py [--home PATH] [--clients 20]
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
from bench_region_page import page_report
from bench_web import (
    FLOOR_PATH,
    HOME_FILES,
    TILLIT,
    Run,
    Server,
    measure,
    wait_ready,
    warm_up,
)

# {goal}: one of Kungsbacka's goals.
PATHS = {
    "goal": "/mal/{goal}",
    "goal_json": "/mal/{goal}.json",
    "unit_goals": "/kommun/1384/mal",
    "goal_svg": "/mal/{goal}/indikator-1.svg",
}
MIX = {"goal": 60, "goal_json": 15, "unit_goals": 15, "goal_svg": 10}
TARGET_GOAL_P95_MS = 150.0

KUNGSBACKA = "1384"
#: Kungsbacka's goals as in docs/cli.md: (title, political level, indicator).
GOALS: list[tuple[str, str, dict[str, Any]]] = [
    (
        "Fler elever klarar alla ämnen i årskurs 9",
        "barn- och förskolenämnden",
        {"kpi": "N15419", "target_value": 84, "target_year": 2026, "direction": "increase"},
    ),
    (
        "Fler gymnasieelever tar examen inom tre år",
        "kommunfullmäktige",
        {"kpi": "N17445", "target_value": 86, "target_year": 2026, "direction": "increase"},
    ),
    (
        "Färre unga utanför arbete och studier",
        "kommunfullmäktige",
        {
            "kpi": "N02797",
            "target_value": 1.7,
            "target_year": 2030,
            "direction": "decrease",
            "interim": [[2026, 2.6]],
        },
    ),
]


def set_up_bank(url: str, home: Path) -> list[int]:
    """Seed the bank at ``url`` (migrated) with the store's municipalities and regions, a
    Kungsbacka editor and GOALS; returns the goals' ids."""
    from tillit.bank import open_bank
    from tillit.query import add_goal
    from tillit.store import Store

    store = Store(home / "store")
    kinds = {"K": "kommun", "L": "region"}
    rows = [
        (r["id"], r["title"], kinds[r["type"]])
        for r in store.municipalities()
        if r.get("type") in kinds and r["id"] != "0000"
    ]
    bank = open_bank(url)
    try:
        bank.seed_organisations(rows)
        admin = bank.add_user("admin@bench.se", "bench-lösenord-1", "Admin", "admin")
        editor = bank.add_user(
            "red@kungsbacka.se", "bench-lösenord-1", "Red", "editor", KUNGSBACKA, actor=admin
        )
        ids = []
        for title, level, indicator in GOALS:
            goal, _ = add_goal(
                store,
                bank,
                editor,
                {
                    "organisation": KUNGSBACKA,
                    "title": title,
                    "political_level": level,
                    "indicators": [indicator],
                },
            )
            ids.append(goal.id)
        return ids
    finally:
        bank.close()


def plan(kinds: dict[str, int], n: int, seed: int, goals: list[int]) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    return [
        (kind, PATHS[kind].format(goal=rng.choice(goals)))
        for kind in rng.choices(list(kinds), list(kinds.values()), k=n)
    ]


def report(mix: Run, floor_run: Run, alone: dict[str, Run]) -> dict[str, Any]:
    return page_report(
        mix,
        floor_run,
        alone,
        kinds=MIX,
        paths=PATHS,
        page="goal",
        what="goal page",
        target_ms=TARGET_GOAL_P95_MS,
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
    with tempfile.TemporaryDirectory(prefix="bench-goal-") as tmp:
        database_url = f"sqlite:///{Path(tmp) / 'bank.sqlite'}"
        env = {**os.environ, "TILLIT_HOME": str(home), "TILLIT_DATABASE_URL": database_url}
        subprocess.run([str(TILLIT), "db", "upgrade"], env=env, check=True, capture_output=True)
        goals = set_up_bank(database_url, home)
        line("store / goals", f"{home} / {KUNGSBACKA}: {', '.join(str(g) for g in goals)}")
        requests = plan(MIX, args.requests, args.seed, goals)
        first = {k: p for k, p in reversed(requests)}
        warm = [(k, first[k]) for k in MIX if k in first] + [("floor", FLOOR_PATH)]
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
                    else plan({k: 1}, args.alone, args.seed + 1, goals)
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
