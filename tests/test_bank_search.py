"""Swedish search over the bank, on SQLite (FTS5) and PostgreSQL (tsvector): stemming,
the case/diacritics fallback, prefixes, phrases, filters, ranking, snippets, hostile input,
"liknande exempel", and the same ranking on both databases for the real corpus (also after
exporting a bank from SQLite and importing it into PostgreSQL)."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, text
from sqlalchemy.engine import Connection, make_url

from tillit.bank import Bank, create_bank_engine, export_bank, import_bank, upgrade
from tillit.bank._corpus import import_jsonl
from tillit.bank._models import Example, ExampleKpi, ExampleTag, Organisation
from tillit.bank._search import (
    _COPY_FROM,
    SearchFilters,
    index_example,
    index_examples,
    parse_query,
    search_examples,
    similar_examples,
    unindex_example,
)

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "good_practices_text"
PG_URL = os.environ.get("TILLIT_TEST_POSTGRES_URL", "")

postgres = pytest.mark.postgres
DATABASES = ["sqlite", pytest.param("postgresql", marks=postgres)]


@pytest.fixture(scope="session")
def pg_engine() -> Iterator[Engine]:
    """A fresh PostgreSQL database for this session, migrated to head, dropped at the end."""
    if not PG_URL:
        pytest.skip("TILLIT_TEST_POSTGRES_URL is not set")
    name = f"tillit_search_{uuid.uuid4().hex[:10]}"
    admin = create_bank_engine(PG_URL)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    engine = create_bank_engine(make_url(PG_URL).set(database=name).render_as_string(False))
    upgrade(engine)
    yield engine
    engine.dispose()
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("bank") / "template.sqlite"
    engine = create_bank_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


def _empty_postgres(engine: Engine) -> None:
    with engine.begin() as conn:
        conn.execute(
            text(
                "TRUNCATE examples, example_kpis, example_tags, example_revisions, audit_log, "
                "organisations RESTART IDENTITY CASCADE"
            )
        )


@pytest.fixture(params=DATABASES)
def engine(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[Engine]:
    """An empty, migrated bank on each database."""
    if request.param == "sqlite":
        path = tmp_path / "bank.sqlite"
        path.write_bytes(sqlite_template.read_bytes())
        engine = create_bank_engine(f"sqlite:///{path}")
        yield engine
        engine.dispose()
    else:
        pg: Engine = request.getfixturevalue("pg_engine")
        _empty_postgres(pg)
        yield pg


def add_org(conn: Connection, code: str | None, name: str, kind: str = "kommun") -> int:
    return int(
        conn.execute(
            insert(Organisation)
            .values(code=code, name=name, kind=kind, created_at=datetime.now(UTC))
            .returning(Organisation.id)
        ).scalar_one()
    )


def add_example(conn: Connection, org: int, title: str, summary: str = "", **kw: Any) -> int:
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "organisation_id": org,
        "title": title,
        "summary": summary,
        "problem": "",
        "what_was_done": "",
        "results": "",
        "contact_role": "",
        "status": "published",
        "version": 1,
        "created_at": now,
        "updated_at": now,
    }
    tags = kw.pop("tags", [])
    kpis = kw.pop("kpis", [])
    values.update(kw)
    example_id = int(
        conn.execute(insert(Example).values(**values).returning(Example.id)).scalar_one()
    )
    for tag in tags:
        conn.execute(insert(ExampleTag).values(example_id=example_id, tag=tag, principle=True))
    for municipality in kpis:
        conn.execute(
            insert(ExampleKpi).values(
                example_id=example_id, kpi="N00001", municipality=municipality, note=""
            )
        )
    index_example(conn, example_id)
    return example_id


@pytest.fixture
def bank(engine: Engine) -> Iterator[tuple[Connection, dict[str, int]]]:
    """A small bank: three municipalities (two in Region Halland), a region, examples."""
    with engine.begin() as conn:
        kba = add_org(conn, "1384", "Kungsbacka")
        hst = add_org(conn, "1380", "Halmstad")
        upp = add_org(conn, "0380", "Uppsala")
        halland = add_org(conn, "0013", "Region Halland", "region")
        ids = {
            "hemtjanst": add_example(
                conn,
                kba,
                "Hemtjänst med tillit",
                "Personalen i hemtjänsten planerar själva besöken <script>alert(1)</script>.",
                operating_area="Äldreomsorg",
                period_start=2019,
                period_end=2021,
                tags=["tillit"],
            ),
            "body": add_example(
                conn,
                upp,
                "Ny planering i äldreomsorgen",
                "Vi samordnade hemtjänst, hemsjukvård och biståndshandläggning för äldre.",
                operating_area="Äldreomsorg",
                period_start=2022,
                period_end=None,
                kpis=["1380"],
            ),
            "skola": add_example(
                conn,
                hst,
                "Läxhjälp i skolan",
                "Skolbiblioteket öppnar på kvällarna för elever.",
                operating_area="Grundskola",
                period_start=2015,
                period_end=2016,
                tags=["medborgarfokus"],
            ),
            "region": add_example(
                conn,
                halland,
                "Digitala vårdbesök",
                "Regionen erbjuder videobesök i primärvården.",
                operating_area="Hälso- och sjukvård",
            ),
            "draft": add_example(
                conn, kba, "Hemtjänst på natten", "Ett utkast om nattpatrull.", status="draft"
            ),
        }
        yield conn, ids


def _ids(result: Any) -> list[int]:
    return [h.example_id for h in result.hits]


@pytest.mark.parametrize("query", ["hemtjänsten", "hemtjänst", "Hemtjänstens"])
def test_inflections_find_the_same_examples(bank: Any, query: str) -> None:
    conn, ids = bank
    result = search_examples(conn, query)
    assert set(_ids(result)) == {ids["hemtjanst"], ids["body"]}
    assert result.total == 2


@pytest.mark.parametrize("query", ["hemtjanst", "HEMTJÄNST", "HemTjansten", "aldreomsorgen"])
def test_case_and_diacritics_do_not_matter(bank: Any, query: str) -> None:
    conn, ids = bank
    result = search_examples(conn, query)
    assert ids["hemtjanst"] in _ids(result) or ids["body"] in _ids(result)


def test_fallback_prefix_on_folded_text_when_stemmed_search_finds_nothing(bank: Any) -> None:
    conn, ids = bank
    result = search_examples(conn, "skolbibl")
    assert _ids(result) == [ids["skola"]]
    assert result.fallback_used
    assert "<mark>Skolbiblioteket</mark>" in result.hits[0].snippet_html


def test_trailing_star_is_a_prefix(bank: Any) -> None:
    conn, ids = bank
    assert set(_ids(search_examples(conn, "hemtj*"))) == {ids["hemtjanst"], ids["body"]}
    assert _ids(search_examples(conn, "videob*")) == [ids["region"]]


def test_quoted_phrase_needs_the_words_together(bank: Any) -> None:
    conn, ids = bank
    assert _ids(search_examples(conn, '"planerar själva"')) == [ids["hemtjanst"]]
    assert _ids(search_examples(conn, '"själva planerar"')) == []


def test_every_word_must_match(bank: Any) -> None:
    conn, ids = bank
    assert _ids(search_examples(conn, "hemtjänst hemsjukvård")) == [ids["body"]]


def test_title_matches_rank_first(bank: Any) -> None:
    conn, ids = bank
    assert _ids(search_examples(conn, "hemtjänst"))[0] == ids["hemtjanst"]
    assert _ids(search_examples(conn, "planering"))[0] == ids["body"]


def test_snippet_escapes_html_and_marks_hits(bank: Any) -> None:
    conn, _ = bank
    hit = search_examples(conn, "hemtjänst besök").hits[0]
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hit.snippet_html
    assert "<script>" not in hit.snippet_html
    assert "<mark>hemtjänsten</mark>" in hit.snippet_html
    assert "<mark>besöken</mark>" in hit.snippet_html
    assert hit.organisation == "Kungsbacka"


@pytest.mark.parametrize(
    "query",
    [
        "'; DROP TABLE examples; --",
        '") OR 1=1 --',
        "NEAR(hemtjänst",
        "*",
        '"',
        '"hemtjänst',
        "hemtjänst AND OR NOT",
        "{title}: x",
        "^hemtjänst",
        "hemtjänst:*",
        "a & b | !c <-> d",
        "\\",
        "",
    ],
)
def test_sql_and_fts_syntax_in_the_query_is_harmless(bank: Any, query: str) -> None:
    conn, _ = bank
    result = search_examples(conn, query)
    assert result.total >= 0
    assert conn.execute(text("SELECT count(*) FROM examples")).scalar_one() == 5


def test_drafts_visible_only_to_their_organisation(bank: Any) -> None:
    conn, ids = bank
    assert ids["draft"] not in _ids(search_examples(conn, "hemtjänst"))
    org = conn.execute(
        text("SELECT organisation_id FROM examples WHERE id = :i"), {"i": ids["draft"]}
    ).scalar_one()
    assert ids["draft"] in _ids(search_examples(conn, "hemtjänst", visibility={org}))
    assert ids["draft"] in _ids(search_examples(conn, "hemtjänst", visibility="all"))
    assert ids["draft"] not in _ids(search_examples(conn, "hemtjänst", visibility={org + 100}))


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (SearchFilters(operating_area="Äldreomsorg"), {"hemtjanst", "body"}),
        (SearchFilters(municipality="1384"), {"hemtjanst"}),
        (SearchFilters(municipality="1380"), {"skola", "body"}),  # own or a linked KPI's
        (SearchFilters(region="0013"), {"hemtjanst", "skola", "region", "body"}),
        (SearchFilters(region="0003"), {"body"}),
        (SearchFilters(principle="tillit"), {"hemtjanst"}),
        (SearchFilters(principle="medborgarfokus"), {"skola"}),
        (SearchFilters(year_from=2020, year_to=2020), {"hemtjanst"}),
        (SearchFilters(year_from=2016, year_to=2019), {"hemtjanst", "skola"}),
        (SearchFilters(year_from=2030, year_to=2030), {"body"}),  # still running
        (SearchFilters(status="published", operating_area="Grundskola"), {"skola"}),
    ],
)
def test_filters(bank: Any, filters: SearchFilters, expected: set[str]) -> None:
    conn, ids = bank
    result = search_examples(conn, "", filters=filters)
    assert set(_ids(result)) == {ids[k] for k in expected}
    assert result.total == len(expected)


def test_filters_combine_with_a_query(bank: Any) -> None:
    conn, ids = bank
    result = search_examples(conn, "hemtjänst", filters=SearchFilters(municipality="0380"))
    assert _ids(result) == [ids["body"]]


def test_paging_and_total(bank: Any) -> None:
    conn, _ = bank
    first = search_examples(conn, "", limit=2)
    second = search_examples(conn, "", limit=2, offset=2)
    assert first.total == second.total == 4
    assert not set(_ids(first)) & set(_ids(second))


@pytest.mark.parametrize(
    "query", ["skola", "hemtjanst", "HEMTJÄNST", "omsorg*", '"hemtjänst med tillit"']
)
def test_a_count_is_the_total_without_ranking(bank: Any, query: str) -> None:
    """``limit`` 0 counts what a search finds (stemmed, the folded fallback, prefixes,
    phrases) and returns no hits."""
    conn, _ = bank
    full = search_examples(conn, query)
    counted = search_examples(conn, query, limit=0)
    assert full.total and counted.total == full.total
    assert counted.hits == [] and counted.fallback_used == full.fallback_used
    narrowed = SearchFilters(municipality="9999")
    assert search_examples(conn, query, filters=narrowed, limit=0).total == 0


def test_index_follows_changes_and_deletes(bank: Any) -> None:
    conn, ids = bank
    conn.execute(
        text("UPDATE examples SET title = 'Trygg mathållning' WHERE id = :i"),
        {"i": ids["skola"]},
    )
    index_example(conn, ids["skola"])
    assert _ids(search_examples(conn, "mathållningen")) == [ids["skola"]]
    assert search_examples(conn, "läxhjälp").total == 0
    conn.execute(text("DELETE FROM examples WHERE id = :i"), {"i": ids["skola"]})
    unindex_example(conn, ids["skola"])
    assert search_examples(conn, "mathållning").total == 0


def _index_state(conn: Connection) -> tuple[list[Any], list[Any]]:
    """What the index holds: ``example_terms``, and the full-text entries (SQLite's
    ``example_search``, PostgreSQL's columns)."""
    terms = list(conn.execute(text("SELECT * FROM example_terms ORDER BY example_id, term")))
    if conn.dialect.name == "sqlite":
        sql = "SELECT rowid, title, body, ftitle, fbody, parts FROM example_search ORDER BY rowid"
    else:
        sql = (
            "SELECT id, CAST(search_vector AS text), CAST(search_folded AS text) "
            "FROM examples ORDER BY id"
        )
    return terms, list(conn.execute(text(sql)))


def test_indexing_in_bulk_writes_what_indexing_one_by_one_does(bank: Any) -> None:
    """A batch of many examples (on PostgreSQL: an UPDATE from arrays; the terms by COPY),
    with tabs, line breaks, backslashes, COPY's own markers and quotes in every text field,
    is indexed exactly as each example alone (an UPDATE each)."""
    conn, _ = bank
    org = add_org(conn, None, "Förbundet för bulkindexering")
    titles = ["Hemtjänst i glesbygd", "Äldreomsorgslyftet", "Läxhjälp på biblioteket"]
    odd = ["tab\there", "rad\r\nny rad", "snedstreck \\ och \\N", "\\.", "citat 'x' \"y\"", "😀"]
    for i in range(_COPY_FROM + 10):
        add_example(
            conn,
            org,
            f"{titles[i % 3]} {i} {odd[i % len(odd)]}",
            f"Sammanfattning nummer {i}: {odd[(i + 1) % len(odd)]}",
            problem=odd[(i + 2) % len(odd)] if i % 2 else "",
            what_was_done=f"Gjort\n{odd[(i + 3) % len(odd)]}",
            results="" if i % 3 else "Resultat\tmed tabb",
        )
    one_by_one = _index_state(conn)
    all_ids = [int(r[0]) for r in conn.execute(text("SELECT id FROM examples"))]
    assert len(all_ids) > _COPY_FROM
    assert index_examples(conn, all_ids) == len(all_ids)
    assert _index_state(conn) == one_by_one
    assert index_examples(conn) == len(all_ids)  # all, without ids
    assert _index_state(conn) == one_by_one
    assert _ids(search_examples(conn, "äldreomsorg", limit=500))


def test_similar_examples_exclude_itself_and_drafts(bank: Any) -> None:
    conn, ids = bank
    similar = [h.example_id for h in similar_examples(conn, ids["hemtjanst"])]
    assert similar[0] == ids["body"]
    assert ids["hemtjanst"] not in similar
    assert ids["draft"] not in similar
    assert similar_examples(conn, 999_999) == []


def test_parse_query_keeps_only_words() -> None:
    parsed = parse_query('"förnybar energi" sol* \'; DROP TABLE x; -- och')
    assert parsed.phrases == (("förnybar", "energi"),)
    assert parsed.prefixes == ("sol",)
    assert parsed.words == ("drop", "table", "x")
    assert parse_query("och i").words == ("och", "i")


# -- the real corpus on both databases -----------------------------------------------------

QUERIES = [
    "hemtjänsten",
    "bredband",
    "digitalisering",
    "klimatanpassning",
    "solenergi",
    "elbilar",
    "integration nyanlända",
    "företagande kvinnor",
    "energieffektivisering",
    "entreprenörskap",
    "äldreomsorg",
    "landsbygd",
    "turism",
    "innovation",
    "besöksnäring",
    "kompetensförsörjning",
]


def _load_corpus(engine: Engine) -> dict[int, str]:
    files = sorted(CORPUS.glob("*.jsonl"))
    if len(files) < 3:
        pytest.skip(f"the good_practices_text corpus is not at {CORPUS}")
    with engine.begin() as conn:
        for path in files:
            import_jsonl(conn, path)
        return {int(i): str(s) for i, s in conn.execute(text("SELECT id, source FROM examples"))}


@pytest.fixture(scope="module")
def both_corpora(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> Iterator[tuple[Engine, Engine, dict[int, str], dict[int, str]]]:
    """The whole corpus (~11,000 texts) in SQLite and PostgreSQL."""
    pg: Engine = request.getfixturevalue("pg_engine")
    _empty_postgres(pg)
    path = tmp_path_factory.mktemp("corpus") / "bank.sqlite"
    lite = create_bank_engine(f"sqlite:///{path}")
    upgrade(lite)
    sources_lite = _load_corpus(lite)
    sources_pg = _load_corpus(pg)
    yield lite, pg, sources_lite, sources_pg
    lite.dispose()
    _empty_postgres(pg)


def _same_ranking(
    a: Connection, b: Connection, ids_a: dict[int, str], ids_b: dict[int, str]
) -> None:
    """The ordered top 10 is the same on both (compared by source, not id), and over every
    hit the order of what both found is the same; the totals differ only by what the
    PostgreSQL matcher does not find (no diacritics folding, "a/b" kept as one token)."""
    for query in QUERIES:
        ra = search_examples(a, query, limit=10_000)
        rb = search_examples(b, query, limit=10_000)
        assert ra.total and rb.total, query
        assert abs(ra.total - rb.total) <= max(3, ra.total // 20), query
        order_a = [ids_a[h.example_id] for h in ra.hits]
        order_b = [ids_b[h.example_id] for h in rb.hits]
        assert order_a[:10] == order_b[:10], query
        both = set(order_a) & set(order_b)
        assert [s for s in order_a if s in both] == [s for s in order_b if s in both], query
        scores_a = {ids_a[h.example_id]: h.score for h in ra.hits}
        assert all(scores_a[ids_b[h.example_id]] == h.score for h in rb.hits[:10]), query


@postgres
@pytest.mark.slow
def test_sqlite_and_postgres_rank_identically(both_corpora: Any) -> None:
    """The same corpus loaded into each database: identical ordered top 10 for every query
    (one shared BM25F ranking over ``example_terms``)."""
    lite, pg, sources_lite, sources_pg = both_corpora
    with lite.connect() as a, pg.connect() as b:
        _same_ranking(a, b, sources_lite, sources_pg)


@postgres
@pytest.mark.slow
def test_bank_exported_from_sqlite_imported_into_postgres_searches_the_same(
    both_corpora: Any, tmp_path: Path
) -> None:
    """The issue's acceptance test: `export_bank` from SQLite, `import_bank` into an empty
    PostgreSQL bank, identical ordered search results."""
    lite = both_corpora[0]
    path = tmp_path / "bank.jsonl"
    export_bank(Bank(lite), path)
    name = f"tillit_search_{uuid.uuid4().hex[:10]}"
    admin = create_bank_engine(PG_URL)
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    target = create_bank_engine(make_url(PG_URL).set(database=name).render_as_string(False))
    try:
        upgrade(target)
        counts = import_bank(Bank(target), path)
        assert counts["examples"] > 10_000
        with lite.connect() as a, target.connect() as b:
            ids = {int(i): str(i) for i in a.execute(text("SELECT id FROM examples")).scalars()}
            _same_ranking(a, b, ids, ids)  # import_bank keeps the ids
    finally:
        target.dispose()
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
