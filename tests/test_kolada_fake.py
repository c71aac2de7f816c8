"""The fake Kolada server (tests/kolada_fake/) keeps the promises the client tests rely on."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from tests.kolada_fake import ExpectedValue, FakeKolada, LastNextUrl, is_missing_by_hash

KPIS = ["N00945", "N01951"]
MUNICIPALITIES = ["0180", "1280", "1480"]
DATA = "/data/kpi/N00945,N01951/municipality/0180,1280,1480"


@pytest.fixture(scope="module")
def fake(shared_data: Path) -> Iterator[FakeKolada]:
    with FakeKolada(KPIS, MUNICIPALITIES, data_dir=shared_data) as server:
        yield server


@pytest.fixture
def client(fake: FakeKolada) -> Iterator[httpx.Client]:
    fake.clear_faults()
    fake.clear_requests()
    with httpx.Client(timeout=5) as c:
        yield c
    assert fake.server_errors == []
    fake.clear_faults()


def fetch_pages(client: httpx.Client, url: str) -> list[dict[str, Any]]:
    """Every page from ``url`` on, following next_url until it is absent, empty or null."""
    pages: list[dict[str, Any]] = []
    next_url: str | None = url
    while next_url:
        response = client.get(next_url)
        assert response.status_code == 200, response.text
        pages.append(response.json())
        next_url = pages[-1].get("next_url")
    return pages


def flatten(rows: list[dict[str, Any]]) -> list[ExpectedValue]:
    return [
        (r["kpi"], r["municipality"], r["period"], v["gender"], v["value"], v["count"], v["status"])
        for r in rows
        for v in r["values"]
    ]


def test_paging_with_per_page_50_yields_every_expected_row_once(
    fake: FakeKolada, client: httpx.Client
) -> None:
    pages = fetch_pages(client, f"{fake.url}{DATA}?per_page=50")
    rows = [row for page in pages for row in page["values"]]
    keys = [(r["kpi"], r["municipality"], r["period"]) for r in rows]

    assert [page["count"] for page in pages] == [len(page["values"]) for page in pages]
    assert all(page["count"] == 50 for page in pages[:-1]) and 0 < pages[-1]["count"] <= 50
    assert keys == sorted(set(keys))  # ordered by kpi, municipality, period; no repeats
    assert flatten(rows) == fake.expected_values(empty_status="")
    assert pages[-1]["next_url"] == ""  # the default last_next_url="empty"
    assert [r.query.get("page") for r in fake.requests] == [
        None,
        *map(str, range(2, len(pages) + 1)),
    ]


def test_missing_values_are_served_as_null_by_a_stable_hash(fake: FakeKolada) -> None:
    expected = fake.expected_values()
    nulls = [v for v in expected if v[4] is None]

    assert nulls and all(v[5:] == (0, "Saknas") for v in nulls)
    assert all(v[5:] == (1, None) for v in expected if v[4] is not None)
    assert all(
        (v[4] is None) == is_missing_by_hash(v[0], int(v[1]), v[2], v[3], fake.null_one_in)
        for v in expected
    )


@pytest.mark.parametrize(
    ("option", "present", "value"),
    [("absent", False, None), ("empty", True, ""), ("null", True, None)],
)
def test_last_page_next_url_follows_the_option(
    fake: FakeKolada, client: httpx.Client, option: LastNextUrl, present: bool, value: str | None
) -> None:
    fake.last_next_url = option
    try:
        page = client.get(f"{fake.url}/kpi/N00945,N01951").json()
    finally:
        fake.last_next_url = "empty"

    assert page["count"] == 2
    assert ("next_url" in page) is present
    assert page.get("next_url") == value


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/data/kpi/" + ",".join(f"N{i:05d}" for i in range(26)) + "/year/2020", 400),
        (f"{DATA}?per_page=5001", 400),
        (f"{DATA}?per_page=0", 400),
        ("/data/kpi/N00945", 400),
        (f"{DATA}?from_date=2020", 400),
        ("/data/year/2020/kpi/N00945", 404),
        ("/nothing/here", 404),
    ],
)
def test_bad_requests_get_a_json_error(
    fake: FakeKolada, client: httpx.Client, path: str, status: int
) -> None:
    response = client.get(fake.url + path)

    assert response.status_code == status
    assert response.json()["status"] == status and response.json()["message"]


def test_metadata_endpoints_serve_the_snapshots_and_the_synthetic_parts(
    fake: FakeKolada, client: httpx.Client
) -> None:
    kpis = client.get(f"{fake.url}/kpi", params={"title": "INVÅNARE TOTALT"}).json()["values"]
    groups = client.get(f"{fake.url}/kpi_groups").json()["values"]
    kkik = [g for g in groups if g["title"] == "Kommunens kvalitet i korthet"]
    units = client.get(f"{fake.url}/ou").json()["values"]
    municipalities = client.get(f"{fake.url}/municipality").json()

    assert "N01951" in {k["id"] for k in kpis}
    assert len(kkik) == 1 and kkik[0]["id"] == "G2KPI74586"
    assert [m["member_id"] for m in kkik[0]["members"]] == KPIS
    assert len(units) == 20 and {u["municipality"] for u in units} == set(MUNICIPALITIES)
    assert municipalities["count"] == 312 and municipalities["next_url"] == ""


def test_oudata_rows_are_keyed_by_ou(fake: FakeKolada, client: httpx.Client) -> None:
    url = f"{fake.url}/oudata/kpi/N00945/ou/V15E018000101,V15E128000101/year/2020,2021"
    rows = client.get(url).json()["values"]
    served = [
        (r["kpi"], r["ou"], r["period"], v["gender"], v["value"], v["count"], v["status"] or None)
        for r in rows
        for v in r["values"]
    ]
    expected = [
        v
        for v in fake.expected_ou_values()
        if v[0] == "N00945" and v[1] in ("V15E018000101", "V15E128000101") and 2020 <= v[2] <= 2021
    ]

    assert len(rows) == 4 and served == expected


def test_from_date_serves_changed_rows_and_deletions_only(shared_data: Path) -> None:
    # Its own server: the mutations must not leak into the other tests. It formats rows per
    # request (the module's server pre-renders them), so both paths meet expected_values().
    # The client outlives the server on purpose: close() meets an open keep-alive connection.
    server = FakeKolada(KPIS, MUNICIPALITIES, data_dir=shared_data, prerender=False)
    with httpx.Client(timeout=5) as client, server as fake:
        assert ("N00945", "1280", 2019) in {v[:3] for v in fake.expected_values()}
        fake.update_value("N00945", "0180", 2020, "T", 99.5)
        fake.delete_row("N00945", "1280", 2019)
        fake.add_row("N01951", "1480", 2023, {"T": 1.0, "K": None}, changed="2026-02-01")
        changed = fetch_pages(client, f"{fake.url}{DATA}?from_date=2025-06-01")[0]["values"]
        everything = fetch_pages(client, f"{fake.url}{DATA}?from_date=2024-01-01&per_page=100")
        current = [row for page in fetch_pages(client, fake.url + DATA) for row in page["values"]]
        later = client.get(f"{fake.url}{DATA}?from_date=2026-01-02").json()["values"]

    assert [(r["kpi"], r["municipality"], r["period"]) for r in changed] == [
        ("N00945", "0180", 2020),
        ("N00945", "1280", 2019),
        ("N01951", "1480", 2023),
    ]
    assert changed[0]["values"][0] == {"gender": "T", "count": 1, "status": "", "value": 99.5}
    assert changed[1] == {
        "kpi": "N00945",
        "municipality": "1280",
        "period": 2019,
        "isdeleted": True,
        "values": [],
    }
    assert changed[2]["values"][1] == {"gender": "K", "count": 0, "status": "Saknas", "value": None}
    assert len([r for p in everything for r in p["values"]]) == len(current) + 1
    assert flatten(current) == fake.expected_values(empty_status="")
    assert all(r.get("isdeleted") is None for r in current)
    assert [(r["kpi"], r["period"]) for r in later] == [("N01951", 2023)]


def test_429_carries_retry_after_and_is_consumed_once(
    fake: FakeKolada, client: httpx.Client
) -> None:
    fake.inject("429", retry_after=3)
    first = client.get(f"{fake.url}/kpi/N00945")
    second = client.get(f"{fake.url}/kpi/N00945")

    assert (first.status_code, first.headers["Retry-After"]) == (429, "3")
    assert second.status_code == 200
    assert [(r.status, r.fault) for r in fake.requests] == [(429, "429"), (200, None)]


@pytest.mark.parametrize("fault", ["500", "503"])
def test_server_errors_have_a_json_body(fake: FakeKolada, client: httpx.Client, fault: str) -> None:
    fake.inject(fault)
    response = client.get(fake.url + DATA)

    assert response.status_code == int(fault) and response.json()["status"] == int(fault)


def test_reset_is_a_transport_error_and_logged_without_status(
    fake: FakeKolada, client: httpx.Client
) -> None:
    fake.inject("reset")
    with pytest.raises(httpx.TransportError) as caught:
        client.get(fake.url + DATA)

    assert isinstance(caught.value, httpx.ReadError)  # an RST, not a clean close
    assert client.get(fake.url + DATA).status_code == 200
    assert [(r.status, r.fault) for r in fake.requests] == [(None, "reset"), (200, None)]


def test_truncated_body_is_a_protocol_error(fake: FakeKolada, client: httpx.Client) -> None:
    fake.inject("truncated")
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(fake.url + DATA)


def test_truncated_json_is_complete_http_with_invalid_json(
    fake: FakeKolada, client: httpx.Client
) -> None:
    fake.inject("truncated_json")
    response = client.get(fake.url + DATA)

    assert response.status_code == 200
    assert len(response.content) == int(response.headers["Content-Length"])
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(response.content)


def test_malformed_gives_the_first_row_a_string_period(
    fake: FakeKolada, client: httpx.Client
) -> None:
    fake.inject("malformed")
    rows = client.get(fake.url + DATA).json()["values"]

    assert rows[0]["period"] == "twenty-twenty" and isinstance(rows[1]["period"], int)


def test_slow_answers_after_the_delay(fake: FakeKolada, client: httpx.Client) -> None:
    fake.inject("slow", delay=0.3)
    started = time.perf_counter()
    response = client.get(fake.url + DATA)

    assert response.status_code == 200 and time.perf_counter() - started >= 0.3


def test_faults_go_to_the_first_matching_request_in_order(
    fake: FakeKolada, client: httpx.Client
) -> None:
    fake.inject("500", path_contains="/kpi_groups")
    fake.inject("503", times=2)
    statuses = [client.get(f"{fake.url}/{p}").status_code for p in ("ou", "kpi_groups", "ou", "ou")]

    assert statuses == [503, 500, 503, 200]
    assert fake.pending_faults == 0


def test_one_client_reuses_one_keep_alive_connection(
    fake: FakeKolada, client: httpx.Client
) -> None:
    before = fake.connections_accepted
    for _ in range(5):
        client.get(f"{fake.url}/ou").raise_for_status()

    assert fake.connections_accepted == before + 1


def test_runs_standalone_and_prints_its_url(shared_data: Path) -> None:
    root = Path(__file__).resolve().parents[1]
    args = ["--kpis", "N00945", "--municipalities", "0180"]
    command = [sys.executable, "-m", "tests.kolada_fake", *args]
    with subprocess.Popen(
        command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    ) as proc:
        try:
            assert proc.stdout is not None
            url = proc.stdout.readline().decode().strip()
            with httpx.Client(timeout=5) as client:
                rows = client.get(f"{url}/data/kpi/N00945/municipality/0180").json()["values"]
        finally:
            proc.terminate()
            proc.communicate(timeout=10)

    assert url.startswith("http://127.0.0.1:") and url.endswith("/v3")
    assert {r["municipality"] for r in rows} == {"0180"} and len(rows) > 10
    assert proc.returncode == 0
