"""Swedish query text: terms (lemmatised, stemmed and folded by ``tillit.swedish``; a word's
compound parts are terms too), query parsing, the FTS5 and tsquery expressions built from it,
and snippets with the matched words marked. Pure functions, no database; ``_search`` runs
them."""

from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterable
from dataclasses import dataclass

from tillit.swedish import fold, term, word_terms

__all__ = [
    "STOP_WORDS",
    "WORD",
    "Matcher",
    "ParsedQuery",
    "QueryUnit",
    "fold",
    "fts_fallback",
    "fts_query",
    "fts_string",
    "indexed_terms",
    "parse_query",
    "query_units",
    "snippet_html",
    "term",
    "terms",
    "ts_fallback",
    "ts_query",
]

WORD = re.compile(r"[^\W_]+")
STOP_WORDS = frozenset(
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
        "har",
        "hade",
        "ska",
        "skall",
        "kan",
        "var",
        "vara",
        "sig",
        "så",
        "men",
        "har",
    ]
)


def terms(text: str | None) -> list[str]:
    """The terms of ``text`` in order, one per word, stop words included (phrases need their
    positions)."""
    return [term(w) for w in WORD.findall(text or "")]


def indexed_terms(text: str | None) -> tuple[list[str], list[str]]:
    """What the index holds of ``text``: its words' terms in order (as :func:`terms`) and,
    after them, the terms of their compound parts ("äldreomsorgslyftet" adds "aldreomsorg",
    "aldr", "omsorg", "lyft"), so that a part is found as a word of its own while a phrase
    still meets the words next to each other."""
    found = list(map(word_terms, WORD.findall(text or "")))
    return [f[0] for f in found], [p for f in found if len(f) > 1 for p in f[1:]]


# -- query parsing ---------------------------------------------------------------------------

_TOKEN = re.compile(r'"([^"]*)"|(\S+)')


@dataclass(frozen=True)
class ParsedQuery:
    """A query as words (lower-cased), prefixes (words the user ended with ``*``) and
    phrases (word lists); everything the user typed that is not a letter or digit is gone."""

    words: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.words or self.prefixes or self.phrases)

    def all_words(self) -> list[str]:
        return [*self.words, *self.prefixes, *(w for p in self.phrases for w in p)]


def parse_query(query: str) -> ParsedQuery:
    """Words, "quoted phrases" and trailing-``*`` prefixes. Stop words are dropped from
    single words unless the query has nothing else."""
    words: list[str] = []
    prefixes: list[str] = []
    phrases: list[tuple[str, ...]] = []
    for match in _TOKEN.finditer(query or ""):
        if match[1] is not None:
            phrase = tuple(w.lower() for w in WORD.findall(match[1]))
            if len(phrase) > 1:
                phrases.append(phrase)
            elif phrase:
                words.append(phrase[0])
            continue
        raw = match[2]
        found = [w.lower() for w in WORD.findall(raw)]
        if not found:
            continue
        if raw.rstrip('"').endswith("*"):
            prefixes.append(found.pop())
        words.extend(found)
    kept = [w for w in words if w not in STOP_WORDS]
    if not kept and not prefixes and not phrases:
        kept = words
    return ParsedQuery(
        tuple(dict.fromkeys(kept)), tuple(dict.fromkeys(prefixes)), tuple(dict.fromkeys(phrases))
    )


#: One scored part of a query: a term (``False``) or a prefix of terms (``True``).
QueryUnit = tuple[str, bool]


def query_units(parsed: ParsedQuery, *, fallback: bool) -> list[QueryUnit]:
    """What the shared ranking scores, in a fixed order: each word's and each phrase word's
    term, each prefix (folded) as a prefix of terms; in the fallback every word is a prefix."""
    if fallback:
        units = [(fold(w), True) for w in parsed.all_words()]
    else:
        units = [(term(w), False) for w in parsed.words]
        units += [(fold(p), True) for p in parsed.prefixes]
        units += [(term(w), False) for phrase in parsed.phrases for w in phrase]
    return [u for u in dict.fromkeys(units) if u[0]]


