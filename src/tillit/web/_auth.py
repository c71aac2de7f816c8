"""Who is asking: login sessions (cookie + CSRF token), API tokens (Bearer), and the login
rate limit.

A request is authenticated by ``Authorization: Bearer <token>`` (scripts) or by the
``tillit_session`` cookie (browsers). Cookie-authenticated unsafe requests (POST, PUT, PATCH,
DELETE) must repeat the session's CSRF token in ``X-CSRF-Token``; a Bearer token is never sent
by a browser on its own, so it needs none."""

from __future__ import annotations

import hmac
import ipaddress
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import Depends, Request, Response

from tillit.bank import Bank, LoginLimits, SessionRecord, UserRecord
from tillit.query import Atlas
from tillit.web._errors import WebError

__all__ = [
    "COOKIE_NAME",
    "CSRF_HEADER",
    "SESSION_TTL",
    "Actor",
    "LoginLimiter",
    "Principal",
    "User",
    "WebState",
    "check_password",
    "clear_session_cookie",
    "client_address",
    "principal",
    "require_user",
    "start_session",
    "web_state",
]

COOKIE_NAME = "tillit_session"
SESSION_TTL = timedelta(hours=12)
CSRF_HEADER = "X-CSRF-Token"
UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_LOGIN_HINT = "Logga in med POST /api/login, eller skicka Authorization: Bearer <API-token>."


class LoginLimiter:
    """The login limit (docs/api.md, "Login limit"): ``limits`` enforced by the bank, which
    reserves each attempt before its password is checked, so that the limit holds for
    simultaneous attempts and across server processes and machines. ``clock`` gives the
    time in seconds since the epoch (tests pass a fake one)."""

    def __init__(
        self, limits: LoginLimits | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.limits = limits or LoginLimits()
        self.clock = clock

    def reserve(self, bank: Bank, email: str, address: str) -> int:
        """Reserve an attempt; its id. WebError 429 with Retry-After when the limit is hit."""
        now = datetime.fromtimestamp(self.clock(), UTC)
        attempt, wait = bank.reserve_login(email, address, now, self.limits)
        if attempt is None:
            raise WebError(
                429,
                "För många misslyckade inloggningsförsök.",
                hint=f"Vänta {_minutes(wait)} och försök igen.",
                headers={"Retry-After": str(wait)},
            )
        return attempt


def _minutes(seconds: int) -> str:
    minutes = max(1, (seconds + 59) // 60)
    return "en minut" if minutes == 1 else f"{minutes} minuter"


@dataclass
class WebState:
    """What the routes need, kept on ``app.state.tillit``."""

    bank: Bank
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    atlas: Atlas | None = None
    """The store's analyses for the pages (None: a bank-only server)."""
    cookie_secure: bool = False
    """Always mark the session cookie Secure (behind a TLS-terminating proxy); it is Secure
    anyway when the request itself came over https."""


def web_state(request: Request) -> WebState:
    state = request.app.state.tillit
    assert isinstance(state, WebState)
    return state


# --- logging in: shared by POST /api/login and the login page ---------------------------
def client_address(request: Request) -> str:
    """The client's address as the login limit counts it: an IPv6 address stands for its
    /64 network (what one subscriber gets). Behind a trusted proxy (TILLIT_TRUSTED_PROXIES)
    ``request.client`` is already the forwarded address (ForwardedMiddleware)."""
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64] or "okänd"
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


def check_password(
    request: Request, state: WebState, email: str, password: str
) -> UserRecord | None:
    """The user with this e-mail and password, or None (a failure, counted by the login
    limit). WebError 429 with Retry-After when the limit refuses the attempt, even for the
    right password: guessing gains nothing."""
    address = client_address(request)
    attempt = state.limiter.reserve(state.bank, email, address)
    user = None
    try:
        user = state.bank.authenticate(email, password, client=address)
    finally:
        state.bank.finish_login(attempt, succeeded=user is not None)
    return user


def _cookie_secure(request: Request, state: WebState) -> bool:
    return state.cookie_secure or request.url.scheme == "https"


def start_session(request: Request, response: Response, state: WebState, user: UserRecord) -> str:
    """Log ``user`` in: a new session in the bank, its id in the session cookie (HttpOnly,
    SameSite=Lax, 12 hours). Returns the session's CSRF token."""
    plain, csrf = state.bank.create_session(user, SESSION_TTL)
    response.set_cookie(
        COOKIE_NAME,
        plain,
        max_age=int(SESSION_TTL.total_seconds()),
        path="/",
        httponly=True,
        samesite="lax",
        secure=_cookie_secure(request, state),
    )
    return csrf


def clear_session_cookie(request: Request, response: Response, state: WebState) -> None:
    response.delete_cookie(
        COOKIE_NAME,
        path="/",
        httponly=True,
        samesite="lax",
        secure=_cookie_secure(request, state),
    )


@dataclass(frozen=True)
class Principal:
    """The user behind a request (None: anonymous) and how they proved it."""

    user: UserRecord | None
    via: Literal["session", "token"] | None = None
    session: SessionRecord | None = None
    session_id: str | None = None


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if header is None:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise WebError(
            401,
            "Authorization-huvudet ska vara 'Bearer <API-token>'.",
            code="invalid_token",
            hint=_LOGIN_HINT,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return token.strip()


def principal(request: Request, state: Annotated[WebState, Depends(web_state)]) -> Principal:
    """Authenticate the request; enforce CSRF for cookie-authenticated unsafe methods."""
    token = _bearer(request)
    if token is not None:
        user = state.bank.user_for_token(token) if len(token) <= 200 else None
        if user is None:
            raise WebError(
                401,
                "API-token är ogiltig eller återkallad.",
                code="invalid_token",
                hint="Skapa en ny token med POST /api/tokens.",
                headers={"WWW-Authenticate": "Bearer"},
            )
        return Principal(user, "token")
    cookie = request.cookies.get(COOKIE_NAME)
    if not cookie or len(cookie) > 200:
        return Principal(None)
    found = state.bank.session_user(cookie)
    if found is None:  # expired or logged out: an anonymous visitor
        return Principal(None)
    user, session = found
    if request.method in UNSAFE:
        sent = request.headers.get(CSRF_HEADER, "")
        if not hmac.compare_digest(sent.encode(), session.csrf_token.encode()):
            raise WebError(
                403,
                "CSRF-token saknas eller stämmer inte.",
                code="csrf_failed",
                hint=f"Skicka huvudet {CSRF_HEADER} med csrf_token från POST /api/login "
                "eller GET /api/me.",
            )
    return Principal(user, "session", session, cookie)


def require_user(who: Annotated[Principal, Depends(principal)]) -> UserRecord:
    if who.user is None:
        raise WebError(
            401,
            "Du måste vara inloggad för det här.",
            hint=_LOGIN_HINT,
            headers={"WWW-Authenticate": "Bearer"},
        )
    return who.user


def _actor(who: Annotated[Principal, Depends(principal)]) -> UserRecord | None:
    return who.user


#: The logged-in user or None (anonymous); CSRF already checked.
Actor = Annotated[UserRecord | None, Depends(_actor)]
#: The logged-in user; 401 otherwise.
User = Annotated[UserRecord, Depends(require_user)]
