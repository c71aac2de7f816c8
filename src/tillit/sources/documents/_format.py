"""Which format a file is in: :func:`document_format`."""

from __future__ import annotations

import io
import zipfile
from pathlib import PurePath

from tillit.errors import InvalidInputError

__all__ = ["document_format"]

_EXTENSIONS = {
    ".pdf": "pdf",
    ".docx": "docx",
    ".docm": "docx",
    ".md": "md",
    ".markdown": "md",
    ".txt": "txt",
    ".text": "txt",
    ".html": "html",
    ".htm": "html",
    ".xhtml": "html",
}
_UNSUPPORTED = {
    ".doc": "Word 97–2003 (.doc)",
    ".odt": "OpenDocument (.odt)",
    ".rtf": "RTF",
    ".pages": "Pages",
    ".xls": "Excel",
    ".xlsx": "Excel",
    ".ppt": "PowerPoint",
    ".pptx": "PowerPoint",
}
_HINT = (
    "Spara remissvaret som PDF, DOCX, Markdown, textfil (.txt) eller HTML och ladda upp det igen."
)


def document_format(filename: str | None, data: bytes) -> str:
    """The format of the file ``data`` named ``filename``: ``"pdf"``, ``"docx"``, ``"md"``,
    ``"txt"`` or ``"html"``.

    The content decides where it can: a PDF starts with ``%PDF``, a DOCX is a ZIP holding
    ``word/document.xml`` (whatever the name says). Otherwise the extension decides, and a
    file without a known extension is HTML when it starts like HTML and text when it decodes
    as text. Raises :class:`InvalidInputError` for an empty file and for formats Tillit
    does not read (old Word .doc, ODT, RTF, other binary files), with a hint to save the file
    in one it does.
    """
    name = filename or "filen"
    if not data or not data.strip():
        raise InvalidInputError(f"{name} är tom.", hint="Kontrollera att det är rätt fil.")
    head = data[:1024].lstrip()
    suffix = PurePath(filename).suffix.lower() if filename else ""
    if data[:1024].find(b"%PDF-") != -1:
        return "pdf"
    if data[:4] == b"PK\x03\x04":
        if _is_docx(data):
            return "docx"
        raise InvalidInputError(
            f"{name} är ett ZIP-paket men ingen Word-fil (DOCX)"
            + (f": {_UNSUPPORTED[suffix]} läses inte." if suffix in _UNSUPPORTED else "."),
            hint=_HINT,
        )
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise InvalidInputError(
            f"{name} är en äldre Office-fil (till exempel Word 97–2003, .doc) som inte läses.",
            hint=_HINT,
        )
    if head.startswith(b"{\\rtf"):
        raise InvalidInputError(f"{name} är en RTF-fil, som inte läses.", hint=_HINT)
    if suffix in (".pdf", ".docx", ".docm"):
        kind = "PDF" if suffix == ".pdf" else "Word-fil (DOCX)"
        raise InvalidInputError(
            f"{name} heter {suffix} men är ingen {kind}: filen kan vara trasig.",
            hint="Hämta filen igen eller spara den på nytt; " + _HINT[0].lower() + _HINT[1:],
        )
    if suffix in _UNSUPPORTED:
        raise InvalidInputError(f"{name}: {_UNSUPPORTED[suffix]} läses inte.", hint=_HINT)
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise InvalidInputError(
            f"{name} är en binärfil i ett format som inte känns igen.", hint=_HINT
        )
    if suffix in _EXTENSIONS:
        return _EXTENSIONS[suffix]
    if suffix and suffix not in (".csv", ".log"):
        raise InvalidInputError(f"{name}: filtypen {suffix} känns inte igen.", hint=_HINT)
    lowered = head[:200].lower()
    if lowered.startswith((b"<!doctype html", b"<html")) or b"<html" in lowered:
        return "html"
    return "txt"


def _is_docx(data: bytes) -> bool:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return "word/document.xml" in archive.namelist()
    except zipfile.BadZipFile:
        return False
