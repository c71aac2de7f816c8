"""Checking a sync's staged values with the rules of an import before they are merged.

Kolada's pages are validated for shape as they arrive (``tillit.sources.kolada``); here every
staged row is checked as an imported row would be (a KPI id like N00945, a four-digit code, a
count that fits the store) and against what was asked for (KPIs, units, years). Rows that fail
are left out, written to a report and warned about; a key that two pages give different values
is warned about too (the later page wins, as in a merge).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb

from tillit.sync._report import write_rejected
from tillit.sync._valuefile import REASON_COUNT_TOO_LARGE, REASON_KPI, REASON_MUNICIPALITY

__all__ = [
    "SyncConflictWarning",
    "SyncRejectedRowsWarning",
    "check_staged",
    "repeated_ids",
    "shown_ids",
]


class SyncRejectedRowsWarning(UserWarning):
    """Kolada sent values that an import would refuse, or that were not asked for."""


class SyncConflictWarning(UserWarning):
    """Kolada sent two different values for the same key in one sync."""


_OU_PATTERN = "[A-Za-z0-9_-]{1,40}"


def repeated_ids(records: Sequence[dict[str, Any]]) -> list[str]:
    """The ids that more than one metadata record carries, in order of first repeat. A file
    import and a sync refuse such a listing: replacing a catalogue with it would lose records."""
    seen: set[str] = set()
    repeated: dict[str, None] = {}
    for record in records:
        if record["id"] in seen:
            repeated[record["id"]] = None
        seen.add(record["id"])
    return list(repeated)


def shown_ids(ids: Sequence[str], limit: int = 10) -> str:
    """The first ``limit`` ids, comma-separated, with "… (totalt N)" when there are more."""
    return ", ".join(ids[:limit]) + (f" … (totalt {len(ids)})" if len(ids) > limit else "")


def _sql_text_list(items: Sequence[str | int]) -> str:
    return "[" + ", ".join("'" + str(i).replace("'", "''") + "'" for i in items) + "]"


def _reason_sql(
    unit: str,
    kpis: Sequence[str] | None,
    units: Sequence[str] | None,
    years: Sequence[int] | None,
) -> str:
    unit_rule = (
        f"NOT regexp_full_match({unit}, '[0-9]{{4}}') THEN '{REASON_MUNICIPALITY}'"
        if unit == "municipality"
        else f"NOT regexp_full_match({unit}, '{_OU_PATTERN}') THEN 'ogiltigt enhets-id'"
    )
    rules = [
        f"WHEN kpi IS NULL OR NOT regexp_full_match(kpi, '[A-Z][0-9]{{5}}') THEN '{REASON_KPI}'",
        f"WHEN {unit} IS NULL OR {unit_rule}",
        "WHEN count IS NOT NULL AND count NOT BETWEEN -2147483648 AND 2147483647 "
        f"THEN '{REASON_COUNT_TOO_LARGE}'",
    ]
    if kpis:
        rules.append(
            f"WHEN NOT list_contains({_sql_text_list(kpis)}, kpi) "
            "THEN 'nyckeltalet efterfrågades inte'"
        )
    if units:
        what = "kommunen" if unit == "municipality" else "enheten"
        rules.append(
            f"WHEN NOT list_contains({_sql_text_list(units)}, {unit}) "
            f"THEN '{what} efterfrågades inte'"
        )
    if years:
        listed = "[" + ", ".join(str(int(y)) for y in years) + "]"
        rules.append(
            f"WHEN NOT list_contains({listed}, CAST(period AS INTEGER)) "
            "THEN 'året efterfrågades inte'"
        )
    return "CASE " + " ".join(rules) + " END"


def check_staged(
    con: duckdb.DuckDBPyConnection,
    source: str,
    *,
    unit: str,
    kpis: Sequence[str] | None,
    units: Sequence[str] | None,
    years: Sequence[int] | None,
    reports_dir: Path,
) -> tuple[str, int, Path | None]:
    """Check the staged rows of ``source``; return the name of a view of the good rows, the
    number of rejected rows and the report listing them (None when there are none)."""
    con.execute(
        f"CREATE TEMP TABLE _sync_checked AS SELECT *, "
        f"{_reason_sql(unit, kpis, units, years)} AS reason FROM {source}"
    )
    con.execute("CREATE TEMP VIEW _sync_good AS SELECT * FROM _sync_checked WHERE reason IS NULL")
    report = None
    rejected = int(
        con.execute("SELECT count(*) FROM _sync_checked WHERE reason IS NOT NULL").fetchall()[0][0]
    )
    if rejected:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        report = reports_dir / f"sync-{stamp}.rejected.csv"
        cursor = con.execute(
            f"SELECT reason, kpi, {unit}, period, gender, value, count, status "
            "FROM _sync_checked WHERE reason IS NOT NULL ORDER BY seq"
        )
        write_rejected(
            report,
            ["reason", "kpi", unit, "year", "gender", "value", "count", "status"],
            cursor,
        )
        reasons = con.execute(
            "SELECT reason, count(*) FROM _sync_checked WHERE reason IS NOT NULL "
            "GROUP BY reason ORDER BY count(*) DESC, reason"
        ).fetchall()
        listed = "; ".join(f"{reason}: {n}" for reason, n in reasons)
        warnings.warn(
            f"{rejected} värden från Kolada avvisades och sparades inte ({listed}). "
            f"Alla står i {report}.",
            SyncRejectedRowsWarning,
            stacklevel=3,
        )
    _warn_conflicts(con, unit)
    return "_sync_good", rejected, report


def _warn_conflicts(con: duckdb.DuckDBPyConnection, unit: str) -> None:
    key = f"kpi, {unit}, period, gender"
    rows, keys = con.execute(
        f"SELECT count(*), count(DISTINCT hash({key})) FROM _sync_good WHERE NOT deleted"
    ).fetchall()[0]
    if rows == keys:
        return  # no key repeats, so none can disagree: the usual case, one cheap pass
    conflicts: list[Any] = con.execute(
        f"""SELECT {key}, list(DISTINCT coalesce(CAST(value AS VARCHAR), 'null')
                                ORDER BY coalesce(CAST(value AS VARCHAR), 'null')),
                   count(*) OVER () AS n
            FROM _sync_good WHERE NOT deleted GROUP BY {key}
            HAVING count(DISTINCT (value, count, status)) > 1
            ORDER BY {key} LIMIT 3"""
    ).fetchall()
    if not conflicts:
        return
    shown = "; ".join(
        f"{kpi} {where} {period} {gender}: {' och '.join(values)}"
        for kpi, where, period, gender, values, _ in conflicts
    )
    warnings.warn(
        f"Kolada skickade olika värden för samma nyckel i {conflicts[0][5]} fall ({shown}); "
        "det senast hämtade sparades.",
        SyncConflictWarning,
        stacklevel=3,
    )
