"""Plain text and Markdown → text.

Plain text is decoded as UTF-8 (with or without a byte-order mark), else as cp1252, else as
latin-1; a blank line separates paragraphs and the lines of a paragraph are joined
(:func:`._clean.join_separator`). A line that starts with a bullet or a list number starts a
paragraph of its own. Form feeds (``\\f``) separate pages.

Markdown is read the same way after its markup is taken off: ``#`` headings, ``-``/``*``/
``1.`` list markers and ``>`` quotes start paragraphs of their own; ``**bold**``,
``*emphasis*``, ``__bold__``, ``` `code` ```, links ``[text](url)`` and images keep only
their text; footnote references ``[^1]`` and footnote definitions, HTML comments and
horizontal rules are dropped; a table row becomes one paragraph with its cells separated by
``" | "`` (its divider row dropped).
"""

from __future__ import annotations

import re

from tillit.errors import InvalidInputError
from tillit.sources.documents._clean import assemble, is_page_number
from tillit.sources.documents._model import ExtractedText

__all__ = ["decode_text", "extract_markdown", "extract_plain"]


def decode_text(data: bytes, notes: list[str]) -> str:
    """``data`` decoded: UTF-8, else cp1252, else latin-1 (which always succeeds); a note
    says when a fallback was used."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp1252")
        notes.append("Filen var inte UTF-8 och lästes som Windows-1252 (cp1252).")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
        notes.append("Filen var inte UTF-8 och lästes som Latin-1 (ISO 8859-1).")
    return text


_LIST_LINE = re.compile(r"^\s*(?:[•▪●◦■➢►‣*–-]\s+|\d+(?:\.\d+)*[.)]\s+|[a-z]\)\s+)")


def _paragraphs(text: str) -> list[list[str]]:
    paragraphs: list[list[str]] = []
    current: list[str] = []
    for line in text.split("\n"):
        if not line.strip():
            if current:
                paragraphs.append(current)
            current = []
        elif _LIST_LINE.match(line) and current:
            paragraphs.append(current)
            current = [line]
        else:
            current.append(line)
    if current:
        paragraphs.append(current)
    return paragraphs


def _empty(name: str) -> InvalidInputError:
    return InvalidInputError(
        f"{name} är tom eller innehåller ingen text.",
        hint="Kontrollera att det är rätt fil och ladda upp den igen.",
    )


def extract_plain(data: bytes, *, name: str = "Textfilen") -> ExtractedText:
    """The text of a plain-text file. Raises :class:`InvalidInputError` when it is empty."""
    notes: list[str] = []
    raw = decode_text(data, notes).replace("\r\n", "\n").replace("\r", "\n")
    pages = raw.split("\f")
    paged = [_paragraphs(page) for page in pages]
    if len(pages) > 1:  # a text export of a paged document: drop lone page-number lines
        paged = [[p for p in page if not (len(p) == 1 and is_page_number(p[0]))] for page in paged]
    text, ranges = assemble(paged)
    if not text:
        raise _empty(name)
    return ExtractedText(text, ranges, "txt", False, tuple(notes))


_FENCE = re.compile(r"^\s*(```|~~~)")
_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
_SETEXT = re.compile(r"^\s{0,3}(=+|-+)\s*$")
_RULE = re.compile(r"^\s{0,3}([-*_])(\s*\1){2,}\s*$")
_QUOTE = re.compile(r"^\s{0,3}>\s?")
_BULLET = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_FOOTNOTE_DEF = re.compile(r"^\s{0,3}\[\^[^\]]+\]:")
_TABLE_DIVIDER = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")
_INLINE = [
    (re.compile(r"<!--.*?-->", re.DOTALL), ""),
    (re.compile(r"\[\^[^\]]+\]"), ""),
    (re.compile(r"!\[([^\]]*)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\([^)]*\)"), r"\1"),
    (re.compile(r"\[([^\]]+)\]\[[^\]]*\]"), r"\1"),
    (re.compile(r"<(https?://[^>]+)>"), r"\1"),
    (re.compile(r"`([^`]+)`"), r"\1"),
    (re.compile(r"(\*\*|__)(?=\S)(.+?)(?<=\S)\1"), r"\2"),
    (re.compile(r"(?<![\w*])\*(?=\S)([^*]+?)(?<=\S)\*(?![\w*])"), r"\1"),
    (re.compile(r"(?<![\w_])_(?=\S)([^_]+?)(?<=\S)_(?![\w_])"), r"\1"),
    (re.compile(r"~~(?=\S)(.+?)(?<=\S)~~"), r"\1"),
    (re.compile(r"\\([\\`*_{}\[\]()#+\-.!|>])"), r"\1"),
]


def _inline(text: str) -> str:
    for pattern, replacement in _INLINE:
        text = pattern.sub(replacement, text)
    return text


def extract_markdown(data: bytes, *, name: str = "Markdown-filen") -> ExtractedText:
    """The text of a Markdown file, markup removed. Raises :class:`InvalidInputError` when
    it is empty."""
    notes: list[str] = []
    raw = decode_text(data, notes).replace("\r\n", "\n").replace("\r", "\n")
    raw = re.sub(r"<!--.*?-->", "", raw, flags=re.DOTALL)
    paragraphs: list[list[str]] = []
    current: list[str] = []

    def close() -> None:
        nonlocal current
        if current:
            paragraphs.append(current)
        current = []

    in_fence = False
    in_footnote = False
    for line in raw.split("\n"):
        if _FENCE.match(line):
            close()
            in_fence = not in_fence
            continue
        if in_fence:
            if line.strip():
                paragraphs.append([line])
            continue
        if not line.strip():
            close()
            in_footnote = False
            continue
        if _FOOTNOTE_DEF.match(line):
            close()
            in_footnote = True
            continue
        if in_footnote:
            continue
        if _TABLE_DIVIDER.match(line) and "|" in line:
            continue
        if _RULE.match(line):
            close()
            continue
        if _SETEXT.match(line) and current:
            close()
            continue
        heading = _HEADING.match(line)
        if heading:
            close()
            paragraphs.append([_inline(heading.group(1))])
            continue
        line = _QUOTE.sub("", line)
        if line.strip().startswith("|") and line.strip().endswith("|"):
            close()
            cells = [_inline(cell.strip()) for cell in line.strip()[1:-1].split("|")]
            paragraphs.append([" | ".join(cells)])
            continue
        bullet = _BULLET.match(line)
        if bullet:
            close()
            line = line[bullet.end() :]
        current.append(_inline(line))
    close()
    text, ranges = assemble([paragraphs])
    if not text:
        raise _empty(name)
    return ExtractedText(text, ranges, "md", False, tuple(notes))
