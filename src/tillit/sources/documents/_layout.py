"""A PDF page's layout: glyphs → lines → paragraphs, and what is not the body.

Per page the glyphs (from pdfplumber's ``page.layout``) are grouped into lines; superscript
footnote marks are left out (a digit or ``*``/``†`` raised above the baseline of the word it
stands beside; not the 2 or 3 of ``m²``, ``km²``, ``cm³``). Then, over the whole document
(:func:`clean_pages`):

* running headers and footers, lines that repeat (digits aside) among the first or last three
  lines of most pages, or that carry a page number (``… Sida 2 (5)``), in the page margin,
  are removed. The copy at the top of page 1 is kept, as the letterhead that names the
  respondent (``Sveriges Kommuner och Landsting 2018-10-15``), minus any page number at its
  end; every later copy, and every repeated bottom line, goes;
* page numbers and letterhead contact lines among the first and last lines of a page go
  (:mod:`._clean`);
* lines are grouped into paragraphs where the gap above a line is clearly larger than the
  page's usual line spacing, where the font size or weight changes, where the line above
  ends a sentence well short of the right edge, or where a line starts with a bullet or a
  list number; a bullet glyph (``•``, ``▪``, ``●``, …) that starts a paragraph is dropped;
* footnotes (paragraphs in a smaller font that end a page) are read before the page's last
  paragraph when that paragraph runs on into the next page, so they do not cut it in two.

Joining a paragraph across a page break is :func:`._clean.assemble`'s.
"""

from __future__ import annotations

import itertools
import re
import statistics
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from tillit.sources.documents._clean import (
    clean_line,
    continues_paragraph,
    is_contact_line,
    is_page_number,
    running_key,
    running_lines,
    without_page_number,
)

__all__ = ["Line", "Page", "clean_pages", "plumber_page"]

_ZONE = 3


@dataclass(frozen=True)
class Line:
    """One line of a page: its text, box (points, ``top`` from the top of the page), median
    font size and whether most of it is bold. Lines from pypdf have no positions: ``x1`` is
    the length of the text, the rest 0."""

    text: str
    x0: float
    x1: float
    top: float
    bottom: float
    size: float
    bold: bool = False


@dataclass
class Page:
    """One page's lines in reading order, whether it has images (or glyphs only OCR can
    read), whether the lines have positions, and the page's height."""

    lines: list[Line]
    has_images: bool  # or glyphs without a Unicode map: either way, only OCR can read it
    geometry: bool  # False for lines from pypdf (no positions)
    height: float = 0.0


_MARKS = set("0123456789*†‡")
_GAP_BEFORE_PUNCTUATION = re.compile(r"(?<=\w) (?=[.,;:!?)](?:\s|$))")


def _unit_power(chars: Sequence[_Char], i: int) -> bool:
    """Whether the raised ``chars[i]`` is the 2 or 3 of a unit (m², km², cm³), not a mark."""
    if chars[i].text not in "23" or i == 0 or chars[i - 1].text != "m":
        return False
    before = "".join(c.text for c in chars[max(0, i - 3) : i - 1])
    return bool(re.search(r"(?:^|[^\w])[kcdm]?$", before))


class _Char:
    """One glyph, in pdfplumber's coordinates (points, ``top`` from the top of the page)."""

    __slots__ = ("bold", "bottom", "size", "text", "top", "x0", "x1")

    def __init__(self, glyph: Any, page_top: float) -> None:
        self.text: str = glyph.get_text()
        self.x0: float = glyph.x0
        self.x1: float = glyph.x1
        self.top: float = page_top - glyph.y1
        self.bottom: float = page_top - glyph.y0
        self.size: float = glyph.size
        self.bold: bool = "bold" in glyph.fontname.lower()

    @classmethod
    def of(
        cls, text: str, box: tuple[float, float, float, float], size: float, bold: bool
    ) -> _Char:
        """A glyph from another reader: ``box`` is (x0, top, x1, bottom) in points from the
        page's top left."""
        char = cls.__new__(cls)
        char.text = text
        char.x0, char.top, char.x1, char.bottom = box
        char.size = size
        char.bold = bold
        return char


