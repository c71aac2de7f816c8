"""Checks of a goal before it is set (issue 16; docs/goals.md): can the change it asks for
be told from the KPI's year-to-year noise at all (:func:`measurability`), and how many
structurally similar units achieved as much over as many years (:func:`ambition`). The
model of a series is that of ``_goals``: a line plus AR(1) noise."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tillit import swedish
from tillit.analyses._goals import (
    AMBITION_LABELS,
    DETECTION_LEVEL,
    DIRECTIONS,
    MAX_RHO,
    POWER,
    IndicatorSeries,
    Target,
    _t_quantile,
    _with,
)
from tillit.errors import InvalidInputError

__all__ = ["Ambition", "Measurability", "ambition", "measurability"]

# -- measurability ----------------------------------------------------------------------


@dataclass(frozen=True)
class Measurability:
    """Whether the change a target asks for can be told from the KPI's noise.

    ``smallest_detectable_change``: the smallest change between the baseline year's and
    the target year's published values that a two-sided test at DETECTION_LEVEL tells
    from noise (a true change of this size passes half the time); ``reliable_change``:
    the true change that passes with POWER. ``measurable`` is None when the noise is
    unknown or the target asks for no change."""

    measurable: bool | None
    required_change: float
    smallest_detectable_change: float
    reliable_change: float
    years: int
    text: str


def _change_se(sd: float, rho: float, years: int) -> float:
    """SD of y(B + years) − y(B) under AR(1) noise."""
    rho = min(max(0.0 if math.isnan(rho) else rho, -MAX_RHO), MAX_RHO)
    return sd * math.sqrt(2.0 * (1.0 - rho**years))


def measurability(series: IndicatorSeries, target: Target) -> Measurability:
    """Can the change from the baseline to the target be told from noise? The change a
    council sees is the target year's published value less the baseline year's; under
    AR(1) noise its noise SD is σ·√(2(1 − ρʰ)) for h years. With σ estimated on ν degrees
    of freedom the critical values are t's."""
    years = target.target_year - target.baseline_year
    required = target.required_change
    unit = swedish.change_unit(series.unit)
    sd, df = series.noise_sd, series.noise_df
    nan = math.nan
    asked = (
        f"Målet kräver {_with(swedish.difference(required), unit)} från "
        f"{target.baseline_year} till {target.target_year}"
    )
    if target.sign * required <= 0:
        text = (
            f"{asked}: ingen förbättring, bara att värdet håller sig på rätt sida om "
            f"{swedish.number(target.target)}."
        )
        return Measurability(None, required, nan, nan, years, text)
    if years < 1:
        text = f"{asked}: samma år, så det finns ingen förändring över tid att mäta."
        return Measurability(None, required, nan, nan, years, text)
    if not (math.isfinite(sd) and sd > 0) or math.isnan(df) or df <= 0:
        text = (
            f"{asked}; nyckeltalets årsbrus här är okänt, så det går inte att säga om "
            "förändringen kan mätas."
        )
        return Measurability(None, required, nan, nan, years, text)
    se = _change_se(sd, series.rho, years)
    crit = float(_t_quantile(0.5 + DETECTION_LEVEL / 2.0, df))
    power = float(_t_quantile(POWER, df))
    smallest = crit * se
    reliable = (crit + power) * se
    measurable = abs(required) >= smallest
    lo = swedish.number(smallest)
    if measurable:
        text = (
            f"{asked}. Det går att skilja från slumpen: med nyckeltalets årsbrus "
            f"syns en förändring från {_with(lo, unit)}"
        )
        text += (
            "."
            if abs(required) >= reliable
            else (
                f", men en förändring av just den storleken syns bara ungefär hälften av gångerna; "
                f"säkert (i {swedish.share(POWER)} av fallen) syns den från "
                f"{_with(swedish.number(reliable), unit)}."
            )
        )
    else:
        text = (
            f"{asked}; med det här nyckeltalets årsbrus går en förändring under "
            f"{_with(lo, unit)} inte att skilja från slumpen."
        )
    return Measurability(measurable, required, smallest, reliable, years, text)


# -- ambition ----------------------------------------------------------------------------

_YEAR_WORDS = ("noll", "ett", "två", "tre", "fyra", "fem", "sex", "sju", "åtta", "nio", "tio")


def _years_text(n: int) -> str:
    word = _YEAR_WORDS[n] if 0 <= n < len(_YEAR_WORDS) else swedish.number(n)
    return f"{word} år"


@dataclass(frozen=True)
class Ambition:
    """How many structurally similar units achieved the target's change over as many
    years. ``level``: beyond_peers (none did), ambitious (under a quarter), realistic,
    modest (over three quarters), unknown (no peers)."""

    achieved: int
    peers: int
    share: float  # NaN without peers
    required_change: float
    horizon_years: int
    level: str
    label: str
    text: str


def ambition(
    required_change: float,
    horizon_years: int,
    peer_changes: Sequence[float],
    direction: str,
    *,
    unit_plural: str = "liknande kommuner",
) -> Ambition:
    """Count the peers whose change over ``horizon_years`` years (``peer_changes``, in the
    KPI's unit, NaN for none) was at least as large an improvement as ``required_change``
    (improvement: up for increase/at_least, down for decrease/at_most)."""
    if direction not in DIRECTIONS:
        raise InvalidInputError(
            f"Okänd riktning {direction!r} för ett mål.",
            hint="Välj increase, decrease, at_least eller at_most.",
        )
    sign = DIRECTIONS[direction]
    changes = np.asarray(peer_changes, dtype=np.float64)
    changes = changes[np.isfinite(changes)]
    peers = int(changes.size)
    achieved = int((sign * changes >= sign * required_change).sum())
    singular = unit_plural[:-2] if unit_plural.endswith("er") else unit_plural
    noun = unit_plural if peers != 1 else singular
    span = _years_text(horizon_years)
    if peers == 0:
        return Ambition(
            0,
            0,
            math.nan,
            required_change,
            horizon_years,
            "unknown",
            AMBITION_LABELS["unknown"],
            f"Det finns inga {unit_plural} med värden att jämföra förändringen med.",
        )
    share = achieved / peers
    level = (
        "beyond_peers"
        if achieved == 0
        else "ambitious"
        if share < 0.25
        else "modest"
        if share > 0.75
        else "realistic"
    )
    count = f"{swedish.number(achieved)} av {swedish.number(peers)} {noun}"
    if sign * required_change > 0:
        text = f"{count} har förbättrat sig så mycket på {span}."
    else:
        text = (
            f"Målet tillåter en försämring med upp till "
            f"{swedish.number(abs(required_change))}; {count} har hållit sig inom det på {span}."
        )
    return Ambition(
        achieved,
        peers,
        share,
        required_change,
        horizon_years,
        level,
        AMBITION_LABELS[level],
        text,
    )


# -- a goal of several indicators --------------------------------------------------------
