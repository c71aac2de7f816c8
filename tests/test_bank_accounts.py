from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from tests.bank_fixtures import FAST_PASSWORDS, PASSWORD, People
from tillit.bank import (
    Bank,
    LoginAttempt,
    LoginLimits,
    Passwords,
    export_bank,
    import_bank,
    open_bank,
    upgrade,
)
from tillit.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError


def test_seeding_organisations_is_idempotent_and_renames(bank: Bank) -> None:
    rows = [("1480", "Göteborg", "kommun"), ("0014", "Region Västra Götaland", "region")]
    assert bank.seed_organisations(rows) == (2, 0)
    assert bank.seed_organisations(rows) == (0, 0)
    assert bank.seed_organisations([("1480", "Göteborgs stad", "kommun")]) == (0, 1)
    assert [o.code for o in bank.organisations()] == ["0014", "1480"]
    assert bank.organisation("1480").name == "Göteborgs stad"
    assert [o.code for o in bank.organisations(kind="region")] == ["0014"]


def test_other_organisations_are_added_once(bank: Bank, people: People) -> None:
    skr = bank.add_organisation("SKR", actor=people.admin)
    assert (skr.kind, skr.code) == ("other", None)
    assert bank.organisation("SKR").id == skr.id
    assert bank.organisation(skr.id).name == "SKR"
    with pytest.raises(ConflictError):
        bank.add_organisation("skr")
    with pytest.raises(PermissionDeniedError):
        bank.add_organisation("Myndigheten", actor=people.goteborg)
    with pytest.raises(NotFoundError):
        bank.organisation("9999")


def test_users_authenticate_by_email_and_password(bank: Bank, people: People) -> None:
    assert bank.authenticate("G@Example.se ", PASSWORD) == people.goteborg
    assert bank.authenticate("g@example.se", "fel lösenord!") is None
    assert bank.authenticate("nobody@example.se", PASSWORD) is None
    bank.set_active(people.admin, people.goteborg.id, False)
    assert bank.authenticate("g@example.se", PASSWORD) is None


def test_user_rules(bank: Bank, people: People) -> None:
    with pytest.raises(ConflictError):
        bank.add_user("G@example.se", PASSWORD, "Dubblett", "reader")
    with pytest.raises(InvalidInputError, match="organisation"):
        bank.add_user("e@example.se", PASSWORD, "Ed", "editor")
    with pytest.raises(InvalidInputError, match="10"):
        bank.add_user("e@example.se", "kort", "Ed", "reader")
    with pytest.raises(InvalidInputError, match="roll"):
        bank.add_user("e@example.se", PASSWORD, "Ed", "owner")
    with pytest.raises(PermissionDeniedError):
        bank.add_user("e@example.se", PASSWORD, "Ed", "reader", actor=people.goteborg)
    assert [u.email for u in bank.users()] == [
        "admin@example.se",
        "g@example.se",
        "s@example.se",
        "r@example.se",
    ]
    assert bank.user_by_email("R@example.se").role == "reader"
    assert bank.user(people.goteborg.id).organisation_code == "1480"


def test_an_outdated_hash_is_upgraded_at_login(bank: Bank) -> None:
    weak = Passwords(PasswordHasher(time_cost=1, memory_cost=8, parallelism=1))
    stronger = Passwords(PasswordHasher(time_cost=2, memory_cost=16, parallelism=1))
    old = Bank(bank.engine, weak).add_user("x@example.se", PASSWORD, "X", "reader")
    upgraded = Bank(bank.engine, stronger)
    assert upgraded.authenticate("x@example.se", PASSWORD) == old
    with bank.transaction() as session:
        from tillit.bank import User

        stored = session.get(User, old.id)
        assert stored is not None and not stronger.needs_rehash(stored.password_hash)


def test_api_tokens(bank: Bank, people: People) -> None:
    plain, token = bank.create_token(people.goteborg, "skript")
    assert plain.startswith("tlt_") and token.prefix == plain[:12]
    assert bank.user_for_token(plain) == people.goteborg
    assert bank.tokens(people.goteborg)[0].last_used_at is not None
    assert bank.user_for_token(plain + "x") is None
    with pytest.raises(NotFoundError):  # someone else's token: as if it did not exist
        bank.revoke_token(people.stockholm, token.id)
    bank.revoke_token(people.goteborg, token.id)
    assert bank.user_for_token(plain) is None


