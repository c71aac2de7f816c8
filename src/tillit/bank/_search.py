"""Swedish search over the bank's good examples, on SQLite (FTS5) and PostgreSQL (tsvector).

Both databases see the same query: words (lemmatised by ``tillit.swedish``, so "hemtjänsten"
finds "hemtjänst" and "vindkraftverket" finds "vindkraftverk"), "quoted phrases" and
trailing-``*`` prefixes, all of which must match. Both index the same terms, computed here, in
Python: a word's term in its position and its compound parts' terms after the words ("omsorg"
finds "äldreomsorgen"); SQLite in ``example_search`` (FTS5), PostgreSQL in
``examples.search_vector`` (a tsvector written from those terms since migration 0008, matched
with a ``tsquery`` of the same terms). Each database's matcher only finds the candidates: they
are ranked here, in Python, with one BM25F formula over ``example_terms`` (per example and term,
the title and body frequencies, computed by the same Python code on both databases), so the
order is the same on both. When the stemmed search finds nothing, a fallback matches every word
as a case- and diacritics-insensitive prefix of the unstemmed, folded text ("hemtjanst",
"HEMTJÄNST"). User text never reaches SQL or the FTS5/tsquery syntax unescaped: words are
reduced to letters and digits and every value is a bound parameter.
"""

from __future__ import annotations

import functools
import math
import secrets
import threading
from collections import Counter, OrderedDict
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass, fields
from typing import Any, Literal

from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from tillit.bank._query import (
    STOP_WORDS,
    Matcher,
    ParsedQuery,
    QueryUnit,
    fold,
    fts_fallback,
    fts_query,
    fts_string,
    indexed_terms,
    parse_query,
    query_units,
    snippet_html,
    term,
    terms,
    ts_fallback,
    ts_query,
)

__all__ = [
    "Hit",
    "ParsedQuery",
    "SearchFilters",
    "SearchResult",
    "Visibility",
    "index_example",
    "index_examples",
    "organisation_code",
    "parse_query",
    "search_examples",
    "similar_examples",
    "unindex_example",
]

Executor = Session | Connection
#: Whose drafts the caller may see: ``"all"``, or the ids of organisations whose drafts are
#: visible (empty: published examples only).
Visibility = Literal["all"] | Collection[int]

# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    example_id: int
    title: str
    organisation: str
    score: float
    snippet_html: str  # the original text, HTML-escaped, matched words in <mark>…</mark>
    # What a list of examples shows besides (read in the same query as the text, so a page
    # of hits needs no second read of the examples).
    organisation_id: int | None = None
    organisation_code: str | None = None
    operating_area: str | None = None
    period_start: int | None = None
    period_end: int | None = None
    status: str = ""
    summary: str = ""
    kind: str = "example"  # one of EXAMPLE_KINDS: only "example" is a good example
    source_name: str | None = None
    source_url: str | None = None


@dataclass(frozen=True)
class SearchResult:
    hits: list[Hit]
    total: int
    fallback_used: bool


@dataclass(frozen=True)
class SearchFilters:
    """Narrowing a search. ``municipality`` is a Kolada code matching the example's
    organisation or a linked KPI's municipality; ``region`` ("0013") matches the region's own
    examples and its municipalities' ("13xx"); ``year_from``/``year_to`` keep examples whose
    period overlaps (no end: still running; examples without a period are left out).
    ``operating_area`` is matched exactly; ``kind`` ("example": good examples only) too."""

    operating_area: str | None = None
    kind: str | None = None
    kpi: str | None = None  # linked to this KPI
    municipality: str | None = None
    region: str | None = None
    principle: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    status: str | None = None
    organisation_id: int | None = None


def _name_key(name: str) -> str:
    """A municipality's or region's name as compared: folded, without "Region ",
    " kommun" or "s kommun" ("Göteborgs kommun" and "goteborg" compare equal)."""
    key = " ".join(fold(name).split())
    key = key.removeprefix("region ")
    for suffix in ("s kommun", " kommun", "s stad", " stad"):
        if key.endswith(suffix):
            return key[: -len(suffix)]
    return key


def organisation_code(db: Executor, text_: str, *, kind: str | None = None) -> str | None:
    """The Kolada code of the bank's municipality or region (``kind`` "kommun" or
    "region") named ``text_`` ("Kungsbacka", "kungsbacka kommun", "Region Halland"); a code
    as it is; None when no organisation or several have that name."""
    wanted = text_.strip()
    if wanted.isdigit():
        return wanted
    key = _name_key(wanted)
    sql = "SELECT code, name FROM organisations WHERE code IS NOT NULL"
    params: dict[str, Any] = {}
    if kind:
        sql += " AND kind = :kind"
        params["kind"] = kind
    codes = {str(code) for code, name in db.execute(text(sql), params) if _name_key(name) == key}
    return codes.pop() if len(codes) == 1 else None


