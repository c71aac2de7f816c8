"""The analysis pages: start, search, municipality, peers and KPI (with its charts).
Each route calls one query function and renders it as HTML or, at ``….json``, as its
JSON twin."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape

from tillit.bank import SearchFilters
from tillit.errors import NoDataError, NotFoundError
from tillit.query import (
    Loaded,
    kpi_data,
    kpi_overview,
    municipality_data,
    municipality_names,
    municipality_overview,
    peers_data,
    peers_overview,
)
from tillit.web._auth import WebState, web_state
from tillit.web._params import is_digits
from tillit.web.pages._figures import CHARTS, figure
from tillit.web.pages._render import (
    csv_response,
    json_bytes,
    json_cached,
    json_response,
    page_parts,
    render,
    render_cached,
    svg_response,
    viewer,
)

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
State = Annotated[WebState, Depends(web_state)]
Text = Annotated[str, Query(max_length=200)]
Code = Annotated[str | None, Query(max_length=60)]


#: What a page says when the store has nothing to show yet (a fresh `tillit serve`).
NO_DATA = "Webbplatsen har inga nyckeltal från Kolada ännu."


def loaded(state: WebState) -> Loaded:
    """The store's analyses (loaded on first use and after every change of the store).
    An empty store is a `NoDataError` that speaks of the site (``NO_DATA``); its hint, the
    command that fills the store, is shown to administrators only (``web._errors``)."""
    if state.atlas is None:
        raise NoDataError(
            NO_DATA,
            hint="Starta webbplatsen med `tillit serve` efter `tillit sync` eller `tillit import`.",
        )
    try:
        return state.atlas.loaded()
    except NoDataError as exc:
        store = state.atlas.store
        if store.metadata.exists("municipality") and store.values.manifest().get("rows", 0):
            raise  # a store with data that lacks something: the error says what
        raise NoDataError(NO_DATA, hint=exc.hint) from exc


def _canonical(code: str, make: Callable[[str], str], state: WebState) -> str | None:
    """The address with the municipality's code when it was given by name."""
    if is_digits(code) and len(code) == 4:
        return None
    from tillit.query import resolve_code

    return make(resolve_code(loaded(state), code))


# --- start and search ---------------------------------------------------------------------
@router.get("/")
def start(request: Request, state: State) -> Response:
    """The start page; on an empty store it says so, and how an administrator fills it."""
    names: Sequence[tuple[str, str]] = []
    missing: NoDataError | None = None
    try:
        names = municipality_names(loaded(state))
    except NoDataError as exc:
        missing = exc
    return render(
        request,
        "start.html",
        {
            "viewer": viewer(request, state),
            "municipalities": names,
            "empty": missing is not None and missing.message == NO_DATA,
            "missing": missing,
        },
    )


@router.get("/kommun")
def choose_municipality(state: State, kod: Code = None) -> Response:
    """The start page's municipality picker (works without JavaScript)."""
    if not kod:
        return RedirectResponse("/", status_code=303)
    from tillit.query import resolve_code

    return RedirectResponse(f"/kommun/{resolve_code(loaded(state), kod)}", status_code=303)


#: What ``/sok?visa=…`` shows all of, paged: municipalities, KPIs or good examples.
SEARCH_KINDS = ("kommuner", "nyckeltal", "exempel")
#: Hits of each kind on the overview, and per page when one kind is shown.
OVERVIEW_HITS = 8
PAGE_HITS = 20


