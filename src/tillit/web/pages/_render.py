"""Rendering a page: the Jinja2 environment with Tillit's Swedish filters, the HTML
response and its JSON twin from the same data, and who is looking (the session)."""

from __future__ import annotations

import csv
import dataclasses
import io
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode

import orjson
from fastapi import Request
from fastapi.responses import HTMLResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from tillit import swedish
from tillit.bank import SessionRecord, UserRecord
from tillit.query import plain
from tillit.web._auth import COOKIE_NAME, WebState
from tillit.web._errors import SECURITY_HEADERS, WebError

__all__ = [
    "PAGE_CSP",
    "Viewer",
    "check_csrf",
    "csv_response",
    "env",
    "json_response",
    "plain",
    "read_form",
    "render",
    "svg_response",
    "swedish_number",
    "viewer",
]

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"

#: Pages load only what the server itself serves: no CDN, fonts or analytics.
PAGE_CSP = (
    "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)
_HEADERS = {**SECURITY_HEADERS, "Content-Security-Policy": PAGE_CSP}


def swedish_number(value: Any, decimals: int | None = None) -> str:
    """A number in the one Swedish voice (``tillit.swedish.number``): 1234567.891 →
    "1 234 568" (U+202F between thousands), a decimal comma, a real minus sign; None/NaN →
    "–"."""
    return swedish.number(value, decimals)


def _pair(values: Any, decimals: int | None = None) -> tuple[str, ...]:
    # Numbers compared in one sentence or row ("0,012 mot 0,014"): the same decimals, and
    # enough of them that different values read differently.
    return swedish.side_by_side(tuple(values), decimals)


def _url(path: str, **params: Any) -> str:
    query = {k: v for k, v in params.items() if v not in (None, "", ())}
    return path + ("?" + urlencode(query, doseq=True) if query else "")


def _svg(markup: str) -> Markup:
    # Charts come from tillit.reports, which escapes every text it draws.
    return Markup(markup)


env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
    auto_reload=False,
)
env.filters.update(
    number=swedish_number,
    signed=swedish.difference,
    percent=swedish.percent,
    pair=_pair,
    per_year=swedish.per_year,
    with_unit=swedish.with_unit,
    count=swedish.count,
    p_value=swedish.p_value,
    svg=_svg,
    trusted=_svg,
)


def _sparkline(years: Any, values: Any, *, label: str, chart_id: str) -> Markup:
    from tillit.reports import sparkline

    return Markup(sparkline(years, values, label=label, chart_id=chart_id))


env.globals.update(url=_url, sparkline=_sparkline)


# --- who is looking ---------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Viewer:
    """The logged-in user of a page request (None: anonymous) and the session's CSRF
    token, which every form of a logged-in page repeats."""

    user: UserRecord | None
    session: SessionRecord | None = None

    @property
    def csrf_token(self) -> str:
        return self.session.csrf_token if self.session else ""


def viewer(request: Request, state: WebState) -> Viewer:
    cookie = request.cookies.get(COOKIE_NAME)
    if not cookie or len(cookie) > 200:
        return Viewer(None)
    found = state.bank.session_user(cookie)
    if found is None:
        return Viewer(None)
    return Viewer(found[0], found[1])


#: Fields a form post may have (as Starlette's own form parser allows).
MAX_FORM_FIELDS = 2000


async def read_form(request: Request) -> dict[str, list[str]]:
    """An application/x-www-form-urlencoded body (the pages' forms), field → values."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise WebError(415, "Formuläret ska skickas som application/x-www-form-urlencoded.")
    body = (await request.body()).decode("utf-8", errors="replace")
    try:
        return parse_qs(body, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
    except ValueError:  # more fields than any of our forms has
        raise WebError(
            413,
            f"För många fält i formuläret (högst {MAX_FORM_FIELDS}).",
            hint="Skicka formuläret från sidan igen.",
        ) from None


def first(form: Mapping[str, Sequence[str]], name: str, default: str = "") -> str:
    values = form.get(name) or [default]
    return values[0]


LOGIN_CSRF_COOKIE = "tillit_csrf"


def login_csrf(request: Request) -> str:
    """The anonymous CSRF token of the login form (a double-submit cookie)."""
    return request.cookies.get(LOGIN_CSRF_COOKIE) or secrets.token_urlsafe(24)


def check_csrf(request: Request, form: Mapping[str, Sequence[str]], expected: str) -> None:
    """A form post must repeat the token its page carried, and come from this site."""
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if origin.split("://", 1)[-1] != host:
            raise WebError(403, "Formuläret kom från en annan webbplats.", code="csrf_failed")
    sent = first(form, "csrf_token")
    if not expected or not secrets.compare_digest(sent.encode(), expected.encode()):
        raise WebError(
            403,
            "Formulärets säkerhetstoken saknas eller har gått ut.",
            code="csrf_failed",
            hint="Ladda om sidan och skicka formuläret igen.",
        )


# --- responses ---------------------------------------------------------------------------
def render(
    request: Request,
    template: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """The page ``template`` with ``context`` plus the request, the viewer and the JSON
    twin's address."""
    page = env.get_template(template)
    html = page.render(request=request, path=request.url.path, **context)
    return HTMLResponse(html, status_code=status, headers={**_HEADERS, **(headers or {})})


