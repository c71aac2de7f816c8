"""The bank's first schema: organisations, users, tokens, sessions, good examples with their
KPIs, tags and revisions, and the audit log. Written by hand to match ``tillit.bank._models``
(a test compares the migrated database with the models on SQLite and PostgreSQL).

Revision ID: 0001
Revises:
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when(name: str, *, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.Integer(), nullable=False)


def _user_fk(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.Integer(), nullable=True)


def upgrade() -> None:
    op.create_table(
        "organisations",
        _id(),
        sa.Column("code", sa.String(16), nullable=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_organisations"),
        sa.UniqueConstraint("code", name="uq_organisations_code"),
    )
    op.create_table(
        "users",
        _id(),
        sa.Column("email", sa.String(320), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        _when("created_at"),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name="fk_users_organisation_id_organisations",
            ondelete="RESTRICT",
        ),
    )
    op.create_table(
        "api_tokens",
        _id(),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("prefix", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        _when("created_at"),
        _when("last_used_at", nullable=True),
        _when("revoked_at", nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_api_tokens_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_api_tokens_user_id", "api_tokens", ["user_id"])
    op.create_table(
        "login_sessions",
        _id(),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("session_hash", sa.String(64), nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        _when("created_at"),
        _when("expires_at"),
        sa.PrimaryKeyConstraint("id", name="pk_login_sessions"),
        sa.UniqueConstraint("session_hash", name="uq_login_sessions_session_hash"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_login_sessions_user_id_users", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_login_sessions_user_id", "login_sessions", ["user_id"])
    op.create_table(
        "examples",
        _id(),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("problem", sa.Text(), nullable=False),
        sa.Column("what_was_done", sa.Text(), nullable=False),
        sa.Column("results", sa.Text(), nullable=False),
        sa.Column("operating_area", sa.String(200), nullable=True),
        sa.Column("period_start", sa.Integer(), nullable=True),
        sa.Column("period_end", sa.Integer(), nullable=True),
        sa.Column("contact_role", sa.String(300), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("source", sa.String(500), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        _when("created_at"),
        _when("updated_at"),
        _user_fk("created_by"),
        _user_fk("updated_by"),
        sa.PrimaryKeyConstraint("id", name="pk_examples"),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisations.id"],
            name="fk_examples_organisation_id_organisations",
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"], ["users.id"], name="fk_examples_created_by_users", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["updated_by"], ["users.id"], name="fk_examples_updated_by_users", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_examples_organisation_id", "examples", ["organisation_id"])
    op.create_index("ix_examples_status", "examples", ["status"])
    op.create_table(
        "example_kpis",
        _id(),
        sa.Column("example_id", sa.Integer(), nullable=False),
        sa.Column("kpi", sa.String(16), nullable=False),
        sa.Column("municipality", sa.String(16), nullable=False),
        sa.Column("year_from", sa.Integer(), nullable=True),
        sa.Column("year_to", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_example_kpis"),
        sa.ForeignKeyConstraint(
            ["example_id"],
            ["examples.id"],
            name="fk_example_kpis_example_id_examples",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_example_kpis_example_id", "example_kpis", ["example_id"])
    op.create_index("ix_example_kpis_kpi", "example_kpis", ["kpi"])
    op.create_table(
        "example_tags",
        _id(),
        sa.Column("example_id", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(100), nullable=False),
        sa.Column("principle", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_example_tags"),
        sa.UniqueConstraint("example_id", "tag", name="uq_example_tags_example_id"),
        sa.ForeignKeyConstraint(
            ["example_id"],
            ["examples.id"],
            name="fk_example_tags_example_id_examples",
            ondelete="CASCADE",
        ),
    )
    op.create_index("ix_example_tags_example_id", "example_tags", ["example_id"])
    op.create_index("ix_example_tags_tag", "example_tags", ["tag"])
    op.create_table(
        "example_revisions",
        _id(),
        sa.Column("example_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        _when("created_at"),
        _user_fk("created_by"),
        sa.PrimaryKeyConstraint("id", name="pk_example_revisions"),
        sa.UniqueConstraint("example_id", "version", name="uq_example_revisions_example_id"),
        sa.ForeignKeyConstraint(
            ["example_id"],
            ["examples.id"],
            name="fk_example_revisions_example_id_examples",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["users.id"],
            name="fk_example_revisions_created_by_users",
            ondelete="SET NULL",
        ),
    )
    op.create_index("ix_example_revisions_example_id", "example_revisions", ["example_id"])
    op.create_table(
        "audit_log",
        _id(),
        _when("at"),
        _user_fk("user_id"),
        sa.Column("action", sa.String(50), nullable=False),
        sa.Column("entity", sa.String(50), nullable=False),
        sa.Column("entity_id", sa.String(50), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_audit_log_user_id_users", ondelete="SET NULL"
        ),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_entity", "audit_log", ["entity", "entity_id"])


def downgrade() -> None:
    for table in (
        "audit_log",
        "example_revisions",
        "example_tags",
        "example_kpis",
        "examples",
        "login_sessions",
        "api_tokens",
        "users",
        "organisations",
    ):
        op.drop_table(table)
