"""HTML → text with the standard library's :mod:`html.parser`.

Block elements (``p``, ``h1``–``h6``, ``li``, ``dt``/``dd``, ``blockquote``, ``pre``,
``div``, ``section``, ``tr`` …) end a paragraph; whitespace inside one collapses to a space
(inside ``pre`` a line break ends a paragraph). A table row is one paragraph with its cells
separated by ``" | "``. ``script``, ``style``, ``nav``, ``noscript``, ``template``, ``head``,
``svg``, ``iframe``, ``form`` and ``button`` are dropped with their content, as are
``header`` and ``footer`` (a web page's banner and its contact footer), and footnote marks
(``<sup>`` holding only digits or ``*``). Character references are resolved.
"""

from __future__ import annotations

from html.parser import HTMLParser

from tillit.errors import InvalidInputError
from tillit.sources.documents._clean import assemble
from tillit.sources.documents._model import ExtractedText
from tillit.sources.documents._plain import decode_text

__all__ = ["extract_html"]

_DROPPED = frozenset(
    {
        "script", "style", "nav", "noscript", "template", "head", "svg", "iframe", "form",
        "button", "header", "footer", "select", "object", "canvas", "math",
    }
)  # fmt: skip
_BLOCKS = frozenset(
    {
        "p", "h1", "h2", "h3", "h4", "h5", "h6", "li", "dt", "dd", "blockquote", "pre",
        "div", "section", "article", "main", "aside", "ul", "ol", "dl", "table", "thead",
        "tbody", "tfoot", "caption", "figure", "figcaption", "address", "hr", "body", "html",
        "details", "summary", "fieldset", "legend",
    }
)  # fmt: skip
_VOID = frozenset(
    {"br", "hr", "img", "input", "meta", "link", "area", "base", "col", "embed", "source",
     "track", "wbr", "param"}
)  # fmt: skip


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.paragraphs: list[str] = []
        self._current: list[str] = []
        self._skip: list[str] = []  # open dropped elements
        self._pre = 0
        self._row: list[str] | None = None
        self._cell: list[str] | None = None
        self._sup: list[str] | None = None

    def _flush(self) -> None:
        text = " ".join("".join(self._current).split())
        if text:
            self.paragraphs.append(text)
        self._current = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self._skip:
            if tag in _DROPPED and tag not in _VOID:
                self._skip.append(tag)
            return
        if tag in _DROPPED:
            self._skip.append(tag)
            return
        if tag == "tr":
            self._flush()
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []
        elif tag == "sup":
            self._sup = []
        elif tag == "br":
            self._write("\n" if self._pre else " ")
        elif tag in _BLOCKS and self._cell is None:
            self._flush()
            if tag == "pre":
                self._pre += 1

    def handle_endtag(self, tag: str) -> None:
        if self._skip:
            if tag == self._skip[-1]:
                self._skip.pop()
            return
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None:
            cells = list(self._row)
            while cells and not cells[-1]:
                cells.pop()
            if any(cells):
                self.paragraphs.append(" | ".join(cells))
            self._row = None
        elif tag == "sup" and self._sup is not None:
            mark = "".join(self._sup).strip()
            self._sup = None
            if mark and not all(ch.isdigit() or ch in "*†‡[]" for ch in mark):
                self._write(mark)
        elif tag in _BLOCKS and self._cell is None:
            if tag == "pre" and self._pre:
                for line in "".join(self._current).split("\n"):
                    self._current = [line]
                    self._flush()
                self._pre -= 1
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        if self._sup is not None:
            self._sup.append(data)
        else:
            self._write(data)

    def _write(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        else:
            self._current.append(data)

    def close(self) -> None:
        super().close()
        self._flush()


def extract_html(data: bytes, *, name: str = "HTML-filen") -> ExtractedText:
    """The text of an HTML page. Raises :class:`InvalidInputError` when it holds no text."""
    notes: list[str] = []
    reader = _Reader()
    reader.feed(decode_text(data, notes))
    reader.close()
    text, ranges = assemble([[[paragraph] for paragraph in reader.paragraphs]])
    if not text:
        raise InvalidInputError(
            f"{name} innehåller ingen text.",
            hint="Kontrollera att det är rätt fil; spara sidan som PDF om texten visas med skript.",
        )
    return ExtractedText(text, ranges, "html", False, tuple(notes))
