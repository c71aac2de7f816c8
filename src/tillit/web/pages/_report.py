"""The yearly report on the web: ``/kommun/{kod}/rapport`` (and ``/region/{kod}/rapport``)
with ``.pdf``, ``.xlsx`` and ``.json``, ``?ar=`` for an earlier year. The report is
:func:`tillit.query.yearly_report` over the pages' own loaded analyses, so every number is
the municipality page's; a trial's evaluation is the trial page's, taken from the
background evaluator when it is ready (the report says so when it is not yet). The PDF
takes seconds to lay out: rendered files are kept by the hash of the report's data, so an
unchanged report is never laid out twice."""

from __future__ import annotations

import contextlib
import hashlib
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from tillit.bank import TrialRecord
from tillit.config import load_settings
from tillit.errors import InvalidInputError, NoDataError, NotFoundError
from tillit.query import (
    Loaded,
    NationalReport,
    TrialEvaluation,
    YearlyReport,
    national_report_data,
    national_yearly_report,
    report_data,
    resolve_code,
    yearly_report,
)
from tillit.reports import (
    MEDIA_TYPES,
    national_bytes,
    national_filename,
    report_bytes,
    report_filename,
)
from tillit.reports._document import national_html, report_css, report_html
from tillit.web._auth import WebState, web_state
from tillit.web._errors import SECURITY_HEADERS
from tillit.web._params import request_int
from tillit.web.pages._analyses import loaded, other_kind, see_other
from tillit.web.pages._render import PAGE_CSP
from tillit.web.pages._trials import evaluator

__all__ = ["router", "warm_national"]

router = APIRouter(include_in_schema=False)
State = Annotated[WebState, Depends(web_state)]
Year = Annotated[str | None, Query(max_length=8)]

#: Rendered PDFs and workbooks kept (by the hash of their report's data).
KEEP_FILES = 64
#: How long a report waits for a trial's evaluation before saying it is being computed:
#: not at all (a finished one is shown; one not yet computed is started for its page).
EVALUATION_WAIT = 0.0

_files: OrderedDict[tuple[str, str, str], bytes] = OrderedDict()
_files_lock = threading.Lock()
_HEADERS = {**SECURITY_HEADERS, "Content-Security-Policy": PAGE_CSP}


def _year(latest: int, ar: str | None) -> int | None:
    """The year asked for with ``?ar=``, or None for the latest."""
    if ar is None or not ar.strip():
        return None
    year = request_int(ar, low=1990, high=latest)
    if year is None:
        raise InvalidInputError(
            f"Året {ar!r} finns inte i underlaget.",
            hint=f"Ange ett år till och med {latest}, t.ex. ?ar={latest}.",
        )
    return year


def earlier_year(load: Callable[[], Loaded]) -> Loaded:
    """The analyses of an earlier year, with the web's words when the store has none then."""
    try:
        return load()
    except NoDataError as error:
        raise NoDataError(error.message, hint="Välj ett senare år med ?ar=.") from error


def _report(
    request: Request, state: WebState, code: str, kind: str, ar: str | None
) -> YearlyReport:
    data = loaded(state, kind)
    year = _year(data.year, ar)
    atlas = state.atlas
    assert atlas is not None  # loaded() raised otherwise
    unit = resolve_code(data, code)
    if year is not None and year < data.year:
        # An earlier year: that unit's analyses only (seconds), not the whole country's
        # kept per year (a visitor could otherwise make the server reload it at will).
        data = earlier_year(lambda: atlas.loaded_for(unit, kind, as_of=year))
    found = evaluator(request)
    store_stamp = atlas.stamp()

    def evaluate(trial: TrialRecord, kpi: str) -> TrialEvaluation | None:
        """The trial page's evaluation when it is ready; otherwise it is started in the
        background and the report says it is not evaluated yet."""
        try:
            prepared = found.get(
                atlas.store, store_stamp, state.bank, trial, kpi, wait=EVALUATION_WAIT
            )
        except Exception:  # a full queue (503) or a failed fit: the trial page says which
            return None
        return None if prepared is None else prepared.result

    return yearly_report(
        data,
        unit,
        bank=state.bank,
        evaluate=evaluate,
        goals_max=load_settings().goals_max,
    )


def _path(kind: str, code: str, suffix: str = "") -> str:
    return f"/{'region' if kind == 'L' else 'kommun'}/{code}/rapport{suffix}"


def _links(kind: str, code: str, year: int | None) -> dict[str, str]:
    query = f"?ar={year}" if year else ""
    return {
        "PDF": _path(kind, code, ".pdf") + query,
        "Excel": _path(kind, code, ".xlsx") + query,
        "JSON": _path(kind, code, ".json") + query,
    }


def _file(data: dict[str, Any], fmt: str, base: str, render: Callable[[], bytes]) -> bytes:
    """A report as ``fmt`` with links to ``base``, laid out once per content (``data``,
    the report's JSON)."""
    digest = hashlib.sha256(orjson.dumps(data)).hexdigest()
    key = (digest, fmt, base)
    with _files_lock:
        if key in _files:
            _files.move_to_end(key)
            return _files[key]
    rendered = render()
    with _files_lock:
        _files[key] = rendered
        while len(_files) > KEEP_FILES:
            _files.popitem(last=False)
    return rendered


