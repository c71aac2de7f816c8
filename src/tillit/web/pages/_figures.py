"""The KPI page's charts, built from the page's query result: the distribution over all
municipalities (or all regions), the funnel and the time series, each with a Swedish text
summary (the chart's description) and the rows of its data table (also its CSV download)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from markupsafe import Markup, escape

from tillit import swedish
from tillit.analyses import Polarity
from tillit.query import KpiOverview
from tillit.reports import (
    Chart,
    FunnelLimits,
    Mark,
    Series,
    distribution_chart,
    funnel_chart,
    series_chart,
)
from tillit.web.pages._render import swedish_number as num
from tillit.web.pages._units import words

__all__ = ["CHARTS", "Figure", "figure"]

#: Columns shown as they are, not as Swedish numbers.
_PLAIN = frozenset({"ar", "kommunkod", "regionkod"})


@dataclass(frozen=True)
class Figure:
    """A chart with its text alternative: the data as a table (and CSV)."""

    slug: str  # "fordelning", "tratt", "tidsserie"
    chart: Chart
    columns: tuple[str, ...]  # CSV column names
    headers: tuple[str, ...]  # the table's Swedish column headings
    rows: tuple[dict[str, Any], ...]

    def body_html(self) -> Markup:
        """The data table's rows (hundreds of them: built here, not in a template loop).
        The first column is the row header; numbers are right-aligned in Swedish format,
        except codes and years."""
        places = _places(self.columns, self.rows)
        rows = (
            _row_html(self.columns, places, tuple(row[c] for c in self.columns))
            for row in self.rows
        )
        return Markup("\n".join(rows))


def _places(columns: tuple[str, ...], rows: Any) -> tuple[int, ...]:
    """One set of decimals per column ("86,0" under "83,7", never "86")."""
    return tuple(
        swedish.decimals_for([v for row in rows if isinstance(v := row[c], float)]) for c in columns
    )


@functools.lru_cache(maxsize=100_000)
def _row_html(columns: tuple[str, ...], places: tuple[int, ...], values: tuple[Any, ...]) -> str:
    """One table row. Kept: the same KPI's rows come again for every municipality chosen,
    and only the chosen one's and its peers' rows differ."""
    focal = ' class="focal-row"' if "vald kommun" in values or "vald region" in values else ""
    cells = []
    for i, (column, value) in enumerate(zip(columns, values, strict=True)):
        if value is None:
            text, numeric = "–", False
        elif isinstance(value, float) and column not in _PLAIN:
            text, numeric = num(value, places[i]), True
        else:
            text, numeric = str(escape(value)), False
        if i == 0:
            cells.append(f'<th scope="row">{text}</th>')
        else:
            cells.append(f'<td class="num">{text}</td>' if numeric else f"<td>{text}</td>")
    return f"<tr{focal}>{''.join(cells)}</tr>"


def _better(report: KpiOverview) -> Literal["higher", "lower"] | None:
    if report.polarity.polarity is Polarity.HIGHER:
        return "higher"
    if report.polarity.polarity is Polarity.LOWER:
        return "lower"
    return None


def _role_label(role: str, kind: str = "K") -> str:
    w = words(kind)
    return {"focal": w.chosen, "peer": w.peer}.get(role, "")


def distribution(report: KpiOverview) -> Figure:
    w = words(report.kind)
    marks = [Mark(p.municipality, p.name, p.value, p.role) for p in report.points]
    rank = report.rank()
    focal = report.focal
    # The three numbers are compared: the same decimals, enough to tell them apart.
    national, own, peer = swedish.side_by_side(
        (report.national_median, focal.value if focal else None, report.peer_median)
    )
    parts = [
        f"{swedish.count(len(report.points), w.unit)} har ett värde för {report.year}; "
        f"medianen är {national}."
    ]
    if focal is not None and rank is not None:
        parts.append(
            f"{focal.name} har {own} och ligger på plats {rank[0]} av {rank[1]} "
            f"({report.rank_basis})."
        )
    if report.peer_median is not None:
        parts.append(f"{w.Peers_s} median är {peer}.")
    chart = distribution_chart(
        marks,
        chart_id="fordelning",
        title=f"{report.title}, {w.all_units} {report.year}",
        description=" ".join(parts),
        unit=_unit(report.title),
        median=report.national_median,
        better=_better(report),
        show_title=False,
    )
    rows = tuple(
        {
            w.code_column: p.municipality,
            w.unit: p.name,
            "varde": p.value,
            "roll": _role_label(p.role, report.kind),
        }
        for p in sorted(report.points, key=lambda p: (-p.value, p.name))
    )
    return Figure(
        "fordelning",
        chart,
        (w.code_column, w.unit, "varde", "roll"),
        ("Kod", w.unit.capitalize(), f"Värde {report.year}", "Roll"),
        rows,
    )


_METHOD = {
    "binomial": "andel av befolkningen (binomialfördelning)",
    "poisson": "antal per invånare (Poissonfördelning)",
}


def funnel(report: KpiOverview) -> Figure | None:
    w = words(report.kind)
    view = report.funnel
    if view is None:
        return None
    marks = [
        Mark(p.municipality, p.name, p.value, p.role, p.size)
        for p in report.points
        if p.size is not None
    ]
    parts = [
        f"Trattdiagram för {report.year}: varje {w.unit}s värde mot dess befolkning "
        f"({view.source or 'invånare'}). Gränserna visar hur långt från medelvärdet "
        f"{num(view.target)} en {w.unit} kan hamna av slumpen enbart, som "
        f"{_METHOD.get(view.method, view.method)}, justerat för att {w.units} skiljer sig "
        "mer än slumpen (överspridning)."
    ]
    comparison = report.comparison
    if comparison is not None and comparison.funnel is not None and report.name:
        from tillit.analyses import POSITION_LABELS

        parts.append(f"{report.name} ligger {POSITION_LABELS[comparison.funnel.position]}.")
    chart = funnel_chart(
        marks,
        FunnelLimits(
            sizes=view.sizes,
            lower95=_f(view.lower95),
            upper95=_f(view.upper95),
            lower998=_f(view.lower998),
            upper998=_f(view.upper998),
            target=view.target,
        ),
        chart_id="tratt",
        title=f"{report.title}: trattdiagram {report.year}",
        description=" ".join(parts),
        unit=_unit(report.title),
        size_label="Invånare",
        show_title=False,
    )
    rows = tuple(
        {
            w.code_column: m.code,
            w.unit: m.name,
            "invanare": m.size,
            "varde": m.value,
            "roll": _role_label(m.role, report.kind),
        }
        for m in sorted(marks, key=lambda m: m.size or 0.0)
    )
    return Figure(
        "tratt",
        chart,
        (w.code_column, w.unit, "invanare", "varde", "roll"),
        ("Kod", w.unit.capitalize(), "Invånare", f"Värde {report.year}", "Roll"),
        rows,
    )


def _f(values: tuple[float | None, ...]) -> tuple[float, ...]:
    return tuple(float("nan") if v is None else v for v in values)


def series(report: KpiOverview) -> Figure:
    w = words(report.kind)
    name = report.name or w.the_unit.capitalize()
    lines = []
    if report.municipality:
        lines.append(Series(name, report.years, report.series, "focal"))
        lines.append(Series(f"Median, {w.peers}", report.years, report.peer_series, "peer"))
    lines.append(Series(f"Median, {w.all_units}", report.years, report.national_series, "national"))
    trend = report.trend
    parts = []
    if trend is not None and trend.slope is not None and trend.intercept is not None:
        fitted = tuple(
            trend.intercept + trend.slope * y
            if trend.first_year is not None
            and trend.last_year is not None
            and trend.first_year <= y <= trend.last_year
            else None
            for y in report.years
        )
        lines.append(Series("Trend (Theil–Sen)", report.years, fitted, "trend"))
        parts.append(trend.summary)
    present = [(y, v) for y, v in zip(report.years, report.series, strict=False) if v is not None]
    if present:
        (y0, v0), (y1, v1) = present[0], present[-1]
        parts.insert(0, f"{name}: {num(v0)} år {y0} och {num(v1)} år {y1}.")
    elif report.municipality:
        parts.insert(0, f"{name} har inga värden för nyckeltalet.")
    else:
        parts.insert(
            0, f"Medianen för {w.all_units} per år. Välj en {w.unit} för att se dess serie."
        )
    chart = series_chart(
        lines,
        chart_id="tidsserie",
        title=f"{report.title}, {report.years[0]}–{report.years[-1]}",
        description=" ".join(parts),
        unit=_unit(report.title),
        show_title=False,
    )
    rows = tuple(
        {
            "ar": y,
            w.unit: report.series[i] if report.series else None,
            "liknande_median": report.peer_series[i] if report.peer_series else None,
            "alla_median": report.national_series[i],
        }
        for i, y in enumerate(report.years)
    )
    return Figure(
        "tidsserie",
        chart,
        ("ar", w.unit, "liknande_median", "alla_median"),
        ("År", name, f"Median, {w.peers}", f"Median, {w.all_units}"),
        rows,
    )


def _unit(title: str) -> str:
    """The unit Kolada writes at the end of a KPI title ("…, andel (%)" → "andel (%)")."""
    tail = title.rsplit(",", 1)[-1].strip() if "," in title else ""
    return tail[:40]


CHARTS: dict[str, Callable[[KpiOverview], Figure | None]] = {
    "fordelning": distribution,
    "tratt": funnel,
    "tidsserie": series,
}


def figure(report: KpiOverview, slug: str) -> Figure | None:
    build = CHARTS.get(slug)
    return None if build is None else build(report)
