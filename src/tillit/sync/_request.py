"""One call for `tillit sync`: resolve what the user named, refresh metadata, fetch values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from tillit.errors import InvalidInputError
from tillit.sources.kolada import KoladaClient
from tillit.store import Store
from tillit.sync._kolada import (
    DEFAULT_MAX_SHRINK,
    MetadataResult,
    SyncResult,
    metadata_age,
    sync_metadata,
    sync_values,
)
from tillit.sync._progress import NullProgress, Progress

__all__ = ["FIRST_YEAR", "SyncOutcome", "SyncRequest", "default_years", "run_sync"]

FIRST_YEAR = 1990
METADATA_MAX_AGE = timedelta(days=1)


def default_years(today: date | None = None) -> list[int]:
    """Every year Kolada may hold data for: 1990 up to this year."""
    return list(range(FIRST_YEAR, (today or date.today()).year + 1))


@dataclass(frozen=True)
class SyncRequest:
    """What `tillit sync` was asked for. Names may be ids or titles."""

    kpis: Sequence[str] = ()
    groups: Sequence[str] = ()
    municipalities: Sequence[str] = ()
    everything: bool = False
    years: Sequence[int] = ()
    since: date | None = None
    metadata_only: bool = False
    refresh_metadata: bool = False
    ou: bool = False
    replace: bool = False
    """Replace the metadata catalogues even when a listing shrinks one by more than
    ``max_shrink``."""
    max_shrink: float = DEFAULT_MAX_SHRINK


@dataclass
class SyncOutcome:
    metadata: MetadataResult | None = None
    values: SyncResult | None = None
    kpis: list[str] = field(default_factory=list)
    municipalities: list[str] = field(default_factory=list)
    groups: list[str] = field(default_factory=list)


def run_sync(
    store: Store, client: KoladaClient, request: SyncRequest, *, progress: Progress | None = None
) -> SyncOutcome:
    """Refresh metadata when it is missing or a day old (or asked), then sync the values the
    request selects. Raises InvalidInputError when nothing is selected."""
    progress = progress or NullProgress()
    selects_values = bool(
        request.kpis or request.groups or request.municipalities or request.everything
    )
    if not selects_values and not request.metadata_only:
        raise InvalidInputError(
            "Säg vad som ska hämtas.",
            hint='T.ex. `tillit sync --group "Kommunens kvalitet i korthet"`, '
            "`tillit sync --kpi N00945`, `tillit sync --municipality Kungsbacka`, "
            "`tillit sync --all` eller bara metadata: `tillit sync --metadata`.",
        )
    outcome = SyncOutcome()
    age = metadata_age(store)
    if request.metadata_only or request.refresh_metadata or age is None or age > METADATA_MAX_AGE:
        outcome.metadata = sync_metadata(
            store,
            client,
            progress=progress,
            replace=request.replace,
            max_shrink=request.max_shrink,
            # Refreshed because it is old, not because it was asked for: a listing that would
            # shrink a catalogue keeps the stored one (with a warning) and the values still come.
            keep_refused=age is not None
            and not (request.metadata_only or request.refresh_metadata),
        )
    if request.metadata_only and not selects_values:
        return outcome
    kpis: list[str] = [store.kpi(k)["id"] for k in request.kpis]
    for name in request.groups:
        group, members = store.kpi_group(name)
        outcome.groups.append(group["title"])
        kpis.extend(members)
    if request.everything:
        kpis = [row["id"] for row in store.kpis()]
    kpis = list(dict.fromkeys(kpis))
    if (request.groups or request.kpis) and not kpis:
        raise InvalidInputError("Gruppen har inga nyckeltal att hämta.")
    municipalities = list(
        dict.fromkeys(store.municipality(m)["id"] for m in request.municipalities)
    )
    units = municipalities
    if request.ou and municipalities:
        # OU data is addressed by unit id: take every unit of the named municipalities.
        wanted = set(municipalities)
        units = [o["id"] for o in store.metadata.read("ou") if o["municipality"] in wanted]
        if not units:
            raise InvalidInputError(
                "Arkivet känner inga enheter (OU) i de kommunerna.",
                hint="Hämta enhetslistan med `tillit sync --metadata`.",
            )
    years = list(request.years) or default_years()
    outcome.kpis, outcome.municipalities = kpis, municipalities
    outcome.values = sync_values(
        store,
        client,
        kpis=kpis or None,
        municipalities=units or None,
        years=years,
        since=request.since,
        ou=request.ou,
        progress=progress,
    )
    return outcome
