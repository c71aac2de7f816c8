"""The consultation pages (remisser) over a real SQLite bank: creating a remiss with the form
(proposals pasted as text), uploading responses (a DOCX written with python-docx, a PDF
printed by WeasyPrint, Markdown), the review page with each stance's quote marked in the text,
confirming and correcting stances (audited, kept by a re-extraction), adding a missed one,
the compilation with its counts, links to the quotes, filter by kind of respondent and
downloads, and errors that are Swedish pages, never a 500."""

from __future__ import annotations

import base64
import csv
import html
import io
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import openpyxl
import pytest
import weasyprint
from docx import Document
from fastapi.testclient import TestClient
from PIL import Image

from tests.bank_fixtures import FAST_PASSWORDS, PASSWORD
from tillit.analyses import Proposal, extract_stances
from tillit.bank import Bank, open_bank, remisser_of, upgrade
from tillit.web import create_app

ADMIN = "admin@tillit.se"
KUNGSBACKA_EDITOR = "red@kungsbacka.se"
VARBERG_EDITOR = "red@varberg.se"
READER = "las@kungsbacka.se"
PROPOSALS = """7.1 En nationell konsultationsordning
7.2 Ett statligt råd för kommunala frågor
8.1 Uppföljning av kommunernas ekonomi"""
BODIES = "Kungsbacka kommun\nVarbergs kommun\nRegion Halland"


@dataclass
class Site:
    client: TestClient
    bank: Bank


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    url = f"sqlite:///{tmp_path_factory.mktemp('remiss-pages') / 'bank.sqlite'}"
    upgrade(url)
    bank = open_bank(url, passwords=FAST_PASSWORDS)
    bank.seed_organisations(
        [
            ("1384", "Kungsbacka", "kommun"),
            ("1383", "Varberg", "kommun"),
            ("0013", "Region Halland", "region"),
        ]
    )
    admin = bank.add_user(ADMIN, PASSWORD, "Admin", "admin")
    bank.add_user(KUNGSBACKA_EDITOR, PASSWORD, "Kim", "editor", "1384", actor=admin)
    bank.add_user(VARBERG_EDITOR, PASSWORD, "Vera", "editor", "1383", actor=admin)
    bank.add_user(READER, PASSWORD, "Läs", "reader", actor=admin)
    # room for a file above the page's own 20 MB limit (the server's body limit is the
    # deployment's; see docs/web.md, "Remisser")
    app = create_app(bank=bank, max_body_bytes=30_000_000)
    with TestClient(app, follow_redirects=False) as client:
        yield Site(client, bank)
    bank.close()


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]*)"', page)
    assert found, "the page has no form with a csrf_token"
    return found.group(1)


