"""Bringing data into the store: sync from Kolada, import from files."""

from tillit.sync._importer import ImportResult, Rejected, import_path
from tillit.sync._kolada import (
    METADATA_KINDS,
    MetadataResult,
    SyncResult,
    client_for,
    metadata_age,
    sync_metadata,
    sync_values,
)
from tillit.sync._progress import NullProgress, Progress

__all__ = [
    "METADATA_KINDS",
    "ImportResult",
    "MetadataResult",
    "NullProgress",
    "Progress",
    "Rejected",
    "SyncResult",
    "client_for",
    "import_path",
    "metadata_age",
    "sync_metadata",
    "sync_values",
]
