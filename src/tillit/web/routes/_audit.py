"""The audit log, for administrators."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from tillit.web._auth import User, WebState, web_state
from tillit.web._schemas import AuditOut
from tillit.web.routes._common import errors

router = APIRouter(tags=["granskning"])
State = Annotated[WebState, Depends(web_state)]


@router.get("/audit", summary="Granskningsloggen", responses=errors(401, 403))
def audit_log(
    user: User,
    state: State,
    entity: Annotated[str | None, Query(max_length=50, description="T.ex. example, user.")] = None,
    entity_id: Annotated[str | None, Query(max_length=50)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> list[AuditOut]:
    """Senaste händelserna först: vem gjorde vad och när. Bara för administratörer."""
    entries = state.bank.audit_log(user, limit, offset, entity, entity_id)
    return [AuditOut.of(a) for a in entries]
