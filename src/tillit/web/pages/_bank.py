"""The bank's reading pages: the list of good examples (search and filters) and one
example with its linked results and similar examples, each with its JSON twin. The form
that creates and edits examples is in ``_example_form.py``; login and the account in
``_account.py``."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from tillit.bank import KIND_LABELS, TRUST_PRINCIPLES, ExampleRecord, SearchFilters, UserRecord
from tillit.errors import InvalidInputError, NotFoundError
from tillit.web._auth import WebState, web_state
from tillit.web._params import MAX_ID, is_digits, request_int
from tillit.web._schemas import ExampleDetailOut, SimilarOut
from tillit.web.pages._render import Viewer, json_response, render, viewer

__all__ = [
    "MAX_ID",
    "PRINCIPLE_NAMES",
    "STATUS_NAMES",
    "TYPES",
    "example_detail",
    "examples_list",
    "is_municipality",
    "kpi_title",
    "may_edit",
    "page_number",
    "router",
]

router = APIRouter(include_in_schema=False)
State = Annotated[WebState, Depends(web_state)]
Text = Annotated[str, Query(max_length=200)]

PER_PAGE = 20
#: The trust principles as the pages name them (the bank stores them lower-case).
PRINCIPLE_NAMES = {p: p[:1].upper() + p[1:] for p in TRUST_PRINCIPLES}
STATUS_NAMES = {"draft": "Utkast", "published": "Publicerad"}
#: The list's ``typ`` filter: its values in addresses -> the bank's kind (None: every kind).
#: Without ``typ`` the list shows good examples only.
TYPES: dict[str, str | None] = {
    "gott-exempel": "example",
    "projektbeskrivning": "project",
    "pressmeddelande": "press_release",
    "importerad-text": "text",
    "alla": None,
}
#: What the ``typ`` filter offers, in the order shown.
TYPE_NAMES = {
    "gott-exempel": "Goda exempel",
    "projektbeskrivning": "Projektbeskrivningar",
    "pressmeddelande": "Pressmeddelanden",
    "importerad-text": "Andra importerade texter",
    "alla": "Alla texter i banken",
}


def may_edit(user: UserRecord | None, example: ExampleRecord) -> bool:
    """The bank's rule for changing an example: an admin, or an editor of its
    organisation (the bank checks again when the change is saved)."""
    if user is None:
        return False
    return user.role == "admin" or (
        user.role == "editor" and user.organisation_id == example.organisation_id
    )


def is_municipality(code: str | None) -> bool:
    """Kolada's municipality codes are four digits; regions' start with "00"."""
    return code is not None and len(code) == 4 and is_digits(code) and not code.startswith("00")


def kpi_title(state: WebState, kpi: str) -> str | None:
    """The KPI's title from the store's metadata, when the server has a store."""
    if state.atlas is None:
        return None
    try:
        title = state.atlas.store.kpi(kpi).get("title")
    except Exception:  # no metadata, or an unknown KPI: the id alone still links
        return None
    return str(title) if title else None


def _year(value: str) -> int | None:
    value = value.strip()
    if not value:
        return None
    year = request_int(value, low=1900, high=2200)
    if year is None:
        raise InvalidInputError(
            f"Året {value!r} är inget årtal mellan 1900 och 2200.", hint="Skriv t.ex. 2021."
        )
    return year


def page_number(value: str) -> int:
    """The page of a list asked for (``sida``): 1 unless a whole number from 1 to 99 999."""
    return request_int(value, low=1, high=99_999) or 1


# --- the list ---------------------------------------------------------------------------------
def examples_list(
    state: WebState,
    who: Viewer,
    *,
    q: str = "",
    omrade: str = "",
    kommun: str = "",
    princip: str = "",
    ar: str = "",
    sida: str = "",
    typ: str = "",
    nyckeltal: str = "",
) -> dict[str, Any]:
    """One page (20) of the examples the viewer may see, matching ``q`` (best first) or,
    without it, newest first; filtered by operating area, municipality (code or name; a
    region also matches its municipalities), trust principle, year (the period covers
    it), a linked KPI (``nyckeltal``) and kind (``typ``, see TYPES: good examples unless
    asked for imported texts). Filtering goes through the bank's search for both, so that
    a filter means the same with and without ``q``; the search's hits carry what the list
    shows, each with its kind and source."""
    q, omrade, kommun, princip = q.strip(), omrade.strip(), kommun.strip(), princip.strip()
    typ, nyckeltal = typ.strip(), nyckeltal.strip().upper()
    year = _year(ar)
    page = page_number(sida)
    if typ and typ not in TYPES:
        raise InvalidInputError(
            f"{typ!r} är inget slag av text i banken.", hint="Välj bland: " + ", ".join(TYPES) + "."
        )
    if princip and princip not in TRUST_PRINCIPLES:
        raise InvalidInputError(
            f"{princip!r} är ingen tillitsprincip.",
            hint="Välj bland: " + ", ".join(TRUST_PRINCIPLES) + ".",
        )
    out: dict[str, Any] = {
        "query": q,
        "filters": {
            "omrade": omrade,
            "kommun": kommun,
            "princip": princip,
            "ar": ar.strip(),
            "typ": typ,
            "nyckeltal": nyckeltal,
        },
        "kind": TYPES.get(typ or "gott-exempel"),
        "kpi_title": kpi_title(state, nyckeltal) if nyckeltal else None,
        "total": 0,
        "page": page,
        "per_page": PER_PAGE,
        "pages": 1,
        "first": 0,
        "last": 0,
        "notice": None,
        "others": 0,
        "items": [],
    }
    municipality = region = None
    if kommun:
        try:
            org = state.bank.organisation(kommun)
        except NotFoundError:
            if not (is_digits(kommun) and len(kommun) == 4):
                out["notice"] = f"Ingen kommun eller region som heter {kommun!r} finns i banken."
                return out
            municipality = kommun
        else:
            if org.kind == "region":
                region = org.code
            else:
                municipality = org.code or kommun
    filters = SearchFilters(
        operating_area=omrade or None,
        kind=out["kind"],
        kpi=nyckeltal or None,
        municipality=municipality,
        region=region,
        principle=princip or None,
        year_from=year,
        year_to=year,
    )
    offset = (page - 1) * PER_PAGE
    result = state.bank.search(who.user, q, filters=filters, limit=PER_PAGE, offset=offset)
    for hit in result.hits:
        out["items"].append(
            {
                "id": hit.example_id,
                "title": hit.title,
                "organisation": {
                    "id": hit.organisation_id,
                    "code": hit.organisation_code,
                    "name": hit.organisation,
                },
                "operating_area": hit.operating_area,
                "period_start": hit.period_start,
                "period_end": hit.period_end,
                "status": hit.status,
                "kind": hit.kind,
                "kind_label": KIND_LABELS.get(hit.kind, hit.kind),
                "source_name": hit.source_name,
                "source_url": hit.source_url,
                "summary": hit.summary,
                "snippet_html": hit.snippet_html,
            }
        )
    out["total"] = result.total
    out["others"] = 0  # texts of other kinds that match, when no good example does
    if not result.total and out["kind"] == "example":
        wider = replace(filters, kind=None)
        out["others"] = state.bank.count(who.user, q, filters=wider)
    out["pages"] = max(1, -(-result.total // PER_PAGE))
    if out["items"]:
        out["first"] = offset + 1
        out["last"] = offset + len(out["items"])
    return out


def _list_params(
    q: Text = "",
    omrade: Text = "",
    kommun: Text = "",
    princip: Text = "",
    ar: Text = "",
    sida: Text = "",
    typ: Text = "",
    nyckeltal: Text = "",
) -> dict[str, str]:
    return {
        "q": q,
        "omrade": omrade,
        "kommun": kommun,
        "princip": princip,
        "ar": ar,
        "sida": sida,
        "typ": typ,
        "nyckeltal": nyckeltal,
    }


ListParams = Annotated[dict[str, str], Depends(_list_params)]


@router.get("/exempel.json")
def examples_json(request: Request, state: State, params: ListParams) -> Response:
    return json_response(examples_list(state, viewer(request, state), **params))


@router.get("/exempel")
def examples_page(request: Request, state: State, params: ListParams) -> Response:
    who = viewer(request, state)
    result = examples_list(state, who, **params)
    return render(
        request,
        "examples.html",
        {
            "viewer": who,
            "result": result,
            "areas": state.bank.operating_areas(who.user),
            "principles": PRINCIPLE_NAMES,
            "statuses": STATUS_NAMES,
            "types": TYPE_NAMES,
            "may_create": who.user is not None and who.user.role in ("admin", "editor"),
        },
    )


# --- one example ------------------------------------------------------------------------------
def example_detail(state: WebState, who: Viewer, example_id: int) -> dict[str, Any]:
    """The example as the API gives it (``GET /api/examples/{id}``), each linked result
    with the KPI's title (when the store knows it), the municipality's name and the
    address of the KPI page; whether the viewer may edit it; its versions."""
    if not 1 <= example_id <= MAX_ID:
        raise NotFoundError(f"Exemplet {example_id} finns inte.")
    record = state.bank.example(who.user, example_id)
    similar = [
        SimilarOut(
            id=h.example_id, title=h.title, organisation=h.organisation, snippet_html=h.snippet_html
        )
        for h in state.bank.similar(who.user, example_id)
    ]
    data = ExampleDetailOut.of(record, similar=similar).model_dump(mode="json")
    names: dict[str, str] = {}
    if record.kpis:
        names = {o.code: o.name for o in state.bank.organisations() if o.code}
    data["kpis"] = [
        {
            **link,
            "title": kpi_title(state, link["kpi"]),
            "municipality_name": names.get(link["municipality"]),
            "url": f"/nyckeltal/{link['kpi']}?kommun={link['municipality']}",
        }
        for link in data["kpis"]
    ]
    data["may_edit"] = may_edit(who.user, record)
    data["revisions"] = [
        {"version": r.version, "created_at": r.created_at.isoformat()}
        for r in state.bank.revisions(who.user, example_id)
    ]
    return data


@router.get("/exempel/{example_id:int}.json")
def example_json(request: Request, state: State, example_id: int) -> Response:
    return json_response(example_detail(state, viewer(request, state), example_id))


@router.get("/exempel/{example_id:int}")
def example_page(request: Request, state: State, example_id: int) -> Response:
    who = viewer(request, state)
    example = example_detail(state, who, example_id)
    return render(
        request,
        "example.html",
        {
            "viewer": who,
            "e": example,
            "principles": PRINCIPLE_NAMES,
            "statuses": STATUS_NAMES,
            "org_is_municipality": is_municipality(example["organisation"]["code"]),
        },
    )
