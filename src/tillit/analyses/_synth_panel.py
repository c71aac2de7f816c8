"""A long panel (unit, time, columns) as dense unit × time matrices, and the predictors of a
synthetic control: a column summarised over some times ("invest, mean 1964–69").

Any panel will do (Spanish regions, OECD countries, Swedish municipalities): units are
strings, times are whole numbers (years), every other column is a float, NaN where missing.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import numpy.typing as npt

from tillit.errors import InvalidInputError

__all__ = ["Predictor", "SynthPanel", "parse_predictor"]

FloatArray = npt.NDArray[np.float64]
Summary = Literal["mean", "median", "last"]
SUMMARIES: tuple[Summary, ...] = ("mean", "median", "last")
SUMMARY_WORDS = {"mean": "medel", "median": "median", "last": "senaste"}
"""The summaries in Swedish, for the reader."""


@dataclass(frozen=True)
class Predictor:
    """One row of the predictor matrix X: ``column`` summarised (``op``) over ``times``.
    Missing values are left out of the summary (as R's Synth does with ``na.rm = TRUE``);
    a unit with no value at any of the times has no value for the predictor."""

    column: str
    times: tuple[int, ...]
    op: Summary = "mean"

    def __post_init__(self) -> None:
        if not self.times:
            raise InvalidInputError(f"Prediktorn {self.column!r} saknar år.")
        if self.op not in SUMMARIES:
            raise InvalidInputError(
                f"Okänd sammanfattning {self.op!r} för prediktorn {self.column!r}.",
                hint="Välj mean, median eller last.",
            )

    @property
    def span(self) -> str:
        """The years: "1969", "1964–1969", "1961, 1963, 1965"."""
        times = sorted(self.times)
        if len(times) == 1:
            return str(times[0])
        if times == list(range(times[0], times[-1] + 1)):
            return f"{times[0]}–{times[-1]}"
        return ", ".join(str(t) for t in times)

    @property
    def label(self) -> str:
        """``invest (1964–1969, mean)``, ``popdens (1969)``, ``sec.energy (1961, 1963, …)``."""
        if len(self.times) == 1:
            return f"{self.column} ({self.span})"
        return f"{self.column} ({self.span}, {self.op})"

    @property
    def swedish_span(self) -> str:
        """The years with the summary in Swedish: "2017", "medel 2008–2010"."""
        if len(self.times) == 1:
            return self.span
        return f"{SUMMARY_WORDS.get(self.op, self.op)} {self.span}"

    def values(self, panel: SynthPanel) -> FloatArray:
        """The predictor's value for every unit of ``panel`` (NaN where it has none)."""
        matrix = panel.column(self.column)
        columns = [panel.times.index(t) for t in self.times if t in panel.time_index]
        if not columns:
            raise InvalidInputError(
                f"Prediktorn {self.label} avser år som saknas i panelen "
                f"({panel.times[0]}–{panel.times[-1]}).",
                hint="Välj år inom panelens period.",
            )
        block = matrix[:, columns]
        out = np.full(block.shape[0], np.nan)
        seen = ~np.isnan(block)
        has = seen.any(axis=1)
        if self.op == "mean":
            out[has] = np.nanmean(block[has], axis=1)
        elif self.op == "median":
            out[has] = np.nanmedian(block[has], axis=1)
        else:  # last observed
            last = block.shape[1] - 1 - np.argmax(seen[:, ::-1], axis=1)
            out[has] = block[np.flatnonzero(has), last[has]]
        return out


_PREDICTOR = re.compile(r"^(?P<column>.+?):(?P<times>[0-9,\s\-–]+)(?::\s*(?P<op>\w+)\s*)?$")


def parse_predictor(text: str) -> Predictor:
    """Parse ``COL:FROM-TO[:op]``, ``COL:Y1,Y2,…[:op]`` or ``COL:YEAR``; op is mean (the
    default), median or last."""
    match = _PREDICTOR.match(text.strip())
    if match is None:
        raise InvalidInputError(
            f"Kan inte tolka prediktorn {text!r}.",
            hint="Skriv KOLUMN:FRÅN-TILL:mean, KOLUMN:1961,1963:mean eller KOLUMN:1969.",
        )
    times: list[int] = []
    for part in match["times"].split(","):
        part = part.strip()
        bounds = [b for b in re.split(r"[\-–]", part) if b.strip()]
        try:
            if len(bounds) == 1:
                times.append(int(bounds[0]))
            elif len(bounds) == 2:
                low, high = int(bounds[0]), int(bounds[1])
                if high < low:
                    raise ValueError
                times.extend(range(low, high + 1))
            else:
                raise ValueError
        except ValueError:
            raise InvalidInputError(
                f"Kan inte tolka åren {part!r} i prediktorn {text!r}.",
                hint="Ange ett år (1969), ett intervall (1964-1969) eller en lista (1961,1963).",
            ) from None
    op = (match["op"] or "mean").lower()
    if op not in SUMMARIES:
        raise InvalidInputError(
            f"Okänd sammanfattning {op!r} i prediktorn {text!r}.",
            hint="Välj mean, median eller last.",
        )
    return Predictor(match["column"].strip(), tuple(dict.fromkeys(times)), op)


@dataclass(frozen=True)
class SynthPanel:
    """``columns[name][i, t]`` is the value of ``name`` for ``units[i]`` at ``times[t]``.
    Times are consecutive whole numbers from the first to the last one present, so a gap
    stays a gap (NaN)."""

    units: tuple[str, ...]
    times: tuple[int, ...]
    columns: Mapping[str, FloatArray]
    unit_index: Mapping[str, int] = field(init=False, repr=False, compare=False)
    time_index: Mapping[int, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "unit_index", {u: i for i, u in enumerate(self.units)})
        object.__setattr__(self, "time_index", {t: i for i, t in enumerate(self.times)})
        object.__setattr__(self, "columns", dict(self.columns))
        shape = (len(self.units), len(self.times))
        for name, matrix in self.columns.items():
            if matrix.shape != shape:
                raise InvalidInputError(f"Kolumnen {name!r} har fel form {matrix.shape}.")

    @classmethod
    def from_long(
        cls,
        unit: Sequence[object],
        time: Sequence[object],
        columns: Mapping[str, Sequence[float | None] | FloatArray],
    ) -> SynthPanel:
        """Build the panel from long columns of equal length; one row per unit and time."""
        n = len(unit)
        if n == 0:
            raise InvalidInputError("Panelen är tom.", hint="Ange en fil med minst en rad.")
        if len(time) != n or any(len(c) != n for c in columns.values()):
            raise InvalidInputError("Panelens kolumner har olika längd.")
        names = [_unit_name(u, row) for row, u in enumerate(unit)]
        times = np.array([_whole(t, row) for row, t in enumerate(time)], dtype=np.int64)
        units = tuple(dict.fromkeys(sorted(set(names))))
        first, last = int(times.min()), int(times.max())
        if last - first > 5000:
            raise InvalidInputError(f"Tidsaxeln spänner över för många steg ({first}–{last}).")
        unit_of = {u: i for i, u in enumerate(units)}
        rows = np.array([unit_of[u] for u in names], dtype=np.int64)
        cols = times - first
        cell = rows * (last - first + 1) + cols
        unique, counts = np.unique(cell, return_counts=True)
        if (counts > 1).any():
            dup = int(unique[np.argmax(counts > 1)])
            raise InvalidInputError(
                f"Panelen har flera rader för enheten {units[dup // (last - first + 1)]!r} "
                f"och tiden {first + dup % (last - first + 1)}.",
                hint="Varje kombination av enhet och tid får bara förekomma en gång.",
            )
        shape = (len(units), last - first + 1)
        matrices: dict[str, FloatArray] = {}
        for name, values in columns.items():
            matrix = np.full(shape, np.nan)
            matrix[rows, cols] = _floats(name, values)
            matrices[name] = matrix
        return cls(units, tuple(range(first, last + 1)), matrices)

    def column(self, name: str) -> FloatArray:
        try:
            return self.columns[name]
        except KeyError:
            raise InvalidInputError(
                f"Panelen har ingen kolumn {name!r}.",
                hint="Kolumner: " + ", ".join(sorted(self.columns)) + ".",
            ) from None

    def unit(self, name: str) -> int:
        try:
            return self.unit_index[name]
        except KeyError:
            raise InvalidInputError(
                f"Panelen har ingen enhet {name!r}.",
                hint="Enheter: "
                + ", ".join(self.units[:20])
                + ("…" if len(self.units) > 20 else ""),
            ) from None


def _unit_name(value: object, row: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        raise InvalidInputError(f"Rad {row + 1} saknar enhet.")
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _whole(value: object, row: int) -> int:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"Rad {row + 1} har tiden {value!r}, som inte är ett heltal.",
            hint="Tiden ska vara ett år eller ett annat heltal.",
        ) from None
    if not math.isfinite(number) or not number.is_integer():
        raise InvalidInputError(
            f"Rad {row + 1} har tiden {value!r}, som inte är ett heltal.",
            hint="Tiden ska vara ett år eller ett annat heltal.",
        )
    return int(number)


def _floats(name: str, values: Sequence[float | None] | FloatArray) -> FloatArray:
    try:
        return np.array([np.nan if v is None else v for v in values], dtype=np.float64)
    except (TypeError, ValueError):
        raise InvalidInputError(
            f"Kolumnen {name!r} har värden som inte är tal.",
            hint="Ange bara talkolumner som utfall och prediktorer.",
        ) from None
