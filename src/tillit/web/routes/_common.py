"""What the route modules share: the error responses documented in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from tillit.web._schemas import ErrorOut

__all__ = ["errors"]

_DESCRIPTIONS = {
    400: "Felaktig begäran (t.ex. ogiltig JSON).",
    401: "Inte inloggad, eller ogiltig API-token.",
    403: "Saknar behörighet, eller CSRF-token saknas.",
    404: "Finns inte (eller får inte ses).",
    409: "Krock: någon annan har ändrat först, eller finns redan.",
    413: "Begäran är för stor.",
    422: "Felaktiga fält.",
    429: "För många inloggningsförsök.",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for these error statuses (always with 422 and 413)."""
    wanted = sorted({*statuses, 422})
    return {s: {"model": ErrorOut, "description": _DESCRIPTIONS[s]} for s in wanted}
