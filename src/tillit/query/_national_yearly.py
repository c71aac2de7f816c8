"""The national report (``tillit report --riket``, ``/riket/rapport``): per operating area,
the municipalities and regions that perform well — clearly better than their structurally
most similar peers on a key KPI, or clearly improving over the years — "att synliggöra
kommuner och regioner som presterar väl", with the same honesty rules as each unit's page.

A list of the country's best is one claim about thousands of tests, so both lists are
stricter than a unit's page. "Clearly better": the unit's page says so (the gap to its
peers' median over the latest years against the year-to-year noise, Benjamini–Hochberg
per unit), and the gap test also holds when every tested key result of the kind is taken
together (Benjamini–Hochberg once over all of them). "Clearly improving": the trend tests
of every unit and key KPI of a kind taken together the same way (at 5 % each, some
hundreds would improve by chance alone). So every name on the list can be checked on its
page, and at most ``q`` of the names are expected to be there by chance."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date

import numpy as np

from tillit.analyses import JUDGED_TIERS, benjamini_hochberg
from tillit.query._atlas import Loaded
from tillit.query._pages import KeyResult, municipality_overview
from tillit.query._tables import Column, ReportTable, table
from tillit.query._yearly import kolada_url, plain_rows
from tillit.swedish import kpi_unit

__all__ = ["NationalReport", "Standout", "national_report_data", "national_yearly_report"]


@dataclass(frozen=True)
class Standout:
    """One unit on one key KPI: clearly better than its peers, or clearly improving."""

    kind: str  # "K" or "L"
    code: str
    name: str
    area: str
    result: KeyResult
    q_value: float  # the finding's false-discovery adjusted p (better: the page's; trend: national)


@dataclass(frozen=True)
class NationalReport:
    year: int
    made: date
    q: float
    #: Per kind ("K", "L"): units analysed, key KPIs, gap tests and trend tests taken
    #: together.
    counts: dict[str, tuple[int, int, int, int]]
    better: tuple[Standout, ...]
    improving: tuple[Standout, ...]
    tables: tuple[ReportTable, ...] = field(default=())

    @property
    def areas(self) -> tuple[str, ...]:
        found = {s.area for s in (*self.better, *self.improving)}
        return tuple(sorted(found, key=lambda a: (a == "Övrigt", a)))


def national_yearly_report(states: Sequence[Loaded], *, made: date | None = None) -> NationalReport:
    """The national report over the loaded analyses ``states`` (the municipalities' and,
    when given, the regions'), each unit's page's overview read once."""
    if not states:
        raise ValueError("no analyses given")
    better: list[Standout] = []
    improving: list[Standout] = []
    counts: dict[str, tuple[int, int, int, int]] = {}
    for state in states:
        trends: list[tuple[Standout, float]] = []
        gaps: list[tuple[Standout, float]] = []
        codes = list(state.evidence.municipalities)
        for code in codes:
            o = municipality_overview(state, code)
            for area in o.areas:
                for r in area.key_results:
                    standout = Standout(state.kind, code, o.name, area.area, r, math.nan)
                    p = r.comparison.p_value
                    if r.comparison.tier in JUDGED_TIERS and math.isfinite(p):
                        gaps.append((standout, p))
                    p = r.trend.p_value if r.trend.p_value is not None else math.nan
                    if r.trend.polarity.sign and math.isfinite(p):
                        trends.append((standout, p))
        better += _together(gaps, state.q, lambda s: s.result.comparison.tier == "clearly_better")
        improving += _together(trends, state.q, lambda s: s.result.trend.direction == "improving")
        counts[state.kind] = (len(codes), len(state.key_kpis), len(gaps), len(trends))
    order = lambda s: (s.area, s.kind, s.result.title, s.name)  # noqa: E731
    report = NationalReport(
        year=max(s.year for s in states),
        made=made or date.today(),
        q=states[0].q,
        counts=counts,
        better=tuple(sorted(better, key=order)),
        improving=tuple(sorted(improving, key=order)),
    )
    return replace(report, tables=_tables(report))


def _together(
    tests: list[tuple[Standout, float]], q: float, keep: Callable[[Standout], bool]
) -> list[Standout]:
    """The tests Benjamini–Hochberg rejects at ``q`` when taken together, that ``keep``
    (the page's own verdict, or the trend's direction), each with its national q-value."""
    if not tests:
        return []
    rejected, q_values = benjamini_hochberg(np.asarray([p for _, p in tests]), q)
    return [
        replace(s, q_value=float(qv))
        for (s, _), ok, qv in zip(tests, rejected, q_values, strict=True)
        if ok and keep(s)
    ]


def _word(kind: str, plural: bool = False) -> str:
    if kind == "L":
        return "regioner" if plural else "region"
    return "kommuner" if plural else "kommun"


#: Who and on what: the columns both lists begin with.
_WHO = (
    Column("area", "Verksamhetsområde"),
    Column("kind", "Slag"),
    Column("code", "Kod", kind="code"),
    Column("name", "Namn"),
    Column("kpi", "Nyckeltal", kind="code"),
    Column("title", "Nyckeltalets namn"),
    Column("unit", "Enhet"),
)
_GAP = (
    Column("year", "År", kind="year"),
    Column("value", "Värde", kind="number"),
    Column("peer_median", "Median för liknande", kind="number"),
    Column("difference", "Skillnad (medel)", kind="number"),
    Column("low", "95 %-intervall, från", kind="number"),
    Column("high", "95 %-intervall, till", kind="number"),
    Column("q_value", "q-värde (hela landet)", kind="number", decimals=3),
)
_TREND = (
    Column("from", "Från år", kind="year"),
    Column("to", "Till år", kind="year"),
    Column("slope", "Förändring per år", kind="number"),
    Column("slope_low", "95 %-intervall, från", kind="number"),
    Column("slope_high", "95 %-intervall, till", kind="number"),
    Column("q_value", "q-värde (hela landet)", kind="number", decimals=3),
)


def _who(s: Standout) -> tuple[object, ...]:
    title = s.result.title
    return (s.area, _word(s.kind), s.code, s.name, s.result.kpi, title, kpi_unit(title) or None)


def _gap(s: Standout) -> tuple[object, ...]:
    c = s.result.comparison
    return (
        c.year, c.value, c.peer_median, c.mean_difference, c.interval_low, c.interval_high,
        s.q_value,
    )  # fmt: skip


def _trend(s: Standout) -> tuple[object, ...]:
    t = s.result.trend
    return (t.first_year, t.last_year, t.slope, t.slope_low, t.slope_high, s.q_value)


def _tables(report: NationalReport) -> tuple[ReportTable, ...]:
    summary_rows = []
    for area in report.areas:
        for kind in ("K", "L"):
            b = sum(1 for s in report.better if s.area == area and s.kind == kind)
            i = sum(1 for s in report.improving if s.area == area and s.kind == kind)
            if b or i:
                summary_rows.append((area, _word(kind, True), b, i))
    kpis = sorted({s.result.kpi for s in (*report.better, *report.improving)})
    tables = [
        table(
            "sammanfattning",
            f"Som presterar väl {report.year}, per verksamhetsområde",
            [
                Column("area", "Verksamhetsområde"),
                Column("kind", "Slag"),
                Column("better", "Tydligt bättre än liknande (antal)", kind="number", decimals=0),
                Column("improving", "Förbättras tydligt (antal)", kind="number", decimals=0),
            ],
            summary_rows,
            "Källa: Kolada; jämförelser och bedömningar: Tillit.",
            note="Antal par av kommun (region) och nyckeltal.",
        ),
        table(
            "battre",
            "Tydligt bättre än strukturellt lika",
            [*_WHO, *_GAP],
            plain_rows([(*_who(s), *_gap(s)) for s in report.better]),
            f"Källa: Kolada, nyckeltal {', '.join(sorted({s.result.kpi for s in report.better}))}; "
            "jämförelser: Tillit.",
            note=(
                "Skillnaden mot medianen för de strukturellt mest lika, i medel över de senaste "
                "åren, med 95 %-intervall. Tydligt bättre både på sin egen sida (prövat per "
                "kommun, region) och när alla prövningar i landet tas tillsammans "
                f"(Benjamini–Hochberg, högst {round(report.q * 100)} % felaktiga)."
            ),
        ),
        table(
            "forbattras",
            "Förbättras tydligt över åren",
            [*_WHO, *_TREND],
            plain_rows([(*_who(s), *_trend(s)) for s in report.improving]),
            f"Källa: Kolada, nyckeltal "
            f"{', '.join(sorted({s.result.kpi for s in report.improving}))}; trender: Tillit.",
            note=(
                "Mann–Kendalls test och Theil–Sens lutning; Benjamini–Hochberg en gång över alla "
                f"kommuners (regioners) nyckeltal, högst {round(report.q * 100)} % felaktiga."
            ),
        ),
        table(
            "kallor",
            "Nyckeltal och källor",
            [
                Column("kpi", "Nyckeltal", kind="code"),
                Column("title", "Namn"),
                Column("url", "Definition hos Kolada"),
            ],
            [
                (
                    kpi,
                    next(
                        s.result.title
                        for s in (*report.better, *report.improving)
                        if s.result.kpi == kpi
                    ),
                    kolada_url(kpi),
                )
                for kpi in kpis
            ],
            "Källa: Kolada (www.kolada.se).",
        ),
    ]
    return tuple(tables)


def national_report_data(report: NationalReport) -> dict[str, object]:
    """The national report's JSON: year, the honesty level, counts and every table."""
    from tillit.query._data import plain

    return {
        "year": report.year,
        "made": report.made.isoformat(),
        "q": report.q,
        "counts": {
            kind: {"units": n, "key_kpis": k, "gap_tests": g, "trend_tests": t}
            for kind, (n, k, g, t) in report.counts.items()
        },
        "tables": [plain(t.data()) for t in report.tables],
        "source": "Kolada",
    }