def search_all(
    request: Request, state: WebState, q: str, kind: str | None = None, page: int = 1
) -> dict[str, Any]:
    """Municipalities, KPIs and good examples matching ``q``, each with how many match in
    all (``*_total``): the first few of each kind, or, for ``kind``, one page of that kind
    (``page``, from 1)."""
    q = q.strip()
    kind = kind if kind in SEARCH_KINDS else None
    size = PAGE_HITS if kind else OVERVIEW_HITS
    offset = (max(1, page) - 1) * size if kind else 0
    out: dict[str, Any] = {
        "query": q,
        "kind": kind,
        "page": max(1, page) if kind else 1,
        "size": size,
        "offset": offset,
        "municipalities": [],
        "municipalities_total": 0,
        "kpis": [],
        "kpis_total": 0,
        "examples": [],
        "examples_total": 0,
        "no_data": state.atlas is None,
    }
    if not q:
        return out

    def wanted(this: str) -> int:
        return size if kind in (None, this) else 0

    if state.atlas is not None:
        store = state.atlas.store
        try:
            found = [
                {"code": r["id"], "name": r["title"]}
                for r in store.search_municipalities(q, limit=100_000)
                if r.get("type") == "K"
            ]
            out["municipalities"] = found[offset : offset + wanted("kommuner")]
            out["municipalities_total"] = len(found)
            hits, out["kpis_total"] = store.search_kpis_page(
                q, limit=wanted("nyckeltal"), offset=offset
            )
            out["kpis"] = [
                {"kpi": r["id"], "title": r["title"], "area": r.get("operating_area")}
                for r, _score in hits
            ]
        except NoDataError:  # an empty store: the bank's examples can still be searched
            out["no_data"] = True
    result = state.bank.search(
        viewer(request, state).user,
        q,
        filters=SearchFilters(kind="example"),  # imported texts: on /exempel?typ=alla
        limit=max(1, wanted("exempel")),
        offset=offset if kind == "exempel" else 0,
    )
    out["examples"] = [
        {
            "id": h.example_id,
            "title": h.title,
            "organisation": h.organisation,
            "snippet_html": h.snippet_html,
        }
        for h in result.hits[: wanted("exempel")]
    ]
    out["examples_total"] = result.total
    if kind:
        total = out[
            {"kommuner": "municipalities", "nyckeltal": "kpis", "exempel": "examples"}[kind]
            + "_total"
        ]
        out["pages"] = max(1, -(-total // size))
        out["noun"] = {"kommuner": "kommun", "nyckeltal": "nyckeltal", "exempel": "gott exempel"}[
            kind
        ]
    return out


Page = Annotated[int, Query(ge=1, le=10_000)]
Kind = Annotated[str | None, Query(max_length=20)]


@router.get("/sok.json")
def search_json(
    request: Request, state: State, q: Text = "", visa: Kind = None, sida: Page = 1
) -> Response:
    return json_response(search_all(request, state, q, visa, sida))


@router.get("/sok")
def search_page(
    request: Request, state: State, q: Text = "", visa: Kind = None, sida: Page = 1
) -> Response:
    return render(
        request,
        "search.html",
        {
            "viewer": viewer(request, state),
            "result": search_all(request, state, q, visa, sida),
            "q": q,
        },
    )


# --- municipality and peers -------------------------------------------------------------
def _overview(state: WebState, code: str) -> tuple[Loaded, Any, tuple[str, ...], int]:
    """The municipality's overview with its learning partners' published examples, the
    number of trials registered in it (up to 100), and a key that changes when those
    counts do (the rendered page is kept under it)."""
    data = loaded(state)
    report = municipality_overview(data, code)
    partners = sorted(
        {p.municipality for f in report.learning.findings for p in f.partners}
        | {report.municipality}
    )
    counts = state.bank.published_counts(partners)
    linked = state.bank.linked_counts(partners)
    trials = len(state.bank.trials(None, municipality=report.municipality, limit=100))
    signature = tuple(f"{c}|{a}|{n}" for (c, a), n in sorted(counts.items(), key=str)) + tuple(
        f"nyckeltal|{c}|{k}|{n}" for (c, k), n in sorted(linked.items())
    )
    report = municipality_overview(
        data, report.municipality, example_counts=counts, linked_counts=linked
    )
    return data, report, (*signature, f"forsok|{trials}"), trials


def warm_pages(state: WebState) -> None:
    """Render every municipality's page, its JSON twin and its peer page in advance (the
    analyses first): what a visitor asks for first is then ready. An empty store has
    nothing to warm: its pages say so when asked."""
    try:
        data = loaded(state)
    except NoDataError:
        return
    for code in data.context.municipalities:
        _warm_municipality(state, code)
    for kpi in data.key_kpis:  # the KPIs every municipality page links to
        kpi_overview(data, kpi)


def _warm_municipality(state: WebState, code: str) -> None:
    data, report, signature, trials = _overview(state, code)
    key = (report.municipality, *signature)
    context = {"report": report, "trials": trials}
    page_parts("municipality.html", lambda: context, memo=data.memo, key=key)
    json_bytes(data.memo, ("municipality", *key), lambda: municipality_data(report))
    peers = peers_overview(data, code)
    page_parts("peers.html", lambda: {"report": peers}, memo=data.memo, key=(code,))


@router.get("/kommun/{code}.json")
def municipality_json(state: State, code: str) -> Response:
    data, report, signature, _trials = _overview(state, code)
    return json_cached(
        data.memo,
        ("municipality", report.municipality, *signature),
        lambda: municipality_data(report),
    )


@router.get("/kommun/{code}/lika.json")
def peers_json(state: State, code: str) -> Response:
    data = loaded(state)
    report = peers_overview(data, code)
    return json_cached(data.memo, ("peers", report.municipality), lambda: peers_data(report))


@router.get("/kommun/{code}/lika")
def peers_page(request: Request, state: State, code: str) -> Response:
    moved = _canonical(code, lambda c: f"/kommun/{c}/lika", state)
    if moved:
        return RedirectResponse(moved, status_code=308)
    data = loaded(state)
    report = peers_overview(data, code)
    return render_cached(
        request,
        "peers.html",
        lambda: {"report": report},
        memo=data.memo,
        key=(report.municipality,),
        viewer=viewer(request, state),
    )


@router.get("/kommun/{code}")
def municipality_page(request: Request, state: State, code: str) -> Response:
    moved = _canonical(code, lambda c: f"/kommun/{c}", state)
    if moved:
        return RedirectResponse(moved, status_code=308)
    data, report, signature, trials = _overview(state, code)
    return render_cached(
        request,
        "municipality.html",
        lambda: {"report": report, "trials": trials},
        memo=data.memo,
        key=(report.municipality, *signature),
        viewer=viewer(request, state),
    )


def _options(data: Loaded, selected: str | None) -> Markup:
    """The <option>s of every municipality, by name, the chosen one selected."""

    def build() -> str:
        return "".join(
            f'<option value="{code}"{" selected" if code == selected else ""}>'
            f"{escape(name)}</option>"
            for code, name in municipality_names(data)
        )

    return Markup(data.memo(("options", selected or ""), build, keep=400))


# --- KPI ----------------------------------------------------------------------------------
@router.get("/nyckeltal/{kpi}.json")
def kpi_json(state: State, kpi: str, kommun: Code = None) -> Response:
    data = loaded(state)
    report = kpi_overview(data, kpi, kommun or None)
    return json_cached(
        data.memo, ("kpi", report.kpi, report.municipality or ""), lambda: kpi_data(report)
    )


@router.get("/nyckeltal/{kpi}.csv")
def kpi_csv(state: State, kpi: str, kommun: Code = None) -> Response:
    report = kpi_overview(loaded(state), kpi, kommun or None)
    rows = (
        {
            "kpi": report.kpi,
            "kommunkod": p.municipality,
            "kommun": p.name,
            "ar": report.year,
            "varde": p.value,
            "roll": {"focal": "vald kommun", "peer": "liknande kommun"}.get(p.role, ""),
        }
        for p in report.points
    )
    return csv_response(
        rows, ("kpi", "kommunkod", "kommun", "ar", "varde", "roll"), f"{report.kpi}.csv"
    )


def _figure(state: WebState, kpi: str, chart: str, kommun: str | None) -> Any:
    if chart not in CHARTS:
        raise NotFoundError(
            f"Det finns inget diagram som heter {chart!r}.",
            hint="Diagrammen heter " + ", ".join(CHARTS) + ".",
        )
    report = kpi_overview(loaded(state), kpi, kommun or None)
    fig = figure(report, chart)
    if fig is None:
        raise NotFoundError(
            f"{report.title} har inget trattdiagram.",
            hint="Trattdiagram ritas för andelar och antal per invånare.",
        )
    return report, fig


@router.get("/nyckeltal/{kpi}/{chart}.svg")
def chart_svg(state: State, kpi: str, chart: str, kommun: Code = None) -> Response:
    report, fig = _figure(state, kpi, chart, kommun)
    name = f"{report.kpi}-{chart}" + (f"-{report.municipality}" if report.municipality else "")
    return svg_response(fig.chart.svg, f"{name}.svg")


@router.get("/nyckeltal/{kpi}/{chart}.csv")
def chart_csv(state: State, kpi: str, chart: str, kommun: Code = None) -> Response:
    report, fig = _figure(state, kpi, chart, kommun)
    name = f"{report.kpi}-{chart}" + (f"-{report.municipality}" if report.municipality else "")
    return csv_response(fig.rows, fig.columns, f"{name}.csv")


@router.get("/nyckeltal/{kpi}")
def kpi_page(request: Request, state: State, kpi: str, kommun: Code = None) -> Response:
    data = loaded(state)
    if kommun and not (is_digits(kommun) and len(kommun) == 4):
        from tillit.query import resolve_code

        code = resolve_code(data, kommun)
        return RedirectResponse(f"/nyckeltal/{kpi}?kommun={code}", status_code=308)
    report = kpi_overview(data, kpi, kommun or None)
    if report.kpi != kpi:
        suffix = f"?kommun={report.municipality}" if report.municipality else ""
        return RedirectResponse(f"/nyckeltal/{report.kpi}{suffix}", status_code=308)
    return render_cached(
        request,
        "kpi.html",
        lambda: {
            "report": report,
            "figures": [f for f in (figure(report, slug) for slug in CHARTS) if f is not None],
            "options": _options(data, report.municipality),
        },
        memo=data.memo,
        key=(report.kpi, report.municipality or ""),
        viewer=viewer(request, state),
    )
