"""Reading consultation responses (remissvar) into clean text: PDF, DOCX, Markdown, plain
text and HTML.

:func:`extract_text` reads a file (a path or its bytes) and returns :class:`ExtractedText`:
the cleaned text with paragraphs separated by ``"\\n\\n"``, and the page every character
came from, so a quote can cite its page. What is removed and how is described in
``docs/documents.md`` and in the modules: :mod:`._clean` (hyphens, page numbers, contact
lines, footnote marks), :mod:`._pdf` (reading, the pypdf fallback, OCR), :mod:`._layout`
(lines, paragraphs, running headers and footers), :mod:`._docx`, :mod:`._plain` (text and
Markdown), :mod:`._html`.
"""

from __future__ import annotations

from pathlib import Path

from tillit.errors import InvalidInputError
from tillit.sources.documents._docx import CELL_SEPARATOR, extract_docx
from tillit.sources.documents._format import document_format
from tillit.sources.documents._html import extract_html
from tillit.sources.documents._model import FORMATS, ExtractedText
from tillit.sources.documents._pdf import extract_pdf
from tillit.sources.documents._plain import extract_markdown, extract_plain

__all__ = ["CELL_SEPARATOR", "FORMATS", "ExtractedText", "document_format", "extract_text"]


def extract_text(source: Path | bytes, *, filename: str | None = None) -> ExtractedText:
    """The cleaned text of the document ``source`` (a path, or the file's bytes).

    ``filename`` names the file when ``source`` is bytes (its extension helps tell the
    format; it also names the file in messages); for a path it defaults to the path's name.
    The format is found by :func:`document_format`. A PDF without a text layer is not an
    error: the result has ``needs_ocr=True``, empty text and a note. Raises
    :class:`~tillit.errors.InvalidInputError` (Swedish message and hint) for a file that
    cannot be read, is empty, is in a format Tillit does not read, is broken or locked
    with a password.
    """
    if isinstance(source, Path):
        filename = filename or source.name
        try:
            data = source.read_bytes()
        except OSError as error:
            raise InvalidInputError(
                f"Filen {source} kunde inte läsas ({error.strerror or error}).",
                hint="Kontrollera sökvägen och att du har rätt att läsa filen.",
            ) from error
    elif isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
    else:
        raise InvalidInputError(
            "Remissvaret måste ges som en sökväg eller filens innehåll (bytes).",
            hint="Skicka en pathlib.Path eller bytes.",
        )
    kind = document_format(filename, data)
    name = filename or "Filen"
    if kind == "pdf":
        return extract_pdf(data, name=name)
    if kind == "docx":
        return extract_docx(data, name=name)
    if kind == "md":
        return extract_markdown(data, name=name)
    if kind == "html":
        return extract_html(data, name=name)
    return extract_plain(data, name=name)