def plumber_page(page: Any) -> Page:
    """The lines of one pdfplumber page. The glyphs come from ``page.layout`` (pdfminer's
    layout objects, which pdfplumber parses anyway) rather than ``page.chars``: turning every
    glyph into pdfplumber's dictionary costs as much as parsing the page, and only the
    text, box, size and weight are needed here."""
    from pdfminer.layout import LTChar, LTContainer, LTImage

    layout = page.layout
    chars: list[_Char] = []
    has_images = False
    stack = [layout]
    while stack:
        container = stack.pop()
        for item in container:
            if isinstance(item, LTChar):
                chars.append(_Char(item, layout.y1))
            elif isinstance(item, LTImage):
                has_images = True
            elif isinstance(item, LTContainer):
                stack.append(item)
    return _page_of(chars, has_images, float(page.height))


def visible_glyphs(page: Page) -> int:
    """How many non-space characters ``page``'s lines hold."""
    return sum(len(line.text) - line.text.count(" ") for line in page.lines)


def pdfium_page(page: Any) -> Page:
    """The lines of one pypdfium2 page, built from its glyphs' boxes, sizes and weights the
    way :func:`plumber_page` builds them from pdfminer's (for pages whose fonts pdfminer
    cannot decode). PDFium marks a hyphen that ends a line as U+FFFE or U+0002: read as
    "-", it is joined like any other where a word was split."""
    import pypdfium2.raw as pdfium_c

    textpage = page.get_textpage()
    try:
        height = float(page.get_height())
        chars: list[_Char] = []
        count = textpage.count_chars()
        high = 0  # the first half of a UTF-16 surrogate pair
        for i in range(count):
            if pdfium_c.FPDFText_IsGenerated(textpage.raw, i) == 1:
                continue  # a space or line break PDFium inferred; gaps give spaces here
            code = pdfium_c.FPDFText_GetUnicode(textpage.raw, i)
            if 0xD800 <= code < 0xDC00:
                high = code
                continue
            if 0xDC00 <= code < 0xE000:
                code = 0x10000 + ((high - 0xD800) << 10) + (code - 0xDC00) if high else 0
            high = 0
            text = "-" if code in (0xFFFE, 0x02) else chr(code) if code else ""
            if not text or text in "\r\n" or unicodedata.category(text) in ("Cn", "Co", "Cs"):
                continue  # no character, or one no font means (an unassigned code point)
            # the loose box spans the font's ascent and descent, as pdfminer's do, so that
            # a hyphen's or a comma's small ink box does not start a line of its own
            left, bottom, right, top = textpage.get_charbox(i, loose=True)
            size = float(pdfium_c.FPDFText_GetFontSize(textpage.raw, i))
            bold = pdfium_c.FPDFText_GetFontWeight(textpage.raw, i) >= 600
            chars.append(_Char.of(text, (left, height - top, right, height - bottom), size, bold))
        has_images = any(
            obj.type == pdfium_c.FPDF_PAGEOBJ_IMAGE for obj in page.get_objects(max_depth=2)
        )
    finally:
        textpage.close()
    return _page_of(chars, has_images, height)


def _page_of(chars: list[_Char], has_images: bool, height: float) -> Page:
    visible = [c for c in chars if c.text and not c.text.isspace()]
    if not visible:
        return Page([], has_images, True, height)
    body = statistics.median(c.size for c in visible)
    marks = _footnote_marks(chars, body)
    kept = [c for i, c in enumerate(chars) if i not in marks] if marks else chars
    lines = []
    for line_chars in _cluster_lines(kept):
        text = _line_text(line_chars)
        if marks:  # the gap a removed mark left before punctuation reads as a space
            text = _GAP_BEFORE_PUNCTUATION.sub("", text)
        if "(cid:" in text:
            text = re.sub(r"\(cid:\d+\)", "", text)
        glyphs = [c for c in line_chars if not c.text.isspace()]
        if not text.strip() or not glyphs:
            continue
        lines.append(
            Line(
                text,
                min(c.x0 for c in glyphs),
                max(c.x1 for c in glyphs),
                min(c.top for c in glyphs),
                max(c.bottom for c in glyphs),
                statistics.median(c.size for c in glyphs),
                sum(c.bold for c in glyphs) > len(glyphs) / 2,
            )
        )
    if not lines and any("(cid:" in c.text for c in visible):
        has_images = True  # glyphs drawn with no Unicode map: text only OCR can read
    return Page(lines, has_images, True, height)


def _cluster_lines(chars: Sequence[_Char]) -> list[list[_Char]]:
    """Glyphs grouped into lines: sorted by their top, a glyph more than 3 pt below the
    first of the current line starts the next (as pdfplumber's ``y_tolerance``)."""
    lines: list[list[_Char]] = []
    anchor = -1e9
    for char in sorted(chars, key=lambda c: c.top):
        if char.top - anchor > 3.0:
            lines.append([char])
            anchor = char.top
        else:
            lines[-1].append(char)
    return lines


