"""Who is asking: login sessions (cookie + CSRF token), API tokens (Bearer), and the login
rate limit.

A request is authenticated by ``Authorization: Bearer <token>`` (scripts) or by the
``tillit_session`` cookie (browsers). Cookie-authenticated unsafe requests (POST, PUT, PATCH,
DELETE) must repeat the session's CSRF token in ``X-CSRF-Token``; a Bearer token is never sent
by a browser on its own, so it needs none."""

from __future__ import annotations

import hmac
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Literal

from fastapi import Depends, Request, Response

from tillit.bank import Bank, SessionRecord, UserRecord
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
    """Failed logins per e-mail and per client address in a sliding window. After
    ``max_failures`` failures within ``window`` seconds further attempts get 429 until the
    oldest failure leaves the window. Kept in memory: per process, forgotten on restart (a
    deployment with several processes multiplies the allowance by their number)."""

    def __init__(
        self,
        max_failures: int = 5,
        window: float = 15 * 60,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_failures = max_failures
        self.window = window
        self.clock = clock
        self._failures: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _keys(email: str, address: str) -> tuple[str, str]:
        return f"email:{email.strip().lower()}", f"ip:{address}"

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, email: str, address: str) -> int | None:
        """Seconds until another attempt is allowed, or None when it is allowed now."""
        with self._lock:
            now = self.clock()
            waits = [
                times[0] + self.window - now
                for key in self._keys(email, address)
                if len(times := self._recent(key, now)) >= self.max_failures
            ]
        return max(1, math.ceil(max(waits))) if waits else None

    def failed(self, email: str, address: str) -> None:
        with self._lock:
            now = self.clock()
            for key in self._keys(email, address):
                self._recent(key, now)
                self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, email: str) -> None:
        """A correct password clears that e-mail's failures (not the address's)."""
        with self._lock:
            self._failures.pop(self._keys(email, "")[0], None)


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
    return request.client.host if request.client else "okänd"


def check_password(
    request: Request, state: WebState, email: str, password: str
) -> UserRecord | None:
    """The user with this e-mail and password, or None (counted as a failure by the login
    rate limit). WebError 429 with Retry-After while the e-mail or the client address has
    too many recent failures, even for the right password."""
    address = client_address(request)
    wait = state.limiter.retry_after(email, address)
    if wait is not None:
        raise WebError(
            429,
            "För många misslyckade inloggningsförsök.",
            hint=f"Vänta {(wait + 59) // 60} minut(er) och försök igen.",
            headers={"Retry-After": str(wait)},
        )
    user = state.bank.authenticate(email, password, client=address)
    if user is None:
        state.limiter.failed(email, address)
        return None
    state.limiter.succeeded(email)
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
