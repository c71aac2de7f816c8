"""Swedish search terms are the same whichever thread computes them (the web server stems
in many threads at once)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from tillit.swedish import term

WORDS = [
    f"{stem}{ending}"
    for stem in ("hemtjänst", "äldreomsorg", "skola", "förskola", "bibliotek", "kommun")
    for ending in ("", "en", "erna", "ens", "arnas", "ar", "s", "heten", "ningen")
]


def test_terms_are_the_same_in_many_threads_at_once() -> None:
    term.cache_clear()
    expected = {}
    for word in WORDS:
        expected[word] = term(word)
    term.cache_clear()  # make every thread stem again, concurrently

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
