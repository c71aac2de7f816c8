"""Logging in and out, and the account page (the user, their API tokens). The same bank
calls and rules as the API's /api/login, /api/logout and /api/tokens: the login rate
limit, the session cookie and its flags come from ``tillit.web._auth``."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from tillit.bank import UserRecord
from tillit.bank._logins import storable
from tillit.web._auth import (
    COOKIE_NAME,
    WebState,
    check_password,
    clear_session_cookie,
    start_session,
    web_state,
)
from tillit.web._errors import WebError
from tillit.web._schemas import TokenOut, UserOut
from tillit.web.pages._render import (
    LOGIN_CSRF_COOKIE,
    Viewer,
    check_csrf,
    env,
    first,
    json_response,
    login_csrf,
    read_form,
    render,
    viewer,
)

__all__ = ["ROLE_NAMES", "login_redirect", "router", "safe_next"]

router = APIRouter(include_in_schema=False)
State = Annotated[WebState, Depends(web_state)]

ROLE_NAMES = {
    "admin": "administratör",
    "editor": "redaktör",
    "reader": "läsare",
}
WRONG_PASSWORD = "Fel e-postadress eller lösenord."
_SWEDEN = ZoneInfo("Europe/Stockholm")


def when(value: datetime | str | None) -> str:
    """A UTC time (or its ISO text) as Swedish local time, "2026-11-29 11:42"."""
    if value is None or value == "":
        return "–"
    moment = datetime.fromisoformat(value) if isinstance(value, str) else value
    return moment.astimezone(_SWEDEN).strftime("%Y-%m-%d %H:%M")


env.filters["when"] = when


def safe_next(value: str | None, default: str = "/konto") -> str:
    """Where to go after logging in: only a path on this site ("/…", not "//…" or "/\\…",
    which browsers read as another host), never a full address."""
    if (
        not value
        or not value.startswith("/")
        or value.startswith(("//", "/\\"))
        or any(c in value for c in "\\\r\n\t")
        or len(value) > 2000
    ):
        return default
    return value


def login_redirect(request: Request) -> RedirectResponse:
    """To the login page, coming back to this page afterwards."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse("/logga-in?nasta=" + quote(here, safe="/"), status_code=303)


# --- logging in and out -----------------------------------------------------------------------
def _login_page(
    request: Request,
    who: Viewer,
    token: str,
    *,
    email: str = "",
    next_path: str = "/konto",
    error: str | None = None,
    hint: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> Response:
    response = render(
        request,
        "login.html",
        {
            "viewer": who,
            "login_csrf": token,
            "email": email,
            "next_path": next_path,
            "error": error,
            "hint": hint,
        },
        status=status,
        headers=headers,
    )
    # The double-submit cookie: only this form's own page can know it.
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        path="/logga-in",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )
    return response


@router.get("/logga-in")
def login_page(request: Request, state: State, nasta: str = "") -> Response:
    return _login_page(
        request, viewer(request, state), login_csrf(request), next_path=safe_next(nasta)
    )


@router.post("/logga-in")
async def login(request: Request, state: State) -> Response:
    form = await read_form(request)
    check_csrf(request, form, request.cookies.get(LOGIN_CSRF_COOKIE, ""))
    token = login_csrf(request)
    email = first(form, "email").strip()[:320]
    password = first(form, "password")[:1024]
    next_path = safe_next(first(form, "nasta"))
    who = viewer(request, state)
    problem = None
    if not email or not password:
        problem = "Fyll i både e-postadress och lösenord."
    elif storable(email) != email or storable(password) != password:
        # NUL cannot be stored or looked up (as in the API's LoginIn): no one's login.
        problem = "E-postadressen eller lösenordet innehåller ett otillåtet tecken (NUL)."
    if problem is not None:
        return _login_page(
            request,
            who,
            token,
            email=storable(email),
            next_path=next_path,
            error=problem,
            status=422,
        )
    try:
        # The password hash and the limit's database lock: never on the event loop.
        user = await run_in_threadpool(check_password, request, state, email, password)
    except WebError as exc:  # the rate limit: the form again, with the wait
        if exc.status != 429:
            raise
        return _login_page(
            request,
            who,
            token,
            email=email,
            next_path=next_path,
            error=exc.message,
            hint=exc.hint,
            status=429,
            headers=exc.headers,
        )
    if user is None:
        return _login_page(
            request,
            who,
            token,
            email=email,
            next_path=next_path,
            error=WRONG_PASSWORD,
            hint="Kontrollera uppgifterna. Efter fem misslyckade försök får du vänta 15 minuter.",
            status=401,
        )
    response = RedirectResponse(next_path, status_code=303)
    await run_in_threadpool(start_session, request, response, state, user)
    return response


