"""The query layer on a real store (real Kolada metadata and values, see the
analysis_settings fixture): peers, compare, trend and learn as the CLI and the pages see
them."""

from __future__ import annotations

import numpy as np
import pytest

from tillit.analyses import STRUCTURAL_KPIS, Polarity, size_dependent
from tillit.errors import InvalidInputError, NotFoundError
from tillit.query import (
    compare_report,
    learn_report,
    load_context,
    national_report,
    peers_report,
    resolve_municipality,
    trend_report,
)
from tillit.store import Store

KUNGSBACKA = "1384"


def test_peers_are_seven_structural_neighbours_with_traits_and_kolada_groups(
    analysis_store: Store,
) -> None:
    report = peers_report(analysis_store, "Kungsbacka")
    assert (report.municipality, report.name) == (KUNGSBACKA, "Kungsbacka")
    peers = report.structural.peers
    codes = [p.municipality for p in peers]
    assert len(codes) == 7 == len(set(codes)) and KUNGSBACKA not in codes
    assert all(len(c) == 4 and c.isdigit() and c[:2] != "00" for c in codes)
    assert [p.rank for p in peers] == list(range(1, 8))
    assert [p.distance for p in peers] == sorted(p.distance for p in peers)
    assert all(2 <= len(p.traits) <= 3 for p in peers)
    assert report.structural.year == 2022
    assert report.kommungrupp is not None and report.kommungrupp.label.startswith("kommungrupp A2")
    assert report.liknande is not None and report.liknande.kind == "liknande"
    for group in (report.kommungrupp, report.liknande):
        assert group.members and KUNGSBACKA not in group.members
    assert all(report.names[c] for c in codes)


def test_municipality_by_name_and_by_code_give_the_same_result(analysis_store: Store) -> None:
    by_name = peers_report(analysis_store, "Kungsbacka")
    by_code = peers_report(analysis_store, KUNGSBACKA)
    assert by_name.structural == by_code.structural
    assert learn_report(analysis_store, "kungsbacka").learning == (
        learn_report(analysis_store, KUNGSBACKA).learning
    )
    one = compare_report(analysis_store, "Kungsbacka", ["N15419"]).comparisons
    other = compare_report(analysis_store, KUNGSBACKA, ["n15419"]).comparisons
    assert one == other


def test_compare_reports_the_gap_to_the_peers_shrunken_median(analysis_store: Store) -> None:
    report = compare_report(analysis_store, KUNGSBACKA, ["N15419"])
    (c,) = report.comparisons
    assert (c.kpi, c.municipality, c.year) == ("N15419", KUNGSBACKA, 2022)
    assert report.peers.kind == "struktur"
    assert [p.municipality for p in c.peers] == list(report.peers.members)
    structural = peers_report(analysis_store, KUNGSBACKA).structural.peers
    assert list(report.peers.members) == [p.municipality for p in structural]
    assert c.peer_median == pytest.approx(np.median([p.value for p in c.peers]))
    assert c.difference == pytest.approx(c.value - c.peer_median)
    assert c.shrunk_peer_median == pytest.approx(np.median([p.shrunk for p in c.peers]))
    assert c.shrunk_difference == pytest.approx(c.shrunk - c.shrunk_peer_median)
    stored = analysis_store.query_values(
        ["N15419"], municipalities=[KUNGSBACKA], years=[2022], genders=["T"]
    )
    assert c.value == stored.column("value").to_pylist()[0]
    assert c.polarity is Polarity.HIGHER and report.polarity["N15419"].source != "override"
    assert c.tier in {"clearly_better", "in_line", "clearly_worse"}
    assert c.count > 250 and c.rank is not None and 1 <= c.rank <= c.count
    assert c.funnel is not None and c.funnel.lower95 <= c.funnel.target <= c.funnel.upper95
    assert report.titles["N15419"].startswith("Elever i åk 9")


