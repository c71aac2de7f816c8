"""Structural neighbours: municipalities alike in size, density, age, income, education
and origin, by Mahalanobis distance on standardized structural variables."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from tillit.analyses._panel import FloatArray, Panel
from tillit.errors import InvalidInputError, NoDataError


@dataclass(frozen=True)
class StructuralVariable:
    """One structural trait: computed from Kolada KPIs, compared on a log scale when
    ``log`` (sizes and densities are compared as ratios, not differences). A ``required``
    variable is never left out (the analyses need it: population sets the noise model's
    size effect)."""

    key: str
    label: str  # Swedish, for tables
    kpis: tuple[str, ...]  # numerator[, denominator]
    log: bool
    unit: str  # Swedish unit for formatting the raw value
    why: str  # English: why it is a structural condition, see docs/analyses.md
    required: bool = False


STRUCTURAL_VARIABLES: tuple[StructuralVariable, ...] = (
    StructuralVariable(
        "population",
        "Invånare",
        ("N01951",),
        True,
        "invånare",
        "Scale: fixed costs, the range of services and the size of the labour pool.",
        required=True,
    ),
    StructuralVariable(
        "density",
        "Invånare per km²",
        ("N01951", "N02993"),
        True,
        "inv/km²",
        "Distances: travel in home care, school transport, rescue service response.",
    ),
    StructuralVariable(
        "urban",
        "Tätortsgrad",
        ("N00954",),
        False,
        "%",
        "Share living in urban areas: separates a dense core from a scattered countryside.",
    ),
    StructuralVariable(
        "young",
        "Andel 0–19 år",
        ("N01994",),
        False,
        "%",
        "Demand for preschool and school.",
    ),
    StructuralVariable(
        "old",
        "Andel 65+ år",
        ("N01960",),
        False,
        "%",
        "Demand for elderly care and the tax base per service user.",
    ),
    StructuralVariable(
        "income",
        "Medianinkomst 20–64 år",
        ("N00906",),
        True,
        "kr",
        "Socio-economic conditions that drive school results, health and social assistance.",
    ),
    StructuralVariable(
        "education",
        "Eftergymnasial utbildning 25–64 år",
        ("N01982",),
        False,
        "%",
        "Parents' education: the strongest single predictor of school results.",
    ),
    StructuralVariable(
        "foreign_born",
        "Utrikes födda",
        ("N02926",),
        False,
        "%",
        "Language and establishment needs; share of newly arrived pupils.",
    ),
    StructuralVariable(
        "growth",
        "Befolkningsförändring 5 år",
        ("N01958",),
        False,
        "%",
        "Growing or shrinking: investment pressure versus over-capacity.",
    ),
    StructuralVariable(
        "commuting",
        "Utpendling",
        ("N02279",),
        False,
        "%",
        "Labour-market role: commuter suburb or regional centre.",
    ),
)

STRUCTURAL_KPIS: tuple[str, ...] = tuple(
    dict.fromkeys(k for v in STRUCTURAL_VARIABLES for k in v.kpis)
)


@dataclass(frozen=True)
class Trait:
    """A structural variable on which a peer resembles the focal municipality."""

    key: str
    label: str
    unit: str
    own: float
    peer: float
    difference_sd: float  # |difference| in standard deviations across all municipalities


@dataclass(frozen=True)
class Peer:
    municipality: str
    rank: int  # 1 = most similar
    distance: float  # Mahalanobis distance on the standardized variables
    traits: tuple[Trait, ...]  # the two or three most alike


@dataclass(frozen=True)
class StructuralPeers:
    municipality: str
    k: int
    year: int
    peers: tuple[Peer, ...]
    imputed: tuple[str, ...]  # variables of the focal municipality filled with the median
    dropped: tuple[str, ...] = ()  # variables left out for everyone (no data in ``year``)
    dropped_labels: tuple[str, ...] = ()  # their Swedish labels, lower-case ("utpendling")


@dataclass(frozen=True)
class Structure:
    """Structural variables of all municipalities, ready for neighbour searches."""

    municipalities: tuple[str, ...]
    variables: tuple[StructuralVariable, ...]
    year: int
    raw: FloatArray  # (municipality, variable), natural units, NaN if missing
    standardized: FloatArray  # imputed with the median, transformed, mean 0, sd 1
    whitened: FloatArray  # Euclidean distance here = Mahalanobis distance
    imputed: npt.NDArray[np.bool_]
    #: Variables left out because (almost) no municipality had them by ``year``.
    dropped: tuple[StructuralVariable, ...] = ()
    #: Ledoit–Wolf intensity with which the correlation matrix was shrunk toward the
    #: identity (0: the sample matrix).
    shrinkage: float = 0.0

    def distances(self) -> FloatArray:
        """All pairwise Mahalanobis distances, (n, n); the diagonal is +inf."""
        w = self.whitened
        sq = (w * w).sum(axis=1)
        d2 = np.maximum(sq[:, None] + sq[None, :] - 2.0 * (w @ w.T), 0.0)
        d: FloatArray = np.sqrt(d2)
        np.fill_diagonal(d, np.inf)
        return d

    def neighbour_indices(self, k: int = 7) -> npt.NDArray[np.int64]:
        """(n, k) indices of each municipality's k nearest, nearest first (ties by code)."""
        _check_k(k, len(self.municipalities))
        return np.argsort(self.distances(), axis=1, kind="stable")[:, :k].astype(np.int64)

    def peers(self, municipality: str, k: int = 7, *, traits: int = 3) -> StructuralPeers:
        """The k structurally nearest municipalities, each with the traits that make it
        similar (smallest standardized differences first)."""
        _check_k(k, len(self.municipalities))
        try:
            i = self.municipalities.index(municipality)
        except ValueError:
            raise NoDataError(
                f"Strukturuppgifter saknas för kommunen {municipality}.",
                hint="Hämta befolkningsnyckeltalen: `tillit sync --kpi "
                + ",".join(STRUCTURAL_KPIS)
                + "`.",
            ) from None
        d = self.distances()[i]
        order = np.argsort(d, kind="stable")[:k]
        peers = []
        for rank, j in enumerate(order, start=1):
            diff = np.abs(self.standardized[i] - self.standardized[j])
            diff = np.where(self.imputed[i] | self.imputed[j], np.inf, diff)
            chosen = np.argsort(diff, kind="stable")[:traits]
            peers.append(
                Peer(
                    municipality=self.municipalities[j],
                    rank=rank,
                    distance=float(d[j]),
                    traits=tuple(
                        Trait(
                            key=self.variables[v].key,
                            label=self.variables[v].label,
                            unit=self.variables[v].unit,
                            own=float(self.raw[i, v]),
                            peer=float(self.raw[j, v]),
                            difference_sd=float(diff[v]),
                        )
                        for v in chosen
                        if np.isfinite(diff[v])
                    ),
                )
            )
        return StructuralPeers(
            municipality=municipality,
            k=k,
            year=self.year,
            peers=tuple(peers),
            imputed=tuple(self.variables[v].key for v in np.flatnonzero(self.imputed[i])),
            dropped=tuple(v.key for v in self.dropped),
            dropped_labels=tuple(v.label[:1].lower() + v.label[1:] for v in self.dropped),
        )


