from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from tillit.store import Store, fold, terms
from tillit.store._search import Document, cached_documents, document, query_terms, rank


def test_terms_are_stemmed_and_folded() -> None:
    # The word's own term first, then its compound parts' ("äldre" + "omsorg").
    assert terms("Äldreomsorgen") == terms("äldreomsorg") == ["aldreomsorg", "aldr", "omsorg"]
    assert terms("hemtjänsten") == terms("Hemtjänst")
    assert fold("Åre Östra Göinge") == "are ostra goinge"


def test_stop_words_are_dropped() -> None:
    assert terms("andel av invånarna i kommunen") == terms("andel invånarna")


def _docs(*titles: str) -> list[Document]:
    return [Document(str(i), " ".join(terms(t)), "", fold(t)) for i, t in enumerate(titles)]


def test_rank_prefers_title_matches_and_all_terms() -> None:
    docs = _docs("Brukarbedömning hemtjänst äldreomsorg", "Hemtjänst", "Skola", "Äldreomsorg")
    hits = rank("äldreomsorgen hemtjänsten", docs)
    assert [h.key for h in hits] == ["0"]


def test_rank_matches_inside_compound_words() -> None:
    docs = _docs("Kostnad äldreomsorg", "Kostnad skola")
    assert [h.key for h in rank("omsorg", docs)] == ["0"]


def test_rank_falls_back_to_partial_matches() -> None:
    docs = _docs("Väntetid särskilt boende", "Kostnad särskilt boende")
    hits = rank("väntetid bostad", docs)
    assert hits and hits[0].key == "0"


@given(st.text(max_size=40))
def test_rank_never_fails_on_any_input(query: str) -> None:
    rank(query, _docs("Invånare totalt", "Äldreomsorg kostnad"))


def test_kpi_search_finds_inflected_words_ranked(metadata_store: Store) -> None:
    hits = metadata_store.search_kpis("äldreomsorgen", limit=20)
    assert hits
    for row, _ in hits[:10]:
        text = fold(f"{row['title']} {row['description']}")
        assert "aldreomsorg" in text
    # Title matches come before description-only matches.
    assert "aldreomsorg" in fold(hits[0][0]["title"])


def test_kpi_search_is_case_and_diacritic_tolerant(metadata_store: Store) -> None:
    a = [r["id"] for r, _ in metadata_store.search_kpis("VÄNTETID", limit=10)]
    b = [r["id"] for r, _ in metadata_store.search_kpis("vantetid", limit=10)]
    assert a and a == b


def test_kpi_search_puts_an_exact_id_first(metadata_store: Store) -> None:
    assert metadata_store.search_kpis("n01951")[0][0]["id"] == "N01951"


def test_municipality_lookup_by_name_code_and_folded_name(metadata_store: Store) -> None:
    assert metadata_store.municipality("Göteborg")["id"] == "1480"
    assert metadata_store.municipality("goteborgs kommun")["id"] == "1480"
    assert metadata_store.municipality("0180")["title"] == "Stockholm"
    assert [r["id"] for r in metadata_store.search_municipalities("upplands")] == [
        r["id"] for r in metadata_store.search_municipalities("Upplands")
    ]


# --- the indexed ranking equals a straightforward one ------------------------------------


def _reference_rank(query: str, docs: list[Document], limit: int) -> list[tuple[str, float]]:
    """The ranking as specified, testing every document: a query term matches a field as a
    whole term (title 3.0, body 1.0), as the start of a term (2.2, 0.7) or, for terms of four
    letters or more, inside a term (1.5, 0.4), times log(1 + (N + 1) / (df + 1)) where df
    counts the documents with a term starting with it; a phrase bonus; every term must
    match, else the most; ties to the shorter title, then the key."""
    words = list(dict.fromkeys(query_terms(query))) or list(
        dict.fromkeys(query_terms(query, keep_stopwords=True))
    )
    if not words:
        return []

    # Each field as " term term … ": a word is " w ", a word's start " w".
    padded = [(d, f" {d.title} ", f" {d.body} ") for d in docs]

    def how(word: str, field: str) -> int | None:
        if whole[word] in field:
            return 0
        if start[word] in field:
            return 1
        if len(word) >= 4 and word in field:
            return 2
        return None

    def df(word: str) -> int:
        return sum(1 for _, title, body in padded if start[word] in title or start[word] in body)

    whole = {w: f" {w} " for w in words}
    start = {w: f" {w}" for w in words}

    weight = {w: math.log(1 + (len(docs) + 1) / (df(w) + 1)) for w in words}
    phrase = fold(query.strip())
    scored = []
    for d, title, body in padded:
        score, matched = 0.0, 0
        for w in words:
            in_title, in_body = how(w, title), how(w, body)
            if in_title is not None:
                score += (3.0, 2.2, 1.5)[in_title] * weight[w]
            elif in_body is not None:
                score += (1.0, 0.7, 0.4)[in_body] * weight[w]
            else:
                continue
            matched += 1
        if not matched:
            continue
        if len(phrase) > 2 and phrase in d.exact:
            score *= 1.5 if d.exact.startswith(phrase) else 1.25
        scored.append((score, matched, len(d.exact), d.key))
    if not scored:
        return []
    needed = max(s[1] for s in scored)
    kept = sorted((s for s in scored if s[1] >= needed), key=lambda s: (-s[0], s[2], s[3]))
    return [(k, round(score, 3)) for score, _, _, k in kept[:limit]]


