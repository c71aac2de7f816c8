"""The JSON shape of each analysis result, built in one place: what `tillit compare`,
`trend`, `peers` and `learn` print with `--format json` and what the pages' `.json`
twins return (the trial data has its own builder in ``_trial_data``). A surface that
shows a result serialises this data; none converts the dataclasses itself."""

from __future__ import annotations

import dataclasses
import enum
import math
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from tillit.analyses import Comparison, Finding, Learning, PolarityDecision, Trend
from tillit.query._context import PeerSet
from tillit.query._reports import (
    ComparisonReport,
    LearnReport,
    MatrixReport,
    PeersReport,
    TrendReport,
)

if TYPE_CHECKING:
    from tillit.query._pages import KpiOverview, MunicipalityOverview

__all__ = [
    "compare_data",
    "comparison_data",
    "kpi_data",
    "learn_data",
    "learning_data",
    "municipality_data",
    "national_data",
    "national_summary",
    "peers_data",
    "plain",
    "trend_data",
]


def plain(value: Any) -> Any:
    """JSON-ready: dataclasses as dicts, NaN/inf as None, enums as values, mappings with
    tuple keys flattened to "a|b" strings, dates as ISO 8601."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, Mapping):
        return {
            ("|".join(str(p) for p in k) if isinstance(k, tuple) else str(k)): plain(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [plain(v) for v in value]
    if isinstance(value, datetime | date):
        return value.isoformat()
    if hasattr(value, "tolist"):  # numpy scalars and arrays
        return plain(value.tolist())
    return value


#: What "tydligt" (clearly) means, in the same words on every surface.
CLEARLY_MEANS = (
    "Tydligt betyder att skillnaden mot jämförelsekommunernas median, i snitt över de tre "
    "senaste åren, är större än vad kommunens egna svängningar mellan åren kan förklara, "
    "och att den pekar åt samma håll det senaste året. Alla nyckeltal för en kommun prövas "
    "tillsammans: om kommunen inte skiljer sig på något av dem är risken högst q att ens "
    "ett enda flaggas, och bland de flaggade är andelen felaktiga i genomsnitt högst q. "
    "Lär av visar jämförelsekommuner vars nivå är tydligt bättre; kommuner som bara "
    "förbättras tydligt visas som förbättras också (bakgrund, inte skäl att lära av)."
)


def clearly_means(kind: str = "K") -> str:
    """``CLEARLY_MEANS`` for municipalities ("K") or, in the same words, regions ("L")."""
    return CLEARLY_MEANS if kind == "K" else CLEARLY_MEANS.replace("kommun", "region")


def _obj(data: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = plain(data)
    return out


# --- compare --------------------------------------------------------------------------------
def comparison_data(
    c: Comparison,
    *,
    name: str,
    title: str,
    polarity: PolarityDecision | None,
    peer_group: str,
    names: Mapping[str, str],
) -> dict[str, Any]:
    """One comparison: the published value, the peers' median and their difference, the
    shrunken ("skattad") value, median and difference the verdict rests on, the tier,
    ranks, the funnel position and the peers (code, name, value, shrunken value)."""
    return _obj(
        {
            "municipality": c.municipality,
            "municipality_name": name,
            "kpi": c.kpi,
            "title": title,
            "year": c.year,
            "value": c.value,
            "peer_median": c.peer_median,
            "difference": c.difference,
            "shrunk": c.shrunk,
            "shrunk_peer_median": c.shrunk_peer_median,
            "shrunk_difference": c.shrunk_difference,
            "shrink_weight": c.shrink_weight,
            "noise_sd": c.noise_sd,
            "national_median": c.national_median,
            "z": c.z,
            "q_value": c.q_value,
            "years_beyond": c.years_beyond,
            "mean_difference": c.mean_difference,
            "interval": [c.interval_low, c.interval_high],
            "gap_years": c.gap_years,
            "tier": c.tier,
            "tier_label": c.tier_label,
            "why_not_tested": c.why_not_tested,
            "rank": c.rank,
            "count": c.count,
            "percentile": c.percentile,
            "peer_rank": c.peer_rank,
            "peer_count": c.peer_count,
            "comparable": c.comparable,
            "polarity": (polarity.polarity if polarity else c.polarity).value,
            "polarity_source": polarity.source if polarity else None,
            "polarity_explanation": polarity.explanation if polarity else None,
            "peer_group": peer_group,
            "peers": [
                {
                    "municipality": p.municipality,
                    "name": names.get(p.municipality, p.municipality),
                    "value": p.value,
                    "shrunk": p.shrunk,
                }
                for p in c.peers
            ],
            "funnel": c.funnel,
        }
    )


def compare_data(report: ComparisonReport) -> list[dict[str, Any]]:
    """`tillit compare`: one comparison per KPI asked for."""
    return [
        comparison_data(
            c,
            name=report.name,
            title=report.titles.get(c.kpi, c.kpi),
            polarity=report.polarity.get(c.kpi),
            peer_group=report.peers.label,
            names=report.names,
        )
        for c in report.comparisons
    ]


# --- trend ----------------------------------------------------------------------------------
def _trend(t: Trend) -> dict[str, Any]:
    fields = plain(t)
    fields.pop("polarity")
    return dict(fields)


def trend_data(report: TrendReport) -> dict[str, Any]:
    """`tillit trend`: the series and its Theil–Sen / Mann–Kendall trend."""
    return _obj(
        {
            "municipality": report.municipality,
            "municipality_name": report.name,
            "kpi": report.kpi,
            "title": report.title,
            "polarity": report.polarity.polarity,
            "polarity_explanation": report.polarity.explanation,
            "years": report.years,
            "values": report.values,
            "trend": _trend(report.trend),
        }
    )


# --- peers ----------------------------------------------------------------------------------
def _peer_set(group: PeerSet | None, names: Mapping[str, str]) -> dict[str, Any] | None:
    if group is None:
        return None
    return {
        "kind": group.kind,
        "label": group.label,
        "members": [{"municipality": m, "name": names.get(m, m)} for m in group.members],
    }


def peers_data(report: PeersReport) -> dict[str, Any]:
    """`tillit peers` and the peer page: the structural neighbours with what they are most
    alike in, the SKR kommungrupp and Kolada's "Liknande kommuner" group."""
    s = report.structural
    groups = {"kommungrupp": report.kommungrupp, "liknande": report.liknande}
    return _obj(
        {
            "municipality": report.municipality,
            "name": report.name,
            "kind": report.kind,
            "year": s.year,
            "k": s.k,
            "imputed": s.imputed,
            "dropped": s.dropped,
            "peers": [
                {
                    "rank": p.rank,
                    "municipality": p.municipality,
                    "name": report.names.get(p.municipality, p.municipality),
                    "distance": p.distance,
                    "similar_in": [t.label for t in p.traits],
                    "traits": p.traits,
                    **{
                        f"in_{kind}": group is not None and p.municipality in group.members
                        for kind, group in groups.items()
                    },
                }
                for p in s.peers
            ],
            **{kind: _peer_set(group, report.names) for kind, group in groups.items()},
        }
    )


