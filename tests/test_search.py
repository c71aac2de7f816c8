from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from tillit.store import Store, fold, terms
from tillit.store._search import Document, rank


def test_terms_are_stemmed_and_folded() -> None:
    assert terms("Äldreomsorgen") == terms("äldreomsorg") == ["aldreomsorg"]
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
