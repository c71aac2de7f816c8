"""The HTML → PDF/UA layer of the reports (tillit.reports._pdf with print.css): a realistic
Swedish report rendered by the real WeasyPrint, then opened with pypdf and read back: its
language, title, PDF/UA claim, structure tree, table of contents, page numbers and text."""

from __future__ import annotations

import io
import re
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from html import escape
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from pypdf.generic import ArrayObject, ContentStream, DictionaryObject, IndirectObject

from tillit.errors import InvalidInputError, TillitError
from tillit.reports import Series, series_chart
from tillit.reports._pdf import pdf_from_html, print_stylesheet
from tillit.swedish import number

TITLE = "Årsrapport 2022: Håbo kommun"
CHART_ALT = "Kostnad per invånare i Håbo och jämförbara kommuner 2015–2022"
HIDDEN = "Diagrammets värden står i tabellen nedan."
YEARS = tuple(range(2015, 2023))
# Values with a thousands separator (U+202F) and a minus sign (U+2212) once formatted.
OWN = (-1520.5, 2210.0, 2480.25, 2601.0, 2899.5, 3120.0, 3333.75, 3560.0)
PEERS = (2100.0, 2250.5, 2390.0, 2555.5, 2701.0, 2850.0, 2999.5, 3105.0)
FIRST_PARAGRAPH = (
    "Den här rapporten beskriver hur Håbo kommun utvecklats under året jämfört med "
    "kommuner som liknar den. Siffrorna kommer från Kolada och är öppna för alla att pröva."
)
SECTIONS = (
    ("kostnader", "Kostnader och effektivitet"),
    ("skola", "Förskola och grundskola"),
    ("aldreomsorg", "Äldreomsorg och stöd"),
    ("miljo", "Miljö och samhällsbyggnad"),
)


def report_html(sections: int = len(SECTIONS), paragraphs: int = 7) -> str:
    """A report shaped like the yearly report: title page with a summary, a table of contents,
    then ``sections`` sections, each with text, a chart, its data table and a source line.
    More sections than SECTIONS repeat their themes with a number."""
    chosen = [
        (f"{sid}-{i}", f"{name} ({i // len(SECTIONS) + 1})" if i >= len(SECTIONS) else name)
        for i, (sid, name) in ((i, SECTIONS[i % len(SECTIONS)]) for i in range(sections))
    ]
    toc = "".join(f'<li><a href="#{sid}">{escape(name)}</a></li>' for sid, name in chosen)
    body = "".join(_section(n, sid, name, paragraphs) for n, (sid, name) in enumerate(chosen))
    return f"""<!doctype html>
<html lang="sv">
<head><meta charset="utf-8"><title>{escape(TITLE)}</title></head>
<body>
<header class="summary">
<h1>{escape(TITLE)}</h1>
<p>{FIRST_PARAGRAPH}</p>
<h2 id="sammanfattning">Sammanfattning</h2>
<p>Kostnaden per invånare ökade till {number(OWN[-1], 0)} kronor; förändringen
första året var {number(OWN[0], 1)} kronor.</p>
</header>
<nav class="toc" aria-labelledby="toc-rubrik">
<h2 id="toc-rubrik">Innehåll</h2>
<ol>{toc}</ol>
</nav>
<main>{body}</main>
</body>
</html>"""


def _section(n: int, sid: str, name: str, paragraphs: int) -> str:
    chart = series_chart(
        [Series("Håbo", YEARS, OWN), Series("Jämförbara kommuner", YEARS, PEERS, role="peer")],
        chart_id=f"chart-{sid}",
        title=CHART_ALT if n == 0 else f"{CHART_ALT} ({name})",
        description="Linjediagram; värdena står i tabellen under diagrammet.",
        unit="kr",
        show_title=False,
    )
    rows = "".join(
        f'<tr><th scope="row">{year}</th><td>{number(own, 1)}</td><td>{number(peer, 1)}</td></tr>'
        for year, own, peer in zip(YEARS, OWN, PEERS, strict=True)
    )
    text = "".join(
        f"<p>Stycke {k + 1} om {escape(name.lower())}: kommunen följer sina mål och jämför sig "
        "med andra kommuner av samma storlek, med liknande befolkning och ekonomi. Både "
        "förändringen över tid och nivån jämfört med gruppen räknas, och skillnader som är "
        "mindre än det vanliga bruset beskrivs inte som förbättringar eller försämringar.</p>"
        for k in range(paragraphs)
    )
    return f"""<section class="report-section" aria-labelledby="{sid}">
<h2 id="{sid}">{escape(name)}</h2>
{text}
<h3>Kostnad per invånare</h3>
<figure class="chart">{chart.svg}
<figcaption>Kostnad per invånare, kronor. <span class="sr-only">{HIDDEN}</span></figcaption>
</figure>
<table class="data">
<caption>Kostnad per invånare, kronor</caption>
<thead><tr><th scope="col">År</th><th scope="col">Håbo</th><th scope="col">Jämförbara</th></tr>
</thead>
<tbody>{rows}</tbody>
</table>
<p class="source">Källa: Kolada, <a href="https://www.kolada.se/">kolada.se</a>,
nyckeltal N00011.</p>
</section>"""


