"""HTML → accessible PDF (PDF/UA-1) with WeasyPrint.

``pdf_from_html`` lays out a complete HTML document and returns the PDF's bytes. The PDF is
tagged (WeasyPrint's ``pdf_variant="pdf/ua-1"`` turns ``pdf_tags`` on and writes PDF 1.7),
with ``/Lang`` from ``<html lang>``, ``/Title`` from ``<title>`` (and ``DisplayDocTitle``),
``/MarkInfo /Marked true``, ``pdfuaid:part="1"`` in the XMP metadata, and every font
embedded (WeasyPrint always embeds subsets; DejaVu is what fontconfig finds here).

What the HTML must look like, because of how WeasyPrint 70 maps HTML to PDF structure tags:

* ``<html lang="sv">`` and a non-empty ``<title>``: both required; missing ones raise
  :class:`~tillit.errors.InvalidInputError` instead of writing a PDF/UA file without them.
* Headings ``h1``–``h6`` become ``H1``–``H6``; ``p`` → ``P``; ``ol``/``ul`` → ``L``/``LI``;
  ``section`` → ``Sect``; ``table`` → ``Table`` with ``THead``/``TBody``/``TR``/``TH``/``TD``.
  Each ``TD`` gets ``/Headers`` naming its column's ``th`` and, when a ``th scope="row"``
  starts the row, that row header too (``scope`` itself is not written as ``/Scope``).
* **Charts: an inline ``<svg>`` whose first ``<title>`` child holds the alternative text**
  (``<svg role="img" aria-labelledby="…"><title>Alt text</title><desc>…</desc>…``) becomes a
  ``Figure`` with ``/Alt`` = that title. ``aria-label`` and ``<desc>`` are ignored, so an
  ``<svg role="img" aria-label="…">`` without ``<title>`` gets a ``Figure`` with *no* ``/Alt``.
  The charts of :mod:`tillit.reports` already carry a ``<title>``; put the whole alternative
  text there. ``<img alt="…" src="data:image/svg+xml;base64,…">`` also works (``/Alt`` from
  ``alt``; an ``img`` without ``alt`` raises). ``<figure>`` itself is not a tag (it becomes
  ``NonStruct``); its ``<figcaption>`` becomes ``Caption``. Text drawn inside an SVG stays
  inside the ``Figure`` and is extracted after the page's other text: the data table that
  follows each chart is what carries its numbers in reading order.
* Page-margin content (``@page`` headers and footers: the running title, "Sida N av M") is
  marked as pagination artifacts, outside the structure tree (WeasyPrint 70 would leave it
  tagged but unreachable; :func:`_margins_as_artifacts` corrects that).
* The tree is built page by page: a paragraph or table that runs over a page break becomes
  two ``P`` or ``Table`` elements, and a repeated table header row is tagged again.

Any image, stylesheet, font or attachment the HTML refers to is read only from ``data:`` URLs
or from files in the folder of a ``file:`` ``base_url`` (none without one); nothing is fetched
over the network, and a reference that cannot be read stops the rendering with an
:class:`~tillit.errors.InvalidInputError` instead of leaving a hole in the report. Errors
WeasyPrint only logs (an image without ``alt``, an unreadable SVG, a ``target-counter``
pointing at a missing id) are raised the same way.

``stylesheets`` are CSS texts applied as *user* stylesheets: the document's own ``<style>``
wins where both set the same property. :func:`print_stylesheet` returns the reports' print
stylesheet (``print.css`` beside this module).
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from importlib.resources import files
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import url2pathname

from tillit.errors import InvalidInputError, TillitError

__all__ = ["pdf_from_html", "print_stylesheet"]

#: The Debian packages whose libraries WeasyPrint loads (with cffi) at import time.
DEBIAN_PACKAGES = (
    "libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz0b libharfbuzz-subset0 libfontconfig1 "
    "fonts-dejavu-core"
)
_PDF_VARIANT = "pdf/ua-1"
_ALLOWED_PROTOCOLS = ("data", "file")
_OUTSIDE = "outside base_url"


def print_stylesheet() -> str:
    """The reports' print stylesheet (A4, page numbers, table of contents) as CSS text."""
    return files("tillit.reports").joinpath("print.css").read_text(encoding="utf-8")


