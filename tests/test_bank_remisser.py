"""Remisser in the bank, on SQLite and PostgreSQL: who may do what, versions and the audit
log, proposals, responses with stances tied to exact quotes, the review (confirm, correct,
add, delete), a re-extraction that keeps what a person judged, the migration, the export
round trip, and the import of the real regeringen.se remiss pages."""

from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from tests.bank_fixtures import FAST_PASSWORDS, People
from tests.test_bank_trials import _downgrade, _tables
from tillit.bank import (
    Bank,
    Remisser,
    export_bank,
    import_bank,
    import_remiss_pages,
    open_bank,
    parse_page,
    remisser_of,
    upgrade,
)
from tillit.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError

TEXT = (
    "Göteborgs Stad har beretts tillfälle att yttra sig.\n\n"
    "7.1 En nationell konsultationsordning\n\n"
    "Göteborgs Stad tillstyrker förslaget.\n\n"
    "7.2 Tillitsdelegationens förslag om tillsyn\n\n"
    "Göteborgs Stad avstyrker förslaget om en ny tillsyn.\n\n"
    "I övrigt har staden inga synpunkter."
)
_BREAK = TEXT.index("7.2 Tillits")
PAGES = [(1, 0, _BREAK), (2, _BREAK, len(TEXT))]
PROPOSALS = [("7.1", "En nationell konsultationsordning"), ("7.2", "Tillsyn"), ("8", "Övrigt")]


def _stance(key: str | None, stance: str, quote: str, basis: str = "section") -> tuple[Any, ...]:
    start = TEXT.index(quote)
    return (key, stance, quote, start, start + len(quote), None, basis)


TILLSTYRKER = _stance("7.1", "tillstyrker", "Göteborgs Stad tillstyrker förslaget.")
AVSTYRKER = _stance("7.2", "avstyrker", "Göteborgs Stad avstyrker förslaget om en ny tillsyn.")
INGA = _stance("8", "inga_synpunkter", "I övrigt har staden inga synpunkter.", "i_ovrigt")


def _remiss(remisser: Remisser, who: Any, **changes: Any) -> Any:
    data = {
        "document": "SOU 2018:47",
        "title": "Med tillit växer handlingsutrymmet",
        "ministry": "Finansdepartementet",
        "diarienummer": "Fi2018/03290",
        "deadline": "2018-10-31",
        "proposals": PROPOSALS,
        "bodies": [
            "Göteborgs kommun",
            "Stockholms stad",
            "Region Västra Götaland",
            "Statskontoret",
        ],
    }
    return remisser.create_remiss(who, {**data, **changes})


def _response(remisser: Remisser, who: Any, remiss_id: int, stances: Any = None) -> Any:
    fields = {"respondent_name": "Göteborgs Stad", "organisation": "1480", "file_name": "svar.pdf"}
    fields |= {"format": "pdf", "text": TEXT, "pages": PAGES}
    return remisser.add_response(
        who, remiss_id, fields, [TILLSTYRKER, AVSTYRKER, INGA] if stances is None else stances
    )


def _actions(bank: Bank, admin: Any) -> list[str]:
    return [
        a.action
        for a in reversed(bank.audit_log(admin, limit=200))
        if a.action.startswith("remiss")
    ]


