"""The analysis pages: start, search, municipality, peers and KPI (with its charts).
Each route calls one query function and renders it as HTML or, at ``….json``, as its
JSON twin. The regions' pages, over the same query functions, are in ``_regions``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from tillit.bank import SearchFilters
from tillit.errors import NoDataError, NotFoundError
from tillit.query import (
    RIKET,
    Loaded,
    kpi_overview,
    municipality_data,
    municipality_names,
    municipality_overview,
    peers_data,
    peers_overview,
    resolve_code,
)
from tillit.web._auth import WebState, web_state
from tillit.web._params import is_digits
from tillit.web.pages._render import (
    json_bytes,
    json_cached,
    json_response,
    page_parts,
    render,
    render_cached,
    viewer,
)
from tillit.web.pages._units import words

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
State = Annotated[WebState, Depends(web_state)]
Text = Annotated[str, Query(max_length=200)]
Code = Annotated[str | None, Query(max_length=60)]


#: What a page says when the store has nothing to show yet (a fresh `tillit serve`).
NO_DATA = "Webbplatsen har inga nyckeltal från Kolada ännu."


def loaded(state: WebState, kind: str = "K") -> Loaded:
    """The store's analyses of the municipalities (``kind`` "K") or the regions ("L"),
    loaded on first use and after every change of the store. An empty store is a
    `NoDataError` that speaks of the site (``NO_DATA``); its hint, the command that fills
    the store, is shown to administrators only (``web._errors``)."""
    if state.atlas is None:
        raise NoDataError(
            NO_DATA,
            hint="Starta webbplatsen med `tillit serve` efter `tillit sync` eller `tillit import`.",
        )
    try:
        return state.atlas.loaded(kind)
    except NoDataError as exc:
        store = state.atlas.store
        if store.metadata.exists("municipality") and store.values.manifest().get("rows", 0):
            raise  # a store with data that lacks something: the error says what
        raise NoDataError(NO_DATA, hint=exc.hint) from exc


def canonical(
    code: str, make: Callable[[str], str], state: WebState, kind: str = "K"
) -> str | None:
    """The address with the municipality's (or region's) code when it was given by name."""
    if is_digits(code) and len(code) == 4:
        return None
    return make(resolve_code(loaded(state, kind), code))


def other_kind(state: WebState, text: str, kind: str) -> str | None:
    """The code of the unit ``text`` names when it is of the other kind than ``kind`` (a
    region at a municipality's address, or a municipality at a region's); None when it is
    of ``kind`` or unknown (the page then resolves it, or says what is wrong)."""
    if state.atlas is None:
        return None
    store = state.atlas.store
    try:
        row = store.municipality(text)
    except (NotFoundError, NoDataError):
        return None
    other = "L" if kind == "K" else "K"
    if row.get("type") == other and row["id"] != RIKET:
        return str(row["id"])
    return None


def unit_names(state: WebState, kind: str) -> Sequence[tuple[str, str]]:
    """(code, name) of every municipality or region the pages can show, by name; none
    when the store cannot analyse that kind."""
    try:
        return municipality_names(loaded(state, kind))
    except NoDataError:
        return []


# --- start and search ---------------------------------------------------------------------
@router.get("/")
def start(request: Request, state: State) -> Response:
    """The start page; on an empty store it says so, and how an administrator fills it."""
    names: Sequence[tuple[str, str]] = []
    regions: Sequence[tuple[str, str]] = []
    missing: NoDataError | None = None
    try:
        names = municipality_names(loaded(state))
    except NoDataError as exc:
        missing = exc
    else:
        regions = unit_names(state, "L")
    return render(
        request,
        "start.html",
        {
            "viewer": viewer(request, state),
            "municipalities": names,
            "regions": regions,
            "empty": missing is not None and missing.message == NO_DATA,
            "missing": missing,
        },
    )


@router.get("/kommun")
def choose_municipality(state: State, kod: Code = None) -> Response:
    """The start page's municipality picker (works without JavaScript); a region's name
    or code goes to the region's page."""
    if not kod:
        return RedirectResponse("/", status_code=303)
    region = other_kind(state, kod, "K")
    if region:
        return RedirectResponse(f"/region/{region}", status_code=303)
    return RedirectResponse(f"/kommun/{resolve_code(loaded(state), kod)}", status_code=303)


#: What ``/sok?visa=…`` shows all of, paged: municipalities, regions, KPIs or good examples.
SEARCH_KINDS = ("kommuner", "regioner", "nyckeltal", "exempel")
#: Each kind's key in the result and the noun its count is written with.
_SEARCH_KEYS = {
    "kommuner": ("municipalities", "kommun"),
    "regioner": ("regions", "region"),
    "nyckeltal": ("kpis", "nyckeltal"),
    "exempel": ("examples", "gott exempel"),
}
#: Hits of each kind on the overview, and per page when one kind is shown.
OVERVIEW_HITS = 8
PAGE_HITS = 20


