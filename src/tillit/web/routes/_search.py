"""Swedish full-text search over the good examples."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from tillit.bank import SearchFilters
from tillit.web._auth import Actor, WebState, web_state
from tillit.web._schemas import CODE_PATTERN, SearchHitOut, SearchOut, Status
from tillit.web.routes._common import errors

router = APIRouter(tags=["sök"])
State = Annotated[WebState, Depends(web_state)]
Code = Annotated[
    str | None, Query(pattern=CODE_PATTERN, description="Koladas fyrsiffriga kod, t.ex. 1480.")
]


@router.get("/search", summary="Sök bland goda exempel", responses=errors(400))
def search(
    actor: Actor,
    state: State,
    q: Annotated[
        str,
        Query(
            max_length=500,
            description='Ord (böjningar hittas), "fraser" och prefix* ; tomt listar allt.',
        ),
    ] = "",
    area: Annotated[str | None, Query(max_length=200, description="Verksamhetsområde.")] = None,
    municipality: Code = None,
    region: Code = None,
    principle: Annotated[str | None, Query(max_length=100, description="Tillitsprincip.")] = None,
    year: Annotated[int | None, Query(ge=1900, le=2200, description="Pågick detta år.")] = None,
    status: Status | None = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    offset: Annotated[int, Query(ge=0, le=100_000)] = 0,
) -> SearchOut:
    """Träffar bäst först, med ett utdrag (`snippet_html`) där texten är HTML-escapad och
    träffarna står i `<mark>`. Du ser publicerade exempel och de utkast du får se."""
    filters = SearchFilters(
        operating_area=area or None,
        municipality=municipality or None,
        region=region or None,
        principle=principle or None,
        year_from=year,
        year_to=year,
        status=status,
    )
    result = state.bank.search(actor, q, filters=filters, limit=limit, offset=offset)
    return SearchOut(
        query=q,
        total=result.total,
        limit=limit,
        offset=offset,
        fallback_used=result.fallback_used,
        hits=[
            SearchHitOut(
                id=h.example_id,
                title=h.title,
                organisation=h.organisation,
                score=h.score,
                snippet_html=h.snippet_html,
            )
            for h in result.hits
        ],
    )