@dataclass
class Rendered:
    pdf: bytes
    reader: PdfReader
    pages: list[str] = field(default_factory=list)


@pytest.fixture(scope="module")
def rendered() -> Rendered:
    pdf = pdf_from_html(report_html(), stylesheets=[print_stylesheet()])
    reader = PdfReader(io.BytesIO(pdf))
    return Rendered(pdf, reader, [page.extract_text() for page in reader.pages])


@dataclass(frozen=True)
class Node:
    tag: str
    alt: str | None
    attributes: dict[str, Any]


def _structure(reader: PdfReader) -> list[Node]:
    """The structure elements in document order (depth first)."""
    root = reader.trailer["/Root"]["/StructTreeRoot"].get_object()
    found: list[Node] = []

    def walk(obj: Any) -> Iterator[None]:
        obj = obj.get_object() if isinstance(obj, IndirectObject) else obj
        if not isinstance(obj, DictionaryObject):
            return
        if "/S" in obj:
            attributes = obj.get("/A")
            attributes = attributes.get_object() if attributes is not None else {}
            alt = obj.get("/Alt")
            found.append(Node(str(obj["/S"]), None if alt is None else str(alt), attributes))
        kids = obj.get("/K")
        kids = kids.get_object() if isinstance(kids, IndirectObject) else kids
        for kid in kids if isinstance(kids, ArrayObject) else [kids]:
            yield from walk(kid)

    for _ in walk(root):
        pass
    return found


def test_pdf_names_its_language_and_title_and_claims_pdf_ua_1(rendered: Rendered) -> None:
    catalog = rendered.reader.trailer["/Root"]
    assert catalog["/Lang"] == "sv"
    assert rendered.reader.metadata is not None
    assert rendered.reader.metadata.title == TITLE
    assert catalog["/ViewerPreferences"]["/DisplayDocTitle"].value is True
    assert catalog["/MarkInfo"]["/Marked"].value is True
    xmp = catalog["/Metadata"].get_object().get_data()
    body = xmp[xmp.index(b"<rdf:RDF") : xmp.index(b"</rdf:RDF>") + len(b"</rdf:RDF>")]
    ns = "{http://www.aiim.org/pdfua/ns/id/}part"
    parts = [d.get(ns) for d in ET.fromstring(body).iter() if d.get(ns) is not None]
    assert parts == ["1"]
    assert TITLE in xmp.decode("utf-8")


def test_structure_tree_tags_headings_tables_and_the_chart_with_its_alt_text(
    rendered: Rendered,
) -> None:
    nodes = _structure(rendered.reader)
    tags = [n.tag for n in nodes]
    for tag in ("/Document", "/H1", "/H2", "/H3", "/P", "/Table", "/THead", "/TR", "/TH", "/TD"):
        assert tag in tags, f"{tag} missing from the structure tree"
    figures = [n for n in nodes if n.tag == "/Figure"]
    assert len(figures) == len(SECTIONS)
    assert figures[0].alt == CHART_ALT
    assert all(f.alt for f in figures)
    assert tags.count("/H1") == 1
    # Every data cell names its headers: the year (th scope=row) and its column.
    cells = [n for n in nodes if n.tag == "/TD"]
    assert cells
    assert all(len(c.attributes.get("/Headers", [])) == 2 for c in cells)
    # Each chart is followed, in the tree's reading order, by a table before the next heading.
    for i, tag in enumerate(tags):
        if tag == "/Figure":
            following = [t for t in tags[i + 1 :] if t in ("/Table", "/H2", "/H3", "/Figure")]
            assert following[0] == "/Table"


def _reachable(reader: PdfReader) -> set[int]:
    """Object numbers of the structure elements reachable from the structure root."""
    root = reader.trailer["/Root"]["/StructTreeRoot"].get_object()
    seen: set[int] = set()
    kids = list(root["/K"]) if isinstance(root["/K"], ArrayObject) else [root["/K"]]
    while kids:
        kid = kids.pop()
        if not isinstance(kid, IndirectObject) or kid.idnum in seen:
            continue
        seen.add(kid.idnum)
        element = kid.get_object()
        if isinstance(element, DictionaryObject) and "/K" in element:
            more = element["/K"]
            kids.extend(more if isinstance(more, ArrayObject) else [more])
    return seen


