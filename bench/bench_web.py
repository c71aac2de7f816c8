"""Load on `tillit serve` over loopback: the 7.4 M-row panel and the ~11,000-text bank loaded,
20 concurrent clients over a weighted mix of pages, searches and JSON twins.

Set-up (kept in bench/results/web-home between runs): a TILLIT_HOME with the v3 KPI,
municipality and group metadata and the panel imported, and an SQLite bank there (`tillit db
upgrade`, `tillit bank seed`, `tillit bank import-jsonl` of the three files of
../shared/data/good_practices_text); or, with ``--database-url``, that database as the bank
(loaded the same way when it has no examples yet).

Starts `tillit serve` on a free port of 127.0.0.1, warms it up (one request of each kind,
then until its CPU is idle: it loads the analyses and every municipality's overview in a
background thread), then runs the mix (``MIX`` below; ``--only`` picks kinds) with
``--clients`` concurrent clients (asyncio, one keep-alive connection each) until
``--requests`` are done or ``--seconds`` have passed, and the floor: the same clients and the
same number of requests for a static file of the same server (``/static/tillit.css``). Prints
count, errors, p50/p95/p99 and requests/s per kind and overall, each kind's p50 and p95 as a
multiple of the floor's, the CPU the server and the load generator used per request, and the
targets: municipality page p95 < 150 ms, example search p95 < 50 ms (``/exempel?q=`` and
``/sok.json?q=`` together), zero errors. An error is a status outside 2xx/3xx or a transport
error; the script exits 1 if there was any.

The server and the load generator share the machine's cores (2 on the development machine):
what the load generator spends is not available to the server, and the floor shows how much
of a latency is the generator and the HTTP stack rather than Tillit.

    ../.venv/bin/python bench_web.py [--clients 20] [--requests 4000] [--seconds 300]
        [--only municipality,search] [--database-url URL] [--json PATH] [--seed 1]
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import random
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote_plus

from _common import METADATA, PANEL, SHARED, cached_home, line
from bench_bank_search import QUERIES

# The request kinds and their weights in the mix (relative). A kind with weight 0 runs only
# when named in --only. {kod}: one of the 290 municipalities; {id}: one of the KPI_COUNT KPIs
# with most values in "Läget i kommunen"; {q}: one of bench_bank_search's queries.
PATHS = {
    "municipality": "/kommun/{kod}",
    "municipality_json": "/kommun/{kod}.json",
    "peers": "/kommun/{kod}/lika",
    "kpi": "/nyckeltal/{id}?kommun={kod}",
    "examples_search": "/exempel?q={q}",
    "search_json": "/sok.json?q={q}",
    "api_search": "/api/search?q={q}",  # the bank's JSON API
}
MIX: dict[str, int] = {
    "municipality": 30,
    "municipality_json": 10,
    "peers": 10,
    "kpi": 20,
    "examples_search": 15,
    "search_json": 15,
    "api_search": 0,
}
SEARCH_KINDS = ("examples_search", "search_json")
FLOOR_PATH = "/static/tillit.css"
TARGET_MUNICIPALITY_P95_MS = 150.0
TARGET_SEARCH_P95_MS = 50.0
KPI_COUNT = 30
CORPUS = SHARED / "good_practices_text"
SUBSET = SHARED / "kolada_panel" / "kolada_values_laget_i_kommunen_subset.csv"
HOME_FILES = [
    METADATA / "kpi_v3_2026-03.values.json",
    METADATA / "municipality_v3_2026-03.values.json",
    METADATA / "municipality_groups_v3_2026-03.values.json",
    PANEL,
]
TILLIT = Path(sys.executable).with_name("tillit")


@dataclass(frozen=True)
class Sample:
    kind: str
    url: str
    ms: float
    status: int  # 0: no response
    error: str | None
    retried: bool = False  # sent again on a new connection (see Connection._get)


# -- set-up ---------------------------------------------------------------------------------


def tillit(env: dict[str, str], *args: str) -> None:
    start = time.perf_counter()
    done = subprocess.run([str(TILLIT), *args], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"tillit {' '.join(args)} failed:\n{done.stdout}{done.stderr}")
    shown = " ".join(Path(a).name if "/" in a else a for a in args)
    line(f"set-up: tillit {shown}"[:58], f"{time.perf_counter() - start:.1f} s")


def count_examples(url: str) -> int:
    from sqlalchemy import inspect, text

    from tillit.bank import create_bank_engine

    engine = create_bank_engine(url)
    try:
        if not inspect(engine).has_table("examples"):
            return 0
        with engine.connect() as conn:
            return int(conn.execute(text("SELECT count(*) FROM examples")).scalar_one())
    finally:
        engine.dispose()


def set_up(database_url: str | None) -> tuple[Path, dict[str, str]]:
    """The home (store imported) and the environment for `tillit` with the bank loaded."""
    files = sorted(CORPUS.glob("*.jsonl"))
    if len(files) < 3 or not PANEL.exists():
        raise SystemExit(f"the panel or the corpus is not under {SHARED}")
    home = cached_home("web-home", HOME_FILES)
    env = {**os.environ, "TILLIT_HOME": str(home)}
    env.pop("TILLIT_DATABASE_URL", None)
    stamp = home / "bank-stamp.json"
    wanted = [[p.name, p.stat().st_size, int(p.stat().st_mtime)] for p in files]
    if database_url:
        env["TILLIT_DATABASE_URL"] = database_url
    elif not stamp.exists() or json.loads(stamp.read_text()) != wanted:
        (home / "bank.sqlite").unlink(missing_ok=True)
        stamp.unlink(missing_ok=True)
    tillit(env, "db", "upgrade")  # also brings a kept bank to the newest migration
    if not database_url and stamp.exists():
        return home, env
    if database_url and (have := count_examples(database_url)):
        line("set-up: the bank at --database-url", f"{have:,} examples, used as they are")
        return home, env
    tillit(env, "bank", "seed")
    for path in files:
        tillit(env, "bank", "import-jsonl", str(path))
    if not database_url:
        stamp.write_text(json.dumps(wanted))
    return home, env


def municipality_codes(home: Path) -> list[str]:
    from tillit.store import Store

    rows = Store(home / "store").municipalities()
    return sorted(r["id"] for r in rows if r.get("type") == "K" and r["id"] != "0000")


def common_kpis(n: int) -> list[str]:
    """The ``n`` KPIs with most values in the "Läget i kommunen" subset."""
    counts: Counter[str] = Counter()
    with SUBSET.open(encoding="utf-8") as f:
        next(f)
        for row in f:
            counts[row[: row.index(",")]] += 1
    return [kpi for kpi, _ in counts.most_common(n)]


def plan(
    kinds: dict[str, int], n: int, seed: int, codes: list[str], kpis: list[str]
) -> list[tuple[str, str]]:
    """``n`` (kind, path) pairs drawn with ``random.Random(seed)``."""
    rng = random.Random(seed)
    names, weights = list(kinds), list(kinds.values())
    out = []
    for kind in rng.choices(names, weights, k=n):
        code, kpi, q = rng.choice(codes), rng.choice(kpis), rng.choice(QUERIES)
        out.append((kind, PATHS[kind].format(kod=code, id=kpi, q=quote_plus(q))))
    return out


# -- the server -----------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """`tillit serve` on loopback in its own session (so a Ctrl-C here reaches only us and
    we stop it: SIGINT, then SIGKILL after 15 s). Its output goes to ``log``."""

    def __init__(self, env: dict[str, str], log: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log = log
        with log.open("wb") as out:
            self.proc = subprocess.Popen(
                [
                    str(TILLIT),
                    "serve",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--workers",
                    str(workers),
                ],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

    def tail(self) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-20:])

    def _session(self) -> list[Path]:
        """/proc entries of every process of the server's session (its workers too)."""
        out = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[3]) == self.proc.pid:
                out.append(entry)
        return out

    def cpu_seconds(self) -> float:
        """User + system CPU of the server's processes so far (all threads and workers)."""
        total = 0
        for entry in self._session():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += int(fields[11]) + int(fields[12])
        return total / os.sysconf("SC_CLK_TCK")

    def wait_idle(self, timeout: float) -> float:
        """Wait until the server uses under 5 % of a core over 2 s (`tillit serve` loads the
        analyses and every municipality's overview in a background thread); seconds waited."""
        start = time.perf_counter()
        while time.perf_counter() - start < timeout:
            cpu = self.cpu_seconds()
            time.sleep(2)
            if self.cpu_seconds() - cpu < 0.1:
                break
        return time.perf_counter() - start

    def rss_mb(self) -> float:
        """Resident memory of the server's processes, summed."""
        total = 0.0
        for entry in self._session():
            try:
                rows = (entry / "status").read_text().splitlines()
            except OSError:
                continue
            total += sum(int(r.split()[1]) / 1024 for r in rows if r.startswith("VmRSS:"))
        return total

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


