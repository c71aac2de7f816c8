"""The gap chart of a report: per KPI, the mean difference to the peers' median with its
95 % interval, each row on its own scale (the KPIs have different units) centred on the
peers' median, and turned so that right is better (higher, when "better" is not known).
What a reader sees is where each interval lies against the median and whether it crosses
it: the uncertainty is drawn, not only said. Its data table follows it in the report."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tillit.reports._layout import BLUE, INK, MUTED, VERMILLION, WIDTH, document
from tillit.reports._svg import clean_id, esc, num, text_width

__all__ = ["GapRow", "gap_interval_chart"]

ROW = 30.0
LABEL_SIZE = 12.0


@dataclass(frozen=True)
class GapRow:
    """One KPI: its label, the gap (value − peers' median, natural units) with its
    interval, the direction in which it is better (+1 higher, −1 lower, 0 unknown: drawn
    as higher) and the verdict's short word, e.g. "tydligt bättre"."""

    label: str
    gap: float
    low: float
    high: float
    better: int
    verdict: str
    clear: int = 0  # +1 clearly better (or higher), −1 clearly worse (or lower), 0 neither


def _fit(text: str, width: float, size: float) -> str:
    if text_width(text, size) <= width:
        return text
    while text and text_width(text + "…", size) > width:
        text = text[:-1]
    return text.rstrip(" ,") + "…"


def gap_interval_chart(
    rows: Sequence[GapRow], *, chart_id: str, title: str, description: str, peers: str
) -> str:
    """The chart as a self-contained ``<svg>``; rows without an interval are left out
    (they are in the table with the reason)."""
    cid = clean_id(chart_id)
    drawn = [r for r in rows if all(math.isfinite(v) for v in (r.gap, r.low, r.high))]
    width = WIDTH
    label_w, verdict_w = 250.0, 110.0
    left, right = label_w + 10, width - verdict_w - 10
    centre = (left + right) / 2
    half = (right - left) / 2
    top = 40.0
    height = top + ROW * max(len(drawn), 1) + 12
    body = [
        f'<text x="{num(centre - 8)}" y="16" text-anchor="end" fill="{MUTED}">'
        f"← sämre än {esc(peers)}</text>",
        f'<text x="{num(centre + 8)}" y="16" fill="{MUTED}">bättre →</text>',
        f'<text x="{num(centre)}" y="32" text-anchor="middle" fill="{MUTED}" '
        f'font-size="11">median</text>',
        f'<line x1="{num(centre)}" y1="36" x2="{num(centre)}" y2="{num(height - 8)}" '
        f'stroke="{INK}" stroke-width="1"/>',
    ]
    if not drawn:
        body.append(
            f'<text x="{num(centre)}" y="{num(top + 18)}" text-anchor="middle" fill="{MUTED}">'
            "Inget nyckeltal kunde prövas.</text>"
        )
    for n, r in enumerate(drawn):
        y = top + ROW * n + ROW / 2
        sign = -1.0 if r.better < 0 else 1.0
        lo, hi = sorted((sign * r.low, sign * r.high))
        mid = sign * r.gap
        span = max(abs(lo), abs(hi), 1e-12) * 1.1
        x = [centre + half * v / span for v in (lo, mid, hi)]
        colour = BLUE if r.clear > 0 else VERMILLION if r.clear < 0 else MUTED
        if n % 2 == 0:
            body.append(
                f'<rect x="0" y="{num(y - ROW / 2)}" width="{width}" height="{num(ROW)}" '
                'fill="#f2f2f2"/>'
            )
        body.append(
            f'<text x="{num(label_w)}" y="{num(y + 4)}" text-anchor="end" fill="{INK}" '
            f'font-size="{num(LABEL_SIZE)}">{esc(_fit(r.label, label_w - 4, LABEL_SIZE))}</text>'
        )
        body.append(
            f'<line x1="{num(x[0])}" y1="{num(y)}" x2="{num(x[2])}" y2="{num(y)}" '
            f'stroke="{colour}" stroke-width="3" stroke-linecap="round"/>'
        )
        body.append(
            f'<circle cx="{num(x[1])}" cy="{num(y)}" r="5" fill="{colour}" '
            'stroke="#ffffff" stroke-width="1.5"/>'
        )
        verdict = esc(_fit(r.verdict, verdict_w - 4, LABEL_SIZE))
        body.append(
            f'<text x="{num(width - verdict_w)}" y="{num(y + 4)}" fill="{INK}" '
            f'font-size="{num(LABEL_SIZE)}">{verdict}</text>'
        )
    return document(cid, title, description, width, height, body)
