"""Stored trial evaluations (``trial_evaluations``): one KPI of one trial evaluated, kept as
JSON under the key of what it was computed from, so that the command line and the web reuse
each other's results.

Written by hand to match ``tillit.bank._evaluations`` (a test compares them on both
databases).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trial_evaluations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("trial_version", sa.Integer(), nullable=False),
        sa.Column("kpi", sa.String(16), nullable=False),
        sa.Column("store_state", sa.String(64), nullable=False),
        sa.Column("method_version", sa.String(32), nullable=False),
        sa.Column("verdict", sa.String(40), nullable=True),
        sa.Column("label", sa.String(200), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trial_evaluations"),
        sa.ForeignKeyConstraint(
            ["trial_id"],
            ["trials.id"],
            name="fk_trial_evaluations_trial_id_trials",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("key", name="uq_trial_evaluations_key"),
    )
    op.create_index("ix_trial_evaluations_trial_id", "trial_evaluations", ["trial_id"])


def downgrade() -> None:
    op.drop_table("trial_evaluations")
