"""Government remiss pages (regeringen.se, as Markdown in g0vse's JSON Lines) into the bank:
one remiss per page, keyed by its address, with the referred document, ministry, deadline,
diarienummer and the consulted bodies matched to the bank's organisations.

Everything is read from the page's title and text with rules; what a page does not say is
left empty, and the report counts it. A line that is not a JSON object with a title and an
address is not imported and is reported with why."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from tillit.bank._base import BankBase, utcnow
from tillit.bank._models import Organisation
from tillit.bank._records import UserRecord
from tillit.bank._remiss_models import Remiss, RemissBody
from tillit.errors import NotFoundError, PermissionDeniedError

__all__ = [
    "BodyMatcher",
    "PageImport",
    "ParsedPage",
    "guess_kind",
    "import_remiss_pages",
    "parse_page",
]

_MONTH_NAMES = (
    "januari", "februari", "mars", "april", "maj", "juni",
    "juli", "augusti", "september", "oktober", "november", "december",
)  # fmt: skip
MONTHS = {m: i for i, m in enumerate(_MONTH_NAMES, start=1)}
_DATE = re.compile(r"\b(\d{1,2})\s+(" + "|".join(MONTHS) + r")\s+(\d{4})\b", re.IGNORECASE)
_REFERENCE = re.compile(r"\b(SOU|Ds|DS|Prop\.?|prop\.?)\s?(\d{4}(?:/\d{2})?)\s?:\s?(\d+)")
_KIND_WORD = re.compile(
    r"\b(promemorian?|pm|utkast till lagrådsremiss|delbetänkandet|slutbetänkandet|betänkandet|"
    r"rapporten|rapport|delrapport(?:en)?|skrivelsen?)\b\s*(.*)",
    re.IGNORECASE,
)
_MINISTRY = re.compile(
    r"\b((?:[A-ZÅÄÖ][a-zåäö]+-\s+och\s+[a-zåäö]*|[A-ZÅÄÖ][a-zåäö]*)departement(?:ets?)?)(?![a-zåäö])"
)
_TITLE_DIARY = re.compile(r"\s*Diarienummer\s*:.*$", re.IGNORECASE)
_DIARIENUMMER = re.compile(
    r"\b([A-ZÅÄÖ][A-Za-zÅÄÖåäö]{0,2})\s?((?:19|20)\d\d/\d{2,6}(?:/[A-Za-zÅÄÖåäö0-9-]+)?)"
)
_DEADLINE_CUE = re.compile(
    r"remissvar|svara på remissen|svarsdatum|remisstid|yttrande|synpunkter", re.IGNORECASE
)
_ITEM = re.compile(r"^\s*(?:(\d{1,3}|l)[.)]?\s+|[*-]\s+)(\S.*?)\s*$")
_INLINE_NUMBER = re.compile(r"\s+\d{1,3}[.)]?\s+(?=[A-ZÅÄÖ])")
_TITLE_PREFIX = re.compile(r"^\s*Remiss(?:\s+av)?\s*[:\-–]*\s+", re.IGNORECASE)
_AGENCY = re.compile(
    r"(verket|myndighet(en)?|styrelsen|inspektionen|nämnden|rätt(en)?|domstol(en)?|universitet(et)?|"
    r"högskola(n)?|ombudsm(an|annen)|kanslern|kollegium|institut(et)?|rådet|ämbetet|kassan|"
    r"riksdagens|riksrevisionen|riksbank(en)?|kustbevakningen|sametinget|lantmäteriet|"
    r"statskontoret|arbetsförmedlingen|försvarsmakten|kriminalvården|vinnova|tillväxtanalys|"
    r"trafikanalys|formas|forte|boverket)\b|^statens\s|^länsstyrelsen\b",
    re.IGNORECASE,
)
_NOT_AGENCY = re.compile(
    r"\b(ab|förbund(et)?|förening(en)?|stiftelse(n)?)\b|förbundet\b", re.IGNORECASE
)


def _norm(name: str) -> str:
    return " ".join(name.replace("–", " ").replace("-", " ").split()).casefold()


#: Genitives that are not the name and an s ("Falu kommun", "Stenungssunds kommun").
_GENITIVES = {"falun": ("falu",), "stenungsund": ("stenungssunds",)}
#: Other names of regions, and of SKR (Sveriges Kommuner och Landsting until 2019).
_ALIASES = {
    "region sörmland": ("södermanland", "södermanlands"),
    "region jämtland härjedalen": ("jämtland", "jämtlands"),
    "sveriges kommuner och regioner": ("sveriges kommuner och landsting",),
}
_ABBREVIATION = re.compile(r"\s*\([^()]{1,20}\)$")


def guess_kind(name: str) -> str:
    """A consulted body's kind from its name: kommun, region, myndighet or organisation."""
    low = _norm(name)
    if low.startswith("sveriges kommuner"):
        return "organisation"
    if re.search(r"\b(kommun|stad)$", low):
        return "kommun"
    if re.search(r"^region |^landstinget\b|läns landsting$|regionen$", low):
        return "region"
    if _AGENCY.search(low) and not _NOT_AGENCY.search(low):
        return "myndighet"
    return "organisation"


