"""Swedish search over the bank's good examples, on SQLite (FTS5) and PostgreSQL (tsvector).

Both databases see the same query: words (Snowball-Swedish stemmed, so "hemtjänsten" finds
"hemtjänst"), "quoted phrases" and trailing-``*`` prefixes, all of which must match. SQLite
indexes text stemmed and folded here, in Python (``example_search``, FTS5, ranked by bm25 with
the title weighted 10:1); PostgreSQL uses its built-in ``swedish`` configuration
(``examples.search_vector``, ranked by ``ts_rank_cd``). When that finds nothing, a fallback
matches every word as a case- and diacritics-insensitive prefix of the unstemmed, folded text
("hemtjanst", "HEMTJÄNST"). User text never reaches SQL or the FTS5/tsquery syntax unescaped:
words are reduced to letters and digits and every value is a bound parameter.
"""

from __future__ import annotations

import functools
import html
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import snowballstemmer
from sqlalchemy import bindparam, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

__all__ = [
    "Hit",
    "ParsedQuery",
    "SearchFilters",
    "SearchResult",
    "Visibility",
    "index_example",
    "index_examples",
    "parse_query",
    "search_examples",
    "similar_examples",
    "unindex_example",
]

Executor = Session | Connection
#: Whose drafts the caller may see: ``"all"``, or the ids of organisations whose drafts are
#: visible (empty: published examples only).
Visibility = Literal["all"] | Collection[int]

_WORD = re.compile(r"[^\W_]+")
_STOP = frozenset(
    [
        "och",
        "i",
        "av",
        "för",
        "med",
        "till",
        "på",
        "som",
        "den",
        "det",
        "de",
        "en",
        "ett",
        "är",
        "om",
        "att",
        "eller",
        "per",
        "inte",
        "från",
        "vid",
        "har",
        "hade",
        "ska",
        "skall",
        "kan",
        "var",
        "vara",
        "sig",
        "så",
        "men",
        "har",
    ]
)
_STEMMER = snowballstemmer.stemmer("swedish")


def fold(text: str) -> str:
    """Lower-case and strip diacritics: "Åre Östra" -> "are ostra"."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@functools.lru_cache(maxsize=300_000)
def term(word: str) -> str:
    """One word's search term: lower-cased, stemmed, folded ("Hemtjänsten" -> "hemtjanst")."""
    return fold(_STEMMER.stemWord(word.lower()))


def terms(text: str | None) -> list[str]:
    """The terms of ``text`` in order, stop words included (phrases need their positions)."""
    return [term(w) for w in _WORD.findall(text or "")]


# -- query parsing ---------------------------------------------------------------------------

_TOKEN = re.compile(r'"([^"]*)"|(\S+)')


@dataclass(frozen=True)
class ParsedQuery:
    """A query as words (lower-cased), prefixes (words the user ended with ``*``) and
    phrases (word lists); everything the user typed that is not a letter or digit is gone."""

    words: tuple[str, ...] = ()
    prefixes: tuple[str, ...] = ()
    phrases: tuple[tuple[str, ...], ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.words or self.prefixes or self.phrases)

    def all_words(self) -> list[str]:
        return [*self.words, *self.prefixes, *(w for p in self.phrases for w in p)]


def parse_query(query: str) -> ParsedQuery:
    """Words, "quoted phrases" and trailing-``*`` prefixes. Stop words are dropped from
    single words unless the query has nothing else."""
    words: list[str] = []
    prefixes: list[str] = []
    phrases: list[tuple[str, ...]] = []
    for match in _TOKEN.finditer(query or ""):
        if match[1] is not None:
            phrase = tuple(w.lower() for w in _WORD.findall(match[1]))
            if len(phrase) > 1:
                phrases.append(phrase)
            elif phrase:
                words.append(phrase[0])
            continue
        raw = match[2]
        found = [w.lower() for w in _WORD.findall(raw)]
        if not found:
            continue
        if raw.rstrip('"').endswith("*"):
            prefixes.append(found.pop())
        words.extend(found)
    kept = [w for w in words if w not in _STOP]
    if not kept and not prefixes and not phrases:
        kept = words
    return ParsedQuery(
        tuple(dict.fromkeys(kept)), tuple(dict.fromkeys(prefixes)), tuple(dict.fromkeys(phrases))
    )


