"""Sync from Kolada into the store: metadata, and values with page-level resume.

A value sync first writes a plan (the first-page URLs) under ``staging/<key>/``; every fetched
page is then written there as Parquet, followed by a state file holding the next page's URL.
Only when every URL is done are the staged rows merged into the store in one commit. A sync
killed at any point (even ``kill -9``) is resumed by running the same command: finished pages
are not fetched again, and the merge is an idempotent upsert, so nothing is duplicated or lost.
"""

from __future__ import annotations

import hashlib
import shutil
import threading
import time
import warnings
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from tillit import swedish
from tillit.config import Settings
from tillit.errors import ConflictError, InvalidInputError, KoladaPayloadError, TillitError
from tillit.sources.kolada import KoladaClient
from tillit.store import MergeResult, Provenance, Store, atomic_write_bytes
from tillit.sync._checks import check_staged, repeated_ids, shown_ids
from tillit.sync._progress import NullProgress, Progress

__all__ = [
    "METADATA_KINDS",
    "MetadataRefusedWarning",
    "MetadataResult",
    "SyncResult",
    "client_for",
    "metadata_age",
    "sync_metadata",
    "sync_values",
]

METADATA_KINDS = ("kpi", "kpi_groups", "municipality", "municipality_groups", "ou")
_SEQ_PAGE = 1_000_000  # more than the values on one page (5000 rows x 3 genders)
_SEQ_URL = 1_000_000 * _SEQ_PAGE


def client_for(settings: Settings) -> KoladaClient:
    return KoladaClient(
        settings.kolada_url,
        rate=settings.kolada_rate,
        timeout=settings.kolada_timeout,
        retries=settings.kolada_retries,
        per_page=settings.kolada_per_page,
        max_pages=settings.sync_max_pages,
        max_seconds=settings.kolada_max_seconds,
    )


@dataclass(frozen=True)
class MetadataResult:
    rows: dict[str, int]
    requests: int
    seconds: float


_CATALOGUE_NAMES = {
    "kpi": "nyckeltal",
    "kpi_groups": "nyckeltalsgrupper",
    "municipality": "kommuner och regioner",
    "municipality_groups": "kommungrupper",
    "ou": "enheter",
}
DEFAULT_MAX_SHRINK = 0.1


def _count(n: int) -> str:
    return swedish.number(n)


class MetadataRefusedWarning(UserWarning):
    """An automatic metadata refresh left a catalogue as it was: Kolada's listing was empty or
    much shorter than the stored one."""


def _check_listing(
    store: Store,
    client: KoladaClient,
    kind: str,
    rows: Sequence[dict[str, Any]],
    *,
    replace: bool,
    max_shrink: float,
) -> TillitError | None:
    """The error refusing a listing that names an id twice (pages that repeat records:
    replacing the catalogue with it would lose the records it never reached), one that would
    empty a stored catalogue, or (unless ``replace``) one with more than ``max_shrink`` (a
    share, 0.1 = 10 %) fewer distinct ids than the stored catalogue has records; None if fine."""
    name = _CATALOGUE_NAMES[kind]
    repeated = repeated_ids(rows)
    if repeated:
        return KoladaPayloadError(
            f"Koladas lista över {name} har samma id på flera poster: {shown_ids(repeated)}. "
            "Listan är inte hel. Inget har ändrats.",
            url=client.url_for(kind),
            field="values.id",
            hint="Försök igen senare. Om felet består skickar Kolada sidor som upprepar "
            "varandra – rapportera det med adressen ovan.",
        )
    stored = len(store.metadata.read(kind))
    fetched = len({row["id"] for row in rows})
    if stored and not fetched:
        return KoladaPayloadError(
            f"Kolada skickade en tom lista över {name}; arkivets {_count(stored)} behålls.",
            url=client.url_for(kind),
            field="values",
            hint="Försök igen senare. En tom lista ersätter aldrig en katalog.",
        )
    if replace or not stored or fetched >= stored:
        return None
    shrink = (stored - fetched) / stored
    if shrink <= max_shrink:
        return None
    return ConflictError(
        f"Koladas lista över {name} har {_count(fetched)} poster men arkivet har "
        f"{_count(stored)} ({round(shrink * 100)} % färre, mer än tillåtna "
        f"{round(max_shrink * 100)} %); arkivets lista behålls.",
        hint="Kör samma kommando igen senare. Om listan verkligen har krympt: "
        "`tillit sync --metadata --replace` (eller höj TILLIT_SYNC_MAX_SHRINK).",
    )