def _base(request: Request) -> str:
    """The server's own address, put before Tillit's links in a downloaded file."""
    return str(request.base_url).rstrip("/")


def _answer(
    request: Request, state: WebState, code: str, kind: str, ar: str | None, fmt: str
) -> Response:
    other = other_kind(state, code, kind)
    if other:
        suffix = "" if fmt == "html" else f".{fmt}"
        return see_other(_path("L" if kind == "K" else "K", "{}", suffix), other)
    report = _report(request, state, code, kind, ar)
    if report.code != code:
        suffix = "" if fmt == "html" else f".{fmt}"
        query = f"?ar={ar}" if ar else ""
        return RedirectResponse(_path(kind, report.code, suffix) + query, status_code=308)
    year = report.year if ar else None
    if fmt == "html":
        html = report_html(report, css_href="/rapport.css", links=_links(kind, report.code, year))
        return Response(html, media_type=MEDIA_TYPES["html"], headers=_HEADERS)
    if fmt == "json":
        return Response(
            orjson.dumps(report_data(report), option=orjson.OPT_INDENT_2),
            media_type=MEDIA_TYPES["json"],
            headers=_HEADERS,
        )
    name = report_filename(report, fmt)
    base = _base(request)
    return Response(
        _file(report_data(report), fmt, base, lambda: report_bytes(report, fmt, base=base)),
        media_type=MEDIA_TYPES[fmt],
        headers={**_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/rapport.css")
def report_stylesheet() -> Response:
    return Response(
        report_css(),
        media_type="text/css; charset=utf-8",
        headers={**SECURITY_HEADERS, "Cache-Control": "public, max-age=3600"},
    )


#: The report's downloads: ``rapport.{format}`` beside the page itself.
DOWNLOADS = ("pdf", "xlsx", "json")


def _format(fmt: str) -> str:
    if fmt not in DOWNLOADS:
        raise NotFoundError(
            f"Rapporten finns inte som {fmt!r}.", hint="Välj .pdf, .xlsx eller .json."
        )
    return fmt


@router.get("/kommun/{code}/rapport")
def kommun_report_html(request: Request, state: State, code: str, ar: Year = None) -> Response:
    return _answer(request, state, code, "K", ar, "html")


@router.get("/kommun/{code}/rapport.{fmt}")
def kommun_report_file(
    request: Request, state: State, code: str, fmt: str, ar: Year = None
) -> Response:
    return _answer(request, state, code, "K", ar, _format(fmt))


@router.get("/region/{code}/rapport")
def region_report_html(request: Request, state: State, code: str, ar: Year = None) -> Response:
    return _answer(request, state, code, "L", ar, "html")


@router.get("/region/{code}/rapport.{fmt}")
def region_report_file(
    request: Request, state: State, code: str, fmt: str, ar: Year = None
) -> Response:
    return _answer(request, state, code, "L", ar, _format(fmt))


def _national(state: WebState, ar: str | None) -> NationalReport:
    municipalities = loaded(state, "K")
    year = _year(municipalities.year, ar)
    atlas = state.atlas
    assert atlas is not None
    states = [atlas.loaded("K", as_of=year)]
    with contextlib.suppress(NoDataError):  # a store without regions: the municipalities
        states.append(atlas.loaded("L", as_of=year))
    key = ("national", str(year), *(str(s.stamp) for s in states))
    return states[0].memo(key, lambda: national_yearly_report(states), keep=4)


def warm_national(state: WebState) -> None:
    """Build the national report in advance (it reads every unit's overview, which the
    warm pages have just made): its page then answers at once. A store without data has
    nothing to build; its page says so when asked."""
    with contextlib.suppress(NoDataError):
        _national(state, None)


def _national_answer(request: Request, state: WebState, ar: str | None, fmt: str) -> Response:
    report = _national(state, ar)
    year = report.year if ar else None
    if fmt == "html":
        query = f"?ar={year}" if year else ""
        links = {
            "PDF": f"/riket/rapport.pdf{query}",
            "Excel": f"/riket/rapport.xlsx{query}",
            "JSON": f"/riket/rapport.json{query}",
        }
        html = national_html(report, css_href="/rapport.css", links=links)
        return Response(html, media_type=MEDIA_TYPES["html"], headers=_HEADERS)
    if fmt == "json":
        return Response(
            orjson.dumps(national_report_data(report), option=orjson.OPT_INDENT_2),
            media_type=MEDIA_TYPES["json"],
            headers=_HEADERS,
        )
    base = _base(request)
    data = _file(
        national_report_data(report), fmt, base, lambda: national_bytes(report, fmt, base=base)
    )
    name = national_filename(report, fmt)
    return Response(
        data,
        media_type=MEDIA_TYPES[fmt],
        headers={**_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )


@router.get("/riket/rapport")
def national_report_html(request: Request, state: State, ar: Year = None) -> Response:
    return _national_answer(request, state, ar, "html")


@router.get("/riket/rapport.{fmt}")
def national_report_file(request: Request, state: State, fmt: str, ar: Year = None) -> Response:
    return _national_answer(request, state, ar, _format(fmt))
