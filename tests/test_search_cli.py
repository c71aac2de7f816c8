"""Every search says how many it found and how to see more, and every municipality filter
takes a name or a code: `tillit kpi search`, `municipality search` and `bank search` (the
bank on SQLite and PostgreSQL)."""

from __future__ import annotations

import json

import pytest

from tests.bank_fixtures import FAST_PASSWORDS
from tests.conftest import METADATA
from tillit.bank import open_bank
from tillit.cli import main
from tillit.config import Settings
from tillit.swedish import number


@pytest.fixture
def catalogue(tillit_env: Settings, shared_data: object) -> Settings:
    files = [str(METADATA / f"{n}_v3_2026-03.values.json") for n in ("kpi", "municipality")]
    assert main(["import", *files]) == 0
    return tillit_env


def _total(capsys: pytest.CaptureFixture[str], *args: str) -> int:
    capsys.readouterr()
    assert main([*args, "-n", "100000", "--format", "json"]) == 0
    return len(json.loads(capsys.readouterr().out))


def test_kpi_search_says_how_many_it_shows_of_how_many(
    catalogue: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    total = _total(capsys, "kpi", "search", "hemtjänst")
    assert total > 20
    assert main(["kpi", "search", "hemtjänst"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"Visar 20 av {number(total)} nyckeltal, --limit för fler." in out
    assert main(["kpi", "search", "hemtjänst", "-n", str(total)]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"{number(total)} nyckeltal." in out and "--limit för fler" not in out


def test_kpi_search_finds_what_plain_snowball_missed(
    catalogue: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    # "sjukfrånvaron": Snowball keeps the definite -n, so this found nothing before.
    assert _total(capsys, "kpi", "search", "sjukfrånvaron") == _total(
        capsys, "kpi", "search", "sjukfrånvaro"
    )
    assert _total(capsys, "kpi", "search", "sjukfrånvaron") > 0


def test_municipality_search_has_a_limit_and_a_count(
    catalogue: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    total = _total(capsys, "municipality", "search", "s")
    assert total > 3
    assert main(["municipality", "search", "s", "-n", "3"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert f"Visar 3 av {total} träffar, --limit för fler." in out


@pytest.fixture
def bank_env(
    tillit_env: Settings, blank_url: str, monkeypatch: pytest.MonkeyPatch
) -> tuple[Settings, str]:
    """The CLI pointed at a migrated bank (SQLite and PostgreSQL) with Kungsbacka's and
    Halmstad's organisations and three published examples."""
    monkeypatch.setenv("TILLIT_DATABASE_URL", blank_url)
    assert main(["db", "upgrade"]) == 0
    with open_bank(blank_url, passwords=FAST_PASSWORDS) as bank:
        bank.seed_organisations(
            [("1384", "Kungsbacka", "kommun"), ("1380", "Halmstad", "kommun"),
             ("0013", "Region Halland", "region"), ("0180", "Stockholm", "kommun")]
        )  # fmt: skip
        admin = bank.add_user("admin@example.se", "ett långt lösenord", "Admin", "admin")
        for org, title in [
            ("1384", "Vindkraftverken i Kungsbacka"),
            ("1380", "Ett vindkraftverk vid Halmstad"),
            ("0180", "Vindkraftverkets ljud i Stockholm"),
        ]:
            example = bank.create_example(admin, {"organisation": org, "title": title})
            bank.publish(admin, example.id, example.version)
    return tillit_env, blank_url


def _bank_titles(capsys: pytest.CaptureFixture[str], *args: str) -> list[str]:
    capsys.readouterr()
    assert main(["bank", "search", *args, "--format", "json"]) == 0
    return sorted(h["title"] for h in json.loads(capsys.readouterr().out))


def test_bank_search_takes_a_municipality_by_name_or_code(
    bank_env: tuple[Settings, str], capsys: pytest.CaptureFixture[str]
) -> None:
    kungsbacka = ["Vindkraftverken i Kungsbacka"]
    assert _bank_titles(capsys, "vindkraftverket", "--municipality", "1384") == kungsbacka
    for name in ("Kungsbacka", "kungsbacka", "Kungsbacka kommun", "KUNGSBACKA"):
        assert _bank_titles(capsys, "vindkraftverket", "--municipality", name) == kungsbacka
    halland = ["Ett vindkraftverk vid Halmstad", "Vindkraftverken i Kungsbacka"]
    assert _bank_titles(capsys, "vindkraftverk", "--region", "Halland") == halland
    assert _bank_titles(capsys, "vindkraftverk", "--region", "Region Halland") == halland
    assert _bank_titles(capsys, "vindkraftverk", "--region", "0013") == halland


def test_bank_search_refuses_a_name_it_does_not_know(
    bank_env: tuple[Settings, str], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["bank", "search", "vindkraft", "--municipality", "Atlantis"]) == 1
    err = capsys.readouterr().err
    assert "Hittar ingen kommun som heter 'Atlantis'" in err and "1384" in err


def test_bank_search_says_how_many_it_shows(
    bank_env: tuple[Settings, str], capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["bank", "search", "vindkraftverkens", "--limit", "2"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "Visar 2 av 3 träffar, --limit för fler." in out
    assert main(["bank", "search", "vindkraftverkens"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "3 träffar." in out and "--limit för fler" not in out


def test_bank_search_resolves_names_with_kolada_catalogue_too(
    bank_env: tuple[Settings, str], catalogue: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _bank_titles(capsys, "vindkraftverk", "--municipality", "Göteborgs kommun") == []
    assert _bank_titles(capsys, "vindkraftverk", "--municipality", "Halmstads kommun") == [
        "Ett vindkraftverk vid Halmstad"
    ]
    capsys.readouterr()
    assert main(["bank", "search", "vind", "--region", "Kungsbacka"]) == 1
    assert "inte en region" in capsys.readouterr().err
