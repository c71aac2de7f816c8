"""Which way is better for a KPI: higher, lower, neither, or unknown.

Kolada does not say. Tillit decides, in this order (see docs/polarity.md):

1. the user's override file (``TILLIT_POLARITY_FILE``), parsed by :func:`parse_polarity_overrides`;
2. Tillit's curated table, ``analyses/data/polarity.csv`` (:func:`curated_polarities`);
3. the ordered title rules below (:func:`infer_polarity`);
4. otherwise ``UNKNOWN``: Tillit does not guess.

:func:`resolve_polarity` applies that order and returns a :class:`PolarityDecision` that says which
step decided, so every analysis can state the polarity it used and where it came from.
"""

from __future__ import annotations

import csv
import enum
import functools
import importlib.resources
import re
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from tillit.analyses._overrides import checked_kpi, read_override_table
from tillit.errors import InvalidInputError


class Polarity(enum.StrEnum):
    """Direction in which a KPI's value is better. ``UNKNOWN`` is the honest default."""

    HIGHER = "higher"
    LOWER = "lower"
    NEITHER = "neither"
    UNKNOWN = "unknown"

    @property
    def sign(self) -> int:
        """+1 when higher is better, -1 when lower is better, 0 otherwise."""
        return {"higher": 1, "lower": -1}.get(self.value, 0)

    @property
    def label(self) -> str:
        """Swedish wording for tables and pages."""
        return {
            "higher": "högre är bättre",
            "lower": "lägre är bättre",
            "neither": "varken högre eller lägre är bättre",
            "unknown": "okänt vilket håll som är bättre",
        }[self.value]


Source = Literal["override", "table", "rule", "default"]


@dataclass(frozen=True)
class PolarityDecision:
    """The polarity used for one KPI, and where it came from.

    ``source`` is ``"override"`` (the user's file), ``"table"`` (Tillit's curated table),
    ``"rule"`` (inferred from the title) or ``"default"`` (nothing applied: ``UNKNOWN``).
    ``reason`` is a short English justification; ``matched`` is the part of the title a rule
    matched (empty for the other sources).
    """

    kpi: str
    polarity: Polarity
    source: Source
    reason: str
    matched: str = ""

    @property
    def explanation(self) -> str:
        """One Swedish phrase for tables and pages, e.g. "lägre är bättre (Tillits tabell)"."""
        if self.source == "default":
            return "okänt — ange det i en egen fil, se docs/polarity.md"
        where = {
            "override": "din fil",
            "table": "Tillits tabell",
            "rule": f"härlett ur titeln: '{self.matched}'",
        }[self.source]
        return f"{self.polarity.label} ({where})"


# --- the curated table ---------------------------------------------------------------------


@functools.cache
def curated_polarities() -> Mapping[str, tuple[Polarity, str]]:
    """Tillit's curated table: KPI id -> (polarity, English reason), read once from the package."""
    resource = importlib.resources.files("tillit.analyses").joinpath("data/polarity.csv")
    table: dict[str, tuple[Polarity, str]] = {}
    for row in csv.DictReader(resource.read_text(encoding="utf-8").splitlines()):
        table[row["kpi"]] = (Polarity(row["polarity"]), row["reason"])
    return MappingProxyType(table)


# --- rules over titles ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Rule:
    pattern: re.Pattern[str]
    polarity: Polarity
    why: str


def _rule(pattern: str, polarity: Polarity, why: str) -> _Rule:
    return _Rule(re.compile(pattern), polarity, why)


_H, _L, _N = Polarity.HIGHER, Polarity.LOWER, Polarity.NEITHER
_COST_WHY = (
    "spending reflects needs, ambition and political choice, so Tillit calls a cost neither "
    "good nor bad; only explicit efficiency measures get a direction"
)

