"""“Lär av” on the municipality page and in `tillit learn` points to a learning partner's
good examples only when they are in the operating area of the KPI where the municipality is
behind, or linked to that KPI; otherwise it says that there are none yet. Imported texts (press
releases, project descriptions) are never counted. Over the analysis store and a SQLite bank;
the counting itself is tested on both databases in test_bank_kinds.py."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.bank_fixtures import FAST_PASSWORDS
from tillit.bank import Bank, open_bank, upgrade
from tillit.config import Settings
from tillit.query import Atlas
from tillit.store import Store
from tillit.web import create_app

CANDIDATES = ("1384", "1380", "1382", "1315", "1381", "1415", "1383")


@pytest.fixture(scope="module")
def learning_site(
    analysis_settings: Settings, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, Bank, Any, str]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('learn') / 'bank.sqlite'}"
    upgrade(url)
    bank = open_bank(url, passwords=FAST_PASSWORDS)
    store = Store(analysis_settings.store_dir, memory_limit="512MB")
    bank.seed_organisations(
        [(m["id"], m["title"], "kommun") for m in store.municipalities() if m["type"] == "K"]
    )
    admin = bank.add_user("admin@example.se", "ett långt lösenord", "Admin", "admin")
    with TestClient(create_app(bank=bank, atlas=Atlas(store))) as client:
        yield client, bank, admin, url
    bank.close()


def _partners_of(page: str, focal: str, kpi: str) -> str:
    """The HTML of one finding's learning partners on the municipality page."""
    link = f'<a href="/nyckeltal/{kpi}?kommun={focal}">'
    chunks = [c.split('<a href="/nyckeltal/')[0] for c in page.split(link)[1:]]
    (found,) = [c for c in chunks if 'class="partners"' in c]  # the key results' row has none
    return found


def _words(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def test_learn_from_links_only_examples_of_the_area_or_the_kpi(
    learning_site: tuple[TestClient, Bank, Any, str],
    analysis_env: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    client, bank, admin, url = learning_site
    found = [
        (focal, f)
        for focal in CANDIDATES
        for f in client.get(f"/kommun/{focal}.json").json()["learning"]["findings"]
        if f["partners"]
    ]
    assert found, "no finding with a learning partner in the sample"
    focal, finding = found[0]
    kpi, area = finding["kpi"], finding["area"]
    partner = finding["partners"][0]
    code, name = partner["municipality"], partner["name"]
    other_area = "Kultur och fritid" if area != "Kultur och fritid" else "Demokrati"

    def add(title: str, kind: str, operating_area: str, kpis: list[str]) -> None:
        example = bank.create_example(
            admin,
            {
                "organisation": code,
                "title": title,
                "kind": kind,
                "operating_area": operating_area,
                "kpis": [{"kpi": k, "municipality": code} for k in kpis],
            },
        )
        bank.publish(admin, example.id, example.version)

    # A press release in the area and a good example of another area: no help here.
    add("Pressmeddelande om området", "press_release", area, [kpi])
    add("Ett museum", "example", other_area, [])
    none_yet = _partners_of(client.get(f"/kommun/{focal}").text, focal, kpi)
    assert f"Inga goda exempel från {name} inom det här området ännu" in _words(none_yet)
    assert f"/exempel?kommun={code}" not in none_yet
    twin = client.get(f"/kommun/{focal}.json").json()
    assert twin["examples"] == {f"{code}|{other_area}": 1}
    assert twin["linked_examples"] == {}

    # A good example of another area, linked to the KPI: offered, as about the KPI.
    add("Ett arbetssätt som flyttade nyckeltalet", "example", other_area, [kpi])
    by_kpi = _partners_of(client.get(f"/kommun/{focal}").text, focal, kpi)
    assert f'href="/exempel?kommun={code}&amp;nyckeltal={kpi}"' in by_kpi
    assert "1 gott exempel om nyckeltalet" in _words(by_kpi)
    listed = client.get("/exempel.json", params={"kommun": code, "nyckeltal": kpi}).json()
    assert [i["title"] for i in listed["items"]] == ["Ett arbetssätt som flyttade nyckeltalet"]

    # A good example in the KPI's area: offered first, with the area's list.
    add("Ett gott exempel inom området", "example", area, [])
    by_area = _partners_of(client.get(f"/kommun/{focal}").text, focal, kpi)
    assert "1 gott exempel inom området" in _words(by_area)
    assert f"/exempel?kommun={code}&amp;omrade=" in by_area
    listed = client.get("/exempel.json", params={"kommun": code, "omrade": area}).json()
    assert [i["title"] for i in listed["items"]] == ["Ett gott exempel inom området"]

    # `tillit learn` says the same of each partner, when a bank is set up.
    from tillit.cli import main

    monkeypatch.setenv("TILLIT_DATABASE_URL", url)
    assert main(["learn", focal]) == 0
    lines = [" ".join(x.split()) for x in capsys.readouterr().out.splitlines()]
    said = [x for x in lines if x.startswith(f"Lär av {name}:")]
    assert said, lines
    assert any(x.endswith("– 1 gott exempel inom området i banken.") for x in said)
    others = [x for x in lines if x.startswith("Lär av ") and not x.startswith(f"Lär av {name}:")]
    assert all(x.endswith("inom det här området ännu.") for x in others)
    # Without a bank, nothing is said of examples, and no bank file is made.
    missing = Path(url.removeprefix("sqlite:///")).with_name("ingen.sqlite")
    monkeypatch.setenv("TILLIT_DATABASE_URL", f"sqlite:///{missing}")
    assert main(["learn", focal]) == 0
    assert "i banken" not in capsys.readouterr().out and not missing.exists()
