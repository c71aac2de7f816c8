"""The yearly report's tables and its summary sentences (see ``_yearly.py``): each table
once, with its columns' units and a source line that names the Kolada KPIs and years every
number comes from."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

from tillit.analyses import Comparison
from tillit.query._pages import KeyResult
from tillit.query._tables import Column, ReportTable, table
from tillit.query._yearly import (
    YearlyReport,
    clear_trend,
    kolada_url,
    plain_rows,
    tested,
)
from tillit.swedish import genitive, number

__all__ = ["TREND_WORDS", "area_key", "build_tables", "summary_sentences"]

TREND_WORDS = {
    "improving": "förbättras tydligt",
    "worsening": "försämras tydligt",
    "increasing": "ökar tydligt",
    "decreasing": "minskar tydligt",
    "no_clear_change": "ingen tydlig förändring",
    "too_short": "för kort serie",
}

#: The shortest words for a tier in a table cell (the page's labels are sentences).
TIER_WORDS = {
    "clearly_better": "tydligt bättre",
    "clearly_worse": "tydligt sämre",
    "clearly_higher": "tydligt högre",
    "clearly_lower": "tydligt lägre",
    "in_line": "i nivå",
}


def area_key(index: int) -> str:
    """The table key (and sheet name) of the report's ``index``-th operating area (1-based)."""
    return f"omrade_{index:02d}"


def _source(kpis: Iterable[str], years: Iterable[int] | None = None, *, tillit: bool = True) -> str:
    ids = sorted(set(kpis))
    text = "Källa: Kolada"
    if ids:
        text += f", nyckeltal {', '.join(ids)}"
    spans = sorted({y for y in years or () if y})
    if spans:
        text += f"; år {spans[0]}" if len(spans) == 1 else f"; år {spans[0]}–{spans[-1]}"
    if tillit:
        text += "; jämförelser och bedömningar: Tillit"
    return text + "."


def _tier(c: Comparison) -> str:
    return TIER_WORDS.get(c.tier, c.tier_label)


def _latest(result: KeyResult) -> tuple[int | None, float | None]:
    for year, value in zip(reversed(result.years), reversed(result.values), strict=True):
        if value is not None:
            return year, value
    return None, None


def build_tables(report: YearlyReport) -> tuple[ReportTable, ...]:
    """Every table of the report, in the order of its sections."""
    tables = [_summary_table(report)]
    if report.goals:
        tables.append(_goals_table(report))
    for i, area in enumerate(report.overview.areas, start=1):
        if area.key_results:
            tables.append(_area_table(report, i))
    tables.append(_trend_table(report))
    if report.overview.learning.findings:
        tables.append(_learn_table(report))
    if report.own_examples or report.partner_examples:
        tables.append(_examples_table(report))
    if report.trials:
        tables.append(_trials_table(report))
    tables.append(_sources_table(report))
    return tuple(tables)


def _key_results(report: YearlyReport) -> list[KeyResult]:
    return [r for a in report.overview.areas for r in a.key_results]


def _summary_table(report: YearlyReport) -> ReportTable:
    results = _key_results(report)
    tiers = Counter(r.comparison.tier for r in results)
    trends = Counter(r.trend.direction for r in results)
    goals = Counter(g.summary.verdict_label for g in report.goals)
    rows: list[tuple[str, Any]] = [
        ("Nyckeltal i översikten", len(results)),
        (f"… tydligt bättre än {report.peers_word}", tiers["clearly_better"]),
        (f"… tydligt sämre än {report.peers_word}", tiers["clearly_worse"]),
        (f"… i nivå med {report.peers_word}", tiers["in_line"]),
        ("… som inte kan prövas", sum(1 for r in results if not tested(r))),
        ("… som förbättras tydligt över åren", trends["improving"]),
        ("… som försämras tydligt över åren", trends["worsening"]),
        ("… med för kort serie för att se en utveckling", trends["too_short"]),
        (
            f"Nyckeltal där {report.name} ligger tydligt efter (alla som prövas)",
            len(report.overview.learning.findings),
        ),
        ("Mål", len(report.goals)),
        *((f"… {label}", n) for label, n in sorted(goals.items())),
        ("Försök", len(report.trials)),
        ("Egna publicerade goda exempel", len(report.own_examples)),
    ]
    return table(
        "sammanfattning",
        f"Sammanfattning: {report.name} {report.year}",
        [Column("what", "Vad"), Column("count", "Antal", kind="number", decimals=0)],
        rows,
        _source([r.kpi for r in results], [report.year]),
    )


