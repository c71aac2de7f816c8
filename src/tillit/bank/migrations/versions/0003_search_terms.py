"""Search terms for one shared ranking on SQLite and PostgreSQL.

``example_terms`` holds, per example and Snowball-Swedish term (stemmed and folded in Python,
as for SQLite's FTS5 index), how often the term occurs in the title and in the body, plus the
example's title and body lengths in terms; the row with the empty term holds only the lengths.
Both databases find the candidates with their own matcher (FTS5, tsvector) and rank them from
these rows with the same BM25F formula in Python, so the order is the same on both.
``tillit.bank`` keeps it in sync (``index_examples``); the rows go with their example.

PostgreSQL: ``examples.search_vector`` is regenerated from the text with ASCII punctuation
replaced by spaces, so its words are the words of ``example_terms`` ("turism/besöksnäring" is
two words, not one path) and both databases match the same examples more often.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _search_vector(text_of: Callable[[str], str]) -> tuple[str, ...]:
    """Statements that recreate ``examples.search_vector`` (and its GIN index) with
    ``text_of(column)`` as the text of each column."""
    title = text_of("coalesce(title, '')")
    body = " || ' ' || ".join(
        text_of(f"coalesce({c}, '')") for c in ("summary", "problem", "what_was_done", "results")
    )
    return (
        "DROP INDEX IF EXISTS ix_examples_search_vector",
        "ALTER TABLE examples DROP COLUMN IF EXISTS search_vector",
        "ALTER TABLE examples ADD COLUMN search_vector tsvector GENERATED ALWAYS AS ("
        f"setweight(to_tsvector('swedish'::regconfig, {title}), 'A') || "
        f"setweight(to_tsvector('swedish'::regconfig, {body}), 'B')) STORED",
        "CREATE INDEX ix_examples_search_vector ON examples USING gin (search_vector)",
    )


def _punctuation_to_spaces(column: str) -> str:
    # ASCII punctuation becomes a space, so the parser splits "turism/besöksnäring",
    # "e-tjänster" and "a.b" into words as Tillit's own terms do (it keeps a/b as a path).
    return f"regexp_replace({column}, '[[:punct:]]', ' ', 'g')"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _search_vector(_punctuation_to_spaces):
            op.execute(statement)
    # Prefixes are looked up as ranges of terms (``term >= 'sol' AND term < 'som'``), which
    # needs code-point order: SQLite's BINARY, PostgreSQL's "C" collation.
    collation = "C" if op.get_bind().dialect.name == "postgresql" else None
    op.create_table(
        "example_terms",
        sa.Column("term", sa.String(collation=collation), nullable=False),
        sa.Column("example_id", sa.Integer(), nullable=False),
        sa.Column("title_tf", sa.Integer(), nullable=False),
        sa.Column("body_tf", sa.Integer(), nullable=False),
        sa.Column("title_len", sa.Integer(), nullable=False),
        sa.Column("body_len", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["example_id"],
            ["examples.id"],
            name="fk_example_terms_example_id_examples",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("term", "example_id", name="pk_example_terms"),
    )
    op.create_index("ix_example_terms_example_id", "example_terms", ["example_id"])
    # One row: how many examples ``example_terms`` holds and their total title and body
    # lengths (BM25's average lengths), brought up to date with every write of terms.
    op.create_table(
        "example_term_stats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("examples", sa.BigInteger(), nullable=False),
        sa.Column("title_terms", sa.BigInteger(), nullable=False),
        sa.Column("body_terms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_example_term_stats"),
    )
    op.execute(
        "INSERT INTO example_term_stats (id, examples, title_terms, body_terms) VALUES (1, 0, 0, 0)"
    )
    # Examples written before this revision (an upgraded bank) get their terms now.
    from tillit.bank._search import index_terms

    index_terms(op.get_bind())


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _search_vector(lambda column: column):
            op.execute(statement)
    op.drop_table("example_term_stats")
    op.drop_index("ix_example_terms_example_id", table_name="example_terms")
    op.drop_table("example_terms")