def search_all(
    request: Request, state: WebState, q: str, kind: str | None = None, page: int = 1
) -> dict[str, Any]:
    """Municipalities, regions, KPIs and good examples matching ``q``, each with how many
    match in all (``*_total``): the first few of each kind, or, for ``kind``, one page of
    that kind (``page``, from 1)."""
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
        "regions": [],
        "regions_total": 0,
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
            units = store.search_municipalities(q, limit=100_000)
            for key, unit, this in (
                ("municipalities", "K", "kommuner"),
                ("regions", "L", "regioner"),
            ):
                found = [
                    {"code": r["id"], "name": r["title"]}
                    for r in units
                    if r.get("type") == unit and r["id"] != RIKET
                ]
                out[key] = found[offset : offset + wanted(this)]
                out[f"{key}_total"] = len(found)
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
        key, noun = _SEARCH_KEYS[kind]
        out["pages"] = max(1, -(-out[f"{key}_total"] // size))
        out["noun"] = noun
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
def overview(
    state: WebState, code: str, kind: str = "K"
) -> tuple[Loaded, Any, tuple[str, ...], int]:
    """The municipality's (or region's) overview with its learning partners' published
    examples, the number of trials registered in it (up to 100), and a key that changes
    when those counts do (the rendered page is kept under it)."""
    data = loaded(state, kind)
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
    """Render every municipality's and region's page, its JSON twin and its peer page in
    advance (the analyses first): what a visitor asks for first is then ready. An empty
    store has nothing to warm: its pages say so when asked (a store with municipalities
    but no region values warms the municipalities)."""
    for kind in ("K", "L"):
        try:
            data = loaded(state, kind)
        except NoDataError:
            continue
        for code in data.context.municipalities:
            _warm_unit(state, code, kind)
        for kpi in data.key_kpis:  # the KPIs every municipality (region) page links to
            kpi_overview(data, kpi)


def _warm_unit(state: WebState, code: str, kind: str) -> None:
    data, report, signature, trials = overview(state, code, kind)
    key = (report.municipality, *signature)
    context = {"report": report, "trials": trials, "w": words(kind)}
    page_parts("municipality.html", lambda: context, memo=data.memo, key=key)
    json_bytes(data.memo, ("municipality", *key), lambda: municipality_data(report))
    peers = peers_overview(data, code)
    page_parts(
        "peers.html", lambda: {"report": peers, "w": words(kind)}, memo=data.memo, key=(code,)
    )


def see_other(path: str, code: str) -> RedirectResponse:
    """A region at a municipality's address, or a municipality at a region's: "see other"
    (303) to the same page of the right kind (``path`` with "{}" for the code)."""
    return RedirectResponse(path.format(code), status_code=303)


@router.get("/kommun/{code}.json")
def municipality_json(state: State, code: str) -> Response:
    region = other_kind(state, code, "K")
    if region:
        return see_other("/region/{}.json", region)
    data, report, signature, _trials = overview(state, code)
    return json_cached(
        data.memo,
        ("municipality", report.municipality, *signature),
        lambda: municipality_data(report),
    )


@router.get("/kommun/{code}/lika.json")
def peers_json(state: State, code: str) -> Response:
    region = other_kind(state, code, "K")
    if region:
        return see_other("/region/{}/lika.json", region)
    data = loaded(state)
    report = peers_overview(data, code)
    return json_cached(data.memo, ("peers", report.municipality), lambda: peers_data(report))


@router.get("/kommun/{code}/lika")
def peers_page(request: Request, state: State, code: str) -> Response:
    region = other_kind(state, code, "K")
    if region:
        return see_other("/region/{}/lika", region)
    moved = canonical(code, lambda c: f"/kommun/{c}/lika", state)
    if moved:
        return RedirectResponse(moved, status_code=308)
    data = loaded(state)
    report = peers_overview(data, code)
    return render_cached(
        request,
        "peers.html",
        lambda: {"report": report, "w": words("K")},
        memo=data.memo,
        key=(report.municipality,),
        viewer=viewer(request, state),
    )


@router.get("/kommun/{code}")
def municipality_page(request: Request, state: State, code: str) -> Response:
    region = other_kind(state, code, "K")
    if region:
        return see_other("/region/{}", region)
    moved = canonical(code, lambda c: f"/kommun/{c}", state)
    if moved:
        return RedirectResponse(moved, status_code=308)
    data, report, signature, trials = overview(state, code)
    return render_cached(
        request,
        "municipality.html",
        lambda: {"report": report, "trials": trials, "w": words("K")},
        memo=data.memo,
        key=(report.municipality, *signature),
        viewer=viewer(request, state),
    )