def _fts_string(value: str) -> str:
    return '"' + value.replace('"', '""') + '"'


def _fts_query(parsed: ParsedQuery) -> str:
    """The FTS5 MATCH expression of the stemmed search (every part must match)."""
    parts = [f"{{title body}} : {_fts_string(term(w))}" for w in parsed.words]
    for p in parsed.prefixes:
        stem = _fts_string(fold(p))
        parts.append(f"({{title body}} : {stem}* OR {{ftitle fbody}} : {stem}*)")
    for phrase in parsed.phrases:
        parts.append(f"{{title body}} : {_fts_string(' '.join(term(w) for w in phrase))}")
    return " AND ".join(parts)


def _fts_fallback(parsed: ParsedQuery) -> str:
    """Every word a prefix of a folded word of the original text; phrases stay phrases."""
    singles = dict.fromkeys([*parsed.words, *parsed.prefixes])
    parts = [f"{{ftitle fbody}} : {_fts_string(fold(w))}*" for w in singles]
    for phrase in parsed.phrases:
        parts.append(f"{{ftitle fbody}} : {_fts_string(' '.join(fold(w) for w in phrase))}*")
    return " AND ".join(parts)


def _ts_query(parsed: ParsedQuery) -> str:
    """The to_tsquery('swedish', …) text: words are letters and digits only, so no operator
    the user typed can get in."""
    parts = list(parsed.words)
    parts += [f"{p}:*" for p in parsed.prefixes]
    parts += ["(" + " <-> ".join(phrase) + ")" for phrase in parsed.phrases]
    return " & ".join(parts)


def _ts_fallback(parsed: ParsedQuery) -> str:
    singles = dict.fromkeys([*parsed.words, *parsed.prefixes])
    parts = [f"{fold(w)}:*" for w in singles]
    parts += ["(" + " <-> ".join(fold(w) for w in phrase) + ":*)" for phrase in parsed.phrases]
    return " & ".join(parts)


# -- results ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hit:
    example_id: int
    title: str
    organisation: str
    score: float
    snippet_html: str  # the original text, HTML-escaped, matched words in <mark>…</mark>


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
    ``operating_area`` is matched exactly."""

    operating_area: str | None = None
    municipality: str | None = None
    region: str | None = None
    principle: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    status: str | None = None
    organisation_id: int | None = None


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


_SQLITE_RANK = "bm25(example_search, 10.0, 1.0, 5.0, 0.5)"
# Weights of D, C, B, A: the title (A) counts ten times the body (B), as in _SQLITE_RANK.
_PG_WEIGHTS = "'{0.1, 0.1, 0.1, 1.0}'"
_PG_NORMALISATION = 2  # divide by the length: closest to bm25 (see docs/search.md)


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
    lists them (newest first). ``total`` counts every match, not just this page."""
    filters = filters or SearchFilters()
    parsed = parse_query(query)
    clauses, params = _where(filters, visibility)
    dialect = _dialect(db)
    if parsed.empty:
        return _listing(db, clauses, params, limit, offset)
    for fallback in (False, True):
        if dialect == "sqlite":
            match = _fts_fallback(parsed) if fallback else _fts_query(parsed)
            # CROSS JOIN keeps the MATCH as the outer loop; otherwise SQLite may walk the
            # examples (by a filter's index) and probe the FTS table row by row (seconds).
            source = (
                f"(SELECT rowid AS id, -{_SQLITE_RANK} AS rank FROM example_search "
                "WHERE example_search MATCH :match) m CROSS JOIN examples e ON e.id = m.id"
            )
            cond = "1 = 1"
            score = "m.rank"
        elif dialect == "postgresql":
            match = _ts_fallback(parsed) if fallback else _ts_query(parsed)
            column = "e.search_folded" if fallback else "e.search_vector"
            config = "simple" if fallback else "swedish"
            query_sql = f"to_tsquery('{config}', :match)"
            source = "examples e"
            cond = f"{column} @@ {query_sql}"
            score = f"ts_rank_cd({_PG_WEIGHTS}, {column}, {query_sql}, {_PG_NORMALISATION})"
        else:
            raise NotImplementedError(dialect)
        if not match:
            return SearchResult([], 0, False)
        where = " AND ".join([cond, *clauses])
        base = f"FROM {source} JOIN organisations o ON o.id = e.organisation_id WHERE {where}"
        all_params = {**params, "match": match, "limit": limit, "offset": offset}
        total = db.execute(_bind(f"SELECT count(*) {base}", all_params), all_params).scalar_one()
        if not total:
            continue
        rows = db.execute(
            _bind(
                f"SELECT e.id, {score} AS score {base} ORDER BY score DESC, e.id "
                "LIMIT :limit OFFSET :offset",
                all_params,
            ),
            all_params,
        ).all()
        scores = {int(r[0]): float(r[1]) for r in rows}
        hits = _hits(db, scores, parsed, fallback=fallback)
        return SearchResult(hits, int(total), fallback)
    return SearchResult([], 0, False)


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


