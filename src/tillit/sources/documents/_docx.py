"""DOCX → text with python-docx.

The body is read in document order: each paragraph with text is a paragraph (headings and
list items too; a manual line break inside one becomes a space), and each table row is one
paragraph with its cells in reading order, separated by ``" | "`` (a merged cell counted
once; a cell's own paragraphs joined by spaces; a nested table read inside its cell).
Footers, footnotes, comments, text boxes and deleted text (tracked changes) are not part of
the body and are left out; footnote reference marks and superscript digits inside the text
are dropped. The header shown on the first page (the first section's first-page header, or
its header) is the letterhead: its lines open the text once, as the running header of a PDF
does on page 1, less page numbers and contact lines; the respondent is often named only
there.

**Pages.** A DOCX holds no pages: Word lays them out when it opens the file. But Word, when
it saves, marks where each page began the last time it laid the document out
(``<w:lastRenderedPageBreak/>``, also inside a paragraph that runs over a page break). When
the file has such marks, they give the pages: a paragraph split by one is one paragraph whose
characters map to both pages, and a table row that a mark falls in goes on the new page (Word
moves a row that does not fit to the next page whole). Files written
by other programs (python-docx, LibreOffice, Google Docs) have none, and the whole text is
page 1: counting only the manual page breaks would give too low page numbers, not a page.
"""

from __future__ import annotations

import io
import itertools
import zipfile
from collections.abc import Iterator
from typing import Any

from tillit.errors import InvalidInputError
from tillit.sources.documents._clean import (
    assemble,
    clean_line,
    is_contact_line,
    without_page_number,
)
from tillit.sources.documents._model import ExtractedText

__all__ = ["CELL_SEPARATOR", "extract_docx"]

CELL_SEPARATOR = " | "
_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_RENDERED_BREAK = f"{_W}lastRenderedPageBreak"
_PAGE = "\f"  # marks a rendered page break inside the text read from the XML


def extract_docx(data: bytes, *, name: str = "DOCX-filen") -> ExtractedText:
    """The text of the Word document ``data``. Raises :class:`InvalidInputError` when it is
    not a readable DOCX or has no text."""
    import docx
    from docx.opc.exceptions import PackageNotFoundError

    try:
        document = docx.Document(io.BytesIO(data))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise InvalidInputError(
            f"{name} är ingen läsbar Word-fil (DOCX).",
            hint="Öppna filen i Word eller LibreOffice och spara den som .docx eller PDF igen.",
        ) from error
    except Exception as error:  # lxml raises its own on a broken document part
        raise InvalidInputError(
            f"{name} kunde inte läsas som Word-fil ({type(error).__name__}).",
            hint="Öppna filen i Word eller LibreOffice och spara den som .docx eller PDF igen.",
        ) from error
    body = document.element.body
    letterhead = _letterhead(document)
    pages: list[list[list[str]]] = [[[line] for line in letterhead]]
    continued: set[int] = set()
    for block in _blocks(body):
        parts = block.split(_PAGE)
        pages[-1].append([parts[0]])
        for before, part in itertools.pairwise(parts):
            pages.append([[part]])
            if before.strip() and part.strip():
                continued.add(len(pages))
    text, ranges = assemble(pages, continued=continued)
    if not text:
        raise InvalidInputError(
            f"{name} innehåller ingen text.",
            hint="Kontrollera att det är rätt fil; text i textrutor eller bilder läses inte.",
        )
    notes = [
        "Sidhuvudet på första sidan togs med som brevhuvud; sidfot och fotnoter lästes inte."
        if letterhead
        else "Sidhuvud, sidfot och fotnoter i Word-filen lästes inte."
    ]
    if len(pages) > 1:
        notes.append("Sidnumren är de Word angav när filen senast sparades.")
    else:
        notes.append("Word-filen anger inga sidor: all text räknas till sidan 1.")
    return ExtractedText(text, ranges, "docx", False, tuple(notes))


def _letterhead(document: Any) -> list[str]:
    """The lines of the header on the first page, less page numbers and contact lines."""
    if not document.sections:
        return []
    section = document.sections[0]
    try:
        header = (
            section.first_page_header
            if section.different_first_page_header_footer
            else section.header
        )
        if header.is_linked_to_previous:  # the first section: no header at all
            return []
        element = header._element
    except (AttributeError, KeyError, ValueError):
        return []
    lines = []
    for block in _blocks(element):
        line = without_page_number(clean_line(block.replace(_PAGE, " ")))
        if line and not is_contact_line(line):
            lines.append(line)
    return lines


def _blocks(body: Any) -> Iterator[str]:
    for child in body.iterchildren():
        if child.tag == f"{_W}p":
            yield _paragraph_text(child)
        elif child.tag == f"{_W}tbl":
            yield from _table_rows(child)
        elif child.tag == f"{_W}sdt":  # a content control around paragraphs or tables
            content = child.find(f"{_W}sdtContent")
            if content is not None:
                yield from _blocks(content)


def _paragraph_text(paragraph: Any) -> str:
    """The paragraph's text, with :data:`_PAGE` where Word last began a new page."""
    parts: list[str] = []
    for run in paragraph.iter(f"{_W}r"):
        if _in_text_box(run, paragraph) or _superscript_digits(run):
            continue
        for node in run:
            if node.tag == f"{_W}t":
                parts.append(node.text or "")
            elif node.tag in (f"{_W}tab", f"{_W}br", f"{_W}cr"):
                parts.append(" ")
            elif node.tag == f"{_W}noBreakHyphen":
                parts.append("-")
            elif node.tag == _RENDERED_BREAK:
                parts.append(_PAGE)
    return "".join(parts)


def _in_text_box(run: Any, paragraph: Any) -> bool:
    parent = run.getparent()
    while parent is not None and parent is not paragraph:
        if parent.tag == f"{_W}txbxContent":
            return True
        parent = parent.getparent()
    return False


def _superscript_digits(run: Any) -> bool:
    properties = run.find(f"{_W}rPr")
    if properties is None:
        return False
    align = properties.find(f"{_W}vertAlign")
    if align is None or align.get(f"{_W}val") != "superscript":
        return False
    text = "".join(node.text or "" for node in run.iter(f"{_W}t")).strip()
    return not text or all(ch.isdigit() or ch in "*†‡" for ch in text)


def _table_rows(table: Any) -> Iterator[str]:
    for row in table.iterchildren(f"{_W}tr"):
        cells: list[str] = []
        breaks = 0
        for cell in row.iterchildren(f"{_W}tc"):
            if _continues_merge(cell):
                continue
            parts: list[str] = []
            for block in cell.iterchildren():
                if block.tag == f"{_W}p":
                    parts.append(_paragraph_text(block))
                elif block.tag == f"{_W}tbl":
                    parts.extend(_table_rows(block))
            text = " ".join(parts)
            breaks = max(breaks, text.count(_PAGE))
            cells.append(" ".join(text.replace(_PAGE, " ").split()))
        while cells and not cells[-1]:
            cells.pop()
        # a row is one paragraph: a page that began inside it takes the whole row
        yield _PAGE * breaks + CELL_SEPARATOR.join(cells) if any(cells) else _PAGE * breaks


def _continues_merge(cell: Any) -> bool:
    """A cell that continues a vertical merge from the row above (read there)."""
    properties = cell.find(f"{_W}tcPr")
    if properties is None:
        return False
    merge = properties.find(f"{_W}vMerge")
    return merge is not None and merge.get(f"{_W}val") in (None, "continue")
