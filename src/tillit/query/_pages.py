"""One query function per web page: a municipality's overview, a KPI's distribution,
funnel and series, and who is similar. Each reads a loaded :class:`Atlas` state and
returns a dataclass; the HTML page and its JSON twin both render that one result."""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np

from tillit.analyses import (
    AreaSummary,
    Comparison,
    Finding,
    FittedFunnel,
    Learning,
    PolarityDecision,
    Trend,
    compare,
    fit_funnel,
    resolve_polarity,
    trend,
)
from tillit.errors import InvalidInputError, NoDataError, NotFoundError
from tillit.query._atlas import Loaded, nan_to_none
from tillit.query._context import (
    PeerSet,
    kpi_fits,
    municipalities_in,
    region_of,
    unit_word,
    untestable,
    untestable_why,
)
from tillit.query._reports import PeersReport, check_kpi_kind

__all__ = [
    "AreaOverview",
    "FunnelView",
    "KeyResult",
    "KpiOverview",
    "KpiPoint",
    "MunicipalityOverview",
    "kpi_overview",
    "municipality_names",
    "municipality_overview",
    "partner_examples",
    "peers_overview",
    "resolve_code",
]

#: Levels of the funnel's control limits, as drawn.
FUNNEL_LEVELS = (0.95, 0.998)


def resolve_code(state: Loaded, text: str) -> str:
    """The code of a municipality (or, for the regions' state, a region) from its code or
    name."""
    row = state.store.municipality(text)
    if row.get("type") != state.kind or row["id"] not in state.context.municipalities:
        if state.kind == "L":
            raise NotFoundError(
                f"{row['title']} är ingen region i underlaget.",
                hint="Välj en region, t.ex. Region Halland (0013).",
            )
        raise NotFoundError(
            f"{row['title']} är ingen kommun i underlaget.",
            hint="Välj en kommun, t.ex. Kungsbacka (1384), eller en region på /region.",
        )
    return str(row["id"])


# --- the municipality page ---------------------------------------------------------------
@dataclass(frozen=True)
class KeyResult:
    """One key KPI for the municipality: how it compares with its peers, and its trend
    over the years the analyses read."""

    kpi: str
    title: str
    comparison: Comparison
    trend: Trend
    years: tuple[int, ...]
    values: tuple[float | None, ...]


@dataclass(frozen=True)
class AreaOverview:
    """One operating area: the key results, what is clearly behind (with whom to learn
    from), and the counts over all testable KPIs of the area."""

    area: str
    summary: AreaSummary | None
    key_results: tuple[KeyResult, ...]
    findings: tuple[Finding, ...]


@dataclass(frozen=True)
class MunicipalityOverview:
    municipality: str
    name: str
    population: float | None
    structure_year: int
    kommungrupp: str | None
    peers: PeerSet
    areas: tuple[AreaOverview, ...]
    learning: Learning
    titles: Mapping[str, str]
    names: Mapping[str, str]
    polarity: Mapping[str, PolarityDecision]
    q: float
    #: Published good examples per (municipality code, operating area or None); empty
    #: when no bank was asked.
    examples: Mapping[tuple[str, str | None], int]
    #: Published good examples per (municipality code, KPI) linked to that KPI.
    linked_examples: Mapping[tuple[str, str], int] = field(default_factory=dict)
    #: "K": a municipality among municipalities; "L": a region among regions.
    kind: str = "K"
    #: A municipality's region (its county's, e.g. "0013" for Kungsbacka), when the store
    #: has it; None for a region.
    region: str | None = None
    #: A region's municipalities (those of its county), by code; empty for a municipality.
    members: tuple[str, ...] = ()

    @property
    def clearly_better(self) -> int:
        return sum(r.comparison.tier == "clearly_better" for a in self.areas for r in a.key_results)

    @property
    def clearly_worse(self) -> int:
        return sum(r.comparison.tier == "clearly_worse" for a in self.areas for r in a.key_results)

    def areas_behind(self, limit: int = 5) -> list[tuple[int, AreaOverview]]:
        """(anchor number, area) of the areas with most findings, most first."""
        ranked = sorted(
            ((i + 1, a) for i, a in enumerate(self.areas) if a.findings),
            key=lambda x: (-len(x[1].findings), x[1].area),
        )
        return ranked[:limit]

    def top_partners(self, limit: int = 5) -> list[tuple[str, int]]:
        """The learning partners of most findings: (code, number of KPIs), most first."""
        counts: dict[str, int] = {}
        for f in self.learning.findings:
            for p in f.partners:
                counts[p.municipality] = counts.get(p.municipality, 0) + 1
        return sorted(counts.items(), key=lambda x: (-x[1], self.names.get(x[0], x[0])))[:limit]

    def examples_of(self, municipality: str, area: str | None = None) -> int:
        """Published examples of a municipality, in one area or in all."""
        if area is None:
            return sum(n for (code, _a), n in self.examples.items() if code == municipality)
        return self.examples.get((municipality, area), 0)

    def examples_linked(self, municipality: str, kpi: str) -> int:
        """Published good examples of a municipality linked to a KPI."""
        return self.linked_examples.get((municipality, kpi), 0)

    def learn_from(self, municipality: str, finding: Finding) -> tuple[int, str | None]:
        """A learning partner's good examples for a finding (see ``partner_examples``)."""
        return partner_examples(self.examples, self.linked_examples, municipality, finding)


