"""Reading what the analyses need out of the store: the value cube, structural
variables, polarity decisions and peer groups. The CLI, the web pages and the report
all go through here, so they show the same numbers."""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from tillit.analyses import (
    REASON_LABELS,
    STRUCTURAL_KPIS,
    STRUCTURAL_VARIABLES,
    Denominators,
    Eligibility,
    EligibilityOverride,
    Evidence,
    Exclusion,
    Panel,
    Polarity,
    PolarityDecision,
    StructuralVariable,
    Structure,
    assess_eligibility,
    build_structure,
    default_mpd,
    denominator_rule,
    gather_evidence,
    latest_values,
    parse_eligibility_overrides,
    parse_polarity_overrides,
    resolve_polarity,
    robust_spreads,
    size_dependent,
)
from tillit.config import Settings
from tillit.errors import ConfigError, InvalidInputError, NoDataError
from tillit.store import Store, group_name

#: Years of history read for an analysis: the 10-year window of every KPI that still
#: had values at most two years before the store's latest year (older ones have ended).
HISTORY = 12
#: Peer group kinds, as the CLI names them: the structurally nearest, SKR's kommungrupp
#: (municipalities only), Kolada's "Liknande kommuner/regioner" groups, or all the others.
PEER_KINDS = ("struktur", "kommungrupp", "liknande", "alla")
#: The kinds of organisation Tillit analyses, by Kolada's municipality type: the 290
#: municipalities ("K") and the 21 regions ("L"). Each is compared only with its own kind.
UNIT_KINDS: Mapping[str, str] = {"K": "kommun", "L": "region"}
#: Kolada's code for the whole country, which has type "L" but is no region.
RIKET = "0000"
#: The structural variables of each kind: out-commuting (N02279) is a municipal measure,
#: Kolada has none for a region (a county's commuters mostly cross municipal borders
#: inside it), so regions are compared without it rather than "without it for now".
_NOT_FOR_REGIONS = frozenset({"commuting"})

# Kolada's "Liknande kommuner" groups are per area; the KPIs' operating areas map to them.
_LIKNANDE_AREA = {
    "Grundskola åk 0-9 inkl förskoleklass": "grundskola",
    "Gymnasieskola åk 1-3": "gymnasieskola",
    "Förskoleverksamhet": "förskola",
    "Äldre och funktionshinder": "äldreomsorg",
    "Individ- och familjeomsorg": "IFO",
    "Arbetsmarknad": "arbetsmarknad",
    "Befolkning": "socioekonomi",
}
# Kolada's "Liknande regioner" groups: one for health care, one socio-economic (overall).
_LIKNANDE_REGION_AREA = {
    "Hälso- och sjukvård": "hälso- och sjukvård (inkl läkemedel)",
    "Tandvård": "hälso- och sjukvård (inkl läkemedel)",
}


def units(store: Store, kind: str = "K") -> tuple[str, ...]:
    """The codes of the municipalities ("K") or regions ("L") in the store's catalogue,
    sorted (Riket, 0000, is not a region)."""
    return tuple(
        sorted(m["id"] for m in store.municipalities() if m["type"] == kind and m["id"] != RIKET)
    )


def region_of(municipality: str) -> str:
    """The region (county council) a municipality lies in: Kolada's region code is "00"
    and the county code, the first two digits of the municipality's ("1384" Kungsbacka →
    "0013" Region Halland, "0980" Gotland → "0009" Region Gotland)."""
    return "00" + municipality[:2]


def municipalities_in(store: Store, region: str) -> tuple[str, ...]:
    """The municipalities of a region's county, sorted by code."""
    return tuple(m for m in units(store, "K") if region_of(m) == region)


def unit_word(kind: str, *, plural: bool = False, definite: bool = False) -> str:
    """ "kommun", "kommuner", "kommunerna", "region", "regioner", "regionerna"."""
    word = UNIT_KINDS.get(kind, "kommun")
    if definite:
        return word + "erna"
    return word + "er" if plural else word


def structural_variables(kind: str = "K") -> tuple[StructuralVariable, ...]:
    """The structural variables peers are found on for municipalities or regions."""
    if kind == "L":
        return tuple(v for v in STRUCTURAL_VARIABLES if v.key not in _NOT_FOR_REGIONS)
    return STRUCTURAL_VARIABLES


