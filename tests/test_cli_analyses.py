"""`tillit compare`, `trend`, `peers` and `learn` through tillit.cli.main on the real
analysis store: Swedish text for people, JSON and CSV for scripts, errors with a next step."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from tillit.cli import main
from tillit.config import Settings

#: The keys docs/cli.md promises for `tillit compare --format json`.
COMPARE_KEYS = {
    "value",
    "shrunk",
    "noise_sd",
    "peer_median",
    "national_median",
    "difference",
    "z",
    "q_value",
    "years_beyond",
    "tier",
    "tier_label",
    "rank",
    "count",
    "percentile",
    "peer_rank",
    "peer_count",
    "polarity",
    "polarity_source",
    "polarity_explanation",
    "peer_group",
    "peers",
    "funnel",
}
FUNNEL_KEYS = {"method", "target", "lower95", "upper95", "lower998", "upper998", "position"}
FUNNEL_KEYS |= {"phi", "tau2"}


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_compare_prints_the_tier_against_the_peers_in_swedish(
    analysis_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "compare", "Gävle", "N31807", "N15419")
    assert code == 0, err
    out = " ".join(out.split())  # long titles wrap
    assert "Gävle jämförd med de 7 strukturellt mest lika kommunerna" in out
    assert "(N31807), 2022: tydligt sämre än jämförelsekommunerna" in out
    assert "Skillnaden i snitt över de tre senaste åren är större än årsbruset" in out
    assert "(N15419), 2022:" in out and "Plats " in out and "Riktning: högre är bättre" in out
    assert "Trattdiagram mot alla kommuner" in out
    assert "Källa: Kolada" in err and "Obs:" not in err
    # A KPI whose noise model fails on the held-back years says so, and why.
    code, out, err = _run(capsys, "compare", "Kungsbacka", "N17479")
    assert code == 0, err
    out = " ".join(out.split())
    assert "(N17479), 2022: prövas inte: årsbruset förutsäger inte de senaste åren" in out
    assert "Varför: årsbruset förutsäger inte de senaste åren: de varierade" in out


def test_compare_json_has_the_documented_keys(
    analysis_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "compare", "1384", "N15419,N31807", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    assert [r["kpi"] for r in rows] == ["N15419", "N31807"]
    for row in rows:
        assert set(row) >= COMPARE_KEYS
        assert set(row["funnel"]) == FUNNEL_KEYS
        assert row["municipality"] == "1384" and len(row["peers"]) == 7
        assert row["polarity_source"] in {"table", "rule"}
    assert rows[1]["funnel"]["method"] == "binomial"
    assert rows[0]["polarity"] == "higher" and rows[1]["polarity"] == "lower"


def test_compare_csv_has_a_header_and_one_row_per_kpi(
    analysis_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(
        capsys, "compare", "Kungsbacka", "N15419", "N17531", "-p", "kommungrupp", "-f", "csv"
    )
    assert code == 0, err
    rows = _csv(out)
    assert out.startswith("municipality,municipality_name,kpi,")
    assert [r["kpi"] for r in rows] == ["N15419", "N17531"]
    assert all(r["peer_group"].startswith("kommungrupp A2") for r in rows)


def test_a_polarity_file_flips_the_direction(
    analysis_env: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, before, _ = _run(capsys, "compare", "Kungsbacka", "N15419", "--format", "json")
    (usual,) = json.loads(before)
    overrides = tmp_path / "polarity.csv"
    overrides.write_text("kpi;polarity\nN15419;lägre\n", encoding="utf-8")
    monkeypatch.setenv("TILLIT_POLARITY_FILE", str(overrides))
    code, out, err = _run(capsys, "compare", "Kungsbacka", "N15419", "--format", "json")
    assert code == 0, err
    (row,) = json.loads(out)
    assert (row["polarity"], row["polarity_source"]) == ("lower", "override")
    assert usual["polarity_source"] != "override"
    assert row["z"] == pytest.approx(-usual["z"])


def test_trend_lists_the_stored_years_and_names_the_missing_ones(
    analysis_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "trend", "Kungsbacka", "U23471")
    assert code == 0, err
    assert out.startswith("Kungsbacka: ") and "(U23471)" in out
    assert "År utan värde (räknas inte, fylls inte i): 2021." in out
    code, out, err = _run(capsys, "trend", "Kungsbacka", "U23471", "--format", "json")
    assert code == 0, err
    row = json.loads(out)
    assert 2021 not in row["years"] and row["years"] == sorted(row["years"])
    assert len(row["values"]) == len(row["years"]) == row["trend"]["n"]
    assert {"slope", "slope_low", "slope_high", "summary"} <= set(row["trend"])
    assert row["polarity"] == "higher"
    code, out, err = _run(capsys, "trend", "1384", "N31807", "-y", "2010-2022", "-f", "csv")
    assert code == 0, err
    assert out.startswith("municipality,municipality_name,kpi,") and len(_csv(out)) == 1


def test_peers_show_neighbours_traits_and_groups(
    analysis_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "peers", "Kungsbacka")
    assert code == 0, err
    assert "De 7 kommuner som strukturellt mest liknar Kungsbacka (uppgifter från 2022)" in out
    assert "SKR:s kommungrupp A2" in out and "Koladas liknande kommuner" in out
    assert "Mahalanobis" in err
    code, out, err = _run(capsys, "peers", "1384", "--k", "5", "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["municipality"] == "1384" and data["kommungrupp"]["members"]
    rows = data["peers"]
    assert [r["rank"] for r in rows] == [1, 2, 3, 4, 5]
    assert all(2 <= len(r["traits"]) <= 3 and r["municipality"] != "1384" for r in rows)
    assert {"name", "distance", "similar_in", "in_kommungrupp", "in_liknande"} <= set(rows[0])
    code, out, err = _run(capsys, "peers", "Kungsbacka", "--format", "csv")
    assert code == 0, err
    assert out.startswith("rank,municipality,name,distance,") and len(_csv(out)) == 7


def test_learn_names_whom_to_learn_from(
    analysis_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "learn", "Kungsbacka")
    assert code == 0, err
    assert "Kungsbacka jämförd med de 7 strukturellt mest lika kommunerna" in out
    assert "nyckeltal prövades" in out and "Lär av " in out
    assert "Per verksamhetsområde" in out and "Ej prövade:" in err


def test_learn_json_and_csv_are_for_scripts(
    analysis_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "learn", "Gävle", "--area", "individ", "-f", "json")
    assert code == 0, err
    data = json.loads(out)
    assert data["municipality"] == "2180" and len(data["peers"]["members"]) == 7
    rows = data["learning"]["findings"]
    assert rows, "Gävle is behind its peers on social assistance"
    for row in rows:
        assert row["area"] == "Individ- och familjeomsorg"
        assert row["z"] < 0 and row["q_value"] <= 0.05 and row["years_behind"] >= 1
        for partner in row["partners"]:
            assert {"municipality", "name", "level", "improving", "years_better"} <= set(partner)
            assert partner["level"]
        for peer in row["also_improving"]:
            assert peer["improving"] and not peer["level"]
    assert "Tydligt betyder" in data["learning"]["what_clearly_means"]
    code, out, err = _run(capsys, "learn", "2180", "--format", "csv")
    assert code == 0, err
    parsed = _csv(out)
    assert out.startswith("municipality,kpi,") and parsed
    assert all(r["municipality"] == "2180" for r in parsed)


def test_learn_for_everyone_as_csv(
    analysis_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "learn", "--alla", "--format", "csv")
    assert code == 0, err
    rows = _csv(out)
    assert out.startswith("municipality,municipality_name,kpi,area,year,z,q_value,partners\n")
    assert len({r["municipality"] for r in rows}) > 50
    assert all(float(r["q_value"]) <= 0.05 and float(r["z"]) < 0 for r in rows)
    code, out, err = _run(capsys, "learn", "--alla")
    assert code == 0, err
    assert "Hela landet" in out and "fynd i" in err


def test_a_bad_peer_group_is_a_usage_error_with_the_choices(
    analysis_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (
        ("compare", "Kungsbacka", "N17531", "--peers", "grannar"),
        ("learn", "Kungsbacka", "--peers", "grannar"),
        ("learn", "--alla", "--peers", "grannar"),
    ):
        code, out, err = _run(capsys, *argv)
        assert code == 2, argv
        assert out == ""
        assert "Fel: Okänd jämförelsegrupp 'grannar' för --peers" in err
        assert "struktur, kommungrupp, liknande eller alla" in err
        assert f"Nästa steg: Se `tillit {argv[0]} --help`." in err


def test_learn_for_everyone_refuses_a_peer_group_it_does_not_use(
    analysis_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(capsys, "learn", "--alla", "--peers", "kommungrupp")
    assert code == 2 and out == ""
    assert "--alla jämför varje kommun med dess strukturellt mest lika" in err


def test_learn_for_everyone_names_its_k_and_lists_the_largest_areas_first(
    analysis_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from tillit.query import national_summary

    code, out, err = _run(capsys, "learn", "--alla", "--k", "5", "--format", "json")
    assert code == 0, err
    rows = json.loads(out)
    summary = national_summary(rows)
    assert [m["behind"] for m in summary] == sorted((m["behind"] for m in summary), reverse=True)
    for m in summary:
        counts = m["area_counts"]
        assert sum(counts.values()) == m["behind"]
        assert m["areas"] == sorted(counts, key=lambda a: (-counts[a], a))[:3]
    # The real data has a municipality whose largest area is not its alphabetically first.
    assert any(m["areas"][0] != min(m["area_counts"]) for m in summary)
    code, out, err = _run(capsys, "learn", "--alla", "--k", "5")
    assert code == 0, err
    text = " ".join(out.split())
    assert "sina 5 mest lika" in text and "sina 7 mest lika" not in text
    first = summary[0]
    assert f"│ {first['name']} " in out and first["areas"][0] in text


def test_learn_without_a_municipality_explains_the_choices(
    analysis_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "learn")
    assert code == 1
    assert "Fel:" in err and "--alla" in err and "tillit learn Kungsbacka" in err


def test_riket_or_an_unknown_kpi_is_an_error_with_a_next_step(
    analysis_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(capsys, "learn", "Riket")
    assert code == 1
    assert "Riket är hela landet" in err and "Nästa steg:" in err
    code, _, err = _run(capsys, "compare", "0013", "N15419")
    assert code == 1 and "nyckeltal för kommuner" in err and "Region Halland" in err
    code, _, err = _run(capsys, "compare", "Kungsbacka", "N99999")
    assert code == 1 and "N99999" in err and "Nästa steg:" in err
    code, _, err = _run(capsys, "trend", "Kungsbacka", "N99999")
    assert code == 1 and "N99999" in err


def test_the_cli_names_the_same_peer_kinds_as_the_query_layer() -> None:
    from tillit.cli._analyses import PEER_KINDS as cli_kinds
    from tillit.query import PEER_KINDS

    assert cli_kinds == PEER_KINDS