def _dialect(db: Executor) -> str:
    if isinstance(db, Session):
        return db.get_bind().dialect.name
    return db.dialect.name


def _where(filters: SearchFilters, visibility: Visibility) -> tuple[list[str], dict[str, Any]]:
    clauses: list[str] = []
    params: dict[str, Any] = {}
    if visibility != "all":
        orgs = sorted(set(visibility))
        if orgs:
            clauses.append("(e.status = 'published' OR e.organisation_id IN :visible_orgs)")
            params["visible_orgs"] = orgs
        else:
            clauses.append("e.status = 'published'")
    if filters.status:
        clauses.append("e.status = :status")
        params["status"] = filters.status
    if filters.organisation_id is not None:
        clauses.append("e.organisation_id = :organisation_id")
        params["organisation_id"] = filters.organisation_id
    if filters.operating_area:
        clauses.append("e.operating_area = :area")
        params["area"] = filters.operating_area
    if filters.kind:
        clauses.append("e.kind = :kind")
        params["kind"] = filters.kind
    if filters.kpi:
        clauses.append(
            "EXISTS (SELECT 1 FROM example_kpis kk WHERE kk.example_id = e.id AND kk.kpi = :kpi)"
        )
        params["kpi"] = filters.kpi
    if filters.municipality:
        clauses.append(
            "(o.code = :mun OR EXISTS (SELECT 1 FROM example_kpis k "
            "WHERE k.example_id = e.id AND k.municipality = :mun))"
        )
        params["mun"] = filters.municipality
    if filters.region:
        code = filters.region
        params["reg"] = code
        if len(code) == 4 and code.startswith("00") and code.isdigit():
            params["reg_like"] = code[2:] + "__"
            clauses.append(
                "(o.code = :reg OR (o.kind = 'kommun' AND o.code LIKE :reg_like) "
                "OR EXISTS (SELECT 1 FROM example_kpis k WHERE k.example_id = e.id "
                "AND (k.municipality = :reg OR (k.municipality LIKE :reg_like "
                "AND k.municipality NOT LIKE '00%'))))"
            )
        else:
            clauses.append("o.code = :reg")
    if filters.principle:
        clauses.append(
            "EXISTS (SELECT 1 FROM example_tags t WHERE t.example_id = e.id "
            "AND lower(t.tag) = lower(:principle) AND t.principle = :true)"
        )
        params["principle"] = filters.principle
        params["true"] = True
    if filters.year_from is not None or filters.year_to is not None:
        clauses.append(
            "COALESCE(e.period_start, e.period_end) <= :year_to "
            "AND COALESCE(e.period_end, 9999) >= :year_from"
        )
        params["year_from"] = filters.year_from if filters.year_from is not None else -9999
        params["year_to"] = filters.year_to if filters.year_to is not None else 9999
    return clauses, params


def _bind(sql: str, params: dict[str, Any]) -> Any:
    statement = text(sql)
    if "visible_orgs" in params:
        statement = statement.bindparams(bindparam("visible_orgs", expanding=True))
    return statement


# "Liknande exempel" still ranks with the database's own ranker (title weighted 10:1).
_SQLITE_RANK = "bm25(example_search, 10.0, 1.0, 5.0, 0.5)"