@dataclass(frozen=True)
class PeerSet:
    """The municipalities a municipality is compared with, and why them."""

    kind: str  # one of PEER_KINDS
    label: str  # Swedish, e.g. "7 strukturellt närmaste kommuner"
    members: tuple[str, ...]  # municipality codes, the focal one excluded


#: Why a KPI is not tested, in Swedish: every key ``untestable`` returns.
UNTESTABLE_LABELS: Mapping[str, str] = {
    "without_polarity": "inget håll är bättre, eller det är okänt vilket",
    "size_dependent": "värdet växer med kommunens storlek",
    **REASON_LABELS,
}


class Overrides(dict[str, Polarity]):
    """The user's files: polarity per KPI (TILLIT_POLARITY_FILE) is the mapping itself;
    ``eligibility`` holds the rows of TILLIT_ELIGIBILITY_FILE. One object, so that every
    caller passing the user's polarity choices passes the eligibility choices too."""

    def __init__(
        self,
        polarity: Mapping[str, Polarity] | None = None,
        eligibility: Mapping[str, EligibilityOverride] | None = None,
    ) -> None:
        super().__init__(polarity or {})
        self.eligibility: Mapping[str, EligibilityOverride] = dict(eligibility or {})


@dataclass(frozen=True)
class Context:
    """Everything loaded once for a set of analyses over the store."""

    store: Store
    kpi_meta: Mapping[str, Mapping[str, Any]]
    names: Mapping[str, str]  # municipality (and region) code → name
    #: The units analysed, sorted: the 290 municipality codes, or the 21 regions' codes
    #: when ``kind`` is "L". Everything below (panel, structure, peers) is over these.
    municipalities: tuple[str, ...]
    panel: Panel  # every KPI read, the structural ones included
    chosen: tuple[str, ...]  # the KPIs to analyse
    structure: Structure
    polarity: Mapping[str, PolarityDecision]
    excluded: Mapping[str, int]  # KPIs left out by testable_only, per reason
    #: Eligibility of every KPI decided (the chosen ones and those left out for it).
    eligibility: Mapping[str, Eligibility] = field(default_factory=dict)
    #: Minimum practical difference per chosen KPI, in its unit (see docs/eligibility.md).
    mpd: Mapping[str, float] = field(default_factory=dict)
    #: Each KPI left out by testable_only, with its reason, by reason then KPI id.
    exclusions: tuple[Exclusion, ...] = ()
    #: "K" (municipalities) or "L" (regions), see UNIT_KINDS.
    kind: str = "K"

    def check_k(self, k: int) -> int:
        """``k`` when there are that many others of the kind to be peers, else an error."""
        others = len(self.municipalities) - 1
        if not 1 <= k <= others:
            raise InvalidInputError(
                f"Antalet jämförelse{unit_word(self.kind, plural=True)} måste vara mellan "
                f"1 och {others}, inte {k}.",
                hint="Standard är 7, som Koladas egna grupper av liknande "
                f"{unit_word(self.kind, plural=True)}; --peers alla tar alla {others}.",
            )
        return k

    def title(self, kpi: str) -> str:
        meta = self.kpi_meta.get(kpi)
        return str(meta["title"]) if meta else kpi

    def area(self, kpi: str) -> str:
        meta = self.kpi_meta.get(kpi)
        return str((meta or {}).get("operating_area") or "Övrigt")

    def evidence(self, kpis: Sequence[str] | None = None) -> Evidence:
        """Evidence for ``kpis`` (default: the chosen ones), computed once and kept."""
        chosen = self.chosen if kpis is None else tuple(kpis)
        cache: dict[tuple[str, ...], Evidence] = self.__dict__.setdefault("_evidence", {})
        if chosen not in cache:
            panel = self.panel
            if chosen != panel.kpis:
                panel = Panel(
                    kpis=chosen,
                    municipalities=panel.municipalities,
                    years=panel.years,
                    values=panel.values[[panel.kpis.index(k) for k in chosen]],
                )
            evidence = _gathered(
                panel,
                self.population(),
                polarity={k: self.polarity[k].polarity for k in chosen},
                areas={k: self.area(k) for k in chosen},
                titles={k: self.title(k) for k in chosen},
            )
            cache[chosen] = replace(
                evidence, mpd=np.array([self.mpd.get(k, 0.0) for k in evidence.kpis])
            )
        return cache[chosen]

    def testable(self) -> tuple[str, ...]:
        """The chosen KPIs on which "behind" means something: known polarity, not a
        total that grows with size."""
        return tuple(
            k
            for k in self.chosen
            if untestable(self.polarity[k], self.title(k), self.eligibility.get(k)) is None
        )

    def population(self) -> np.ndarray:
        index = [v.key for v in self.structure.variables].index("population")
        return self.structure.raw[:, index]

    def denominators(self, evidence: Evidence) -> dict[str, Denominators]:
        """Counts behind the KPIs that are whole-population rates or shares."""
        out: dict[str, Denominators] = {}
        for k, kpi in enumerate(evidence.kpis):
            found = self.denominator(kpi, int(evidence.windowed.end_years[k]))
            if found is not None:
                out[kpi] = found
        return out

    def denominator(self, kpi: str, year: int) -> Denominators | None:
        """The population behind ``kpi`` in ``year`` when it is a whole-population rate or
        share (see ``denominator_rule``), else None."""
        rule = denominator_rule(kpi, self.title(kpi))
        if rule is None or rule.population_kpi not in self.panel.kpis:
            return None
        if year not in self.panel.years:
            return None
        pop = self.panel.values[
            self.panel.kpi_index(rule.population_kpi), :, self.panel.years.index(year)
        ]
        return Denominators(
            kind=rule.kind,
            denominator=pop,
            scale=rule.scale,
            source=f"{self.title(rule.population_kpi)} ({rule.population_kpi}), {year}",
        )

    def peer_set(
        self, municipality: str, kind: str = "struktur", *, k: int = 7, area: str | None = None
    ) -> PeerSet:
        """Peers of ``municipality`` (or region): its k structural neighbours, its SKR
        municipality group (kommungrupp 2023; municipalities only), Kolada's "Liknande
        kommuner" or "Liknande regioner" group (for ``area``, an operating area, when
        Kolada has one for it; else the overall group), or all the others of its kind."""
        if kind == "struktur":
            peers = self.structure.peers(municipality, self.check_k(k))
            return PeerSet(
                kind,
                structural_label(k, self.structure, self.kind),
                tuple(p.municipality for p in peers.peers),
            )
        if kind == "alla":
            others = tuple(m for m in self.municipalities if m != municipality)
            return PeerSet(
                kind,
                f"alla {len(others)} andra {unit_word(self.kind, plural=True)}",
                others,
            )
        if kind == "kommungrupp":
            if self.kind != "K":
                raise InvalidInputError(
                    "Regioner har ingen kommungrupp: SKR:s kommungrupper delar in kommuner.",
                    hint="Välj --peers struktur, liknande eller alla.",
                )
            group = _group_of(self.store, municipality, "kommungrupp_2023")
            members = _members(self.store, group["id"])
            return PeerSet(
                kind,
                f"kommungrupp {group['code']}: {group_name(group['title'])}",
                tuple(m for m in members if m != municipality),
            )
        if kind == "liknande":
            return self._liknande(municipality, area)
        raise InvalidInputError(
            f"Okänd jämförelsegrupp {kind!r}.",
            hint="Välj " + ", ".join(PEER_KINDS) + ".",
        )

    def _liknande(self, municipality: str, area: str | None) -> PeerSet:
        region = self.kind == "L"
        if region:
            group_kind = "liknande_regioner"
            wanted = _LIKNANDE_REGION_AREA.get(area or "", "socioekonomi")
            overall = "socioekonomi"
        else:
            group_kind = "liknande_kommuner"
            wanted = _LIKNANDE_AREA.get(area or "", "övergripande")
            overall = "övergripande"
        focal = self.names[municipality]
        groups = [
            g for g in self.store.municipality_groups(group_kind) if g["focal_title"] == focal
        ]
        chosen = [g for g in groups if g["area"] == wanted] or [
            g for g in groups if g["area"] == overall
        ]
        if not chosen:
            raise NoDataError(
                f"Kolada har ingen grupp av liknande {unit_word(self.kind, plural=True)} "
                f"för {focal}.",
                hint="Läs in Koladas metadata (`tillit sync --metadata`) "
                "eller välj --peers struktur.",
            )
        group = max(chosen, key=lambda g: g["year"] or 0)
        members = _members(self.store, group["id"])
        analysed = set(self.municipalities)
        return PeerSet(
            "liknande",
            f"Koladas liknande {unit_word(self.kind, plural=True)}, {group['area']} "
            f"({group['year']})",
            tuple(m for m in members if m != municipality and m in analysed),
        )