def _goals_table(report: YearlyReport) -> ReportTable:
    rows = []
    for g in report.goals:
        for a in g.indicators:
            ind, j = a.indicator, a.judgement
            years, values = a.series.years, a.series.values
            rows.append(
                (
                    g.goal.title,
                    g.summary.verdict_label,
                    ind.kpi,
                    a.title,
                    a.series.unit or None,
                    ind.baseline_year,
                    ind.baseline_value,
                    ind.target_year,
                    ind.target_value,
                    years[-1] if years else None,
                    values[-1] if values else None,
                    j.verdict_label,
                    100 * j.probability_met if math.isfinite(j.probability_met) else None,
                    j.reason,
                )
            )
    latest = [y for g in report.goals for a in g.indicators for y in a.series.years[-1:]]
    return table(
        "mal",
        f"Mål och hur de går: {report.name}",
        [
            Column("goal", "Mål"),
            Column("goal_verdict", "Målets bedömning"),
            Column("kpi", "Nyckeltal", kind="code"),
            Column("title", "Nyckeltalets namn"),
            Column("unit", "Enhet"),
            Column("baseline_year", "Utgångsår", kind="year"),
            Column("baseline_value", "Utgångsvärde", kind="number"),
            Column("target_year", "Målår", kind="year"),
            Column("target_value", "Målvärde", kind="number"),
            Column("latest_year", "Senaste år", kind="year"),
            Column("latest_value", "Senaste värde", kind="number"),
            Column("verdict", "Bedömning"),
            Column("probability", "Sannolikhet att nås", unit="%", kind="percent", decimals=0),
            Column("reason", "Skäl"),
        ],
        plain_rows(rows),
        _source([a.indicator.kpi for g in report.goals for a in g.indicators], latest),
        note="Ett mål bedöms efter sin sämsta indikator, så att ingen dålig döljs.",
    )


def _area_table(report: YearlyReport, index: int) -> ReportTable:
    area = report.overview.areas[index - 1]
    rows = []
    for r in area.key_results:
        c = r.comparison
        # A gap is shown only where it was judged: a KPI not tested (its noise model does
        # not fit, too few peers…) has no interval worth reading.
        judged = c.tier in TIER_WORDS
        rows.append(
            (
                r.kpi,
                r.title,
                report.units.get(r.kpi) or None,
                c.year,
                c.value,
                c.peer_median,
                c.mean_difference if judged else None,
                c.interval_low if judged else None,
                c.interval_high if judged else None,
                _tier(c),
                TREND_WORDS.get(r.trend.direction, r.trend.direction),
            )
        )
    return table(
        area_key(index),
        f"{area.area}: {report.name} mot {report.peers_word}",
        [
            Column("kpi", "Nyckeltal", kind="code"),
            Column("title", "Namn"),
            Column("unit", "Enhet"),
            Column("year", "År", kind="year"),
            Column("value", "Värde", kind="number"),
            Column("peer_median", f"Median för {report.peers_word}", kind="number"),
            Column("difference", "Skillnad (medel)", kind="number"),
            Column("low", "95 %-intervall, från", kind="number"),
            Column("high", "95 %-intervall, till", kind="number"),
            Column("verdict", "Bedömning"),
            Column("trend", "Utveckling över åren"),
        ],
        plain_rows(rows),
        _source([r.kpi for r in area.key_results], [r.comparison.year for r in area.key_results]),
        note=(
            f"Skillnad: {genitive(report.name)} värde minus medianen för "
            f"{report.overview.peers.label}, i medel över de senaste (upp till tre) åren med "
            "värden, med ett ungefärligt 95 %-intervall för årsbruset. "
            '"Tydligt" kräver mer än att intervallet inte omfattar noll: många nyckeltal prövas '
            "samtidigt, och bara den del av skillnaden som går utöver nyckeltalets minsta "
            "betydelsefulla skillnad räknas. Nyckeltal som inte kan prövas har ingen skillnad."
        ),
    )


