"""Numbers in Swedish, one way everywhere: the CLI, the pages, the charts and the labels of the
JSON all write a number with these functions.

The rules (docs/glossary.md, "Rösten"):

- a decimal comma; thousands grouped by a narrow no-break space (U+202F, the thin space of
  Swedish typesetting, which never breaks a line inside a number); the true minus sign
  U+2212; a no-break space (U+00A0) between a number and its unit ("12,5 %", "21 122 kr");
- one set of decimals for numbers shown together (``decimals_for``), from the size of the
  largest: none from 100, one from 1, two from 0,1, else two significant digits; whole numbers
  get none;
- a comparison (``side_by_side``, ``interval``) adds decimals until different values read
  differently: "0,012 mot 0,014", never "0,01 mot 0,01";
- a difference or a change (``difference``, ``per_year``) that is not zero never reads as
  zero: "−0,0031 per år", never "-0,00 per år"; a zero is written "0", without a sign.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from decimal import ROUND_HALF_UP, Context, Decimal
from typing import SupportsFloat

__all__ = [
    "GROUP",
    "MINUS",
    "MISSING",
    "UNIT_SPACE",
    "change_unit",
    "decimals_for",
    "difference",
    "distinguishing_decimals",
    "interval",
    "kpi_unit",
    "money",
    "number",
    "p_value",
    "per_year",
    "percent",
    "share",
    "side_by_side",
    "with_unit",
]

#: Between groups of three digits: the narrow no-break space.
GROUP = "\u202f"
#: The minus sign (not the hyphen-minus of ASCII).
MINUS = "\u2212"
#: Between a number and its unit: a no-break space.
UNIT_SPACE = "\u00a0"
#: What a missing value (None, NaN, ±∞) is written as.
MISSING = "–"

#: Past this many decimals two different doubles always read differently (the smallest
#: positive double is about 4.9e-324, and 17 significant digits tell any two doubles apart).
_MOST_DECIMALS = 345

Number = SupportsFloat | None

#: 10**d for the decimals whose power of ten is an exact double.
_POWERS = tuple(10.0**d for d in range(23))
#: Enough precision for any double with any decimals up to ``_MOST_DECIMALS``.
_EXACT = Context(prec=1000)


def _finite(value: Number) -> float | None:
    if value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def _digits(x: float, decimals: int) -> str:
    """|x| with ``decimals`` decimals, grouped, decimal comma; no sign. Half rounds away from
    zero (12,5 → 13), as taught in school, on the exact value of the double."""
    size = abs(x)
    scaled = size * _POWERS[decimals] if decimals < len(_POWERS) else math.inf
    if math.isfinite(scaled) and scaled - math.floor(scaled) != 0.5:
        # Not a tie (a tie's product is exact, so this test never misses one): Python's own
        # formatting rounds as Decimal would, and is several times faster.
        text = f"{size:,.{decimals}f}"
    else:
        exact = Decimal(size).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP, _EXACT)
        text = f"{exact:,f}"
    return text.replace(",", GROUP).replace(".", ",")


def _is_zero(text: str) -> bool:
    return not text.strip("0," + GROUP)


def number(value: Number, decimals: int | None = None, *, sign: bool = False) -> str:
    """``value`` in Swedish: 1234567.891 → "1 234 568", 31.34 → "31,3", −0.0123 → "−0,012".

    ``decimals``: how many (default: ``decimals_for([value])``). A value that rounds to zero is
    written without a minus sign. ``sign``: a plus sign before positive values (for changes).
    None, NaN and ±∞ are written "–"."""
    x = _finite(value)
    if x is None:
        return MISSING
    if decimals is None:
        decimals = 0 if x.is_integer() else _decimals_one(x)
    body = _digits(x, max(0, decimals))
    if _is_zero(body):
        return body
    if x < 0:
        return MINUS + body
    return ("+" + body) if sign else body


def decimals_for(values: Iterable[Number]) -> int:
    """The decimals to show ``values`` side by side with: none if all are whole, else from the
    largest size: none from 100, one from 1, two from 0,1, else two significant digits."""
    finite = [x for x in (_finite(v) for v in values) if x is not None]
    if not finite or all(x.is_integer() for x in finite):
        return 0
    return _decimals_one(max(abs(x) for x in finite))


def _decimals_one(largest: float) -> int:
    largest = abs(largest)
    if largest >= 100:
        return 0
    if largest >= 1:
        return 1
    if largest >= 0.1:
        return 2
    return 1 - math.floor(math.log10(largest))


def _distinguish(values: Iterable[Number], decimals: int | None) -> tuple[int, dict[float, str]]:
    """The decimals ``distinguishing_decimals`` chooses, and each finite value's text."""
    finite = sorted({x for x in (_finite(v) for v in values) if x is not None})
    d = decimals_for(finite) if decimals is None else max(0, decimals)
    while True:
        texts = {x: number(x, d) for x in finite}
        clash = len(set(texts.values())) < len(texts)
        if d >= _MOST_DECIMALS or not (
            clash or any(x != 0 and _is_zero(t) for x, t in texts.items())
        ):
            return d, texts
        d += 1


