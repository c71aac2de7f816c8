"""Who to learn from: where a municipality is clearly behind comparable ones, and which
of them are clearly better there (level partners).

A finding is one test per KPI: the mean gap to the peers' median over the last three
years, beyond the series' year-to-year noise (a moderated t, see ``_evidence``), kept
when it survives Benjamini–Hochberg at ``q`` across all the KPIs tested for the
municipality. A partner is a peer whose mean over the same years is clearly better
than the municipality's own (the same kind of t, two-sided 5 %). Peers that are clearly
improving are shown as context only ("förbättras också"): in a backtest on the real
panel, improving peers went on to out-improve the learner no more often than any peer
did (docs/analyses.md), so improvement is no reason to pick a partner."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tillit.analyses._eligibility import Exclusion, practical_gap
from tillit.analyses._evidence import (
    MEDIAN_VARIANCE,
    RECENT,
    Z95,
    Evidence,
    Gaps,
    Slopes,
    judge_gaps,
    mpd_per_kpi,
    nan_median,
    peer_gaps,
    raw_median,
    recent_slopes,
)
from tillit.analyses._noise import Levels, Windowed, mean_variance_factor, two_sided_p
from tillit.analyses._polarity import Polarity
from tillit.errors import InvalidInputError


@dataclass(frozen=True)
class Partner:
    """A peer on a KPI where the focal municipality is behind: a learning partner when its
    level is clearly better (``level``); ``improving`` (a clearly improving trend in at
    least two of the last three windows) is context, never a reason on its own."""

    municipality: str
    level: bool  # mean of the last 3 years clearly better than the focal one's
    improving: bool  # clearly improving trend in ≥ 2 of the last 3 windows (context)
    value: float  # latest value (natural units)
    shrunk: float  # latest shrunken value
    slope: float  # Theil–Sen slope per year over the latest window
    years_better: int  # of the last 3 years, how many with a better published value


@dataclass(frozen=True)
class Finding:
    """A KPI on which the focal municipality is clearly behind its peers."""

    kpi: str
    area: str
    polarity: Polarity
    year: int  # latest year
    value: float  # published value of ``year``
    shrunk: float
    peer_median: float  # median of the peers' published values of ``year``
    difference: float  # value − peer_median, natural units
    shrunk_peer_median: float  # median of the peers' shrunken values
    shrunk_difference: float  # shrunk − shrunk_peer_median: what ``z`` scales
    z: float  # the test: moderated t of the mean gap over the last 3 years (negative = behind)
    q_value: float  # Benjamini–Hochberg adjusted p
    years_behind: int  # of the last 3 years, how many with the gap on the behind side
    partners: tuple[Partner, ...]  # level partners, the clearest first
    #: Peers that are not level partners but clearly improving: context, not partners.
    also_improving: tuple[Partner, ...] = ()
    p_value: float = float("nan")  # two-sided, of the gap test


@dataclass(frozen=True)
class AreaSummary:
    area: str
    tested: int
    behind: int
    ahead: int


@dataclass(frozen=True)
class Learning:
    """Learning partners for one municipality."""

    municipality: str
    peers: tuple[str, ...]
    findings: tuple[Finding, ...]  # sorted by area, then the largest gap first
    ahead: tuple[str, ...]  # KPIs where it is clearly ahead of its peers
    areas: tuple[AreaSummary, ...]
    tested: int
    without_polarity: int  # KPIs left out because "better" is not known
    size_dependent: int  # KPIs left out because they are totals (see _scale)
    q: float
    #: KPIs left out because the noise model failed its check on held-back years:
    #: (KPI, reason in Swedish).
    noise_misfit: tuple[tuple[str, str], ...] = ()
    #: Every KPI the analyses left out before testing (no polarity, a total, or not
    #: eligible: see docs/eligibility.md), with its reason; filled in by tillit.query.
    excluded: tuple[Exclusion, ...] = ()


@dataclass(frozen=True)
class LearningMatrix:
    """The national matrix: every focal municipality × KPI at once."""

    evidence: Evidence
    focal: npt.NDArray[np.int64]  # municipality indices, axis 1 below
    peers: npt.NDArray[np.int64]  # (focal, k)
    tested: npt.NDArray[np.bool_]  # (kpi, focal)
    behind: npt.NDArray[np.bool_]
    ahead: npt.NDArray[np.bool_]
    years_behind: npt.NDArray[np.int64]
    q_value: npt.NDArray[np.float64]  # BH-adjusted p of the gap test
    level_partner: npt.NDArray[np.bool_]  # (kpi, focal, k): the learning partners
    improving_partner: npt.NDArray[np.bool_]  # clearly improving peers: context only
    years_better: npt.NDArray[np.int64]
    gaps: Gaps
    slopes: Slopes
    q: float

    def learning(self, position: int) -> Learning:
        """The result for the ``position``-th focal municipality."""
        ev = self.evidence
        i = int(self.focal[position])
        peer_ids = tuple(ev.municipalities[j] for j in self.peers[position])
        row = {int(m): r for r, m in enumerate(self.slopes.rows)}
        findings = []
        for k in np.flatnonzero(self.behind[:, position]):
            partners: list[Partner] = []
            improving_only: list[Partner] = []
            for slot, j in enumerate(self.peers[position]):
                level = bool(self.level_partner[k, position, slot])
                improving = bool(self.improving_partner[k, position, slot])
                if not (level or improving):
                    continue
                peer = Partner(
                    municipality=ev.municipalities[j],
                    level=level,
                    improving=improving,
                    value=float(ev.windowed.values[k, j, -1]),
                    shrunk=float(ev.levels.shrunk[k, j, -1]),
                    slope=float(self.slopes.slope[k, row[int(j)], -1]),
                    years_better=int(self.years_better[k, position, slot]),
                )
                (partners if level else improving_only).append(peer)
            sign = ev.polarity[k].sign
            partners.sort(key=lambda p: (-p.years_better, -p.shrunk * sign))
            improving_only.sort(key=lambda p: -p.slope * sign)
            value = float(ev.windowed.values[k, i, -1])
            peer_median = raw_median(ev.windowed.values[k, self.peers[position], -1])
            findings.append(
                Finding(
                    kpi=ev.kpis[k],
                    area=ev.areas[k],
                    polarity=ev.polarity[k],
                    year=int(ev.windowed.end_years[k]),
                    value=value,
                    shrunk=float(self.gaps.own[k, position, -1]),
                    peer_median=peer_median,
                    difference=value - peer_median,
                    shrunk_peer_median=float(self.gaps.peer_median[k, position, -1]),
                    shrunk_difference=float(self.gaps.difference[k, position, -1]),
                    z=float(self.gaps.t[k, position]),
                    q_value=float(self.q_value[k, position]),
                    years_behind=int(self.years_behind[k, position]),
                    partners=tuple(partners),
                    also_improving=tuple(improving_only),
                    p_value=float(self.gaps.p[k, position]),
                )
            )
        findings.sort(key=lambda f: (f.area, f.z))
        counts: Counter[tuple[str, str]] = Counter()
        for k in np.flatnonzero(self.tested[:, position]):
            counts[(ev.areas[k], "tested")] += 1
            counts[(ev.areas[k], "behind")] += int(self.behind[k, position])
            counts[(ev.areas[k], "ahead")] += int(self.ahead[k, position])
        areas = sorted({a for a, _ in counts})
        return Learning(
            municipality=ev.municipalities[i],
            peers=peer_ids,
            findings=tuple(findings),
            ahead=tuple(ev.kpis[k] for k in np.flatnonzero(self.ahead[:, position])),
            areas=tuple(
                AreaSummary(a, counts[(a, "tested")], counts[(a, "behind")], counts[(a, "ahead")])
                for a in areas
            ),
            tested=int(self.tested[:, position].sum()),
            without_polarity=int(sum(p.sign == 0 for p in ev.polarity)),
            size_dependent=int((~ev.comparable).sum()),
            q=self.q,
            noise_misfit=tuple(
                (ev.kpis[k], ev.misfit_reason(int(k)) or "")
                for k in np.flatnonzero(
                    (ev.signs != 0) & ev.comparable & ev.noise.measured & ~ev.noise_fits
                )
            ),
        )


def learning_matrix(
    evidence: Evidence,
    peers: npt.NDArray[np.int64],
    *,
    focal: Sequence[int] | None = None,
    q: float = 0.05,
) -> LearningMatrix:
    """Findings for the focal municipalities (indices; default all) whose peers are the
    rows of ``peers`` (indices, one row per focal municipality). KPIs whose polarity is
    not known are not tested: "behind" has no meaning there."""
    if not 0 < q < 1:
        raise InvalidInputError(
            f"FDR-nivån måste ligga mellan 0 och 1, inte {q}.",
            hint="Ange t.ex. --fdr 0.05 (i genomsnitt högst 5 % felaktiga bland de flaggade).",
        )
    focal_idx = (
        np.arange(len(evidence.municipalities), dtype=np.int64)
        if focal is None
        else np.asarray(focal, dtype=np.int64)
    )
    peers = np.asarray(peers, dtype=np.int64)
    if peers.ndim != 2 or peers.shape[0] != focal_idx.size:
        raise InvalidInputError(
            "Jämförelsekommunerna måste anges som en rad per kommun.",
            hint="Använd Structure.neighbour_indices(k) eller en grupp per kommun.",
        )
    gaps = peer_gaps(evidence, focal_idx, peers)
    known = (
        (evidence.signs != 0) & evidence.comparable & evidence.noise.measured & evidence.noise_fits
    )[:, None]
    latest_value = ~np.isnan(evidence.windowed.values[:, focal_idx, -1])
    tested = known & latest_value & ~np.isnan(gaps.t)

    verdicts = judge_gaps(gaps, tested, q)
    behind, ahead, years_behind, q_value = (
        verdicts.worse,
        verdicts.better,
        verdicts.years_worse,
        verdicts.q_value,
    )

    # Level partners: a peer whose published values over the last RECENT years are
    # clearly better than the focal municipality's. The median of the yearly differences
    # is tested (its variance is MEDIAN_VARIANCE[n] times a year's), so one lucky year of
    # a small municipality cannot make it a partner.
    raw = evidence.windowed.values[:, :, -RECENT:]
    s2 = evidence.noise.variance
    sign = evidence.signs[:, None, None]
    mine = raw[:, focal_idx, None, :]  # (kpi, focal, 1, year)
    theirs = raw[:, peers, :]  # (kpi, focal, k, year)
    both = ~np.isnan(mine) & ~np.isnan(theirs)
    with np.errstate(invalid="ignore", divide="ignore"):
        diff, n = nan_median(np.where(both, theirs - mine, np.nan), axis=3)
        inflation = mean_variance_factor(evidence.noise.rho[:, None, None], n) * n
        variance = (
            (s2[:, peers] + s2[:, focal_idx, None])
            * MEDIAN_VARIANCE[np.clip(n, 1, MEDIAN_VARIANCE.size - 1)]
            * inflation
        )
        # A partner's lead must also exceed the minimum practical difference.
        lead = practical_gap(diff, mpd_per_kpi(evidence)[:, None, None])
        t_level = sign * lead / np.sqrt(variance)
        years_better = (both & (sign[..., None] * (theirs - mine) > 0)).sum(axis=3)
    # Partners matter only where the focal municipality is behind: p only there.
    candidate = np.argwhere(behind[:, :, None] & (t_level > 0) & both[..., -1])
    kk, ff, jj = candidate.T
    total_df = evidence.noise.total_df
    df = np.minimum(total_df[kk, peers[ff, jj]], total_df[kk, focal_idx[ff]])
    p_level = two_sided_p(t_level[kk, ff, jj], df, evidence.noise.tail_df[kk])
    level_partner = np.zeros(t_level.shape, dtype=bool)
    level_partner[kk, ff, jj] = p_level < LEVEL_ALPHA
    rows = np.unique(np.concatenate([focal_idx, peers.ravel()]))
    # Trends are context for the KPIs where some municipality is behind: only those.
    slopes = _slopes_where(evidence, rows, np.flatnonzero(behind.any(axis=1)))
    where = np.searchsorted(rows, peers)
    own_row = np.searchsorted(rows, focal_idx)
    sign3 = evidence.signs[:, None, None, None]
    with np.errstate(invalid="ignore"):
        better_than_own = (
            sign3 * (slopes.shrunk[:, where, :] - slopes.shrunk[:, own_row, None, :]) > 0
        )
        improving_years = (
            slopes.significant[:, where, :] & (slopes.z[:, where, :] > Z95) & better_than_own
        ).sum(axis=3)
    improving_partner = improving_years >= IMPROVING_WINDOWS
    behind_mask = behind[:, :, None]
    return LearningMatrix(
        evidence=evidence,
        focal=focal_idx,
        peers=peers,
        tested=tested,
        behind=behind,
        ahead=ahead,
        years_behind=years_behind.astype(np.int64),
        q_value=q_value,
        level_partner=level_partner & behind_mask,
        improving_partner=improving_partner & behind_mask,
        years_better=years_better.astype(np.int64),
        gaps=gaps,
        slopes=slopes,
        q=q,
    )


def _slopes_where(
    evidence: Evidence, rows: npt.NDArray[np.int64], kpis: npt.NDArray[np.int64]
) -> Slopes:
    """:func:`recent_slopes` for the KPIs ``kpis`` only; NaN (not significant) for the
    others, on the full KPI axis."""
    shape = (len(evidence.kpis), rows.size, RECENT)
    out = Slopes(
        rows=rows,
        slope=np.full(shape, np.nan),
        shrunk=np.full(shape, np.nan),
        z=np.full(shape, np.nan),
        significant=np.zeros(shape, dtype=bool),
    )
    if kpis.size:
        part = recent_slopes(restrict(evidence, kpis), rows)
        for name in ("slope", "shrunk", "z", "significant"):
            getattr(out, name)[kpis] = getattr(part, name)
    return out


def find_learning_partners(
    evidence: Evidence,
    municipality: str,
    peers: Sequence[str],
    *,
    areas: Sequence[str] | None = None,
    q: float = 0.05,
) -> Learning:
    """Learning partners for one municipality among ``peers``. ``areas`` restricts the
    KPIs to those operating areas (matched case-insensitively; the FDR then runs over
    just those KPIs)."""
    index = {m: i for i, m in enumerate(evidence.municipalities)}
    if municipality not in index:
        raise InvalidInputError(
            f"Kommunen {municipality} finns inte i underlaget.",
            hint="Ange kommunen med namn eller kod, t.ex. `Kungsbacka` eller `1384`.",
        )
    peer_idx = [index[p] for p in peers if p in index and p != municipality]
    if len(peer_idx) < MIN_PEERS_FOR_LEARNING:
        raise InvalidInputError(
            f"För få jämförelsekommuner ({len(peer_idx)}) för {municipality}.",
            hint=f"Välj minst {MIN_PEERS_FOR_LEARNING}, t.ex. med --k 7.",
        )
    if areas:
        wanted = {a.casefold() for a in areas}
        keep = [k for k, a in enumerate(evidence.areas) if a.casefold() in wanted]
        if not keep:
            raise InvalidInputError(
                f"Inget nyckeltal hör till området {', '.join(areas)}.",
                hint="Områdena är: " + ", ".join(sorted(set(evidence.areas))) + ".",
            )
        evidence = restrict(evidence, keep)
    matrix = learning_matrix(
        evidence, np.array([peer_idx], dtype=np.int64), focal=[index[municipality]], q=q
    )
    return matrix.learning(0)


MIN_PEERS_FOR_LEARNING = 3
#: A level partner's mean is better than the focal municipality's at this two-sided level.
LEVEL_ALPHA = 0.05
#: "Clearly improving" (context): in at least this many of the last RECENT windows.
IMPROVING_WINDOWS = 2


def restrict(evidence: Evidence, kpis: Sequence[int] | npt.NDArray[np.int64]) -> Evidence:
    """The same evidence for a subset of KPIs (indices)."""
    k = np.asarray(kpis, dtype=np.int64)
    w = evidence.windowed
    return Evidence(
        windowed=Windowed(
            kpis=tuple(w.kpis[i] for i in k),
            municipalities=w.municipalities,
            end_years=w.end_years[k],
            values=w.values[k],
        ),
        noise=evidence.noise.subset(k),
        levels=Levels(
            shrunk=evidence.levels.shrunk[k],
            posterior_variance=evidence.levels.posterior_variance[k],
            weight=evidence.levels.weight[k],
            mean=evidence.levels.mean[k],
            between_variance=evidence.levels.between_variance[k],
        ),
        polarity=tuple(evidence.polarity[i] for i in k),
        areas=tuple(evidence.areas[i] for i in k),
        comparable=evidence.comparable[k],
        population=evidence.population,
        fits=None if evidence.fits is None else evidence.fits[k],
        misfit=tuple(evidence.misfit[i] for i in k) if evidence.misfit else (),
        mpd=None if evidence.mpd is None else evidence.mpd[k],
    )
