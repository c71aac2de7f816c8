"""Swedish-aware search over short texts (KPI titles and descriptions, municipality names).

Text becomes *terms* (``tillit.swedish``): each word's lemma, stemmed and folded to ASCII (so
"sjukfrånvaron", "sjukfrånvaro" and "sjukfranvaro" meet), followed by its compound parts' terms
("äldreomsorgslyftet" is also "äldreomsorg" and "lyft"). A query word is its one term: the text
carries the parts, so "omsorg" finds "äldreomsorgen". The documents' terms are computed when the
index is built (:func:`document`, cached per word), not read from the metadata, so a store
written by an older Tillit is searched with today's terms. A :class:`SearchIndex` joins
every document's padded terms into one string, so finding the documents that contain a query
term is a ``str.find`` loop in C (one step per matching document) plus a ``bisect`` to map the
hit to its document; only those candidates are scored: exact term, term prefix, and part of a
compound word ("omsorg" in "äldreomsorg"), weighted by field (title before description) and
term rarity.
"""

from __future__ import annotations

import functools
import hashlib
import marshal
import math
import os
import re
import uuid
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tillit.swedish import TERMS_VERSION, fold, prime, term, word_terms

__all__ = [
    "Document",
    "SearchHit",
    "SearchIndex",
    "cached_documents",
    "document",
    "fold",
    "query_terms",
    "rank",
    "rank_page",
    "terms",
]

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
    """The search terms of ``text``, in order: each word's term and then its compound
    parts' terms (stop words dropped)."""
    if not text:
        return []
    words = _WORD.findall(text.lower())
    return [t for w in words if keep_stopwords or w not in _STOP for t in word_terms(w)]


@functools.cache
def _stop_terms() -> frozenset[str]:
    return frozenset(term(w) for w in _STOP)


def query_terms(text: str | None, *, keep_stopwords: bool = False) -> list[str]:
    """A query's terms, in order: one per word (the documents carry the compound parts).
    A stop word is dropped in any form ("kommunerna" as "kommun")."""
    if not text:
        return []
    found = [term(w) for w in _WORD.findall(text.lower())]
    if keep_stopwords:
        return found
    stop = _stop_terms()
    return [t for t in found if t not in stop]


@dataclass(frozen=True)
class Document:
    """A searchable item: ``key`` identifies it; ``title`` and ``body`` are term strings
    (space-joined output of :func:`terms`), ``exact`` the folded title for phrase matches."""

    key: str
    title: str
    body: str
    exact: str
    # Padded once: a query then tests substrings without building strings per document.
    padded_title: str = field(init=False, repr=False, compare=False)
    padded_body: str = field(init=False, repr=False, compare=False)
    padded_all: str = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "padded_title", f" {self.title} ")
        object.__setattr__(self, "padded_body", f" {self.body} ")
        object.__setattr__(self, "padded_all", f" {self.title} {self.body} ")


def document(
    key: str, title: str | None, body: str | None = None, *, keep_stopwords: bool = True
) -> Document:
    """The :class:`Document` of a title and a description, with today's terms. Stop words
    are kept (a query of stop words only, "kommunerna", still finds them); a query drops
    them when it has other words."""
    return Document(
        key,
        " ".join(terms(title, keep_stopwords=keep_stopwords)),
        " ".join(terms(body, keep_stopwords=keep_stopwords)),
        fold(title or ""),
    )


def cached_documents(
    cache: Path | None, items: Sequence[tuple[str, str | None, str | None]]
) -> list[Document]:
    """:func:`cached_index`'s documents."""
    return list(cached_index(cache, items).docs)


def cached_index(
    cache: Path | None, items: Sequence[tuple[str, str | None, str | None]]
) -> SearchIndex:
    """The :class:`SearchIndex` of :func:`document` of each (key, title, body), kept in the
    file ``cache`` for the next process: computing the terms of the 6,100 KPIs takes a second
    or two and their index 0.2 s, reading both back some tens of milliseconds. The file holds
    a digest of the texts, :data:`TERMS_VERSION` and the file's own layout, so it is used only
    for the same texts and the same rules; and the terms of the texts' words, which a query of
    those words then needs no dictionary for. A file that cannot be read or written is no
    error: the terms are computed."""
    digest = hashlib.blake2b(f"{TERMS_VERSION}|{_CACHE_LAYOUT}".encode(), digest_size=16)
    for key, title, body in items:
        digest.update(f"\x00{key}\x01{title or ''}\x01{body or ''}".encode())
    stamp = digest.hexdigest()
    if cache is not None:
        try:
            kept = marshal.loads(cache.read_bytes())
            if kept[0] == stamp:
                prime(kept[2])
                return SearchIndex([Document(*d) for d in kept[1]], postings=kept[3])
        except (OSError, ValueError, EOFError, TypeError, IndexError, KeyError):
            pass
    docs = [document(key, title, body) for key, title, body in items]
    index = SearchIndex(docs)
    if cache is not None:
        words = {
            w
            for _, title, body in items
            for t in (title, body)
            for w in _WORD.findall((t or "").lower())
        }
        data = (
            stamp,
            [(d.key, d.title, d.body, d.exact) for d in docs],
            {w: word_terms(w) for w in words},
            index.postings,
        )
        temporary = cache.with_name(f".{cache.name}.{uuid.uuid4().hex}")
        try:
            temporary.write_bytes(marshal.dumps(data))
            os.replace(temporary, cache)
        except OSError:
            temporary.unlink(missing_ok=True)
    return index


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


