"""A Kolada v3 API on loopback, replaying real data from ../shared/data, with faults on demand.

``FakeKolada`` is a real HTTP/1.1 server (keep-alive, one thread per connection) for testing
Tillit's Kolada client at the network edge and for throughput benchmarks. Everything it serves
is built at run time from the shared data; nothing is copied into the repository.

Served, under ``http://127.0.0.1:PORT/v3``:

- ``/kpi[/{ids}]``, ``/municipality[/{ids}]``, ``/municipality_groups[/{ids}]`` — the rKolada v3
  snapshots in ``kolada_api_metadata/`` (objects as stored). ``/kpi_groups[/{ids}]`` — built from
  ``kolada_panel/kpi_groups_tags.csv`` and ``kpi_metadata.csv``. ``/ou[/{ids}]`` — synthetic.
  ``?title=`` filters by case-insensitive substring of the title.
- ``/data/kpi/{ids}/municipality/{ids}/year/{years}`` (any two of the three segments, in that
  order) from ``kolada_panel/kolada_values_1994_2022.parquet``, one row per
  (kpi, municipality, period) with the genders grouped in ``values``, ordered by kpi,
  municipality, period; ``/oudata/kpi/{ids}/ou/{ids}/year/{years}`` likewise, synthetic.
- Envelope ``{"count": <rows on this page>, "values": [...], "next_url": "<absolute URL>"}``;
  ``per_page`` 1..5000 (default 5000); the paging state travels as ``page`` inside next_url.
  ``from_date=YYYY-MM-DD`` keeps rows changed on or after that date, deleted rows included as
  ``{"kpi", "municipality", "period", "isdeleted": true, "values": []}``.
- Errors (unknown path 404; more than 25 ids in a segment, bad ``per_page`` and the like 400)
  are JSON ``{"status", "error", "message"}``.

The panel is held column by column (``array`` module): a small subset loads in ~0.3 s, and
even ``kpis=None`` (all 7.4 M values) takes ~5 s and ~350 MB (DuckDB peaks near 1.3 GB while
loading). Up to ``PRERENDER_VALUES`` values, every row's JSON is also built once at load, so a
page costs a memory copy; above that, rows are formatted per request (~1 M values/s). Pages are
wrapped by orjson and cached by request URL. Mutations (``update_value``, ``delete_row``,
``add_row``) are kept in a small overlay that takes precedence over the panel. Run
``python -m tests.kolada_fake --help`` to serve standalone.
"""

from __future__ import annotations

from ._cli import main
from ._faults import FAULTS, RecordedRequest
from ._metadata import KKIK_GROUP_ID, KKIK_GROUP_TITLE
from ._panel import GENDERS, PRERENDER_VALUES, is_missing_by_hash
from ._request import MAX_IDS, MAX_PER_PAGE
from ._server import FakeKolada, LastNextUrl
from ._shared_data import (
    KPI_GROUP_TAGS_CSV,
    KPI_JSON,
    KPI_METADATA_CSV,
    MUNICIPALITY_GROUPS_JSON,
    MUNICIPALITY_JSON,
    PANEL,
    SHARED_DATA,
    SharedDataMissingError,
)
from ._values import ExpectedValue

__all__ = [
    "FAULTS",
    "GENDERS",
    "KKIK_GROUP_ID",
    "KKIK_GROUP_TITLE",
    "KPI_GROUP_TAGS_CSV",
    "KPI_JSON",
    "KPI_METADATA_CSV",
    "MAX_IDS",
    "MAX_PER_PAGE",
    "MUNICIPALITY_GROUPS_JSON",
    "MUNICIPALITY_JSON",
    "PANEL",
    "PRERENDER_VALUES",
    "SHARED_DATA",
    "ExpectedValue",
    "FakeKolada",
    "LastNextUrl",
    "RecordedRequest",
    "SharedDataMissingError",
    "is_missing_by_hash",
    "main",
]