def _line_text(chars: Sequence[_Char]) -> str:
    """A line's glyphs left to right, with a space where the gap between two glyphs is wider
    than a fifth of their size (PDFs need not draw spaces), and a glyph drawn twice on top
    of itself (fake bold) read once."""
    parts: list[str] = []
    previous: _Char | None = None
    for char in sorted(chars, key=lambda c: c.x0):
        if previous is not None:
            if char.text == previous.text and abs(char.x0 - previous.x0) < 0.5:
                continue
            gap = char.x0 - previous.x1
            if gap > 0.2 * max(char.size, previous.size) and not (
                char.text.isspace() or previous.text.isspace()
            ):
                parts.append(" ")
        parts.append(char.text)
        previous = char
    return "".join(parts)


def _footnote_marks(chars: Sequence[_Char], body: float) -> set[int]:
    """Indexes of the characters that are footnote marks: digits (or ``*``/``†``/``‡``)
    raised by more than a quarter of the neighbouring text's size above its baseline, no
    larger than it, right beside it, and no larger than the page's usual text."""

    def small(char: _Char) -> bool:
        return char.text in _MARKS and char.size <= 1.02 * body

    marks: set[int] = set()
    for i, char in enumerate(chars):
        if not small(char):
            continue
        for j in (i - 1, i + 1):
            if not 0 <= j < len(chars):
                continue
            other = chars[j]
            if other.text in _MARKS or other.text.isspace():
                continue  # judged by the mark's own neighbours or the other side
            near = abs(other.x1 - char.x0) < 3 or abs(char.x1 - other.x0) < 3
            lift = other.bottom - char.bottom
            raised = 0.25 * other.size < lift < other.size
            if near and raised and other.size >= char.size and not _unit_power(chars, i):
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
                    and abs(chars[j].bottom - chars[i].bottom) < 0.5
                ):
                    marks.add(j)
                    grown = True
    return marks


def clean_pages(pages: Sequence[Page], notes: list[str]) -> list[list[list[str]]]:
    keys = [_running_keys(page) for page in pages]
    top, bottom = running_lines(keys, zone=_ZONE)
    removed = {"running": 0, "number": 0, "contact": 0}
    laid_out: list[list[tuple[list[str], float]]] = []
    for number, page in enumerate(pages, 1):
        kept: list[Line] = []
        count = len(page.lines)
        for i, line in enumerate(page.lines):
            text = clean_line(line.text)
            near_top, near_bottom = i < _ZONE, i >= count - _ZONE
            key = keys[number - 1][i]
            if (near_top or near_bottom) and is_page_number(text):
                removed["number"] += 1
                continue
            contact = (i < 2 * _ZONE or i >= count - 2 * _ZONE) and is_contact_line(text)
            # a margin line that carries a page number is a header or footer even where it
            # does not repeat (a two-page response whose first page has its own letterhead)
            paged = bool(key) and not contact and without_page_number(text) != text
            at_top = near_top and (key in top or paged)
            if at_top or (near_bottom and (key in bottom or paged)):
                if number == 1 and at_top:
                    letterhead = without_page_number(text)
                    if letterhead:
                        kept.append(_replace(line, letterhead))
                        continue
                removed["running"] += 1
                continue
            if contact:
                removed["contact"] += 1
                continue
            kept.append(_replace(line, text))
        laid_out.append(_paragraphs(kept))
    result = _footnotes_after_the_break(laid_out)
    if removed["running"]:
        notes.append(f"{_rows(removed['running'])} sidhuvud och sidfot togs bort.")
    if removed["number"]:
        notes.append(f"{removed['number']} sidnummer togs bort.")
    if removed["contact"]:
        notes.append(f"{_rows(removed['contact'])} med kontaktuppgifter (brevhuvud) togs bort.")
    return result


def _rows(count: int) -> str:
    return "1 rad" if count == 1 else f"{count} rader"


