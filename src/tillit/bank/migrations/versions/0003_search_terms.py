"""Search terms for one shared ranking on SQLite and PostgreSQL.

``example_terms`` holds, per example and Snowball-Swedish term (stemmed and folded in Python,
as for SQLite's FTS5 index), how often the term occurs in the title and in the body, plus the
example's title and body lengths in terms; the row with the empty term holds only the lengths.
Both databases find the candidates with their own matcher (FTS5, tsvector) and rank them from
these rows with the same BM25F formula in Python, so the order is the same on both.
``tillit.bank`` keeps it in sync (``index_examples``); the rows go with their example.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
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
    op.drop_table("example_term_stats")
    op.drop_index("ix_example_terms_example_id", table_name="example_terms")
    op.drop_table("example_terms")