#: The last evidence gathered in this process, by a digest of all that gather_evidence
#: reads. gather_evidence is pure, so a warm process (the web server, the benchmark, a
#: notebook) analysing an unchanged store skips the noise fits, the costliest step; any
#: change in the values, population, polarity, areas or titles misses the cache. As many
#: are kept as hold _GATHERED_CELLS values in their windows (the whole store's is about
#: 3 M, one KPI page's some 40,000).
_GATHERED: OrderedDict[bytes, Evidence] = OrderedDict()
_GATHERED_CELLS = 8_000_000
_GATHERED_LOCK = threading.Lock()


def _gathered(
    panel: Panel,
    population: np.ndarray,
    *,
    polarity: Mapping[str, Polarity],
    areas: Mapping[str, str],
    titles: Mapping[str, str],
) -> Evidence:
    """``gather_evidence`` of these inputs, remembered for the last few distinct inputs."""
    digest = hashlib.blake2b(digest_size=32)
    for part in (
        panel.kpis,
        panel.municipalities,
        panel.years,
        panel.values.shape,
        sorted(polarity.items()),
        sorted(areas.items()),
        sorted(titles.items()),
    ):
        digest.update(repr(part).encode())
        digest.update(b"\0")
    digest.update(np.ascontiguousarray(panel.values, dtype=np.float64).tobytes())
    digest.update(np.ascontiguousarray(population, dtype=np.float64).tobytes())
    key = digest.digest()
    with _GATHERED_LOCK:
        if key in _GATHERED:
            _GATHERED.move_to_end(key)
            return _GATHERED[key]
    evidence = gather_evidence(panel, population, polarity=polarity, areas=areas, titles=titles)
    with _GATHERED_LOCK:
        _GATHERED[key] = evidence
        while (
            len(_GATHERED) > 1
            and sum(e.windowed.values.size for e in _GATHERED.values()) > _GATHERED_CELLS
        ):
            _GATHERED.popitem(last=False)
    return evidence


