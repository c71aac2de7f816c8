"""Reading a request's path segments and query, and the JSON error it may earn."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from http import HTTPStatus

import orjson

MAX_PER_PAGE = 5000
MAX_IDS = 25


class _HttpError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _error_body(status: int, message: str) -> bytes:
    return orjson.dumps({"status": status, "error": HTTPStatus(status).phrase, "message": message})


def _ids(raw: str, what: str) -> set[str]:
    ids = [i for i in raw.split(",") if i]
    if not ids:
        raise _HttpError(400, f"no {what} given")
    if len(ids) > MAX_IDS:
        raise _HttpError(400, f"at most {MAX_IDS} {what} ids per request, got {len(ids)}")
    return set(ids)


def _segments(rest: list[str], allowed: tuple[str, ...], path: str) -> dict[str, list[str]]:
    if not rest or len(rest) % 2:
        raise _HttpError(404, f"no such endpoint: {path}")
    out: dict[str, list[str]] = {}
    last = -1
    for key, raw in zip(rest[::2], rest[1::2], strict=True):
        if key not in allowed or allowed.index(key) <= last:
            raise _HttpError(404, f"no such endpoint: {path}")
        last = allowed.index(key)
        out[key] = sorted(_ids(raw, key))
    if len(out) < 2:
        raise _HttpError(400, f"give at least two of {', '.join(allowed)}")
    return out


def _years(ids: Sequence[str]) -> set[int]:
    try:
        return {int(y) for y in ids}
    except ValueError:
        raise _HttpError(400, f"years must be integers: {','.join(ids)}") from None


def _from_date(query: Mapping[str, str]) -> str | None:
    value = query.get("from_date")
    if value is None:
        return None
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise _HttpError(400, f"from_date must be YYYY-MM-DD, not {value!r}")
    return value


def _paging(query: Mapping[str, str]) -> tuple[int, int]:
    try:
        per_page = int(query.get("per_page", MAX_PER_PAGE))
        page = int(query.get("page", 1))
    except ValueError:
        raise _HttpError(400, "per_page and page must be integers") from None
    if not 1 <= per_page <= MAX_PER_PAGE:
        raise _HttpError(400, f"per_page must be 1..{MAX_PER_PAGE}, got {per_page}")
    if page < 1:
        raise _HttpError(400, f"page must be at least 1, got {page}")
    return per_page, page
