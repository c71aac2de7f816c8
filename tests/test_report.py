"""The yearly report (issue "Openness"): one YearlyReport rendered as HTML, PDF/UA, Excel
and JSON, on the web and from the command line, whose every number is the pages' own."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from html import unescape
from pathlib import Path
from typing import Any

import openpyxl
import pypdf
import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page

from tests.bank_fixtures import FAST_PASSWORDS
from tests.browser_fixtures import LiveServer, check_axe, save_screenshot, tab_through
from tests.test_report_pdf import _structure
from tillit import swedish
from tillit.bank import Bank, open_bank, upgrade
from tillit.cli import main
from tillit.config import Settings
from tillit.query import Atlas, add_goal, register_trial, report_data, yearly_report
from tillit.store import Store
from tillit.web import create_app
from tillit.web.pages import TrialEvaluator

KUNGSBACKA = "1384"
SCHOOL = "N15419"
PASSWORD = "ett långt lösenord"


@dataclass
class Site:
    client: TestClient
    store: Store
    bank: Bank
    trial: int


@pytest.fixture(scope="module")
def site(analysis_settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """The web app over the analysis store and a bank where Kungsbacka has a goal, a
    published good example and a trial, and Varberg a published example."""
    url = f"sqlite:///{tmp_path_factory.mktemp('report') / 'bank.sqlite'}"
    upgrade(url)
    bank = open_bank(url, passwords=FAST_PASSWORDS)
    store = Store(analysis_settings.store_dir, memory_limit="512MB")
    bank.seed_organisations(
        [(m["id"], m["title"], "kommun") for m in store.municipalities() if m["type"] == "K"]
    )
    admin = bank.add_user("admin@example.se", PASSWORD, "Admin", "admin")
    editor = bank.add_user("red@kungsbacka.se", PASSWORD, "Red", "editor", KUNGSBACKA)
    add_goal(
        store,
        bank,
        editor,
        {
            "organisation": KUNGSBACKA,
            "title": "Fler elever klarar alla ämnen i årskurs 9",
            "political_level": "kommunfullmäktige",
            "indicators": [
                {"kpi": SCHOOL, "target_value": 88, "target_year": 2026, "direction": "ökning"}
            ],
        },
    )
    for org, title in ((KUNGSBACKA, "Läsfrämjande i Kungsbacka"), ("1383", "Läxhjälp i Varberg")):
        example = bank.create_example(
            admin,
            {
                "organisation": org,
                "title": title,
                "summary": "Ett exempel.",
                "operating_area": "Grundskola åk 0-9 inkl förskoleklass",
                "kpis": [{"kpi": SCHOOL, "municipality": org, "year_from": 2018}],
            },
        )
        bank.publish(admin, example.id, example.version)
    trial = register_trial(
        store,
        bank,
        editor,
        {
            "municipality": "Kungsbacka",
            "title": "Läxhjälp på eftermiddagen",
            "description": "Läxhjälp i alla skolor.",
            "start_year": 2016,
            "kpis": [{"kpi": SCHOOL, "direction": "ökning"}],
        },
    )
    app = create_app(bank=bank, atlas=Atlas(store))
    app.state.trial_evaluator = TrialEvaluator(peers=12, wait=300)
    with TestClient(app, follow_redirects=False) as client:
        yield Site(client, store, bank, trial.id)
    bank.close()


def _report_json(site: Site, path: str = f"/kommun/{KUNGSBACKA}/rapport.json") -> dict[str, Any]:
    response = site.client.get(path)
    assert response.status_code == 200, response.text
    data: dict[str, Any] = dict(response.json())
    return data


def _table(data: dict[str, Any], key: str) -> dict[str, Any]:
    found = [t for t in data["tables"] if t["key"] == key]
    assert found, f"no table {key} in {[t['key'] for t in data['tables']]}"
    return found[0]


def test_every_key_result_in_the_report_is_the_municipality_pages(site: Site) -> None:
    # the trial page evaluates (and keeps) the trial; the report then shows that evaluation
    assert site.client.get(f"/forsok/{site.trial}").status_code == 200
    page = site.client.get(f"/kommun/{KUNGSBACKA}.json").json()
    data = _report_json(site)
    rows = {
        row["kpi"]: row
        for t in data["tables"]
        if t["key"].startswith("omrade_")
        for row in t["rows"]
    }
    compared = 0
    for area in page["areas"]:
        for result in area["key_results"]:
            c = result["comparison"]
            row = rows[result["kpi"]]
            assert row["value"] == c["value"]
            assert row["peer_median"] == c["peer_median"]
            assert row["year"] == c["year"]
            if c["tier"] in ("clearly_better", "clearly_worse", "in_line"):
                assert row["difference"] == c["mean_difference"]
                assert [row["low"], row["high"]] == c["interval"]
                assert row["low"] <= row["difference"] <= row["high"]
                compared += 1
            else:
                assert row["difference"] is None  # not judged: no interval to read
    assert compared >= 10
    # whom to learn from: the page's findings and partners, row for row
    findings = {f["kpi"]: f for f in page["learning"]["findings"]}
    learn = _table(data, "lar_av")["rows"]
    assert {r["kpi"] for r in learn} == set(findings)
    for r in learn:
        partners = [p["municipality"] for p in findings[r["kpi"]]["partners"]]
        assert r["partner_code"] in partners or (r["partner_code"] is None and not partners)
    # goals, examples and the trial are there, with the trial page's evaluation
    goals = _table(data, "mal")["rows"]
    assert goals[0]["kpi"] == SCHOOL and goals[0]["goal"].startswith("Fler elever")
    examples = {r["title"] for r in _table(data, "exempel")["rows"]}
    assert "Läsfrämjande i Kungsbacka" in examples
    trial = _table(data, "forsok")["rows"][0]
    evaluation = site.client.get(f"/forsok/{site.trial}.json").json()
    assert evaluation["status"] == "ready"
    verdict = evaluation["evaluation"]["evaluation"]["verdict"]["label"]
    assert trial["verdict"] == verdict
    # every KPI of the report is traced to Kolada
    sources = {r["kpi"]: r for r in _table(data, "kallor")["rows"]}
    assert set(rows) | set(findings) | {SCHOOL} <= set(sources)
    assert all(r["url"].endswith(k) for k, r in sources.items())
    assert all(t["source"].startswith("Källa:") for t in data["tables"])


def test_the_html_report_has_its_sections_charts_with_text_and_a_table_after_each(
    site: Site,
) -> None:
    response = site.client.get(f"/kommun/{KUNGSBACKA}/rapport")
    assert response.status_code == 200
    assert "default-src 'self'" in response.headers["content-security-policy"]
    html = response.text
    assert '<html lang="sv">' in html and "<style>" not in html
    for anchor in ("sammanfattning", "mal", "resultat", "utveckling", "lara", "forsok", "metod"):
        assert f'id="{anchor}"' in html and f'href="#{anchor}"' in html
    figures = html.count('<figure class="chart">')
    assert figures >= 5
    # each chart: an image with its alternative text, then its data table
    for part in html.split('<figure class="chart">')[1:]:
        assert 'alt="' in part.split("</figure>")[0]
        assert part.split("</figure>", 1)[1].lstrip().startswith('<div class="table-wrap"')
    assert site.client.get("/rapport.css").status_code == 200
    assert f'href="/kommun/{KUNGSBACKA}/rapport.pdf"' in html


def test_the_pdf_is_tagged_swedish_titled_and_its_numbers_are_the_reports(site: Site) -> None:
    assert site.client.get(f"/forsok/{site.trial}").status_code == 200  # evaluated, kept
    response = site.client.get(f"/kommun/{KUNGSBACKA}/rapport.pdf")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/pdf"
    assert "rapport-1384-kungsbacka-" in response.headers["content-disposition"]
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    root = reader.root_object
    assert str(root["/Lang"]) == "sv"
    assert "/StructTreeRoot" in root
    assert reader.metadata is not None
    assert str(reader.metadata.title).startswith("Analys av resultaten")
    # the structure tree: headings, tables with header cells, every chart a Figure with the
    # alternative text the HTML gives it
    nodes = _structure(reader)
    tags = [n.tag for n in nodes]
    assert {"/H1", "/H2", "/H3", "/Table", "/TH", "/TD"} <= set(tags)
    html = site.client.get(f"/kommun/{KUNGSBACKA}/rapport").text
    alts = re.findall(r'<img src="data:image/svg\+xml;base64,[^"]*" alt="([^"]*)"', html)
    figures = [n.alt for n in nodes if n.tag == "/Figure"]
    assert len(figures) == len(alts) >= 5
    assert [unescape(a) for a in alts] == figures
    text = "\n".join(page.extract_text() for page in reader.pages)
    data = _report_json(site)
    assert "Källa: Kolada" in text
    # reading order: the summary comes before the results, the results before the method
    assert text.index("Sammanfattning") < text.index("Resultat per verksamhetsområde")
    assert text.index("Resultat per verksamhetsområde") < text.index("Metod och källor")

    # the key results' values as the report's tables write them
    def spaced(text: str) -> str:  # thin and no-break spaces are extracted as spaces
        return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())

    flat = spaced(text)
    for t in data["tables"]:
        if not t["key"].startswith("omrade_"):
            continue
        for row in t["rows"]:
            written = spaced(swedish.number(row["value"]))
            assert written in flat, (row["kpi"], written)
    # the second request is served from the kept file (same bytes)
    again = site.client.get(f"/kommun/{KUNGSBACKA}/rapport.pdf")
    assert again.content == response.content


def test_the_workbook_has_every_table_as_a_sheet_with_the_same_numbers(site: Site) -> None:
    response = site.client.get(f"/kommun/{KUNGSBACKA}/rapport.xlsx")
    assert response.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    data = _report_json(site)
    assert book.sheetnames[1:] == [t["key"] for t in data["tables"]]
    for t in data["tables"]:
        sheet = book[t["key"]]
        headings = [c.value for c in sheet[3]]
        assert headings == [
            f"{c['title']} ({c['unit']})" if c["unit"] else c["title"] for c in t["columns"]
        ]
        for i, row in enumerate(t["rows"]):
            cells = [c.value for c in sheet[4 + i]]
            for column, value in zip(t["columns"], cells, strict=True):
                expected = row[column["key"]]
                if isinstance(expected, float):
                    assert value == pytest.approx(expected, rel=1e-12), (t["key"], column["key"])
                else:
                    assert value == expected or (expected is None and value is None)
        sources = [c.value for c in sheet["A"] if isinstance(c.value, str)]
        assert any(s.startswith("Källa:") for s in sources)


def test_report_addresses_a_name_an_unknown_unit_a_bad_year_and_an_earlier_year(
    site: Site,
) -> None:
    by_name = site.client.get("/kommun/Kungsbacka/rapport.xlsx")
    assert by_name.status_code == 308
    assert by_name.headers["location"] == f"/kommun/{KUNGSBACKA}/rapport.xlsx"
    unknown = site.client.get("/kommun/9999/rapport")
    assert unknown.status_code == 404
    assert "9999" in unknown.text and '<html lang="sv">' in unknown.text
    bad = site.client.get(f"/kommun/{KUNGSBACKA}/rapport.json?ar=tjugo")
    assert bad.status_code == 422
    assert "tjugo" in bad.json()["error"]["message"]
    future = site.client.get(f"/kommun/{KUNGSBACKA}/rapport.json?ar=2099")
    assert future.status_code == 422
    latest = _report_json(site)
    earlier = _report_json(site, f"/kommun/{KUNGSBACKA}/rapport.json?ar={latest['year'] - 2}")
    assert earlier["year"] == latest["year"] - 2
    years = {
        row["year"]
        for t in earlier["tables"]
        if t["key"].startswith("omrade_")
        for row in t["rows"]
    }
    assert max(years) <= latest["year"] - 2
    assert earlier["tables"][0]["title"].endswith(str(latest["year"] - 2))
    # the goal set from a later baseline did not exist yet; the trial (begun 2016) is there,
    # but not evaluated: an evaluation reads every year there is
    assert "mal" in {t["key"] for t in latest["tables"]}
    assert "mal" not in {t["key"] for t in earlier["tables"]}
    trial = _table(earlier, "forsok")["rows"][0]
    assert trial["verdict"] == "inte utvärderat än" and trial["effect"] is None
    before = _report_json(site, f"/kommun/{KUNGSBACKA}/rapport.json?ar=2015")
    assert "forsok" not in {t["key"] for t in before["tables"]}  # begun 2016


def test_the_summary_counts_add_up_and_untested_kpis_show_no_interval(site: Site) -> None:
    data = _report_json(site)
    counts = {r["what"]: r["count"] for r in _table(data, "sammanfattning")["rows"]}
    total = counts["Nyckeltal i översikten"]
    parts = [n for what, n in counts.items() if what.startswith("… tydligt") or "i nivå" in what]
    assert sum(parts) + counts["… som inte kan prövas"] == total
    rows = [r for t in data["tables"] if t["key"].startswith("omrade_") for r in t["rows"]]
    assert len(rows) == total
    untested = [
        r for r in rows if r["verdict"] not in ("tydligt bättre", "tydligt sämre", "i nivå")
    ]
    assert len(untested) == counts["… som inte kan prövas"] > 0
    assert all(r["low"] is None and r["difference"] is None for r in untested)


def test_a_unit_without_an_organisation_in_the_bank_gets_a_report_without_goals(
    analysis_store: Store, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite'}"
    upgrade(url)
    bank = open_bank(url, passwords=FAST_PASSWORDS)
    try:
        state = Atlas(analysis_store).loaded_for(KUNGSBACKA)
        report = yearly_report(state, KUNGSBACKA, bank=bank)
    finally:
        bank.close()
    assert report.goals == () and report.trials == () and report.own_examples == ()
    assert "inga mål" in " ".join(report.summary)


def test_one_units_analyses_give_the_same_report_as_all_units(
    analysis_store: Store,
) -> None:
    atlas = Atlas(analysis_store)
    full = atlas.loaded("K")
    for code in (KUNGSBACKA, "0180", "2584"):
        alone = Atlas(analysis_store).loaded_for(code, "K")
        assert len(alone.matrix.focal) == 1
        a = report_data(yearly_report(alone, code))
        b = report_data(yearly_report(full, code))
        assert a == b


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, " ".join(captured.err.split())


def test_cli_report_writes_each_format_and_refuses_what_it_cannot_do(
    analysis_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "k.xlsx"
    code, _out, err = _run(capsys, "report", "Kungsbacka", "--format", "xlsx", "-o", str(out))
    assert code == 0, err
    assert openpyxl.load_workbook(out).sheetnames[0] == "Om rapporten"
    code, printed, err = _run(capsys, "report", "Kungsbacka", "--format", "json")
    assert code == 0, err
    assert json.loads(printed)["municipality"] == KUNGSBACKA
    for args, words in (
        (["report", "Kungsbacka", "--format", "docx"], "Okänt format"),
        (["report"], "Ange en kommun"),
        (["report", "--alla", "--format", "pdf"], "--output"),
        (["report", "Kungsbacka", "--ar", "2099"], "till och med"),
        (["report", "Kungsbacka", "--alla"], "Ange en kommun"),
    ):
        code, _out, err = _run(capsys, *args)
        assert code != 0
        assert words in err, err


def test_cli_report_for_every_region_as_pdf_in_a_folder(
    region_env: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, printed, err = _run(
        capsys, "report", "--alla", "--regioner", "--format", "pdf", "-o", str(tmp_path)
    )
    assert code == 0, err
    assert "Skrev 21 rapporter" in printed
    files = sorted(tmp_path.glob("rapport-*.pdf"))
    assert len(files) == 21
    assert not list(tmp_path.glob("*.tmp"))
    halland = [f for f in files if f.name.startswith("rapport-0013-region-halland-")]
    reader = pypdf.PdfReader(str(halland[0]))
    text = " ".join(reader.pages[0].extract_text().split())
    assert "Region Halland" in text and "regioner" in text
    assert str(reader.root_object["/Lang"]) == "sv"


def test_the_national_report_lists_only_what_each_units_page_calls_clear(site: Site) -> None:
    data = _report_json(site, "/riket/rapport.json")
    better = _table(data, "battre")["rows"]
    improving = _table(data, "forbattras")["rows"]
    assert better and improving
    assert data["counts"]["K"]["units"] == 290
    pages: dict[str, dict[str, Any]] = {}

    def result(row: dict[str, Any]) -> dict[str, Any]:
        kind = "region" if row["kind"] == "region" else "kommun"
        if row["code"] not in pages:
            pages[row["code"]] = site.client.get(f"/{kind}/{row['code']}.json").json()
        return next(
            r
            for a in pages[row["code"]]["areas"]
            for r in a["key_results"]
            if r["kpi"] == row["kpi"]
        )

    for row in better[:: max(1, len(better) // 8)]:
        c = result(row)["comparison"]
        assert c["tier"] == "clearly_better"
        assert row["q_value"] <= 0.05  # also when the whole country is taken together
        assert (row["value"], row["low"], row["high"]) == (c["value"], *c["interval"])
    for row in improving[:: max(1, len(improving) // 8)]:
        trend = result(row)["trend"]
        assert trend["direction"] == "improving"
        assert row["q_value"] <= 0.05 and trend["p_value"] <= row["q_value"]
    html = site.client.get("/riket/rapport")
    assert html.status_code == 200
    assert "Kommuner och regioner som presterar väl" in html.text
    workbook = openpyxl.load_workbook(io.BytesIO(site.client.get("/riket/rapport.xlsx").content))
    assert workbook.sheetnames[1:] == [t["key"] for t in data["tables"]]


@pytest.mark.browser
@pytest.mark.parametrize(
    "viewport", [{"width": 1280, "height": 900}, {"width": 320, "height": 640}]
)
def test_the_report_page_has_no_axe_violation_and_tab_reaches_every_control(
    new_page: Callable[..., Page], live_server: LiveServer, viewport: dict[str, int]
) -> None:
    page = new_page(viewport=viewport)
    response = page.goto(f"{live_server}/kommun/{KUNGSBACKA}/rapport")
    assert response is not None and response.status == 200
    # wide tables scroll in their own frame: the page itself never sideways
    assert page.evaluate("() => document.documentElement.scrollWidth") <= viewport["width"]
    violations = check_axe(page)
    save_screenshot(page, f"rapport-{viewport['width']}")
    assert not violations, "\n".join(violations)
    walk = tab_through(page)
    assert not walk.missed(), "Tab never reached:\n  " + "\n  ".join(walk.missed())
    assert not walk.without_visible_focus()
