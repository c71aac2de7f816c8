"""The public pages for the people who live in a municipality or region: "Så går det för
Kungsbacka" at ``/kommun/{kod}/for-invanare`` (``/region/{kod}/for-invanare``) and its JSON
twin (``….json``). The page is ``tillit.query._citizen.citizen_view`` over the analyst
pages' own query functions, in plain Swedish, one column, readable on a phone without
JavaScript; each key result has a chart with the tested gap's 95 % interval as a band
around the peers' median, and the chart's values as a table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape

from tillit import swedish
from tillit.bank import goals_of
from tillit.config import load_settings
from tillit.errors import NotFoundError
from tillit.query import Loaded, municipality_overview, resolve_code
from tillit.query._citizen import CitizenResult, CitizenView, citizen_data, citizen_view
from tillit.reports import Chart, Series, series_chart
from tillit.web._auth import WebState, web_state
from tillit.web.pages._analyses import canonical, loaded, other_kind, see_other
from tillit.web.pages._goals import unit_goals_page_data
from tillit.web.pages._render import json_cached, render_cached, viewer

__all__ = ["ResultFigure", "citizen_page", "result_figure", "router"]

router = APIRouter(include_in_schema=False)
State = Annotated[WebState, Depends(web_state)]
Code = Annotated[str | None, Query(max_length=60)]

#: Trials and good examples the page lists at most (newest first; the rest are linked).
MAX_TRIALS = 5
MAX_EXAMPLES = 5
#: The charts' width in SVG units: drawn for a phone, so that their 12-unit text stays
#: about 11 px at 320 px.
CHART_WIDTH = 320
_PATHS = {"K": "/kommun", "L": "/region"}


# --- the charts ------------------------------------------------------------------------------
@dataclass(frozen=True)
class ResultFigure:
    """A key result's chart (the unit and its peers' middle value per year, and the band
    where the unit's level likely lies over the tested years) and the same numbers as a
    table; ``gap``: the tested gap and its interval's ends, written with signs."""

    anchor: str
    chart: Chart
    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    gap: tuple[str, str, str] | None

    def body_html(self) -> Markup:
        """The table's rows, each cell labelled with its column (the stacked layout on a
        narrow screen shows the label before the value)."""
        lines = []
        for row in self.rows:
            cells = [
                f'<th scope="row" data-label="{escape(self.headers[0])}">{escape(row[0])}</th>'
            ]
            cells += [
                f'<td class="num" data-label="{escape(h)}">{escape(v)}</td>'
                for h, v in zip(self.headers[1:], row[1:], strict=True)
            ]
            lines.append(f"<tr>{''.join(cells)}</tr>")
        return Markup("\n".join(lines))


#: The band's edges in the chart, its legend and its table.
BAND_LOW = "Troligt läge, lägst"
BAND_HIGH = "Troligt läge, högst"


def _band(r: CitizenResult, end: float | None) -> tuple[float | None, ...]:
    """The peers' median plus one end of the tested gap's interval, over the years the
    test reads (the ``gap_years`` up to the comparison's year); None elsewhere."""
    if end is None:
        return tuple(None for _ in r.years)
    return tuple(
        m + end if m is not None and r.year - r.gap_years < y <= r.year else None
        for y, m in zip(r.years, r.peer_values, strict=True)
    )


def result_figure(view: CitizenView, r: CitizenResult, index: int) -> ResultFigure:
    """The chart of the ``index``-th key result (from 1) and its table."""
    peers = f"{view.peers_word.capitalize()} (mittvärde)"
    series = [
        Series(view.name, r.years, r.values, "focal"),
        Series(peers, r.years, r.peer_values, "peer"),
    ]
    low, high = _band(r, r.gap_low), _band(r, r.gap_high)
    banded = [i for i, v in enumerate(low) if v is not None]
    if banded:  # each edge over its own years, as the goal charts draw their band
        years = tuple(r.years[i] for i in banded)
        series += [
            Series(BAND_LOW, years, tuple(low[i] for i in banded), "trend"),
            Series(BAND_HIGH, years, tuple(high[i] for i in banded), "trend"),
        ]
    unit = r.unit
    shown = swedish.side_by_side((r.value, r.peer_median))
    description = (
        f"{r.title}, {r.years[0]}–{r.years[-1]}. {view.name} {r.year}: {shown[0]} {unit}. "
        f"{peers}: {shown[1]} {unit}. {r.compared} {r.over_time}"
    ).replace(" .", ".")
    anchor = f"resultat-{index}"
    chart = series_chart(
        series,
        chart_id=anchor,
        title=r.title,
        description=description,
        unit=unit,
        show_title=False,
        width=CHART_WIDTH,
    )
    numbers = [v for v in (*r.values, *r.peer_values, *low, *high) if v is not None]
    places = swedish.decimals_for(numbers)
    headers = ["År", view.name, peers]
    if banded:
        headers += [BAND_LOW, BAND_HIGH]
    rows = []
    for i, year in enumerate(r.years):
        row = [
            str(year),
            swedish.number(r.values[i], places),
            swedish.number(r.peer_values[i], places),
        ]
        if banded:
            row += [swedish.number(low[i], places), swedish.number(high[i], places)]
        rows.append(tuple(row))
    gap = None
    if r.gap is not None and r.gap_low is not None and r.gap_high is not None:
        ends = (r.gap, r.gap_low, r.gap_high)
        d = swedish.distinguishing_decimals(ends)
        gap = (
            swedish.difference(r.gap, d),
            swedish.difference(r.gap_low, d),
            swedish.difference(r.gap_high, d),
        )
    return ResultFigure(anchor, chart, tuple(headers), tuple(rows), gap)


