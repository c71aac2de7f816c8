"""The accessibility statement (tillgänglighetsredogörelse, ``/tillganglighet`` and its JSON
twin) in the form Digg prescribes (DOS-lagen 2018:1937, MDFFS 2019:2): who runs the site,
how far it complies with WCAG 2.1 AA, the content that is not accessible and why, how to
tell the owner, Digg's supervision, how the site was tested, and the dates.

The statement is kept true by the tests (tests/test_web_accessibility.py): the compliance
level follows from :data:`GAPS`, and each gap names the check that shows it still exists,
so a fixed gap fails the tests until it is taken off the list."""

from __future__ import annotations

import functools
from dataclasses import asdict, dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from tillit import swedish
from tillit.config import Settings, load_settings
from tillit.web._auth import WebState, web_state
from tillit.web.pages._render import json_response, render, viewer

__all__ = [
    "ASSESSED",
    "DIGG_REPORT_URL",
    "GAPS",
    "UPDATED",
    "Gap",
    "compliance",
    "router",
    "statement_data",
]

router = APIRouter(include_in_schema=False)
State = Annotated[WebState, Depends(web_state)]

#: The day the site was last assessed against WCAG 2.1 AA: the browser tests run and every
#: gap below checked by hand. Moved by hand; a test fails when the pages' templates, styles
#: or scripts changed more than a year after it (the statement must be reviewed yearly).
ASSESSED = date(2026, 12, 7)
#: The day the statement's text was last changed.
UPDATED = date(2026, 12, 7)
SITE = "Tillit"
STANDARD = "WCAG 2.1 nivå AA"
EN_STANDARD = "EN 301 549 v3.2.1"
DIGG = "Myndigheten för digital förvaltning (Digg)"
DIGG_REPORT_URL = "https://www.digg.se/tdosanmalan"
LAW = "lagen (2018:1937) om tillgänglighet till digital offentlig service"


@dataclass(frozen=True)
class Gap:
    """A known way the site falls short of WCAG 2.1 AA (Swedish text for the statement)."""

    criterion: str
    """The success criterion's number, e.g. ``2.2.1``."""
    name: str
    """Its Swedish name (as in the Swedish translation of WCAG 2.1)."""
    level: str
    """``A`` or ``AA``."""
    where: str
    """Which part of the site."""
    problem: str
    """What does not work, and for whom."""
    alternative: str
    """What to do meanwhile."""
    plan: str
    """What we plan to do about it."""
    check: str
    """The name of the test check that shows the gap still exists."""


GAPS: tuple[Gap, ...] = (
    Gap(
        criterion="2.2.1",
        name="Justerbar tidsgräns",
        level="A",
        where="Inloggning för redaktörer (formulären för goda exempel, försök och mål)",
        problem=(
            "En inloggning gäller i 12 timmar från det att du loggade in. Du varnas inte innan "
            "den går ut och kan inte förlänga den. Skickar du ett formulär efter att "
            "inloggningen gått ut kommer du till inloggningssidan, och det du skrivit sparas inte."
        ),
        alternative=(
            "Logga ut och in igen innan du börjar på en längre text, eller skriv texten i ett "
            "annat program och klistra in den."
        ),
        plan="Vi ska varna innan inloggningen går ut och låta dig förlänga den.",
        check="session_time_limit",
    ),
    Gap(
        criterion="1.4.4",
        name="Ändra textstorlek",
        level="AA",
        where="Diagrammen på nyckeltalssidor, försök och mål",
        problem=(
            "Diagrammen anpassar sig till skärmens bredd. När du zoomar i webbläsaren blir "
            "texten i dem därför inte större, och på en smal mobilskärm är den mycket liten."
        ),
        alternative=(
            "Under varje diagram finns samma uppgifter som text: en sammanfattning, tabellen "
            "bakom ”Visa värdena som tabell” och en CSV-fil. Diagrammet kan också laddas ned "
            "som SVG och förstoras fritt."
        ),
        plan="Vi ska låta diagrammens text följa med när du zoomar.",
        check="chart_text_zoom",
    ),
)


