"""Swedish words as search terms, shared by every search (KPIs and municipalities in
``tillit.store``, the bank in ``tillit.bank``), so that all of them meet inflections,
compounds and diacritics the same way.

A word's *terms* are, first, its own term and then the terms of its compound parts:

1. **Lemma.** The word, lower-cased, is looked up in simplemma's Swedish dictionary (about
   960,000 inflected forms with their base form, shipped in simplemma's wheel):
   "vindkraftverket" -> "vindkraftverk", "kommunernas" -> "kommun", "förskolornas" ->
   "förskola". Snowball alone does not strip the definite "-et"/"-en" of many nouns
   ("vindkraftverket" stayed "vindkraftverket"), so such forms found nothing.
2. **Compounds.** A word the dictionary does not know is tried as modifier + known head,
   longest head first ("äldreomsorgslyftet" = "äldreomsorgs" + "lyftet"): its lemma is the
   modifier followed by the head's lemma ("äldreomsorgslyft"), and the parts' lemmas
   ("äldreomsorg", "lyft") become terms of their own, as do those of a known compound
   ("vindkraftverk" -> "vind", "kraftverk"), recursively. So a text about
   "äldreomsorgslyftet" is found by "äldreomsorg" and by "lyft".
3. **Snowball, then folding.** The lemma is Snowball-Swedish stemmed and folded to ASCII
   ("förskola" -> "forskol"). A word neither the dictionary nor the splitter knows is stemmed
   as it is (Snowball is the fallback). Stemming the lemma as well keeps the known and the
   unknown forms of one word together: if "förskolornas" were missing from the dictionary,
   Snowball's "forskol" would still meet the lemma's "forskol".

The query side is the same function, so any inflection finds any other. Every result is
cached (``functools.lru_cache``); the dictionary is loaded once per process (about 1.3 s)
under a lock, and a Snowball stemmer (which keeps state between calls) is kept per thread."""

from __future__ import annotations

import functools
import threading
import unicodedata
from collections.abc import Mapping

import snowballstemmer

try:
    from importlib.metadata import version as _version

    _SIMPLEMMA_VERSION = _version("simplemma")
except Exception:  # pragma: no cover - an installation without metadata
    _SIMPLEMMA_VERSION = "unknown"

__all__ = ["TERMS_VERSION", "fold", "lemma", "prime", "term", "word_terms"]

# A Snowball stemmer keeps its state between calls, so one shared by threads (the web
# server's) gives wrong stems and IndexErrors: each thread gets its own.
_LOCAL = threading.local()
_LOAD = threading.Lock()
_DICTIONARY: Mapping[str, str] | None = None

# Compound parts: a modifier of at least 3 letters, a head of at least 4, and never one of
# the prefixes that make derivations rather than compounds ("försäkring" is not "för" +
# "säkring", "företagare" not "före" + "tagare").
_MIN_MODIFIER = 3
_MIN_HEAD = 4
_MIN_COMPOUND = _MIN_MODIFIER + _MIN_HEAD
_NOT_MODIFIERS = frozenset(
    [
        "all",
        "and",
        "bak",
        "bort",
        "efter",
        "fram",
        "från",
        "för",
        "före",
        "genom",
        "hos",
        "ihop",
        "mot",
        "med",
        "miss",
        "ner",
        "när",
        "olik",
        "samt",
        "sam",
        "till",
        "upp",
        "ute",
        "utom",
        "under",
        "vid",
        "åter",
        "över",
        "inte",
    ]
)


def _dictionary() -> Mapping[str, str]:
    global _DICTIONARY
    found = _DICTIONARY
    if found is None:
        with _LOAD:
            found = _DICTIONARY
            if found is None:
                from simplemma.strategies.dictionaries import DefaultDictionaryFactory

                found = _DICTIONARY = DefaultDictionaryFactory().get_dictionary("sv")
    return found


def _stem(word: str) -> str:
    stemmer = getattr(_LOCAL, "stemmer", None)
    if stemmer is None:
        stemmer = _LOCAL.stemmer = snowballstemmer.stemmer("swedish")
    return str(stemmer.stemWord(word))