# --- learn ----------------------------------------------------------------------------------
def _finding(f: Finding, titles: Mapping[str, str], names: Mapping[str, str]) -> dict[str, Any]:
    return _obj(
        {
            "kpi": f.kpi,
            "title": titles.get(f.kpi, f.kpi),
            "area": f.area,
            "year": f.year,
            "polarity": f.polarity,
            "value": f.value,
            "peer_median": f.peer_median,
            "difference": f.difference,
            "shrunk": f.shrunk,
            "shrunk_peer_median": f.shrunk_peer_median,
            "shrunk_difference": f.shrunk_difference,
            "z": f.z,
            "q_value": f.q_value,
            "years_behind": f.years_behind,
            "p_value": f.p_value,
            "partners": [
                {"name": names.get(p.municipality, p.municipality), **plain(p)} for p in f.partners
            ],
            "also_improving": [
                {"name": names.get(p.municipality, p.municipality), **plain(p)}
                for p in f.also_improving
            ],
        }
    )


def learning_data(
    learning: Learning, titles: Mapping[str, str], names: Mapping[str, str], kind: str = "K"
) -> dict[str, Any]:
    """Where a municipality (or, ``kind`` "L", a region) is clearly behind (and whom to
    learn from), where it is clearly ahead, and the counts per operating area."""
    return _obj(
        {
            "tested": learning.tested,
            "without_polarity": learning.without_polarity,
            "size_dependent": learning.size_dependent,
            "excluded": learning.excluded,
            "noise_misfit": [
                {"kpi": kpi, "title": titles.get(kpi, kpi), "explanation": why}
                for kpi, why in learning.noise_misfit
            ],
            "q": learning.q,
            "what_clearly_means": clearly_means(kind),
            "findings": [_finding(f, titles, names) for f in learning.findings],
            "ahead": learning.ahead,
            "areas": learning.areas,
        }
    )