def pdf_from_html(
    html: str, *, base_url: str | None = None, stylesheets: Sequence[str] = ()
) -> bytes:
    """The PDF/UA-1 rendering of the HTML document ``html``, as bytes.

    ``base_url`` resolves relative references (a directory needs a trailing ``/``);
    ``stylesheets`` are CSS texts added as user stylesheets. Raises
    :class:`~tillit.errors.InvalidInputError` when the document lacks ``lang`` or
    ``<title>``, refers to something that cannot be read, or makes WeasyPrint log an
    error; :class:`~tillit.errors.TillitError` when WeasyPrint or its system libraries are
    missing or WeasyPrint fails for another reason.
    """
    if not isinstance(html, str) or not html.strip():
        raise InvalidInputError(
            "Rapporten kan inte göras som PDF: HTML-dokumentet är tomt.",
            hint="Skicka ett helt HTML-dokument med <html lang> och <title>.",
        )
    weasyprint, urls = _import_weasyprint()
    fetcher = _fetcher(urls, base_url)
    with _weasyprint_errors() as logged:
        try:
            document = weasyprint.HTML(string=html, base_url=base_url, url_fetcher=fetcher)
            css = [
                weasyprint.CSS(string=text, base_url=base_url, url_fetcher=fetcher)
                for text in stylesheets
            ]
            rendered = document.render(stylesheets=css, pdf_variant=_PDF_VARIANT)
            _check_metadata(rendered.metadata)
            _raise_logged(logged)
            pdf: bytes = rendered.write_pdf(
                pdf_variant=_PDF_VARIANT, finisher=_margins_as_artifacts
            )
        except urls.FatalURLFetchingError as error:
            raise _unreadable(error) from error
        except TillitError:
            raise
        except Exception as error:
            raise TillitError(
                f"Rapporten kunde inte göras som PDF: WeasyPrint avbröt med "
                f"{type(error).__name__}: {error}",
                hint="Kontrollera rapportens HTML; felet ovan säger var WeasyPrint stannade.",
            ) from error
        _raise_logged(logged)
    return pdf


def _import_weasyprint() -> tuple[Any, Any]:
    """WeasyPrint and its ``urls`` module; a Swedish error naming the Debian packages when
    its system libraries (Pango, HarfBuzz, fontconfig) cannot be loaded."""
    try:
        import weasyprint
        import weasyprint.urls
    except (ImportError, OSError) as error:  # cffi raises OSError for a missing library
        raise TillitError(
            f"PDF kan inte skapas: WeasyPrint eller dess systembibliotek saknas ({error}).",
            hint=f"Installera dem med: apt-get install {DEBIAN_PACKAGES}",
        ) from error
    return weasyprint, weasyprint.urls


def _fetcher(urls: Any, base_url: str | None) -> Any:
    """WeasyPrint's URL fetcher, limited to ``data:`` URLs and files under ``base_url``'s
    folder (no file at all without a ``file:`` base), failing the rendering on any error."""
    root = None
    if base_url and base_url.startswith("file:"):
        root = Path(url2pathname(urlsplit(base_url).path)).resolve()
        root = root if base_url.endswith("/") else root.parent

    class Fetcher(urls.URLFetcher):  # type: ignore[misc]  # WeasyPrint ships no types
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.lower().startswith("file:"):
                path = Path(url2pathname(urlsplit(url).path)).resolve()
                if root is None or not path.is_relative_to(root):
                    raise PermissionError(_OUTSIDE)
            return super().fetch(url, headers)

    return Fetcher(timeout=10, allowed_protocols=_ALLOWED_PROTOCOLS, fail_on_errors=True)


def _unreadable(error: BaseException) -> InvalidInputError:
    """The Swedish error for a reference WeasyPrint could not fetch (``error`` is its
    ``FatalURLFetchingError``, whose message quotes the URL and whose cause says why)."""
    quoted = re.search(r'"(.*)"', str(error))
    url = quoted.group(1) if quoted else str(error)
    cause = error.__cause__
    if isinstance(cause, ValueError) and "disallowed protocol" in str(cause):
        why = "bara inbäddade (data:) och lokala (file:) adresser läses, inget hämtas över nätet"
    elif isinstance(cause, PermissionError) and str(cause) == _OUTSIDE:
        why = "bara filer i mappen som base_url pekar på läses"
    elif isinstance(getattr(cause, "reason", None), FileNotFoundError):
        why = "filen finns inte"
    else:
        why = str(cause or error)
    return InvalidInputError(
        f"Rapporten kan inte göras som PDF: {url} kunde inte läsas ({why}).",
        hint="Bädda in bilder och diagram i HTML-koden (inline-SVG eller data:-URL) "
        "eller ange base_url till mappen där filerna finns.",
    )


