"""Eligibility: which KPIs may be ranked as performance (binary, categorical, step-shaped
and structural ones may not; neither may a KPI without a title), the user's file, and the
minimum practical difference below which no gap is "clear"."""

from __future__ import annotations

import csv
import importlib.resources
import json
from dataclasses import replace
from pathlib import Path

import duckdb
import numpy as np
import pytest

from tillit.analyses._eligibility import (
    REASON_LABELS,
    EligibilityOverride,
    assess_eligibility,
    curated_eligibility,
    judge_title,
    judge_values,
    latest_values,
    minimum_practical_difference,
    parse_eligibility_overrides,
    practical_gap,
)
from tillit.config import Settings, load_settings
from tillit.errors import ConfigError, InvalidInputError
from tillit.query import load_context, polarity_overrides
from tillit.query._context import untestable
from tillit.store import Store

ROOT = Path(__file__).resolve().parents[1]


# --- the rules, on made-up values ------------------------------------------------------------


def _series(rng: np.random.Generator, municipalities: int = 50, years: int = 10) -> np.ndarray:
    level = rng.normal(50, 10, size=(municipalities, 1))
    return level + rng.normal(0, 2, size=(municipalities, years))


def test_values_of_zero_and_one_are_binary() -> None:
    rng = np.random.default_rng(1)
    values = rng.integers(0, 2, size=(40, 10)).astype(float)
    values[3, 4] = np.nan
    assert judge_values(values) == ("binary", "every value is 0 or 1")


def test_few_whole_number_values_are_categories() -> None:
    rng = np.random.default_rng(2)
    values = rng.integers(0, 3, size=(40, 10)).astype(float)
    found = judge_values(values)
    assert found is not None and found[0] == "categorical"


def test_a_series_that_mostly_stands_still_is_step_shaped() -> None:
    rng = np.random.default_rng(3)
    level = rng.normal(60, 8, size=(40, 1))
    # Turnout: the same value for four years, then a new one at the next election.
    values = np.repeat(level + rng.normal(0, 2, size=(40, 3)), 4, axis=1)[:, :10]
    found = judge_values(values)
    assert found is not None and found[0] == "step_shaped"
    assert "unchanged" in found[1]


def test_changes_below_a_thousandth_of_the_spread_count_as_standing_still() -> None:
    rng = np.random.default_rng(4)
    level = rng.normal(20, 10, size=(40, 1))
    values = level + rng.normal(0, 1e-6, size=(40, 10))  # re-measured areas
    found = judge_values(values)
    assert found is not None and found[0] == "step_shaped"


def test_an_ordinary_noisy_series_is_a_measurement() -> None:
    assert judge_values(_series(np.random.default_rng(5))) is None


def test_a_yes_no_title_is_binary_and_coded_answers_are_categories() -> None:
    assert judge_title("Ansvarsprövning i KF …, (Ja=1, Nej=0)") is not None
    assert judge_title("Ansvarsprövning i KF …, (Ja=1, Nej=0)")[0] == "binary"  # type: ignore[index]
    assert judge_title("Uppsökande verksamhet, (Ja=1, Nej=2)")[0] == "binary"  # type: ignore[index]
    assert judge_title("Samverkan - IVPA? (1=Ja, 0=Nej)")[0] == "binary"  # type: ignore[index]
    coded = "Politiskt styre i kommunen (1=vänster, 2=blocköverskridande, 3=borgerligt styre)"
    assert judge_title(coded)[0] == "categorical"  # type: ignore[index]
    assert judge_title("Organisation av avfallshanteringen, (kodade svarsalternativ)") is not None
    assert judge_title("Gymnasieelever med examen inom 4 år, andel (%)") is None
    assert judge_title("Elever/lärare i grundskola, antal") is None


def test_no_title_means_not_tested_whatever_the_values() -> None:
    values = _series(np.random.default_rng(6))
    for title in (None, "", "  "):
        decision = assess_eligibility("N00712", title, values)
        assert not decision.eligible
        assert decision.reason == "no_metadata"
        assert "metadata" in decision.explanation


def test_order_is_file_then_title_then_list_then_rules_then_values() -> None:
    values = np.random.default_rng(7).integers(0, 2, size=(40, 10)).astype(float)
    title = "Något, (Ja=1, Nej=0)"
    assert assess_eligibility("N99999", "Något, andel (%)", values).source == "data"
    assert assess_eligibility("N99999", title, values).source == "rule"
    assert assess_eligibility("N60111", title, values).source == "table"
    override = {"N60111": EligibilityOverride(True, None)}
    decided = assess_eligibility("n60111", title, values, override)
    assert decided.eligible and decided.source == "override"
    assert decided.explanation == "prövas (din fil)"
    assert assess_eligibility("N99999", "Något, andel (%)", _series(np.random.default_rng(8))) == (
        assess_eligibility("N99999", "Något, andel (%)")
    )