@router.post("/logga-ut")
async def logout(request: Request, state: State) -> Response:
    form = await read_form(request)
    who = viewer(request, state)
    if who.user is not None:
        check_csrf(request, form, who.csrf_token)
        await run_in_threadpool(state.bank.end_session, request.cookies.get(COOKIE_NAME, ""))
    response = RedirectResponse("/", status_code=303)
    clear_session_cookie(request, response, state)
    return response


# --- the account ------------------------------------------------------------------------------
def account(state: WebState, user: UserRecord) -> dict[str, Any]:
    """The user and their API tokens (never a token itself, nor a password hash)."""
    organisation = None
    if user.organisation_id is not None:
        org = state.bank.organisation(user.organisation_id)
        organisation = {"id": org.id, "code": org.code, "name": org.name}
    return {
        "user": {
            **UserOut.of(user).model_dump(),
            "role_name": ROLE_NAMES.get(user.role, user.role),
            "organisation": organisation,
        },
        "tokens": [TokenOut.of(t).model_dump(mode="json") for t in state.bank.tokens(user)],
    }


def _account_page(
    request: Request,
    state: WebState,
    who: Viewer,
    user: UserRecord,
    *,
    new_token: dict[str, Any] | None = None,
    message: str | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    return render(
        request,
        "account.html",
        {
            "viewer": who,
            "account": account(state, user),
            "new_token": new_token,
            "message": message,
            "error": error,
        },
        status=status,
    )


@router.get("/konto.json")
def account_json(request: Request, state: State) -> Response:
    who = viewer(request, state)
    if who.user is None:
        raise WebError(401, "Du måste vara inloggad för att se ditt konto.")
    return json_response(account(state, who.user))


@router.get("/konto")
def account_page(request: Request, state: State, aterkallad: str = "") -> Response:
    who = viewer(request, state)
    if who.user is None:
        return login_redirect(request)
    message = "Token är återkallad och fungerar inte längre." if aterkallad else None
    return _account_page(request, state, who, who.user, message=message)


@router.post("/konto/tokens")
async def create_token(request: Request, state: State) -> Response:
    form = await read_form(request)
    who = viewer(request, state)
    if who.user is None:
        return RedirectResponse("/logga-in?nasta=/konto", status_code=303)
    check_csrf(request, form, who.csrf_token)
    name = first(form, "name").strip()
    if not name or len(name) > 200:
        return _account_page(
            request,
            state,
            who,
            who.user,
            error="Ge token ett namn (högst 200 tecken), t.ex. vilket skript som ska använda den.",
            status=422,
        )
    plain, record = await run_in_threadpool(
        state.bank.create_token, who.user, name.replace("\x00", "")
    )
    return _account_page(
        request,
        state,
        who,
        who.user,
        new_token={"name": record.name, "token": plain},
        status=201,
    )


@router.post("/konto/tokens/{token_id:int}/aterkalla")
async def revoke_token(request: Request, state: State, token_id: int) -> Response:
    form = await read_form(request)
    who = viewer(request, state)
    if who.user is None:
        return RedirectResponse("/logga-in?nasta=/konto", status_code=303)
    check_csrf(request, form, who.csrf_token)
    if not 1 <= token_id <= 2_147_483_647:
        raise WebError(404, f"Token {token_id} finns inte.")
    await run_in_threadpool(state.bank.revoke_token, who.user, token_id)
    return RedirectResponse("/konto?aterkallad=1", status_code=303)