def text_of(page: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


LogIn = Callable[[str | None], str]


@pytest.fixture
def log_in(site: Site) -> LogIn:
    def go(email: str | None) -> str:
        site.client.cookies.clear()
        if email is None:
            return ""
        form = site.client.get("/logga-in")
        response = site.client.post(
            "/logga-in",
            data={"csrf_token": csrf_of(form.text), "email": email, "password": PASSWORD},
        )
        assert response.status_code == 303, response.text
        return csrf_of(site.client.get("/konto").text)

    return go


# --- response files, written here ----------------------------------------------------------
def kungsbacka_docx() -> bytes:
    doc = Document()
    doc.add_paragraph("Kungsbacka kommun")
    doc.add_paragraph("Yttrande över betänkandet SOU 2018:47")
    doc.add_paragraph("7.1 En nationell konsultationsordning")
    doc.add_paragraph(
        "Kungsbacka kommun tillstyrker förslaget om en nationell konsultationsordning."
    )
    doc.add_paragraph("7.2 Ett statligt råd för kommunala frågor")
    doc.add_paragraph("Kommunen avstyrker förslaget om ett statligt råd.")
    doc.add_paragraph("8.1 Uppföljning av kommunernas ekonomi")
    doc.add_paragraph("Kommunen har inga synpunkter på förslaget.")
    doc.add_paragraph("Kungsbacka den 12 mars 2019")
    doc.add_paragraph("Anna Andersson, kommunstyrelsens ordförande, Kungsbacka kommun")
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def halland_pdf() -> bytes:
    body = """<p>Region Halland</p><h1>Yttrande över SOU 2018:47</h1>
<h2>7.1 En nationell konsultationsordning</h2>
<p>Region Halland avstyrker förslaget om en nationell konsultationsordning.</p>
<h2>7.2 Ett statligt råd för kommunala frågor</h2>
<p>Region Halland tillstyrker förslaget om ett statligt råd för kommunala frågor.</p>
<p>Halmstad den 1 mars 2019. Region Halland, regionstyrelsen.</p>"""
    return _pdf(body)


def _pdf(body: str) -> bytes:
    page = f'<html lang="sv"><head><title>Svar</title></head><body>{body}</body></html>'
    pdf: bytes = weasyprint.HTML(string=page).write_pdf()
    return pdf


def scanned_pdf() -> bytes:
    image = Image.new("RGB", (400, 300), (210, 210, 210))
    for x in range(40, 360):
        image.putpixel((x, 60), (20, 20, 20))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    src = "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()
    return _pdf(f'<img src="{src}" alt="" style="width:100%">')


VARBERG_MD = """# Varbergs kommun

Yttrande om SOU 2018:47.

## 7.1 En nationell konsultationsordning

Varbergs kommun tillstyrker förslaget om en nationell konsultationsordning.

I övrigt har kommunen inga synpunkter.

Varbergs kommun, kommunstyrelsen
""".encode()


# --- helpers --------------------------------------------------------------------------------
def new_remiss(site: Site, log_in: LogIn, email: str = KUNGSBACKA_EDITOR, **fields: str) -> int:
    """A remiss created through the form; its id."""
    token = log_in(email)
    form = {
        "csrf_token": token,
        "title": "Starkare kommuner",
        "document": "SOU 2018:47",
        "ministry": "Finansdepartementet",
        "diarienummer": "Fi2018/03384/K",
        "deadline": "2019-03-12",
        "proposals": PROPOSALS,
        "bodies": BODIES,
        **fields,
    }
    response = site.client.post("/remisser/ny", data=form)
    assert response.status_code == 303, text_of(response.text)
    found = re.fullmatch(r"/remisser/(\d+)", response.headers["location"])
    assert found
    return int(found.group(1))


def upload(site: Site, remiss_id: int, files: list[tuple[str, bytes]], **form: str) -> Any:
    page = site.client.get(f"/remisser/{remiss_id}/svar")
    assert page.status_code == 200, text_of(page.text)
    return site.client.post(
        f"/remisser/{remiss_id}/svar",
        data={"csrf_token": csrf_of(page.text), **form},
        files=[("filer", (name, body, "application/octet-stream")) for name, body in files],
    )


def marked(page: str, anchor: str) -> str | None:
    """The text of the mark that holds ``id=anchor`` (on the mark, or on an empty span at
    its start where two stances share a quote)."""
    for found in re.finditer(r"<mark( id=\"[^\"]+\")?>(.*?)</mark>", page, re.S):
        if f'id="{anchor}"' in found.group(0):
            return html.unescape(re.sub(r'<span id="stance-\d+"></span>', "", found.group(2)))
    return None


def review_json(site: Site, response_id: int) -> dict[str, Any]:
    got = site.client.get(f"/remisser/svar/{response_id}.json")
    assert got.status_code == 200
    data: dict[str, Any] = got.json()
    return data


def by_section(data: dict[str, Any]) -> dict[str | None, dict[str, Any]]:
    return {s["section"]: s for s in data["stances"]}


def uploaded_id(response: Any) -> int:
    assert response.status_code == 303, text_of(response.text)
    found = re.fullmatch(r"/remisser/svar/(\d+)", response.headers["location"])
    assert found
    return int(found.group(1))


def post_review(site: Site, response_id: int, **form: Any) -> Any:
    page = site.client.get(f"/remisser/svar/{response_id}")
    return site.client.post(
        f"/remisser/svar/{response_id}/granska", data={"csrf_token": csrf_of(page.text), **form}
    )


# --- the list and the new-remiss form ---------------------------------------------------------
def test_a_remiss_is_created_with_the_form_and_listed(site: Site, log_in: LogIn) -> None:
    log_in(None)
    assert site.client.get("/remisser/ny").status_code == 303  # to the login page
    assert "Ny remiss" not in site.client.get("/remisser").text
    log_in(READER)
    refused = site.client.get("/remisser/ny")
    assert refused.status_code == 403 and "redaktörer" in text_of(refused.text)

    remiss_id = new_remiss(site, log_in)
    listing = site.client.get("/remisser")
    assert listing.status_code == 200
    assert 'href="/remisser/ny"' in listing.text
    assert f'href="/remisser/{remiss_id}"' in listing.text
    item = next(
        i for i in site.client.get("/remisser.json").json()["items"] if i["id"] == remiss_id
    )
    assert (item["document"], item["proposals"], item["bodies"], item["responses"]) == (
        "SOU 2018:47",
        3,
        3,
        0,
    )
    assert item["deadline"] == "2019-03-12" and item["deadline_text"] == "12 mars 2019"
    record = remisser_of(site.bank).remiss(None, remiss_id)
    assert [(p.key, p.heading) for p in record.proposals] == [
        ("7.1", "En nationell konsultationsordning"),
        ("7.2", "Ett statligt råd för kommunala frågor"),
        ("8.1", "Uppföljning av kommunernas ekonomi"),
    ]
    assert {b.organisation_code for b in record.bodies} >= {"1384", "0013"}


def test_the_new_remiss_form_keeps_what_was_typed_and_says_what_is_wrong(
    site: Site, log_in: LogIn
) -> None:
    token = log_in(KUNGSBACKA_EDITOR)
    bad = site.client.post(
        "/remisser/ny",
        data={"csrf_token": token, "title": "", "proposals": "7.1 Ett\nnågot utan nummer"},
    )
    assert bad.status_code == 422
    said = text_of(bad.text)
    assert "Titel: skriv" in said and "Rad 2 är inget förslag" in said
    assert "något utan nummer" in bad.text  # kept
    twice = site.client.post(
        "/remisser/ny", data={"csrf_token": token, "title": "T", "proposals": "7.1 A\n7.1 B"}
    )
    assert twice.status_code == 422 and "7.1 står mer än en gång" in text_of(twice.text)
    wrong_date = site.client.post(
        "/remisser/ny", data={"csrf_token": token, "title": "T", "deadline": "12/3"}
    )
    assert wrong_date.status_code == 422 and 'id="f-deadline-fel"' in wrong_date.text
    forged = site.client.post("/remisser/ny", data={"csrf_token": "fel", "title": "T"})
    assert forged.status_code == 403 and "säkerhetstoken" in text_of(forged.text)


# --- uploading and reviewing ------------------------------------------------------------------
def test_an_uploaded_docx_shows_its_stances_beside_the_marked_text(
    site: Site, log_in: LogIn
) -> None:
    remiss_id = new_remiss(site, log_in)
    response_id = uploaded_id(upload(site, remiss_id, [("kungsbacka.docx", kungsbacka_docx())]))
    data = review_json(site, response_id)
    assert data["response"]["organisation_code"] == "1384"
    stances = by_section(data)
    assert {k: s["stance"] for k, s in stances.items()} == {
        "7.1": "tillstyrker",
        "7.2": "avstyrker",
        "8.1": "inga_synpunkter",
    }
    page = site.client.get(f"/remisser/svar/{response_id}")
    assert page.status_code == 200
    for s in data["stances"]:
        assert marked(page.text, f"stance-{s['id']}") == s["quote"]
        assert data["text"][s["start"] : s["end"]] == s["quote"]
    # a writer sees the forms; an anonymous visitor and a reader see none
    assert page.text.count('action="/remisser/svar/') == len(data["stances"]) + 1
    log_in(None)
    anonymous = site.client.get(f"/remisser/svar/{response_id}")
    assert "/granska" not in anonymous.text and "Logga in" in anonymous.text
    assert review_json(site, response_id)["may_review"] is False


def test_several_files_at_once_pdf_and_markdown(site: Site, log_in: LogIn) -> None:
    remiss_id = new_remiss(site, log_in)
    got = upload(site, remiss_id, [("halland.pdf", halland_pdf()), ("varberg.md", VARBERG_MD)])
    assert got.status_code == 200
    said = text_of(got.text)
    assert "2 svar inlästa" in said
    responses = remisser_of(site.bank).responses(None, remiss_id)
    assert [r.organisation_code for r in responses] == ["0013", "1383"]
    halland = by_section(review_json(site, responses[0].id))
    assert (halland["7.1"]["stance"], halland["7.2"]["stance"]) == ("avstyrker", "tillstyrker")
    assert halland["7.1"]["page"] == 1
    # the respondent may be given: it overrides what the document says
    again = upload(site, remiss_id, [("ett-svar.md", VARBERG_MD)], respondent="Kungsbacka")
    assert review_json(site, uploaded_id(again))["response"]["organisation_code"] == "1384"


def test_confirm_and_correct_are_audited_and_kept_by_a_reextraction(
    site: Site, log_in: LogIn
) -> None:
    remiss_id = new_remiss(site, log_in)
    response_id = uploaded_id(upload(site, remiss_id, [("k.docx", kungsbacka_docx())]))
    stances = by_section(review_json(site, response_id))
    one, two = stances["7.1"], stances["7.2"]
    confirmed = post_review(
        site, response_id, action="confirm", stance=one["id"], version=one["version"]
    )
    assert confirmed.status_code == 303
    assert confirmed.headers["location"].endswith(f"#stance-{one['id']}")
    corrected = post_review(
        site,
        response_id,
        action="correct",
        stance=two["id"],
        version=two["version"],
        new_stance="delvis",
        proposal="7.2",
    )
    assert corrected.status_code == 303
    after = by_section(review_json(site, response_id))
    assert after["7.1"]["confirmed"] and after["7.1"]["stance"] == "tillstyrker"
    assert after["7.2"]["confirmed"] and after["7.2"]["stance"] == "delvis"
    assert after["7.2"]["source"] == "reviewer"
    assert not after["8.1"]["confirmed"]
    admin = site.bank.user_by_email(ADMIN)
    log = site.bank.audit_log(admin, limit=50, entity="remiss_stance")
    actions = {(a.entity_id, a.action) for a in log}
    assert (str(one["id"]), "remiss.stance.confirm") in actions
    assert (str(two["id"]), "remiss.stance.correct") in actions
    correction = next(a for a in log if a.action == "remiss.stance.correct")
    assert correction.details["old"]["stance"] == "avstyrker"
    assert correction.details["new"]["stance"] == "delvis"

    # a new extraction replaces only what nobody has confirmed
    record = remisser_of(site.bank).response(None, response_id)
    proposals = [
        Proposal(p.key, p.heading) for p in remisser_of(site.bank).remiss(None, remiss_id).proposals
    ]
    found = extract_stances(record.text, proposals, respondent=record.respondent_name)
    remisser_of(site.bank).replace_extracted(
        site.bank.user_by_email(KUNGSBACKA_EDITOR),
        response_id,
        [(s.proposal, s.stance, s.quote, s.start, s.end, None, s.basis) for s in found],
    )
    kept = by_section(review_json(site, response_id))
    assert kept["7.2"]["stance"] == "delvis" and kept["7.2"]["confirmed"]
    assert kept["7.1"]["confirmed"] and kept["7.1"]["id"] == one["id"]
    assert kept["8.1"]["stance"] == "inga_synpunkter"


def test_a_missed_stance_is_added_from_a_quote_and_a_wrong_one_deleted(
    site: Site, log_in: LogIn
) -> None:
    remiss_id = new_remiss(site, log_in)
    response_id = uploaded_id(upload(site, remiss_id, [("k.docx", kungsbacka_docx())]))
    data = review_json(site, response_id)
    wrong = by_section(data)["8.1"]
    deleted = post_review(
        site, response_id, action="delete", stance=wrong["id"], version=wrong["version"]
    )
    assert deleted.status_code == 303
    assert "8.1" not in by_section(review_json(site, response_id))
    # the quote as copied from the page: its line breaks and spaces differ
    typed = "Kungsbacka   den 12\nmars 2019"
    added = post_review(
        site, response_id, action="add", proposal="8.1", new_stance="inga_synpunkter", quote=typed
    )
    assert added.status_code == 303, text_of(added.text)
    new = by_section(review_json(site, response_id))["8.1"]
    assert new["quote"] == "Kungsbacka den 12 mars 2019"
    assert data["text"][new["start"] : new["end"]] == new["quote"]
    assert new["confirmed"] and new["source"] == "reviewer"
    missing = post_review(
        site, response_id, action="add", proposal="7.1", new_stance="delvis", quote="Finns inte"
    )
    assert missing.status_code == 422
    assert "Citatet finns inte ordagrant" in text_of(missing.text)
    assert "Finns inte" in missing.text  # what was typed is kept


def test_a_stale_form_gets_a_swedish_409_page(site: Site, log_in: LogIn) -> None:
    remiss_id = new_remiss(site, log_in)
    response_id = uploaded_id(upload(site, remiss_id, [("k.docx", kungsbacka_docx())]))
    one = by_section(review_json(site, response_id))["7.1"]
    first = post_review(
        site, response_id, action="confirm", stance=one["id"], version=one["version"]
    )
    assert first.status_code == 303
    stale = post_review(
        site,
        response_id,
        action="correct",
        stance=one["id"],
        version=one["version"],
        new_stance="avstyrker",
        proposal="7.1",
    )
    assert stale.status_code == 409
    said = text_of(stale.text)
    assert "Någon annan hann ändra före dig" in said and "har ändrats av någon annan" in said
    assert by_section(review_json(site, response_id))["7.1"]["stance"] == "tillstyrker"


def test_only_writers_of_the_remiss_review_or_upload(site: Site, log_in: LogIn) -> None:
    remiss_id = new_remiss(site, log_in)
    response_id = uploaded_id(upload(site, remiss_id, [("k.docx", kungsbacka_docx())]))
    one = by_section(review_json(site, response_id))["7.1"]
    log_in(VARBERG_EDITOR)
    page = site.client.get(f"/remisser/svar/{response_id}")
    assert page.status_code == 200 and "/granska" not in page.text
    token = csrf_of(page.text)  # the logout form's
    refused = site.client.post(
        f"/remisser/svar/{response_id}/granska",
        data={"csrf_token": token, "action": "confirm", "stance": one["id"], "version": 1},
    )
    assert refused.status_code == 403 and "granska" in text_of(refused.text)
    assert site.client.get(f"/remisser/{remiss_id}/svar").status_code == 403
    log_in(None)
    anonymous = site.client.post(
        f"/remisser/svar/{response_id}/granska", data={"action": "confirm"}
    )
    assert anonymous.status_code == 303 and "/logga-in" in anonymous.headers["location"]


# --- the compilation ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def compiled(site: Site) -> int:
    """A remiss with Kungsbacka's, Region Halland's and Varberg's responses (read directly)."""
    from tillit.query import parse_proposals, read_response

    editor = site.bank.user_by_email(KUNGSBACKA_EDITOR)
    remiss = remisser_of(site.bank).create_remiss(
        editor,
        {
            "title": "Starkare kommuner",
            "document": "SOU 2018:47",
            "proposals": parse_proposals(PROPOSALS),
            "bodies": [*BODIES.splitlines(), "Statskontoret"],
        },
    )
    for name, body in (
        ("kungsbacka.docx", kungsbacka_docx()),
        ("halland.pdf", halland_pdf()),
        ("varberg.md", VARBERG_MD),
    ):
        read_response(site.bank, editor, remiss.id, body, filename=name)
    return remiss.id


def _page_counts(page: str) -> dict[str, dict[str, int]]:
    rows = re.findall(r'<tr id="forslag-([^"]+)">(.*?)</tr>', page, re.S)
    return {
        key: {s: int(n) for s, n in re.findall(r'data-stance="([a-z_]+)">(\d+)<', row)}
        for key, row in rows
    }


def test_the_compilation_page_and_its_json_twin_agree(
    site: Site, log_in: LogIn, compiled: int
) -> None:
    log_in(None)
    page = site.client.get(f"/remisser/{compiled}")
    assert page.status_code == 200
    data = site.client.get(f"/remisser/{compiled}.json").json()
    counts = _page_counts(page.text)
    assert counts == {p["section"]: p["counts"] for p in data["proposals"]}
    # every respondent answers every proposal somehow: the counts add up to the responses
    for key, row in counts.items():
        assert sum(row.values()) == len(data["respondents"]) == 3, key
    assert counts["7.1"]["tillstyrker"] == 2 and counts["7.1"]["avstyrker"] == 1
    assert counts["8.1"]["ej_besvarat"] == 1  # Region Halland said nothing on 8.1
    assert data["not_answered"] == ["Statskontoret"]
    assert "Statskontoret" in text_of(page.text)
    # each stance links to its quote, and the quote is marked there
    for stance in data["stances"]:
        assert stance["url"] in html.unescape(page.text)
        path, anchor = stance["url"].split("#")
        review = site.client.get(path).text
        assert marked(review, anchor) == stance["quote"]
    # symbols and words, never colour alone
    said = text_of(page.text)
    assert "+ tillstyrker" in said and "− avstyrker" in said and "· ej besvarat" in said
    assert re.search(r'role="region" tabindex="0" aria-labelledby="matris"', page.text)


def test_the_filter_by_kind_of_respondent(site: Site, compiled: int) -> None:
    regions = site.client.get(f"/remisser/{compiled}.json?slag=region").json()
    assert [r["name"] for r in regions["respondents"]] == ["Region Halland"]
    assert regions["kinds"] == ["region"]
    page = site.client.get(f"/remisser/{compiled}?slag=region")
    assert 'id="slag-region" name="slag" value="region" checked' in page.text
    assert {k: v["avstyrker"] for k, v in _page_counts(page.text).items()}["7.1"] == 1
    assert "Kungsbacka" not in re.search(
        r'<table class="remiss-matrix">.*?</table>', page.text, re.S
    ).group(0)  # type: ignore[union-attr]
    both = site.client.get(f"/remisser/{compiled}.json?slag=kommun&slag=region").json()
    assert len(both["respondents"]) == 3
    assert site.client.get(f"/remisser/{compiled}.docx?slag=region").status_code == 200
    unknown = site.client.get(f"/remisser/{compiled}?slag=planet")
    assert unknown.status_code == 422 and "Okänd sorts remissinstans" in text_of(unknown.text)


def test_the_downloads_open(site: Site, compiled: int) -> None:
    data = site.client.get(f"/remisser/{compiled}.json").json()
    got = site.client.get(f"/remisser/{compiled}.docx")
    assert got.status_code == 200 and "attachment" in got.headers["content-disposition"]
    document = Document(io.BytesIO(got.content))
    words = "\n".join(p.text for p in document.paragraphs)
    assert "En nationell konsultationsordning" in words and "Region Halland" in words
    sheet = site.client.get(f"/remisser/{compiled}.xlsx")
    book = openpyxl.load_workbook(io.BytesIO(sheet.content))
    assert len(book.sheetnames) >= 4
    rows = list(
        csv.DictReader(
            io.StringIO(site.client.get(f"/remisser/{compiled}.csv").content.decode("utf-8-sig"))
        )
    )
    assert len(rows) == len(data["stances"])
    assert {r["section"] for r in rows} == {s["section"] for s in data["stances"]}
    assert site.client.get(f"/remisser/{compiled}.pdf").status_code == 404


# --- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/remisser/999999",
        "/remisser/999999.json",
        "/remisser/99999999999",
        "/remisser/svar/999999",
        "/remisser/svar/0.json",
        "/remisser/999999.docx",
    ],
)
def test_a_missing_remiss_or_response_is_a_swedish_404(site: Site, path: str) -> None:
    got = site.client.get(path, headers={"accept": "text/html"})
    assert got.status_code == 404, path
    assert "finns inte" in text_of(got.text)