# Between the terms in the joined vocabulary: no query term contains it, so a match never
# spans two terms.
_SEPARATOR = "\x00"
#: The layout of :func:`cached_index`'s file: (digest, documents, words' terms, postings).
_CACHE_LAYOUT = "2"


class SearchIndex:
    """Documents prepared for :func:`rank`, built once per document list (~0.1 s for the
    6,100 KPIs) and read-only after, so threads may share it: each distinct term (a
    space-separated word of a document's title and body) with the documents that have it,
    the terms sorted (prefixes are ranges) and joined into one string (a term inside a
    compound word is a ``str.find`` loop in C over the vocabulary, not over the documents)."""

    __slots__ = ("_joined", "_postings", "_starts", "_vocabulary", "docs")

    def __init__(
        self, docs: Sequence[Document], *, postings: dict[str, list[int]] | None = None
    ) -> None:
        """``postings``: this index's :attr:`postings` of the same documents, kept from
        before (:func:`cached_index`), instead of computing them."""
        self.docs: tuple[Document, ...] = tuple(docs)
        if postings is None:
            postings = {}
            for position, doc in enumerate(self.docs):
                padded: str = doc.padded_all
                for word in set(padded.split(" ")):
                    if word:
                        postings.setdefault(word, []).append(position)
        self._postings = postings
        self._vocabulary = sorted(postings)
        starts: list[int] = []
        offset = 0
        for word in self._vocabulary:
            starts.append(offset)
            offset += len(word) + len(_SEPARATOR)
        self._starts = starts
        self._joined = _SEPARATOR.join(self._vocabulary)

    @property
    def postings(self) -> dict[str, list[int]]:
        """Each term and the positions of the documents that have it."""
        return self._postings

    def _scan(self, needle: str) -> set[int]:
        return {i for i, d in enumerate(self.docs) if needle in d.padded_all}

    def containing(self, term: str) -> set[int]:
        """Positions in :attr:`docs` of the documents whose title or body contains ``term``
        anywhere (``term in padded_all``)."""
        if not term or " " in term or _SEPARATOR in term:
            return self._scan(term)
        joined, starts, vocabulary = self._joined, self._starts, self._vocabulary
        last = len(starts) - 1
        found: set[int] = set()
        pos = joined.find(term)
        while pos >= 0:
            i = bisect_right(starts, pos) - 1
            found.update(self._postings[vocabulary[i]])
            if i >= last:
                break
            pos = joined.find(term, starts[i + 1])  # on to the next word
        return found

    def starting(self, term: str) -> set[int]:
        """Positions of the documents with a word starting with ``term`` (``" " + term in
        padded_all``)."""
        if not term or " " in term:
            return self._scan(f" {term}")
        vocabulary = self._vocabulary
        found: set[int] = set()
        for i in range(bisect_left(vocabulary, term), len(vocabulary)):
            word = vocabulary[i]
            if not word.startswith(term):
                break
            found.update(self._postings[word])
        return found


def _idf(term: str, index: SearchIndex) -> float:
    df = len(index.starting(term))
    return math.log(1 + (len(index.docs) + 1) / (df + 1))


def rank(query: str, docs: Sequence[Document] | SearchIndex, *, limit: int = 20) -> list[SearchHit]:
    """The first ``limit`` hits of :func:`rank_page`."""
    return rank_page(query, docs, limit=limit)[0]


def rank_page(
    query: str, docs: Sequence[Document] | SearchIndex, *, limit: int = 20, offset: int = 0
) -> tuple[list[SearchHit], int]:
    """One page of the hits for ``query`` and how many there are in all. Rank ``docs`` for
    ``query``. Every query term must match (exactly, as a prefix, or inside
    a compound word); if no document matches them all, documents matching most terms are
    returned, scored lower. Ties go to the shorter title. Pass a :class:`SearchIndex` when
    the same documents are searched again."""
    wanted = list(dict.fromkeys(query_terms(query))) or list(
        dict.fromkeys(query_terms(query, keep_stopwords=True))
    )
    if not wanted:
        return [], 0
    index = docs if isinstance(docs, SearchIndex) else SearchIndex(docs)
    phrase = fold(query.strip())
    weights = {t: _idf(t, index) for t in wanted}
    # A document that contains no query term anywhere cannot score: only the others are read.
    candidates: set[int] = set()
    for t in wanted:
        candidates.update(index.containing(t))
    scored: list[tuple[float, int, int, str]] = []
    best_matched = 0
    all_docs = index.docs
    for position in sorted(candidates):
        doc = all_docs[position]
        everything: str = doc.padded_all
        title: str = doc.padded_title
        body: str = doc.padded_body
        score = 0.0
        matched = 0
        for t in wanted:
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
        return [], 0
    needed = len(wanted) if best_matched == len(wanted) else best_matched
    kept = [s for s in scored if s[1] >= needed]
    kept.sort(key=lambda s: (-s[0], s[2], s[3]))
    page = kept[offset : offset + limit]
    return [SearchHit(key=k, score=round(score, 3)) for score, _, _, k in page], len(kept)
