"""The app factory: ``create_app(settings, bank=…)`` builds the FastAPI app (JSON API under
/api, OpenAPI at /api/openapi.json, its operations listed at /api/docs)."""

from __future__ import annotations

import gc
import logging
import os
import re
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio.to_thread
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from tillit import __version__
from tillit.bank import Bank, open_bank
from tillit.config import Settings, load_settings
from tillit.query import Atlas
from tillit.web._auth import COOKIE_NAME, LoginLimiter, WebState
from tillit.web._errors import install_error_handlers
from tillit.web._middleware import (
    DEFAULT_MAX_BODY,
    UPLOADS,
    AllowMiddleware,
    BodyLimitMiddleware,
    ForwardedMiddleware,
    HeavyRequestsMiddleware,
    Lane,
    SecurityHeadersMiddleware,
)
from tillit.web.pages import TrialEvaluator, pages_router, render_error
from tillit.web.routes import TAGS, api_router, document_schema

__all__ = ["create_app"]

DESCRIPTION = """\
Tillits JSON-API för banken med goda exempel: läsa, söka, skapa och ändra exempel,
organisationer, API-tokens och granskningsloggen.

**Inloggning.** Webbläsare loggar in med `POST /api/login` och får sessionskakan
`tillit_session` (HttpOnly, SameSite=Lax). Ändringar med kakan kräver huvudet
`X-CSRF-Token` med den `csrf_token` som inloggningen gav. Skript använder i stället en
API-token: `Authorization: Bearer tlt_…` (skapas med `POST /api/tokens`), utan CSRF.

**Fel.** Varje fel har samma form:
`{"error": {"status": 404, "code": "not_found", "message": "…", "hint": "… eller null"}}`.
"""


STATIC = Path(__file__).resolve().parent / "static"
#: Threads per server process that run routes at once. The routes are CPU-bound Python:
#: more threads only contend for the interpreter lock (20 threads cost about twice the
#: CPU per request of one), while requests beyond these wait their turn.
SERVER_THREADS = 4
#: How long a costly request waits, at most, for the cheap ones being answered to finish
#: before it starts: about ten cheap requests (3–8 ms each).
DEFER_COSTLY = 0.05
_KPI_PAGE = re.compile(r"/nyckeltal/[^/]+(/[^/]+)?")
_EXAMPLE_PAGE = re.compile(r"/(exempel|api/examples)/[0-9]+(\.json)?")
_REPORT = re.compile(r"/(kommun|region)/[^/]+/rapport(\.[a-z]+)?|/riket/rapport(\.[a-z]+)?")
_COMPILATION = re.compile(r"/remisser/[0-9]+(\.[a-z]+)?")
_TRIAL = re.compile(r"/forsok/[0-9]+(\.json|/[a-z_-]+\.(svg|csv))?")


def _page(method: str, path: str) -> bool:
    """A KPI page with its charts and downloads (30–70 ms of CPU), an example's page with
    its similar examples (10–90 ms)."""
    return _KPI_PAGE.fullmatch(path) is not None or _EXAMPLE_PAGE.fullmatch(path) is not None


def _document(method: str, path: str) -> bool:
    """A yearly report (HTML, PDF, Excel: up to seconds) or a remiss's compilation (its page
    and its downloads: up to seconds for a Word file of 100 responses)."""
    return method == "GET" and (
        _REPORT.fullmatch(path) is not None or _COMPILATION.fullmatch(path) is not None
    )


def _trial(method: str, path: str) -> bool:
    """A trial's page, its JSON twin and charts: they may wait seconds for the evaluation,
    which runs in processes of its own (so they do not wait for the cheap requests)."""
    return method == "GET" and _TRIAL.fullmatch(path) is not None


def _upload(method: str, path: str) -> bool:
    """An upload of consultation responses (their text is read here: seconds)."""
    return method == "POST" and UPLOADS.fullmatch(path) is not None


#: The lanes of requests that cost far more than a page read from memory, each apart so
#: that a report does not hold up the KPI pages, nor an upload the trial pages
#: (HeavyRequestsMiddleware: cheap requests first).
LANES = (
    Lane("page", _page),
    Lane("document", _document),
    Lane("trial", _trial, limit=2, defer=False),
    Lane("upload", _upload),
)
log = logging.getLogger("tillit.web")


