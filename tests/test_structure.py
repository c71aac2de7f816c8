"""Structural neighbours: Mahalanobis distance on standardized variables, traits, agreement
with given peer groups. Synthetic municipalities whose nearest neighbour is known."""

from __future__ import annotations

import numpy as np
import pytest

from tillit.analyses import (
    STRUCTURAL_KPIS,
    STRUCTURAL_VARIABLES,
    Panel,
    StructuralVariable,
    Structure,
    build_structure,
    peer_agreement,
)
from tillit.errors import InvalidInputError, NoDataError

VARIABLES = (
    StructuralVariable("size", "Invånare", ("P1",), True, "invånare", "scale"),
    StructuralVariable("old", "Andel 65+", ("P2",), False, "%", "demand"),
    StructuralVariable("income", "Inkomst", ("P3",), True, "kr", "socio-economics"),
    StructuralVariable("urban", "Tätortsgrad", ("P4",), False, "%", "distances"),
    StructuralVariable("growth", "Tillväxt", ("P5",), False, "%", "pressure"),
)
YEARS = (2020, 2021, 2022)


def _raw(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.column_stack(
        [
            np.exp(rng.uniform(np.log(3_000), np.log(900_000), n)),
            rng.uniform(15, 32, n),
            np.exp(rng.normal(np.log(300_000), 0.12, n)),
            rng.uniform(40, 100, n),
            rng.normal(2, 4, n),
        ]
    )


def _codes(n: int) -> tuple[str, ...]:
    return tuple(f"{1000 + i:04d}" for i in range(n))


def _panel(raw: np.ndarray, kpis: tuple[str, ...] = ("P1", "P2", "P3", "P4", "P5")) -> Panel:
    """The columns of ``raw`` as KPIs of a panel, the values in its last year (earlier
    years empty)."""
    values = np.full((len(kpis), raw.shape[0], len(YEARS)), np.nan)
    values[:, :, -1] = raw.T
    return Panel(kpis, _codes(raw.shape[0]), YEARS, values)


def _structure(raw: np.ndarray) -> Structure:
    return build_structure(_panel(raw), variables=VARIABLES)


def test_nearest_neighbour_is_the_one_built_nearly_identical() -> None:
    raw = _raw(80)
    raw[17] = raw[42] * np.array([1.01, 1.0, 0.995, 1.0, 1.0]) + np.array([0, 0.1, 0, 0.2, 0.05])
    structure = _structure(raw)
    codes = structure.municipalities
    assert structure.peers(codes[42], k=5).peers[0].municipality == codes[17]
    assert structure.peers(codes[17], k=5).peers[0].municipality == codes[42]
    assert structure.neighbour_indices(3)[42, 0] == 17
    ranks = [p.rank for p in structure.peers(codes[42], k=5).peers]
    distances = [p.distance for p in structure.peers(codes[42], k=5).peers]
    assert ranks == [1, 2, 3, 4, 5] and distances == sorted(distances)


def test_traits_name_the_variables_that_are_closest() -> None:
    raw = _raw(60)
    # Municipality 5 is like 9 in old-age share, urban share and growth, far off in size
    # and income.
    raw[5] = raw[9] * np.array([8.0, 1.0, 1.4, 1.0, 1.0]) + np.array([0, 0.05, 0, -0.1, 0.02])
    structure = _structure(raw)
    codes = structure.municipalities
    everyone = structure.peers(codes[9], k=59, traits=3).peers
    (peer,) = [p for p in everyone if p.municipality == codes[5]]
    assert {t.key for t in peer.traits} == {"old", "urban", "growth"}
    assert [t.difference_sd for t in peer.traits] == sorted(t.difference_sd for t in peer.traits)
    old = next(t for t in peer.traits if t.key == "old")
    assert old.own == pytest.approx(raw[9, 1]) and old.peer == pytest.approx(raw[5, 1])
    assert old.label == "Andel 65+" and old.unit == "%"
    assert all(len(p.traits) == 3 for p in everyone)
    assert len(structure.peers(codes[9], k=3, traits=2).peers[0].traits) == 2


def test_distances_are_symmetric_with_an_infinite_diagonal() -> None:
    d = _structure(_raw(50)).distances()
    assert np.isinf(np.diag(d)).all()
    off = ~np.eye(50, dtype=bool)
    np.testing.assert_allclose(d[off], d.T[off], rtol=1e-9)
    assert (d[off] > 0).all()


def test_distances_do_not_depend_on_the_units_of_a_variable() -> None:
    raw = _raw(50)
    rescaled = raw.copy()
    rescaled[:, 1] = rescaled[:, 1] / 100 + 7.0  # per cent → share, shifted
    rescaled[:, 0] = rescaled[:, 0] * 1_000  # log variable: a factor is a shift
    rescaled[:, 4] = rescaled[:, 4] * -3.0  # a sign flip changes no distance either
    np.testing.assert_allclose(
        _structure(rescaled).distances(), _structure(raw).distances(), rtol=1e-7
    )


def test_distances_are_mahalanobis_on_the_standardized_variables() -> None:
    structure = _structure(_raw(80))  # 16 per variable: the sample correlations are used
    assert structure.shrinkage == 0.0
    z = structure.standardized
    np.testing.assert_allclose(z.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(z.std(axis=0), 1, atol=1e-12)
    inverse = np.linalg.inv(np.cov(z, rowvar=False) + 1e-3 * np.eye(z.shape[1]))
    diff = z[3] - z[11]
    assert structure.distances()[3, 11] == pytest.approx(np.sqrt(diff @ inverse @ diff))


def test_missing_and_non_positive_values_are_imputed_and_flagged() -> None:
    raw = _raw(30)
    raw[4, 3] = np.nan  # urban share unknown
    raw[4, 2] = 0.0  # log of an income of 0 is undefined
    structure = _structure(raw)
    assert structure.imputed[4].tolist() == [False, False, True, True, False]
    assert structure.imputed.sum() == 2
    peers = structure.peers(structure.municipalities[4], k=6)
    assert set(peers.imputed) == {"income", "urban"}
    for peer in peers.peers:
        assert not {t.key for t in peer.traits} & {"income", "urban"}
    # Imputed with the median: the value sits at the centre of the standardized column.
    assert structure.standardized[4, 3] == pytest.approx(np.median(structure.standardized[:, 3]))


def test_the_latest_value_at_or_before_the_year_is_used() -> None:
    raw = _raw(20)
    panel = _panel(raw)
    values = panel.values.copy()
    values[:, :, 0] = raw.T * 2  # 2020: different
    values[1, 3, -1] = np.nan  # municipality 3 has no 2022 old-age share: use 2020
    panel = Panel(panel.kpis, panel.municipalities, panel.years, values)
    latest = build_structure(panel, variables=VARIABLES)
    assert latest.year == 2022
    np.testing.assert_allclose(latest.raw[0], raw[0])
    assert latest.raw[3, 1] == pytest.approx(2 * raw[3, 1]) and not latest.imputed[3, 1]
    early = build_structure(panel, variables=VARIABLES, year=2021)
    np.testing.assert_allclose(early.raw, 2 * raw)


def test_ratio_variables_divide_their_two_kpis() -> None:
    density = StructuralVariable("density", "Inv/km²", ("P1", "P9"), True, "inv/km²", "distance")
    raw = _raw(20)
    area = np.linspace(10, 2_000, 20)
    area[0] = 0.0  # no area: no density
    panel = _panel(np.column_stack([raw[:, 0], area]), ("P1", "P9"))
    structure = build_structure(panel, variables=(VARIABLES[0], density))
    np.testing.assert_allclose(structure.raw[1:, 1], raw[1:, 0] / area[1:])
    assert np.isnan(structure.raw[0, 1]) and structure.imputed[0, 1]


@pytest.mark.parametrize("k", [0, -1, 30, 31])
def test_k_out_of_range_is_invalid_input(k: int) -> None:
    structure = _structure(_raw(30))
    with pytest.raises(InvalidInputError, match="mellan 1 och 29"):
        structure.peers(structure.municipalities[0], k=k)
    with pytest.raises(InvalidInputError):
        structure.neighbour_indices(k)


def test_all_others_can_be_peers() -> None:
    structure = _structure(_raw(30))
    peers = structure.peers(structure.municipalities[0], k=29).peers
    assert {p.municipality for p in peers} == set(structure.municipalities[1:])


def test_unknown_municipality_or_missing_structural_kpi_is_no_data() -> None:
    structure = _structure(_raw(20))
    with pytest.raises(NoDataError):
        structure.peers("2584")
    panel = _panel(_raw(20))
    without = Panel(panel.kpis[1:], panel.municipalities, panel.years, panel.values[1:])
    with pytest.raises(NoDataError, match="P1"):
        build_structure(without, variables=VARIABLES)
    empty = panel.values.copy()
    empty[2] = np.nan
    with pytest.raises(NoDataError, match="Inkomst"):
        build_structure(
            Panel(panel.kpis, panel.municipalities, panel.years, empty), variables=VARIABLES
        )
    with pytest.raises(NoDataError):
        build_structure(panel, variables=VARIABLES, year=2010)


def test_default_variables_read_the_kolada_structural_kpis() -> None:
    assert set(STRUCTURAL_KPIS) == {k for v in STRUCTURAL_VARIABLES for k in v.kpis}
    assert "N01951" in STRUCTURAL_KPIS and len(STRUCTURAL_KPIS) == len(set(STRUCTURAL_KPIS))
    panel = Panel(
        STRUCTURAL_KPIS[1:], _codes(10), YEARS, np.ones((len(STRUCTURAL_KPIS) - 1, 10, 3))
    )
    with pytest.raises(NoDataError, match=STRUCTURAL_KPIS[0]):
        build_structure(panel)


def test_peer_agreement_is_one_when_the_groups_are_the_neighbours() -> None:
    structure = _structure(_raw(60))
    neighbours = structure.neighbour_indices(7)
    codes = structure.municipalities
    groups = {codes[i]: [codes[j] for j in row] for i, row in enumerate(neighbours)}
    result = peer_agreement(structure, groups, k=7)
    assert result == {"municipalities": 60.0, "agreement": 1.0, "random": pytest.approx(7 / 59)}


def test_peer_agreement_with_random_groups_is_near_the_random_expectation() -> None:
    structure = _structure(_raw(200, seed=3))
    codes = structure.municipalities
    rng = np.random.default_rng(11)
    groups = {}
    for i, code in enumerate(codes):
        others = [c for j, c in enumerate(codes) if j != i]
        groups[code] = [
            code,
            *rng.choice(others, size=7, replace=False),
        ]  # the focal one is ignored
    groups["9999"] = ["1000", "1001"]  # not in the structure: ignored
    result = peer_agreement(structure, groups, k=7)
    assert result["municipalities"] == 200
    assert result["random"] == pytest.approx(7 / 199)
    assert abs(result["agreement"] - result["random"]) < 0.02


def test_peer_agreement_without_usable_groups_is_no_data() -> None:
    structure = _structure(_raw(20))
    with pytest.raises(NoDataError):
        peer_agreement(structure, {"9999": ["1000"], "1000": ["1000"]})


def test_dropping_leaves_out_a_variable_nobody_has_and_names_it() -> None:
    panel = _panel(_raw(30))
    # P4 (urban) is not in the panel at all; P5 (growth) has values only after 2021.
    without = Panel(
        ("P1", "P2", "P3", "P5"),
        panel.municipalities,
        panel.years,
        panel.values[[0, 1, 2, 4]],
    )
    structure = build_structure(without, variables=VARIABLES, year=2022, drop_missing=True)
    assert [v.key for v in structure.dropped] == ["urban"]
    assert [v.key for v in structure.variables] == ["size", "old", "income", "growth"]
    assert structure.raw.shape == (30, 4)
    values = without.values.copy()
    values[:, :, 1] = values[:, :, 2]  # 2021 like 2022, except growth
    values[3, :, 1] = np.nan
    early = build_structure(
        Panel(without.kpis, without.municipalities, without.years, values),
        variables=VARIABLES,
        year=2021,
        drop_missing=True,
    )
    assert [v.key for v in early.dropped] == ["urban", "growth"]
    assert early.year == 2021
    peers = early.peers(early.municipalities[0], k=5)
    assert peers.dropped == ("urban", "growth")
    assert not {t.key for p in peers.peers for t in p.traits} & {"urban", "growth"}
    # Without drop_missing a missing variable is still an error, as before.
    with pytest.raises(NoDataError, match="P4"):
        build_structure(without, variables=VARIABLES)


def test_dropping_leaves_out_a_variable_most_municipalities_lack() -> None:
    raw = _raw(30)
    raw[:20, 3] = np.nan  # urban share known for only 10 of 30
    structure = build_structure(_panel(raw), variables=VARIABLES, drop_missing=True)
    assert [v.key for v in structure.dropped] == ["urban"]
    raw = _raw(30)
    raw[:14, 3] = np.nan  # known for 16 of 30: kept, the 14 imputed
    kept = build_structure(_panel(raw), variables=VARIABLES, drop_missing=True)
    assert kept.dropped == () and kept.imputed[:, 3].sum() == 14


def test_a_required_variable_is_never_dropped() -> None:
    assert [v.key for v in STRUCTURAL_VARIABLES if v.required] == ["population"]
    size = StructuralVariable("size", "Invånare", ("P1",), True, "invånare", "scale", True)
    panel = _panel(_raw(20))
    without = Panel(panel.kpis[1:], panel.municipalities, panel.years, panel.values[1:])
    with pytest.raises(NoDataError, match="P1"):
        build_structure(without, variables=(size, *VARIABLES[1:]), drop_missing=True)


def test_dropping_most_variables_is_an_error_that_names_what_to_fetch() -> None:
    """Peers found on two of five variables are not structurally similar: a store that lacks
    most of the structural KPIs is told what to fetch, not given peers by size alone."""
    panel = _panel(_raw(30))
    two = Panel(panel.kpis[:2], panel.municipalities, panel.years, panel.values[:2])
    with pytest.raises(NoDataError, match=r"Bara 2 av 5 strukturmått.*P3, P4, P5"):
        build_structure(two, variables=VARIABLES, drop_missing=True)
    three = Panel(panel.kpis[:3], panel.municipalities, panel.years, panel.values[:3])
    assert len(build_structure(three, variables=VARIABLES, drop_missing=True).variables) == 3


def test_with_few_units_per_variable_the_correlations_are_shrunk_toward_the_identity() -> None:
    """21 units on 5 variables (the regions have 21 on 9): the sample correlation matrix is
    shrunk by the Ledoit–Wolf intensity, which falls as units are added."""

    def correlated(n: int) -> np.ndarray:
        # Urban share rises with size, growth with income (independent variables would
        # rightly be shrunk all the way: their sample correlations are all noise).
        raw = _raw(n)
        noise = np.random.default_rng(n).normal(0.0, 1.0, (n, 2))
        raw[:, 3] = 20.0 + 6.0 * np.log(raw[:, 0] / 3_000) + 4.0 * noise[:, 0]
        raw[:, 4] = 40.0 * np.log(raw[:, 2] / 300_000) + 2.0 * noise[:, 1]
        return raw

    raw = correlated(21)
    structure = _structure(raw)
    z = structure.standardized
    sample = z.T @ z / z.shape[0]
    delta = structure.shrinkage
    assert 0.0 < delta < 1.0
    shrunk = delta * np.eye(5) + (1.0 - delta) * sample + 1e-3 * np.eye(5)
    diff = z[3] - z[11]
    assert structure.distances()[3, 11] == pytest.approx(
        np.sqrt(diff @ np.linalg.inv(shrunk) @ diff)
    )
    # Asked not to shrink, the sample matrix.
    plain = build_structure(_panel(raw), variables=VARIABLES, shrink=False)
    assert plain.shrinkage == 0.0
    inverse = np.linalg.inv(np.cov(z, rowvar=False) + 1e-3 * np.eye(5))
    assert plain.distances()[3, 11] == pytest.approx(np.sqrt(diff @ inverse @ diff))
    # More units, less shrinkage (asked for explicitly: 290 would not be shrunk by default).
    many = build_structure(_panel(correlated(290)), variables=VARIABLES, shrink=True)
    assert 0.0 < many.shrinkage < delta / 3
    assert _structure(correlated(290)).shrinkage == 0.0
