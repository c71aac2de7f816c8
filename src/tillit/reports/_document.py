"""The yearly report as one HTML document: the page ``/kommun/{kod}/rapport`` serves, the
file ``tillit report --format html`` writes, and the source WeasyPrint renders the PDF from.
Its tables are the report's :class:`~tillit.query.ReportTable` values, cell by cell, so the
Excel workbook and the JSON twin hold the same numbers; every chart is an image with its
text alternative, followed by the table of its data."""

from __future__ import annotations

import base64
import math
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape

from tillit import swedish
from tillit.analyses import JUDGED_TIERS
from tillit.query import Column
from tillit.query._national_yearly import NationalReport
from tillit.query._yearly import YearlyReport
from tillit.query._yearly_tables import TIER_WORDS, area_key
from tillit.reports._intervals import GapRow, gap_interval_chart

__all__ = ["cell", "national_html", "report_css", "report_html"]

TEMPLATES = Path(__file__).resolve().parent / "templates"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


def cell(value: Any, column: Column) -> str:
    """A table cell as text, in the one Swedish voice: numbers with a decimal comma and
    thin spaces, a real minus sign, "–" where there is no value."""
    if value is None or (isinstance(value, float) and not math.isfinite(value)):
        return swedish.MISSING
    if column.kind in ("number", "percent"):
        return swedish.number(value, column.decimals)
    return str(value)


_env.filters["cell"] = cell
_env.filters["number"] = swedish.number
_env.filters["genitive"] = swedish.genitive


def report_css() -> str:
    """The report's screen and print stylesheet."""
    return resources.files("tillit.reports").joinpath("report.css").read_text("utf-8")


def _svg_src(svg: str) -> str:
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode("utf-8")).decode("ascii")


def _area_charts(report: YearlyReport) -> dict[str, dict[str, str]]:
    """Per area table key: the gap chart as an image source and its text alternative."""
    out: dict[str, dict[str, str]] = {}
    for i, area in enumerate(report.overview.areas, start=1):
        if not area.key_results:
            continue
        rows = []
        for r in area.key_results:
            c = r.comparison
            shown = c.tier in JUDGED_TIERS
            # colour says better or worse; "clearly higher/lower" (no known polarity) is
            # neither, and drawn in grey
            clear = {"clearly_better": 1, "clearly_worse": -1}.get(c.tier, 0)
            rows.append(
                GapRow(
                    label=r.title.split(",")[0],
                    gap=c.mean_difference if shown else math.nan,
                    low=c.interval_low if shown else math.nan,
                    high=c.interval_high if shown else math.nan,
                    better=c.polarity.sign,
                    verdict=TIER_WORDS.get(c.tier, ""),
                    clear=clear,
                )
            )
        drawn = [row for row in rows if math.isfinite(row.gap)]
        clearly = [row.label for row in drawn if row.clear]
        alt = (
            f"{area.area}: {swedish.genitive(report.name)} skillnad mot {report.peers_word} "
            "med 95 %-intervall "
            f"för {len(drawn)} nyckeltal. "
            + (
                "Tydliga skillnader: "
                + "; ".join(f"{row.label} ({row.verdict})" for row in drawn if row.clear)
                + "."
                if clearly
                else "Ingen tydlig skillnad."
            )
            + " Siffrorna står i tabellen under diagrammet."
        )
        svg = gap_interval_chart(
            rows,
            chart_id=f"gap-{area_key(i)}",
            title=f"{area.area}: skillnad mot {report.peers_word}",
            description=alt,
            peers=report.peers_word,
        )
        out[area_key(i)] = {"src": _svg_src(svg), "alt": alt}
    return out


def report_html(
    report: YearlyReport,
    *,
    css_href: str | None = None,
    links: Mapping[str, str] | None = None,
    base: str = "",
    inline_css: bool = True,
) -> str:
    """The report as a complete HTML document (``lang="sv"``). ``css_href`` links the
    stylesheet (the web page, whose policy forbids inline styles); without it the
    stylesheet is inlined (a file that stands alone, and the PDF's source). ``links`` are
    the other formats' addresses (PDF, Excel, JSON) shown at the top; ``base`` is put
    before Tillit's own addresses (examples, trials) so that a file points to the server.
    ``inline_css`` False leaves the stylesheet out (the PDF adds it, with the print one)."""
    tables = {t.key: t for t in report.tables}
    areas = [
        (area_key(i), area)
        for i, area in enumerate(report.overview.areas, start=1)
        if area_key(i) in tables
    ]
    return _env.get_template("report.html").render(
        r=report,
        o=report.overview,
        tables=tables,
        areas=areas,
        charts=_area_charts(report),
        css=None if css_href or not inline_css else report_css(),
        css_href=css_href,
        links=dict(links or {}),
        base=base,
        web=css_href is not None,
        kind_word=report.unit_word,
    )


def national_html(
    report: NationalReport,
    *,
    css_href: str | None = None,
    links: Mapping[str, str] | None = None,
    base: str = "",
    inline_css: bool = True,
) -> str:
    """The national report as a complete HTML document (see :func:`report_html`)."""
    return _env.get_template("national.html").render(
        r=report,
        tables={t.key: t for t in report.tables},
        css=None if css_href or not inline_css else report_css(),
        css_href=css_href,
        links=dict(links or {}),
        base=base,
        web=css_href is not None,
    )
