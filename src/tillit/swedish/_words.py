"""Counted nouns and other words in Swedish: "1 kommun", "2 kommuner", "1 gott exempel",
"2 goda exempel", "visar 20 av 181 träffar"; a KPI named by its title, not its id."""

from __future__ import annotations

from tillit.swedish._numbers import number

__all__ = [
    "DATASETS",
    "NOUNS",
    "ROW_COUNTS",
    "count",
    "count_of",
    "dataset",
    "genitive",
    "kpi_label",
    "plural",
]

#: Singular → plural of the nouns Tillit counts (an adjective agrees: gott → goda).
NOUNS: dict[str, str] = {
    "användare": "användare",
    "dag": "dagar",
    "enhet": "enheter",
    "enhetsvärde": "enhetsvärden",
    "exempel": "exempel",
    "fel": "fel",
    "fil": "filer",
    "försök": "försök",
    "gott exempel": "goda exempel",
    "grupp": "grupper",
    "jämförbar": "jämförbara",
    "jämförbar kommun": "jämförbara kommuner",
    "kommun": "kommuner",
    "kommun/region": "kommuner/regioner",
    "kommungrupp": "kommungrupper",
    "konto": "konton",
    "liknande kommun": "liknande kommuner",
    "nyckeltal": "nyckeltal",
    "organisation": "organisationer",
    "rad": "rader",
    "region": "regioner",
    "resultat": "resultat",
    "sekund": "sekunder",
    "sida": "sidor",
    "text": "texter",
    "träff": "träffar",
    "tydlig skillnad": "tydliga skillnader",
    "värde": "värden",
    "år": "år",
}


#: What the store's datasets and Kolada's catalogues hold, as a person calls them.
DATASETS: dict[str, str] = {
    "values": "värden",
    "ou_values": "enhetsvärden",
    "kpi": "nyckeltal",
    "kpi_groups": "nyckeltalsgrupper",
    "municipality": "kommuner och regioner",
    "municipality_groups": "kommungrupper",
    "ou": "enheter",
    "kpi_group_members": "nyckeltal i grupperna",
    "municipality_group_members": "kommuner i grupperna",
}

#: The counts a sync or an import records (its provenance's ``rows``), in words.
ROW_COUNTS: dict[str, str] = {
    "read": "lästa",
    "values": "hämtade",
    "rejected": "avvisade",
    "inserted": "nya",
    "updated": "ändrade",
    "deleted": "borttagna",
    "unchanged": "oförändrade",
    "total_in_store": "totalt i arkivet",
    **DATASETS,
}


def dataset(name: str) -> str:
    """A dataset or catalogue by what it holds ("kpi" → "nyckeltal"); an unknown name as
    it is."""
    return DATASETS.get(name, name)


def plural(singular: str) -> str:
    """The plural of a noun in ``NOUNS`` (KeyError for one that is not: add it there)."""
    return NOUNS[singular]


def _form(n: int | float, singular: str, plural_form: str | None) -> str:
    return singular if n == 1 else (plural_form or plural(singular))


def count(n: int, singular: str, plural_form: str | None = None) -> str:
    """n and the noun in the right number: count(1, "kommun") → "1 kommun", count(1 234,
    "värde") → "1 234 värden", count(2, "gott exempel") → "2 goda exempel"."""
    return f"{number(n)} {_form(n, singular, plural_form)}"


def count_of(shown: int, total: int, singular: str, plural_form: str | None = None) -> str:
    """Part of a whole, the noun agreeing with the whole: "1 av 1 träff", "20 av 181
    träffar"."""
    return f"{number(shown)} av {number(total)} {_form(total, singular, plural_form)}"


def kpi_label(kpi: str, title: str | None) -> str:
    """How a KPI is named to a person: its title, with the id after it for those who look it
    up ("Invånare totalt, antal (N01951)"); the bare id only when no title is known."""
    return f"{title} ({kpi})" if title and title != kpi else kpi


def genitive(name: str) -> str:
    """A name in the genitive: "Kungsbacka" → "Kungsbackas", "Region Halland" → "Region
    Hallands"; a name ending in s, x or z takes no s ("Borås", "Kalix", "Vännäs")."""
    name = name.rstrip()
    if not name or name[-1].lower() in "sxz":
        return name
    return name + "s"