def test_an_editor_creates_a_remiss_for_their_organisation_and_everyone_reads_it(
    bank: Bank, people: People
) -> None:
    remisser = remisser_of(bank)
    remiss = _remiss(remisser, people.goteborg)
    assert (remiss.organisation_code, remiss.version, remiss.deadline) == (
        "1480",
        1,
        date(2018, 10, 31),
    )
    assert [(p.key, p.heading, p.position) for p in remiss.proposals] == [
        ("7.1", "En nationell konsultationsordning", 0),
        ("7.2", "Tillsyn", 1),
        ("8", "Övrigt", 2),
    ]
    bodies = [(b.name, b.organisation_code, b.kind) for b in remiss.bodies]
    assert bodies == [
        ("Göteborgs kommun", "1480", "kommun"),
        ("Stockholms stad", "0180", "kommun"),
        ("Region Västra Götaland", "0014", "region"),
        ("Statskontoret", None, "myndighet"),
    ]
    assert remisser.remiss(None, remiss.id) == remiss
    assert remisser.find_remiss(None, "sou 2018:47").id == remiss.id
    assert remisser.find_remiss(people.reader, str(remiss.id)).id == remiss.id
    assert [r.id for r in remisser.remisser(None)] == [remiss.id]
    with pytest.raises(NotFoundError):
        remisser.find_remiss(None, "SOU 2099:1")
    assert _actions(bank, people.admin) == ["remiss.create"]


def test_who_may_create_and_write_a_remiss(bank: Bank, people: People) -> None:
    remisser = remisser_of(bank)
    for who in (None, people.reader):
        with pytest.raises(PermissionDeniedError):
            _remiss(remisser, who)
    with pytest.raises(PermissionDeniedError, match="Stockholm"):
        _remiss(remisser, people.goteborg, organisation="0180")
    shared = _remiss(remisser, people.admin, url="https://www.regeringen.se/remisser/x/")
    assert shared.organisation_id is None  # an admin's remiss without an owner
    with pytest.raises(ConflictError, match="redan"):
        _remiss(remisser, people.admin, url="https://www.regeringen.se/remisser/x/")
    for who in (people.goteborg, people.reader, None):
        with pytest.raises(PermissionDeniedError):
            remisser.update_remiss(who, shared.id, 1, {"title": "Ny"})
    owned = _remiss(remisser, people.goteborg)
    with pytest.raises(PermissionDeniedError):
        remisser.update_remiss(people.stockholm, owned.id, 1, {"title": "Ny"})
    with pytest.raises(PermissionDeniedError, match="administratör"):
        remisser.update_remiss(people.goteborg, owned.id, 1, {"organisation": "0180"})
    with pytest.raises(PermissionDeniedError):
        _response(remisser, people.stockholm, owned.id)
    handed = remisser.update_remiss(people.admin, shared.id, 1, {"organisation": "0180"})
    assert handed.organisation_code == "0180"
    assert remisser.update_remiss(people.stockholm, shared.id, 2, {"title": "Ny"}).title == "Ny"


def test_versions_conflicts_and_the_audit_log(bank: Bank, people: People) -> None:
    remisser = remisser_of(bank)
    remiss = _remiss(remisser, people.goteborg)
    same = remisser.update_remiss(people.goteborg, remiss.id, 1, {"title": remiss.title})
    assert same.version == 1  # nothing changed, nothing written
    changed = remisser.update_remiss(
        people.goteborg,
        remiss.id,
        1,
        {"deadline": date(2018, 11, 30), "ministry": "Socialdepartementet"},
    )
    assert (changed.version, changed.deadline, changed.ministry) == (
        2,
        date(2018, 11, 30),
        "Socialdepartementet",
    )
    with pytest.raises(ConflictError, match="version 1"):
        remisser.update_remiss(people.goteborg, remiss.id, 1, {"title": "Sent"})
    with pytest.raises(InvalidInputError, match="deadline"):
        remisser.update_remiss(people.goteborg, remiss.id, 2, {"deadline": "31 oktober"})
    with pytest.raises(InvalidInputError, match="Okänt fält"):
        remisser.update_remiss(people.goteborg, remiss.id, 2, {"colour": "röd"})
    entry = bank.audit_log(people.admin, limit=1)[0]
    assert (entry.action, entry.entity_id, entry.details["version"]) == (
        "remiss.update",
        str(remiss.id),
        2,
    )
    assert entry.details["changes"]["ministry"] == {
        "old": "Finansdepartementet",
        "new": "Socialdepartementet",
    }
    remisser.delete_remiss(people.goteborg, remiss.id, 2)
    with pytest.raises(NotFoundError):
        remisser.remiss(None, remiss.id)
    last = bank.audit_log(people.admin, limit=1)[0]
    assert (last.action, last.details["last"]["document"]) == ("remiss.delete", "SOU 2018:47")


