from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from tests.bank_fixtures import FAST_PASSWORDS
from tests.conftest import METADATA
from tillit.bank import open_bank
from tillit.cli import main
from tillit.config import Settings


@pytest.fixture
def cli_env(tillit_env: Settings, blank_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """The CLI pointed at an empty database (SQLite and PostgreSQL)."""
    monkeypatch.setenv("TILLIT_DATABASE_URL", blank_url)
    return blank_url


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_commands_before_db_upgrade_say_to_run_it(
    cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["bank", "export", "x.jsonl"]) == 1
    assert "tillit db upgrade" in capsys.readouterr().err


def test_db_upgrade_seed_user_export_import(
    cli_env: str,
    shared_data: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["db", "upgrade"]) == 0
    assert "är på version" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert main(["db", "status"]) == 0
    assert "aktuell" in capsys.readouterr().out
    assert main(["import", str(METADATA / "municipality_v3_2026-03.values.json")]) == 0
    capsys.readouterr()
    assert main(["bank", "seed"]) == 0
    out = capsys.readouterr().out
    assert "290 kommuner och 21 regioner: 311 nya" in out
    assert main(["bank", "seed"]) == 0
    assert "0 nya, 0 ändrade, 311 oförändrade" in capsys.readouterr().out

    _stdin(monkeypatch, "ett långt lösenord\n")
    assert main(["user", "add", "Anna@Example.se", "--role", "editor", "-o", "1480",
                 "--name", "Anna", "--password-stdin"]) == 0  # fmt: skip
    assert "anna@example.se (editor för 1480)" in capsys.readouterr().out
    _stdin(monkeypatch, "ett långt lösenord\n")
    assert main(["user", "add", "b@example.se", "--role", "editor", "--password-stdin"]) == 1
    assert "organisation" in capsys.readouterr().err
    _stdin(monkeypatch, "ett långt lösenord\n")
    assert main(["user", "add", "c@example.se", "--role", "owner", "--password-stdin"]) == 1
    assert "Okänd roll" in capsys.readouterr().err
    assert main(["user", "list"]) == 0
    assert "anna@example.se" in capsys.readouterr().out

    with open_bank(cli_env, passwords=FAST_PASSWORDS) as bank:
        anna = bank.authenticate("anna@example.se", "ett långt lösenord")
        assert anna is not None
        bank.create_example(anna, {"title": "Ett gott exempel"})

    backup = tmp_path / "bank.jsonl"
    assert main(["bank", "export", str(backup)]) == 0
    assert "Exporterade" in capsys.readouterr().out
    lines = backup.read_text(encoding="utf-8").splitlines()
    assert sum(json.loads(line)["table"] == "organisations" for line in lines) == 311
    assert main(["bank", "import", str(backup)]) == 1
    assert "inte tom" in capsys.readouterr().err

    copy = f"sqlite:///{tmp_path / 'copy.sqlite'}"
    monkeypatch.setenv("TILLIT_DATABASE_URL", copy)
    assert main(["db", "upgrade"]) == 0
    assert main(["bank", "import", str(backup)]) == 0
    assert "Läste in" in capsys.readouterr().out
    again = tmp_path / "again.jsonl"
    assert main(["bank", "export", str(again)]) == 0
    assert again.read_text(encoding="utf-8") == backup.read_text(encoding="utf-8")


def test_user_add_asks_for_the_password_twice(
    cli_env: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade"]) == 0
    _stdin(monkeypatch, "ett långt lösenord\nett annat lösenord\n")
    assert main(["user", "add", "a@example.se", "--role", "admin"]) == 1
    assert "olika" in capsys.readouterr().err
    _stdin(monkeypatch, "ett långt lösenord\nett långt lösenord\n")
    assert main(["user", "add", "a@example.se", "--role", "admin"]) == 0


def test_a_malformed_database_url_is_a_config_error(
    tillit_env: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TILLIT_DATABASE_URL", "mysql://localhost/tillit")
    assert main(["db", "upgrade"]) == 1
    err = capsys.readouterr().err
    assert "TILLIT_DATABASE_URL" in err and "Nästa steg" in err


def test_bank_add_organisation_adds_skr_once(
    cli_env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade"]) == 0
    capsys.readouterr()
    assert main(["bank", "add-organisation", "SKR", "--code", "SKR"]) == 0
    assert "Organisationen SKR är tillagd" in capsys.readouterr().out
    assert main(["bank", "add-organisation", "skr"]) == 1  # the same name again
    assert "Fel:" in capsys.readouterr().err
    bank = open_bank(cli_env, passwords=FAST_PASSWORDS)
    try:
        assert [(o.name, o.kind) for o in bank.organisations()] == [("SKR", "other")]
    finally:
        bank.close()
