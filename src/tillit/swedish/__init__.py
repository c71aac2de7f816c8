"""Tillit's Swedish: search terms (``_terms``) shared by every search, and the one voice in
which numbers, units and counted nouns are written to a person."""

from __future__ import annotations

from tillit.swedish._terms import fold, term

__all__ = ["fold", "term"]
