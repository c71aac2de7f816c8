"""Swedish search: an FTS5 index on SQLite, tsvector columns with GIN indexes on PostgreSQL.

SQLite: ``example_search`` (rowid = example id) holds the Snowball-stemmed, folded title and
body (``title``, ``body``) and the original text (``ftitle``, ``fbody``), which the tokenizer
folds (case, diacritics) for the prefix fallback. ``tillit.bank`` keeps it in sync
(``index_example`` / ``unindex_example`` / ``index_examples``). ``example_search_vocab``
gives document frequencies for "liknande exempel".

PostgreSQL: ``examples.search_vector`` is generated from the text with the built-in
``swedish`` configuration (title weight A, the rest B); ``examples.search_folded`` holds the
folded, unstemmed words (config ``simple``), written by ``tillit.bank`` for the fallback.
Neither column is mapped by the ORM.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_SQLITE_UP = (
    "CREATE VIRTUAL TABLE example_search USING fts5("
    "title, body, ftitle, fbody, "
    "tokenize = 'unicode61 remove_diacritics 2', prefix = '2 3 4')",
    "CREATE VIRTUAL TABLE example_search_vocab USING fts5vocab(example_search, 'col')",
)
_SQLITE_DOWN = (
    "DROP TABLE IF EXISTS example_search_vocab",
    "DROP TABLE IF EXISTS example_search",
)
_POSTGRES_UP = (
    "ALTER TABLE examples ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('swedish'::regconfig, coalesce(title, '')), 'A') || "
    "setweight(to_tsvector('swedish'::regconfig, coalesce(summary, '') || ' ' || "
    "coalesce(problem, '') || ' ' || coalesce(what_was_done, '') || ' ' || "
    "coalesce(results, '')), 'B')) STORED",
    "CREATE INDEX ix_examples_search_vector ON examples USING gin (search_vector)",
    "ALTER TABLE examples ADD COLUMN search_folded tsvector",
    "CREATE INDEX ix_examples_search_folded ON examples USING gin (search_folded)",
)
_POSTGRES_DOWN = (
    "DROP INDEX IF EXISTS ix_examples_search_folded",
    "ALTER TABLE examples DROP COLUMN IF EXISTS search_folded",
    "DROP INDEX IF EXISTS ix_examples_search_vector",
    "ALTER TABLE examples DROP COLUMN IF EXISTS search_vector",
)


def _statements(up: bool) -> tuple[str, ...]:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        return _SQLITE_UP if up else _SQLITE_DOWN
    if dialect == "postgresql":
        return _POSTGRES_UP if up else _POSTGRES_DOWN
    raise NotImplementedError(f"search is not implemented for {dialect}")


def upgrade() -> None:
    for statement in _statements(up=True):
        op.execute(statement)
    # Examples written before this revision (an upgraded bank) are indexed now.
    # (Only the full-text columns: ``example_terms`` comes with revision 0003.)
    from tillit.bank._search import index_fulltext

    index_fulltext(op.get_bind())


def downgrade() -> None:
    for statement in _statements(up=False):
        op.execute(statement)
