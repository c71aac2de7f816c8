"""Swedish-aware search over short texts (KPI titles and descriptions, municipality names).

Text becomes *terms*: lower-cased words, Snowball-Swedish stemmed (so "äldreomsorgen" and
"äldreomsorg" meet), then folded to ASCII (so "aldreomsorg" meets them too). Terms are computed
once when metadata is written and kept as space-joined strings, so a query is a handful of
C-level substring tests per document: exact term, term prefix, and part of a compound word
("omsorg" in "äldreomsorg"), weighted by field (title before description) and term rarity.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from tillit.swedish import fold, term

__all__ = ["Document", "SearchHit", "fold", "rank", "terms"]

_WORD = re.compile(r"[0-9a-zåäöéèüæø]+", re.IGNORECASE)
_STOP = frozenset(
    [
        "och",
        "i",
        "av",
        "för",
        "med",
        "till",
        "på",
        "som",
        "den",
        "det",
        "de",
        "en",
        "ett",
        "är",
        "om",
        "att",
        "eller",
        "per",
        "inte",
        "från",
        "vid",
        "kommun",
        "kommuner",
        "kommunen",
        "region",
    ]
)


def terms(text: str | None, *, keep_stopwords: bool = False) -> list[str]:
    """The search terms of ``text``, in order (stemmed, folded; stop words dropped)."""
    if not text:
        return []
    words = _WORD.findall(text.lower())
    return [term(w) for w in words if keep_stopwords or w not in _STOP]


@dataclass(frozen=True)
class Document:
    """A searchable item: ``key`` identifies it; ``title`` and ``body`` are term strings
    (space-joined output of :func:`terms`), ``exact`` the folded title for phrase matches."""

    key: str
    title: str
    body: str
    exact: str

    def __post_init__(self) -> None:
        # Padded once: a query then tests substrings without building strings per document.
        object.__setattr__(self, "padded_title", f" {self.title} ")
        object.__setattr__(self, "padded_body", f" {self.body} ")
        object.__setattr__(self, "padded_all", f" {self.title} {self.body} ")


@dataclass(frozen=True)
class SearchHit:
    key: str
    score: float


# Score of a term found in a title or a description: as a whole term, as the start of a term,
# or inside a compound word ("omsorg" in "äldreomsorg").
_TITLE_SCORES = (3.0, 2.2, 1.5)
_BODY_SCORES = (1.0, 0.7, 0.4)


def _how(term: str, padded: str) -> int | None:
    """How ``term`` occurs in the space-padded term string: 0 whole, 1 prefix, 2 inside a
    word (terms of four letters or more), None not at all."""
    if f" {term} " in padded:
        return 0
    if f" {term}" in padded:
        return 1
    if len(term) >= 4 and term in padded:
        return 2
    return None


def _idf(term: str, docs: Sequence[Document]) -> float:
    padded = f" {term}"
    df = sum(1 for d in docs if padded in d.padded_all)  # type: ignore[attr-defined,misc]
    return math.log(1 + (len(docs) + 1) / (df + 1))


def rank(query: str, docs: Sequence[Document], *, limit: int = 20) -> list[SearchHit]:
    """Rank ``docs`` for ``query``. Every query term must match (exactly, as a prefix, or inside
    a compound word); if no document matches them all, documents matching most terms are
    returned, scored lower. Ties go to the shorter title."""
    query_terms = list(dict.fromkeys(terms(query))) or list(
        dict.fromkeys(terms(query, keep_stopwords=True))
    )
    if not query_terms:
        return []
    phrase = fold(query.strip())
    weights = {t: _idf(t, docs) for t in query_terms}
    scored: list[tuple[float, int, int, str]] = []
    best_matched = 0
    for doc in docs:
        everything: str = doc.padded_all  # type: ignore[attr-defined]
        if not any(t in everything for t in query_terms):
            continue
        title: str = doc.padded_title  # type: ignore[attr-defined]
        body: str = doc.padded_body  # type: ignore[attr-defined]
        score = 0.0
        matched = 0
        for t in query_terms:
            if t not in everything:
                continue
            how = _how(t, title)
            if how is not None:
                s = _TITLE_SCORES[how]
            else:
                how = _how(t, body)
                if how is None:
                    continue
                s = _BODY_SCORES[how]
            matched += 1
            score += s * weights[t]
        if not matched:
            continue
        if len(phrase) > 2 and phrase in doc.exact:
            score *= 1.5 if doc.exact.startswith(phrase) else 1.25
        best_matched = max(best_matched, matched)
        scored.append((score, matched, len(doc.exact), doc.key))
    if not scored:
        return []
    needed = len(query_terms) if best_matched == len(query_terms) else best_matched
    kept = [s for s in scored if s[1] >= needed]
    kept.sort(key=lambda s: (-s[0], s[2], s[3]))
    return [SearchHit(key=k, score=round(score, 3)) for score, _, _, k in kept[:limit]]
