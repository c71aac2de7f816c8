"""A remiss end to end, as a new user would run it (issue "Consultation"): create the remiss
of SOU 2018:47/48 with its proposals, read SKL's response and responses of our own in other
formats, review a stance, and compile: every count and quote right."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import docx
import openpyxl
import pytest

from tests.test_stances import SEED, SEED_GOLD, seed_proposals
from tillit.bank import open_bank, remisser_of, upgrade
from tillit.cli import main
from tillit.config import Settings
from tillit.reports import pdf_from_html

ADMIN = "admin@example.se"


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, " ".join(captured.err.split())


@pytest.fixture
def remiss_env(tillit_env: Settings, shared_data: Path, tmp_path: Path) -> dict[str, Any]:
    """A bank with the municipalities, SKL and an admin; SKL's response as Markdown, a
    municipality's as DOCX and a region's as PDF; the proposals from the seed's headings."""
    upgrade(tillit_env.database_url)
    bank = open_bank(tillit_env.database_url)
    try:
        bank.seed_organisations(
            [
                ("1384", "Kungsbacka", "kommun"),
                ("1380", "Halmstad", "kommun"),
                ("0013", "Region Halland", "region"),
            ]
        )
        bank.add_organisation("Sveriges Kommuner och Landsting", "other")
        bank.add_user(ADMIN, "ett långt lösenord", "Admin", "admin")
    finally:
        bank.close()
    seed = (shared_data.parent / SEED).read_text(encoding="utf-8")
    proposals = tmp_path / "forslag.txt"
    proposals.write_text(
        "\n".join(f"{p.key} {p.heading}" for p in seed_proposals(seed)), encoding="utf-8"
    )
    skl = tmp_path / "skl.md"
    skl.write_text(seed, encoding="utf-8")
    document = docx.Document()
    document.add_paragraph("Kungsbacka kommun")
    document.add_paragraph("Yttrande över Med tillit växer handlingsutrymmet (SOU 2018:47)")
    document.add_paragraph(
        "Kungsbacka kommun har beretts tillfälle att yttra sig över betänkandet."
    )
    document.add_heading("7.1.1 En nationell konsultationsordning", level=2)
    document.add_paragraph("Kungsbacka kommun tillstyrker förslaget om en konsultationsordning.")
    document.add_heading("7.6.2 Ett nationellt policylab", level=2)
    document.add_paragraph("Kommunen avstyrker förslaget om ett nationellt policylab.")
    document.add_paragraph("I övrigt har kommunen inga synpunkter.")
    kungsbacka = tmp_path / "kungsbacka.docx"
    document.save(kungsbacka)
    region = tmp_path / "region-halland.pdf"
    region.write_bytes(
        pdf_from_html(
            '<html lang="sv"><head><title>Yttrande</title></head><body>'
            "<p>Region Halland</p><h1>Yttrande över SOU 2018:47</h1>"
            "<p>Region Halland ställer sig bakom förslaget om en nationell "
            "konsultationsordning (avsnitt 7.1.1).</p>"
            "<p>Region Halland har inga synpunkter på avsnitt 7.6.1–7.6.4.</p>"
            "<p>Med vänlig hälsning</p><p>Region Halland</p></body></html>"
        )
    )
    return {"proposals": proposals, "skl": skl, "kungsbacka": kungsbacka, "region": region}