# -- the load generator ---------------------------------------------------------------------


class Connection:
    """One keep-alive HTTP/1.1 connection to the server: GET only, the whole body read
    (Content-Length, chunked or until close). Much lighter than a general client, so that
    the shared cores go to the server; reconnects after an error or a close."""

    def __init__(self, port: int, timeout: float) -> None:
        self.port, self.timeout = port, timeout
        self.streams: tuple[asyncio.StreamReader, asyncio.StreamWriter] | None = None
        self.retried = False

    async def get(self, path: str) -> tuple[int, bytes]:
        try:
            return await asyncio.wait_for(self._get(path), self.timeout)
        except BaseException:
            self.close()
            raise

    async def _get(self, path: str) -> tuple[int, bytes]:
        request = (
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
            "User-Agent: tillit-bench-web\r\nAccept: */*\r\n\r\n".encode()
        )
        reused = self.streams is not None
        if self.streams is None:
            self.streams = await asyncio.open_connection("127.0.0.1", self.port)
        try:
            self.streams[1].write(request)
            head = await self.streams[0].readuntil(b"\r\n\r\n")
        except (ConnectionError, asyncio.IncompleteReadError):
            # A kept-alive connection the server closed before answering (uvicorn does so
            # after an error it has already answered with a 500): like a browser, retry a
            # GET once on a new connection, so one failure is not counted twice.
            if not reused:
                raise
            self.retried = True
            self.close()
            self.streams = await asyncio.open_connection("127.0.0.1", self.port)
            self.streams[1].write(request)
            head = await self.streams[0].readuntil(b"\r\n\r\n")
        return await self._rest(head.decode("latin-1").split("\r\n"))

    async def _rest(self, head: list[str]) -> tuple[int, bytes]:
        assert self.streams is not None
        reader = self.streams[0]
        status = int(head[0].split()[1])
        headers = {}
        for h in head[1:]:
            if ":" in h:
                name, value = h.split(":", 1)
                headers[name.strip().lower()] = value.strip().lower()
        if status in (204, 304) or 100 <= status < 200:
            body = b""
        elif "content-length" in headers:
            body = await reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            parts = []
            while size := int((await reader.readline()).split(b";")[0], 16):
                parts.append(await reader.readexactly(size))
                await reader.readexactly(2)
            while await reader.readline() not in (b"\r\n", b""):  # trailers
                pass
            body = b"".join(parts)
        else:
            body = await reader.read()
            headers["connection"] = "close"
        if headers.get("connection") == "close":
            self.close()
        return status, body

    def close(self) -> None:
        if self.streams is not None:
            self.streams[1].close()
            self.streams = None


