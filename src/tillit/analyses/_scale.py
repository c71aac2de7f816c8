"""Whether a KPI's value grows with the municipality's size.

Totals (inhabitants, tonnes emitted, million kronor) cannot be compared between a
municipality of 3,000 and one of 100,000: the larger one is always "behind" on
emissions and "ahead" on births. Such KPIs are shown but never ranked or tested; the
analyses suggest the per-inhabitant KPI instead. Decided from Kolada's title, whose
last comma-separated part is the unit."""

from __future__ import annotations

import re

# Units of amounts that add up over inhabitants.
_TOTAL_UNIT = re.compile(r"^(antal|ton|kg|mkr|tkr|miljoner|st|kwh|mwh|gwh|liter)\b")
# A unit that makes a value a rate, share, average or index.
_NORMALISED_UNIT = re.compile(
    r"andel|%|procent|index|medel|genomsnitt|median|\bgrad\b|täthet|kvot|balanstal|"
    r"förändring|poäng|dagar|\bkr\b|\bkm\b|\bår\b"
)
# Anywhere in the title: "per" something.
_RATE = re.compile(r"/|\bper\b")


def size_dependent(title: str) -> bool:
    """True when the KPI is a total that scales with population (e.g. "Invånare
    totalt, antal", "Utsläpp till luft av växthusgaser totalt, ton CO2-ekv")."""
    text = title.casefold().strip()
    if _RATE.search(text):
        return False
    unit = text.rsplit(",", 1)[-1].strip()
    if _TOTAL_UNIT.match(unit) or ("antal invånare" in unit and "förändring" not in unit):
        return True
    if _NORMALISED_UNIT.search(unit):
        return False
    return unit.startswith("antal ") or " antal " in f" {unit} "
