"""A remiss's compilation (remissammanställning) as documents: a DOCX with one section per
proposal (who supports, partly supports, opposes, has no comments, with their quotes), a
stand-alone HTML document, an Excel workbook (one sheet a table), CSV and JSON, all from
the one :class:`~tillit.query.Compilation`."""

from __future__ import annotations

import csv
import io
from datetime import datetime

import orjson
from docx import Document
from docx.shared import Pt

from tillit.query._remiss import (
    ANSWER_LABELS,
    Compilation,
    compilation_data,
    compilation_tables,
)
from tillit.reports._document import _env, report_css
from tillit.reports._excel import workbook

__all__ = ["REMISS_FORMATS", "remiss_bytes", "remiss_docx", "remiss_html"]

REMISS_FORMATS = ("json", "csv", "html", "docx", "xlsx")

#: The stances in a proposal's section, in order, and how the section names them.
_GROUPS = (
    ("tillstyrker", "Tillstyrker"),
    ("delvis", "Tillstyrker delvis"),
    ("avstyrker", "Avstyrker"),
    ("inga_synpunkter", "Inga synpunkter"),
    ("ej_besvarat", "Har inte besvarat förslaget"),
)


def _title(c: Compilation) -> str:
    r = c.remiss
    return f"Remissammanställning: {r.document + ' ' if r.document else ''}{r.title}".strip()


def remiss_docx(c: Compilation) -> bytes:
    """The compilation as a Word document: the remiss, then one section per proposal with
    its counts and, per stance, the respondents and their quotes (with page)."""
    doc = Document()
    props = doc.core_properties
    props.title = _title(c)
    props.language = "sv-SE"
    props.author = "Tillit"
    props.created = props.modified = datetime(2000, 1, 1)
    style = doc.styles["Normal"]
    style.font.size = Pt(11)
    doc.add_heading(_title(c), level=1)
    r = c.remiss
    facts = [
        ("Departement", r.ministry),
        ("Diarienummer", r.diarienummer),
        ("Sista svarsdag", r.deadline.isoformat() if r.deadline else None),
        ("Remissvar", str(len(c.respondents))),
    ]
    for label, value in facts:
        if value:
            doc.add_paragraph(f"{label}: {value}")
    if c.kinds:
        doc.add_paragraph("Urval: " + ", ".join(c.kinds))
    for p in r.proposals:
        doc.add_heading(f"{p.key} {p.heading}", level=2)
        counts = c.counts(p.key)
        doc.add_paragraph(
            "; ".join(
                f"{label}: {counts.get(stance, 0)}" for stance, label in _GROUPS if stance in counts
            )
            or "Inga remissvar."
        )
        for stance, label in _GROUPS:
            who = [
                (w, c.cells[(p.key, i)])
                for i, w in enumerate(c.respondents)
                if c.cells[(p.key, i)].stance == stance
            ]
            if not who:
                continue
            doc.add_heading(label, level=3)
            if stance == "ej_besvarat":
                doc.add_paragraph(", ".join(w.name for w, _ in who))
                continue
            for w, cell in who:
                item = doc.add_paragraph(style="List Bullet")
                item.add_run(w.name).bold = True
                if cell.quote:
                    page = f" (s. {cell.page})" if cell.page else ""
                    item.add_run(f": ”{cell.quote}”{page}")
                if cell.confirmed:
                    item.add_run(" – bekräftad")
    general = [(c.respondents[i], cell) for i, cells in c.general.items() for cell in cells]
    if general:
        doc.add_heading("Om remissen i sin helhet", level=2)
        for w, cell in general:
            item = doc.add_paragraph(style="List Bullet")
            item.add_run(w.name).bold = True
            item.add_run(f" ({ANSWER_LABELS[cell.stance][0].lower()}): ”{cell.quote}”")
    if c.not_answered:
        doc.add_heading("Remissinstanser som inte har svarat", level=2)
        doc.add_paragraph(", ".join(c.not_answered))
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def remiss_html(c: Compilation, *, css_href: str | None = None) -> str:
    """The compilation as one HTML document (``lang="sv"``): the matrix with a symbol and a
    word per stance (never colour alone), the counts, every quote."""
    tables = {t.key: t for t in compilation_tables(c)}
    return _env.get_template("remiss.html").render(
        c=c,
        title=_title(c),
        tables=tables,
        labels=ANSWER_LABELS,
        css=None if css_href else report_css(),
        css_href=css_href,
        base="",
        web=css_href is not None,
    )


def remiss_bytes(c: Compilation, fmt: str) -> bytes:
    """The compilation as a file of format ``fmt`` (json, csv, html, docx, xlsx)."""
    if fmt == "json":
        return orjson.dumps(compilation_data(c), option=orjson.OPT_INDENT_2)
    if fmt == "csv":
        out = io.StringIO()
        keys = ["respondent", "organisation_code", "section", "proposal", "stance", "quote",
                "file", "page", "confirmed"]  # fmt: skip
        writer = csv.DictWriter(out, fieldnames=keys)
        writer.writeheader()
        for row in compilation_data(c)["stances"]:
            writer.writerow({k: _safe(row[k]) for k in keys})
        return out.getvalue().encode("utf-8")
    if fmt == "html":
        return remiss_html(c).encode("utf-8")
    if fmt == "docx":
        return remiss_docx(c)
    if fmt == "xlsx":
        r = c.remiss
        return workbook(
            compilation_tables(c),
            title=_title(c),
            about=(
                ("Remiss", f"{r.document or ''} {r.title}".strip()),
                ("Remissvar", str(len(c.respondents))),
                ("Källa", "Remissvaren; ståndpunkter: Tillit"),
            ),
        )
    raise ValueError(f"unknown compilation format {fmt!r}")


def _safe(value: object) -> object:
    """A CSV cell that a spreadsheet will not run as a formula."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
