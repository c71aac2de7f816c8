"""Atomic file writes and the store's write lock."""

from __future__ import annotations

import contextlib
import fcntl
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

from tillit.errors import StoreLockedError

__all__ = ["atomic_write_bytes", "fsync_dir", "reraise_interrupt", "write_lock"]


def reraise_interrupt(exc: BaseException) -> None:
    """Raise KeyboardInterrupt if ``exc`` is DuckDB reporting a Ctrl-C: on SIGINT it raises a
    plain RuntimeError("Query interrupted"), on ``interrupt()`` an InterruptException."""
    import duckdb

    if isinstance(exc, duckdb.InterruptException) or (
        isinstance(exc, RuntimeError) and "interrupted" in str(exc).lower()
    ):
        raise KeyboardInterrupt from None


def fsync_dir(path: Path) -> None:
    """Make a rename inside ``path`` durable."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` so that readers see either the old or the new file, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


@contextlib.contextmanager
def write_lock(directory: Path) -> Iterator[None]:
    """Hold the exclusive write lock of a store directory (one writer at a time).

    The lock is an ``flock`` on ``.lock``: the kernel releases it when the holder dies, even by
    ``kill -9``, so a killed sync never leaves the store locked.
    """
    directory.mkdir(parents=True, exist_ok=True)
    handle = (directory / ".lock").open("a+")
    try:
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise StoreLockedError(
                f"En annan synk eller import skriver redan till {directory}.",
                hint="Vänta tills den är klar och kör sedan kommandot igen.",
            ) from None
        yield
    finally:
        handle.close()
