"""The charts of a synthetic-control evaluation: the treated unit against its synthetic
control, and the gap between them against the placebo gaps of every donor.

Both mark the start of the treatment with a vertical line drawn between the last year
before it and the first year with it. As in the other charts, colour is never the only
cue: the treated unit is a solid line with circles, the synthetic control a dashed line
with squares, the placebo gaps thin grey lines without markers, and the legend names each.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from tillit.reports._charts import Chart
from tillit.reports._layout import (
    BLUE,
    GREY,
    INK,
    TEXT_SIZE,
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

__all__ = ["gap_chart", "synth_chart"]

_START_DASH = "2 4"
_SYNTH_DASH = "7 4"
Values = Sequence[float | None]


def synth_chart(
    times: Sequence[int],
    treated: Values,
    synthetic: Values,
    *,
    start: int,
    chart_id: str,
    title: str,
    description: str,
    unit: str,
    treated_label: str = "Kommunen",
    synthetic_label: str = "Syntetisk kontroll",
    show_title: bool = True,
    width: int = WIDTH,
) -> Chart:
    """The treated unit's outcome (``treated[i]`` at ``times[i]``) and its synthetic
    control's over time, with the start of the treatment marked. A None or non-finite value
    breaks its line."""
    check_lengths("Syntetisk kontroll", len(times), treated, synthetic)
    lines = [
        _Line(treated_label, times, treated, "treated"),
        _Line(synthetic_label, times, synthetic, "synthetic"),
    ]
    return _chart(
        lines,
        [],
        start=start,
        zero=False,
        chart_id=chart_id,
        title=title,
        description=description,
        unit=unit,
        show_title=show_title,
        width=width,
    )


def gap_chart(
    times: Sequence[int],
    gaps: Values,
    placebos: Sequence[tuple[str, Values]],
    *,
    start: int,
    chart_id: str,
    title: str,
    description: str,
    unit: str,
    gap_label: str = "Kommunen",
    placebo_label: str = "Placebo: varje jämförbar kommun",
    show_title: bool = True,
    width: int = WIDTH,
) -> Chart:
    """The treated gap (treated − synthetic, ``gaps[i]`` at ``times[i]``) as a strong line,
    every placebo gap (``(name, values)``, aligned to ``times``) as a thin grey line behind
    it, a zero line and the start marked. The y axis always covers zero."""
    check_lengths("Skillnaden", len(times), gaps)
    for name, values in placebos:
        check_lengths(f"Placebo {name}", len(times), values)
    placebo_lines = [_Line(name, times, values, "placebo") for name, values in placebos]
    return _chart(
        [_Line(gap_label, times, gaps, "gap")],
        placebo_lines,
        start=start,
        zero=True,
        chart_id=chart_id,
        title=title,
        description=description,
        unit=unit,
        show_title=show_title,
        width=width,
        placebo_label=placebo_label,
    )


# role → (colour, dash, width, marker shape, marker half-size)
_STYLES: dict[str, tuple[str, str | None, float, str | None, float]] = {
    "treated": (VERMILLION, None, 2.5, "circle", 4.0),
    "gap": (VERMILLION, None, 2.5, "circle", 4.0),
    "synthetic": (BLUE, _SYNTH_DASH, 2.0, "square", 4.5),
    "placebo": (GREY, None, 1.0, None, 0.0),
}


class _Line:
    """One line: its name, role and the finite points it has."""

    def __init__(self, name: str, times: Sequence[int], values: Values, role: str) -> None:
        self.name = name
        self.role = role
        self.points = [(int(t), v) for t, v in zip(times, values, strict=True)]

    def finite_values(self) -> list[float]:
        return [float(v) for _, v in self.points if finite(v)]

    def runs(self) -> list[list[tuple[int, float]]]:
        """The unbroken stretches of the line (a missing value breaks it)."""
        runs: list[list[tuple[int, float]]] = [[]]
        for t, v in sorted(self.points, key=lambda p: p[0]):
            if finite(v):
                runs[-1].append((t, float(v)))
            elif runs[-1]:
                runs.append([])
        return [r for r in runs if r]


def _chart(
    lines: list[_Line],
    placebos: list[_Line],
    *,
    start: int,
    zero: bool,
    chart_id: str,
    title: str,
    description: str,
    unit: str,
    show_title: bool,
    width: int,
    placebo_label: str = "",
) -> Chart:
    cid = clean_id(chart_id)
    years = sorted({t for line in lines for t, v in line.points if finite(v)})
    if not years:
        return Chart(cid, title, description, empty_svg(cid, title, description, show_title, width))
    # The placebos share the treated line's years: one far outside them would squeeze it.
    shown = set(years)
    values = [v for line in lines for v in line.finite_values()]
    values += [v for p in placebos for t, v in p.points if finite(v) and t in shown]
    y_axis_ = linear_axis([*values, *([0.0] if zero else [])])
    entries = []
    for line in lines:
        colour, dash, lw, shape, size = _STYLES[line.role]
        entries.append(LegendEntry(line.name, shape, size, f'fill="{colour}"', colour, dash, lw))
    if any(p.finite_values() for p in placebos):
        entries.append(LegendEntry(placebo_label, line=GREY, line_width=1.0))
    entries.append(LegendEntry(f"Start {start}", line=INK, dash=_START_DASH, line_width=1.5))
    parts, y = header(title, show_title, width)
    legend_parts, y = legend(entries, 12, y, width - 24)
    parts += legend_parts
    left = 36 + max(text_width(label, 12) for label in y_axis_.labels)
    plot = Plot(min(left, width * 0.3), y + 16, width - 16, y + 16 + 260)
    first, last = min(years[0], start - 1), max(years[-1], start)
    xs = Scale(Axis(first, last, (), ()), plot.left + 18, plot.right - 18)
    ys = Scale(y_axis_, plot.bottom - 10, plot.top + 10)
    every = math.ceil(len(years) / max(2, int((plot.right - plot.left) / 46)))
    ticks = [yr for k, yr in enumerate(reversed(years)) if k % every == 0][::-1]
    parts += [plot.rect(), *y_axis(plot, ys, y_axis_.ticks, y_axis_.labels, grid=True)]
    parts += x_axis(plot, xs, ticks, [str(yr) for yr in ticks], grid=False)
    if zero:
        z = ys(0.0)
        parts.append(
            f'<line class="zero" x1="{num(plot.left)}" y1="{num(z)}" x2="{num(plot.right)}" '
            f'y2="{num(z)}" stroke="{INK}" stroke-width="1"/>'
        )
    if placebos:
        parts.append(f'<g class="placebos" fill="none" stroke="{GREY}" stroke-width="1">')
        for p in placebos:
            for run in p.runs():
                kept = [(t, v) for t, v in run if t in shown]
                if len(kept) >= 2:
                    d = polyline((xs(t), ys(v)) for t, v in kept)
                    parts.append(
                        f'<path class="line line-placebo" d="{d}" stroke="{GREY}">'
                        f"<title>{esc(p.name)}</title></path>"
                    )
        parts.append("</g>")
    sx = xs(start - 0.5)
    parts.append(
        f'<line class="start" x1="{num(sx)}" y1="{num(plot.top)}" x2="{num(sx)}" '
        f'y2="{num(plot.bottom)}" stroke="{INK}" stroke-width="1.5" '
        f'stroke-dasharray="{_START_DASH}"/>'
    )
    label = f"Start {start}"
    anchor, lx = ("start", sx + 5)
    if lx + text_width(label, TEXT_SIZE) > plot.right - 2:
        anchor, lx = "end", sx - 5
    parts.append(
        f'<text class="start-label" x="{num(lx)}" y="{num(plot.top + 16)}" '
        f'text-anchor="{anchor}" fill="{INK}" stroke="#ffffff" stroke-width="3" '
        f'stroke-linejoin="round" paint-order="stroke">{esc(label)}</text>'
    )
    for line in lines:
        parts += _draw(line, xs, ys, unit)
    parts.append(y_title(plot, unit, 18))
    svg = document(cid, title, description, width, plot.bottom + 34, parts)
    return Chart(cid, title, description, svg)


def _draw(line: _Line, xs: Scale, ys: Scale, unit: str) -> list[str]:
    colour, dash, lw, shape, size = _STYLES[line.role]
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    parts = [f'<g class="series series-{line.role}">']
    for run in line.runs():
        if len(run) >= 2:
            d = polyline((xs(t), ys(v)) for t, v in run)
            parts.append(
                f'<path class="line line-{line.role}" d="{d}" fill="none" stroke="{colour}" '
                f'stroke-width="{num(lw)}" stroke-linejoin="round"{dash_attr}/>'
            )
        if shape is not None:
            for t, v in run:
                element = marker(
                    shape, xs(t), ys(v), size, f'class="mark mark-{line.role}" fill="{colour}"'
                )
                tip = f"{line.name} {t}: {format_number(v, value_decimals(v))} {unit}".strip()
                parts.append(with_tooltip(element, tip))
    parts.append("</g>")
    return parts
