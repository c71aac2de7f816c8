"""Regions as first-class organisations in the queries: the 21 regions are compared with
each other, on the KPIs Kolada publishes for regions, with the same methods as the
municipalities (tested on the real panel for a large and a small region)."""

from __future__ import annotations

import pytest

from tillit.errors import InvalidInputError
from tillit.query import (
    compare_report,
    learn_report,
    load_context,
    national_report,
    peers_report,
    resolve_municipality,
    trend_report,
    units,
)
from tillit.store import Store

HALLAND = "0013"  # Region Halland, 340,000 inhabitants
GOTLAND = "0009"  # Region Gotland, 61,000: the smallest, an island
STOCKHOLM = "0001"
REGIONS = {HALLAND, GOTLAND}


def test_the_store_has_21_regions_and_riket_is_not_one(region_store: Store) -> None:
    regions = units(region_store, "L")
    assert len(regions) == 21
    assert "0000" not in regions
    assert all(r.startswith("00") for r in regions)
    assert len(units(region_store, "K")) == 290


@pytest.mark.parametrize("text", ["Region Halland", "region halland", "0013"])
def test_a_region_resolves_by_name_or_code(region_store: Store, text: str) -> None:
    row = resolve_municipality(region_store, text)
    assert row["id"] == HALLAND and row["type"] == "L"


def test_region_context_holds_only_regions_and_region_kpis(region_store: Store) -> None:
    ctx = load_context(region_store, kind="L", testable_only=True)
    assert ctx.kind == "L"
    assert set(ctx.municipalities) == set(units(region_store, "L"))
    assert ctx.panel.municipalities == ctx.municipalities
    # A municipal-only KPI (Kolada's municipality_type "K") is not a region's result.
    assert "N15419" not in ctx.chosen and "N07917" not in ctx.chosen
    metas = {k["id"]: k for k in region_store.kpis()}
    assert all(metas[k]["municipality_type"] in ("A", "L") for k in ctx.chosen)
    # Peers are found without out-commuting, which regions do not have, and that is not
    # called missing "for now".
    assert "commuting" not in [v.key for v in ctx.structure.variables]
    assert not ctx.structure.dropped


@pytest.mark.parametrize("region", sorted(REGIONS))
def test_structural_peers_of_a_region_are_other_regions(region_store: Store, region: str) -> None:
    report = peers_report(region_store, region, k=5)
    peers = [p.municipality for p in report.structural.peers]
    regions = set(units(region_store, "L"))
    assert len(peers) == 5 and set(peers) <= regions - {region}
    assert report.kommungrupp is None  # SKR's groups are for municipalities
    assert report.liknande is not None
    assert set(report.liknande.members) <= regions - {region}
    assert "liknande regioner" in report.liknande.label
    assert report.name.startswith("Region")


def test_kolada_similar_regions_group_is_kolada_s(region_store: Store) -> None:
    report = peers_report(region_store, HALLAND)
    # Kolada's "Liknande regioner socioekonomi, Region Halland, 2024" (G176779).
    assert report.liknande is not None
    assert set(report.liknande.members) == {
        "0003",
        "0005",
        "0006",
        "0007",
        "0010",
        "0014",
        "0024",
    }


def test_a_region_is_compared_with_regions_on_a_region_kpi(region_store: Store) -> None:
    report = compare_report(region_store, "Region Halland", ["U70447"])
    (c,) = report.comparisons
    assert report.municipality == HALLAND
    assert set(report.peers.members) <= set(units(region_store, "L"))
    assert "regionerna" in report.peers.label
    assert c.kpi == "U70447" and c.year == 2022
    assert c.value == pytest.approx(_value(region_store, "U70447", HALLAND, 2022), rel=1e-9)


def test_all_other_regions_as_peers(region_store: Store) -> None:
    report = compare_report(region_store, GOTLAND, ["N01481"], peers="alla")
    assert len(report.peers.members) == 20
    assert report.peers.label == "alla 20 andra regioner"


def test_kommungrupp_is_refused_for_a_region(region_store: Store) -> None:
    with pytest.raises(InvalidInputError, match="kommungrupp"):
        compare_report(region_store, HALLAND, ["U70447"], peers="kommungrupp")


