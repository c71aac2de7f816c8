"""Integers from requests (query strings, forms, path segments): the one parser every route
uses.

Python's own ``int()`` and ``str.isdigit()`` accept far more than a person types: ``"²"`` and
``"①"`` pass ``isdigit()`` but make ``int()`` raise, ``"٣"`` (Arabic-Indic) and ``"３"``
(fullwidth) become 3, and a few thousand digits raise. A request's integer is ASCII digits,
an optional sign only where a negative number means something, and a bounded range."""

from __future__ import annotations

import re

__all__ = ["MAX_ID", "is_digits", "request_int"]

#: The largest id a database row can have (a 32-bit signed integer on PostgreSQL).
MAX_ID = 2_147_483_647

_UNSIGNED = re.compile(r"[0-9]{1,18}")
_SIGNED = re.compile(r"[+-]?[0-9]{1,18}")
_DIGITS = re.compile(r"[0-9]+")


def is_digits(text: str) -> bool:
    """True when ``text`` is ASCII digits only, e.g. a municipality code such as 1384 (which
    is a string: "0180" keeps its zero). ``str.isdigit()`` also says yes to "²" and "٣"."""
    return _DIGITS.fullmatch(text) is not None


def request_int(text: str | None, *, low: int, high: int, signed: bool = False) -> int | None:
    """The integer ``text`` spells in ASCII digits (white space around it ignored; a leading
    ``+``/``-`` only when ``signed``), when it lies in ``low``–``high``; otherwise None, for
    the caller to answer with its own 4xx message or default."""
    if text is None:
        return None
    text = text.strip()
    if not (_SIGNED if signed else _UNSIGNED).fullmatch(text):
        return None
    value = int(text)
    return value if low <= value <= high else None
