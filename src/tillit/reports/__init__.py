"""Rendering analysis results for people: charts as self-contained SVG now (the web pages
use them), the yearly report later."""

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

__all__ = [
    "Chart",
    "FunnelLimits",
    "Mark",
    "Role",
    "Series",
    "distribution_chart",
    "funnel_chart",
    "series_chart",
    "sparkline",
]
