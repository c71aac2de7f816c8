"""The analyses a long-running process keeps loaded: the web server loads the store's
testable KPIs, their evidence and the national learning matrix once per store state and
answers every page from them, reloading when a sync or import changes the store.

``Atlas.loaded()`` is what the page functions in ``_pages.py`` read. The numbers are the
same as the CLI's: the context is ``load_context(testable_only=True)``, "lär av" is the
national matrix with structural peers (what ``tillit learn KOMMUN`` finds without
``--area``), and comparisons are ``compare`` with the same peers."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any, TypeVar

import numpy as np

from tillit.analyses import (
    Denominators,
    Evidence,
    LearningMatrix,
    Polarity,
    learning_matrix,
)
from tillit.errors import NotFoundError, TillitError
from tillit.query._context import Context, PeerSet, load_context, structural_label
from tillit.store import Store

__all__ = ["Atlas", "Loaded", "key_kpis"]

#: Kolada's own overview group, whose KPIs are a municipality page's key results.
KEY_GROUP = "Läget i kommunen"

T = TypeVar("T")

#: How many analyses of earlier years (``Atlas.loaded(as_of=…)``) are kept loaded.
KEEP_YEARS = 2


def key_kpis(store: Store, kind: str = "K") -> tuple[str, ...]:
    """The key KPIs: for municipalities, the members of Kolada's group "Läget i kommunen"
    when the store has the KPI groups, else the same group's 80 KPIs as shipped with
    Tillit; for regions (``kind`` "L"), Tillit's list in data/key_kpis_regions.csv."""
    if kind == "K":
        try:
            _group, members = store.kpi_group(KEY_GROUP)
            if members:
                return tuple(members)
        except TillitError:
            pass
    name = "data/key_kpis.csv" if kind == "K" else "data/key_kpis_regions.csv"
    text = resources.files("tillit.query").joinpath(name).read_text("utf-8")
    lines = [line.strip() for line in text.splitlines() if line and not line.startswith("#")]
    return tuple(line for line in lines[1:] if line)


