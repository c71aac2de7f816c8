"""The words and addresses of the two kinds of organisation the pages compare: the 290
municipalities ("K", at /kommun/…) and the 21 regions ("L", at /region/…). One template
serves both; it takes its words from here, so a municipality's page reads as before and a
region's speaks of regions and their comparison regions."""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup

__all__ = ["Words", "words"]


@dataclass(frozen=True)
class Words:
    """What a page calls the unit, its peers and its key KPIs, and where it lives."""

    kind: str  # "K" or "L"
    unit: str  # "kommun"
    the_unit: str  # "kommunen"
    the_unit_s: str  # "kommunens"
    units: str  # "kommuner"
    Units: str  # "Kommuner"
    the_units: str  # "kommunerna"
    all_units: str  # "alla kommuner"
    all_units_s: str  # "alla kommuners"
    peers: str  # "liknande kommuner"
    Peers: str  # "Liknande kommuner"
    peer: str  # "liknande kommun" (one of them, as the charts' tables call it)
    the_peers: str  # "de liknande kommunerna"
    the_peers_s: str  # "de liknande kommunernas"
    Peers_s: str  # "Liknande kommuners"
    key_group: Markup  # "nyckeltalen i <em>Läget i kommunen</em>"
    key_caption: str  # "Läget i kommunen"
    path: str  # "/kommun"
    param: str  # "kommun": the KPI page's parameter naming the chosen unit
    code_column: str  # "kommunkod": the charts' CSV columns
    chosen: str  # "vald kommun"


MUNICIPALITY = Words(
    kind="K",
    unit="kommun",
    the_unit="kommunen",
    the_unit_s="kommunens",
    units="kommuner",
    Units="Kommuner",
    the_units="kommunerna",
    all_units="alla kommuner",
    all_units_s="alla kommuners",
    peers="liknande kommuner",
    Peers="Liknande kommuner",
    peer="liknande kommun",
    the_peers="de liknande kommunerna",
    the_peers_s="de liknande kommunernas",
    Peers_s="Liknande kommuners",
    key_group=Markup("nyckeltalen i <em>Läget i kommunen</em>"),
    key_caption="Läget i kommunen",
    path="/kommun",
    param="kommun",
    code_column="kommunkod",
    chosen="vald kommun",
)

# A region's structural peers are its "jämförelseregioner": "liknande regioner" is the
# name of Kolada's own groups, shown beside them on the peer page.
REGION = Words(
    kind="L",
    unit="region",
    the_unit="regionen",
    the_unit_s="regionens",
    units="regioner",
    Units="Regioner",
    the_units="regionerna",
    all_units="alla regioner",
    all_units_s="alla regioners",
    peers="jämförelseregioner",
    Peers="Jämförelseregioner",
    peer="jämförelseregion",
    the_peers="jämförelseregionerna",
    the_peers_s="jämförelseregionernas",
    Peers_s="Jämförelseregionernas",
    key_group=Markup("regionernas utvalda nyckeltal"),
    key_caption="Regionernas nyckeltal",
    path="/region",
    param="region",
    code_column="regionkod",
    chosen="vald region",
)


def words(kind: str) -> Words:
    """The words of municipalities ("K") or regions ("L")."""
    return REGION if kind == "L" else MUNICIPALITY