def partner_examples(
    examples: Mapping[tuple[str, str | None], int],
    linked: Mapping[tuple[str, str], int],
    municipality: str,
    finding: Finding,
) -> tuple[int, str | None]:
    """A learning partner's good examples for a finding, from the bank's counts per (code,
    area) and per (code, KPI): (how many, "area" when they are in the KPI's operating area,
    or "kpi" when they are linked to the KPI). (0, None): none yet. Examples of other areas
    are never offered: they are no help here."""
    in_area = examples.get((municipality, finding.area), 0)
    if in_area:
        return in_area, "area"
    n = linked.get((municipality, finding.kpi), 0)
    return (n, "kpi") if n else (0, None)


def municipality_overview(
    state: Loaded,
    municipality: str,
    *,
    example_counts: Mapping[tuple[str, str | None], int] | None = None,
    linked_counts: Mapping[tuple[str, str], int] | None = None,
) -> MunicipalityOverview:
    """Key results against the structural peers with tiers and trends, and "lär av" per
    area (the national matrix's findings for this municipality). ``example_counts`` are
    the bank's published good examples per (code, area) and ``linked_counts`` those linked
    to a KPI per (code, KPI), to link partners to their examples."""
    code = resolve_code(state, municipality)
    base = state.memo(("municipality", code), lambda: _overview(state, code))
    if example_counts is None and linked_counts is None:
        return base
    return replace(
        base, examples=dict(example_counts or {}), linked_examples=dict(linked_counts or {})
    )


