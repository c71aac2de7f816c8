"""A generic JSON codec for frozen dataclasses: how a trial's evaluation is kept in the bank.

``encode`` walks any tree of dataclasses, tuples, lists, mappings, numpy arrays and scalars
and gives plain JSON data; ``decode`` turns it back into the same dataclasses, driven by each
dataclass's fields and type hints (``tuple[X, ...]``, ``X | None``, ``Literal``,
``Mapping[str, str]``, ``npt.NDArray[np.float64]``, nested dataclasses). No field is named by
hand, so a field the analyses add later is kept without a change here.

A float that is not finite (NaN, ±inf) is written as the string "NaN", "Infinity" or
"-Infinity" (JSON has no such numbers); an array as ``{"__ndarray__": dtype, "shape",
"data"}``. Anything that does not fit the dataclass it is read into (a field missing, a value
of the wrong type: an evaluation stored by an older format) raises :class:`CodecError`, and
the caller computes the evaluation again."""

from __future__ import annotations

import dataclasses
import math
import types
import typing
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import Any, TypeVar, Union, get_args, get_origin, get_type_hints

import numpy as np

__all__ = ["CodecError", "decode", "encode"]

T = TypeVar("T")

_NONFINITE = {"NaN": math.nan, "Infinity": math.inf, "-Infinity": -math.inf}
_ARRAY = "__ndarray__"


class CodecError(ValueError):
    """The data does not fit the dataclass it is read into (an older format)."""


def _float(value: float) -> float | str:
    if math.isfinite(value):
        return value
    if math.isnan(value):
        return "NaN"
    return "Infinity" if value > 0 else "-Infinity"


