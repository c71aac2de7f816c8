"""Bringing data into the store: sync from Kolada, import from files."""

from tillit.sync._checks import SyncConflictWarning, SyncRejectedRowsWarning
from tillit.sync._importer import ImportResult, Rejected, import_path
from tillit.sync._kolada import (
    METADATA_KINDS,
    MetadataRefusedWarning,
    MetadataResult,
    SyncResult,
    client_for,
    metadata_age,
    sync_metadata,
    sync_values,
)
from tillit.sync._progress import NullProgress, Progress
from tillit.sync._request import SyncOutcome, SyncRequest, default_years, run_sync

__all__ = [
    "METADATA_KINDS",
    "ImportResult",
    "MetadataRefusedWarning",
    "MetadataResult",
    "NullProgress",
    "Progress",
    "Rejected",
    "SyncConflictWarning",
    "SyncOutcome",
    "SyncRejectedRowsWarning",
    "SyncRequest",
    "SyncResult",
    "client_for",
    "default_years",
    "import_path",
    "metadata_age",
    "run_sync",
    "sync_metadata",
    "sync_values",
]
