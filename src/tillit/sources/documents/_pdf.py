"""PDF → text with pdfplumber (pypdf when pdfplumber cannot read the file or a page).

Per page the characters are grouped into lines (superscript footnote marks left out: a digit
or ``*``/``†`` raised above the baseline of the word it stands beside). Then, over the whole
document:

* running headers and footers, lines that repeat (digits aside) among the first or last three
  lines of most pages, are removed. The copy at the top of page 1 is kept, as the letterhead
  that names the respondent (``Sveriges Kommuner och Landsting 2018-10-15``), minus any page
  number at its end; every later copy, and every repeated bottom line, goes;
* page numbers and letterhead contact lines among the first and last lines of a page go
  (:mod:`._clean`);
* lines are grouped into paragraphs where the gap above a line is clearly larger than the
  page's usual line spacing, where the font size changes, where the line above stops well
  short of the right margin, or where a line starts with a bullet or a list number;
* a paragraph that runs over a page break is joined across it.

A page without any character but with an image needs OCR. When no page has text and
``ocrmypdf`` is on the PATH, it is run (``-l swe``, ``--skip-text``) and the result read
again; otherwise the result has ``needs_ocr=True``, empty text and a Swedish note.
"""

from __future__ import annotations

import io
import itertools
import logging
import re
import shutil
import statistics
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tillit.errors import InvalidInputError
from tillit.sources.documents._clean import (
    assemble,
    clean_line,
    is_contact_line,
    is_page_number,
    running_key,
    running_lines,
)
from tillit.sources.documents._model import ExtractedText

__all__ = ["extract_pdf"]

_ZONE = 3
_OCR_TIMEOUT_S = 600


@dataclass(frozen=True)
class _Line:
    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool = False


@dataclass
class _Page:
    lines: list[_Line]
    has_images: bool
    geometry: bool  # False for lines from pypdf (no positions)
    height: float = 0.0


def extract_pdf(data: bytes, *, name: str = "PDF-filen", ocr: bool = True) -> ExtractedText:
    """The text of the PDF ``data``. Raises :class:`InvalidInputError` for a file that is
    not a readable PDF or is locked with a password."""
    notes: list[str] = []
    _check_readable(data, name)
    pages = _read_pages(data, name, notes)
    without_text = [
        number for number, page in enumerate(pages, 1) if not page.lines and page.has_images
    ]
    if pages and len(without_text) == len(pages):
        if ocr and shutil.which("ocrmypdf"):
            recognised = _ocr(data, notes)
            if recognised is not None:
                result = extract_pdf(recognised, name=name, ocr=False)
                if result.text:
                    return ExtractedText(
                        result.text,
                        result.pages,
                        "pdf",
                        result.needs_ocr,
                        (*notes, "Texten lästes med OCR (ocrmypdf, svenska).", *result.notes),
                    )
        notes.append(
            f"{name} saknar textlager (skannad): texten måste läsas med OCR innan "
            "ståndpunkterna kan tas fram."
        )
        ranges = tuple((n, 0, 0) for n in range(1, len(pages) + 1))
        return ExtractedText("", ranges, "pdf", True, tuple(notes))
    paragraphs = _clean_pages(pages, notes)
    text, ranges = assemble(paragraphs, across_pages=True)
    if without_text:
        listed = ", ".join(map(str, without_text))
        which = "Sidorna" if len(without_text) > 1 else "Sidan"
        notes.append(f"{which} {listed} saknar textlager (skannad) och behöver OCR.")
    if not text and not without_text:
        raise InvalidInputError(
            f"{name} innehåller ingen text.",
            hint="Kontrollera att det är rätt fil; ladda upp remissvaret som PDF med text, "
            "DOCX eller textfil.",
        )
    return ExtractedText(text, ranges, "pdf", bool(without_text), tuple(notes))


def _check_readable(data: bytes, name: str) -> None:
    import pypdf
    from pypdf.errors import PdfReadError

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        if reader.is_encrypted and not reader.decrypt(""):
            raise InvalidInputError(
                f"{name} är lösenordsskyddad och kan inte läsas.",
                hint="Be avsändaren om en PDF utan lösenord, eller spara en kopia utan "
                "skydd och ladda upp den.",
            )
        if len(reader.pages) == 0:
            raise InvalidInputError(
                f"{name} har inga sidor.", hint="Kontrollera att det är rätt fil."
            )
    except InvalidInputError:
        raise
    except (PdfReadError, ValueError, KeyError, TypeError, OSError) as error:
        raise InvalidInputError(
            f"{name} är ingen läsbar PDF ({error}).",
            hint="Filen kan vara trasig eller ofullständigt nedladdad; hämta den igen eller "
            "spara den som PDF på nytt.",
        ) from error
    except NotImplementedError as error:  # an encryption pypdf cannot undo
        raise InvalidInputError(
            f"{name} är krypterad på ett sätt som inte kan läsas ({error}).",
            hint="Be avsändaren om en PDF utan lösenord eller kryptering.",
        ) from error


