"""Rendering analysis results for people: charts as self-contained SVG now (the web pages
use them; the trial pages their synthetic-control charts), the yearly report later."""

from tillit.reports._charts import (
    Chart,
    FunnelLimits,
    Mark,
    Role,
    Series,
    distribution_chart,
    funnel_chart,
)
from tillit.reports._series import series_chart, sparkline
from tillit.reports._synth_charts import gap_chart, synth_chart

__all__ = [
    "Chart",
    "FunnelLimits",
    "Mark",
    "Role",
    "Series",
    "distribution_chart",
    "funnel_chart",
    "gap_chart",
    "series_chart",
    "sparkline",
    "synth_chart",
]