def search_examples(
    db: Executor,
    query: str,
    *,
    filters: SearchFilters | None = None,
    visibility: Visibility = (),
    limit: int = 20,
    offset: int = 0,
) -> SearchResult:
    """Search the examples ``visibility`` lets the caller see, best first. An empty query
    lists them (newest first). ``total`` counts every match, not just this page; with
    ``limit`` 0 the matches are only counted (no hits, nothing ranked).

    The database's own matcher (FTS5 on SQLite, ``@@`` on PostgreSQL) finds the candidates;
    they are ranked in Python from ``example_terms`` with one BM25F formula (``_rank``), so
    the order is the same on both databases."""
    filters = filters or SearchFilters()
    parsed = parse_query(query)
    clauses, params = _where(filters, visibility)
    dialect = _dialect(db)
    if parsed.empty:
        return _listing(db, clauses, params, limit, offset)
    for fallback in (False, True):
        if dialect == "sqlite":
            match = fts_fallback(parsed) if fallback else fts_query(parsed)
            # CROSS JOIN keeps the MATCH as the outer loop; otherwise SQLite may walk the
            # examples (by a filter's index) and probe the FTS table row by row (seconds).
            source = (
                "(SELECT rowid AS id FROM example_search "
                "WHERE example_search MATCH :match) m CROSS JOIN examples e ON e.id = m.id"
            )
            cond = "1 = 1"
        elif dialect == "postgresql":
            match = ts_fallback(parsed) if fallback else ts_query(parsed)
            source = "examples e"
            if fallback:
                cond = "e.search_folded @@ to_tsquery('simple', :match)"
            else:
                cond = "e.search_vector @@ CAST(:match AS tsquery)"
        else:
            raise NotImplementedError(dialect)
        if not match:
            return SearchResult([], 0, False)
        units = query_units(parsed, fallback=fallback)
        state = _stats(db)
        candidates: set[int] | frozenset[int]
        if not fallback and not parsed.phrases and _own_columns_only(filters):
            # Words and prefixes only, filters on the examples' own columns: an example
            # matches when it has every unit among its terms (what the matcher and ``_rank``
            # would both require), so the candidates are the examples the visibility and
            # filters allow, and no matcher needs to run.
            candidates = _visible(db, visibility, filters, clauses, params, state)
        else:
            where = " AND ".join([cond, *clauses])
            sql = f"SELECT e.id FROM {source} JOIN organisations o ON o.id = e.organisation_id "
            all_params = {**params, "match": match}
            candidates = {
                int(r[0]) for r in db.execute(_bind(sql + f"WHERE {where}", all_params), all_params)
            }
        if not candidates:
            continue
        ranked = _rank(db, candidates, units, fallback, state, order=limit > 0)
        if not ranked:
            continue
        page = dict(ranked[offset : offset + limit]) if limit > 0 else {}
        bodies = None if fallback else _in_body(units, state)
        hits = _hits(db, page, parsed, fallback=fallback, bodies=bodies)
        return SearchResult(hits, len(ranked), fallback)
    return SearchResult([], 0, False)


# -- the shared ranking ----------------------------------------------------------------------

# BM25F (Robertson & Zaragoza): per query term, the title and body frequencies are
# length-normalised, weighted (a title occurrence counts as five body ones) and saturated
# together; idf and the average lengths come from ``example_terms`` over the whole bank.
_K1 = 1.2
_TITLE_WEIGHT = 5.0
_BODY_WEIGHT = 1.0
_TITLE_B = 0.5
_BODY_B = 0.75


@dataclass(frozen=True)
class _State:
    """The bank's term statistics: examples indexed, average title and body length (in
    terms), and where and at which generation of ``example_terms`` they were read."""

    n: int
    avg_title: float
    avg_body: float
    key: tuple[str, int]  # (the database, example_term_stats.generation)


def _database(db: Executor) -> str:
    bind = db.get_bind() if isinstance(db, Session) else db
    return bind.engine.url.render_as_string(hide_password=True)


def _stats(db: Executor) -> _State:
    n, title, body, generation = db.execute(
        text(
            "SELECT examples, title_terms, body_terms, generation FROM example_term_stats "
            "WHERE id = 1"
        )
    ).one()
    n = int(n or 0)
    key = (_database(db), int(generation))
    if not n:
        return _State(0, 1.0, 1.0, key)
    return _State(n, max(1.0, int(title) / n), max(1.0, int(body) / n), key)


def _update_stats(db: Executor) -> None:
    n, title, body = db.execute(
        text("SELECT count(*), sum(title_len), sum(body_len) FROM example_terms WHERE term = ''")
    ).one()
    values = {"n": int(n or 0), "t": int(title or 0), "b": int(body or 0)}
    sql = "UPDATE example_term_stats SET examples = :n, title_terms = :t, body_terms = :b"
    # A new, random generation with every write of terms (from migration 0008 on): what a
    # process keeps of ``example_terms`` (``_scores``) is keyed by it. Random, not counted
    # up, so that a rolled-back write's number never comes back with other terms.
    row = db.execute(text("SELECT * FROM example_term_stats WHERE id = 1")).mappings().one()
    if "generation" in row:
        sql += ", generation = :g"
        values["g"] = secrets.randbits(62)
    db.execute(text(sql + " WHERE id = 1"), values)


# What a process keeps between searches, per database and generation of the terms: each
# query unit's BM25F contribution per example (the common ones are thousands of rows), and
# the ids of the examples a visibility lets one see. A write of terms changes the generation,
# so nothing kept is ever used for other terms.
_KEPT_UNITS = 2048
_KEPT_VISIBLE = 64
_KEPT_LOCK = threading.Lock()
_UNIT_SCORES: OrderedDict[tuple[Any, ...], dict[int, float]] = OrderedDict()
_UNIT_BODIES: OrderedDict[tuple[Any, ...], frozenset[int]] = OrderedDict()
_VISIBLE: OrderedDict[tuple[Any, ...], frozenset[int]] = OrderedDict()