# --- the page's data ---------------------------------------------------------------------------
@dataclass(frozen=True)
class CitizenPage:
    """The page's key (what it depends on besides the store state) and its memo."""

    data: Loaded
    key: tuple[str, ...]
    view: Any  # () -> CitizenView, computed once per key


def citizen_page(state: WebState, code: str, kind: str) -> CitizenPage:
    """The unit's public page, kept per store state and per the bank's state of what it
    shows: the goals' change stamp (``Goals.goals_stamp``), the trials' and published good
    examples' ids and versions, and TILLIT_GOALS_MAX."""
    data = loaded(state, kind)
    report = municipality_overview(data, code)  # resolves a name; NotFoundError in Swedish
    code = report.municipality
    bank = state.bank
    trials = bank.trials(None, municipality=code, limit=MAX_TRIALS)
    try:
        organisation = bank.organisation(code)
    except NotFoundError:  # not in the bank (`tillit bank seed`): no goals or examples
        organisation = None
    examples: tuple[Any, ...] = ()
    stamp: tuple[str, ...] = ("-",)
    if organisation is not None:
        examples = bank.list_examples(
            None,
            organisation=organisation.id,
            status="published",
            kind="example",
            limit=MAX_EXAMPLES,
        ).items
        stamp = tuple(goals_of(bank).goals_stamp(organisation.id))
    key = (
        code,
        str(load_settings().goals_max),
        *stamp,
        "forsok",
        *(f"{t.id}:{t.version}:{t.updated_at.isoformat()}" for t in trials),
        "exempel",
        *(f"{e.id}:{e.version}" for e in examples),
    )

    def build() -> CitizenView:
        goals = []
        if organisation is not None:
            goals = unit_goals_page_data(state, code, kind, None)["goals"]
        return citizen_view(data, code, goals=goals, trials=trials, examples=examples)

    return CitizenPage(data, key, lambda: data.memo(("citizen-view", *key), build))


def _context(page: CitizenPage) -> dict[str, Any]:
    view = page.view()
    figures = [result_figure(view, r, i) for i, r in enumerate(view.results, start=1)]
    return {"view": view, "figures": figures}


def _html(request: Request, state: WebState, code: str, kind: str) -> Response:
    other = other_kind(state, code, kind)
    if other:
        return see_other(_PATHS["L" if kind == "K" else "K"] + "/{}/for-invanare", other)
    moved = canonical(code, lambda c: f"{_PATHS[kind]}/{c}/for-invanare", state, kind)
    if moved:
        return RedirectResponse(moved, status_code=308)
    page = citizen_page(state, code, kind)
    return render_cached(
        request,
        "citizen.html",
        lambda: _context(page),
        memo=page.data.memo,
        key=("citizen", *page.key),
        viewer=viewer(request, state),
    )


def _json(state: WebState, code: str, kind: str) -> Response:
    other = other_kind(state, code, kind)
    if other:
        return see_other(_PATHS["L" if kind == "K" else "K"] + "/{}/for-invanare.json", other)
    page = citizen_page(state, code, kind)
    return json_cached(page.data.memo, ("citizen", *page.key), lambda: citizen_data(page.view()))


# --- the routes --------------------------------------------------------------------------------
@router.get("/for-invanare")
def choose_unit(state: State, kod: Code = None) -> Response:
    """The start page's picker of a public page (works without JavaScript): a municipality's
    or region's code or name."""
    if not kod:
        return RedirectResponse("/#for-invanare", status_code=303)
    region = other_kind(state, kod, "K")
    if region:
        return RedirectResponse(f"/region/{region}/for-invanare", status_code=303)
    return RedirectResponse(
        f"/kommun/{resolve_code(loaded(state), kod)}/for-invanare", status_code=303
    )


@router.get("/kommun/{code}/for-invanare.json")
def municipality_citizen_json(state: State, code: str) -> Response:
    return _json(state, code, "K")


@router.get("/kommun/{code}/for-invanare")
def municipality_citizen_page(request: Request, state: State, code: str) -> Response:
    return _html(request, state, code, "K")


@router.get("/region/{code}/for-invanare.json")
def region_citizen_json(state: State, code: str) -> Response:
    return _json(state, code, "L")


@router.get("/region/{code}/for-invanare")
def region_citizen_page(request: Request, state: State, code: str) -> Response:
    return _html(request, state, code, "L")
