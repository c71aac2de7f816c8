"""/api/docs: the API's operations listed from its OpenAPI schema, on a page that loads
nothing (no Swagger UI from a CDN: no outside script runs on our origin). The schema itself
is at /api/openapi.json, for any OpenAPI tool."""

from __future__ import annotations

from html import escape

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_METHODS = ("get", "post", "put", "patch", "delete")


@router.get("/docs", response_class=HTMLResponse)
def api_docs(request: Request) -> HTMLResponse:
    schema = request.app.openapi()
    info = schema.get("info", {})
    by_tag: dict[str, list[str]] = {}
    for path, operations in schema.get("paths", {}).items():
        for method in _METHODS:
            operation = operations.get(method)
            if operation is None:
                continue
            tag = (operation.get("tags") or ["övrigt"])[0]
            by_tag.setdefault(tag, []).append(
                f"<li><code>{method.upper()} {escape(path)}</code> – "
                f"{escape(operation.get('summary', ''))}</li>"
            )
    described = {t["name"]: t.get("description", "") for t in schema.get("tags", [])}
    sections = "".join(
        f"<h2>{escape(tag)}</h2><p>{escape(described.get(tag, ''))}</p><ul>{''.join(items)}</ul>"
        for tag, items in by_tag.items()
    )
    page = f"""<!doctype html>
<html lang="sv">
<head><meta charset="utf-8"><title>{escape(info.get("title", "API"))} – API</title></head>
<body>
<h1>{escape(info.get("title", "API"))}</h1>
<p>Version {escape(str(info.get("version", "")))}. Hela beskrivningen av API:t (OpenAPI 3) finns
på <a href="/api/openapi.json">/api/openapi.json</a>; läs in den i valfritt OpenAPI-verktyg.
Användning och felkoder: docs/api.md.</p>
{sections}
</body>
</html>
"""
    return HTMLResponse(page)
