"""A municipality against all municipalities and against its peers, with uncertainty.

The headline is a tier ("tydligt bättre / i nivå med / tydligt sämre" than the peers),
never a bare rank: the tier comes from the same test as the learning analysis
(``judge_gaps``: the mean gap to the peers' median over the last three years, a
moderated t, Benjamini–Hochberg over the KPIs compared at once). Beside
it: rank and percentile, the difference to the peer median, the empirical-Bayes
shrunken value, and the position in a funnel over all municipalities — with counts and
denominators when they exist, otherwise a noise band from the series' own year-to-year
variation, both with Spiegelhalter's additive overdispersion."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import stdtrit

from tillit.analyses._evidence import Evidence, Gaps, judge_gaps, peer_gaps, raw_median
from tillit.analyses._funnel import Funnel, funnel
from tillit.analyses._polarity import Polarity
from tillit.errors import InvalidInputError

FloatArray = NDArray[np.float64]

TIER_LABELS = {
    "clearly_better": "tydligt bättre än jämförelsekommunerna",
    "clearly_worse": "tydligt sämre än jämförelsekommunerna",
    "clearly_higher": "tydligt högre än jämförelsekommunerna",
    "clearly_lower": "tydligt lägre än jämförelsekommunerna",
    "in_line": "i nivå med jämförelsekommunerna",
    "not_comparable": "jämförs inte: värdet växer med kommunens storlek",
    "no_data": "inget värde för senaste året",
    "too_few_peers": "för få jämförelsekommuner med värden",
    "noise_unknown": "för kort historik för att skilja en skillnad från årsbruset",
    "noise_misfit": "prövas inte: årsbruset förutsäger inte de senaste åren",
    "not_eligible": "prövas inte: nyckeltalet rangordnas inte som resultat",
}

#: The tiers of a tested KPI (a verdict was reached): only these carry the tested gap and
#: its interval.
JUDGED_TIERS = frozenset(
    ("clearly_better", "clearly_worse", "clearly_higher", "clearly_lower", "in_line")
)

POSITION_LABELS = {
    "above_998": "över 99,8 %-gränsen",
    "above_95": "över 95 %-gränsen",
    "inside": "inom gränserna",
    "below_95": "under 95 %-gränsen",
    "below_998": "under 99,8 %-gränsen",
    "missing": "saknas",
}


@dataclass(frozen=True)
class Denominators:
    """Counts behind a KPI, per municipality on the evidence axis: the KPI is then a
    proportion (``kind="proportion"``, value = numerator/denominator·scale) or a rate to
    compare as observed/expected (``kind="ratio"``)."""

    kind: str  # "proportion" | "ratio"
    denominator: np.ndarray  # persons (or person-years) per municipality
    scale: float  # 100 for per cent, 1000 for "per 1000 inv", …
    source: str  # Swedish: which KPI the denominator is


@dataclass(frozen=True)
class FunnelPoint:
    method: str  # "binomial", "poisson" or "noise band"
    target: float  # natural units of the KPI
    lower95: float
    upper95: float
    lower998: float
    upper998: float
    position: str  # above_998 … below_998, or missing
    phi: float  # overdispersion factor
    tau2: float  # additive between-municipality variance used (scale of the method)


@dataclass(frozen=True)
class PeerValue:
    municipality: str
    value: float
    shrunk: float


@dataclass(frozen=True)
class Comparison:
    kpi: str
    municipality: str
    year: int
    polarity: Polarity
    comparable: bool
    value: float  # the published value of ``year``
    #: Empirical-Bayes value (pulled toward the national mean by noise); NaN for a total
    #: that grows with size, which has no noise model and is not shrunk.
    shrunk: float
    shrink_weight: float  # 1 = own value kept
    noise_sd: float  # the series' year-to-year noise, natural units
    rank: int | None  # among all municipalities with a value, 1 = best (or highest)
    count: int
    percentile: float | None  # share of other municipalities it does better than, 0–100
    peer_rank: int | None  # among itself and its peers
    peer_count: int
    national_median: float
    peer_median: float  # median of the peers' published values of ``year``
    difference: float  # value − peer_median (published values)
    shrunk_peer_median: float  # median of the peers' shrunken values
    shrunk_difference: float  # shrunk − shrunk_peer_median: what ``z`` scales
    #: The test: the mean gap to the peers' median over the last 3 years over its
    #: standard error (a moderated t), positive = better (or higher).
    z: float
    q_value: float  # false-discovery adjusted p-value (= p with one KPI)
    years_beyond: int  # of the last 3 years, how many with the gap on the same side
    tier: str  # a key of TIER_LABELS
    funnel: FunnelPoint | None
    peers: tuple[PeerValue, ...]
    #: Why the KPI was not tested although it has data (Swedish), else None.
    why_not_tested: str | None = None
    #: Two-sided, over the own variance's uncertainty (d0 + d degrees of freedom) with the
    #: peers' median's variance known (``mixture_p``): it does not follow from z and df alone.
    p_value: float = float("nan")
    df: float = float("nan")  # d0 + d of the own variance
    #: "kommun" or "region": what the focal unit and its peers are, for the labels.
    unit: str = "kommun"
    #: The gap the test judges: the published value's mean difference to the peers'
    #: median over ``gap_years`` latest years (natural units, not signed), and its 95 %
    #: interval (Student t at ``df`` degrees of freedom around the test's standard error);
    #: NaN where the KPI was not tested (a tier outside ``JUDGED_TIERS``). The interval is
    #: approximate and does not invert the test: the verdict "tydligt" also allows for the
    #: many KPIs tested and counts only the part of the gap beyond the KPI's minimum
    #: practical difference, so an interval just clear of zero can still be "i nivå".
    mean_difference: float = float("nan")
    interval_low: float = float("nan")
    interval_high: float = float("nan")
    gap_years: int = 0

    @property
    def tier_label(self) -> str:
        label = TIER_LABELS[self.tier]
        if self.unit != "kommun":
            label = label.replace("jämförelsekommun", f"jämförelse{self.unit}")
            label = label.replace("kommunens", f"{self.unit}ens")
        return label


def _gap_interval(gaps: Gaps, k: int) -> dict[str, Any]:
    """The tested gap of KPI row ``k`` (first focal unit) with its 95 % interval."""
    mean = float(gaps.mean_difference[k, 0])
    se = float(gaps.se[k, 0]) if gaps.se is not None else math.nan
    df = float(gaps.df[k, 0])
    if not (math.isfinite(mean) and math.isfinite(se)):
        return {"mean_difference": mean, "gap_years": int(gaps.years[k, 0])}
    quantile = float(stdtrit(df, 0.975)) if math.isfinite(df) and df > 0 else 1.959964
    return {
        "mean_difference": mean,
        "interval_low": mean - quantile * se,
        "interval_high": mean + quantile * se,
        "gap_years": int(gaps.years[k, 0]),
    }


def compare(
    evidence: Evidence,
    municipality: str,
    peers: Sequence[str],
    *,
    kpis: Sequence[str] | None = None,
    denominators: Mapping[str, Denominators] | None = None,
    q: float = 0.05,
) -> tuple[Comparison, ...]:
    """Compare ``municipality`` with ``peers`` on ``kpis`` (default all in the
    evidence). With several KPIs the false discovery rate is held at ``q`` across them."""
    index = {m: i for i, m in enumerate(evidence.municipalities)}
    if municipality not in index:
        raise InvalidInputError(
            f"Kommunen {municipality} finns inte i underlaget.",
            hint="Ange kommunen med namn eller kod, t.ex. `Kungsbacka` eller `1384`.",
        )
    i = index[municipality]
    peer_idx = np.array(
        [index[p] for p in peers if p in index and p != municipality], dtype=np.int64
    )
    if peer_idx.size == 0:
        raise InvalidInputError(
            f"Inga jämförelsekommuner för {municipality}.",
            hint="Välj jämförelsegrupp med --peers.",
        )
    wanted = list(evidence.kpis) if kpis is None else list(kpis)
    k_idx = [evidence.kpis.index(k) for k in wanted if k in evidence.kpis]
    gaps = peer_gaps(evidence, np.array([i]), peer_idx[None, :])
    latest = evidence.windowed.values[:, i, -1]
    tested = (
        evidence.comparable
        & evidence.noise.measured
        & evidence.noise_fits
        & ~np.isnan(latest)
        & ~np.isnan(gaps.t[:, 0])
    )[:, None]
    only = np.zeros_like(tested)
    only[k_idx] = tested[k_idx]
    verdicts = judge_gaps(gaps, only, q)
    out = []
    for k in k_idx:
        polarity = evidence.polarity[k]
        values = evidence.windowed.values[k, :, -1]
        shrunk = evidence.levels.shrunk[k, :, -1]
        direction = polarity.sign or 1
        present = ~np.isnan(values)
        value = float(values[i])
        comparable = bool(evidence.comparable[k])
        peer_median = raw_median(values[peer_idx])
        if np.isnan(value):
            tier = "no_data"
        elif not evidence.comparable[k]:
            tier = "not_comparable"
        elif not evidence.noise.measured[k]:
            tier = "noise_unknown"
        elif not evidence.noise_fits[k]:
            tier = "noise_misfit"
        elif np.isnan(gaps.t[k, 0]):
            tier = "too_few_peers"
        elif verdicts.better[k, 0]:
            tier = "clearly_better" if polarity.sign else "clearly_higher"
        elif verdicts.worse[k, 0]:
            tier = "clearly_worse" if polarity.sign else "clearly_lower"
        else:
            tier = "in_line"
        ranked = bool(evidence.comparable[k]) and not np.isnan(value)
        rank = peer_rank = None
        percentile = None
        if ranked:
            score = direction * values[present]
            own = direction * value
            rank = int((score > own).sum()) + 1
            others = max(int(present.sum()) - 1, 1)
            percentile = float(100.0 * (score < own).sum() / others)
            group = np.concatenate([[i], peer_idx])
            group_values = direction * values[group]
            group_values = group_values[~np.isnan(group_values)]
            peer_rank = int((group_values > own).sum()) + 1
        beyond = verdicts.years_better[k, 0] if gaps.t[k, 0] > 0 else verdicts.years_worse[k, 0]
        out.append(
            Comparison(
                kpi=evidence.kpis[k],
                municipality=municipality,
                year=int(evidence.windowed.end_years[k]),
                polarity=polarity,
                comparable=bool(evidence.comparable[k]),
                value=value,
                shrunk=float(shrunk[i]) if comparable else float("nan"),
                shrink_weight=float(evidence.levels.weight[k, i, -1])
                if comparable
                else float("nan"),
                noise_sd=float(np.sqrt(evidence.noise.variance[k, i])),
                rank=rank,
                count=int(present.sum()),
                percentile=percentile,
                peer_rank=peer_rank,
                peer_count=int((~np.isnan(values[peer_idx])).sum()) + 1,
                national_median=float(np.median(values[present]))
                if present.any()
                else float("nan"),
                peer_median=peer_median,
                difference=value - peer_median,
                shrunk_peer_median=float(gaps.peer_median[k, 0, -1])
                if comparable
                else float("nan"),
                shrunk_difference=float(gaps.difference[k, 0, -1]) if comparable else float("nan"),
                z=float(gaps.t[k, 0]),
                p_value=float(verdicts.p_value[k, 0]),
                df=float(gaps.df[k, 0]),
                q_value=float(verdicts.q_value[k, 0]),
                years_beyond=int(beyond) if not np.isnan(gaps.t[k, 0]) else 0,
                **(_gap_interval(gaps, k) if tier in JUDGED_TIERS else {}),
                why_not_tested=evidence.misfit_reason(k) if tier == "noise_misfit" else None,
                tier=tier,
                funnel=_funnel_point(evidence, k, i, (denominators or {}).get(evidence.kpis[k]))
                if evidence.comparable[k]
                else None,
                peers=tuple(
                    PeerValue(
                        evidence.municipalities[j],
                        float(values[j]),
                        float(shrunk[j]) if comparable else float("nan"),
                    )
                    for j in peer_idx
                ),
            )
        )
    return tuple(out)


@dataclass(frozen=True, eq=False)
class FittedFunnel:
    """A funnel over all municipalities on one KPI. ``size`` is each municipality's
    precision on the funnel's x axis: persons for the binomial and Poisson funnels, the
    series' noise standard deviation (natural units) for the noise band; NaN or 0 where
    there is none. ``limits(sizes, level)`` gives the control limits, in the KPI's natural
    units, at any such sizes (for drawing the curves)."""

    method: str  # "binomial", "poisson" or "noise band"
    funnel: Funnel
    target: float  # natural units
    size: FloatArray
    scale: float  # funnel units → natural units (per cent 100, the national rate, or 1)
    per: float  # Poisson: the rate is per this many persons; otherwise 1
    source: str | None  # Swedish: where the denominator comes from

    def limits(self, sizes: ArrayLike, level: float) -> tuple[FloatArray, FloatArray]:
        x = np.asarray(sizes, dtype=np.float64)
        if self.method == "poisson":  # the ratio funnel's precision is the expected count
            x = self.scale * x / self.per
        lower, upper = self.funnel.limits_at(x, level)
        return lower * self.scale, upper * self.scale


def fit_funnel(
    values: ArrayLike, denominators: Denominators | None, noise_variance: ArrayLike
) -> FittedFunnel | None:
    """The funnel of one KPI's latest values (one per municipality, NaN where missing):
    binomial for shares of a population, Poisson (O/E) for rates per N inhabitants, else
    the band of each series' own year-to-year noise (``noise_variance``, per municipality).
    None with fewer than three values."""
    y = np.asarray(values, dtype=np.float64)
    if np.isnan(y).sum() > y.size - 3:
        return None
    if denominators is not None and denominators.kind == "proportion":
        present = y[~np.isnan(y)]
        if present.min() < 0 or present.max() > denominators.scale:
            # Not a share of the population after all (e.g. library loans "andel av
            # befolkningen" above 100 %): the noise band is the honest funnel.
            denominators = None
    if denominators is not None:
        n = np.asarray(denominators.denominator, dtype=np.float64)
        ok = ~np.isnan(y) & (n > 0)
        if denominators.kind == "proportion":
            f = funnel(np.where(ok, y / denominators.scale, np.nan), np.where(ok, n, 0.0))
            s = denominators.scale
            return FittedFunnel("binomial", f, f.target * s, n, s, 1.0, denominators.source)
        # A rate per `scale` inhabitants: observed events against those expected at the
        # national rate, compared as a ratio O/E.
        rate = float(np.nansum(np.where(ok, y * n, 0.0)) / np.nansum(np.where(ok, n, 0.0)))
        expected = rate * n / denominators.scale
        observed = y * n / denominators.scale
        ratio = np.where(ok & (expected > 0), observed / expected, np.nan)
        f = funnel(ratio, np.where(ok, expected, 0.0), kind="ratio")
        return FittedFunnel(
            "poisson", f, f.target * rate, n, rate, denominators.scale, denominators.source
        )
    se = np.sqrt(np.asarray(noise_variance, dtype=np.float64))
    f = funnel(y, se, kind="normal")
    return FittedFunnel("noise band", f, f.target, se, 1.0, 1.0, None)


def _funnel_point(
    evidence: Evidence, k: int, i: int, denominators: Denominators | None
) -> FunnelPoint | None:
    """Position of municipality ``i`` in a funnel over all municipalities."""
    values = evidence.windowed.values[k, :, -1]
    if np.isnan(values[i]):
        return None
    fitted = fit_funnel(values, denominators, evidence.noise.variance[k])
    if fitted is None:
        return None
    f, s = fitted.funnel, fitted.scale
    return FunnelPoint(
        method=fitted.method,
        target=float(fitted.target),
        lower95=float(f.lower[0.95][i] * s),
        upper95=float(f.upper[0.95][i] * s),
        lower998=float(f.lower[0.998][i] * s),
        upper998=float(f.upper[0.998][i] * s),
        position=str(f.position[i]),
        phi=float(f.phi),
        tau2=float(f.tau2),
    )