# --- the curated list -------------------------------------------------------------------------


def test_curated_list_rows_are_unique_explained_and_name_known_kpis(shared_data: Path) -> None:
    text = importlib.resources.files("tillit.analyses").joinpath("data/eligibility.csv")
    rows = list(csv.DictReader(text.read_text(encoding="utf-8").splitlines()))
    ids = [r["kpi"] for r in rows]
    assert len(ids) == len(set(ids))
    assert all(len(r["why"]) > 15 for r in rows)
    assert all(r["reason"] in REASON_LABELS for r in rows)
    meta = json.loads(
        (shared_data / "kolada_api_metadata" / "kpi_v3_2026-03.values.json").read_text("utf-8")
    )
    known = {k["id"] for k in meta}
    assert set(ids) <= known
    assert {"N60111", "N85054", "N85055", "N85057"} <= set(curated_eligibility())


# --- the user's file --------------------------------------------------------------------------


def test_override_file_both_ways_with_mpd_and_reason() -> None:
    text = (
        "# våra egna val\n"
        "kpi;eligible;mpd;reason\n"
        "n60111;ja;;vi arbetar med strandskyddet\n"
        "N17531;nej;;\n"
        "N15419;;2,5;en halv betygspoäng\n"
    )
    parsed = parse_eligibility_overrides(text, "val.csv")
    assert parsed == {
        "N60111": EligibilityOverride(True, None, "vi arbetar med strandskyddet"),
        "N17531": EligibilityOverride(False, None, ""),
        "N15419": EligibilityOverride(None, 2.5, "en halv betygspoäng"),
    }


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("kpi,polarity\nN15419,higher\n", "saknar kolumnerna"),
        ("kpi,eligible\nN154,ja\n", "inget nyckeltals-id"),
        ("kpi,eligible\nN15419,kanske\n", "okänt värde"),
        ("kpi;mpd\nN15419;-1\n", "inget tal"),
        ("kpi;mpd\nN15419;mycket\n", "inget tal"),
        ("kpi;eligible;mpd\nN15419;;\n", "varken eligible eller mpd"),
        ("kpi,eligible\nN15419,ja\nN15419,nej\n", "redan"),
    ],
)
def test_bad_override_rows_name_the_file_and_line(text: str, words: str) -> None:
    with pytest.raises(InvalidInputError) as info:
        parse_eligibility_overrides(text, "val.csv")
    assert "val.csv, rad" in str(info.value)
    assert words in str(info.value)


def test_empty_override_file_overrides_nothing() -> None:
    assert parse_eligibility_overrides("# inget\n\n", "val.csv") == {}


# --- the minimum practical difference ---------------------------------------------------------


def test_mpd_is_a_fifth_of_the_robust_spread_and_ignores_outliers() -> None:
    rng = np.random.default_rng(9)
    latest = rng.normal(50, 10, size=4000)
    assert minimum_practical_difference(latest) == pytest.approx(2.0, rel=0.05)
    with_outliers = np.concatenate([latest, [1e6, -1e6, np.nan]])
    assert minimum_practical_difference(with_outliers) == pytest.approx(2.0, rel=0.05)
    assert minimum_practical_difference(latest, fraction=0.1) == pytest.approx(1.0, rel=0.05)


def test_mpd_falls_back_to_the_standard_deviation_when_most_values_are_equal() -> None:
    latest = np.zeros(100)
    latest[:10] = 5.0
    assert minimum_practical_difference(latest) == pytest.approx(0.2 * np.std(latest, ddof=1))
    assert minimum_practical_difference(np.array([1.0, np.nan, 2.0])) == 0.0


def test_practical_gap_keeps_the_sign_and_removes_the_mpd() -> None:
    d = np.array([-3.0, -0.5, 0.0, 0.5, 3.0, np.nan])
    out = practical_gap(d, 1.0)
    np.testing.assert_array_equal(out[:5], [-2.0, 0.0, 0.0, 0.0, 2.0])
    assert np.isnan(out[5])


# --- on the real panel: what the analyses test and what they leave out, with the reason --------

#: Geography, protected nature, a yes/no answer, a KPI without a title (in the v3 metadata)
#: and an ordinary school result.
REAL_KPIS = ("N60111", "N85054", "N85055", "N85057", "N05406", "N00712", "N17531")
STRUCTURAL_REASONS = {"N60111", "N85054", "N85055", "N85057"}


