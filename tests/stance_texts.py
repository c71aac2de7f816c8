# ruff: noqa: E501  (the responses are texts, one paragraph a line)
"""Consultation responses written for the stance tests, as Python data, each with its gold.

``DEVELOPMENT`` were used while writing the rules of ``tillit.analyses._stances``;
``HELD_OUT`` were written before any rule, kept in their own list, and only measured
(``scripts/stance_accuracy.py``): the rules were not changed after looking at their results.

Gold stances are (proposal key or None for the whole remiss, stance) pairs; a response says
nothing about a proposal that is not in its gold. ``code`` is the respondent's organisation
code in ``ORGANISATIONS``.
"""

from __future__ import annotations

from dataclasses import dataclass

#: The proposals of one (fictional, SOU 2018:47-like) remiss.
PROPOSALS: tuple[tuple[str, str], ...] = (
    ("7.1", "En nationell konsultationsordning"),
    ("7.2", "Systemanalys av statens styrning av välfärdssektorn"),
    ("7.3", "Ökad medfinansiering av verksamhetsnära forskning"),
    ("7.4", "Stödmaterial om en gemensam värdegrund"),
    ("7.5", "Ett nationellt policylab"),
    ("7.6", "Frikommunförsök"),
    ("8.1", "Tvingande vite i skollagen tas bort"),
    ("8.2", "Lokala och regionala mötesplatser för innovation"),
)
KEYS = tuple(key for key, _ in PROPOSALS)

#: Organisations a respondent is matched to: (code, name), with near neighbours.
ORGANISATIONS: tuple[tuple[str, str], ...] = (
    ("1384", "Kungsbacka kommun"),
    ("1380", "Halmstads kommun"),
    ("1383", "Varbergs kommun"),
    ("1382", "Falkenbergs kommun"),
    ("1381", "Laholms kommun"),
    ("1482", "Kungälvs kommun"),
    ("13", "Region Halland"),
    ("01", "Region Stockholm"),
    ("12", "Region Skåne"),
    ("25", "Region Norrbotten"),
    ("24", "Region Västerbotten"),
    ("0180", "Stockholms stad"),
    ("1480", "Göteborgs stad"),
    ("1280", "Malmö stad"),
    ("0380", "Uppsala kommun"),
    ("0580", "Linköpings kommun"),
    ("1281", "Lunds kommun"),
    ("2480", "Umeå kommun"),
    ("1880", "Örebro kommun"),
    ("SKR", "Sveriges Kommuner och Regioner"),
    ("STK", "Statskontoret"),
    ("SI", "Skolinspektionen"),
    ("IVO", "Inspektionen för vård och omsorg"),
    ("ESV", "Ekonomistyrningsverket"),
    ("VR", "Vetenskapsrådet"),
    ("AGV", "Arbetsgivarverket"),
    ("LST13", "Länsstyrelsen i Hallands län"),
)


@dataclass(frozen=True)
class Response:
    name: str
    code: str
    text: str
    gold: tuple[tuple[str | None, str], ...]


def _rest(said: tuple[str, ...], stance: str = "inga_synpunkter") -> tuple[tuple[str, str], ...]:
    """ "I övrigt inga synpunkter": every proposal not in ``said``."""
    return tuple((key, stance) for key in KEYS if key not in said)


T, D, A, N = "tillstyrker", "delvis", "avstyrker", "inga_synpunkter"

