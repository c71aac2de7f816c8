"""Query functions: read the store, run the analyses, return results with the names
needed to show them. The CLI, the web pages and the reports call these, never the
store and the analyses separately, so that every surface shows the same numbers."""

from tillit.query._context import PEER_KINDS, Context, PeerSet, load_context
from tillit.query._reports import (
    ComparisonReport,
    LearnReport,
    MatrixReport,
    PeersReport,
    TrendReport,
    compare_report,
    learn_report,
    national_report,
    peers_report,
    resolve_municipality,
    trend_report,
)

__all__ = [
    "PEER_KINDS",
    "ComparisonReport",
    "Context",
    "LearnReport",
    "MatrixReport",
    "PeerSet",
    "PeersReport",
    "TrendReport",
    "compare_report",
    "learn_report",
    "load_context",
    "national_report",
    "peers_report",
    "resolve_municipality",
    "trend_report",
]
