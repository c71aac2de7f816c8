"""Reading consultation responses (issue "Consultation"): 100 response PDFs of 2–10 pages,
each from a different municipality, with running headers and footers and numbered sections
that take stances, read with ``tillit remiss svar`` (text, respondent, stances, into a fresh
SQLite bank) and compiled with ``tillit remiss sammanstallning`` — both whole processes, as a
user runs them. Prints seconds, PDFs/s and pages/s, and checks the compilation: every
stance found where it was written, respondents matched to their municipality.

The PDFs are made once with WeasyPrint and kept in bench/results/remiss-pdfs.

    ../.venv/bin/python bench_remiss.py [--responses 100] [--seed 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import METADATA, RESULTS, line

TILLIT = Path(sys.executable).with_name("tillit")
TARGET_S = 30.0
PROPOSALS = [
    ("5.1", "En nationell konsultationsordning"),
    ("5.2", "Stärkt analyskapacitet i kommuner och regioner"),
    ("6.1", "Ett nationellt policylab"),
    ("6.2", "Försöksverksamhet med frikommuner"),
    ("7.1", "Samverkan mellan lärosäten och verksamheter"),
    ("7.2", "Tillsyn som främjar lärande"),
]
SENTENCES = {
    "tillstyrker": "{who} tillstyrker förslaget i avsnitt {key}.",
    "avstyrker": "{who} avstyrker förslaget i avsnitt {key}.",
    "delvis": (
        "{who} tillstyrker förslaget i avsnitt {key} under förutsättning att det finansieras."
    ),
    "inga_synpunkter": "{who} har inga synpunkter på avsnitt {key}.",
}
FILLER = (
    "Kommunen har under flera år arbetat med att utveckla styrningen av verksamheterna. "
    "Erfarenheterna visar att förtroende mellan politik, ledning och medarbetare är en "
    "förutsättning för att resurserna ska användas väl och att invånarna ska få god service. "
)


def _html(name: str, stances: dict[str, str], pages: int) -> str:
    who = f"{name} kommun"
    parts = [
        f"<p>{who}</p><p>Kommunstyrelsen</p>",
        "<h1>Yttrande över betänkandet Med tillit växer handlingsutrymmet (SOU 2018:47)</h1>",
        f"<p>{who} har beretts tillfälle att yttra sig över betänkandet.</p>",
    ]
    filler = "".join(f"<p>{FILLER * 3}</p>" for _ in range(max(0, pages * 4 - 6)))
    for key, heading in PROPOSALS:
        parts.append(f"<h2>{key} {heading}</h2>")
        parts.append(f"<p>{SENTENCES[stances[key]].format(who=who, key=key)}</p>")
        parts.append(filler[: len(filler) // len(PROPOSALS)] if filler else "")
    parts.append(f"<p>Med vänlig hälsning</p><p>{who}</p>")
    return (
        '<html lang="sv"><head><meta charset="utf-8"><title>Yttrande</title><style>'
        "@page { size: A4; margin: 25mm 20mm; "
        f'@top-center {{ content: "{who} – Yttrande"; }} '
        '@bottom-center { content: "Sida " counter(page) " av " counter(pages); } }'
        "</style></head><body>" + "".join(parts) + "</body></html>"
    )


def _pdfs(count: int, seed: int, names: list[str]) -> tuple[Path, dict[str, dict[str, str]]]:
    import weasyprint

    folder = RESULTS / f"remiss-pdfs-{count}-{seed}"
    gold_path = folder / "gold.json"
    if gold_path.exists():
        return folder, json.loads(gold_path.read_text(encoding="utf-8"))
    folder.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    gold: dict[str, dict[str, str]] = {}
    start = time.perf_counter()
    for i, name in enumerate(rng.sample(names, count)):
        stances = {key: rng.choice(list(SENTENCES)) for key, _ in PROPOSALS}
        pages = rng.randint(2, 10)
        target = folder / f"svar-{i:03d}.pdf"
        target.write_bytes(weasyprint.HTML(string=_html(name, stances, pages)).write_pdf())
        gold[target.name] = {"name": name, **stances}
    gold_path.write_text(json.dumps(gold, ensure_ascii=False), encoding="utf-8")
    line("set-up: PDFs made", f"{count} in {time.perf_counter() - start:.0f} s")
    return folder, gold


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--responses", type=int, default=100)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    rows = _municipalities()
    names = sorted(title for _code, title in rows)
    folder, gold = _pdfs(args.responses, args.seed, names)
    pdfs = sorted(folder.glob("svar-*.pdf"))
    import pypdf

    pages = sum(len(pypdf.PdfReader(str(p)).pages) for p in pdfs)
    line("cores", str(len(os.sched_getaffinity(0))))
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "TILLIT_HOME": tmp}

        def run(*argv: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                [str(TILLIT), *argv], env=env, check=True, capture_output=True, text=True
            )

        run("db", "upgrade")
        _seed(tmp)
        proposals = Path(tmp) / "forslag.txt"
        proposals.write_text("\n".join(f"{k} {h}" for k, h in PROPOSALS), encoding="utf-8")
        run("remiss", "ny", "--titel", "Med tillit växer handlingsutrymmet", "--dokument",
            "SOU 2018:47", "--forslag", str(proposals), "--user", "admin@example.se")  # fmt: skip
        start = time.perf_counter()
        run("remiss", "svar", "1", *map(str, pdfs), "--user", "admin@example.se")
        read = time.perf_counter() - start
        start = time.perf_counter()
        out = run("remiss", "sammanstallning", "1", "--format", "json").stdout
        compiled = time.perf_counter() - start
    data = json.loads(out)
    right = total = 0
    for s in data["stances"]:
        expected = gold[s["file"]].get(s["section"])
        total += 1
        right += expected == s["stance"]
    wanted = len(pdfs) * len(PROPOSALS)
    code_of = {name: code for code, name in rows}
    matched = sum(
        1 for r in data["respondents"] if r["organisation_code"] == code_of[gold[r["file"]]["name"]]
    )
    took = read + compiled
    line(
        "tillit remiss svar (100 PDFs)",
        f"{read:.1f} s, {len(pdfs) / read:.1f} PDFs/s, {pages / read:.0f} pages/s ({pages} pages)",
    )
    line("tillit remiss sammanstallning", f"{compiled:.1f} s")
    line(
        "read and compiled",
        f"{took:.1f} s (target < {TARGET_S:.0f} s: {'met' if took < TARGET_S else 'NOT met'})",
    )
    line(
        "stances",
        f"{right} of {wanted} written stances found right; {total - right} other stances; "
        f"respondents matched to their municipality's code {matched}/{len(pdfs)}",
    )
    return 0


def _municipalities() -> list[tuple[str, str]]:
    """(code, name) of the 290 municipalities, from the shared v3 metadata."""
    meta = json.loads((METADATA / "municipality_v3_2026-03.values.json").read_text())
    rows = meta["values"] if isinstance(meta, dict) else meta
    return [(r["id"], r["title"]) for r in rows if r.get("type") == "K"]


def _seed(home: str) -> None:
    """The municipalities as organisations, and an admin, in the bank of ``home``."""
    os.environ["TILLIT_HOME"] = home
    from tillit.bank import open_bank
    from tillit.config import load_settings

    bank = open_bank(load_settings().database_url)
    try:
        bank.seed_organisations([(code, name, "kommun") for code, name in _municipalities()])
        bank.add_user("admin@example.se", "ett långt lösenord", "Admin", "admin")
    finally:
        bank.close()


if __name__ == "__main__":
    sys.exit(main())