def test_bad_uploads_are_refused_in_swedish(site: Site, log_in: LogIn) -> None:
    remiss_id = new_remiss(site, log_in)
    wrong = upload(site, remiss_id, [("svar.exe", b"MZ\x90\x00binary")])
    assert wrong.status_code == 422
    assert "svar.exe" in text_of(wrong.text)
    for name, body in (("trasig.pdf", b"%PDF-1.7\n1 0 obj garbage"), ("trasig.docx", b"PK no")):
        broken = upload(site, remiss_id, [(name, body)])
        assert broken.status_code == 422, name
        assert name in text_of(broken.text)
    empty = upload(site, remiss_id, [("tomt.pdf", b"")])
    assert empty.status_code == 422 and "tomt.pdf är tom" in text_of(empty.text)
    scanned = upload(site, remiss_id, [("skannad.pdf", scanned_pdf())])
    assert scanned.status_code == 422
    said = text_of(scanned.text)
    assert "inget textlager" in said and "ocrmypdf" in said
    none = upload(site, remiss_id, [("", b"")])  # as a browser sends no file chosen
    assert none.status_code == 422 and "Välj minst en fil" in text_of(none.text)
    big = upload(site, remiss_id, [("stor.txt", b"a" * 20_000_001)])
    assert big.status_code == 413 and "större än 20 MB" in text_of(big.text)
    unknown = upload(site, remiss_id, [("k.docx", kungsbacka_docx())], respondent="Atlantis")
    assert unknown.status_code == 422
    page = site.client.get(f"/remisser/{remiss_id}/svar")
    not_multipart = site.client.post(
        f"/remisser/{remiss_id}/svar", data={"csrf_token": csrf_of(page.text)}
    )
    assert not_multipart.status_code == 415 and "multipart" in text_of(not_multipart.text)
    token = csrf_of(page.text)
    many = site.client.post(
        f"/remisser/{remiss_id}/svar",
        data={"csrf_token": token},
        files=[
            ("filer", (f"svar-{i}.txt", b"Kommunen tillstyrker.", "text/plain")) for i in range(51)
        ],
    )
    assert many.status_code == 413 and "Högst 50 filer" in text_of(many.text)
    fields = site.client.post(
        f"/remisser/{remiss_id}/svar",
        data={"csrf_token": token, **{f"f{i}": "x" for i in range(30)}},
        files=[("filer", ("a.txt", b"Kommunen tillstyrker.", "text/plain"))],
    )
    assert fields.status_code == 413 and "För många fält" in text_of(fields.text)
    broken = site.client.post(
        f"/remisser/{remiss_id}/svar",
        content=b"--x\r\nbroken",
        headers={"content-type": "multipart/form-data", "accept": "text/html"},
    )
    assert broken.status_code == 400 and "gick inte att läsa" in text_of(broken.text)
    assert remisser_of(site.bank).responses(None, remiss_id) == []


