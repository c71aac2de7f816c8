"""The analyses on 21 units (the regions, issue 15): generated panels of 21 regions × 12
years × 200 KPIs with the features of the real panel — noise levels differing between KPIs
and falling with size, AR(1) noise, some heavy-tailed KPIs, variances scattering beyond the
size model, national year effects and level differences between groups of regions. Under
the per-unit null (no region differs from its peers beyond noise) at most 5 % of the regions
may get any flag, in ``compare`` and in ``learn``; a planted difference of a few noise SDs
must be found. docs/analyses.md, "Regions: 21 units", has the figures and the reasons."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from tillit.analyses import Evidence, Panel, Polarity, compare, gather_evidence, learning_matrix

#: Approximate 2022 populations of the 21 regions (Kolada ids 0001–0025), 61 k – 2.4 M.
POPULATION = np.array(
    [2_415_000, 395_000, 300_000, 468_000, 366_000, 203_000, 246_000, 61_000, 157_000,
     1_403_000, 340_000, 1_744_000, 283_000, 306_000, 279_000, 288_000, 287_000, 244_000,
     132_000, 275_000, 249_000],
    dtype=np.float64,
)  # fmt: skip
REGIONS = (
    "0001", "0003", "0004", "0005", "0006", "0007", "0008", "0009", "0010", "0012", "0013",
    "0014", "0017", "0018", "0019", "0020", "0021", "0022", "0023", "0024", "0025",
)  # fmt: skip
N = len(REGIONS)
YEARS = tuple(range(2011, 2023))
T = len(YEARS)
KPIS = 200
#: Regions in three structural groups of seven; a region's peers are the other six of its
#: group, which share its true level on every KPI (the null).
GROUPS = np.arange(N) % 3


@dataclass(frozen=True)
class Generated:
    values: npt.NDArray[np.float64]  # (kpi, region, year)
    sd: npt.NDArray[np.float64]  # (kpi, region): the true noise SD
    level: npt.NDArray[np.float64]  # (kpi, region): the true level (its group's)
    peers: npt.NDArray[np.int64]  # (region, 6)


def generate(
    seed: int,
    *,
    kpis: int = KPIS,
    scatter: float = 0.35,
    max_rho: float = 0.7,
    heavy_share: float = 0.2,
) -> Generated:
    """A null panel. Per KPI: the noise SD at the median size (0.3–3, log-uniform), the
    slope of log variance on log population (−1 to 0), ρ (0 to ``max_rho``), t₅ noise for
    ``heavy_share`` of the KPIs; per series a variance scattered around that size model
    (log-normal, SD ``scatter``); a national random walk shared by all regions; group
    levels three noise SDs apart on average."""
    rng = np.random.default_rng(seed)
    sigma = np.exp(rng.uniform(np.log(0.3), np.log(3.0), kpis))
    slope = rng.uniform(-1.0, 0.0, kpis)
    rho = rng.uniform(0.0, max_rho, kpis)
    heavy = rng.random(kpis) < heavy_share
    log_variance = (
        2.0 * np.log(sigma)[:, None]
        + slope[:, None] * np.log(POPULATION / np.median(POPULATION))[None, :]
        + rng.normal(0.0, scatter, (kpis, N))
    )
    sd = np.exp(log_variance / 2.0)
    z = rng.standard_normal((kpis, N, T))
    t5 = rng.standard_t(5, (kpis, N, T)) / np.sqrt(5.0 / 3.0)
    z = np.where(heavy[:, None, None], t5, z)
    e = np.empty_like(z)
    e[..., 0] = z[..., 0]
    for t in range(1, T):
        e[..., t] = rho[:, None] * e[..., t - 1] + np.sqrt(1.0 - rho**2)[:, None] * z[..., t]
    national = np.cumsum(rng.normal(0.0, 1.0, (kpis, 1, T)) * sigma[:, None, None], axis=2)
    group_level = 50.0 + rng.normal(0.0, 3.0, (kpis, 3)) * sigma[:, None]
    values = group_level[:, GROUPS, None] + national + e * sd[..., None]
    peers = np.array([[j for j in range(N) if GROUPS[j] == GROUPS[i] and j != i] for i in range(N)])
    return Generated(values=values, sd=sd, level=group_level[:, GROUPS], peers=peers)


def _kpis(k: int) -> tuple[str, ...]:
    return tuple(f"N{10000 + i}" for i in range(k))


def _evidence(values: npt.NDArray[np.float64]) -> Evidence:
    kpis = _kpis(values.shape[0])
    return gather_evidence(
        Panel(kpis, REGIONS, YEARS, values),
        POPULATION,
        polarity=dict.fromkeys(kpis, Polarity.HIGHER),
    )


def _learn_flags(generated: Generated) -> tuple[npt.NDArray[np.bool_], npt.NDArray[np.bool_]]:
    """Per (kpi, region): flagged behind or ahead by ``learning_matrix``; and per region:
    tested on at least one KPI."""
    matrix = learning_matrix(_evidence(generated.values), generated.peers)
    return matrix.behind | matrix.ahead, matrix.tested.any(axis=0)


def test_under_the_null_at_most_five_percent_of_the_regions_get_any_learning_flag() -> None:
    flagged = judged = 0
    for seed in range(20):
        flags, tested = _learn_flags(generate(seed))
        flagged += int((flags.any(axis=0) & tested).sum())
        judged += int(tested.sum())
    assert judged == 20 * N
    # scripts/regions_calibration.py: 2.9 % of 2,100 (seeds 0–99); before issue 15 (ρ taken
    # as known, the prior's degrees of freedom per KPI) 19.6 %.
    assert flagged / judged <= 0.05


def test_under_the_null_the_rate_holds_with_strongly_scattered_variances_and_white_noise() -> None:
    for options in ({"scatter": 0.7}, {"max_rho": 0.0, "heavy_share": 0.0}):
        flagged = judged = 0
        for seed in range(100, 115):
            flags, tested = _learn_flags(generate(seed, **options))  # type: ignore[arg-type]
            flagged += int((flags.any(axis=0) & tested).sum())
            judged += int(tested.sum())
        assert flagged / judged <= 0.05, options


def test_under_the_null_compare_calls_at_most_five_percent_of_the_regions_clearly_different() -> (
    None
):
    """``compare`` runs the same test as ``learn`` (one Benjamini–Hochberg per region over
    its KPIs): its clearly better / worse KPIs are learn's ahead / behind, region by
    region."""
    flagged = judged = 0
    for seed in range(200, 203):
        generated = generate(seed)
        evidence = _evidence(generated.values)
        matrix = learning_matrix(evidence, generated.peers)
        for i, region in enumerate(REGIONS):
            peers = [REGIONS[j] for j in generated.peers[i]]
            tiers = {c.kpi: c.tier for c in compare(evidence, region, peers)}
            better = {k for k, tier in tiers.items() if tier == "clearly_better"}
            worse = {k for k, tier in tiers.items() if tier == "clearly_worse"}
            assert better == {evidence.kpis[k] for k in np.flatnonzero(matrix.ahead[:, i])}
            assert worse == {evidence.kpis[k] for k in np.flatnonzero(matrix.behind[:, i])}
            judged += 1
            flagged += bool(better or worse)
    assert judged == 3 * N
    assert flagged / judged <= 0.05


def _planted(seed: int, shift_sd: float, planted: int = 10) -> tuple[int, int]:
    """Region 10 (Halland) made better than its peers by ``shift_sd`` of its own noise
    SDs, in every year, on the first ``planted`` KPIs: (found, falsely flagged others)."""
    generated = generate(seed)
    values = generated.values.copy()
    focal = 10
    values[:planted, focal, :] += shift_sd * generated.sd[:planted, focal, None]
    matrix = learning_matrix(_evidence(values), generated.peers[[focal]], focal=[focal])
    ahead = matrix.ahead[:, 0]
    wrong = (matrix.ahead | matrix.behind)[planted:, 0]
    return int(ahead[:planted].sum()), int(wrong.sum())


def test_a_difference_of_five_noise_sds_is_found_in_most_regions_kpis() -> None:
    found = wrong = 0
    for seed in range(300, 310):
        f, w = _planted(seed, 5.0)
        found += f
        wrong += w
    # scripts/regions_calibration.py, seeds 300–339: 50 % found at five SDs, 89 % at eight;
    # before issue 15, 87 % and 96 %, but its null flagged a fifth of the regions.
    assert found >= 50
    assert wrong <= 3


def test_the_power_grows_with_the_planted_difference() -> None:
    found = {sd: sum(_planted(seed, sd)[0] for seed in range(300, 310)) for sd in (1, 3, 8)}
    # scripts/regions_calibration.py, seeds 300–339: 0.2 %, 13.5 % and 89.2 %.
    assert found[1] <= 3 < found[3] < found[8]
    assert found[8] >= 80


def test_with_peers_at_different_levels_the_false_flags_stay_near_five_percent() -> None:
    """Peers not at one level: each region's level is drawn (SD twice the KPI's mean noise
    SD), and the regions 0, 7 and 14 (Stockholm, Gotland and Västmanland: the two ends of
    the size range) — none another's peer — are set to their peers' median level. The
    peers' median then has more noise than a median of peers at one level and is not
    centred on their levels' median; the test counts both (``median_noise``:
    docs/analyses.md, "Comparison"). Before it did, this null flagged 6.0 % of the
    regions (seeds 600–799)."""
    flagged = judged = 0
    focal = [0, 7, 14]
    for seed in range(600, 680):
        rng = np.random.default_rng(seed)
        generated = generate(seed)
        noise = generated.values - generated.level[..., None]  # national walk + noise
        level = rng.normal(0.0, 2.0, (KPIS, N, 1)) * generated.sd.mean(axis=1)[:, None, None]
        peers = np.array([[j for j in np.argsort(np.abs(np.arange(N) - i))[1:6]] for i in range(N)])
        for i in focal:
            level[:, i] = np.median(level[:, peers[i]], axis=1)
        matrix = learning_matrix(_evidence(level + noise + 50.0), peers[focal], focal=focal)
        flagged += int((matrix.behind | matrix.ahead).any(axis=0).sum())
        judged += len(focal)
    # scripts/regions_calibration.py: 4.3 % of 600 (95 % 3.0–6.3 %, seeds 600–799; these
    # seeds 600–679: 5.0 %); with the peers at one level 4.0 %. With the earlier median
    # variance (peers counted near the median, no bias) 6.0 % and 3.8 %.
    assert flagged / judged <= 0.06


def test_a_kpi_published_every_other_year_is_not_measured_for_21_regions() -> None:
    """Three values in the seven fitted years give each series two changes: with 21 series
    ρ is not pinned down (the real panel's null flagged on such KPIs), so the KPI is not
    tested; the same KPI published every year is."""
    generated = generate(500, kpis=20)
    values = generated.values.copy()
    values[0, :, 1::2] = np.nan  # KPI 0 every other year (2011, 2013, … 2021)
    evidence = _evidence(values)
    assert not evidence.noise.measured[0]
    assert evidence.noise.measured[1:].all()
    peers = [REGIONS[j] for j in generated.peers[10]]
    (comparison,) = compare(evidence, REGIONS[10], peers, kpis=["N10000"])
    assert comparison.tier == "noise_unknown"
    matrix = learning_matrix(evidence, generated.peers)
    assert not matrix.tested[0].any() and matrix.tested[1:].all()