async def fetch(conn: Connection, kind: str, path: str) -> Sample:
    start = time.perf_counter()
    conn.retried = False
    try:
        status, body = await conn.get(path)
        error = None
        if not 200 <= status < 400:
            text = body.decode("utf-8", "replace")
            if "<title>" in text:  # an HTML error page: its title and text, not its markup
                text = re.sub(r"<[^>]*>", " ", text[text.index("<title>") :])
            error = f"HTTP {status}: {' '.join(text.split())[:160]}"
    except (
        OSError,
        EOFError,
        TimeoutError,
        ValueError,
        IndexError,
        asyncio.LimitOverrunError,
    ) as e:
        status, error = 0, f"{type(e).__name__}: {e}"[:200]
    ms = (time.perf_counter() - start) * 1000
    return Sample(kind, path, ms, status, error, conn.retried)


async def wait_ready(server: Server, timeout: float) -> float:
    start = time.perf_counter()
    while time.perf_counter() - start < timeout:
        if server.proc.poll() is not None:
            raise SystemExit(f"tillit serve exited ({server.proc.returncode}):\n{server.tail()}")
        if (await fetch(Connection(server.port, 5), "", "/api/openapi.json")).status:
            return time.perf_counter() - start
        await asyncio.sleep(0.2)
    raise SystemExit(f"tillit serve did not answer within {timeout:.0f} s:\n{server.tail()}")


