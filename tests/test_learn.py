"""Who to learn from (learning_matrix, find_learning_partners) and the verdict rule behind
it (judge_gaps), on synthetic panels where the truth is planted: one test per KPI of the
mean gap over the last three years beyond the noise, the latest year on the same side,
with the false discovery rate held across the KPIs of one municipality; level partners
only, clearly improving peers as context."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytest
from scipy import special, stats

from tillit.analyses import (
    RECENT,
    Evidence,
    Gaps,
    LearningMatrix,
    Panel,
    Polarity,
    Verdicts,
    benjamini_hochberg,
    find_learning_partners,
    gather_evidence,
    judge_gaps,
    learning_matrix,
)
from tillit.errors import InvalidInputError

YEARS = tuple(range(2011, 2023))  # twelve years: the 10-year window fits with room
T = len(YEARS)
N = 60
Z95 = float(special.ndtri(0.975))
FOCAL = 0
PEERS = (1, 2, 3, 4, 5, 6, 7)


def _codes(n: int) -> tuple[str, ...]:
    return tuple(f"{1000 + i:04d}" for i in range(n))


def _kpis(k: int) -> tuple[str, ...]:
    return tuple(f"N{10000 + i}" for i in range(k))


def _evidence(
    values: np.ndarray,
    *,
    population: np.ndarray | None = None,
    polarity: Mapping[str, Polarity] | None = None,
    titles: Mapping[str, str] | None = None,
    areas: Mapping[str, str] | None = None,
) -> Evidence:
    kpis, n = _kpis(values.shape[0]), values.shape[1]
    if population is None:
        population = np.exp(np.random.default_rng(0).uniform(np.log(3e3), np.log(3e5), n))
    return gather_evidence(
        Panel(kpis, _codes(n), YEARS, values),
        population,
        polarity=polarity if polarity is not None else dict.fromkeys(kpis, Polarity.HIGHER),
        titles=titles,
        areas=areas,
    )


def _background(seed: int, kpis: int) -> tuple[np.ndarray, np.ndarray]:
    """True levels (kpi, municipality, year) and unit noise. Levels differ between
    municipalities, but the focal one sits exactly at its peers' median: no gap."""
    rng = np.random.default_rng(seed)
    level = np.repeat(rng.normal(50.0, 5.0, (kpis, N, 1)), T, axis=2)
    level[:, FOCAL] = np.median(level[:, list(PEERS)], axis=1)
    return level, rng.normal(0.0, 1.0, (kpis, N, T))


def _planted(behind_years: Sequence[int], *, kpis: int = 10, seed: int = 1) -> np.ndarray:
    """KPI 0: peers 1–2 at 40, peer 3 climbing from 26 by 1.5 a year, peers 4–7 at 60
    (the peer median); the focal municipality at 60, except 40 in ``behind_years``."""
    level, noise = _background(seed, kpis)
    level[0, [1, 2]] = 40.0
    level[0, 3] = 26.0 + 1.5 * np.arange(T)
    level[0, 4:8] = 60.0
    level[0, FOCAL] = 60.0
    level[0, FOCAL, list(behind_years)] = 40.0
    return level + noise


def _matrix(values: np.ndarray) -> LearningMatrix:
    return learning_matrix(_evidence(values), np.array([PEERS]), focal=[FOCAL])