DEVELOPMENT: tuple[Response, ...] = (
    Response(
        "kommun_numbered",
        "1384",
        """Kungsbacka kommun
Kommunstyrelsen
Datum 2019-01-15
Dnr KS 2018/0987

Finansdepartementet
103 33 Stockholm

Yttrande över Med tillit växer handlingsutrymmet (SOU 2018:47)

Kungsbacka kommun har beretts tillfälle att yttra sig över betänkandet och lämnar följande synpunkter.

7.1 En nationell konsultationsordning

Kungsbacka kommun tillstyrker förslaget. En konsultationsordning ger kommunerna bättre möjligheter att påverka statens styrning i ett tidigt skede.

7.2 Systemanalys av statens styrning av välfärdssektorn

Kommunen välkomnar att statens samlade styrning analyseras regelbundet.

7.5 Ett nationellt policylab

Kommunen avstyrker förslaget. Det saknas en tydlig beskrivning av hur ett policylab skulle förhålla sig till befintliga arenor.

Övriga avsnitt

Kommunen har i övrigt inga synpunkter på betänkandet.

För Kungsbacka kommun

Anna Andersson
Kommunstyrelsens ordförande

Per Persson
Kommundirektör""",
        (("7.1", T), ("7.2", T), ("7.5", A), *_rest(("7.1", "7.2", "7.5"))),
    ),
    Response(
        "region_range_men",
        "13",
        """REGION HALLAND
Regionstyrelsen

Remissvar
Diarienummer RS180456

Till: Finansdepartementet

Yttrande från Region Halland över SOU 2018:47

Sammanfattning

Region Halland är i huvudsak positiv till betänkandets förslag.

Synpunkter på förslagen

Avsnitt 7.1–7.3

Region Halland har inga synpunkter på förslagen i avsnitt 7.1–7.3.

7.4 Stödmaterial om en gemensam värdegrund

Regionen tillstyrker förslaget men anser att stödmaterialet måste tas fram i nära samråd med regionerna och inte får bli ett nytt styrinstrument.

8.1 Tvingande vite i skollagen tas bort

Regionen berörs inte direkt av förslaget och avstår från att yttra sig.

Regionstyrelsen
Region Halland

Maria Svensson
Regionstyrelsens ordförande""",
        # 8.1: "avstår från att yttra sig" declines to comment: no stance (docs/stances.md).
        ((None, D), ("7.1", N), ("7.2", N), ("7.3", N), ("7.4", D)),
    ),
    Response(
        "skr_double_negation",
        "SKR",
        """Sveriges Kommuner och Regioner

Avdelningen för ekonomi och styrning

Remissvar 2019-02-01
Vårt dnr 18/01234

Finansdepartementet

Med tillit växer handlingsutrymmet (SOU 2018:47)

Sveriges Kommuner och Regioner (SKR) har fått betänkandet på remiss och lämnar följande yttrande.

Allmänna synpunkter

SKR delar delegationens bild av att statens detaljstyrning har ökat. Utredningen föreslår flera åtgärder som vi kommenterar nedan.

7.1 En nationell konsultationsordning

SKR ser inga skäl att inte genomföra förslaget om en nationell konsultationsordning.

7.3 Ökad medfinansiering av verksamhetsnära forskning

SKR har inget att invända mot förslaget.

7.6 Frikommunförsök

SKR tillstyrker förslaget om frikommunförsök under förutsättning att försöken finansieras av staten.

8.2 Lokala och regionala mötesplatser för innovation

SKR kan inte tillstyrka förslaget i dess nuvarande form.

Sveriges Kommuner och Regioner

Anders Knape
Ordförande""",
        (("7.1", T), ("7.3", T), ("7.6", D), ("8.2", A)),
    ),
    Response(
        "myndighet_table",
        "STK",
        """Statskontoret

Remissvar
2019-01-20
Dnr 2018/222-4

Finansdepartementet
Fi2018/02727/SFÖ

Betänkandet Med tillit växer handlingsutrymmet (SOU 2018:47)

Statskontoret har beretts tillfälle att yttra sig över rubricerade betänkande. Statskontoret redovisar sina ställningstaganden i tabellen nedan.

Avsnitt | Ställningstagande | Kommentar
7.1 | Tillstyrker | Konsultationsordningen bör utvärderas efter tre år.
7.2 | Tillstyrker |
7.4 | Avstyrker | Statskontoret bedömer att ett stödmaterial inte behövs.
7.5 | Delvis | Policylabbet bör knytas till en befintlig myndighet.
7.6 | Inga synpunkter |

Detta yttrande har beslutats av generaldirektören Anna Larsson efter föredragning av utredaren Erik Berg.

Anna Larsson

Erik Berg""",
        (("7.1", T), ("7.2", T), ("7.4", A), ("7.5", D), ("7.6", N)),
    ),
    Response(
        "protocol_extract",
        "1380",
        """PROTOKOLLSUTDRAG
Kommunstyrelsen i Halmstads kommun
Sammanträdesdatum 2019-01-22

§ 14 Dnr KS 2018/00612

Remiss: Med tillit växer handlingsutrymmet (SOU 2018:47)

Ärendebeskrivning

Finansdepartementet har gett Halmstads kommun möjlighet att lämna synpunkter på betänkandet. Tillitsdelegationen föreslår bland annat en nationell konsultationsordning och ett nationellt policylab. Sveriges Kommuner och Regioner har tillstyrkt förslaget om ett policylab.

Beslut

Kommunstyrelsen beslutar att tillstyrka förslagen i avsnitt 7.1 och 7.2, att avstyrka förslaget i avsnitt 7.5 samt att i övrigt inte ha några synpunkter på betänkandet.

Justerandes signatur

Utdragsbestyrkande""",
        (("7.1", T), ("7.2", T), ("7.5", A), *_rest(("7.1", "7.2", "7.5"))),
    ),
    Response(
        "kommun_headings_words",
        "0380",
        """Uppsala kommun
Kommunledningskontoret

Handläggare: Lisa Ek
Datum: 2019-01-30

Yttrande över betänkandet Med tillit växer handlingsutrymmet

Nationell konsultationsordning

Uppsala kommun välkomnar förslaget. Det är angeläget att kommunerna får komma till tals innan statliga reformer beslutas.

Frikommunförsök

Kommunen ställer sig bakom förslaget om frikommunförsök och anmäler intresse för att delta.

Kommunen avråder från att inrätta ett nationellt policylab, eftersom det riskerar att skapa dubbla strukturer.

Kommunstyrelsen

Erik Pelle
Ordförande

Uppsala kommun""",
        (("7.1", T), ("7.6", T), ("7.5", A)),
    ),
    Response(
        "myndighet_avsnitt",
        "IVO",
        """Inspektionen för vård och omsorg

Yttrande
2019-02-05
Dnr 3.1-45678/2018

Regeringskansliet
Finansdepartementet

Remiss av SOU 2018:47 och SOU 2018:48

Inspektionen för vård och omsorg (IVO) har fått rubricerade betänkanden på remiss och vill lämna följande synpunkter.

Avsnitt 7.2 Systemanalys av statens styrning av välfärdssektorn

IVO delar utredningens bedömning att statens styrning behöver analyseras samlat.

Avsnitt 7.4 Stödmaterial om en gemensam värdegrund

IVO ifrågasätter behovet av ett särskilt stödmaterial. Det finns redan omfattande material om värdegrundsarbete.

Avsnitt 8.1 Tvingande vite i skollagen tas bort

Förslaget berör Skolinspektionens verksamhet. IVO lämnar förslaget utan erinran.

I detta ärende har generaldirektör Sofia Wallström beslutat. Utredare Karl Nord har varit föredragande.

Sofia Wallström
Karl Nord""",
        (("7.2", T), ("7.4", A), ("8.1", N)),
    ),
    Response(
        "stad_summary_and_body",
        "1480",
        """Göteborgs Stad
Stadsledningskontoret

Tjänsteutlåtande
Utfärdat 2019-01-10

Yttrande över SOU 2018:47

Sammanfattning

Göteborgs Stad tillstyrker förslaget om en nationell konsultationsordning och instämmer delvis i förslaget om ett nationellt policylab. Staden avstyrker förslaget om frikommunförsök.

7.1 En nationell konsultationsordning

Staden tillstyrker förslaget. Konsultationerna bör omfatta både kommuner och regioner.

7.5 Ett nationellt policylab

Staden instämmer delvis i förslaget. Ett policylab kan vara värdefullt, men det bör prövas i mindre skala först.

7.6 Frikommunförsök

Staden avstyrker förslaget eftersom det inte framgår hur försöken ska utvärderas.

Göteborgs Stad

Axel Josefson
Kommunstyrelsens ordförande""",
        (("7.1", T), ("7.5", D), ("7.6", A)),
    ),
    Response(
        "region_additive_men",
        "01",
        """Region Stockholm
Regionledningskontoret

2019-02-11
RS 2018-0765

Yttrande över betänkandet Med tillit växer handlingsutrymmet (SOU 2018:47)

Region Stockholm har beretts tillfälle att yttra sig över betänkandet.

Regionens synpunkter

7.3 Ökad medfinansiering av verksamhetsnära forskning

Region Stockholm är positiv till förslaget om ökad medfinansiering av verksamhetsnära forskning.

7.4 Stödmaterial om en gemensam värdegrund

Regionen anser att förslaget inte bör genomföras. Värdegrundsarbetet är en fråga för varje huvudman.

8.2 Lokala och regionala mötesplatser för innovation

Regionen ställer sig bakom förslaget, men vill samtidigt betona vikten av en god samverkan med civilsamhället.

I övrigt har regionen inga synpunkter.

Irene Svenonius
Finansregionråd""",
        (("7.3", T), ("7.4", A), ("8.2", T), *_rest(("7.3", "7.4", "8.2"))),
    ),
    Response(
        "kommun_inline_sections_quoting",
        "2480",
        """UMEÅ KOMMUN

Remissvar
Datum 2019-01-28

Yttrande över SOU 2018:47 Med tillit växer handlingsutrymmet

Umeå kommun har fått betänkandet på remiss från Finansdepartementet.

Kommunens ställningstaganden

7.1 En nationell konsultationsordning. Kommunen tillstyrker förslaget men anser att konsultationsordningen bara bör gälla reformer som rör kommunernas ekonomi.

7.2 Systemanalys av statens styrning av välfärdssektorn. Kommunen har inte några synpunkter på förslaget.

7.5 Ett nationellt policylab. I likhet med Region Västerbotten, som har avstyrkt förslaget, anser kommunen att ett policylab inte behövs. Kommunen avstyrker därför förslaget.

Umeå kommun

Hans Lindberg
Kommunstyrelsens ordförande""",
        (("7.1", D), ("7.2", N), ("7.5", A)),
    ),
    Response(
        "stad_ranges",
        "1280",
        """Malmö stad
Kommunstyrelsen

Yttrande
Till Finansdepartementet

Remiss från Finansdepartementet – Med tillit växer handlingsutrymmet (SOU 2018:47)

Malmö stad tillstyrker förslagen i avsnitt 7.1-7.3.

Malmö stad avstyrker förslagen i avsnitt 7.4 och 7.5. Staden anser att värdegrundsarbete och policyutveckling bör ske lokalt.

Avseende avsnitt 8.1 har staden ingen erinran.

Malmö stad

Katrin Stjernfeldt Jammeh
Kommunstyrelsens ordförande""",
        (("7.1", T), ("7.2", T), ("7.3", T), ("7.4", A), ("7.5", A), ("8.1", N)),
    ),
    Response(
        "myndighet_reported_speech",
        "SI",
        """Skolinspektionen

Remissvar
Datum: 2019-02-04
Diarienummer: 2018:9876

Finansdepartementet

Betänkandet En lärande tillsyn (SOU 2018:48)

Sammanfattning

Skolinspektionen tillstyrker förslaget att skollagens bestämmelse om tvingande vite tas bort.

8.1 Tvingande vite i skollagen tas bort

Regeringen avser att återkomma om tillsynens inriktning. Skolinspektionen välkomnar förslaget att bestämmelsen om tvingande vite tas bort, eftersom den begränsar myndighetens möjlighet att anpassa tillsynen.

8.2 Lokala och regionala mötesplatser för innovation

Skolinspektionen ser inga skäl att motsätta sig förslaget.

Beslut i detta ärende har fattats av generaldirektör Helén Ängmo.

Helén Ängmo""",
        (("8.1", T), ("8.2", T)),
    ),
    Response(
        "kommun_negated_avstyrka",
        "1281",
        """Lunds kommun
Kommunkontoret

2019-01-25
Dnr KS 2018/0444

Yttrande över SOU 2018:47

1. Inledning

Lunds kommun har beretts tillfälle att yttra sig över Tillitsdelegationens huvudbetänkande.

2. Synpunkter

Avsnitt 7.2 – Systemanalys av statens styrning av välfärdssektorn

Kommunen ställer sig bakom förslaget och ser dessutom ett behov av att analysen omfattar regionerna.

Avsnitt 7.3 – Ökad medfinansiering av verksamhetsnära forskning

Kommunen delar uppfattningen att forskningen behöver komma närmare verksamheterna.

Avsnitt 7.6 – Frikommunförsök

Kommunen vill inte avstyrka förslaget, men anser att försöken måste begränsas till ett fåtal områden.

LUNDS KOMMUN
Kommunstyrelsen

Philip Sandberg
Ordförande""",
        (("7.2", T), ("7.3", T), ("7.6", D)),
    ),
)

