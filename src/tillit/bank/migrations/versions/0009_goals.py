"""Goals (mål): ``goals``, their indicators (``goal_indicators``), their links to trials and
good examples (``goal_trials``, ``goal_examples``) and every saved version with the targets
it changed (``goal_revisions``), so that a lowered target stays visible.

Written by hand to match ``tillit.bank._models`` (a test compares them on both databases).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "goals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("political_level", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_goals"),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name="fk_goals_organisation_id_organisations",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name="fk_goals_created_by_users", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name="fk_goals_updated_by_users", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_goals_organisation_id", "goals", ["organisation_id"])
    op.create_table(
        "goal_indicators",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("kpi", sa.String(16), nullable=False),
        sa.Column("gender", sa.String(1), nullable=False),
        sa.Column("baseline_year", sa.Integer(), nullable=False),
        sa.Column("baseline_value", sa.Float(), nullable=False),
        sa.Column("target_value", sa.Float(), nullable=False),
        sa.Column("target_year", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("interim", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_goal_indicators"),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["goals.id"], name="fk_goal_indicators_goal_id_goals", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("goal_id", "position", name="uq_goal_indicators_goal_id"),
    )
    op.create_index("ix_goal_indicators_goal_id", "goal_indicators", ["goal_id"])
    op.create_index("ix_goal_indicators_kpi", "goal_indicators", ["kpi"])
    op.create_table(
        "goal_trials",
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("goal_id", "trial_id", name="pk_goal_trials"),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["goals.id"], name="fk_goal_trials_goal_id_goals", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"], name="fk_goal_trials_trial_id_trials", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_goal_trials_trial_id", "goal_trials", ["trial_id"])
    op.create_table(
        "goal_examples",
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("example_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("goal_id", "example_id", name="pk_goal_examples"),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["goals.id"], name="fk_goal_examples_goal_id_goals", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["example_id"],
            ["examples.id"],
            name="fk_goal_examples_example_id_examples",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_goal_examples_example_id", "goal_examples", ["example_id"])
    op.create_table(
        "goal_revisions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("goal_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("target_changes", sa.JSON(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_goal_revisions"),
        sa.ForeignKeyConstraint(
            ["goal_id"], ["goals.id"], name="fk_goal_revisions_goal_id_goals", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name="fk_goal_revisions_created_by_users",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("goal_id", "version", name="uq_goal_revisions_goal_id"),
    )
    op.create_index("ix_goal_revisions_goal_id", "goal_revisions", ["goal_id"])


def downgrade() -> None:
    op.drop_table("goal_revisions")
    op.drop_table("goal_examples")
    op.drop_table("goal_trials")
    op.drop_table("goal_indicators")
    op.drop_table("goals")
