"""Login attempts, ``login_attempts``: the login limit kept in the database, so that it holds
across server processes and machines (it was per process, in memory).

Written by hand to match ``tillit.bank._models`` (a test compares them on both databases).

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("address", sa.String(64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_login_attempts"),
    )
    op.create_index("ix_login_attempts_at", "login_attempts", ["at"])
    op.create_index("ix_login_attempts_email_address", "login_attempts", ["email", "address"])
    op.create_index("ix_login_attempts_address", "login_attempts", ["address"])


def downgrade() -> None:
    op.drop_table("login_attempts")
