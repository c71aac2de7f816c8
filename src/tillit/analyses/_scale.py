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
# Anywhere in the title: "per" something. A slash makes a rate only when what follows is a
# denominator ("Elever/lärare", "antal/1000 inv", "kr/inv"); elsewhere it means "or"
# ("gymnasieskola/komvux", "Asylsökande/inskrivna") and the KPI can still be a total.
_RATE = re.compile(
    r"\bper\b|/\s*(\d|inv\b|inv\.|invånare|lärare|årsarbetare|sjuksköterska|elev|plats|"
    r"hushåll|brukare|anställd|heltid|personal|barn\b|kvm|km|m2|kr\b|tkr|dag\b|år\b|månad\b|"
    r"timme\b|vecka\b|person|friidrottsplats|idrottsplats|fotbollsplan)"
)


def size_dependent(title: str) -> bool:
    """True when the KPI is a total that scales with population (e.g. "Invånare
    totalt, antal", "Utsläpp till luft av växthusgaser totalt, ton CO2-ekv")."""
    text = title.casefold().strip()
    if _RATE.search(text):
        return False
    unit = text.rsplit(",", 1)[-1].strip()
    if "/" in unit:  # "antal/ishall", "kr/inv": the unit itself is a rate
        return False
    if _TOTAL_UNIT.match(unit) or ("antal invånare" in unit and "förändring" not in unit):
        return True
    if _NORMALISED_UNIT.search(unit):
        return False
    return unit.startswith("antal ") or " antal " in f" {unit} "