def test_a_municipal_kpi_asked_of_a_region_says_so_and_suggests_others(
    region_store: Store,
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        compare_report(region_store, "Region Halland", ["N07917"])
    assert "nyckeltal för kommuner" in caught.value.message
    assert "Region Halland" in caught.value.message
    assert caught.value.hint and "Närmaste nyckeltal för regioner" in caught.value.hint
    with pytest.raises(InvalidInputError, match="nyckeltal för kommuner"):
        trend_report(region_store, HALLAND, "N15419")


def test_a_region_kpi_asked_of_a_municipality_says_so(region_store: Store) -> None:
    with pytest.raises(InvalidInputError, match="nyckeltal för regioner"):
        compare_report(region_store, "Kungsbacka", ["U70447"])


def test_trend_of_a_region(region_store: Store) -> None:
    report = trend_report(region_store, GOTLAND, "N01451")
    assert report.municipality == GOTLAND and report.name == "Region Gotland"
    assert len(report.years) >= 10


@pytest.mark.parametrize("region", sorted(REGIONS))
def test_learn_for_a_region_names_only_regions(region_store: Store, region: str) -> None:
    report = learn_report(region_store, region)
    regions = set(units(region_store, "L"))
    assert set(report.peers.members) <= regions - {region}
    assert report.learning.tested >= 10
    for f in report.learning.findings:
        assert f.q_value <= 0.05
        assert {p.municipality for p in f.partners} <= set(report.peers.members)
    assert all(report.names[m].startswith(("Region", "Västra")) for m in report.peers.members)


def test_the_regions_national_matrix_agrees_with_learn(region_store: Store) -> None:
    national = national_report(region_store, kind="L")
    rows = national.rows()
    assert national.kind == "L"
    assert {r["municipality"] for r in rows} <= set(units(region_store, "L"))
    own = sorted(r["kpi"] for r in rows if r["municipality"] == HALLAND)
    learning = learn_report(region_store, HALLAND).learning
    assert own == sorted(f.kpi for f in learning.findings)


def test_municipality_results_do_not_change_with_regions_in_the_store(
    region_store: Store, analysis_store: Store
) -> None:
    """The regions' KPIs in the store do not move a municipality's comparison."""
    here = compare_report(region_store, "Kungsbacka", ["N15419"])
    there = compare_report(analysis_store, "Kungsbacka", ["N15419"])
    assert here.peers.members == there.peers.members
    assert here.comparisons[0].value == there.comparisons[0].value
    assert here.comparisons[0].peer_median == there.comparisons[0].peer_median


def _value(store: Store, kpi: str, unit: str, year: int) -> float:
    frame = store.query_values([kpi], municipalities=[unit], years=[year], genders=["T"])
    return float(frame.column("value").to_pylist()[0])


def test_a_municipality_lies_in_its_county_s_region(region_store: Store) -> None:
    from tillit.query import municipalities_in, region_of

    assert region_of("1384") == HALLAND  # Kungsbacka
    assert region_of("0980") == GOTLAND
    halland = municipalities_in(region_store, HALLAND)
    assert halland == ("1315", "1380", "1381", "1382", "1383", "1384")
    assert municipalities_in(region_store, GOTLAND) == ("0980",)
    assert sum(len(municipalities_in(region_store, r)) for r in units(region_store, "L")) == 290


# --- the CLI ------------------------------------------------------------------------------
def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    from tillit.cli import main

    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, " ".join(captured.out.split()), " ".join(captured.err.split())


def test_cli_learn_for_a_region_speaks_of_regions(
    region_env: object, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "learn", "Region Halland")
    assert code == 0, err
    assert "Region Halland jämförd med de 7 strukturellt mest lika regionerna" in out
    assert "jämförelseregionernas median" in out and "om regionen inte skiljer sig" in out
    # KPI titles may name municipalities; Tillit's own words may not.
    for words in ("jämförelsekommun", "kommunen inte", "Kommuner som", "ingen kommun"):
        assert words not in out + err
    assert "FDR per region" in err
    code, out, err = _run(capsys, "learn", "0009", "--format", "json")
    assert code == 0, err


def test_cli_compare_and_peers_for_a_region(
    region_env: object, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "compare", "Region Gotland", "U70447", "--peers", "alla")
    assert code == 0, err
    assert "Region Gotland jämförd med alla 20 andra regioner" in out
    assert "jämförelseregionerna" in out or "jämförelseregionernas" in out
    assert "jämförelsekommun" not in out and "alla kommuner" not in out
    code, out, err = _run(capsys, "peers", "0013", "--k", "5")
    assert code == 0, err
    assert "De 5 regioner som strukturellt mest liknar Region Halland" in out
    assert "Koladas liknande regioner, socioekonomi (2024)" in out
    assert "utpendling" not in out + err
    code, out, err = _run(capsys, "compare", "Region Halland", "N15419", "--peers", "kommungrupp")
    assert code == 1 and "nyckeltal för kommuner" in err and "Nästa steg:" in err
    code, out, err = _run(capsys, "compare", "Region Halland", "U70447", "--peers", "kommungrupp")
    assert code == 1 and "Regioner har ingen kommungrupp" in err


def test_cli_national_matrix_for_regions(
    region_env: object, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "learn", "--alla", "--regioner", "--format", "csv")
    assert code == 0, err
    import csv
    import io

    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out or out)))
    code, out, err = _run(capsys, "learn", "--alla", "--regioner")
    assert code == 0, err
    assert "där regionen ligger tydligt efter" in out and "regioner" in err
    code, out, err = _run(capsys, "learn", "--regioner")
    assert code == 2 and "--regioner hör ihop med --alla" in err
    del rows


def test_k_beyond_the_other_regions_says_how_many_there_are(region_store: Store) -> None:
    with pytest.raises(InvalidInputError, match="jämförelseregioner måste vara mellan 1 och 20"):
        peers_report(region_store, HALLAND, k=21)
    with pytest.raises(InvalidInputError, match="jämförelseregioner"):
        learn_report(region_store, GOTLAND, k=25)
