"""Swedish inflections find each other: a table of nouns in all four forms and their
genitives, compounds and verbs, searched in the KPI search and in the bank on SQLite and
PostgreSQL. Every form of a group finds every other (100 %), and a compound is found by its
parts."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine

from tests.test_bank_search import (  # noqa: F401 (fixtures)
    add_example,
    add_org,
    engine,
    pg_engine,
    sqlite_template,
)
from tillit.bank._search import search_examples
from tillit.store._search import SearchIndex, document, rank
from tillit.swedish import lemma, term, word_terms

#: Forms of one word: each must find every other.
GROUPS = [
    # nouns: indefinite and definite singular and plural, and genitives
    ["skola", "skolan", "skolor", "skolorna", "skolans", "skolornas"],
    ["förskola", "förskolan", "förskolor", "förskolorna", "förskolans", "förskolornas"],
    ["kommun", "kommunen", "kommuner", "kommunerna", "kommunens", "kommunernas"],
    ["elev", "eleven", "elever", "eleverna", "elevens", "elevernas"],
    ["kvinna", "kvinnan", "kvinnor", "kvinnorna", "kvinnans", "kvinnornas"],
    ["barn", "barnet", "barnen", "barns", "barnets", "barnens"],
    ["projekt", "projektet", "projekten", "projektets", "projektens"],
    ["bibliotek", "biblioteket", "biblioteken", "bibliotekets", "bibliotekens"],
    ["företag", "företaget", "företagen", "företagets", "företagens"],
    ["verksamhet", "verksamheten", "verksamheter", "verksamheterna", "verksamhetens"],
    ["invånare", "invånaren", "invånarna", "invånares", "invånarnas"],
    ["medarbetare", "medarbetaren", "medarbetarna", "medarbetarnas"],
    ["museum", "museet", "museer", "museerna", "museets"],
    ["man", "mannen", "män", "männen", "mannens"],
    ["stad", "staden", "städer", "städerna", "stadens"],
    ["boende", "boendet", "boenden", "boendets"],
    ["hemtjänst", "hemtjänsten", "hemtjänstens"],
    ["sjukfrånvaro", "sjukfrånvaron", "sjukfrånvarons"],
    ["äldreomsorg", "äldreomsorgen", "äldreomsorgens"],
    # compounds, inflected
    ["vindkraftverk", "vindkraftverket", "vindkraftverken", "vindkraftverkets", "vindkraftverkens"],
    ["kollektivtrafik", "kollektivtrafiken", "kollektivtrafikens"],
    ["förskoleklass", "förskoleklassen", "förskoleklasser", "förskoleklasserna"],
    ["äldreomsorgslyft", "äldreomsorgslyftet", "äldreomsorgslyftets"],
    # verbs: infinitive, present, past, supine
    ["arbeta", "arbetar", "arbetade", "arbetat"],
    ["planera", "planerar", "planerade", "planerat"],
    ["utveckla", "utvecklar", "utvecklade", "utvecklat"],
    ["minska", "minskar", "minskade", "minskat"],
    ["öka", "ökar", "ökade", "ökat"],
    ["skriva", "skriver", "skrev", "skrivit"],
    # adjectives
    ["ekonomisk", "ekonomiskt", "ekonomiska"],
]

#: (text, query): the query, a part of the compound, finds the text.
COMPOUNDS = [
    ("äldreomsorgslyftet", "äldreomsorg"),
    ("äldreomsorgslyftet", "äldreomsorgen"),
    ("äldreomsorgslyftet", "lyft"),
    ("äldreomsorgslyftet", "lyftet"),
    ("vindkraftverket", "kraftverk"),
    ("vindkraftverket", "vindkraft"),
    ("kollektivtrafiken", "trafiken"),
    ("hemtjänsten", "tjänst"),
    ("barnomsorgen", "omsorg"),
    ("försörjningsstödet", "stöd"),
]

#: Every (text, query) that must find each other, both ways for the groups.
PAIRS = [(a, b) for group in GROUPS for a in group for b in group if a != b] + COMPOUNDS


def test_the_table_is_large() -> None:
    assert len(PAIRS) >= 400


def test_lemmas_of_the_issue() -> None:
    assert lemma("vindkraftverket") == "vindkraftverk"
    assert lemma("kommunernas") == "kommun"
    assert lemma("förskolornas") == "förskola"
    assert lemma("äldreomsorgslyftet") == "äldreomsorgslyft"
    assert {term("äldreomsorg"), term("lyft")} <= set(word_terms("äldreomsorgslyftet"))


def test_every_form_of_a_group_has_one_term() -> None:
    different = {tuple(g): {w: term(w) for w in g} for g in GROUPS}
    assert [g for g, t in different.items() if len(set(t.values())) > 1] == []


def _texts() -> list[str]:
    return sorted({text for text, _ in PAIRS})


def test_kpi_search_finds_every_pair() -> None:
    texts = _texts()
    index = SearchIndex(
        [document(str(i), f"Andel {t}", "Beskrivning.") for i, t in enumerate(texts)]
    )
    key = {t: str(i) for i, t in enumerate(texts)}
    missed = [
        (text, query)
        for text, query in PAIRS
        if key[text] not in {h.key for h in rank(query, index, limit=len(texts))}
    ]
    assert missed == [], f"{len(missed)} of {len(PAIRS)} pairs missed"


def test_bank_search_finds_every_pair(engine: Engine) -> None:  # noqa: F811
    texts = _texts()
    with engine.begin() as conn:
        org = add_org(conn, "1384", "Kungsbacka")
        ids = {t: add_example(conn, org, f"Exempel: {t}", "Ett kort exempel.") for t in texts}
        missed: list[tuple[str, str]] = []
        found: dict[str, set[int]] = {}
        for text, query in PAIRS:
            if query not in found:
                result: Any = search_examples(conn, query, limit=len(texts))
                assert not result.fallback_used, query
                found[query] = {h.example_id for h in result.hits}
            if ids[text] not in found[query]:
                missed.append((text, query))
    assert missed == [], f"{len(missed)} of {len(PAIRS)} pairs missed"


@pytest.mark.parametrize(("text", "query"), COMPOUNDS)
def test_a_compound_is_not_found_by_an_unrelated_word(text: str, query: str) -> None:
    # The parts are the compound's own: no part of "äldreomsorgslyftet" is "skola".
    assert term("skola") not in word_terms(text)
    assert term(query) in word_terms(text)