# --- in a real browser ------------------------------------------------------------------------
@pytest.fixture(scope="module")
def served(site: Site, compiled: int) -> Iterator[str]:
    """The same bank served by uvicorn on a loopback port (for Chromium)."""
    import threading
    import time

    import uvicorn

    from tests.browser_fixtures import _free_port

    port = _free_port()
    app = create_app(bank=site.bank)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


@pytest.mark.browser
def test_the_remiss_pages_have_no_axe_violation_and_tab_reaches_every_control(
    new_page: Callable[..., Any], served: str, site: Site, compiled: int
) -> None:
    from tests.browser_fixtures import check_axe, save_screenshot, tab_through

    response_id = remisser_of(site.bank).responses(None, compiled)[0].id
    page = new_page()
    page.goto(f"{served}/logga-in")
    form = page.locator("main form")
    form.get_by_label("E-postadress").fill(KUNGSBACKA_EDITOR)
    form.get_by_label("Lösenord").fill(PASSWORD)
    form.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state()
    assert "/logga-in" not in page.url
    pages = {
        "remiss-sammanstallning": f"/remisser/{compiled}",
        "remiss-granska": f"/remisser/svar/{response_id}",
        "remisser": "/remisser",
        "remiss-ny": "/remisser/ny",
        "remiss-svar": f"/remisser/{compiled}/svar",
    }
    for name, path in pages.items():
        got = page.goto(served + path)
        assert got is not None and got.status == 200, path
        violations = check_axe(page)
        save_screenshot(page, name)
        assert not violations, f"{name}:\n" + "\n".join(violations)
        walk = tab_through(page)
        missed = walk.missed()
        assert not missed, f"{name}: Tab never reached:\n  " + "\n  ".join(missed)
        hidden = walk.without_visible_focus()
        assert not hidden, f"{name}: no visible focus on:\n  " + "\n  ".join(hidden)
    # a cell's link lands on its quote, marked in the response's text
    page.goto(f"{served}/remisser/{compiled}")
    page.locator(".remiss-matrix td a").first.click()
    page.wait_for_load_state()
    anchor = page.url.split("#", 1)[1]
    assert page.locator(f"#{anchor}").is_visible()
    # on a phone only the tables' own regions scroll sideways
    phone = new_page(viewport={"width": 320, "height": 640})
    for path in (f"/remisser/{compiled}", f"/remisser/svar/{response_id}"):
        phone.goto(served + path)
        width = phone.evaluate("() => document.documentElement.scrollWidth")
        assert width <= 320, f"{path} is {width} px wide on a 320 px screen"


