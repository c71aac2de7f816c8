"""Charts over years: the time-series chart and the sparkline."""

from __future__ import annotations

import math
from collections.abc import Sequence

from tillit.reports._charts import Chart, Series
from tillit.reports._layout import (
    BLUE,
    GREEN,
    INK,
    MUTED,
    VERMILLION,
    WIDTH,
    LegendEntry,
    Plot,
    check_lengths,
    document,
    empty_svg,
    header,
    legend,
    with_tooltip,
    x_axis,
    y_axis,
    y_title,
)
from tillit.reports._svg import (
    Axis,
    Scale,
    clean_id,
    esc,
    finite,
    format_number,
    linear_axis,
    marker,
    num,
    polyline,
    text_width,
    value_decimals,
)

__all__ = ["series_chart", "sparkline"]

# series role → (colour, dash, width, marker shape, marker half-size)
_LINES: dict[str, tuple[str, str | None, float, str | None, float]] = {
    "focal": (VERMILLION, None, 2.5, "circle", 4.0),
    "peer": (BLUE, "7 4", 2.0, "square", 4.5),
    "national": (GREEN, "2 3", 2.0, "triangle", 5.0),
    "trend": (MUTED, "9 3 2 3", 1.5, None, 0.0),
}


def series_chart(
    series: Sequence[Series],
    *,
    chart_id: str,
    title: str,
    description: str,
    unit: str,
    show_title: bool = True,
    width: int = WIDTH,
) -> Chart:
    """Lines over years. A None or non-finite value breaks its line; the x axis labels only
    years that have a value (thinned when they would crowd)."""
    cid = clean_id(chart_id)
    for s in series:
        check_lengths(f"Serien {s.name}", len(s.years), s.values)
    points = [
        (yr, float(v)) for s in series for yr, v in zip(s.years, s.values, strict=True) if finite(v)
    ]
    years = sorted({yr for yr, _ in points})
    if not years:
        return Chart(cid, title, description, empty_svg(cid, title, description, show_title, width))
    y_axis_ = linear_axis([v for _, v in points])
    entries = []
    for s in series:
        colour, dash, lw, shape, size = _LINES[s.role]
        attrs = f'fill="{colour}"'
        entries.append(LegendEntry(s.name, shape, size, attrs, colour, dash, lw))
    parts, y = header(title, show_title, width)
    legend_parts, y = legend(entries, 12, y, width - 24)
    parts += legend_parts
    left = 36 + max(text_width(label, 12) for label in y_axis_.labels)
    plot = Plot(min(left, width * 0.3), y + 16, width - 16, y + 16 + 260)
    first, last = years[0], years[-1]
    x_dom = Axis(first - 0.5, last + 0.5, (), ()) if first == last else Axis(first, last, (), ())
    xs = Scale(x_dom, plot.left + 18, plot.right - 18)
    ys = Scale(y_axis_, plot.bottom - 10, plot.top + 10)
    every = math.ceil(len(years) / max(2, int((plot.right - plot.left) / 46)))
    shown = [yr for k, yr in enumerate(reversed(years)) if k % every == 0][::-1]
    parts += [plot.rect(), *y_axis(plot, ys, y_axis_.ticks, y_axis_.labels, grid=True)]
    parts += x_axis(plot, xs, shown, [str(yr) for yr in shown], grid=False)
    order = {"trend": 0, "national": 1, "peer": 2, "focal": 3}
    for s in sorted(series, key=lambda s: order[s.role]):  # stable: equal roles keep their order
        parts += _draw_series(s, xs, ys, unit)
    parts.append(y_title(plot, unit, 18))
    svg = document(cid, title, description, width, plot.bottom + 34, parts)
    return Chart(cid, title, description, svg)


def _segments(s: Series) -> list[list[tuple[int, float]]]:
    runs: list[list[tuple[int, float]]] = [[]]
    for yr, v in sorted(zip(s.years, s.values, strict=True), key=lambda p: p[0]):
        if finite(v):
            runs[-1].append((yr, float(v)))
        elif runs[-1]:
            runs.append([])
    return [r for r in runs if r]


def _draw_series(s: Series, xs: Scale, ys: Scale, unit: str) -> list[str]:
    colour, dash, lw, shape, size = _LINES[s.role]
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    parts = [f'<g class="series series-{s.role}">']
    for run in _segments(s):
        if len(run) >= 2:
            d = polyline((xs(yr), ys(v)) for yr, v in run)
            parts.append(
                f'<path class="line line-{s.role}" d="{d}" fill="none" stroke="{colour}" '
                f'stroke-width="{num(lw)}" stroke-linejoin="round"{dash_attr}/>'
            )
        if shape is not None:
            for yr, v in run:
                element = marker(
                    shape, xs(yr), ys(v), size, f'class="mark mark-{s.role}" fill="{colour}"'
                )
                tip = f"{s.name} {yr}: {format_number(v, value_decimals(v))} {unit}".strip()
                parts.append(with_tooltip(element, tip))
    parts.append("</g>")
    return parts


def sparkline(
    years: Sequence[int],
    values: Sequence[float | None],
    *,
    label: str,
    chart_id: str,
    width: int = 120,
    height: int = 28,
) -> str:
    """A tiny line (``width``×``height`` px) for tables, the last value marked with a dot.

    The whole line is one image whose accessible name is ``label``; gaps break the line.
    """
    check_lengths("sparkline", len(years), values)
    cid = clean_id(chart_id)
    pts = [
        (yr, float(v)) for yr, v in zip(years, values, strict=True) if v is not None and finite(v)
    ]
    name = label if pts else f"{label} (inga värden)"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" id="{cid}" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{esc(name)}">'
    )
    if not pts:
        return head + "</svg>"
    first, last = min(yr for yr, _ in pts), max(yr for yr, _ in pts)
    x_dom = Axis(first - 0.5, last + 0.5, (), ()) if first == last else Axis(first, last, (), ())
    xs = Scale(x_dom, 4, width - 5)
    lo, hi = min(v for _, v in pts), max(v for _, v in pts)
    # a sparkline shows shape, not level: the line fills the height (a flat line sits mid-way)
    pad = max(abs(hi) * 0.05, 1.0) if hi - lo <= max(abs(lo), abs(hi)) * 1e-9 else 0.0
    y_dom = Axis(lo - pad, hi + pad, (), ())
    ys = Scale(y_dom, height - 4, 4)
    body: list[str] = []
    for run in _segments(Series(label, tuple(years), tuple(values), "focal")):
        if len(run) >= 2:
            d = polyline((xs(yr), ys(v)) for yr, v in run)
            body.append(
                f'<path d="{d}" fill="none" stroke="{MUTED}" stroke-width="1.5" '
                'stroke-linejoin="round"/>'
            )
    yr, v = max(pts, key=lambda p: p[0])
    body.append(
        f'<circle class="last" cx="{num(xs(yr))}" cy="{num(ys(v))}" r="3" fill="{VERMILLION}" '
        f'stroke="{INK}" stroke-width="0.75"/>'
    )
    return head + "".join(body) + "</svg>"