def _texts(db: Executor, ids: Sequence[int]) -> dict[int, tuple[str, str, list[str]]]:
    """id -> (title, organisation name, body fields) for ``ids``."""
    if not ids:
        return {}
    statement = text(
        "SELECT e.id, e.title, o.name, e.summary, e.problem, e.what_was_done, e.results "
        "FROM examples e JOIN organisations o ON o.id = e.organisation_id WHERE e.id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    return {
        int(r[0]): (r[1], r[2], [r[3] or "", r[4] or "", r[5] or "", r[6] or ""])
        for r in db.execute(statement, {"ids": list(ids)})
    }


def _hits(
    db: Executor, scores: dict[int, float], parsed: ParsedQuery, *, fallback: bool
) -> list[Hit]:
    texts = _texts(db, list(scores))
    matcher = _Matcher.of(parsed, fallback=fallback)
    return [
        Hit(
            example_id=i,
            title=texts[i][0],
            organisation=texts[i][1],
            score=score,
            snippet_html=snippet_html(texts[i][2], matcher),
        )
        for i, score in scores.items()
        if i in texts
    ]


# -- snippets --------------------------------------------------------------------------------


class _Matcher:
    """Decides whether a word of the original text is a hit of the query."""

    def __init__(self, stems: Iterable[str], prefixes: Iterable[str]) -> None:
        self.stems = frozenset(stems)
        self.prefixes = tuple(prefixes)

    @classmethod
    def of(cls, parsed: ParsedQuery, *, fallback: bool) -> _Matcher:
        words = parsed.all_words()
        if fallback:
            return cls((), (fold(w) for w in words))
        return cls((term(w) for w in words), (fold(w) for w in parsed.prefixes))

    def __call__(self, word: str) -> bool:
        if term(word) in self.stems:
            return True
        return bool(self.prefixes) and fold(word).startswith(self.prefixes)


_SNIPPET_CHARS = 240


