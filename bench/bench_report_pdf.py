"""How long the HTML → PDF/UA step of the yearly report takes (tillit.reports._pdf).

Renders a synthetic report (the shape tests/test_report_pdf.py checks: title page with a
summary, a table of contents, sections with text, an inline SVG chart from
``tillit.reports.series_chart`` and its data table) of about 30 A4 pages, ``--runs`` times in
one process, and prints seconds per PDF and pages per second. With ``--processes 2`` it also
renders ``--batch`` PDFs in a process pool, the way a batch of all 290 municipalities would
run on two cores, and projects the time for 290.

The figures cover the PDF step alone: the report's data and HTML template come on top.
Targets (issue 17): one municipality's PDF < 10 s; all 290 < 15 min on 2 cores, i.e. about
3 s per report including its data.

    ../.venv/bin/python bench_report_pdf.py [--runs 5] [--sections 18] [--processes 2]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from concurrent.futures import ProcessPoolExecutor

from pypdf import PdfReader

from _common import line
from tillit.reports._pdf import pdf_from_html, print_stylesheet

MUNICIPALITIES = 290
ONE_TARGET_S = 10.0
BATCH_TARGET_S = 15 * 60.0


def report_html(sections: int) -> str:
    """The synthetic report of the tests (importable once _common has put the repository
    root on sys.path)."""
    from tests.test_report_pdf import report_html as synthetic

    return synthetic(sections)


def _render(sections: int) -> int:
    """One report rendered; returns its size in bytes (keeps the work in the child)."""
    return len(pdf_from_html(report_html(sections), stylesheets=[print_stylesheet()]))


def status(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="renders in one process")
    parser.add_argument("--sections", type=int, default=18, help="~1.6 pages each")
    parser.add_argument("--processes", type=int, default=2, help="pool size for the batch")
    parser.add_argument("--batch", type=int, default=12, help="PDFs rendered by the pool")
    args = parser.parse_args()

    html = report_html(args.sections)
    css = print_stylesheet()
    start = time.perf_counter()
    first = pdf_from_html(html, stylesheets=[css])
    cold = time.perf_counter() - start
    pages = len(PdfReader(io.BytesIO(first)).pages)
    sizes = f"{len(html) / 1024:.0f} KiB HTML, {len(first) / 1024:.0f} KiB PDF"
    line("report", f"{pages} pages, {sizes}")
    line("first render in this process (imports, fonts)", f"{cold:.2f} s")

    times, cpu_times = [], []
    for _ in range(args.runs):
        start, cpu_start = time.perf_counter(), time.process_time()
        pdf_from_html(html, stylesheets=[css])
        times.append(time.perf_counter() - start)
        cpu_times.append(time.process_time() - cpu_start)
    median, cpu = statistics.median(times), statistics.median(cpu_times)
    line(
        f"warm render, median of {args.runs}",
        f"{median:.2f} s per PDF (min {min(times):.2f}, max {max(times):.2f}); "
        f"{pages / median:.1f} pages/s",
    )
    # CPU time does not grow when other work shares the cores; wall time does.
    line("  CPU time per PDF, median", f"{cpu:.2f} s; {pages / cpu:.1f} pages per CPU-second")
    line(f"one PDF < {ONE_TARGET_S:.0f} s", status(max(cold, *times) < ONE_TARGET_S))

    if args.processes > 0 and args.batch > 0:
        with ProcessPoolExecutor(args.processes) as pool:
            list(pool.map(_render, [1] * args.processes))  # warm the workers' imports
            start = time.perf_counter()
            list(pool.map(_render, [args.sections] * args.batch))
            wall = time.perf_counter() - start
        per = wall / args.batch
        projected = per * MUNICIPALITIES
        line(
            f"{args.batch} PDFs in {args.processes} processes",
            f"{wall:.1f} s wall, {per:.2f} s per PDF, {args.batch * pages / wall:.1f} pages/s",
        )
        line(
            f"projected {MUNICIPALITIES} PDFs (PDF step only)",
            f"{projected / 60:.1f} min of the {BATCH_TARGET_S / 60:.0f} min budget "
            f"({projected / BATCH_TARGET_S:.0%}): {status(projected < BATCH_TARGET_S)}",
        )
    by_cpu = cpu * MUNICIPALITIES / max(args.processes, 1)
    line(
        f"  from CPU time, {max(args.processes, 1)} idle cores",
        f"{by_cpu / 60:.1f} min ({by_cpu / BATCH_TARGET_S:.0%} of the budget)",
    )


if __name__ == "__main__":
    main()