def fts_string(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def fts_query(parsed: ParsedQuery) -> str:
    """The FTS5 MATCH expression of the stemmed search (every part must match): a word's term
    in the words or the compound parts, a phrase in the words."""
    parts = [f"{{title body parts}} : {fts_string(term(w))}" for w in parsed.words]
    for p in parsed.prefixes:
        stem = fts_string(fold(p))
        parts.append(f"({{title body parts}} : {stem}* OR {{ftitle fbody}} : {stem}*)")
    for phrase in parsed.phrases:
        parts.append(f"{{title body}} : {fts_string(' '.join(term(w) for w in phrase))}")
    return " AND ".join(parts)


def fts_fallback(parsed: ParsedQuery) -> str:
    """Every word a prefix of a folded word of the original text; phrases stay phrases."""
    singles = dict.fromkeys([*parsed.words, *parsed.prefixes])
    parts = [f"{{ftitle fbody}} : {fts_string(fold(w))}*" for w in singles]
    for phrase in parsed.phrases:
        parts.append(f"{{ftitle fbody}} : {fts_string(' '.join(fold(w) for w in phrase))}*")
    return " AND ".join(parts)


def _lexeme(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def ts_query(parsed: ParsedQuery) -> str:
    """The to_tsquery('simple', …) text over ``examples.search_vector`` (which holds the
    same terms as SQLite's index): every value is a quoted lexeme, so no operator the user
    typed can get in."""
    parts = [_lexeme(term(w)) for w in parsed.words if term(w)]
    parts += [f"{_lexeme(fold(p))}:*" for p in parsed.prefixes if fold(p)]
    for phrase in parsed.phrases:
        # A phrase among the words (weights A and B), not the compound parts (C and D).
        words = [_lexeme(term(w)) + ":AB" for w in phrase if term(w)]
        if words:
            parts.append("(" + " <-> ".join(words) + ")")
    return " & ".join(parts)


def ts_fallback(parsed: ParsedQuery) -> str:
    singles = dict.fromkeys([*parsed.words, *parsed.prefixes])
    parts = [f"{fold(w)}:*" for w in singles]
    parts += ["(" + " <-> ".join(fold(w) for w in phrase) + ":*)" for phrase in parsed.phrases]
    return " & ".join(parts)


# -- snippets --------------------------------------------------------------------------------


class Matcher:
    """Decides whether a word of the original text is a hit of the query (a search's
    snippets test some thousand words, most of them many times: each word is decided once)."""

    __slots__ = ("_seen", "_yes", "prefixes", "stems")

    def __init__(self, stems: Iterable[str], prefixes: Iterable[str]) -> None:
        self.stems = frozenset(stems)
        self.prefixes = tuple(prefixes)
        self._seen: set[str] = set()
        self._yes: set[str] = set()

    @classmethod
    def of(cls, parsed: ParsedQuery, *, fallback: bool) -> Matcher:
        words = parsed.all_words()
        if fallback:
            return cls((), (fold(w) for w in words))
        return cls((term(w) for w in words), (fold(w) for w in parsed.prefixes))

    def _decide(self, word: str) -> bool:
        return not self.stems.isdisjoint(word_terms(word)) or (
            bool(self.prefixes) and fold(word).startswith(self.prefixes)
        )

    def __call__(self, word: str) -> bool:
        if word not in self._seen:
            self._seen.add(word)
            if self._decide(word):
                self._yes.add(word)
        return word in self._yes

    def hits(self, words: set[str]) -> set[str]:
        """Those of ``words`` that are hits (set operations for the words seen before)."""
        new = words - self._seen
        if new:
            self._seen |= new
            self._yes.update(w for w in new if self._decide(w))
        return words & self._yes


_SNIPPET_CHARS = 240


def snippet_html(fields: Iterable[str], matcher: Matcher, *, look: bool = True) -> str:
    """About 240 characters of the text around its first hit (or its start), HTML-escaped,
    with each matched word in ``<mark>``. ``look=False``: the text is known to have no hit
    (the query matched the title), so it starts at the beginning without looking for one."""
    body = "\n".join(f for f in fields if f).strip()
    # A body runs to thousands of words, a snippet to about forty: the words are tested a
    # block at a time up to the first hit, each distinct word once per search.
    first = None
    found = WORD.finditer(body) if look else iter(())
    size = 25  # most first hits are early: small blocks first, then larger ones
    while first is None:
        block = list(itertools.islice(found, size))
        size = min(size * 4, 1600)
        if not block:
            break
        hits = matcher.hits({m[0] for m in block})
        if hits:
            first = next(m.start() for m in block if m[0] in hits)
    start = 0
    if first is not None and first > 60:
        start = body.rfind(" ", 0, first - 40) + 1
    end = min(len(body), start + _SNIPPET_CHARS)
    if end < len(body):
        space = body.rfind(" ", start, end)
        end = space if space > start else end
    out: list[str] = ["…"] if start > 0 else []
    pos = start
    # ``start`` is 0 or follows a space, so the words found from it are the text's words.
    for m in WORD.finditer(body, start):
        s, e = m.span()
        if e > end:
            break
        if not matcher(m[0]):
            continue
        out += [html.escape(body[pos:s]), "<mark>", html.escape(body[s:e]), "</mark>"]
        pos = e
    out.append(html.escape(body[pos:end]))
    if end < len(body):
        out.append("…")
    return " ".join("".join(out).split())