def _warm(state: WebState) -> None:
    """Load the analyses, and render every municipality's and region's pages, before the first
    visitor."""
    from tillit.web.pages import warm_national, warm_pages

    try:
        warm_pages(state)
        warm_national(state)
    except Exception:  # the pages will report it when asked
        log.exception("could not load the analyses in advance")
    # What is loaded now lives as long as the process: keep it out of the garbage
    # collector's full passes, which otherwise stop every request for a few hundred ms.
    gc.collect()
    gc.freeze()


def app_from_environment() -> FastAPI:
    """The app as `tillit serve` runs it, built from the TILLIT_* environment alone: the
    store under TILLIT_HOME with its analyses warmed in the background, and the bank at
    TILLIT_DATABASE_URL. Each server process (``--workers``) calls this once."""
    from tillit.query import polarity_overrides
    from tillit.store import Store

    settings = load_settings()
    store = Store(settings.store_dir, memory_limit=settings.memory_limit)
    atlas = Atlas(store, overrides=polarity_overrides(settings))
    return create_app(settings, atlas=atlas, warm=True, threads=SERVER_THREADS)


def create_app(
    settings: Settings | None = None,
    *,
    bank: Bank | None = None,
    limiter: LoginLimiter | None = None,
    cookie_secure: bool = False,
    max_body_bytes: int = DEFAULT_MAX_BODY,
    atlas: Atlas | None = None,
    warm: bool = False,
    threads: int | None = None,
) -> FastAPI:
    """The web app over ``bank`` (default: the bank at ``settings.database_url``, opened now
    and closed when the app shuts down; settings default to the environment's).
    ``limiter`` is the login limit (kept in the bank: docs/api.md, "Login limit");
    ``cookie_secure`` (or TILLIT_COOKIE_SECURE) marks the session cookie Secure even on
    plain http (for a TLS-terminating proxy). ``atlas`` holds the store's analyses for
    the pages (None: pages that need the store answer 404); ``warm`` loads them, and
    every municipality's overview, in a background thread as the app starts. ``threads``
    caps the threads that run the (synchronous) routes at once (default: AnyIO's 40)."""
    owned = bank is None
    settings = settings or load_settings()
    if bank is None:
        bank = open_bank(settings.database_url)
    state = WebState(
        bank=bank,
        limiter=limiter or LoginLimiter(),
        cookie_secure=cookie_secure or settings.cookie_secure,
        atlas=atlas,
    )

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if threads is not None:
            anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        if warm and atlas is not None:
            threading.Thread(target=_warm, args=(state,), name="tillit-warm", daemon=True).start()
        try:
            yield
        finally:
            evaluator = getattr(_app.state, "trial_evaluator", None)
            if isinstance(evaluator, TrialEvaluator):
                evaluator.close()
            if owned:
                state.bank.close()

    app = FastAPI(
        title="Tillit – goda exempel",
        summary="JSON-API för banken med goda exempel",
        description=DESCRIPTION,
        version=__version__,
        docs_url=None,  # /api/docs is our own page: Swagger UI would load a CDN's script
        redoc_url=None,
        openapi_url="/api/openapi.json",
        openapi_tags=TAGS,
        lifespan=lifespan,
    )
    app.state.tillit = state
    app.state.settings = settings
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        fresh = app.openapi_schema is None
        schema = generate()
        return document_schema(schema) if fresh else schema

    app.openapi = openapi  # type: ignore[method-assign]
    # A trial's placebo fits run in (at most two) processes of their own.
    app.state.trial_evaluator = TrialEvaluator(processes=min(2, os.cpu_count() or 1))
    install_error_handlers(app, html=render_error)
    app.include_router(api_router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.include_router(pages_router)
    if threads is not None:
        # One costly and one slow request at a time, and the cheap ones first.
        app.add_middleware(HeavyRequestsMiddleware, lanes=LANES, defer=DEFER_COSTLY)
    app.add_middleware(AllowMiddleware, schema=app.openapi)
    # Added last = outermost: the size limit runs before anything reads the body.
    app.add_middleware(SecurityHeadersMiddleware, cookie_name=COOKIE_NAME)
    app.add_middleware(BodyLimitMiddleware, max_bytes=max_body_bytes)
    if settings.trusted_proxies:
        # Outermost: every part of the app sees the client behind the proxy.
        app.add_middleware(ForwardedMiddleware, trusted=settings.trusted_proxies)
    return app