def test_login_sessions(bank: Bank, people: People) -> None:
    plain, csrf = bank.create_session(people.reader, timedelta(hours=1))
    found = bank.session_user(plain)
    assert found is not None
    user, session = found
    assert user == people.reader and session.csrf_token == csrf
    assert session.expires_at > session.created_at
    assert bank.end_session(plain) is True
    assert bank.session_user(plain) is None
    assert bank.end_session(plain) is False
    expired, _ = bank.create_session(people.reader, timedelta(seconds=-1))
    assert bank.session_user(expired) is None
    actions = [e.action for e in bank.audit_log(people.admin, entity="user")]
    assert actions[:3] == ["user.login", "user.logout", "user.login"]


def test_the_audit_log_is_for_admins(bank: Bank, people: People) -> None:
    with pytest.raises(PermissionDeniedError):
        bank.audit_log(people.goteborg)
    with pytest.raises(PermissionDeniedError):
        bank.audit_log(None)
    entries = bank.audit_log(people.admin)
    assert entries[0].action == "user.create" and entries[0].user_id == people.admin.id
    assert entries[-1].action == "organisation.seed"


# -- the login limit's attempts ----------------------------------------------------------------

LIMITS = LoginLimits(per_account_address=2, per_address=3, per_account=3)
T0 = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_unfinished_attempts_count_and_a_success_resets_its_own_address(bank: Bank) -> None:
    first, wait = bank.reserve_login("A@example.se ", "192.0.2.1", T0, LIMITS)
    assert first is not None and wait == 0
    second, _ = bank.reserve_login("a@example.se", "192.0.2.1", T0, LIMITS)
    assert second is not None
    # Both still being checked: a third is refused until the first is 15 minutes old.
    assert bank.reserve_login("a@example.se", "192.0.2.1", T0, LIMITS) == (None, 15 * 60)
    bank.finish_login(second, succeeded=True)
    again, _ = bank.reserve_login("a@example.se", "192.0.2.1", T0, LIMITS)
    assert again is not None


def test_old_failures_are_forgotten_and_old_successes_kept_for_known_for(bank: Bank) -> None:
    ok, _ = bank.reserve_login("a@example.se", "192.0.2.1", T0, LIMITS)
    assert ok is not None
    bank.finish_login(ok, succeeded=True)
    for address in ("192.0.2.2", "192.0.2.3", "192.0.2.4"):
        attempt, _ = bank.reserve_login("a@example.se", address, T0, LIMITS)
        assert attempt is not None
        bank.finish_login(attempt, succeeded=False)
    with bank.sessions() as session:
        assert session.scalar(select(func.count()).select_from(LoginAttempt)) == 4
    later = T0 + LIMITS.window + timedelta(seconds=1)
    assert bank.reserve_login("b@example.se", "192.0.2.9", later, LIMITS)[0] is not None
    with bank.sessions() as session:  # the failures have gone, the success and the new stay
        left = session.scalars(select(LoginAttempt.succeeded).order_by(LoginAttempt.id)).all()
    assert left == [True, None]
    much_later = T0 + LIMITS.known_for + timedelta(seconds=1)
    bank.reserve_login("c@example.se", "192.0.2.9", much_later, LIMITS)
    with bank.sessions() as session:
        emails = session.scalars(select(LoginAttempt.email)).all()
    assert emails == ["c@example.se"]


def test_login_attempts_are_not_exported_and_do_not_stop_an_import(
    bank: Bank, people: People, tmp_path: Path
) -> None:
    bank.reserve_login("g@example.se", "192.0.2.1", T0, LIMITS)
    path = tmp_path / "bank.jsonl"
    counts = export_bank(bank, path)
    assert "login_attempts" not in counts
    assert '"login_attempts"' not in path.read_text(encoding="utf-8")
    target = f"sqlite:///{tmp_path / 'copy.sqlite'}"
    upgrade(target)
    with open_bank(target, passwords=FAST_PASSWORDS) as copy:
        copy.reserve_login("g@example.se", "192.0.2.1", T0, LIMITS)  # someone tried already
        assert import_bank(copy, path) == counts