def _keep(
    cache: OrderedDict[tuple[Any, ...], Any], key: tuple[Any, ...], value: Any, most: int
) -> None:
    with _KEPT_LOCK:
        cache[key] = value
        cache.move_to_end(key)
        while len(cache) > most:
            cache.popitem(last=False)


#: Filters on columns of ``examples`` itself, which change only with a write of the example
#: (and so of its terms): the others read linked tables.
_OWN_COLUMNS = frozenset(
    ["operating_area", "kind", "status", "organisation_id", "year_from", "year_to"]
)


def _own_columns_only(filters: SearchFilters) -> bool:
    return all(f.name in _OWN_COLUMNS or getattr(filters, f.name) is None for f in fields(filters))


def _visible(
    db: Executor,
    visibility: Visibility,
    filters: SearchFilters,
    clauses: list[str],
    params: dict[str, Any],
    state: _State,
) -> frozenset[int]:
    """The ids of the examples ``visibility`` and ``filters`` (on the examples' own columns
    only: ``clauses`` read ``examples e`` alone) allow. Those columns change only with a write
    of the example, which the repository indexes, so the terms' generation keys this too."""
    who = visibility if visibility == "all" else tuple(sorted(set(visibility)))
    key = (*state.key, who, filters)
    found = _VISIBLE.get(key)
    if found is None:
        where = " AND ".join(clauses) or "1 = 1"
        found = frozenset(
            int(r[0])
            for r in db.execute(_bind(f"SELECT e.id FROM examples e WHERE {where}", params), params)
        )
        _keep(_VISIBLE, key, found, _KEPT_VISIBLE)
    return found


_EXACT = text(
    "SELECT term, example_id, title_tf, body_tf, title_len, body_len FROM example_terms "
    "WHERE term = :lo"
)
_RANGE = text(
    "SELECT term, example_id, title_tf, body_tf, title_len, body_len FROM example_terms "
    "WHERE term >= :lo AND term < :hi"
)


def _postings(db: Executor, unit: QueryUnit) -> dict[int, list[int]]:
    """example id -> [title tf, body tf, title length, body length] of one query unit (a
    prefix sums the frequencies of every term it starts)."""
    value, prefix = unit
    if prefix:
        hi = value[:-1] + chr(ord(value[-1]) + 1)
        rows = db.execute(_RANGE, {"lo": value, "hi": hi})
    else:
        rows = db.execute(_EXACT, {"lo": value})
    out: dict[int, list[int]] = {}
    for term_, example_id, title_tf, body_tf, title_len, body_len in rows:
        if prefix and not term_.startswith(value):
            continue
        found = out.get(example_id)
        if found is None:
            out[example_id] = [title_tf, body_tf, title_len, body_len]
        else:
            found[0] += title_tf
            found[1] += body_tf
    return out


def _scores(db: Executor, unit: QueryUnit, state: _State) -> dict[int, float]:
    """example id -> the unit's BM25F contribution to its score, for every example with the
    unit among its terms; kept per database and generation (``_UNIT_SCORES``)."""
    key = (*state.key, unit)
    found = _UNIT_SCORES.get(key)
    if found is not None:
        return found
    postings = _postings(db, unit)
    df = len(postings)
    idf = math.log(1.0 + (state.n - df + 0.5) / (df + 0.5))
    found = {}
    for example_id, (title_tf, body_tf, title_len, body_len) in postings.items():
        tf = _TITLE_WEIGHT * title_tf / (
            1.0 - _TITLE_B + _TITLE_B * title_len / state.avg_title
        ) + _BODY_WEIGHT * body_tf / (1.0 - _BODY_B + _BODY_B * body_len / state.avg_body)
        found[example_id] = idf * tf / (_K1 + tf)
    in_body = frozenset(i for i, tfs in postings.items() if tfs[1])
    _keep(_UNIT_BODIES, key, in_body, _KEPT_UNITS)
    _keep(_UNIT_SCORES, key, found, _KEPT_UNITS)
    return found


def _in_body(units: Sequence[QueryUnit], state: _State) -> list[frozenset[int]] | None:
    """Per unit, the examples with it in the body (not only in the title), when kept: a
    snippet needs to look for a hit only in those."""
    found = [_UNIT_BODIES.get((*state.key, unit)) for unit in units]
    return None if any(f is None for f in found) else [f for f in found if f is not None]