def test_a_municipality_clearly_behind_for_three_years_is_flagged_with_the_better_peers() -> None:
    values = _planted(range(T))
    evidence = _evidence(values)
    codes = _codes(N)
    learning = find_learning_partners(evidence, codes[FOCAL], [codes[p] for p in PEERS])
    assert learning.municipality == codes[FOCAL]
    assert learning.peers == tuple(codes[p] for p in PEERS)
    assert [f.kpi for f in learning.findings] == ["N10000"]
    (finding,) = learning.findings
    assert finding.year == 2022 and finding.polarity is Polarity.HIGHER
    assert finding.z < -Z95 and finding.q_value <= 0.05 and finding.years_behind == RECENT
    assert finding.value == values[0, FOCAL, -1]
    # The median of the shrunken peers: the lowest of the four at 60, pulled toward 50.
    assert 55.0 < finding.shrunk_peer_median < 60.0
    peers = values[0, list(PEERS), -1]
    assert finding.peer_median == pytest.approx(np.median(peers[~np.isnan(peers)]))
    assert finding.difference == pytest.approx(finding.value - finding.peer_median)
    assert finding.shrunk_difference == pytest.approx(finding.shrunk - finding.shrunk_peer_median)
    assert -21.0 < finding.difference < -15.0
    # Partners are the peers with a clearly better level, and only those.
    assert {p.municipality for p in finding.partners} == {codes[p] for p in (4, 5, 6, 7)}
    assert all(p.level for p in finding.partners)
    assert not {codes[1], codes[2]} & {p.municipality for p in finding.partners}
    # The climber improves clearly but is not better: context, not a partner.
    (climber,) = finding.also_improving
    assert climber.municipality == codes[3] and climber.improving and not climber.level
    assert climber.slope == pytest.approx(1.5, abs=0.4)
    for partner in (*finding.partners, climber):
        j = codes.index(partner.municipality)
        assert partner.value == values[0, j, -1]
        assert partner.shrunk == pytest.approx(evidence.levels.shrunk[0, j, -1])
        assert np.isfinite(partner.slope)
    # (Whether a null KPI is flagged "ahead" here is chance at about the FDR level: the
    # null tests below pin that rate.)
    assert learning.tested == 10
    assert learning.without_polarity == 0 and learning.size_dependent == 0


def _gap_in(years: Sequence[int], gap: float, *, seed: int = 1) -> np.ndarray:
    """The background of 10 KPIs with the focal municipality ``gap`` noise units below its
    peers' median on KPI 0 in ``years``."""
    level, noise = _background(seed, 10)
    level[0, FOCAL, list(years)] -= gap
    return level + noise


def test_a_modest_gap_in_the_latest_year_only_is_not_flagged_but_held_three_years_it_is() -> None:
    # One year 3 noise units behind: the mean over three years is not beyond the noise …
    once = _matrix(_gap_in([T - 1], 3.0))
    assert once.gaps.z[0, 0, -1] < -Z95  # (that year alone looks clear)
    assert not once.behind[0, 0]
    # … the same gap held for three years is one clear finding.
    held = _matrix(_gap_in([T - 3, T - 2, T - 1], 3.0))
    assert held.behind[:, 0].tolist() == [True] + [False] * 9
    assert held.years_behind[0, 0] == RECENT and held.gaps.years[0, 0] == RECENT


def test_a_gap_closed_in_the_latest_year_is_not_flagged() -> None:
    values = _planted([T - 3, T - 2])
    values[0, FOCAL, -1] = 70.0  # now above the peers' median of 60
    matrix = _matrix(values)
    assert (matrix.gaps.z[0, 0, :2] < -Z95).all()
    assert matrix.gaps.t[0, 0] < 0  # behind on average …
    assert not matrix.behind[0, 0] and not matrix.ahead[0, 0]  # … but not this year


def test_a_gap_in_the_two_latest_years_is_flagged() -> None:
    matrix = _matrix(_planted([T - 2, T - 1]))
    assert matrix.behind[0, 0] and matrix.years_behind[0, 0] >= 2
    assert matrix.behind[:, 0].tolist() == [True] + [False] * 9


def test_kpis_with_unknown_polarity_or_size_dependent_titles_are_not_tested() -> None:
    level, noise = _background(2, 8)
    for k in (0, 1, 2, 3):  # the same planted gap on four KPIs
        level[k, list(PEERS)] = 60.0
        level[k, FOCAL] = 40.0
    kpis = _kpis(8)
    polarity = dict.fromkeys(kpis, Polarity.HIGHER)
    polarity[kpis[1]] = Polarity.UNKNOWN
    polarity[kpis[2]] = Polarity.NEITHER
    titles = {kpis[3]: "Invånare totalt, antal"}
    evidence = _evidence(level + noise, polarity=polarity, titles=titles)
    matrix = learning_matrix(evidence, np.array([PEERS]), focal=[FOCAL])
    assert matrix.tested[:, 0].tolist() == [True, False, False, False, True, True, True, True]
    assert np.flatnonzero(matrix.behind[:, 0]).tolist() == [0]
    learning = matrix.learning(0)
    assert [f.kpi for f in learning.findings] == [kpis[0]]
    assert learning.tested == 5
    assert learning.without_polarity == 2 and learning.size_dependent == 1