# Written before any rule; measured only (scripts/stance_accuracy.py), never tuned to.
HELD_OUT: tuple[Response, ...] = (
    Response(
        "h_kommun_heading_lines",
        "0580",
        """Linköpings kommun
linkoping.se

Kommunstyrelsen
Remissvar
2019-02-12

Finansdepartementet
fi.remissvar@regeringskansliet.se

Yttrande över Tillitsdelegationens betänkande SOU 2018:47

Linköpings kommun har getts möjlighet att yttra sig över rubricerat betänkande.

Kommunens synpunkter

7.1 En nationell konsultationsordning
Linköpings kommun är positiv till att en nationell konsultationsordning inrättas.

7.4 Stödmaterial om en gemensam värdegrund
Kommunen ser inte behovet av ett nationellt stödmaterial och avstyrker förslaget.

7.5 Ett nationellt policylab
Kommunen tillstyrker förslaget under förutsättning att kommunerna ges en aktiv roll i policylabbets arbete.

Kommunen har i övrigt inga synpunkter på betänkandet.

Muharrem Demirok
Kommunstyrelsens ordförande

Christina Lindqvist
Kommundirektör""",
        (("7.1", T), ("7.4", A), ("7.5", D), *_rest(("7.1", "7.4", "7.5"))),
    ),
    Response(
        "h_region_inline_sections",
        "25",
        """Region Norrbotten

REMISSVAR
Datum 2019-01-31
Dnr 2018-1212

Till Regeringskansliet, Finansdepartementet

SOU 2018:47 Med tillit växer handlingsutrymmet

Region Norrbotten har tagit del av betänkandet och lämnar härmed sitt yttrande.

Region Norrbotten delar delegationens bedömning i avsnitt 7.2 och tillstyrker förslaget.

När det gäller förslaget om frikommunförsök (avsnitt 7.6) avstyrker regionen, eftersom regionerna inte omfattas.

Regionen har inga synpunkter på avsnitten 8.1–8.2.

Region Norrbotten
Glenn Nordlund
Regionstyrelsens ordförande""",
        (("7.2", T), ("7.6", A), ("8.1", N), ("8.2", N)),
    ),
    Response(
        "h_myndighet_summary_men",
        "ESV",
        """Ekonomistyrningsverket

YTTRANDE
2019-02-08
Dnr 2.4-1234/2018

Finansdepartementet

Yttrande över Med tillit växer handlingsutrymmet (SOU 2018:47)

Sammanfattning

ESV tillstyrker förslaget om en systemanalys av statens styrning men avstyrker förslaget om ett nationellt policylab.

ESV:s synpunkter

7.2 Systemanalys av statens styrning av välfärdssektorn

ESV tillstyrker förslaget. ESV har i tidigare uppdrag visat att den samlade styrningen behöver analyseras.

7.5 Ett nationellt policylab

Delegationen bedömer att ett policylab skulle främja innovation. ESV avstyrker förslaget, då uppgiften redan ligger inom befintliga myndigheters ansvar.

7.3 Ökad medfinansiering av verksamhetsnära forskning

ESV lämnar inga synpunkter på förslaget.

Detta yttrande har beslutats av generaldirektör Clas Olsson. I den slutliga handläggningen har även avdelningschef Maria Ek deltagit. Föredragande har varit Lars Nilsson.

Clas Olsson
Lars Nilsson""",
        (("7.2", T), ("7.5", A), ("7.3", N)),
    ),
    Response(
        "h_stad_table_passive",
        "0180",
        """Stockholms stad
Stadsledningskontoret

Remissvar
Dnr KS 2018/1555

Betänkandet Med tillit växer handlingsutrymmet (SOU 2018:47)

Stockholms stad har fått rubricerat betänkande på remiss. Stadens ställningstaganden framgår av tabellen.

Förslag | Stadens ställningstagande | Motivering
7.1 En nationell konsultationsordning | Tillstyrks | Viktigt att storstäderna ingår.
7.2 Systemanalys av statens styrning av välfärdssektorn | Tillstyrks delvis | Analysen bör göras av Statskontoret.
7.3 Ökad medfinansiering av verksamhetsnära forskning | Avstyrks | Finansieringen är oklar.
7.6 Frikommunförsök | Ingen erinran |

Stockholms stad

Anna König Jerlmyr
Finansborgarråd""",
        (("7.1", T), ("7.2", D), ("7.3", A), ("7.6", N)),
    ),
    Response(
        "h_protocol_numbered_decision",
        "1383",
        """Varbergs kommun
Kommunstyrelsen

PROTOKOLL
Sammanträdesdatum 2019-02-05

§ 32
Yttrande över Med tillit växer handlingsutrymmet (SOU 2018:47)
Dnr KS 2018/0789

Beslut
Kommunstyrelsen beslutar
1. att tillstyrka förslaget om en nationell konsultationsordning,
2. att avstyrka förslaget om stödmaterial om en gemensam värdegrund,
3. att i övrigt lämna betänkandet utan erinran.

Beskrivning av ärendet
Tillitsdelegationen föreslår bland annat att ett nationellt policylab inrättas. Region Halland har avstyrkt förslaget om ett policylab.

Justerare

Utdragsbestyrkande""",
        (("7.1", T), ("7.4", A), *_rest(("7.1", "7.4"))),
    ),
    Response(
        "h_region_invandningar",
        "12",
        """Region Skåne
Regionstyrelsen

Yttrande
2019-02-14

Finansdepartementet

Yttrande över SOU 2018:47 Med tillit växer handlingsutrymmet

Region Skåne har beretts möjlighet att lämna synpunkter på betänkandet. Regionen har valt att yttra sig över de förslag som berör regionens verksamhet.

7.3 Ökad medfinansiering av verksamhetsnära forskning

Region Skåne ser positivt på förslaget och ställer sig bakom det.

7.5 Ett nationellt policylab

Regionen har inga invändningar mot att ett nationellt policylab inrättas, men vill framhålla att även regionala policylabb behöver stöd.

8.2 Lokala och regionala mötesplatser för innovation

Region Skåne anser inte att förslaget bör genomföras i nuvarande form. Regionen föreslår i stället att befintliga innovationsmiljöer förstärks.

Carl Johan Sonesson
Regionstyrelsens ordförande""",
        (("7.3", T), ("7.5", T), ("8.2", A)),
    ),
    Response(
        "h_myndighet_ovriga_forslag",
        "VR",
        """Vetenskapsrådet

Remissyttrande
Datum 2019-01-29
Vårt diarienummer 3.1.2-2018-5555

Regeringskansliet
Finansdepartementet

Remiss: Med tillit växer handlingsutrymmet – tillitsbaserad styrning och ledning av välfärdssektorn (SOU 2018:47)

Vetenskapsrådet har ombetts yttra sig över betänkandet och begränsar sitt yttrande till avsnitt 7.3.

Avsnitt 7.3 Ökad medfinansiering av verksamhetsnära forskning

Vetenskapsrådet tillstyrker förslaget i huvudsak. Vetenskapsrådet vill dock understryka att medfinansieringen inte får ske på bekostnad av den fria forskningen.

Vetenskapsrådet har inga synpunkter på övriga förslag i betänkandet.

Generaldirektör Sven Stafström har beslutat i detta ärende.

Sven Stafström""",
        (("7.3", D), *_rest(("7.3",))),
    ),
    Response(
        "h_kommun_parenthesised_sections",
        "1382",
        """FALKENBERGS KOMMUN
Kommunstyrelsens förvaltning

Datum 2019-01-18

Svar på remiss av SOU 2018:47

Falkenbergs kommun har fått rubricerad remiss och lämnar följande svar.

Falkenbergs kommun välkomnar utredningens förslag om en nationell konsultationsordning (7.1) och om ökad medfinansiering av verksamhetsnära forskning (7.3).

Kommunen är tveksam till förslaget om ett nationellt policylab (7.5) och kan inte ställa sig bakom det.

Sveriges Kommuner och Regioner har i sitt remissvar tillstyrkt förslaget om frikommunförsök. Falkenbergs kommun har ingen annan uppfattning än SKR i den frågan och tillstyrker förslaget.

Falkenbergs kommun
Kommunstyrelsen

Per Svensson
Ordförande""",
        (("7.1", T), ("7.3", T), ("7.5", A), ("7.6", T)),
    ),
    Response(
        "h_lansstyrelse",
        "LST13",
        """Länsstyrelsen
Hallands län

Yttrande
2019-02-01
Dnr 100-5678-2018

Finansdepartementet

Yttrande över betänkandet SOU 2018:47

Länsstyrelsen i Hallands län har beretts tillfälle att yttra sig över betänkandet och lämnar följande synpunkter.

Länsstyrelsen tillstyrker förslagen i avsnitten 7.1 och 7.2.

Avsnitt 8.2 Lokala och regionala mötesplatser för innovation

Länsstyrelsen stöder förslaget men anser att länsstyrelserna bör få ett samordningsansvar för mötesplatserna.

I övrigt har Länsstyrelsen inga synpunkter.

I detta ärende har landshövding Brittis Benzler beslutat. Handläggare Ola Ek har varit föredragande.

Brittis Benzler
Ola Ek""",
        (("7.1", T), ("7.2", T), ("8.2", D), *_rest(("7.1", "7.2", "8.2"))),
    ),
    Response(
        "h_kommun_words_only",
        "1381",
        """Laholms kommun

Remissyttrande från Laholms kommun

Yttrande från Laholms kommun över Med tillit växer handlingsutrymmet (SOU 2018:47)

Laholms kommun tillstyrker förslaget om en nationell konsultationsordning.

Laholms kommun avstyrker förslaget om frikommunförsök. Kommunen anser att det är bättre att förenkla regelverket för alla kommuner än att låta några få kommuner pröva undantag.

Förslaget om tvingande vite i skollagen tillstyrks.

Kommunen lämnar inga synpunkter i övrigt.

Laholm som ovan

Johan Stenberg
Kommunstyrelsens ordförande""",
        (("7.1", T), ("7.6", A), ("8.1", T), *_rest(("7.1", "7.6", "8.1"))),
    ),
    Response(
        "h_kommun_unnumbered_headings",
        "1880",
        """Örebro kommun
Kommunstyrelseförvaltningen

Yttrande
2019-02-06

SOU 2018:47 – Med tillit växer handlingsutrymmet

Övergripande synpunkter

Örebro kommun delar i stort delegationens analys av behovet av tillitsbaserad styrning. Utredningen föreslår en rad åtgärder som sammantaget kan stärka det lokala självstyret.

Lokala och regionala mötesplatser

Kommunen ifrågasätter behovet av att staten inrättar mötesplatser, eftersom sådana redan finns i de flesta län.

Systemanalys av statens styrning

Örebro kommun tillstyrker förslaget.

Stödmaterial om värdegrund

Örebro kommun avslår förslaget.

Örebro kommun

John Johansson
Kommunstyrelsens ordförande""",
        (("8.2", A), ("7.2", T), ("7.4", A)),
    ),
    Response(
        "h_myndighet_ingenting_att_invanda",
        "AGV",
        """Arbetsgivarverket

Remissvar
2019-01-24
Dnr 2018/0321

Finansdepartementet

Med tillit växer handlingsutrymmet (SOU 2018:47)

Arbetsgivarverket har beretts tillfälle att yttra sig över rubricerade betänkande.

Arbetsgivarverket har ingenting att invända mot förslagen i avsnitt 7.1 och 7.2.

Arbetsgivarverket avstyrker förslaget i avsnitt 7.4. Frågor om värdegrund för statsanställda regleras redan i andra sammanhang, och Arbetsgivarverket ser ingen anledning att ta fram ytterligare material.

Arbetsgivarverket har i övrigt inga synpunkter.

Gunnar Holmgren
Generaldirektör""",
        (("7.1", T), ("7.2", T), ("7.4", A), *_rest(("7.1", "7.2", "7.4"))),
    ),
)

