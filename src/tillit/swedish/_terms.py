"""Swedish words as search terms, shared by the KPI search (``tillit.store``) and the bank's
search (``tillit.bank``), so that both meet inflections and diacritics the same way: a term
is the word lower-cased, Snowball-Swedish stemmed, then folded to ASCII
("Hemtjänsten" -> "hemtjanst", "äldreomsorgen" -> "aldreomsorg")."""

from __future__ import annotations

import functools
import threading
import unicodedata

import snowballstemmer

__all__ = ["fold", "term"]

# A Snowball stemmer keeps its state between calls, so one shared by threads (the web
# server's) gives wrong stems and IndexErrors: each thread gets its own.
_LOCAL = threading.local()


def _stem(word: str) -> str:
    stemmer = getattr(_LOCAL, "stemmer", None)
    if stemmer is None:
        stemmer = _LOCAL.stemmer = snowballstemmer.stemmer("swedish")
    return str(stemmer.stemWord(word))


def fold(text: str) -> str:
    """Lower-case and strip diacritics: "Åre Östra" -> "are ostra"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.lru_cache(maxsize=300_000)
def term(word: str) -> str:
    """One word's search term: lower-cased, stemmed, folded."""
    return fold(_stem(word.lower()))