def test_lower_is_better_flags_the_municipality_that_is_higher() -> None:
    level, noise = _background(3, 6)
    level[0, list(PEERS)] = 20.0
    level[0, FOCAL] = 35.0  # more of something bad
    level[1, list(PEERS)] = 20.0
    level[1, FOCAL] = 5.0  # less of something bad: ahead
    kpis = _kpis(6)
    polarity = dict.fromkeys(kpis, Polarity.HIGHER) | {
        kpis[0]: Polarity.LOWER,
        kpis[1]: Polarity.LOWER,
    }
    evidence = _evidence(level + noise, polarity=polarity)
    codes = _codes(N)
    learning = find_learning_partners(evidence, codes[FOCAL], [codes[p] for p in PEERS])
    # The planted KPI is found (a null KPI may join it at about the FDR level).
    finding = next(f for f in learning.findings if f.kpi == kpis[0])
    assert finding.kpi == kpis[0] and finding.polarity is Polarity.LOWER
    assert finding.z < -Z95 and finding.difference > 0  # higher value, behind
    assert {p.municipality for p in finding.partners if p.level} == {codes[p] for p in PEERS}
    assert kpis[1] in learning.ahead


def test_area_summaries_count_tested_behind_and_ahead() -> None:
    level, noise = _background(4, 6)
    level[0, list(PEERS)], level[0, FOCAL] = 60.0, 40.0  # behind, Skola
    level[3, list(PEERS)], level[3, FOCAL] = 40.0, 60.0  # ahead, Vård
    kpis = _kpis(6)
    areas = {kpis[0]: "Skola", kpis[1]: "Skola", kpis[2]: "Skola", kpis[3]: "Vård"}
    evidence = _evidence(level + noise, areas=areas)
    codes = _codes(N)
    learning = find_learning_partners(evidence, codes[FOCAL], [codes[p] for p in PEERS])
    summary = {a.area: (a.tested, a.behind, a.ahead) for a in learning.areas}
    assert summary == {"Skola": (3, 1, 0), "Vård": (1, 0, 1), "Övrigt": (2, 0, 0)}
    assert learning.findings[0].area == "Skola"
    only = find_learning_partners(evidence, codes[FOCAL], [codes[p] for p in PEERS], areas=["vård"])
    assert only.tested == 1 and only.findings == () and only.ahead == (kpis[3],)


def test_under_the_null_the_gap_p_values_are_uniform() -> None:
    values, peers = _clustered(seed=5, kpis=200)
    matrix = learning_matrix(_evidence(values), peers)
    p = matrix.gaps.p[matrix.tested]
    # The held-back check may drop a KPI by chance (its own test level is 0.1 %).
    assert p.size >= 0.98 * 200 * 64
    # Calibrated or a little conservative (ρ is never taken below 0): no excess of small
    # p-values, and the 5 % tail close to 5 %.
    assert stats.kstest(p, "uniform", alternative="greater").pvalue > 0.001
    assert 0.035 < (p < 0.05).mean() < 0.065
    assert 0.93 < matrix.gaps.t[matrix.tested].std() < 1.07


def _clustered(
    seed: int, kpis: int, *, planted: np.ndarray | None = None, gap: float = 0.0
) -> tuple[np.ndarray, np.ndarray]:
    """64 municipalities in 8 clusters of 8 that share a true level per KPI; each one's
    peers are the other 7 of its cluster. ``planted`` (kpi, municipality) puts those
    ``gap`` noise units behind."""
    rng = np.random.default_rng(seed)
    cluster = np.repeat(np.arange(8), 8)
    level = rng.normal(50.0, 5.0, (kpis, 8))[:, cluster]
    if planted is not None:
        level = level - gap * planted
    values = level[:, :, None] + rng.normal(0.0, 1.0, (kpis, 64, T))
    peers = np.array(
        [[j for j in range(64) if cluster[j] == cluster[i] and j != i] for i in range(64)]
    )
    return values, peers