def snippet_html(fields: Iterable[str], matcher: _Matcher) -> str:
    """About 240 characters of the text around its first hit (or its start), HTML-escaped,
    with each matched word in ``<mark>``."""
    body = "\n".join(f for f in fields if f).strip()
    spans = [m.span() for m in _WORD.finditer(body) if matcher(m[0])]
    start = 0
    if spans:
        first = spans[0][0]
        if first > 60:
            start = body.rfind(" ", 0, first - 40) + 1
    end = min(len(body), start + _SNIPPET_CHARS)
    if end < len(body):
        space = body.rfind(" ", start, end)
        end = space if space > start else end
    out: list[str] = ["…"] if start > 0 else []
    pos = start
    for s, e in spans:
        if s < start or e > end:
            continue
        out += [html.escape(body[pos:s]), "<mark>", html.escape(body[s:e]), "</mark>"]
        pos = e
    out.append(html.escape(body[pos:end]))
    if end < len(body):
        out.append("…")
    return " ".join("".join(out).split())


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
    Call it after writing examples in bulk, in the same transaction."""
    rows = _rows(db, ids)
    if _dialect(db) == "sqlite":
        if ids is None:
            db.execute(text("DELETE FROM example_search"))
        else:
            _unindex(db, ids)
        if rows:
            db.execute(
                text(
                    "INSERT INTO example_search(rowid, title, body, ftitle, fbody) "
                    "VALUES (:id, :title, :body, :ftitle, :fbody)"
                ),
                [_sqlite_doc(r) for r in rows],
            )
    elif rows:
        db.execute(
            text(
                "UPDATE examples SET search_folded = "
                "setweight(to_tsvector('simple', :ftitle), 'A') || "
                "setweight(to_tsvector('simple', :fbody), 'B') WHERE id = :id"
            ),
            [{"id": r[0], "ftitle": fold(r[1] or ""), "fbody": fold(_body(r))} for r in rows],
        )
    return len(rows)


def _body(row: Any) -> str:
    return "\n".join(x for x in row[2:6] if x)


def _sqlite_doc(row: Any) -> dict[str, Any]:
    body = _body(row)
    return {
        "id": row[0],
        "title": " ".join(terms(row[1])),
        "body": " ".join(terms(body)),
        "ftitle": row[1] or "",
        "fbody": body,
    }


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
    """Drop a deleted example from the index (PostgreSQL needs nothing: the columns go
    with the row)."""
    if _dialect(db) == "sqlite":
        _unindex(db, [example_id])


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
    if dialect == "sqlite":
        title_terms = [t for t in terms(row[1]) if len(t) > 2 and t not in _STOP_TERMS]
        body_terms = [t for t in terms(_body(row)) if len(t) > 2 and t not in _STOP_TERMS]
        counts.update(body_terms)
        counts.update(title_terms * 2)
        df = _sqlite_df(db, _most_frequent(counts))
    else:
        for lexeme, weights in db.execute(
            text(
                "SELECT u.lexeme, u.weights FROM examples e, unnest(e.search_vector) u "
                "WHERE e.id = :id"
            ),
            {"id": example_id},
        ):
            if len(lexeme) > 2 and not lexeme.isdigit():
                counts[lexeme] += len(weights) + weights.count("A")
        df = _postgres_df(db, _most_frequent(counts))
    n = max(1, _count(db))
    weight = {t: counts[t] * math.log(1 + n / (1 + df[t])) for t in df if not t.isdigit()}
    chosen = sorted(weight, key=lambda t: (-weight[t], t))[:_SIMILAR_TERMS]
    if not chosen:
        return []
    params: dict[str, Any] = {"id": example_id, "limit": limit}
    if dialect == "sqlite":
        params["match"] = "{title body} : (" + " OR ".join(_fts_string(t) for t in chosen) + ")"
        sql = (
            f"SELECT e.id, -{_SQLITE_RANK} AS score FROM example_search s "
            "JOIN examples e ON e.id = s.rowid WHERE example_search MATCH :match "
            "AND e.id != :id AND e.status = 'published' ORDER BY score DESC, e.id LIMIT :limit"
        )
    else:
        params["match"] = " | ".join(
            "'" + t.replace("\\", "\\\\").replace("'", "''") + "'" for t in chosen
        )
        sql = (
            "SELECT e.id, ts_rank_cd(e.search_vector, q, 1) AS score "
            "FROM examples e, CAST(:match AS tsquery) q WHERE e.search_vector @@ q "
            "AND e.id != :id AND e.status = 'published' ORDER BY score DESC, e.id LIMIT :limit"
        )
    scores = {int(r[0]): float(r[1]) for r in db.execute(text(sql), params)}
    matcher = _Matcher(chosen if dialect == "sqlite" else (term(t) for t in chosen), ())
    texts = _texts(db, list(scores))
    return [
        Hit(i, texts[i][0], texts[i][1], s, snippet_html(texts[i][2], matcher))
        for i, s in scores.items()
        if i in texts
    ]


_STOP_TERMS = frozenset(term(w) for w in _STOP)
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


def _postgres_df(db: Executor, candidates: list[str]) -> dict[str, int]:
    if not candidates:
        return {}
    statement = text(
        "SELECT t, (SELECT count(*) FROM examples x WHERE x.search_vector @@ "
        "CAST(quote_literal(t) AS tsquery)) FROM unnest(CAST(:terms AS text[])) AS t"
    )
    return {r[0]: int(r[1]) for r in db.execute(statement, {"terms": candidates})}