def _genitives(name: str) -> set[str]:
    low = _norm(name)
    forms = {low, *_GENITIVES.get(low, ())}
    if not low.endswith(("s", "x", "z")):
        forms.add(low + "s")
    return forms


class BodyMatcher:
    """Consulted bodies' names to the bank's organisations: municipalities by "Ale kommun",
    "Göteborgs stad" or their bare name, regions by their name and the old forms
    ("Stockholms läns landsting", "Landstinget i Uppsala län"), others by exact name
    (without case or extra spaces)."""

    def __init__(self, organisations: Iterable[Organisation]) -> None:
        self._keys: dict[str, Organisation] = {}
        exact: dict[str, Organisation] = {}
        for org in organisations:
            exact.setdefault(_norm(org.name), org)
            if org.kind == "kommun":
                for form in _genitives(org.name):
                    for suffix in (" kommun", " stad", " kommunstyrelse", ""):
                        self._keys.setdefault(form + suffix, org)
            elif org.kind == "region":
                base = re.sub(r"^region |regionen$", "", _norm(org.name)).strip()
                stems = {base, base.removesuffix(" län"), base.removesuffix("s län")}
                for stem in stems | set(_ALIASES.get(_norm(org.name), ())):
                    for form in _genitives(stem):
                        for key in (
                            f"{form} läns landsting",
                            f"landstinget i {form} län",
                            f"landstinget {form}",
                            f"region {form}",
                            f"{form} län",
                            f"region {form} län",
                        ):
                            self._keys.setdefault(key, org)
            for alias in _ALIASES.get(_norm(org.name), ()) if org.kind == "other" else ():
                exact.setdefault(alias, org)
        self._keys.update(exact)  # an exact name wins

    def match(self, name: str) -> tuple[Organisation | None, str]:
        """The organisation (or None) and the body's kind."""
        org = self._keys.get(_norm(name)) or self._keys.get(_norm(_ABBREVIATION.sub("", name)))
        if org is None:
            return None, guess_kind(name)
        if org.kind in ("kommun", "region"):
            return org, org.kind
        return org, guess_kind(name) if guess_kind(name) in (
            "myndighet",
            "organisation",
        ) else "organisation"


@dataclass(frozen=True)
class ParsedPage:
    url: str
    title: str
    document: str
    ministry: str
    deadline: date | None
    diarienummer: str
    bodies: tuple[str, ...]


def _document(title: str, text: str) -> str:
    for source in (title, text[:2000]):
        found = _REFERENCE.search(source)
        if found:
            kind = {"ds": "Ds", "sou": "SOU"}.get(found[1].casefold(), "Prop.")
            return f"{kind} {found[2]}:{found[3]}"
    found = _KIND_WORD.search(title)
    if found:
        kind = found[1].casefold()
        kind = {"promemorian": "promemoria", "pm": "promemoria", "rapporten": "rapport"}.get(
            kind, kind
        )
        return f"{kind} {found[2]}".strip()[:300]
    return ""


