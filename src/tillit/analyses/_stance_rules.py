"""The rules of stance extraction on one sentence: tokens with lemmas, the stance cues, the
scope of a negation, the modifiers that make a stance partial, and whose stance it is.

Everything here works on one sentence (or one table row); tying a stance to a proposal and
keeping one stance per proposal is :mod:`tillit.analyses._stances`. The rules are explained
in docs/stances.md.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from tillit.swedish import fold, lemma

TILLSTYRKER, DELVIS, AVSTYRKER, INGA = "tillstyrker", "delvis", "avstyrker", "inga_synpunkter"
#: Declining to comment ("avstår från att yttra sig", "lämnas utan kommentar"): read like a
#: stance, so that it is tied to what it declines and answers it, but never given out.
ABSTAIN = "avstår"


def wordset(words: str) -> frozenset[str]:
    """A set of words written as one string: ``wordset("inte ej icke")``."""
    return frozenset(words.split())


_TOKEN = re.compile(r"\d+(?:\.\d+)*|[^\W\d_]+(?:[-:][^\W\d_]+)*|[^\w\s]")


@dataclass(frozen=True)
class Token:
    text: str
    low: str
    lemma: str
    start: int
    end: int

    @property
    def word(self) -> bool:
        return self.text[0].isalnum()


def tokens(text: str, start: int, end: int) -> list[Token]:
    """The tokens of ``text[start:end]`` with their offsets in ``text``."""
    out = []
    for m in _TOKEN.finditer(text, start, end):
        word = m.group()
        low = word.lower()
        lem = lemma(low) if word[0].isalpha() and "-" not in word and ":" not in word else low
        out.append(Token(word, low, lem, m.start(), m.end()))
    return out


# --- cues: (stance, lemma slots, largest gap between slots) ----------------------------------
# A slot is a set of lemmas; between two slots at most ``gap`` word tokens may stand.
_POS, _NEG = TILLSTYRKER, AVSTYRKER
_CUES: tuple[tuple[str, tuple[frozenset[str], ...], int], ...] = tuple(
    (stance, tuple(frozenset(s.split("|")) for s in slots), gap)
    for stance, slots, gap in (
        (_POS, ("tillstyrka|tillstyrkande|bifalla",), 0),
        (_POS, ("välkomna",), 0),
        (_POS, ("ställa", "sig|oss|mig", "bakom"), 3),
        (_POS, ("stå", "bakom"), 2),
        (_POS, ("positiv", "till|på"), 1),
        (_POS, ("dela", "bedömning|uppfattning|synsätt|slutsats|ståndpunkt|inställning"), 4),
        (_POS, ("instämma",), 0),
        (_NEG, ("avstyrka|avstyrkande",), 0),
        (_NEG, ("avråda",), 0),
        (_NEG, ("avslå|avvisa",), 0),
        (_NEG, ("motsätta", "sig|oss|mig"), 1),
        (_NEG, ("vara|är", "emot"), 1),
        (_NEG, ("ha|har", "inget|ingenting|något|någonting", "emot"), 1),
        (_NEG, ("invända|invändning",), 0),
        (_NEG, ("se|ser|finnas", "hinder"), 2),
        (_NEG, ("ifrågasätta", "behov|förslag|nödvändighet|lämplighet"), 3),
        (_NEG, ("ifrågasätta", "att|om"), 1),
        (_NEG, ("negativ", "till"), 1),
        (_NEG, ("tveksam|tveksamt|kritisk|frågande", "till"), 1),
        (_POS, ("godta|acceptera",), 0),
        (_POS, ("vara|ställa", "positiv"), 2),
    )
)
# The cues by a word of their first slot: only those are tried at a token.
_BY_FIRST: dict[str, tuple[tuple[str, tuple[frozenset[str], ...], int], ...]] = {}
for _cue in _CUES:
    for _word in _cue[1][0]:
        _BY_FIRST[_word] = (*_BY_FIRST.get(_word, ()), _cue)
# Passive with the object first: "Bedömningen delas (inte)", "Förslaget stöds".
_SHARED_VIEWS = wordset("bedömning uppfattning synsätt slutsats ståndpunkt inställning")
_PASSIVE_SUPPORT = wordset("stöds stödjs stödes stöddes")
_SPLIT = wordset("upp in ut mellan")
# What one agrees with when it is a description, not a proposal: "instämmer i beskrivningen
# av problemen", "delar bilden". A "bedömning att …" is a description when its clause speaks
# of the present ("att tillsynen i dag är splittrad") and proposes nothing.
_DESCRIPTIONS = wordset(
    """beskrivning problembeskrivning nulägesbeskrivning analys problemanalys bild problembild
    lägesbild kartläggning redogörelse genomgång konstaterande iakttagelse bakgrund problem
    verklighetsbeskrivning omvärldsanalys"""
)
_PROPOSAL_NOUNS = wordset("förslag promemoria promemorian betänkande betänkandet remiss")
_PRESENT = wordset("idag nuläge nuvarande närvarande hittills")
_PROPOSING = wordset(
    """böra bör skola ska måste behöva behövs krävas krävs behov föreslå förslag införa
    inrätta genomföra borde"""
)
# Entry into force ("ikraftträdande"): the words a sentence or a proposal's title speaks of it
# by, one concept; "träda i kraft" and "börja gälla" too.
ENTRY = "ikraftträdande"
_ENTRY_WORDS = wordset(
    """ikraftträdande ikraftträdandedatum ikraftträdandetidpunkt tidpunkt införandetidpunkt
    övergångsbestämmelse övergångsregel övergångsperiod övergångstid övergångsbestämmelserna
    ikraftträdandebestämmelse"""
)
# Stances on a date of entry into force, read only in a sentence about it: postponing it or
# calling it too early is against ("ikraftträdandet bör skjutas upp", "tidpunkten är alltför
# snäv"), calling it reasonable is for ("tidpunkten är rimlig"); a negation flips them.
_TIMING_NEG = wordset(
    """senarelägga senareläggas senareläggning uppskjuta uppskjutande tidigast orealistisk
    orealistiskt orimlig orimligt"""
)
_TIMING_LATER = (("skjuta", "upp"), ("skjuta", "fram"), ("skjuta", "på"), ("flytta", "fram"))
_TOO = wordset("för alltför")
_TOO_EARLY = wordset("tidig tidigt snäv snävt kort knapp knappt optimistisk ambitiös brådskande")
_TIMING_POS = wordset(
    "rimlig rimligt lämplig lämpligt realistisk realistiskt godtagbar tillräcklig"
)


def has_entry(toks: Sequence[Token]) -> bool:
    """Whether the tokens speak of entry into force: "ikraftträdandet", "den föreslagna
    tidpunkten", "övergångsbestämmelserna", "träder i kraft", "börjar gälla"."""
    for k, t in enumerate(toks):
        if t.lemma in _ENTRY_WORDS or t.low in _ENTRY_WORDS:
            return True
        if not t.low.startswith(("träd", "trätt", "börja")):
            continue
        nxt = [u.low for u in toks[k + 1 : k + 3]]
        if t.low.startswith(("träd", "trätt")) and "kraft" in nxt:
            return True
        if t.lemma == "börja" and nxt[:1] and nxt[0].startswith(("gälla", "tillämpa")):
            return True
    return False


# Cues that need a word of the proposal right after them ("stödjer förslaget", not "stödjer
# sina medlemmar") or a modal before them ("förslaget bör genomföras", "skäl att genomföra").
_OBJECTS = wordset("förslag det detta denna dessa bedömning inriktning ambition utredning")
# "stödjer de föreslagna övergångsbestämmelserna": what is proposed is a proposal.
_PROPOSED = wordset("föreslagen föreslaget föreslagna")


# Verbs of support that need the proposal as their object: "stödjer förslaget", "biträder
# bedömningen"; not "stödjer sina medlemmar", "biträder kommunerna i arbetet".
_SUPPORTING = wordset("stödja biträda")
# Adverbials between such a verb and its object: "stödjer i allt väsentligt förslaget",
# "biträder därför helt bedömningen".
_ADVERBIALS = wordset(
    "i allt väsentlig väsentligt huvudsak stort princip dock därför också även helt fullt starkt"
)


# What may stand before the object's head: "stödjer de föreslagna reglerna", "biträder
# utredningens bedömning", "stödjer hela förslaget".
_DETERMINERS = wordset("den det de denna detta dessa hela samtliga alla båda")


def _object_supported(toks: list[Token], i: int) -> bool:
    """Whether the object of "stödja"/"biträda" at ``i`` is a proposal (:func:`_supported`):
    its first word after adverbials, or the word after a determiner or a genitive ("de
    föreslagna", "utredningens förslag"); not a body ("stödjer kommunerna i arbetet med
    förslaget", "biträda länsstyrelsen")."""
    k = _past_adverbs(toks, i + 1)
    for _ in range(3):
        if k >= len(toks) or not toks[k].word:
            return False
        if _supported(toks[k]):
            return True
        determiner = toks[k].low in _DETERMINERS or (
            toks[k].low.endswith("s") and toks[k].lemma != toks[k].low
        )
        if not determiner:
            return False
        k += 1
    return False


def _past_adverbs(toks: list[Token], k: int) -> int:
    """The first token from ``k`` on that is no adverbial (:data:`_ADVERBIALS`)."""
    while k < len(toks) and (toks[k].low in _ADVERBIALS or toks[k].lemma in _ADVERBIALS):
        k += 1
    return k


def _supported(t: Token) -> bool:
    """Whether ``t`` after "stödja" makes its object a proposal: "förslaget", "det",
    "bedömningen", "de föreslagna reglerna", "övergångsbestämmelserna"."""
    entry = t.lemma in _ENTRY_WORDS or t.low in _ENTRY_WORDS
    return t.lemma in _OBJECTS or t.low in _PROPOSED or entry