#: A memo of the store state the page comes from: ``memo(key, compute)`` (``Loaded.memo``).
Memo = Callable[[tuple[str, ...], Callable[[], Any]], Any]


def render_cached(
    request: Request,
    template: str,
    context: Callable[[], Mapping[str, Any]],
    *,
    memo: Memo,
    key: tuple[str, ...],
    viewer: Viewer,
) -> HTMLResponse:
    """Like :func:`render`, but the page's own blocks (title, head, main) are rendered once
    per store state and ``key`` (see :func:`page_parts`); only the layout around them (who
    is logged in, the current path) is rendered per request."""
    parts = page_parts(template, context, memo=memo, key=key)
    return render(request, "_shell.html", {"viewer": viewer, "parts": parts})


def page_parts(
    template: str,
    context: Callable[[], Mapping[str, Any]],
    *,
    memo: Memo,
    key: tuple[str, ...],
) -> dict[str, Markup]:
    """The page's own blocks, rendered once per store state and ``key``. ``context()`` is
    called only when they are rendered; they must not use the viewer or the request."""

    def blocks() -> dict[str, Markup]:
        page = env.get_template(template)
        ctx = page.new_context({**context(), "request": None, "path": ""})
        return {
            name: Markup("".join(page.blocks[name](ctx)))
            for name in ("title", "head", "main")
            if name in page.blocks
        }

    parts: dict[str, Markup] = memo(("page", template, *key), blocks)
    return parts


def json_bytes(memo: Memo, key: tuple[str, ...], data: Callable[[], Any]) -> bytes:
    """The JSON twin's body, serialised once per store state and ``key``."""
    body: bytes = memo(("json", *key), lambda: _dump(data()))
    return body


def json_cached(memo: Memo, key: tuple[str, ...], data: Callable[[], Any]) -> Response:
    """The JSON twin, serialised once per store state and ``key``."""
    return _json(json_bytes(memo, key, data))


def json_response(data: Any, *, status: int = 200) -> Response:
    return _json(_dump(data), status=status)


def _dump(data: Any) -> bytes:
    return orjson.dumps(plain(data), option=orjson.OPT_NON_STR_KEYS)


def _json(body: bytes, *, status: int = 200) -> Response:
    return Response(
        body,
        status_code=status,
        media_type="application/json",
        headers={**SECURITY_HEADERS, "Access-Control-Allow-Origin": "*"},
    )


def svg_response(svg: str, filename: str) -> Response:
    """A chart on its own: shown inline, self-contained (no script, no outside reference)."""
    return Response(
        svg,
        media_type="image/svg+xml",
        headers={
            **SECURITY_HEADERS,
            "Content-Disposition": f'inline; filename="{filename}"',
            "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
        },
    )


def csv_response(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[str], filename: str
) -> Response:
    """A CSV download (UTF-8 with BOM so that Excel reads å, ä, ö; comma-separated,
    numbers with a decimal point)."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.DictWriter(out, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: ("" if v is None else v) for k, v in plain(dict(row)).items()})
    return Response(
        out.getvalue().encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={**SECURITY_HEADERS, "Content-Disposition": f'attachment; filename="{filename}"'},
    )


_TITLES = {
    400: "Felaktig begäran",
    401: "Du behöver logga in",
    403: "Ingen behörighet",
    404: "Sidan finns inte",
    409: "Någon annan hann före",
    413: "För mycket text",
    415: "Fel format",
    422: "Uppgifterna behöver rättas",
    429: "För många försök",
    500: "Något gick fel",
    503: "Tillfälligt otillgänglig",
}


def render_error(
    request: Request, status: int, code: str, message: str, hint: str | None
) -> Response:
    """An error as a Swedish page with the same fields as the JSON error shape."""
    state = getattr(request.app.state, "tillit", None)
    who = Viewer(None)
    if isinstance(state, WebState):
        try:
            who = viewer(request, state)
        except Exception:  # the bank itself may be what failed
            who = Viewer(None)
    return render(
        request,
        "error.html",
        {
            "viewer": who,
            "status": status,
            "code": code,
            "title": _TITLES.get(status, "Något gick fel"),
            "message": message,
            "hint": hint,
        },
        status=status,
    )
