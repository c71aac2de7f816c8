"""One error shape for every error the web app answers with.

Every error, whatever raised it, becomes JSON of this shape (and, for the pages of issue 5,
the same fields rendered as HTML by the same handler)::

    {"error": {"status": 404, "code": "not_found", "message": "…", "hint": "… or null"}}

Request validation errors add ``"fields": [{"field": "body.title", "message": "…"}]``.
``tillit.errors`` are translated here and nowhere else; unexpected exceptions become a 500
whose body says nothing about the traceback.

A visitor is told about the site, not about the command line: a hint that names a `tillit`
command (the library's next step for whoever runs the store, e.g. "Kör `tillit sync
--metadata`") is answered with a hint for visitors instead, and kept in
``request.state.admin_hint`` for the error page to show to a logged-in administrator."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from tillit.errors import (
    ConfigError,
    ConflictError,
    InvalidInputError,
    NoDataError,
    NotFoundError,
    PermissionDeniedError,
    SourceError,
    StoreError,
    StoreLockedError,
    TillitError,
)

__all__ = ["SECURITY_HEADERS", "WebError", "error_body", "error_response", "install_error_handlers"]

log = logging.getLogger("tillit.web")

#: Sent with every response, errors included (a 500 bypasses the header middleware).
SECURITY_HEADERS: dict[str, str] = {"X-Content-Type-Options": "nosniff"}

# status -> (code, default Swedish message)
_BY_STATUS: dict[int, tuple[str, str]] = {
    400: ("bad_request", "Begäran är felaktig."),
    401: ("not_authenticated", "Du är inte inloggad."),
    403: ("permission_denied", "Du har inte behörighet att göra detta."),
    404: ("not_found", "Det du frågade efter finns inte."),
    405: ("method_not_allowed", "Metoden är inte tillåten här."),
    406: ("not_acceptable", "Svaret kan inte ges i det format som begärdes."),
    409: ("conflict", "Ändringen krockar med det som redan finns."),
    413: ("request_too_large", "Begäran är för stor."),
    415: ("unsupported_media_type", "Innehållstypen stöds inte."),
    422: ("invalid_input", "Uppgifterna i begäran är felaktiga."),
    429: ("rate_limited", "För många försök."),
    500: ("internal_error", "Ett oväntat fel inträffade i servern."),
    503: ("unavailable", "Tjänsten är inte tillgänglig just nu."),
}

# Order matters: subclasses before their bases.
_TILLIT: Sequence[tuple[type[TillitError], int, str]] = (
    (NotFoundError, 404, "not_found"),
    (NoDataError, 404, "no_data"),
    (InvalidInputError, 422, "invalid_input"),
    (PermissionDeniedError, 403, "permission_denied"),
    (ConflictError, 409, "conflict"),
    (StoreLockedError, 503, "store_locked"),
    (StoreError, 500, "store_error"),
    (SourceError, 502, "source_error"),
    (ConfigError, 500, "config_error"),
)


#: A hint that tells whoever runs the server which `tillit` command to run.
_COMMAND = re.compile(r"`tillit\b")

# What a visitor can do instead, by kind of error (subclasses before their bases).
_VISITOR_HINTS: Sequence[tuple[type[TillitError], str]] = (
    (
        NoDataError,
        "Uppgifterna läses in från Kolada av den som förvaltar webbplatsen. Försök igen senare, "
        "eller sök bland det som redan finns.",
    ),
    (NotFoundError, "Kontrollera adressen, eller sök efter det du letar efter."),
    (TillitError, "Försök igen senare; kvarstår felet, kontakta den som förvaltar webbplatsen."),
)


def visitor_hint(request: Request, exc: TillitError) -> str | None:
    """The hint to answer ``exc`` with: its own, or, when that names a `tillit` command, one
    for visitors (the command is kept in ``request.state.admin_hint``)."""
    if exc.hint is None or not _COMMAND.search(exc.hint):
        return exc.hint
    request.state.admin_hint = exc.hint
    return next(hint for kind, hint in _VISITOR_HINTS if isinstance(exc, kind))


class WebError(Exception):
    """An error only the web edge knows (not logged in, CSRF, rate limit, too large)."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        hint: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code or _BY_STATUS.get(status, ("error", ""))[0]
        self.message = message
        self.hint = hint
        self.headers = dict(headers or {})


def error_body(
    status: int, code: str, message: str, hint: str | None = None, **extra: Any
) -> dict[str, Any]:
    return {"error": {"status": status, "code": code, "message": message, "hint": hint, **extra}}


