"""Stances of a consultation response (remissvar), proposal by proposal, and its respondent.

Pure: a text and the remiss's proposals in, frozen dataclasses out. The text is read in
units (headings, table rows, list items, sentences); a heading sets the proposal the
following sentences speak of; each stance cue of a sentence (:mod:`._stance_rules`) is tied
to proposals by a section number or range in the sentence, by "i övrigt", by the proposal's
words, by the current heading, or to the whole remiss. The rules, and why, are in
docs/stances.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tillit.analyses._stance_rules import (
    AVSTYRKER,
    DELVIS,
    INGA,
    TILLSTYRKER,
    RespondentMatch,
    Token,
    find_cues,
    find_respondent,
    is_own,
    name_words,
    tokens,
    wordset,
)
from tillit.errors import InvalidInputError

__all__ = [
    "STANCES",
    "Proposal",
    "RespondentMatch",
    "Stance",
    "extract_stances",
    "find_respondent",
]

STANCES = (TILLSTYRKER, DELVIS, AVSTYRKER, INGA)


@dataclass(frozen=True)
class Proposal:
    key: str  # section number, e.g. "7.1" (unique within the remiss), or "1", "2"
    heading: str  # e.g. "En nationell konsultationsordning"


@dataclass(frozen=True)
class Stance:
    proposal: str | None  # Proposal.key, or None for a stance on the whole remiss
    stance: str  # one of STANCES
    quote: str  # text[start:end]
    start: int
    end: int
    basis: str  # "section" | "range" | "heading" | "words" | "i_ovrigt" | "general"


# Words that carry no proposal's meaning (function words, and remiss words every sentence has).
_STOP = wordset(
    """en ett och i på av för till om med att som det den de är vara ska skola bör böra kan
    kunna inte ta tas bort göra få ha mellan inom samt eller både vid från under över sin
    sitt sina hur där när mer stärkt stärka ökad förslag betänkande avsnitt"""
)
_NUMBER = r"\d+(?:\.\d+)*"
_RANGE = re.compile(rf"(?<![\d.:/-])({_NUMBER})\s*[–—-]\s*({_NUMBER})(?![\d:/-])")
_SECTION = re.compile(rf"(?<![\d.:/-])({_NUMBER})(?![\d:/-])")
_HEADING = re.compile(
    rf"^[#*\s]*(?:(?:avsnitt|avsnitten|kapitel|kap\.)\s+)?({_NUMBER})\.?"
    rf"(?:\s*[–—-]\s*({_NUMBER}))?(?=[\s*]|$)[\s*–—:-]*(.*)$",
    re.IGNORECASE,
)
# A line that ends with one of these words goes on in the next line: no heading.
_CONTINUES = wordset(
    """i av och att om på för till med som den det en ett de är har avsnitt avsnitten kapitel
    samt eller från vid inte"""
)
_LIST_ITEM = re.compile(r"^\s*(?:\d+[.)]\s+[a-zåäö]|[-•*–]\s)")
_SENTENCE_END = re.compile(r"(?<=[.!?])[*\s]+(?=[*\"”]*[A-ZÅÄÖ0-9])|:\s*\n")
# Headings of the respondent's stance under a proposal's heading, which keep that proposal.
_STANCE_HEADINGS = wordset(
    """ställningstagande synpunkt kommentar bedömning yttrande beslut svar motivering slutsats
    förbunden"""
)
_WHOLE = wordset(
    """förslagen betänkandet betänkandets betänkandena huvudbetänkandet promemorian
    promemorians remissen"""
)
_STRONG = ("section", "range", "heading")
_ORDER = {"section": 0, "range": 1, "heading": 2, "words": 3, "general": 4, "i_ovrigt": 5}


def _content(toks: Sequence[Token]) -> set[str]:
    return {t.lemma for t in toks if t.word and t.text[0].isalpha() and len(t.lemma) > 2} - _STOP


def _key(number: str) -> tuple[int, ...]:
    return tuple(int(p) for p in number.split(".") if p)


class _Proposals:
    def __init__(self, proposals: Sequence[Proposal]) -> None:
        self.keys: list[str] = []
        self.words: dict[str, set[str]] = {}
        for p in proposals:
            key = p.key.strip().rstrip(".")
            if not re.fullmatch(_NUMBER, key) and not key:
                raise InvalidInputError(
                    f"Förslaget {p.heading!r} saknar avsnittsnummer.",
                    hint="Ge varje förslag ett nummer, t.ex. 7.1, eller 1, 2, 3 i ordning.",
                )
            if key in self.words:
                raise InvalidInputError(
                    f"Avsnitt {key} finns två gånger bland förslagen.",
                    hint="Ge varje förslag ett eget avsnittsnummer.",
                )
            self.keys.append(key)
            self.words[key] = _content(tokens(p.heading, 0, len(p.heading)))

    def section(self, number: str) -> list[str]:
        """The proposals a section number names: itself, its subsections, or its parent."""
        number = number.rstrip(".")
        if number in self.words:
            return [number]
        children = [k for k in self.keys if k.startswith(number + ".")]
        if children:
            return children
        parents = [k for k in self.keys if number.startswith(k + ".")]
        return parents[-1:]

    def range(self, low: str, high: str) -> list[str]:
        lo, hi = _key(low), _key(high)
        return [
            k
            for k in self.keys
            if re.fullmatch(_NUMBER, k) and lo <= _key(k)[: len(hi)] and _key(k)[: len(lo)] <= hi
        ]

    def refs(self, text: str, start: int, end: int) -> tuple[list[str], str | None]:
        """Proposals named by number in ``text[start:end]``, and how ("range"/"section")."""
        part = text[start:end]
        found: list[str] = []
        basis = None
        for m in _RANGE.finditer(part):
            found += self.range(m.group(1), m.group(2))
            basis = "range"
        rest = _RANGE.sub(" ", part)
        for m in _SECTION.finditer(rest):
            number = m.group(1)
            bare = "." not in number
            before = rest[max(0, m.start() - 12) : m.start()].lower()
            if bare and not re.search(r"(avsnitt|avsnitten|kapitel|kap\.)\s*$", before):
                continue
            keys = self.section(number)
            if keys:
                found += keys
                basis = basis or "section"
        return list(dict.fromkeys(found)), basis

    def by_heading(self, words: set[str]) -> str | None:
        """The one proposal whose heading holds every word of a short heading ("Statsbidrag"
        under "5.2 Statsbidrag för kompetenshöjning"), one of them of six letters or more."""
        if not words or not any(len(w) >= 6 for w in words):
            return None
        fits = [key for key in self.keys if words <= self.words[key]]
        return fits[0] if len(fits) == 1 else None

    def by_words(self, words: set[str], *, full: bool = False) -> str | None:
        """The one proposal whose heading's words the sentence shares: at least half of them
        and two (or all of one word of eight letters or more); ``full`` asks for all."""
        scored = []
        for key in self.keys:
            own = self.words[key]
            if not own:
                continue
            shared = own & words
            share = len(shared) / len(own)
            enough = len(shared) >= 2 or (len(own) == 1 and len(next(iter(shared), "")) >= 8)
            if enough and (share == 1.0 if full else share >= 0.5):
                scored.append((share, len(shared), key))
        if not scored:
            return None
        scored.sort(reverse=True)
        if len(scored) > 1 and scored[0][:2] == scored[1][:2]:
            return None  # two proposals fit as well: not a tie to guess
        return scored[0][2]


@dataclass
class _Found:
    keys: list[str]
    stance: str
    start: int
    end: int
    basis: str
    summary: bool
    order: int
    quote: str


def _units(text: str) -> list[tuple[str, int, int]]:
    """The text as ("heading" | "row" | "text", start, end) units, in order. A table row is
    a unit; so is a heading: a short line (at most 20 words with a section number, 12
    without) that starts with a capital or a number, does not end a sentence, and is
    followed by a blank line or a line that starts a sentence (a line wrapped in the middle
    of a sentence is followed by a lower-case word). A list item starts a new run of text;
    other lines run on, so a sentence may cross a line end."""
    units: list[tuple[str, int, int]] = []
    run: list[tuple[int, int]] = []
    lines = []
    at = 0
    for raw in text.split("\n"):
        lines.append((at, at + len(raw)))
        at += len(raw) + 1
    for n, (s, e) in enumerate(lines):
        line = text[s:e].strip()
        following = text[slice(*lines[n + 1])].strip() if n + 1 < len(lines) else ""
        limit = 20 if _HEADING.match(line) else 12
        short = (
            bool(line)
            and len(line.split()) <= limit
            and not line.rstrip(" *").endswith((".", "!", "?", ",", ";"))
            and not re.search(r"[.!?] +\S", line)
            and line.split()[-1].lower() not in _CONTINUES
            and (line[0].isupper() or line[0].isdigit() or line[0] in "#*")
            and not following[:1].islower()
        )
        if run and (not line or "|" in line or short or _LIST_ITEM.match(line)):
            units.append(("text", run[0][0], run[-1][1]))
            run = []
        if not line:
            continue
        if "|" in line:
            units.append(("row", s, e))
        elif short:
            units.append(("heading", s, e))
        else:
            run.append((s, e))
    if run:
        units.append(("text", run[0][0], run[-1][1]))
    return units


def _sentences(text: str, start: int, end: int) -> list[tuple[int, int]]:
    out = []
    at = start
    for m in _SENTENCE_END.finditer(text, start, end):
        out.append((at, m.start()))
        at = m.end()
    out.append((at, end))
    return [(s, e) for s, e in out if text[s:e].strip()]


def extract_stances(
    text: str, proposals: Sequence[Proposal], *, respondent: str | None = None
) -> tuple[Stance, ...]:
    """The respondent's stances in ``text``, at most one per (proposal, stance), in the order
    of the proposals (the stances on the whole remiss first)."""
    index = _Proposals(proposals)
    if respondent is None:
        respondent = find_respondent(text, ()).name
    own = name_words(respondent, text) if respondent else frozenset()
    found: list[_Found] = []
    context: tuple[list[str], str] = ([], "")
    summary = False
    ovrigt: list[_Found] = []
    headed: set[str] = set()  # proposals the response has a heading for
    for kind, start, end in _units(text):
        line = text[start:end].strip(" *#\t")
        if kind == "heading":
            m = _HEADING.match(line)
            if m and (m.group(3) == "" or m.group(3)[:1].isupper() or "." in m.group(1)):
                keys = index.range(m.group(1), m.group(2)) if m.group(2) else []
                keys = keys or index.section(m.group(1))
                context, summary = (keys, "range" if m.group(2) else "section"), False
                headed.update(keys)
                continue
            words = _content(tokens(line, 0, len(line)))
            match = index.by_words(words) or index.by_heading(words)
            if match is not None:
                context, summary = ([match], "heading"), False
                headed.add(match)
            elif not words & _STANCE_HEADINGS:
                # Any other heading leaves the proposal; "Förbundets ställningstagande",
                # "Kommunens synpunkter" under a proposal's heading do not.
                context = ([], "")
                summary = "sammanfattning" in words
            continue
        if kind == "row":
            for s, e in _rows(text, start, end, index):
                found += _row(text, s, e, index, len(found))
            continue
        m = _HEADING.match(line.split("\n", 1)[0])
        if m and "." in m.group(1) and (m.group(3)[:1].isupper()):
            keys = index.section(m.group(1))
            if keys:
                context, summary = (keys, "section"), False
        for s, e in _sentences(text, start, end):
            for f in _sentence(text, s, e, index, context, own, summary, len(found)):
                (ovrigt if f.basis == "i_ovrigt" else found).append(f)
    return _keep(found, ovrigt, index, headed)


def _sentence(
    text: str,
    s: int,
    e: int,
    index: _Proposals,
    context: tuple[list[str], str],
    own: frozenset[str],
    summary: bool,
    order: int,
) -> list[_Found]:
    toks = tokens(text, s, e)
    cues = find_cues(toks)
    out: list[_Found] = []
    for n, cue in enumerate(cues):
        if not is_own(toks, cue.first, own):
            continue
        lo = toks[cues[n - 1].last + 1].start if n else s
        hi = toks[cues[n + 1].first].start if n + 1 < len(cues) else e
        keys, basis = index.refs(text, toks[cue.first].start, hi)
        segment = [t for t in toks if toks[cue.first].start <= t.start < hi]
        before = [t for t in toks if lo <= t.start < toks[cue.first].start]
        lows = {t.low for t in segment} | {t.low for t in before}
        if not keys and ("övrigt" in lows or "övriga" in lows):
            keys, basis = [], "i_ovrigt"
        elif not keys and n == 0:
            # "När det gäller förslaget i avsnitt 7.6 avstyrker regionen": the object first;
            # a later cue's object follows it (what precedes it is the earlier cue's).
            keys, basis = index.refs(text, lo, toks[cue.first].start)
        if not keys and basis != "i_ovrigt":
            words = index.by_words(_content(segment)) or index.by_words(_content(before))
            current, how = context
            if words and current and words not in current:
                if index.words[current[0]] & _content(toks):
                    words = None  # the sentence also speaks of the heading's proposal
                elif index.by_words(_content(toks), full=True) != words:
                    words = None
            if current and (words is None or words in current):
                keys, basis = list(current), how
            elif words:
                keys, basis = [words], "words"
            elif lows & _WHOLE:
                keys, basis = [], "general"
            else:
                continue  # a remark about something that is not a proposal: no stance
        start, end = _trim(text, s, e)
        out.append(
            _Found(
                keys,
                cue.stance,
                start,
                end,
                basis or "section",
                summary,
                order + n,
                text[start:end],
            )
        )
    # "positiv till X men avslår förslaget": the later of two contrasting stances on the same
    # proposals in one sentence is the stance.
    kept: list[_Found] = []
    for f in out:
        if kept and kept[-1].keys == f.keys and kept[-1].stance != f.stance:
            between = text[kept[-1].start : f.end].lower()
            if re.search(r"\b(men|dock|däremot)\b", between):
                kept[-1] = f
                continue
        kept.append(f)
    return kept


_ROW_START = re.compile(rf"(?:^|(?<=[|\s]))({_NUMBER})\.?(?=[^|\d]{{0,120}}\|)")


def _rows(text: str, start: int, end: int, index: _Proposals) -> list[tuple[int, int]]:
    """The rows of a line with "|": one, or several when a plain-text table's line ends were
    joined ("Avsnitt | Ställning 7.1 | Tillstyrker | Bra. 7.2 | Avstyrker |"). A row starts
    at a proposal's number followed, in the same cell, by at most its title."""
    starts = [
        start + m.start(1)
        for m in _ROW_START.finditer(text[start:end])
        if index.section(m.group(1))
    ]
    if len(starts) < 2:
        return [(start, end)]
    return [(s, e) for s, e in zip(starts, [*starts[1:], end], strict=True)]


