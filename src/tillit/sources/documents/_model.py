"""The result of reading a document: :class:`ExtractedText`."""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

__all__ = ["FORMATS", "ExtractedText"]

FORMATS = ("pdf", "docx", "md", "txt", "html")


@dataclass(frozen=True)
class ExtractedText:
    """A document's cleaned text and where each part of it stood.

    ``text`` holds the paragraphs separated by ``"\\n\\n"`` (no other newlines). ``pages``
    lists every page of the document in order as ``(page, start, end)``: the characters
    ``text[start:end]`` came from page ``page`` (numbered from 1). The ranges are contiguous
    and cover ``text`` from 0 to ``len(text)``; a page that gave no text has an empty range.
    Formats without pages (DOCX, Markdown, plain text, HTML) have one page. ``format`` is one
    of ``"pdf"``, ``"docx"``, ``"md"``, ``"txt"``, ``"html"``. ``needs_ocr`` says that the
    PDF, or some of its pages, has no text layer (scanned); with no text layer at all, ``text``
    is empty. ``notes`` are Swedish sentences for the user: what was removed, which fallback
    was used, which pages had no text.
    """

    text: str
    pages: tuple[tuple[int, int, int], ...]
    format: str
    needs_ocr: bool
    notes: tuple[str, ...]

    def page_of(self, offset: int) -> int:
        """The page (from 1) of the character at ``offset`` in :attr:`text`.

        ``offset == len(text)`` (the end of a quote) gives the page of the last character.
        Raises :class:`ValueError` for an offset outside ``0 … len(text)``.
        """
        if offset < 0 or offset > len(self.text):
            raise ValueError(f"offset {offset} is outside the text (0–{len(self.text)})")
        filled = [(start, page) for page, start, end in self.pages if end > start]
        if not filled:
            return self.pages[0][0] if self.pages else 1
        if offset == len(self.text):
            return filled[-1][1]
        index = bisect_right([start for start, _ in filled], offset) - 1
        return filled[max(index, 0)][1]