def test_page_content_is_either_in_the_structure_tree_or_a_pagination_artifact(
    rendered: Rendered,
) -> None:
    reachable = _reachable(rendered.reader)
    parent_tree = rendered.reader.trailer["/Root"]["/StructTreeRoot"]["/ParentTree"]
    numbers = parent_tree.get_object()["/Nums"]
    for index, page in enumerate(rendered.reader.pages):
        slots = numbers[2 * index + 1].get_object()
        stack: list[str] = []
        artifact_texts = tagged = 0
        for operands, operator in ContentStream(page.get_contents(), rendered.reader).operations:
            if operator in (b"BDC", b"BMC"):
                stack.append(str(operands[0]))
                if operator == b"BDC" and "/MCID" in operands[1]:
                    slot = slots[operands[1]["/MCID"]]
                    assert isinstance(slot, IndirectObject) and slot.idnum in reachable
                    tagged += 1
            elif operator == b"EMC":
                stack.pop()
            elif operator in (b"Tj", b"TJ") and stack and stack[-1] == "/Artifact":
                artifact_texts += 1
        assert tagged > 0
        # The running title (from page 2) and "Sida N av M" are artifacts, not content.
        assert artifact_texts == (1 if index == 0 else 2)


def test_every_font_is_embedded_and_pages_tab_in_structure_order(rendered: Rendered) -> None:
    names = set()
    for page in rendered.reader.pages:
        assert page["/Tabs"] == "/S"
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            described = descendants[0].get_object() if descendants else font
            descriptor = described["/FontDescriptor"].get_object()
            assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
            names.add(str(font["/BaseFont"]).split("+")[-1])
    assert "DejaVu-Sans" in names


def test_table_of_contents_shows_the_page_each_section_starts_on(rendered: Rendered) -> None:
    pages = rendered.pages
    toc_index = next(i for i, text in enumerate(pages) if "Innehåll" in text)
    toc_lines = pages[toc_index].splitlines()
    landed = set()
    for _, name in SECTIONS:
        # The heading's page: the first page after the table of contents that starts a line
        # with it (the header line repeats only the h1).
        page = next(
            i + 1
            for i, text in enumerate(pages)
            if i > toc_index and any(line.strip() == name for line in text.splitlines())
        )
        entry = next(line for line in toc_lines if line.startswith(name))
        match = re.fullmatch(re.escape(name) + r"[ .]*?(\d+)", entry.strip())
        assert match, f"no page number after {name!r} in {entry!r}"
        assert int(match.group(1)) == page
        landed.add(page)
    assert len(landed) == len(SECTIONS)  # the sections really start on different pages


def test_every_page_says_sida_n_av_m_and_later_pages_repeat_the_title(rendered: Rendered) -> None:
    total = len(rendered.pages)
    assert total >= 5
    for n, text in enumerate(rendered.pages, start=1):
        assert f"Sida {n} av {total}" in text
        if n > 1:  # the header (no h1 after page 1 says it)
            assert TITLE in [line.strip() for line in text.splitlines()]


def test_first_page_text_reads_in_order_with_swedish_characters_intact(
    rendered: Rendered,
) -> None:
    text = rendered.pages[0]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    assert lines[0] == TITLE
    flat = re.sub(r"[ \n]+", " ", text)  # str.split() would split at U+202F too
    assert FIRST_PARAGRAPH in flat
    assert flat.index(TITLE) < flat.index(FIRST_PARAGRAPH) < flat.index("Sammanfattning")
    # U+202F between thousands and U+2212 as the minus sign survive extraction.
    assert f"ökade till {number(OWN[-1], 0)} kronor" in flat
    assert "3\u202f560" in flat
    assert f"året var {number(OWN[0], 1)} kronor" in flat
    assert "\u22121\u202f520,5" in flat
    assert "Sida 1 av" in flat
    assert "\ufffd" not in text


def test_hidden_text_stays_in_reading_order_and_urls_are_not_printed(rendered: Rendered) -> None:
    text = "".join(rendered.pages)
    # Present once per chart, in reading order: right after the visible caption text.
    assert text.count(f"Kostnad per invånare, kronor. {HIDDEN}") == len(SECTIONS)
    assert "Källa: Kolada, kolada.se, nyckeltal N00011." in re.sub(r"[ \n]+", " ", text)
    assert "https://" not in text


