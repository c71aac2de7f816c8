"""The Store: one data directory holding values, metadata and provenance."""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

import duckdb
import orjson
import pyarrow as pa

from tillit.errors import InvalidInputError, NoDataError, NotFoundError
from tillit.store._files import write_lock
from tillit.store._metadata import MetadataTables, group_name
from tillit.store._provenance import Provenance, read_provenance, write_provenance
from tillit.store._search import (
    SearchIndex,
    cached_index,
    document,
    fold,
    rank,
    rank_page,
)
from tillit.store._values import ValueDataset

__all__ = ["Store"]

_VALUE_COLUMNS = "kpi, municipality, period, gender, value, count, status"


def _sql_array(items: Sequence[str]) -> str:
    """A DuckDB list literal of strings: ['a', 'b']."""
    return "[" + _sql_list(items) + "]" if items else "[]::VARCHAR[]"


def _sql_list(items: Sequence[str | int]) -> str:
    return ", ".join("'" + str(i).replace("'", "''") + "'" for i in items)


class _Indexed:
    """A catalogue's rows, their search index and the rows by id."""

    __slots__ = ("by_id", "index", "rows")

    def __init__(self, rows: list[dict[str, Any]], index: SearchIndex) -> None:
        self.rows = rows
        self.index = index
        self.by_id = {r["id"]: r for r in rows}


