"""Provenance: one JSON record per sync or import, kept under ``provenance/``."""

from __future__ import annotations

import time
import uuid
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

from tillit.store._files import atomic_write_bytes

__all__ = ["LICENCE", "Provenance", "read_provenance", "write_provenance"]

LICENCE = "Källa: Kolada"


@dataclass(frozen=True)
class Provenance:
    """Where a change to the store came from.

    ``checksum`` is ``sha256:<hex>``: for a sync, over the raw response bodies in request order;
    for an import, over the imported file's bytes.
    """

    kind: str  # "sync" | "import"
    source: str  # URL(s) or file path
    dataset: str  # "values", "ou_values", or a metadata table
    rows: dict[str, int]
    checksum: str
    fetched_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))
    licence: str = LICENCE
    requests: int = 0
    seconds: float = 0.0
    parameters: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex[:12])


def write_provenance(directory: Path, record: Provenance) -> Path:
    path = directory / f"{time.time_ns():020d}-{record.id}.json"  # sorts in write order
    atomic_write_bytes(path, orjson.dumps(asdict(record), option=orjson.OPT_INDENT_2))
    return path


def read_provenance(directory: Path) -> list[Provenance]:
    """All records, oldest first."""
    if not directory.exists():
        return []
    out = []
    for path in sorted(directory.glob("*.json")):
        out.append(Provenance(**orjson.loads(path.read_bytes())))
    return out
