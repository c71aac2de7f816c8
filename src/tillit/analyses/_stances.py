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
from dataclasses import dataclass, replace

from tillit.analyses._stance_rules import (
    ABSTAIN,
    AVSTYRKER,
    BOUNDARIES,
    DELVIS,
    ENTRY,
    INGA,
    NEGATORS,
    OTHER_WORDS,
    SELF_WORDS,
    TILLSTYRKER,
    TOPIC_WORDS,
    Cue,
    RespondentMatch,
    Token,
    counts_proposals,
    exception,
    find_cues,
    find_respondent,
    has_entry,
    is_own,
    is_passive,
    name_words,
    tokens,
    wordset,
)
from tillit.errors import InvalidInputError
from tillit.swedish import fold

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
    sitt sina hur där när mer stärkt stärka ökad förslag betänkande avsnitt ny nya nytt hos
    mot genom"""
)
_NUMBER = r"\d+(?:\.\d+)*"
_RANGE = re.compile(rf"(?<![\d.:/-])({_NUMBER})\s*[–—-]\s*({_NUMBER})(?![\d:/-])")
_SECTION = re.compile(rf"(?<![\d.:/-])({_NUMBER})(?![\d:/-])")
# A bare number ("5") is a chapter or section only after the word that says so, also as the
# later member of a list: "kapitel 5 och 6", "avsnitten 6, 7 och 9".
_CHAPTER_BEFORE = re.compile(
    rf"(?:avsnitt|avsnitten|kapitel|kapitlen|kap\.)\s+(?:{_NUMBER}\s*(?:,|och|samt|respektive)\s*)*$"
)
# Further numbers right after a heading's first: "8.2 och 9.1", "6.1, 6.2 samt 6.4".
_MORE_NUMBERS = re.compile(rf"(?:(?:,|och|samt|&)\s*{_NUMBER}\.?(?![\d:/-])\s*)*")
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
_GENERAL_HEADINGS = wordset(
    """allmän allmänna övrig övriga generell inledande inleda avslutande avsluta sammanfattande
    sammanfattning"""
)
_SELF_GENITIVES = frozenset(w + "s" for w in SELF_WORDS)
# A heading that names the remiss itself ("Yttrande över … (Ds 2026:9)") is no proposal's,
# however many of a title's words it has.
_REMISS_HEADING = re.compile(
    r"\b(?:SOU|Ds|Dir\.?|Prop\.?)\s*\d{4}|\b(?:yttrande|remissvar|remissyttrande|remiss)\b", re.I
)
_WHOLE = wordset(
    """förslagen betänkandet betänkandets betänkandena huvudbetänkandet promemorian
    promemorians remissen"""
)
_STRONG = ("section", "range", "heading")
_ORDER = {"section": 0, "range": 1, "heading": 2, "words": 3, "general": 4, "i_ovrigt": 5}


def _content(toks: Sequence[Token]) -> set[str]:
    """The content lemmas of ``toks``; the words of entry into force ("ikraftträdandet",
    "träder i kraft", "tidpunkten", "övergångsbestämmelserna") as one, :data:`ENTRY`."""
    words = {t.lemma for t in toks if t.word and t.text[0].isalpha() and len(t.lemma) > 2}
    if has_entry(toks):
        words = {w for w in words if w not in _ENTRY_PARTS} | {ENTRY}
    return words - _STOP


# The words "träda i kraft", "tidpunkt" and the like are read as ENTRY (_stance_rules.has_entry).
_ENTRY_PARTS = wordset(
    """ikraftträdande ikraftträdandedatum ikraftträdandetidpunkt tidpunkt införandetidpunkt
    övergångsbestämmelse övergångsregel övergångsperiod övergångstid träda träta trä kraft
    ikraftträdandebestämmelse börja"""
)


def _akin(a: str, b: str) -> bool:
    """Two lemmas that are one word or one a part of the other's compound ("myndighet" and
    "tillsynsmyndighet", "uppgift" and "uppgiftsskyldighet"), the part five letters or more;
    the compound's head (its last part, which names what it is: "plan" of "elevhälsoplaner")
    four letters or more, also before a plural or definite ending the lemmatiser left."""
    if a == b:
        return True
    short, long_ = sorted((a, b), key=len)
    if len(short) >= 5 and (long_.startswith(short) or long_.endswith(short)):
        return True
    return len(short) >= 4 and any(
        long_.endswith(short + ending) and len(long_) >= len(short + ending) + 5
        for ending in _ENDINGS
    )  # the rest a word of its own ("elevhälso-"), not "kont-roll", "till-gång"


# Plural and definite endings a compound's head may carry ("elevhälsoplan-er").
_ENDINGS = ("", "er", "ar", "or", "en", "et", "na", "erna", "arna", "orna")


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
        # Every word of a title: what is proposed ("lägesbild"), never a description.
        self.title_words = frozenset(w for words in self.words.values() for w in words)
        # Long words (compounds) in one proposal's title only: one names it.
        counts: dict[str, int] = {}
        for words in self.words.values():
            for w in words:
                counts[w] = counts.get(w, 0) + 1
        self.unique = {w for w, c in counts.items() if c == 1}

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
            before = rest[max(0, m.start() - 60) : m.start()].lower()
            if bare and not _CHAPTER_BEFORE.search(before):
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

    def by_title(self, words: set[str], among: Sequence[str] | None = None) -> str | None:
        """The proposal a heading (or a table's first cell) worded unlike its title names best,
        its words matched also as parts of compounds (:func:`_akin`): every word of the heading
        is the proposal's, one of six letters or more ("Den nya myndigheten" for "En nationell
        tillsynsmyndighet"), or two of the proposal's words and at least half of the heading's
        are ("Uppgiftsskyldigheten för vårdgivare" for "Skyldighet att lämna uppgifter …").
        The best share of the heading's words, then of the proposal's, wins; two as good, or
        none, name none: a heading that matches no proposal is not guessed at."""
        words = words - _STANCE_HEADINGS
        if not words:
            return None
        scored = []
        for key in among if among is not None else self.keys:
            own = self.words[key]
            mine = {w for w in words if any(_akin(w, p) for p in own)}
            theirs = {p for p in own if any(_akin(w, p) for w in words)}
            if not mine:
                continue
            exact = words & own
            whole = mine == words and (
                any(len(w) >= 6 for w in exact) or any(len(w) >= 8 for w in mine)
            )
            if whole or (len(theirs) >= 2 and 2 * len(mine) >= len(words)):
                scored.append((len(mine) / len(words), len(theirs) / len(own), key))
        if not scored:
            return None
        scored.sort(reverse=True)
        if len(scored) > 1 and scored[0][:2] == scored[1][:2]:
            return None
        return scored[0][2]

    def by_parts(self, words: set[str]) -> str | None:
        """The one proposal a proposal's description ("förslaget att kommunerna varje år ska
        lämna uppgifter om föreningsstödet") names by a long word only its title has, given as
        a part of that compound ("uppgift" of "Uppgiftsskyldighet", the part six letters or
        more, the rest four or more), and a second word of the title, whole or as a part."""
        fits = []
        for key in self.keys:
            own = self.words[key]
            by_part = {
                p
                for p in own
                if p in self.unique
                and len(p) >= 10
                and p not in words
                and any(
                    len(w) >= 6 and len(p) - len(w) >= 4 and (p.startswith(w) or p.endswith(w))
                    for w in words
                )
            }
            if by_part and len(by_part | (own & words)) >= 2:
                fits.append(key)
        return fits[0] if len(fits) == 1 else None

    def group(self, pointed: frozenset[str]) -> list[str]:
        """The proposals "förslagen om registret" names: every one whose title has a word of
        six letters or more of ``pointed``, when that is more than one and not all."""
        long_ = {w for w in pointed if len(w) >= 6}
        keys = [k for k in self.keys if self.words[k] & long_]
        return keys if 1 < len(keys) < len(self.keys) else []

    def names(self, key: str, words: set[str]) -> bool:
        """Whether ``words`` name the proposal ``key`` by :meth:`by_words`'s threshold."""
        own = self.words[key]
        shared = own & words
        if not own or not shared:
            return False
        enough = len(shared) >= 2 or (len(own) == 1 and len(next(iter(shared))) >= 8)
        return ENTRY in shared or (enough and 2 * len(shared) >= len(own))

    def by_words(
        self, words: set[str], *, full: bool = False, pointed: frozenset[str] = frozenset()
    ) -> str | None:
        """The one proposal whose heading's words the sentence shares: at least half of them
        and two (or all of one word of eight letters or more); ``full`` asks for all. A word of
        ten letters or more in ``pointed`` (the words right after "förslaget om") that only
        one proposal's title has is enough ("förslaget om sanktionsavgifter"), and so are two
        such words of any length ("förslaget om fondering i VA-taxan")."""
        scored = []
        for key in self.keys:
            own = self.words[key]
            if not own:
                continue
            shared = own & words
            share = len(shared) / len(own)
            enough = len(shared) >= 2 or (len(own) == 1 and len(next(iter(shared), "")) >= 8)
            named = {w for w in shared & pointed if w in self.unique}
            if not full and (any(len(w) >= 10 for w in named) or len(named) >= 2):
                # "förslaget om sanktionsavgifter"; "förslaget om fondering i VA-taxan": two
                # words that only this proposal's title has
                enough, share = True, max(share, 0.5)
            if ENTRY in shared and not full:
                enough, share = True, max(share, 0.5)  # "träder i kraft" names its proposal
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


_GLUED = re.compile(
    r"(?<=[\w)]) (?=(?:(?:"
    + "|".join(w.capitalize() for w in sorted(SELF_WORDS))
    + r") [a-zåäö]|(?:När det gäller|Vad gäller|Beträffande|Angående|I fråga om) ))"
)


# A table row flattened by text extraction into one line, its stance cell capitalised in
# the middle of the proposal's title: "4.2 En samlad lag om Tillstyrker – kommuners och
# regioners krisberedskap", "7.2 Länsstyrelsens tillsyn och Inga synpunkter – möjlighet att
# förelägga". A heading has no stance in it.
_FLATTENED_ROW = re.compile(
    r"\S \s*(?:Tillstyrker|Avstyrker|Tillstyrks|Avstyrks|Instämmer"
    r"|Inga (?:synpunkter|invändningar|kommentarer|erinringar))\b"
)


# A short heading that ends in its section's number in brackets, then a sentence.
_NUMBERED_LEAD = re.compile(
    rf"^[A-ZÅÄÖ][^.!?:;\n]{{0,80}}?\((?:avsnitt|avsnitten|kapitel)?\s*{_NUMBER}"
    rf"(?:\s*(?:och|–|-|,)\s*{_NUMBER})*\)\s+(?=[A-ZÅÄÖ])"
)


def _glued_heading(line: str, own_name: str = "") -> int | None:
    """Where a heading that text extraction joined to its paragraph ends ("Beredskapssamordnare
    Regionen tillstyrker …", "En samlad lag (avsnitt 4.2) Kommunen tillstyrker …",
    "Uppgiftsskyldigheten När det gäller …"): before a capitalised self word ("Regionen",
    "Kommunen", "Vi") or a topic's opening ("När det gäller", "Vad gäller", "Beträffande",
    "Angående", "I fråga om"), only written so at a sentence's start, or the respondent's own
    name ("Lagerhållning Region Östergötland anser …"), after a
    short lead without a sentence's end whose last word does not run on."""
    found = _GLUED.search(line)
    at = found.start() if found is not None else None
    numbered = _NUMBERED_LEAD.match(line)
    if numbered is not None and (at is None or numbered.end() < at):
        # "Statlig medfinansiering (avsnitt 7.1) Stora delar av kommunens vallar …": a
        # heading that ends in its section's number, whatever the sentence after it
        return numbered.end()
    if own_name and at is None:
        # Or before the respondent's own name: "Lagerhållning Region Östergötland anser …".
        folded = fold(line)
        at = next(
            (
                m.start()
                for m in re.finditer(r" (?=[A-ZÅÄÖ])", line)
                if folded[m.start() + 1 :].startswith(own_name + " ")
            ),
            None,
        )
    if at is None:
        return None
    lead = line[:at]
    words = lead.split()
    if (
        not words
        or len(words) > 12
        or re.search(r"[.!?](?!\d)|[:;,]", lead)
        or words[-1].lower() in _CONTINUES
        or words[-1].lower() in _FINITE
        or not (lead[0].isupper() or lead[0].isdigit())
    ):
        return None
    return at


# Finite verbs that put the subject after them (V2): a lead ending in one is the sentence's
# start, not a heading ("I övrigt lämnar Skövde kommun förslagen utan erinran", "Därför
# tillstyrker Region Skåne …").
_FINITE = wordset(
    """lämnar anser tillstyrker avstyrker ställer står välkomnar ser har är vill kan
    bedömer instämmer föreslår menar konstaterar noterar understryker betonar framhåller
    stödjer stöder motsätter godtar accepterar avråder ifrågasätter saknar tycker finner
    avstår"""
)


def _units(text: str, own_name: str = "") -> list[tuple[str, int, int]]:
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
    hanging = False  # the run's last line ends in a word that cannot end a sentence
    for n, (s, e) in enumerate(lines):
        line = text[s:e].strip()
        following = text[slice(*lines[n + 1])].strip() if n + 1 < len(lines) else ""
        if not line and hanging:
            # A paragraph cut in mid-sentence by a blank line ("tillstyrker förslaget i
            # avsnitt" / "6.2. Uppsala Vatten …", as text extraction may cut a wrapped line
            # that starts with a number) goes on in the next line, unless that is a heading.
            continue
        limit = 20 if _HEADING.match(line) else 12
        short = (
            bool(line)
            and len(line.split()) <= limit
            and not line.rstrip(" *").endswith((".", "!", "?", ",", ";"))
            and not re.search(r"[.!?] +\S", re.sub(r"^[#*\s]*\d+(?:\.\d+)*\.\s", "", line))
            and line.split()[-1].lower() not in _CONTINUES
            and (line[0].isupper() or line[0].isdigit() or line[0] in "#*")
            and not following[:1].islower()
            and not _FLATTENED_ROW.search(line)
        )
        if run and (not line or "|" in line or short or _LIST_ITEM.match(line)):
            units.append(("text", run[0][0], run[-1][1]))
            run = []
        if not line:
            continue
        glued = None if run or "|" in line or short else _glued_heading(line, own_name)
        if "|" in line:
            units.append(("row", s, e))
        elif short:
            units.append(("heading", s, e))
        elif glued is not None:
            lead = s + text[s:e].index(line[:1])
            units.append(("heading", lead, lead + glued))
            run.append((lead + glued + 1, e))
        else:
            run.append((s, e))
        hanging = bool(run) and run[-1] == (s, e) and _hangs(line)
    if run:
        units.append(("text", run[0][0], run[-1][1]))
    return units


def _hangs(line: str) -> bool:
    """Whether a line of text ends in mid-sentence: on a word that cannot end one ("i",
    "avsnitt", "och"), with no punctuation after it."""
    words = line.rstrip(" *").split()
    return bool(words) and words[-1].lower() in _CONTINUES


def _heading(line: str, index: _Proposals, respondent: str = "") -> tuple[list[str], str] | None:
    """The proposals a heading names and how, or None for a heading that names none. A number
    first ("7.1 Titel", "Avsnitt 7.1–7.3") names its proposals, unless its title names
    another proposal and shares no word with the numbered one (the response's own numbering,
    "3. Sanktionsavgifter"); a numbered heading that names nothing ("1. Inledning") gives no
    proposal. A section number inside the heading ("Synpunkter på avsnitt 4.3") names its
    proposal; else the heading's words (:meth:`_Proposals.by_words`, ``by_heading``,
    ``by_title``). A heading with the remiss's own title ("Yttrande över …", "… (SOU
    2026:41)") or the respondent's whole name (``respondent``, folded) names none by words."""
    m = _HEADING.match(line)
    if m and (m.group(3) == "" or m.group(3)[:1].isupper() or "." in m.group(1)):
        keys = index.range(m.group(1), m.group(2)) if m.group(2) else []
        keys = keys or index.section(m.group(1))
        how = "range" if m.group(2) else "section"
        title = m.group(3)
        more = _MORE_NUMBERS.match(title)
        if more and more.group().strip() and keys:
            # "8.2 och 9.1", "Kapitel 5 och 6", "6.1, 6.2 och 6.4 Titel": every number named.
            for number in re.findall(_NUMBER, more.group()):
                keys = [*keys, *(k for k in index.section(number) if k not in keys)]
            title = title[more.end() :]
        words = _content(tokens(title, 0, len(title)))
        whole = index.by_words(words, full=True)
        if len(keys) > 1 and whole in keys and words == index.words[whole]:
            return [whole], "heading"  # a chapter's number with one proposal's whole title
        other = index.by_words(words) or index.by_heading(words) or index.by_title(words)
        if other is not None and other not in keys:
            own = {w for k in keys for w in index.words[k]}
            if not any(_akin(w, p) for w in words for p in own):
                return [other], "heading"
        return keys, how
    keys, basis = index.refs(line, 0, len(line))
    if keys:
        return keys, basis or "section"
    if _REMISS_HEADING.search(line):
        return None  # "Remissvar: Vård och omsorg i hemmet (SOU 2026:41)": the remiss's title
    at = fold(line).find(respondent) if respondent else -1
    if at >= 0 and len(fold(line)) == len(line):
        # A letterhead's name ("Inspektionen för vård och omsorg") is no proposal's words,
        # nor a bare municipality's with its unit ("Norrköpings kommun", "Borås Stad").
        end = at + len(respondent)
        unit = re.match(r"s?\s+(?:kommun|stad|region)\b", fold(line)[end:])
        line = line[:at] + " " + line[end + (unit.end() if unit else 0) :]
    toks = [
        t
        for t in tokens(line, 0, len(line))
        # A letterhead's "Kommunstyrelsen" beside the respondent's name: the respondent's.
        if t.low not in _SELF_GENITIVES
        and not (at >= 0 and t.low in SELF_WORDS)
        # A body of the respondent's, its whole name ("Vård- och omsorgsnämndens beslut"):
        # no proposal's words.
        and (
            t.lemma in index.title_words
            or (not _ORGAN.search(fold(t.low)) and not _before_organ(line, t))
        )
    ]
    words = _content(toks)  # "Kommunens synpunkter": the respondent's, no proposal's words
    match = index.by_words(words) or index.by_heading(words) or index.by_title(words)
    return ([match], "heading") if match is not None else None


# A body of a municipality or region ("omsorgsnämnden", "regionstyrelsens",
# "förvaltningen"), folded.
_ORGAN = re.compile(r"(?:namnd|styrelse|forvaltning|kontor)(?:en|ens|s|et|ets)?$")


def _before_organ(line: str, t: Token) -> bool:
    """Whether ``t`` is part of a body's name that ends in an organ word later in ``line``
    ("Vård- och" of "Vård- och omsorgsnämndens beslut")."""
    rest = line[t.end :]
    m = re.search(r"\w+", rest)
    while m is not None:
        word = m.group()
        if _ORGAN.search(fold(word.lower())):
            return True
        if word.lower() not in ("och", "för") and not rest[: m.start()].rstrip().endswith("-"):
            return False
        rest = rest[m.end() :]
        m = re.search(r"\w+", rest)
    return False


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
    own_name = fold(respondent or "")
    found: list[_Found] = []
    context: tuple[list[str], str] = ([], "")
    titled: set[str] = set()  # the current heading's own words ("Tillsyn och uppföljning")
    summary = False
    ovrigt: list[_Found] = []
    headed: set[str] = set()  # proposals the response has a heading for
    lead: tuple[str, int] | None = None  # a list's lead-in with a stance, for its items
    motions = False  # under a protocol's "Yrkanden", "Reservation": the members', not the body's
    for kind, start, end in _units(text, own_name):
        line = text[start:end].strip(" *#\t")
        if kind == "heading" and _motion_heading(line):
            motions, context, titled, lead = True, ([], ""), set(), None
            continue
        if motions and kind != "heading":
            continue
        motions = False
        if kind == "heading":
            if lead is not None:
                # A list's item without its marker (Markdown's are taken off) looks like a
                # short line: it is the lead's item while it names a proposal.
                item = _item(text, start, end, index, lead, summary, len(found))
                if item is not None:
                    found.append(item)
                    continue
            colon = line.rstrip().endswith(":")
            lead = _lead(text, start, end, own) if colon else None
            if colon and (lead is not None or find_cues(tokens(text, start, end))):
                # "Kommunen tillstyrker följande förslag:" on a line of its own; "Kommunen
                # tillstyrker förslagen i promemorian med följande undantag:" is also a stance
                # on the whole.
                found += _whole_of_lead(text, start, end, index, context, own, len(found))
                continue
            tie = _heading(line, index, own_name)
            if tie is not None:
                context, summary = tie, False
                titled = _content(tokens(line, 0, len(line)))
                headed.update(tie[0])
                continue
            words = _content(tokens(line, 0, len(line)))
            if not words & _STANCE_HEADINGS or words & _GENERAL_HEADINGS:
                # Any other heading leaves the proposal; "Förbundets ställningstagande",
                # "Kommunens synpunkter" under a proposal's heading do not ("Allmänna
                # synpunkter", "Övriga synpunkter" do).
                context, titled = ([], ""), set()
                summary = "sammanfattning" in words
            continue
        if kind == "row":
            lead = None
            for s, e in _rows(text, start, end, index):
                found += _row(text, s, e, index, len(found))
            continue
        if (
            lead is not None
            and (_LIST_ITEM.match(text[start:end]) or text[start:end].lstrip()[:1].islower())
            and not find_cues(tokens(text, start, end))  # an item with its own stance
        ):
            item = _item(text, start, end, index, lead, summary, len(found))
            if item is not None:
                found.append(item)
                continue
        lead = None
        m = _HEADING.match(line.split("\n", 1)[0])
        if m and "." in m.group(1) and (m.group(3)[:1].isupper()):
            keys = index.section(m.group(1))
            if keys:
                context, summary, titled = (keys, "section"), False, set()
        topic = None  # the proposal the paragraph's first sentence names, for "förslaget"
        recent = None  # the proposal the sentence before names, for "ett sådant tak"
        before_unit = len(found)
        for n, (s, e) in enumerate(_sentences(text, start, end)):
            if text[s:e].rstrip(" *").endswith(":"):
                lead = _lead(text, s, e, own)
                if lead is not None:
                    found += _whole_of_lead(text, s, e, index, context, own, len(found))
                    continue
            sentence_toks = tokens(text, s, e)
            named = index.by_words(_content(sentence_toks), pointed=_pointed(sentence_toks))
            if n == 0:
                topic = named
            for f in _sentence(
                text,
                s,
                e,
                index,
                context,
                own,
                summary,
                len(found),
                titled=titled,
                topic=topic if n else None,
                recent=recent,
                toks=sentence_toks,
            ):
                (ovrigt if f.basis == "i_ovrigt" else found).append(f)
            recent = named or recent
        found[before_unit:] = _restrictions(text, _premises_dropped(text, found[before_unit:]))
    return _keep(found, ovrigt, index, headed)


_CONCLUDING = wordset("därför dock således alltså emellertid ändå däremot")


_PRONOUNS = wordset("det detta den denna dem dessa")


def _same_object(
    toks: Sequence[Token], cue: Cue, after: Sequence[Token], before: Sequence[Token]
) -> bool:
    """Whether a later cue of a sentence, naming no proposal, speaks of the earlier cue's
    object: a pronoun as its object ("kan inte tillstyrka det"), or a passive whose subject
    is one definite noun after the "men" ("men ansvaret kan inte tillstyrkas")."""
    words = [t for t in after if t.word and (t.low in _PRONOUNS or t.low not in _BARE)]
    if words and words[0].low in _PRONOUNS:
        # "tillstyrka det utan …"; not a determiner ("det som sägs om …", "det nya kravet")
        k = next(n for n, t in enumerate(after) if t is words[0])
        nxt = after[k + 1] if k + 1 < len(after) else None
        return nxt is None or not nxt.word or nxt.low in _AFTER_PRONOUN
    if not is_passive(toks[cue.last]):
        return False
    cut = [k for k, t in enumerate(before) if t.low in BOUNDARIES]
    subject = [
        t for t in before[cut[-1] + 1 if cut else 0 :] if t.word and t.lemma not in _AUXILIARY
    ]
    subject = [t for t in subject if t.low not in _BARE]
    if len(subject) != 1 or not subject[0].low.endswith(("et", "en", "na")):
        return False
    # the noun the sentence spoke of before ("får ett utökat ansvar …, men ansvaret …"), or
    # one that names what a proposal is ("kravet", "skyldigheten")
    said = {t.lemma for t in toks if t.start < subject[0].start}
    return subject[0].lemma in said or subject[0].lemma in _PROPOSAL_KINDS


_AUXILIARY = wordset("kunna kan ska skola bör böra måste får få")
_AFTER_PRONOUN = wordset(
    "utan i med på av för heller inte ej dock helt fullt därför också även ut förrän"
)
_PROPOSAL_KINDS = wordset(
    "krav kravet skyldighet skyldigheten ansvar ansvaret regel regeln bestämmelse "
    "bestämmelsen ändring ändringen åtgärd åtgärden uppdrag uppdraget"
)


# What may stand beside a cue that has no object of its own: "Kommunen har därför ingen
# invändning.", "Regionen tillstyrker också."
_BARE = (
    _STOP | NEGATORS | wordset("har hade därför också även dock heller alltså således sak grund")
)


_CONTRASTING = wordset("dock däremot emellertid")


def _restrictions(text: str, found: list[_Found]) -> list[_Found]:
    """A paragraph's stances with an objection that follows a support of the same proposal
    and contrasts with it ("Skolverket tillstyrker därför att det införs minimikrav.
    Myndigheten ifrågasätter dock att kraven ska anges i förordning …") read as what it is,
    a restriction of that support: partial."""
    out = list(found)
    for n, f in enumerate(out):
        if f.stance != AVSTYRKER or not f.keys:
            continue
        supported = any(
            g.stance == TILLSTYRKER and g.keys == f.keys and g.order < f.order for g in out[:n]
        )
        toks = tokens(text, f.start, f.end)
        by_context = f.basis in ("heading", "section", "range") and _contrast_after_verb(toks)
        if supported and (_contrasted_part(toks) or by_context):
            # also "Boverket tillstyrker förtydligandet … Boverket avstyrker däremot förslaget
            # om ett utvidgat ersättningsansvar" under the proposal's heading: two parts
            out[n] = replace(f, stance=DELVIS)
    return out


def _contrast_after_verb(toks: Sequence[Token]) -> bool:
    """A contrast word in a sentence's second place, after its subject and verb, with no
    negation ("Boverket avstyrker däremot förslaget om …"; not "kan dock inte tillstyrka")."""
    for k, t in enumerate(toks[:5]):
        if t.low in NEGATORS:
            return False
        if t.low in _CONTRASTING:
            return k >= 2 and not any(u.low in NEGATORS for u in toks[k : k + 3])
    return False


def _contrasted_part(toks: Sequence[Token]) -> bool:
    """Whether a sentence objects, by contrast, to a part told in an "att" clause
    ("Myndigheten ifrågasätter dock att kraven ska anges i förordning", "anser Socialstyrelsen
    däremot att ett krav … inte är ändamålsenligt"): the contrast word right before that
    "att", no negation before it ("kan dock inte tillstyrka förslaget" opposes the whole)."""
    for k, t in enumerate(toks):
        if t.low in NEGATORS:
            return False
        if t.low in _CONTRASTING:
            return any(u.low == "att" for u in toks[k + 1 : k + 4])
    return False


def _premises_dropped(text: str, found: list[_Found]) -> list[_Found]:
    """A paragraph's stances without an agreement with a view ("delar utredningens bedömning
    att offentliga medel inte ska gå till …") that the next sentence, or a later clause,
    concludes otherwise on the same proposal ("… och kan därför inte tillstyrka förslaget",
    "Kommunen avstyrker dock förslaget"): the view shared is a premise, the conclusion the
    stance."""
    drop = set()
    for n, f in enumerate(found):
        if f.stance not in (TILLSTYRKER, DELVIS) or not f.keys or not _agrees_with_view(text, f):
            continue
        later = next((g for g in found[n + 1 :] if g.order > f.order), None)
        if later is None or later.keys != f.keys or later.stance not in (AVSTYRKER, DELVIS):
            continue
        if f.stance == DELVIS and later.stance != AVSTYRKER:
            continue
        if later.start > f.end and text[f.end : later.start].strip():
            continue  # not the next sentence
        words = {t.low for t in tokens(text, later.start, later.end)}
        if words & _CONCLUDING:
            drop.add(n)
    return [f for n, f in enumerate(found) if n not in drop]


def _agrees_with_view(text: str, f: _Found) -> bool:
    """Whether a stance's sentence agrees with a view with an "att" clause ("delar
    bedömningen att …", "instämmer i uppfattningen att …")."""
    toks = tokens(text, f.start, f.end)
    agrees = any(t.lemma in ("dela", "instämma") for t in toks)
    return agrees and any(
        t.lemma in _VIEWS and k + 1 < len(toks) and toks[k + 1].low == "att"
        for k, t in enumerate(toks)
    )


_VIEWS = wordset("bedömning uppfattning synsätt slutsats ståndpunkt")


# A protocol's headings over its members' motions and dissents.
_MOTION_HEADINGS = wordset(
    """yrka yrkande reservation protokollsanteckning propositionsordning omröstning
    votering"""
)


def _motion_heading(line: str) -> bool:
    """A protocol's heading over its members' motions or dissents: "Yrkanden", "Reservation",
    "Protokollsanteckning", "Särskilt yttrande", "Yrkanden och propositionsordning"."""
    toks = [t for t in tokens(line, 0, len(line)) if t.word]
    if not toks or len(toks) > 5 or _HEADING.match(line):
        return False
    lemmas = {t.lemma for t in toks} | {t.low for t in toks}
    return bool(lemmas & _MOTION_HEADINGS) or {"särskild", "yttrande"} <= lemmas


def _lead(text: str, s: int, e: int, own: frozenset[str]) -> tuple[str, int] | None:
    """A sentence that leads in a list with the respondent's stance ("Kommunen tillstyrker
    följande förslag:"): its stance and start, for the list's items."""
    toks = tokens(text, s, e)
    if exception(toks) or any(t.lemma == "undantag" for t in toks):
        return None  # "… med följande undantag:": the items are not the lead's stance
    for cue in find_cues(toks):
        if is_own(toks, cue.first, own, cue.last):
            return cue.stance, s
    return None


def _whole_of_lead(
    text: str,
    s: int,
    e: int,
    index: _Proposals,
    context: tuple[list[str], str],
    own: frozenset[str],
    order: int,
) -> list[_Found]:
    """A list's lead-in's stance on the response's whole ("Kommunen tillstyrker förslagen i
    promemorian med följande medskick:"); what it gives its items is :func:`_item`'s."""
    return [
        f
        for f in _sentence(text, s, e, index, context, own, False, order)
        if not f.keys and f.basis == "general"
    ]


def _item(
    text: str,
    start: int,
    end: int,
    index: _Proposals,
    lead: tuple[str, int],
    summary: bool,
    order: int,
) -> _Found | None:
    """A list item under a lead-in with a stance ("- sanktionsavgifter vid brister i
    anmälningsplikten (avsnitt 4.3)"): the proposal it names, by number or as a heading
    names it, takes the lead's stance; the quote runs from the lead-in to the item."""
    s, e = _trim(text, start, end)
    keys, basis = index.refs(text, s, e)
    if not keys:
        words = text[s:e].strip(" .;,")
        tie = _heading(words[:1].upper() + words[1:], index) if words else None
        keys, basis = tie if tie else ([], None)
    if not keys:
        return None
    q_start = lead[1]
    return _Found(keys, lead[0], q_start, e, basis or "section", summary, order, text[q_start:e])


def _topical(toks: Sequence[Token], own: frozenset[str]) -> list[Token]:
    """``toks`` without the respondent itself ("Regionen tillstyrker", "Region Östergötland
    anser"): no word of a title ("kommuners och regioners krisberedskap")."""
    return [
        t
        for t in toks
        if t.low not in SELF_WORDS and not (t.text[:1].isupper() and fold(t.low) in own)
    ]


_BUT_WORDS = wordset("men eftersom dock fast")


def _before_but(segment: Sequence[Token]) -> Sequence[Token]:
    """``segment`` up to its first "men"/"eftersom": what comes after is a reason or a
    restriction, not the cue's object ("delar uppfattningen att …, men anser att promemorian
    bygger på statlig styrning": no tie to a proposal on statlig ersättning)."""
    cut = next((k for k, t in enumerate(segment) if t.low in _BUT_WORDS), len(segment))
    return segment[:cut]


def _rest_of(index: _Proposals, toks: Sequence[Token]) -> set[str]:
    """The proposals whose titles have the word after "övriga": the rest of that proposal's
    subject, no "i övrigt" ("För övriga förnödenheter har regionen ingen invändning" under a
    proposal on stocks of förnödenheter; "övriga kommuner" where a title names kommuner)."""
    after = {
        toks[k + 1].lemma
        for k, t in enumerate(toks[:-1])
        if t.low == "övriga" and toks[k + 1].lemma not in _REST_GENERAL
    }
    return {key for key, words in index.words.items() if words & after}


# What "övriga" refers to when it means "i övrigt": the response's other parts.
_REST_GENERAL = wordset(
    "förslag del avsnitt kapitel fråga synpunkt bedömning punkt ändring frågeställning"
)


def _sentence(
    text: str,
    s: int,
    e: int,
    index: _Proposals,
    context: tuple[list[str], str],
    own: frozenset[str],
    summary: bool,
    order: int,
    *,
    titled: set[str] | None = None,
    topic: str | None = None,
    recent: str | None = None,
    toks: list[Token] | None = None,
) -> list[_Found]:
    """The stances of one sentence. ``topic`` is the proposal its paragraph's first sentence
    names by words: a cue whose object is only "förslaget"/"det" points back to it.
    ``recent`` is the proposal the latest sentence before it in the paragraph names: a cue
    whose object points back by "sådan" or a definite noun of what proposals make ("ett
    sådant tak", "kravet") is on it. ``toks``: the sentence's tokens, if the caller has them."""
    if toks is None:
        toks = tokens(text, s, e)
    cues = find_cues(toks, proposed=index.title_words)
    out: list[_Found] = []
    parts: list[bool] = []  # per found: whether its cue's object is a part ("att …")
    # Per found: the words of the part its cue is restricted to ("förslaget i den del det
    # avser tillsyn": {tillsyn}), or None.
    pieces: list[frozenset[str] | None] = []
    # Cues on a named part of "förslaget" that tie to nothing by themselves: (order, stance,
    # the part's words), for the proposal a later cue of the sentence names.
    pending: list[tuple[int, str, frozenset[str]]] = []
    # An exception of a stance on a group ("förslagen i promemorian, med undantag för
    # förslaget i avsnitt 5.3, som avstyrks"): where it starts, the proposals it names and how.
    excepted: tuple[int, list[str], str] | None = None
    for n, cue in enumerate(cues):
        if not is_own(toks, cue.first, own, cue.last):
            continue
        lo = toks[cues[n - 1].last + 1].start if n else s
        hi = toks[cues[n + 1].first].start if n + 1 < len(cues) else e
        keys, basis = index.refs(text, toks[cue.first].start, hi)
        segment = [t for t in toks if toks[cue.first].start <= t.start < hi]
        before = [t for t in toks if lo <= t.start < toks[cue.first].start]
        if keys and cue.stance != DELVIS:
            # "har inga synpunkter på förslagen i betänkandet men vill lämna följande
            # kommentar till avsnitt 6.1": a number after the cue's clause, whose object is
            # the whole remiss, is the remark's, not the cue's object.
            head = _clause(segment)
            if _whole(head) and not index.refs(text, head[0].start, head[-1].end)[0]:
                keys, basis = [], None
        if n:
            # A later cue's words before it are the earlier cue's object, except those after
            # the last "men", comma, … ("tillstyrker A, men förslaget om B avstyrks").
            cut = [k for k, t in enumerate(before) if t.low in BOUNDARIES]
            before = before[cut[-1] + 1 :] if cut else []
        if excepted is not None and not keys and toks[cue.first].start > excepted[0]:
            # A cue inside the exception ("…, som avstyrks", "som kommunen inte kan
            # tillstyrka") is the excepted proposals' stance, unless it names another.
            other = index.by_words(_content(_topical(_clause(segment), own)))
            if other is None or other in excepted[1]:
                keys, basis = excepted[1], excepted[2]
        left_out = exception(segment)
        with_exception = _excepting(text, index, context, cue, toks, segment, before, left_out)
        if with_exception is not None:
            # "ställer sig bakom förslagen i promemorian, med undantag för förslaget i avsnitt
            # 5.3": the stance on every other proposal of the group; the excepted ones get
            # the stance stated for them (a later cue), else none from this sentence.
            rest_keys, how, out_keys, out_how = with_exception
            q_start, q_end = _trim(text, s, e)
            parts.append(False)
            pieces.append(None)
            out.append(
                _Found(
                    rest_keys,
                    cue.plain if cue.excepting else cue.stance,
                    q_start,
                    q_end,
                    how,
                    summary,
                    order + n,
                    text[q_start:q_end],
                )
            )
            excepted = (left_out[0].start, out_keys, out_how)
            continue
        stance = cue.stance
        rest = _rest_of(index, toks)
        if rest & set(context[0]) and stance in (TILLSTYRKER, AVSTYRKER):
            # "För övriga förnödenheter har regionen ingen invändning" under that proposal:
            # a stance on the rest of its subject, another on its other part: partly.
            stance = DELVIS
        width = cue.last - cue.first + 1  # the cue's words, then its object's
        # "i övrigt" in the cue's own clause ("att avstyrka X samt att i övrigt inte lämna
        # några synpunkter": the "i övrigt" is the later cue's).
        own_clause = _clause(segment, BOUNDARIES - {"och"})
        lows = {t.low for t in own_clause} | {t.low for t in before}
        # "tillstyrker det/förslaget i övrigt": the rest of that proposal, not of the remiss.
        its_rest = "övrigt" in lows and stance != INGA and _one_object(own_clause[width:])
        if not keys and ("övrigt" in lows or "övriga" in lows) and not rest and not its_rest:
            keys, basis = [], "i_ovrigt"
        elif not keys and n == 0:
            # "När det gäller förslaget i avsnitt 7.6 avstyrker regionen": the object first;
            # a later cue's object follows it (what precedes it is the earlier cue's).
            keys, basis = index.refs(text, lo, toks[cue.first].start)
        if not keys and basis != "i_ovrigt":
            clause = _clause(segment)
            # The cue's object: its own clause after it, else the words before it ("Flera av
            # förslagen tillstyrks").
            counted = own_clause
            if not _content(_topical(own_clause[width:], own)):
                cut = [k for k, t in enumerate(before) if t.low in BOUNDARIES]
                counted = [*before[cut[-1] + 1 if cut else 0 :], *own_clause]
            if any(counts_proposals(counted, k) for k in range(len(counted))):
                # "positiv till flera av utredningens förslag": some proposals, unnamed; not
                # the whole remiss, nor the heading's proposal.
                continue
            pointed = _pointed(toks)
            words = (
                index.by_words(_content(_topical(clause, own)), pointed=pointed)
                or index.by_words(_content(_topical(before, own)), pointed=pointed)
                or index.by_words(
                    _content(_topical(_before_but(_clause(segment, frozenset())), own)),
                    pointed=pointed,
                )
            )
            restricted = stance == DELVIS and cue.plain != DELVIS
            buts = [k for k, t in enumerate(segment) if t.low == "men"]
            if words is None and restricted and buts:
                # "tillstyrker att det införs ett tak …, men anser att taket om tolv
                # medarbetare under fjorton dagar är för högt": the restriction, speaking of
                # the same thing ("tak", "taket"), names the proposal the cue's object only
                # hinted at (not a condition's words, nor a restriction about another thing)
                unconditioned = _clause(segment, frozenset())
                said = _content(segment[: buts[0]]) - _STOP - _WHOLE_WORDS - own
                again = _content(segment[buts[0] :]) & said
                if again:
                    words = index.by_words(_content(_topical(unconditioned, own)), pointed=pointed)
            current, how = context
            if words and current and words not in current:
                # A later cue's own words: "tillstyrker förslaget i den del det avser tillsyn,
                # men avstyrker förslaget om X" under the tillsyn heading names X.
                topical = _topical(before + segment if n else toks, own)
                opened = _opened_on(toks, cue.first)
                heading_words = index.words[current[0]]
                if (
                    _names(opened, index.words[words])
                    and not _names(opened, heading_words)
                    and not _names(_content(topical), heading_words)
                ):
                    pass  # "När det gäller journalföringen ser kommunen …": the topic it sets
                elif index.words[current[0]] & _content(topical):
                    words = None  # the sentence also speaks of the heading's proposal
                elif index.by_words(_content(topical), full=True) != words:
                    words = None
                elif words not in (
                    index.by_words(_content(clause)),
                    index.by_words(_content(before)),
                ):
                    words = None  # named only after "men"/"eftersom": not the cue's object
            if current and (words is None or words in current):
                named = [t for t in clause + before if t not in left_out]
                keys, basis = _narrow(index, current, named, titled or set()), how
                out_keys = _narrow(index, keys, left_out, set()) if left_out else keys
                if len(out_keys) < len(keys):
                    # "tillstyrker förslagen med undantag för sanktionsavgifterna"
                    keys = [k for k in keys if k not in out_keys]
                    stance = cue.plain if cue.excepting else stance
            elif several := _coordinated(index, clause) or _coordinated(index, before):
                keys, basis = several, "words"  # "förslaget om A och förslaget om B"
            elif words:
                keys, basis = [words], "words"
            elif group := index.group(_pointed(toks, plural=True)):
                keys, basis = group, "words"  # "förslagen om registret"
            elif (described := index.by_parts(_content(_described(clause)))) is not None:
                # "avstyrker förslaget att kommunerna ska lämna uppgifter om föreningsstödet":
                # the proposal "Uppgiftsskyldighet … föreningsstödet" told in other words
                keys, basis = [described], "words"
            elif _whole(clause + before):
                keys, basis = [], "general"
                if cue.announced or cue.excepting:
                    # "tillstyrker förslagen i promemorian, med de undantag och förbehåll som
                    # framgår nedan", "…, med ett undantag.": the stance on the whole; the
                    # later text's own stances are the exceptions, each on its proposal.
                    stance = cue.plain
            elif recent and (
                _points_back(own_clause[width:])
                or _echoes(index, recent, _content(_topical(own_clause[width:], own)))
            ):
                # "… Kommunen avråder från ett sådant tak."; "Utredningen föreslår en ny lag om
                # … MSB ifrågasätter behovet av en särskild lag.": the thing just named
                keys, basis = [recent], "words"
            elif topic and _anaphoric(toks, [*clause, *before, *segment[: width + 3]]):
                keys, basis = [topic], "words"  # "Förslaget om X är bra. Kommunen tillstyrker det."
            elif topic and not _content(_topical(own_clause[width:] + before, own)) - _BARE:
                # "Utredningen föreslår att X. Kommunen har ingen invändning.": a cue without
                # an object of its own is on the proposal its paragraph opened with.
                keys, basis = [topic], "words"
            elif its_rest and out:
                keys, basis = out[-1].keys, out[-1].basis  # "… men tillstyrker det i övrigt"
            elif out and _same_object(toks, cue, segment[width:], before):
                # "välkomnar förslaget om X men kan inte tillstyrka det utan full
                # finansiering", "…, men ansvaret kan inte tillstyrkas utan att …": a later
                # cue of the sentence on the earlier one's object.
                keys, basis = out[-1].keys, out[-1].basis
            else:
                piece = _piece(toks, cue.last)
                if piece:
                    pending.append((order + n, stance, piece))
                continue  # a remark about something that is not a proposal: no stance
        start, end = _trim(text, s, e)
        titles = {w for k in keys for w in index.words.get(k, set())}
        parts.append(_part(toks, cue.first, cue.last, titles))
        pieces.append(_piece(toks, cue.last))
        out.append(
            _Found(
                keys,
                stance,
                start,
                end,
                basis or "section",
                summary,
                order + n,
                text[start:end],
            )
        )
    # "positiv till X men avslår förslaget": the later of two contrasting stances on the same
    # proposals in one sentence is the stance; when the later one's object is a part of the
    # proposal ("tillstyrker att A införs men avstyrker att det enbart ska gälla B"), the
    # proposal is supported in part.
    for at, stance, piece in pending:
        # "tillstyrker förslaget i den del det avser tillsyn, men avstyrker förslaget om
        # anmälningsplikt": the part is of the proposal the later cue names, when that
        # proposal's title has the part's word ("Tillsyn och anmälningsplikt för …").
        later = next((j for j, f in enumerate(out) if f.order > at), None)
        if later is None or len(out[later].keys) != 1:
            continue
        f = out[later]
        if any(_akin(w, p) for w in piece for p in index.words[f.keys[0]]):
            out.insert(later, replace(f, stance=stance, order=at))
            parts.insert(later, False)
            pieces.insert(later, piece)
    kept: list[_Found] = []
    kept_piece: frozenset[str] | None = None
    for f, part, piece in zip(out, parts, pieces, strict=True):
        if f.stance == ABSTAIN and kept and kept[-1].keys == f.keys:
            continue  # "tillstyrker förslaget men avstår från att kommentera beloppen"
        if (
            kept
            and kept[-1].keys == f.keys
            and {kept[-1].stance, f.stance} == {TILLSTYRKER, DELVIS}
        ):
            # "delar bedömningen att kravet bör begränsas och tillstyrker förslaget med den
            # begränsningen": support and partial support of one proposal in one sentence is
            # partial support.
            kept[-1] = replace(kept[-1], stance=DELVIS)
            kept_piece = piece
            continue
        if kept and kept[-1].keys == f.keys and kept[-1].stance != f.stance:
            between = text[kept[-1].start : f.end].lower()
            if re.search(r"\b(men|dock|däremot)\b", between):
                # Either stance on a part: the later one's object ("men avstyrker de
                # föreslagna beloppen"), or the earlier one named as a part ("tillstyrker
                # förslaget i den del det avser tillsyn, men avstyrker …").
                on_part = part or kept_piece is not None
                mixed = on_part and {kept[-1].stance, f.stance} <= {TILLSTYRKER, AVSTYRKER, DELVIS}
                kept[-1] = replace(f, stance=DELVIS) if mixed else f
                kept_piece = piece
                continue
        kept.append(f)
        kept_piece = piece
    return kept


def _excepting(
    text: str,
    index: _Proposals,
    context: tuple[list[str], str],
    cue: Cue,
    toks: Sequence[Token],
    segment: Sequence[Token],
    before: Sequence[Token],
    left_out: Sequence[Token],
) -> tuple[list[str], str, list[str], str] | None:
    """A stance on a group with an exception: the group (proposals numbered before the
    exception, "förslagen i avsnitt 4.1–4.3 utom 4.2", or the whole remiss, "förslagen i
    promemorian, med undantag för …", "tillstyrker förslagen utom …") without the proposals
    the exception names, and how each is tied; None when there is no exception, it names no
    proposal, or leaves none. Under a heading a bare "förslagen" is the heading's group
    (:func:`_narrow` leaves the exception out there)."""
    if not left_out:
        return None
    at = left_out[0].start
    group, how = index.refs(text, toks[cue.first].start, at)
    if not group:
        obj = [t for t in segment if t.start < at]
        if not _whole([*before, *obj]):
            return None
        if context[0] and not _whole([t for t in [*before, *obj] if t.low != "förslagen"]):
            return None
        group, how = list(index.keys), "general"
    out_keys, out_how = _named_by(text, index, left_out)
    rest = [k for k in group if k not in out_keys]
    if not out_keys or not rest or len(rest) == len(group):
        return None
    return rest, how or "section", out_keys, out_how


def _named_by(text: str, index: _Proposals, words: Sequence[Token]) -> tuple[list[str], str]:
    """The proposals a noun phrase names ("förslaget i avsnitt 5.3", "förslaget om krav på
    skolskjutsvärd", "kravet på årlig uppföljning"): by number, one by one, by words, or as a
    heading names them."""
    keys, how = index.refs(text, words[0].start, words[-1].end)
    if keys:
        return keys, how or "section"
    several = _coordinated(index, list(words))
    if several:
        return several, "words"
    content = _content(words)
    key = index.by_words(content, pointed=_pointed(words)) or index.by_title(content)
    return ([key], "words") if key is not None else ([], "")


_ONE = wordset("förslaget det detta")
_OBJECT_SKIP = wordset("dock därför också även ändå i övrigt")


def _one_object(after: Sequence[Token]) -> bool:
    """Whether a cue's object (the words right after it) is one proposal pointed back to:
    "förslaget", "det", "detta" ("tillstyrker det i övrigt", "tillstyrker i övrigt
    förslaget"), not "förslagen" or "promemorians förslag"."""
    words = [t for t in after if t.word and t.low not in _OBJECT_SKIP and t.low not in SELF_WORDS]
    return bool(words) and words[0].low in _ONE


# "förslaget i den del det avser tillsyn", "i de delar som gäller …", "vad gäller tillsynen",
# "såvitt avser …": a stance restricted to a named part of the proposal.
_PIECE_MARKS = (
    ("den", "del"),
    ("den", "delen"),
    ("de", "delar"),
    ("de", "delarna"),
    ("vad", "avser"),
    ("vad", "gäller"),
    ("såvitt", "avser"),
    ("såvitt", "gäller"),
)
_PIECE_WORDS = wordset("avse gälla röra beröra omfatta handla del")
_PIECE_ENDS = wordset(", ; . : men eftersom dock däremot samtidigt")


def _piece(toks: Sequence[Token], last: int) -> frozenset[str] | None:
    """The words of the part of the proposal a cue restricts itself to, right after it
    ("tillstyrker förslaget i den del det avser tillsyn": {tillsyn}; "… vad gäller
    tillsynen"), or None."""
    span: list[Token] = []
    for t in toks[last + 1 : last + 16]:
        if t.low in _PIECE_ENDS:
            break
        span.append(t)
    lows = [t.low for t in span]
    for k in range(len(lows) - 1):
        if (lows[k], lows[k + 1]) in _PIECE_MARKS:
            words = frozenset(_content(span[k + 2 :]) - _PIECE_WORDS)
            return words or None
    return None


def _coordinated(index: _Proposals, clause: Sequence[Token]) -> list[str]:
    """The proposals a clause names one by one: joined by "och"/"eller"/"," before each
    "förslaget" ("inga synpunkter på förslaget om A eller förslaget om B"), or after a plural
    "förslagen om" ("tillstyrker förslagen om A och B"; a title's own "och", "vård och
    omsorg", is tried both as a cut and not). Each part names a proposal by its own words;
    empty unless there are two parts or more and each names another proposal."""
    joins = ("och", "eller", ",")
    strong = [
        k
        for k in range(1, len(clause) - 1)
        if clause[k].low in joins and clause[k + 1].lemma == "förslag"
    ]
    plural = next((k for k, t in enumerate(clause) if t.low == "förslagen"), None)
    weak = []
    if plural is not None:
        weak = [
            k
            for k in range(plural + 3, len(clause) - 1)
            if clause[k].low in joins and k not in strong
        ]
    tries = [sorted(strong + weak), strong] + [sorted([*strong, k]) for k in weak]
    for cuts in tries:
        if not cuts:
            continue
        keys: list[str] = []
        for lo, hi in zip([0, *cuts], [*cuts, len(clause)], strict=True):
            part = clause[lo:hi]
            # A later part is an item of "förslagen om …": its head words are pointed at.
            pointed = _pointed(part) | (frozenset(_content(part[1:5])) if lo else frozenset())
            key = index.by_words(_content(part), pointed=pointed)
            if key is None or key in keys:
                break
            keys.append(key)
        else:
            return keys
    return []


_PREPOSITIONS = wordset("på av för i om till med från inom vid över under enligt")
# What points back to a proposal named before: "Kommunen tillstyrker förslaget/det."
_ANAPHORA = wordset("förslaget det detta denna")
# The verbs after which "det" is an expletive with the subject put after them: "det finns",
# "det krävs", "att det införs minimikrav" (any s-passive followed by its subject).
_EXPLETIVE_NEXT = wordset("finns fanns krävs behövs")


def _echoes(index: _Proposals, recent: str, words: set[str]) -> bool:
    """Whether a cue's object repeats a word of the proposal the sentence before named and no
    word of another proposal's title ("MSB ifrågasätter behovet av en särskild lag" after
    "Utredningen föreslår en ny lag om …"; not "att det införs minimikrav …" after a sentence
    on another proposal)."""
    others = {w for k, ws in index.words.items() if k != recent for w in ws}
    return bool(words & index.words[recent]) and not (words - index.words[recent]) & others


def _points_back(after: Sequence[Token]) -> bool:
    """Whether a cue's object points back at what was said before: "(ett) sådant X", "(en)
    sådan X", "sådana X", or a definite noun of what a proposal makes ("kravet",
    "skyldigheten"), possibly after "från att införa"/"att införa"."""
    words = [t for t in after if t.word and t.low not in ("från", "en", "ett")]
    words = [t for t in words if t.low not in _BARE or t.low in ("sådan", "sådant", "sådana")]
    words = [t for t in words if t.lemma not in _CARRY_VERBS]
    if not words:
        return False
    if words[0].low in ("sådan", "sådant", "sådana"):
        return True
    # "kravet" alone points back; "kravet på dokumentation" names a new thing
    nxt = after[after.index(words[0]) + 1 :] if words[0] in after else []
    ends = not nxt or not nxt[0].word or nxt[0].low in ("men", "och", "eftersom", "då")
    return words[0].low in _DEFINITE_KINDS and ends


_CARRY_VERBS = wordset("införa inrätta genomföra")
# Words for the whole remiss or its direction, no thing of one proposal.
_WHOLE_WORDS = wordset(
    """utredning utredningen förslag förslaget förslagen reform reformen inriktning
    inriktningen promemoria promemorian betänkande betänkandet ambition ambitionen anse mena
    bedöma"""
)
_DEFINITE_KINDS = wordset("kravet skyldigheten regleringen taket bestämmelsen")


def _anaphoric(toks: Sequence[Token], words: Sequence[Token]) -> bool:
    """Whether ``words`` (of the sentence ``toks``) hold a word that points back at a proposal
    ("förslaget", "det", "detta"), not the expletive "det" of "att det införs minimikrav"."""
    at = {id(t): k for k, t in enumerate(toks)}
    for t in words:
        if t.low not in _ANAPHORA:
            continue
        k = at.get(id(t))
        if t.low == "det" and k is not None and k + 2 < len(toks):
            # "att det införs minimikrav": a verb and then its subject; not "att det
            # genomförs." (the proposal, pointed back at)
            verb, then = toks[k + 1], toks[k + 2]
            passive = verb.low.endswith("s") and verb.lemma != verb.low
            if (verb.low in _EXPLETIVE_NEXT or passive) and then.word:
                continue
        return True
    return False


_PART_SKIP = wordset("dock däremot emellertid också även inte ej")


def _part(toks: Sequence[Token], first: int, last: int, titles: set[str]) -> bool:
    """Whether the cue at ``first..last`` has a part of a proposal as its object, not the
    proposal itself: an "att" clause ("avstyrker att kravet anges i lag"), "förslaget i den
    del/de delar …", or a thing that is neither "förslaget"/"det" nor named by a word of the
    proposal's title (``titles``): "avstyrker den föreslagna procentsatsen". A passive's
    object stands before it ("men kravet på 80 procent avstyrks")."""
    rest = [t for t in toks[last + 1 : last + 8] if t.low not in _PART_SKIP]
    if rest[:1] and rest[0].low == "att":
        return True
    lows = [t.low for t in rest]
    if any(
        lows[k] in ("den", "de") and lows[k + 1] in ("del", "delen", "delar", "delarna")
        for k in range(len(lows) - 1)
    ):
        return True
    obj: list[Token] = []
    for t in rest:
        if t.low in BOUNDARIES or t.low in (".", "eftersom", "då"):
            break
        obj.append(t)
    if not [t for t in obj if t.word]:
        obj = []
        for t in reversed(toks[:first]):
            if t.low in BOUNDARIES:
                break
            obj.insert(0, t)
    words = [t for t in obj if t.word]
    if not words or any(t.lemma == "förslag" or t.low in _ANAPHORA for t in words):
        return False
    # The noun phrase's head and its modifiers stand before a preposition ("nivån på
    # avgifterna": "nivån").
    at = next((k for k, t in enumerate(obj) if t.low in _PREPOSITIONS), len(obj))
    return not any(_akin(w, p) for w in _content(obj[:at]) for p in titles)


# Words that end the clause of a cue: what follows is a reason or a restriction, not its object.
_CLAUSE_END = wordset("men eftersom därför samtidigt ; .")
_CLAUSE_END_AFTER_COMMA = wordset("dock då")
# The whole remiss as an object: "förslagen", "betänkandet", "promemorian"; a genitive only
# with "förslag" ("promemorians förslag", not "promemorians bedömning att …").
# "utredningens förslag" is the whole too, but "utredningens förslag om/att …" one proposal.
_WHOLE_GENITIVE = wordset(
    """betänkandets promemorians remissens huvudbetänkandets utredningens utredarens
    kommitténs"""
)
_ONE_OF = wordset("om att kring rörande gällande angående till")


def _clause(segment: Sequence[Token], ends: frozenset[str] = _CLAUSE_END) -> list[Token]:
    """The cue's clause: its tokens up to a "men", "dock", "eftersom", … , or a condition
    ("endast om …", "förutsatt att …": what the cue depends on, not its object)."""
    for k, t in enumerate(segment):
        if k and (
            t.low in ends
            or (t.low in _CLAUSE_END_AFTER_COMMA and segment[k - 1].low == ",")
            or (t.low == "om" and segment[k - 1].low in ("endast", "bara", "enbart"))
            or t.low in ("förutsatt", "förutsättning")
        ):
            cut = k - 1 if t.low == "om" or (t.low == "förutsättning" and k > 1) else k
            return list(segment[:cut])
    return list(segment)


_ABOUT = wordset("om att kring rörande gällande avseende med för")


# What a proposal makes, named before its object: "kravet på …", "skyldigheten att …".
_DEMANDS = wordset("krav skyldighet reglering")
_DEMANDED = wordset("på att om av för")


def _names(words: set[str], title: set[str]) -> bool:
    """Whether ``words`` hold a long word (eight letters or more) of ``title``, also
    inflected or as a compound's part (:func:`_akin`)."""
    return any(_akin(w, p) for w in words for p in title if len(p) >= 8)


def _opened_on(toks: Sequence[Token], first: int) -> set[str]:
    """The content words a sentence opens its topic with before the cue at ``first`` ("När
    det gäller journalföringen …", "Beträffande de regionala planerna …"), up to a comma or
    the cue; empty without such an opening."""
    for k, t in enumerate(toks[: min(first, 4)]):
        if t.low in TOPIC_WORDS:
            words = []
            for u in toks[k + 1 : first]:
                if u.low in (",", ";", ":"):
                    break
                words.append(u)
            return _content(words)
    return set()


def _pointed(toks: Sequence[Token], *, plural: bool = False) -> frozenset[str]:
    """The content words right after "förslaget om …" or "kravet på …" (up to four words): a
    proposal named by its head word; with ``plural``, after "förslagen om …"."""
    out: set[str] = set()
    for k, t in enumerate(toks[:-1]):
        if plural and t.low != "förslagen":
            continue
        if t.lemma == "förslag" and toks[k + 1].low in _ABOUT:
            out |= _content(toks[k + 2 : k + 6])
        elif not plural and t.lemma in _DEMANDS and toks[k + 1].low in _DEMANDED:
            out |= _content(toks[k + 2 : k + 6])  # "kravet på nödvattenplanering"
        elif not plural and t.low in TOPIC_WORDS:  # "När det gäller sanktionsavgifterna …"
            out |= _content(toks[k + 1 : k + 5])
    return frozenset(out)


def _described(toks: Sequence[Token]) -> list[Token]:
    """The words after "förslaget att/om …" in ``toks``: the proposal as the response tells
    it; none without such an object."""
    for k, t in enumerate(toks[:-1]):
        if t.lemma == "förslag" and toks[k + 1].low in ("att", "om"):
            return list(toks[k + 2 :])
    return []


def _whole(toks: Sequence[Token]) -> bool:
    """Whether the stance's object is the whole remiss: "förslagen", "betänkandet",
    "promemorian", or a genitive of them or of "utredningen" with "förslag" ("betänkandets
    förslag", "utredningens förslag"; not "utredningens förslag om X", one proposal)."""
    for k, t in enumerate(toks):
        if t.low in _WHOLE and t.low not in _WHOLE_GENITIVE:
            return True
        if t.low in _WHOLE_GENITIVE:
            at = [j for j in range(k + 1, min(k + 4, len(toks))) if toks[j].lemma == "förslag"]
            if at and not (at[0] + 1 < len(toks) and toks[at[0] + 1].low in _ONE_OF):
                return True
    return False


def _narrow(
    index: _Proposals, current: list[str], toks: Sequence[Token], titled: frozenset[str] | set[str]
) -> list[str]:
    """Of a heading's several proposals (a chapter, "Avsnitt 4 – Tillsyn och uppföljning"),
    the ones the sentence names itself: by their words (:meth:`_Proposals.by_words`), or by
    a word of six letters or more that only some of them have ("avstyrker
    sanktionsavgifterna"). The sentence's own tie wins over the heading's chapter; a word of
    the heading's own title ("förslagen om tillsyn och uppföljning") names the chapter."""
    if len(current) < 2:
        return list(current)
    own = {t.lemma for t in toks if t.low in SELF_WORDS or t.low in OTHER_WORDS}
    content = _content(toks) - own
    named = [k for k in current if index.names(k, content)]
    if not named:
        mine = {w for w in content - titled if len(w) >= 6}
        named = [k for k in current if index.words[k] & mine]
    return named if named else list(current)


_ROW_START = re.compile(rf"(?:^|(?<=[|\s]))({_NUMBER})\.?(?=[^|\d]{{0,120}}\|)")


def _cells(text: str, start: int, end: int) -> list[tuple[int, int]]:
    cells = []
    at = start
    for part in text[start:end].split("|"):
        cells.append((at, at + len(part)))
        at += len(part) + 1
    return cells


def _rows(text: str, start: int, end: int, index: _Proposals) -> list[tuple[int, int]]:
    """The rows of a line with "|": one, or several when a plain-text table's line ends were
    joined ("Avsnitt | Ställning 7.1 | Tillstyrker | Bra. 7.2 | Avstyrker |"). A row starts
    at a proposal's number followed, in the same cell, by at most its title; in a table
    without numbers, before each short cell with a stance ("Tillstyrker", "Avstyrks"), at the
    name of a proposal that ends the cell before it ("Kommentar Nationell tillsynsmyndighet |
    Tillstyrker | Sanktionsavgifter | Avstyrker | Onödigt.")."""
    starts = [
        start + m.start(1)
        for m in _ROW_START.finditer(text[start:end])
        if index.section(m.group(1))
    ]
    if len(starts) >= 2:
        return [(s, e) for s, e in zip(starts, [*starts[1:], end], strict=True)]
    cells = _cells(text, start, end)
    names = []
    for n in range(1, len(cells)):
        s, e = cells[n]
        if len(text[s:e].split()) <= 4 and find_cues(tokens(text, s, e), cell=True):
            name = _name_start(text, *cells[n - 1], index)
            if name is not None:
                names.append(name)
    if len(names) < 2:
        return [(start, end)]
    return [(s, e) for s, e in zip(names, [*names[1:], end], strict=True)]


def _name_start(text: str, start: int, end: int, index: _Proposals) -> int | None:
    """Where the name of a proposal that ends ``text[start:end]`` begins: the longest tail of
    words after the cell's last sentence end that names one (:func:`_name`), so a comment of
    the row before is left out ("Bra. Sanktionsavgifter", "Kommentar Nationell
    tillsynsmyndighet")."""
    toks = [t for t in tokens(text, start, end) if t.word]
    first = 0
    for k, t in enumerate(toks[:-1]):
        if text[t.end : t.end + 1] in (".", "!", "?"):
            first = k + 1
    for t in toks[first:]:
        if _name(text, t.start, end, index):
            return t.start
    return None


def _name(text: str, start: int, end: int, index: _Proposals) -> list[str]:
    """The proposals a table's first cell names: by a section number, else by its words as a
    heading's (:func:`_heading`)."""
    keys, _ = index.refs(text, start, end)
    if keys:
        return keys
    tie = _heading(text[start:end].strip(" *#\t"), index)
    return tie[0] if tie else []


def _row(text: str, start: int, end: int, index: _Proposals, order: int) -> list[_Found]:
    """A stance table row "7.1 | Tillstyrker | kommentar": the first cell with text names the
    proposal (a leading "|" leaves an empty cell before it), the first later cell with a cue
    gives the stance, whether or not a comment follows."""
    cells = [c for c in _cells(text, start, end)]
    while len(cells) > 1 and not text[slice(*cells[0])].strip():
        cells = cells[1:]
    keys, basis = index.refs(text, *cells[0])
    if not keys:
        first = text[cells[0][0] : cells[0][1]].strip(" *#\t")
        tie = _heading(first, index) if first else None
        keys, basis = tie if tie else ([], None)
        if basis == "range" and len(keys) == 1:
            basis = "section"
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
        if any(f.stance != ABSTAIN for f, _ in items):
            # Declining to comment gives way to any stance on the same proposal (the summary's
            # too): it is no statement of its own.
            items = [(f, b) for f, b in items if f.stance != ABSTAIN]
        body = {f.stance for f, _ in items if not f.summary}
        if (
            key is not None
            and body == {TILLSTYRKER}
            and any(f.summary and f.stance == DELVIS and f.keys == [key] for f, _ in items)
        ):
            # The summary's condition on this proposal ("tillstyrker förslaget om X, men anser
            # att kravet bara bör gälla …") is not withdrawn by a body that supports without
            # repeating it ("ser positivt på att fler vuxna finns ombord"): partial, the
            # summary's. A summary's "i huvudsak" on a group or the whole remiss ("tillstyrker
            # i huvudsak förslagen i kapitel 6") says some are not supported, not which: the
            # body's specific stance is the stance.
            items = [
                (f, b) for f, b in items if f.summary and f.stance == DELVIS and f.keys == [key]
            ]
        if key is not None:
            if any(b in _STRONG for _, b in items):
                items = [(f, b) for f, b in items if b in _STRONG]
            if any(not f.summary for f, _ in items):
                items = [(f, b) for f, b in items if not f.summary]
            if items:
                # A stance on this proposal alone wins over one on a group it is part of
                # ("positiv till förslagen i kapitlet … avstyrker dock sanktionsavgifterna").
                fewest = min(len(f.keys) for f, _ in items)
                items = [(f, b) for f, b in items if len(f.keys) == fewest]
        best: dict[str, tuple[_Found, str]] = {}
        for f, b in sorted(items, key=lambda fb: (_ORDER[fb[1]], fb[0].summary, fb[0].order)):
            best.setdefault(f.stance, (f, b))
        for stance, (f, b) in sorted(best.items(), key=lambda sb: sb[1][0].order):
            if key is not None:
                answered.add(key)
            if stance != ABSTAIN:  # declining to comment answers a proposal with no stance
                out.append(Stance(key, stance, f.quote, f.start, f.end, b))
    if ovrigt and ovrigt[0].stance != ABSTAIN:  # "Övriga delar lämnas utan kommentar"
        f = ovrigt[0]
        for key in index.keys:
            if key not in answered and key not in (headed or set()):
                out.append(Stance(key, f.stance, f.quote, f.start, f.end, "i_ovrigt"))
    order = {k: i for i, k in enumerate([None, *index.keys])}
    return tuple(sorted(out, key=lambda st: order[st.proposal]))