_PROPOSES = wordset("föreslår föreslås föreslog föreslogs föreslagit föreslagits")
# Carrying a proposal out, after a modal: "förslaget bör genomföras", "avgifterna bör inte
# införas", "skäl att inrätta".
_CARRY_OUT = wordset("genomföra införa inrätta")
_MODALS = wordset("böra skola ska kunna kan skäl anledning")
NEGATORS = wordset("inte ej icke ingen ingenting aldrig knappast varken")
_NOT_NEGATING = wordset("bara enbart endast minst")  # "inte bara", "inte minst"
BOUNDARIES = wordset(", ; : och men samt eller eftersom då som vilket dock")
_PARTIAL = (
    ("delvis",),
    ("i", "huvudsak"),
    ("i", "stort"),
    ("i", "princip"),
    ("under", "förutsättning"),
    ("förutsatt", "att"),
    ("med", "förbehåll"),
    ("med", "reservation"),
    ("med", "undantag"),
    ("med", "ett", "undantag"),
    ("med", "de", "undantag"),
    ("med", "vissa", "undantag"),
    ("med", "några", "undantag"),
)
_BUT = wordset("men dock")
# A "men" clause that adds rather than restricts: "men ser dessutom ett behov av", "men med
# följande tillägg".
_ADDING = wordset("dessutom även också ytterligare tillägg tillägga")
# A "men" clause whose verb only stresses or reminds ("men vill understryka att …", "men vill
# dock framhålla …", "men vill samtidigt betona vikten av …") is a remark passed on with the
# stance, not a restriction of it, whatever the stressed clause says; only a condition in it
# restricts ("men vill betona att det förutsätter full finansiering").
_EMPHASIS = wordset(
    "betona framhålla understryka poängtera påminna notera påpeka uppmärksamma lyfta"
)
_CONDITION = wordset("förutsättning förutsätta förutsatt villkor villkora")
_RESTRICTING = wordset("måste endast bara inte ej förutsättning krav begränsa villkor")
# A view that demands a change ("men anser att även regionerna bör kunna ta del av
# bidraget", "men menar att kravet behöver sänkas") restricts, even with an "även" in it.
_VIEWING = wordset("anse mena bedöma")
_DEMANDING = wordset("böra bör måste behöva behöver ska skola skall borde")


# Sentence adverbs that stand between a verb and its "inte": "tillstyrker dock inte".
_SENTENCE_ADVERBS = wordset("dock därför således alltså emellertid heller därmed")


@dataclass(frozen=True)
class Cue:
    stance: str  # after negation and modifiers
    first: int  # token index of the cue's first token
    last: int  # token index of its last token
    negated: bool
    plain: str = ""  # the stance after negation, before a partial modifier
    excepting: bool = False  # partial only by "med undantag för" (a proposal left out)
    # partial only by exceptions or reservations the later text states ("med de undantag och
    # förbehåll som framgår nedan")
    announced: bool = False


def _match(toks: list[Token], i: int, slots: tuple[frozenset[str], ...], gap: int) -> int | None:
    if toks[i].lemma not in slots[0] and toks[i].low not in slots[0]:
        return None
    at = i
    for slot in slots[1:]:
        found = None
        for skipped, j in enumerate(range(at + 1, len(toks))):
            if toks[j].lemma in slot or toks[j].low in slot:
                found = j
                break
            if not toks[j].word or skipped == gap:
                break
        if found is None:
            return None
        at = found
    return at


def _has(toks: list[Token], lo: int, hi: int, phrase: tuple[str, ...]) -> bool:
    n = len(phrase)
    return any(
        all(toks[k + m].low == phrase[m] or toks[k + m].lemma == phrase[m] for m in range(n))
        for k in range(max(lo, 0), min(hi, len(toks)) - n + 1)
    )


_REFLEXIVES = wordset("sig mig dig oss er")


# Grounds for a stance, whose negation is the stance's: "inte skäl att avstyrka".
_GROUNDS = wordset("skäl anledning grund")


def _stops_negation(toks: list[Token], k: int) -> bool:
    """Whether ``toks[k]`` ends the reach of a negator before a cue: a clause boundary, or
    the "utan" of "inte X utan Y" ("delar inte den bedömningen utan tillstyrker"), not the
    "utan vidare" of "kan inte utan vidare tillstyrka"."""
    if toks[k].low in BOUNDARIES:
        return True
    return toks[k].low == "utan" and not (k + 1 < len(toks) and toks[k + 1].low == "vidare")


def _negations(toks: list[Token], first: int, last: int) -> int:
    """Negators in scope of the cue at ``first..last``: up to five word tokens before it (not
    across a clause boundary), inside it, and the one word right after its verb (its last
    token when that is a passive verb, "Bedömningen delas inte", or a reflexive pronoun,
    "motsätter sig inte")."""
    count = 0
    k = first - 1
    seen = 0
    reach = 5
    while k >= 0 and seen < reach and not _stops_negation(toks, k):
        if (
            toks[k].lemma in NEGATORS
            and not (k + 1 < len(toks) and toks[k + 1].low in _NOT_NEGATING)
            and not _has(toks, k + 1, first, ("annat", "än"))
        ):
            count += 1
        if toks[k].lemma in _GROUNDS and k + 1 < len(toks) and toks[k + 1].low == "att":
            # "ser inte att det finns skäl att avstyrka", "finns det inte någon anledning att
            # motsätta sig": the grounds' own negation reaches the cue.
            reach = seen + 6
        seen += 1
        k -= 1
    count += _view_denied(toks, k, first)
    count += sum(1 for t in toks[first + 1 : last] if t.lemma in NEGATORS)
    after = first + 1 if first == last else None
    if first != last and toks[last].low.endswith("s") and toks[last].lemma != toks[last].low:
        after = last + 1
    if first != last and toks[last].low in _REFLEXIVES:
        after = last + 1  # "motsätter sig inte", "motsätter sig därför inte"
    if after is not None and after < len(toks) and toks[after].low in _SENTENCE_ADVERBS:
        after += 1  # "tillstyrker dock inte", "kan därför inte"
    if after is not None and after < len(toks) and toks[after].low in ("inte", "ej"):
        count += 1
    return count


# Verbs of opinion whose negation reaches into their "att" clause: "anser inte att förslaget
# bör avslås" (a double negation: support).
_OPINING = wordset("anse mena tycka bedöma tro")


def _view_denied(toks: list[Token], k: int, first: int) -> int:
    """1 if the cue at ``first`` stands in the "att" clause of a negated verb of opinion
    beyond the negators :func:`_negations` counted (those after ``k``): "Kommunen anser
    inte att förslaget om X bör avslås", "Därför menar regionen inte att förslaget bör
    avstyrkas"; not "anser att förslaget inte bör avslås" (counted already), nor across a
    clause boundary."""
    for j in range(first - 1, -1, -1):
        if _stops_negation(toks, j):
            return 0
        if toks[j].low == "att":
            head = toks[max(0, j - 3) : j]
            if j <= k + 1 and any(t.lemma in _OPINING or t.low in _OPINING for t in head):
                return int(any(t.lemma in NEGATORS for t in head))
            return 0
    return 0


def _no_views(toks: list[Token], i: int) -> int | None:
    """The last token index of an "inga synpunkter" phrase starting the search at ``i``
    ("inga synpunkter", "inte några synpunkter", "utan erinran", "ingen erinran", "inget att
    erinra/anföra/tillägga"), or None. A view that is not held: no objection."""
    t = toks[i]
    if t.lemma in ("synpunkt", "erinran", "erinra", "anföra", "tillägga"):
        if _none_before(toks, i):
            return i
        if t.lemma in ("erinran", "synpunkt") and i > 0 and toks[i - 1].low == "utan":
            return i  # "utan erinran", "lämnar förslaget utan synpunkter"
    return None


def _none_before(toks: list[Token], i: int) -> bool:
    """ "ingen", "ingenting" or "någon" with "inte"/"ej" among the four tokens before ``i``
    ("inga synpunkter", "har inte några kommentarer")."""
    back = [toks[k].lemma for k in range(max(0, i - 4), i)]
    return (
        "ingen" in back
        or "ingenting" in back
        or ("någon" in back and ("inte" in back or "ej" in back))
    )


# What one declines to do when one declines to comment: "avstår från att yttra sig / lämna
# synpunkter / kommentera / ta ställning / svara".
_SPEAKING = wordset(
    "yttra yttrande synpunkt kommentera kommentar ställning svara besvara ställningstagande"
)
_TAKE = wordset("ta tar tog tagit tas")


def _abstention(toks: list[Token], i: int) -> int | None:
    """The last token index of a phrase that declines to comment, starting at ``i``: "avstår
    (därför) från att yttra sig / lämna synpunkter / kommentera", "lämnar inga kommentarer",
    "lämnas utan kommentar", "kommenterar inte", "väljer att inte kommentera", "yttrar sig
    inte", "tar inte ställning till". The act of speaking not done, not a view not held
    (that is :func:`_no_views`)."""
    t = toks[i]
    if t.lemma == "avstå":
        for k in range(i + 1, min(i + 7, len(toks))):
            if toks[k].lemma in _SPEAKING:
                return k
            if toks[k].low in BOUNDARIES:
                break
        return None
    if t.lemma == "kommentar":
        if _none_before(toks, i):
            return i  # "lämnar inga kommentarer", "har inte några kommentarer"
        if i > 0 and toks[i - 1].low == "utan":
            return i  # "lämnas utan kommentar", "lämnar förslaget utan kommentarer"
        return None
    verb = t.lemma in ("kommentera", "yttra") or (
        t.low in _TAKE and i + 1 < len(toks) and "ställning" in {u.low for u in toks[i + 1 : i + 4]}
    )
    if not verb:
        return None
    end = i
    if t.lemma == "yttra" and i + 1 < len(toks) and toks[i + 1].low == "sig":
        end = i + 1
    if t.low in _TAKE:
        end = next(k for k in range(i + 1, i + 4) if toks[k].low == "ställning")
    before = toks[i - 1].low if i > 0 else ""
    if before in ("inte", "ej"):
        return end  # "väljer att inte kommentera", "inte ta ställning"
    after = end + 1 if t.low not in _TAKE else i + 1
    if after < len(toks) and toks[after].low in _SENTENCE_ADVERBS:
        after += 1
    if after < len(toks) and toks[after].low in ("inte", "ej"):
        return max(end, after)  # "kommenterar inte", "yttrar sig därför inte", "tar inte"
    return None


_IF = wordset("om såvida")
_ONLY = wordset("endast bara enbart")


# A support "med den begränsningen", "med de ändringar som föreslås ovan", "med den
# justeringen", "med följande förbehåll": conditional on a change, partial.
_CHANGES = wordset(
    """begränsning begränsningen begränsningar begränsningarna ändring ändringen ändringar
    ändringarna justering justeringen justeringar justeringarna förbehåll förbehållet
    förbehållen reservation reservationen reservationer modifiering modifieringen
    modifieringar inskränkning inskränkningen inskränkningar villkor villkoret villkoren
    förändring förändringen förändringar förändringarna anpassning anpassningen
    anpassningar anpassningarna precisering preciseringen preciseringar"""
)
_POINTING = wordset(
    "den det de denna detta dessa följande ovan nedan nämnda ovannämnda angivna ovanstående"
)