def _overview(state: Loaded, code: str) -> MunicipalityOverview:
    ctx, evidence = state.context, state.evidence
    peers = state.structural_peers(code)
    learning = replace(
        state.matrix.learning(state.position(code)),
        without_polarity=ctx.excluded["without_polarity"],
        size_dependent=ctx.excluded["size_dependent"],
        excluded=ctx.exclusions,
    )
    comparisons = compare(
        evidence,
        code,
        peers.members,
        kpis=list(state.key_kpis),
        denominators=state.denominators,
        q=state.q,
    )
    comparisons = _in_words(comparisons, ctx.kind)
    panel = ctx.panel
    i = panel.municipalities.index(code)
    by_area: dict[str, list[KeyResult]] = {}
    for c in comparisons:
        series = panel.values[panel.kpi_index(c.kpi), i, :]
        ok = ~np.isnan(series)
        years = tuple(y for y, keep in zip(panel.years, ok, strict=True) if keep)
        values = tuple(float(v) for v in series[ok])
        result = KeyResult(
            kpi=c.kpi,
            title=ctx.title(c.kpi),
            comparison=c,
            trend=trend(years, values, polarity=c.polarity),
            years=panel.years,
            values=nan_to_none(series),
        )
        by_area.setdefault(ctx.area(c.kpi), []).append(result)
    findings: dict[str, list[Finding]] = {}
    for f in learning.findings:
        findings.setdefault(f.area, []).append(f)
    summaries = {a.area: a for a in learning.areas}
    order = sorted(set(by_area) | set(findings), key=lambda a: (a == "Övrigt", a))
    areas = tuple(
        AreaOverview(
            area=a,
            summary=summaries.get(a),
            key_results=tuple(
                sorted(by_area.get(a, []), key=lambda r: (_TIER_ORDER.get(r.comparison.tier, 9),))
            ),
            findings=tuple(findings.get(a, [])),
        )
        for a in order
    )
    kpis = (
        {f.kpi for f in learning.findings}
        | set(learning.ahead)
        | set(state.key_kpis)
        | {kpi for kpi, _ in learning.noise_misfit}
    )
    population = float(ctx.population()[ctx.structure.municipalities.index(code)])
    kommungrupp: str | None = None
    if ctx.kind == "K":
        try:
            kommungrupp = ctx.peer_set(code, "kommungrupp").label
        except NoDataError:
            kommungrupp = None
    region = region_of(code) if ctx.kind == "K" else None
    if region not in ctx.names:
        region = None
    members = municipalities_in(state.store, code) if ctx.kind == "L" else ()
    return MunicipalityOverview(
        municipality=code,
        name=ctx.names.get(code, code),
        population=None if math.isnan(population) else population,
        structure_year=ctx.structure.year,
        kommungrupp=kommungrupp,
        peers=peers,
        areas=areas,
        learning=learning,
        titles={kpi: ctx.title(kpi) for kpi in kpis},
        names=_names(
            ctx.names,
            [code, *peers.members],
            [p.municipality for f in learning.findings for p in (*f.partners, *f.also_improving)],
            [region] if region else [],
            members,
        ),
        polarity={kpi: ctx.polarity[kpi] for kpi in kpis if kpi in ctx.polarity},
        q=state.q,
        examples={},
        kind=ctx.kind,
        region=region,
        members=members,
    )


def _in_words(comparisons: Sequence[Comparison], kind: str) -> tuple[Comparison, ...]:
    """The comparisons with labels that name their kind ("jämförelseregionerna")."""
    if kind == "K":
        return tuple(comparisons)
    return tuple(replace(c, unit=unit_word(kind)) for c in comparisons)


_TIER_ORDER = {
    "clearly_worse": 0,
    "clearly_better": 1,
    "clearly_lower": 2,
    "clearly_higher": 2,
    "in_line": 3,
}


# --- the KPI page ------------------------------------------------------------------------
@dataclass(frozen=True)
class KpiPoint:
    municipality: str
    name: str
    value: float
    role: Literal["focal", "peer", "other"]
    size: float | None  # the funnel's x (persons), when the KPI has one


@dataclass(frozen=True)
class FunnelView:
    method: str  # "binomial" or "poisson"
    target: float
    source: str | None
    sizes: tuple[float, ...]  # a grid over the municipalities' sizes, for the curves
    lower95: tuple[float | None, ...]
    upper95: tuple[float | None, ...]
    lower998: tuple[float | None, ...]
    upper998: tuple[float | None, ...]
    phi: float
    tau2: float