def sync_metadata(
    store: Store,
    client: KoladaClient,
    *,
    kinds: Sequence[str] = METADATA_KINDS,
    progress: Progress | None = None,
    replace: bool = False,
    max_shrink: float = DEFAULT_MAX_SHRINK,
    keep_refused: bool = False,
) -> MetadataResult:
    """Fetch the Kolada catalogues in ``kinds`` and replace them in the store.

    Every listing is fetched whole (every page, each page's ``count`` matching its rows)
    before anything is written. A listing that names an id twice, or is empty while the store
    holds the catalogue, is refused (KoladaPayloadError), and so is one with more than
    ``max_shrink`` (a share) fewer distinct ids than the store holds records, unless ``replace``
    (ConflictError). Nothing is written then; with ``keep_refused`` the refused catalogues are
    kept as they are, with a MetadataRefusedWarning, and the others are written.
    """
    progress = progress or NullProgress()
    start, requests_before = time.monotonic(), client.requests_made
    rows: dict[str, int] = {}
    progress.stage("Hämtar metadata från Kolada", len(kinds))
    with store.lock():
        fetched = []
        for kind in kinds:
            t0, r0 = time.monotonic(), client.requests_made
            catalogue = client.catalogue(kind)
            fetched.append((kind, catalogue, client.requests_made - r0, time.monotonic() - t0))
            progress.advance(1, rows=len(catalogue.rows))
        accepted = []
        for item in fetched:
            kind, catalogue = item[0], item[1]
            refused = _check_listing(
                store, client, kind, catalogue.rows, replace=replace, max_shrink=max_shrink
            )
            if refused is None:
                accepted.append(item)
            elif keep_refused:
                warnings.warn(refused.message, MetadataRefusedWarning, stacklevel=2)
            else:
                raise refused
        for kind, catalogue, requests, seconds in accepted:
            written = store.metadata.replace(kind, catalogue.rows)
            store.prepare_search(kind)
            rows.update(written)
            store.record(
                Provenance(
                    kind="sync",
                    source=client.url_for(kind),
                    dataset=kind,
                    rows=written,
                    checksum=_combined(catalogue.sha256),
                    requests=requests,
                    seconds=round(seconds, 3),
                    parameters={"replace": replace},
                )
            )
    return MetadataResult(
        rows, client.requests_made - requests_before, round(time.monotonic() - start, 3)
    )


def _combined(page_hashes: Sequence[str]) -> str:
    """One checksum for a sync: the sha256 of the pages' body hashes in request order, so an
    interrupted and resumed sync of the same data gets the same checksum as an unbroken one."""
    return "sha256:" + hashlib.sha256("".join(page_hashes).encode()).hexdigest()


def metadata_age(store: Store) -> timedelta | None:
    """Time since the KPI catalogue was last synced or imported (None: never)."""
    stamps = [p.fetched_at for p in store.provenance() if p.dataset == "kpi"]
    if not stamps or not store.metadata.exists("kpi"):
        return None
    return datetime.now(UTC) - datetime.fromisoformat(max(stamps))


@dataclass(frozen=True)
class SyncResult:
    merge: MergeResult | None
    urls: int
    pages: int
    requests: int
    values_fetched: int
    resumed_pages: int
    seconds: float
    rejected: int = 0
    """Values Kolada sent that an import would refuse, or that were not asked for."""
    report: Path | None = None
    """The CSV listing the rejected values (None when there are none)."""

    @property
    def values_per_second(self) -> float:
        return self.values_fetched / self.seconds if self.seconds > 0 else 0.0