def _pointed(toks: list[Token], k: int, limit: int) -> int | None:
    """After a preposition at ``k`` ("med", "under"), the index past the pointing words that
    follow it ("den", "de ovan nämnda"; at most up to ``limit``), or None when none does."""
    if k + 1 >= len(toks) or toks[k + 1].low not in _POINTING:
        return None
    j = k + 2
    while j < limit and toks[j].low in _POINTING:
        j += 1
    return j


def _with_change(toks: list[Token], lo: int, hi: int) -> bool:
    """ "med" and a pointing word before a change ("med den begränsningen", "med de ändringar
    som föreslås ovan", "med följande förbehåll"), not a change the proposal itself makes
    ("med de ändringar i skollagen som föreslås": a preposition after the change)."""
    for k in range(max(lo, 0), min(hi, len(toks)) - 2):
        such = _such_after(toks, k) if toks[k].low == "med" else None
        if such is not None and (toks[such].lemma in _CHANGES or toks[such].low in _CHANGES):
            return True  # "tillstyrker förslaget med en sådan ändring"
        j = _pointed(toks, k, min(k + 4, len(toks))) if toks[k].low == "med" else None
        if j is None:
            continue
        if j < len(toks) and (toks[j].low in _CHANGES or toks[j].lemma in _CHANGES):
            nxt = toks[j + 1].low if j + 1 < len(toks) else ""
            if nxt not in ("i", "av", "på", "till"):
                return True
    return False


_PREMISES = wordset("förutsättning förutsättningen förutsättningar förutsättningarna")
_SUCH = wordset("sådan sådant sådana")
_CLAUSE_STARTS = wordset(", ; : och men")


def _such_after(toks: list[Token], k: int) -> int | None:
    """The index of the noun after "med/under (en/ett) sådan/sådant/sådana" at ``k`` (the
    thing the response described: "med en sådan ändring", "Med sådana justeringar"), or
    None."""
    m = k + 2 if k + 1 < len(toks) and toks[k + 1].low in ("en", "ett") else k + 1
    if m < len(toks) - 1 and toks[m].low in _SUCH:
        # not "med sådan kraft att …" (so … that)
        return None if m + 2 < len(toks) and toks[m + 2].low == "att" else m + 1
    return None


def _change_before(toks: list[Token], first: int, support: bool = False) -> bool:
    """A change or condition pointed at at the start of the cue's clause ("Med den ändringen
    tillstyrker kommunen förslaget", "Under den förutsättningen ställer sig regionen bakom
    förslaget", "Med de justeringarna kan förbundet godta det"), not one farther off ("Med
    den ändringen blir lagen tydligare, och kommunen tillstyrker …"). Before a plain support
    (``support``) "Med en sådan X" is a condition whatever X is ("Med en sådan
    övergångsbestämmelse kan kommunen ställa sig bakom förslaget"); not before opposition
    ("Med sådana brister i underlaget avstyrker kommunen")."""
    for k in range(first - 2):
        if toks[k].low not in ("med", "under") or (k and toks[k - 1].low not in _CLAUSE_STARTS):
            continue
        j = _such_after(toks, k)
        if j is not None and j < first and (support or toks[j].lemma in _CHANGES):
            # "Med en sådan övergångsbestämmelse kan kommunen ställa sig bakom förslaget":
            # what the response itself asked for, whatever its noun, is the condition.
            if not any(t.low in _CLAUSE_STARTS for t in toks[j + 1 : first]):
                return True
            continue
        j = _pointed(toks, k, first)
        if j is None:
            continue
        word = toks[j]
        changed = word.low in _CHANGES or word.lemma in _CHANGES or word.low in _PREMISES
        if changed and j < first and not any(t.low in _CLAUSE_STARTS for t in toks[j + 1 : first]):
            return True
    return False


def _condition_first(toks: list[Token], first: int) -> bool:
    """A condition that opens the cue's clause, the cue its main clause ("Förutsatt att
    staten finansierar reservvattnet har kommunen ingen invändning mot förslaget", "Under
    förutsättning att …, tillstyrker regionen …"), not one whose main clause came before
    ("Förutsatt att staten betalar blir kostnaden låg, och kommunen tillstyrker …")."""
    for k in range(first):
        if k and toks[k - 1].low not in _CLAUSE_STARTS:
            continue
        if not any(_has(toks, k, k + len(c), c) for c in _CONDITION_OPENERS):
            continue
        span = toks[k + 1 : first]
        return not any(
            t.low in _CLAUSE_BREAKS and (t.low in (";", ":", ".") or (n and span[n - 1].low == ","))
            for n, t in enumerate(span)
        )
    return False


# What opens a condition clause; what ends the sentence part it governs.
_CONDITION_OPENERS = (
    ("förutsatt", "att"),
    ("under", "förutsättning", "att"),
    ("under", "förutsättningen", "att"),
    ("på", "villkor", "att"),
    ("på", "villkoret", "att"),
)
_CLAUSE_BREAKS = wordset("och men samt ; : .")


def _partial(
    toks: list[Token],
    first: int,
    end: int,
    last: int | None = None,
    *,
    exceptions: bool = True,
    support: bool = False,
) -> bool:
    """A partial modifier near the cue, a condition right after it ("kan godtas om
    uppföljningen sker vartannat år", "tillstyrker endast om staten betalar") or opening its
    clause ("Förutsatt att …, tillstyrker"), or a support with a change pointed at
    ("tillstyrker förslaget med den begränsningen"). ``exceptions`` False leaves "med
    undantag" out: whether the cue is partial for any other reason; ``support``: the cue is a
    plain support (not negated), see :func:`_change_before`."""
    if _condition_first(toks, first):
        return True
    if last is not None and last + 1 < len(toks):
        nxt = toks[last + 1 : last + 3]
        if nxt[0].low in _IF or (nxt[0].low in _ONLY and len(nxt) > 1 and nxt[1].low in _IF):
            return True
    if _change_before(toks, first, support):
        return True
    if _with_change(toks, (last if last is not None else first) + 1, end):
        return True
    if _only_if(toks, (last if last is not None else first) + 1, end):
        return True
    if _if_clause(toks, (last if last is not None else first) + 1, end):
        return True
    return any(
        _has(toks, first - 4, end, phrase)
        for phrase in _PARTIAL
        if exceptions or phrase not in _EXCEPTIONS
    )


# The partial phrases that leave a proposal out rather than restrict the stance.
_EXCEPTIONS = (("med", "undantag"), ("med", "ett", "undantag"))


_CONDITION_WORDS = wordset("villkor villkoret")
_RESERVATIONS = wordset(
    """undantag undantagen förbehåll förbehållen reservation reservationer reservationerna"""
)
_LATER = wordset("nedan nedanstående senare")


def _announced(toks: list[Token], first: int, last: int, end: int) -> bool:
    """Whether a cue is partial only by exceptions or reservations the later text states:
    "med de undantag och förbehåll som framgår nedan", "med vissa förbehåll, se nedan", "med
    de undantag som redovisas i det följande"; not "med förbehåll för finansieringen"."""
    for k in range(last + 1, min(end, len(toks))):
        if toks[k].low != "med":
            continue
        span = toks[k + 1 : k + 5]
        at = next((j for j, t in enumerate(span) if t.low in _RESERVATIONS), None)
        if at is None:
            continue
        tail = toks[k + 1 + at + 1 : k + 1 + at + 9]
        lows = [t.low for t in tail]
        stop = next((j for j, w in enumerate(lows) if w in (";", ":", "men", "(")), len(lows))
        lows = lows[:stop]
        later = [j for j, w in enumerate(lows) if w in _LATER]
        following = [
            j + 2 for j in range(len(lows) - 2) if lows[j : j + 3] == ["i", "det", "följande"]
        ]
        if not later and not following:
            continue
        stop_at = k + 1 + at + 1 + (later or following)[0] + 1
        return not _partial(toks, first, k, last) and not any(
            _has(toks, stop_at, end, phrase) for phrase in _PARTIAL
        )
    return False


# What "utan" (without) governs when it states a condition: "utan att …", "utan en
# finansiering", "utan full kostnadstäckning"; not the "utan" of "inte X utan Y".
_UNLESS_NEXT = wordset(
    "att full fullt fullständig fullständiga tillräcklig tillräckliga ytterligare statlig "
    "statliga särskild särskilda extra ökade"
)


def _unless(toks: list[Token], last: int, end: int) -> bool:
    """A condition after a negated support in its clause: "kan inte tillstyrka förslaget
    utan att staten tar kostnaden", "kan inte ställa sig bakom det utan full finansiering"."""
    for k in range(last + 1, min(end, len(toks)) - 1):
        if toks[k].low in (",", ";", ":", "men", "eftersom", "."):
            return False
        if toks[k].low == "utan" and toks[k + 1].low in _UNLESS_NEXT:
            return True
    return False


_IF_SUBJECTS = wordset(
    "den det de detta denna dessa staten kommunen kommunerna regionen regionerna man huvudmannen"
)


def _if_clause(toks: list[Token], lo: int, hi: int) -> bool:
    """A conditional "om" clause after the cue's object: "om" and a subject and its verb ("kan
    acceptera en bestämmelse om personalkontinuitet om den utformas som en
    målsättningsbestämmelse", "… om staten betalar"); not the "om" of "förslaget om det nya
    kravet"."""
    for k in range(max(lo, 0), min(hi, len(toks)) - 2):
        if toks[k].low != "om" or toks[k + 1].low not in _IF_SUBJECTS:
            continue
        if k and toks[k - 1].low in ("även", "också", "som", "fast", "oavsett"):
            continue  # "även om det innebär en börda": a concession, no condition
        verb = toks[k + 2]
        lemma = verb.lemma
        finite = lemma[-1:] in "aeiouyåäö" and verb.low in (
            lemma + "r",
            lemma + "s",
            lemma[:-1] + "s",
            lemma + "rs",
        )
        if verb.word and finite:  # "utformas", "betalar"; not "enskildes", "frågor"
            return True
    return False


