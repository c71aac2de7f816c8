"""The KPI page (``/nyckeltal/{kpi}``), its JSON twin, CSV and charts: one KPI over all
municipalities, or over all regions. Which of them, and which one is chosen, the address
says: ``?kommun=1384`` (a municipality), ``?region=0013`` (a region), ``?visa=regioner``
or ``?visa=kommuner`` (all of one kind, none chosen); without any, the kind Kolada
publishes the KPI for (municipalities when it publishes it for both)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape

from tillit.errors import NotFoundError
from tillit.query import (
    KpiOverview,
    Loaded,
    kpi_data,
    kpi_fits,
    kpi_overview,
    municipality_names,
    resolve_code,
)
from tillit.web._auth import WebState, web_state
from tillit.web.pages._analyses import loaded, other_kind
from tillit.web.pages._figures import CHARTS, figure
from tillit.web.pages._render import (
    _url,
    csv_response,
    json_cached,
    render_cached,
    svg_response,
    viewer,
)
from tillit.web.pages._units import words

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
State = Annotated[WebState, Depends(web_state)]
Code = Annotated[str | None, Query(max_length=60)]
Show = Annotated[str | None, Query(max_length=20)]

#: ``?visa=…``: all of one kind, none chosen.
SHOW = {"kommuner": "K", "regioner": "L"}
SHOW_OF = {kind: name for name, kind in SHOW.items()}


def default_kind(state: WebState, kpi: str) -> str:
    """The kind a KPI page shows without a choice: regions for a KPI Kolada publishes only
    for regions, else municipalities."""
    store = loaded(state).store  # an empty store: the site says so
    meta = store.kpi(kpi)
    return "L" if not kpi_fits(meta, "K") and kpi_fits(meta, "L") else "K"


def target(
    state: WebState, kpi: str, kommun: str | None, region: str | None, visa: str | None
) -> tuple[Loaded, str | None]:
    """The analyses (municipalities' or regions') a KPI page is drawn from and the chosen
    unit's code. A region named as ``kommun`` (or a municipality as ``region``) is taken
    as what it is; an empty ``region=`` (the form's "Ingen vald region") shows all regions."""
    for text, kind in ((region, "L"), (kommun, "K")):
        if not text:
            continue
        other = other_kind(state, text, kind)
        if other:
            return loaded(state, "L" if kind == "K" else "K"), other
        data = loaded(state, kind)
        return data, resolve_code(data, text)
    if visa in SHOW:
        return loaded(state, SHOW[visa]), None
    if region is not None:
        return loaded(state, "L"), None
    return loaded(state, default_kind(state, kpi)), None


def kpi_query(report: KpiOverview, default: str) -> dict[str, str]:
    """The page's own query: the chosen unit, or which kind when it is not the default."""
    if report.municipality:
        return {words(report.kind).param: report.municipality}
    if report.kind != default:
        return {"visa": "regioner" if report.kind == "L" else "kommuner"}
    return {}


def _report(
    state: WebState, kpi: str, kommun: str | None, region: str | None, visa: str | None
) -> tuple[Loaded, KpiOverview]:
    data, code = target(state, kpi, kommun, region, visa)
    return data, kpi_overview(data, kpi, code)


def _options(data: Loaded, selected: str | None) -> Markup:
    """The <option>s of every municipality (or region), by name, the chosen one selected."""

    def build() -> str:
        return "".join(
            f'<option value="{code}"{" selected" if code == selected else ""}>'
            f"{escape(name)}</option>"
            for code, name in municipality_names(data)
        )

    return Markup(data.memo(("options", selected or ""), build, keep=400))


@router.get("/nyckeltal/{kpi}.json")
def kpi_json(
    state: State, kpi: str, kommun: Code = None, region: Code = None, visa: Show = None
) -> Response:
    data, report = _report(state, kpi, kommun, region, visa)
    return json_cached(
        data.memo, ("kpi", report.kpi, report.municipality or ""), lambda: kpi_data(report)
    )


@router.get("/nyckeltal/{kpi}.csv")
def kpi_csv(
    state: State, kpi: str, kommun: Code = None, region: Code = None, visa: Show = None
) -> Response:
    _data, report = _report(state, kpi, kommun, region, visa)
    w = words(report.kind)
    rows = (
        {
            "kpi": report.kpi,
            w.code_column: p.municipality,
            w.unit: p.name,
            "ar": report.year,
            "varde": p.value,
            "roll": {"focal": w.chosen, "peer": w.peer}.get(p.role, ""),
        }
        for p in report.points
    )
    return csv_response(
        rows, ("kpi", w.code_column, w.unit, "ar", "varde", "roll"), f"{report.kpi}.csv"
    )


def _figure(
    state: WebState,
    kpi: str,
    chart: str,
    kommun: str | None,
    region: str | None,
    visa: str | None,
) -> Any:
    if chart not in CHARTS:
        raise NotFoundError(
            f"Det finns inget diagram som heter {chart!r}.",
            hint="Diagrammen heter " + ", ".join(CHARTS) + ".",
        )
    _data, report = _report(state, kpi, kommun, region, visa)
    fig = figure(report, chart)
    if fig is None:
        raise NotFoundError(
            f"{report.title} har inget trattdiagram.",
            hint="Trattdiagram ritas för andelar och antal per invånare.",
        )
    name = f"{report.kpi}-{chart}" + (f"-{report.municipality}" if report.municipality else "")
    return fig, name


@router.get("/nyckeltal/{kpi}/{chart}.svg")
def chart_svg(
    state: State,
    kpi: str,
    chart: str,
    kommun: Code = None,
    region: Code = None,
    visa: Show = None,
) -> Response:
    fig, name = _figure(state, kpi, chart, kommun, region, visa)
    return svg_response(fig.chart.svg, f"{name}.svg")


@router.get("/nyckeltal/{kpi}/{chart}.csv")
def chart_csv(
    state: State,
    kpi: str,
    chart: str,
    kommun: Code = None,
    region: Code = None,
    visa: Show = None,
) -> Response:
    fig, name = _figure(state, kpi, chart, kommun, region, visa)
    return csv_response(fig.rows, fig.columns, f"{name}.csv")


@router.get("/nyckeltal/{kpi}")
def kpi_page(
    request: Request,
    state: State,
    kpi: str,
    kommun: Code = None,
    region: Code = None,
    visa: Show = None,
) -> Response:
    data, report = _report(state, kpi, kommun, region, visa)
    default = default_kind(state, report.kpi)
    query = kpi_query(report, default)
    given = {k: v for k, v in (("kommun", kommun), ("region", region), ("visa", visa)) if v}
    if report.kpi != kpi or given != query or (region == "" and not query):
        # A name for a code, a region asked for as a municipality, an empty choice: the
        # page's one address.
        return RedirectResponse(_url(f"/nyckeltal/{report.kpi}", **query), status_code=308)
    other = "L" if report.kind == "K" else "K"
    meta = data.store.kpi(report.kpi)
    switch = None
    if kpi_fits(meta, other):
        shown = {} if other == default else {"visa": SHOW_OF[other]}
        switch = (_url(f"/nyckeltal/{report.kpi}", **shown), words(other).units)
    return render_cached(
        request,
        "kpi.html",
        lambda: {
            "report": report,
            "figures": [f for f in (figure(report, slug) for slug in CHARTS) if f is not None],
            "options": _options(data, report.municipality),
            "w": words(report.kind),
            "query": query,
            "switch": switch,
        },
        memo=data.memo,
        key=(report.kpi, report.municipality or ""),
        viewer=viewer(request, state),
    )