def error_response(
    status: int,
    code: str,
    message: str,
    hint: str | None = None,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    return JSONResponse(
        error_body(status, code, message, hint, **extra),
        status_code=status,
        headers={**SECURITY_HEADERS, **(headers or {})},
    )


#: Renders an error as a page: (request, status, code, message, hint) → response.
HtmlErrors = Callable[[Request, int, str, str, str | None], Response]


def wants_html(request: Request) -> bool:
    """A page address (not the API, not a JSON/CSV/SVG twin) asked for by a browser."""
    path = request.url.path
    if path.startswith(("/api", "/static")) or path.endswith((".json", ".csv", ".svg")):
        return False
    accept = request.headers.get("accept", "")
    return "text/html" in accept or not accept or "*/*" in accept


def _answer(
    request: Request,
    status: int,
    code: str,
    message: str,
    hint: str | None,
    *,
    headers: Mapping[str, str] | None = None,
    **extra: Any,
) -> Response:
    html: HtmlErrors | None = getattr(request.app.state, "html_errors", None)
    if html is not None and wants_html(request):
        response = html(request, status, code, message, hint)
        response.headers.update(headers or {})
        return response
    return error_response(status, code, message, hint, headers=headers, **extra)


def _tillit_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, TillitError)
    status, code = next(
        ((status, code) for kind, status, code in _TILLIT if isinstance(exc, kind)),
        (500, "internal_error"),
    )
    if status >= 500:
        log.error("tillit error answered with %d: %s", status, exc, exc_info=exc)
    extra: dict[str, Any] = {}
    field = getattr(exc, "field", None)
    if isinstance(field, str):
        extra["fields"] = [{"field": field, "message": exc.message}]
    return _answer(request, status, code, exc.message, visitor_hint(request, exc), **extra)


def _web_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, WebError)
    return _answer(request, exc.status, exc.code, exc.message, exc.hint, headers=exc.headers)


def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    # Starlette's and FastAPI's details are English ("Not Found", "There was an error
    # parsing the body"); the message is always ours, in Swedish.
    code, message = _BY_STATUS.get(exc.status_code, ("error", "Begäran kunde inte utföras."))
    hint = "Skicka giltig JSON i UTF-8." if exc.status_code == 400 else None
    if exc.status_code == 404 and wants_html(request):
        hint = "Kontrollera adressen, eller börja om från startsidan."
    return _answer(request, exc.status_code, code, message, hint, headers=dict(exc.headers or {}))


def _location(loc: Sequence[Any]) -> str:
    return ".".join(str(part) for part in loc)


#: Pydantic's error types (a stable, documented set) in Swedish; ``{…}`` from the error's ctx.
_VALIDATION_MESSAGES = {
    "missing": "Fältet saknas.",
    "extra_forbidden": "Fältet är inte känt.",
    "int_parsing": "Ska vara ett heltal.",
    "int_type": "Ska vara ett heltal.",
    "int_from_float": "Ska vara ett heltal.",
    "float_parsing": "Ska vara ett tal.",
    "float_type": "Ska vara ett tal.",
    "bool_parsing": "Ska vara true eller false.",
    "bool_type": "Ska vara true eller false.",
    "string_type": "Ska vara text.",
    "string_too_short": "Ska ha minst {min_length} tecken.",
    "string_too_long": "Får ha högst {max_length} tecken.",
    "string_pattern_mismatch": "Har fel form.",
    "too_short": "Ska ha minst {min_length} poster.",
    "too_long": "Får ha högst {max_length} poster.",
    "list_type": "Ska vara en lista.",
    "dict_type": "Ska vara ett objekt.",
    "model_attributes_type": "Ska vara ett objekt.",
    "greater_than": "Ska vara större än {gt}.",
    "greater_than_equal": "Ska vara minst {ge}.",
    "less_than": "Ska vara mindre än {lt}.",
    "less_than_equal": "Får vara högst {le}.",
    "enum": "Ska vara ett av: {expected}.",
    "literal_error": "Ska vara ett av: {expected}.",
}


def _swedish_message(error: Mapping[str, Any]) -> str:
    """A validation error's message in Swedish (pydantic writes English)."""
    template = _VALIDATION_MESSAGES.get(str(error.get("type", "")))
    if template is None:
        return "Ogiltigt värde."
    try:
        ctx = {k: str(v).replace(" or ", " eller ") for k, v in (error.get("ctx") or {}).items()}
        return template.format(**ctx)
    except (KeyError, IndexError):
        return template.split(" {", 1)[0].rstrip(":") + "."


def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = list(exc.errors())
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if any(tuple(e.get("loc", ())) == ("body",) for e in errors) and media != "application/json":
        # Only JSON bodies are read; a form post from another site never gets this far.
        return error_response(
            415,
            "unsupported_media_type",
            "Begärans innehåll ska vara JSON.",
            "Skicka Content-Type: application/json.",
        )
    if any(e.get("type") == "json_invalid" for e in errors):
        return error_response(
            400,
            "invalid_json",
            "Begärans innehåll är inte giltig JSON.",
            "Skicka ett JSON-objekt med Content-Type: application/json.",
        )
    fields = [
        {"field": _location(e.get("loc", ())), "message": _swedish_message(e)} for e in errors
    ]
    names = ", ".join(dict.fromkeys(f["field"] for f in fields))
    return error_response(
        422,
        "validation_failed",
        f"Begäran har felaktiga fält: {names}." if names else "Begäran har felaktiga fält.",
        "Rätta fälten i listan och försök igen; se /api/docs för vad varje fält tar.",
        fields=fields,
    )


def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error in the web app", exc_info=exc)
    code, message = _BY_STATUS[500]
    hint = "Försök igen; kvarstår felet, kontakta förvaltaren."
    try:
        return _answer(request, 500, code, message, hint)
    except Exception:  # the error page itself failed: the plain shape still answers
        return error_response(500, code, message, hint)


def install_error_handlers(app: FastAPI, html: HtmlErrors | None = None) -> None:
    """One handler per kind of error; ``html`` renders them as pages for browsers."""
    app.state.html_errors = html
    app.add_exception_handler(TillitError, _tillit_error)
    app.add_exception_handler(WebError, _web_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(Exception, _unexpected)