class Store:
    """Everything Tillit keeps locally, under one directory (``TILLIT_HOME/store``).

    ``values`` (municipality and region values) and ``ou_values`` (organisational units) are
    Parquet value datasets; ``metadata`` holds the Kolada catalogues; ``provenance`` one record
    per sync or import. Writers take :meth:`lock` first.
    """

    def __init__(self, directory: Path, *, memory_limit: str = "1GB") -> None:
        self.directory = directory
        self.memory_limit = memory_limit
        self.values = ValueDataset(directory / "values", "municipality")
        self.ou_values = ValueDataset(directory / "ou_values", "ou")
        self.metadata = MetadataTables(directory / "metadata")
        self.provenance_dir = directory / "provenance"
        self.staging_dir = directory / "staging"
        self.reports_dir = directory / "reports"
        # Search indexes of the KPI and municipality catalogues, each with the rows it was
        # built from: a catalogue read anew (metadata replaced) is a new list, so a stale
        # index is never used.
        self._indexes: dict[str, _Indexed] = {}

    # -- engine --------------------------------------------------------------------------
    def connect(self) -> duckdb.DuckDBPyConnection:
        """A fresh in-memory DuckDB connection with the store's memory limit and spill dir."""
        con = duckdb.connect(config={"memory_limit": self.memory_limit})
        spill = self.directory / ".duckdb-tmp"
        self.directory.mkdir(parents=True, exist_ok=True)
        con.execute(f"SET temp_directory = '{str(spill).replace(chr(39), chr(39) * 2)}'")
        con.execute("SET preserve_insertion_order = false")
        # DuckDB draws its own progress bar on stdout for long queries; ours go to stderr.
        con.execute("SET enable_progress_bar = false")
        return con

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        with write_lock(self.directory):
            yield

    def record(self, provenance: Provenance) -> None:
        write_provenance(self.provenance_dir, provenance)

    def provenance(self) -> list[Provenance]:
        return read_provenance(self.provenance_dir)

    # -- metadata lookups ----------------------------------------------------------------
    def _require(self, table: str) -> list[dict[str, Any]]:
        rows = self.metadata.read(table)
        if not rows:
            raise NoDataError(
                "Det finns ingen metadata från Kolada i arkivet ännu.",
                hint="Kör `tillit sync --metadata`, eller utan nätverk `tillit import` med Koladas "
                "JSON-filer (t.ex. kpi_v3_2026-03.values.json).",
            )
        return rows

    def _terms_cache(self, table: str) -> Path | None:
        """Where a catalogue's search terms are kept between processes (beside its table)."""
        directory = self.metadata.directory
        return directory / f".{table}.terms" if directory.is_dir() else None

    def kpis(self) -> list[dict[str, Any]]:
        return self._require("kpi")

    def kpi(self, kpi_id: str) -> dict[str, Any]:
        wanted = kpi_id.strip().upper()
        for row in self.kpis():
            if row["id"] == wanted:
                return row
        hits = self.search_kpis(kpi_id, limit=3)
        suggestion = ", ".join(f"{r['id']} ({r['title']})" for r, _ in hits)
        raise NotFoundError(
            f"Nyckeltalet {kpi_id!r} finns inte i arkivets metadata.",
            hint=(
                f"Menade du: {suggestion}?"
                if suggestion
                else f"Sök med `tillit kpi search {kpi_id}`."
            ),
        )

    def search_kpis(self, text: str, *, limit: int = 20) -> list[tuple[dict[str, Any], float]]:
        """KPIs ranked for ``text`` (Swedish-aware; an exact KPI id comes first)."""
        return self.search_kpis_page(text, limit=limit)[0]

    def _indexed(self, table: str) -> _Indexed:
        """The catalogue ``table``'s rows ("kpi": titles and descriptions; "municipality":
        names) with their search index, kept while the table is unchanged."""
        rows = self._require(table)
        indexed = self._indexes.get(table)
        if indexed is None or indexed.rows is not rows:
            body = table == "kpi"
            items = [(r["id"], r["title"], r.get("description") if body else None) for r in rows]
            indexed = self._indexes[table] = _Indexed(
                rows, cached_index(self._terms_cache(table), items)
            )
        return indexed

    def prepare_search(self, table: str) -> None:
        """Compute and keep the search terms of the catalogue ``table`` ("kpi" or
        "municipality") as it has just been written, so that the first search of a later
        process reads them back (milliseconds) instead of lemmatising the catalogue (about
        0.7 s for the 6,100 KPIs). Other tables have no search terms."""
        try:
            if table in ("kpi", "municipality"):
                self._indexed(table)
        except NoDataError:  # an empty catalogue: nothing to search
            pass

    def search_kpis_among(
        self, text: str, among: Collection[str], *, limit: int = 20
    ) -> list[tuple[dict[str, Any], float]]:
        """KPIs ranked for ``text`` as :meth:`search_kpis` ranks them, among the KPI ids
        ``among`` only (so that "those matching most words" are found among them even when
        KPIs outside match every word)."""
        indexed = self._indexed("kpi")
        wanted = set(among)
        subset = SearchIndex([d for d in indexed.index.docs if d.key in wanted])
        return [(indexed.by_id[h.key], h.score) for h in rank(text, subset, limit=limit)]

    def search_kpis_page(
        self, text: str, *, limit: int = 20, offset: int = 0
    ) -> tuple[list[tuple[dict[str, Any], float]], int]:
        """One page of :meth:`search_kpis`'s hits and how many there are in all."""
        indexed = self._indexed("kpi")
        by_id = indexed.by_id
        exact = by_id.get(text.strip().upper())
        if exact is None:
            page, total = rank_page(text, indexed.index, limit=limit, offset=offset)
            return [(by_id[h.key], h.score) for h in page], total
        # The exact id first, then the others (without it) from the second place on.
        found, _ = rank_page(text, indexed.index, limit=len(indexed.rows))
        hits = [(exact, float("inf"))]
        hits += [(by_id[h.key], h.score) for h in found if h.key != exact["id"]]
        return hits[offset : offset + limit], len(hits)

    def municipalities(self) -> list[dict[str, Any]]:
        return self._require("municipality")

    def search_municipalities(self, text: str, *, limit: int = 20) -> list[dict[str, Any]]:
        """Municipalities and regions matching ``text`` by code, name, name prefix or part."""
        rows = self.municipalities()
        needle = fold(text.strip())
        if needle.isdigit():
            return [r for r in rows if r["id"].startswith(needle)][:limit]
        indexed = self._indexed("municipality")
        by_id = indexed.by_id
        hits = [by_id[h.key] for h in rank(text, indexed.index, limit=limit)]
        exact = [r for r in rows if r["search_exact"] == needle]
        return (exact + [h for h in hits if h not in exact])[:limit]

    def municipality(self, text: str) -> dict[str, Any]:
        """One municipality or region by code or name ("Göteborg", "goteborg", "1480").
        A four-digit code works without the catalogue (values imported on their own)."""
        needle = fold(text.strip())
        if not self.metadata.exists("municipality") and len(needle) == 4 and needle.isdigit():
            return {"id": needle, "title": needle, "type": None}
        rows = self.municipalities()
        for row in rows:
            if row["id"] == needle or row["search_exact"] == needle:
                return row
        for suffix in (" kommun", "s kommun"):
            if needle.endswith(suffix):
                base = needle[: -len(suffix)]
                for row in rows:
                    if row["search_exact"] == base:
                        return row
        hits = self.search_municipalities(text, limit=4)
        if len(hits) == 1:
            return hits[0]
        suggestion = ", ".join(f"{r['title']} ({r['id']})" for r in hits)
        raise NotFoundError(
            f"Hittar ingen kommun eller region som heter {text!r}.",
            hint=(
                f"Menade du: {suggestion}?"
                if suggestion
                else "Sök med `tillit municipality search NAMN`."
            ),
        )

    def kpi_group(self, text: str) -> tuple[dict[str, Any], list[str]]:
        """A KPI group by id or title, and its member KPI ids."""
        groups = self.metadata.read("kpi_groups")
        if not groups:
            raise NoDataError(
                "Det finns inga nyckeltalsgrupper i arkivet ännu.",
                hint="Kör `tillit sync --metadata` för att hämta Koladas grupper.",
            )
        needle = fold(text.strip())
        found = [g for g in groups if g["id"].lower() == needle or fold(g["title"]) == needle]
        if not found:
            # "Kommunens kvalitet i korthet" for "Kommunens kvalitet i korthet (KKiK)".
            starting = [g for g in groups if fold(g["title"]).startswith(needle)]
            found = starting if len(starting) == 1 else []
        if not found:
            docs = [document(g["id"], g["title"]) for g in groups]
            hits = rank(text, docs, limit=5)
            by_id = {g["id"]: g for g in groups}
            if len(hits) == 1:
                found = [by_id[hits[0].key]]
            else:
                suggestion = "; ".join(f"{by_id[h.key]['title']} ({h.key})" for h in hits)
                raise NotFoundError(
                    f"Hittar ingen nyckeltalsgrupp {text!r}.",
                    hint=f"Menade du: {suggestion}?" if suggestion else None,
                )
        group = found[0]
        members = [
            m["kpi"]
            for m in self.metadata.read("kpi_group_members")
            if m["group_id"] == group["id"]
        ]
        return group, members

    def municipality_profile(self, text: str) -> dict[str, Any]:
        """A municipality or region by name or code, with SKR's kommungrupp 2023 and the
        "Liknande kommuner" groups Kolada made for it (area, year, group id)."""
        row = self.municipality(text)
        groups = {g["id"]: g for g in self.municipality_groups()}
        member_of = {
            m["group_id"]
            for m in self.metadata.read("municipality_group_members")
            if m["municipality"] == row["id"]
        }
        kommungrupp = next(
            (
                groups[g]
                for g in member_of
                if g in groups and groups[g]["kind"] == "kommungrupp_2023"
            ),
            None,
        )
        similar = sorted(
            (
                g
                for g in groups.values()
                if g["kind"] in ("liknande_kommuner", "liknande_regioner")
                and g["focal_title"] == row["title"]
            ),
            key=lambda g: (g["area"], g["year"]),
        )
        return {
            "id": row["id"],
            "title": row["title"],
            "type": row["type"],
            "kommungrupp_2023": (
                f"{kommungrupp['code']} {group_name(kommungrupp['title'])}" if kommungrupp else None
            ),
            "liknande_kommuner": [f"{g['area']} {g['year']} ({g['id']})" for g in similar],
        }

    def kpi_groups(self, text: str | None = None) -> list[dict[str, Any]]:
        """KPI groups whose title contains ``text`` (case and diacritics ignored), each with
        its number of KPIs."""
        groups = self.metadata.read("kpi_groups")
        if not groups:
            raise NoDataError(
                "Det finns inga nyckeltalsgrupper i arkivet ännu.",
                hint="Kör `tillit sync --metadata` för att hämta Koladas grupper.",
            )
        counts: dict[str, int] = {}
        for m in self.metadata.read("kpi_group_members"):
            counts[m["group_id"]] = counts.get(m["group_id"], 0) + 1
        needle = fold(text or "")
        return [
            {"id": g["id"], "title": g["title"], "kpis": counts.get(g["id"], 0)}
            for g in groups
            if needle in fold(g["title"])
        ]

    def municipality_groups(self, kind: str | None = None) -> list[dict[str, Any]]:
        groups = self.metadata.read("municipality_groups")
        return groups if kind is None else [g for g in groups if g["kind"] == kind]

    # -- values --------------------------------------------------------------------------
    def query_values(
        self,
        kpis: Sequence[str],
        *,
        municipalities: Sequence[str] | None = None,
        years: Sequence[int] | None = None,
        genders: Sequence[str] | None = None,
        con: duckdb.DuckDBPyConnection | None = None,
    ) -> pa.Table:
        """Stored values of ``kpis`` (optionally filtered), sorted by kpi, municipality,
        period, gender. Raises NoDataError when the store holds nothing for these KPIs."""
        source = self.values.source_sql(list(kpis))
        if source is None:
            first = kpis[0] if kpis else "N00945"
            raise NoDataError(
                f"Inga värden för {', '.join(kpis)} i arkivet ännu.",
                hint=f"Hämta dem med `tillit sync --kpi {first}`, "
                "eller läs in en fil med `tillit import FIL`.",
            )
        where = [f"kpi IN ({_sql_list(kpis)})"]
        if municipalities:
            where.append(f"municipality IN ({_sql_list(municipalities)})")
        if years:
            where.append(f"period IN ({', '.join(str(int(y)) for y in years)})")
        if genders:
            where.append(f"gender IN ({_sql_list(genders)})")
        sql = (
            f"SELECT {_VALUE_COLUMNS} FROM {source} WHERE {' AND '.join(where)} "
            "ORDER BY kpi, municipality, period, gender"
        )
        own = con is None
        con = con or self.connect()
        try:
            return con.sql(sql).to_arrow_table()
        finally:
            if own:
                con.close()

    def municipality_panel(
        self,
        kpis: Sequence[str] | None,
        *,
        history: int,
        municipalities: Sequence[str],
        gender: str = "T",
        choose: Callable[[list[str]], list[str]] | None = None,
        until: int | None = None,
    ) -> tuple[list[str], pa.Table]:
        """The input of the analyses in one pass: the KPIs with values in the last
        ``history`` years (sorted; all KPIs when ``kpis`` is None) and an unsorted table
        of (kpi_index, municipality_index, period, value), the indices being positions in
        that KPI list and in ``municipalities``. Integer positions spare the caller from
        looking up three million strings. ``choose`` may narrow the KPI list (it gets the
        KPIs with values) before the values are read. ``until`` reads the store as if it
        ended that year (values of later years are left out)."""
        source = self.values.source_sql(list(kpis) if kpis else None)
        if source is None:
            raise NoDataError(
                "Arkivet har inga värden ännu.",
                hint="Hämta dem med `tillit sync --kpi N00945` "
                "eller läs in en fil med `tillit import FIL`.",
            )
        # The file list names each file's write generation: any write, also another
        # process's, gives another source and so misses the cache.
        ends_key = (source, gender, tuple(kpis) if kpis else None, until)
        con: duckdb.DuckDBPyConnection | None = None
        try:
            kpi_filter = f"AND kpi IN ({_sql_list(kpis)})" if kpis else ""
            if until is not None:
                kpi_filter += f" AND period <= {int(until)}"
            ends = _PANEL_CACHE.get(("ends", ends_key))
            if ends is None:
                con = self.connect()
                # One pass for the KPI list and the last year, a second for the values.
                ends = con.sql(
                    f"SELECT kpi, max(period) FROM {source} "
                    f"WHERE gender = '{gender}' AND value IS NOT NULL {kpi_filter} GROUP BY kpi"
                ).fetchall()
                _PANEL_CACHE.put(("ends", ends_key), ends)
            last = max((int(end) for _, end in ends), default=0)
            first = last - int(history)
            kpi_axis = sorted(kpi for kpi, end in ends if int(end) > first)
            recent = (
                f"{source} WHERE gender = '{gender}' AND period > {first} "
                f"AND value IS NOT NULL {kpi_filter}"
            )
            if choose is not None:
                kpi_axis = sorted(choose(kpi_axis))
            values_key = (ends_key, first, tuple(kpi_axis), tuple(municipalities))
            table = _PANEL_CACHE.get(("values", values_key))
            if table is None:
                con = con or self.connect()
                # The axes as SQL lists (registering Arrow tables would import pandas).
                for name, axis in (("kpi", kpi_axis), ("municipality", list(municipalities))):
                    con.execute(
                        f"CREATE TEMP TABLE {name}_axis AS SELECT "
                        f"unnest({_sql_array(axis)}) AS {name}, "
                        f"CAST(unnest(range({len(axis)})) AS INTEGER) AS {name}_index"
                    )
                table = con.sql(
                    "SELECT kpi_index, municipality_index, period, value FROM "
                    f"(SELECT kpi, municipality, period, value FROM {recent}) "
                    "JOIN kpi_axis USING (kpi) JOIN municipality_axis USING (municipality)"
                ).to_arrow_table()
                _PANEL_CACHE.put(("values", values_key), table)
            return kpi_axis, table
        finally:
            if con is not None:
                con.close()

    def lookup_values(
        self,
        kpis: Sequence[str] = (),
        *,
        group: str | None = None,
        municipalities: Sequence[str] = (),
        years: Sequence[int] = (),
        genders: Sequence[str] | None = ("T",),
    ) -> pa.Table:
        """Values as a user names them: KPI ids and/or a KPI group, municipalities by name or
        code, genders T/K/M (None: all). Unknown names raise NotFoundError with suggestions."""
        ids = [k.strip().upper() for k in kpis]
        if self.metadata.exists("kpi"):
            ids = [self.kpi(k)["id"] for k in ids]
        if group:
            ids += self.kpi_group(group)[1]
        if not ids:
            raise InvalidInputError(
                "Ange ett nyckeltal eller en grupp.",
                hint="T.ex. `tillit values N00945 --municipality Stockholm`.",
            )
        wrong = [g for g in genders or () if g not in ("T", "K", "M")]
        if wrong:
            raise InvalidInputError(
                f"Okänt kön {', '.join(wrong)}.",
                hint="Välj T, K, M (totalt, kvinnor, män) eller all.",
            )
        return self.query_values(
            list(dict.fromkeys(ids)),
            municipalities=[self.municipality(m)["id"] for m in municipalities] or None,
            years=list(years) or None,
            genders=list(genders) if genders else None,
        )

    def unfinished_syncs(self) -> list[dict[str, Any]]:
        """Syncs that were interrupted and not yet rerun: when they began, pages fetched."""
        out = []
        for plan in sorted(self.staging_dir.glob("*/plan.json")):
            states = [orjson.loads(p.read_bytes()) for p in plan.parent.glob("*.state.json")]
            out.append(
                {
                    "key": plan.parent.name,
                    "created": orjson.loads(plan.read_bytes()).get("created"),
                    "pages": sum(s["pages"] for s in states),
                }
            )
        return out

    def summary(self) -> dict[str, Any]:
        """Counts for `tillit status`: values, KPIs and municipalities with data, years."""
        out: dict[str, Any] = {
            "directory": str(self.directory),
            "values": self.values.manifest().get("rows", 0),
            "ou_values": self.ou_values.manifest().get("rows", 0),
            "metadata": {
                t: len(self.metadata.read(t))
                for t in ("kpi", "kpi_groups", "municipality", "municipality_groups", "ou")
            },
            "unfinished_syncs": self.unfinished_syncs(),
        }
        source = self.values.source_sql()
        if source:
            con = self.connect()
            try:
                row = con.execute(
                    f"SELECT count(DISTINCT kpi), count(DISTINCT municipality), min(period), "
                    f"max(period) FROM {source}"
                ).fetchall()[0]
            finally:
                con.close()
            assert row is not None
            out.update(
                kpis_with_values=row[0],
                municipalities_with_values=row[1],
                first_year=row[2],
                last_year=row[3],
            )
        return out


class _LastReads:
    """The last panel reads of this process (Arrow tables are immutable, so threads may
    share them), by everything that decides them, the store's file list included: as many
    as fit in ``budget`` bytes (a whole-store read is about 60 MB, one KPI's about 1 MB)."""

    def __init__(self, budget: int) -> None:
        self._budget = budget
        self._items: OrderedDict[Any, tuple[Any, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()

    def get(self, key: Any) -> Any:
        with self._lock:
            if key in self._items:
                self._items.move_to_end(key)
                return self._items[key][0]
        return None

    def put(self, key: Any, value: Any) -> None:
        size = int(getattr(value, "nbytes", 0)) + 1024
        with self._lock:
            if key in self._items:
                self._bytes -= self._items.pop(key)[1]
            self._items[key] = (value, size)
            self._bytes += size
            while self._bytes > self._budget and len(self._items) > 1:
                self._bytes -= self._items.popitem(last=False)[1][1]


#: A warm process (the web server, a notebook) analysing an unchanged store reads each
#: panel once: the whole store's for learn and the matrix, one KPI's for its page.
_PANEL_CACHE = _LastReads(budget=256 * 2**20)
