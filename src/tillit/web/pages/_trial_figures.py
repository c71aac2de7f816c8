"""A trial page's charts, built from its evaluation: the municipality (or region) against its
synthetic control ("syntes") and the gap against the placebo gaps ("skillnad"), each with a Swedish
text summary, a data table and a CSV download. The gap chart's table summarises the
placebos per year (lowest, median, highest); its CSV holds every placebo's gap."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup, escape

from tillit import swedish
from tillit.analyses import SynthEvaluation
from tillit.query import TrialEvaluation, average_effect_text, unit_word
from tillit.reports import Chart, gap_chart, synth_chart
from tillit.web.pages._render import swedish_number as num

__all__ = [
    "POOR_PLACEBO_FACTOR",
    "TRIAL_CHARTS",
    "TrialFigure",
    "genitive",
    "trial_figures",
    "unit_of",
]

TRIAL_CHARTS = ("syntes", "skillnad")
#: Placebos whose pre-period error is more than this many times the municipality's are
#: not drawn (Abadie, Diamond & Hainmueller 2010 do the same): a placebo that never
#: followed its own synthetic control says nothing about the size of a gap. They still
#: count in the p-value, and the CSV has them.
POOR_PLACEBO_FACTOR = 5.0


@dataclass(frozen=True)
class TrialFigure:
    """A chart with its data as a table and as CSV (the same shape as the KPI page's
    figures, so the page's ``figure`` macro draws both)."""

    slug: str
    chart: Chart
    columns: tuple[str, ...]
    headers: tuple[str, ...]
    rows: tuple[dict[str, Any], ...]
    csv_columns: tuple[str, ...]
    csv_rows: tuple[dict[str, Any], ...]

    def body_html(self) -> Markup:
        """The table's rows: the year as row header, numbers right-aligned in Swedish."""
        lines = []
        places = [
            swedish.decimals_for([v for row in self.rows if isinstance(v := row[c], float)])
            for c in self.columns
        ]
        for row in self.rows:
            cells = []
            for i, column in enumerate(self.columns):
                value = row[column]
                if i == 0:
                    cells.append(f'<th scope="row">{escape(value)}</th>')
                elif isinstance(value, float) or value is None:
                    cells.append(f'<td class="num">{num(value, places[i])}</td>')
                else:
                    cells.append(f"<td>{escape(value)}</td>")
            focal = ' class="focal-row"' if row.get("period") == "efter start" else ""
            lines.append(f"<tr{focal}>{''.join(cells)}</tr>")
        return Markup("\n".join(lines))


def unit_of(title: str) -> str:
    """The unit Kolada writes at the end of a KPI title ("…, andel (%)" → "andel (%)")."""
    return title.rsplit(",", 1)[-1].strip()[:40] if "," in title else ""


def _values(array: Any) -> tuple[float | None, ...]:
    return tuple(float(v) if math.isfinite(float(v)) else None for v in array)


def genitive(name: str) -> str:
    """Swedish genitive: "Kungsbackas", but "Västerås" and "Borås" stay as they are."""
    return name if name[-1:].lower() in ("s", "x", "z") else f"{name}s"


def synth_figure(result: TrialEvaluation, e: SynthEvaluation) -> TrialFigure:
    fit, name = e.fit, result.municipality_name
    unit = unit_of(result.kpi_title)
    weighted = sum(1 for w in fit.weights if w >= 0.001)
    description = (
        f"{name} och dess syntetiska kontroll, ett vägt genomsnitt av {weighted} jämförbara "
        f"{unit_word(result.kind, plural=True)}, {fit.times[0]}–{fit.times[-1]}. "
        f"Före starten {fit.start} skilde de sig "
        f"i genomsnitt {num(fit.pre_rmspe)} (RMSPE). Efter starten låg {name} "
        f"{average_effect_text(e.average_effect, e.spec.unit or result.unit)}."
    )
    chart = synth_chart(
        fit.times,
        _values(fit.treated_series),
        _values(fit.synthetic_series),
        start=fit.start,
        chart_id="syntes",
        title=f"{result.kpi_title}: {name} och syntetisk kontroll",
        description=description,
        unit=unit,
        treated_label=name,
        show_title=False,
    )
    rows = tuple(
        {
            "ar": str(t),
            "kommun": y,
            "syntetisk": s,
            "skillnad": None if y is None or s is None else y - s,
            "period": "efter start" if t >= fit.start else "före start",
        }
        for t, y, s in zip(
            fit.times, _values(fit.treated_series), _values(fit.synthetic_series), strict=True
        )
    )
    columns = ("ar", "kommun", "syntetisk", "skillnad", "period")
    return TrialFigure(
        "syntes",
        chart,
        columns,
        ("År", name, "Syntetisk kontroll", "Skillnad", "Period"),
        rows,
        columns,
        rows,
    )


def _summary(values: Sequence[float | None]) -> tuple[float | None, float | None, float | None]:
    present = [v for v in values if v is not None]
    if not present:
        return None, None, None
    return min(present), statistics.median(present), max(present)


def gap_figure(result: TrialEvaluation, e: SynthEvaluation) -> TrialFigure:
    fit, name = e.fit, result.municipality_name
    unit = unit_of(result.kpi_title)
    limit = POOR_PLACEBO_FACTOR * fit.pre_rmspe if fit.pre_rmspe > 0 else math.inf
    placebos = [(p.unit, _values(p.gaps)) for p in e.placebos]
    drawn = [pair for pair, p in zip(placebos, e.placebos, strict=True) if p.pre_rmspe <= limit]
    j = len(e.placebos)
    parts = [
        f"Skillnaden mellan {name} och dess syntetiska kontroll per år (tjock linje), och samma "
        f"skillnad för var och en av {j} jämförbara {unit_word(result.kind, plural=True)} "
        "som om de hade gjort försöket "
        "(placebo, tunna grå linjer).",
        f"Efter starten {fit.start} var {genitive(name)} skillnad, räknad mot hur väl kontrollen "
        f"följde före starten, nummer {e.rank} i storlek av {j + 1} "
        f"(p = {num(e.p_value, 2)}).",
    ]
    hidden = len(placebos) - len(drawn)
    if hidden:
        parts.append(
            f"{hidden} placebon som följde sin egen syntetiska kontroll dåligt före starten "
            f"(mer än {num(POOR_PLACEBO_FACTOR, 0)} gånger {genitive(name)} avvikelse) visas inte; "
            "de ingår i p-värdet och i CSV-filen."
        )
    chart = gap_chart(
        fit.times,
        _values(fit.gaps),
        drawn,
        start=fit.start,
        chart_id="skillnad",
        title=f"{result.kpi_title}: skillnad mot syntetisk kontroll, {name} och placebon",
        description=" ".join(parts),
        unit=unit,
        gap_label=name,
        placebo_label=f"Placebo: varje jämförbar {unit_word(result.kind)}",
        show_title=False,
    )
    gaps = _values(fit.gaps)
    rows = []
    csv_rows = []
    for i, t in enumerate(fit.times):
        lowest, median, highest = _summary([values[i] for _, values in placebos])
        rows.append(
            {
                "ar": str(t),
                "skillnad": gaps[i],
                "placebo_lagst": lowest,
                "placebo_median": median,
                "placebo_hogst": highest,
                "period": "efter start" if t >= fit.start else "före start",
            }
        )
        csv_rows.append(
            {"ar": t, "skillnad": gaps[i], **{unit_: values[i] for unit_, values in placebos}}
        )
    columns = ("ar", "skillnad", "placebo_lagst", "placebo_median", "placebo_hogst", "period")
    return TrialFigure(
        "skillnad",
        chart,
        columns,
        (
            "År",
            f"Skillnad, {name}",
            "Placebo, lägst",
            "Placebo, median",
            "Placebo, högst",
            "Period",
        ),
        tuple(rows),
        ("ar", "skillnad", *(unit_ for unit_, _ in placebos)),
        tuple(csv_rows),
    )


def trial_figures(result: TrialEvaluation) -> tuple[TrialFigure, ...]:
    """Both charts of an evaluated trial (none when it was refused)."""
    e = result.evaluation
    if e is None:
        return ()
    return synth_figure(result, e), gap_figure(result, e)
