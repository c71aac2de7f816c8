from __future__ import annotations

from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from tests.bank_fixtures import PASSWORD, People
from tillit.bank import Bank, Passwords
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
