"""The yearly report in each of its formats, from the one :class:`YearlyReport`: HTML (a
document that stands alone), PDF/UA (WeasyPrint from that HTML, with the print
stylesheet), the Excel workbook (one sheet a table) and JSON (``report_data``)."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Literal

import orjson

from tillit.query._national_yearly import NationalReport, national_report_data
from tillit.query._yearly import YearlyReport, report_data
from tillit.reports._document import national_html, report_css, report_html
from tillit.reports._excel import workbook
from tillit.reports._pdf import pdf_from_html, print_stylesheet

__all__ = [
    "MEDIA_TYPES",
    "REPORT_FORMATS",
    "ReportFormat",
    "national_bytes",
    "national_filename",
    "report_bytes",
    "report_filename",
    "slug",
]

ReportFormat = Literal["html", "pdf", "xlsx", "json"]
REPORT_FORMATS: tuple[ReportFormat, ...] = ("html", "pdf", "xlsx", "json")

#: The media type of each format.
MEDIA_TYPES: Mapping[str, str] = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}


def report_filename(report: YearlyReport, fmt: str) -> str:
    """A file name that says what it is: ``rapport-1384-kungsbacka-2022.pdf``."""
    return f"rapport-{report.code}-{slug(report.name)}-{report.year}.{fmt}"


def slug(name: str) -> str:
    """A name as plain lower-case ASCII words joined by "-": "Region Västra Götaland" →
    "region-vastra-gotaland"."""
    plain = unicodedata.normalize("NFKD", name.lower()).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-") or "rapport"


def report_bytes(report: YearlyReport, fmt: str, *, base: str = "") -> bytes:
    """The report as a file of format ``fmt``; ``base`` (a server's address) is put before
    Tillit's own links in the HTML and the PDF."""
    if fmt == "html":
        return report_html(report, base=base).encode("utf-8")
    if fmt == "pdf":
        html = report_html(report, base=base, inline_css=False)
        return pdf_from_html(html, stylesheets=(report_css(), print_stylesheet()))
    if fmt == "xlsx":
        kind = "Region" if report.kind == "L" else "Kommun"
        return workbook(
            report.tables,
            title=f"Analys av resultaten {report.year}: {report.name}",
            subtitle=f"{report.name} jämförd med {report.overview.peers.label}",
            about=(
                (kind, f"{report.name} ({report.code})"),
                ("År", str(report.year)),
                ("Jämförs med", report.overview.peers.label),
                ("Framtagen", report.made.isoformat()),
                ("Källa", "Kolada (www.kolada.se); jämförelser och bedömningar: Tillit"),
            ),
        )
    if fmt == "json":
        return orjson.dumps(report_data(report), option=orjson.OPT_INDENT_2)
    raise ValueError(f"unknown report format {fmt!r}")


def national_filename(report: NationalReport, fmt: str) -> str:
    return f"rapport-riket-{report.year}.{fmt}"


def national_bytes(report: NationalReport, fmt: str, *, base: str = "") -> bytes:
    """The national report as a file of format ``fmt`` (see :func:`report_bytes`)."""
    if fmt == "html":
        return national_html(report, base=base).encode("utf-8")
    if fmt == "pdf":
        html = national_html(report, base=base, inline_css=False)
        return pdf_from_html(html, stylesheets=(report_css(), print_stylesheet()))
    if fmt == "xlsx":
        return workbook(
            report.tables,
            title=f"Kommuner och regioner som presterar väl {report.year}",
            subtitle="Tydligt bättre än strukturellt lika, eller tydligt förbättrade",
            about=(
                ("År", str(report.year)),
                ("Framtagen", report.made.isoformat()),
                ("Källa", "Kolada (www.kolada.se); jämförelser och bedömningar: Tillit"),
            ),
        )
    if fmt == "json":
        return orjson.dumps(national_report_data(report), option=orjson.OPT_INDENT_2)
    raise ValueError(f"unknown report format {fmt!r}")