def _staged(table: pa.Table, unit: str, seq0: int) -> pa.Table:
    """A page's values as staged: the unit column named for the dataset, plus ``seq``."""
    table = table.rename_columns([unit if c == "unit" else c for c in table.column_names])
    return table.append_column("seq", pa.array(range(seq0, seq0 + table.num_rows), pa.int64()))


class _Tally:
    """Counters shared by the fetch workers."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.pages = self.resumed = self.fetched = 0

    def add(self, *, pages: int = 0, resumed: int = 0, fetched: int = 0) -> None:
        with self.lock:
            self.pages += pages
            self.resumed += resumed
            self.fetched += fetched


def _read_state(path: Path, first_url: str) -> dict[str, Any]:
    try:
        state: dict[str, Any] = orjson.loads(path.read_bytes())
        return state
    except FileNotFoundError:
        return {
            "next_url": first_url,
            "pages": 0,
            "values": 0,
            "sha256": [],
            "urls": [],
            "done": False,
        }


def _open_staging(staging: Path, urls: list[str], ou: bool, progress: Progress) -> None:
    """Start a staged sync, or say what an interrupted one has kept."""
    plan_path = staging / "plan.json"
    if plan_path.exists():
        states = [orjson.loads(p.read_bytes()) for p in staging.glob("*.state.json")]
        pages = sum(s["pages"] for s in states)
        values = swedish.number(sum(s["values"] for s in states))
        progress.note(
            f"Återupptar en avbruten synk: {pages} sidor med {values} värden är redan hämtade."
        )
    else:
        atomic_write_bytes(
            plan_path,
            orjson.dumps({"urls": urls, "ou": ou, "created": datetime.now(UTC).isoformat()}),
        )


def _fetch_url(
    client: KoladaClient,
    staging: Path,
    i: int,
    url: str,
    *,
    ou: bool,
    stop: threading.Event,
    tally: _Tally,
    progress: Progress,
) -> None:
    """Fetch the pages of request ``i`` from where its state file says, staging each."""
    unit = "ou" if ou else "municipality"
    state_path = staging / f"u{i:05d}.state.json"
    state = _read_state(state_path, url)
    tally.add(resumed=state["pages"])
    while not state["done"]:
        if stop.is_set():
            return
        if state["pages"] >= client.max_pages:
            raise client.too_many_pages(url)
        page, table = client.fetch_page(state["next_url"], ou=ou)
        if page.next_url in state["urls"]:
            raise KoladaPayloadError(
                f"Kolada pekade tillbaka på en redan hämtad sida ({page.next_url}).",
                url=page.url,
                field="next_url",
            )
        page_no = state["pages"]
        if table.num_rows:
            part = staging / f"u{i:05d}.p{page_no:05d}.parquet"
            tmp = part.with_suffix(".tmp")
            seq0 = i * _SEQ_URL + page_no * _SEQ_PAGE
            pq.write_table(_staged(table, unit, seq0), tmp, compression="zstd")
            tmp.replace(part)
        # The page's rows are on disk before the state says so: a kill in between refetches
        # the page, and the merge's upsert absorbs the repeat.
        state.update(
            next_url=page.next_url,
            pages=page_no + 1,
            values=state["values"] + page.values,
            sha256=[*state["sha256"], page.sha256],
            urls=[*state["urls"], page.url],
            done=page.next_url is None,
        )
        atomic_write_bytes(state_path, orjson.dumps(state))
        tally.add(pages=1, fetched=page.values)
        progress.advance(0, rows=page.values)
    progress.advance(1)


def _fetch_all(
    client: KoladaClient,
    staging: Path,
    urls: list[str],
    *,
    ou: bool,
    workers: int,
    progress: Progress,
) -> _Tally:
    """Fetch every request. Requests are independent: two workers overlap one's network wait
    and parsing (which releases the GIL) with the other's; the throttle is shared, so the
    rate holds. On an error or Ctrl-C the others finish their current page and stop."""
    tally, stop = _Tally(), threading.Event()
    pool = ThreadPoolExecutor(max_workers=max(1, min(workers, len(urls))))
    try:
        futures = [
            pool.submit(
                _fetch_url,
                client,
                staging,
                i,
                url,
                ou=ou,
                stop=stop,
                tally=tally,
                progress=progress,
            )
            for i, url in enumerate(urls)
        ]
        for future in futures:
            future.result()
    except BaseException:
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown()
    return tally


def sync_values(
    store: Store,
    client: KoladaClient,
    *,
    kpis: Sequence[str] | None = None,
    municipalities: Sequence[str] | None = None,
    years: Sequence[int] | None = None,
    since: date | None = None,
    ou: bool = False,
    progress: Progress | None = None,
    workers: int = 2,
) -> SyncResult:
    """Fetch the values selected by two or three of ``kpis``, ``municipalities`` (or OU ids
    with ``ou=True``) and ``years`` (``since``: only values changed from that date) and upsert
    them into the store; rows Kolada flags as deleted are removed.

    Rerunning the same call after an interruption resumes it. Values an import would
    refuse, or that were not asked for, are left out, listed in a report and warned about
    (SyncRejectedRowsWarning); two different values for one key warn (SyncConflictWarning).
    """
    progress = progress or NullProgress()
    try:
        urls = client.data_urls(
            kpis=kpis, units=municipalities, years=years, ou=ou, from_date=since
        )
    except ValueError:
        raise InvalidInputError(
            "Ange minst två av: nyckeltal, kommuner och år.",
            hint="T.ex. `tillit sync --kpi N00945 --years 2015-2024`.",
        ) from None
    dataset = store.ou_values if ou else store.values
    key = hashlib.sha256(orjson.dumps({"urls": urls, "ou": ou})).hexdigest()[:16]
    start, requests_before = time.monotonic(), client.requests_made
    with store.lock():
        staging = store.staging_dir / key
        _open_staging(staging, urls, ou, progress)
        progress.stage("Hämtar värden från Kolada", len(urls))
        tally = _fetch_all(client, staging, urls, ou=ou, workers=workers, progress=progress)
        states = [
            orjson.loads((staging / f"u{i:05d}.state.json").read_bytes()) for i in range(len(urls))
        ]
        progress.stage("Sparar i arkivet", 1)
        merge, rejected, report = None, 0, None
        if any(staging.glob("*.parquet")):
            con = store.connect()
            try:
                glob = str(staging / "*.parquet").replace("'", "''")
                good, rejected, report = check_staged(
                    con,
                    f"read_parquet('{glob}')",
                    unit=dataset.unit,
                    kpis=kpis,
                    units=municipalities,
                    years=years,
                    reports_dir=store.reports_dir,
                )
                merge = dataset.merge(con, good)
            finally:
                con.close()
        progress.advance(1, rows=merge.received if merge else 0)
        seconds = round(time.monotonic() - start, 3)
        store.record(
            Provenance(
                kind="sync",
                source=urls[0] if len(urls) == 1 else f"{urls[0]} (+{len(urls) - 1} anrop)",
                dataset="ou_values" if ou else "values",
                rows={
                    "values": sum(s["values"] for s in states),
                    "rejected": rejected,
                    "inserted": merge.inserted if merge else 0,
                    "updated": merge.updated if merge else 0,
                    "deleted": merge.deleted if merge else 0,
                    "unchanged": merge.unchanged if merge else 0,
                    "total_in_store": merge.total if merge else dataset.manifest()["rows"],
                },
                checksum=_combined([sha for s in states for sha in s["sha256"]]),
                requests=client.requests_made - requests_before,
                seconds=seconds,
                parameters={
                    "kpis": list(kpis or []),
                    "municipalities": list(municipalities or []),
                    "years": list(years or []),
                    "since": since.isoformat() if since else None,
                    "urls": len(urls),
                },
            )
        )
        shutil.rmtree(staging, ignore_errors=True)
    return SyncResult(
        merge=merge,
        urls=len(urls),
        pages=tally.pages,
        requests=client.requests_made - requests_before,
        values_fetched=tally.fetched,
        resumed_pages=tally.resumed,
        seconds=seconds,
        rejected=rejected,
        report=report,
    )
