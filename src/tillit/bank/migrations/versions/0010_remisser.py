"""Consultations (remisser): ``remisser``, their proposals (``remiss_proposals``), consulted
bodies (``remiss_bodies``), responses (``remiss_responses``) and the stances of each response
(``remiss_stances``), each with its exact quote.

Written by hand to match ``tillit.bank._remiss_models`` (a test compares them on both
databases).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def _users(table: str, *columns: str) -> list[sa.ForeignKeyConstraint]:
    return [
        sa.ForeignKeyConstraint(
            [c], ["users.id"], name=f"fk_{table}_{c}_users", ondelete="SET NULL"
        )
        for c in columns
    ]


def upgrade() -> None:
    op.create_table(
        "remisser",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("document", sa.String(300), nullable=False),
        sa.Column("title", sa.String(1000), nullable=False),
        sa.Column("ministry", sa.String(200), nullable=False),
        sa.Column("diarienummer", sa.String(100), nullable=False),
        sa.Column("deadline", sa.String(10), nullable=True),
        sa.Column("url", sa.String(1000), nullable=True),
        sa.Column("source", sa.String(50), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_remisser"),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name="fk_remisser_organisation_id_organisations",
            ondelete="RESTRICT",
        ),
        *_users("remisser", "created_by", "updated_by"),
        sa.UniqueConstraint("url", name="uq_remisser_url"),
    )
    op.create_index("ix_remisser_organisation_id", "remisser", ["organisation_id"])
    op.create_index("ix_remisser_document", "remisser", ["document"])
    op.create_table(
        "remiss_proposals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remiss_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(50), nullable=False),
        sa.Column("heading", sa.String(1000), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_remiss_proposals"),
        sa.ForeignKeyConstraint(
            ["remiss_id"],
            ["remisser.id"],
            name="fk_remiss_proposals_remiss_id_remisser",
            ondelete="CASCADE",
        ),
        sa.UniqueConstraint("remiss_id", "key", name="uq_remiss_proposals_remiss_id"),
    )
    op.create_index("ix_remiss_proposals_remiss_id", "remiss_proposals", ["remiss_id"])
    op.create_table(
        "remiss_bodies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remiss_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(500), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_remiss_bodies"),
        sa.ForeignKeyConstraint(
            ["remiss_id"],
            ["remisser.id"],
            name="fk_remiss_bodies_remiss_id_remisser",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name="fk_remiss_bodies_organisation_id_organisations",
            ondelete="SET NULL",
        ),
        sa.UniqueConstraint("remiss_id", "position", name="uq_remiss_bodies_remiss_id"),
    )
    op.create_index("ix_remiss_bodies_remiss_id", "remiss_bodies", ["remiss_id"])
    op.create_index("ix_remiss_bodies_organisation_id", "remiss_bodies", ["organisation_id"])
    op.create_table(
        "remiss_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("remiss_id", sa.Integer(), nullable=False),
        sa.Column("respondent_name", sa.String(500), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("file_name", sa.String(500), nullable=False),
        sa.Column("format", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("pages", sa.JSON(), nullable=False),
        sa.Column("needs_ocr", sa.Boolean(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_remiss_responses"),
        sa.ForeignKeyConstraint(
            ["remiss_id"],
            ["remisser.id"],
            name="fk_remiss_responses_remiss_id_remisser",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name="fk_remiss_responses_organisation_id_organisations",
            ondelete="SET NULL",
        ),
        *_users("remiss_responses", "uploaded_by"),
    )
    op.create_index("ix_remiss_responses_remiss_id", "remiss_responses", ["remiss_id"])
    op.create_index("ix_remiss_responses_organisation_id", "remiss_responses", ["organisation_id"])
    op.create_table(
        "remiss_stances",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("response_id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("proposal_key", sa.String(50), nullable=True),
        sa.Column("stance", sa.String(20), nullable=False),
        sa.Column("quote", sa.Text(), nullable=False),
        sa.Column("quote_start", sa.Integer(), nullable=False),
        sa.Column("quote_end", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("basis", sa.String(20), nullable=False),
        sa.Column("confirmed", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("rejected", sa.Boolean(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_remiss_stances"),
        sa.ForeignKeyConstraint(
            ["response_id"],
            ["remiss_responses.id"],
            name="fk_remiss_stances_response_id_remiss_responses",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["remiss_proposals.id"],
            name="fk_remiss_stances_proposal_id_remiss_proposals",
            ondelete="SET NULL",
        ),
        *_users("remiss_stances", "updated_by"),
    )
    op.create_index("ix_remiss_stances_response_id", "remiss_stances", ["response_id"])
    op.create_index("ix_remiss_stances_proposal_id", "remiss_stances", ["proposal_id"])


def downgrade() -> None:
    op.drop_table("remiss_stances")
    op.drop_table("remiss_responses")
    op.drop_table("remiss_bodies")
    op.drop_table("remiss_proposals")
    op.drop_table("remisser")
