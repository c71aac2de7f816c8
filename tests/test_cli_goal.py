"""`tillit goal …` through tillit.cli.main, as a Kungsbacka editor would run it on the real
analysis store and a real SQLite bank: the measurability check before saving, three goals
(one too small to measure, one ambitious, one realistic), the same verdicts in the table, the
JSON and the API, a lowered target that stays visible, målträngsel, and the errors."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.bank_fixtures import FAST_PASSWORDS, PASSWORD
from tillit.bank import open_bank
from tillit.cli import main
from tillit.config import Settings
from tillit.query import Atlas
from tillit.store import Store
from tillit.web import create_app

EDITOR = "k@example.se"
#: Kungsbacka's three goals: the first asks for a change the noise hides, the second for more
#: than any structural peer achieved in four years, the third for what about half did in eight.
SMALL = ("Fler elever klarar alla ämnen i årskurs 9", "N15419:ökning:84:2026")
AMBITIOUS = ("Fler gymnasieelever tar examen inom tre år", "N17445:ökning:88:2026")
REALISTIC = ("Färre unga utanför arbete och studier", "N02797:minskning:1,7:2030")


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _flat(text: str) -> str:
    """Printed text as one line with plain spaces (Rich wraps; numbers keep their units with
    no-break spaces)."""
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


@pytest.fixture
def goal_env(
    analysis_env: Settings,
    sqlite_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> str:
    """The analysis store (read only) and a bank of its own with an editor for Kungsbacka;
    returns the bank's URL."""
    path = tmp_path / "bank.sqlite"
    path.write_bytes(sqlite_template.read_bytes())
    url = f"sqlite:///{path}"
    bank = open_bank(url, passwords=FAST_PASSWORDS)
    try:
        bank.seed_organisations([("1384", "Kungsbacka", "kommun"), ("1380", "Halmstad", "kommun")])
        admin = bank.add_user("admin@example.se", PASSWORD, "Admin", "admin")
        bank.add_user(EDITOR, PASSWORD, "Kim", "editor", "1384", actor=admin)
    finally:
        bank.close()
    monkeypatch.setenv("TILLIT_DATABASE_URL", url)
    monkeypatch.delenv("TILLIT_GOALS_MAX", raising=False)
    return url


def _add(
    capsys: pytest.CaptureFixture[str], title: str, indicator: str, *extra: str
) -> dict[str, Any]:
    code, out, err = _run(
        capsys,
        "goal",
        "add",
        "--kommun",
        "Kungsbacka",
        "--titel",
        title,
        "--niva",
        "kommunfullmäktige",
        "--indikator",
        indicator,
        "--user",
        EDITOR,
        "-f",
        "json",
        *extra,
    )
    assert code == 0, err
    data: dict[str, Any] = json.loads(out)
    return data


