"""Kolada (https://kolada.se), the open database of Swedish municipal key indicators.

A client of its v3 API and the validation of what it sends.
"""

from tillit.sources.kolada._client import (
    MAX_IDS_PER_SEGMENT,
    MAX_PER_PAGE,
    Catalogue,
    DataPage,
    KoladaClient,
    Page,
    chunked,
)
from tillit.sources.kolada._pages import VALUE_COLUMNS, parse_data_page
from tillit.sources.kolada._schema import (
    METADATA_FIELDS,
    KoladaSchemaDriftWarning,
    ValueBatch,
    parse_envelope,
    parse_metadata,
    parse_values,
)

__all__ = [
    "MAX_IDS_PER_SEGMENT",
    "MAX_PER_PAGE",
    "METADATA_FIELDS",
    "VALUE_COLUMNS",
    "Catalogue",
    "DataPage",
    "KoladaClient",
    "KoladaSchemaDriftWarning",
    "Page",
    "ValueBatch",
    "chunked",
    "parse_data_page",
    "parse_envelope",
    "parse_metadata",
    "parse_values",
]