def fold(text: str) -> str:
    """Lower-case and strip diacritics: "Åre Östra" -> "are ostra"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.lru_cache(maxsize=500_000)
def _known(word: str) -> str | None:
    """The dictionary's lemma of ``word`` (lower-case), None when it does not know it or
    the lemma is another word (a suppletive form: "äldre" -> "gammal" would make
    "äldreomsorg" a match for "gammal"; the word then goes to Snowball as it is)."""
    found = _dictionary().get(word)
    if found is None or not found.isalpha():
        return None
    found = found.lower()
    if fold(found[:3]) != fold(word[:3]):  # "män" -> "man" is a form, "äldre" -> "gammal" not
        return None
    return found


def _modifier(part: str, *, altered: bool) -> str | None:
    """The lemma of a compound's first part, as written in the compound: itself ("vind"),
    with a linking -s ("äldreomsorgs"), or (only when ``altered``) a stem that drops or
    changes a final -a/-e ("skol" of "skolgård", "förskole" of "förskoleklass"). The part
    must be (nearly) its lemma: "förs" (a form of "föra") does not make "förskola"
    "förs" + "kola", nor "fors" (lemma "fora"). A suppletive part stays as written
    ("äldre", not "gammal")."""
    if part in _NOT_MODIFIERS or len(part) < _MIN_MODIFIER:
        return None
    if part.endswith("s") and part[:-1] in _NOT_MODIFIERS:
        return None  # "förs" + "kola" is "för" + "skola", and "för" makes no compound
    candidates = [part]
    if part.endswith("s"):
        candidates.append(part[:-1])
    if altered:
        candidates += [part + "a", part + "e"]
        if part.endswith("e"):
            candidates.append(part[:-1] + "a")
    for candidate in candidates:
        if len(candidate) < _MIN_MODIFIER or candidate in _NOT_MODIFIERS:
            continue
        found = _dictionary().get(candidate)
        if found is None or not found.isalpha():
            continue
        found = found.lower()
        if found[:3] != candidate[:3]:
            return candidate
        shared = next(
            (i for i, (a, b) in enumerate(zip(found, candidate, strict=False)) if a != b),
            min(len(found), len(candidate)),
        )
        if found.startswith(candidate) or shared >= max(len(candidate) - 1, 5):
            return found
    return None


#: At most this many ways to split one word ("vindkraftverk": "vind" + "kraftverk",
#: "vindkraft" + "verk").
_MAX_SPLITS = 3


@functools.lru_cache(maxsize=200_000)
def _split(word: str) -> tuple[tuple[str, str, str], ...]:
    """The ways ``word`` splits as (modifier as written, modifier's lemma, head's lemma),
    longest known head first, each with a known word as its modifier."""
    if len(word) < _MIN_COMPOUND or not word.isalpha():
        return ()
    found: list[tuple[str, str, str]] = []
    for cut in range(_MIN_MODIFIER, len(word) - _MIN_HEAD + 1):
        head = _known(word[cut:])
        if head is None or len(head) < _MIN_HEAD:
            continue
        written = word[:cut]
        # A modifier that is not written as its lemma (-s, or a changed -a/-e) needs a
        # longer head or modifier: "hante" + "ring" is no split of "hantering".
        modifier = _modifier(written, altered=len(head) >= 5 or len(written) >= 6)
        if modifier is not None:
            found.append((written, modifier, head))
            if len(found) == _MAX_SPLITS:
                break
    return tuple(found)


@functools.lru_cache(maxsize=300_000)
def _lemma_and_parts(word: str) -> tuple[str, tuple[str, ...]]:
    known = _known(word)
    if known is not None:
        splits = _split(known)
        whole = known
    else:
        splits = _split(word)
        whole = splits[0][0] + splits[0][2] if splits else word
    parts: list[str] = []
    for split in splits:
        for part in (split[1], split[2]):
            parts.append(part)
            # The parts' own parts, from a shorter word only (a lemma may be longer than
            # its form: "avfall" -> "avfalla"), so that splitting ends.
            if len(part) < len(whole) - 1:
                parts.extend(_lemma_and_parts(part)[1])
    return whole, tuple(dict.fromkeys(p for p in parts if p != whole))


def lemma(word: str) -> str:
    """The base form of one word, lower-case: "Vindkraftverket" -> "vindkraftverk",
    "äldreomsorgslyftet" -> "äldreomsorgslyft"; an unknown word as it is."""
    return _lemma_and_parts(word.lower())[0]


@functools.lru_cache(maxsize=300_000)
def _term_of(lemma_: str) -> str:
    return fold(_stem(lemma_))


@functools.lru_cache(maxsize=300_000)
def term(word: str) -> str:
    """One word's search term: its lemma, stemmed and folded ("Förskolornas" -> "forskol")."""
    return word_terms(word)[0]


#: Changes whenever a word's terms may change (this module's rules or simplemma's data):
#: terms kept on disk (``prime``) are valid for one version only.
TERMS_VERSION = f"1/simplemma-{_SIMPLEMMA_VERSION}"

# Terms computed by an earlier process (``prime``), read before the dictionary is loaded:
# a process that meets only words seen before never loads it (about 1.3 s).
_PRIMED: dict[str, tuple[str, ...]] = {}


def prime(known: dict[str, tuple[str, ...]]) -> None:
    """Take the terms of these lower-case words as computed (by :func:`word_terms` of the
    same :data:`TERMS_VERSION`, in an earlier process)."""
    _PRIMED.update(known)


@functools.lru_cache(maxsize=300_000)
def word_terms(word: str) -> tuple[str, ...]:
    """Every term of one word: :func:`term` first, then its compound parts' terms
    ("äldreomsorgslyftet" -> ("aldreomsorgslyft", "aldreomsorg", "lyft", "aldr", "omsorg"))."""
    lower = word.lower()
    primed = _PRIMED.get(lower)
    if primed is not None:
        return primed
    whole, parts = _lemma_and_parts(lower)
    first = _term_of(whole)
    out = [first]
    for part in parts:
        t = _term_of(part)
        if t and t not in out:
            out.append(t)
    return tuple(out)