def test_a_remiss_from_creation_to_compilation(
    remiss_env: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = _run(
        capsys, "remiss", "ny", "--titel", "Med tillit växer handlingsutrymmet",
        "--dokument", "SOU 2018:47", "--departement", "Finansdepartementet",
        "--sista-dag", "2018-10-31", "--forslag", str(remiss_env["proposals"]),
        "--instans", "Kungsbacka kommun", "--instans", "Halmstads kommun",
        "--instans", "Region Halland", "--instans", "Sveriges Kommuner och Landsting",
        "--user", ADMIN,
    )  # fmt: skip
    assert code == 0, err
    assert "Remiss 1 skapad" in out
    code, out, err = _run(
        capsys, "remiss", "svar", "SOU 2018:47",
        str(remiss_env["skl"]), str(remiss_env["kungsbacka"]), str(remiss_env["region"]),
        "--user", ADMIN,
    )  # fmt: skip
    assert code == 0, err
    assert "Läste in 3 av 3 remissvar" in out
    # the same file again would count twice: refused, with where to look instead
    code, out, err = _run(capsys, "remiss", "svar", "1", str(remiss_env["skl"]), "--user", ADMIN)
    assert code == 1 and "redan inläst" in err and "granska" in err
    code, _out, err = _run(
        capsys, "remiss", "sammanstallning", "1", "-f", "docx", "-o", "/nonexistent/x.docx"
    )
    assert code != 0 and "Kan inte skriva" in err
    code, out, err = _run(capsys, "remiss", "sammanstallning", "1", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    by = {(s["respondent"], s["section"]): s for s in data["stances"]}
    # a stance on the whole remiss has the same fields as any other, without a section
    fields = {"respondent", "organisation_code", "section", "proposal", "stance", "quote"}
    fields |= {"file", "page", "confirmed"}
    assert all(set(s) == fields for s in data["stances"])
    assert all(set(g) == fields and g["section"] is None for g in data["general"])
    respondents = {r["name"]: r for r in data["respondents"]}
    assert respondents.keys() >= {"Kungsbacka kommun", "Region Halland"} or (
        {r["organisation_code"] for r in data["respondents"]} >= {"1384", "0013"}
    )
    skl = next(r["name"] for r in data["respondents"] if r["file"] == "skl.md")
    # SKL's stances are its own summary's (the gold of the seed)
    gold: dict[str, set[str]] = {}
    for _, key, stance in SEED_GOLD:
        gold.setdefault(key, set()).add(stance)
    for key, stances in gold.items():
        assert by[(skl, key)]["stance"] in stances, (key, by.get((skl, key)))
    # the municipality's DOCX: two stances, "i övrigt" for the rest
    kungsbacka = next(r["name"] for r in data["respondents"] if r["file"] == "kungsbacka.docx")
    assert by[(kungsbacka, "7.1.1")]["stance"] == "tillstyrker"
    assert by[(kungsbacka, "7.6.2")]["stance"] == "avstyrker"
    assert by[(kungsbacka, "7.4.1")]["stance"] == "inga_synpunkter"
    # the region's PDF: a range
    region = next(r["name"] for r in data["respondents"] if r["file"] == "region-halland.pdf")
    assert by[(region, "7.1.1")]["stance"] == "tillstyrker"
    assert {by[(region, k)]["stance"] for k in ("7.6.1", "7.6.2", "7.6.3", "7.6.4")} == {
        "inga_synpunkter"
    }
    assert by[(region, "7.6.1")]["page"] == 1
    # every quote is an exact substring of its response's text
    bank = open_bank_from_env()
    try:
        remisser = remisser_of(bank)
        texts = {r.file_name: r.text for r in remisser.responses(None, 1)}
        for s in data["stances"]:
            assert s["quote"] in texts[s["file"]], s
        # a reviewer corrects one stance; the compilation shows it, confirmed
        response = next(r for r in remisser.responses(None, 1) if r.file_name == "kungsbacka.docx")
        stance = next(s for s in response.stances if s.proposal_key == "7.6.2")
        admin = bank.user_by_email(ADMIN)
        remisser.correct_stance(admin, stance.id, stance.version, {"stance": "delvis"})
    finally:
        bank.close()
    code, out, err = _run(capsys, "remiss", "sammanstallning", "1", "--format", "json")
    corrected = {(s["respondent"], s["section"]): s for s in json.loads(out)["stances"]}
    assert corrected[(kungsbacka, "7.6.2")]["stance"] == "delvis"
    assert corrected[(kungsbacka, "7.6.2")]["confirmed"] is True
    # the same review from the command line: list, confirm, correct, delete
    bank = open_bank_from_env()
    try:
        response = next(
            r for r in remisser_of(bank).responses(None, 1) if r.file_name == "region-halland.pdf"
        )
    finally:
        bank.close()
    code, out_review, err = _run(capsys, "remiss", "granska", str(response.id), "-f", "json")
    listed = json.loads(out_review)["stances"]
    first, second = listed[0]["id"], listed[1]["id"]
    code, _o, err = _run(
        capsys, "remiss", "bekrafta", str(response.id), str(first), "--user", ADMIN
    )
    assert code == 0, err
    code, _o, err = _run(
        capsys, "remiss", "ratta", str(response.id), str(second), "--standpunkt", "avstyrker",
        "--user", ADMIN,
    )  # fmt: skip
    assert code == 0, err
    code, _o, err = _run(capsys, "remiss", "bekrafta", str(response.id), "99999", "--user", ADMIN)
    assert code != 0 and "granska" in err
    code, out_review, err = _run(capsys, "remiss", "granska", str(response.id), "-f", "json")
    after = {s["id"]: s for s in json.loads(out_review)["stances"]}
    assert after[first]["confirmed"] and after[second]["stance"] == "avstyrker"
    code, out, err = _run(capsys, "remiss", "sammanstallning", "1", "--format", "json")
    # counts per proposal add up to the respondents, with "ej besvarat"
    for p in json.loads(out)["proposals"]:
        assert sum(p["counts"].values()) == 3
    # who was consulted and did not answer
    assert json.loads(out)["not_answered"] == ["Halmstads kommun"]
    # only municipalities
    code, out, err = _run(
        capsys, "remiss", "sammanstallning", "1", "--format", "json", "--slag", "kommun"
    )
    only = json.loads(out)
    assert {r["kind"] for r in only["respondents"]} == {"kommun"}
    # the documents
    for fmt in ("docx", "xlsx", "csv", "html"):
        target = tmp_path / f"sammanstallning.{fmt}"
        code, out, err = _run(
            capsys, "remiss", "sammanstallning", "1", "--format", fmt, "-o", str(target)
        )
        assert code == 0, err
    word = docx.Document(str(tmp_path / "sammanstallning.docx"))
    headings = [p.text for p in word.paragraphs if p.style.name.startswith("Heading 2")]
    assert "7.1.1 " + next(h for h in headings if h.startswith("7.1.1"))[6:] in headings
    assert len([h for h in headings if h[:1].isdigit()]) == len(data["proposals"])
    book = openpyxl.load_workbook(io.BytesIO((tmp_path / "sammanstallning.xlsx").read_bytes()))
    assert book.sheetnames[1:] == ["antal", "matris", "citat", "ej_svarat"]
    csv_text = (tmp_path / "sammanstallning.csv").read_text(encoding="utf-8")
    assert csv_text.splitlines()[0] == (
        "respondent,organisation_code,section,proposal,stance,quote,file,page,confirmed"
    )
    html = (tmp_path / "sammanstallning.html").read_text(encoding="utf-8")
    assert '<html lang="sv">' in html and "Tillstyrker delvis" in html


def open_bank_from_env() -> Any:
    from tillit.config import load_settings

    return open_bank(load_settings().database_url)


def test_a_stance_on_the_whole_remiss_is_listed_with_every_field_in_the_json(
    remiss_env: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _out, err = _run(
        capsys, "remiss", "ny", "--titel", "Med tillit växer handlingsutrymmet",
        "--dokument", "SOU 2018:47", "--forslag", str(remiss_env["proposals"]),
        "--instans", "Halmstads kommun", "--user", ADMIN,
    )  # fmt: skip
    assert code == 0, err
    answer = tmp_path / "halmstad.txt"
    answer.write_text(
        "Halmstads kommun\n\nYttrande över Med tillit växer handlingsutrymmet (SOU 2018:47)"
        "\n\nHalmstads kommun tillstyrker samtliga förslag i betänkandet.\n",
        encoding="utf-8",
    )
    code, _out, err = _run(capsys, "remiss", "svar", "1", str(answer), "--user", ADMIN)
    assert code == 0, err
    code, out, err = _run(capsys, "remiss", "sammanstallning", "1", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    fields = {"respondent", "organisation_code", "section", "proposal", "stance", "quote"}
    fields |= {"file", "page", "confirmed"}
    (whole,) = data["general"]
    assert set(whole) == fields
    assert whole["section"] is None and whole["proposal"] is None
    assert whole["stance"] == "tillstyrker" and whole["file"] == "halmstad.txt"
    assert whole["organisation_code"] == "1380" and whole["page"] == 1
    assert whole["quote"] == "Halmstads kommun tillstyrker samtliga förslag i betänkandet."


def test_a_scanned_pdf_and_a_wrong_file_are_refused_in_swedish(
    remiss_env: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _out, err = _run(
        capsys, "remiss", "ny", "--titel", "Prov", "--forslag", str(remiss_env["proposals"]),
        "--user", ADMIN,
    )  # fmt: skip
    assert code == 0, err
    scanned = tmp_path / "skannad.pdf"
    pixel = (
        "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk"
        "+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
    )
    scanned.write_bytes(
        pdf_from_html(
            '<html lang="sv"><head><title>Skannad</title></head><body>'
            f'<img src="{pixel}" alt="en skannad sida" style="width:15cm"></body></html>'
        )
    )
    odd = tmp_path / "svar.exe"
    odd.write_bytes(b"MZ\x00\x01")
    code, out, err = _run(capsys, "remiss", "svar", "1", str(scanned), str(odd), "--user", ADMIN)
    assert code == 1
    assert "Läste in 0 av 2 remissvar" in out
    assert "textlager" in err and "ocrmypdf" in err
    assert "svar.exe" in err
    code, _out, err = _run(capsys, "remiss", "sammanstallning", "2", "--format", "pdf")
    assert code != 0 and "Okänt format" in err


def test_names_that_differ_only_by_a_swedish_letter_are_told_apart() -> None:
    from tillit.analyses import find_respondent

    organisations = [("0305", "Håbo"), ("0643", "Habo"), ("1384", "Kungsbacka")]
    for written, code in (("Habo kommun", "0643"), ("Håbo kommun", "0305")):
        text = f"{written} har beretts tillfälle att yttra sig över betänkandet."
        assert find_respondent(text, organisations).code == code


def test_falun_goes_by_falu_kommun() -> None:
    from tillit.analyses import find_respondent

    organisations = [("2080", "Falun"), ("2062", "Mora")]
    assert find_respondent("Falu kommun\nYttrande\n", organisations).code == "2080"
    assert find_respondent("Yttrande\n\nAnna Falu\nhandläggare\n", organisations).code is None


def test_a_surname_in_a_signature_is_no_municipality() -> None:
    from tillit.analyses import find_respondent

    organisations = [("1281", "Lund"), ("1884", "Nora"), ("SOS", "Socialstyrelsen")]
    signed = "Yttrande\n\nVi har inga synpunkter.\n\nMed vänlig hälsning\nAnna Lund\nhandläggare"
    assert find_respondent(signed, organisations).code is None
    assert find_respondent("Yttrande\n\nKontaktperson: Nora Berg\n", organisations).code is None
    municipality = "Yttrande\n\nFör kommunstyrelsen\nAnna Lund\nordförande\nLunds kommun"
    assert find_respondent(municipality, organisations).code == "1281"
    agency = "Socialstyrelsen\nYttrande\nSocialstyrelsen har inga synpunkter.\n\nAnna Lund"
    assert find_respondent(agency, organisations).code == "SOS"


def test_an_association_added_by_hand_is_named_by_its_signature(
    remiss_env: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """An organisation without a Kolada code ("Cykelfrämjandet", added by hand) is matched
    from a signature ("För Cykelfrämjandet") like any other; the same file again is still
    refused as read twice. A surname that is a municipality's bare name is still no
    respondent (the other test above)."""
    bank = open_bank_from_env()
    try:
        cykel = bank.add_organisation("Cykelfrämjandet", "other")
    finally:
        bank.close()
    code, _out, err = _run(
        capsys, "remiss", "ny", "--titel", "Prov", "--forslag", str(remiss_env["proposals"]),
        "--instans", "Cykelfrämjandet", "--user", ADMIN,
    )  # fmt: skip
    assert code == 0, err
    answer = tmp_path / "cykel.txt"
    answer.write_text(
        "Yttrande över betänkandet\n\nVi tillstyrker förslaget om en nationell "
        "konsultationsordning (avsnitt 7.1.1).\n\nFör Cykelfrämjandet\n\nAnna Lund\n"
        "förbundsordförande\n",
        encoding="utf-8",
    )
    code, _out, err = _run(capsys, "remiss", "svar", "1", str(answer), "--user", ADMIN)
    assert code == 0, err
    code, out, err = _run(capsys, "remiss", "sammanstallning", "1", "--format", "json")
    data = json.loads(out)
    assert [r["name"] for r in data["respondents"]] == ["Cykelfrämjandet"]
    assert data["not_answered"] == []
    bank = open_bank_from_env()
    try:
        (response,) = remisser_of(bank).responses(None, 1)
        assert response.organisation_id == cykel.id
        assert bank.organisation(f"#{cykel.id}").name == "Cykelfrämjandet"
    finally:
        bank.close()
    code, _out, err = _run(capsys, "remiss", "svar", "1", str(answer), "--user", ADMIN)
    assert code == 1 and "redan inläst" in err


def test_differing_stances_on_one_proposal_compile_as_partial(
    remiss_env: dict[str, Any], capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """One response, several stances on one proposal: where they differ the compilation
    says "delvis" (with the partial one's quote); "inga synpunkter" gives way to a stance;
    a reviewer's stance is the answer as it is."""
    code, _out, err = _run(
        capsys, "remiss", "ny", "--titel", "Prov", "--forslag", str(remiss_env["proposals"]),
        "--user", ADMIN,
    )  # fmt: skip
    assert code == 0, err
    answer = tmp_path / "halmstad.txt"
    answer.write_text(
        "Halmstads kommun\n\nYttrande\n\n"
        "7.1.1 En nationell konsultationsordning\n\n"
        "Kommunen delar bedömningen att en konsultationsordning behövs. Förslaget bör dock "
        "kompletteras med en uppföljning. Kommunen tillstyrker förslaget med denna "
        "justering.\n\n"
        "7.6.2 Ett nationellt policylab\n\nKommunen tillstyrker förslaget.\n\n"
        "7.6.4 Försöksverksamhet\n\nKommunen välkomnar att staten vill pröva nya "
        "arbetssätt. Ett försök binder dock resurser i flera år. Kommunen avstyrker därför "
        "förslaget.\n",
        encoding="utf-8",
    )
    code, _out, err = _run(capsys, "remiss", "svar", "1", str(answer), "--user", ADMIN)
    assert code == 0, err
    code, out, err = _run(capsys, "remiss", "sammanstallning", "1", "--format", "json")
    by = {s["section"]: s for s in json.loads(out)["stances"]}
    assert by["7.1.1"]["stance"] == "delvis"
    assert by["7.1.1"]["quote"] == "Kommunen tillstyrker förslaget med denna justering."
    assert by["7.6.2"]["stance"] == "tillstyrker"
    # support and opposition without a partial stance: the one given as the conclusion
    assert by["7.6.4"]["stance"] == "avstyrker"
    assert by["7.6.4"]["quote"] == "Kommunen avstyrker därför förslaget."
    # the reviewer's word stands
    bank = open_bank_from_env()
    try:
        remisser = remisser_of(bank)
        (response,) = remisser.responses(None, 1)
        first = next(s for s in response.stances if s.proposal_key == "7.1.1")
        remisser.correct_stance(
            bank.user_by_email(ADMIN), first.id, first.version, {"stance": "tillstyrker"}
        )
    finally:
        bank.close()
    code, out, err = _run(capsys, "remiss", "sammanstallning", "1", "--format", "json")
    by = {s["section"]: s for s in json.loads(out)["stances"]}
    assert by["7.1.1"]["stance"] == "tillstyrker" and by["7.1.1"]["confirmed"] is True