def test_data_table_header_row_repeats_on_every_page_a_long_table_runs_over() -> None:
    rows = "".join(
        f'<tr><th scope="row">Rad {i}</th><td>{number(i * 1000.5, 1)}</td></tr>' for i in range(120)
    )
    html = (
        f'<!doctype html><html lang="sv"><head><title>{TITLE}</title></head><body>'
        f"<h1>{TITLE}</h1><table class='data'><thead><tr><th scope='col'>Kommun</th>"
        f"<th scope='col'>Kronor per invånare</th></tr></thead><tbody>{rows}</tbody></table>"
        "</body></html>"
    )
    reader = PdfReader(io.BytesIO(pdf_from_html(html, stylesheets=[print_stylesheet()])))
    assert len(reader.pages) >= 3
    for page in reader.pages:
        assert "Kommun Kronor per invånare" in page.extract_text()


def test_print_stylesheet_is_the_packaged_css() -> None:
    css = print_stylesheet()
    path = Path(__file__).resolve().parents[1] / "src" / "tillit" / "reports" / "print.css"
    assert css == path.read_text(encoding="utf-8")
    assert "target-counter(attr(href), page)" in css


def _document(body: str, *, lang: str = ' lang="sv"', title: str = TITLE) -> str:
    return (
        f"<!doctype html><html{lang}><head><title>{title}</title></head>"
        f"<body><h1>Rubrik</h1>{body}</body></html>"
    )


@pytest.mark.parametrize(
    ("html", "words"),
    [
        (_document("<p>Text</p>", lang=""), "lang"),
        (_document("<p>Text</p>", title=""), "<title>"),
        ("   ", "tomt"),
        (_document('<img src="saknas.svg" alt="Diagram">'), "kunde inte läsas"),
        (_document('<img src="http://127.0.0.1:9/diagram.png" alt="Diagram">'), "över nätet"),
        (
            _document(
                '<img src="data:image/svg+xml,%3Csvg%20xmlns%3D%22http://www.w3.org/2000'
                '/svg%22%20width%3D%2210%22%20height%3D%2210%22/%3E">'
            ),
            "alt",
        ),
        (_document('<link rel="attachment" href="/etc/hostname">'), "bara filer i mappen"),
        (_document('<img src="../utanfor.svg" alt="Diagram">'), "bara filer i mappen"),
        (_document('<p><a href="#finns-inte">Till</a></p>'), "No anchor #finns-inte"),
        (_document('<p id="finns"><a href="#finns">Till</a><img src="d.svg" alt="D"></p>'), None),
    ],
    ids=[
        "no-lang",
        "no-title",
        "empty",
        "missing-file",
        "network",
        "no-alt",
        "file-elsewhere",
        "file-above-base",
        "link",
        "ok",
    ],
)
def test_bad_documents_raise_a_swedish_invalid_input_error(
    html: str, words: str | None, tmp_path: Path
) -> None:
    base_url = tmp_path.as_uri() + "/"
    svg = '<svg xmlns="http://www.w3.org/2000/svg" width="20" height="10"><rect width="5"/></svg>'
    (tmp_path / "d.svg").write_text(svg, encoding="utf-8")
    if words is None:  # a control: the same kind of document renders when nothing is wrong
        assert pdf_from_html(html, base_url=base_url).startswith(b"%PDF-1.7")
        return
    with pytest.raises(InvalidInputError) as raised:
        pdf_from_html(html, base_url=base_url)
    assert words in raised.value.message
    assert raised.value.message.startswith("Rapporten")
    assert raised.value.hint


def test_table_of_contents_link_to_a_missing_heading_is_an_error() -> None:
    html = _document('<nav class="toc"><ol><li><a href="#saknas">Kapitel</a></li></ol></nav>')
    with pytest.raises(InvalidInputError, match="WeasyPrint rapporterade fel"):
        pdf_from_html(html, stylesheets=[print_stylesheet()])


def test_missing_weasyprint_names_the_debian_packages(monkeypatch: pytest.MonkeyPatch) -> None:
    # Python's own way to make an import fail: the module is None in sys.modules.
    monkeypatch.setitem(sys.modules, "weasyprint", None)
    with pytest.raises(TillitError) as raised:
        pdf_from_html(_document("<p>Text</p>"))
    assert "systembibliotek saknas" in raised.value.message
    assert raised.value.hint is not None
    assert "libpango-1.0-0" in raised.value.hint
    assert "fonts-dejavu-core" in raised.value.hint
