"""PDF → text with pdfplumber (pypdf when pdfplumber cannot read the file or a page; PDFium,
through pypdfium2, when it reads a page's text and pdfplumber silently misses much of it).

How a page's glyphs become lines and paragraphs, and which lines are headers, footers, page
numbers or letterhead contact lines, is :mod:`._layout`'s.

A page without any character but with an image needs OCR. When no page has text and
``ocrmypdf`` is on the PATH, it is run (``-l swe``, ``--skip-text``) and the result read
again; otherwise the result has ``needs_ocr=True``, empty text and a Swedish note.
"""

from __future__ import annotations

import io
import logging
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from tillit.errors import InvalidInputError
from tillit.sources.documents._clean import assemble
from tillit.sources.documents._layout import (
    Line,
    Page,
    clean_pages,
    pdfium_page,
    plumber_page,
    visible_glyphs,
)
from tillit.sources.documents._model import ExtractedText

__all__ = ["extract_pdf"]

_OCR_TIMEOUT_S = 600


def extract_pdf(data: bytes, *, name: str = "PDF-filen", ocr: bool = True) -> ExtractedText:
    """The text of the PDF ``data``. Raises :class:`InvalidInputError` for a file that is
    not a readable PDF or is locked with a password."""
    notes: list[str] = []
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
    paragraphs = clean_pages(pages, notes)
    text, ranges = assemble(paragraphs, across_pages=True)
    if without_text:
        notes.append(f"{_pages(without_text)} saknar textlager (skannad) och behöver OCR.")
    if not text and not without_text:
        raise InvalidInputError(
            f"{name} innehåller ingen text.",
            hint="Kontrollera att det är rätt fil; ladda upp remissvaret som PDF med text, "
            "DOCX eller textfil.",
        )
    return ExtractedText(text, ranges, "pdf", bool(without_text), tuple(notes))


def _unreadable(name: str, error: BaseException | None = None) -> InvalidInputError:
    detail = f" ({type(error).__name__})" if error is not None else ""
    return InvalidInputError(
        f"{name} är ingen läsbar PDF{detail}.",
        hint="Filen kan vara trasig eller ofullständigt nedladdad; hämta den igen eller "
        "spara den som PDF på nytt.",
    )


def _pypdf_reader(data: bytes, name: str) -> Any:
    """pypdf's reader of ``data``, decrypted when it has only an owner password; ``None``
    when pypdf cannot parse the file (pdfplumber may still). Raises
    :class:`InvalidInputError` for a file locked with a password or without pages."""
    import pypdf

    _quiet()
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
    except NotImplementedError as error:  # an encryption pypdf cannot undo
        raise InvalidInputError(
            f"{name} är krypterad på ett sätt som inte kan läsas ({error}).",
            hint="Be avsändaren om en PDF utan lösenord eller kryptering.",
        ) from error
    except Exception:  # pypdf raises many kinds on a damaged file
        return None
    return reader


def _quiet() -> None:
    """pdfminer, pdfplumber and pypdf log every oddity of a damaged file as a warning; the notes say
    what matters, so only their errors reach the log."""
    for logger in ("pdfminer", "pdfplumber", "pypdf"):
        logging.getLogger(logger).setLevel(logging.ERROR)


def _read_pages(data: bytes, name: str, notes: list[str]) -> list[Page]:
    """Every page of ``data``: with pdfplumber, and page by page with pypdf where pdfplumber
    fails. Raises :class:`InvalidInputError` when neither can read the file."""
    import pdfplumber

    reader = _pypdf_reader(data, name)
    try:
        with pdfplumber.open(io.BytesIO(data)) as pdf:
            pages: list[Page] = []
            fallbacks: list[int] = []
            for number, page in enumerate(pdf.pages, 1):
                try:
                    pages.append(plumber_page(page))
                except Exception:  # pdfminer raises many kinds on a damaged page
                    fallbacks.append(number)
                    pages.append(_pypdf_page(reader, number - 1))
    except Exception as error:  # pdfplumber could not open it at all: pypdf, page by page
        if reader is None:
            raise _unreadable(name, error) from error
        notes.append("PDF-filen lästes med pypdf eftersom pdfplumber inte kunde öppna den.")
        return [_pypdf_page(reader, index) for index in range(len(reader.pages))]
    if not pages:
        raise InvalidInputError(f"{name} har inga sidor.", hint="Kontrollera att det är rätt fil.")
    if fallbacks:
        notes.append(f"{_pages(fallbacks)} lästes med pypdf eftersom pdfplumber misslyckades.")
    missed = _pdfium_where_missed(data, pages)
    if missed:
        notes.append(
            f"{_pages(missed)} lästes med PDFium eftersom pdfplumber inte kunde läsa "
            "en del av texten (ett typsnitt med egen teckenkodning)."
        )
    return pages


def _pages(numbers: list[int]) -> str:
    """A note's page list: "Sidan 3" or "Sidorna 1, 2"."""
    return ("Sidorna " if len(numbers) > 1 else "Sidan ") + ", ".join(map(str, numbers))


MISSED_SHARE = 0.9
"""A page whose text pdfplumber gives less than this share of PDFium's glyphs is read with
PDFium: pdfminer skips glyphs of a font whose embedded character map it cannot read (seen
in WeasyPrint's PDFs with a custom-encoded font), without an error."""


def _pdfium_where_missed(data: bytes, pages: list[Page]) -> list[int]:
    """Replace in ``pages`` each page (read with positions) where PDFium finds clearly more
    text than pdfplumber did by PDFium's reading of it; the numbers of those pages."""
    try:
        import pypdfium2 as pdfium

        document = pdfium.PdfDocument(data)
    except Exception:  # PDFium cannot open it: keep what pdfplumber and pypdf read
        return []
    replaced: list[int] = []
    try:
        for index, page in enumerate(pages):
            if not page.geometry or index >= len(document):
                continue
            pdf_page = document[index]
            try:
                textpage = pdf_page.get_textpage()
                try:
                    text = textpage.get_text_range()
                finally:
                    textpage.close()
                theirs = sum(1 for c in text if not c.isspace())
                if visible_glyphs(page) >= MISSED_SHARE * theirs:
                    continue
                pages[index] = pdfium_page(pdf_page)
                replaced.append(index + 1)
            except Exception:  # a page PDFium cannot read either: keep pdfplumber's
                continue
            finally:
                pdf_page.close()
    finally:
        document.close()
    return replaced


def _pypdf_page(reader: Any, index: int) -> Page:
    """Page ``index`` read by pypdf (no positions); empty when pypdf cannot read it either."""
    try:
        page = reader.pages[index]
        text = page.extract_text() or ""
        has_images = bool(page.images)
    except Exception:  # a page neither library can read gives no text
        return Page([], False, False)
    # no positions: a line's length in characters stands in for its right edge, so a short
    # line that ends a sentence still ends its paragraph
    lines = [Line(line, 0, len(line), 0, 0, 0) for line in text.splitlines() if line.strip()]
    return Page(lines, has_images, False)


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
