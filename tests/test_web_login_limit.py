"""The login limit (docs/api.md, "Login limit"), through HTTP on a real bank (SQLite and
PostgreSQL): it holds for simultaneous attempts, across server processes, trusts
X-Forwarded-For only from configured proxies, and a guesser elsewhere cannot lock the owner
out of the address they log in from."""

from __future__ import annotations

import multiprocessing
import re
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.bank_fixtures import PASSWORD, People
from tests.conftest import FakeClock
from tillit.bank import Bank, Passwords, open_bank
from tillit.bank._logins import _LOGIN_LOCK
from tillit.config import Settings
from tillit.web import LoginLimiter, create_app

#: A password check that takes tens of milliseconds, as real ones do: long enough for
#: simultaneous attempts to overlap.
SLOW_PASSWORDS = Passwords(PasswordHasher(time_cost=2, memory_cost=2**14, parallelism=1))
WRONG = {"email": "slow@example.se", "password": "fel lösenord"}
RIGHT = {"email": "g@example.se", "password": PASSWORD}
OWNER_HOME = ("192.0.2.10", 50000)


Clients = Callable[..., TestClient]


@pytest.fixture
def clients(bank: Bank, people: People, clock: FakeClock, tmp_path: Path) -> Clients:
    """``clients(peer, **settings)``: a client at the address ``peer`` of one app (per
    settings) over ``bank``, its limit on ``clock``."""
    apps: dict[str, FastAPI] = {}

    def client_at(peer: tuple[str, int] = ("198.51.100.7", 40000), **settings: Any) -> TestClient:
        key = repr(sorted(settings.items()))
        if key not in apps:
            apps[key] = create_app(
                Settings(home=tmp_path, **settings), bank=bank, limiter=LoginLimiter(clock=clock)
            )
        return TestClient(apps[key], client=peer)

    return client_at


@pytest.fixture
def slow_bank(bank_url: str) -> Iterator[Bank]:
    """The bank with one account whose password takes tens of milliseconds to check."""
    with open_bank(bank_url, passwords=SLOW_PASSWORDS) as opened:
        opened.add_user("slow@example.se", PASSWORD, "Långsam", "reader")
        yield opened


