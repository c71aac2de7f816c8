"""An index on ``examples (status, operating_area)``.

The list page offers the operating areas of the examples a visitor may see (``SELECT
DISTINCT operating_area … WHERE status = 'published'``). Without this index that reads every
example's row, long texts included (on SQLite ~7 ms for 11,000 examples, per page view); with
it the query reads the index alone (~0.2 ms). Like the search indexes, the ORM does not map it.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_examples_status_area", "examples", ["status", "operating_area"])


def downgrade() -> None:
    op.drop_index("ix_examples_status_area", table_name="examples")