def _trend_table(report: YearlyReport) -> ReportTable:
    results = [r for r in _key_results(report) if clear_trend(r)]
    results.sort(key=lambda r: (r.trend.direction != "improving", r.title))
    rows = [
        (
            r.kpi,
            r.title,
            _area_of(report, r.kpi),
            report.units.get(r.kpi) or None,
            r.trend.first_year,
            r.trend.last_year,
            r.trend.slope,
            r.trend.slope_low,
            r.trend.slope_high,
            TREND_WORDS[r.trend.direction],
        )
        for r in results
    ]
    years = [y for r in results for y in (r.trend.first_year, r.trend.last_year) if y]
    return table(
        "utveckling",
        f"Det som förbättras eller försämras mer än bruset: {report.name}",
        [
            Column("kpi", "Nyckeltal", kind="code"),
            Column("title", "Namn"),
            Column("area", "Verksamhetsområde"),
            Column("unit", "Enhet"),
            Column("from", "Från år", kind="year"),
            Column("to", "Till år", kind="year"),
            Column("slope", "Förändring per år", kind="number"),
            Column("slope_low", "95 %-intervall, från", kind="number"),
            Column("slope_high", "95 %-intervall, till", kind="number"),
            Column("direction", "Riktning"),
        ],
        plain_rows(rows),
        _source([r.kpi for r in results], years),
        note=(
            "Nyckeltalen i översikten vars utveckling över åren är tydlig "
            "(Mann–Kendall, 5 %); förändringen per år är Theil–Sens lutning."
            if rows
            else "Inget nyckeltal i översikten förbättras eller försämras tydligt."
        ),
    )


def _area_of(report: YearlyReport, kpi: str) -> str:
    for a in report.overview.areas:
        if any(r.kpi == kpi for r in a.key_results) or any(f.kpi == kpi for f in a.findings):
            return a.area
    return ""


def _learn_table(report: YearlyReport) -> ReportTable:
    o = report.overview
    rows = []
    for f in o.learning.findings:
        for p in f.partners or (None,):
            examples = o.learn_from(p.municipality, f)[0] if p is not None else 0
            rows.append(
                (
                    f.kpi,
                    o.titles.get(f.kpi, f.kpi),
                    f.area,
                    report.units.get(f.kpi) or None,
                    f.value,
                    f.peer_median,
                    o.names.get(p.municipality, p.municipality) if p else None,
                    p.municipality if p else None,
                    p.value if p else None,
                    examples if p else None,
                )
            )
    return table(
        "lar_av",
        f"Vem {report.name} kan lära av",
        [
            Column("kpi", "Nyckeltal", kind="code"),
            Column("title", "Namn"),
            Column("area", "Verksamhetsområde"),
            Column("unit", "Enhet"),
            Column("value", f"{genitive(report.name)} värde", kind="number"),
            Column("peer_median", f"Median för {report.peers_word}", kind="number"),
            Column("partner", "Lär av"),
            Column("partner_code", "Kod", kind="code"),
            Column("partner_value", "Deras värde", kind="number"),
            Column("examples", "Deras goda exempel", kind="number", decimals=0),
        ],
        plain_rows(rows),
        _source([f.kpi for f in o.learning.findings], [f.year for f in o.learning.findings]),
        note=(
            f"Nyckeltal där {report.name} ligger tydligt efter {o.peers.label}, och de av dem "
            "som ligger tydligt bättre till. Goda exempel: publicerade i Tillits bank inom "
            "nyckeltalets verksamhetsområde eller kopplade till nyckeltalet."
        ),
    )


