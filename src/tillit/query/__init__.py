"""Query functions: read the store, run the analyses, return results with the names
needed to show them. The CLI, the web pages and the reports call these, never the
store and the analyses separately, so that every surface shows the same numbers."""

from tillit.query._atlas import Atlas, Loaded, key_kpis
from tillit.query._context import PEER_KINDS, Context, PeerSet, load_context, polarity_overrides
from tillit.query._pages import (
    AreaOverview,
    FunnelView,
    KeyResult,
    KpiOverview,
    KpiPoint,
    MunicipalityOverview,
    kpi_overview,
    municipality_names,
    municipality_overview,
    peers_overview,
    resolve_code,
)
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
from tillit.query._trial_data import evaluation_data, trial_data, trial_evaluation_data
from tillit.query._trials import (
    TrialEvaluation,
    evaluate_panel_csv,
    evaluate_trial,
    parse_direction,
    register_trial,
    trial_panel,
)

__all__ = [
    "PEER_KINDS",
    "AreaOverview",
    "Atlas",
    "ComparisonReport",
    "Context",
    "FunnelView",
    "KeyResult",
    "KpiOverview",
    "KpiPoint",
    "LearnReport",
    "Loaded",
    "MatrixReport",
    "MunicipalityOverview",
    "PeerSet",
    "PeersReport",
    "TrendReport",
    "TrialEvaluation",
    "compare_report",
    "evaluate_panel_csv",
    "evaluate_trial",
    "evaluation_data",
    "key_kpis",
    "kpi_overview",
    "learn_report",
    "load_context",
    "municipality_names",
    "municipality_overview",
    "national_report",
    "parse_direction",
    "peers_overview",
    "peers_report",
    "polarity_overrides",
    "register_trial",
    "resolve_code",
    "resolve_municipality",
    "trend_report",
    "trial_data",
    "trial_evaluation_data",
    "trial_panel",
]
