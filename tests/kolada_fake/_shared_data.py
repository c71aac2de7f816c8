"""Where the shared Kolada data lives, and the files of it the fake replays."""

from __future__ import annotations

import os
from pathlib import Path


def _resolve_shared_data() -> Path:
    env = os.environ.get("TILLIT_SHARED_DATA")
    if env:
        return Path(env)
    # <repo root>/../shared/data; this file is <repo root>/tests/kolada_fake/_shared_data.py.
    return Path(__file__).resolve().parents[3] / "shared" / "data"


SHARED_DATA: Path = _resolve_shared_data()
"""``$TILLIT_SHARED_DATA`` if set, else ``<repo root>/../shared/data``."""

PANEL = "kolada_panel/kolada_values_1994_2022.parquet"
KPI_METADATA_CSV = "kolada_panel/kpi_metadata.csv"
KPI_GROUP_TAGS_CSV = "kolada_panel/kpi_groups_tags.csv"
KPI_JSON = "kolada_api_metadata/kpi_v3_2026-03.values.json"
MUNICIPALITY_JSON = "kolada_api_metadata/municipality_v3_2026-03.values.json"
MUNICIPALITY_GROUPS_JSON = "kolada_api_metadata/municipality_groups_v3_2026-03.values.json"
_REQUIRED_FILES = (
    PANEL,
    KPI_METADATA_CSV,
    KPI_GROUP_TAGS_CSV,
    KPI_JSON,
    MUNICIPALITY_JSON,
    MUNICIPALITY_GROUPS_JSON,
)


class SharedDataMissingError(FileNotFoundError):
    """The shared Kolada data the fake replays is not where it was looked for."""