def _row(text: str, start: int, end: int, index: _Proposals, order: int) -> list[_Found]:
    """A stance table row "7.1 | Tillstyrker | kommentar": the first cell names the proposal,
    the first later cell with a cue gives the stance."""
    cells = []
    at = start
    for part in text[start:end].split("|"):
        cells.append((at, at + len(part)))
        at += len(part) + 1
    keys, basis = index.refs(text, *cells[0])
    if not keys:
        first = text[cells[0][0] : cells[0][1]]
        m = _HEADING.match(first.strip())
        keys = index.section(m.group(1)) if m else []
        basis = "section"
        if not keys:
            match = index.by_words(_content(tokens(text, *cells[0])))
            keys, basis = ([match], "heading") if match else ([], None)
    if not keys:
        return []
    for s, e in cells[1:]:
        cues = find_cues(tokens(text, s, e), cell=True)
        if cues:
            q_start, q_end = _trim(text, start, end)
            quote = text[q_start:q_end]
            stance = cues[0].stance
            return [_Found(keys, stance, q_start, q_end, basis or "section", False, order, quote)]
    return []


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s] in " \t\n*-•#":
        s += 1
    while e > s and text[e - 1] in " \t\n*":
        e -= 1
    return s, e


def _keep(
    found: list[_Found], ovrigt: list[_Found], index: _Proposals, headed: set[str] | None = None
) -> tuple[Stance, ...]:
    """One stance per (proposal, stance). A proposal tied by number or heading anywhere drops
    its ties by words; stances in the body drop the summary's on the same proposal; of equal
    stances the most specific tie (section, range, heading, words) and then the first stays.
    "I övrigt" gives its stance to every proposal that has none and no heading of its own in
    the response (one with a heading was written about: a stance missed there is left for a
    reviewer, not counted as "inga synpunkter")."""
    per: dict[str | None, list[tuple[_Found, str]]] = {}
    for f in found:
        keys: list[str | None] = list(f.keys) if f.keys else [None]
        for key in keys:
            per.setdefault(key, []).append((f, f.basis))
    out: list[Stance] = []
    answered = set()
    for key in [None, *index.keys]:
        items = per.get(key, [])
        if key is not None:
            if any(b in _STRONG for _, b in items):
                items = [(f, b) for f, b in items if b in _STRONG]
            if any(not f.summary for f, _ in items):
                items = [(f, b) for f, b in items if not f.summary]
        best: dict[str, tuple[_Found, str]] = {}
        for f, b in sorted(items, key=lambda fb: (_ORDER[fb[1]], fb[0].summary, fb[0].order)):
            best.setdefault(f.stance, (f, b))
        for stance, (f, b) in sorted(best.items(), key=lambda sb: sb[1][0].order):
            out.append(Stance(key, stance, f.quote, f.start, f.end, b))
            if key is not None:
                answered.add(key)
    if ovrigt:
        f = ovrigt[0]
        for key in index.keys:
            if key not in answered and key not in (headed or set()):
                out.append(Stance(key, f.stance, f.quote, f.start, f.end, "i_ovrigt"))
    order = {k: i for i, k in enumerate([None, *index.keys])}
    return tuple(sorted(out, key=lambda st: order[st.proposal]))