def _running_keys(page: Page) -> list[str]:
    """The keys of a page's lines for :func:`running_lines`; ``""`` for a line that cannot
    be a header or footer.

    Without positions (pypdf) every line has its text's key. With positions, a header or
    footer stands in the page's margin: the candidates at the top are the lines above the
    widest gap among the first four lines, at the bottom those below the widest gap among
    the last four, and only when that gap is clearly wider than the page's usual line
    spacing; they must also lie in the top or bottom quarter of the page. The height (to
    3 pt) is part of the key, so only lines at the same place on each page match. Body lines
    that repeat, such as section headings ``7.1 …``, ``7.2 …`` at the top of each page,
    therefore do not count.
    """
    lines = page.lines
    if not page.geometry:
        return [running_key(clean_line(line.text)) for line in lines]
    gaps = [b.top - a.bottom for a, b in itertools.pairwise(lines)]
    heights = [line.bottom - line.top for line in lines]
    height = statistics.median(heights) if heights else 10.0
    clear = _usual_gap(gaps, height) + 0.5 * height
    candidates: set[int] = set()
    head = gaps[: _ZONE + 1]
    if head and max(head) > clear:
        candidates.update(range(head.index(max(head)) + 1))
    tail = gaps[-(_ZONE + 1) :]
    if tail and max(tail) > clear:
        widest = len(gaps) - len(tail) + tail.index(max(tail))
        candidates.update(range(widest + 1, len(lines)))
    keys = []
    for i, line in enumerate(lines):
        key = running_key(clean_line(line.text))
        in_margin = line.top < 0.25 * page.height or line.bottom > 0.75 * page.height
        keys.append(
            f"{key}\x00{round(line.top / 3)}" if key and in_margin and i in candidates else ""
        )
    return keys


def _replace(line: Line, text: str) -> Line:
    return Line(text, line.x0, line.x1, line.top, line.bottom, line.size, line.bold)


_LIST_START = re.compile(r"^(?:[•▪●◦■□➢►‣∙·*–-]\s|\d+[.)]\s|\d+(?:\.\d+)+\.?\s|[a-z]\)\s)")


def _paragraphs(lines: Sequence[Line]) -> list[tuple[list[str], float]]:
    """The page's paragraphs, each its lines and the largest font size among them."""
    if not lines:
        return []
    heights = [line.bottom - line.top for line in lines]
    height = statistics.median(heights) if heights else 10.0
    usual = _usual_gap([b.top - a.bottom for a, b in itertools.pairwise(lines)], height)
    paragraphs: list[tuple[list[str], float]] = [([_BULLET.sub("", lines[0].text)], lines[0].size)]
    for above, line in itertools.pairwise(lines):
        if _starts_paragraph(above, line, usual, height):
            paragraphs.append(([_BULLET.sub("", line.text)], line.size))
        else:
            texts, size = paragraphs[-1]
            texts.append(line.text)
            paragraphs[-1] = (texts, max(size, line.size))
    return paragraphs


def _footnotes_after_the_break(
    pages: Sequence[Sequence[tuple[list[str], float]]],
) -> list[list[list[str]]]:
    """The pages' paragraphs, with a page's footnotes read before its last paragraph when
    that paragraph runs on into the next page.

    Footnotes stand between a paragraph's start at the bottom of one page and its end on the
    next; read in place they would cut the paragraph (and its sentence) in two. A footnote is
    one of the paragraphs that end a page in a smaller font than the document's text (at most
    88 % of the median size). Moving them up keeps every character on its own page.
    """
    sizes = [size for page in pages for _, size in page if size > 0]
    body = statistics.median(sizes) if sizes else 0.0
    result: list[list[list[str]]] = []
    for number, page in enumerate(pages):
        paragraphs = [texts for texts, _ in page]
        notes = 0
        while notes < len(page) and 0 < page[-1 - notes][1] <= 0.88 * body:
            notes += 1
        following = pages[number + 1] if number + 1 < len(pages) else []
        if 0 < notes < len(page) and following:
            last = paragraphs[-1 - notes]
            if continues_paragraph(last[-1], following[0][0][0]):
                paragraphs = [*paragraphs[: -1 - notes], *paragraphs[-notes:], last]
        result.append(paragraphs)
    return result


_BULLET = re.compile(r"^[•▪●◦■□➢►‣∙·]\s*")


def _usual_gap(gaps: Sequence[float], height: float) -> float:
    """The page's usual space between two lines of a paragraph (``height`` being the usual
    line height): the 20th percentile of the positive gaps, at most 0.6 of a line. Not the
    median: on a page of short paragraphs (a letterhead, a list of one-line points) most gaps
    are gaps between paragraphs; and a page of a few lines may have no gap inside one."""
    positive = sorted(gap for gap in gaps if gap > 0)
    usual = positive[len(positive) // 5] if positive else 0.0
    return min(usual, 0.6 * height)


def _starts_paragraph(above: Line, line: Line, usual: float, height: float) -> bool:
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
