"""Sync from the loopback Kolada into a real store: end to end, incremental, failure, kill."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import orjson
import pytest

from tests.conftest import stored_rows
from tests.kolada_fake import FakeKolada
from tillit.cli import main
from tillit.config import Settings
from tillit.errors import KoladaPayloadError
from tillit.store import Store
from tillit.sync import SyncRequest, client_for, run_sync, sync_metadata, sync_values

KPIS = ["N00945", "N01951", "N00097"]
MUNIS = ["0180", "1280", "1480", "1384", "0114"]
YEARS = list(range(1994, 2023))


@pytest.fixture
def fake(shared_data: Path) -> Iterator[FakeKolada]:
    with FakeKolada(kpis=KPIS, municipalities=MUNIS, kkik_kpis=["N00945", "N01951"]) as server:
        yield server


@pytest.fixture
def kolada(settings: Settings, fake: FakeKolada) -> Settings:
    from dataclasses import replace

    return replace(settings, kolada_url=fake.url, kolada_per_page=40)


def expected(fake: FakeKolada, ou: bool = False) -> list[tuple[object, ...]]:
    rows = fake.expected_ou_values() if ou else fake.expected_values()
    return sorted(rows, key=lambda r: tuple((x is None, x) for x in r))


def test_sync_stores_exactly_what_kolada_serves(
    kolada: Settings, store: Store, fake: FakeKolada
) -> None:
    with client_for(kolada) as c:
        result = sync_values(store, c, kpis=KPIS, years=YEARS)
    rows = stored_rows(store)
    assert rows == expected(fake)
    assert any(r[4] is None and r[6] == "Saknas" for r in rows), "nulls kept with status"
    assert result.merge is not None and result.merge.inserted == len(rows)
    assert result.pages > len(result.__dict__)  # paged at 40 rows per page
    record = store.provenance()[-1]
    assert (record.kind, record.dataset, record.licence) == ("sync", "values", "Källa: Kolada")
    assert record.rows["inserted"] == len(rows) and record.requests == result.requests
    assert record.checksum.startswith("sha256:") and "/data/kpi/" in record.source
    assert not any(store.staging_dir.iterdir())


def test_the_same_sync_twice_gives_the_same_checksum_and_no_changes(
    kolada: Settings, store: Store
) -> None:
    with client_for(kolada) as c:
        sync_values(store, c, kpis=KPIS, years=YEARS)
        second = sync_values(store, c, kpis=KPIS, years=YEARS)
    first_record, second_record = store.provenance()[-2:]
    assert first_record.checksum == second_record.checksum
    assert second.merge is not None
    assert (second.merge.inserted, second.merge.updated, second.merge.deleted) == (0, 0, 0)


def test_incremental_sync_applies_changes_and_deletions(
    kolada: Settings, store: Store, fake: FakeKolada
) -> None:
    with client_for(kolada) as c:
        sync_values(store, c, kpis=KPIS, years=YEARS)
        fake.update_value("N00945", "0180", 2010, "T", 99.5, changed="2026-02-01")
        fake.delete_row("N01951", "1480", 2020, changed="2026-02-01")
        fake.add_row("N00097", "0114", 2023, {"T": 1.25}, changed="2026-02-01")
        fake.clear_requests()
        result = sync_values(store, c, kpis=KPIS, years=[*YEARS, 2023], since=date(2026, 1, 1))
    assert all(r.query.get("from_date") == "2026-01-01" for r in fake.requests)
    assert stored_rows(store) == expected(fake)
    assert result.merge is not None
    assert (result.merge.updated, result.merge.inserted, result.merge.deleted) == (1, 1, 3)


def test_a_malformed_page_fails_the_sync_and_loses_nothing(
    kolada: Settings, store: Store, fake: FakeKolada
) -> None:
    with client_for(kolada) as c:
        sync_values(store, c, kpis=KPIS, years=YEARS)
        before = stored_rows(store)
        fake.update_value("N00945", "0180", 2010, "T", 42.0)
        fake.inject("malformed", path_contains="page=3", field="period")
        with pytest.raises(KoladaPayloadError) as info:
            sync_values(store, c, kpis=KPIS, years=YEARS)
        assert "page=3" in info.value.url
        assert stored_rows(store) == before  # nothing half-applied
        resumed = sync_values(store, c, kpis=KPIS, years=YEARS)  # the fault is gone
    assert resumed.resumed_pages >= 2
    assert stored_rows(store) == expected(fake)


def test_metadata_sync_and_group_sync(kolada: Settings, store: Store, fake: FakeKolada) -> None:
    with client_for(kolada) as c:
        meta = sync_metadata(store, c)
        outcome = run_sync(
            store, c, SyncRequest(groups=["kommunens kvalitet i korthet"], years=YEARS)
        )
    assert meta.rows["kpi"] == 6099 and meta.rows["municipality"] == 312
    assert outcome.kpis == ["N00945", "N01951"]
    assert {r[0] for r in stored_rows(store)} == {"N00945", "N01951"}


def test_ou_sync(kolada: Settings, store: Store, fake: FakeKolada) -> None:
    kpi = fake.expected_ou_values()[0][0]
    with client_for(kolada) as c:
        sync_metadata(store, c, kinds=["ou"])
        units = [o["id"] for o in store.metadata.read("ou")]
        sync_values(store, c, kpis=[kpi], municipalities=units, ou=True)
    assert stored_rows(store, ou=True) == [r for r in expected(fake, ou=True) if r[0] == kpi]


def test_cli_sync_of_a_group_then_values(
    kolada: Settings,
    tillit_env: Settings,
    fake: FakeKolada,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TILLIT_KOLADA_URL", fake.url)
    assert main(["sync", "--group", "Kommunens kvalitet i korthet", "--years", "2015-2022"]) == 0
    err = capsys.readouterr().err
    assert "Klart:" in err and "värden/s" in err and "Källa: Kolada" in err
    assert (
        main(["values", "--group", "Kommunens kvalitet i korthet", "-m", "Stockholm", "-y", "2022"])
        == 0
    )
    assert "N01951" in capsys.readouterr().out


def _sync_process(settings: Settings, fake: FakeKolada) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "TILLIT_HOME": str(settings.home),
        "TILLIT_KOLADA_URL": fake.url,
        "TILLIT_KOLADA_PER_PAGE": "15",
        "TILLIT_KOLADA_RATE": "40",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "tillit", "sync", "--kpi", ",".join(KPIS), "--years", "1994-2022"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


@pytest.mark.slow
def test_a_sync_killed_with_sigkill_resumes_without_duplicates_or_loss(
    settings: Settings, store: Store, fake: FakeKolada
) -> None:
    # Metadata first, so that each run below goes straight to the values.
    with client_for(settings.__class__(**{**settings.__dict__, "kolada_url": fake.url})) as c:
        sync_metadata(store, c)
    rng = random.Random(7)
    kills = 0
    for attempt in range(12):
        proc = _sync_process(settings, fake)
        if attempt < 4:
            # Kill at a random moment once some pages are staged (or the merge has begun).
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and proc.poll() is None:
                staged = list(store.staging_dir.glob("*/*.parquet"))
                if len(staged) >= 3 + attempt * 4:
                    break
                time.sleep(0.02)
            time.sleep(rng.uniform(0, 0.3))
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                kills += 1
            proc.wait()
            # Whatever was committed before the kill is whole: no duplicates, nothing partial.
            rows = stored_rows(store)
            assert len(rows) == len({r[:4] for r in rows})
        else:
            assert proc.wait(timeout=120) == 0
            break
    assert kills >= 2
    assert stored_rows(store) == expected(fake)
    assert not any(store.staging_dir.iterdir())


@pytest.mark.slow
def test_ctrl_c_stops_promptly_and_says_how_to_resume(
    settings: Settings, store: Store, fake: FakeKolada
) -> None:
    with client_for(settings.__class__(**{**settings.__dict__, "kolada_url": fake.url})) as c:
        sync_metadata(store, c)
    fake.inject("slow", path_contains="/data/", times=1000, delay=0.2)
    env = {
        **os.environ,
        "TILLIT_HOME": str(settings.home),
        "TILLIT_KOLADA_URL": fake.url,
        "TILLIT_KOLADA_PER_PAGE": "15",
        "TILLIT_KOLADA_RATE": "0",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "tillit", "sync", "--kpi", ",".join(KPIS), "--years", "1994-2022"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        # A shell's background jobs start with SIGINT ignored; a terminal user's do not.
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not list(store.staging_dir.glob("*/*.parquet")):
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    start = time.monotonic()
    _, err = proc.communicate(timeout=15)
    assert time.monotonic() - start < 3
    assert proc.returncode == 130
    assert "Kör samma kommando igen" in err
    fake.clear_faults()
    assert main_in_subprocess(env) == 0
    assert stored_rows(store) == expected(fake)


def main_in_subprocess(env: dict[str, str]) -> int:
    return subprocess.run(
        [sys.executable, "-m", "tillit", "sync", "--kpi", ",".join(KPIS), "--years", "1994-2022"],
        env=env,
        capture_output=True,
        check=False,
    ).returncode


def test_a_next_url_cycle_is_a_payload_error_not_an_endless_sync(store: Store) -> None:
    import httpx
    import orjson

    from tillit.sources.kolada import KoladaClient

    def answer(request: httpx.Request) -> httpx.Response:
        page = request.url.params.get("page", "a")
        following = {"a": "b", "b": "a"}[page]  # a -> b -> a -> ...
        body = {
            "count": 1,
            "next_url": f"http://kolada.test/v3/data/kpi/N00945/year/2020"
            f"?per_page=5000&page={following}",
            "values": [
                {
                    "kpi": "N00945",
                    "municipality": "0180",
                    "period": 2020,
                    "values": [{"gender": "T", "count": 1, "status": "", "value": 1.0}],
                }
            ],
        }
        return httpx.Response(200, content=orjson.dumps(body))

    client = KoladaClient("http://kolada.test/v3", rate=0, transport=httpx.MockTransport(answer))
    with client, pytest.raises(KoladaPayloadError) as info:
        sync_values(store, client, kpis=["N00945"], years=[2020])
    assert info.value.field == "next_url"
    assert stored_rows(store) == []


# -- a metadata sync replaces a catalogue only from a complete listing ------------------------
def test_an_empty_kpi_listing_never_empties_the_catalogue(
    kolada: Settings, store: Store, fake: FakeKolada
) -> None:
    from tillit.errors import TillitError

    with client_for(kolada) as c:
        sync_metadata(store, c)
        fake.set_catalogue("kpi", [])
        for replace in (False, True):
            with pytest.raises(TillitError) as info:
                sync_metadata(store, c, replace=replace)
            assert "nyckeltal" in info.value.message
    assert len(store.metadata.read("kpi")) == 6099


def test_a_listing_that_shrinks_the_catalogue_too_much_is_refused_unless_replace(
    kolada: Settings, store: Store, fake: FakeKolada
) -> None:
    from tillit.errors import ConflictError

    full = fake.catalogue("kpi")
    with client_for(kolada) as c:
        sync_metadata(store, c)
        fake.set_catalogue("kpi", full[:1000])  # a listing that stopped paging early
        with pytest.raises(ConflictError) as info:
            sync_metadata(store, c)
        assert "1\u202f000" in info.value.message and "6\u202f099" in info.value.message
        assert "--replace" in (info.value.hint or "")
        assert len(store.metadata.read("kpi")) == 6099
        assert len(store.metadata.read("municipality")) == 312  # nothing else written either
        result = sync_metadata(store, c, replace=True)
    assert result.rows["kpi"] == 1000 and len(store.metadata.read("kpi")) == 1000


def test_a_listing_that_shrinks_a_little_replaces_the_catalogue(
    kolada: Settings, store: Store, fake: FakeKolada
) -> None:
    full = fake.catalogue("kpi")
    with client_for(kolada) as c:
        sync_metadata(store, c)
        fake.set_catalogue("kpi", full[:-100])  # 1.6 % fewer: KPIs Kolada has retired
        sync_metadata(store, c)
        assert len(store.metadata.read("kpi")) == 5999
        fake.set_catalogue("kpi", full[:-1000])  # 16 %: allowed with a larger share
        sync_metadata(store, c, max_shrink=0.2)
    assert len(store.metadata.read("kpi")) == 5099


@pytest.mark.parametrize("replace", [False, True])
def test_a_listing_whose_pages_repeat_records_is_refused_and_keeps_the_catalogue(
    kolada: Settings, store: Store, fake: FakeKolada, replace: bool
) -> None:
    from dataclasses import replace as with_

    full = fake.catalogue("kpi")
    fake.set_catalogue("kpi", full[:50])
    with client_for(with_(kolada, kolada_per_page=20)) as c:
        sync_metadata(store, c, kinds=["kpi"])
        stored = store.metadata.read("kpi")
        fake.set_catalogue("kpi", full[:20] * 3)  # pages 1-3 serve the same 20 KPIs
        with pytest.raises(KoladaPayloadError) as info:
            sync_metadata(store, c, kinds=["kpi", "municipality"], replace=replace)
    repeated = [k["id"] for k in full[:20]]
    assert ", ".join(repeated[:10]) + " … (totalt 20)" in info.value.message
    assert "nyckeltal" in info.value.message and "Inget har ändrats" in info.value.message
    assert store.metadata.read("kpi") == stored and len(stored) == 50
    assert not store.metadata.exists("municipality")  # nothing else written either


def test_cli_sync_metadata_replace_and_the_max_shrink_setting(
    kolada: Settings,
    tillit_env: Settings,
    fake: FakeKolada,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TILLIT_KOLADA_URL", fake.url)
    store = Store(tillit_env.store_dir)
    assert main(["sync", "--metadata"]) == 0
    fake.set_catalogue("kpi", fake.catalogue("kpi")[:5000])
    assert main(["sync", "--metadata"]) == 1
    assert "--replace" in capsys.readouterr().err
    monkeypatch.setenv("TILLIT_SYNC_MAX_SHRINK", "0.5")
    assert main(["sync", "--metadata"]) == 0
    assert len(Store(tillit_env.store_dir).metadata.read("kpi")) == 5000
    monkeypatch.delenv("TILLIT_SYNC_MAX_SHRINK")
    fake.set_catalogue("kpi", fake.catalogue("kpi")[:10])
    assert main(["sync", "--metadata", "--replace"]) == 0
    assert len(store.metadata.read("kpi")) == 10


# -- a sync validates like an import and never follows Kolada for ever ------------------------
def _row(kpi: str, muni: str = "0180", period: int = 2020, **value: object) -> dict[str, object]:
    return {
        "kpi": kpi,
        "municipality": muni,
        "period": period,
        "values": [{"gender": "T", "count": 1, "status": "", "value": 1.0, **value}],
    }


def test_a_value_count_beyond_int32_rejects_that_row_not_the_sync(
    kolada: Settings, store: Store, fake: FakeKolada
) -> None:
    from tillit.sync import SyncRejectedRowsWarning

    fake.inject("malformed", path_contains="page=2", field="count", value=3_000_000_000)
    with client_for(kolada) as c, pytest.warns(SyncRejectedRowsWarning, match="count"):
        result = sync_values(store, c, kpis=KPIS, years=YEARS)
    rows = stored_rows(store)
    assert result.rejected == 1 and len(rows) == len(expected(fake)) - 1
    assert result.report is not None and "3000000000" in result.report.read_text()


def test_a_sync_rejects_rows_import_would_refuse_and_rows_not_asked_for(
    kolada: Settings, store: Store, fake: FakeKolada
) -> None:
    from tillit.sync import SyncRejectedRowsWarning

    fake.inject("extra_row", path_contains="/data/", row=_row("<img src=x onerror=alert(1)>"))
    fake.inject("extra_row", path_contains="page=2", row=_row("N99999"))  # not asked for
    fake.inject("extra_row", path_contains="page=3", row=_row("N00945", period=1995, muni="9999"))
    with client_for(kolada) as c, pytest.warns(SyncRejectedRowsWarning) as caught:
        result = sync_values(store, c, kpis=KPIS, municipalities=MUNIS, years=YEARS)
    assert result.rejected == 3
    assert "3" in str(caught[0].message)
    assert stored_rows(store) == expected(fake)
    assert result.report is not None
    report = result.report.read_text()
    assert "<img" in report and "N99999" in report and "9999" in report
    assert store.provenance()[-1].rows["rejected"] == 3


def test_a_later_page_with_another_value_for_the_same_key_is_warned_about(
    kolada: Settings, store: Store, fake: FakeKolada
) -> None:
    from tillit.sync import SyncConflictWarning

    first = fake.expected_values()[0]  # (kpi, municipality, period, gender, value, ...)
    twin = _row(str(first[0]), str(first[1]), int(str(first[2])), gender=first[3], value=-1.5)
    fake.inject("extra_row", path_contains="page=3", row=twin)
    with client_for(kolada) as c, pytest.warns(SyncConflictWarning) as caught:
        sync_values(store, c, kpis=KPIS, years=YEARS)
    message = str(caught[0].message)
    assert str(first[0]) in message and str(first[1]) in message


def test_an_endless_next_url_is_cut_at_the_page_limit(
    kolada: Settings, store: Store, fake: FakeKolada
) -> None:
    from dataclasses import replace

    endless = f"{fake.url}/data/kpi/N00945/year/2020?per_page=40&endless={{n}}"
    fake.inject("next_url", path_contains="N00945", url=endless, times=10_000)
    settings = replace(kolada, sync_max_pages=25)
    with client_for(settings) as c, pytest.raises(KoladaPayloadError) as info:
        sync_values(store, c, kpis=["N00945"], years=[2020])
    assert info.value.field == "next_url" and "25" in info.value.message
    assert len(fake.requests) <= 26
    assert stored_rows(store) == []


def test_a_next_url_to_another_host_is_not_followed(
    kolada: Settings, store: Store, fake: FakeKolada
) -> None:
    fake.inject("next_url", path_contains="N00945", url="http://127.0.0.2:9/v3/data?page=2")
    with client_for(kolada) as c, pytest.raises(KoladaPayloadError) as info:
        sync_values(store, c, kpis=["N00945"], years=[2020])
    assert "127.0.0.2" in info.value.message and info.value.field == "next_url"
    assert stored_rows(store) == []


def test_a_metadata_next_url_to_another_host_is_not_followed(
    kolada: Settings, store: Store, fake: FakeKolada
) -> None:
    fake.inject("next_url", path_contains="/kpi", url="http://example.org/v3/kpi?page=2")
    with client_for(kolada) as c, pytest.raises(KoladaPayloadError) as info:
        sync_metadata(store, c, kinds=["kpi"])
    assert "example.org" in info.value.message
    assert store.metadata.read("kpi") == []


def test_a_body_that_trickles_is_cut_at_the_time_limit(
    kolada: Settings, store: Store, fake: FakeKolada
) -> None:
    from dataclasses import replace

    from tillit.errors import KoladaUnavailableError

    fake.inject("trickle", path_contains="N00945", rate=2000, times=10)
    settings = replace(kolada, kolada_max_seconds=1.0, kolada_retries=1)
    started = time.monotonic()
    with client_for(settings) as c, pytest.raises(KoladaUnavailableError) as info:
        sync_values(store, c, kpis=["N00945"], years=list(range(1994, 2023)))
    assert time.monotonic() - started < 8
    assert "tidsgräns" in info.value.message
    assert stored_rows(store) == []


# -- the progress display is cleared before an error is printed -------------------------------
def _refused_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.slow
@pytest.mark.parametrize("terminal", [False, True])
def test_a_failed_sync_clears_its_progress_line_before_the_error(
    settings: Settings, terminal: bool
) -> None:
    env = {
        **os.environ,
        "TILLIT_HOME": str(settings.home),
        "TILLIT_KOLADA_URL": f"http://127.0.0.1:{_refused_port()}/v3",
        "TILLIT_KOLADA_RATE": "0",
        "COLUMNS": "120",
    }
    env.pop("FORCE_COLOR", None)
    if terminal:
        env["FORCE_COLOR"] = "1"  # Rich draws (and must erase) the live bar as on a terminal
    done = subprocess.run(
        [sys.executable, "-m", "tillit", "sync", "--metadata"],
        env=env,
        capture_output=True,
        check=False,
    )
    err = done.stderr.decode()
    assert done.returncode == 1 and "Kolada kunde inte nås" in err
    before_error = err[: err.index("Fel:")]
    if terminal:
        # The bar was drawn; after its last drawing the cursor goes up and the line is erased.
        last = before_error.rindex("Hämtar metadata")
        assert "\x1b[1A\x1b[2K" in before_error[last:], repr(before_error[last:])
    else:
        assert before_error.strip() == "", repr(before_error)


def test_an_automatic_metadata_refresh_keeps_the_catalogue_and_syncs_the_values(
    kolada: Settings, store: Store, fake: FakeKolada
) -> None:
    """A day-old catalogue is refreshed before a value sync; a listing that would shrink it is
    then left out with a warning, and the values are still fetched."""
    from tillit.sync import MetadataRefusedWarning

    with client_for(kolada) as c:
        sync_metadata(store, c)
        for path in store.provenance_dir.glob("*.json"):  # make the catalogue a day old
            record = orjson.loads(path.read_bytes())
            record["fetched_at"] = "2000-01-01T00:00:00+00:00"
            path.write_bytes(orjson.dumps(record))
        fake.set_catalogue("kpi", fake.catalogue("kpi")[:100])
        with pytest.warns(MetadataRefusedWarning, match="nyckeltal"):
            outcome = run_sync(store, c, SyncRequest(kpis=["N00945"], years=YEARS))
    assert outcome.values is not None and outcome.values.values_fetched > 0
    assert len(store.metadata.read("kpi")) == 6099
    assert outcome.metadata is not None and "kpi" not in outcome.metadata.rows


def test_cli_sync_does_not_report_a_kept_back_catalogue_as_empty(
    kolada: Settings,
    tillit_env: Settings,
    fake: FakeKolada,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("TILLIT_KOLADA_URL", fake.url)
    store = Store(tillit_env.store_dir)
    assert main(["sync", "--metadata"]) == 0
    for path in store.provenance_dir.glob("*.json"):  # make the catalogue a day old
        record = orjson.loads(path.read_bytes())
        record["fetched_at"] = "2000-01-01T00:00:00+00:00"
        path.write_bytes(orjson.dumps(record))
    fake.set_catalogue("kpi", [])
    capsys.readouterr()
    assert main(["sync", "--kpi", "N00945", "--years", "2020"]) == 0
    err = capsys.readouterr().err
    assert "Obs: Kolada skickade en tom lista över nyckeltal" in err
    assert "0 nyckeltal" not in err and "312 kommuner och regioner" in err
    assert "Klart:" in err