def test_with_pure_noise_over_many_kpis_false_findings_stay_rare() -> None:
    values, peers = _clustered(seed=6, kpis=200)
    matrix = learning_matrix(_evidence(values), peers)
    findings = matrix.behind.sum(axis=0)
    # Under the complete null every finding is false: FDP is 1 where there is any.
    assert (findings > 0).mean() <= 0.1
    assert findings.sum() <= 0.001 * matrix.tested.sum()
    assert matrix.tested.mean() >= 0.98


def test_false_discovery_proportion_stays_small_among_real_gaps() -> None:
    rng = np.random.default_rng(7)
    planted = np.zeros((200, 64), dtype=bool)
    for i in range(64):
        planted[rng.choice(200, size=20, replace=False), i] = True
    values, peers = _clustered(seed=8, kpis=200, planted=planted, gap=4.0)
    matrix = learning_matrix(_evidence(values), peers)
    false = (matrix.behind & ~planted).sum(axis=0)
    found = matrix.behind.sum(axis=0)
    fdp = false / np.maximum(found, 1)
    assert fdp.mean() <= 0.1
    assert (matrix.behind & planted).sum() / planted.sum() >= 0.4  # and real gaps are found


def test_a_tiny_municipality_with_one_lucky_year_is_not_crowned_a_level_partner() -> None:
    rng = np.random.default_rng(21)
    population = np.exp(rng.uniform(np.log(2_500), np.log(300_000), N))
    population[FOCAL], population[1], population[2] = 20_000, 1_500, 200_000
    population[3:8] = 30_000
    noise_sd = 150.0 / np.sqrt(population)  # small municipalities are noisier
    level = rng.normal(45.0, 5.0, N)
    level[FOCAL] = 40.0
    level[1] = 40.0  # tiny: as good as the focal one …
    level[2] = 48.0  # large: stably better
    level[3:8] = [40.0, 40.0, 48.0, 48.0, 48.0]
    values = level[:, None] + rng.normal(0.0, 1.0, (N, T)) * noise_sd[:, None]
    values[1, -1] = 62.0  # … but one lucky year
    evidence = _evidence(values[None], population=population)
    codes = _codes(N)
    learning = find_learning_partners(evidence, codes[FOCAL], [codes[p] for p in PEERS])
    (finding,) = learning.findings
    partners = {p.municipality: p for p in finding.partners}
    assert values[1, -1] > values[2, -1]  # ranked on raw values, the tiny one would win
    assert codes[1] not in partners or not partners[codes[1]].level
    assert partners[codes[2]].level and partners[codes[2]].years_better == RECENT
    assert {m for m, p in partners.items() if p.level} == {codes[p] for p in (2, 5, 6, 7)}
    # Shrinkage pulls the lucky year well back toward the mean; the large one keeps its own.
    assert evidence.levels.shrunk[0, 1, -1] < values[1, -1] - 5.0
    assert evidence.levels.weight[0, 1, -1] < 0.7 < 0.95 < evidence.levels.weight[0, 2, -1]


def _verdicts(
    t_values: list[float],
    tested: list[bool] | None = None,
    q: float = 0.05,
    latest: list[float] | None = None,
) -> Verdicts:
    """judge_gaps on one focal municipality whose KPIs have test statistics ``t_values``
    (normal p-values) and latest-year gaps of the same sign (or ``latest``)."""
    t = np.array(t_values, dtype=np.float64)[:, None]
    k = t.shape[0]
    z_latest = np.array(latest if latest is not None else t_values, dtype=np.float64)
    z = np.repeat(z_latest[:, None, None], RECENT, axis=2)
    nan = np.full((k, 1, RECENT), np.nan)
    gaps = Gaps(
        focal=np.array([0]),
        peers=np.array([[1, 2, 3]]),
        own=nan,
        peer_median=nan,
        difference=nan,
        z=z,
        peer_count=np.full((k, 1, RECENT), 7),
        raw_difference=z,
        mean_difference=t,
        t=t,
        df=np.full((k, 1), 1e6),
        p=2.0 * special.ndtr(-np.abs(t)),
        years=np.full((k, 1), RECENT),
    )
    mask = np.array(tested if tested is not None else [True] * k)[:, None]
    return judge_gaps(gaps, mask, q)


