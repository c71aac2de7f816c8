"""Rendering analysis results for people: charts as self-contained SVG (the web pages use
them; the trial pages their synthetic-control charts), and the yearly report as HTML,
PDF/UA, Excel and JSON."""

from tillit.reports._charts import (
    Chart,
    FunnelLimits,
    Mark,
    Role,
    Series,
    distribution_chart,
    funnel_chart,
)
from tillit.reports._document import report_html
from tillit.reports._excel import workbook
from tillit.reports._pdf import pdf_from_html, print_stylesheet
from tillit.reports._remiss import REMISS_FORMATS, remiss_bytes, remiss_docx, remiss_html
from tillit.reports._series import series_chart, sparkline
from tillit.reports._synth_charts import gap_chart, synth_chart
from tillit.reports._yearly_formats import (
    MEDIA_TYPES,
    REPORT_FORMATS,
    ReportFormat,
    national_bytes,
    national_filename,
    report_bytes,
    report_filename,
)

__all__ = [
    "MEDIA_TYPES",
    "REMISS_FORMATS",
    "REPORT_FORMATS",
    "Chart",
    "FunnelLimits",
    "Mark",
    "ReportFormat",
    "Role",
    "Series",
    "distribution_chart",
    "funnel_chart",
    "gap_chart",
    "national_bytes",
    "national_filename",
    "pdf_from_html",
    "print_stylesheet",
    "remiss_bytes",
    "remiss_docx",
    "remiss_html",
    "report_bytes",
    "report_filename",
    "report_html",
    "series_chart",
    "sparkline",
    "synth_chart",
    "workbook",
]