def _read_pages(data: bytes, name: str, notes: list[str]) -> list[_Page]:
    import pdfplumber

    logging.getLogger("pdfminer").setLevel(logging.ERROR)
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages: list[_Page] = []
            fallbacks: list[int] = []
            for number, page in enumerate(pdf.pages, 1):
                try:
                    pages.append(_plumber_page(page))
                except Exception:  # pdfminer raises many kinds on a damaged page
                    fallbacks.append(number)
                    pages.append(_pypdf_page(data, number - 1))
            if fallbacks:
                listed = ", ".join(map(str, fallbacks))
                notes.append(f"Sidan/sidorna {listed} lästes med pypdf (pdfplumber misslyckades).")
            return pages
    except InvalidInputError:
        raise
    except Exception:  # pdfplumber could not open it at all: try pypdf for every page
        import pypdf

        count = len(pypdf.PdfReader(io.BytesIO(data)).pages)
        notes.append("PDF-filen lästes med pypdf eftersom pdfplumber inte kunde öppna den.")
        return [_pypdf_page(data, index) for index in range(count)]


_MARKS = set("0123456789*†‡")


def _plumber_page(page: Any) -> _Page:
    chars = page.chars
    has_images = bool(page.images)
    if not chars:
        return _Page([], has_images, True, float(page.height))
    sizes = [c["size"] for c in chars if not c["text"].isspace()]
    body = statistics.median(sizes) if sizes else 10.0
    marks = _footnote_marks(chars, body)
    if marks:
        kept_ids = {id(c) for i, c in enumerate(chars) if i not in marks}
        page = page.filter(lambda obj: obj.get("object_type") != "char" or id(obj) in kept_ids)
    lines = []
    for line in page.extract_text_lines(return_chars=True, strip=True):
        text = line["text"]
        if "(cid:" in text:
            text = re.sub(r"\(cid:\d+\)", "", text)
        line_sizes = [c["size"] for c in line["chars"] if not c["text"].isspace()]
        size = statistics.median(line_sizes) if line_sizes else body
        letters = [c for c in line["chars"] if not c["text"].isspace()]
        bold = sum("bold" in c["fontname"].lower() for c in letters) > len(letters) / 2
        if text.strip():
            lines.append(
                _Line(text, line["x0"], line["x1"], line["top"], line["bottom"], size, bold)
            )
    return _Page(lines, has_images, True, float(page.height))


def _footnote_marks(chars: Sequence[dict[str, Any]], body: float) -> set[int]:
    """Indexes of the characters that are footnote marks: digits (or ``*``/``†``/``‡``)
    raised by more than a quarter of the neighbouring text's size above its baseline, no
    larger than it, right beside it, and no larger than the page's usual text."""

    def small(char: dict[str, Any]) -> bool:
        return char["text"] in _MARKS and char["size"] <= 1.02 * body

    marks: set[int] = set()
    for i, char in enumerate(chars):
        if not small(char):
            continue
        for j in (i - 1, i + 1):
            if not 0 <= j < len(chars):
                continue
            other = chars[j]
            if other["text"] in _MARKS or other["text"].isspace():
                continue  # judged by the mark's own neighbours or the other side
            near = abs(other["x1"] - char["x0"]) < 3 or abs(char["x1"] - other["x0"]) < 3
            lift = other["bottom"] - char["bottom"]
            if (
                near
                and other["size"] >= char["size"]
                and 0.25 * other["size"] < lift < other["size"]
            ):
                marks.add(i)
                break
    grown = True
    while grown:  # the other digits of a mark ("12")
        grown = False
        for i in list(marks):
            for j in (i - 1, i + 1):
                if (
                    0 <= j < len(chars)
                    and j not in marks
                    and small(chars[j])
                    and abs(chars[j]["bottom"] - chars[i]["bottom"]) < 0.5
                ):
                    marks.add(j)
                    grown = True
    return marks


def _pypdf_page(data: bytes, index: int) -> _Page:
    import pypdf

    page = pypdf.PdfReader(io.BytesIO(data)).pages[index]
    try:
        text = page.extract_text() or ""
        has_images = bool(page.images)
    except Exception:  # a page neither library can read gives no text
        return _Page([], False, False)
    lines = [_Line(line, 0, 0, 0, 0, 0) for line in text.splitlines() if line.strip()]
    return _Page(lines, has_images, False)


