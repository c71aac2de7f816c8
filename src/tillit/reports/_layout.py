"""The parts every chart shares: the document, the title, the legend, axes and text labels."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from tillit.errors import InvalidInputError
from tillit.reports._svg import Scale, esc, marker, num, text_width

__all__ = [
    "BLUE",
    "FONT",
    "GREEN",
    "GREY",
    "INK",
    "MUTED",
    "TEXT_SIZE",
    "VERMILLION",
    "WIDTH",
    "LegendEntry",
    "Plot",
    "axis_title",
    "check_lengths",
    "document",
    "empty_body",
    "empty_svg",
    "header",
    "label_text",
    "legend",
    "place_labels",
    "title_lines",
    "with_tooltip",
    "x_axis",
    "y_axis",
    "y_title",
]

FONT = "system-ui, sans-serif"
INK = "#000000"  # text and axis labels: 21:1 on white
MUTED = "#595959"  # secondary text and axes: 7:1 on white
GRID = "#d9d9d9"  # grid lines carry no information of their own
TEXT_SIZE = 13
TICK_SIZE = 12
TITLE_SIZE = 16
HALO = 'stroke="#ffffff" stroke-width="3" stroke-linejoin="round" paint-order="stroke"'


@dataclass(frozen=True)
class Plot:
    """The plot area in viewBox px."""

    left: float
    top: float
    right: float
    bottom: float

    def rect(self, fill: str = "#ffffff") -> str:
        return (
            f'<rect class="plot-area" x="{num(self.left)}" y="{num(self.top)}" '
            f'width="{num(self.right - self.left)}" height="{num(self.bottom - self.top)}" '
            f'fill="{fill}"/>'
        )


@dataclass(frozen=True)
class LegendEntry:
    """One legend item: a line sample (colour, dash) and/or a marker, then the text."""

    text: str
    shape: str | None = None
    size: float = 0.0
    mark_attrs: str = ""
    line: str | None = None
    dash: str | None = None
    line_width: float = 2.0


def document(
    cid: str, title: str, description: str, width: int, height: float, body: Sequence[str]
) -> str:
    """The complete, self-contained ``<svg>`` element."""
    h = num(height)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {h}" width="100%" '
        f'role="img" aria-labelledby="{cid}-title {cid}-desc" font-family="{FONT}" '
        f'font-size="{TEXT_SIZE}">'
        f'<title id="{cid}-title">{esc(title)}</title>'
        f'<desc id="{cid}-desc">{esc(description)}</desc>'
        # A white ground keeps the contrast ratios on dark pages and in PNG downloads.
        f'<rect width="{width}" height="{h}" fill="#ffffff"/>'
    )
    return head + "".join(body) + "</svg>"


def title_lines(title: str, width: float, *, size: float = TITLE_SIZE) -> list[str]:
    """``title`` wrapped by words to ``width`` px (bold text, estimated), at most three lines."""
    lines: list[str] = []
    current = ""
    for word in title.split():
        candidate = f"{current} {word}".strip()
        if current and text_width(candidate, size) * 1.08 > width:
            lines.append(current)
            current = word
        else:
            current = candidate
    if current:
        lines.append(current)
    if len(lines) > 3:
        lines = [*lines[:2], " ".join(lines[2:])]
    return lines


def title_block(title: str, width: int, y: float) -> tuple[list[str], float]:
    """The visible title from baseline ``y``; returns the parts and the y below it."""
    parts: list[str] = []
    for line in title_lines(title, width - 24):
        parts.append(
            f'<text x="12" y="{num(y)}" font-size="{TITLE_SIZE}" font-weight="700" '
            f'fill="{INK}">{esc(line)}</text>'
        )
        y += 20
    return parts, y


def _legend_sample(entry: LegendEntry, x: float, y: float) -> str:
    parts: list[str] = []
    if entry.line is not None:
        dash = f' stroke-dasharray="{entry.dash}"' if entry.dash else ""
        parts.append(
            f'<line x1="{num(x)}" y1="{num(y)}" x2="{num(x + 32)}" y2="{num(y)}" '
            f'stroke="{entry.line}" stroke-width="{num(entry.line_width)}"{dash}/>'
        )
    if entry.shape is not None:
        parts.append(marker(entry.shape, x + 16, y, entry.size, entry.mark_attrs))
    return "".join(parts)


def legend(
    entries: Sequence[LegendEntry], left: float, y: float, width: float
) -> tuple[list[str], float]:
    """The legend as rows of samples and text from ``y``; returns the parts and the y below.

    Entries flow left to right and wrap to a new row when the estimated width runs out.
    """
    parts = ['<g class="legend">']
    x = left
    row_y = y + 10
    for entry in entries:
        w = 40 + text_width(entry.text, TEXT_SIZE)
        if x > left and x + w > left + width:
            x = left
            row_y += 22
        parts.append(_legend_sample(entry, x, row_y))
        parts.append(
            f'<text x="{num(x + 40)}" y="{num(row_y + 4.5)}" fill="{INK}">{esc(entry.text)}</text>'
        )
        x += w + 20
    parts.append("</g>")
    return parts, row_y + 16


def x_axis(
    plot: Plot, scale: Scale, ticks: Sequence[float], labels: Sequence[str], *, grid: bool
) -> list[str]:
    """Tick marks and labels under the plot; vertical grid lines when ``grid``."""
    parts = [
        f'<line x1="{num(plot.left)}" y1="{num(plot.bottom)}" x2="{num(plot.right)}" '
        f'y2="{num(plot.bottom)}" stroke="{MUTED}"/>'
    ]
    last_end = -1e9
    for tick, label in zip(ticks, labels, strict=True):
        x = scale(tick)
        if grid:
            parts.append(
                f'<line x1="{num(x)}" y1="{num(plot.top)}" x2="{num(x)}" '
                f'y2="{num(plot.bottom)}" stroke="{GRID}"/>'
            )
        parts.append(
            f'<line x1="{num(x)}" y1="{num(plot.bottom)}" x2="{num(x)}" '
            f'y2="{num(plot.bottom + 5)}" stroke="{MUTED}"/>'
        )
        half = text_width(label, TICK_SIZE) / 2
        # keep the first and last label inside the chart's margins
        lx = max(plot.left - 30 + half, min(x, plot.right + 14 - half))
        if lx - half > last_end + 4:  # skip a label that would touch its neighbour
            parts.append(
                f'<text x="{num(lx)}" y="{num(plot.bottom + 19)}" font-size="{TICK_SIZE}" '
                f'text-anchor="middle" fill="{INK}">{esc(label)}</text>'
            )
            last_end = lx + half
    return parts


def y_axis(
    plot: Plot, scale: Scale, ticks: Sequence[float], labels: Sequence[str], *, grid: bool
) -> list[str]:
    """Tick marks and right-aligned labels left of the plot; horizontal grid when ``grid``."""
    parts = [
        f'<line x1="{num(plot.left)}" y1="{num(plot.top)}" x2="{num(plot.left)}" '
        f'y2="{num(plot.bottom)}" stroke="{MUTED}"/>'
    ]
    for tick, label in zip(ticks, labels, strict=True):
        y = scale(tick)
        if grid:
            parts.append(
                f'<line x1="{num(plot.left)}" y1="{num(y)}" x2="{num(plot.right)}" '
                f'y2="{num(y)}" stroke="{GRID}"/>'
            )
        parts.append(
            f'<line x1="{num(plot.left - 5)}" y1="{num(y)}" x2="{num(plot.left)}" '
            f'y2="{num(y)}" stroke="{MUTED}"/>'
        )
        parts.append(
            f'<text x="{num(plot.left - 8)}" y="{num(y + 4)}" font-size="{TICK_SIZE}" '
            f'text-anchor="end" fill="{INK}">{esc(label)}</text>'
        )
    return parts


def label_text(x: float, y: float, text: str, anchor: str, *, bold: bool = False) -> str:
    """A text label with a white halo, so it stays legible over dots and lines."""
    weight = ' font-weight="700"' if bold else ""
    return (
        f'<text class="label" x="{num(x)}" y="{num(y)}" text-anchor="{anchor}"{weight} '
        f'fill="{INK}" {HALO}>{esc(text)}</text>'
    )


Box = tuple[float, float, float, float]


def _overlaps(a: Box, b: Box) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _candidates(x: float, y: float, text: str, gap: float, bold: bool) -> list[tuple[Box, str]]:
    w = text_width(text, TEXT_SIZE) * (1.08 if bold else 1.0)
    top, bottom = y - 10, y + 6
    return [
        ((x - gap - w, top, x - gap, bottom), "end"),
        ((x + gap, top, x + gap + w, bottom), "start"),
    ]


def place_labels(
    plot: Plot,
    must: Sequence[tuple[float, float, str]],
    optional: Sequence[tuple[float, float, str]],
    *,
    gap: float = 11,
) -> list[str]:
    """Labels beside their points: every one of ``must`` (the focal municipality), and all of
    ``optional`` (the peers) only if each fits inside the plot without touching another label.
    """
    taken: list[Box] = []
    parts: list[str] = []

    def fits(box: Box) -> bool:
        inside = box[0] >= plot.left + 2 and box[2] <= plot.right - 2 and box[1] >= plot.top
        return inside and box[3] <= plot.bottom and not any(_overlaps(box, t) for t in taken)

    for x, y, text in must:
        options = _candidates(x, y, text, gap, True)
        box, anchor = next((c for c in options if fits(c[0])), None) or max(
            options, key=lambda c: min(c[0][0] - plot.left, plot.right - c[0][2])
        )
        taken.append(box)
        parts.append(label_text(_anchor_x(box, anchor), y + 4, text, anchor, bold=True))
    chosen: list[str] = []
    for x, y, text in optional:
        found = next((c for c in _candidates(x, y, text, gap, False) if fits(c[0])), None)
        if found is None:
            return parts  # all peers or none: a partial set would look like a selection
        box, anchor = found
        taken.append(box)
        chosen.append(label_text(_anchor_x(box, anchor), y + 4, text, anchor))
    return parts + chosen


def _anchor_x(box: Box, anchor: str) -> float:
    return box[2] if anchor == "end" else box[0]


def empty_body(plot: Plot) -> list[str]:
    """The message a chart shows when it has nothing to draw."""
    return [
        plot.rect("#f2f2f2"),
        f'<text class="empty" x="{num((plot.left + plot.right) / 2)}" '
        f'y="{num((plot.top + plot.bottom) / 2)}" text-anchor="middle" font-size="15" '
        f'fill="{INK}">Inga värden att visa</text>',
    ]


VERMILLION = "#D55E00"
BLUE = "#0072B2"
GREEN = "#009E73"
GREY = "#8A8A8A"
WIDTH = 720  # the default viewBox width; every font size is at least 12 in these units


def with_tooltip(element: str, text: str) -> str:
    """``element`` (a self-closing tag) with a ``<title>`` child, shown on hover."""
    tag = element[1 : element.index(" ")]
    return f"{element[:-2]}><title>{esc(text)}</title></{tag}>"


def header(title: str, show_title: bool, width: int) -> tuple[list[str], float]:
    """The visible title (if shown); returns the parts and the y below it."""
    if show_title:
        return title_block(title, width, 24)
    return [], 12


def axis_title(plot: Plot, text: str, y: float) -> str:
    """Text centred under the plot at baseline ``y``."""
    return (
        f'<text x="{num((plot.left + plot.right) / 2)}" y="{num(y)}" text-anchor="middle" '
        f'fill="{INK}">{esc(text)}</text>'
    )


def y_title(plot: Plot, text: str, x: float) -> str:
    """Text turned a quarter left, centred beside the plot at ``x``."""
    mid = (plot.top + plot.bottom) / 2
    return (
        f'<text transform="rotate(-90)" x="{num(-mid)}" y="{num(x)}" text-anchor="middle" '
        f'fill="{INK}">{esc(text)}</text>'
    )


def empty_svg(cid: str, title: str, description: str, show_title: bool, width: int) -> str:
    """A whole chart that says there is nothing to show."""
    parts, y = header(title, show_title, width)
    plot = Plot(12, y + 8, width - 12, y + 168)
    return document(cid, title, description, width, plot.bottom + 12, [*parts, *empty_body(plot)])


def check_lengths(name: str, expected: int, *columns: Sequence[object]) -> None:
    """Raise InvalidInputError unless every column has ``expected`` items."""
    if any(len(c) != expected for c in columns):
        raise InvalidInputError(f"{name}: kolumnerna har olika längd.")