def _check_k(k: int, n: int) -> None:
    if not 1 <= k < n:
        raise InvalidInputError(
            f"Antalet jämförelsekommuner måste vara mellan 1 och {n - 1}, inte {k}.",
            hint="Standard är 7, som Koladas egna grupper av liknande kommuner.",
        )


#: With ``drop_missing``, a variable known for fewer than this share of municipalities by
#: the structure's year is left out rather than imputed for the rest.
MIN_COVERAGE = 0.5
#: With ``drop_missing``, at least this share of the structural variables must be left: peers
#: found on one or two variables are not "structurally similar", so a store that lacks most of
#: them says what to fetch instead.
MIN_KEPT = 0.5


#: The correlation matrix of the structural variables is shrunk (Ledoit–Wolf) by default
#: when there are fewer units than this many per variable (the 21 regions: 2.3 per
#: variable; the 290 municipalities: 29).
SHRINK_BELOW = 10


def build_structure(
    panel: Panel,
    *,
    year: int | None = None,
    variables: Sequence[StructuralVariable] = STRUCTURAL_VARIABLES,
    ridge: float = 1e-3,
    drop_missing: bool = False,
    shrink: bool | None = None,
) -> Structure:
    """Structural variables as of ``year`` (default: the panel's last year): each KPI's
    latest value at or before that year. Missing values are imputed with the median of
    all municipalities and flagged. A variable nobody has is an error, unless
    ``drop_missing``: then a variable whose KPIs are not in the panel, or that fewer than
    ``MIN_COVERAGE`` of the municipalities have by ``year`` (out-commuting, N02279, begins
    in 2020), is left out and listed in ``Structure.dropped``. A ``required`` variable is
    never left out, and fewer than ``MIN_KEPT`` of the variables left is an error."""
    years = np.asarray(panel.years)
    if year is None:
        year = int(years.max())
    upto = years <= year
    if not upto.any():
        raise NoDataError(
            f"Inga strukturuppgifter från {year} eller tidigare.",
            hint="Välj ett senare år.",
        )
    latest: dict[str, FloatArray] = {}
    for kpi in dict.fromkeys(k for v in variables for k in v.kpis):
        if kpi in panel.kpis:
            latest[kpi] = _last_observed(panel.values[panel.kpi_index(kpi)][:, upto])
    kept: list[StructuralVariable] = []
    dropped: list[StructuralVariable] = []
    columns: list[FloatArray] = []
    for variable in variables:
        absent = [k for k in variable.kpis if k not in latest]
        if absent and (variable.required or not drop_missing):
            raise NoDataError(
                f"Strukturnyckeltalet {absent[0]} saknas i arkivet.",
                hint="Hämta det med `tillit sync --kpi " + ",".join(STRUCTURAL_KPIS) + "`.",
            )
        column = None if absent else _variable_values(variable, latest)
        # A column is None only when drop_missing allows leaving it out (see above).
        if column is None or (
            drop_missing and not variable.required and np.isfinite(column).mean() < MIN_COVERAGE
        ):
            dropped.append(variable)
            continue
        kept.append(variable)
        columns.append(column)
    if len(kept) < MIN_KEPT * len(variables):
        missing = [k for v in dropped for k in v.kpis]
        raise NoDataError(
            f"Bara {len(kept)} av {len(variables)} strukturmått finns till och med {year}; "
            f"saknas: {', '.join(missing)}.",
            hint="Hämta dem med `tillit sync --kpi " + ",".join(STRUCTURAL_KPIS) + "`.",
        )
    raw = np.column_stack(columns)
    structure = structure_from_matrix(
        panel.municipalities, kept, raw, year=year, ridge=ridge, shrink=shrink
    )
    return replace(structure, dropped=tuple(dropped))


