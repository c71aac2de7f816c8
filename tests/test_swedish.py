"""Swedish search terms are the same whichever thread computes them (the web server
lemmatises and stems in many threads at once)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

import tillit.swedish._terms as _terms
from tillit.swedish import term, word_terms

WORDS = [
    f"{stem}{ending}"
    for stem in ("hemtjänst", "äldreomsorg", "skola", "förskola", "bibliotek", "kommun")
    for ending in ("", "en", "erna", "ens", "arnas", "ar", "s", "heten", "ningen")
]


def _clear_caches() -> None:
    """Make the next call lemmatise, split and stem again."""
    term.cache_clear()
    word_terms.cache_clear()
    _terms._lemma_and_parts.cache_clear()
    _terms._split.cache_clear()
    _terms._known.cache_clear()
    _terms._term_of.cache_clear()


def test_terms_are_the_same_in_many_threads_at_once() -> None:
    expected = {w: term(w) for w in WORDS}
    expected_terms = {w: word_terms(w) for w in WORDS}
    _clear_caches()  # every thread lemmatises, splits and stems again, concurrently

    def lemmatise_all(offset: int) -> dict[str, tuple[str, ...]]:
        words = WORDS[offset:] + WORDS[:offset]
        return {w: word_terms(w) for w in words}

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert all(r == expected_terms for r in pool.map(lemmatise_all, range(8)))

    _clear_caches()

    def stem_all(offset: int) -> dict[str, str]:
        words = WORDS[offset:] + WORDS[:offset]
        return {w: term.__wrapped__(w) for _ in range(50) for w in words}

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(stem_all, range(8)))
    for result in results:
        assert result == expected


@pytest.mark.parametrize(
    ("word", "expected"), [("Hemtjänsten", "hemtjanst"), ("äldreomsorgen", "aldreomsorg")]
)
def test_a_term_is_lower_cased_stemmed_and_folded(word: str, expected: str) -> None:
    assert term(word) == expected