def test_the_measurability_check_is_shown_before_anything_is_saved(
    goal_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(
        capsys, "goal", "add", "-m", "Kungsbacka", "--titel", SMALL[0], "-i", SMALL[1],
        "--forhandsgranska",
    )  # fmt: skip
    assert code == 0, err
    assert "inget är sparat" in _flat(out)
    assert "basvärde 82 % (2022, ur arkivet)" in _flat(out)
    assert "Inte mätbart: Målet kräver +2 procentenheter från 2022 till 2026" in _flat(out)
    assert "inte att skilja från slumpen" in _flat(out)
    code, out, _ = _run(capsys, "goal", "list", "-f", "json")
    assert (code, json.loads(out)) == (0, [])
    code, out, _ = _run(
        capsys, "goal", "add", "-m", "1384", "--titel", "x", "-i", AMBITIOUS[1],
        "--forhandsgranska", "-f", "json",
    )  # fmt: skip
    (check,) = json.loads(out)["checks"]
    assert json.loads(out)["saved"] is False
    assert check["measurability"]["measurable"] is True
    assert check["ambition"]["level"] == "beyond_peers"


def test_a_kungsbacka_editor_sets_three_goals_and_every_surface_shows_the_same_verdicts(
    goal_env: str, analysis_settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    small = _add(capsys, *SMALL)
    ambitious = _add(capsys, *AMBITIOUS)
    realistic = _add(capsys, *REALISTIC, "--delmal", "N02797:2026=2,6")
    checks = [g["indicators"][0]["check"] for g in (small, ambitious, realistic)]
    assert [c["measurability"]["measurable"] for c in checks] == [False, True, True]
    assert [c["ambition"]["level"] for c in checks] == ["beyond_peers", "beyond_peers", "realistic"]
    assert realistic["indicators"][0]["interim"] == [{"year": 2026, "value": 2.6}]
    verdicts = {g["id"]: g["judgement"]["verdict_label"] for g in (small, ambitious, realistic)}
    # The list, judge and show agree with what add said, in JSON and in the table.
    code, out, _ = _run(capsys, "goal", "list", "-m", "Kungsbacka", "-f", "json")
    listed = json.loads(out)
    assert {g["id"]: g["judgement"]["verdict_label"] for g in listed} == verdicts
    code, out, _ = _run(capsys, "goal", "judge", "-f", "json")
    assert {g["id"]: g["judgement"]["verdict_label"] for g in json.loads(out)} == verdicts
    code, table, _ = _run(capsys, "goal", "list")
    assert code == 0
    for label in verdicts.values():
        assert label in _flat(table)
    code, shown, _ = _run(capsys, "goal", "show", str(ambitious["id"]), "-f", "json")
    show = json.loads(shown)
    assert show == {**ambitious, "indicators": [
        {k: v for k, v in i.items() if k != "check"} for i in ambitious["indicators"]
    ]}  # fmt: skip
    # The API answers with the same shape and the same numbers.
    bank = open_bank(goal_env, passwords=FAST_PASSWORDS)
    try:
        store = Store(analysis_settings.store_dir, memory_limit="512MB")
        with TestClient(create_app(bank=bank, atlas=Atlas(store))) as client:
            assert client.get(f"/api/goals/{ambitious['id']}").json() == show
    finally:
        bank.close()
    code, out, _ = _run(capsys, "goal", "show", str(realistic["id"]))
    assert "minska till 1,7 % senast 2030 (basvärde 3,5 % år 2022)" in _flat(out)
    assert "Delmål 2026 (2,6 %): inte publicerat än" in _flat(out)
    assert f"Bedömning: {realistic['judgement']['verdict_label']}" in _flat(out)
    assert "Ambition (realistiskt): 3 av 7 liknande kommuner" in _flat(out)


def test_a_lowered_target_stays_visible_with_who_when_and_why(
    goal_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    goal = _add(capsys, *AMBITIOUS)
    code, out, err = _run(
        capsys, "goal", "edit", str(goal["id"]), "--mal", "N17445=86",
        "--motivering", "Ingen liknande kommun har ökat så mycket.", "--user", EDITOR,
    )  # fmt: skip
    assert code == 0, err
    assert "Målet 1 är nu version 2." in _flat(out)
    assert "sänktes från 88 till 86 (Kim, version 2: Ingen liknande kommun" in _flat(out)
    code, out, err = _run(
        capsys, "goal", "edit", str(goal["id"]), "--titel", "Nytt", "--version", "1",
        "--user", EDITOR,
    )  # fmt: skip
    assert code == 1 and "har ändrats av någon annan sedan version 1" in _flat(err)
    assert "Nästa steg:" in _flat(err)
    code, out, _ = _run(capsys, "goal", "show", str(goal["id"]), "-f", "json")
    changes = json.loads(out)["target_changes"]
    assert [(c["field"], c["old"], c["new"]) for c in changes] == [("target_value", 88.0, 86.0)]
    code, out, _ = _run(capsys, "goal", "show", str(goal["id"]), "-f", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["kpi"], r["target_value"]) for r in rows] == [("N17445", "86.0")]
    code, out, err = _run(capsys, "goal", "remove", str(goal["id"]), "--user", EDITOR)
    assert code == 0, err
    assert "är borttaget" in _flat(out)
    code, _, err = _run(capsys, "goal", "show", str(goal["id"]))
    assert code == 1 and "finns inte" in _flat(err)


def test_many_goals_and_one_kpi_in_several_goals_get_a_note(
    goal_env: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TILLIT_GOALS_MAX", "1")
    _add(capsys, *SMALL)
    _add(capsys, "Ännu ett skolmål", "N15419/K:minst:80:2026")
    code, out, _ = _run(capsys, "goal", "list")
    assert code == 0
    assert "Obs: Kungsbacka har 2 mål, fler än 1." in _flat(out)
    assert "N15419) följs upp i 2 mål (1, 2)" in _flat(out)


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["-i", "N15419:ökning:84"], "Kan inte tolka indikatorn"),
        (["-i", "N15419:uppåt:84:2026", "-u", EDITOR], "Okänd riktning"),
        (["-i", "N15419:ökning:84:2026"], "Ange kontot"),
        (["-i", "N15419:ökning:84:2026:1995", "-u", EDITOR], "inget värde"),
        (["-i", "N15419:ökning:84:2026", "-u", "nobody@example.se"], "nobody@example.se"),
        (["-i", "N15419:ökning:84:2026", "--delmal", "N17445:2024=1", "-u", EDITOR], "Delmålet"),
    ],
)
def test_a_bad_goal_is_an_error_with_the_next_step(
    goal_env: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    code, _, err = _run(capsys, "goal", "add", "-m", "Kungsbacka", "--titel", "x", *argv)
    assert code == 1
    assert message in _flat(err) and "Fel:" in _flat(err)
    code, out, _ = _run(capsys, "goal", "list", "-f", "json")
    assert json.loads(out) == []


def test_an_editor_may_not_set_a_goal_for_another_municipality(
    goal_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = _run(
        capsys, "goal", "add", "-m", "Halmstad", "--titel", "x", "-i", SMALL[1], "-u", EDITOR
    )
    assert code == 1 and "egen organisation" in _flat(err)


def test_a_region_sets_a_goal_on_a_region_kpi_judged_against_the_other_regions(
    region_env: Settings,
    sqlite_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    path = tmp_path / "bank.sqlite"
    path.write_bytes(sqlite_template.read_bytes())
    bank = open_bank(f"sqlite:///{path}", passwords=FAST_PASSWORDS)
    try:
        bank.seed_organisations([("0013", "Region Halland", "region")])
        admin = bank.add_user("admin@example.se", PASSWORD, "Admin", "admin")
        bank.add_user("h@example.se", PASSWORD, "H", "editor", "0013", actor=admin)
    finally:
        bank.close()
    monkeypatch.setenv("TILLIT_DATABASE_URL", f"sqlite:///{path}")
    code, out, err = _run(
        capsys, "goal", "add", "--region", "Region Halland", "--titel", "Färre förtida dödsfall",
        "-i", "N01451:minskning:140:2026", "-u", "h@example.se", "-f", "json",
    )  # fmt: skip
    assert code == 0, err
    goal = json.loads(out)
    assert goal["organisation"]["kind"] == "region"
    check = goal["indicators"][0]["check"]
    assert check["ambition"]["peers"] == 7
    assert "liknande regioner" in check["ambition"]["text"]
    assert goal["indicators"][0]["judgement"]["verdict"] != "cannot_judge"
    # A municipal KPI is refused for a region, naming region KPIs instead.
    code, _, err = _run(
        capsys, "goal", "add", "--region", "0013", "--titel", "x", "-i", "N15419:ökning:90:2026",
        "-u", "h@example.se",
    )  # fmt: skip
    assert code == 1 and "nyckeltal för kommuner" in _flat(err)


def test_without_kolada_data_a_goal_is_shown_and_cannot_be_judged(
    tillit_env: Settings,
    sqlite_template: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from tillit.bank import goals_of

    path = tmp_path / "bank.sqlite"
    path.write_bytes(sqlite_template.read_bytes())
    bank = open_bank(f"sqlite:///{path}", passwords=FAST_PASSWORDS)
    try:
        bank.seed_organisations([("1384", "Kungsbacka", "kommun")])
        admin = bank.add_user("admin@example.se", PASSWORD, "Admin", "admin")
        indicator = {
            "kpi": "N15419",
            "baseline_year": 2022,
            "baseline_value": 82,
            "target_value": 84,
            "target_year": 2026,
            "direction": "increase",
        }
        goal = goals_of(bank).create_goal(
            admin, {"organisation": "1384", "title": "Mål", "indicators": [indicator]}
        )
    finally:
        bank.close()
    monkeypatch.setenv("TILLIT_DATABASE_URL", f"sqlite:///{path}")
    code, out, err = _run(capsys, "goal", "show", str(goal.id))
    assert code == 0, err
    assert "Bedömning: kan inte bedömas ännu (inga värden)" in _flat(out)
    assert "årsbrus här är okänt" in _flat(out)


@pytest.mark.parametrize("command", ["add", "list", "show", "judge", "edit", "remove"])
def test_every_goal_command_has_a_help_page(
    command: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code, out, err = _run(capsys, "goal", command, "--help")
    assert code == 0, err
    assert "Användning: tillit goal" in out
    if command in ("add", "edit"):  # brackets in the help are text, not markup
        assert "NYCKELTAL[/KÖN]" in out
