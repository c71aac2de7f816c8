"""Failed logins are audited; someone else's token answers like a missing one; the
TILLIT_COOKIE_SECURE setting marks the session cookie Secure."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.bank_fixtures import PASSWORD, People
from tillit.bank import Bank
from tillit.config import Settings, load_settings
from tillit.errors import ConfigError
from tillit.web import create_app


def test_a_failed_login_is_written_to_the_audit_log(
    api: TestClient, bank: Bank, people: People
) -> None:
    response = api.post("/api/login", json={"email": "G@example.se", "password": "fel-lösen"})
    assert response.status_code == 401
    api.post("/api/login", json={"email": "ingen@example.se", "password": "fel-lösen"})
    failed = [e for e in bank.audit_log(people.admin) if e.action == "user.login_failed"]
    assert {(e.details["email"], e.details["reason"]) for e in failed} == {
        ("g@example.se", "wrong_password"),
        ("ingen@example.se", "unknown_user"),
    }
    assert all(e.details["client"] for e in failed)
    assert "fel-lösen" not in str([e.details for e in failed])  # never the password


def test_someone_elses_token_answers_like_a_missing_one(
    api: TestClient, bank: Bank, people: People, login: Callable[..., str]
) -> None:
    _, theirs = bank.create_token(people.stockholm, "skript")
    csrf = login("g@example.se")
    other = api.delete(f"/api/tokens/{theirs.id}", headers={"X-CSRF-Token": csrf})
    missing = api.delete("/api/tokens/999999", headers={"X-CSRF-Token": csrf})
    assert other.status_code == missing.status_code == 404
    assert [t.id for t in bank.tokens(people.stockholm) if t.revoked_at is None] == [theirs.id]


@pytest.mark.parametrize(
    ("raw", "expected"), [("1", True), ("ja", True), ("0", False), ("", False)]
)
def test_cookie_secure_setting(raw: str, expected: bool, tmp_path: Path) -> None:
    settings = load_settings({"TILLIT_HOME": str(tmp_path), "TILLIT_COOKIE_SECURE": raw})
    assert settings.cookie_secure is expected


def test_a_malformed_cookie_secure_setting_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="TILLIT_COOKIE_SECURE"):
        load_settings({"TILLIT_HOME": str(tmp_path), "TILLIT_COOKIE_SECURE": "kanske"})


def test_the_setting_marks_the_session_cookie_secure(
    bank: Bank, people: People, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path, cookie_secure=True)
    with TestClient(create_app(settings, bank=bank)) as client:
        response = client.post("/api/login", json={"email": "g@example.se", "password": PASSWORD})
    assert response.status_code == 200
    assert "secure" in response.headers["set-cookie"].lower()
