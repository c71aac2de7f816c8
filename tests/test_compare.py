"""A municipality against its peers and all municipalities (compare), and the title rules
that decide what may be ranked (size_dependent) and which counts a funnel may use
(denominator_rule)."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pytest
from scipy import special

from tillit.analyses import (
    TIER_LABELS,
    Comparison,
    Denominators,
    Evidence,
    Panel,
    Polarity,
    benjamini_hochberg,
    compare,
    denominator_rule,
    gather_evidence,
    size_dependent,
)
from tillit.analyses._noise import two_sided_p
from tillit.errors import InvalidInputError

YEARS = tuple(range(2011, 2023))
T = len(YEARS)
N = 60
CODES = tuple(f"{1000 + i:04d}" for i in range(N))
FOCAL = CODES[0]
PEERS = CODES[1:8]
POPULATION = np.exp(np.random.default_rng(0).uniform(np.log(3e3), np.log(3e5), N))


def _values(seed: int, focal_level: float, *, kpis: int = 1, mean: float = 50.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    level = rng.normal(mean, 5.0, (kpis, N, 1))
    level[:, 1:8] = mean
    level[:, 0] = focal_level
    return level + rng.normal(0.0, 1.0, (kpis, N, T))


def _evidence(
    values: np.ndarray,
    kpis: tuple[str, ...],
    polarity: Mapping[str, Polarity],
    titles: Mapping[str, str] | None = None,
) -> Evidence:
    return gather_evidence(
        Panel(kpis, CODES, YEARS, values), POPULATION, polarity=polarity, titles=titles
    )


def _one(
    evidence: Evidence, kpi: str, denominators: Mapping[str, Denominators] | None = None
) -> Comparison:
    (result,) = compare(evidence, FOCAL, PEERS, kpis=[kpi], denominators=denominators)
    return result


def test_tier_rank_and_percentile_follow_the_polarity() -> None:
    top = _values(1, 80.0)  # the focal municipality has the highest value of all
    values = np.concatenate([top, top, top])
    kpis = ("H", "L", "U")
    polarity = {"H": Polarity.HIGHER, "L": Polarity.LOWER, "U": Polarity.UNKNOWN}
    higher, lower, unknown = compare(_evidence(values, kpis, polarity), FOCAL, PEERS)
    assert (higher.tier, lower.tier, unknown.tier) == (
        "clearly_better",
        "clearly_worse",
        "clearly_higher",
    )
    assert higher.z > 0 > lower.z and unknown.z == pytest.approx(higher.z)
    assert (higher.rank, higher.percentile, higher.peer_rank) == (1, 100.0, 1)
    assert (lower.rank, lower.percentile) == (lower.count, 0.0)
    assert lower.peer_rank == lower.peer_count == 8
    assert (unknown.rank, unknown.percentile) == (1, 100.0)
    assert higher.count == N and higher.years_beyond == 3
    assert higher.tier_label == TIER_LABELS["clearly_better"]
    assert higher.funnel is not None and higher.funnel.position == "above_998"


def test_ranks_count_the_municipalities_that_do_better() -> None:
    values = _values(2, 50.0)
    latest = values[0, :, -1]
    for kpi, polarity, direction in (("H", Polarity.HIGHER, 1), ("L", Polarity.LOWER, -1)):
        result = _one(_evidence(values, (kpi,), {kpi: polarity}), kpi)
        own = direction * latest[0]
        assert result.rank == 1 + int((direction * latest > own).sum())
        assert result.percentile == pytest.approx(100 * (direction * latest < own).sum() / (N - 1))
        group = direction * latest[:8]
        assert result.peer_rank == 1 + int((group > own).sum())
        assert result.national_median == pytest.approx(np.median(latest))
        assert result.value == latest[0]


def test_a_municipality_at_its_peers_level_is_in_line() -> None:
    result = _one(_evidence(_values(3, 50.0), ("H",), {"H": Polarity.HIGHER}), "H")
    assert result.tier == "in_line" and abs(result.z) < 1.96
    assert result.q_value > 0.05


def test_peer_medians_are_of_the_peers_published_and_shrunken_latest_values() -> None:
    evidence = _evidence(_values(4, 45.0), ("H",), {"H": Polarity.HIGHER})
    result = _one(evidence, "H")
    assert [p.municipality for p in result.peers] == list(PEERS)
    assert result.peer_median == pytest.approx(np.median([p.value for p in result.peers]))
    assert result.difference == pytest.approx(result.value - result.peer_median)
    assert result.shrunk_peer_median == pytest.approx(np.median([p.shrunk for p in result.peers]))
    assert result.shrunk_difference == pytest.approx(result.shrunk - result.shrunk_peer_median)
    for p in result.peers:
        j = CODES.index(p.municipality)
        assert p.value == evidence.windowed.values[0, j, -1]
        assert p.shrunk == pytest.approx(evidence.levels.shrunk[0, j, -1])
    assert result.shrunk == pytest.approx(evidence.levels.shrunk[0, 0, -1])
    assert 0 < result.shrink_weight <= 1
    assert result.noise_sd == pytest.approx(np.sqrt(evidence.noise.variance[0, 0]))


def test_several_kpis_get_benjamini_hochberg_q_values() -> None:
    rng = np.random.default_rng(5)
    levels = [50.0, 51.0, 52.0, 53.0, 47.0, 56.0, 44.0, 50.5, 49.0, 54.0]
    values = np.concatenate([_values(10 + i, lv) for i, lv in enumerate(levels)])
    values += rng.normal(0.0, 0.1, values.shape)
    kpis = tuple(f"K{i}" for i in range(len(levels)))
    evidence = _evidence(values, kpis, dict.fromkeys(kpis, Polarity.HIGHER))
    results = compare(evidence, FOCAL, PEERS)
    # One p-value per KPI, over the own variance's uncertainty with the peers' median's
    # variance known: in the tail between the normal p of z and the t p of z with the own
    # variance's degrees of freedom (or the noise's heavier tails where it has them).
    p = np.array([r.p_value for r in results])
    tails = evidence.noise.tail_df
    z = np.array([r.z for r in results])
    t_p = np.array(
        [two_sided_p(np.array(r.z), np.array(r.df), tails[k]) for k, r in enumerate(results)]
    )
    assert (p >= 2.0 * special.ndtr(-np.abs(z)) - 1e-12).all()
    tail = np.abs(z) >= 1.96
    assert tail.sum() >= 3 and (p[tail] <= t_p[tail] + 1e-12).all()
    _, expected = benjamini_hochberg(p)
    np.testing.assert_allclose([r.q_value for r in results], expected)
    assert any(r.q_value > pv for r, pv in zip(results, p, strict=True))
    # Alone, a KPI's q-value is its p-value.
    single = _one(evidence, "K3")
    assert single.q_value == pytest.approx(p[3])
    # Asking for two KPIs adjusts over those two only.
    pair = compare(evidence, FOCAL, PEERS, kpis=["K3", "K6"])
    np.testing.assert_allclose([r.q_value for r in pair], benjamini_hochberg(p[[3, 6]])[1])


def test_a_size_dependent_kpi_is_not_comparable_and_gets_no_funnel() -> None:
    values = _values(6, 80.0) * 1_000
    evidence = _evidence(
        values, ("S",), {"S": Polarity.HIGHER}, titles={"S": "Invånare totalt, antal"}
    )
    result = _one(evidence, "S")
    assert result.tier == "not_comparable" and not result.comparable
    assert result.funnel is None and result.rank is None and result.percentile is None
    assert result.peer_rank is None
    assert result.value == values[0, 0, -1]


def _check_limits(result: Comparison) -> None:
    f = result.funnel
    assert f is not None
    assert f.lower998 <= f.lower95 <= f.target <= f.upper95 <= f.upper998
    assert f.lower998 < f.upper998


def test_the_funnel_uses_the_counts_when_denominators_are_given() -> None:
    values = np.clip(_values(7, 30.0, mean=30.0), 0.5, 99.5)  # per cent
    evidence = _evidence(values, ("P",), {"P": Polarity.HIGHER})
    share = Denominators("proportion", POPULATION, 100.0, "Invånare totalt (N01951), 2022")
    binomial = _one(evidence, "P", denominators={"P": share})
    assert binomial.funnel is not None and binomial.funnel.method == "binomial"
    assert 25.0 < binomial.funnel.target < 35.0  # per cent, like the KPI
    _check_limits(binomial)
    rate = Denominators("ratio", POPULATION, 100.0, "Invånare totalt (N01951), 2022")
    poisson = _one(evidence, "P", denominators={"P": rate})
    assert poisson.funnel is not None and poisson.funnel.method == "poisson"
    _check_limits(poisson)
    band = _one(evidence, "P")
    assert band.funnel is not None and band.funnel.method == "noise band"
    _check_limits(band)
    assert band.funnel.position == "inside"


def test_a_missing_latest_value_or_too_few_peers_is_said_so() -> None:
    values = _values(8, 50.0)
    values[0, 0, -1] = np.nan
    missing = _one(_evidence(values, ("H",), {"H": Polarity.HIGHER}), "H")
    assert missing.tier == "no_data" and missing.rank is None and missing.funnel is None
    values = _values(8, 50.0)
    values[0, 3:8, -1] = np.nan  # two peers left with a value this year
    few = _one(_evidence(values, ("H",), {"H": Polarity.HIGHER}), "H")
    assert few.tier == "too_few_peers" and np.isnan(few.z)
    assert few.peer_count == 3 and few.rank is not None


def test_bad_municipality_or_no_peers_is_invalid_input() -> None:
    evidence = _evidence(_values(9, 50.0), ("H",), {"H": Polarity.HIGHER})
    with pytest.raises(InvalidInputError):
        compare(evidence, "9999", PEERS)
    with pytest.raises(InvalidInputError, match="jämförelsekommuner"):
        compare(evidence, FOCAL, [FOCAL, "9999"])
    assert compare(evidence, FOCAL, PEERS, kpis=["N99999"]) == ()


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        ("Invånare totalt, antal", True),  # N01951
        ("Utsläpp till luft av växthusgaser totalt, ton CO2-ekv", True),  # N07702
        ("Försäljning i dagligvaruhandel, mkr", True),  # N52001
        ("Bostäder med hyresrätter, antal/1000 inv", False),  # N07901
        ("Utsläpp till luft av växthusgaser totalt, ton CO2-ekv/inv", False),  # N00401
        ("Personalkostnader, kr/inv", False),  # N00003
        ("Inskrivna barn per årsarbetare i förskolan, kommunal regi, antal", False),  # N11010
        ("Hyresrätter i bostadsbeståndet, andel (%)", False),  # N07956
        (  # N15419 (two spaces before "andel" in Kolada's title)
            "Elever i åk 9 som uppnått betygskriterierna i alla ämnen, kommunala skolor, "
            " andel (%)",
            False,
        ),
        ("Sammanräknad förvärvsinkomst i åldern 20-64 år (median), kr", False),  # N00906
    ],
)
def test_size_dependent_on_kolada_titles(title: str, expected: bool) -> None:
    assert size_dependent(title) is expected


@pytest.mark.parametrize(
    ("kpi", "title", "kind", "scale"),
    [
        ("N07403", "Anmälda våldsbrott, antal/100 000 inv", "ratio", 100_000.0),
        ("N07901", "Bostäder med hyresrätter, antal/1000 inv", "ratio", 1_000.0),
        ("N09035", "Anställda vid kommunala bibliotek, antal/10 000 inv", "ratio", 10_000.0),
        (
            "N31807",
            "Invånare som någon gång under året erhållit ekonomiskt bistånd, andel (%) av bef.",
            "proportion",
            100.0,
        ),
        (
            "N09809",
            "Aktiva låntagare i kommunala bibliotek, andel (%) av befolkningen",
            "proportion",
            100.0,
        ),
    ],
)
def test_denominator_rule_finds_whole_population_rates(
    kpi: str, title: str, kind: str, scale: float
) -> None:
    rule = denominator_rule(kpi, title)
    assert rule is not None
    assert (rule.kind, rule.scale, rule.population_kpi) == (kind, scale, "N01951")


@pytest.mark.parametrize(
    ("kpi", "title"),
    [
        # An age band: the denominator is not the whole population.
        ("N01451", "Förtida dödsfall 25-64 år, åldersstandardiserat, antal/100 000 inv"),
        ("N00926", "Företagskonkurser, antal/1000 inv, 16-64 år"),
        ("N31825", "Biståndsmottagare, ekonomiskt bistånd, 18+ år, andel (%) av befolkningen"),
        # Not a rate per inhabitant at all.
        ("N15419", "Elever i åk 9 som uppnått betygskriterierna i alla ämnen, andel (%)"),
        ("N01951", "Invånare totalt, antal"),
        # A survey (U) KPI: its denominator is a sample.
        ("U07403", "Anmälda våldsbrott, antal/100 000 inv"),
    ],
)
def test_denominator_rule_leaves_out_age_bands_other_units_and_surveys(
    kpi: str, title: str
) -> None:
    assert denominator_rule(kpi, title) is None
