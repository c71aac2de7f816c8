"""Bulk import of texts from JSON Lines files into the bank, published.

Every text keeps its kind (a project description, a press release, another imported text;
only texts imported as ``kind="example"`` count as good examples) and its source: who
published it and a link to it (a record's ``url`` field, a link derived from its id, or the
publisher's page). The source's own category (a ``operating_area`` in the map) is kept as
``source_area``; the operating area is the Kolada area the table in ``_areas`` maps it to,
or none.

A ``--map`` spec names the source field of each example field
(``title=Projektnamn,summary=Projektbeskrivning,organisation=Stödmottagare``). Text damaged
by UTF-8 read as Latin-1 or Windows-1252 ("SkÃ¥ne") is repaired where it decodes cleanly and
counted; what cannot be repaired (leftover "Ã", the "¿" placeholders where the source lost
quotes and dashes) is kept as it is and reported per file with the record ids, never silently.
Rows are written with one executemany insert and indexed for search in one batch.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import insert, select, text
from sqlalchemy.engine import Connection

from tillit.bank._areas import kolada_area
from tillit.bank._models import EXAMPLE_KINDS, KIND_LABELS, AuditEntry, Example, Organisation
from tillit.bank._query import fold
from tillit.bank._search import index_examples
from tillit.errors import InvalidInputError, NotFoundError

__all__ = [
    "FIELDS",
    "KNOWN_MAPS",
    "ImportReport",
    "import_jsonl",
    "map_for",
    "parse_map",
    "repair_text",
]

#: Example fields a map may fill. ``organisation`` is a name matched against the bank's
#: organisations, ``municipalities`` a comma list of municipality names (used when the
#: organisation does not match), ``id`` the record's id in ``source``, ``url`` a link to the
#: record where it was published.
FIELDS = (
    "title",
    "summary",
    "problem",
    "what_was_done",
    "results",
    "operating_area",
    "period_start",
    "period_end",
    "organisation",
    "municipalities",
    "id",
    "url",
)
#: Maps for the corpus in ../shared/data/good_practices_text, by file-name prefix.
KNOWN_MAPS = {
    "tillvaxtverket_projektbanken": (
        "id=Ärende-ID,title=Projektnamn,summary=Projektbeskrivning,organisation=Stödmottagare,"
        "municipalities=Kommun fördelning|Kommuner,operating_area=Insatsområde,"
        "period_start=Projekt Starttid,period_end=Projekt Sluttid"
    ),
    "g0vse_pressmeddelanden": (
        "id=path,url=url,title=title,summary=text,period_start=year,period_end=year"
    ),
}


@dataclass(frozen=True)
class KnownSource:
    """Who published a corpus file's texts and what they are. ``link`` is a record's own
    page from its id (None: the publisher's ``url`` is the link)."""

    kind: str  # one of EXAMPLE_KINDS
    name: str
    url: str | None = None
    link: Callable[[str], str | None] | None = None


def _press_release_link(record_id: str) -> str | None:
    """``pressmeddelanden/2014/10/x.md`` -> its page on regeringen.se (as in PROVENANCE.md)."""
    if not record_id.startswith("pressmeddelanden/") or not record_id.endswith(".md"):
        return None
    return f"https://www.regeringen.se/{record_id.removesuffix('.md')}/"


#: The shared corpus's publishers, by file-name prefix (see its PROVENANCE.md).
KNOWN_SOURCES = {
    "tillvaxtverket_projektbanken": KnownSource(
        kind="project",
        name="Tillväxtverkets projektbank (Europeiska regionala utvecklingsfonden)",
        url="https://projektbank.tillvaxtverket.se/",
    ),
    "g0vse_pressmeddelanden": KnownSource(
        kind="press_release",
        name="Regeringskansliet, pressmeddelande på regeringen.se",
        url="https://www.regeringen.se/pressmeddelanden/",
        link=_press_release_link,
    ),
}


@dataclass(frozen=True)
class Origin:
    """What an imported text is and where it came from, and its Kolada operating area."""

    kind: str
    source_name: str | None
    source_url: str | None
    source_area: str | None
    operating_area: str | None


_IMPORT_KEY = re.compile(r"^([^#/\\]+)#(.+)$", re.DOTALL)


def known_source(file_name: str) -> KnownSource | None:
    for prefix, known in KNOWN_SOURCES.items():
        if file_name.startswith(prefix):
            return known
    return None


def origin_of(source: str, area: str | None) -> Origin:
    """The origin of a stored row from its ``source`` and the area stored with it, for rows
    written before the bank kept kinds and sources (migration 0007). An import's
    ``source`` is ``file#record id``; anything else was typed by a user for a good example
    (a link, or a name), whose operating area stays as it is."""
    match = _IMPORT_KEY.match(source)
    if match is None:
        is_link = source.startswith(("https://", "http://"))
        return Origin(
            kind="example",
            source_name=None if is_link else source[:200],
            source_url=source[:1000] if is_link else None,
            source_area=None,
            operating_area=area,
        )
    file_name, record_id = match[1], match[2]
    known = known_source(file_name)
    link = known.link(record_id) if known and known.link else None
    return Origin(
        kind=known.kind if known else "text",
        source_name=known.name if known else file_name[:200],
        source_url=link or (known.url if known else None),
        source_area=area,
        operating_area=kolada_area(area),
    )


OTHER_ORGANISATION = "Övriga (importerade texter)"
_TITLE_MAX = 300


def parse_map(spec: str) -> dict[str, list[str]]:
    """``"title=Projektnamn,municipalities=Kommun fördelning|Kommuner"`` -> example field ->
    source fields to try in order."""
    mapping: dict[str, list[str]] = {}
    for part in spec.split(","):
        if not part.strip():
            continue
        target, sep, source = part.partition("=")
        target = target.strip()
        sources = [s.strip() for s in source.split("|") if s.strip()]
        if not sep or not sources or target not in FIELDS:
            raise InvalidInputError(
                f"Kan inte tolka {part.strip()!r} i --map.",
                hint="Skriv fält=källfält, t.ex. title=Projektnamn,summary=Projektbeskrivning; "
                f"fälten är {', '.join(FIELDS)}.",
            )
        mapping[target] = sources
    if "title" not in mapping:
        raise InvalidInputError(
            "--map måste ange title.", hint="Lägg till t.ex. title=Projektnamn."
        )
    return mapping


def map_for(path: Path) -> str:
    """The known map of a corpus file, by its name."""
    for prefix, spec in KNOWN_MAPS.items():
        if path.name.startswith(prefix):
            return spec
    raise InvalidInputError(
        f"Ingen känd fältmappning för {path.name}.",
        hint="Ange --map, t.ex. --map title=rubrik,summary=text.",
    )


# Runs of characters that UTF-8 bytes become when read as Latin-1 / Windows-1252: a lead
# byte (U+00C2–U+00F4) and continuation bytes (U+0080–U+00BF or their cp1252 glyphs).
_CP1252_CONT = "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"
_CONT = f"[\u0080-\u00bf{_CP1252_CONT}]"
_MOJIBAKE = re.compile(
    f"[\u00c2-\u00df]{_CONT}|[\u00e0-\u00ef]{_CONT}{{2}}|[\u00f0-\u00f4]{_CONT}{{3}}"
)


def _decode(run: str) -> str | None:
    for codec in ("latin-1", "cp1252"):
        try:
            fixed = run.encode(codec).decode("utf-8")
        except UnicodeError:
            continue
        # A plausible character: Latin letters, or punctuation and currency ("–", "€").
        # "å" + two no-break spaces also decodes (to "堠"); that is not damage.
        if len(fixed) == 1 and (ord(fixed) < 0x250 or 0x2000 <= ord(fixed) < 0x20D0):
            return fixed
    return None


def repair_text(value: str) -> tuple[str, int]:
    """Undo UTF-8-read-as-Latin-1 damage ("SkÃ¥ne" -> "Skåne") wherever a run decodes to one
    character; returns the text and how many runs were repaired."""
    if not any("\u00c2" <= c <= "\u00f4" for c in value):
        return value, 0
    repaired = 0

    def fix(match: re.Match[str]) -> str:
        nonlocal repaired
        fixed = _decode(match[0])
        if fixed is None:
            return match[0]
        repaired += 1
        return fixed

    return _MOJIBAKE.sub(fix, value), repaired


@dataclass
class ImportReport:
    """What an import did. ``repaired`` counts records with mended encoding; ``damaged``
    lists (record id, what) for text kept as it was but flagged."""

    file: str
    kind: str = "text"  # what the texts were imported as (EXAMPLE_KINDS)
    mapped_areas: int = 0  # texts whose source category maps to a Kolada operating area
    unmapped_areas: int = 0  # texts with a source category that maps to none
    read: int = 0
    imported: int = 0
    skipped_existing: int = 0
    skipped_empty: int = 0
    repaired: int = 0
    repaired_runs: int = 0
    damaged: list[tuple[str, str]] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def reported(self) -> int:
        return len(self.damaged)


def _records(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                continue
            try:
                record = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise InvalidInputError(
                    f"{path.name} rad {number} är inte JSON: {exc}.",
                    hint="Filen ska ha ett JSON-objekt per rad (JSON Lines).",
                ) from None
            if isinstance(record, dict):
                yield number, record


def _value(record: dict[str, Any], sources: list[str] | None) -> Any:
    for source in sources or []:
        value = record.get(source)
        if value not in (None, ""):
            return value
    return None


_YEAR = re.compile(r"(1[89]\d\d|2[01]\d\d)")


def _year(value: Any) -> int | None:
    if isinstance(value, int) and 1800 <= value <= 2199:
        return value
    match = _YEAR.search(str(value)) if value is not None else None
    return int(match[1]) if match else None


def _strip_heading(body: str, title: str) -> str:
    """Markdown texts repeat their title as a first ``# heading``."""
    first, _, rest = body.partition("\n")
    if first.startswith("#") and first.lstrip("#").strip() == title.strip():
        return rest.strip()
    return body


class _Organisations:
    """Names of the bank's organisations, folded, for matching "Arjeplogs kommun" or
    "Region Skåne" in a source field."""

    def __init__(self, conn: Connection) -> None:
        rows = conn.execute(select(Organisation.id, Organisation.name, Organisation.kind)).all()
        self.by_name: dict[str, int] = {}
        for org_id, name, kind in rows:
            key = fold(name)
            self.by_name.setdefault(key, org_id)
            if kind == "kommun":
                for suffix in (" kommun", "s kommun", " stad", "s stad"):
                    self.by_name.setdefault(key + suffix, org_id)

    def match(self, name: str | None) -> int | None:
        return self.by_name.get(fold(name.strip())) if name else None


def _other_organisation(conn: Connection) -> int:
    found = conn.execute(
        select(Organisation.id).where(
            Organisation.name == OTHER_ORGANISATION, Organisation.kind == "other"
        )
    ).scalar()
    if found is not None:
        return int(found)
    return int(
        conn.execute(
            insert(Organisation)
            .values(name=OTHER_ORGANISATION, kind="other", created_at=datetime.now(UTC))
            .returning(Organisation.id)
        ).scalar_one()
    )


def import_jsonl(
    conn: Connection,
    path: Path,
    spec: str | None = None,
    *,
    organisation: str | None = None,
    limit: int | None = None,
    on_progress: Callable[[int, int], None] | None = None,
    kind: str | None = None,
    source_name: str | None = None,
    source_url: str | None = None,
) -> ImportReport:
    """Import ``path`` (JSON Lines) as published examples, in the caller's transaction.
    ``spec`` is the field map (the known one for the shared corpus when ``None``);
    ``organisation`` (a code or a name) puts every example there, otherwise an example goes
    to the organisation its ``organisation`` field names, else to the one municipality its
    ``municipalities`` field names, else to "Övriga (importerade texter)". Records already
    imported (same ``source``) are skipped. ``limit`` reads only the first records;
    ``on_progress(done, total)`` is called as records are read. ``kind`` (one of
    EXAMPLE_KINDS), ``source_name`` and ``source_url`` (the publisher's page, for records
    without a link of their own) default to the known source's for the shared corpus, else
    to "text", the file's name and none."""
    import time

    start = time.perf_counter()
    if not path.is_file():
        raise NotFoundError(f"Filen {path} finns inte.")
    mapping = parse_map(spec or map_for(path))
    known = known_source(path.name)
    kind = kind or (known.kind if known else "text")
    if kind not in EXAMPLE_KINDS:
        raise InvalidInputError(
            f"{kind!r} är inget känt slag av text.",
            hint="Välj bland: " + ", ".join(f"{k} ({KIND_LABELS[k]})" for k in EXAMPLE_KINDS) + ".",
        )
    if source_url and not source_url.startswith(("https://", "http://")):
        raise InvalidInputError(
            f"{source_url!r} är ingen webbadress.", hint="Börja källans adress med https://."
        )
    publisher = (source_name or (known.name if known else path.name)).strip()[:200]
    home = source_url or (known.url if known else None)
    link_of = known.link if known and not source_url else None
    report = ImportReport(file=path.name, kind=kind)
    orgs = _Organisations(conn)
    fixed_org: int | None = None
    if organisation:
        fixed_org = conn.execute(
            select(Organisation.id).where(Organisation.code == organisation)
        ).scalar() or orgs.match(organisation)
        if fixed_org is None:
            raise NotFoundError(
                f"Organisationen {organisation!r} finns inte i banken.",
                hint="Ange en organisations kod (t.ex. 1384) eller namn.",
            )
    other: int | None = None
    prefix = f"{path.name}#"
    existing = set(
        conn.execute(
            text("SELECT source FROM examples WHERE source LIKE :p"), {"p": prefix + "%"}
        ).scalars()
    )
    total = 0
    if on_progress:
        with path.open("rb") as handle:
            total = sum(1 for _ in handle)
    if limit is not None:
        total = min(total, limit)
    now = datetime.now(UTC)
    rows: list[dict[str, Any]] = []
    for number, record in _records(path):
        if limit is not None and report.read >= limit:
            break
        report.read += 1
        if on_progress and report.read % 500 == 0:
            on_progress(report.read, total)
        record_id = str(_value(record, mapping.get("id")) or number)
        source = f"{prefix}{record_id}"
        if source in existing:
            report.skipped_existing += 1
            continue
        existing.add(source)
        values: dict[str, str] = {}
        runs = 0
        for name in ("title", "summary", "problem", "what_was_done", "results", "operating_area"):
            value = _value(record, mapping.get(name))
            fixed, n = repair_text(str(value).strip()) if value is not None else ("", 0)
            values[name] = fixed
            runs += n
        if not values["title"]:
            report.skipped_empty += 1
            continue
        values["summary"] = _strip_heading(values["summary"], values["title"])
        if runs:
            report.repaired += 1
            report.repaired_runs += runs
        damage = [
            what
            for what, mark in (("¿", "¿"), ("Ã", "Ã"))
            if any(mark in v for v in values.values())
        ]
        if damage:
            report.damaged.append((record_id, " ".join(damage)))
        org_id = fixed_org or orgs.match(_text(record, mapping.get("organisation")))
        if org_id is None:
            names = [n for n in _text(record, mapping.get("municipalities")).split(",") if n]
            matched = {orgs.match(n) for n in names} - {None}
            org_id = matched.pop() if len(matched) == 1 else None
        if org_id is None:
            other = other or _other_organisation(conn)
            org_id = other
        title = values["title"]
        link = _text(record, mapping.get("url")).strip()
        if not link.startswith(("https://", "http://")):
            link = (link_of(record_id) if link_of else None) or home or ""
        category = values["operating_area"][:200] or None
        area = kolada_area(category)
        if area:
            report.mapped_areas += 1
        elif category:
            report.unmapped_areas += 1
        rows.append(
            {
                "organisation_id": org_id,
                "title": title if len(title) <= _TITLE_MAX else title[: _TITLE_MAX - 1] + "…",
                "summary": values["summary"],
                "problem": values["problem"],
                "what_was_done": values["what_was_done"],
                "results": values["results"],
                "operating_area": area,
                "source_area": category,
                "kind": kind,
                "source_name": publisher or None,
                "source_url": link[:1000] or None,
                "period_start": _year(_value(record, mapping.get("period_start"))),
                "period_end": _year(_value(record, mapping.get("period_end"))),
                "contact_role": "",
                "status": "published",
                "source": source[:500],
                "version": 1,
                "created_at": now,
                "updated_at": now,
            }
        )
    ids: list[int] = []
    if rows:
        result = conn.execute(
            insert(Example).returning(Example.id, sort_by_parameter_order=True), rows
        )
        ids = [int(r[0]) for r in result]
        index_examples(conn, ids)
        # Fresh planner statistics: without them PostgreSQL may pick the status index over
        # the GIN index and scan every example (30 ms instead of 1 ms).
        if conn.dialect.name == "postgresql":
            conn.execute(text("ANALYZE examples"))
        else:
            conn.execute(text("INSERT INTO example_search(example_search) VALUES ('optimize')"))
    report.imported = len(ids)
    conn.execute(
        insert(AuditEntry).values(
            at=now,
            action="example.import",
            entity="example",
            entity_id=None,
            details={
                "file": path.name,
                "imported": report.imported,
                "repaired": report.repaired,
                "reported": report.reported,
            },
        )
    )
    if on_progress:
        on_progress(report.read, max(total, report.read))
    report.seconds = time.perf_counter() - start
    return report


def _text(record: dict[str, Any], sources: list[str] | None) -> str:
    value = _value(record, sources)
    return repair_text(str(value))[0] if value is not None else ""
