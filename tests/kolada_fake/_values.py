"""The rows ``/v3/data`` and ``/v3/oudata`` serve: panel, mutation overlay, synthetic OUs."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from ._panel import _GENDER_ORDER, _mix32, _Panel, _Value, _value_key

_OU_YEARS = tuple(range(2015, 2023))

ExpectedValue = tuple[str, str, int, str, float | None, int, str | None]
"""(kpi, municipality or ou, period, gender, value or None, count, status or None)."""


@dataclass
class _Row:
    """A row of the mutation overlay; it replaces the panel's row with the same key."""

    kpi: str
    place: str
    period: int
    values: list[_Value]
    changed: str
    deleted: bool = False


def _value_dicts(values: Sequence[_Value]) -> list[dict[str, Any]]:
    return [{"gender": g, "count": c, "status": s, "value": v} for g, v, c, s in values]


def _entry(gender: str, value: float | None, count: int | None, status: str | None) -> _Value:
    if count is None:
        count = 0 if value is None else 1
    if status is None:
        status = "Saknas" if value is None else ""
    return (gender, value, count, status)


class _ValueRows:
    """FakeKolada's data rows: mutations, what tests compare against, ``/data`` and ``/oudata``."""

    _lock: threading.RLock
    _panel: _Panel
    _overlay: dict[str, dict[str, dict[int, _Row]]]
    _ou_ids: list[str]
    changed: str
    null_one_in: int

    def _invalidate(self) -> None:
        raise NotImplementedError  # FakeKolada forgets its cached pages and queries

    # -- mutations between requests ---------------------------------------------------------

    def update_value(
        self,
        kpi: str,
        municipality: str,
        period: int,
        gender: str,
        value: float | None,
        *,
        changed: str = "2026-01-01",
        count: int | None = None,
        status: str | None = None,
    ) -> None:
        """Set one gender's value of a row (created if missing, undeleted if deleted).
        A None value is served with count 0 and status "Saknas" unless given."""
        with self._lock:
            row = self._overlay_row(kpi, municipality, period, changed, create=True)
            kept = [v for v in row.values if v[0] != gender] if not row.deleted else []
            kept.append(_entry(gender, value, count, status))
            row.values = sorted(kept, key=lambda v: _GENDER_ORDER.get(v[0], 9))
            row.deleted, row.changed = False, changed
            self._invalidate()

    def delete_row(
        self, kpi: str, municipality: str, period: int, *, changed: str = "2026-01-01"
    ) -> None:
        """Delete a row: served as ``isdeleted`` to ``from_date <= changed``, else not at all."""
        with self._lock:
            row = self._overlay_row(kpi, municipality, period, changed, create=False)
            row.values, row.deleted, row.changed = [], True, changed
            self._invalidate()

    def add_row(
        self,
        kpi: str,
        municipality: str,
        period: int,
        values: Mapping[str, float | None],
        *,
        changed: str = "2026-01-01",
    ) -> None:
        """Create or entirely replace a row; ``values`` maps gender (T/K/M) to value or None."""
        entries = [_entry(g, v, None, None) for g, v in values.items()]
        with self._lock:
            row = self._overlay_row(kpi, municipality, period, changed, create=True)
            row.values = sorted(entries, key=lambda v: _GENDER_ORDER.get(v[0], 9))
            row.deleted, row.changed = False, changed
            self._invalidate()

    def _overlay_row(
        self, kpi: str, municipality: str, period: int, changed: str, *, create: bool
    ) -> _Row:
        by_period = self._overlay.setdefault(kpi, {}).setdefault(municipality, {})
        row = by_period.get(period)
        if row is None:
            r = self._panel.find_row(kpi, municipality, period)
            if r is None and not create:
                raise KeyError(f"no row {kpi}/{municipality}/{period} to delete")
            values = [] if r is None else self._panel.values_of(r)
            row = by_period[period] = _Row(kpi, municipality, period, values, changed)
        return row

    # -- what tests compare against ---------------------------------------------------------

    def expected_values(
        self,
        kpis: Sequence[str] | None = None,
        municipalities: Sequence[str] | None = None,
        years: Sequence[int] | None = None,
        *,
        empty_status: str | None = None,
    ) -> list[ExpectedValue]:
        """Every value ``/v3/data`` serves now (without from_date), as
        (kpi, municipality, period, gender, value or None, count, status) in serving order.
        An empty status "" is reported as ``empty_status`` (default None)."""
        with self._lock:
            items = self._data_items(kpis, municipalities, years, None)
            panel = self._panel
            out: list[ExpectedValue] = []
            for item in items:
                if isinstance(item, _Row):
                    key, values = (item.kpi, item.place, item.period), item.values
                else:
                    kc, mc = panel.row_kpi[item], panel.row_muni[item]
                    key = (panel.kpi_names[kc], panel.muni_names[mc], panel.row_period[item])
                    values = panel.values_of(item)
                out.extend((*key, g, v, c, s or empty_status) for g, v, c, s in values)
        return out

    def expected_ou_values(self, *, empty_status: str | None = None) -> list[ExpectedValue]:
        """Every value ``/v3/oudata`` serves, as (kpi, ou, period, gender, value, count, status)."""
        items = self._ou_items(None, None, None, None)
        return [
            (k, ou, p, g, v, c, s or empty_status)
            for k, ou, p in items
            for g, v, c, s in [self._ou_value(k, ou, p)]
        ]

    def _data_items(
        self,
        kpis: Sequence[str] | None,
        munis: Sequence[str] | None,
        years: Sequence[int] | set[int] | None,
        from_date: str | None,
    ) -> list[int | _Row]:
        """Rows to serve in order: panel row numbers, or overlay rows that replace them."""
        panel, overlay = self._panel, self._overlay
        year_set = None if years is None else set(years)
        base_ok = from_date is None or from_date <= self.changed
        kpi_names = sorted(set(kpis) if kpis is not None else {*panel.kpi_names, *overlay})
        wanted_munis = None if munis is None else sorted(set(munis))
        out: list[int | _Row] = []
        for kpi in kpi_names:
            over_k = overlay.get(kpi, {})
            pairs: Iterator[tuple[str, int | None]]
            if wanted_munis is not None:
                pairs = ((m, panel.find_pair(kpi, m)) for m in wanted_munis)
            else:
                base = {panel.muni_names[panel.pair_muni[p]]: p for p in panel.pairs_of(kpi)}
                pairs = ((m, base.get(m)) for m in sorted({*base, *over_k}))
            for muni, pair in pairs:
                rows = panel.rows_of(pair) if pair is not None and base_ok else range(0)
                over = over_k.get(muni)
                if not over:
                    if year_set is None:
                        out.extend(rows)
                    else:
                        out.extend(r for r in rows if panel.row_period[r] in year_set)
                    continue
                merged: dict[int, int | _Row] = {}
                for r in rows:
                    period = panel.row_period[r]
                    if period not in over and (year_set is None or period in year_set):
                        merged[period] = r
                for period, row in over.items():
                    if year_set is not None and period not in year_set:
                        continue
                    if (row.deleted or from_date is not None) and (
                        from_date is None or from_date > row.changed
                    ):
                        continue
                    merged[period] = row
                out.extend(merged[p] for p in sorted(merged))
        return out

    def _render_data(self, items: list[Any]) -> bytes:
        if all(isinstance(i, int) for i in items):
            body = self._panel.render(items)
        else:
            parts: list[bytes] = []
            for item in items:
                if isinstance(item, int):
                    parts.append(self._panel.render([item]))
                    continue
                row: dict[str, Any] = {"kpi": item.kpi, "municipality": item.place}
                row["period"] = item.period
                if item.deleted:
                    row["isdeleted"] = True
                row["values"] = _value_dicts(item.values)
                parts.append(orjson.dumps(row) + b",")
            body = b"".join(parts)
        return b"[" + body[:-1] + b"]" if body else b"[]"

    # -- synthetic OU data ------------------------------------------------------------------

    def _ou_items(
        self,
        kpis: Sequence[str] | None,
        ous: Sequence[str] | None,
        years: Sequence[int] | set[int] | None,
        from_date: str | None,
    ) -> list[tuple[str, str, int]]:
        """(kpi, ou, period) for every served KPI x synthetic OU x 2015..2022, all unchanged
        since ``self.changed``."""
        if from_date is not None and from_date > self.changed:
            return []
        served = set(self._panel.kpi_names)
        kpi_names = sorted(served if kpis is None else served & set(kpis))
        ou_ids = sorted(set(self._ou_ids) if ous is None else set(self._ou_ids) & set(ous))
        periods = [y for y in _OU_YEARS if years is None or y in years]
        return [(k, ou, p) for k in kpi_names for ou in ou_ids for p in periods]

    def _ou_value(self, kpi: str, ou: str, period: int) -> _Value:
        # The panel's rule with the OU id's digits as the place number (a bigger key, same hash).
        key = _value_key(kpi, int(ou[4:]), period, "T")
        if self.null_one_in > 0 and _mix32(key) % self.null_one_in == 0:
            return ("T", None, 0, "Saknas")
        return ("T", round(10 + _mix32(key + 1) % 90_000 / 1000, 2), 1, "")

    def _render_ou(self, items: list[Any]) -> bytes:
        return orjson.dumps(
            [
                {
                    "kpi": k,
                    "ou": ou,
                    "period": p,
                    "values": _value_dicts([self._ou_value(k, ou, p)]),
                }
                for k, ou, p in items
            ]
        )
