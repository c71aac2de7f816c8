"""The chart data types and the distribution and funnel charts, as self-contained SVG.

Every role has its own colour (Okabe–Ito), marker shape and line dash, and every chart has a
legend that shows them, so a chart reads in black and white and for colour-blind readers.
Colours against white: #D55E00 3.9:1, #0072B2 5.2:1, #009E73 3.4:1, #8A8A8A 3.5:1, #595959
7:1, text #000000.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from tillit.reports._layout import (
    BLUE,
    GREEN,
    GREY,
    INK,
    MUTED,
    TEXT_SIZE,
    VERMILLION,
    WIDTH,
    LegendEntry,
    Plot,
    axis_title,
    check_lengths,
    document,
    empty_svg,
    header,
    legend,
    place_labels,
    with_tooltip,
    x_axis,
    y_axis,
    y_title,
)
from tillit.reports._svg import (
    Scale,
    clean_id,
    esc,
    finite,
    format_number,
    linear_axis,
    log_axis,
    marker,
    num,
    polyline,
    text_width,
    value_decimals,
)

__all__ = [
    "Chart",
    "FunnelLimits",
    "Mark",
    "Role",
    "Series",
    "distribution_chart",
    "funnel_chart",
]

Role = Literal["focal", "peer", "other"]
SeriesRole = Literal["focal", "peer", "national", "trend"]

# role → (shape, half-size px, attributes); drawn in the order others, peers, focal
_MARKS: dict[str, tuple[str, float, str]] = {
    "other": ("circle", 2.6, f'fill="{GREY}"'),
    "peer": ("square", 5.0, f'fill="{BLUE}" stroke="#ffffff" stroke-width="0.75"'),
    "focal": ("diamond", 8.0, f'fill="{VERMILLION}" stroke="{INK}" stroke-width="1.5"'),
}
_MEDIAN_DASH = "6 4"
_LIMIT_STYLES = (("95 %-gräns", GREEN, "6 4"), ("99,8 %-gräns", MUTED, "2 3"))


@dataclass(frozen=True)
class Mark:
    """One municipality in a distribution or funnel chart."""

    code: str
    name: str
    value: float  # the KPI value (y in a funnel, x position in the distribution)
    role: Role = "other"
    size: float | None = None  # denominator (e.g. population) for the funnel x axis


@dataclass(frozen=True)
class Series:
    """One line in a time-series chart; ``values[i]`` belongs to ``years[i]``."""

    name: str
    years: tuple[int, ...]
    values: tuple[float | None, ...]
    role: SeriesRole = "focal"


@dataclass(frozen=True)
class FunnelLimits:
    """Control limits over a grid of sizes (the same length as every limit tuple)."""

    sizes: tuple[float, ...]
    lower95: tuple[float, ...]
    upper95: tuple[float, ...]
    lower998: tuple[float, ...]
    upper998: tuple[float, ...]
    target: float


@dataclass(frozen=True)
class Chart:
    """A rendered chart: ``chart_id`` is the sanitised id its element ids start with."""

    chart_id: str
    title: str
    description: str
    svg: str


def _mark_entries(marks: Sequence[Mark], peer_label: str, other_label: str) -> list[LegendEntry]:
    focal = [m for m in marks if m.role == "focal"]
    texts = {
        "focal": focal[0].name if len(focal) == 1 else "Vald kommun",
        "peer": peer_label,
        "other": other_label,
    }
    present = {m.role for m in marks}
    return [
        LegendEntry(
            texts[role], shape=_MARKS[role][0], size=_MARKS[role][1], mark_attrs=_MARKS[role][2]
        )
        for role in ("focal", "peer", "other")
        if role in present
    ]


def _draw_marks(marks: Sequence[tuple[Mark, float, float]], unit: str) -> list[str]:
    parts: list[str] = []
    for role in ("other", "peer", "focal"):
        parts.append(f'<g class="marks-{role}">')
        for mark, x, y in marks:
            if mark.role == role:
                parts.append(_mark_svg(role, x, y, mark.name, mark.value, unit))
        parts.append("</g>")
    return parts


@functools.lru_cache(maxsize=200_000)
def _mark_svg(role: str, x: float, y: float, name: str, value: float, unit: str) -> str:
    """One drawn mark with its tooltip. Kept: a web server draws the same KPI's ~290
    municipalities again for every municipality chosen, and only a few change role."""
    shape, size, attrs = _MARKS[role]
    tip = f"{name}: {format_number(value, value_decimals(value))} {unit}"
    element = marker(shape, x, y, size, f'class="mark mark-{role}" {attrs}')
    return with_tooltip(element, tip.strip())


def distribution_chart(
    marks: Sequence[Mark],
    *,
    chart_id: str,
    title: str,
    description: str,
    unit: str,
    median: float | None = None,
    better: Literal["higher", "lower"] | None = None,
    show_title: bool = True,
    peer_label: str = "Liknande kommuner",
    other_label: str = "Övriga kommuner",
    width: int = WIDTH,
) -> Chart:
    """Every municipality as one dot in a ranked dot plot: value on x, rank on y.

    Marks whose value is None or not finite are left out. ``median`` None draws the median of
    the drawn values; a non-finite ``median`` draws no median line. ``better`` adds the note
    "Bättre →" (higher) or "← Bättre" (lower) under the value axis.
    """
    cid = clean_id(chart_id)
    drawn = sorted((m for m in marks if finite(m.value)), key=lambda m: (m.value, m.code))
    if not drawn:
        return Chart(cid, title, description, empty_svg(cid, title, description, show_title, width))
    if median is None:
        median = statistics.median(m.value for m in drawn)
    entries = _mark_entries(drawn, peer_label, other_label)
    if finite(median):
        entries.append(LegendEntry("Median", line=INK, dash=_MEDIAN_DASH, line_width=1.5))
    parts, y = header(title, show_title, width)
    legend_parts, y = legend(entries, 12, y, width - 24)
    parts += legend_parts
    plot = Plot(36, y + 24, width - 16, y + 24 + 300)
    axis = linear_axis([*(m.value for m in drawn), *([median] if finite(median) else [])])
    xs = Scale(axis, plot.left + 10, plot.right - 10)
    step = (plot.bottom - plot.top - 20) / max(1, len(drawn) - 1)
    mid = (plot.top + plot.bottom) / 2

    def row(i: int) -> float:
        return mid if len(drawn) == 1 else plot.bottom - 10 - i * step

    placed = [(m, xs(m.value), row(i)) for i, m in enumerate(drawn)]
    parts += [plot.rect(), *x_axis(plot, xs, axis.ticks, axis.labels, grid=True)]
    parts.append(y_title(plot, "Kommuner i ordning efter värde", 20))
    if median is not None and finite(median):
        mx = xs(median)
        parts.append(
            f'<line class="median" x1="{num(mx)}" y1="{num(plot.top)}" x2="{num(mx)}" '
            f'y2="{num(plot.bottom)}" stroke="{INK}" stroke-width="1.5" '
            f'stroke-dasharray="{_MEDIAN_DASH}"/>'
        )
        parts.append(
            f'<text x="{num(mx)}" y="{num(plot.top - 6)}" text-anchor="middle" '
            f'fill="{INK}">Median</text>'
        )
    parts += _draw_marks(placed, unit)
    parts += place_labels(
        plot,
        [(x, y_, m.name) for m, x, y_ in placed if m.role == "focal"],
        [(x, y_, m.name) for m, x, y_ in placed if m.role == "peer"],
    )
    bottom = _value_axis_notes(parts, plot, unit, better)
    svg = document(cid, title, description, width, bottom, parts)
    return Chart(cid, title, description, svg)


def _value_axis_notes(
    parts: list[str], plot: Plot, unit: str, better: Literal["higher", "lower"] | None
) -> float:
    """The unit under the x axis and the "Bättre" note; returns the height of the chart."""
    y = plot.bottom + 40
    if unit:
        parts.append(axis_title(plot, unit, y))
    if better is None:
        return y + 14
    note = "Bättre →" if better == "higher" else "← Bättre"
    note_w = text_width(note, TEXT_SIZE) + 6
    unit_half = text_width(unit, TEXT_SIZE) / 2
    if unit and unit_half + note_w > (plot.right - plot.left) / 2:
        y += 20
    x, anchor = (plot.right, "end") if better == "higher" else (plot.left, "start")
    parts.append(
        f'<text class="better" x="{num(x)}" y="{num(y)}" text-anchor="{anchor}" '
        f'font-weight="700" fill="{INK}">{esc(note)}</text>'
    )
    return y + 14


def funnel_chart(
    marks: Sequence[Mark],
    limits: FunnelLimits,
    *,
    chart_id: str,
    title: str,
    description: str,
    unit: str,
    size_label: str,
    show_title: bool = True,
    peer_label: str = "Liknande kommuner",
    other_label: str = "Övriga kommuner",
    width: int = WIDTH,
) -> Chart:
    """A funnel plot: size on x (log10 when sizes span more than 1.5 decades), value on y.

    Marks without a finite size and value are left out (on a log axis also sizes ≤ 0). The
    limits are drawn over the sizes the marks span; the y axis covers marks, target and limits.
    """
    cid = clean_id(chart_id)
    n = len(limits.sizes)
    check_lengths(
        "FunnelLimits", n, limits.lower95, limits.upper95, limits.lower998, limits.upper998
    )
    drawn = sorted(
        (m for m in marks if finite(m.value) and m.size is not None and finite(m.size)),
        key=lambda m: (m.code, m.value),
    )
    positive = all(m.size is not None and m.size > 0 for m in drawn)
    sizes = [float(m.size) for m in drawn if m.size is not None]
    log = bool(drawn) and positive and max(sizes) / min(sizes) > 10**1.5
    if not drawn:
        return Chart(cid, title, description, empty_svg(cid, title, description, show_title, width))
    x_axis_ = log_axis(sizes) if log else linear_axis(sizes)
    lo, hi = (10**x_axis_.lo, 10**x_axis_.hi) if log else (x_axis_.lo, x_axis_.hi)
    grid = sorted((s, i) for i, s in enumerate(limits.sizes) if finite(s) and (s > 0 or not log))
    inside = [i for s, i in grid if lo <= s <= hi]
    curves = (limits.lower95, limits.upper95, limits.lower998, limits.upper998)
    y_values = [m.value for m in drawn]
    y_values += [c[i] for c in curves for i in inside if finite(c[i])]
    if finite(limits.target):
        y_values.append(limits.target)
    y_axis_ = linear_axis(y_values)

    entries = _mark_entries(drawn, peer_label, other_label)
    if finite(limits.target):
        entries.append(LegendEntry("Målvärde/medel", line=INK, line_width=1.5))
    entries += [LegendEntry(t, line=c, dash=d, line_width=2) for t, c, d in _LIMIT_STYLES]
    parts, y = header(title, show_title, width)
    legend_parts, y = legend(entries, 12, y, width - 24)
    parts += legend_parts
    left = 36 + max(text_width(label, 12) for label in y_axis_.labels)
    plot = Plot(min(left, width * 0.3), y + 16, width - 16, y + 16 + 300)
    xs = Scale(x_axis_, plot.left + 10, plot.right - 10)
    ys = Scale(y_axis_, plot.bottom - 10, plot.top + 10)
    parts += [plot.rect(), *y_axis(plot, ys, y_axis_.ticks, y_axis_.labels, grid=True)]
    parts += x_axis(plot, xs, x_axis_.ticks, x_axis_.labels, grid=True)
    parts.append(
        f'<clipPath id="{cid}-clip"><rect x="{num(plot.left)}" y="{num(plot.top)}" '
        f'width="{num(plot.right - plot.left)}" height="{num(plot.bottom - plot.top)}"/></clipPath>'
    )
    parts.append(f'<g clip-path="url(#{cid}-clip)" fill="none">')
    # one grid point beyond each end keeps the limit lines running to the plot's edges
    span = [i for s, i in grid if s < lo][-1:] + inside + [i for s, i in grid if s > hi][:1]
    for (name, colour, dash), pair in zip(_LIMIT_STYLES, (curves[:2], curves[2:]), strict=True):
        for curve in pair:
            points = [(xs(limits.sizes[i]), ys(curve[i])) for i in span if finite(curve[i])]
            if len(points) >= 2:
                d = polyline(points)
                parts.append(
                    f'<path class="limit" d="{d}" stroke="{colour}" stroke-width="2" '
                    f'stroke-dasharray="{dash}"><title>{esc(name)}</title></path>'
                )
    if finite(limits.target):
        ty = ys(limits.target)
        parts.append(
            f'<line class="target" x1="{num(plot.left)}" y1="{num(ty)}" x2="{num(plot.right)}" '
            f'y2="{num(ty)}" stroke="{INK}" stroke-width="1.5"/>'
        )
    parts.append("</g>")
    placed = [(m, xs(float(m.size or 0)), ys(m.value)) for m in drawn]
    parts += _draw_marks(placed, unit)
    parts += place_labels(
        plot,
        [(x, y_, m.name) for m, x, y_ in placed if m.role == "focal"],
        [(x, y_, m.name) for m, x, y_ in placed if m.role == "peer"],
    )
    axis_note = f"{size_label} (logaritmisk skala)" if log else size_label
    parts.append(axis_title(plot, axis_note, plot.bottom + 40))
    parts.append(y_title(plot, unit, 18))
    svg = document(cid, title, description, width, plot.bottom + 54, parts)
    return Chart(cid, title, description, svg)
