"""Swedish words as search terms, shared by the KPI search (``tillit.store``) and the bank's
search (``tillit.bank``), so that both meet inflections and diacritics the same way: a term
is the word lower-cased, Snowball-Swedish stemmed, then folded to ASCII
("Hemtjänsten" -> "hemtjanst", "äldreomsorgen" -> "aldreomsorg")."""

from __future__ import annotations

import functools
import unicodedata

import snowballstemmer

__all__ = ["fold", "term"]

_STEMMER = snowballstemmer.stemmer("swedish")


def fold(text: str) -> str:
    """Lower-case and strip diacritics: "Åre Östra" -> "are ostra"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.lru_cache(maxsize=300_000)
def term(word: str) -> str:
    """One word's search term: lower-cased, stemmed, folded."""
    return fold(_STEMMER.stemWord(word.lower()))
