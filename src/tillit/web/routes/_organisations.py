"""Organisations: municipalities, regions and others."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path

from tillit.web._auth import WebState, web_state
from tillit.web._schemas import OrganisationOut
from tillit.web.routes._common import errors

router = APIRouter(prefix="/organisations", tags=["organisationer"])
State = Annotated[WebState, Depends(web_state)]


@router.get("", summary="Alla organisationer", responses=errors())
def list_organisations(
    state: State, kind: Literal["kommun", "region", "other"] | None = None
) -> list[OrganisationOut]:
    return [OrganisationOut.of(o) for o in state.bank.organisations(kind)]


@router.get("/{code}", summary="En organisation", responses=errors(404))
def get_organisation(
    state: State,
    code: Annotated[str, Path(max_length=200, description="Koladas kod (t.ex. 1480) eller namn.")],
) -> OrganisationOut:
    return OrganisationOut.of(state.bank.organisation(code))
