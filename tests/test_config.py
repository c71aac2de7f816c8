from __future__ import annotations

import re
from pathlib import Path

import pytest

from tillit.config import DEFAULT_KOLADA_URL, load_settings, setting_names
from tillit.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_apply_when_nothing_is_set() -> None:
    settings = load_settings({})
    assert settings.kolada_url == DEFAULT_KOLADA_URL
    assert settings.kolada_rate == 5.0
    assert settings.kolada_per_page == 5000
    assert settings.home.name == "tillit"


def test_environment_overrides_each_setting(tmp_path: Path) -> None:
    settings = load_settings(
        {
            "TILLIT_HOME": str(tmp_path),
            "TILLIT_KOLADA_URL": "http://127.0.0.1:9/v3/",
            "TILLIT_KOLADA_RATE": "0",
            "TILLIT_KOLADA_TIMEOUT": "2.5",
            "TILLIT_KOLADA_RETRIES": "1",
            "TILLIT_KOLADA_PER_PAGE": "100",
            "TILLIT_MEMORY_LIMIT": "2GB",
        }
    )
    assert settings.home == tmp_path
    assert settings.store_dir == tmp_path / "store"
    assert settings.kolada_url == "http://127.0.0.1:9/v3"
    assert (settings.kolada_rate, settings.kolada_timeout) == (0, 2.5)
    assert (settings.kolada_retries, settings.kolada_per_page) == (1, 100)
    assert settings.memory_limit == "2GB"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TILLIT_KOLADA_RATE", "fast"),
        ("TILLIT_KOLADA_PER_PAGE", "9000"),
        ("TILLIT_KOLADA_RETRIES", "-1"),
        ("TILLIT_KOLADA_URL", "api.kolada.se"),
        ("TILLIT_TRUSTED_PROXIES", "10.0.0.1, proxy.example.se"),
    ],
)
def test_malformed_setting_is_a_config_error_naming_the_variable(name: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings({name: value})
    assert name in info.value.message
    assert info.value.hint


def test_every_setting_is_documented() -> None:
    text = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"`(TILLIT_[A-Z_]+)`", text))
    missing = [name for name in setting_names() if name not in documented]
    assert not missing, f"undocumented settings: {missing}"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TILLIT_MEMORY_LIMIT", "lots"),
        ("TILLIT_KOLADA_RETRIES", "2.5"),
        ("TILLIT_KOLADA_PER_PAGE", "100.5"),
    ],
)
def test_sizes_and_counts_must_be_well_formed(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        load_settings({name: value})


def test_database_url_defaults_to_sqlite_in_home_and_normalises_postgresql(
    tmp_path: Path,
) -> None:
    assert load_settings({"TILLIT_HOME": str(tmp_path)}).database_url == (
        f"sqlite:///{tmp_path / 'bank.sqlite'}"
    )
    for raw in ("postgresql://u@h:5432/db", "postgres://u@h:5432/db"):
        assert load_settings({"TILLIT_DATABASE_URL": raw}).database_url == (
            "postgresql+psycopg://u@h:5432/db"
        )
    same = "postgresql+psycopg://u:p@h/db?sslmode=require"
    assert load_settings({"TILLIT_DATABASE_URL": same}).database_url == same


@pytest.mark.parametrize(
    "value", ["mysql://h/db", "postgresql://h:5432/", "bank.sqlite", "postgresql+psycopg2://h/d"]
)
def test_a_malformed_database_url_is_a_config_error(value: str) -> None:
    with pytest.raises(ConfigError, match="TILLIT_DATABASE_URL") as info:
        load_settings({"TILLIT_DATABASE_URL": value})
    assert info.value.hint


def test_trusted_proxies_default_to_none_and_take_addresses_and_networks() -> None:
    assert load_settings({}).trusted_proxies == ()
    settings = load_settings({"TILLIT_TRUSTED_PROXIES": " 127.0.0.1, 10.0.0.0/8 ,::1,"})
    assert settings.trusted_proxies == ("127.0.0.1/32", "10.0.0.0/8", "::1/128")