def _examples_table(report: YearlyReport) -> ReportTable:
    rows = []
    for e in report.own_examples:
        rows.append((report.name, e.title, e.operating_area, _period(e), f"/exempel/{e.id}"))
    for code, examples in report.partner_examples.items():
        for e in examples:
            name = report.overview.names.get(code, e.organisation_name)
            rows.append((name, e.title, e.operating_area, _period(e), f"/exempel/{e.id}"))
    return table(
        "exempel",
        f"Goda exempel från {report.name} och dess lärpartner",
        [
            Column("organisation", "Organisation"),
            Column("title", "Exempel"),
            Column("area", "Verksamhetsområde"),
            Column("period", "Period"),
            Column("link", "Adress i Tillit"),
        ],
        rows,
        "Källa: Tillits bank av goda exempel (publicerade exempel).",
    )


def _period(example: Any) -> str | None:
    start, end = example.period_start, example.period_end
    if start and end and end != start:
        return f"{start}–{end}"
    return str(start or end) if (start or end) else None


def _trials_table(report: YearlyReport) -> ReportTable:
    rows = []
    for t in report.trials:
        for kpi, ev in t.evaluations:
            verdict, effect, p, note = _evaluation_cells(ev)
            rows.append(
                (
                    t.trial.title,
                    t.trial.start_year,
                    kpi,
                    report.units.get(kpi) or None,
                    "ja" if t.trial.pre_registered else "nej",
                    verdict,
                    effect,
                    p,
                    note,
                    f"/forsok/{t.trial.id}",
                )
            )
    return table(
        "forsok",
        f"Försök i {report.name} och deras utvärderingar",
        [
            Column("trial", "Försök"),
            Column("start", "Startår", kind="year"),
            Column("kpi", "Nyckeltal", kind="code"),
            Column("unit", "Enhet"),
            Column("pre_registered", "Förregistrerat"),
            Column("verdict", "Bedömning"),
            Column(
                "effect",
                "Effekt: i genomsnitt per år efter starten jämfört med den syntetiska kontrollen",
                kind="number",
            ),
            Column(
                "p_value",
                "p-värde (placebo, Holm-justerat över försökets nyckeltal)",
                kind="number",
                decimals=3,
            ),
            Column("note", "Svagheter och skäl"),
            Column("link", "Adress i Tillit"),
        ],
        plain_rows(rows),
        _source([k for t in report.trials for k, _ in t.evaluations]),
        note="Utvärderade med en syntetisk kontroll av strukturellt lika enheter. Effekten är "
        "den genomsnittliga skillnaden per år efter starten mot den syntetiska kontrollen, i "
        "nyckeltalets enhet (procentenheter för en andel), inte en ökning per år. Ett försöks "
        "nyckeltal bedöms tillsammans: p-värdena är justerade med Holms metod.",
    )


def _evaluation_cells(ev: Any) -> tuple[str, float | None, float | None, str | None]:
    if ev is None:
        return "inte utvärderat än", None, None, "Utvärderingen visas på försökets sida."
    if ev.evaluation is None:
        return "kan inte utvärderas", None, None, ev.refusal
    e = ev.evaluation
    return e.verdict.label, e.average_effect, e.judged_p_value, e.verdict.explanation


def _sources_table(report: YearlyReport) -> ReportTable:
    o = report.overview
    used: dict[str, set[int]] = {}
    for a in o.areas:
        for r in a.key_results:
            used.setdefault(r.kpi, set()).update(
                y for y, v in zip(r.years, r.values, strict=True) if v is not None
            )
        for f in a.findings:
            used.setdefault(f.kpi, set()).add(f.year)
    for g in report.goals:
        for i in g.indicators:
            used.setdefault(i.indicator.kpi, set()).update(i.series.years)
    for t in report.trials:
        for kpi, _ in t.evaluations:
            used.setdefault(kpi, set())
    rows = [
        (
            kpi,
            o.titles.get(kpi) or _goal_title(report, kpi),
            _area_of(report, kpi) or None,
            report.units.get(kpi) or None,
            min(years) if years else None,
            max(years) if years else None,
            kolada_url(kpi),
        )
        for kpi, years in sorted(used.items())
    ]
    return table(
        "kallor",
        "Nyckeltal och källor",
        [
            Column("kpi", "Nyckeltal", kind="code"),
            Column("title", "Namn"),
            Column("area", "Verksamhetsområde"),
            Column("unit", "Enhet"),
            Column("first", "Första år", kind="year"),
            Column("last", "Senaste år", kind="year"),
            Column("url", "Definition hos Kolada"),
        ],
        rows,
        "Källa: Kolada (www.kolada.se), RKA:s öppna databas för kommuner och regioner.",
    )