# First match wins, so exceptions come before the general rule they qualify. Titles are
# case-folded, whitespace is collapsed and a trailing "(-2022)" (discontinued) is dropped. A
# named group "m" marks the words a rule reports; otherwise it reports the whole match.
RULES: tuple[_Rule, ...] = (
    # 1. What a value describes rather than how well things go: neither.
    _rule(r"^osäkerhetstal", _N, "the statistical uncertainty of a survey estimate"),
    _rule(r"röster på", _N, "a party's vote share is a political preference"),
    _rule(r"politiskt styre", _N, "who governs is a political choice"),
    _rule(r"valdeltagande|röstade", _H, "turnout in elections"),
    _rule(
        r"(?<!avvikelse från )(förväntat|modellberäknat) värde",
        _N,
        "a model's expected value describes conditions, not results",
    ),
    _rule(r"framskrivning", _N, "a population projection describes the future population"),
    _rule(
        r"soliditet|kassalikviditet|självfinansieringsgrad|årets resultat|resultat före",
        _H,
        "financial strength",
    ),
    _rule(r"kostnad", _N, _COST_WHY),
    _rule(r"resursindex", _N, "a resource index measures spending, not results"),
    _rule(r"intäkt|bidrag\b|^lönesumma|avskrivning|utbetal", _N, "an amount of money"),
    _rule(r"skattesats|\bpris\b|pris inkl|avgift", _N, "a price, fee or tax rate is set by choice"),
    _rule(r"\bköp av\b", _N, "buying services instead of running them is an organisational choice"),
    _rule(
        r"^(läkarbesök|andra besök än läkarbesök|dagsjukvårdsbesök|vårdtillfällen(,| i )"
        r"|vårdtid i dagar|vårddagar vid|disponibla vårdplatser|operationer - "
        r"|medelvårdtid(?! som utskrivningsklar))",
        _N,
        "a volume of care (visits, admissions, bed-days, beds, operations, length of stay) "
        "reflects need, organisation and medical practice",
    ),
    _rule(r"antal svar|\bsvarande\b|svarsfrekvens", _N, "describes the survey, not the service"),
    _rule(
        r"(barn|elever) per (årsarbetare|lärare|anställd)|barn/årsarbetare|elever/lärare"
        r"|barn per barngrupp|förskollärartäthet",
        _L,
        "fewer children or pupils per staff member or group",
    ),
    _rule(
        r"^(?!.*(/| per )).*, (?P<m>antal)\b(?! dagar)[^,]*$",
        _N,
        "an absolute count mostly measures size",
    ),
    _rule(
        r"^invånare (totalt|\d+(-\d+)?\+?( år)?),? (antal|andel)|befolkningsförändring|flyttnetto"
        r"|födelsenetto|inpendling|utpendling|försörjningskvot|medelålder|tätortsgrad|landareal"
        r"|ensamstående hushåll|äldre äldre|anställda 55\+"
        r"|^anställda (-\d+|\d+-\d+|\d+\+)( år)?( |,)",
        _N,
        "describes the population, its age or geography",
    ),
    _rule(
        r"^(utrikes födda|utländsk bakgrund|nyinvandrade|kvinnor i befolkningen|flickor"
        r"|kvinnor i gymnasieskola)|elever vars föräldrar",
        _N,
        "describes who lives or studies there",
    ),
    _rule(r"^sysselsatta (inom|i) ", _N, "the mix of industries and sectors"),
    _rule(r"hoppat av", _L, "elected members leaving their seats"),
    _rule(
        r"förtroendevald|(kommun|region)fullmäktigeledamöter|i (kommun|region)fullmäktige"
        r"|på ordförandeposter",
        _N,
        "the make-up of elected bodies",
    ),
    _rule(
        r"(med|i) (insatser|boende|daglig verksamhet|personlig assistans|ledsagarservice"
        r"|kontaktperson|avlösarservice|korttidsvistelse|korttidstillsyn) (enligt|enl\.?) (lss|sfb)"
        r"|med insatser enl|^invånare \d+\+ (i särskilt boende|med hemtjänst|som var beviljade"
        r"|som varit mottagare)|inskrivna i (förskola|fritidshem|pedagogisk omsorg)"
        r"|placerade på|föremål för individuellt",
        _N,
        "how many get a service reflects needs, eligibility and choice",
    ),
    _rule(r"viktigt i boendemiljön|\banser att\b", _N, "an opinion, not a result"),
    _rule(r"(lägre|högre) betyg än provbetyg", _N, "grading off the test either way"),
    _rule(r"narkotikabrott|trafikbrott|ekobrott", _N, "mostly found by police or authority checks"),
    _rule(
        r"andel \(%\) av biståndsmottagare totalt|andel \(%\) av utbetalt|försörjningshinder",
        _N,
        "how recipients or payments divide between groups",
    ),
    _rule(r"aktualiserats|fått (minst en )?insats", _N, "reflects both need and outreach"),
    _rule(
        r"^brukar.*\b(?P<m>ibland|några)\b",
        _N,
        "a middle answer: more of it can mean fewer best or fewer worst answers",
    ),
    _rule(r"bor med annan vuxen|själv svarat|rörlighet inomhus", _N, "a background question"),
    # 2. Survey answers and inverted wordings.
    _rule(r'"aldrig" eller "sällan"', _H, "never or rarely, asked about a problem"),
    _rule(r"för (lätt|svårt)", _L, "schoolwork that is too easy or too hard"),
    _rule(
        r'svarat "(helt och hållet|alltid|mycket bra|väldigt mycket|i mycket stor utsträckning'
        r'|mycket lätt)"|positiva svar',
        _H,
        "positive answers to a positively worded question",
    ),
    _rule(r"låg oro|få problem", _H, "little worry or few problems"),
    _rule(r"(aldrig|inte) rädd", _H, "never afraid"),
    _rule(r"\brädd\b|besväras|besvär av", _L, "fear, distress or loneliness"),
    _rule(
        r"^(brukar|ntu).*?(?P<m>\b(\w+ ){0,2}(inte|aldrig|ingen)\b( \w+)?)",
        _L,
        "a good thing negated",
    ),
    _rule(r"missnöjd|otrygg", _L, "dissatisfaction or insecurity"),
    _rule(r"ej återaktualiserade|utan anmärkning", _H, "no return to support, no remark"),
    _rule(r"ej återfanns", _L, "not found in the next school stage"),
    _rule(
        r"har rutin|genomförandeplan|kompetensutveckling|handledning har erbjudits"
        r"|enskildas uppfattning|metoder för inflytande",
        _H,
        "a quality routine in place",
    ),
    # 3. Time.
    _rule(
        r"rimlig väntetid|väntande högst \d+ dagar|besvarats samma dag"
        r"|^(?!.*(återinskriv|återinlägg|avlid|döda|dödlighet))"
        r".*?\b(?P<m>inom (högst )?(\d+|en|två|tre) (dagar|timmar|minuter|veckor))\b"
        r"|^(väntetid|tid från)\b(?=.*, andel)(?!.*väntat längre)",
        _H,
        "a share served within a time limit (or finding the wait reasonable); more is better",
    ),
    _rule(
        r"väntetid|väntat längre|utredningstid|handläggningstid|kötid|mediantid|utskrivningsklar",
        _L,
        "a waiting or lead time; shorter is better",
    ),
    # 4. Satisfaction, trust and quality.
    _rule(
        r"regionindex|index \(max ?= ?100\)",
        _H,
        "a composite index scaled so that 100 is best",
    ),
    _rule(r"^screening för|vidbehovsordination", _H, "a recommended step of care carried out"),
    _rule(
        r"nöjd|kvalitetsindex|effektivitetsindex|företagsklimat|servicemätning|förtroende(?!vald)"
        r"|medarbetarengagemang|^hme\b|kvalitetsindikatorer|\btrygg(a|t|het)?\b|trivs|patientupplevd"
        r"|^medborgarundersökningen - |^brukar(bedömning|enkät)",
        _H,
        "satisfaction, trust, quality or a positively worded survey item",
    ),
    # 5. Outcomes.
    _rule(
        r"uppnått|behöriga|behörighet|meritvärde|betygspoäng|med examen|examen eller studiebevis"
        r"|klarat (?!mindre)|lägst betyget e|slutfört|(?<!utan )godkända betyg",
        _H,
        "school results",
    ),
    _rule(r"avbrutit(?!.*(arbetar|studerar))|avbrott|avhopp", _L, "drop-outs and outages"),
    _rule(r"varken (förvärvs)?arbetar eller studerar", _L, "neither working nor studying"),
    _rule(
        r"(arbeta|arbetar|förvärvsarbetar) eller studera|(arbetar|studerar) året efter"
        r"|etablerade på arbetsmarknaden|övergått från im|börjat arbeta",
        _H,
        "moving on to work or studies",
    ),
    _rule(
        r"lärarlegitimation|förskollärarexamen|pedagogisk högskole|adekvat utbildning"
        r"|examen för arbete med barn|socionomexamen",
        _H,
        "qualified staff",
    ),
    _rule(r"personalkontinuitet", _L, "fewer different staff members per person"),
    _rule(
        r"ohälsotal|ohälsa|sjukpenningtal|sjukfrånvaro|långtidssjukskriv|dödlighet|dödsfall|incidens"
        r"|fetma|övervikt|röker|rökning|snusar|riskabla alkoholvanor|stillasittande|stressade"
        r"|ängslan|ångest|psykisk påfrestning|fallskador|skadade|olyck|olämpliga läkemedel"
        r"|(tio|tre) eller fler (läkemedel|psykofarmaka)|återinskrivning|påverkbar slutenvård"
        r"|störd sömn|antibiotika|självmord|vårdskada|vårdtillfälle med skada"
        r"|vårdrelaterad infektion|överbeläggning|utlokaliser",
        _L,
        "ill health, injuries or risky habits",
    ),
    _rule(
        r"anmälda|anmält|brott|kränkande|våld|\bhot\b|trakasserier|utsatthet|utsatts|avstått"
        r"|avstår|\boro\b|oroliga|problem med",
        _L,
        "crime, violence, worry or people avoiding things",
    ),
    _rule(
        r"arbetslös|låg ekonomisk standard|låg inkomst|ekonomisk kris|ginikoefficient"
        r"|låg utbildningsnivå|lågt socialt deltagande|avsaknad av|trångboddhet|vräkning|konkurs",
        _L,
        "unemployment, poverty, exclusion or hardship",
    ),
    _rule(
        r"(?P<m>ekonomiskt bistånd|försörjningsstöd|biståndsmottagare).*andel",
        _L,
        "reliance on social assistance",
    ),
    _rule(r"utsläpp|svinn|icke-förnybar|medelavstånd", _L, "emissions, waste or distance"),
    _rule(
        r"medellivslängd|självskattat hälsotillstånd|självskattad tandhälsa|psykiskt välbefinnande"
        r"|fysiskt aktiva|frukt och grönt|vaccinerade|överlevnad|kariesfria|intakta tänder"
        r"|kvarvarande tänder",
        _H,
        "good health and healthy habits",
    ),
    _rule(
        r"sysselsättningsgrad|förvärvsarbetande|sysselsatta invånare|nystartade|mediannettoinkomst"
        r"|förvärvsinkomst|^skattekraft|bruttoregionprodukt",
        _H,
        "work, enterprise and income",
    ),
    _rule(
        r"\bekologisk|förnybar|fossiloberoende|god (ekologisk|kemisk)|skyddad natur"
        r"|vattenskyddsområde|återvinning|rötning",
        _H,
        "environmental quality",
    ),
    _rule(
        r"tillgång till|tillgänglighet|bredband om minst|mbit/s|lån från|lån av|barnbokslån"
        r"|besök vid kommunala bibliotek|aktiva låntagare|öppethållande|öppettid|deltagartimmar"
        r"|aktivitetstillfällen|(?P<m>deltagartillfällen) i [^,]+, antal/inv",
        _H,
        "access to services and their use",
    ),
    _rule(r"heltidsarbetande|heltidsanställda", _H, "full-time work as the norm"),
)