def _rank(
    db: Executor,
    candidates: Collection[int],
    units: Sequence[QueryUnit],
    fallback: bool,
    state: _State,
    *,
    order: bool = True,
) -> list[tuple[int, float]]:
    """The candidates best first (ties: lower id first). In the stemmed search a candidate
    must have every unit in its terms (this evens out what the two matchers tokenise
    differently); the fallback keeps every candidate. Each score is the sum of its units'
    contributions in the units' order, so it is the same float on both databases. Without
    ``order`` (a count): the matches unscored (0.0) and unsorted."""
    if not order and fallback:  # every candidate counts
        return [(i, 0.0) for i in candidates]
    per_unit = [_scores(db, unit, state) for unit in units]
    if not order:
        if not per_unit:
            return []
        smallest = min(per_unit, key=len)
        return [(i, 0.0) for i in smallest if i in candidates and all(i in c for c in per_unit)]
    if fallback:
        scores = dict.fromkeys(candidates, 0.0)
        for contributions in per_unit:
            for example_id in scores:
                scores[example_id] += contributions.get(example_id, 0.0)
    else:
        if not per_unit:
            return []
        # The examples with every unit: the smallest unit's first, then each other's test.
        smallest = min(per_unit, key=len)
        kept = [i for i in smallest if i in candidates and all(i in c for c in per_unit)]
        scores = {}
        for example_id in kept:
            total = 0.0
            for contributions in per_unit:
                total += contributions[example_id]
            scores[example_id] = total
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def _listing(
    db: Executor, clauses: list[str], params: dict[str, Any], limit: int, offset: int
) -> SearchResult:
    where = " AND ".join(clauses) or "1 = 1"
    base = f"FROM examples e JOIN organisations o ON o.id = e.organisation_id WHERE {where}"
    all_params = {**params, "limit": limit, "offset": offset}
    total = db.execute(_bind(f"SELECT count(*) {base}", all_params), all_params).scalar_one()
    rows = db.execute(
        _bind(f"SELECT e.id {base} ORDER BY e.id DESC LIMIT :limit OFFSET :offset", all_params),
        all_params,
    ).all()
    hits = _hits(db, {int(r[0]): 0.0 for r in rows}, ParsedQuery(), fallback=False)
    return SearchResult(hits, int(total), False)


class _Text:
    """An example's text and what a hit shows of it."""

    __slots__ = ("body", "row")

    def __init__(self, row: Any) -> None:
        self.row = row
        self.body = [row[3] or "", row[4] or "", row[5] or "", row[6] or ""]

    def hit(self, score: float, matcher: Matcher, *, in_body: bool = True) -> Hit:
        r = self.row
        return Hit(
            example_id=int(r[0]),
            title=r[1],
            organisation=r[2],
            score=score,
            snippet_html=snippet_html(self.body, matcher, look=in_body),
            organisation_id=r[7],
            organisation_code=r[8],
            operating_area=r[9],
            period_start=r[10],
            period_end=r[11],
            status=r[12],
            summary=r[3] or "",
            kind=r[13],
            source_name=r[14],
            source_url=r[15],
        )


_TEXTS = text(
    "SELECT e.id, e.title, o.name, e.summary, e.problem, e.what_was_done, e.results, "
    "e.organisation_id, o.code, e.operating_area, e.period_start, e.period_end, e.status, "
    "e.kind, e.source_name, e.source_url "
    "FROM examples e JOIN organisations o ON o.id = e.organisation_id WHERE e.id IN :ids"
).bindparams(bindparam("ids", expanding=True))


def _texts(db: Executor, ids: Sequence[int]) -> dict[int, _Text]:
    """id -> the example's text (title, organisation, body fields, …) for ``ids``."""
    if not ids:
        return {}
    return {int(r[0]): _Text(r) for r in db.execute(_TEXTS, {"ids": list(ids)})}


def _hits(
    db: Executor,
    scores: dict[int, float],
    parsed: ParsedQuery,
    *,
    fallback: bool,
    bodies: list[frozenset[int]] | None = None,
) -> list[Hit]:
    """The hits of ``scores``' examples; ``bodies``: per query unit, the examples with it in
    the body (the others' snippets start at the beginning without looking for a hit)."""
    texts = _texts(db, list(scores))
    matcher = Matcher.of(parsed, fallback=fallback)
    return [
        texts[i].hit(score, matcher, in_body=bodies is None or any(i in b for b in bodies))
        for i, score in scores.items()
        if i in texts
    ]


# -- keeping the index in sync ---------------------------------------------------------------

_SELECT_TEXT = "SELECT id, title, summary, problem, what_was_done, results FROM examples"