EQUIVALENCE_QUERIES = [
    # single words, inflected
    "äldreomsorg",
    "äldreomsorgen",
    "hemtjänst",
    "väntetid",
    "kostnad",
    "invånare",
    "skola",
    "elever",
    "brukarbedömning",
    "andel",
    "gymnasieskolan",
    "bibliotek",
    # inside compound words, prefixes
    "omsorg",
    "tjänst",
    "kost",
    "elev",
    "pers",
    "bo",
    "ek",
    "ålder",
    "skol",
    # several words
    "andel elever",
    "kostnad hemtjänst",
    "väntetid särskilt boende",
    "invånare 65 år",
    "nettokostnad avvikelse",
    "ekonomiskt bistånd hushåll",
    "elever i åk 9",
    "hemtjänst okänt ord",
    # diacritics and case
    "VÄNTETID",
    "vantetid",
    "aldreomsorg",
    "Förskola",
    "forskola",
    "Ålder",
    # ids, digits, stop words only, nothing
    "N00945",
    "n01951",
    "2020",
    "och i",
    "av",
    "zzzzqqq",
    "",
    "  ",
]


def test_kpi_search_equals_a_straightforward_ranking(metadata_store: Store) -> None:
    rows = metadata_store.kpis()
    docs = [document(r["id"], r["title"], r["description"]) for r in rows]
    for query in EQUIVALENCE_QUERIES:
        expected = _reference_rank(query, docs, 30)
        got = [(h.key, h.score) for h in rank(query, docs, limit=30)]
        assert got == expected, query
        # The store's cached index gives the same, after an exact KPI id.
        via_store = [(r["id"], s) for r, s in metadata_store.search_kpis(query, limit=30)]
        exact = query.strip().upper()
        if any(r["id"] == exact for r in rows):
            assert via_store[0] == (exact, float("inf"))
            assert via_store[1:] == [h for h in expected if h[0] != exact][:29], query
        else:
            assert via_store == expected, query


def test_municipality_search_equals_a_straightforward_ranking(metadata_store: Store) -> None:
    rows = metadata_store.municipalities()
    docs = [document(r["id"], r["title"]) for r in rows]
    for query in ["göteborg", "upplands", "sala", "norr", "öster", "vik", "Åre", "stad", "lund"]:
        assert [(h.key, h.score) for h in rank(query, docs, limit=20)] == _reference_rank(
            query, docs, 20
        ), query


def test_cached_documents_are_the_computed_ones_and_follow_the_texts(tmp_path: Path) -> None:
    import tillit.swedish._terms as terms_module

    cache = tmp_path / ".kpi.terms"
    items = [("N1", "Sjukfrånvaron bland anställda", "Äldreomsorgslyftet i kommunerna")]
    computed = cached_documents(cache, items)
    assert cache.exists() and computed == [document(*items[0])]
    # The next process reads them back, and the words' terms with them (no dictionary).
    terms_module._PRIMED.clear()
    assert cached_documents(cache, items) == computed
    assert terms_module._PRIMED["sjukfrånvaron"] == terms_module.word_terms.__wrapped__(
        "sjukfrånvaron"
    )
    # Another text is computed again, and so is a file that cannot be read.
    changed = [("N1", "Sjukfrånvaron bland anställda", "Förskolornas barn")]
    assert cached_documents(cache, changed) == [document(*changed[0])]
    cache.write_bytes(b"not marshal")
    assert cached_documents(cache, items) == computed
    assert cached_documents(None, items) == computed


def test_an_import_keeps_the_catalogues_search_terms_for_the_next_process(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Importing the KPI and municipality catalogues computes their search terms once, so
    that the first search of a later process only reads them."""
    import orjson

    import tillit.store._search as search_module
    from tillit.sync import import_path

    kpis = tmp_path / "kpi.json"
    kpis.write_bytes(
        orjson.dumps(
            {
                "values": [
                    {
                        "id": "N00001",
                        "title": "Sjukfrånvaron bland anställda",
                        "description": "Äldreomsorgslyftet",
                        "operating_area": "Personal",
                    }
                ]
            }
        )
    )
    units = tmp_path / "municipality.json"
    units.write_bytes(
        orjson.dumps({"values": [{"id": "1384", "title": "Kungsbacka", "type": "K"}]})
    )
    store = Store(tmp_path / "store")
    import_path(store, kpis)
    import_path(store, units)
    metadata = tmp_path / "store" / "metadata"
    assert (metadata / ".kpi.terms").is_file() and (metadata / ".municipality.terms").is_file()

    def computed(*args: Any, **kwargs: Any) -> Document:
        raise AssertionError("the terms were computed again")

    monkeypatch.setattr(search_module, "document", computed)
    later = Store(tmp_path / "store")
    assert [r["id"] for r, _ in later.search_kpis("sjukfrånvaro")] == ["N00001"]
    assert [r["id"] for r in later.search_municipalities("kungsbacka")] == ["1384"]