def _only_if(toks: list[Token], lo: int, hi: int) -> bool:
    """A condition after the cue and its object: "endast om", "bara om", "enbart om",
    "på/under villkor att" ("kan ställa sig bakom förslaget endast om det kombineras med
    statlig medfinansiering"); not "inte bara om" (a remark: "handlar inte bara om X")."""
    for k in range(max(lo, 0), min(hi, len(toks)) - 1):
        a, b = toks[k].low, toks[k + 1].low
        if a in _ONLY and b in _IF and not (k and toks[k - 1].low in ("inte", "ej")):
            return True
        if a in ("på", "under") and b in _CONDITION_WORDS:
            return True
    return False


_PART_FORMS = wordset("del delen delar delarna")
_WHOLE_PART = wordset("alla samtliga hela varje båda bägge övriga")
_PROPOSAL_WORDS = wordset("förslag promemoria betänkande utredning lagförslag remiss bedömning")
_OBJECT_STOPS = wordset(", ; : men eftersom då som vilket dock (")


def _part_of(toks: list[Token], first: int, last: int, end: int) -> bool:
    """The cue's object is a part of what is proposed: "avstyrker den delen av förslaget",
    "tillstyrker vissa delar av promemorian", "Den delen av förslaget avstyrks". Not "alla
    delar av förslaget", "en del av kostnaden" or "förslaget i den delen" (the whole within
    a section)."""

    def part(span: list[Token]) -> bool:
        for k, t in enumerate(span[:-1]):
            if t.low in _PART_FORMS and span[k + 1].low == "av" and k + 2 < len(span):
                if span[k + 2].lemma not in _PROPOSAL_WORDS:
                    continue  # "tillstyrker att staten bär en del av kostnaden"
                if not any(w.low in _WHOLE_PART for w in span[max(0, k - 2) : k]):
                    return True
        return False

    after: list[Token] = []
    for t in toks[last + 1 : min(end, last + 8)]:
        if t.low in _OBJECT_STOPS:
            break
        after.append(t)
    before: list[Token] = []
    for t in reversed(toks[max(0, first - 7) : first]):
        if t.low in _OBJECT_STOPS or t.low in _BUT:
            break
        before.insert(0, t)
    return part(after) or part(before)


def _reported(toks: list[Token], first: int, last: int) -> int | None:
    """Where the view an agreeing cue agrees with opens its "att" clause ("delar bedömningen
    att …", "instämmer i (bedömningen) att …", "ställer sig bakom uppfattningen att …"): the
    index of that "att", or None. What that clause says, a "men" in it included, is the view
    agreed with, not the respondent's own addition."""
    if toks[first].lemma not in _AGREEING and toks[last].lemma != "dela":
        return None
    view = toks[last].lemma in _SHARED_VIEWS or toks[first].lemma == "instämma"
    for k in range(last + 1, min(last + 8, len(toks))):
        t = toks[k]
        if t.low == "att":
            return k if view else None
        if t.lemma in _SHARED_VIEWS:
            view = True
        elif t.low in BOUNDARIES:
            return None
    return None


# A parenthesis of the respondent's after "men som": "men som framgår nedan", "men som
# nämnts ovan", "men som kommunen tidigare framfört".
_ASIDE = wordset("framgå nämna påpeka anföra framföra säga beskriva tidigare ovan nedan")


def _continues_view(toks: list[Token], k: int) -> bool:
    """Whether the "men" at ``k`` goes on inside a reported view: a subordinate "men att …",
    "men som …" ("delar bedömningen att reformen är angelägen, men som ändå kräver tid"), not
    the respondent's own main clause ("men anser att …", "men regionen anser …") nor a
    parenthesis of its own ("men som kommunen tidigare framfört måste …")."""
    nxt = toks[k + 1 : k + 4]
    if not nxt or nxt[0].low not in ("att", "som"):
        return False
    aside = any(
        t.low in SELF_WORDS or t.text[:1].isupper() or t.lemma in _ASIDE or t.low in _ASIDE
        for t in nxt[1:]
    )
    return not (nxt[0].low == "som" and aside)


def _restricts(toks: list[Token], last: int, end: int, view: int | None = None) -> bool:
    """A "men"/"dock" after the cue (before ``end``) that restricts the stance. A "dock"
    right after the cue's verb ("Kommunen tillstyrker dock förslaget") looks back at the
    sentence before and restricts nothing; nor does a "men att/som" that goes on inside the
    view agreed with (``view``, the index of its "att": :func:`_reported`)."""
    for k in range(last + 1, end):
        if toks[k].low == "dock" and k <= last + 2 and toks[k - 1].low != ",":
            continue
        if view is not None and k > view and toks[k].low == "men" and _continues_view(toks, k):
            continue  # "delar bedömningen att X är välavvägt men att det kräver resurser"
        if toks[k].low in _BUT:
            clause = toks[k + 1 : end]
            if _as_proposed(clause):
                return False  # "men … måste kunna söka bidraget, vilket utredningen föreslår"
            # "på samma villkor" (on equal terms) is no condition
            clause = [
                t
                for n, t in enumerate(clause)
                if not (t.lemma in ("villkor", "villkoret") and n and clause[n - 1].low == "samma")
            ]
            rest = {t.lemma for t in clause} | {t.low for t in clause}
            head = {t.lemma for t in clause[:4]} | {t.low for t in clause[:4]}
            if head & _EMPHASIS:
                return bool(rest & _CONDITION)  # "men vill understryka att …": a remark
            if rest & _RESTRICTING:
                return True  # "men anser att bidraget måste …", also with an "även" in it
            viewing = [n for n, t in enumerate(clause) if t.lemma in _VIEWING]
            if viewing and any(
                t.lemma in _DEMANDING or t.low in _DEMANDING for t in clause[viewing[0] + 1 :]
            ):
                return True  # "men anser att även regionerna bör kunna ta del av det"
            if rest & _ADDING:
                return False
            return not (rest & _EMPHASIS)
    return False


def _as_proposed(clause: Sequence[Token]) -> bool:
    """Whether a "men" clause ends by saying the proposal already does what it asks ("…,
    vilket utredningen också föreslår", "…, som promemorian föreslår"): no restriction."""
    for n, t in enumerate(clause):
        if t.low not in ("vilket", "som", "såsom") or n + 1 >= len(clause):
            continue
        # not "och inte, som utredningen föreslår, av …", "i stället för … som utredningen
        # föreslår", "…, vilket utredningen inte föreslår"
        lows = [u.low for u in clause[:n]]
        if "inte" in lows or "ej" in lows or "stället" in lows or "skillnad" in lows:
            return False
        tail = clause[n + 1 : n + 5]
        said = [k for k, u in enumerate(tail) if u.low in _PROPOSES]
        if not said or not any(u.low in _TELLERS for u in tail[: said[0]]):
            continue
        if any(u.low in ("inte", "ej") for u in tail):
            return False
        after = clause[n + 1 + said[0] + 1 :]
        # "som utredningen föreslår ska vara tillfälligt": the clause goes on, a demand
        return not after or not after[0].word
    return False


_AGREEING = wordset("dela instämma ställa stå stödja stöd välkomna")


def _at_present(toks: list[Token], k: int) -> bool:
    t = toks[k]
    if t.low in _PRESENT or t.lemma in _PRESENT:
        return True
    return t.low == "dag" and k > 0 and toks[k - 1].low == "i"


def _description(
    toks: list[Token], first: int, last: int, proposed: frozenset[str] = frozenset()
) -> bool:
    """Whether an agreeing cue agrees with a description rather than a proposal: its object is
    a description ("instämmer i beskrivningen av problemen", "ställer sig bakom analysen"),
    or a view whose "att" clause tells of the present and proposes nothing ("delar
    promemorians bedömning att tillsynen i dag är splittrad"). A word of a proposal's own
    title (``proposed``: "lägesbild" of "En nationell lägesbild") describes nothing: it is
    what is proposed ("välkomnar att en nationell lägesbild tas fram")."""
    if toks[first].lemma not in _AGREEING and toks[last].lemma != "dela":
        return False
    view = toks[last].lemma in _SHARED_VIEWS or toks[first].lemma in _SHARED_VIEWS
    seen = 0
    for k in range(last + 1, len(toks)):
        t = toks[k]
        if t.lemma in _PROPOSAL_NOUNS or t.low in BOUNDARIES or seen > 5:
            break
        if t.lemma in _DESCRIPTIONS and t.lemma not in proposed:
            return True
        if t.lemma in _SHARED_VIEWS:
            view = True
        if t.low == "att" and view:
            clause = range(k + 1, len(toks))
            proposes = any(toks[j].lemma in _PROPOSING or toks[j].low in _PROPOSING for j in clause)
            return not proposes and any(_at_present(toks, j) for j in clause)
        seen += t.word
    return False


# The reasoning behind a proposal, not a description of the present.
_REASONING = wordset("analys problemanalys övervägande resonemang")
TOPIC_WORDS = wordset("gäller beträffande angående avseende rörande")


def _reasoning_of_proposal(toks: list[Token], first: int, last: int) -> bool:
    """Whether an agreeing cue agrees with the analysis of a proposal the sentence names as
    its topic ("När det gäller förslaget om fondering instämmer kommunen delvis i
    utredningens analys"): a stance on that proposal, not on a description."""
    topic = any(
        t.low in TOPIC_WORDS and any(u.lemma == "förslag" for u in toks[k + 1 : k + 3])
        for k, t in enumerate(toks[:first])
    )
    if not topic:
        return False
    for t in toks[last + 1 : last + 6]:
        if t.lemma in _REASONING or t.low in _REASONING:
            return True
        if t.low in BOUNDARIES:
            break
    return False


_MONTHS = wordset(
    "januari februari mars april maj juni juli augusti september oktober november december"
)


def _is_date(toks: Sequence[Token]) -> bool:
    """Whether ``toks`` is a date ("den 1 juli 2028", "1 januari 2030", "2028-07-01")."""
    lows = [t.low for t in toks]
    if not 1 <= len(lows) <= 5:
        return False
    return any(w in _MONTHS for w in lows) or any(
        re.fullmatch(r"\d{4}(-\d\d-\d\d)?", w) for w in lows
    )