@dataclass(frozen=True)
class KpiOverview:
    kpi: str
    title: str
    description: str
    area: str
    polarity: PolarityDecision
    untestable: str | None  # why "better/worse" is not judged (see query.untestable)
    untestable_why: str | None  # the same in Swedish, e.g. "ett ja/nej-svar … (härlett ur titeln)"
    year: int | None  # the latest year with municipal values
    municipality: str | None
    name: str | None
    peers: PeerSet | None
    points: tuple[KpiPoint, ...]  # every municipality with a value that year, by value
    national_median: float | None
    #: The median of the peers' published values of ``year`` and the municipality's value
    #: minus it (the comparison's, when there is one for ``year``).
    peer_median: float | None
    difference: float | None
    comparison: Comparison | None
    funnel: FunnelView | None
    years: tuple[int, ...]
    series: tuple[float | None, ...]  # the municipality's values over ``years``
    peer_series: tuple[float | None, ...]  # median of its peers per year
    national_series: tuple[float | None, ...]  # median of all municipalities per year
    trend: Trend | None
    names: Mapping[str, str]
    #: "K": the distribution over the municipalities; "L": over the regions.
    kind: str = "K"

    @property
    def focal(self) -> KpiPoint | None:
        return next((p for p in self.points if p.role == "focal"), None)

    def rank(self) -> tuple[int, int] | None:
        """(rank, count) of the municipality among all with a value: 1 = best when the
        KPI's better direction is known, else 1 = highest (see ``rank_basis``)."""
        focal = self.focal
        if focal is None:
            return None
        sign = -1 if self.polarity.polarity.sign < 0 else 1
        better = sum(1 for p in self.points if sign * p.value > sign * focal.value)
        return better + 1, len(self.points)

    @property
    def rank_basis(self) -> str:
        """What rank 1 means, in Swedish."""
        return "1 = bäst" if self.polarity.polarity.sign else "1 = högst värde"


@dataclass(frozen=True)
class _KpiData:
    years: tuple[int, ...]
    municipalities: tuple[str, ...]
    values: np.ndarray  # (municipality, year)


def _kpi_data(state: Loaded, kpi: str) -> _KpiData:
    ctx = state.context
    municipalities = ctx.municipalities
    frame = state.store.query_values([kpi], municipalities=list(municipalities), genders=["T"])
    if frame.num_rows == 0:
        raise NoDataError(
            f"Inga {unit_word(state.kind)}värden för {kpi} i arkivet.",
            hint=f"Hämta dem med `tillit sync --kpi {kpi}`.",
        )
    codes = frame.column("municipality").to_pylist()
    periods = frame.column("period").to_pylist()
    values = frame.column("value").to_pylist()
    years = tuple(range(int(min(periods)), int(max(periods)) + 1))
    cube = np.full((len(municipalities), len(years)), np.nan)
    row = {m: r for r, m in enumerate(municipalities)}
    for m, p, v in zip(codes, periods, values, strict=True):
        if v is not None and m in row:
            cube[row[m], int(p) - years[0]] = v
    return _KpiData(years, municipalities, cube)


@dataclass(frozen=True)
class _KpiCommon:
    """What a KPI page shows whichever municipality is chosen."""

    last: int  # index of the latest year with values of at least three municipalities
    year: int
    latest: np.ndarray  # that year's values, per municipality
    medians: np.ndarray  # all municipalities' median per year
    funnel: tuple[FunnelView, np.ndarray] | None


def _kpi_common(state: Loaded, kpi: str, data: _KpiData) -> _KpiCommon:
    present = ~np.isnan(data.values)
    with_values = np.flatnonzero(present.sum(axis=0) >= 3)
    if with_values.size == 0:
        raise NoDataError(
            f"För få {unit_word(state.kind)}värden för {kpi} för att jämföra.",
            hint=f"Se vilka värden som finns: `tillit values {kpi}`.",
        )
    last = int(with_values[-1])
    year = data.years[last]
    latest = data.values[:, last]
    return _KpiCommon(
        last=last,
        year=year,
        latest=latest,
        medians=_nanmedian_columns(data.values),
        funnel=_funnel(state, kpi, year, latest),
    )


def kpi_overview(state: Loaded, kpi: str, municipality: str | None = None) -> KpiOverview:
    """One KPI over all municipalities: the latest year's distribution (the municipality
    and its structural peers marked), the funnel where the KPI is a share or rate of the
    population, and the municipality's series with its trend against the medians."""
    meta = state.store.kpi(kpi)
    kpi_id = str(meta["id"])
    code = resolve_code(state, municipality) if municipality else None
    if not kpi_fits(meta, state.kind):
        raise _wrong_kind(state, meta, code)
    return state.memo(
        ("kpi", kpi_id, code or ""), lambda: _kpi_overview(state, meta, code), keep=1024
    )