def test_a_response_keeps_its_stances_with_exact_quotes_and_pages(
    bank: Bank, people: People
) -> None:
    remisser = remisser_of(bank)
    remiss = _remiss(remisser, people.goteborg)
    response = _response(remisser, people.goteborg, remiss.id)
    assert (response.organisation_code, response.pages, response.needs_ocr) == (
        "1480",
        tuple(PAGES),
        False,
    )
    got = [(s.proposal_key, s.stance, s.page, s.source, s.confirmed) for s in response.stances]
    assert got == [
        ("7.1", "tillstyrker", 1, "extracted", False),
        ("7.2", "avstyrker", 2, "extracted", False),
        ("8", "inga_synpunkter", 2, "extracted", False),
    ]
    assert all(TEXT[s.start : s.end] == s.quote for s in response.stances)
    assert {s.proposal_id for s in response.stances} == {p.id for p in remiss.proposals}
    assert remisser.remiss(None, remiss.id).responses == 1
    assert remisser.responses(None, remiss.id) == [response]
    wrong = (TILLSTYRKER[0], TILLSTYRKER[1], "tillstyrker", *TILLSTYRKER[3:])
    with pytest.raises(InvalidInputError, match="citatet"):
        _response(remisser, people.goteborg, remiss.id, [wrong])
    with pytest.raises(InvalidInputError, match=r"9\.9"):
        _response(remisser, people.goteborg, remiss.id, [("9.9", *TILLSTYRKER[1:])])
    with pytest.raises(InvalidInputError, match="stance"):
        _response(remisser, people.goteborg, remiss.id, [(None, "kanske", *TILLSTYRKER[2:])])
    assert remisser.remiss(None, remiss.id).responses == 1  # nothing written
    skr = bank.add_organisation("Sveriges Kommuner och Regioner", "other", actor=people.admin)
    by_id = remisser.update_response(people.goteborg, response.id, 1, {"organisation": str(skr.id)})
    assert (by_id.organisation_id, by_id.organisation_code, by_id.version) == (skr.id, None, 2)
    renamed = remisser.update_response(people.goteborg, response.id, 2, {"organisation": "0180"})
    assert (renamed.organisation_code, renamed.version) == ("0180", 3)
    with pytest.raises(ConflictError):
        remisser.update_response(people.goteborg, response.id, 2, {"respondent_name": "X"})
    assert "remiss.response.update" in _actions(bank, people.admin)


def test_the_review_confirms_corrects_adds_and_deletes_with_versions(
    bank: Bank, people: People
) -> None:
    remisser = remisser_of(bank)
    remiss = _remiss(remisser, people.goteborg)
    response = _response(remisser, people.goteborg, remiss.id)
    first, second, third = response.stances
    confirmed = remisser.confirm_stance(people.goteborg, first.id, 1)
    assert (confirmed.confirmed, confirmed.source, confirmed.version) == (True, "extracted", 2)
    with pytest.raises(ConflictError):
        remisser.confirm_stance(people.goteborg, first.id, 1)
    corrected = remisser.correct_stance(people.goteborg, second.id, 1, {"stance": "delvis"})
    assert (corrected.stance, corrected.source, corrected.confirmed, corrected.version) == (
        "delvis",
        "reviewer",
        True,
        2,
    )
    with pytest.raises(InvalidInputError, match="tillsammans"):
        remisser.correct_stance(people.goteborg, second.id, 2, {"start": 0})
    with pytest.raises(PermissionDeniedError):
        remisser.correct_stance(people.stockholm, second.id, 2, {"stance": "avstyrker"})
    quote = "Göteborgs Stad har beretts tillfälle att yttra sig."
    added = remisser.add_stance(
        people.goteborg,
        response.id,
        (None, "inga_synpunkter", quote, 0, len(quote), None, "general"),
    )
    assert (added.source, added.confirmed, added.page, added.proposal_key) == (
        "reviewer",
        True,
        1,
        None,
    )
    remisser.delete_stance(people.goteborg, third.id, 1)
    remisser.delete_stance(people.goteborg, added.id, 1)
    with pytest.raises(NotFoundError):
        remisser.confirm_stance(people.goteborg, third.id, 2)
    now = remisser.response(None, response.id).stances
    assert [(s.id, s.stance) for s in now] == [(first.id, "tillstyrker"), (second.id, "delvis")]
    correction = next(
        a for a in bank.audit_log(people.admin) if a.action == "remiss.stance.correct"
    )
    assert (correction.details["old"]["stance"], correction.details["new"]["stance"]) == (
        "avstyrker",
        "delvis",
    )
    assert _actions(bank, people.admin)[-6:] == [
        "remiss.response.add",
        "remiss.stance.confirm",
        "remiss.stance.correct",
        "remiss.stance.add",
        "remiss.stance.delete",
        "remiss.stance.delete",
    ]