def _clause_around(toks: list[Token], first: int, last: int) -> list[Token]:
    """The tokens of the clause ``first..last`` stands in, between clause boundaries."""
    # "bedöms som realistisk" is one clause; "… innan/när reglerna träder i kraft" is another.
    ends = (BOUNDARIES - {"som"}) | {"innan", "förrän", "när", "tills"}
    lo = first
    while lo > 0 and toks[lo - 1].low not in ends:
        lo -= 1
    while lo > 1 and toks[lo - 1].low == ",":
        # "Den föreslagna tidpunkten, den 1 juli 2028, är inte realistisk": a date between
        # commas is an apposition, not a clause of its own.
        back = lo - 2
        while back >= 0 and toks[back].low not in ends:
            back -= 1
        inside = toks[back + 1 : lo - 1]
        if back < 0 or toks[back].low != "," or not _is_date(inside):
            break
        lo = back
        while lo > 0 and toks[lo - 1].low not in ends:
            lo -= 1
    hi = last + 1
    while hi < len(toks) and toks[hi].low not in ends:
        hi += 1
    return toks[lo:hi]


def _timing(toks: list[Token], i: int) -> tuple[str, int, int] | None:
    """A stance on a date of entry into force at ``i`` (only asked in a sentence about it)."""
    t = toks[i]
    nxt = toks[i + 1] if i + 1 < len(toks) else None
    if t.lemma in _TIMING_NEG or t.low in _TIMING_NEG:
        return (_NEG, i, i)
    for verb, particle in _TIMING_LATER:
        if t.lemma == verb and nxt is not None and nxt.low == particle:
            return (_NEG, i, i + 1)
    if t.low in _TOO and nxt is not None and (nxt.low in _TOO_EARLY or nxt.lemma in _TOO_EARLY):
        return (_NEG, i, i + 1)
    if t.low in _TIMING_POS or t.lemma in _TIMING_POS:
        return (_POS, i, i)
    if t.low == "som" and nxt is not None and nxt.low in _AS_PROPOSED:
        # "ska träda i kraft som föreslaget den 1 juli 2027"; not "om lagen träder i kraft
        # som föreslaget …" (a circumstance, no stance)
        for k in range(i - 1, -1, -1):
            if toks[k].low in (",", ".", ";", ":"):
                break
            if toks[k].low in ("om", "när", "innan", "ifall", "då"):
                return None
        return (_POS, i, i + 1)
    return None


_AS_PROPOSED = wordset("föreslaget föreslagits föreslås föreslagen planerat")


_TELLERS = wordset("promemorian betänkandet utredningen förslaget regeringen delegationen")


def _told_proposal(toks: list[Token], i: int) -> bool:
    """Whether a carrying out at ``i`` ("ska inrätta") is what another party proposes, told:
    "Utredningen föreslår att Skolverket ska inrätta ett register" (whoever the clause's
    subject is); not the respondent's own "Kommunen föreslår att förslaget inte bör
    genomföras"."""
    for k in range(i - 1, 0, -1):
        t = toks[k]
        if t.low in (".", ";") or t.low in SELF_WORDS or t.lemma in _OPINING:
            return False  # "…, och kommunen anser att registret bör inrättas"
        if t.low in ("och", "men") and toks[k - 1].low == ",":
            return False
        if t.low in _PROPOSES:
            lead = toks[max(0, k - 3) : k]
            return any(t.low in OTHER_WORDS or t.low in _TELLERS for t in lead)
    return False


# Judgements of a proposal's fitness, a stance when the respondent holds them ("anser att
# kravet inte är ändamålsenligt"); negated, opposition.
_JUDGEMENTS = wordset(
    """ändamålsenlig ändamålsenligt lämplig lämpligt motiverad motiverat befogad befogat bra
    välkommet angeläget"""
)


def _opined(toks: list[Token], i: int, proposed: frozenset[str] = frozenset()) -> bool:
    """Whether the judgement at ``i`` is the predicate of an "att" clause of a verb of
    opinion before it in the sentence ("anser Socialstyrelsen däremot att ett krav … inte
    är ändamålsenligt"), as that clause's verb ("är", "vore") right before it (with "inte"),
    and of a proposal or what it makes (its subject, or the clause after it: "tycker att det
    är bra att IVO får i uppdrag att granska kontinuiteten"), not of today's order."""
    k = i - 1
    while k >= 0 and toks[k].low in ("inte", "ej", "helt", "särskilt", "mer", "mindre", "så"):
        k -= 1
    if k < 0 or toks[k].low not in ("är", "vore", "blir"):
        return False
    for j in range(k - 1, -1, -1):
        if toks[j].low in (".", ";", ":"):
            return False
        if toks[j].low == "att":
            subject = toks[j + 1 : k]
            if (
                [t.low for t in subject] == ["det"]
                and i + 1 < len(toks)
                and toks[i + 1].low == "att"
            ):
                # "tycker att det är bra att IVO får i uppdrag att granska …": the clause
                # put after the judgement is what is judged
                subject = toks[i + 2 : i + 14]
            judged = any(
                t.lemma in _JUDGED or t.low in _JUDGED or t.lemma in proposed for t in subject
            )
            present = any(t.low in _NOW for t in subject)
            opined = any(t.lemma in _OPINING or t.low in _OPINING for t in toks[max(0, j - 4) : j])
            return opined and judged and not present
    return False


# What a judgement must be of to be a stance (a proposal or what it makes), not of today's
# order ("dagens uppföljning är inte ändamålsenlig").
_JUDGED = wordset("förslag förslaget krav kravet sådan sådant sådana reglering modell ordning")
_NOW = wordset("dagens nuvarande befintlig befintliga befintligt idag")


def _no_obstacle(toks: list[Token], first: int, last: int) -> bool:
    """Whether "ser inga hinder"/"det finns inga hinder" at ``first..last`` supports: negated,
    and the obstacle is to the proposal ("mot förslaget", "för det", "för att genomföra
    förslaget"), not to something else ("ser inga hinder för att redan i dag ta fram planer");
    an obstacle seen ("det finns hinder för …") is a remark, no stance."""
    if _negations(toks, first, last) % 2 == 0:
        return False
    nxt = toks[last + 1 : last + 4]
    if not nxt or nxt[0].low not in ("mot", "för"):
        return False
    if len(nxt) > 1 and nxt[1].low == "att":
        return len(nxt) > 2 and nxt[2].lemma in _CARRY_OUT
    return True


def find_cues(
    toks: list[Token], *, cell: bool = False, proposed: frozenset[str] = frozenset()
) -> list[Cue]:
    """Every stance cue of one sentence (or table cell), in order, with negation, partial
    modifiers and a restricting "men" applied. In a table cell a bare "delvis" is a cue, and
    a bare "positiv"/"negativ". In a sentence about entry into force (:func:`has_entry`) the
    date's cues count too ("bör skjutas upp", "är rimlig"). Agreeing with a description is no
    cue (:func:`_description`; ``proposed``: the proposals' title words). Declining to
    comment is the cue :data:`ABSTAIN` (:func:`_abstention`), which the caller ties but never
    gives out."""
    raw: list[tuple[str, int, int]] = []
    entry = has_entry(toks)
    i = 0
    while i < len(toks):
        end = _no_views(toks, i)
        if end is not None:
            raw.append((INGA, i, end))
            i = end + 1
            continue
        end = _abstention(toks, i)
        if end is not None:
            raw.append((ABSTAIN, i, end))
            i = end + 1
            continue
        hit = None
        first_of = _BY_FIRST.get(toks[i].lemma, ()) + _BY_FIRST.get(toks[i].low, ())
        for stance, slots, gap in sorted(set(first_of), key=_CUES.index):
            last = _match(toks, i, slots, gap)
            if last is not None:
                hit = (stance, i, last)
                break
        if hit is not None and toks[hit[2]].lemma == "hinder" and not _no_obstacle(toks, *hit[1:]):
            hit = None
        near = toks[max(0, i - 4) : i]
        # "ser inget skäl att inte följa förslaget"; not "Socialstyrelsen bör följa …"
        following = toks[i].lemma == "följa" and any(t.lemma in _GROUNDS for t in near)
        if (
            hit is None
            and (toks[i].lemma in _SUPPORTING or following)
            and _object_supported(toks, i)
        ) or (
            hit is None
            and toks[i].lemma in _CARRY_OUT
            and any(t.lemma in _MODALS or t.low in _MODALS for t in near)
            and not _told_proposal(toks, i)
        ):
            hit = (_POS, i, i)
        judged = toks[i].low in _JUDGEMENTS or toks[i].lemma in _JUDGEMENTS
        if hit is None and judged and _opined(toks, i, proposed):
            hit = (_POS, i, i)  # "anser … att ett sådant krav inte är ändamålsenligt"
        if hit is None and toks[i].lemma in _SHARED_VIEWS:
            # "Bedömningen delas (inte)", "Promemorians bedömning i denna del delas".
            for j in range(i + 1, min(i + 12, len(toks))):
                nxt = toks[j + 1].low if j + 1 < len(toks) else ""
                if toks[j].lemma == "dela" and toks[j].low.endswith("s"):
                    if nxt not in _SPLIT:  # "delas upp i tre delar" is no agreement
                        hit = (_POS, i, j)
                    break
                if toks[j].low in (",", ";", ":", "(", ")"):
                    break
        if (
            hit is None
            and toks[i].low in _PASSIVE_SUPPORT
            and any(t.lemma in _OBJECTS for t in toks[max(0, i - 4) : i])
        ):
            hit = (_POS, i, i)  # "Förslaget stöds"
        if hit is None and entry:
            hit = _timing(toks, i)
            if hit is not None and not has_entry(_clause_around(toks, hit[1], hit[2])):
                hit = None  # "Det är rimligt att …, och reglerna bör träda i kraft …"
        if hit is None and cell and toks[i].low == "delvis" and not raw:
            hit = (DELVIS, i, i)
        if hit is None and cell and not raw and toks[i].lemma in ("positiv", "negativ"):
            hit = (_POS if toks[i].lemma == "positiv" else _NEG, i, i)
        if (
            hit is not None
            and hit[0] in (_POS, _NEG)
            and _description(toks, hit[1], hit[2], proposed)
            and not _reasoning_of_proposal(toks, hit[1], hit[2])
        ):
            i = hit[2] + 1
            continue
        if hit is not None:
            # "ser positivt på X men anser att kravet bör införas stegvis": a carrying out in
            # an earlier cue's "men" clause is a demand (restricting a positive cue), no cue
            # of its own, unless it names a proposal ("men anser att förslaget om Y bör …").
            but = [
                k for _, _, last in raw[-1:] for k in range(last + 1, hit[1]) if toks[k].low in _BUT
            ]
            demand = (
                toks[hit[1]].lemma in _CARRY_OUT
                and bool(but)
                and raw[-1][0] in (_POS, _NEG)
                and not any(t.lemma == "förslag" for t in toks[but[0] : hit[1]])
            )
            if not demand:
                raw.append(hit)
            i = hit[2] + 1
        else:
            i += 1
    cues: list[Cue] = []
    for n, (stance, first, last) in enumerate(raw):
        end = raw[n + 1][1] if n + 1 < len(raw) else len(toks)
        negated = False
        if stance in (_POS, _NEG) and _negations(toks, first, last) % 2 == 1:
            stance = _NEG if stance == _POS else _POS
            negated = True
        if negated and stance == _NEG and _unless(toks, last, end):
            # "kan inte tillstyrkas utan att kommunerna tillförs resurser": support on a
            # condition, partial.
            stance = DELVIS
        plain = stance
        excepting = False
        support = stance == _POS and not negated
        if stance in (_POS, _NEG) and _partial(toks, first, end, last, support=support):
            excepting = not _partial(toks, first, end, last, exceptions=False, support=support)
            stance = DELVIS
        if stance in (_POS, _NEG) and _part_of(toks, first, last, end):
            stance, excepting = DELVIS, False  # "avstyrker den delen av förslaget"
            if cues and cues[-1].plain == plain:
                # "ifrågasätter behovet av vite och avstyrker den delen av förslaget": the
                # earlier cue of the same sense is on the same part.
                cues[-1] = Cue(DELVIS, cues[-1].first, cues[-1].last, cues[-1].negated, plain)
        view = _reported(toks, first, last)
        if stance == _POS and n + 1 == len(raw) and _restricts(toks, last, end, view):
            stance, excepting = DELVIS, False
        announced = stance == DELVIS and plain != DELVIS and _announced(toks, first, last, end)
        cues.append(Cue(stance, first, last, negated, plain, excepting, announced))
    # "delar inte den bedömningen utan tillstyrker förslaget": in "inte X utan Y" the "utan"
    # clause is the stance; the negated cue before it only sets it off.
    return [
        cue
        for n, cue in enumerate(cues)
        if not (
            cue.negated
            and n + 1 < len(cues)
            and any(
                _stops_negation(toks, k) and toks[k].low == "utan"
                for k in range(cue.last + 1, cues[n + 1].first)
            )
        )
    ]