def structure_from_matrix(
    municipalities: Sequence[str],
    variables: Sequence[StructuralVariable],
    raw: FloatArray,
    *,
    year: int,
    ridge: float = 1e-3,
    shrink: bool | None = None,
) -> Structure:
    """Standardize and whiten a (municipality × variable) matrix in natural units; with
    ``shrink`` the correlation matrix is shrunk toward the identity (:func:`ledoit_wolf`);
    by default (None) when there are fewer than SHRINK_BELOW units per variable."""
    raw = np.asarray(raw, dtype=np.float64)
    imputed: npt.NDArray[np.bool_] = np.asarray(~np.isfinite(raw))
    empty = [bool(imputed[:, v].all()) for v in range(imputed.shape[1])]
    if any(empty):
        missing = [v.label for v, gone in zip(variables, empty, strict=True) if gone]
        raise NoDataError(
            f"Inga värden för strukturvariabeln {', '.join(missing)}.",
            hint="Hämta befolkningsnyckeltalen: `tillit sync --kpi "
            + ",".join(STRUCTURAL_KPIS)
            + "`.",
        )
    x = raw.copy()
    for v, variable in enumerate(variables):
        column = x[:, v]
        if variable.log:
            column = np.log(np.where(column > 0, column, np.nan))
            imputed[:, v] |= ~np.isfinite(column)
        column = np.where(np.isfinite(column), column, np.nanmedian(column))
        x[:, v] = column
    sd = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    # The correlation matrix shrunk toward the identity by Ledoit and Wolf's intensity
    # (docs/analyses.md, "Regions: 21 units"): with 21 regions and nine variables the sample
    # correlations are poorly estimated (intensity 0.25); with 290 municipalities the
    # intensity is 0.02, yet it would change 117 of their 290 sets of 7 peers (near-ties at
    # the 7th place), so by default only a panel with fewer than SHRINK_BELOW units per
    # variable is shrunk. A small ridge keeps the inverse stable when two variables are
    # nearly collinear (income and education are, at r ≈ 0.8).
    if shrink is None:
        shrink = z.shape[0] < SHRINK_BELOW * z.shape[1]
    shrunk, intensity = ledoit_wolf(z) if shrink else (np.cov(z, rowvar=False), 0.0)
    cov = np.atleast_2d(shrunk) + ridge * np.eye(z.shape[1])
    whitener = np.linalg.cholesky(np.linalg.inv(cov))
    return Structure(
        municipalities=tuple(municipalities),
        variables=tuple(variables),
        year=year,
        raw=raw,
        standardized=z,
        whitened=z @ whitener,
        imputed=imputed,
        shrinkage=intensity,
    )