async def warm_up(port: int, requests: list[tuple[str, str]], timeout: float) -> None:
    """One request of each kind, one after the other: the first loads the analyses."""
    conn = Connection(port, timeout)
    for kind, path in requests:
        s = await fetch(conn, kind, path)
        what = f"HTTP {s.status}" if s.status else (s.error or "")
        line(f"warm-up: {path}"[:58], f"{s.ms / 1000:.2f} s, {what[:60]}")
    conn.close()


async def load(
    port: int, requests: list[tuple[str, str]], clients: int, seconds: float
) -> tuple[list[Sample], float, float]:
    """Run ``requests`` with ``clients`` concurrent loops, each over its own keep-alive
    connection; stop early after ``seconds``. Returns the samples, the wall seconds and the
    load generator's CPU seconds."""
    samples: list[Sample] = []
    todo = iter(requests)
    start, cpu = time.perf_counter(), time.process_time()
    deadline = start + seconds

    async def loop() -> None:
        conn = Connection(port, 60.0)
        for kind, path in todo:  # shared: each request is taken once
            if time.perf_counter() > deadline:
                break
            samples.append(await fetch(conn, kind, path))
        conn.close()

    await asyncio.gather(*(loop() for _ in range(clients)))
    return samples, time.perf_counter() - start, time.process_time() - cpu


# -- figures --------------------------------------------------------------------------------


@dataclass
class Run:
    """One load run: its samples, wall seconds, and CPU seconds of server and generator."""

    samples: list[Sample]
    wall: float
    server_cpu: float
    own_cpu: float

    def cpu_ms(self) -> tuple[float, float]:
        """Server and load-generator CPU per request, in ms."""
        n = max(1, len(self.samples))
        return self.server_cpu / n * 1000, self.own_cpu / n * 1000


