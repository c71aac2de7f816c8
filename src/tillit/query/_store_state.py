"""The state of the store as one short text: what a stored evaluation was computed from.

The command line and the web compute it the same way from the same files, so an evaluation
one of them stored is found by the other; any sync (a new values manifest, a rewritten
metadata table) changes it."""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path

from tillit.store import Store

__all__ = ["store_state"]

_lock = threading.Lock()
#: The last state per store directory, with the file stamps it was computed from.
_seen: dict[Path, tuple[tuple[object, ...], str]] = {}


def _stat(path: Path) -> tuple[object, ...]:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return (path.name, None)
    return (path.name, stat.st_size, stat.st_mtime_ns, stat.st_ino)


def store_state(store: Store) -> str:
    """A hash (16 hex digits) of the values manifest's content and the name, size and
    modification time of every metadata table: it changes whenever the store's data
    changes. Recomputed only when one of those files' stamps changed."""
    manifest = store.values.directory / "manifest.json"
    metadata = store.metadata.directory
    tables = sorted(metadata.glob("*.parquet")) if metadata.is_dir() else []
    stamps = (_stat(manifest), *(_stat(p) for p in tables))
    root = store.values.directory
    with _lock:
        found = _seen.get(root)
    if found is not None and found[0] == stamps:
        return found[1]
    digest = hashlib.sha256()
    try:
        digest.update(manifest.read_bytes())
    except FileNotFoundError:
        digest.update(b"no values")
    for stamp in stamps[1:]:
        digest.update(repr(stamp[:3]).encode())
    state = digest.hexdigest()[:16]
    with _lock:
        _seen[root] = (stamps, state)
    return state
