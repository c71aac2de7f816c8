"""A dense KPI × municipality × year cube built from a long value frame."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from tillit.errors import InvalidInputError, NoDataError, NotFoundError

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Panel:
    """Values of ``kpis`` × ``municipalities`` × ``years`` as one float cube, NaN where
    no value exists. Years are consecutive, so a gap in a series stays a gap (NaN),
    never closed up."""

    kpis: tuple[str, ...]
    municipalities: tuple[str, ...]
    years: tuple[int, ...]
    values: FloatArray  # shape (len(kpis), len(municipalities), len(years))

    @classmethod
    def from_frame(
        cls,
        frame: pa.Table,
        *,
        municipalities: Sequence[str] | None = None,
        kpis: Sequence[str] | None = None,
        years: Sequence[int] | None = None,
    ) -> Panel:
        """Build the cube from a frame with columns kpi, municipality, period, value
        (one gender). ``municipalities``/``kpis`` fix the axes (rows outside them are
        ignored); by default they are the sorted distinct values of the frame. Years
        run from the first to the last year present, or as given."""
        for column in ("kpi", "municipality", "period", "value"):
            if column not in frame.column_names:
                raise InvalidInputError(
                    f"Värdetabellen saknar kolumnen {column!r}.",
                    hint="Skicka kolumnerna kpi, municipality, period och value.",
                )
        if frame.num_rows == 0:
            raise NoDataError(
                "Inga värden att analysera.",
                hint="Hämta värden med `tillit sync` eller läs in en fil med `tillit import`.",
            )
        kpi_codes, kpi_names = _encode(frame.column("kpi"))
        mun_codes, mun_names = _encode(frame.column("municipality"))
        if frame.column("period").null_count:
            raise InvalidInputError(
                "Värdetabellen har rader utan år.",
                hint="Varje rad behöver period (året värdet gäller).",
            )
        period = frame.column("period").to_numpy().astype(np.int64)
        value = pc.cast(frame.column("value"), pa.float64()).to_numpy(zero_copy_only=False)
        kpi_axis = tuple(kpis) if kpis is not None else tuple(sorted(kpi_names))
        mun_axis = tuple(municipalities) if municipalities is not None else tuple(sorted(mun_names))
        if years is not None:
            year_axis = tuple(int(y) for y in years)
        else:
            year_axis = tuple(range(int(period.min()), int(period.max()) + 1))
        k = _positions(kpi_names, kpi_axis)[kpi_codes]
        m = _positions(mun_names, mun_axis)[mun_codes]
        year_index = {y: i for i, y in enumerate(year_axis)}
        first = year_axis[0] if year_axis else 0
        t = period - first
        consecutive = year_axis == tuple(range(first, first + len(year_axis)))
        if not consecutive:
            lookup = np.full(max(year_axis) - first + 1, -1, dtype=np.int64)
            for y, i in year_index.items():
                lookup[y - first] = i
            inside = (t >= 0) & (t < len(lookup))
            t = np.where(inside, lookup[np.clip(t, 0, len(lookup) - 1)], -1)
        shape = (len(kpi_axis), len(mun_axis), len(year_axis))
        flat = (k * shape[1] + m) * shape[2] + t
        cube = np.full(shape, np.nan)
        keep = (k >= 0) & (m >= 0) & (t >= 0) & (t < shape[2])
        if keep.all():
            cube.ravel()[flat] = value
        else:
            cube.ravel()[flat[keep]] = value[keep]
        return cls(kpi_axis, mun_axis, year_axis, cube)

    @classmethod
    def from_codes(
        cls,
        kpis: Sequence[str],
        municipalities: Sequence[str],
        frame: pa.Table,
        *,
        years: Sequence[int] | None = None,
    ) -> Panel:
        """Build the cube from a frame whose kpi_index and municipality_index columns are
        positions in ``kpis`` and ``municipalities`` (as the store returns it), with
        period and value."""
        if frame.num_rows == 0:
            raise NoDataError(
                "Inga värden att analysera.",
                hint="Hämta värden med `tillit sync` eller läs in en fil med `tillit import`.",
            )
        k = frame.column("kpi_index").to_numpy().astype(np.int64)
        m = frame.column("municipality_index").to_numpy().astype(np.int64)
        period = frame.column("period").to_numpy().astype(np.int64)
        value = pc.cast(frame.column("value"), pa.float64()).to_numpy(zero_copy_only=False)
        first = int(period.min()) if years is None else int(min(years))
        last = int(period.max()) if years is None else int(max(years))
        shape = (len(kpis), len(municipalities), last - first + 1)
        t = period - first
        keep = (k >= 0) & (k < shape[0]) & (m >= 0) & (m < shape[1]) & (t >= 0) & (t < shape[2])
        cube = np.full(shape, np.nan)
        flat = (k * shape[1] + m) * shape[2] + t
        cube.ravel()[flat[keep] if not keep.all() else flat] = (
            value[keep] if not keep.all() else value
        )
        return cls(tuple(kpis), tuple(municipalities), tuple(range(first, last + 1)), cube)

    def kpi_index(self, kpi: str) -> int:
        # A dict built on first use: callers look up thousands of KPIs one by one.
        positions: dict[str, int] = self.__dict__.get("_kpi_positions") or self.__dict__.setdefault(
            "_kpi_positions", {k: i for i, k in reversed(list(enumerate(self.kpis)))}
        )
        try:
            return positions[kpi]
        except KeyError:
            raise NotFoundError(
                f"Inga värden för {kpi} i analysunderlaget.",
                hint=f"Hämta dem med `tillit sync --kpi {kpi}`.",
            ) from None

    def municipality_index(self, municipality: str) -> int:
        try:
            return self.municipalities.index(municipality)
        except ValueError:
            raise NotFoundError(
                f"Kommunen {municipality} finns inte i analysunderlaget.",
                hint="Kontrollera koden med `tillit municipality search NAMN`.",
            ) from None

    def latest_years(self) -> npt.NDArray[np.int64]:
        """Per KPI: index of the last year in which any municipality has a value (-1: none)."""
        has: npt.NDArray[np.bool_] = np.asarray(~np.isnan(self.values).all(axis=1))  # (kpi, year)
        last = has.shape[1] - 1 - np.argmax(has[:, ::-1], axis=1)
        return np.where(has.any(axis=1), last, -1).astype(np.int64)


def _encode(column: pa.ChunkedArray) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Integer codes and their names for a string column (dictionary encoding is much
    faster than looking each string up)."""
    array = column.combine_chunks()
    if not pa.types.is_dictionary(array.type):
        array = pc.dictionary_encode(array)
    codes = array.indices.to_numpy(zero_copy_only=False)
    if array.indices.null_count:
        raise InvalidInputError(
            "Värdetabellen har rader utan nyckeltal eller kommun.",
            hint="Varje rad behöver kpi och municipality.",
        )
    return codes.astype(np.int64, copy=False), array.dictionary.to_pylist()


def _positions(names: Sequence[str], axis: Sequence[str]) -> npt.NDArray[np.int64]:
    """For each name its position on the axis, -1 when it is not on it."""
    where = {name: i for i, name in enumerate(axis)}
    return np.array([where.get(name, -1) for name in names], dtype=np.int64)