@dataclass(eq=False)
class Loaded:
    """The store's analyses at one state of the store (``stamp``). Per-municipality and
    per-KPI results are memoised here, so they go with the state they came from."""

    stamp: tuple[int, ...]
    context: Context
    evidence: Evidence
    matrix: LearningMatrix
    denominators: Mapping[str, Denominators]
    key_kpis: tuple[str, ...]
    k: int
    q: float
    overrides: Mapping[str, Polarity] | None
    #: "K": the municipalities' analyses; "L": the regions'.
    kind: str = "K"
    #: The year the store is analysed as of (later values not read); None: all of it.
    as_of: int | None = None
    _memo: dict[tuple[str, ...], OrderedDict[tuple[str, ...], Any]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def store(self) -> Store:
        return self.context.store

    @property
    def year(self) -> int:
        """The latest year the analyses read (the store's, or ``as_of``)."""
        return int(self.context.panel.years[-1])

    def position(self, municipality: str) -> int:
        """The municipality's row in the national matrix."""
        index = self.__dict__.setdefault(
            "_positions",
            {self.evidence.municipalities[int(i)]: p for p, i in enumerate(self.matrix.focal)},
        )
        if municipality not in index:
            if self.kind == "L":
                raise NotFoundError(
                    f"Regionen {municipality} finns inte i underlaget.",
                    hint="Välj en av Sveriges 21 regioner, t.ex. `0013` (Region Halland).",
                )
            raise NotFoundError(
                f"Kommunen {municipality} finns inte i underlaget.",
                hint="Välj en av Sveriges 290 kommuner, t.ex. `1384` (Kungsbacka).",
            )
        return int(index[municipality])

    def structural_peers(self, municipality: str) -> PeerSet:
        """The municipality's k structural neighbours, as the national matrix has them
        (the same as ``Context.peer_set(…, "struktur")``, without a distance search)."""
        row = self.matrix.peers[self.position(municipality)]
        members = tuple(self.evidence.municipalities[int(j)] for j in row)
        return PeerSet(
            "struktur", structural_label(self.k, self.context.structure, self.kind), members
        )

    def memo(self, key: tuple[str, ...], compute: Callable[[], T], *, keep: int = 1024) -> T:
        """``compute()`` once per key. Keys are kept per kind (their first element, or
        the first two for "page" and "json": one kind per template), the least recently
        used of a kind dropped past ``keep``, so that one kind (KPI pages, thousands of
        them) cannot push out another (every municipality's page)."""
        kind = key[:2] if key[0] in ("page", "json") else key[:1]
        with self._lock:
            entries = self._memo.setdefault(kind, OrderedDict())
            if key in entries:
                entries.move_to_end(key)
                return entries[key]  # type: ignore[no-any-return]
        value = compute()
        with self._lock:
            entries[key] = value
            while len(entries) > keep:
                entries.popitem(last=False)
        return value


class Atlas:
    """Keeps the store's analyses loaded for a server, and reloads them when the store
    changes (a new values manifest or metadata table). Thread-safe; the first call loads
    (a few seconds on the full Kolada panel), later calls cost one ``stat`` per file."""

    def __init__(
        self,
        store: Store,
        *,
        k: int = 7,
        q: float = 0.05,
        overrides: Mapping[str, Polarity] | None = None,
    ) -> None:
        self.store = store
        self.k = k
        self.q = q
        self.overrides = overrides
        self._loaded: dict[tuple[str, int | None], Loaded] = {}
        self._lock = threading.Lock()

    def stamp(self) -> tuple[int, ...]:
        """Modification times of the files that say what the store holds."""
        paths = [self.store.values.directory / "manifest.json"]
        metadata = self.store.metadata.directory
        if metadata.is_dir():
            paths.extend(sorted(metadata.glob("*.parquet")))
        out = []
        for path in paths:
            try:
                out.append(path.stat().st_mtime_ns)
            except FileNotFoundError:
                out.append(0)
        return tuple(out)

    def loaded(self, kind: str = "K", *, as_of: int | None = None) -> Loaded:
        """The analyses of the municipalities (``kind`` "K") or the regions ("L") for the
        store as it is now (loading them if it changed). ``as_of`` analyses the store as if
        it ended that year (a yearly report of an earlier year); the latest year, or a later
        one, is the same as None. At most :data:`KEEP_YEARS` earlier years are kept loaded
        besides the current analyses."""
        stamp = self.stamp()
        if as_of is not None:
            latest = self.loaded(kind)
            if as_of >= latest.year:
                return latest
        key = (kind, as_of)
        found = self._loaded.get(key)
        if found is not None and found.stamp == stamp:
            return found
        with self._lock:
            found = self._loaded.get(key)
            if found is not None and found.stamp == stamp:
                current = found
            else:
                current = self._load(stamp, kind, as_of)
                self._loaded.pop(key, None)
                self._loaded[key] = current
                earlier = [k for k in self._loaded if k[1] is not None]
                for old in earlier[: max(len(earlier) - KEEP_YEARS, 0)]:
                    del self._loaded[old]
        return current

    def loaded_for(self, code: str, kind: str = "K", *, as_of: int | None = None) -> Loaded:
        """The analyses as :meth:`loaded` has them, for one unit only: the same numbers for
        ``code`` (each unit's findings depend on its own peers alone), without the national
        matrix's other 289 rows, which are most of the loading's cost. The full analyses
        when they are loaded already; nothing is kept."""
        stamp = self.stamp()
        found = self._loaded.get((kind, as_of))
        if found is not None and found.stamp == stamp:
            return found
        latest = self._loaded.get((kind, None))
        fresh = latest is not None and latest.stamp == stamp
        if as_of is not None and fresh and latest is not None and as_of >= latest.year:
            return latest
        return self._load(stamp, kind, as_of, focal=code)

    def _load(
        self,
        stamp: tuple[int, ...],
        kind: str = "K",
        as_of: int | None = None,
        *,
        focal: str | None = None,
    ) -> Loaded:
        context = load_context(
            self.store, testable_only=True, overrides=self.overrides, kind=kind, as_of=as_of
        )
        evidence = context.evidence()
        # Regions: k is capped at the others there are (20).
        k = min(self.k, len(evidence.municipalities) - 1)
        neighbours = context.structure.neighbour_indices(k)
        if focal is None:
            matrix = learning_matrix(evidence, neighbours, q=self.q)
        else:
            if focal not in evidence.municipalities:
                word = "regionen" if kind == "L" else "kommunen"
                raise NotFoundError(
                    f"Det finns inga analyser för {word} {focal}.",
                    hint="Välj en kommun eller region som finns i arkivet.",
                )
            i = evidence.municipalities.index(focal)
            matrix = learning_matrix(evidence, neighbours[[i]], focal=[i], q=self.q)
        keys = tuple(kpi for kpi in key_kpis(self.store, kind) if kpi in set(evidence.kpis))
        return Loaded(
            stamp=stamp,
            context=context,
            evidence=evidence,
            matrix=matrix,
            denominators=context.denominators(evidence),
            key_kpis=keys,
            k=k,
            q=self.q,
            overrides=self.overrides,
            kind=kind,
            as_of=as_of,
        )

    def is_loaded(self, kind: str = "K") -> bool:
        return (kind, None) in self._loaded


def nan_to_none(values: Any) -> tuple[float | None, ...]:
    """A float sequence with NaN as None (for JSON and charts)."""
    return tuple(None if v is None or np.isnan(v) else float(v) for v in values)
