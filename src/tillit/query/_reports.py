"""One query function per question: compare, trend, peers, learn and the national
matrix. Each returns a dataclass with the analysis result and the names needed to show
it; the CLI prints it, the web pages will render it, the JSON twins serialise it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from tillit.analyses import (
    STRUCTURAL_KPIS,
    Comparison,
    Learning,
    LearningMatrix,
    Polarity,
    PolarityDecision,
    StructuralPeers,
    Trend,
    compare,
    find_learning_partners,
    learning_matrix,
    resolve_polarity,
    trend,
)
from tillit.errors import InvalidInputError, NoDataError
from tillit.query._context import (
    RIKET,
    UNIT_KINDS,
    PeerSet,
    kpi_fits,
    load_context,
    unit_word,
)
from tillit.store import Store


def resolve_municipality(store: Store, text: str) -> dict[str, Any]:
    """A municipality or a region by name or code (its row, whose ``type`` is "K" or
    "L"); Riket (0000) and anything else of the catalogue is refused."""
    row = store.municipality(text)
    if row.get("type") not in UNIT_KINDS or row["id"] == RIKET:
        what = "hela landet" if row["id"] == RIKET else "ingen kommun eller region"
        raise InvalidInputError(
            f"{row['title']} är {what}: jämförelserna görs mellan kommuner och mellan regioner.",
            hint="Ange en kommun eller en region, t.ex. `Kungsbacka` eller `Region Halland`.",
        )
    return row


def check_kpi_kind(store: Store, meta: Mapping[str, Any], focal: Mapping[str, Any]) -> None:
    """Refuse a KPI that Kolada publishes only for the other kind of organisation (a
    municipal KPI asked of a region, or the reverse), naming the nearest KPIs of the
    right kind by title."""
    kind = str(focal.get("type") or "K")
    if kpi_fits(meta, kind):
        return
    other = unit_word("L" if kind == "K" else "K", plural=True)
    alternatives = [
        f"{hit['id']} {hit['title']}" for hit in _nearest_kpis(store, meta, focal["id"], kind)
    ]
    raise InvalidInputError(
        f"{meta['id']} ({meta.get('title') or meta['id']}) är ett nyckeltal för {other}; "
        f"Kolada redovisar det inte för {focal['title']}.",
        hint=(
            "Närmaste nyckeltal för "
            + unit_word(kind, plural=True)
            + ": "
            + "; ".join(alternatives)
            + "."
            if alternatives
            else f"Inget nyckeltal för {unit_word(kind, plural=True)} i arkivet handlar om "
            "samma sak; sök bland nyckeltalen med `tillit kpi search ORD`."
        ),
    )


def _nearest_kpis(
    store: Store, meta: Mapping[str, Any], unit: str, kind: str, limit: int = 3
) -> list[dict[str, Any]]:
    """The KPIs nearest to ``meta``'s title (as the KPI search ranks them) among those
    Kolada publishes for ``kind`` and the store has values of for ``unit``."""
    fitting = [k["id"] for k in store.kpis() if k["id"] != meta["id"] and kpi_fits(k, kind)]
    if not fitting:
        return []
    frame = store.query_values(fitting, municipalities=[unit], genders=["T"])
    with_values = set(frame.column("kpi").to_pylist()) if frame.num_rows else set()
    title = str(meta.get("title") or meta["id"])
    return [hit for hit, _score in store.search_kpis_among(title, with_values, limit=limit)]


@dataclass(frozen=True)
class ComparisonReport:
    municipality: str
    name: str
    peers: PeerSet
    comparisons: tuple[Comparison, ...]
    titles: Mapping[str, str]
    polarity: Mapping[str, PolarityDecision]
    names: Mapping[str, str]
    q: float
    kind: str = "K"  # "L": a region compared with regions


def compare_report(
    store: Store,
    municipality: str,
    kpis: Sequence[str],
    *,
    peers: str = "struktur",
    k: int = 7,
    q: float = 0.05,
    overrides: Mapping[str, Polarity] | None = None,
    as_of: int | None = None,
) -> ComparisonReport:
    """Compare a municipality (name or code) with its peers on ``kpis`` (``as_of``: as if
    the store ended that year, see ``load_context``)."""
    focal = resolve_municipality(store, municipality)
    metas = [store.kpi(kpi) for kpi in kpis]
    for meta in metas:
        check_kpi_kind(store, meta, focal)
    ids = list(dict.fromkeys(meta["id"] for meta in metas))
    if not ids:
        raise InvalidInputError(
            "Ange minst ett nyckeltal.", hint="T.ex. `tillit compare Kungsbacka N15419`."
        )
    ctx = load_context(store, kpis=ids, overrides=overrides, as_of=as_of, kind=focal["type"])
    peer_set = ctx.peer_set(focal["id"], peers, k=k, area=ctx.area(ids[0]))
    evidence = ctx.evidence()
    missing = [kpi for kpi in ids if kpi not in evidence.kpis]
    if len(missing) == len(ids):
        raise NoDataError(
            f"Inga {unit_word(ctx.kind)}värden för {', '.join(ids)} de senaste åren.",
            hint=f"Hämta dem med `tillit sync --kpi {ids[0]}`.",
        )
    # KPIs that are not eligible (docs/eligibility.md) are shown but never judged, and do
    # not count in the false-discovery family of the others.
    ineligible = {
        kpi: ctx.eligibility[kpi]
        for kpi in ids
        if kpi in ctx.eligibility and not ctx.eligibility[kpi].eligible
    }
    judged = {
        c.kpi: c
        for group in ([k for k in ids if k not in ineligible], list(ineligible))
        if group
        for c in compare(
            evidence,
            focal["id"],
            peer_set.members,
            kpis=group,
            denominators=ctx.denominators(evidence),
            q=q,
        )
    }
    comparisons = tuple(
        replace(
            judged[kpi],
            tier="not_eligible",
            why_not_tested=ineligible[kpi].explanation,
            z=float("nan"),
            p_value=float("nan"),
            q_value=float("nan"),
            rank=None,
            percentile=None,
            peer_rank=None,
        )
        if kpi in ineligible
        else judged[kpi]
        for kpi in ids
        if kpi in judged
    )
    if ctx.kind != "K":
        comparisons = tuple(replace(c, unit=unit_word(ctx.kind)) for c in comparisons)
    return ComparisonReport(
        municipality=focal["id"],
        name=focal["title"],
        peers=peer_set,
        comparisons=comparisons,
        titles={kpi: ctx.title(kpi) for kpi in ids},
        polarity=ctx.polarity,
        names=ctx.names,
        q=q,
        kind=ctx.kind,
    )


@dataclass(frozen=True)
class TrendReport:
    municipality: str
    name: str
    kpi: str
    title: str
    polarity: PolarityDecision
    years: tuple[int, ...]
    values: tuple[float, ...]
    trend: Trend


def trend_report(
    store: Store,
    municipality: str,
    kpi: str,
    *,
    years: Sequence[int] = (),
    overrides: Mapping[str, Polarity] | None = None,
) -> TrendReport:
    """Theil–Sen slope and Mann–Kendall test of one municipality's series (gender T),
    over ``years`` or every year with a value; missing years stay missing."""
    focal = resolve_municipality(store, municipality)
    meta = store.kpi(kpi)
    check_kpi_kind(store, meta, focal)
    frame = store.query_values(
        [meta["id"]], municipalities=[focal["id"]], years=list(years) or None, genders=["T"]
    )
    rows = [
        (int(p), float(v))
        for p, v in zip(
            frame.column("period").to_pylist(), frame.column("value").to_pylist(), strict=True
        )
        if v is not None
    ]
    if not rows:
        raise NoDataError(
            f"{focal['title']} har inga värden för {meta['id']}"
            + (f" åren {min(years)}–{max(years)}." if years else "."),
            hint=f"Se vilka värden som finns: `tillit values {meta['id']} "
            f"--municipality {focal['id']}`.",
        )
    decision = resolve_polarity(meta["id"], meta.get("title"), overrides)
    ys, vs = zip(*rows, strict=True)
    return TrendReport(
        municipality=focal["id"],
        name=focal["title"],
        kpi=meta["id"],
        title=meta["title"],
        polarity=decision,
        years=ys,
        values=vs,
        trend=trend(ys, vs, polarity=decision.polarity),
    )


@dataclass(frozen=True)
class PeersReport:
    municipality: str
    name: str
    structural: StructuralPeers
    kommungrupp: PeerSet | None
    liknande: PeerSet | None
    names: Mapping[str, str]
    kind: str = "K"  # "L": a region among regions


def peers_report(
    store: Store, municipality: str, *, k: int = 7, as_of: int | None = None
) -> PeersReport:
    """Who is similar and why: the k structural neighbours with their traits, the SKR
    municipality group (municipalities only) and Kolada's overall "Liknande kommuner"
    or "Liknande regioner" group."""
    focal = resolve_municipality(store, municipality)
    ctx = load_context(store, kpis=list(STRUCTURAL_KPIS), as_of=as_of, kind=focal["type"])
    structural = ctx.structure.peers(focal["id"], ctx.check_k(k))
    groups: dict[str, PeerSet | None] = {"kommungrupp": None, "liknande": None}
    for kind in ("kommungrupp", "liknande") if ctx.kind == "K" else ("liknande",):
        try:
            groups[kind] = ctx.peer_set(focal["id"], kind)
        except NoDataError:
            groups[kind] = None
    return PeersReport(
        municipality=focal["id"],
        name=focal["title"],
        structural=structural,
        kommungrupp=groups["kommungrupp"],
        liknande=groups["liknande"],
        names=ctx.names,
        kind=ctx.kind,
    )


@dataclass(frozen=True)
class LearnReport:
    municipality: str
    name: str
    peers: PeerSet
    learning: Learning
    titles: Mapping[str, str]
    polarity: Mapping[str, PolarityDecision]
    names: Mapping[str, str]
    kind: str = "K"  # "L": a region learning from regions


def learn_report(
    store: Store,
    municipality: str,
    *,
    areas: Sequence[str] = (),
    peers: str = "struktur",
    k: int = 7,
    q: float = 0.05,
    overrides: Mapping[str, Polarity] | None = None,
    as_of: int | None = None,
) -> LearnReport:
    """Where the municipality is clearly behind its peers and whom to learn from
    (``as_of``: as if the store ended that year, see ``load_context``)."""
    focal = resolve_municipality(store, municipality)
    ctx = load_context(
        store, testable_only=True, overrides=overrides, as_of=as_of, kind=focal["type"]
    )
    area = _match_area(ctx.chosen, ctx.area, areas)
    peer_set = ctx.peer_set(focal["id"], peers, k=k, area=area[0] if len(area) == 1 else None)
    learning = find_learning_partners(
        ctx.evidence(), focal["id"], peer_set.members, areas=area or None, q=q
    )
    learning = replace(
        learning,
        without_polarity=ctx.excluded["without_polarity"],
        size_dependent=ctx.excluded["size_dependent"],
        excluded=ctx.exclusions,
    )
    kpis = (
        {f.kpi for f in learning.findings}
        | set(learning.ahead)
        | {kpi for kpi, _ in learning.noise_misfit}
    )
    return LearnReport(
        municipality=focal["id"],
        name=focal["title"],
        peers=peer_set,
        learning=learning,
        titles={kpi: ctx.title(kpi) for kpi in kpis},
        polarity={kpi: ctx.polarity[kpi] for kpi in kpis},
        names=ctx.names,
        kind=ctx.kind,
    )


def _match_area(kpis: Sequence[str], area_of: Any, wanted: Sequence[str]) -> list[str]:
    """Operating areas named by the user, matched case-insensitively by prefix."""
    if not wanted:
        return []
    known = sorted({area_of(k) for k in kpis})
    out = []
    for text in wanted:
        needle = text.casefold().strip()
        hits = [a for a in known if a.casefold() == needle] or [
            a for a in known if a.casefold().startswith(needle)
        ]
        if not hits:
            hits = [a for a in known if needle in a.casefold()]
        if not hits:
            raise InvalidInputError(
                f"Inget verksamhetsområde heter {text!r}.",
                hint="Områdena är: " + "; ".join(known) + ".",
            )
        out.extend(hits)
    return list(dict.fromkeys(out))


@dataclass(frozen=True)
class MatrixReport:
    matrix: LearningMatrix
    titles: Mapping[str, str]
    names: Mapping[str, str]
    kind: str = "K"

    def rows(self) -> list[dict[str, Any]]:
        """One row per municipality × KPI where it is clearly behind, with partners."""
        m = self.matrix
        ev = m.evidence
        out = []
        for f_pos, i in enumerate(m.focal):
            for k in np.flatnonzero(m.behind[:, f_pos]):
                partners = [
                    ev.municipalities[j]
                    for slot, j in enumerate(m.peers[f_pos])
                    if m.level_partner[k, f_pos, slot]
                ]
                out.append(
                    {
                        "municipality": ev.municipalities[i],
                        "municipality_name": self.names.get(ev.municipalities[i], ""),
                        "kpi": ev.kpis[k],
                        "area": ev.areas[k],
                        "year": int(ev.windowed.end_years[k]),
                        "z": round(float(m.gaps.t[k, f_pos]), 3),
                        "q_value": float(m.q_value[k, f_pos]),
                        "partners": partners,
                    }
                )
        return out


def national_report(
    store: Store,
    *,
    k: int = 7,
    q: float = 0.05,
    overrides: Mapping[str, Polarity] | None = None,
    as_of: int | None = None,
    kind: str = "K",
) -> MatrixReport:
    """The learning matrix for all municipalities (or, ``kind`` "L", all regions) at
    once, each with its structural peers."""
    ctx = load_context(store, testable_only=True, overrides=overrides, as_of=as_of, kind=kind)
    evidence = ctx.evidence()
    matrix = learning_matrix(evidence, ctx.structure.neighbour_indices(k), q=q)
    return MatrixReport(
        matrix=matrix,
        titles={kpi: ctx.title(kpi) for kpi in evidence.kpis},
        names=ctx.names,
        kind=ctx.kind,
    )