def _deadline(text: str) -> date | None:
    best: tuple[int, int] | None = None
    chosen: date | None = None
    for found in _DATE.finditer(text):
        before = text[max(0, found.start() - 160) : found.start()]
        sentence = re.split(r"[.!?]\s|\n\n", before)[-1]
        score = (
            2
            if _DEADLINE_CUE.search(sentence)
            else 1
            if re.search(r"senast|sista dag", sentence, re.I)
            else 0
        )
        if score == 0 or (best is not None and score <= best[0]):
            continue
        try:
            when = date(int(found[3]), MONTHS[found[2].casefold()], int(found[1]))
        except ValueError:
            continue
        best, chosen = (score, found.start()), when
    return chosen


def _ministry(text: str) -> str:
    found = re.search(r"(?:kommit in till|till)\s+(\S+(?:\s+och\s+\S+)?)\s+senast", text)
    candidates = [found[1]] if found else []
    candidates += [m[1] for m in _MINISTRY.finditer(text)]
    for name in candidates:
        m = _MINISTRY.fullmatch(name.strip(" ,."))
        if m:
            name = " ".join(m[1].split())
            name = name.removesuffix("s") if name.endswith("ets") else name
            return name if name.endswith("et") else name + "et"
    return "Statsrådsberedningen" if "Statsrådsberedningen" in text else ""


def _bodies(text: str) -> tuple[str, ...]:
    """The longest list of names in the text (numbered "27. Ale kommun", or bulleted under a
    line that speaks of instanser)."""
    best: list[str] = []
    run: list[str] = []
    previous = ""
    for line in [*text.splitlines(), "end"]:
        found = _ITEM.match(line)
        if (
            found
            and len(found[2]) <= 300
            and not found[2].endswith((".", ":"))
            and "](" not in found[2]
        ):
            if not run and found[1] is None and "instans" not in previous.casefold():
                continue
            run.extend(p.strip("* ") for p in _INLINE_NUMBER.split(found[2]) if p.strip("* "))
            continue
        if line.strip():
            if len(run) > len(best):
                best = run
            run = []
            previous = line
    return tuple(" ".join(b.split()) for b in best) if len(best) >= 2 else ()


def parse_page(record: dict[str, Any]) -> ParsedPage:
    """A page's remiss: ValueError (Swedish) when it has no address or title."""
    url = str(record.get("url") or "").strip()
    title = " ".join(str(record.get("title") or "").split())
    text = str(record.get("text") or "")
    if not url.startswith(("http://", "https://")):
        raise ValueError("ingen webbadress (url)")
    if not title:
        raise ValueError("ingen titel")
    # 395 of the pages' titles end in "…Diarienummer: KN2023/00151, M2021/01082", glued on.
    tail = _TITLE_DIARY.search(title)
    if tail:
        title, text = title[: tail.start()].rstrip(" ,.:;") or title, f"{text}\n{tail[0]}"
    dn = _DIARIENUMMER.search(text)
    return ParsedPage(
        url=url[:1000],
        title=_TITLE_PREFIX.sub("", title)[:1000] or title[:1000],
        document=_document(title, text),
        ministry=_ministry(text),
        deadline=_deadline(text),
        diarienummer=(dn[1] + dn[2])[:100] if dn else "",
        bodies=_bodies(text),
    )


@dataclass
class PageImport:
    """What an import of remiss pages did."""

    file: str
    read: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    unparsed: list[tuple[int, str]] = field(default_factory=list)  # (line, why)
    with_document: int = 0
    with_reference: int = 0  # SOU, Ds or a bill
    with_ministry: int = 0
    with_deadline: int = 0
    with_diarienummer: int = 0
    with_bodies: int = 0
    bodies_matched: int = 0
    bodies_unmatched: int = 0
    seconds: float = 0.0