def test_compare_uses_the_chosen_peer_group(analysis_store: Store) -> None:
    for kind in ("kommungrupp", "liknande"):
        report = compare_report(analysis_store, KUNGSBACKA, ["N15419"], peers=kind)
        (c,) = report.comparisons
        assert report.peers.kind == kind
        assert {p.municipality for p in c.peers} == set(report.peers.members)
    with pytest.raises(InvalidInputError, match="jämförelsegrupp"):
        compare_report(analysis_store, KUNGSBACKA, ["N15419"], peers="grannar")


def test_a_share_of_the_population_is_funnelled_with_binomial_counts(
    analysis_store: Store,
) -> None:
    (c,) = compare_report(analysis_store, KUNGSBACKA, ["N31807"]).comparisons
    assert c.funnel is not None and c.funnel.method == "binomial"
    assert c.funnel.lower998 <= c.funnel.target <= c.funnel.upper998


def test_a_polarity_override_flips_the_direction(analysis_store: Store) -> None:
    (usual,) = compare_report(analysis_store, KUNGSBACKA, ["N15419"]).comparisons
    report = compare_report(
        analysis_store, KUNGSBACKA, ["N15419"], overrides={"N15419": Polarity.LOWER}
    )
    (flipped,) = report.comparisons
    assert report.polarity["N15419"].source == "override"
    assert flipped.polarity is Polarity.LOWER
    assert flipped.z == pytest.approx(-usual.z)
    # Reversed: those it beat before now beat it (ties beat nobody either way).
    assert usual.percentile is not None and flipped.rank is not None
    assert flipped.rank == 1 + round(usual.percentile * (usual.count - 1) / 100)


def test_trend_years_are_the_stored_years_without_filling(analysis_store: Store) -> None:
    # Kungsbacka has no 2021 value for U23471 in the panel.
    report = trend_report(analysis_store, KUNGSBACKA, "U23471")
    stored = analysis_store.query_values(["U23471"], municipalities=[KUNGSBACKA], genders=["T"])
    expected = sorted(
        p
        for p, v in zip(
            stored.column("period").to_pylist(), stored.column("value").to_pylist(), strict=True
        )
        if v is not None
    )
    assert list(report.years) == expected
    assert all(a < b for a, b in zip(report.years, report.years[1:], strict=False))
    assert 2021 not in report.years and 2020 in report.years and 2022 in report.years
    assert len(report.values) == len(report.years)
    assert report.trend.n == len(report.years)
    limited = trend_report(analysis_store, KUNGSBACKA, "U23471", years=range(2015, 2021))
    assert list(limited.years) == [y for y in expected if 2015 <= y <= 2020]


def test_learn_findings_are_significant_behind_this_year_and_name_only_level_partners(
    analysis_store: Store,
) -> None:
    report = learn_report(analysis_store, "Gävle")
    learning = report.learning
    assert learning.tested > 10 and learning.without_polarity > 0
    assert report.peers.members == learning.peers
    assert learning.findings, "Gävle is behind its peers on social assistance"
    for finding in learning.findings:
        assert finding.z < 0 and finding.years_behind >= 1 and finding.q_value <= 0.05
        assert finding.p_value <= finding.q_value
        assert finding.polarity.sign != 0
        assert finding.kpi in report.titles and finding.kpi in report.polarity
        assert not size_dependent(report.titles[finding.kpi])
        assert {p.municipality for p in finding.partners} <= set(report.peers.members)
        # Partners are level partners; improving peers are context only.
        assert all(p.level for p in finding.partners)
        assert all(p.improving and not p.level for p in finding.also_improving)
    assert sum(a.tested for a in learning.areas) == learning.tested
    assert sum(a.behind for a in learning.areas) == len(learning.findings)


