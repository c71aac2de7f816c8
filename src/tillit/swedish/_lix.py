"""LIX (läsbarhetsindex, Björnsson 1968), the Swedish readability index: the mean sentence
length in words plus the percentage of long words (more than six letters). Below 30 reads
as very easy, 30–40 as easy (everyday news), 40–50 as average, above 50 as hard."""

from __future__ import annotations

import re

__all__ = ["lix"]

# A word: letters or digits, joined by a hyphen or apostrophe inside ("2020-talet"); a
# number with a decimal comma or spaces between thousands ("4,5", "96 664") is one word.
_WORD = re.compile(r"[^\W_]+(?:(?:[-'’]|(?<=\d)[,.\u00a0\u202f](?=\d))[^\W_]+)*")
# A sentence ends at . ! ? : or a line break (a heading, a list item, a table cell is a
# sentence of its own when the text of a page is taken one block per line).
_END = re.compile(r"[.!?:]+(?=\s|$)|\n")


def lix(text: str) -> float:
    """LIX of ``text``: words per sentence + 100 × long words per word. A word is long
    when it has more than six letters (digits are not letters: "2022" is short). A
    sentence ends at ".", "!", "?", ":" or a line break; a decimal comma or point inside a
    number does not end one. Text without words has LIX 0."""
    sentences = [s for s in _END.split(text) if _WORD.search(s)]
    words = _WORD.findall(text)
    if not words:
        return 0.0
    long = sum(1 for w in words if sum(ch.isalpha() for ch in w) > 6)
    return len(words) / max(1, len(sentences)) + 100.0 * long / len(words)
