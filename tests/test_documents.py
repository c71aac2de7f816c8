"""Reading consultation responses into text (tillit.sources.documents).

Every file is made at test time with the real tools: PDFs with WeasyPrint (running headers
and footers and page numbers in ``@page`` margin boxes, several pages, words split at line
ends), DOCX with python-docx, and text, Markdown and HTML written here.
"""

from __future__ import annotations

import base64
import html
import io
import random
import re
import shutil
from pathlib import Path
from typing import Any

import docx
import pytest
import weasyprint
from docx.enum.text import WD_BREAK
from PIL import Image
from pypdf import PdfReader, PdfWriter

from tillit.errors import InvalidInputError
from tillit.sources.documents import ExtractedText, document_format, extract_text

# --- helpers -------------------------------------------------------------------------------

_PAGE_CSS = """
@page { size: A4; margin: 30mm 25mm;
  @top-left { content: "Exempelstads kommun"; font: 9pt DejaVu Sans; }
  @top-right { content: "Dnr KS 2018/412"; font: 9pt DejaVu Sans; }
  @bottom-right { content: "Sida " counter(page) " av " counter(pages); font: 9pt DejaVu Sans; }
}
@page :first { @bottom-left { content: "Postadress: 123 45 Exempelstad, telefon 0123-45 67 89";
  font: 8pt DejaVu Sans; width: 120mm; } }
body { font: 11pt/1.4 DejaVu Serif; }
p { margin: 0 0 9pt; }
.mono { font: 10pt/1.4 DejaVu Sans Mono; }
.auto { width: 42mm; hyphens: auto; text-align: justify; }
sup { font-size: 65%; }
h2 { font: bold 13pt DejaVu Sans; margin: 12pt 0 6pt; }
section.page { break-before: page; }
"""

# Lines of (nearly) equal length in a monospaced font, so each ends where a typesetter would
# have broken it: the hyphens at the ends are the cases the joining rules must tell apart.
_SPLIT_LINES = [
    "Kommunen anser att den kommunala självstyrelsen ska värnas och verk-",
    "samheten inom vården ska styras med tillit. Det gäller i synnerhet i",
    "Stockholmsregionen, där samverkan mellan kommunerna i Stockholms-",
    "området är stark och där frågor som rör EU-kommissionen och EU-",
    "rätten ofta hanteras gemensamt. Både hälso- och sjukvården och hälso-",
    "och sjukvårdens huvudmän berörs, liksom skolans och omsorgens e-",
    "tjänster. Kommunen ser även gärna att erfarenheterna från Öst-",
    "Sverige tas tillvara.",
]
_SPLIT_JOINED = (
    "Kommunen anser att den kommunala självstyrelsen ska värnas och verksamheten inom vården "
    "ska styras med tillit. Det gäller i synnerhet i Stockholmsregionen, där samverkan mellan "
    "kommunerna i Stockholmsområdet är stark och där frågor som rör EU-kommissionen och "
    "EU-rätten ofta hanteras gemensamt. Både hälso- och sjukvården och hälso- och "
    "sjukvårdens huvudmän berörs, liksom skolans och omsorgens e-tjänster. Kommunen ser även "
    "gärna att erfarenheterna från Öst-Sverige tas tillvara."
)
_AUTO = (
    "Förvaltningarna behöver förutsättningar för verksamhetsutveckling, kunskapsutbyte och "
    "uppföljning som tar tillvara medarbetarnas erfarenheter."
)


def _response_html() -> str:
    return f"""<html lang="sv"><head><title>Remissvar</title><style>{_PAGE_CSS}</style></head>
<body>
<p>Finansdepartementet<br>103 33 Stockholm</p>
<h2>Remissvar: Med tillit växer handlingsutrymmet (SOU 2018:47)</h2>
<p>Exempelstads kommun har beretts tillfälle att yttra sig över betänkandet och lämnar
följande synpunkter.</p>
<p class="mono">{"<br>".join(_SPLIT_LINES)}</p>
<p>Kommunen delar utredningens bild av behovet av en nationell
konsultationsordning<sup>1</sup> mellan staten och kommunsektorn<sup>12</sup>. Lokalerna om
1 200 m<sup>2</sup> räcker.</p>
<section class="page"><h2>7.1 En nationell konsultationsordning</h2>
<p>Kommunstyrelsen tillstyrker förslaget om en nationell konsultationsordning för
välfärdssektorn.</p>
<p class="auto">{_AUTO}</p>
</section>
<section class="page"><h2>7.2 Ett nationellt policylab</h2>
<p>Kommunstyrelsen avstyrker förslaget om ett nationellt policylab.</p>
<ul><li>Arenor finns redan.</li><li>Kostnaden är inte utredd.</li></ul>
</section>
</body></html>"""


