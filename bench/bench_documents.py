"""How fast consultation responses (remissvar) are read into text (tillit.sources.documents).

Makes ``--count`` response PDFs of 2–10 A4 pages with WeasyPrint (one rendering per page
count, reused, so the set-up stays short): a letterhead, running header and footer with
"Sida N av M", headings with section numbers, justified paragraphs with automatic Swedish
hyphenation, a footnote mark per page and a stance table. The files are written to a
temporary folder and each is read with ``extract_text(path)`` in a process pool of
``--processes`` workers (each worker imports the libraries once, as a batch upload would).
Prints PDFs/s, pages/s and the total seconds, the workers' CPU seconds (what the wall time
would be on otherwise idle cores: the machine is shared), one process reading one PDF of
each size, and checks every result (no page-number or header lines left, the last phrase
mapped to the last page).

Target (issue 18): 100 response PDFs of 2–10 pages extracted *and compiled* in under 30 s on
2 cores; extraction is measured here, the compilation comes on top.

    ../.venv/bin/python bench_documents.py [--count 100] [--processes 2]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from _common import line
from tillit.sources.documents import extract_text

TARGET_S = 30.0
PAGES = range(2, 11)

_TEXT = (
    "kommunen regionen staten styrningen tilliten uppföljningen samverkan förslaget "
    "verksamheten medborgarna kvaliteten resurserna ansvaret ledningen kunskapen utvecklingen "
    "välfärdssektorn konsultationsordningen myndigheterna förutsättningarna medarbetarna "
    "arbetsorganisationen analyskapaciteten forskningen lärosätena omsorgen skolan vården "
    "tillsynen granskningen regelverket finansieringen genomförandet konsekvenserna"
)
_WORDS = _TEXT.split()
_STANCES = ("tillstyrker", "avstyrker", "tillstyrker delvis", "har inga synpunkter på")

_CSS = """
@page { size: A4; margin: 28mm 25mm;
  @top-left { content: "Exempelstads kommun, kommunstyrelsen"; font: 9pt DejaVu Sans; }
  @top-right { content: "Dnr KS 2018/412"; font: 9pt DejaVu Sans; }
  @bottom-right { content: "Sida " counter(page) " av " counter(pages); font: 9pt DejaVu Sans; }
}
body { font: 11pt/1.4 DejaVu Serif; hyphens: auto; text-align: justify; }
h2 { font: bold 13pt DejaVu Sans; }
sup { font-size: 65%; }
td, th { border: 1px solid #999; padding: 3pt; font-size: 10pt; }
section { break-before: page; }
"""


def _sentence(rng: random.Random) -> str:
    words = [rng.choice(_WORDS) for _ in range(rng.randint(6, 12))]
    return " ".join(words).capitalize() + "."


def _html(pages: int) -> str:
    rng = random.Random(pages)
    sections = []
    for page in range(1, pages + 1):
        number = f"7.{page}"
        paragraphs = "".join(
            f"<p>{' '.join(_sentence(rng) for _ in range(4))}</p>" for _ in range(4)
        )
        stance = _STANCES[page % len(_STANCES)]
        sections.append(
            f"<section><h2>{number} Förslag nummer {page}</h2>"
            f"<p>Kommunstyrelsen {stance} förslaget i avsnitt {number}<sup>{page}</sup>.</p>"
            f"{paragraphs}<table><tr><th>Avsnitt</th><th>Ståndpunkt</th></tr>"
            f"<tr><td>{number}</td><td>{stance}</td></tr></table>"
            f"{'<p>Slutord.</p>' if page == pages else ''}</section>"
        )
    return (
        (
            f'<html lang="sv"><head><title>Remissvar</title><style>{_CSS}</style></head><body>'
            "<p>Finansdepartementet<br>103 33 Stockholm</p>"
            f"{''.join(sections)}</body></html>"
        )
        .replace("<section>", "<div>", 1)
        .replace("</section>", "</div>", 1)
    )


def _render(pages: int) -> bytes:
    import weasyprint

    pdf: bytes = weasyprint.HTML(string=_html(pages)).write_pdf()
    return pdf


def _extract(path: str) -> tuple[int, int, bool]:
    result = extract_text(Path(path))
    last = len(result.pages)
    phrase = "Slutord."
    ok = (
        "Sida " not in result.text
        and result.text.count("Dnr KS") == 1
        and result.page_of(result.text.index(phrase)) == last
        and not result.needs_ocr
    )
    return last, len(result.text), ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100, help="response PDFs")
    parser.add_argument("--processes", type=int, default=2, help="pool size")
    args = parser.parse_args()

    start = time.perf_counter()
    rendered = {}
    for pages in PAGES:
        rendered[pages] = _render(pages)
    line(
        "set-up: one WeasyPrint rendering per page count 2–10",
        f"{time.perf_counter() - start:.1f} s",
    )

    with tempfile.TemporaryDirectory(prefix="bench-documents-") as folder:
        paths = []
        for i in range(args.count):
            pages = PAGES[i % len(PAGES)]
            path = Path(folder) / f"remissvar_{i:03d}.pdf"
            path.write_bytes(rendered[pages])
            paths.append(str(path))

        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        with ProcessPoolExecutor(max_workers=args.processes) as pool:
            results = list(pool.map(_extract, paths, chunksize=2))
        pooled = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)

        start = time.perf_counter()
        for path in paths[: len(PAGES)]:
            _extract(path)
        single = time.perf_counter() - start

    pages_total = sum(pages for pages, _, _ in results)
    chars = sum(length for _, length, _ in results)
    wrong = [paths[i] for i, (_, _, ok) in enumerate(results) if not ok]
    line("PDFs / pages / characters", f"{len(results)} / {pages_total} / {chars:,}")
    line(
        f"pool of {args.processes} (incl. worker start-up)",
        f"{pooled:.2f} s = {len(results) / pooled:.1f} PDFs/s, {pages_total / pooled:.0f} pages/s",
    )
    line(
        "CPU in the workers (user + system)",
        f"{cpu:.1f} s = {cpu / pages_total * 1000:.0f} ms/page; "
        f"{cpu / args.processes:.1f} s on {args.processes} otherwise idle cores",
    )
    line(
        "one process, one PDF of each size (2–10 pages)",
        f"{single:.2f} s = {sum(PAGES) / single:.0f} pages/s",
    )
    line(
        "results checked (no header, page number; last page mapped)",
        f"{len(results) - len(wrong)} ok, {len(wrong)} wrong",
    )
    line("load average (1 min) at the end", f"{os.getloadavg()[0]:.2f}")
    target = f"target: {args.count} PDFs extracted < {TARGET_S:.0f} s on {args.processes} cores"
    line(f"{target}, wall time", _status(pooled < TARGET_S and not wrong))
    line(f"{target}, idle cores (CPU / cores)", _status(cpu / args.processes < TARGET_S))
    print("(the compilation of the stances comes on top of both)")


def _status(ok: bool) -> str:
    return "MET" if ok else "NOT MET"


if __name__ == "__main__":
    main()