def test_a_re_extraction_never_overwrites_what_a_person_judged(bank: Bank, people: People) -> None:
    remisser = remisser_of(bank)
    remiss = _remiss(remisser, people.goteborg)
    response = _response(remisser, people.goteborg, remiss.id)
    first, second, third = response.stances
    remisser.confirm_stance(people.goteborg, first.id, 1)
    remisser.correct_stance(people.goteborg, second.id, 1, {"stance": "delvis"})
    remisser.delete_stance(people.goteborg, third.id, 1)
    again = [
        ("7.1", "avstyrker", *TILLSTYRKER[2:]),  # on a confirmed proposal: dropped
        ("7.2", "tillstyrker", *AVSTYRKER[2:]),  # on a corrected one: dropped
        INGA,  # deleted by the reviewer: not brought back
        _stance(
            None, "tillstyrker", "Göteborgs Stad har beretts tillfälle att yttra sig.", "general"
        ),
    ]
    redone = remisser.replace_extracted(people.goteborg, response.id, again)
    assert [(s.proposal_key, s.stance, s.source, s.confirmed) for s in redone.stances] == [
        (None, "tillstyrker", "extracted", False),
        ("7.1", "tillstyrker", "extracted", True),
        ("7.2", "delvis", "reviewer", True),
    ]
    redone = remisser.replace_extracted(people.goteborg, response.id, [])
    assert [(s.proposal_key, s.stance) for s in redone.stances] == [
        ("7.1", "tillstyrker"),
        ("7.2", "delvis"),
    ]
    entry = bank.audit_log(people.admin, limit=1)[0]
    assert (entry.action, entry.details["removed"], entry.details["kept"]) == (
        "remiss.response.reextract",
        1,
        2,
    )


def test_new_proposals_keep_the_stances_of_kept_sections(bank: Bank, people: People) -> None:
    remisser = remisser_of(bank)
    remiss = _remiss(remisser, people.goteborg)
    response = _response(remisser, people.goteborg, remiss.id)
    changed = remisser.set_proposals(
        people.goteborg, remiss.id, [("8", "Övrigt"), ("7.1", "Konsultation")]
    )
    assert [(p.key, p.heading) for p in changed.proposals] == [
        ("8", "Övrigt"),
        ("7.1", "Konsultation"),
    ]
    ids = {p.key: p.id for p in changed.proposals}
    stances = {s.proposal_key: s.proposal_id for s in remisser.response(None, response.id).stances}
    assert stances == {"7.1": ids["7.1"], "7.2": None, "8": ids["8"]}
    back = remisser.set_proposals(people.goteborg, remiss.id, PROPOSALS)
    ids = {p.key: p.id for p in back.proposals}
    assert {
        s.proposal_key: s.proposal_id for s in remisser.response(None, response.id).stances
    } == ids
    assert back.version == 3
    with pytest.raises(InvalidInputError, match="två gånger"):
        remisser.set_proposals(people.goteborg, remiss.id, [("1", "a"), ("1", "b")])


