"""The regions' pages: a region's page (``/region/{kod}``, its key results against the
other regions, what is clearly better or worse, whom to learn from, its county's
municipalities) and who is similar (``/region/{kod}/lika``), each with its JSON twin.
They are the municipality pages' query functions over the regions' analyses
(``Atlas.loaded("L")``), rendered by the same templates in the regions' words."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response

from tillit.query import municipality_data, peers_data, peers_overview, resolve_code
from tillit.web._auth import WebState, web_state
from tillit.web.pages._analyses import (
    canonical,
    loaded,
    other_kind,
    overview,
    see_other,
)
from tillit.web.pages._render import json_cached, render_cached, viewer
from tillit.web.pages._units import words

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
State = Annotated[WebState, Depends(web_state)]
Code = Annotated[str | None, Query(max_length=60)]

REGION = "L"


@router.get("/region")
def choose_region(state: State, kod: Code = None) -> Response:
    """A region picker's target (works without JavaScript); a municipality's name or code
    goes to the municipality's page."""
    if not kod:
        return RedirectResponse("/#regioner", status_code=303)
    municipality = other_kind(state, kod, REGION)
    if municipality:
        return RedirectResponse(f"/kommun/{municipality}", status_code=303)
    return RedirectResponse(f"/region/{resolve_code(loaded(state, REGION), kod)}", status_code=303)


@router.get("/region/{code}.json")
def region_json(state: State, code: str) -> Response:
    municipality = other_kind(state, code, REGION)
    if municipality:
        return see_other("/kommun/{}.json", municipality)
    data, report, signature, _trials = overview(state, code, REGION)
    return json_cached(
        data.memo,
        ("municipality", report.municipality, *signature),
        lambda: municipality_data(report),
    )


@router.get("/region/{code}/lika.json")
def region_peers_json(state: State, code: str) -> Response:
    municipality = other_kind(state, code, REGION)
    if municipality:
        return see_other("/kommun/{}/lika.json", municipality)
    data = loaded(state, REGION)
    report = peers_overview(data, code)
    return json_cached(data.memo, ("peers", report.municipality), lambda: peers_data(report))


@router.get("/region/{code}/lika")
def region_peers_page(request: Request, state: State, code: str) -> Response:
    municipality = other_kind(state, code, REGION)
    if municipality:
        return see_other("/kommun/{}/lika", municipality)
    moved = canonical(code, lambda c: f"/region/{c}/lika", state, REGION)
    if moved:
        return RedirectResponse(moved, status_code=308)
    data = loaded(state, REGION)
    report = peers_overview(data, code)
    return render_cached(
        request,
        "peers.html",
        lambda: {"report": report, "w": words(REGION)},
        memo=data.memo,
        key=(report.municipality,),
        viewer=viewer(request, state),
    )


@router.get("/region/{code}")
def region_page(request: Request, state: State, code: str) -> Response:
    municipality = other_kind(state, code, REGION)
    if municipality:
        return see_other("/kommun/{}", municipality)
    moved = canonical(code, lambda c: f"/region/{c}", state, REGION)
    if moved:
        return RedirectResponse(moved, status_code=308)
    data, report, signature, trials = overview(state, code, REGION)
    return render_cached(
        request,
        "municipality.html",
        lambda: {"report": report, "trials": trials, "w": words(REGION)},
        memo=data.memo,
        key=(report.municipality, *signature),
        viewer=viewer(request, state),
    )