def _goal_title(report: YearlyReport, kpi: str) -> str:
    for g in report.goals:
        for a in g.indicators:
            if a.indicator.kpi == kpi:
                return a.title
    return kpi


def _titles(results: Sequence[KeyResult], limit: int = 3) -> str:
    names = [r.title.split(",")[0] for r in results[:limit]]
    if len(names) <= 1:
        return "".join(names)
    return ", ".join(names[:-1]) + " och " + names[-1]


def summary_sentences(report: YearlyReport) -> tuple[str, ...]:
    """The one-page summary, sentence by sentence: how the key results stand against
    similar units, what changes beyond noise, the goals, whom to learn from, the trials."""
    o = report.overview
    results = _key_results(report)
    better = sorted(
        (r for r in results if r.comparison.tier == "clearly_better"), key=lambda r: -r.comparison.z
    )
    worse = sorted(
        (r for r in results if r.comparison.tier == "clearly_worse"), key=lambda r: r.comparison.z
    )
    out = [
        f"{report.name} jämförs med {o.peers.label}. Av {number(len(results))} nyckeltal i "
        f"översikten är {report.name} tydligt bättre på {number(len(better))} och tydligt "
        f"sämre på {number(len(worse))}; de övriga ligger i nivå med dem eller kan inte prövas."
    ]
    if better:
        out.append(f"Tydligt bättre: {_titles(better)}.")
    if worse:
        out.append(f"Tydligt sämre: {_titles(worse)}.")
    improving = [r for r in results if r.trend.direction == "improving"]
    worsening = [r for r in results if r.trend.direction == "worsening"]
    short = sum(1 for r in results if r.trend.direction == "too_short")
    sentence = (
        f"Över åren förbättras {number(len(improving))} av nyckeltalen tydligt och "
        f"{number(len(worsening))} försämras tydligt"
    )
    if short:
        sentence += f"; för {number(short)} är serien för kort för att säga något"
    out.append(sentence + "; resten rör sig inte mer än bruset.")
    if report.goals:
        counts = Counter(g.summary.verdict_label for g in report.goals)
        parts = ", ".join(f"{number(n)} {label}" for label, n in counts.most_common())
        goals = "ett mål" if len(report.goals) == 1 else f"{number(len(report.goals))} mål"
        out.append(f"{report.name} har {goals} med nyckeltal: {parts}.")
    else:
        out.append(f"{report.name} har inga mål med nyckeltal i Tillit.")
    partners = o.top_partners(3)
    if o.learning.findings and partners:
        names = [o.names.get(c, c) for c, _ in partners]
        tested_all = sum(a.tested for a in o.learning.areas)
        out.append(
            f"Bland alla {number(tested_all)} nyckeltal som prövas (inte bara översiktens) ligger "
            f"{report.name} tydligt efter på {number(len(o.learning.findings))}; mest att lära "
            f"finns hos {_join(names)}."
        )
    if report.trials:
        done = sum(
            1 for t in report.trials for _, ev in t.evaluations if ev is not None and ev.evaluation
        )
        trials = (
            "Ett försök är registrerat"
            if len(report.trials) == 1
            else (f"{number(len(report.trials))} försök är registrerade")
        )
        evaluations = "en utvärdering" if done == 1 else f"{number(done)} utvärderingar"
        out.append(f"{trials}; {evaluations} finns i rapporten.")
    return tuple(out)


def _join(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " och " + names[-1]
