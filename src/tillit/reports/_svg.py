"""Low-level SVG helpers: escaping, ids, Swedish numbers, nice ticks, scales and marker shapes.

Everything here is deterministic: the same input gives the same string, byte for byte.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TypeGuard

from tillit import swedish

__all__ = [
    "Axis",
    "Scale",
    "clean_id",
    "esc",
    "finite",
    "format_number",
    "linear_axis",
    "log_axis",
    "marker",
    "num",
    "polyline",
    "text_width",
]

MINUS = swedish.MINUS
GROUP = swedish.GROUP  # narrow no-break space between groups of thousands

# XML 1.0 forbids most control characters even when escaped; a hostile name may carry them.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def esc(text: str) -> str:
    """``text`` safe inside an XML element or a double-quoted attribute."""
    text = _NOT_XML.sub("", text)
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace('"', "&quot;")
        .replace("\n", " ")
        .replace("\r", " ")
        .replace("\t", " ")
    )


def clean_id(chart_id: str) -> str:
    """``chart_id`` reduced to ``[a-z0-9-]`` and starting with a letter (an XML name).

    Swedish letters lose their marks first, so "Fördelning" becomes "fordelning".
    """
    folded = unicodedata.normalize("NFKD", chart_id.lower())
    ascii_only = "".join(c for c in folded if not unicodedata.combining(c))
    cid = re.sub(r"[^a-z0-9]+", "-", ascii_only).strip("-")
    if not cid:
        return "chart"
    return cid if cid[0].isalpha() else f"c-{cid}"


def finite(value: float | None) -> TypeGuard[float]:
    """True for a real number that can be drawn (not None, NaN or ±inf)."""
    return value is not None and isinstance(value, (int, float)) and math.isfinite(value)


def num(x: float) -> str:
    """A coordinate with at most two decimals, no trailing zeros and never "-0"."""
    s = f"{x:.2f}".rstrip("0").rstrip(".")
    return "0" if s in ("-0", "") else s


def polyline(points: Iterable[tuple[float, float]]) -> str:
    """The ``d`` of a path through ``points`` (already in SVG coordinates)."""
    return "".join(f"{'M' if k == 0 else 'L'}{num(x)} {num(y)}" for k, (x, y) in enumerate(points))


def format_number(value: float, decimals: int = 0, *, group: bool = True) -> str:
    """``value`` in the one Swedish voice (``tillit.swedish.number``): decimal comma, U+202F
    between thousands, U+2212 as minus sign; ``group=False`` for years."""
    text = swedish.number(value, max(0, min(decimals, 12)))
    return text if group else text.replace(GROUP, "")


def value_decimals(value: float) -> int:
    """Decimals that show a single value sensibly: ``tillit.swedish.decimals_for``."""
    return swedish.decimals_for((value,))


def text_width(text: str, size: float) -> float:
    """A generous estimate of the width of ``text`` in a sans-serif font of ``size`` px.

    We cannot measure text without a font engine; overestimating keeps labels from colliding.
    """
    wide = sum(1 for c in text if c.isupper() or c in "mwMW—%")
    return (len(text) * 0.58 + wide * 0.12) * size


@dataclass(frozen=True)
class Axis:
    """A value axis: its domain (linear, or log10 of it), tick positions and tick labels."""

    lo: float
    hi: float
    ticks: tuple[float, ...]
    labels: tuple[str, ...]
    log: bool = False


def _nice_step(raw: float) -> float:
    exponent = math.floor(math.log10(raw))
    base = 10.0**exponent
    for factor in (1.0, 2.0, 5.0, 10.0):
        if raw <= factor * base * (1 + 1e-9):
            return factor * base
    return 10.0 * base


def linear_axis(values: Sequence[float], *, target: int = 5) -> Axis:
    """A linear axis whose nice ticks (1, 2 or 5 × 10ⁿ) cover every finite value (|v| ≤ 1e300).

    Equal (or nearly equal) values get a small symmetric span around them, so the axis never
    has zero length.
    """
    data = [v for v in values if finite(v)]
    if not data:
        data = [0.0, 1.0]
    lo, hi = min(data), max(data)
    mag = max(abs(lo), abs(hi))
    centre = lo / 2 + hi / 2
    half = hi / 2 - lo / 2
    if half <= 0:  # all values equal: ±5 % around them, or ±1 around zero
        half = mag * 0.05 if mag >= 1e-200 else 1.0
    # Ticks must lie far more apart than float rounding, so a span is never below a millionth
    # of the values' size (nor below 1e-100, which also keeps subnormal numbers out).
    half = max(half, mag * 1e-6, 1e-100)
    lo, hi = min(lo, centre - half), max(hi, centre + half)
    step = _nice_step((hi - lo) / max(1, target))
    start, stop = math.floor(lo / step), math.ceil(hi / step)
    ticks = tuple(k * step for k in range(start, stop + 1))
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    labels = tuple(format_number(t, decimals) for t in ticks)
    return Axis(min(ticks[0], lo), max(ticks[-1], hi), ticks, labels)


def log_axis(values: Sequence[float]) -> Axis:
    """A log10 axis over the positive finite values, ticks at 1, (2, 5) × 10ⁿ."""
    data = [v for v in values if finite(v) and v > 0]
    if not data:
        data = [1.0, 10.0]
    lo_e = math.floor(math.log10(min(data)))
    hi_e = math.ceil(math.log10(max(data)))
    if hi_e == lo_e:
        hi_e += 1
    factors = (1.0, 2.0, 5.0) if hi_e - lo_e <= 3 else (1.0,)
    ticks = tuple(f * 10.0**e for e in range(lo_e, hi_e + 1) for f in factors if e < hi_e or f == 1)
    labels = tuple(format_number(t, max(0, -math.floor(math.log10(t) + 1e-9))) for t in ticks)
    return Axis(float(lo_e), float(hi_e), ticks, labels, log=True)


@dataclass(frozen=True)
class Scale:
    """Maps a data value on ``axis`` to a pixel between ``start`` and ``end`` (inclusive)."""

    axis: Axis
    start: float
    end: float

    def __call__(self, value: float) -> float:
        if self.axis.log:
            t = (math.log10(value) - self.axis.lo) / (self.axis.hi - self.axis.lo)
        else:
            t = (value - self.axis.lo) / (self.axis.hi - self.axis.lo)
        # The axis covers every value; clamping only absorbs rounding at the edges.
        t = min(1.0, max(0.0, t))
        return self.start + t * (self.end - self.start)


def marker(shape: str, x: float, y: float, size: float, attrs: str) -> str:
    """One marker centred on (x, y); ``size`` is its half-width in px."""
    if shape == "circle":
        return f'<circle cx="{num(x)}" cy="{num(y)}" r="{num(size)}" {attrs}/>'
    if shape == "square":
        s = size * 0.9
        return (
            f'<rect x="{num(x - s)}" y="{num(y - s)}" width="{num(2 * s)}" '
            f'height="{num(2 * s)}" {attrs}/>'
        )
    if shape == "diamond":
        d = (
            f"M{num(x)} {num(y - size)}L{num(x + size)} {num(y)}"
            f"L{num(x)} {num(y + size)}L{num(x - size)} {num(y)}Z"
        )
    elif shape == "triangle":
        d = (
            f"M{num(x)} {num(y - size)}L{num(x + size)} {num(y + size * 0.8)}"
            f"L{num(x - size)} {num(y + size * 0.8)}Z"
        )
    else:
        raise ValueError(f"unknown marker shape {shape!r}")
    return f'<path d="{d}" {attrs}/>'