def structural_label(k: int, structure: Structure | None = None, kind: str = "K") -> str:
    """How the structural peers are described everywhere (CLI, pages, JSON), naming the
    structural variables the search had to leave out, e.g. "de 7 strukturellt mest lika
    kommunerna (bedömt utan utpendling, som saknas till och med 2018)"."""
    label = f"de {k} strukturellt mest lika {unit_word(kind, definite=True)}"
    if structure is not None and structure.dropped:
        names = [v.label[:1].lower() + v.label[1:] for v in structure.dropped]
        listed = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " och " + names[-1]
        label += f" (bedömt utan {listed}, som saknas till och med {structure.year})"
    return label


def _group_of(store: Store, municipality: str, kind: str) -> dict[str, Any]:
    groups = {g["id"]: g for g in store.municipality_groups(kind)}
    for member in store.metadata.read("municipality_group_members"):
        if member["municipality"] == municipality and member["group_id"] in groups:
            return groups[member["group_id"]]
    raise NoDataError(
        f"Kommunen {municipality} ingår inte i någon kommungrupp i arkivet.",
        hint="Läs in Koladas metadata med `tillit sync --metadata`.",
    )


def _members(store: Store, group_id: str) -> list[str]:
    return [
        m["municipality"]
        for m in store.metadata.read("municipality_group_members")
        if m["group_id"] == group_id
    ]


def polarity_overrides(settings: Settings) -> Overrides | None:
    """The user's files, parsed: the polarity file (TILLIT_POLARITY_FILE) as the mapping
    and the eligibility file (TILLIT_ELIGIBILITY_FILE) as ``.eligibility``; None when
    neither is set."""
    if settings.polarity_file is None and settings.eligibility_file is None:
        return None
    polarity = eligibility = None
    if settings.polarity_file is not None:
        text = _read(settings.polarity_file, "riktningsfilen", "TILLIT_POLARITY_FILE")
        polarity = parse_polarity_overrides(text, str(settings.polarity_file))
    if settings.eligibility_file is not None:
        text = _read(settings.eligibility_file, "prövningsfilen", "TILLIT_ELIGIBILITY_FILE")
        eligibility = parse_eligibility_overrides(text, str(settings.eligibility_file))
    return Overrides(polarity, eligibility)