def _margins_as_artifacts(document: Any, pdf: Any) -> None:
    """Mark the text of the page margins (running title, "Sida N av M") as pagination
    artifacts, as PDF/UA-1 wants for headers and footers.

    WeasyPrint 70 tags margin-box text like body text (``/Span <</MCID n>> BDC``) but hangs
    the structure elements it makes for it nowhere in the tree. Here, on the ``pydyf`` PDF
    just before it is written, every marked-content id of a page whose structure element
    cannot be reached from the structure root becomes ``/Artifact <</Type /Pagination>>``,
    and its slot in the parent tree becomes null. Only page content streams are rewritten
    (margin text is drawn there unless it sits in a transparency group).
    """
    dictionary = type(pdf.catalog)  # pydyf.Dictionary (pydyf ships no type information)

    def resolve(reference: Any) -> Any:
        return pdf.objects[int(bytes(reference).split()[0])]

    def is_reference(item: Any) -> bool:
        return isinstance(item, bytes) and item.endswith(b" R")

    root_reference = pdf.catalog.get("StructTreeRoot")
    if root_reference is None:
        return
    root = resolve(root_reference)
    reachable: set[bytes] = set()
    pending = [kid for kid in root["K"] if is_reference(kid)]
    while pending:
        reference = bytes(pending.pop())
        if reference in reachable:
            continue
        reachable.add(reference)
        element = resolve(reference)
        if isinstance(element, dictionary) and element.get("Type") == "/StructElem":
            pending.extend(kid for kid in element.get("K", ()) if is_reference(kid))

    numbers = resolve(root["ParentTree"])["Nums"]
    for page_number, page_reference in enumerate(pdf.page_references):
        mcids = numbers[2 * page_number + 1]
        orphans = {
            mcid
            for mcid, reference in enumerate(mcids)
            if is_reference(reference) and bytes(reference) not in reachable
        }
        if not orphans:
            continue
        contents = resolve(resolve(page_reference)["Contents"])
        stream = contents.stream
        for i in range(len(stream) - 2):
            properties = stream[i + 1]
            if (
                stream[i + 2] == b"BDC"
                and isinstance(properties, dictionary)
                and properties.get("MCID") in orphans
            ):
                mcids[properties["MCID"]] = b"null"
                stream[i] = "/Artifact"
                stream[i + 1] = dictionary({"Type": "/Pagination"})


def _check_metadata(metadata: Any) -> None:
    """PDF/UA needs the document's language and title; WeasyPrint only logs their absence."""
    if not (metadata.lang or "").strip():
        raise InvalidInputError(
            "Rapporten kan inte göras som tillgänglig PDF: <html> saknar lang-attribut.",
            hint='Skriv <html lang="sv"> överst i dokumentet.',
        )
    if not (metadata.title or "").strip():
        raise InvalidInputError(
            "Rapporten kan inte göras som tillgänglig PDF: dokumentet saknar <title>.",
            hint="Lägg rapportens namn i <title> i <head>; det blir PDF:ens titel.",
        )


class _ThreadErrors(logging.Handler):
    """Collects the ERROR records WeasyPrint logs in one thread (renders may run in
    parallel threads; each sees only its own)."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.thread = threading.get_ident()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


@contextmanager
def _weasyprint_errors() -> Iterator[list[str]]:
    logger = logging.getLogger("weasyprint")
    handler = _ThreadErrors()
    logger.addHandler(handler)
    try:
        yield handler.messages
    finally:
        logger.removeHandler(handler)


def _raise_logged(messages: list[str]) -> None:
    if messages:
        listed = "; ".join(dict.fromkeys(messages))
        raise InvalidInputError(
            f"Rapporten kan inte göras som tillgänglig PDF: WeasyPrint rapporterade fel: {listed}",
            hint="Rätta rapportens HTML (alt-text på bilder, giltiga länkmål) och försök igen.",
        )
