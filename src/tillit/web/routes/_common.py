"""What the route modules share: the error responses documented in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from tillit.web._schemas import ErrorOut

__all__ = ["document_schema", "errors"]

_DESCRIPTIONS = {
    400: "Felaktig begäran: ogiltig JSON, ett NUL-tecken i adressen, fel Content-Length.",
    401: "Inte inloggad, eller ogiltig API-token.",
    403: "Saknar behörighet, eller CSRF-token saknas.",
    404: "Finns inte (eller får inte ses).",
    409: "Krock: någon annan har ändrat först, eller finns redan.",
    413: "Begäran är större än 1 MB.",
    415: "Kroppen är inte JSON (Content-Type: application/json).",
    422: "Felaktiga fält (listas i error.fields).",
    429: "För många inloggningsförsök; vänta så många sekunder som Retry-After säger.",
}
#: What any request can get: malformed (400), too large (413), a bad field (422).
_ALWAYS = (400, 413, 422)


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses and those any request can get (400,
    413, 422); :func:`document_schema` adds 415 to the operations that take a body."""
    wanted = sorted({*statuses, *_ALWAYS})
    return {s: {"model": ErrorOut, "description": _DESCRIPTIONS[s]} for s in wanted}


def document_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Complete the generated OpenAPI schema: 415 for every operation with a request body
    (only JSON is read), and the ``Retry-After`` header of a 429."""
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorOut"}}}
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            responses = operation.setdefault("responses", {})
            if "requestBody" in operation:
                responses.setdefault("415", {"description": _DESCRIPTIONS[415], "content": error})
            if "429" in responses:
                responses["429"]["headers"] = {
                    "Retry-After": {
                        "description": "Sekunder att vänta innan nästa försök.",
                        "schema": {"type": "integer", "minimum": 1},
                    }
                }
    return schema