def _normalise(title: str) -> str:
    text = " ".join(title.casefold().split())
    return re.sub(r"\s*\(-\s?\d{4}\)\s*\.?$", "", text).rstrip(" .")


@functools.lru_cache(maxsize=8192)
def _match(title: str) -> tuple[Polarity, str, str] | None:
    # Cached: the rules are fixed, and every analysis matches the same few thousand titles.
    text = _normalise(title)
    for rule in RULES:
        found = rule.pattern.search(text)
        if found:
            named = found.groupdict().get("m")
            matched = (named or found.group(0)).strip(" ,-") or text
            return rule.polarity, f"the title says '{matched}': {rule.why}", matched
    return None


def infer_polarity(title: str) -> tuple[Polarity, str] | None:
    """Polarity from the first of :data:`RULES` matching ``title``, with the rule's reason
    naming the matched words; ``None`` when no rule applies."""
    found = _match(title)
    return None if found is None else (found[0], found[1])


def resolve_polarity(
    kpi: str, title: str | None, overrides: Mapping[str, Polarity] | None = None
) -> PolarityDecision:
    """The polarity to use for ``kpi``: the user's override, else the curated table, else a
    title rule, else ``UNKNOWN``."""
    kpi = kpi.strip().upper()
    if overrides and kpi in overrides:
        return PolarityDecision(kpi, overrides[kpi], "override", "set in the user's polarity file")
    curated = curated_polarities().get(kpi)
    if curated is not None:
        return PolarityDecision(kpi, curated[0], "table", curated[1])
    found = _match(title) if title else None
    if found is not None:
        return PolarityDecision(kpi, found[0], "rule", found[1], matched=found[2])
    return PolarityDecision(
        kpi, Polarity.UNKNOWN, "default", "no curated entry and no title rule applies"
    )