_EXCEPT = wordset("utom förutom undantaget")


def exception(toks: Sequence[Token]) -> list[Token]:
    """The words of an exception ("med undantag för förslaget om sanktionsavgifter", "utom
    registret", "förutom …", "bortsett från …", "med ett undantag: …"), up to a comma or the
    end: what a stance on a group leaves out."""
    for k, t in enumerate(toks):
        start = None
        if t.low in _EXCEPT:
            start = k + 1
        elif t.lemma == "undantag" and k + 1 < len(toks) and toks[k + 1].low in ("för", "av", ":"):
            start = k + 2  # "med undantag för …", "med ett undantag: förslaget om …"
        elif t.low == "bortsett" and k + 1 < len(toks) and toks[k + 1].low == "från":
            start = k + 2  # "bortsett från förslaget om …"
        if start is not None:
            out = []
            for u in toks[start:]:
                if u.low in (",", ";", ".", "men"):
                    break
                out.append(u)
            return out
    return []


# --- whose stance: the respondent's, or another body's reported --------------------------
SELF_WORDS = wordset(
    """vi jag undertecknad kommunen regionen staden förbundet myndigheten nämnden styrelsen
    kommunstyrelsen regionstyrelsen länsstyrelsen landstinget verket inspektionen rådet
    kommunfullmäktige regionfullmäktige förvaltningen universitetet högskolan domstolen
    sektionen avdelningen kontoret"""
)
OTHER_WORDS = wordset(
    """utredningen utredaren utredarna delegationen kommittén regeringen departementet
    remissinstanserna remissinstanser lagrådet riksdagen andra flera många"""
)
_NOT_NAMES = wordset("sou ds prop dnr i")


def name_words(name: str, text: str = "") -> frozenset[str]:
    """The folded words by which a respondent names itself: "Sveriges Kommuner och Landsting"
    -> sveriges, kommuner, landsting, skl (its initials, and its aliases such as skr); a
    genitive also without its -s; an abbreviation the text gives in brackets after the name
    ("Inspektionen för vård och omsorg (IVO)") or beside it after a dash ("PRO –
    Pensionärernas riksorganisation")."""
    words = re.findall(r"[^\W\d_]+", name)
    small = ("och", "för", "i", "av", "med")
    out = {fold(w) for w in words if len(w) > 1 and w.lower() not in small}
    out |= {w[:-1] for w in out if w.endswith("s") and len(w) > 4}
    initials = [w for w in words if w.lower() not in small]
    if len(initials) >= 2:
        out.add(fold("".join(w[0] for w in initials)))
    canonical = _ALIASES.get(_norm(name), _norm(name))
    out |= {a for a, c in _ALIASES.items() if c == canonical and " " not in a}
    if text and name:
        full = "(?i:" + re.escape(name) + r")\b"
        pattern = full + r"\s*\(([A-ZÅÄÖ]{2,})\)"  # "Inspektionen för vård och omsorg (IVO)"
        out |= {fold(m.group(1)) for m in re.finditer(pattern, text)}
        edge = r"^[\s*_#]*"
        for pattern in (
            # "PRO – Pensionärernas riksorganisation" opening a line, the letters the name's
            # own in order
            edge + r"([A-ZÅÄÖ]{2,})\s*[–—-]\s*" + full,
            edge + full + r"\s*[–—-]\s*([A-ZÅÄÖ]{2,})\b",
        ):
            out |= {
                fold(m.group(1))
                for m in re.finditer(pattern, text, re.MULTILINE)
                if _abbreviates(m.group(1), name)
            }
    return frozenset(out)


def _abbreviates(short: str, name: str) -> bool:
    """Whether ``short`` ("PRO") can abbreviate ``name`` ("Pensionärernas
    riksorganisation"): its first letter the name's, its letters the name's in order."""
    letters, rest = fold(short.lower()), fold(name.lower())
    if not letters or not rest or letters[0] != rest[0]:
        return False
    at = 0
    for c in letters:
        at = rest.find(c, at)
        if at < 0:
            return False
        at += 1
    return True


#: Capitalised words that begin a sentence or a heading and name no one ("Förslaget tillstyrks",
#: "Inga synpunkter", "Krav på …").
_SENTENCE_WORDS = frozenset(
    [
        "förslaget",
        "förslagen",
        "inga",
        "ingen",
        "inget",
        "inte",
        "detta",
        "denna",
        "dessa",
        "det",
        "den",
        "krav",
    ]
)
_SECTION = re.compile(r"\d+(?:\.\d+)*\.?")


# The last part of a compound with an abbreviation that makes it a body ("EU-kommissionen").
_BODY_PART = re.compile(
    r"(?:kommissionen|verket|styrelsen|myndigheten|inspektionen|namnden|radet|forbundet|"
    r"domstolen|organet|parlamentet|ombudsmannen)$"
)


def _is_name(toks: list[Token], k: int, sentence_start: int) -> bool:
    t = toks[k]
    if not t.word or not t.text[0].isupper() or t.low in _NOT_NAMES:
        return False
    last = t.text.rsplit("-", 1)[-1]
    if "-" in t.text and last.islower() and not _BODY_PART.search(fold(last)):
        return False  # a compound with an abbreviation ("VA-taxan", "EU-rätten", "IT-stödet")
    if t.low in _SENTENCE_WORDS:
        return False
    if any(_SECTION.fullmatch(p.text) for p in toks[max(0, k - 6) : k]) and not any(
        p.text.endswith((".", ":")) and p.word for p in toks[max(0, k - 6) : k]
    ):
        return False  # a heading's words after its section number ("7.1 Ikraftträdande")
    if t.text.endswith((":s", "s")) and not t.text.isupper() and k > sentence_start:
        return False  # a genitive ("Statskontorets rapport") is no subject
    return k > sentence_start or (t.text.isupper() and len(t.text) > 1)


#: What follows a municipality's name when it names itself ("Borås Stad", "Malmö stad",
#: "Falkenbergs kommun"): the organisation list has the bare name ("Borås").
_UNIT_WORDS = frozenset(["stad", "kommun"])


def _own_name(t: Token, own_names: frozenset[str]) -> bool:
    """A capitalised word that is the respondent's name, also in the genitive
    ("Trollhättans")."""
    if not (t.word and t.text[:1].isupper()):
        return False
    folded = fold(t.low)
    return folded in own_names or (folded.endswith("s") and folded[:-1] in own_names)


def is_passive(t: Token) -> bool:
    """An s-passive verb: "tillstyrks", "välkomnas", "stöds"."""
    if t.low in _PASSIVE_SUPPORT:
        return True
    return t.low.endswith("s") and t.lemma != t.low and t.lemma[-1:] in "aeå"


# A count of the proposals, not all of them: "flera av utredningens förslag", "några av
# förslagen", "de flesta av förslagen", "merparten av promemorians förslag", "vissa förslag".
_COUNTED = wordset(
    """flera några vissa flesta många merpart huvuddel majoritet flertal antal fåtal somliga
    enstaka andra"""
)
_COUNTED_BETWEEN = wordset(
    """av de dessa dem ett utredningens utredarens promemorians betänkandets remissens
    kommitténs delegationens föreslagna övriga"""
)
_COUNTED_WHOLE = wordset("förslagen betänkandet promemorian remissen")


def counts_proposals(toks: Sequence[Token], k: int) -> bool:
    """Whether the word at ``k`` counts some of the proposals ("flera av förslagen", "några
    av promemorians förslag", "vissa förslag"), not all: no stance on the whole remiss, and no
    other party ("flera av utredningens förslag" is no "flera remissinstanser")."""
    if toks[k].low not in _COUNTED and toks[k].lemma not in _COUNTED:
        return False
    for t in toks[k + 1 : k + 5]:
        if t.lemma == "förslag" or t.low in _COUNTED_WHOLE:
            return True
        if t.low not in _COUNTED_BETWEEN:
            return False
    return False