def ledoit_wolf(z: FloatArray) -> tuple[FloatArray, float]:
    """The correlation matrix of standardized ``z`` (rows: units) shrunk toward the
    identity, and the shrinkage intensity δ in [0, 1] (Ledoit & Wolf 2004: the estimated
    sampling error of the sample matrix over its distance from the target). δ shrinks with
    the number of units: about 0.25 for the 21 regions, 0.02 for the 290 municipalities."""
    n, p = z.shape
    sample = (z.T @ z) / n
    target = np.eye(p) * (np.trace(sample) / p)
    distance = float(((sample - target) ** 2).sum())
    outer = z[:, :, None] * z[:, None, :]
    error = float(((outer - sample) ** 2).sum()) / (n * n)
    intensity = 1.0 if distance <= 0 else min(1.0, error / distance)
    return intensity * target + (1.0 - intensity) * sample, intensity


def peer_agreement(
    structure: Structure, groups: Mapping[str, Sequence[str]], k: int = 7
) -> dict[str, float]:
    """How far structural peers agree with given peer groups (e.g. Kolada's "Liknande
    kommuner"): mean share of a municipality's k structural peers that are in its group,
    and the share expected if peers were drawn at random."""
    index = {m: i for i, m in enumerate(structure.municipalities)}
    neighbours = structure.neighbour_indices(k)
    shares, expected = [], []
    n = len(structure.municipalities)
    for municipality, members in groups.items():
        if municipality not in index:
            continue
        own = {m for m in members if m != municipality and m in index}
        if not own:
            continue
        found = {structure.municipalities[j] for j in neighbours[index[municipality]]}
        shares.append(len(found & own) / k)
        expected.append(len(own) / (n - 1))
    if not shares:
        raise NoDataError("Inga grupper att jämföra med.", hint="Läs in Koladas metadata.")
    return {
        "municipalities": float(len(shares)),
        "agreement": float(np.mean(shares)),
        "random": float(np.mean(expected)),
    }


def _last_observed(series: FloatArray) -> FloatArray:
    """Per row, the last non-NaN value (NaN when the row is empty)."""
    observed = ~np.isnan(series)
    last = series.shape[1] - 1 - np.argmax(observed[:, ::-1], axis=1)
    out = series[np.arange(series.shape[0]), last]
    return np.where(observed.any(axis=1), out, np.nan)


def _variable_values(variable: StructuralVariable, latest: Mapping[str, FloatArray]) -> FloatArray:
    values = latest[variable.kpis[0]]
    if len(variable.kpis) == 2:
        denominator = latest[variable.kpis[1]]
        with np.errstate(divide="ignore", invalid="ignore"):
            values = np.where(denominator > 0, values / denominator, np.nan)
    return values