def _lines(path: Path) -> Iterator[tuple[int, Any]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if raw.strip():
                try:
                    yield number, orjson.loads(raw)
                except orjson.JSONDecodeError as exc:
                    yield number, exc


def import_remiss_pages(
    bank: BankBase, path: Path, *, actor: UserRecord | None = None
) -> PageImport:
    """Read g0vse's remiss pages (JSON Lines: path, url, year, month, title, text) into
    remisser, one per page and keyed by its url: a re-import updates what the page says
    (document, title, ministry, deadline, diarienummer, bodies) and leaves the rest (owner,
    proposals, responses). ``actor`` None is the command line; else an admin."""
    if not path.is_file():
        raise NotFoundError(f"Filen {path} finns inte.", hint="Ange sökvägen till en JSONL-fil.")
    started = time.perf_counter()
    report = PageImport(file=path.name)
    with bank.transaction() as session:
        user = bank._actor(session, actor)
        if actor is not None and (user is None or user.role != "admin"):
            raise PermissionDeniedError("Bara en administratör får läsa in remissidor.")
        matcher = BodyMatcher(session.scalars(select(Organisation)))
        existing = {
            r.url: r
            for r in session.scalars(
                select(Remiss).where(Remiss.url.is_not(None)).options(selectinload(Remiss.bodies))
            )
        }
        now, by = utcnow(), (user.id if user else None)
        for number, record in _lines(path):
            report.read += 1
            if isinstance(record, Exception) or not isinstance(record, dict):
                report.unparsed.append((number, "inte ett JSON-objekt"))
                continue
            try:
                page = parse_page(record)
            except ValueError as exc:
                report.unparsed.append((number, str(exc)))
                continue
            report.with_document += bool(page.document)
            report.with_reference += bool(_REFERENCE.search(page.document))
            report.with_ministry += bool(page.ministry)
            report.with_deadline += page.deadline is not None
            report.with_diarienummer += bool(page.diarienummer)
            report.with_bodies += bool(page.bodies)
            bodies = []
            for position, name in enumerate(page.bodies):
                org, kind = matcher.match(name)
                report.bodies_matched += org is not None
                report.bodies_unmatched += org is None
                bodies.append((position, name[:500], org.id if org else None, kind))
            values = {
                "document": page.document,
                "title": page.title,
                "ministry": page.ministry,
                "diarienummer": page.diarienummer,
                "deadline": page.deadline.isoformat() if page.deadline else None,
            }
            remiss = existing.get(page.url)
            if remiss is None:
                remiss = Remiss(
                    url=page.url,
                    source="g0vse",
                    created_at=now,
                    created_by=by,
                    updated_at=now,
                    updated_by=by,
                    version=1,
                    **values,
                )
                remiss.bodies = [
                    RemissBody(position=p, name=n, organisation_id=o, kind=k)
                    for p, n, o, k in bodies
                ]
                session.add(remiss)
                existing[page.url] = remiss
                report.created += 1
                continue
            old = [(b.position, b.name, b.organisation_id, b.kind) for b in remiss.bodies]
            if all(getattr(remiss, k) == v for k, v in values.items()) and old == bodies:
                report.unchanged += 1
                continue
            for key, value in values.items():
                setattr(remiss, key, value)
            if old != bodies:
                remiss.bodies.clear()
                session.flush()
                remiss.bodies.extend(
                    RemissBody(position=p, name=n, organisation_id=o, kind=k)
                    for p, n, o, k in bodies
                )
            remiss.version += 1
            remiss.updated_at, remiss.updated_by = now, by
            report.updated += 1
        report.seconds = round(time.perf_counter() - started, 3)
        bank._audit(
            session,
            user,
            "remiss.import_pages",
            "remiss",
            None,
            file=path.name,
            read=report.read,
            created=report.created,
            updated=report.updated,
            unparsed=len(report.unparsed),
        )
    return report
