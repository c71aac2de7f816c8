"""Pure analyses: frames in, dataclasses out, no I/O.

Nothing here imports from tillit except :mod:`tillit.errors`; the CLI, the web pages and the
reports call these functions with data read from the store (through :mod:`tillit.query`).
"""

from tillit.analyses._compare import (
    POSITION_LABELS,
    TIER_LABELS,
    Comparison,
    Denominators,
    FittedFunnel,
    FunnelPoint,
    PeerValue,
    compare,
    fit_funnel,
)
from tillit.analyses._denominator import DenominatorRule, denominator_rule
from tillit.analyses._evidence import (
    MIN_HOLDING,
    RECENT,
    Evidence,
    Gaps,
    Verdicts,
    gather_evidence,
    judge_gaps,
    peer_gaps,
)
from tillit.analyses._funnel import (
    Funnel,
    additive_tau2,
    funnel,
    normal_limits,
    overdispersion,
    poisson_ratio_limits,
    proportion_limits,
)
from tillit.analyses._learn import (
    AreaSummary,
    Finding,
    Learning,
    LearningMatrix,
    Partner,
    find_learning_partners,
    learning_matrix,
)
from tillit.analyses._multiple import benjamini_hochberg
from tillit.analyses._noise import WINDOW, Levels, Noise, Windowed, estimate_noise, shrink_levels
from tillit.analyses._panel import Panel
from tillit.analyses._polarity import (
    Polarity,
    PolarityDecision,
    curated_polarities,
    infer_polarity,
    parse_polarity_overrides,
    resolve_polarity,
)
from tillit.analyses._scale import size_dependent
from tillit.analyses._shrink import Shrunk, shrink
from tillit.analyses._structure import (
    STRUCTURAL_KPIS,
    STRUCTURAL_VARIABLES,
    Peer,
    StructuralPeers,
    StructuralVariable,
    Structure,
    Trait,
    build_structure,
    peer_agreement,
)
from tillit.analyses._trend import MannKendall, TheilSen, Trend, mann_kendall, theil_sen, trend

__all__ = [
    "MIN_HOLDING",
    "POSITION_LABELS",
    "RECENT",
    "STRUCTURAL_KPIS",
    "STRUCTURAL_VARIABLES",
    "TIER_LABELS",
    "WINDOW",
    "AreaSummary",
    "Comparison",
    "DenominatorRule",
    "Denominators",
    "Evidence",
    "Finding",
    "FittedFunnel",
    "Funnel",
    "FunnelPoint",
    "Gaps",
    "Learning",
    "LearningMatrix",
    "Levels",
    "MannKendall",
    "Noise",
    "Panel",
    "Partner",
    "Peer",
    "PeerValue",
    "Polarity",
    "PolarityDecision",
    "Shrunk",
    "StructuralPeers",
    "StructuralVariable",
    "Structure",
    "TheilSen",
    "Trait",
    "Trend",
    "Verdicts",
    "Windowed",
    "additive_tau2",
    "benjamini_hochberg",
    "build_structure",
    "compare",
    "curated_polarities",
    "denominator_rule",
    "estimate_noise",
    "find_learning_partners",
    "fit_funnel",
    "funnel",
    "gather_evidence",
    "infer_polarity",
    "judge_gaps",
    "learning_matrix",
    "mann_kendall",
    "normal_limits",
    "overdispersion",
    "parse_polarity_overrides",
    "peer_agreement",
    "peer_gaps",
    "poisson_ratio_limits",
    "proportion_limits",
    "resolve_polarity",
    "shrink",
    "shrink_levels",
    "size_dependent",
    "theil_sen",
    "trend",
]