def _wrong_kind(state: Loaded, meta: Mapping[str, Any], code: str | None) -> InvalidInputError:
    """A KPI Kolada publishes only for the other kind of organisation: with a chosen unit,
    ``check_kpi_kind``'s error (it names the nearest KPIs of the right kind); without one,
    the same words about the kind."""
    if code is not None:
        try:
            check_kpi_kind(state.store, meta, state.store.municipality(code))
        except InvalidInputError as exc:
            return exc
    other = unit_word("L" if state.kind == "K" else "K", plural=True)
    return InvalidInputError(
        f"{meta['id']} ({meta.get('title') or meta['id']}) är ett nyckeltal för {other}; "
        f"Kolada redovisar det inte för {unit_word(state.kind, plural=True)}.",
        hint=f"Visa nyckeltalet för {other}, eller sök bland nyckeltalen.",
    )


def _kpi_overview(state: Loaded, meta: Mapping[str, Any], code: str | None) -> KpiOverview:
    kpi_id = str(meta["id"])
    ctx = state.context
    data = state.memo(("kpi-data", kpi_id), lambda: _kpi_data(state, kpi_id), keep=256)
    decision = ctx.polarity.get(kpi_id) or resolve_polarity(
        kpi_id, meta.get("title"), state.overrides
    )
    common = state.memo(("kpi-common", kpi_id), lambda: _kpi_common(state, kpi_id, data), keep=256)
    last, year, latest, medians = common.last, common.year, common.latest, common.medians
    funnel = common.funnel
    peers = state.structural_peers(code) if code else None
    peer_set = set(peers.members) if peers else set()
    sizes = funnel[1] if funnel else None
    points = []
    for r, m in enumerate(data.municipalities):
        if np.isnan(latest[r]):
            continue
        role: Literal["focal", "peer", "other"] = (
            "focal" if m == code else "peer" if m in peer_set else "other"
        )
        size = None if sizes is None or not sizes[r] > 0 else float(sizes[r])
        points.append(KpiPoint(m, ctx.names.get(m, m), float(latest[r]), role, size))
    points.sort(key=lambda p: (p.value, p.municipality))
    comparison = None
    if code and kpi_id in state.key_kpis:
        # The municipality page's comparison, with the same false-discovery family.
        overview = municipality_overview(state, code)
        comparison = next(
            r.comparison for a in overview.areas for r in a.key_results if r.kpi == kpi_id
        )
    elif code and kpi_id in state.evidence.kpis and peers:
        comparison = _in_words(
            compare(
                state.evidence,
                code,
                peers.members,
                kpis=[kpi_id],
                denominators=state.denominators,
                q=state.q,
            ),
            ctx.kind,
        )[0]
    series: tuple[float | None, ...] = ()
    peer_series: tuple[float | None, ...] = ()
    focal_trend = None
    peer_median = None
    if code:
        row = data.municipalities.index(code)
        own = data.values[row]
        series = nan_to_none(own)
        peer_rows = [data.municipalities.index(p) for p in peer_set]
        peer_values = data.values[peer_rows] if peer_rows else np.full((1, len(data.years)), np.nan)
        peer_series = nan_to_none(_nanmedian_columns(peer_values))
        peer_median = peer_series[last]
        ok = ~np.isnan(own)
        if ok.any():
            focal_trend = trend(
                [y for y, keep in zip(data.years, ok, strict=True) if keep],
                own[ok],
                polarity=decision.polarity,
            )
    difference = None
    if comparison is not None and comparison.year == year:
        # One computation: the comparison's published-value median, which every surface
        # (municipality page, `tillit compare`, `tillit learn`) shows.
        peer_median = _float(comparison.peer_median)
    if code and peer_median is not None and not np.isnan(latest[data.municipalities.index(code)]):
        difference = float(latest[data.municipalities.index(code)]) - peer_median
    why_not = untestable(decision, str(meta.get("title") or ""), ctx.eligibility.get(kpi_id))
    return KpiOverview(
        kpi=kpi_id,
        title=str(meta.get("title") or kpi_id),
        description=str(meta.get("description") or "").strip(),
        area=str(meta.get("operating_area") or "Övrigt"),
        polarity=decision,
        untestable=why_not,
        untestable_why=untestable_why(why_not, ctx.eligibility.get(kpi_id)),
        year=year,
        municipality=code,
        name=ctx.names.get(code, code) if code else None,
        peers=peers,
        points=tuple(points),
        national_median=_float(medians[last]),
        peer_median=peer_median,
        difference=difference,
        comparison=comparison,
        funnel=funnel[0] if funnel else None,
        years=data.years,
        series=series,
        peer_series=peer_series,
        national_series=nan_to_none(medians),
        trend=focal_trend,
        names=_names(ctx.names, [code] if code else [], peers.members if peers else []),
        kind=ctx.kind,
    )