@pytest.fixture(scope="module")
def response_pdf() -> bytes:
    pdf: bytes = weasyprint.HTML(string=_response_html()).write_pdf()
    return pdf


@pytest.fixture(scope="module")
def response(response_pdf: bytes) -> ExtractedText:
    return extract_text(response_pdf, filename="exempelstad.pdf")


def _png(width: int = 400, height: int = 300) -> str:
    image = Image.new("RGB", (width, height), (210, 210, 210))
    for x in range(40, 360):  # a few dark strokes, as on a scanned page
        for y in (60, 61, 120, 121, 180, 181):
            image.putpixel((x, y), (20, 20, 20))
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def _pdf(body: str) -> bytes:
    html = f'<html lang="sv"><head><title>t</title></head><body>{body}</body></html>'
    pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    return pdf


def _check_pages(result: ExtractedText) -> None:
    """The page ranges are contiguous, in order, and cover the whole text."""
    assert result.pages[0][1] == 0
    assert result.pages[-1][2] == len(result.text)
    assert [page for page, _, _ in result.pages] == list(range(1, len(result.pages) + 1))
    for (_, _, end), (_, start, _) in zip(result.pages, result.pages[1:], strict=False):
        assert end == start
    assert result.text == result.text.strip()
    assert "\n\n\n" not in result.text
    assert "\n" not in result.text.replace("\n\n", "")


# --- PDF -----------------------------------------------------------------------------------


def test_pdf_paragraphs_hyphens_and_footnote_marks_come_out_clean(
    response: ExtractedText,
) -> None:
    paragraphs = response.text.split("\n\n")
    assert paragraphs == [
        "Exempelstads kommun Dnr KS 2018/412",
        "Finansdepartementet 103 33 Stockholm",
        "Remissvar: Med tillit växer handlingsutrymmet (SOU 2018:47)",
        "Exempelstads kommun har beretts tillfälle att yttra sig över betänkandet och lämnar "
        "följande synpunkter.",
        _SPLIT_JOINED,
        "Kommunen delar utredningens bild av behovet av en nationell konsultationsordning "
        "mellan staten och kommunsektorn. Lokalerna om 1 200 m2 räcker.",
        "7.1 En nationell konsultationsordning",
        "Kommunstyrelsen tillstyrker förslaget om en nationell konsultationsordning för "
        "välfärdssektorn.",
        _AUTO,
        "7.2 Ett nationellt policylab",
        "Kommunstyrelsen avstyrker förslaget om ett nationellt policylab.",
        "Arenor finns redan.",
        "Kostnaden är inte utredd.",
    ]
    assert response.format == "pdf"
    assert response.needs_ocr is False
    assert "\n" not in response.text.replace("\n\n", "")


def test_pdf_running_headers_footers_page_numbers_and_contact_lines_are_removed(
    response: ExtractedText, response_pdf: bytes
) -> None:
    raw = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response_pdf)).pages)
    for removed in ("Sida 2 av 3", "Sida 3 av 3", "Postadress", "0123-45 67 89"):
        assert removed in raw  # the PDF has it …
        assert removed not in response.text  # … the text does not
    assert "Sida" not in response.text
    # the running header is kept once, at the top of page 1, as the letterhead
    assert response.text.count("Exempelstads kommun Dnr KS 2018/412") == 1
    assert response.text.startswith("Exempelstads kommun Dnr KS 2018/412\n\n")
    assert response.text.count("Dnr KS") == 1
    # pages 2 and 3: the header, and "Sida N av 3"; page 1: the contact line, which shares
    # its line with "Sida 1 av 3"
    assert response.notes == (
        "2 rader sidhuvud och sidfot togs bort.",
        "2 sidnummer togs bort.",
        "1 rad med kontaktuppgifter (brevhuvud) togs bort.",
    )


def test_pdf_phrase_on_page_three_maps_to_page_three(response: ExtractedText) -> None:
    _check_pages(response)
    assert len(response.pages) == 3
    for phrase, page in [
        ("Kommunstyrelsen avstyrker förslaget om ett nationellt policylab.", 3),
        ("7.2 Ett nationellt policylab", 3),
        ("Kommunstyrelsen tillstyrker förslaget", 2),
        ("kunskapsutbyte", 2),
        ("Öst-Sverige", 1),
    ]:
        start = response.text.index(phrase)
        end = start + len(phrase)
        assert response.text[start:end] == phrase
        assert response.page_of(start) == page
        assert response.page_of(end - 1) == page
        number, page_start, page_end = response.pages[page - 1]
        assert number == page and page_start <= start and end <= page_end
    assert response.page_of(len(response.text)) == 3
    with pytest.raises(ValueError):
        response.page_of(len(response.text) + 1)


