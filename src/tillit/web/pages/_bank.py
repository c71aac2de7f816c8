"""The bank's pages: examples (list, page, new, edit), login and logout, the account."""

from __future__ import annotations

from fastapi import APIRouter

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