def _names(names: Mapping[str, str], *groups: Sequence[str]) -> dict[str, str]:
    """The names of just the municipalities a result mentions (not all 311)."""
    return {code: names.get(code, code) for group in groups for code in group}


def _float(value: Any) -> float | None:
    return None if value is None or np.isnan(value) else float(value)


def _nanmedian_columns(values: np.ndarray) -> np.ndarray:
    """The median of each column (year) over the values present; NaN for an empty one."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # "All-NaN slice": NaN is the answer
        return np.asarray(np.nanmedian(values, axis=0), dtype=np.float64)


def _funnel(
    state: Loaded, kpi: str, year: int, latest: np.ndarray
) -> tuple[FunnelView, np.ndarray] | None:
    """The funnel of a share or rate of the population (binomial or Poisson); None for
    other KPIs, whose noise band needs the evidence's noise model (see compare)."""
    denominators = state.context.denominator(kpi, year)
    if denominators is None:
        return None
    population = np.asarray(denominators.denominator, dtype=np.float64)
    try:
        fitted: FittedFunnel | None = fit_funnel(latest, denominators, np.zeros_like(latest))
    except InvalidInputError:
        return None
    if fitted is None or fitted.method == "noise band":
        return None
    sizes = population[(population > 0) & ~np.isnan(latest)]
    if sizes.size < 3:
        return None
    grid = np.geomspace(float(sizes.min()), float(sizes.max()), 60)
    lo95, hi95 = fitted.limits(grid, 0.95)
    lo998, hi998 = fitted.limits(grid, 0.998)
    view = FunnelView(
        method=fitted.method,
        target=float(fitted.target),
        source=fitted.source,
        sizes=tuple(float(x) for x in grid),
        lower95=nan_to_none(lo95),
        upper95=nan_to_none(hi95),
        lower998=nan_to_none(lo998),
        upper998=nan_to_none(hi998),
        phi=float(fitted.funnel.phi),
        tau2=float(fitted.funnel.tau2),
    )
    return view, population


# --- the peer page -----------------------------------------------------------------------
def peers_overview(state: Loaded, municipality: str) -> PeersReport:
    """Who is similar and why: the structural neighbours with their traits, the SKR
    kommungrupp and Kolada's overall "Liknande kommuner" group."""
    code = resolve_code(state, municipality)

    def build() -> PeersReport:
        ctx = state.context
        groups: dict[str, PeerSet | None] = {"kommungrupp": None, "liknande": None}
        for kind in ("kommungrupp", "liknande") if ctx.kind == "K" else ("liknande",):
            try:
                groups[kind] = ctx.peer_set(code, kind)
            except NoDataError:
                groups[kind] = None
        structural = ctx.structure.peers(code, state.k)
        return PeersReport(
            municipality=code,
            name=ctx.names.get(code, code),
            structural=structural,
            kommungrupp=groups["kommungrupp"],
            liknande=groups["liknande"],
            names=_names(
                ctx.names,
                [code, *(p.municipality for p in structural.peers)],
                *(g.members for g in groups.values() if g is not None),
            ),
            kind=ctx.kind,
        )

    return state.memo(("peers", code), build)


def municipality_names(state: Loaded) -> Sequence[tuple[str, str]]:
    """(code, name) of every municipality (or, for the regions' state, region), by name."""
    ctx = state.context
    return sorted(((m, ctx.names.get(m, m)) for m in ctx.municipalities), key=lambda x: x[1])
