"""Which KPIs are counts over a known population, so that funnel limits can use the
count itself (binomial or Poisson) instead of the noise band.

Kolada publishes the rate, not the count; for register KPIs whose denominator is the
whole population ("antal/1000 inv", "andel (%) av befolkningen") the count follows from
the municipality's population (Kolada KPI N01951). Survey KPIs (e.g. the U014xx public
health survey estimates) are excluded: their denominator is a sample, not the
population. Age-specific denominators are not guessed."""

from __future__ import annotations

import re
from dataclasses import dataclass

POPULATION_KPI = "N01951"

_PER = re.compile(r"antal\s*/\s*(1\s?000|10\s?000|100\s?000)\s*inv(ånare)?\s*(,|$|\(|\))")
_SHARE_OF_POPULATION = re.compile(r"andel \(%\) av (bef\.?|befolkningen)\s*$")
# "0-22 år", "65+", "80 år": an age band, not the whole population ("25-49 m" is a pool).
_AGE = re.compile(r"\d+\s*[-–]\s*\d+\s*år|\d+\s*\+|\b\d+\s*år\b")


@dataclass(frozen=True)
class DenominatorRule:
    kind: str  # "proportion" or "ratio"
    scale: float  # 100 for per cent, 1000 for per 1000 inhabitants, …
    population_kpi: str
    reason: str  # English, for docs and JSON


def denominator_rule(kpi: str, title: str) -> DenominatorRule | None:
    """The denominator of a whole-population register KPI, or None."""
    text = title.casefold().strip()
    if not kpi.upper().startswith("N"):
        return None
    per = _PER.search(text)
    if per and not _AGE.search(text):
        scale = float(per.group(1).replace(" ", ""))
        return DenominatorRule(
            "ratio", scale, POPULATION_KPI, f"events per {scale:,.0f} inhabitants"
        )
    if _SHARE_OF_POPULATION.search(text) and not _AGE.search(text):
        return DenominatorRule("proportion", 100.0, POPULATION_KPI, "share of all inhabitants")
    return None