# A body named at a sentence's start ("Bildningsnämnden", "Trafikverket"), not the respondent.
_BODY_END = re.compile(
    r"(?:verket|styrelsen|namnden|myndigheten|inspektionen|radet|forbundet|ombudsmannen|"
    r"kommissionen)$"
)


def _told(verb: Token) -> bool:
    """A cue's verb in the perfect or the past ("har tillstyrkt", "avstyrkte", "har ställt
    sig bakom"): a position told of, as another body's is."""
    return verb.low != verb.lemma and verb.low.endswith(("t", "te", "de")) and verb.word


# What rejects a motion: "avslår yrkandet", "finner att yrkandet har fallit".
_REJECTING = wordset("avslå avslag fall falla ogilla")


def _is_motion(toks: list[Token], k: int, *, reserving: bool = True) -> bool:
    """A motion in a protocol at ``k``: "yrkar", "yrkandet", and with ``reserving`` a member
    who "reserverar sig" (not "reservera medel", "med reservation för")."""
    t = toks[k]
    if t.lemma in ("yrka", "yrkande") or t.low.startswith("yrka"):
        return True
    nxt = toks[k + 1].low if k + 1 < len(toks) else ""
    return reserving and t.low.startswith("reserver") and nxt == "sig"


def _motion(toks: list[Token], first: int, last: int, own_names: frozenset[str]) -> bool | None:
    """Whether a cue in a protocol's motion is the respondent's: a cue whose object is the
    motion ("avslår yrkandet") is none; a cue after a motion ("Karin Berg (S) yrkar att
    kommunen ska avstyrka förslaget", "Ordföranden yrkar bifall till …", "Ledamoten reserverar
    sig till förmån för …") is a member's, unless the body adopts it ("Kommunstyrelsen
    beslutar i enlighet med Per Linds yrkande att avstyrka …"; not "Kommunstyrelsen avslår
    yrkandet att avstyrka …"). None when there is no motion."""
    if any(_is_motion(toks, k, reserving=False) for k in range(last + 1, min(last + 4, len(toks)))):
        return False  # "avslår yrkandet", "bifaller yrkandet": the motion, not a proposal
    at = next((k for k in range(first - 1, -1, -1) if _is_motion(toks, k)), None)
    if at is None:
        return None
    for k in range(at - 1, -1, -1):
        t = toks[k]
        if t.low in SELF_WORDS or (t.word and t.text[0].isupper() and fold(t.low) in own_names):
            # The body's decision on the motion: adopted, or rejected in between.
            return not any(u.lemma in _REJECTING for u in toks[k + 1 : at])
    return False


# Prepositions whose name is no subject: "Förslaget om ett register hos Kammarkollegiet
# välkomnas", "Förslaget att tolkar ska rapportera till IVO tillstyrks".
_GOVERNING = wordset("hos över vid till för från mot med inom under på")


def _inside_other_name(toks: list[Token], k: int) -> bool:
    """Whether the respondent's own name at ``k`` is part of another body's name:
    "Länsstyrelsen i Uppsala län", "Polismyndigheten i Uppsala", "Uppsala läns …"."""
    nxt = toks[k + 1].low if k + 1 < len(toks) else ""
    if nxt in ("län", "läns"):
        return True
    return (
        k >= 2
        and toks[k - 1].low == "i"
        and toks[k - 2].word
        and toks[k - 2].text[0].isupper()
        and toks[k - 2].low not in SELF_WORDS
    )


def _relative_where(toks: list[Token], first: int) -> bool:
    """Whether the cue at ``first`` stands in a relative clause opened by "där" ("i de delar
    där regionen avstyrker", "den bedömning som Svenskt Vatten har gjort, där förslaget
    tillstyrks"): it tells where a stance is, or whose, and is none itself; not a "där" that
    opens a main clause ("Där avstyrker kommunen …", "… och där tillstyrker regionen")."""
    nxt = toks[first + 1] if first + 1 < len(toks) else None
    if nxt is not None and (nxt.low in SELF_WORDS or (nxt.word and nxt.text[0].isupper())):
        return False  # "… där nödvattenplaner föreslås tillstyrker vi": a main clause, V2
    for k in range(first - 1, 0, -1):
        t = toks[k]
        if t.low in (".", ";", ":", "men", ","):
            return False  # "I områden där …, välkomnar kommunen": the "där" clause closed
        if t.low == "där":
            before = toks[k - 1]
            if before.low != "," and (not before.word or before.low in _MAIN_JOINS):
                return False
            # The respondent's own words in it count ("Förslaget, där kommunen särskilt
            # välkomnar kravet, …") unless they only point at parts ("i de delar där …").
            self_in = any(u.low in SELF_WORDS for u in toks[k + 1 : first])
            return not self_in or before.lemma in _PARTS_WHERE or before.low in _PARTS_WHERE
    return False


_MAIN_JOINS = wordset("och men samt eller utan")
_PARTS_WHERE = wordset("del delar fall avsnitt punkt punkter fråga frågor")


def is_own(
    toks: list[Token], first: int, own_names: frozenset[str], last: int | None = None
) -> bool:
    """Whether the cue at ``first`` (to ``last``) is the respondent's own stance. The subject
    is the nearest self word ("kommunen", "vi", the respondent's name) or other party
    ("Utredningen", "SKR", any other capitalised name) before the cue; an inverted subject
    ("avstyrker regionen") counts first, and so does a passive's agent ("Förslaget tillstyrks
    av SKR", "… har avstyrkts av flera remissinstanser"). No subject at all (a passive, a
    protocol's "att tillstyrka", a table cell) is the respondent's. A member's motion in a
    protocol is not (:func:`_motion`)."""
    motion = _motion(toks, first, last if last is not None else first, own_names)
    if motion is not None:
        return motion
    if _relative_where(toks, first):
        return False
    for t in toks[first + 1 : first + 3]:
        if t.low in SELF_WORDS or (t.text[0].isupper() and fold(t.low) in own_names):
            return True
    verb = toks[last if last is not None else first]
    end = last if last is not None else first
    if is_passive(verb):
        agent = [k for k in range(end + 1, min(end + 3, len(toks))) if toks[k].low == "av"]
        for k in agent[:1]:
            for j in range(k + 1, min(k + 4, len(toks))):
                t = toks[j]
                if t.low in SELF_WORDS or (t.word and fold(t.low) in own_names):
                    return True
                if t.low in OTHER_WORDS or _is_name(toks, j, 0):
                    return False
    proposing = False  # "Promemorian föreslår att avgifter ska införas": the proposal's
    for k in range(first - 1, -1, -1):
        t = toks[k]
        if t.low in SELF_WORDS:
            return True
        if counts_proposals(toks, k):
            continue  # "positiv till flera av utredningens förslag men motsätter sig …"
        if t.low in OTHER_WORDS or t.low.endswith("delegationen"):
            return False
        if t.word and t.text[0].isupper() and fold(t.low) in own_names:
            # not "Länsstyrelsen i Uppsala län har …": another body's stance
            return not _inside_other_name(toks, k)
        if t.low in _UNIT_WORDS and k > 0 and _own_name(toks[k - 1], own_names):
            return True  # "Borås Stad", "Trollhättans stad", "Falkenbergs kommun"
        if k == 0 and _BODY_END.search(fold(t.low)) and t.text[0].isupper() and _told(toks[first]):
            return False  # "Bildningsnämnden har däremot tillstyrkt …": another's, reported
        if _is_name(toks, k, 0) and not (k > 0 and toks[k - 1].low in _GOVERNING):
            return not own_names
        proposing = proposing or t.low in _PROPOSES  # not "den föreslagna tidpunkten"
    return not proposing


# --- the respondent ----------------------------------------------------------------------
@dataclass(frozen=True)
class RespondentMatch:
    code: str | None  # the matched organisation's code, or None
    name: str  # the respondent's name as written
    quote: str
    start: int
    end: int
    how: str  # "letterhead" | "signature" | "beretts_tillfalle" | "filename" | "none"


# Former names and initials of organisations: the name in the organisation list they mean.
_ALIASES = {
    "skl": "sveriges kommuner och regioner",
    "skr": "sveriges kommuner och regioner",
    "sveriges kommuner och landsting": "sveriges kommuner och regioner",
    "ivo": "inspektionen for vard och omsorg",
    "esv": "ekonomistyrningsverket",
    "msb": "myndigheten for samhallsskydd och beredskap",
    # The one municipality whose official name is not Kolada's name (+ s) and kommun: Falun
    # is "Falu kommun" (as the government's lists of consulted bodies write it).
    "falu kommun": "falun",
}
_KINDS = {
    "kommun": ("kommun", "stad"),
    "stad": ("kommun", "stad"),
    "region": ("region",),
    "lan": ("lansstyrelse",),
}
_SUBJECT = r"([A-ZÅÄÖ][^\n.!?]{1,80}?)"
_INVITED = re.compile(
    _SUBJECT + r"\s+har\s+(?:beretts|getts|givits|fått|ombetts|erbjudits|anmodats|inbjudits)\s+"
    r"(?:tillfälle|möjlighet|rubricera|betänkande|remiss|[^\n.]{0,60}?på\s+remiss|(?:att\s+)?yttra)"
)
# "Boverket har tagit del av betänkandet och lämnar följande synpunkter."
_READ = re.compile(
    _SUBJECT + r"\s+har\s+tagit\s+del\s+av\s+(?:betänkande|promemoria|remiss|rubricera|"
    r"utredning|förslag|departementspromemoria)"
)
_GIVEN = re.compile(r"har\s+(?:gett|givit|berett)\s+" + _SUBJECT + r"\s+(?:möjlighet|tillfälle)")
_FROM = re.compile(
    r"(?:[Yy]ttrande|[Rr]emissvar|[Rr]emissyttrande)\s+från\s+" + _SUBJECT + r"(?=\s+över|\s*$|\n)"
)
# A postal address or the ministry a response is sent to ("Finansdepartementet", "103 33
# Stockholm") names no respondent.
# A postal code is followed by its town ("103 33 Stockholm"); a file number ("Dnr 2026:01877")
# is no address.
_ADDRESSEE = re.compile(
    r"(?<![\d:/.-])\d{3} ?\d{2}\s+[A-ZÅÄÖ]|departement|regeringskansliet|\bbox\b", re.I
)
_SHORT_NAME = re.compile(r"\(\s*([A-ZÅÄÖ][^()\n.,;:]{1,60}?)\s*\)")
# Where a paragraph's sentence ends and another begins: a body's text, no signature.
_SENTENCE_INSIDE = re.compile(r"[.!?;]\s+\S")


