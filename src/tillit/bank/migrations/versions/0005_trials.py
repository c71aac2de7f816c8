"""Trials (försök): ``trials`` and the KPIs each expects to move, ``trial_kpis``.

A trial is a change one municipality made from ``start_year`` on. Each KPI carries when it
was registered and the last year of data the store held for it then (``data_through``), so
that a reader can see whether the outcome was already known: pre-registration made visible.
Written by hand to match ``tillit.bank._models`` (a test compares them on both databases).

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "trials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("municipality", sa.String(16), nullable=False),
        sa.Column("title", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("start_year", sa.Integer(), nullable=False),
        sa.Column("example_id", sa.Integer(), nullable=True),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_trials"),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name="fk_trials_organisation_id_organisations",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["example_id"],
            ["examples.id"],
            name="fk_trials_example_id_examples",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["registered_by"],
            ["users.id"],
            name="fk_trials_registered_by_users",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_trials_organisation_id", "trials", ["organisation_id"])
    op.create_index("ix_trials_municipality", "trials", ["municipality"])
    op.create_index("ix_trials_example_id", "trials", ["example_id"])
    op.create_table(
        "trial_kpis",
        sa.Column("trial_id", sa.Integer(), nullable=False),
        sa.Column("kpi", sa.String(16), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data_through", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("trial_id", "kpi", name="pk_trial_kpis"),
        sa.ForeignKeyConstraint(
            ["trial_id"], ["trials.id"], name="fk_trial_kpis_trial_id_trials", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_trial_kpis_kpi", "trial_kpis", ["kpi"])


def downgrade() -> None:
    op.drop_table("trial_kpis")
    op.drop_table("trials")
