"""Consultations (remisser): read a response into the bank with its stances per proposal,
and compile the stances of every response proposal by proposal (a remissammanställning).

``read_response`` takes a file (PDF, DOCX, Markdown, text, HTML), extracts its text
(``tillit.sources.documents``), finds the respondent and matches it to an organisation,
finds the stances per proposal (``tillit.analyses.extract_stances``), and saves the response
with them. ``compile_remiss`` builds one :class:`Compilation` — proposals × respondents, a
stance per cell with its quote and page, the counts per proposal, who was consulted and did
not answer — which the command line, the page, its JSON twin and the documents all render."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tillit.errors import InvalidInputError
from tillit.query._tables import Column, ReportTable, table

if TYPE_CHECKING:
    from tillit.bank import Bank, UserRecord
    from tillit.bank._remiss_records import RemissRecord, ResponseRecord, StanceRecord

__all__ = [
    "ANSWER_LABELS",
    "Cell",
    "Compilation",
    "PreparedResponse",
    "Respondent",
    "compilation_data",
    "compilation_tables",
    "compile_remiss",
    "parse_proposals",
    "prepare_response",
    "read_response",
    "response_inputs",
    "save_response",
]

#: A stance in words and as a symbol (never colour alone), in the compilation's order.
ANSWER_LABELS: dict[str, tuple[str, str]] = {
    "tillstyrker": ("Tillstyrker", "+"),
    "delvis": ("Tillstyrker delvis", "±"),
    "avstyrker": ("Avstyrker", "−"),
    "inga_synpunkter": ("Inga synpunkter", "0"),
    "ej_besvarat": ("Ej besvarat", "·"),
}

#: "7.1 En nationell konsultationsordning", "7.1. Titel", "Avsnitt 7.1 – Titel", "7 Titel".
_PROPOSAL_LINE = re.compile(
    r"^\s*(?:avsnitt\s+|kapitel\s+|§\s*)?(\d+(?:\.\d+)*)\.?\s*[–—:-]?\s+(\S.*?)\s*$", re.IGNORECASE
)

#: The kinds of respondent the compilation filters by.
KINDS = ("kommun", "region", "myndighet", "organisation")


def parse_proposals(text: str) -> list[tuple[str, str]]:
    """Proposals from pasted text or CSV: one per line, "7.1 Heading" (section number then
    heading) or "7.1,Heading" / "7.1;Heading" (a CSV with two columns, a header row
    allowed). Numbers must be unique."""
    rows: list[tuple[str, str]] = []
    lines = [line for line in text.splitlines() if line.strip()]
    if (
        lines
        and any(sep in lines[0] for sep in (",", ";", "\t"))
        and not _PROPOSAL_LINE.match(lines[0].replace(",", " ", 1))
    ):
        lines = lines[1:]  # a CSV header ("avsnitt,rubrik")
    for n, line in enumerate(lines, start=1):
        cells = next(csv.reader(io.StringIO(line), delimiter=_delimiter(line)))
        if len(cells) >= 2 and re.fullmatch(r"\s*\d+(?:\.\d+)*\.?\s*", cells[0]):
            key, heading = cells[0].strip().rstrip("."), ",".join(cells[1:]).strip()
        else:
            match = _PROPOSAL_LINE.match(line)
            if not match:
                raise InvalidInputError(
                    f"Rad {n} är inget förslag: {line.strip()!r}.",
                    hint="Skriv ett förslag per rad: avsnittsnummer och rubrik, t.ex. "
                    '"7.1 En nationell konsultationsordning".',
                )
            key, heading = match[1], match[2]
        rows.append((key, heading))
    seen = Counter(key for key, _ in rows)
    twice = sorted(k for k, n in seen.items() if n > 1)
    if twice:
        raise InvalidInputError(
            f"Avsnitt {', '.join(twice)} står mer än en gång.",
            hint="Varje förslag har ett eget avsnittsnummer.",
        )
    if not rows:
        raise InvalidInputError(
            "Inga förslag angavs.", hint='T.ex. "7.1 En nationell konsultationsordning".'
        )
    return rows


def _delimiter(line: str) -> str:
    for sep in ("\t", ";", ","):
        if sep in line:
            return sep
    return ","


@dataclass(frozen=True)
class PreparedResponse:
    """A response read and understood, not yet saved: what :func:`prepare_response` gives
    (in any process: it needs neither the bank nor the store) and :func:`save_response`
    stores."""

    file_name: str
    respondent_name: str
    organisation: str | None  # the matched organisation's key (organisation_key), or None
    fields: dict[str, Any]
    stances: list[tuple[str | None, str, str, int, int, int | None, str]]


def prepare_response(
    source: Path | bytes,
    filename: str,
    proposals: Sequence[tuple[str, str]],
    organisations: Sequence[tuple[str, str]],
    *,
    respondent: tuple[str, str] | None = None,
) -> PreparedResponse:
    """Extract a response's text, find who answered (``respondent``, (code, name), overrides
    it) among ``organisations`` ((code, name)) and its stances on ``proposals`` ((key,
    heading)). A PDF without a text layer is refused with what to do."""
    from tillit.analyses import Proposal, extract_stances, find_respondent
    from tillit.sources.documents import extract_text

    extracted = extract_text(source, filename=filename)
    if extracted.needs_ocr and not extracted.text.strip():
        raise InvalidInputError(
            f"{filename} har inget textlager (en inskannad PDF): texten kan inte läsas.",
            hint="Kör OCR först, t.ex. `ocrmypdf -l swe FIL.pdf UT.pdf`, och läs in UT.pdf.",
        )
    code: str | None
    if respondent is not None:
        code, who = respondent
    else:
        found = find_respondent(extracted.text, organisations)
        # A matched respondent goes by its organisation's name ("Varberg", not the
        # "Varbergs" of "Varbergs kommuns yttrande"); an unmatched one as written.
        code, who = found.code, dict(organisations).get(found.code or "", found.name)
    stances = extract_stances(
        extracted.text, [Proposal(k, h) for k, h in proposals], respondent=who
    )
    return PreparedResponse(
        file_name=filename,
        respondent_name=who,
        organisation=code,
        fields={
            "respondent_name": who,
            "organisation": code,
            "file_name": filename,
            "format": extracted.format,
            "text": extracted.text,
            "pages": [list(p) for p in extracted.pages],
            "needs_ocr": extracted.needs_ocr,
        },
        stances=[
            (s.proposal, s.stance, s.quote, s.start, s.end, extracted.page_of(s.start), s.basis)
            for s in stances
        ],
    )


def organisation_key(code: str | None, organisation_id: int | None) -> str:
    """How the respondent matcher names an organisation: its Kolada code ("1480"), or "#"
    and its bank id ("#312") for one added by hand without a code. Never the bare id: the
    matcher reads a number as a municipality's Kolada code, whose bare name ("Lund") is
    not taken from a longer line ("Anna Lund"), and "För Cykelfrämjandet" would then not
    name the association "Cykelfrämjandet". The bank finds an organisation by either."""
    return str(code) if code else f"#{organisation_id}"


def response_inputs(
    bank: Bank, actor: UserRecord | None, remiss: int | str, respondent: str | None = None
) -> tuple[RemissRecord, list[tuple[str, str]], list[tuple[str, str]], tuple[str, str] | None]:
    """What :func:`prepare_response` needs from the bank: the remiss, its proposals, the
    organisations to match respondents against, and the override (``respondent``: an
    organisation's code or name) as (code, name)."""
    from tillit.bank import remisser_of

    record = remisser_of(bank).find_remiss(actor, str(remiss))
    organisations = [(organisation_key(o.code, o.id), o.name) for o in bank.organisations()]
    override = None
    if respondent:
        org = bank.organisation(respondent)
        override = (organisation_key(org.code, org.id), org.name)
    return record, [(p.key, p.heading) for p in record.proposals], organisations, override


def save_response(
    bank: Bank, actor: UserRecord | None, remiss_id: int, prepared: PreparedResponse
) -> ResponseRecord:
    """Store a prepared response with its stances. The same text from the same respondent
    read again is refused (it would count twice): its stances are reviewed instead, or the
    response removed first."""
    from tillit.bank import remisser_of

    remisser = remisser_of(bank)
    for earlier in remisser.responses(actor, remiss_id):
        earlier_body = (
            organisation_key(earlier.organisation_code, earlier.organisation_id)
            if earlier.organisation_code or earlier.organisation_id is not None
            else None
        )
        same_body = earlier_body == (prepared.organisation or None)
        if earlier.text == prepared.fields["text"] and same_body:
            raise InvalidInputError(
                f"{prepared.file_name} är redan inläst som svar {earlier.id} "
                f"({earlier.respondent_name or earlier.file_name}).",
                hint=f"Granska dess ståndpunkter med `tillit remiss granska {earlier.id}` "
                "eller på sidan för svaret.",
            )
    return remisser.add_response(actor, remiss_id, prepared.fields, prepared.stances)


def read_response(
    bank: Bank,
    actor: UserRecord | None,
    remiss: int | str,
    source: Path | bytes,
    *,
    filename: str | None = None,
    respondent: str | None = None,
) -> ResponseRecord:
    """Read one response into the bank: its text, respondent (``respondent`` overrides
    what the document says: an organisation's code or name) and stances per proposal."""
    record, proposals, organisations, override = response_inputs(bank, actor, remiss, respondent)
    name = filename or (source.name if isinstance(source, Path) else "svar")
    prepared = prepare_response(source, name, proposals, organisations, respondent=override)
    return save_response(bank, actor, record.id, prepared)


@dataclass(frozen=True)
class Respondent:
    response_id: int
    name: str
    code: str | None
    kind: str
    file_name: str


@dataclass(frozen=True)
class Cell:
    """A respondent's answer on a proposal: the stance (or "ej_besvarat"), and where it
    comes from."""

    stance: str
    quote: str | None = None
    page: int | None = None
    confirmed: bool = False
    stance_id: int | None = None
    basis: str | None = None


@dataclass(frozen=True)
class Compilation:
    remiss: RemissRecord
    respondents: tuple[Respondent, ...]
    #: (proposal key, respondent index) → the cell; every pair is present.
    cells: dict[tuple[str, int], Cell]
    #: Stances on the whole remiss (no proposal), per respondent index.
    general: dict[int, tuple[Cell, ...]]
    #: Consulted bodies (remissinstanser) with no response.
    not_answered: tuple[str, ...]
    kinds: tuple[str, ...]  # the filter applied (empty: all)

    def counts(self, key: str) -> Counter[str]:
        return Counter(self.cells[(key, i)].stance for i in range(len(self.respondents)))


def _kind_of(code: str | None, name: str) -> str:
    if code and re.fullmatch(r"\d{4}", code):
        return "region" if code.startswith("00") else "kommun"
    lowered = name.lower()
    if "region" in lowered and "kommun" not in lowered:
        return "region"
    if "kommun" in lowered:
        return "kommun"
    if any(w in lowered for w in ("verket", "myndighet", "inspektion", "styrelse", "kontoret")):
        return "myndighet"
    return "organisation"


def compile_remiss(
    bank: Bank,
    remiss: int | str,
    *,
    kinds: Sequence[str] = (),
    actor: UserRecord | None = None,
) -> Compilation:
    """Every response's stances proposal by proposal. A reviewer's (confirmed or added)
    stance is shown over an extracted one (the extraction has already given an "i övrigt"
    to each proposal the response did not answer otherwise). ``kinds`` keeps respondents
    of those kinds only (kommun, region, myndighet, organisation)."""
    from tillit.bank import remisser_of

    unknown = [k for k in kinds if k not in KINDS]
    if unknown:
        raise InvalidInputError(
            f"Okänd sorts remissinstans: {', '.join(unknown)}.",
            hint=f"Välj bland {', '.join(KINDS)}.",
        )
    remisser = remisser_of(bank)
    record = remisser.find_remiss(actor, str(remiss))
    responses = remisser.responses(actor, record.id)
    kind_of_body = {b.organisation_code: b.kind for b in record.bodies if b.organisation_code}
    respondents: list[Respondent] = []
    chosen: list[ResponseRecord] = []
    for r in responses:
        kind = kind_of_body.get(r.organisation_code or "") or _kind_of(
            r.organisation_code, r.respondent_name
        )
        if kinds and kind not in kinds:
            continue
        respondents.append(
            Respondent(r.id, r.respondent_name, r.organisation_code, kind, r.file_name)
        )
        chosen.append(r)
    keys = [p.key for p in record.proposals]
    cells: dict[tuple[str, int], Cell] = {}
    general: dict[int, tuple[Cell, ...]] = {}
    for i, r in enumerate(chosen):
        by_key: dict[str, list[StanceRecord]] = {}
        whole: list[Cell] = []
        for s in sorted(r.stances, key=_precedence):
            if s.proposal_key is None:
                whole.append(_cell(s))
            else:
                by_key.setdefault(s.proposal_key, []).append(s)
        for key in keys:
            found = _answer(by_key.get(key, []))
            cells[(key, i)] = _cell(found) if found is not None else Cell("ej_besvarat")
        general[i] = tuple(whole)
    answered = {r.organisation_code for r in chosen if r.organisation_code}
    answered_names = {r.respondent_name.lower() for r in chosen}
    not_answered = tuple(
        b.name
        for b in record.bodies
        if not (b.organisation_code and b.organisation_code in answered)
        and b.name.lower() not in answered_names
        and (not kinds or b.kind in kinds)
    )
    return Compilation(record, tuple(respondents), cells, general, not_answered, tuple(kinds))


def _answer(stances: Sequence[StanceRecord]) -> StanceRecord | None:
    """One response's answer on one proposal from its stances there (in :func:`_precedence`
    order): a reviewer's or a confirmed stance as it is; else, of the extracted, a "delvis"
    beside a support or an opposition ("delar bedömningen att tillsynen behöver skärpas …
    tillstyrker förslaget med denna justering": support with a change is partial support),
    with its own quote; else the one stance the response gives as its conclusion ("Kommunen
    välkomnar att staten tillför resurser … Luleå kommun avstyrker därför förslaget"); else
    the first stated; "inga synpunkter" only where nothing else was said. Support and
    opposition are never merged into a "delvis" no sentence says: a contradiction left is
    the reviewer's to resolve (the response's page lists every stance)."""
    if not stances:
        return None
    if stances[0].source == "reviewer" or stances[0].confirmed:
        return stances[0]
    said = [s for s in stances if s.stance != "inga_synpunkter"] or list(stances)
    partial = next((s for s in said if s.stance == "delvis"), None)
    if partial is not None:
        return partial
    concluding = [s for s in said if _CONCLUDING.search(s.quote) and _ON_PROPOSAL.search(s.quote)]
    if len({s.stance for s in said}) > 1 and len({s.stance for s in concluding}) == 1:
        return concluding[0]
    return said[0]


# The words that mark a sentence as a response's conclusion on a proposal.
_CONCLUDING = re.compile(
    r"\b(?:därför(?! att)|sammantaget|sammanfattningsvis|således|mot (?:den|denna) bakgrunden?)\b",
    re.IGNORECASE,
)
# …on the proposal itself ("avstyrker därför förslaget"), not on something put in its place
# ("ställer sig därför bakom att Skolverket följer upp …").
_ON_PROPOSAL = re.compile(r"\bförslage[tn]\b", re.IGNORECASE)


def _precedence(s: StanceRecord) -> tuple[int, int]:
    """A reviewer's stance first, then a confirmed one, then the extracted, in text order."""
    return (0 if s.source == "reviewer" else 1 if s.confirmed else 2, s.start)


def _cell(s: StanceRecord) -> Cell:
    return Cell(s.stance, s.quote, s.page, s.confirmed, s.id, s.basis)


def compilation_data(c: Compilation) -> dict[str, Any]:
    """The compilation as JSON: the remiss, its proposals with their counts, one object per
    stance ({respondent, organisation_code, section, proposal, stance, quote, file, page,
    confirmed}), the stances on the whole remiss, and who did not answer."""
    r = c.remiss
    stances = []
    for p in r.proposals:
        for i, who in enumerate(c.respondents):
            cell = c.cells[(p.key, i)]
            if cell.stance == "ej_besvarat":
                continue
            stances.append(
                {
                    "respondent": who.name,
                    "organisation_code": who.code,
                    "section": p.key,
                    "proposal": p.heading,
                    "stance": cell.stance,
                    "quote": cell.quote,
                    "file": who.file_name,
                    "page": cell.page,
                    "confirmed": cell.confirmed,
                }
            )
    return {
        "remiss": {
            "id": r.id,
            "document": r.document,
            "title": r.title,
            "ministry": r.ministry,
            "diarienummer": r.diarienummer,
            "deadline": r.deadline.isoformat() if r.deadline else None,
        },
        "kinds": list(c.kinds),
        "respondents": [
            {"name": w.name, "organisation_code": w.code, "kind": w.kind, "file": w.file_name}
            for w in c.respondents
        ],
        "proposals": [
            {"section": p.key, "proposal": p.heading, "counts": _counts(c, p.key)}
            for p in r.proposals
        ],
        "stances": stances,
        # stances on the whole remiss, with the same fields (no section or proposal)
        "general": [
            {
                "respondent": c.respondents[i].name,
                "organisation_code": c.respondents[i].code,
                "section": None,
                "proposal": None,
                "stance": cell.stance,
                "quote": cell.quote,
                "file": c.respondents[i].file_name,
                "page": cell.page,
                "confirmed": cell.confirmed,
            }
            for i, cells in c.general.items()
            for cell in cells
        ],
        "not_answered": list(c.not_answered),
    }


def _counts(c: Compilation, key: str) -> dict[str, int]:
    counted = c.counts(key)
    return {stance: counted.get(stance, 0) for stance in ANSWER_LABELS}


def compilation_tables(c: Compilation) -> tuple[ReportTable, ...]:
    """The compilation's tables: counts per proposal, the matrix (proposal × respondent,
    symbol and word), every stance with its quote, and who did not answer."""
    r = c.remiss
    source = f"Källa: remissvaren på {r.document or r.title}; ståndpunkter: Tillit."
    count_columns = [
        Column(stance, label, kind="number", decimals=0)
        for stance, (label, _symbol) in ANSWER_LABELS.items()
    ]
    counts = table(
        "antal",
        f"Ståndpunkter per förslag: {r.document or r.title}",
        [Column("section", "Avsnitt", kind="code"), Column("proposal", "Förslag"), *count_columns],
        [(p.key, p.heading, *_counts(c, p.key).values()) for p in r.proposals],
        source,
    )
    matrix = table(
        "matris",
        "Förslag och remissinstanser",
        [
            Column("section", "Avsnitt", kind="code"),
            Column("proposal", "Förslag"),
            *(Column(f"r{i}", who.name) for i, who in enumerate(c.respondents)),
        ],
        [
            (
                p.key,
                p.heading,
                *(_symbol(c.cells[(p.key, i)]) for i in range(len(c.respondents))),
            )
            for p in r.proposals
        ],
        source,
        note="; ".join(f"{symbol} {label.lower()}" for label, symbol in ANSWER_LABELS.values())
        + ". En ståndpunkt som en granskare har bekräftat har ✓.",
    )
    quotes = table(
        "citat",
        "Varje ståndpunkt med citat",
        [
            Column("section", "Avsnitt", kind="code"),
            Column("respondent", "Remissinstans"),
            Column("stance", "Ståndpunkt"),
            Column("quote", "Citat"),
            Column("file", "Fil"),
            Column("page", "Sida", kind="number", decimals=0),
            Column("confirmed", "Bekräftad"),
        ],
        [
            (
                s["section"],
                s["respondent"],
                ANSWER_LABELS[s["stance"]][0],
                s["quote"],
                s["file"],
                s["page"],
                "ja" if s["confirmed"] else "nej",
            )
            for s in compilation_data(c)["stances"]
        ],
        source,
    )
    missing = table(
        "ej_svarat",
        "Remissinstanser som inte har svarat",
        [Column("name", "Remissinstans")],
        [(name,) for name in c.not_answered],
        f"Källa: remissens sändlista ({r.document or r.title}).",
    )
    return (counts, matrix, quotes, missing)


def _symbol(cell: Cell) -> str:
    label, symbol = ANSWER_LABELS[cell.stance]
    return f"{symbol} {label.lower()}" + (" ✓" if cell.confirmed else "")
