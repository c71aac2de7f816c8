"""Swedish search in the bank over the ~11,000 real texts of ../shared/data/good_practices_text.

Loads the three JSON Lines files into a fresh SQLite bank and a fresh PostgreSQL database
(timed; target < 60 s each), then runs a fixed set of Swedish queries through
``search_examples`` (p50/p95; target p95 < 30 ms) and the floor on the same table: a bare
``SELECT rowid FROM example_search WHERE example_search MATCH ? ORDER BY rank LIMIT 20`` and
``SELECT id FROM examples WHERE search_vector @@ to_tsquery('swedish', ?) ORDER BY
ts_rank_cd(...) DESC LIMIT 20``. Also "liknande exempel" and SQLite/PostgreSQL agreement:
for how many queries the ordered top 10 (compared by source) and the total are identical.

    ../.venv/bin/python bench_bank_search.py [--repeats 10] [--postgres URL | --no-postgres]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from _common import SHARED, line
from tillit.bank import create_bank_engine, import_jsonl, search_examples, similar_examples, upgrade
from tillit.bank._query import fts_query, parse_query, ts_query

CORPUS = SHARED / "good_practices_text"
QUERIES = [
    "hemtjänsten",
    "bredband",
    "digitalisering",
    "klimatanpassning",
    "solenergi",
    "elbilar",
    "integration nyanlända",
    "företagande kvinnor",
    "energieffektivisering",
    "entreprenörskap",
    "äldreomsorg",
    "landsbygd",
    "turism",
    "innovation",
    "besöksnäring",
    "kompetensförsörjning",
    "Skåne",
    '"förnybar energi"',
    "jämställd*",
    "forskning och utveckling",
]


def load(engine: Engine) -> float:
    upgrade(engine)
    start = time.perf_counter()
    with engine.begin() as conn:
        for path in sorted(CORPUS.glob("*.jsonl")):
            report = import_jsonl(conn, path)
            line(
                f"  {path.name[:40]}",
                f"{report.imported:,} imported, {report.repaired} repaired, "
                f"{report.reported} reported, {report.seconds:.1f} s",
            )
    return time.perf_counter() - start


def timings(fn: Callable[[str], object], repeats: int) -> list[float]:
    for q in QUERIES:  # warm caches once
        fn(q)
    out = []
    for _ in range(repeats):
        for q in QUERIES:
            start = time.perf_counter()
            fn(q)
            out.append((time.perf_counter() - start) * 1000)
    return out


def p(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def measure(name: str, engine: Engine, repeats: int) -> tuple[dict[str, list[str]], dict[str, int]]:
    line(f"{name}: load", "")
    seconds = load(engine)
    met = "met" if seconds < 60 else "NOT met"
    line(f"{name}: import of the corpus", f"{seconds:.1f} s (target < 60 s: {met})")
    tops: dict[str, list[int]] = {}
    totals: dict[str, int] = {}
    with engine.connect() as conn:
        sources = dict(conn.execute(text("SELECT id, source FROM examples")).all())
        line(f"{name}: examples", f"{len(sources):,}")

        def ours(q: str) -> None:
            result = search_examples(conn, q, limit=20)
            tops[q] = [h.example_id for h in result.hits]
            totals[q] = result.total

        if engine.dialect.name == "sqlite":
            floor_sql = text(
                "SELECT rowid FROM example_search WHERE example_search MATCH :q "
                "ORDER BY rank LIMIT 20"
            )

            def floor(q: str) -> None:
                conn.execute(floor_sql, {"q": fts_query(parse_query(q))}).all()
        else:
            floor_sql = text(
                "SELECT id FROM examples WHERE search_vector @@ to_tsquery('swedish', :q) "
                "ORDER BY ts_rank_cd(search_vector, to_tsquery('swedish', :q)) DESC LIMIT 20"
            )

            def floor(q: str) -> None:
                conn.execute(floor_sql, {"q": ts_query(parse_query(q))}).all()

        t_ours = timings(ours, repeats)
        t_floor = timings(floor, repeats)
        p50, p95 = p(t_ours, 50), p(t_ours, 95)
        f50, f95 = p(t_floor, 50), p(t_floor, 95)
        met = "met" if p95 < 30 else "NOT met"
        line(
            f"{name}: search_examples ({len(QUERIES)} queries × {repeats})",
            f"p50 {p50:.1f} ms, p95 {p95:.1f} ms (target p95 < 30 ms: {met})",
        )
        line(f"{name}: floor (bare MATCH / @@)", f"p50 {f50:.2f} ms, p95 {f95:.2f} ms")
        line(f"{name}: ratio to the floor", f"p50 {p50 / f50:.1f}×, p95 {p95 / f95:.1f}×")
        ids = list(sources)[:: max(1, len(sources) // 50)][:50]
        sim = []
        for i in ids:
            start = time.perf_counter()
            similar_examples(conn, i)
            sim.append((time.perf_counter() - start) * 1000)
        line(
            f"{name}: similar_examples (50 examples)",
            f"p50 {p(sim, 50):.1f} ms, p95 {p(sim, 95):.1f} ms",
        )
        return {q: [sources[i] for i in ids] for q, ids in tops.items()}, totals


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=10)
    parser.add_argument("--postgres", default="postgresql+psycopg://postgres@127.0.0.1:5432/test")
    parser.add_argument("--no-postgres", action="store_true")
    args = parser.parse_args()
    if len(list(CORPUS.glob("*.jsonl"))) < 3:
        raise SystemExit(f"the corpus is not at {CORPUS}")
    with tempfile.TemporaryDirectory() as tmp:
        lite = create_bank_engine(f"sqlite:///{Path(tmp) / 'bank.sqlite'}")
        top_lite, totals_lite = measure("SQLite", lite, args.repeats)
        lite.dispose()
    if args.no_postgres:
        return
    name = f"tillit_bench_{uuid.uuid4().hex[:8]}"
    admin = create_bank_engine(args.postgres)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        pg = create_bank_engine(make_url(args.postgres).set(database=name).render_as_string(False))
        top_pg, totals_pg = measure("PostgreSQL", pg, args.repeats)
        pg.dispose()
    finally:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    same_order = [q for q in QUERIES if top_lite[q][:10] == top_pg[q][:10]]
    same_total = [q for q in QUERIES if totals_lite[q] == totals_pg[q]]
    line(
        "agreement SQLite/PostgreSQL",
        f"identical ordered top 10 for {len(same_order)} of {len(QUERIES)} queries, "
        f"identical total for {len(same_total)}",
    )
    for q in QUERIES:
        if q not in same_order or q not in same_total:
            line(f"  differs: {q}", f"total {totals_lite[q]} / {totals_pg[q]}")


if __name__ == "__main__":
    main()