def learn_data(report: LearnReport) -> dict[str, Any]:
    """`tillit learn`: the peers and the learning result (the municipality page's
    ``peers`` and ``learning``, for the default structural peers)."""
    return {
        "municipality": report.municipality,
        "name": report.name,
        "peers": _peer_set(report.peers, report.names),
        "learning": learning_data(report.learning, report.titles, report.names, report.kind),
    }


def national_data(report: MatrixReport) -> list[dict[str, Any]]:
    """`tillit learn --alla`: one row per municipality × KPI where it is clearly behind."""
    rows: list[dict[str, Any]] = plain(report.rows())
    return rows


def national_summary(rows: Sequence[Mapping[str, Any]], *, areas: int = 3) -> list[dict[str, Any]]:
    """Per municipality of `national_data` rows: its name, the KPIs it is clearly behind on,
    how many of them have a partner to learn from, and its ``areas`` operating areas with
    most such KPIs, most first (ties by name); municipalities with most KPIs first."""
    by_municipality: dict[str, list[Mapping[str, Any]]] = {}
    for r in rows:
        by_municipality.setdefault(r["municipality"], []).append(r)
    out: list[dict[str, Any]] = []
    for code, found in by_municipality.items():
        counts: dict[str, int] = {}
        for r in found:
            counts[r["area"]] = counts.get(r["area"], 0) + 1
        out.append(
            {
                "municipality": code,
                "name": found[0].get("municipality_name") or code,
                "behind": len(found),
                "with_partners": sum(bool(r["partners"]) for r in found),
                "areas": sorted(counts, key=lambda a: (-counts[a], a))[:areas],
                "area_counts": counts,
            }
        )
    out.sort(key=lambda x: (-x["behind"], x["name"]))
    return out


# --- the pages --------------------------------------------------------------------------------
def municipality_data(o: MunicipalityOverview) -> dict[str, Any]:
    """The municipality or region page: key results (comparison and trend), learning,
    examples; a municipality's region and a region's municipalities (its county's)."""
    return {
        "municipality": o.municipality,
        "name": o.name,
        "kind": o.kind,
        "region": (
            {"municipality": o.region, "name": o.names.get(o.region, o.region)}
            if o.region
            else None
        ),
        "municipalities": [{"municipality": m, "name": o.names.get(m, m)} for m in o.members],
        "population": plain(o.population),
        "structure_year": o.structure_year,
        "kommungrupp": o.kommungrupp,
        "peers": _peer_set(o.peers, o.names),
        "clearly_better": o.clearly_better,
        "clearly_worse": o.clearly_worse,
        "areas": [
            {
                "area": a.area,
                "summary": plain(a.summary),
                "key_results": [
                    {
                        "kpi": r.kpi,
                        "title": r.title,
                        "comparison": comparison_data(
                            r.comparison,
                            name=o.name,
                            title=r.title,
                            polarity=o.polarity.get(r.kpi),
                            peer_group=o.peers.label,
                            names=o.names,
                        ),
                        "trend": _trend(r.trend),
                        "years": list(r.years),
                        "values": plain(r.values),
                    }
                    for r in a.key_results
                ],
                "findings": [f.kpi for f in a.findings],
            }
            for a in o.areas
        ],
        "learning": learning_data(o.learning, o.titles, o.names, o.kind),
        "q": o.q,
        "examples": plain(o.examples),
        "linked_examples": plain(o.linked_examples),
    }


def kpi_data(o: KpiOverview) -> dict[str, Any]:
    """The KPI page: the distribution, the funnel, the series and the comparison."""
    data: dict[str, Any] = plain(o)
    data["peers"] = _peer_set(o.peers, o.names)
    data["trend"] = _trend(o.trend) if o.trend else None
    data["comparison"] = (
        comparison_data(
            o.comparison,
            name=o.name or "",
            title=o.title,
            polarity=o.polarity,
            peer_group=o.peers.label if o.peers else "",
            names=o.names,
        )
        if o.comparison
        else None
    )
    return data