@pytest.mark.parametrize(
    ("t", "latest", "worse"),
    [
        (-8.0, -1.0, True),
        (-1.0, -1.0, False),  # within the noise
        (-8.0, 1.0, False),  # behind on average, but not in the latest year
        (np.nan, -1.0, False),  # not tested (no latest value)
    ],
)
def test_a_verdict_needs_a_clear_mean_gap_and_the_latest_year_on_that_side(
    t: float, latest: float, worse: bool
) -> None:
    verdicts = _verdicts([t], latest=[latest])
    assert bool(verdicts.worse[0, 0]) is worse
    assert not verdicts.better[0, 0]
    flipped = _verdicts([-t], latest=[-latest])
    assert bool(flipped.better[0, 0]) is worse and not flipped.worse[0, 0]


def test_the_false_discovery_rate_is_held_across_the_kpis_tested_together() -> None:
    gap = -2.2  # p ≈ 0.028
    alone = _verdicts([gap, *[0.0] * 19])  # one of 20: 0.028 · 20 > 0.05
    assert not alone.worse[0, 0]
    assert alone.q_value[0, 0] == pytest.approx(min(1.0, 20 * 2 * special.ndtr(-2.2)))
    together = _verdicts([gap] * 20)  # all 20 alike: each survives
    assert together.worse[:, 0].all()
    # KPIs that are not tested do not use up the error budget.
    untested = _verdicts([gap, *[0.0] * 19], tested=[True] + [False] * 19)
    assert untested.worse[0, 0] and np.isnan(untested.q_value[1:, 0]).all()


def test_q_values_are_benjamini_hochberg_of_the_one_test_per_kpi() -> None:
    rng = np.random.default_rng(9)
    t = rng.normal(0.0, 2.0, 30)
    verdicts = _verdicts(t.tolist())
    _, expected = benjamini_hochberg(2.0 * special.ndtr(-np.abs(t)))
    np.testing.assert_allclose(verdicts.q_value[:, 0], expected)
    judged = (verdicts.worse | verdicts.better)[:, 0]
    assert (verdicts.q_value[judged, 0] <= 0.05).all()


def test_bad_arguments_are_invalid_input() -> None:
    evidence = _evidence(_planted(range(T), kpis=3))
    codes = _codes(N)
    with pytest.raises(InvalidInputError):
        find_learning_partners(evidence, "9999", codes[1:8])
    with pytest.raises(InvalidInputError, match="För få"):
        find_learning_partners(evidence, codes[0], [codes[0], codes[1], "9999"])
    with pytest.raises(InvalidInputError, match="Inget nyckeltal"):
        find_learning_partners(evidence, codes[0], codes[1:8], areas=["Kultur"])
    with pytest.raises(InvalidInputError):
        learning_matrix(evidence, np.array([PEERS]), focal=[FOCAL], q=1.5)
    with pytest.raises(InvalidInputError):
        learning_matrix(evidence, np.array([PEERS, PEERS]), focal=[FOCAL])
    with pytest.raises(InvalidInputError):
        gather_evidence(
            Panel(_kpis(1), _codes(N), YEARS, np.ones((1, N, T))), np.ones(N - 1), polarity={}
        )
    with pytest.raises(InvalidInputError):
        gather_evidence(
            Panel(_kpis(1), _codes(N), YEARS, np.ones((1, N, T))), np.ones(N), polarity={}, window=4
        )


def test_the_national_matrix_agrees_with_one_municipality_at_a_time() -> None:
    values, peers = _clustered(seed=10, kpis=40, planted=np.eye(40, 64, dtype=bool), gap=6.0)
    evidence = _evidence(values)
    matrix = learning_matrix(evidence, peers)
    codes = _codes(64)
    for i in (0, 5, 17, 39):
        one = find_learning_partners(evidence, codes[i], [codes[j] for j in peers[i]])
        assert one == matrix.learning(i)
        assert [f.kpi for f in one.findings] == [_kpis(40)[i]]