def distinguishing_decimals(values: Iterable[Number], decimals: int | None = None) -> int:
    """At least ``decimals`` (default ``decimals_for``), and as many more as it takes for
    different values to read differently and for no value but zero to read as zero."""
    return _distinguish(values, decimals)[0]


def side_by_side(values: Sequence[Number], decimals: int | None = None) -> tuple[str, ...]:
    """``values`` written with one set of decimals, enough that different values read
    differently: (0.0123, 0.0138) with 2 decimals → ("0,012", "0,014"); (0.01231, 0.01234) →
    ("0,01231", "0,01234")."""
    _, texts = _distinguish(values, decimals)
    return tuple(MISSING if (x := _finite(v)) is None else texts[x] for v in values)


def difference(value: Number, decimals: int | None = None) -> str:
    """A signed difference or change: "+1,2", "−0,0031", "0". A difference that is not zero
    keeps digits until it does not read as zero (``decimals`` is the least)."""
    x = _finite(value)
    if x is None:
        return MISSING
    if x == 0:
        return "0"
    if decimals is None:
        decimals = 0 if x.is_integer() else _decimals_one(x)
    d = max(0, decimals)
    while True:
        text = number(x, d, sign=True)
        if not _is_zero(text) or d >= _MOST_DECIMALS:
            return text
        d += 1


def change_unit(unit: str) -> str:
    """The unit of a difference or change of a value in ``unit``: a change of a percentage is
    in percentage points ("procentenheter"); any other unit stays."""
    return "procentenheter" if unit == "%" else unit


def per_year(value: Number, unit: str = "", decimals: int | None = None) -> str:
    """A change per year: "+0,012 procentenheter per år", "−3 kr/inv per år", "0 per år"."""
    text = difference(value, decimals)
    if text == MISSING:
        return MISSING
    unit = change_unit(unit)
    return f"{text}{UNIT_SPACE}{unit} per år" if unit else f"{text} per år"


def interval(low: Number, high: Number, unit: str = "", decimals: int | None = None) -> str:
    """An interval: "0,012 till 0,014 %", "−1,2 till 3,4". The ends get the same decimals,
    enough that different ends read differently."""
    lo, hi = side_by_side((low, high), decimals)
    text = f"{lo} till {hi}"
    return f"{text}{UNIT_SPACE}{unit}" if unit else text


def p_value(p: Number) -> str:
    """A p-value or other probability: three significant digits below 1 ("0,0588",
    "0,000400"), so two p-values on either side of a threshold never read the same."""
    x = _finite(p)
    if x is None:
        return MISSING
    return number(x, 0 if x == 0 else decimals_for((x,)) + (1 if abs(x) < 1 else 0))


def percent(value: Number, decimals: int | None = None) -> str:
    """A value already in percent: 12.5 → "12,5 %"."""
    text = number(value, decimals)
    return text if text == MISSING else f"{text}{UNIT_SPACE}%"


def share(fraction: Number, decimals: int = 0) -> str:
    """A share as a percentage: 0.125 → "13 %" (``decimals``: of the percentage)."""
    x = _finite(fraction)
    return MISSING if x is None else percent(100 * x, decimals)


def money(value: Number, unit: str = "kr") -> str:
    """Kronor: whole kronor from 100 ("21 122 kr", never "21 122,0 kr"), else as ``number``."""
    x = _finite(value)
    if x is None:
        return MISSING
    return f"{number(x, 0 if abs(x) >= 100 else None)}{UNIT_SPACE}{unit}"


def with_unit(value: Number, unit: str, decimals: int | None = None) -> str:
    """``value`` and the KPI's ``unit`` (from ``kpi_unit``): "12,5 %", "21 122 kr/inv",
    "3,2" (no unit)."""
    if unit.startswith(("kr", "tkr")) and decimals is None:
        return money(value, unit)
    text = number(value, decimals)
    if text == MISSING or not unit:
        return text
    return f"{text}{UNIT_SPACE}{unit}"


def kpi_unit(title: str) -> str:
    """The unit a person reads after a KPI's value, from the tail Kolada writes at the end of
    its title: "…, andel (%)" → "%", "…, kr/inv" → "kr/inv", "…, antal/1000 inv" →
    "per 1 000 inv", "…, antal dagar" → "dagar"; a count, an index or an average → ""."""
    if "," not in title:
        return ""
    tail = title.rsplit(",", 1)[-1].strip()
    while tail.endswith(")") and "(-" in tail:  # "andel (%) (-2024)": discontinued after 2024
        tail = tail[: tail.rindex("(-")].strip()
    if "(%)" in tail or tail == "%":
        return "%"
    if tail.startswith("antal/"):
        per = tail.removeprefix("antal/").strip()
        match = re.match(r"([\d ]*\d)\s*(.*)", per)
        if match:  # "1000 inv" and "100 000 invånare": the count grouped like every number
            return f"per {number(int(match[1].replace(' ', '')))} {match[2]}".strip()
        return f"per {per}"
    if tail.startswith("antal "):
        return tail.removeprefix("antal ").strip()
    first = tail.split(" ", 1)[0]
    if first.startswith(("kr", "tkr", "kg", "MWh", "kWh", "ton", "m2", "kvm", "dagar", "timmar")):
        return tail if len(tail) <= 24 else first
    return ""