def test_the_export_keeps_remisser_and_imports_into_an_empty_bank(
    bank: Bank, people: People, tmp_path: Path
) -> None:
    remisser = remisser_of(bank)
    remiss = _remiss(remisser, people.goteborg)
    _response(remisser, people.goteborg, remiss.id)
    first = io.StringIO()
    counts = export_bank(bank, first)
    assert (counts["remisser"], counts["remiss_stances"], counts["remiss_bodies"]) == (1, 3, 4)
    target = f"sqlite:///{tmp_path / 'copy.sqlite'}"
    upgrade(target)
    with open_bank(target, passwords=FAST_PASSWORDS) as copy:
        import_bank(copy, io.StringIO(first.getvalue()))
        again = io.StringIO()
        export_bank(copy, again)
        assert remisser_of(copy).remiss(None, remiss.id) == remisser.remiss(None, remiss.id)
    assert again.getvalue() == first.getvalue()


def test_migration_0010_adds_the_remiss_tables_and_downgrades(blank_url: str) -> None:
    tables = {"remisser", "remiss_proposals", "remiss_bodies", "remiss_responses", "remiss_stances"}
    assert upgrade(blank_url, "0009") == "0009"
    assert not tables & _tables(blank_url)
    assert upgrade(blank_url, "0010") == "0010"
    assert tables <= _tables(blank_url)
    _downgrade(blank_url, "0009")
    assert not tables & _tables(blank_url)
    assert {"goals", "trials"} <= _tables(blank_url)


def test_a_page_is_parsed_into_document_ministry_deadline_diarienummer_and_bodies() -> None:
    page = parse_page(
        {
            "url": "https://www.regeringen.se/remisser/2019/01/remiss-av-ds-20193/",
            "title": "Remiss av Ds 2019:3 Ett exempel",
            "text": "# Remiss av Ds 2019:3 Ett exempel\n\nRemissvaren ska ha kommit in till "
            "Klimat- och näringslivsdepartementet senast den\n12 mars 2019. I remissvaret anges "
            "diarienummer Fi2018/01234.\n\n## Remissinstanser\n\n1. Statskontoret\n"
            "2. Ale kommun\n3. Göteborgs kommun 4. Region Skåne\n",
        }
    )
    assert (page.document, page.title, page.ministry) == (
        "Ds 2019:3",
        "Ds 2019:3 Ett exempel",
        "Klimat- och näringslivsdepartementet",
    )
    assert (page.deadline, page.diarienummer) == (date(2019, 3, 12), "Fi2018/01234")
    assert page.bodies == ("Statskontoret", "Ale kommun", "Göteborgs kommun", "Region Skåne")
    with pytest.raises(ValueError, match="titel"):
        parse_page({"url": "https://www.regeringen.se/x/", "title": " ", "text": "…"})


def test_import_of_a_file_reports_what_it_could_not_parse(
    bank: Bank, people: People, tmp_path: Path
) -> None:
    path = tmp_path / "pages.jsonl"
    good = {
        "url": "https://www.regeringen.se/remisser/a/",
        "title": "Remiss av SOU 2018:47 Tillit",
        "text": "Remissvaren ska ha kommit in till Finansdepartementet senast den 31 oktober 2018.",
    }
    path.write_text(
        json.dumps(good)
        + "\n{not json\n"
        + json.dumps({"url": "", "title": "Utan adress"})
        + "\n[1]\n",
        encoding="utf-8",
    )
    with pytest.raises(PermissionDeniedError):
        import_remiss_pages(bank, path, actor=people.goteborg)
    report = import_remiss_pages(bank, path, actor=people.admin)
    assert (report.read, report.created) == (4, 1)
    assert report.unparsed == [
        (2, "inte ett JSON-objekt"),
        (3, "ingen webbadress (url)"),
        (4, "inte ett JSON-objekt"),
    ]
    remiss = remisser_of(bank).find_remiss(None, "SOU 2018:47")
    assert (remiss.ministry, remiss.deadline, remiss.source) == (
        "Finansdepartementet",
        date(2018, 10, 31),
        "g0vse",
    )
    assert "remiss.import_pages" in _actions(bank, people.admin)