def _guess_together(client: TestClient, times: int, body: dict[str, str]) -> list[int]:
    """``times`` login attempts released at the same moment; their status codes."""
    start = threading.Barrier(times)
    statuses: list[int] = []

    def guess() -> None:
        start.wait()
        statuses.append(client.post("/api/login", json=body).status_code)

    threads = [threading.Thread(target=guess) for _ in range(times)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses


def test_simultaneous_guesses_get_no_more_tries_than_the_limit(
    slow_bank: Bank, tmp_path: Path
) -> None:
    app = create_app(Settings(home=tmp_path), bank=slow_bank)
    with TestClient(app) as client:
        statuses = _guess_together(client, 30, WRONG)
    assert sorted(set(statuses)) == [401, 429]
    assert statuses.count(401) == 5  # the limit, however many come at once


def _guess_in_a_process(url: str, home: str, times: int, start: Any, out: Any) -> None:
    with open_bank(url, passwords=SLOW_PASSWORDS) as bank:
        app = create_app(Settings(home=Path(home)), bank=bank)
        with TestClient(app) as client:
            start.wait()
            out.put(_guess_together(client, times, WRONG))


def test_the_limit_holds_across_server_processes(slow_bank: Bank, tmp_path: Path) -> None:
    """Two server processes on one database (as `tillit serve --workers 2`) share the limit."""
    context = multiprocessing.get_context("spawn")
    start, out = context.Barrier(2), context.Queue()
    url = slow_bank.engine.url.render_as_string(hide_password=False)
    processes = [
        context.Process(target=_guess_in_a_process, args=(url, str(tmp_path), 12, start, out))
        for _ in range(2)
    ]
    for process in processes:
        process.start()
    statuses = [*out.get(timeout=120), *out.get(timeout=120)]
    for process in processes:
        process.join(timeout=30)
        assert process.exitcode == 0
    assert len(statuses) == 24
    assert statuses.count(401) == 5
    assert statuses.count(429) == 19


def test_guesses_from_another_address_do_not_lock_the_owner_out(
    clients: Clients, clock: FakeClock
) -> None:
    home = clients(OWNER_HOME)
    assert home.post("/api/login", json=RIGHT).status_code == 200  # a known address now
    guesser = clients(("203.0.113.66", 1234))
    wrong = {"email": "g@example.se", "password": "fel lösenord"}
    assert [guesser.post("/api/login", json=wrong).status_code for _ in range(6)] == [
        *[401] * 5,
        429,
    ]
    assert guesser.post("/api/login", json=RIGHT).status_code == 429  # guessing gains nothing
    assert home.post("/api/login", json=RIGHT).status_code == 200  # the owner is not locked out


def test_guesses_from_many_addresses_slow_strangers_but_not_the_owner(
    clients: Clients, clock: FakeClock
) -> None:
    home = clients(OWNER_HOME)
    assert home.post("/api/login", json=RIGHT).status_code == 200
    wrong = {"email": "g@example.se", "password": "fel lösenord"}
    for i in range(20):  # the account-wide ceiling, spread over addresses
        stranger = clients((f"203.0.113.{i}", 1234))
        assert stranger.post("/api/login", json=wrong).status_code == 401
    stranger = clients(("203.0.113.200", 1234))
    slowed = stranger.post("/api/login", json=RIGHT)
    assert slowed.status_code == 429
    assert 1 <= int(slowed.headers["retry-after"]) <= 60  # slowed, not locked for 15 minutes
    assert home.post("/api/login", json=RIGHT).status_code == 200  # the known address is spared
    clock.now += 60
    assert stranger.post("/api/login", json=RIGHT).status_code == 200  # e.g. the owner travelling


def test_one_address_guessing_many_accounts_is_stopped(clients: Clients, clock: FakeClock) -> None:
    client = clients()
    for i in range(20):
        guess = {"email": f"nobody{i}@example.se", "password": "fel lösenord"}
        assert client.post("/api/login", json=guess).status_code == 401
    blocked = client.post("/api/login", json=RIGHT)
    assert blocked.status_code == 429
    assert 1 <= int(blocked.headers["retry-after"]) <= 15 * 60
    clock.now += 15 * 60 + 1
    assert client.post("/api/login", json=RIGHT).status_code == 200


def test_a_guesser_behind_the_owners_address_cannot_lock_the_owner_out(
    clients: Clients, clock: FakeClock
) -> None:
    """An office behind one NAT address: a colleague's machine guessing other accounts
    exhausts the address's limit for them, but not for an account that has logged in
    from there before."""
    office = clients(OWNER_HOME)
    assert office.post("/api/login", json=RIGHT).status_code == 200  # the owner, last week
    clock.now += 24 * 3600
    for i in range(20):
        guess = {"email": f"nobody{i}@example.se", "password": "fel lösenord"}
        assert office.post("/api/login", json=guess).status_code == 401
    stranger = {"email": "s@example.se", "password": PASSWORD}
    assert office.post("/api/login", json=stranger).status_code == 429  # never logged in here
    assert office.post("/api/login", json=RIGHT).status_code == 200  # the owner is not locked out
    # The owner's own account is still limited per address: 5 wrong guesses at it lock it here.
    wrong = {"email": "g@example.se", "password": "fel lösenord"}
    assert [office.post("/api/login", json=wrong).status_code for _ in range(6)] == [
        *[401] * 5,
        429,
    ]


def test_x_forwarded_for_is_ignored_unless_it_comes_from_a_trusted_proxy(
    clients: Clients, clock: FakeClock
) -> None:
    wrong = {"email": "g@example.se", "password": "fel lösenord"}
    direct = clients()
    for i in range(5):  # a guesser who makes up a new address for each guess
        spoofed = {"X-Forwarded-For": f"203.0.113.{i}"}
        assert direct.post("/api/login", json=wrong, headers=spoofed).status_code == 401
    fresh = {"X-Forwarded-For": "203.0.113.99"}
    assert direct.post("/api/login", json=wrong, headers=fresh).status_code == 429


def test_behind_a_trusted_proxy_the_forwarded_address_counts(
    clients: Clients, clock: FakeClock
) -> None:
    wrong = {"email": "g@example.se", "password": "fel lösenord"}
    proxy = clients(trusted_proxies=("10.0.0.0/8",), peer=("10.1.2.3", 1))
    # The client's own X-Forwarded-For entries left of the proxy's are not believed.
    guesser = {"X-Forwarded-For": "192.0.2.10, 203.0.113.5"}
    for _ in range(5):
        assert proxy.post("/api/login", json=wrong, headers=guesser).status_code == 401
    assert proxy.post("/api/login", json=RIGHT, headers=guesser).status_code == 429
    owner = {"X-Forwarded-For": "192.0.2.10"}
    assert proxy.post("/api/login", json=RIGHT, headers=owner).status_code == 200


def test_an_ipv6_guesser_counts_as_one_address_per_64_prefix(
    clients: Clients, clock: FakeClock
) -> None:
    wrong = {"email": "g@example.se", "password": "fel lösenord"}
    for i in range(5):
        guesser = clients((f"2001:db8:1:2::{i + 1:x}", 1))
        assert guesser.post("/api/login", json=wrong).status_code == 401
    same_network = clients(("2001:db8:1:2:ffff::1", 1))
    assert same_network.post("/api/login", json=RIGHT).status_code == 429
    other_network = clients(("2001:db8:1:3::1", 1))
    assert other_network.post("/api/login", json=RIGHT).status_code == 200


def test_x_forwarded_proto_counts_only_from_a_trusted_proxy(clients: Clients) -> None:
    https = {"X-Forwarded-Proto": "https"}
    direct = clients()
    cookie = direct.post("/api/login", json=RIGHT, headers=https).headers["set-cookie"]
    assert "secure" not in cookie.lower().split("; ")
    proxy = clients(("10.1.2.3", 1), trusted_proxies=("10.0.0.0/8",))
    cookie = proxy.post("/api/login", json=RIGHT, headers=https).headers["set-cookie"]
    assert "secure" in cookie.lower().split("; ")


@pytest.mark.parametrize("guesser_hop", ["203.0.113.5:4444", "[2001:db8::1]:443"])
def test_forwarded_hops_with_a_port_are_the_client_not_the_proxy(
    clients: Clients, clock: FakeClock, guesser_hop: str
) -> None:
    """A proxy that writes "address:port" hops: each client still counts by its own address,
    so one guesser does not lock out everyone behind the proxy."""
    wrong = {"email": "g@example.se", "password": "fel lösenord"}
    proxy = clients(trusted_proxies=("10.0.0.0/8",), peer=("10.1.2.3", 1))
    guesser = {"X-Forwarded-For": guesser_hop}
    for _ in range(5):
        assert proxy.post("/api/login", json=wrong, headers=guesser).status_code == 401
    assert proxy.post("/api/login", json=RIGHT, headers=guesser).status_code == 429
    for owner_hop in ("192.0.2.10:50000", "[2001:db8:5::1]:443", "[2001:db8:6::1]", "192.0.2.11"):
        owner = {"X-Forwarded-For": f"198.51.100.1, {owner_hop}"}
        assert proxy.post("/api/login", json=RIGHT, headers=owner).status_code == 200, owner_hop


def test_a_malformed_forwarded_hop_is_logged_and_the_proxy_counts(
    clients: Clients, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    """A right-most hop that is no address (a misconfigured proxy): nothing left of it is
    believed, the proxy's own address counts, and the server log says so."""
    wrong = {"email": "g@example.se", "password": "fel lösenord"}
    proxy = clients(trusted_proxies=("10.0.0.0/8",), peer=("10.1.2.3", 1))
    for hop in ("192.0.2.10, ingen-adress", "192.0.2.11, 203.0.113.5:port", "192.0.2.12, [::1"):
        caplog.clear()
        with caplog.at_level("WARNING", logger="tillit.web"):
            assert (
                proxy.post("/api/login", json=wrong, headers={"X-Forwarded-For": hop}).status_code
                == 401
            )
        assert any("X-Forwarded-For" in r.getMessage() for r in caplog.records), hop
    # All three counted as the proxy itself: two more failures reach its pair limit of 5.
    for _ in range(2):
        assert proxy.post("/api/login", json=wrong).status_code == 401
    assert proxy.post("/api/login", json=RIGHT).status_code == 429


def test_a_login_waiting_for_the_limits_lock_does_not_stop_other_requests(
    bank: Bank, people: People, clock: FakeClock, tmp_path: Path
) -> None:
    """The login page checks the password (argon2, and the limit's database lock) in the
    thread pool: while one login waits, the server answers everyone else."""
    app = create_app(Settings(home=tmp_path), bank=bank, limiter=LoginLimiter(clock=clock))
    with TestClient(app) as client, bank.engine.connect() as holder:
        page = client.get("/logga-in")
        token = re.search(r'name="csrf_token" value="([^"]*)"', page.text)
        assert token
        form = {"csrf_token": token.group(1), **RIGHT}
        # Another process holds the lock that reserving a login attempt takes.
        if bank.dialect == "sqlite":
            holder.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            holder.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOGIN_LOCK})
        logins: list[int] = []
        login = threading.Thread(
            target=lambda: logins.append(
                client.post("/logga-in", data=form, follow_redirects=False).status_code
            )
        )
        login.start()
        time.sleep(0.5)  # the login is in its handler now, waiting for the lock
        others: list[int] = []
        other = threading.Thread(target=lambda: others.append(client.get("/logga-in").status_code))
        other.start()
        other.join(timeout=5)
        answered_while_waiting = others == [200] and login.is_alive()
        holder.rollback()  # let the login go on
        login.join(timeout=30)
        other.join(timeout=30)
    assert answered_while_waiting, (others, logins)
    assert logins == [303]