def _read(path: Path, what: str, setting: str) -> str:
    try:
        return path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ConfigError(
            f"Kan inte läsa {what} {path}: {exc.strerror}.",
            hint=f"Rätta {setting} eller ta bort inställningen.",
        ) from None


def untestable(
    decision: PolarityDecision, title: str, eligibility: Eligibility | None = None
) -> str | None:
    """Why "behind" means nothing for a KPI, or None when it can be tested:
    "without_polarity" (no known better direction), "size_dependent" (a total that grows
    with population), or the eligibility's reason (no title, binary, categorical,
    step-shaped, structural, left out in the user's file; see docs/eligibility.md)."""
    if decision.polarity.sign == 0:
        return "without_polarity"
    if size_dependent(title):
        return "size_dependent"
    if eligibility is not None and not eligibility.eligible:
        return eligibility.reason
    return None


def untestable_why(reason: str | None, eligibility: Eligibility | None = None) -> str | None:
    """The Swedish phrase for a reason ``untestable`` gave (naming where an eligibility
    decision came from, e.g. "… (Tillits lista)"), or None for a testable KPI."""
    if reason is None:
        return None
    if eligibility is not None and reason == eligibility.reason:
        return eligibility.explanation
    return UNTESTABLE_LABELS[reason]


def _exclusion(
    kpi: str, title: str | None, reason: str, eligibility: Eligibility | None
) -> Exclusion:
    detail = eligibility.detail if eligibility is not None and reason == eligibility.reason else ""
    why = untestable_why(reason, eligibility) or ""
    return Exclusion(kpi, title or kpi, reason, why, detail)