def test_a_new_user_compiles_skls_response_on_the_web(
    site: Site, log_in: LogIn, shared_data: Any
) -> None:
    """The issue's "done when", on the web: the remiss of SOU 2018:47/48 with its proposals
    pasted into the form, SKL's response (the seed) uploaded, one correction in the review,
    and a compilation whose SKL column is the response's own summary."""
    from tests.test_stances import SEED, SEED_GOLD, seed_proposals

    seed = (shared_data.parent / SEED).read_text(encoding="utf-8")
    pasted = "\n".join(f"{p.key} {p.heading}" for p in seed_proposals(seed))
    remiss_id = new_remiss(site, log_in, proposals=pasted, bodies="Region Halland")
    response_id = uploaded_id(upload(site, remiss_id, [("skl.md", seed.encode())]))
    data = review_json(site, response_id)
    page = site.client.get(f"/remisser/svar/{response_id}").text
    for s in data["stances"]:
        assert marked(page, f"stance-{s['id']}") == s["quote"]
    compiled = site.client.get(f"/remisser/{remiss_id}.json").json()
    gold: dict[str, set[str]] = {}
    for _, key, stance in SEED_GOLD:
        gold.setdefault(key, set()).add(stance)
    by = {s["section"]: s for s in compiled["stances"]}
    for key, stances in gold.items():
        assert by[key]["stance"] in stances, (key, by.get(key))
    # one correction: the reviewer decides 7.2.2 is only partly opposed
    target = next(s for s in data["stances"] if s["section"] == "7.2.2")
    done = post_review(
        site,
        response_id,
        action="correct",
        stance=target["id"],
        version=target["version"],
        new_stance="delvis",
        proposal="7.2.2",
    )
    assert done.status_code == 303
    after = site.client.get(f"/remisser/{remiss_id}.json").json()
    row = next(p for p in after["proposals"] if p["section"] == "7.2.2")
    assert row["counts"]["delvis"] == 1 and row["counts"]["avstyrker"] == 0
    assert after["not_answered"] == ["Region Halland"]
    document = Document(io.BytesIO(site.client.get(f"/remisser/{remiss_id}.docx").content))
    words = "\n".join(p.text for p in document.paragraphs) + "\n".join(
        c.text for t in document.tables for r in t.rows for c in r.cells
    )
    assert target["quote"][:60] in words