def encode(value: Any, *, skip: frozenset[str] = frozenset()) -> Any:
    """``value`` as JSON data (see the module's docstring). ``skip`` names fields of the
    outermost dataclass that are left out (the caller supplies them on decoding)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {
            f.name: encode(getattr(value, f.name))
            for f in dataclasses.fields(value)
            if f.name not in skip
        }
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        return _float(float(value))
    if isinstance(value, np.bool_):
        return bool(value)
    if isinstance(value, np.ndarray):
        flat = value.ravel().tolist()
        if value.dtype.kind == "f":
            flat = [_float(float(x)) for x in flat]
        return {_ARRAY: value.dtype.str, "shape": list(value.shape), "data": flat}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): encode(v) for k, v in value.items()}
    if isinstance(value, tuple | list):
        return [encode(v) for v in value]
    raise CodecError(f"cannot encode a {type(value).__name__}")


@cache
def _hints(cls: type) -> dict[str, Any]:
    """The dataclass's field types. A name only imported for type checking (the bank's
    records in a query module) counts as ``Any``."""
    names: dict[str, Any] = {}
    for _ in range(50):
        try:
            return get_type_hints(cls, localns=names)
        except NameError as error:
            if not error.name or error.name in names:
                raise
            names[error.name] = Any
    raise CodecError(f"cannot read the fields of {cls.__name__}")


def decode(cls: type[T], data: Any, **given: Any) -> T:
    """``data`` (from :func:`encode`) as a ``cls``; ``given`` supplies fields that were
    skipped. CodecError when it does not fit."""
    out = _decode(cls, data, "", given)
    return typing.cast(T, out)


def _decode(hint: Any, data: Any, path: str, given: Mapping[str, Any] | None = None) -> Any:
    if hint is Any or hint is object:
        return data
    origin = get_origin(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _dataclass(hint, data, path, given or {})
    if origin is Union or origin is types.UnionType:
        return _union(hint, data, path)
    if origin is typing.Literal:
        if data not in get_args(hint):
            raise CodecError(f"{path}: {data!r} is not one of {get_args(hint)}")
        return data
    if hint is np.ndarray or origin is np.ndarray:
        return _array(data, path)
    if origin is tuple:
        return _tuple(hint, data, path)
    if origin in (list, Sequence) or hint is list:
        args = get_args(hint)
        if not isinstance(data, list):
            raise CodecError(f"{path}: expected a list")
        item = args[0] if args else Any
        return [_decode(item, v, f"{path}[{i}]") for i, v in enumerate(data)]
    if (
        origin in (dict, Mapping)
        or hint is dict
        or (isinstance(origin, type) and issubclass(origin, Mapping))
    ):
        if not isinstance(data, dict):
            raise CodecError(f"{path}: expected an object")
        args = get_args(hint)
        value = args[1] if len(args) == 2 else Any
        return {k: _decode(value, v, f"{path}.{k}") for k, v in data.items()}
    if hint is float:
        if isinstance(data, str) and data in _NONFINITE:
            return _NONFINITE[data]
        if isinstance(data, int | float) and not isinstance(data, bool):
            return float(data)
        raise CodecError(f"{path}: expected a number, not {data!r}")
    if hint is bool:
        if not isinstance(data, bool):
            raise CodecError(f"{path}: expected true or false")
        return data
    if hint is int:
        if isinstance(data, bool) or not isinstance(data, int):
            raise CodecError(f"{path}: expected an integer")
        return data
    if hint is str:
        if not isinstance(data, str):
            raise CodecError(f"{path}: expected a string")
        return data
    if hint is datetime:
        try:
            return datetime.fromisoformat(data)
        except (TypeError, ValueError):
            raise CodecError(f"{path}: expected an ISO time") from None
    if hint is type(None):
        if data is not None:
            raise CodecError(f"{path}: expected null")
        return None
    raise CodecError(f"{path}: cannot decode a {hint!r}")


def _dataclass(cls: type, data: Any, path: str, given: Mapping[str, Any]) -> Any:
    if not isinstance(data, dict):
        raise CodecError(f"{path or cls.__name__}: expected an object")
    hints = _hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        if f.name in given:
            values[f.name] = given[f.name]
            continue
        if f.name not in data:
            # Strict: a field the stored data lacks is an older format, not a default.
            raise CodecError(f"{path}.{f.name}: missing")
        values[f.name] = _decode(hints.get(f.name, Any), data[f.name], f"{path}.{f.name}")
    try:
        return cls(**values)
    except (TypeError, ValueError) as error:
        raise CodecError(f"{path or cls.__name__}: {error}") from None


def _union(hint: Any, data: Any, path: str) -> Any:
    arms = get_args(hint)
    if data is None:
        if type(None) in arms:
            return None
        raise CodecError(f"{path}: null where a value is needed")
    errors = []
    for arm in arms:
        if arm is type(None):
            continue
        try:
            return _decode(arm, data, path)
        except CodecError as error:
            errors.append(str(error))
    raise CodecError("; ".join(errors) or f"{path}: no type fits")


def _tuple(hint: Any, data: Any, path: str) -> tuple[Any, ...]:
    if not isinstance(data, list):
        raise CodecError(f"{path}: expected a list")
    args = get_args(hint)
    if not args:
        return tuple(data)
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_decode(args[0], v, f"{path}[{i}]") for i, v in enumerate(data))
    if len(args) != len(data):
        raise CodecError(f"{path}: expected {len(args)} items, not {len(data)}")
    return tuple(
        _decode(a, v, f"{path}[{i}]") for i, (a, v) in enumerate(zip(args, data, strict=True))
    )


def _array(data: Any, path: str) -> np.ndarray[Any, Any]:
    if not isinstance(data, dict) or _ARRAY not in data:
        raise CodecError(f"{path}: expected an array")
    try:
        dtype = np.dtype(data[_ARRAY])
        values = data["data"]
        if dtype.kind == "f":
            values = [_NONFINITE[v] if isinstance(v, str) else v for v in values]
        return np.array(values, dtype=dtype).reshape(data["shape"])
    except (KeyError, TypeError, ValueError) as error:
        raise CodecError(f"{path}: {error}") from None