def _seed_real_organisations(bank: Bank, shared_data: Path) -> None:
    catalogue = json.loads(
        (shared_data / "kolada_api_metadata" / "municipality_v3_2026-03.values.json").read_text(
            "utf-8"
        )
    )
    kinds = {"K": "kommun", "L": "region"}
    bank.seed_organisations(
        [
            (r["id"], r["title"], kinds[r["type"]])
            for r in catalogue
            if r["type"] in kinds and r["id"] != "0000"
        ]
    )
    bank.add_organisation("Sveriges Kommuner och Regioner", "other")


def test_import_of_the_real_g0vse_remiss_pages(
    bank: Bank, people: People, shared_data: Path, tmp_path: Path
) -> None:
    _seed_real_organisations(bank, shared_data)
    path = shared_data / "remisser_regeringen" / "g0vse_remiss_pages.jsonl"
    report = import_remiss_pages(bank, path)
    assert (report.read, report.created, report.unparsed) == (3121, 3121, [])
    # Measured on the 2026-01 snapshot: 2578 pages name a document (1247 an SOU, Ds or bill),
    # 2206 a ministry, 2810 a deadline, 442 a diarienummer and 66 list their bodies (4340
    # names, 1301 matched to a municipality, region or SKR).
    assert report.with_document >= 2500 and report.with_reference >= 1200
    assert report.with_ministry >= 2150 and report.with_deadline >= 2750
    assert report.with_diarienummer >= 430 and report.with_bodies >= 60
    assert report.bodies_matched >= 1250 and report.bodies_unmatched <= 3100
    remisser = remisser_of(bank)
    tillit = remisser.find_remiss(None, "SOU 2018:47")
    assert (tillit.ministry, tillit.deadline) == ("Finansdepartementet", date(2018, 10, 31))
    assert "Med tillit växer handlingsutrymmet" in tillit.title
    matched = {
        (b.name, b.organisation_code, b.kind)
        for r in remisser.remisser(None, limit=500)
        for b in r.bodies
    } | {
        (b.name, b.organisation_code, b.kind)
        for offset in range(500, 3121, 500)
        for r in remisser.remisser(None, limit=500, offset=offset)
        for b in r.bodies
    }
    assert ("Ale kommun", "1440", "kommun") in matched
    assert ("Stockholms läns landsting", "0001", "region") in matched
    assert ("Malmö stad", "1280", "kommun") in matched or (
        "Malmö kommun",
        "1280",
        "kommun",
    ) in matched
    assert all(code is None for name, code, kind in matched if kind == "myndighet")
    again = import_remiss_pages(bank, path)  # keyed by url: nothing new, nothing changed
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3121)
    remisser.update_remiss(
        people.admin, tillit.id, tillit.version, {"organisation": "1480", "proposals": PROPOSALS}
    )
    line = next(line for line in path.read_text("utf-8").splitlines() if tillit.url in line)
    changed = tmp_path / "changed.jsonl"
    changed.write_text(line.replace("31 oktober 2018", "30 november 2018"), encoding="utf-8")
    report = import_remiss_pages(bank, changed, actor=people.admin)
    assert (report.created, report.updated) == (0, 1)
    now = remisser.remiss(None, tillit.id)
    assert (now.deadline, now.organisation_code, now.version) == (date(2018, 11, 30), "1480", 3)
    assert [p.key for p in now.proposals] == [k for k, _ in PROPOSALS]
