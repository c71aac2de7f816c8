"""The Kolada client over real HTTP against the loopback fake, with injected faults."""

from __future__ import annotations

import time
import warnings
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from tests.conftest import METADATA
from tests.kolada_fake import FakeKolada
from tillit.errors import KoladaHTTPError, KoladaPayloadError, KoladaUnavailableError
from tillit.sources.kolada import KoladaClient, KoladaSchemaDriftWarning, parse_metadata

KPIS = ["N00945", "N01951"]
MUNIS = ["0180", "1280", "1480", "1384"]


@pytest.fixture(scope="module")
def fake(shared_data: Path) -> Iterator[FakeKolada]:
    with FakeKolada(kpis=KPIS, municipalities=MUNIS) as server:
        yield server


@pytest.fixture(autouse=True)
def _clean(fake: FakeKolada) -> None:
    fake.clear_faults()
    fake.clear_requests()


class Sleeps(list[float]):
    """Records what the client would sleep, instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def client(fake: FakeKolada, **kw: object) -> KoladaClient:
    options: dict[str, object] = {"rate": 0, "timeout": 2.0, "retries": 3, "backoff": 0.01}
    options.update(kw)
    return KoladaClient(fake.url, **options)  # type: ignore[arg-type]


def fetch_all(c: KoladaClient, urls: list[str]) -> list[tuple[object, ...]]:
    out: list[tuple[object, ...]] = []
    for url in urls:
        for _, table in c.fetch_values(url):
            out.extend(tuple(r.values())[:7] for r in table.to_pylist())
    return out


def test_paging_follows_next_url_and_yields_every_row_once(fake: FakeKolada) -> None:
    with client(fake, per_page=7) as c:
        urls = c.data_urls(kpis=KPIS, units=MUNIS)
        rows = fetch_all(c, urls)
    assert rows == fake.expected_values(KPIS, MUNIS)
    assert len(fake.requests) > 10  # really paged
    assert any(v[4] is None for v in rows), "missing values are kept as None"


@pytest.mark.parametrize("ending", ["absent", "empty", "null"])
def test_paging_stops_on_absent_empty_or_null_next_url(fake: FakeKolada, ending: str) -> None:
    fake.last_next_url = ending  # type: ignore[assignment]
    try:
        with client(fake, per_page=50) as c:
            rows = fetch_all(c, c.data_urls(kpis=["N00945"], units=MUNIS))
    finally:
        fake.last_next_url = "empty"
    assert rows == fake.expected_values(["N00945"], MUNIS)


def test_segments_are_chunked_to_25_ids(fake: FakeKolada) -> None:
    with client(fake) as c:
        urls = c.data_urls(kpis=[f"N{i:05d}" for i in range(30)], years=list(range(1990, 2027)))
    assert len(urls) == 4
    for url in urls:
        path = url.split("?")[0]
        for segment in path.split("/")[-3::2]:
            assert len(segment.split(",")) <= 25


def test_two_segments_are_required() -> None:
    with KoladaClient("http://127.0.0.1:9/v3") as c, pytest.raises(ValueError):
        c.data_urls(kpis=["N00945"])


def test_throttle_spaces_requests(fake: FakeKolada) -> None:
    with client(fake, rate=20) as c:
        start = time.monotonic()
        for _ in range(6):
            c.get_json(c.url_for("municipality"))
        elapsed = time.monotonic() - start
    assert elapsed >= 5 / 20 * 0.95


def test_429_honours_retry_after(fake: FakeKolada) -> None:
    fake.inject("429", path_contains="/data/", retry_after=2)
    sleeps = Sleeps()
    with client(fake, sleep=sleeps) as c:
        rows = fetch_all(c, c.data_urls(kpis=["N00945"], units=["0180"]))
    assert sleeps == [2.0]
    assert rows == fake.expected_values(["N00945"], ["0180"])
    assert [r.status for r in fake.requests] == [429, 200]


@pytest.mark.parametrize("value", ["²", "①", "٣"])
def test_a_retry_after_of_other_digits_is_ignored_not_a_crash(value: str) -> None:
    import httpx

    from tillit.sources.kolada._client import _retry_after

    headers = [(b"Retry-After", value.encode())]  # as a server sends it, in UTF-8
    assert _retry_after(httpx.Response(429, headers=headers)) is None


@pytest.mark.parametrize("fault", ["500", "503", "reset", "truncated", "truncated_json"])
def test_transient_faults_are_retried_with_backoff(fake: FakeKolada, fault: str) -> None:
    fake.inject(fault, path_contains="/data/")
    sleeps = Sleeps()
    with client(fake, sleep=sleeps, backoff=0.5) as c:
        rows = fetch_all(c, c.data_urls(kpis=KPIS, units=["1480"]))
    assert rows == fake.expected_values(KPIS, ["1480"])
    assert len(sleeps) == 1 and 0.5 <= sleeps[0] <= 1.0  # backoff * 2**0 plus jitter
    assert len(fake.requests) == 2


def test_backoff_grows_exponentially(fake: FakeKolada) -> None:
    fake.inject("500", path_contains="/data/", times=3)
    sleeps = Sleeps()
    with client(fake, sleep=sleeps, backoff=1.0, retries=3) as c:
        fetch_all(c, c.data_urls(kpis=["N00945"], units=["0180"]))
    assert [int(s) for s in sleeps] == [1, 2, 4]


def test_a_slow_page_times_out_and_is_retried(fake: FakeKolada) -> None:
    fake.inject("slow", path_contains="/data/", delay=1.5)
    with client(fake, timeout=0.3) as c:
        rows = fetch_all(c, c.data_urls(kpis=["N00945"], units=["0180"]))
    assert rows == fake.expected_values(["N00945"], ["0180"])


def test_retries_exhausted_is_unavailable_with_the_url_and_next_step(fake: FakeKolada) -> None:
    fake.inject("503", path_contains="/data/", times=10)
    with client(fake, retries=2) as c, pytest.raises(KoladaUnavailableError) as info:
        fetch_all(c, c.data_urls(kpis=["N00945"], units=["0180"]))
    assert "/data/kpi/N00945" in info.value.url and "HTTP 503" in info.value.message
    assert "tillit import" in (info.value.hint or "")
    assert len(fake.requests) == 3


def test_persistently_truncated_json_is_a_payload_error(fake: FakeKolada) -> None:
    fake.inject("truncated_json", path_contains="/data/", times=10)
    with client(fake, retries=1) as c, pytest.raises(KoladaPayloadError) as info:
        fetch_all(c, c.data_urls(kpis=["N00945"], units=["0180"]))
    assert "/data/kpi/N00945" in info.value.url


def test_client_errors_are_not_retried(fake: FakeKolada) -> None:
    with client(fake) as c, pytest.raises(KoladaHTTPError) as info:
        c.get_json(f"{fake.url}/data/kpi/{','.join(f'N{i:05d}' for i in range(26))}/year/2020")
    assert info.value.status == 400
    assert len(fake.requests) == 1


def test_malformed_payload_names_the_url_and_the_field(fake: FakeKolada) -> None:
    fake.inject("malformed", path_contains="/data/", field="period")
    with client(fake) as c, pytest.raises(KoladaPayloadError) as info:
        fetch_all(c, c.data_urls(kpis=["N00945"], units=["0180"]))
    assert info.value.field == "values[0].period"
    assert info.value.url.startswith(fake.url + "/data/kpi/N00945")
    assert info.value.field in info.value.message


def test_metadata_endpoints(fake: FakeKolada) -> None:
    with client(fake, per_page=1000) as c:
        kpis = c.metadata("kpi")
        groups = c.metadata("kpi_groups")
        munis = c.metadata("municipality")
        ous = c.metadata("ou")
        two = c.metadata("kpi", ids=["N00945", "N01951"])
    assert len(kpis) == 6099 and {k["id"] for k in two} == {"N00945", "N01951"}
    assert any(g["title"] == "Kommunens kvalitet i korthet" for g in groups)
    assert len(munis) == 312 and all(len(m["id"]) == 4 for m in munis)
    assert ous and all(o["municipality"] for o in ous)


def test_ou_data(fake: FakeKolada) -> None:
    with client(fake) as c:
        ou_ids = [o["id"] for o in c.metadata("ou")]
        kpi = fake.expected_ou_values()[0][0]
        rows = []
        for url in c.data_urls(kpis=[kpi], units=ou_ids, ou=True):
            for _, table in c.fetch_values(url, ou=True):
                rows.extend(tuple(r.values())[:4] for r in table.to_pylist())
    expected = [v[:4] for v in fake.expected_ou_values() if v[0] == kpi]
    assert sorted(rows) == sorted(expected)


def _load(name: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = orjson.loads((METADATA / name).read_bytes())
    return rows


def test_schema_drift_v2_is_accepted_with_warnings_and_matches_v3(shared_data: Path) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        v3 = {r["id"]: r for r in parse_metadata("kpi", _load("kpi_v3_2026-03.values.json"), "v3")}
    with pytest.warns(KoladaSchemaDriftWarning) as caught:
        v2 = {r["id"]: r for r in parse_metadata("kpi", _load("kpi_v2_2024-04.values.json"), "v2")}
    texts = [str(w.message) for w in caught]
    assert len(texts) == 3  # one warning per drift, not one per row
    assert any("auspices" in t for t in texts) and any("ou_publication_date" in t for t in texts)
    assert any("is_divided_by_gender" in t for t in texts)
    assert set(v2["N00003"]) == set(v3["N00003"])  # the same fields, v3 names
    assert isinstance(v2["N00003"]["is_divided_by_gender"], bool)
    assert v2["N00003"]["auspice"] == v3["N00003"]["auspice"] == "E"


def test_unknown_fields_warn_and_missing_ids_fail() -> None:
    with pytest.warns(KoladaSchemaDriftWarning, match="colour"):
        rows = parse_metadata(
            "municipality",
            [{"id": "0180", "title": "Stockholm", "type": "K", "colour": "blue"}],
            "u",
        )
    assert rows == [{"id": "0180", "title": "Stockholm", "type": "K"}]
    with pytest.raises(KoladaPayloadError) as info:
        parse_metadata("kpi", [{"title": "utan id"}], "u")
    assert info.value.field == "values[0].id"


def test_a_redirect_to_another_host_is_not_followed() -> None:
    import httpx

    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        if request.url.host == "kolada.test":
            return httpx.Response(302, headers={"Location": "http://evil.example/v3/kpi"})
        return httpx.Response(200, content=b'{"count": 0, "values": []}')

    client = KoladaClient("http://kolada.test/v3", rate=0, transport=httpx.MockTransport(answer))
    with client, pytest.raises(KoladaPayloadError) as info:
        client.metadata("kpi")
    assert "evil.example" in info.value.message
    assert all("evil.example" not in url for url in asked)


def test_an_http_next_url_on_the_https_host_is_followed_over_https() -> None:
    import httpx

    asked: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(str(request.url))
        if "page=2" in str(request.url):
            body = {"count": 1, "values": [{"id": "0180", "title": "Stockholm", "type": "K"}]}
        else:
            body = {
                "count": 1,
                "values": [{"id": "1280", "title": "Malmö", "type": "K"}],
                "next_url": "http://kolada.test/v3/municipality?page=2",
            }
        return httpx.Response(200, content=orjson.dumps(body))

    client = KoladaClient("https://kolada.test/v3", rate=0, transport=httpx.MockTransport(answer))
    with client:
        rows = client.metadata("municipality")
    assert [r["id"] for r in rows] == ["1280", "0180"]
    assert all(url.startswith("https://") for url in asked)