def _rows(db: Executor, ids: Sequence[int] | None) -> list[Any]:
    if ids is None:
        return list(db.execute(text(_SELECT_TEXT)))
    statement = text(f"{_SELECT_TEXT} WHERE id IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    rows: list[Any] = []
    for i in range(0, len(ids), 5000):
        rows += db.execute(statement, {"ids": list(ids[i : i + 5000])}).all()
    return rows


def index_examples(db: Executor, ids: Sequence[int] | None = None) -> int:
    """(Re)index the examples ``ids`` (all when ``None``) in one batch; returns how many.
    Call it after writing examples in bulk, in the same transaction. Each example's text is
    lemmatised once, for both the database's full-text index and ``example_terms``."""
    rows = _rows(db, ids)
    analysed = [_analyse(r) for r in rows]
    _write_fulltext(db, ids, rows, analysed)
    _write_terms(db, ids, rows, analysed)
    return len(rows)


def index_fulltext(db: Executor, ids: Sequence[int] | None = None) -> int:
    """Only the database's own full-text index (migration 0002)."""
    rows = _rows(db, ids)
    _write_fulltext(db, ids, rows, [_analyse(r) for r in rows])
    return len(rows)


def index_terms(db: Executor, ids: Sequence[int] | None = None) -> int:
    """Only ``example_terms``, the shared ranking's term frequencies (migration 0003)."""
    rows = _rows(db, ids)
    _write_terms(db, ids, rows, [_analyse(r) for r in rows])
    return len(rows)


@dataclass(frozen=True)
class _Analysed:
    """What the index holds of one example's title and body (:func:`indexed_terms`)."""

    title_words: list[str]
    title_parts: list[str]
    body_words: list[str]
    body_parts: list[str]


def _analyse(row: Any) -> _Analysed:
    return _Analysed(*indexed_terms(row[1]), *indexed_terms(_body(row)))


#: From this many examples on, PostgreSQL's full-text columns are written by one UPDATE
#: from arrays (an UPDATE per example costs ~1 ms of round trip).
_COPY_FROM = 200


def _write_fulltext(
    db: Executor, ids: Sequence[int] | None, rows: list[Any], analysed: list[_Analysed]
) -> None:
    if _dialect(db) == "sqlite":
        if ids is None:
            db.execute(text("DELETE FROM example_search"))
        else:
            _unindex(db, ids)
        if rows:
            db.execute(
                text(
                    "INSERT INTO example_search(rowid, title, body, ftitle, fbody, parts) "
                    "VALUES (:id, :title, :body, :ftitle, :fbody, :parts)"
                ),
                [_sqlite_doc(r, a) for r, a in zip(rows, analysed, strict=True)],
            )
    elif len(rows) >= _COPY_FROM:
        _update_fulltext(db, rows, analysed)
    elif rows:
        db.execute(
            text(
                "UPDATE examples SET search_folded = "
                "setweight(to_tsvector('simple', :ftitle), 'A') || "
                "setweight(to_tsvector('simple', :fbody), 'B'), "
                "search_vector = CAST(:terms AS tsvector) WHERE id = :id"
            ),
            [
                {
                    "id": r[0],
                    "ftitle": fold(r[1] or ""),
                    "fbody": fold(_body(r)),
                    "terms": _tsvector_of(a),
                }
                for r, a in zip(rows, analysed, strict=True)
            ],
        )


def _update_fulltext(db: Executor, rows: list[Any], analysed: list[_Analysed]) -> None:
    """PostgreSQL's full-text columns of many examples: one UPDATE per 2,000 examples from
    arrays of their texts (no temporary table: that would need the TEMPORARY privilege)."""
    statement = text(
        "UPDATE examples e SET search_folded = "
        "setweight(to_tsvector('simple', t.ftitle), 'A') || "
        "setweight(to_tsvector('simple', t.fbody), 'B'), "
        "search_vector = CAST(t.terms AS tsvector) "
        "FROM unnest(CAST(:ids AS integer[]), CAST(:ftitles AS text[]), "
        "CAST(:fbodies AS text[]), CAST(:terms AS text[])) AS t(id, ftitle, fbody, terms) "
        "WHERE e.id = t.id"
    )
    for i in range(0, len(rows), 2000):
        chunk = list(zip(rows[i : i + 2000], analysed[i : i + 2000], strict=True))
        db.execute(
            statement,
            {
                "ids": [int(r[0]) for r, _ in chunk],
                "ftitles": [fold(r[1] or "") for r, _ in chunk],
                "fbodies": [fold(_body(r)) for r, _ in chunk],
                "terms": [_tsvector_of(a) for _, a in chunk],
            },
        )


def _copy(db: Executor, statement: str, rows: Iterable[Sequence[Any]]) -> None:
    """``COPY … FROM STDIN`` of ``rows`` on PostgreSQL (psycopg), in the transaction of ``db``."""
    conn = db.connection() if isinstance(db, Session) else db
    driver = conn.connection.driver_connection
    assert driver is not None  # a live connection in a transaction
    with driver.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row(row)


_TERM_COLUMNS = "term, example_id, title_tf, body_tf, title_len, body_len"


def term_rows(example_id: int, title: str | None, body: str) -> list[tuple[Any, ...]]:
    """``example_terms`` rows of one example: (term, id, title tf, body tf, title length,
    body length) per term, and ("", id, 0, 0, lengths)."""
    return _term_rows(example_id, _Analysed(*indexed_terms(title), *indexed_terms(body)))


def _term_rows(example_id: int, a: _Analysed) -> list[tuple[Any, ...]]:
    in_title = Counter(a.title_words + a.title_parts)
    in_body = Counter(a.body_words + a.body_parts)
    # Lengths in words: a compound's parts add terms to match, not length.
    title_len, body_len = len(a.title_words), len(a.body_words)
    out: list[tuple[Any, ...]] = [("", example_id, 0, 0, title_len, body_len)]
    for t in sorted(in_title.keys() | in_body.keys()):
        out.append((t, example_id, in_title[t], in_body[t], title_len, body_len))
    return out


def _write_terms(
    db: Executor, ids: Sequence[int] | None, rows: list[Any], analysed: list[_Analysed]
) -> None:
    if ids is None:
        db.execute(text("DELETE FROM example_terms"))
    else:
        statement = text("DELETE FROM example_terms WHERE example_id IN :ids").bindparams(
            bindparam("ids", expanding=True)
        )
        for i in range(0, len(ids), 5000):
            db.execute(statement, {"ids": list(ids[i : i + 5000])})
    values = [t for r, a in zip(rows, analysed, strict=True) for t in _term_rows(int(r[0]), a)]
    if values:
        _insert_terms(db, values)
    _update_stats(db)


def _insert_terms(db: Executor, values: list[tuple[Any, ...]]) -> None:
    conn = db.connection() if isinstance(db, Session) else db
    if _dialect(db) == "sqlite":
        conn.exec_driver_sql(
            f"INSERT INTO example_terms ({_TERM_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", values
        )
        return
    # PostgreSQL: COPY (1.3 million rows of the 11k-text bank in seconds, where an INSERT
    # from unnest(arrays) took 26 s and an executemany most of a minute).
    _copy(db, f"COPY example_terms ({_TERM_COLUMNS}) FROM STDIN", values)


def _body(row: Any) -> str:
    return "\n".join(x for x in row[2:6] if x)


def _sqlite_doc(row: Any, a: _Analysed | None = None) -> dict[str, Any]:
    a = a or _analyse(row)
    return {
        "id": row[0],
        "title": " ".join(a.title_words),
        "body": " ".join(a.body_words),
        "ftitle": row[1] or "",
        "fbody": _body(row),
        "parts": " ".join(a.title_parts + a.body_parts),
    }


def _tsvector_of(a: _Analysed) -> str:
    """``examples.search_vector`` as a tsvector literal, the terms of SQLite's columns: the
    title's words (weight A), the body's (B), then the compound parts of the title's (C) and
    the body's (D), each at its position."""
    positions: dict[str, list[str]] = {}
    at = 0
    fields = (
        ("A", a.title_words),
        ("B", a.body_words),
        ("C", a.title_parts),
        ("D", a.body_parts),
    )
    for weight, found in fields:
        at += 1  # a gap: no phrase runs from one field into the next (as in SQLite)
        for t in found:
            at = min(at + 1, 16383)  # PostgreSQL's last position
            positions.setdefault(t, []).append(f"{at}{weight}")
    return " ".join(
        "'" + t.replace("\\", "\\\\").replace("'", "''") + "':" + ",".join(p[:256])
        for t, p in positions.items()
    )


def index_example(db: Executor, example_id: int) -> None:
    """Bring one example's search entry up to date; call after creating or changing it
    (after the flush, in the same transaction)."""
    index_examples(db, [example_id])


def _unindex(db: Executor, ids: Sequence[int]) -> None:
    statement = text("DELETE FROM example_search WHERE rowid IN :ids").bindparams(
        bindparam("ids", expanding=True)
    )
    for i in range(0, len(ids), 5000):
        db.execute(statement, {"ids": list(ids[i : i + 5000])})


def unindex_example(db: Executor, example_id: int) -> None:
    """Drop a deleted example from the index (on PostgreSQL the full-text columns go with
    the row; ``example_terms`` rows also go by their foreign key)."""
    if _dialect(db) == "sqlite":
        _unindex(db, [example_id])
    db.execute(text("DELETE FROM example_terms WHERE example_id = :id"), {"id": example_id})
    _update_stats(db)


# -- liknande exempel ------------------------------------------------------------------------

_SIMILAR_TERMS = 12


def similar_examples(db: Executor, example_id: int, limit: int = 5) -> list[Hit]:
    """Published examples most like this one ("liknande exempel"): a search for any of its
    most distinctive terms (frequent in it, rare in the bank; title terms count double),
    itself excluded."""
    rows = _rows(db, [example_id])
    if not rows:
        return []
    row = rows[0]
    counts: Counter[str] = Counter()
    dialect = _dialect(db)
    # The words' terms only (a compound's parts are for finding, not for likeness).
    stop = _stop_terms()
    title_terms = [t for t in terms(row[1]) if len(t) > 2 and t not in stop]
    body_terms = [t for t in terms(_body(row)) if len(t) > 2 and t not in stop]
    counts.update(body_terms)
    counts.update(title_terms * 2)
    if dialect == "sqlite":
        df = _sqlite_df(db, _most_frequent(counts))
    else:
        df = _postgres_df(db, _most_frequent(counts))
    n = max(1, _count(db))
    weight = {t: counts[t] * math.log(1 + n / (1 + df[t])) for t in df if not t.isdigit()}
    chosen = sorted(weight, key=lambda t: (-weight[t], t))[:_SIMILAR_TERMS]
    if not chosen:
        return []
    params: dict[str, Any] = {"id": example_id, "limit": limit}
    if dialect == "sqlite":
        params["match"] = "{title body} : (" + " OR ".join(fts_string(t) for t in chosen) + ")"
        sql = (
            f"SELECT e.id, -{_SQLITE_RANK} AS score FROM example_search s "
            "JOIN examples e ON e.id = s.rowid WHERE example_search MATCH :match "
            "AND e.id != :id AND e.status = 'published' ORDER BY score DESC, e.id LIMIT :limit"
        )
    else:
        params["match"] = " | ".join(
            "'" + t.replace("\\", "\\\\").replace("'", "''") + "':AB" for t in chosen
        )
        sql = (
            "SELECT e.id, ts_rank_cd(e.search_vector, q, 1) AS score "
            "FROM examples e, CAST(:match AS tsquery) q WHERE e.search_vector @@ q "
            "AND e.id != :id AND e.status = 'published' ORDER BY score DESC, e.id LIMIT :limit"
        )
    scores = {int(r[0]): float(r[1]) for r in db.execute(text(sql), params)}
    matcher = Matcher(chosen, ())
    texts = _texts(db, list(scores))
    return [texts[i].hit(s, matcher) for i, s in scores.items() if i in texts]


@functools.cache
def _stop_terms() -> frozenset[str]:
    # On first use, not at import: a term may need the dictionary (about 1.3 s to load).
    return frozenset(term(w) for w in STOP_WORDS)


_CANDIDATES = 40


def _most_frequent(counts: Counter[str]) -> list[str]:
    """The candidate terms whose rarity is looked up: the most frequent in the example
    (one document-frequency lookup per term is what costs)."""
    return [t for t, _ in counts.most_common(_CANDIDATES)]


def _count(db: Executor) -> int:
    return int(db.execute(text("SELECT count(*) FROM examples")).scalar_one())


def _sqlite_df(db: Executor, candidates: list[str]) -> dict[str, int]:
    if not candidates:
        return {}
    statement = text(
        "SELECT term, max(doc) FROM example_search_vocab WHERE term IN :terms "
        "AND col IN ('title', 'body') GROUP BY term"
    ).bindparams(bindparam("terms", expanding=True))
    return {r[0]: int(r[1]) for r in db.execute(statement, {"terms": candidates})}


# Document frequencies of every lexeme on PostgreSQL (ts_stat: one pass over the examples,
# ~0.2 s for 11,000), per database, kept until the examples change. Counting each candidate
# lexeme on the GIN index instead costs 100-300 ms per call for the common ones.
_PG_STATS: dict[str, tuple[tuple[Any, ...], dict[str, int]]] = {}


def _postgres_df(db: Executor, candidates: list[str]) -> dict[str, int]:
    if not candidates:
        return {}
    bind = db.get_bind() if isinstance(db, Session) else db
    where = bind.engine.url.render_as_string(hide_password=True)
    state = tuple(db.execute(text("SELECT count(*), max(id), max(updated_at) FROM examples")).one())
    cached = _PG_STATS.get(where)
    if cached is None or cached[0] != state:
        stats = db.execute(
            text("SELECT word, ndoc FROM ts_stat('SELECT search_vector FROM examples', 'AB')")
        )
        cached = (state, {str(w): int(n) for w, n in stats})
        _PG_STATS[where] = cached
    return {t: cached[1].get(t, 0) for t in candidates}