@pytest.fixture(scope="module")
def real_settings(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """A store with the v3 metadata and, from 2011, the values of REAL_KPIS and the
    structural KPIs, cut from the real panel."""
    from tests.conftest import METADATA, PANEL
    from tillit.analyses import STRUCTURAL_KPIS
    from tillit.sync import import_path

    root = tmp_path_factory.mktemp("eligibility")
    settings = Settings(home=root / "home", kolada_rate=0, kolada_timeout=5, kolada_retries=3)
    store = Store(settings.store_dir, memory_limit="512MB")
    for name in ("kpi", "municipality", "municipality_groups"):
        import_path(store, METADATA / f"{name}_v3_2026-03.values.json")
    kpis = sorted(set(REAL_KPIS) | set(STRUCTURAL_KPIS))
    values = root / "values.parquet"
    con = duckdb.connect()
    try:
        con.execute(
            f"COPY (SELECT * FROM read_parquet('{PANEL}') WHERE kpi IN "
            f"({', '.join(repr(k) for k in kpis)}) AND year >= 2011 "
            f"ORDER BY ALL) TO '{values}' (FORMAT parquet)"
        )
    finally:
        con.close()
    import_path(store, values)
    return settings


def _store(settings: Settings) -> Store:
    return Store(settings.store_dir, memory_limit="512MB")


def test_geography_binary_and_untitled_kpis_are_left_out_with_their_reason(
    real_settings: Settings,
) -> None:
    ctx = load_context(_store(real_settings), testable_only=True)
    reasons = {e.kpi: e for e in ctx.exclusions}
    for kpi in STRUCTURAL_REASONS:
        assert reasons[kpi].reason == "structural", kpi
        assert "geografi eller struktur" in reasons[kpi].explanation
        assert kpi not in ctx.chosen
    assert reasons["N05406"].reason == "binary"
    assert "ja/nej" in reasons["N05406"].explanation
    assert reasons["N00712"].reason == "no_metadata"
    assert "N17531" in ctx.chosen and "N17531" not in reasons
    assert ctx.excluded["structural"] >= 4 and ctx.excluded["binary"] >= 1
    assert ctx.excluded["no_metadata"] >= 1


def test_a_context_of_named_kpis_says_which_it_would_not_test_and_why(
    real_settings: Settings,
) -> None:
    ctx = load_context(_store(real_settings), kpis=list(REAL_KPIS))
    assert ctx.testable() == ("N17531",)
    assert ctx.eligibility["N05406"].reason == "binary"
    assert untestable(ctx.polarity["N60111"], ctx.title("N60111"), ctx.eligibility["N60111"]) == (
        "structural"
    )
    assert untestable(ctx.polarity["N17531"], ctx.title("N17531"), ctx.eligibility["N17531"]) is (
        None
    )


def test_binary_kpi_is_found_from_its_values_without_its_title(real_settings: Settings) -> None:
    ctx = load_context(_store(real_settings), kpis=["N05406"])
    values = ctx.panel.values[ctx.panel.kpi_index("N05406")]
    assert judge_values(values) == ("binary", "every value is 0 or 1")
    n60111 = load_context(_store(real_settings), kpis=["N60111"])
    found = judge_values(n60111.panel.values[n60111.panel.kpi_index("N60111")])
    assert found is not None and found[0] == "step_shaped"


def test_the_users_file_overrides_eligibility_both_ways(
    real_settings: Settings, tmp_path: Path
) -> None:
    path = tmp_path / "val.csv"
    path.write_text("kpi;eligible;reason\nN60111;ja;vi arbetar med det\nN17531;nej;\n", "utf-8")
    settings = replace(real_settings, eligibility_file=path)
    ctx = load_context(
        _store(real_settings), testable_only=True, overrides=polarity_overrides(settings)
    )
    reasons = {e.kpi: e for e in ctx.exclusions}
    assert "N60111" in ctx.chosen and "N60111" not in reasons
    assert ctx.eligibility["N60111"].source == "override"
    assert reasons["N17531"].reason == "excluded_by_user"
    assert reasons["N17531"].explanation == "undantaget i din fil"
    assert "N17531" not in ctx.chosen


def test_eligibility_file_setting_is_optional_and_must_exist(tmp_path: Path) -> None:
    assert load_settings({}).eligibility_file is None
    path = tmp_path / "val.csv"
    path.write_text("kpi,eligible\nN60111,ja\n", "utf-8")
    assert load_settings({"TILLIT_ELIGIBILITY_FILE": str(path)}).eligibility_file == path
    with pytest.raises(ConfigError):
        load_settings({"TILLIT_ELIGIBILITY_FILE": str(tmp_path / "saknas.csv")})


def test_mpd_per_kpi_comes_from_the_spread_or_the_users_file(
    real_settings: Settings, tmp_path: Path
) -> None:
    ctx = load_context(_store(real_settings), kpis=["N17531"])
    latest = latest_values(ctx.panel.values[ctx.panel.kpi_index("N17531")])
    assert ctx.mpd["N17531"] == pytest.approx(minimum_practical_difference(latest))
    assert 0 < ctx.mpd["N17531"] < np.nanstd(latest)
    path = tmp_path / "val.csv"
    path.write_text("kpi;mpd\nN17531;2,5\n", "utf-8")
    settings = replace(real_settings, eligibility_file=path)
    ctx = load_context(
        _store(real_settings), kpis=["N17531"], overrides=polarity_overrides(settings)
    )
    assert ctx.mpd["N17531"] == 2.5


# --- every surface lists the KPIs left out, with the reason -------------------------------------


@pytest.fixture
def real_env(real_settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    monkeypatch.setenv("TILLIT_HOME", str(real_settings.home))
    monkeypatch.setenv("TILLIT_KOLADA_RATE", "0")
    monkeypatch.setenv("COLUMNS", "200")
    monkeypatch.delenv("TILLIT_POLARITY_FILE", raising=False)
    monkeypatch.delenv("TILLIT_ELIGIBILITY_FILE", raising=False)
    return real_settings


def test_learn_lists_each_kpi_left_out_with_its_reason_in_text_and_json(
    real_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from tillit.cli import main

    capsys.readouterr()
    assert main(["learn", "Kungsbacka"]) == 0
    captured = capsys.readouterr()
    text = " ".join((captured.out + captured.err).split())
    assert "Ej prövade" in text
    assert "Havsstrandlinje påverkad av bebyggelse" in text
    assert "beskriver geografi eller struktur" in text
    assert "ett ja/nej-svar" in text
    assert main(["learn", "Kungsbacka", "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    excluded = {e["kpi"]: e for e in data["learning"]["excluded"]}
    assert excluded["N60111"]["reason"] == "structural"
    assert excluded["N05406"]["reason"] == "binary"
    assert excluded["N00712"]["reason"] == "no_metadata"
    assert excluded["N85054"]["title"] == "Skyddad natur totalt, andel (%)"
    assert "N17531" not in excluded


def test_compare_does_not_judge_a_kpi_left_out_and_says_why(
    real_env: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    from tillit.cli import main

    capsys.readouterr()
    assert main(["compare", "Kungsbacka", "N60111", "N17531", "--format", "json"]) == 0
    rows = {r["kpi"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["N60111"]["tier"] == "not_eligible"
    assert rows["N60111"]["tier_label"].startswith("prövas inte")
    assert "geografi eller struktur" in rows["N60111"]["why_not_tested"]
    assert rows["N60111"]["q_value"] is None
    assert rows["N17531"]["tier"] != "not_eligible"


def test_municipality_page_and_kpi_page_list_the_kpis_not_tested(
    real_settings: Settings, tmp_path: Path
) -> None:
    from fastapi.testclient import TestClient

    from tillit.bank import open_bank, upgrade
    from tillit.query import Atlas
    from tillit.web import create_app

    url = f"sqlite:///{tmp_path / 'bank.sqlite'}"
    upgrade(url)
    bank = open_bank(url)
    app = create_app(bank=bank, atlas=Atlas(_store(real_settings)))
    try:
        with TestClient(app) as site:
            twin = site.get("/kommun/1384.json").json()
            excluded = {e["kpi"]: e for e in twin["learning"]["excluded"]}
            assert excluded["N60111"]["reason"] == "structural"
            assert excluded["N05406"]["reason"] == "binary"
            page = " ".join(site.get("/kommun/1384").text.split())
            assert "Ej prövade" in page
            assert "Havsstrandlinje påverkad av bebyggelse" in page
            assert "beskriver geografi eller struktur" in page
            kpi_page = " ".join(site.get("/nyckeltal/N05406?kommun=1384").text.split())
            assert "ett ja/nej-svar" in kpi_page
    finally:
        bank.close()


# --- the minimum practical difference in the verdict ---------------------------------------------


def _planted_store(settings: Settings, root: Path, factor: float) -> Store:
    """A store whose N17531 is every municipality's real mean level plus tiny noise, with
    Kungsbacka planted ``factor`` × the KPI's minimum practical difference above its
    structural peers' median: a gap the noise would call clear at any size."""
    from tests.conftest import METADATA, PANEL
    from tillit.analyses import STRUCTURAL_KPIS
    from tillit.sync import import_path

    ctx = load_context(_store(settings), kpis=["N17531"])
    panel = ctx.panel
    values = panel.values[panel.kpi_index("N17531")]
    present = ~np.isnan(values).all(axis=1)
    levels = np.where(present, np.nanmean(np.where(present[:, None], values, 0.0), axis=1), np.nan)
    mpd = minimum_practical_difference(levels)
    focal = panel.municipalities.index("1384")
    peers = [panel.municipalities.index(m) for m in ctx.peer_set("1384").members]
    levels[focal] = float(np.nanmedian(levels[peers])) + factor * mpd
    rng = np.random.default_rng(13)
    rows = [
        ("N17531", panel.municipalities[m], year, "T", float(levels[m] + rng.normal(0, 0.05 * mpd)))
        for m in range(len(panel.municipalities))
        if not np.isnan(levels[m])
        for year in panel.years
    ]
    store_settings = replace(settings, home=root / "home")
    store = Store(store_settings.store_dir, memory_limit="512MB")
    for name in ("kpi", "municipality", "municipality_groups"):
        import_path(store, METADATA / f"{name}_v3_2026-03.values.json")
    con = duckdb.connect()
    try:
        con.execute(
            f"CREATE TABLE v AS SELECT * FROM read_parquet('{PANEL}') WHERE kpi IN "
            f"({', '.join(repr(k) for k in STRUCTURAL_KPIS)}) AND year >= {min(panel.years)}"
        )
        con.executemany(
            "INSERT INTO v (kpi, municipality_id, year, gender, value) VALUES (?, ?, ?, ?, ?)",
            rows,
        )
        con.execute(f"COPY (SELECT * FROM v ORDER BY ALL) TO '{root / 'v.parquet'}'")
    finally:
        con.close()
    import_path(store, root / "v.parquet")
    return store


def _tier(store: Store, overrides: object = None) -> str:
    from tillit.query import compare_report

    report = compare_report(store, "1384", ["N17531"], overrides=overrides)  # type: ignore[arg-type]
    return report.comparisons[0].tier


def test_a_gap_below_the_minimum_practical_difference_is_never_clear(
    real_settings: Settings, tmp_path: Path
) -> None:
    store = _planted_store(real_settings, tmp_path / "small", 0.5)
    assert _tier(store) == "in_line"
    # The same gap is clear to the noise alone: with the MPD set to 0 it is flagged.
    path = tmp_path / "val.csv"
    path.write_text("kpi;mpd\nN17531;0\n", "utf-8")
    no_mpd = polarity_overrides(replace(real_settings, eligibility_file=path))
    assert _tier(store, no_mpd) == "clearly_better"


def test_a_gap_well_beyond_the_minimum_practical_difference_is_clear(
    real_settings: Settings, tmp_path: Path
) -> None:
    store = _planted_store(real_settings, tmp_path / "large", 3.0)
    assert _tier(store) == "clearly_better"


def test_the_eligibility_file_setting_reaches_the_cli(
    real_env: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tillit.cli import main

    path = tmp_path / "val.csv"
    path.write_text("kpi,eligible\nN60111,ja\nN17531,nej\n", "utf-8")
    monkeypatch.setenv("TILLIT_ELIGIBILITY_FILE", str(path))
    capsys.readouterr()
    assert main(["learn", "Kungsbacka", "--format", "json"]) == 0
    excluded = {e["kpi"]: e for e in json.loads(capsys.readouterr().out)["learning"]["excluded"]}
    assert excluded["N17531"]["reason"] == "excluded_by_user"
    assert "N60111" not in excluded
    path.write_text("kpi,eligible\nN60111,kanske\n", "utf-8")
    assert main(["learn", "Kungsbacka"]) != 0
    assert "rad 2" in capsys.readouterr().err


def test_spreads_of_many_kpis_at_once_equal_the_mpd_of_each() -> None:
    from tillit.analyses import MPD_FRACTION, robust_spreads

    rng = np.random.default_rng(11)
    latest = rng.normal(0, 3, size=(30, 290))
    latest[rng.random(latest.shape) < 0.2] = np.nan
    latest[3] = np.nan  # no values
    latest[4] = 0.0  # most values equal: the standard deviation
    latest[4, :10] = 5.0
    latest[5] = np.nan  # fewer than 4 values: no MPD
    latest[5, :3] = [1.0, 2.0, 4.0]
    spread, count = robust_spreads(latest)
    for row, s, n in zip(latest, spread, count, strict=True):
        expected = minimum_practical_difference(row)
        assert (MPD_FRACTION * s if n >= 4 else 0.0) == pytest.approx(expected)