def test_pdf_paragraph_running_over_a_page_break_is_one_paragraph_on_two_pages() -> None:
    vocabulary = [
        *("kommunen", "regionen", "staten", "styrning", "tillit", "uppföljning", "samverkan"),
        *("förslaget", "verksamheten", "medborgarna", "kvalitet", "resurser", "ansvar"),
        *("ledning", "kunskap", "utveckling"),
    ]
    words = " ".join(vocabulary[(i * 7 + i // 16) % len(vocabulary)] for i in range(700))
    pdf = _pdf(
        "<style>@page { size: A6; margin: 12mm; @bottom-center { content: counter(page) } }"
        "body { font: 10pt/1.3 DejaVu Serif; }</style>"
        f"<p>Början av stycket. {words} slutet av stycket.</p><p>Nästa stycke.</p>"
    )
    result = extract_text(pdf, filename="lang.pdf")
    _check_pages(result)
    paragraphs = result.text.split("\n\n")
    assert paragraphs == [f"Början av stycket. {words} slutet av stycket.", "Nästa stycke."]
    assert len(result.pages) > 2
    assert result.page_of(result.text.index("Början")) == 1
    assert result.page_of(result.text.index("slutet av stycket")) == len(result.pages)
    assert f"{len(result.pages)} sidnummer togs bort." in result.notes
    assert not any("sidhuvud" in note for note in result.notes)


def test_pdf_footnote_at_a_page_break_does_not_cut_the_paragraph() -> None:
    vocabulary = ["kommunen", "regionen", "staten", "styrningen", "tilliten", "samverkan"]
    words = " ".join(vocabulary[(i * 5 + i // 7) % len(vocabulary)] for i in range(260))
    pdf = _pdf(
        "<style>@page { size: A6; margin: 12mm } body { font: 10pt/1.3 DejaVu Serif }"
        ".fn { float: footnote; font-size: 8pt }</style>"
        '<p>Början av stycket<span class="fn">Se bilaga 2 om styrning.</span>'
        f" {words} slutet av stycket.</p><p>Nästa stycke.</p>"
    )
    result = extract_text(pdf, filename="fotnot.pdf")
    _check_pages(result)
    # the footnote is read before the paragraph it interrupted, which stays whole
    assert result.text.split("\n\n") == [
        "1. Se bilaga 2 om styrning.",
        f"Början av stycket {words} slutet av stycket.",
        "Nästa stycke.",
    ]
    assert result.page_of(result.text.index("Se bilaga")) == 1
    assert result.page_of(result.text.index("Början")) == 1
    assert result.page_of(result.text.index("slutet av stycket")) == len(result.pages) > 1


@pytest.mark.parametrize(
    ("where", "content", "printed"),
    [
        ("bottom-center", '"- " counter(page) " -"', "- 2 -"),
        ("bottom-right", 'counter(page) " (" counter(pages) ")"', "2 (2)"),
        ("top-right", '"Sida " counter(page) " av " counter(pages)', "Sida 2 av 2"),
        ("bottom-center", '"Page " counter(page) " of " counter(pages)', "Page 2 of 2"),
        ("bottom-right", "counter(page)", "2"),
    ],
)
def test_pdf_page_numbers_in_their_usual_forms_are_removed(
    where: str, content: str, printed: str
) -> None:
    pdf = _pdf(
        f"<style>@page {{ size: A5; margin: 20mm; @{where} {{ content: {content}; }} }}</style>"
        "<p>Regionen tillstyrker förslaget.</p>"
        '<p style="break-before: page">Regionen avstyrker förslaget om policylab.</p>'
    )
    raw = PdfReader(io.BytesIO(pdf)).pages[1].extract_text()
    assert printed in raw
    result = extract_text(pdf, filename="sidnummer.pdf")
    assert result.text == (
        "Regionen tillstyrker förslaget.\n\nRegionen avstyrker förslaget om policylab."
    )
    assert result.notes == ("2 sidnummer togs bort.",)
    assert result.page_of(result.text.index("avstyrker")) == 2


def test_pdf_header_with_a_page_number_goes_even_on_two_pages_with_their_own_first_page() -> None:
    pdf = _pdf(
        "<style>@page { size: A5; margin: 22mm 18mm;"
        ' @top-left { content: "Exempelstads kommun Sida " counter(page) " (" counter(pages)'
        ' ")"; width: 100mm } }'
        ' @page :first { @top-left { content: "Exempelstads kommun YTTRANDE"; width: 100mm } }'
        "</style><p>Kommunen tillstyrker förslaget.</p>"
        '<p style="break-before: page">Kommunen avstyrker förslaget om policylab.</p>'
    )
    raw = PdfReader(io.BytesIO(pdf)).pages[1].extract_text()
    assert "Exempelstads kommun Sida 2 (2)" in raw
    result = extract_text(pdf, filename="tva-sidor.pdf")
    assert result.text == (
        "Exempelstads kommun YTTRANDE\n\nKommunen tillstyrker förslaget.\n\n"
        "Kommunen avstyrker förslaget om policylab."
    )
    assert result.notes == ("1 rad sidhuvud och sidfot togs bort.",)


def _custom_encoded_pdf() -> bytes:
    """A response as WeasyPrint writes it when a running header in the body's font holds
    line breaks (``white-space: pre``): that font gets an embedded character map of its own,
    which pdfminer (under pdfplumber) cannot read, and it then skips the font's glyphs —
    here the whole body — without an error. The headings, in the bold font, stay."""
    css = """
    @page { size: A4; margin: 28mm 22mm 25mm 25mm;
      @top-right { content: "YTTRANDE\\ADatum: 2026-11-10\\ADnr KS 2026/112";
                   font-size: 8.5pt; white-space: pre; }
      @bottom-right { content: "Sida " counter(page) " av " counter(pages); } }
    body { font-family: 'DejaVu Serif', serif; font-size: 11pt; }
    """
    body = "".join(
        f"<h2>{n}.1 Förslag nummer {n}</h2><p>Exempelstads kommun tillstyrker förslaget i "
        f"avsnitt {n}.1. Kommunen har under flera år arbetat med frågan och ser att en "
        f"samordnad planering ger bättre förutsättningar för verksamheten.</p>"
        for n in range(4, 12)
    )
    head = f"<head><title>t</title><style>{css}</style></head>"
    html = f'<html lang="sv">{head}<body>{body}</body></html>'
    pdf: bytes = weasyprint.HTML(string=html).write_pdf()
    return pdf


def test_pdf_whose_font_pdfminer_cannot_decode_is_read_with_pdfium() -> None:
    import pdfplumber

    data = _custom_encoded_pdf()
    with pdfplumber.open(io.BytesIO(data)) as pdf:  # the failure this guards against
        plumbed = "".join(page.extract_text() or "" for page in pdf.pages)
    assert "tillstyrker" not in plumbed and "Förslag nummer 4" in plumbed
    result = extract_text(data, filename="kodat.pdf")
    for n in range(4, 12):
        assert f"Exempelstads kommun tillstyrker förslaget i avsnitt {n}.1." in result.text
    assert "lästes med PDFium" in " ".join(result.notes)
    assert "Sida 1 av" not in result.text  # page numbers still go
    assert "samordnad planering" in result.text
    _check_pages(result)


def test_pdf_of_an_image_only_needs_ocr_and_says_so_in_swedish() -> None:
    if shutil.which("ocrmypdf"):
        pytest.skip("ocrmypdf is installed here: the scan would be read with OCR")
    pdf = _pdf(f'<img alt="skannad sida" src="{_png()}">')
    result = extract_text(pdf, filename="skannad.pdf")
    assert result.needs_ocr is True
    assert result.text == ""
    assert result.pages == ((1, 0, 0),)
    assert result.notes == (
        "skannad.pdf saknar textlager (skannad): texten måste läsas med OCR innan "
        "ståndpunkterna kan tas fram.",
    )


def test_pdf_with_one_scanned_page_keeps_the_text_and_names_the_page() -> None:
    pdf = _pdf(
        "<p>Kommunen tillstyrker förslaget.</p>"
        f'<div style="break-before: page"><img alt="skannad" src="{_png()}"></div>'
    )
    result = extract_text(pdf, filename="blandad.pdf")
    assert result.text == "Kommunen tillstyrker förslaget."
    assert result.needs_ocr is True
    assert result.pages == ((1, 0, 31), (2, 31, 31))
    assert "Sidan 2 saknar textlager (skannad) och behöver OCR." in result.notes


def test_pdf_broken_encrypted_or_empty_is_refused_in_swedish(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError) as broken:
        extract_text(b"%PDF-1.7\n1 0 obj << /Type /Catalog >> trasig", filename="trasig.pdf")
    assert "trasig.pdf är ingen läsbar PDF" in broken.value.message
    assert broken.value.hint and "hämta den igen" in broken.value.hint

    writer = PdfWriter(clone_from=io.BytesIO(_pdf("<p>Hemligt remissvar.</p>")))
    writer.encrypt(user_password="hemligt", owner_password="ägare")
    locked = io.BytesIO()
    writer.write(locked)
    path = tmp_path / "låst.pdf"
    path.write_bytes(locked.getvalue())
    with pytest.raises(InvalidInputError) as encrypted:
        extract_text(path)
    assert encrypted.value.message == "låst.pdf är lösenordsskyddad och kan inte läsas."
    assert encrypted.value.hint and "utan lösenord" in encrypted.value.hint

    empty = tmp_path / "tom.pdf"
    empty.write_bytes(b"")
    with pytest.raises(InvalidInputError, match=r"tom\.pdf är tom"):
        extract_text(empty)


def test_damaged_pdfs_give_text_or_a_swedish_error_never_a_crash(response_pdf: bytes) -> None:
    rng = random.Random(18)
    damaged = [response_pdf[:cut] for cut in (20, 400, len(response_pdf) // 2, -200)]
    for _ in range(12):
        data = bytearray(response_pdf)
        for _ in range(25):
            data[rng.randrange(len(data))] = rng.randrange(256)
        damaged.append(bytes(data))
    refused = 0
    for data in damaged:
        try:
            result = extract_text(data, filename="skadad.pdf")
        except InvalidInputError as error:
            assert error.message.startswith("skadad.pdf") and error.hint
            refused += 1
        else:
            _check_pages(result)
    assert refused >= 2  # the first two cuts leave no PDF to read


def test_pdf_encrypted_without_a_user_password_is_read() -> None:
    writer = PdfWriter(clone_from=io.BytesIO(_pdf("<p>Regionen avstyrker förslaget.</p>")))
    writer.encrypt(user_password="", owner_password="ägare")
    out = io.BytesIO()
    writer.write(out)
    assert extract_text(out.getvalue(), filename="skyddad.pdf").text == (
        "Regionen avstyrker förslaget."
    )


# --- DOCX ----------------------------------------------------------------------------------


def _stance_docx() -> bytes:
    document = docx.Document()
    section = document.sections[0]
    section.header.paragraphs[0].text = "Region Exempel – Regionstyrelsen"
    section.header.add_paragraph("YTTRANDE Sida 1 (2)")
    section.header.add_paragraph("Telefon 010-123 45 67, e-post region@exempel.se")
    section.footer.paragraphs[0].text = "Postadress: Box 1, 123 45 Exempelby · Sida 1"
    document.add_heading("Yttrande över SOU 2018:47", level=1)
    intro = document.add_paragraph("Region Exempel har beretts tillfälle att yttra sig")
    mark = intro.add_run("2")
    mark.font.superscript = True
    intro.add_run(" och lämnar följande synpunkter.")
    broken = document.add_paragraph("Regionen vill särskilt")
    broken.add_run().add_break(WD_BREAK.LINE)
    broken.add_run("framhålla hälso- och sjukvården.")
    document.add_paragraph("")
    table = document.add_table(rows=4, cols=3)
    rows = [
        ("Avsnitt", "Ståndpunkt", "Kommentar"),
        ("7.1", "Tillstyrker", "Regionen välkomnar en nationell konsultationsordning."),
        ("7.2", "Avstyrker", "Ett nationellt policylab behövs inte."),
        ("7.3", "Inga synpunkter", ""),
    ]
    for row, values in zip(table.rows, rows, strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    comment = table.rows[1].cells[2].add_paragraph("Den bör omfatta regionerna.")
    assert comment.text
    document.add_paragraph("Punktlista om samverkan", style="List Bullet")
    document.add_paragraph("Anna Andersson, regionstyrelsens ordförande")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


def test_docx_paragraphs_and_stance_table_rows_in_reading_order() -> None:
    result = extract_text(_stance_docx(), filename="region.docx")
    assert result.text.split("\n\n") == [
        "Region Exempel – Regionstyrelsen",  # the header on page 1: the letterhead, once
        "YTTRANDE",
        "Yttrande över SOU 2018:47",
        "Region Exempel har beretts tillfälle att yttra sig och lämnar följande synpunkter.",
        "Regionen vill särskilt framhålla hälso- och sjukvården.",
        "Avsnitt | Ståndpunkt | Kommentar",
        "7.1 | Tillstyrker | Regionen välkomnar en nationell konsultationsordning. "
        "Den bör omfatta regionerna.",
        "7.2 | Avstyrker | Ett nationellt policylab behövs inte.",
        "7.3 | Inga synpunkter",
        "Punktlista om samverkan",
        "Anna Andersson, regionstyrelsens ordförande",
    ]
    assert "Sida" not in result.text and "Telefon" not in result.text  # page number, contact
    assert "Postadress" not in result.text  # the footer
    assert result.notes[0] == (
        "Sidhuvudet på första sidan togs med som brevhuvud; sidfot och fotnoter lästes inte."
    )
    assert result.format == "docx"
    assert result.pages == ((1, 0, len(result.text)),)
    assert "Word-filen anger inga sidor: all text räknas till sidan 1." in result.notes
    quote = "7.2 | Avstyrker"
    start = result.text.index(quote)
    assert result.text[start : start + len(quote)] == quote
    assert result.page_of(start) == 1


def _rendered_break() -> Any:
    """``<w:lastRenderedPageBreak/>``, as Word writes where a page began when it saved."""
    from docx.oxml import OxmlElement

    return OxmlElement("w:lastRenderedPageBreak")


def test_docx_pages_are_the_ones_word_last_laid_out() -> None:
    document = docx.Document()
    document.add_paragraph("Inledning.")
    split = document.add_paragraph("Kommunen tillstyrker förslaget om en nationell ")
    rest = split.add_run("konsultationsordning för välfärden.")
    rest._r.insert(0, _rendered_break())
    opposed = document.add_paragraph()
    opposed.add_run("Regionen avstyrker policylab.")._r.insert(0, _rendered_break())
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "7.3"
    table.cell(0, 1).text = "Inga synpunkter"
    table.cell(0, 0).paragraphs[0].runs[0]._r.insert(0, _rendered_break())
    out = io.BytesIO()
    document.save(out)
    result = extract_text(out.getvalue(), filename="word.docx")
    assert result.text == (
        "Inledning.\n\nKommunen tillstyrker förslaget om en nationell konsultationsordning "
        "för välfärden.\n\nRegionen avstyrker policylab.\n\n7.3 | Inga synpunkter"
    )
    _check_pages(result)
    starts = [result.text.index(p) for p in ("konsultationsordning", "Regionen", "7.3 |")]
    assert result.pages == (
        (1, 0, starts[0]),
        (2, starts[0], starts[1]),
        (3, starts[1], starts[2]),
        (4, starts[2], len(result.text)),
    )
    assert result.page_of(result.text.index("nationell")) == 1
    assert result.page_of(result.text.index("för välfärden")) == 2
    assert "Sidnumren är de Word angav när filen senast sparades." in result.notes


def test_docx_merged_cells_are_read_once() -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    merged = table.cell(0, 0).merge(table.cell(1, 0))
    merged.text = "7.4–7.5"
    table.cell(0, 1).text = "Delvis"
    table.cell(0, 2).text = "Under förutsättning av finansiering."
    table.cell(1, 1).text = "Tillstyrker"
    out = io.BytesIO()
    document.save(out)
    result = extract_text(out.getvalue(), filename="sammanslagen.docx")
    assert result.text == ("7.4–7.5 | Delvis | Under förutsättning av finansiering.\n\nTillstyrker")


def test_docx_that_is_not_a_word_file_is_refused() -> None:
    archive = io.BytesIO()
    import zipfile

    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("content.xml", "<office/>")
    with pytest.raises(InvalidInputError, match="ingen Word-fil"):
        extract_text(archive.getvalue(), filename="yttrande.odt")
    with pytest.raises(InvalidInputError, match=r"heter \.docx men är ingen Word-fil"):
        extract_text(b"inte alls en zip", filename="yttrande.docx")


# --- Markdown, text, HTML ------------------------------------------------------------------


def test_markdown_markup_is_removed_and_paragraphs_kept(tmp_path: Path) -> None:
    path = tmp_path / "svar.md"
    path.write_text(
        "# Yttrande\n\n"
        "Sektionen för demokrati och styrning\nChristine Feuk\n\n"
        "## Sammanfattning\n\n"
        "- **SKL tillstyrker** förslaget att utforma en nationell\n"
        "  konsultationsordning[^1].\n"
        "- **SKL avstyrker** i nuläget förslaget kring ett [policylab](https://example.org).\n"
        "1. *Punkt* ett med `kod`.\n\n"
        "---\n\n"
        "| Avsnitt | Ståndpunkt |\n|---|---|\n| 7.1 | Tillstyrker |\n\n"
        "> Citat ur betänkandet som är verk-\n> samhetsnära.\n\n"
        "[^1]: En fotnot som inte ska vara med.\n",
        encoding="utf-8",
    )
    result = extract_text(path)
    assert result.format == "md"
    assert result.text.split("\n\n") == [
        "Yttrande",
        "Sektionen för demokrati och styrning Christine Feuk",
        "Sammanfattning",
        "SKL tillstyrker förslaget att utforma en nationell konsultationsordning.",
        "SKL avstyrker i nuläget förslaget kring ett policylab.",
        "Punkt ett med kod.",
        "Avsnitt | Ståndpunkt",
        "7.1 | Tillstyrker",
        "Citat ur betänkandet som är verksamhetsnära.",
    ]


def test_text_in_cp1252_is_decoded_and_lines_joined() -> None:
    raw = (
        "Kommunstyrelsen i Exempelstad\r\n\r\n"
        "Kommunen tillstyrker förslagen i avsnitt 7.1–\r\n7.3 men ifrågasätter\r\n"
        "behovet av ett policylab – det finns redan arenor…\r\n\r\n"
        "Sida 1 av 2\x0cSida 2 av 2\r\n\r\nUtan erinran i övrigt.\r\n"
    ).encode("cp1252")
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    result = extract_text(raw, filename="svar.txt")
    assert result.text == (
        "Kommunstyrelsen i Exempelstad\n\n"
        "Kommunen tillstyrker förslagen i avsnitt 7.1–7.3 men ifrågasätter behovet av ett "
        "policylab – det finns redan arenor…\n\n"
        "Utan erinran i övrigt."
    )
    assert result.format == "txt"
    assert result.notes == ("Filen var inte UTF-8 och lästes som Windows-1252 (cp1252).",)
    _check_pages(result)
    assert result.page_of(result.text.index("Utan erinran")) == 2


@pytest.mark.parametrize(
    ("lines", "joined"),
    [
        ("verk-\nsamheten", "verksamheten"),
        ("Stockholms-\nområdet", "Stockholmsområdet"),
        ("hälso-\noch sjukvård", "hälso- och sjukvård"),
        ("kvalitets-\neller resultatmått", "kvalitets- eller resultatmått"),
        ("sjuk-\nhälso- och tandvård", "sjuk- hälso- och tandvård"),
        ("EU-\nkommissionen", "EU-kommissionen"),
        ("18-\nåringar", "18-åringar"),
        ("e-\ntjänster", "e-tjänster"),
        ("icke-\nstatliga", "icke-statliga"),
        ("Öst-\nSverige", "Öst-Sverige"),
        ("covid-\n19", "covid-19"),
        ("verk\u00ad\nsamheten", "verksamheten"),
        ("åren 2018 -\n2020", "åren 2018 - 2020"),
        ("och/\neller", "och/eller"),
        ("7.1–\n7.3", "7.1–7.3"),
        ("kommunen –\nregionen", "kommunen – regionen"),
    ],
)
def test_line_end_hyphens_are_joined_only_where_a_word_was_split(lines: str, joined: str) -> None:
    assert extract_text(f"Före {lines} efter.".encode(), filename="rad.txt").text == (
        f"Före {joined} efter."
    )


def test_superscript_footnote_marks_go_but_units_stay() -> None:
    text = "Kommunen¹ betalar 300 kr/m² för 20 km² och 5 m³, se problem²³ och 10² fall."
    assert extract_text(text.encode(), filename="fotnot.txt").text == (
        "Kommunen betalar 300 kr/m² för 20 km² och 5 m³, se problem och 10² fall."
    )


def test_html_keeps_headings_and_list_items_and_drops_scripts_and_navigation() -> None:
    page = """<!DOCTYPE html><html lang="sv"><head><title>Remissvar</title>
<style>p { color: red }</style><script>var x = "tillstyrker";</script></head>
<body><header>Kommunens webbplats</header><nav><a href="/">Start</a> | <a>Kontakt</a></nav>
<main><h1>Remissvar från Exempelstads kommun</h1>
<p>Kommunen   tillstyrker
förslaget<sup>3</sup> om en &quot;nationell&quot; konsultationsordning.</p>
<ul><li>Samverkan</li><li>Uppföljning och <b>utvärdering</b></li></ul>
<table><tr><th>Avsnitt</th><th>Ståndpunkt</th></tr><tr><td>7.2</td><td>Avstyrker</td></tr>
</table><div>Med vänlig hälsning<br>Eva Exempel</div><noscript>Aktivera skript</noscript>
</main><footer>Postadress 123 45 Exempelstad</footer></body></html>"""
    result = extract_text(page.encode(), filename="svar.html")
    assert result.format == "html"
    assert result.text.split("\n\n") == [
        "Remissvar från Exempelstads kommun",
        'Kommunen tillstyrker förslaget om en "nationell" konsultationsordning.',
        "Samverkan",
        "Uppföljning och utvärdering",
        "Avsnitt | Ståndpunkt",
        "7.2 | Avstyrker",
        "Med vänlig hälsning Eva Exempel",
    ]


# --- formats and errors --------------------------------------------------------------------


def test_document_format_trusts_the_content_before_the_name() -> None:
    pdf = _pdf("<p>Text.</p>")
    assert document_format("svar.txt", pdf) == "pdf"
    assert document_format(None, _stance_docx()) == "docx"
    assert document_format("svar.pdf.docx", _stance_docx()) == "docx"
    assert document_format("svar.md", b"# Rubrik") == "md"
    assert document_format("svar.HTM", b"<p>x</p>") == "html"
    assert document_format(None, b"<!DOCTYPE html><html><p>x</p></html>") == "html"
    assert document_format(None, "Kommunen ställer sig bakom förslaget.".encode()) == "txt"
    assert document_format("svar.txt", b"Kommunen tillstyrker.") == "txt"


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("svar.doc", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "Word 97–2003"),
        ("svar.rtf", b"{\\rtf1\\ansi Kommunen}", "RTF"),
        ("svar.odt", b"Kommunen", "OpenDocument"),
        ("svar.bin", b"\x00\x01\x02\x03binary", "binärfil"),
        ("svar.xyz", b"Kommunen", "filtypen .xyz"),
        ("svar.txt", b"   \n\n ", "svar.txt är tom"),
        ("svar.txt", b"\n\x0c\n", "svar.txt är tom"),
    ],
)
def test_unknown_or_empty_files_are_refused_with_a_hint(
    name: str, data: bytes, message: str
) -> None:
    with pytest.raises(InvalidInputError) as error:
        extract_text(data, filename=name)
    assert message in error.value.message
    assert error.value.hint


def test_a_missing_path_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="kunde inte läsas"):
        extract_text(tmp_path / "finns-inte.pdf")


# --- with the stance reader ----------------------------------------------------------------


def test_extracted_pdf_and_docx_feed_the_stances_with_quotes_on_their_pages(
    response: ExtractedText,
) -> None:
    from tillit.analyses import Proposal, extract_stances

    proposals = [
        Proposal("7.1", "En nationell konsultationsordning"),
        Proposal("7.2", "Ett nationellt policylab"),
        Proposal("7.3", "Försöksverksamhet"),
    ]
    found = {
        (s.proposal, s.stance, response.page_of(s.start))
        for s in extract_stances(response.text, proposals)
        if response.text[s.start : s.end] == s.quote
    }
    assert found == {("7.1", "tillstyrker", 2), ("7.2", "avstyrker", 3)}

    table = extract_text(_stance_docx(), filename="region.docx")
    rows = [
        (s.proposal, s.stance, s.quote)
        for s in extract_stances(table.text, proposals)
        if table.text[s.start : s.end] == s.quote
    ]
    assert [(proposal, stance) for proposal, stance, _ in rows] == [
        ("7.1", "tillstyrker"),
        ("7.2", "avstyrker"),
        ("7.3", "inga_synpunkter"),
    ]
    assert rows[2][2] == "7.3 | Inga synpunkter"


# --- the seed response as a typeset PDF ----------------------------------------------------

SEED = "seeds/004_7da4c9a1cc57801d.txt"  # SKL's response on SOU 2018:47/48 (Markdown)


def _seed_html(markdown: str) -> str:
    """The seed's Markdown as HTML typeset like a printed response: justified, hyphenated by
    WeasyPrint (Swedish patterns), running header and "N (M)" footer on every page."""
    blocks = []
    for block in markdown.split("\n\n"):
        lines = block.strip().split("\n") if block.strip().startswith("- ") else [block.strip()]
        for line in filter(None, lines):
            text = html.escape(" ".join(line.replace("**", "").split()))
            heading = re.match(r"^(#+)\s*(.*)$", text)
            if heading:
                level = min(len(heading.group(1)) + 1, 6)
                blocks.append(f"<h{level}>{heading.group(2)}</h{level}>")
            elif text.startswith("- "):
                blocks.append(f"<ul><li>{text[2:]}</li></ul>")
            else:
                blocks.append(f"<p>{text}</p>")
    css = """@page { size: A4; margin: 28mm 24mm;
      @top-left { content: "Sveriges Kommuner och Landsting"; font: 9pt DejaVu Sans }
      @top-right { content: "2018-10-15 Dnr 18/01234"; font: 9pt DejaVu Sans }
      @bottom-center { content: counter(page) " (" counter(pages) ")"; font: 9pt DejaVu Sans } }
    body { font: 11pt/1.35 DejaVu Serif; hyphens: auto; text-align: justify }
    h2, h3, h4, h5 { font-family: DejaVu Sans }"""
    return (
        f'<html lang="sv"><head><title>SKL</title><style>{css}</style></head>'
        f"<body>{''.join(blocks)}</body></html>"
    )


def test_the_seed_typeset_as_a_pdf_reads_paragraph_for_paragraph_as_its_markdown(
    shared_data: Path,
) -> None:
    raw = (shared_data.parent / SEED).read_bytes()
    markdown = extract_text(raw, filename="skl.md")
    pdf: bytes = weasyprint.HTML(string=_seed_html(raw.decode("utf-8"))).write_pdf()
    printed = extract_text(pdf, filename="skl.pdf")
    assert len(printed.pages) >= 8
    _check_pages(printed)
    hyphenated = sum(
        line.rstrip().endswith(("-", "\u2010"))
        for page in PdfReader(io.BytesIO(pdf)).pages
        for line in page.extract_text().splitlines()
    )
    assert hyphenated > 20  # WeasyPrint split that many words at line ends
    letterhead = "Sveriges Kommuner och Landsting 2018-10-15 Dnr 18/01234"
    assert printed.text == f"{letterhead}\n\n{markdown.text}"
    assert printed.notes == (
        f"{len(printed.pages) - 1} rader sidhuvud och sidfot togs bort.",
        f"{len(printed.pages)} sidnummer togs bort.",
    )
    last = markdown.text.split("\n\n")[-1]
    assert printed.page_of(printed.text.index(last)) == len(printed.pages)
