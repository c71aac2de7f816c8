"""A bank that holds good examples: imported texts keep their kind and their source (with a
link), their source's categories map to Kolada's operating areas by the documented table
(unmapped: none), only good examples are counted as such, migration 0007 backfills an old
bank, and an export carries it all. On SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io
import json
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from tests.bank_fixtures import People
from tillit.bank import (
    EXAMPLE_KINDS,
    KIND_LABELS,
    Bank,
    create_bank_engine,
    export_bank,
    import_bank,
    import_jsonl,
    open_bank,
    upgrade,
)
from tillit.bank._areas import area_table, kolada_area
from tillit.errors import InvalidInputError

SCHOOL = "Grundskola åk 0-9 inkl förskoleklass"
INFRA = "Infrastruktur, miljö- och hälsoskydd mm"

PRESS = [
    {
        "path": "pressmeddelanden/2024/05/skolan-far-mer.md",
        "url": "https://www.regeringen.se/pressmeddelanden/2024/05/skolan-far-mer/",
        "year": "2024",
        "title": "Skolan får mer pengar",
        "text": "# Skolan får mer pengar\n\nRegeringen satsar på skolan i Göteborg.",
    },
    {  # no url field: the link is derived from the path
        "path": "pressmeddelanden/2023/01/ny-myndighet.md",
        "year": "2023",
        "title": "Ny myndighet",
        "text": "Text.",
    },
]
PROJECTS = [
    {
        "Ärende-ID": "1",
        "Projektnamn": "Cykelväg längs kusten",
        "Projektbeskrivning": "En cykelväg.",
        "Stödmottagare": "Göteborgs stad",
        "Insatsområde": "2 Tillgänglighet",
    },
    {
        "Ärende-ID": "2",
        "Projektnamn": "Museets nya utställning",
        "Projektbeskrivning": "Ett museum.",
        "Stödmottagare": "Göteborgs stad",
        "Insatsområde": "Kategat-Skagerrak",
    },
    {
        "Ärende-ID": "3",
        "Projektnamn": "Något helt annat",
        "Projektbeskrivning": "Okänd kategori.",
        "Stödmottagare": "Göteborgs stad",
        "Insatsområde": "Ett område ingen tabell känner",
    },
    {
        "Ärende-ID": "4",
        "Projektnamn": "Bredband i byarna",
        "Projektbeskrivning": "Fiber.",
        "Stödmottagare": "Göteborgs stad",
        "Insatsområde": "1 NÃ¤ringslivsutveckling",  # damaged: repaired, then mapped
    },
]


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")
    return path


def _import(bank: Bank, path: Path, spec: str | None = None, **options: Any) -> Any:
    with bank.engine.begin() as conn:
        return import_jsonl(conn, path, spec, **options)


def _by_title(bank: Bank, actor: Any) -> dict[str, Any]:
    return {e.title: e for e in bank.list_examples(actor, limit=500).items}


# --- the area table -----------------------------------------------------------------------


def test_the_area_table_maps_only_to_kolada_areas_and_says_none_for_programmes() -> None:
    raw = resources.files("tillit.bank").joinpath("data/operating_areas.csv").read_text("utf-8")
    rows = list(csv.DictReader(io.StringIO("\n".join(x for x in raw.splitlines() if x[:1] != "#"))))
    kolada = {r["operating_area"] for r in rows if r["why"] == "Kolada's own area"}
    assert len(kolada) == 18 and SCHOOL in kolada
    assert {r["operating_area"] for r in rows} <= kolada | {""}
    assert all(r["why"].strip() for r in rows)
    assert len(area_table()) == len(rows)  # no category listed twice
    assert kolada_area("1 Tillgänglighet") == INFRA
    assert kolada_area("  3   tillgänglighet ") == INFRA
    assert kolada_area("1 Näringslivsutveckling") == "Arbetsmarknad"
    for programme in ("Kategat-Skagerrak", "Värde saknas", "Öresund", "1 Innovation och förnyelse"):
        assert kolada_area(programme) is None
    assert kolada_area("Något ingen känner") is None
    assert kolada_area(None) is None and kolada_area(" ") is None
    assert kolada_area("Gymnasieskola åk 1-3") == "Gymnasieskola åk 1-3"


# --- the import ---------------------------------------------------------------------------


def test_import_keeps_kinds_sources_and_maps_areas(
    bank: Bank, people: People, tmp_path: Path
) -> None:
    press = _import(bank, _write(tmp_path / "g0vse_pressmeddelanden.jsonl", PRESS))
    projects = _import(
        bank, _write(tmp_path / "tillvaxtverket_projektbanken_eruf_2007_2013.jsonl", PROJECTS)
    )
    assert (press.kind, press.imported) == ("press_release", 2)
    assert (projects.kind, projects.imported) == ("project", 4)
    assert (projects.mapped_areas, projects.unmapped_areas) == (2, 2)
    texts = _by_title(bank, None)
    school = texts["Skolan får mer pengar"]
    assert school.kind == "press_release" and school.kind_label == "pressmeddelande"
    assert not school.is_example
    assert school.source_name == "Regeringskansliet, pressmeddelande på regeringen.se"
    assert school.source_url == PRESS[0]["url"]
    assert texts["Ny myndighet"].source_url == (
        "https://www.regeringen.se/pressmeddelanden/2023/01/ny-myndighet/"
    )
    assert school.operating_area is None and school.source_area is None
    cycle = texts["Cykelväg längs kusten"]
    assert (cycle.kind, cycle.kind_label) == ("project", "projektbeskrivning")
    assert cycle.source_name.startswith("Tillväxtverkets projektbank")
    assert cycle.source_url == "https://projektbank.tillvaxtverket.se/"
    assert (cycle.operating_area, cycle.source_area) == (INFRA, "2 Tillgänglighet")
    museum = texts["Museets nya utställning"]
    assert (museum.operating_area, museum.source_area) == (None, "Kategat-Skagerrak")
    unknown = texts["Något helt annat"]
    assert (unknown.operating_area, unknown.source_area) == (None, "Ett område ingen tabell känner")
    assert texts["Bredband i byarna"].operating_area == "Arbetsmarknad"
    # A source's own category is never offered as an operating area.
    assert bank.operating_areas(None) == ["Arbetsmarknad", INFRA]
    # Nothing imported is a good example: none is counted.
    assert bank.published_counts(["1480"]) == {}
    assert bank.list_examples(None, kind="example").total == 0
    assert bank.list_examples(None, kind="project").total == 4


def test_an_import_of_other_texts_takes_a_kind_and_a_source(
    bank: Bank, people: People, tmp_path: Path
) -> None:
    path = _write(
        tmp_path / "exempel.jsonl",
        [
            {"id": "a", "rubrik": "Läxhjälp", "område": SCHOOL, "länk": "https://kommun.se/a"},
            {"id": "b", "rubrik": "Okänd", "område": "Skolutveckling", "länk": "javascript:x"},
        ],
    )
    spec = "id=id,title=rubrik,operating_area=område,url=länk"
    report = _import(
        bank,
        path,
        spec,
        organisation="1480",
        kind="example",
        source_name="Göteborgs stads webbplats",
        source_url="https://goteborg.se/",
    )
    assert report.imported == 2
    texts = _by_title(bank, None)
    assert texts["Läxhjälp"].kind == "example"
    assert texts["Läxhjälp"].source_url == "https://kommun.se/a"
    assert texts["Läxhjälp"].operating_area == SCHOOL
    assert texts["Okänd"].source_url == "https://goteborg.se/"  # not a web address: the source's
    assert texts["Okänd"].operating_area is None
    assert texts["Okänd"].source_name == "Göteborgs stads webbplats"
    assert bank.published_counts(["1480"]) == {("1480", SCHOOL): 1, ("1480", None): 1}
    # Without --kind a file of unknown origin is "importerad text", its file the source.
    plain = _import(bank, _write(tmp_path / "annat.jsonl", [{"r": "Annat"}]), "title=r")
    assert plain.kind == "text"
    other = _by_title(bank, None)["Annat"]
    assert (other.kind_label, other.source_name, other.source_url) == (
        "importerad text",
        "annat.jsonl",
        None,
    )
    with pytest.raises(InvalidInputError, match="slag av text"):
        _import(bank, path, spec, kind="nyhet")
    with pytest.raises(InvalidInputError, match="webbadress"):
        _import(bank, path, spec, source_url="ftp://x")


def test_only_good_examples_are_counted_and_linked_to_kpis(bank: Bank, people: People) -> None:
    def add(title: str, kind: str, area: str | None, kpis: list[str]) -> None:
        links = [{"kpi": k, "municipality": "1480"} for k in kpis]
        example = bank.create_example(
            people.goteborg,
            {"title": title, "kind": kind, "operating_area": area, "kpis": links},
        )
        bank.publish(people.goteborg, example.id, example.version)

    add("Läxhjälp", "example", SCHOOL, ["N15419"])
    add("Fritids", "example", "Kultur och fritid", ["N15419", "N15428"])
    add("Skolans pressmeddelande", "press_release", SCHOOL, ["N15419"])
    add("Skolprojekt", "project", SCHOOL, [])
    draft = bank.create_example(people.goteborg, {"title": "Utkast", "operating_area": SCHOOL})
    assert draft.kind == "example"
    assert bank.published_counts(["1480"]) == {
        ("1480", SCHOOL): 1,
        ("1480", "Kultur och fritid"): 1,
    }
    assert bank.linked_counts(["1480", "0180"]) == {
        ("1480", "N15419"): 2,
        ("1480", "N15428"): 1,
    }
    assert bank.linked_counts([]) == {}
    with pytest.raises(InvalidInputError, match="slag av text"):
        bank.create_example(people.goteborg, {"title": "X", "kind": "nyhet"})
    with pytest.raises(InvalidInputError, match="webbadress"):
        bank.create_example(people.goteborg, {"title": "X", "source_url": "javascript:alert(1)"})
    assert set(KIND_LABELS) == set(EXAMPLE_KINDS)


def test_the_api_schema_knows_the_same_kinds() -> None:
    from typing import get_args

    from tillit.web._schemas import Kind

    assert get_args(Kind) == EXAMPLE_KINDS


# --- migration 0007 -----------------------------------------------------------------------


def test_migration_0007_backfills_kinds_sources_and_areas_of_an_old_bank(blank_url: str) -> None:
    assert upgrade(blank_url, "0006") == "0006"
    engine = create_bank_engine(blank_url)
    insert = text(
        "INSERT INTO examples (id, organisation_id, title, summary, problem, what_was_done, "
        "results, operating_area, contact_role, status, source, version, created_at, "
        "updated_at) VALUES (:id, 1, :title, '', '', '', '', :area, '', 'published', :source, "
        "1, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"
    )
    try:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "INSERT INTO organisations (id, code, name, kind, created_at) "
                    "VALUES (1, '1480', 'Göteborg', 'kommun', CURRENT_TIMESTAMP)"
                )
            )
            conn.execute(
                insert,
                [
                    {"id": 1, "title": "Eget", "area": SCHOOL, "source": None},
                    {
                        "id": 2,
                        "title": "Press",
                        "area": None,
                        "source": "g0vse_pressmeddelanden.jsonl#pressmeddelanden/2024/05/x.md",
                    },
                    {
                        "id": 3,
                        "title": "Museum",
                        "area": "Kategat-Skagerrak",
                        "source": "tillvaxtverket_projektbanken_eruf_2007_2013.jsonl#185210",
                    },
                    {
                        "id": 4,
                        "title": "Väg",
                        "area": "2 Tillgänglighet",
                        "source": "tillvaxtverket_projektbanken_eruf_2014_2020.jsonl#7",
                    },
                    {"id": 5, "title": "Annat", "area": SCHOOL, "source": "egna.jsonl#a"},
                    {"id": 6, "title": "Länk", "area": None, "source": "https://kommun.se/x"},
                ],
            )
        assert upgrade(blank_url, "0007") == "0007"
        with engine.connect() as conn:
            rows = conn.execute(
                text(
                    "SELECT id, kind, source_name, source_url, source_area, operating_area "
                    "FROM examples ORDER BY id"
                )
            ).all()
    finally:
        engine.dispose()
    tillvaxt = "Tillväxtverkets projektbank (Europeiska regionala utvecklingsfonden)"
    assert [tuple(r) for r in rows] == [
        (1, "example", None, None, None, SCHOOL),
        (
            2,
            "press_release",
            "Regeringskansliet, pressmeddelande på regeringen.se",
            "https://www.regeringen.se/pressmeddelanden/2024/05/x/",
            None,
            None,
        ),
        (
            3,
            "project",
            tillvaxt,
            "https://projektbank.tillvaxtverket.se/",
            "Kategat-Skagerrak",
            None,
        ),
        (
            4,
            "project",
            tillvaxt,
            "https://projektbank.tillvaxtverket.se/",
            "2 Tillgänglighet",
            INFRA,
        ),
        (5, "text", "egna.jsonl", None, SCHOOL, SCHOOL),
        (6, "example", None, "https://kommun.se/x", None, None),
    ]
    upgrade(blank_url)  # and on to the newest
    with open_bank(blank_url) as bank:
        assert bank.published_counts(["1480"]) == {("1480", SCHOOL): 1, ("1480", None): 1}
    from tests.test_bank_trials import _downgrade

    _downgrade(blank_url, "0006")
    engine = create_bank_engine(blank_url)
    try:
        with engine.connect() as conn:
            back = conn.execute(text("SELECT id, operating_area FROM examples ORDER BY id")).all()
    finally:
        engine.dispose()
    # Down again, the source's category is where it was.
    assert [tuple(r) for r in back][2:4] == [(3, "Kategat-Skagerrak"), (4, "2 Tillgänglighet")]


# --- export and import --------------------------------------------------------------------


def test_an_export_carries_kinds_and_sources_and_an_old_one_is_backfilled(
    bank: Bank, people: People, tmp_path: Path
) -> None:
    _import(bank, _write(tmp_path / "g0vse_pressmeddelanden.jsonl", PRESS[:1]))
    _import(
        bank, _write(tmp_path / "tillvaxtverket_projektbanken_eruf_2007_2013.jsonl", PROJECTS[:1])
    )
    own = bank.create_example(people.goteborg, {"title": "Eget", "operating_area": SCHOOL})
    before = _by_title(bank, people.admin)
    stream = io.StringIO()
    export_bank(bank, stream)
    lines = [json.loads(x) for x in stream.getvalue().splitlines()]
    examples = [x for x in lines if x["table"] == "examples"]
    assert {x["kind"] for x in examples} == {"press_release", "project", "example"}
    old = [
        {
            k: v
            for k, v in x.items()
            if x["table"] != "examples"
            or k not in ("kind", "source_name", "source_url", "source_area")
        }
        for x in lines
    ]
    for x in old:  # an export from before 0007 held the source's category as the area
        if x["table"] == "examples" and x["title"] == "Cykelväg längs kusten":
            x["operating_area"] = "2 Tillgänglighet"
    for name, content in (("ny", lines), ("gammal", old)):
        target = tmp_path / f"{name}.sqlite"
        upgrade(f"sqlite:///{target}")
        with open_bank(f"sqlite:///{target}") as restored:
            import_bank(restored, io.StringIO("\n".join(json.dumps(x) for x in content)))
            after = _by_title(restored, people.admin)
        for title, record in before.items():
            got = after[title]
            assert (got.kind, got.source_name, got.source_url, got.operating_area) == (
                record.kind,
                record.source_name,
                record.source_url,
                record.operating_area,
            ), (name, title)
        assert after["Cykelväg längs kusten"].source_area == "2 Tillgänglighet"
        assert after[own.title].kind == "example"


# --- the JSON API -------------------------------------------------------------------------


def test_the_api_writes_and_filters_kinds_and_sources(api: Any, people: People, login: Any) -> None:
    headers = {"X-CSRF-Token": login("g@example.se")}
    made = api.post(
        "/api/examples",
        json={
            "title": "Projekt om cykelvägar",
            "kind": "project",
            "source_name": "Kommunens projektlista",
            "source_url": "https://goteborg.se/projekt/1",
            "status": "published",
        },
        headers=headers,
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["kind"], body["kind_label"], body["source_url"]) == (
        "project",
        "projektbeskrivning",
        "https://goteborg.se/projekt/1",
    )
    own = api.post(
        "/api/examples", json={"title": "Eget", "status": "published"}, headers=headers
    ).json()
    assert (own["kind"], own["source_name"], own["source_url"]) == ("example", None, None)
    only = api.get("/api/examples", params={"kind": "example"}).json()
    assert [e["title"] for e in only["items"]] == ["Eget"]
    assert api.get("/api/examples").json()["total"] == 2
    patched = api.patch(
        f"/api/examples/{body['id']}",
        json={"version": body["version"], "source_url": None, "kind": "example"},
        headers=headers,
    )
    assert patched.status_code == 200, patched.text
    assert (patched.json()["kind"], patched.json()["source_url"]) == ("example", None)
    for bad in ({"kind": "nyhet"}, {"source_url": "javascript:alert(1)"}):
        refused = api.post("/api/examples", json={"title": "X", **bad}, headers=headers)
        assert refused.status_code == 422
    assert api.get("/api/examples", params={"kind": "nyhet"}).status_code == 422


def test_cli_search_names_kinds_and_filters_by_kind(
    tillit_env: Any, tmp_path: Path, capsys: Any
) -> None:
    from tillit.cli import main

    assert main(["db", "upgrade"]) == 0
    press = _write(tmp_path / "g0vse_pressmeddelanden.jsonl", PRESS[:1])
    assert main(["bank", "import-jsonl", str(press)]) == 0
    out = capsys.readouterr().out
    assert "Läste in 1 text (pressmeddelande)" in " ".join(out.split())
    own = _write(tmp_path / "egna.jsonl", [{"t": "Skolan läser mer", "u": "https://a.se/1"}])
    assert (
        main(["bank", "import-jsonl", str(own), "--map", "title=t,url=u", "--kind", "example"]) == 0
    )
    capsys.readouterr()
    assert main(["bank", "search", "skolan"]) == 0
    table = " ".join(capsys.readouterr().out.split())
    assert "Skolan får mer pengar – Övriga (importerade texter) (pressmeddelande)" in table
    assert "Skolan läser mer – Övriga (importerade texter) " in table + " "
    assert "Skolan läser mer – Övriga (importerade texter) (" not in table
    assert main(["bank", "search", "skolan", "--kind", "example", "--format", "json"]) == 0
    hits = json.loads(capsys.readouterr().out)
    assert [(h["title"], h["kind"], h["source_url"]) for h in hits] == [
        ("Skolan läser mer", "example", "https://a.se/1")
    ]
    assert main(["bank", "search", "skolan", "--kind", "nyhet"]) == 1
    assert main(["bank", "import-jsonl", str(own), "--map", "title=t", "--kind", "nyhet"]) == 1
