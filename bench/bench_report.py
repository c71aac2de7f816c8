"""The yearly report's cost (issue "Openness"): one municipality's report as HTML and as
PDF, on a running server (its analyses loaded, as ``tillit serve`` keeps them) and from the
command line (a new process: imports, one unit's analyses, the report), and, with
``--batch``, every municipality's PDF with ``tillit report --alla --format pdf``.

The store: the whole shared panel with the v3 metadata (bench/results/learn-home, imported
on first use). The bank is empty (no goals, trials or examples: those add a few rows).

Prints per measure the median, p95 and worst in seconds, and the targets: HTML under 2 s,
PDF under 10 s, all 290 PDFs under 15 minutes on the machine's cores.

    ../.venv/bin/python bench_report.py [--units 30] [--pdfs 10] [--cli-runs 3] [--batch]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import full_store, line

TILLIT = Path(sys.executable).with_name("tillit")
TARGET_HTML_S = 2.0
TARGET_PDF_S = 10.0
TARGET_BATCH_S = 15 * 60.0
#: Always measured: the largest (most findings) and two typical municipalities.
FIXED = ("0180", "1480", "1384", "2584")


def _summary(label: str, times: list[float], target: float | None = None) -> None:
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    text = (
        f"n={len(times)}  median {statistics.median(times):.3f} s  p95 {p95:.3f} s  "
        f"worst {ordered[-1]:.3f} s"
    )
    if target is not None:
        text += f"  (target < {target:g} s: {'met' if ordered[-1] < target else 'NOT met'})"
    line(label, text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--units", type=int, default=30, help="municipalities timed warm")
    parser.add_argument("--pdfs", type=int, default=10, help="of them, also as PDF")
    parser.add_argument("--cli-runs", type=int, default=3)
    parser.add_argument("--batch", action="store_true", help="all 290 PDFs (minutes)")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    home, store = full_store()
    from tillit.query import Atlas, yearly_report
    from tillit.reports import report_bytes, report_html

    line("cores", str(os.cpu_count()))
    start = time.perf_counter()
    atlas = Atlas(store)
    state = atlas.loaded("K")
    regions = atlas.loaded("L")
    line("server start: analyses loaded (once)", f"{time.perf_counter() - start:.1f} s")

    codes = list(state.evidence.municipalities)
    rng = random.Random(args.seed)
    sample = list(FIXED) + rng.sample([c for c in codes if c not in FIXED], args.units)
    html_times, pdf_times, pages = [], [], []
    for i, code in enumerate(sample):
        t0 = time.perf_counter()
        report = yearly_report(state, code)
        report_html(report, css_href="/rapport.css")
        html_times.append(time.perf_counter() - t0)
        if i < args.pdfs:
            t0 = time.perf_counter()
            data = report_bytes(report, "pdf")
            pdf_times.append(time.perf_counter() - t0)
            pages.append(data.count(b"/Type /Page\n") or data.count(b"/Type/Page"))
    _summary("server: report data + HTML, municipalities", html_times, TARGET_HTML_S)
    _summary("server: report data + PDF, municipalities", pdf_times, TARGET_PDF_S)
    region_times = []
    for code in list(regions.evidence.municipalities)[:5]:
        t0 = time.perf_counter()
        report_bytes(yearly_report(regions, code), "pdf")
        region_times.append(time.perf_counter() - t0)
    _summary("server: report data + PDF, regions", region_times, TARGET_PDF_S)

    env = {**os.environ, "TILLIT_HOME": str(home)}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, target in (("html", TARGET_HTML_S), ("pdf", TARGET_PDF_S)):
            runs = []
            for _ in range(args.cli_runs):
                t0 = time.perf_counter()
                subprocess.run(
                    [str(TILLIT), "report", "Kungsbacka", "--format", fmt, "-o",
                     str(Path(tmp) / f"k.{fmt}")],
                    env=env, check=True, capture_output=True,
                )  # fmt: skip
                runs.append(time.perf_counter() - t0)
            _summary(f"command line: tillit report Kungsbacka --format {fmt}", runs, target)
        if args.batch:
            out = Path(tmp) / "alla"
            t0 = time.perf_counter()
            done = subprocess.run(
                [str(TILLIT), "report", "--alla", "--format", "pdf", "-o", str(out)],
                env=env, capture_output=True, text=True,
            )  # fmt: skip
            took = time.perf_counter() - t0
            if done.returncode:
                print(done.stderr[-2000:], file=sys.stderr)
            files = len(list(out.glob("*.pdf")))
            line(
                "command line: tillit report --alla --format pdf",
                f"{files} PDFs in {took:.0f} s ({took / max(files, 1):.2f} s each, "
                f"{files / took:.2f} PDFs/s; target < {TARGET_BATCH_S:.0f} s: "
                f"{'met' if took < TARGET_BATCH_S and files == len(codes) else 'NOT met'})",
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