def pct(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def figures(samples: list[Sample], wall: float) -> dict[str, Any]:
    ms = [s.ms for s in samples]
    return {
        "count": len(samples),
        "errors": sum(1 for s in samples if s.error),
        "p50_ms": pct(ms, 50),
        "p95_ms": pct(ms, 95),
        "p99_ms": pct(ms, 99),
        "requests_per_s": len(samples) / wall if wall else float("nan"),
    }


def row(name: str, f: dict[str, Any], floor: dict[str, Any] | None, alone: Run | None) -> str:
    ratio = " " * 20
    if floor and f["count"]:
        ratio = f"{f['p50_ms'] / floor['p50_ms']:9.1f}× {f['p95_ms'] / floor['p95_ms']:8.1f}×"
    one = ""
    if alone and alone.samples:
        one = f" {pct([s.ms for s in alone.samples], 50):>9.1f} {alone.cpu_ms()[0]:>8.1f}"
    return (
        f"{name:<20} {f['count']:>6} {f['errors']:>6} {f['p50_ms']:>8.1f} {f['p95_ms']:>8.1f} "
        f"{f['p99_ms']:>8.1f} {f['requests_per_s']:>7.1f} {ratio}{one}"
    )


def target(label: str, value: float | None, limit: float, detail: str = "") -> dict[str, Any]:
    if value is None:
        line(label, "not measured (kind not in the run)")
        return {"target": label, "measured": None, "met": None}
    met = value < limit
    line(label, f"{'met' if met else 'NOT met'}: {value:.1f} ms{detail}")
    return {"target": label, "measured": value, "met": met}


def report(mix: Run, floor_run: Run, floor_path: str, alone: dict[str, Run]) -> dict[str, Any]:
    """Print the table, CPU per request and the targets; return the figures."""
    floor = figures(floor_run.samples, floor_run.wall)
    kinds = [k for k in MIX if any(s.kind == k for s in mix.samples)]
    by_kind = {k: figures([s for s in mix.samples if s.kind == k], mix.wall) for k in kinds}
    overall = figures(mix.samples, mix.wall)
    base = None if floor["errors"] or not floor["count"] else floor
    print()
    print(
        f"{'kind':<20} {'count':>6} {'errors':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
        f"{'req/s':>7} {'p50/floor':>10} {'p95/floor':>9} {'alone p50':>9} {'CPU ms':>8}"
    )
    for k, f in by_kind.items():
        print(row(k, f, base, alone.get(k)))
    print(row("all", overall, base, None))
    print(row("floor", floor, None, alone.get("floor")))
    print("  " + "; ".join(f"{k} {PATHS[k]}" for k in kinds) + f"; floor {floor_path}")
    if alone:
        n = max(len(r.samples) for r in alone.values())
        print(
            f"  alone: {n} requests of each kind by one client before the mix; CPU ms: the "
            "server's CPU per request then (all its threads)"
        )
    print()
    for name, run in (("mix", mix), ("floor", floor_run)):
        server_ms, own_ms = run.cpu_ms()
        line(
            f"CPU per request, {name}: server / load generator",
            f"{server_ms:.2f} / {own_ms:.2f} ms",
        )

    search = [s.ms for s in mix.samples if s.kind in SEARCH_KINDS]
    muni = by_kind.get("municipality")
    each = ", ".join(f"{k} {by_kind[k]['p95_ms']:.1f}" for k in SEARCH_KINDS if k in by_kind)
    errors = [s for s in mix.samples + floor_run.samples if s.error]
    targets = [
        target(
            f"target: municipality page p95 < {TARGET_MUNICIPALITY_P95_MS:.0f} ms",
            muni["p95_ms"] if muni else None,
            TARGET_MUNICIPALITY_P95_MS,
        ),
        target(
            f"target: search p95 < {TARGET_SEARCH_P95_MS:.0f} ms",
            pct(search, 95) if search else None,
            TARGET_SEARCH_P95_MS,
            f" ({each})",
        ),
    ]
    retried = sum(s.retried for s in mix.samples + floor_run.samples)
    if retried:
        line("requests sent again after the server closed", f"{retried} (not counted as errors)")
    line("target: zero errors", f"{'met' if not errors else 'NOT met'}: {len(errors)} errors")
    targets.append({"target": "zero errors", "measured": len(errors), "met": not errors})
    if errors:
        failed = Counter(s.kind for s in errors)
        print("errors by kind: " + ", ".join(f"{k} {c}" for k, c in failed.items()))
        for s in errors[:5]:
            print(f"  {s.url}: {s.error}")
    server_ms, own_ms = mix.cpu_ms()
    floor_server_ms, floor_own_ms = floor_run.cpu_ms()
    for k, run in alone.items():
        fig = by_kind.get(k, floor)
        fig["alone_p50_ms"] = pct([s.ms for s in run.samples], 50)
        fig["alone_server_cpu_ms"] = run.cpu_ms()[0]
    return {
        "seconds": mix.wall,
        "kinds": by_kind,
        "overall": overall,
        "search_p95_ms": pct(search, 95) if search else None,
        "floor": {"path": floor_path, "seconds": floor_run.wall, **floor},
        "cpu_ms_per_request": {
            "server": server_ms,
            "load_generator": own_ms,
            "floor_server": floor_server_ms,
            "floor_load_generator": floor_own_ms,
        },
        "targets": targets,
        "errors": [s.__dict__ for s in errors[:20]],
    }


def measure(server: Server, requests: list[tuple[str, str]], clients: int, seconds: float) -> Run:
    cpu = server.cpu_seconds()
    samples, wall, own_cpu = asyncio.run(load(server.port, requests, clients, seconds))
    return Run(samples, wall, server.cpu_seconds() - cpu, own_cpu)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--requests", type=int, default=4000, help="total, over the mix")
    parser.add_argument("--seconds", type=float, default=300.0, help="at most, per run")
    parser.add_argument("--only", default="", help=f"comma-separated kinds of {', '.join(MIX)}")
    parser.add_argument("--floor", default=FLOOR_PATH, help="the static path of the floor")
    parser.add_argument("--database-url", default="", help="the bank (default: SQLite)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--workers",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="tillit serve --workers (default: the cores, at most 2)",
    )
    parser.add_argument(
        "--alone", type=int, default=20, help="requests of each kind by one client first"
    )
    parser.add_argument("--warmup-timeout", type=float, default=300.0)
    parser.add_argument("--json", type=Path, help="write the figures here as JSON")
    args = parser.parse_args()
    kinds = dict(MIX) if not args.only else {}
    for name in filter(None, (k.strip() for k in args.only.split(","))):
        if name not in MIX:
            parser.error(f"unknown kind {name!r}; kinds: {', '.join(MIX)}")
        kinds[name] = MIX[name] or 1
    kinds = {k: w for k, w in kinds.items() if w > 0}

    cores = os.cpu_count() or 0
    load_before = os.getloadavg()
    line(
        "machine",
        f"{cores} cores, shared by the server, this load generator and anything else; "
        f"load average {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}",
    )
    home, env = set_up(args.database_url or None)
    codes, kpis = municipality_codes(home), common_kpis(KPI_COUNT)
    line("municipalities / KPIs / queries", f"{len(codes)} / {len(kpis)} / {len(QUERIES)}")
    requests = plan(kinds, args.requests, args.seed, codes, kpis)
    first = {k: p for k, p in reversed(requests)}  # one path per kind (its first)
    warm = [(k, first[k]) for k in MIX if k in first] + [("floor", args.floor)]

    server = Server(env, home / "serve.log", args.workers)
    try:
        line(
            "tillit serve",
            f"{server.base} (pid {server.proc.pid}, {args.workers} worker(s)), log {server.log}",
        )
        line("  answered after", f"{asyncio.run(wait_ready(server, 60)):.1f} s")
        asyncio.run(warm_up(server.port, warm, args.warmup_timeout))
        line("  server idle after another", f"{server.wait_idle(args.warmup_timeout):.0f} s")
        rss_warm = server.rss_mb()
        alone = {}
        if args.alone:
            for k in [*kinds, "floor"]:
                some = (
                    [("floor", args.floor)] * args.alone
                    if k == "floor"
                    else plan({k: 1}, args.alone, args.seed + 1, codes, kpis)
                )
                alone[k] = measure(server, some, 1, args.seconds)
            line(f"alone: {args.alone} requests of each kind, one client", "done")
        line(
            f"mix: {args.clients} clients, {len(requests):,} requests",
            ", ".join(f"{k} {w}" for k, w in kinds.items()),
        )
        mix = measure(server, requests, args.clients, args.seconds)
        line("  done", f"{len(mix.samples):,} requests in {mix.wall:.1f} s")
        floor_requests = [("floor", args.floor)] * len(mix.samples)
        floor = measure(server, floor_requests, args.clients, args.seconds)
        line(f"floor: {args.floor}", f"{len(floor.samples):,} requests in {floor.wall:.1f} s")
        rss_end = server.rss_mb()
    finally:
        server.stop()
    load_after = os.getloadavg()
    figures_ = report(mix, floor, args.floor, alone)
    line("server RSS after warm-up / at the end", f"{rss_warm:.0f} / {rss_end:.0f} MB")
    line("load average after", f"{load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f}")
    if args.json:
        out = {
            "command": " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]),
            "date": datetime.datetime.now().isoformat(timespec="seconds"),
            "cores": cores,
            "load_average_before": load_before,
            "load_average_after": load_after,
            "clients": args.clients,
            "seed": args.seed,
            "database": "postgresql" if args.database_url else "sqlite",
            "weights": kinds,
            "server_rss_mb": {"after_warm_up": rss_warm, "end": rss_end},
            **figures_,
        }
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    if any(s.error for s in mix.samples + floor.samples):
        raise SystemExit(1)


if __name__ == "__main__":
    if not TILLIT.exists():
        raise SystemExit(f"{TILLIT} not found: run with the project's venv")
    main()
