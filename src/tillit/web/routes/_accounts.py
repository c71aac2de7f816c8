"""Logging in and out, the current user, and API tokens."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Request, Response, status

from tillit.web._auth import (
    Principal,
    User,
    WebState,
    check_password,
    clear_session_cookie,
    principal,
    start_session,
    web_state,
)
from tillit.web._errors import WebError
from tillit.web._schemas import LoginIn, LoginOut, MeOut, NewTokenOut, TokenIn, TokenOut, UserOut
from tillit.web.routes._common import errors

router = APIRouter(tags=["konto"])
State = Annotated[WebState, Depends(web_state)]


@router.post(
    "/login",
    summary="Logga in",
    description="Sätter sessionskakan `tillit_session` (HttpOnly, SameSite=Lax) och ger "
    "CSRF-token som ska skickas i `X-CSRF-Token` vid ändringar. Efter 5 misslyckade försök "
    "med samma e-postadress från samma klientadress, eller 20 från samma klientadress, inom "
    "15 minuter svarar servern 429 med `Retry-After`.",
    responses=errors(401, 429),
)
def login(body: LoginIn, request: Request, response: Response, state: State) -> LoginOut:
    user = check_password(request, state, body.email, body.password)
    if user is None:
        raise WebError(
            401,
            "Fel e-postadress eller lösenord.",
            code="invalid_credentials",
            hint="Kontrollera uppgifterna; efter fem misslyckade försök får du vänta 15 minuter.",
        )
    csrf = start_session(request, response, state, user)
    return LoginOut(user=UserOut.of(user), csrf_token=csrf)


@router.post(
    "/logout",
    summary="Logga ut",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(403),
)
def logout(
    request: Request, who: Annotated[Principal, Depends(principal)], state: State
) -> Response:
    if who.session_id is not None:
        state.bank.end_session(who.session_id)
    response = Response(status_code=status.HTTP_204_NO_CONTENT)
    clear_session_cookie(request, response, state)
    return response


@router.get("/me", summary="Den inloggade användaren", responses=errors(401))
def me(who: Annotated[Principal, Depends(principal)]) -> MeOut:
    return MeOut(
        user=None if who.user is None else UserOut.of(who.user),
        authenticated_by=who.via,
        csrf_token=None if who.session is None else who.session.csrf_token,
    )


@router.post(
    "/tokens",
    summary="Skapa en API-token",
    description="Token visas bara i det här svaret. Skicka den som `Authorization: Bearer …`. "
    "Bara en inloggad session (kakan och `X-CSRF-Token`) får skapa tokens, aldrig en token: "
    "en stulen token ska sluta fungera när den återkallas.",
    status_code=status.HTTP_201_CREATED,
    responses=errors(401, 403),
)
def create_token(
    body: TokenIn, user: User, who: Annotated[Principal, Depends(principal)], state: State
) -> NewTokenOut:
    if who.via != "session":
        raise WebError(
            403,
            "En API-token kan inte skapa nya tokens.",
            code="permission_denied",
            hint="Logga in (POST /api/login) och skapa token med sessionen, eller på /konto.",
        )
    plain, record = state.bank.create_token(user, body.name)
    return NewTokenOut(**TokenOut.of(record).model_dump(), token=plain)


@router.get("/tokens", summary="Mina API-tokens", responses=errors(401))
def list_tokens(user: User, state: State) -> list[TokenOut]:
    return [TokenOut.of(t) for t in state.bank.tokens(user)]


@router.delete(
    "/tokens/{token_id}",
    summary="Återkalla en API-token",
    status_code=status.HTTP_204_NO_CONTENT,
    responses=errors(401, 403, 404),
)
def revoke_token(
    token_id: Annotated[int, Path(ge=1, le=2_147_483_647)], user: User, state: State
) -> Response:
    state.bank.revoke_token(user, token_id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)
