"""What kind of text an example is, and where it came from: ``examples.kind`` ("example" for a
good example a user entered; "project", "press_release", "text" for imported texts),
``source_name``, ``source_url`` and ``source_area`` (the source's own category, which is no
longer stored as the operating area).

Existing rows are backfilled from what is stored: a row without ``source`` was entered by a
user (a good example); an imported row's ``source`` ("file#record id") names its file, and so
its kind, publisher and, for press releases, the link. Its ``operating_area`` held the
source's category: that moves to ``source_area`` and the operating area becomes the one the
table ``tillit/bank/data/operating_areas.csv`` maps it to, or none.

Written by hand to match ``tillit.bank._models`` (a test compares them on both databases).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_BATCH = 1000


def upgrade() -> None:
    op.add_column(
        "examples",
        sa.Column("kind", sa.String(32), server_default="example", nullable=False),
    )
    op.add_column("examples", sa.Column("source_name", sa.String(200), nullable=True))
    op.add_column("examples", sa.Column("source_url", sa.String(1000), nullable=True))
    op.add_column("examples", sa.Column("source_area", sa.String(200), nullable=True))
    op.create_index("ix_examples_kind", "examples", ["kind"])
    _backfill(op.get_bind())


def _backfill(conn: sa.engine.Connection) -> None:
    from tillit.bank._corpus import origin_of

    rows = conn.execute(
        sa.text("SELECT id, source, operating_area FROM examples WHERE source IS NOT NULL")
    ).all()
    update = sa.text(
        "UPDATE examples SET kind = :kind, source_name = :source_name, "
        "source_url = :source_url, source_area = :source_area, operating_area = :area "
        "WHERE id = :id"
    )
    params = []
    for example_id, source, area in rows:
        origin = origin_of(str(source), area)
        params.append(
            {
                "id": example_id,
                "kind": origin.kind,
                "source_name": origin.source_name,
                "source_url": origin.source_url,
                "source_area": origin.source_area,
                "area": origin.operating_area,
            }
        )
    for start in range(0, len(params), _BATCH):
        conn.execute(update, params[start : start + _BATCH])


def downgrade() -> None:
    conn = op.get_bind()
    # The source's category was the operating area before this revision.
    conn.execute(
        sa.text(
            "UPDATE examples SET operating_area = source_area "
            "WHERE source IS NOT NULL AND source_area IS NOT NULL"
        )
    )
    op.drop_index("ix_examples_kind", table_name="examples")
    # ALTER TABLE … DROP COLUMN on both databases (SQLite ≥ 3.35): a batch copy of the table
    # would lose the search triggers on SQLite.
    for column in ("source_area", "source_url", "source_name", "kind"):
        op.execute(f"ALTER TABLE examples DROP COLUMN {column}")