def compliance(gaps: tuple[Gap, ...] = GAPS) -> str:
    """Digg's words for the level: "helt förenlig" with no known gap, else "delvis förenlig"
    ("inte förenlig" is for a site whose main content is inaccessible, which is a judgement,
    not a count, and never Tillit's automatic answer)."""
    return "delvis förenlig" if gaps else "helt förenlig"


def _contact(settings: Settings) -> dict[str, str] | None:
    value = settings.feedback_email
    if not value:
        return None
    if value.lower().startswith("https://"):
        return {"kind": "url", "value": value, "href": value}
    return {"kind": "email", "value": value, "href": f"mailto:{value}"}


def statement_data(settings: Settings, gaps: tuple[Gap, ...] = GAPS) -> dict[str, Any]:
    """The statement as data: the page and its JSON twin both show this."""
    return {
        "site": SITE,
        "owner": settings.site_owner or None,
        "law": LAW,
        "standard": STANDARD,
        "en_standard": EN_STANDARD,
        "compliance": compliance(gaps),
        "gaps": [asdict(g) for g in gaps],
        "disproportionate_burden": [],
        "outside_scope": [],
        "feedback": {
            "contact": _contact(settings),
            "answer_days": settings.feedback_days,
            "answer_time": swedish.count(settings.feedback_days, "arbetsdag", "arbetsdagar"),
        },
        "supervision": {"authority": DIGG, "report_url": DIGG_REPORT_URL},
        "method": {
            "kind": "självskattning",
            "automated": [
                "axe-core granskar sidorna mot WCAG 2.0 och 2.1, nivå A och AA, i webbläsaren "
                "Chromium: startsidan, sökningen, kommun- och regionsidorna, nyckeltalssidorna, "
                "goda exempel med formulären, listan över försök, kommunernas och regionernas "
                "mål, formulären för nya försök och mål, rapporten för en kommun eller region, "
                "sidan för invånare, remisserna (listan, sammanställningen, granskningen och "
                "formulären), inloggningen, kontot, felsidan och den här sidan",
                "Tab når varje kontroll på de viktigaste sidorna, med synligt fokus",
                "kommun- och regionsidorna och den här sidan visas i 320 × 640 pixlar (som "
                "på en mobil, eller med 400 procents zoom) utan att rulla i sidled",
            ],
            "documents": (
                "Rapporterna som PDF är taggade PDF-filer (PDF/UA-1). Tester kontrollerar "
                "deras språk, titel, rubriker, tabeller och diagrammens alternativtext, men de "
                "har inte granskats med ett fristående verktyg för PDF-tillgänglighet. Samma "
                "rapport finns som webbsida, och tabellerna finns som Excel-fil och CSV."
            ),
            "not_automated": (
                "Sidorna för ett enskilt försök eller mål granskas ännu inte automatiskt."
            ),
            "manual": [
                "zoom till 200 och 400 procent",
                "tidsgränser och inloggning",
                "diagrammens färger och kontraster",
            ],
        },
        "assessed": ASSESSED.isoformat(),
        "updated": UPDATED.isoformat(),
    }


@functools.cache
def _environment_settings() -> Settings:
    return load_settings()


def site_settings(request: Request) -> Settings:
    """The settings the app was made with (``app.state.settings``), else the environment's,
    read once per process."""
    found = getattr(request.app.state, "settings", None)
    return found if isinstance(found, Settings) else _environment_settings()


@router.get("/tillganglighet.json")
def statement_json(request: Request) -> Response:
    return json_response(statement_data(site_settings(request)))


@router.get("/tillganglighet")
def statement_page(request: Request, state: State) -> Response:
    return render(
        request,
        "accessibility.html",
        {"viewer": viewer(request, state), "s": statement_data(site_settings(request))},
    )