def _body(line: str) -> bool:
    """Whether a line among the last ones is the body's text, not a signature: more than
    sixteen words, a sentence of more than five words, or a sentence's end inside it
    ("Skolverket noterar att Sveriges Kommuner och Regioner har pekat på …; dessa bör följas
    upp."). A sentence of the body may report another body's position; the signature names
    the respondent."""
    words = line.split()
    sentence = line.rstrip().endswith((".", "!", "?")) and len(words) > 5
    return len(words) > 16 or sentence or bool(_SENTENCE_INSIDE.search(line.strip()))


_FOR = re.compile(r"^(?:För|Kommunstyrelsen i|Regionstyrelsen i)\s+(.+)$")


def _norm(text: str) -> str:
    return " ".join(re.findall(r"[a-z0-9]+", fold(text)))


def _org_forms(name: str) -> tuple[str, str | None, str | None]:
    """(full folded name, base name without kommun/stad/region and genitive -s, its kind)."""
    full = _norm(name)
    words = full.split()
    if len(words) >= 2 and words[-1] in ("kommun", "stad"):
        base = " ".join(words[:-1])
        return full, base[:-1] if base.endswith("s") else base, words[-1]
    if len(words) >= 2 and words[0] == "region":
        return full, " ".join(words[1:]), "region"
    if len(words) >= 4 and words[:2] == ["lansstyrelsen", "i"] and words[-1] == "lan":
        # "Länsstyrelsen i Dalarnas län", also as "Länsstyrelsen Dalarnas län", "Länsstyrelsen
        # Dalarna": the county's name with "länsstyrelsen" in the line.
        base = " ".join(words[2:-1])
        return full, base[:-1] if base.endswith("s") else base, "lan"
    return full, None, None


def _words(text: str) -> str:
    """The lower-case words of ``text`` (letters not folded), space-joined."""
    return " ".join(re.findall(r"\w+", text.lower()))


_AGENCY_END = re.compile(
    r"(?:verket|styrelsen|myndigheten|inspektionen|namnden|radet|forbundet|ombudsmannen|"
    r"institutet|kammaren|domstolen|universitetet|hogskolan|kollegiet|centrum)$"
)


def _match_org(candidate: str, organisations: Sequence[tuple[str, str]]) -> tuple[str, str] | None:
    """The organisation ``candidate`` names: the longest whole organisation name in it, an
    alias ("SKL"), or a municipality's or region's own name with its kind ("Halmstads
    kommun", "Kommunstyrelsen i Halmstad", "HALMSTAD")."""
    text = f" {_norm(candidate)} "
    if not text.strip():
        return None
    # Folding joins names that differ only by å/ä/ö ("Habo" and "Håbo"): the name as written,
    # letters unfolded, breaks the tie.
    written = " " + _words(candidate) + " "
    best: tuple[int, str, str] | None = None
    for code, name in organisations:
        full, base, kind = _org_forms(name)
        score = 0
        # A municipality's bare name ("Lund", as Kolada has it) in a longer line is a place or
        # a surname ("Anna Lund") unless the line says kommun, stad or region.
        # An agency's name ("Skolverket", "Transportstyrelsen") is no place or surname.
        bare = (
            kind is None
            and code.isdigit()
            and text.strip() != full
            and not _AGENCY_END.search(full)
        )
        placed = any(w.startswith(("kommun", "stad", "region")) for w in text.split())
        if (f" {full} " in text and (placed or not bare)) or (
            kind is None and re.search(rf" {re.escape(full)}s? (kommun|stad) ", text)
        ):
            score = 100 + len(full)  # "Kungsbacka kommun"; a bare "Halmstad" as "Halmstads kommun"
        elif any(f" {a} " in text and c == full for a, c in _ALIASES.items()):
            score = 90
        elif base and kind:
            for form in (base, base + "s"):
                if f" {form} " in text:
                    words = text.split()
                    kinds = _KINDS[kind]
                    if any(w.startswith(kinds) for w in words) or len(words) == len(form.split()):
                        score = max(score, 50 + len(base))
        if score and f" {_words(name)} " in written:
            score += 5
        if score and (best is None or score > best[0]):
            best = (score, code, name)
    return (best[1], best[2]) if best else None


def find_respondent(text: str, organisations: Sequence[tuple[str, str]]) -> RespondentMatch:
    """Who wrote the response: "X har beretts tillfälle att yttra sig" (or "har fått ... på
    remiss", "Yttrande från X", "X har tagit del av betänkandet"), else the letterhead (the
    first short lines), else the signature (the last lines), matched to ``organisations``
    ((code, name) pairs). The first candidate that names an organisation wins; without one,
    the first "beretts" phrase or line that looks like an organisation is returned with
    ``code`` None. ``name`` is the name
    as written, ``quote`` (``start``, ``end``) the phrase or line it was read from."""
    candidates: list[tuple[int, int, str, int, int]] = []  # name span, how, quote span
    for pattern in (_INVITED, _GIVEN, _FROM, _READ):
        for m in pattern.finditer(text[:6000]):
            s, e = m.span(1)
            bracket = text.find("(", s, e)
            candidates.append((s, bracket if bracket > s else e, "beretts_tillfalle", *m.span()))
            short = _SHORT_NAME.match(text, bracket) if bracket > s else None
            if short is not None:
                # "Statens skolverk (Skolverket) har beretts tillfälle …": an agency's short
                # name in brackets is the name it commonly goes by.
                candidates.append((*short.span(1), "beretts_tillfalle", *m.span()))
    lines = [(m.start(), m.end()) for m in re.finditer(r"[^\n]*\S[^\n]*", text)]
    head = lines[:10]
    for n, (s, e) in enumerate(head):  # the letterhead: the first lines, up to a sentence
        if len(text[s:e].split()) > 12 or text[s:e].rstrip().endswith("."):
            break
        if _norm(text[s:e]) == "lansstyrelsen":
            # "Länsstyrelsen" over its county on a line of its own ("Länsstyrelsen /
            # Stockholm", as the county boards' logos have it): the two read together, so
            # that the county's name is not taken for the municipality of the same name
            for s2, e2 in head[n + 1 : n + 4]:
                if len(text[s2:e2].split()) > 12 or text[s2:e2].rstrip().endswith("."):
                    break
                candidates.append((s, e2, "letterhead", s, e2))
        if not _ADDRESSEE.search(text[s:e]):
            candidates.append((s, e, "letterhead", s, e))
    for s, e in reversed(lines[-10:]):
        if not _ADDRESSEE.search(text[s:e]) and not _body(text[s:e]):
            candidates.append((s, e, "signature", s, e))
    candidates.sort(key=lambda c: ("beretts_tillfalle", "letterhead", "signature").index(c[2]))
    for s, e, how, qs, qe in candidates:
        found = _match_org(text[s:e], organisations) if organisations else None
        if found is not None:
            ns, ne = _span_of(text, s, e, found[1])
            qs, qe = _strip_span(text, min(qs, ns), max(qe, ne))
            return RespondentMatch(found[0], text[ns:ne], text[qs:qe], qs, qe, how)
    for s, e, how, qs, qe in candidates:
        line = text[s:e].strip()
        if how == "beretts_tillfalle" or _FOR.match(line) or _looks_like_org(line):
            s, e = _strip_span(text, s, e)
            qs, qe = _strip_span(text, min(qs, s), max(qe, e))
            return RespondentMatch(None, text[s:e], text[qs:qe], qs, qe, how)
    return RespondentMatch(None, "", "", 0, 0, "none")


_ORG_WORDS = re.compile(
    r"\b(kommun|stad|region|landsting|förbund|myndighet|verket|inspektion|rådet|styrelsen|"
    r"länsstyrelsen|universitet|högskola|Sveriges)\w*",
    re.IGNORECASE,
)


# A person's title in a signature ("Kommunchef", "Kommunstyrelsens ordförande"), and the
# common nouns of a heading ("Länsstyrelsens ställningstagande", "Regionens synpunkter").
_NOT_ORG = re.compile(
    r"(?:chef|ordförande|direktör|direktor|handläggare|sekreterare|strateg|utredare|jurist|"
    r"samordnare|föredragande|landshövding|ledamot|ställningstagande|synpunkter|synpunkt|"
    r"yttrande|sammanfattning|bedömning|kommentarer|kommentar|beslut|remissvar|svar)$",
    re.IGNORECASE,
)


def _looks_like_org(line: str) -> bool:
    """A line that may be the name of an organisation not in the list: a word of one
    ("kommun", "förbund", "myndighet"), at most six words, no digits; not a person with a
    title ("Linnea Kallio Kommunchef") nor a heading ("Länsstyrelsens ställningstagande")."""
    if any(_NOT_ORG.search(w) for w in re.findall(r"\w+", line)):
        return False
    return bool(_ORG_WORDS.search(line)) and len(line.split()) <= 6 and not re.search(r"\d", line)


def _strip_span(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and not text[s].isalnum():
        s += 1
    while e > s and not text[e - 1].isalnum():
        e -= 1
    return s, e


def _span_of(text: str, s: int, e: int, name: str) -> tuple[int, int]:
    """The span of ``name`` (or its base) as written within ``text[s:e]``, else the stripped
    line: folding keeps the length of Swedish letters, so offsets carry over."""
    part = fold(text[s:e])
    if len(part) == e - s:
        full, base, _ = _org_forms(name)
        aliases = sorted((a for a, c in _ALIASES.items() if c == full), key=len, reverse=True)
        for form in (full, *aliases, base):
            if not form:
                continue
            pattern = r"\b" + r"\W+".join(re.escape(w) for w in form.split()) + r"s?\b"
            m = re.search(pattern, part)
            if m:
                start, end = s + m.start(), s + m.end()
                if form == base:  # "Halmstads kommun": take the kind word with the base
                    k = re.match(r"\s+(kommun|stad)\b", part[m.end() :])
                    if k:
                        end += k.end()
                    k = re.match(r"\s+lan\b", part[m.end() :])
                    if k:
                        end += k.end()  # "Länsstyrelsen Dalarnas län"
                    r = re.search(r"\b(?:region|lansstyrelsen(?:\s+i)?)\s+$", part[: m.start()])
                    if r:
                        start = s + r.start()
                return start, end
    return _strip_span(text, s, e)
