"""The local store: KPI values as Parquet queried with DuckDB, Kolada metadata, provenance."""

from tillit.store._files import atomic_write_bytes, reraise_interrupt
from tillit.store._metadata import KOMMUNGRUPP_2023, TABLES, classify_group, group_name
from tillit.store._provenance import LICENCE, Provenance
from tillit.store._search import fold, terms
from tillit.store._store import Store
from tillit.store._values import MergeResult, ValueDataset, bucket_of

__all__ = [
    "KOMMUNGRUPP_2023",
    "LICENCE",
    "TABLES",
    "MergeResult",
    "Provenance",
    "Store",
    "ValueDataset",
    "atomic_write_bytes",
    "bucket_of",
    "classify_group",
    "fold",
    "group_name",
    "reraise_interrupt",
    "terms",
]