def _clean_pages(pages: Sequence[_Page], notes: list[str]) -> list[list[list[str]]]:
    keys = [[_running_key(line, page) for line in page.lines] for page in pages]
    top, bottom = running_lines(keys, zone=_ZONE)
    removed = {"running": 0, "number": 0, "contact": 0}
    result: list[list[list[str]]] = []
    for number, page in enumerate(pages, 1):
        kept: list[_Line] = []
        count = len(page.lines)
        for i, line in enumerate(page.lines):
            text = clean_line(line.text)
            near_top, near_bottom = i < _ZONE, i >= count - _ZONE
            key = keys[number - 1][i]
            if (near_top or near_bottom) and is_page_number(text):
                removed["number"] += 1
                continue
            if (near_top and key in top) or (near_bottom and key in bottom):
                if number == 1 and near_top and key in top:
                    letterhead = _without_page_number(text)
                    if letterhead:
                        kept.append(_replace(line, letterhead))
                        continue
                removed["running"] += 1
                continue
            if (i < 2 * _ZONE or i >= count - 2 * _ZONE) and is_contact_line(text):
                removed["contact"] += 1
                continue
            kept.append(_replace(line, text))
        result.append(_paragraphs(kept, page.geometry))
    if removed["running"]:
        notes.append(f"{_rows(removed['running'])} sidhuvud och sidfot togs bort.")
    if removed["number"]:
        notes.append(f"{removed['number']} sidnummer togs bort.")
    if removed["contact"]:
        notes.append(f"{_rows(removed['contact'])} med kontaktuppgifter (brevhuvud) togs bort.")
    return result


def _rows(count: int) -> str:
    return "1 rad" if count == 1 else f"{count} rader"


_TRAILING_PAGE = re.compile(
    r"\s*(?:(?:sida|sid\.?|page)\s*\d+(?:\s*(?:av|of|/|\()\s*\d+\)?)?|\d+\s*\(\s*\d+\s*\))$",
    re.IGNORECASE,
)


def _running_key(line: _Line, page: _Page) -> str:
    """A header or footer stands at the same height on every page, in the top or bottom
    quarter: with positions known, a line elsewhere has no key and the height (to 3 pt) is
    part of the key, so body lines that happen to repeat do not count."""
    key = running_key(clean_line(line.text))
    if not page.geometry or not key:
        return key
    if 0.25 * page.height < line.top and line.bottom < 0.75 * page.height:
        return ""
    return f"{key}\x00{round(line.top / 3)}"


def _without_page_number(text: str) -> str:
    if is_page_number(text):
        return ""
    return _TRAILING_PAGE.sub("", text).strip()


def _replace(line: _Line, text: str) -> _Line:
    return _Line(text, line.x0, line.x1, line.top, line.bottom, line.size, line.bold)


_LIST_START = re.compile(r"^(?:[•▪●◦■□➢►‣∙·*–-]\s|\d+[.)]\s|\d+(?:\.\d+)+\.?\s|[a-z]\)\s)")


def _paragraphs(lines: Sequence[_Line], geometry: bool) -> list[list[str]]:
    if not lines:
        return []
    if not geometry:
        return [[line.text for line in lines]]
    gaps = [b.top - a.bottom for a, b in itertools.pairwise(lines) if b.top > a.top]
    usual = statistics.median(gaps) if gaps else 0.0
    heights = [line.bottom - line.top for line in lines]
    height = statistics.median(heights) if heights else 10.0
    paragraphs: list[list[str]] = [[lines[0].text]]
    for above, line in itertools.pairwise(lines):
        if _starts_paragraph(above, line, usual, height):
            paragraphs.append([line.text])
        else:
            paragraphs[-1].append(line.text)
    return paragraphs


def _starts_paragraph(above: _Line, line: _Line, usual: float, height: float) -> bool:
    """Whether ``line`` starts a new paragraph after ``above``: a clearly larger gap than
    the page's usual line spacing, a jump back up (a new column), a change of size or
    weight (a heading), a list item, or a sentence ended well short of the right edge of
    these two lines (the last line of a paragraph; a ragged line mid-sentence is not)."""
    gap = line.top - above.bottom
    if gap > usual + 0.4 * height or gap < -height:
        return True
    if abs(line.size - above.size) > 0.15 * max(line.size, above.size):
        return True
    if line.bold != above.bold or _LIST_START.match(line.text):
        return True
    right = max(above.x1, line.x1)
    width = right - min(above.x0, line.x0)
    return above.x1 < right - 0.15 * width and bool(_SENTENCE_END.search(above.text))


_SENTENCE_END = re.compile(r"[.!?:;]\W*$")


def _ocr(data: bytes, notes: list[str]) -> bytes | None:
    ocrmypdf = shutil.which("ocrmypdf")
    if ocrmypdf is None:
        return None
    with tempfile.TemporaryDirectory(prefix="tillit-ocr-") as folder:
        source, target = Path(folder) / "in.pdf", Path(folder) / "out.pdf"
        source.write_bytes(data)
        try:
            subprocess.run(
                [ocrmypdf, "-l", "swe", "--skip-text", "--quiet", str(source), str(target)],
                check=True,
                capture_output=True,
                timeout=_OCR_TIMEOUT_S,
            )
        except (subprocess.SubprocessError, OSError) as error:
            notes.append(f"OCR med ocrmypdf misslyckades ({type(error).__name__}).")
            return None
        return target.read_bytes() if target.exists() else None