# --- the user's override file --------------------------------------------------------------

_WORDS = {
    "higher": Polarity.HIGHER,
    "högre": Polarity.HIGHER,
    "hogre": Polarity.HIGHER,
    "lower": Polarity.LOWER,
    "lägre": Polarity.LOWER,
    "lagre": Polarity.LOWER,
    "neither": Polarity.NEITHER,
    "varken": Polarity.NEITHER,
    "unknown": Polarity.UNKNOWN,
    "okänd": Polarity.UNKNOWN,
    "okänt": Polarity.UNKNOWN,
    "okand": Polarity.UNKNOWN,
    "okant": Polarity.UNKNOWN,
}
_WORDS_HINT = "Skriv higher, lower, neither eller unknown (eller högre, lägre, varken, okänd)."
_FORMAT_HINT = "Filen ska börja med rubrikraden kpi,polarity; se docs/polarity.md."


def parse_polarity_overrides(text: str, source: str) -> dict[str, Polarity]:
    """Parse the content of a user's polarity file into KPI id (upper case) -> Polarity.

    The file is CSV, one row per line, with a header naming the columns ``kpi`` and
    ``polarity`` (an optional ``reason`` and any other column are ignored); ``;`` or ``,``
    separates fields, lines starting with ``#`` and blank lines are skipped. Polarity is
    ``higher``/``lower``/``neither``/``unknown`` or ``högre``/``lägre``/``varken``/``okänd``.
    A bad row raises :class:`~tillit.errors.InvalidInputError` naming ``source`` and the line.
    """
    table = read_override_table(
        text,
        source,
        accepts=lambda header: {"kpi", "polarity"} <= header,
        needs="kpi och polarity",
        hint=_FORMAT_HINT,
    )
    if table is None:
        return {}
    kpi_at, polarity_at = table.columns["kpi"], table.columns["polarity"]
    delimiter = table.delimiter
    overrides: dict[str, Polarity] = {}
    first_line: dict[str, int] = {}
    for number, cells in table.rows:
        where = table.where(number)
        if len(cells) <= max(kpi_at, polarity_at):
            raise InvalidInputError(
                f"{where}: för få fält ({len(cells)}) i {delimiter.join(cells)!r}.",
                hint=f"Skriv kpi{delimiter}polarity på varje rad, t.ex. N15507{delimiter}högre.",
            )
        kpi = checked_kpi(cells[kpi_at], where)
        word = cells[polarity_at].strip().casefold()
        if word not in _WORDS:
            raise InvalidInputError(
                f"{where}: okänd polaritet {cells[polarity_at].strip()!r} för {kpi}.",
                hint=_WORDS_HINT,
            )
        polarity = _WORDS[word]
        if kpi in overrides and overrides[kpi] != polarity:
            raise InvalidInputError(
                f"{where}: {kpi} står redan på rad {first_line[kpi]} med en annan polaritet.",
                hint="Låt varje nyckeltal stå på en rad.",
            )
        overrides[kpi] = polarity
        first_line.setdefault(kpi, number)
    return overrides
