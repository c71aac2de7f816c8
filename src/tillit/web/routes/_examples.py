"""Good examples: list, read (with similar examples), create, replace, patch, publish,
unpublish, delete, history. The bank checks the roles: an editor writes only their own
organisation's examples; a draft the caller may not see answers 404, not 403, so that its
existence does not leak."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Response, status

from tillit.web._auth import Actor, User, WebState, web_state
from tillit.web._schemas import (
    CODE_PATTERN,
    KPI_PATTERN,
    ExampleDetailOut,
    ExampleIn,
    ExampleListOut,
    ExampleOut,
    ExamplePatch,
    ExampleReplace,
    Kind,
    RevisionOut,
    SimilarOut,
    Status,
    VersionIn,
)
from tillit.web.routes._common import errors

router = APIRouter(prefix="/examples", tags=["exempel"])
State = Annotated[WebState, Depends(web_state)]
ExampleId = Annotated[int, Path(ge=1, le=2_147_483_647, description="Exemplets id.")]
Filter = Annotated[str | None, Query(max_length=200)]


def _fields(model: ExampleIn | ExamplePatch, *, only_set: bool) -> dict[str, Any]:
    data = model.model_dump(exclude_unset=only_set, exclude={"version"})
    if data.get("organisation") is None:
        data.pop("organisation", None)
    return data


@router.get("", summary="Lista bankens texter", responses=errors(404))
def list_examples(
    actor: Actor,
    state: State,
    organisation: Filter = None,
    status: Status | None = None,
    tag: Filter = None,
    principle: Filter = None,
    kpi: Annotated[
        str | None, Query(pattern=KPI_PATTERN, description="Koladas nyckeltals-id.")
    ] = None,
    municipality: Annotated[
        str | None, Query(pattern=CODE_PATTERN, description="Kommunkoden i en länk till utfall.")
    ] = None,
    operating_area: Filter = None,
    kind: Annotated[
        Kind | None,
        Query(description="example: bara goda exempel; utelämnad: alla texter i banken."),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> ExampleListOut:
    """Texter som du får se (publicerade, och utkast för din egen organisation), senast
    ändrade först: goda exempel och inlästa texter; `kind=example` ger bara goda exempel."""
    page = state.bank.list_examples(
        actor,
        organisation=organisation,
        status=status,
        tag=tag,
        principle=principle,
        kpi=kpi,
        municipality=municipality,
        operating_area=operating_area,
        kind=kind,
        limit=limit,
        offset=offset,
    )
    return ExampleListOut(
        items=[ExampleOut.of(e) for e in page.items],
        total=page.total,
        limit=page.limit,
        offset=page.offset,
    )


@router.get("/{example_id}", summary="Ett gott exempel", responses=errors(404))
def get_example(example_id: ExampleId, actor: Actor, state: State) -> ExampleDetailOut:
    """Exemplet med kopplade nyckeltal, taggar och liknande exempel."""
    record = state.bank.example(actor, example_id)
    similar = [
        SimilarOut(
            id=h.example_id, title=h.title, organisation=h.organisation, snippet_html=h.snippet_html
        )
        for h in state.bank.similar(actor, example_id)
    ]
    return ExampleDetailOut.of(record, similar=similar)


@router.post(
    "",
    summary="Lägg till ett exempel",
    status_code=status.HTTP_201_CREATED,
    responses=errors(401, 403, 404),
)
def create_example(body: ExampleIn, user: User, state: State) -> ExampleOut:
    return ExampleOut.of(state.bank.create_example(user, _fields(body, only_set=False)))


@router.put(
    "/{example_id}",
    summary="Ersätt ett exempel",
    responses=errors(401, 403, 404, 409),
)
def replace_example(
    example_id: ExampleId, body: ExampleReplace, user: User, state: State
) -> ExampleOut:
    """Alla fält ersätts; `version` är den version ändringen utgår från (409 om någon
    hunnit före)."""
    data = _fields(body, only_set=False)
    return ExampleOut.of(state.bank.update_example(user, example_id, data, body.version))


@router.patch(
    "/{example_id}",
    summary="Ändra fält i ett exempel",
    responses=errors(401, 403, 404, 409),
)
def patch_example(
    example_id: ExampleId, body: ExamplePatch, user: User, state: State
) -> ExampleOut:
    """Bara de fält som skickas ändras; `version` krävs (409 om någon hunnit före)."""
    data = {
        k: v
        for k, v in _fields(body, only_set=True).items()
        if v is not None
        or k
        in ("operating_area", "period_start", "period_end", "source", "source_name", "source_url")
    }
    return ExampleOut.of(state.bank.update_example(user, example_id, data, body.version))


@router.post(
    "/{example_id}/publish",
    summary="Publicera ett exempel",
    responses=errors(401, 403, 404, 409),
)
def publish_example(
    example_id: ExampleId,
    user: User,
    state: State,
    body: Annotated[VersionIn | None, Body()] = None,
) -> ExampleOut:
    version = None if body is None else body.version
    return ExampleOut.of(state.bank.publish(user, example_id, version))


@router.post(
    "/{example_id}/unpublish",
    summary="Gör ett exempel till utkast igen",
    responses=errors(401, 403, 404, 409),
)
def unpublish_example(
    example_id: ExampleId,
    user: User,
    state: State,
    body: Annotated[VersionIn | None, Body()] = None,
) -> ExampleOut:
    version = None if body is None else body.version
    return ExampleOut.of(state.bank.unpublish(user, example_id, version))


@router.delete(
    "/{example_id}",
    summary="Ta bort ett exempel",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 403, 404, 409),
)
def delete_example(
    example_id: ExampleId,
    user: User,
    state: State,
    version: Annotated[int | None, Query(ge=1, le=2_147_483_647)] = None,
) -> Response:
    """Tar bort exemplet och dess historik (granskningsloggen behåller sista versionen)."""
    state.bank.delete_example(user, example_id, version)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{example_id}/revisions", summary="Exemplets versioner", responses=errors(404))
def list_revisions(example_id: ExampleId, actor: Actor, state: State) -> list[RevisionOut]:
    return [RevisionOut.of(r) for r in state.bank.revisions(actor, example_id)]