#: A second (fictional) remiss, for the development responses below: a Ds on the supervision
#: of elderly care, with a chapter of three proposals, a register and a date of entry into force.
PROPOSALS_TILLSYN: tuple[tuple[str, str], ...] = (
    ("4.1", "En nationell tillsynsmyndighet för äldreomsorgen"),
    ("4.2", "Krav på årlig uppföljning av kommunernas egenkontroll"),
    ("4.3", "Sanktionsavgifter vid brister i anmälningsplikten"),
    ("5.1", "Ett nationellt register över vårdgivare"),
    ("5.2", "Skyldighet att lämna uppgifter till registret"),
    ("6", "Ikraftträdande- och övergångsbestämmelser"),
)

#: Development responses on PROPOSALS_TILLSYN, written for the kinds of writing an unseen set
#: found missed or misread (docs/stances.md, "A fresh unseen set"): entry into force in prose,
#: s-passives, a table with empty comment cells, headings worded unlike their proposals or
#: with the response's own numbers, chapter headings, agreement with a description.
DEVELOPMENT_TILLSYN: tuple[Response, ...] = (
    Response(
        "kommun_entry_into_force_prose",
        "1383",
        """Varbergs kommun
Kommunstyrelsen
Dnr KS 2026/0412

Yttrande över promemorian Samlad tillsyn över äldreomsorgen (Ds 2026:9)

Varbergs kommun har beretts tillfälle att yttra sig över promemorian.

4.1 En nationell tillsynsmyndighet för äldreomsorgen

Kommunen tillstyrker förslaget. En samlad tillsyn gör det lättare för kommunerna att veta vilka krav som gäller.

5.1 Ett nationellt register över vårdgivare

Kommunen tillstyrker förslaget under förutsättning att registret blir kostnadsfritt för kommunerna att använda.

Ikraftträdande

Kommunen avstyrker att reglerna träder i kraft den 1 juli 2027. Kommunerna behöver betydligt längre tid för att anpassa sina verksamhetssystem, och en tidpunkt som ligger mitt i semesterperioden försvårar införandet ytterligare.

För Varbergs kommun

Ann-Charlotte Stenkil
Kommunstyrelsens ordförande""",
        (("4.1", T), ("5.1", D), ("6", A)),
    ),
    Response(
        "region_passives_and_the_date",
        "13",
        """Region Halland
Regionstyrelsen

Remissvar Ds 2026:9 Samlad tillsyn över äldreomsorgen

Region Halland har fått rubricerad promemoria på remiss och lämnar följande synpunkter.

Förslaget om en nationell tillsynsmyndighet för äldreomsorgen välkomnas. Det är angeläget att tillsynen blir mer enhetlig över landet.

Kravet på årlig uppföljning av kommunernas egenkontroll kan godtas, även om det innebär en viss administrativ börda.

Sanktionsavgifter

Förslaget avstyrks. Avgifterna riskerar att drabba verksamheter som redan har svårt att rekrytera personal.

Ett nationellt register

Promemorians bedömning att registret bör vara offentligt delas inte. Uppgifter om enskilda vårdgivare bör i stället lämnas ut efter sedvanlig sekretessprövning.

Förslagens ikraftträdande

Regionen har ingen invändning mot den föreslagna tidpunkten.

Region Halland

Mats Eriksson
Regionstyrelsens ordförande""",
        (("4.1", T), ("4.2", T), ("4.3", A), ("5.1", A), ("6", T)),
    ),
    Response(
        "kommun_table_with_empty_comments",
        "1381",
        """Laholms kommun

Yttrande över Ds 2026:9

Laholms kommun har beretts tillfälle att yttra sig över promemorian. Kommunens ställningstaganden framgår av tabellen nedan.

| Förslag | Ställningstagande | Kommentar |
|---|---|---|
| Nationell tillsynsmyndighet | Tillstyrker | |
| Årlig uppföljning av egenkontrollen | Tillstyrker delvis | Uppföljningen bör kunna göras vartannat år i mindre kommuner. |
| Sanktionsavgifter | Avstyrker | |
| Uppgiftsskyldighet för vårdgivare | Tillstyrks | |
| Ikraftträdande | Avstyrker | Den föreslagna tidpunkten är alltför snäv. |

Laholm den 3 mars 2026

Ola Settergren
Kommunstyrelsens ordförande""",
        (("4.1", T), ("4.2", D), ("4.3", A), ("5.2", T), ("6", A)),
    ),
    Response(
        "kommun_headings_unlike_the_proposals",
        "1380",
        """Halmstads kommun

Remissvar: Samlad tillsyn över äldreomsorgen (Ds 2026:9)

Halmstads kommun har getts möjlighet att lämna synpunkter på promemorian.

Den nya myndigheten

Kommunen ställer sig bakom förslaget. En myndighet med ett tydligt ansvar för äldreomsorgen kan bidra till en mer likvärdig tillsyn.

Uppgiftsskyldigheten

Kommunen har inga synpunkter på förslaget.

Digitalisering av tillsynen

Kommunen är positiv till att tillsynen i högre grad sker digitalt, men det ligger utanför promemorians förslag.

När reglerna ska börja gälla

Kommunen anser att ikraftträdandet bör skjutas upp till den 1 januari 2028.

Halmstads kommun

Jan Svensson
Kommundirektör""",
        (("4.1", T), ("5.2", N), ("6", A)),
    ),
    Response(
        "region_chapter_headings",
        "12",
        """Region Skåne

Yttrande över Samlad tillsyn över äldreomsorgen (Ds 2026:9)

Region Skåne har beretts tillfälle att yttra sig över promemorian.

Avsnitt 4 – Tillsyn och uppföljning

Regionen avstyrker förslaget om sanktionsavgifter vid brister i anmälningsplikten. Sådana avgifter riskerar att flytta fokus från lärande till kontroll.

Regionen tillstyrker förslaget om en nationell tillsynsmyndighet för äldreomsorgen.

Avsnitt 5 – Ett nationellt register

Regionen tillstyrker förslagen i avsnittet.

Region Skåne

Carl Johan Sonesson
Regionstyrelsens ordförande""",
        (("4.1", T), ("4.3", A), ("5.1", T), ("5.2", T)),
    ),
    Response(
        "kommun_agrees_with_the_description",
        "1482",
        """Kungälvs kommun

Yttrande över promemorian Samlad tillsyn över äldreomsorgen (Ds 2026:9)

Kungälvs kommun har beretts tillfälle att yttra sig över rubricerad promemoria.

Allmänna synpunkter

Kommunen delar promemorians bedömning att tillsynen i dag är splittrad och svår att överblicka. Kommunen instämmer också i beskrivningen av problemen med bristande uppföljning. Sammantaget ställer sig kommunen bakom promemorians förslag.

4.2 Krav på årlig uppföljning av kommunernas egenkontroll

Kommunen delar analysen av hur egenkontrollen fungerar i dag. Kommunen tillstyrker förslaget men anser att kravet endast bör gälla verksamheter med fler än tio anställda.

För Kungälvs kommun

Miro Kessler
Kommunstyrelsens ordförande""",
        ((None, T), ("4.2", D)),
    ),
    Response(
        "kommun_own_numbering",
        "0380",
        """Uppsala kommun
Kommunstyrelsen

Yttrande över Ds 2026:9 Samlad tillsyn över äldreomsorgen

Uppsala kommun har beretts tillfälle att lämna synpunkter på promemorian.

1. Inledning

Uppsala kommun ansvarar för äldreomsorg för drygt 10 000 personer och välkomnar att frågan om tillsyn utreds.

2. Nationell tillsynsmyndighet

Förslaget tillstyrks inte. Kommunen bedömer att nuvarande ansvarsfördelning mellan myndigheterna fungerar och att en ny myndighet skulle medföra onödiga gränsdragningsproblem.

3. Sanktionsavgifterna

Förslaget kan godtas.

4. Övergångsbestämmelserna

Kommunen anser att övergångstiden är för kort.

Uppsala kommun

Erik Pelling
Kommunstyrelsens ordförande""",
        (("4.1", A), ("4.3", T), ("6", A)),
    ),
    Response(
        "kommun_others_passives_and_remarks",
        "0580",
        """Linköpings kommun

Yttrande över Ds 2026:9

Linköpings kommun har beretts tillfälle att yttra sig över promemorian.

5.2 Skyldighet att lämna uppgifter till registret

Förslaget har tillstyrkts av Sveriges Kommuner och Regioner. Kommunen delar uppfattningen att uppgiftslämnandet behöver samordnas och tillstyrker förslaget.

6 Ikraftträdande- och övergångsbestämmelser

Kommunen anser att den föreslagna tidpunkten är rimlig.

I övrigt har kommunen inga synpunkter.

Linköpings kommun

Muniba Ali
Kommunstyrelsens ordförande""",
        (("5.2", T), ("6", T), ("4.1", N), ("4.2", N), ("4.3", N), ("5.1", N)),
    ),
    # After the fourth unseen set (docs/stances.md): declining to comment, a count of the
    # proposals, a "men" inside the view agreed with.
    Response(
        "region_declines_and_counts",
        "01",
        """Region Stockholm
Regionstyrelsen

Yttrande över Ds 2026:9

Region Stockholm har beretts tillfälle att yttra sig över promemorian.

Sammanfattning

Regionen ställer sig positiv till flera av promemorians förslag men motsätter sig förslaget om sanktionsavgifter.

4.1 En nationell tillsynsmyndighet för äldreomsorgen

Regionen delar promemorians bedömning att en samlad tillsyn är angelägen, men att den kommer att kräva tid och resurser att bygga upp. Regionen tillstyrker därför förslaget.

4.3 Sanktionsavgifter vid brister i anmälningsplikten

Regionen avstyrker förslaget. Avgifterna riskerar att drabba små utförare hårt.

5.1 Ett nationellt register över vårdgivare

Regionen avstår från att yttra sig över förslaget, som inte berör regionens verksamhet.

Övriga delar av promemorian lämnas utan kommentar.

Region Stockholm

Anna Berg
Regionstyrelsens ordförande""",
        (("4.1", T), ("4.3", A)),
    ),
    # Contrary stances on two parts of one proposal; a group declined, the rest no views.
    Response(
        "kommun_parts_and_declined_group",
        "1880",
        """Örebro kommun

Remissvar Ds 2026:9

Örebro kommun har beretts tillfälle att yttra sig över promemorian.

Kommunen tillstyrker förslaget i den del det avser uppföljning, men avstyrker förslaget om krav på egenkontroll. En årlig uppföljning ger en bättre bild av kvaliteten, men kravet på egenkontroll tar tid från verksamheten.

Kommunen avstår från att kommentera förslagen om registret, som främst berör de privata utförarna.

I övrigt har kommunen inga synpunkter.

Örebro kommun

Lars Holm
Kommunstyrelsens ordförande""",
        (("4.2", D), ("4.1", N), ("4.3", N), ("6", N)),
    ),
)