def load_context(
    store: Store,
    *,
    kpis: Sequence[str] | None = None,
    testable_only: bool = False,
    overrides: Mapping[str, Polarity] | None = None,
    history: int = HISTORY,
    as_of: int | None = None,
    kind: str = "K",
) -> Context:
    """Load the municipality-level values (gender T) of ``kpis`` (default: all KPIs in
    the store) for the last ``history`` years, the structural variables, and each
    KPI's polarity decision. ``testable_only`` keeps just the KPIs on which "better"
    is defined (known polarity, not a total), deciding before the values are read.

    ``kind`` "L" loads the 21 regions instead of the 290 municipalities: the same
    analyses over the regions' values, peers found among the regions. Without ``kpis``,
    a KPI Kolada publishes only for the other kind (its ``municipality_type``) is not
    read: a region's value of a municipal KPI is the county's municipalities summed, not
    the region's own result.

    ``as_of`` analyses the store as if it ended that year (later values are not read).
    Whether set or not, a structural variable with no values by the last year (Kolada
    has out-commuting only from 2020) is left out of the peer search and named in
    ``structure.dropped`` and in the structural peers' label."""
    if kind not in UNIT_KINDS:
        raise InvalidInputError(
            f"Okänd sorts organisation {kind!r}.", hint="Välj K (kommuner) eller L (regioner)."
        )
    if kpis is not None and not kpis:
        raise InvalidInputError("Ange minst ett nyckeltal.", hint="T.ex. N15419.")
    municipalities_meta = store.municipalities()
    names = {m["id"]: m["title"] for m in municipalities_meta}
    municipalities = units(store, kind)
    if not municipalities:
        raise NoDataError(
            f"Arkivet har inga {unit_word(kind, plural=True)}.",
            hint="Läs in Koladas metadata med `tillit sync --metadata`.",
        )
    kpi_meta = {k["id"]: k for k in store.kpis()}
    polarity: dict[str, PolarityDecision] = {}
    excluded = dict.fromkeys(UNTESTABLE_LABELS, 0)
    left_out: dict[str, Exclusion] = {}
    eligibility: dict[str, Eligibility] = {}
    user = overrides.eligibility if isinstance(overrides, Overrides) else {}

    def title_of(kpi: str) -> str | None:
        title = (kpi_meta.get(kpi) or {}).get("title")
        return str(title) if title else None

    def decide(kpi: str) -> PolarityDecision:
        if kpi not in polarity:
            polarity[kpi] = resolve_polarity(kpi, title_of(kpi), overrides)
        return polarity[kpi]

    def why_not(kpi: str) -> str | None:
        # Before the values are read: polarity, size, then eligibility without the values.
        if kpi not in eligibility:
            eligibility[kpi] = assess_eligibility(kpi, title_of(kpi), None, user)
        return untestable(decide(kpi), title_of(kpi) or "", eligibility[kpi])

    def leave_out(kpi: str, reason: str) -> None:
        if kpi not in left_out:
            excluded[reason] += 1
            left_out[kpi] = _exclusion(kpi, title_of(kpi), reason, eligibility.get(kpi))

    def choose(axis: list[str]) -> list[str]:
        keep = []
        for kpi in axis:
            reason = why_not(kpi)
            if reason is None:
                keep.append(kpi)
            else:
                leave_out(kpi, reason)
        return sorted(set(keep) | (set(STRUCTURAL_KPIS) & set(axis)))

    def own_kind(axis: list[str]) -> list[str]:
        keep = [k for k in axis if k in STRUCTURAL_KPIS or kpi_fits(kpi_meta.get(k), kind)]
        return choose(keep) if testable_only else keep

    wanted = None if kpis is None else sorted(set(kpis) | set(STRUCTURAL_KPIS))
    kpi_axis, frame = store.municipality_panel(
        wanted,
        history=history,
        municipalities=municipalities,
        choose=own_kind if kpis is None else (choose if testable_only else None),
        until=as_of,
    )
    if as_of is not None and frame.num_rows == 0:
        raise NoDataError(
            f"Arkivet har inga {unit_word(kind)}värden från {as_of} eller tidigare.",
            hint="Välj ett senare år, eller utelämna --as-of för att analysera det senaste.",
        )
    panel = Panel.from_codes(kpi_axis, municipalities, frame)
    structure = build_structure(panel, drop_missing=True, variables=structural_variables(kind))
    if testable_only:
        chosen = tuple(k for k in panel.kpis if why_not(k) is None)
    else:
        chosen = panel.kpis if kpis is None else tuple(k for k in panel.kpis if k in set(kpis))
    # After the values are read: binary, categorical or step-shaped series, judged against
    # each KPI's between-municipality spread in its latest year (all KPIs at once).
    cube = panel.values[[panel.kpi_index(k) for k in chosen]]
    spread, counted = robust_spreads(latest_values(cube) if len(chosen) else np.zeros((0, 0)))
    spread_of = {kpi: (float(spread[i]), int(counted[i])) for i, kpi in enumerate(chosen)}
    for i, kpi in enumerate(chosen):
        eligibility[kpi] = assess_eligibility(
            kpi, title_of(kpi), cube[i], user, spread=spread_of[kpi][0]
        )
    if testable_only:
        for kpi in chosen:
            reason = untestable(decide(kpi), title_of(kpi) or "", eligibility[kpi])
            if reason is not None:
                leave_out(kpi, reason)
        chosen = tuple(k for k in chosen if k not in left_out)
    # The minimum practical difference: the user's, else the default from the spread.
    mpd: dict[str, float] = {}
    for kpi in chosen:
        own = eligibility[kpi].mpd
        mpd[kpi] = own if own is not None else default_mpd(*spread_of[kpi])
    if kpis is not None and not chosen:
        raise NoDataError(
            f"Inga {unit_word(kind)}värden för {', '.join(kpis)} i arkivet.",
            hint=f"Hämta dem med `tillit sync --kpi {kpis[0]}`.",
        )
    for kpi in chosen:
        decide(kpi)
    return Context(
        store=store,
        kpi_meta=kpi_meta,
        names=names,
        municipalities=municipalities,
        panel=panel,
        chosen=chosen,
        structure=structure,
        polarity=polarity,
        excluded=excluded,
        eligibility=eligibility,
        mpd=mpd,
        exclusions=tuple(sorted(left_out.values(), key=lambda e: (e.reason, e.kpi))),
        kind=kind,
    )


def kpi_fits(meta: Mapping[str, Any] | None, kind: str) -> bool:
    """Whether Kolada publishes a KPI for this kind of organisation: its
    ``municipality_type`` is "A" (both), the kind itself, or unknown."""
    declared = str((meta or {}).get("municipality_type") or "A")
    return declared in ("A", kind) or declared not in UNIT_KINDS