def test_a_kpi_whose_noise_model_fails_on_the_held_back_years_is_listed_not_tested(
    analysis_store: Store,
) -> None:
    """N17479 (upper-secondary eligibility, municipal schools) moved far more in 2020–2022
    than its earlier year-to-year noise allows: it is not tested for anyone, and says why;
    so does every KPI the check fails."""
    report = learn_report(analysis_store, "Kungsbacka")
    misfit = dict(report.learning.noise_misfit)
    assert "årsbruset förutsäger inte de senaste åren" in misfit["N17479"]
    tested = {f.kpi for f in report.learning.findings} | set(report.learning.ahead)
    for kpi, why in misfit.items():
        assert kpi in report.titles and kpi not in tested
        (c,) = compare_report(analysis_store, "Kungsbacka", [kpi]).comparisons
        assert c.tier == "noise_misfit" and c.why_not_tested == why


def test_learn_can_be_limited_to_an_operating_area(analysis_store: Store) -> None:
    report = learn_report(analysis_store, KUNGSBACKA, areas=["gymnasieskola"])
    assert {a.area for a in report.learning.areas} == {"Gymnasieskola åk 1-3"}
    assert all(f.area == "Gymnasieskola åk 1-3" for f in report.learning.findings)
    with pytest.raises(InvalidInputError, match="verksamhetsområde"):
        learn_report(analysis_store, KUNGSBACKA, areas=["rymdfart"])


def test_learn_with_kolada_groups_names_only_their_members(analysis_store: Store) -> None:
    for kind in ("kommungrupp", "liknande"):
        report = learn_report(analysis_store, KUNGSBACKA, peers=kind)
        assert report.peers.kind == kind
        for finding in report.learning.findings:
            assert {p.municipality for p in finding.partners} <= set(report.peers.members)


def test_the_national_matrix_agrees_with_learn(analysis_store: Store) -> None:
    rows = national_report(analysis_store).rows()
    assert rows and all(r["q_value"] <= 0.05 and r["z"] < 0 for r in rows)
    assert len({r["municipality"] for r in rows}) > 50
    own = [r for r in rows if r["municipality"] == KUNGSBACKA]
    learning = learn_report(analysis_store, KUNGSBACKA).learning
    assert sorted(r["kpi"] for r in own) == sorted(f.kpi for f in learning.findings)
    for row in own:
        finding = next(f for f in learning.findings if f.kpi == row["kpi"])
        assert set(row["partners"]) == {p.municipality for p in finding.partners}


@pytest.mark.parametrize("riket", ["Riket", "0000"])
def test_the_whole_country_is_neither_municipality_nor_region(
    analysis_store: Store, riket: str
) -> None:
    with pytest.raises(InvalidInputError, match="hela landet"):
        resolve_municipality(analysis_store, riket)
    with pytest.raises(InvalidInputError):
        learn_report(analysis_store, riket)


def test_unknown_kpi_or_municipality_is_not_found(analysis_store: Store) -> None:
    with pytest.raises(NotFoundError, match="N99999"):
        compare_report(analysis_store, KUNGSBACKA, ["N99999"])
    with pytest.raises(NotFoundError):
        trend_report(analysis_store, KUNGSBACKA, "N99999")
    with pytest.raises(NotFoundError):
        learn_report(analysis_store, "Kungsbakka städ")


def test_context_reads_twelve_years_and_tests_only_kpis_with_a_direction(
    analysis_store: Store,
) -> None:
    ctx = load_context(analysis_store)
    assert ctx.panel.years == tuple(range(2011, 2023))
    assert len(ctx.municipalities) == 290
    assert set(STRUCTURAL_KPIS) <= set(ctx.chosen)
    testable = set(ctx.testable())
    assert "N15419" in testable and "N01951" not in testable
    for kpi in ctx.chosen:
        decision = ctx.polarity[kpi]
        assert (kpi in testable) == (
            decision.polarity.sign != 0
            and not size_dependent(ctx.title(kpi))
            and ctx.eligibility[kpi].eligible  # see docs/eligibility.md
        )
    # Turnout stands still between elections: step-shaped, not tested.
    assert ctx.eligibility["N05401"].reason == "step_shaped" and "N05401" not in testable
    population = ctx.population()
    assert population.shape == (290,) and (population > 0).all()
    stockholm = ctx.municipalities.index("0180")
    assert population[stockholm] == 984_748.0  # PROVENANCE.md spot check
