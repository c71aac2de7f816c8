"""Goals (mål): list, read (with the judgement), check before saving, create, change, delete,
history. Everyone reads; the bank checks the roles (the owning municipality's or region's
editors and admins write). Every answer about a goal has the one shape of
``tillit.query.goal_data``, the same the CLI's ``-f json`` prints."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Response, status
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictFloat, StrictInt

from tillit.bank import goals_of
from tillit.config import load_settings
from tillit.errors import NotFoundError
from tillit.query import (
    add_goal,
    assess_goals,
    change_text,
    check_data,
    edit_goal,
    goal_crowding,
    goal_data,
    prepare_goal,
)
from tillit.web._auth import Actor, User, WebState, web_state
from tillit.web._schemas import CODE_PATTERN, KPI_PATTERN, Version
from tillit.web.routes._common import errors

router = APIRouter(prefix="/goals", tags=["mål"])
State = Annotated[WebState, Depends(web_state)]
GoalId = Annotated[int, Path(ge=1, le=2_147_483_647, description="Målets id.")]


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("texten får inte innehålla NUL-tecken")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("texten är inte giltig Unicode") from None
    return value


_Clean = AfterValidator(_storable)
Title = Annotated[str, Field(min_length=1, max_length=300), _Clean]
LongText = Annotated[str, Field(max_length=100_000), _Clean]
Level = Annotated[str, Field(max_length=200), _Clean]
Note = Annotated[str, Field(max_length=2_000), _Clean]
Year = Annotated[StrictInt, Field(ge=1990, le=2100)]
Number = Annotated[StrictFloat | StrictInt, Field(ge=-1e15, le=1e15)]
Id = Annotated[StrictInt, Field(ge=1, le=2_147_483_647)]
Direction = Annotated[
    str,
    Field(
        pattern="^(increase|decrease|at_least|at_most|ökning|minskning|minst|högst)$",
        description="increase, decrease, at_least eller at_most (även ökning, minskning, "
        "minst, högst).",
    ),
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class InterimIn(_Strict):
    year: Year
    value: Number


class IndicatorIn(_Strict):
    """One indicator: a KPI with its target. Without ``baseline_value`` the baseline is read
    from the store (the unit's value in ``baseline_year``, or its latest year)."""

    kpi: Annotated[str, Field(pattern=KPI_PATTERN, description="Koladas nyckeltals-id.")]
    gender: Annotated[str, Field(pattern="^[TKM]$")] = "T"
    baseline_year: Year | None = None
    baseline_value: Number | None = None
    target_value: Number
    target_year: Year
    direction: Direction
    interim: Annotated[list[InterimIn], Field(max_length=20)] = []


Indicators = Annotated[list[IndicatorIn], Field(min_length=1, max_length=10)]


class GoalIn(_Strict):
    """A new goal for a municipality or a region."""

    organisation: Annotated[str, Field(pattern=CODE_PATTERN)] = Field(
        description="Kommunens eller regionens fyrsiffriga Kolada-kod, t.ex. 1384."
    )
    title: Title
    description: LongText = ""
    political_level: Level = Field(
        "", description="Den politiska nivå som satte målet, t.ex. kommunfullmäktige."
    )
    indicators: Indicators
    trial_ids: Annotated[list[Id], Field(max_length=100)] = []
    example_ids: Annotated[list[Id], Field(max_length=100)] = []


class GoalPatch(_Strict):
    """Only the given fields change; ``version`` is required (409 if someone saved first)."""

    version: Version = Field(description="Versionen ändringen utgår från (optimistisk låsning).")
    title: Title | None = None
    description: LongText | None = None
    political_level: Level | None = None
    indicators: Indicators | None = None
    trial_ids: Annotated[list[Id], Field(max_length=100)] | None = None
    example_ids: Annotated[list[Id], Field(max_length=100)] | None = None
    note: Note = Field("", description="Varför målet ändras; sparas med versionen.")


def _indicators(items: list[IndicatorIn]) -> list[dict[str, Any]]:
    out = []
    for item in items:
        data = item.model_dump()
        data["interim"] = [[i["year"], i["value"]] for i in data["interim"]]
        out.append({k: v for k, v in data.items() if v is not None})
    return out


def _store(state: WebState) -> Any:
    if state.atlas is None:
        raise NotFoundError(
            "Servern har inget arkiv med Koladas värden, så mål kan inte sättas eller bedömas här.",
            hint="Starta servern med `tillit serve` över ett arkiv (TILLIT_HOME).",
        )
    return state.atlas.store


def _data(state: WebState, goals: list[Any], checks: Any = ()) -> list[dict[str, Any]]:
    """Each goal as ``goal_data``, judged when the server has a store, with its
    organisation's målträngsel notes."""

    limit = load_settings().goals_max
    titles = _titles(state)
    notes = {
        org: goal_crowding(
            goals_of(state.bank).goals(None, organisation=org, limit=500), limit, titles
        )
        for org in {g.organisation_id for g in goals}
    }
    if state.atlas is None:
        return [goal_data(g, notes=notes[g.organisation_id], titles=titles) for g in goals]
    return [
        goal_data(a.goal, a, notes=notes[a.goal.organisation_id], checks=checks, titles=titles)
        for a in assess_goals(state.atlas.store, goals, atlas=state.atlas)
    ]


@router.get("", summary="Lista mål", responses=errors(404))
def list_goals(
    actor: Actor,
    state: State,
    organisation: Annotated[
        str | None,
        Query(pattern=CODE_PATTERN, description="Bara den här kommunens eller regionens mål."),
    ] = None,
    kpi: Annotated[
        str | None, Query(pattern=KPI_PATTERN, description="Bara mål med nyckeltalet.")
    ] = None,
    q: Annotated[
        str | None, Query(max_length=200, description="Bara mål vars text har alla orden.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> list[dict[str, Any]]:
    """Mål, äldst först, med bedömning (när servern har ett arkiv) och anteckningar om
    målträngsel."""

    goals = goals_of(state.bank).goals(
        actor, organisation=organisation, kpi=kpi, query=q, limit=limit, offset=offset
    )
    return _data(state, goals)


@router.post("/check", summary="Pröva ett mål innan det sparas", responses=errors(404))
def check_goal(body: GoalIn, state: State) -> dict[str, Any]:
    """Mätbarheten och ambitionen för varje indikator, och basvärden ur arkivet; inget
    sparas. Samma prövning som när målet sparas."""

    data = body.model_dump()
    data["indicators"] = _indicators(body.indicators)
    prepared = prepare_goal(_store(state), data, atlas=state.atlas)
    return {
        "organisation": {"code": prepared.unit_code, "name": prepared.unit_name},
        "indicators": prepared.data["indicators"],
        "checks": [check_data(c) for c in prepared.checks],
    }


@router.get("/{goal_id}", summary="Ett mål", responses=errors(404))
def get_goal(goal_id: GoalId, actor: Actor, state: State) -> dict[str, Any]:
    """Målet med indikatorernas bedömning, mätbarhet och ambition, och varje ändring av ett
    mål."""

    return _data(state, [goals_of(state.bank).goal(actor, goal_id)])[0]


@router.post(
    "",
    summary="Sätt ett mål",
    status_code=status.HTTP_201_CREATED,
    responses=errors(401, 403, 404, 409),
)
def create_goal(body: GoalIn, user: User, state: State) -> dict[str, Any]:
    """Mätbarheten prövas innan målet sparas; svaret har prövningen under
    `indicators[].check`."""

    data = body.model_dump()
    data["indicators"] = _indicators(body.indicators)
    goal, prepared = add_goal(_store(state), state.bank, user, data, atlas=state.atlas)
    return _data(state, [goal], prepared.checks)[0]


@router.patch("/{goal_id}", summary="Ändra ett mål", responses=errors(401, 403, 404, 409))
def patch_goal(goal_id: GoalId, body: GoalPatch, user: User, state: State) -> dict[str, Any]:
    """Bara de fält som skickas ändras; `indicators` ersätter alla. En ändring av ett mål
    sparas som en version med vem, när och `note`."""

    changes = body.model_dump(exclude_unset=True, exclude={"version"})
    changes = {k: v for k, v in changes.items() if v is not None}
    if "indicators" in changes and body.indicators is not None:
        changes["indicators"] = _indicators(body.indicators)
        goal, prepared = edit_goal(
            _store(state),
            state.bank,
            user,
            goal_id,
            changes,
            version=body.version,
            atlas=state.atlas,
        )
        return _data(state, [goal], prepared.checks if prepared else ())[0]
    goal = goals_of(state.bank).update_goal(user, goal_id, body.version, changes)
    return _data(state, [goal])[0]


@router.delete(
    "/{goal_id}",
    summary="Ta bort ett mål",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 403, 404, 409),
)
def delete_goal(
    goal_id: GoalId,
    user: User,
    state: State,
    version: Annotated[
        int | None,
        Query(ge=1, le=2_147_483_647, description="Versionen du tar bort; utelämnad: den senaste."),
    ] = None,
) -> Response:
    """Tar bort målet (granskningsloggen behåller det och varje ändring av dess mål)."""
    goals = goals_of(state.bank)
    current = goals.goal(user, goal_id).version if version is None else version
    goals.delete_goal(user, goal_id, current)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.get("/{goal_id}/revisions", summary="Målets versioner", responses=errors(404))
def list_goal_revisions(goal_id: GoalId, actor: Actor, state: State) -> list[dict[str, Any]]:
    """Varje sparad version av målet, äldst först, med de mål den ändrade."""
    titles = _titles(state)
    return [
        {
            "version": r.version,
            "created_at": r.created_at.isoformat(),
            "created_by": r.created_by,
            "author": r.author,
            "note": r.note,
            "target_changes": [
                {
                    "kpi": c.kpi,
                    "gender": c.gender,
                    "field": c.field,
                    "old": c.old,
                    "new": c.new,
                    "text": change_text(c, titles),
                }
                for c in r.target_changes
            ],
            "data": r.data,
        }
        for r in goals_of(state.bank).goal_revisions(actor, goal_id)
    ]


def _titles(state: WebState) -> dict[str, str]:
    return {k["id"]: k["title"] for k in state.atlas.store.kpis()} if state.atlas else {}
