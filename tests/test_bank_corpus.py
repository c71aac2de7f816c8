"""Bulk import of JSON Lines texts: field maps, encoding repair and its report, organisation
matching, skipping what is already there, and a sample of the real corpus, on SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from tests.test_bank_search import CORPUS, add_org, engine, pg_engine, sqlite_template
from tillit.bank._corpus import import_jsonl, parse_map, repair_text
from tillit.bank._search import search_examples
from tillit.errors import InvalidInputError, NotFoundError

__all__ = ["engine", "pg_engine", "sqlite_template"]  # fixtures shared with the search tests

PROJECT_MAP = (
    "id=Ärende-ID,title=Projektnamn,summary=Projektbeskrivning,organisation=Stödmottagare,"
    "municipalities=Kommun fördelning,period_start=Projekt Starttid,period_end=Projekt Sluttid"
)


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")
    return path


@pytest.fixture
def conn(engine: Engine) -> Iterator[Any]:
    with engine.begin() as connection:
        yield connection


@pytest.mark.parametrize(
    ("damaged", "repaired", "runs"),
    [
        ("SkÃ¥ne-Blekinge", "Skåne-Blekinge", 1),
        ("MÃ¥l 2 i VÃ¤stra GÃ¶taland", "Mål 2 i Västra Götaland", 3),
        ("Ã–resund och Ã„lvsborg", "Öresund och Älvsborg", 2),
        ("Ã¶¿ okänd", "ö¿ okänd", 1),  # the ¿ placeholder stays, next to a mended ö
        ("â€“ ett tankstreck", "– ett tankstreck", 1),  # via Windows-1252
        ("Redan rätt: Skåne, Åre, Ölands café", "Redan rätt: Skåne, Åre, Ölands café", 0),
        ("också\xa0\xa0ödmjuk", "också\xa0\xa0ödmjuk", 0),  # decodes, but to "堠": not damage
    ],
)
def test_repair_text_mends_utf8_read_as_latin1(damaged: str, repaired: str, runs: int) -> None:
    assert repair_text(damaged) == (repaired, runs)


def test_parse_map_reads_fields_and_alternatives() -> None:
    mapping = parse_map("title=Projektnamn, municipalities=Kommun fördelning|Kommuner")
    assert mapping == {
        "title": ["Projektnamn"],
        "municipalities": ["Kommun fördelning", "Kommuner"],
    }
    with pytest.raises(InvalidInputError):
        parse_map("titel=Projektnamn")
    with pytest.raises(InvalidInputError):
        parse_map("summary=text")


def test_import_repairs_reports_and_matches_organisations(conn: Any, tmp_path: Path) -> None:
    add_org(conn, "1280", "Malmö")
    add_org(conn, "0012", "Region Skåne", "region")
    add_org(conn, "2506", "Arjeplog")
    path = _write(
        tmp_path / "projekt.jsonl",
        [
            {
                "Ärende-ID": "1",
                "Projektnamn": "Cykelvägar i SkÃ¥ne",
                "Projektbeskrivning": "Region SkÃ¥ne bygger cykelvägar.",
                "Stödmottagare": "Region Skåne",
                "Projekt Starttid": "2009-01-01",
                "Projekt Sluttid": "2011-06-30",
            },
            {
                "Ärende-ID": "2",
                "Projektnamn": "Bredband i fjällen",
                "Projektbeskrivning": "Ett ¿snabbt¿ nät.",
                "Stödmottagare": "Arjeplogs kommun",
            },
            {
                "Ärende-ID": "3",
                "Projektnamn": "Hamnen",
                "Projektbeskrivning": "Ny kaj.",
                "Stödmottagare": "Hamnbolaget AB",
                "Kommun fördelning": "Malmö",
            },
            {
                "Ärende-ID": "4",
                "Projektnamn": "Turism",
                "Stödmottagare": "Besöksnäringen AB",
                "Kommun fördelning": "Malmö, Arjeplog",
            },
            {"Ärende-ID": "5", "Projektnamn": "", "Projektbeskrivning": "Utan namn."},
        ],
    )
    report = import_jsonl(conn, path, PROJECT_MAP)
    assert (report.read, report.imported, report.skipped_empty) == (5, 4, 1)
    assert report.repaired == 1
    assert report.repaired_runs == 2
    assert report.damaged == [("2", "¿")]
    rows = conn.execute(
        text(
            "SELECT e.source, e.title, e.summary, o.name, e.status, e.period_start, "
            "e.period_end FROM examples e JOIN organisations o ON o.id = e.organisation_id "
            "ORDER BY e.id"
        )
    ).all()
    assert [tuple(r) for r in rows] == [
        (
            "projekt.jsonl#1",
            "Cykelvägar i Skåne",
            "Region Skåne bygger cykelvägar.",
            "Region Skåne",
            "published",
            2009,
            2011,
        ),
        (
            "projekt.jsonl#2",
            "Bredband i fjällen",
            "Ett ¿snabbt¿ nät.",
            "Arjeplog",
            "published",
            None,
            None,
        ),
        ("projekt.jsonl#3", "Hamnen", "Ny kaj.", "Malmö", "published", None, None),
        ("projekt.jsonl#4", "Turism", "", "Övriga (importerade texter)", "published", None, None),
    ]
    # Indexed in the same transaction: the repaired text is what search finds.
    assert [h.title for h in search_examples(conn, "skånes cykelväg").hits] == [
        "Cykelvägar i Skåne"
    ]
    again = import_jsonl(conn, path, PROJECT_MAP)
    assert (again.imported, again.skipped_existing) == (0, 4)


def test_import_into_one_organisation_and_known_maps(conn: Any, tmp_path: Path) -> None:
    add_org(conn, "1384", "Kungsbacka")
    path = _write(
        tmp_path / "g0vse_pressmeddelanden.jsonl",
        [
            {
                "path": "p/1.md",
                "title": "Ny hemtjänst",
                "text": "# Ny hemtjänst\n\nText.",
                "year": 2024,
            }
        ],
    )
    report = import_jsonl(conn, path, organisation="1384")
    assert report.imported == 1
    row = conn.execute(text("SELECT summary, period_start, source FROM examples")).one()
    assert tuple(row) == ("Text.", 2024, "g0vse_pressmeddelanden.jsonl#p/1.md")
    with pytest.raises(NotFoundError):
        import_jsonl(conn, path, organisation="9999")
    with pytest.raises(InvalidInputError):
        import_jsonl(conn, _write(tmp_path / "okänd.jsonl", [{"a": 1}]))


def test_broken_json_line_is_an_error_with_its_line(conn: Any, tmp_path: Path) -> None:
    path = tmp_path / "trasig.jsonl"
    path.write_text('{"title": "ok"}\n{"title": \n')
    with pytest.raises(InvalidInputError, match="rad 2"):
        import_jsonl(conn, path, "title=title")


def test_sample_of_the_real_corpus(conn: Any, tmp_path: Path) -> None:
    """A few hundred real records, damaged ones included, built at run time from
    ../shared/data."""
    source = CORPUS / "tillvaxtverket_projektbanken_eruf_2007_2013.jsonl"
    if not source.exists():
        pytest.skip(f"the good_practices_text corpus is not at {CORPUS}")
    lines = [
        x for x in source.read_text(encoding="utf-8").split("\n") if x
    ]  # not splitlines: U+0085 is in the damage
    damaged = [x for x in lines if "Ã" in x][:40]
    sample = tmp_path / source.name
    sample.write_text("\n".join(lines[:260] + damaged) + "\n", encoding="utf-8")
    report = import_jsonl(conn, sample)
    assert report.imported == len(set(lines[:260] + damaged))
    assert report.repaired >= len(damaged)
    assert report.reported > 0
    titles = conn.execute(text("SELECT title || ' ' || summary FROM examples")).scalars().all()
    assert not [t for t in titles if "Ã" in t]
    assert search_examples(conn, "bredband").total > 0


def test_cli_imports_and_searches(tillit_env: Any, tmp_path: Path, capsys: Any) -> None:
    from tillit.cli import main

    path = _write(
        tmp_path / "texter.jsonl",
        [
            {"id": "a", "rubrik": "Hemtjänst i SkÃ¥ne", "text": "Äldre får <b>välja</b> tid."},
            {"id": "b", "rubrik": "Läxhjälp", "text": "Skolan hjälper till."},
        ],
    )
    assert main(["db", "upgrade"]) == 0
    assert (
        main(["bank", "import-jsonl", str(path), "--map", "id=id,title=rubrik,summary=text"]) == 0
    )
    out = capsys.readouterr().out
    assert "Läste in 2 texter (importerad text)" in out
    assert "1 poster, 1 tecken" in out
    assert main(["bank", "search", "hemtjänsten", "--format", "json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert [h["title"] for h in hits] == ["Hemtjänst i Skåne"]
    assert main(["bank", "search", "välj"]) == 0
    assert "1 träff" in capsys.readouterr().out  # "1 av 1 träffar" before the counts said "1 träff"
    assert main(["bank", "import-jsonl", str(path), "--map", "rubrik=id"]) == 1
