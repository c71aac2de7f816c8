"""The bank's tables (SQLAlchemy 2, typed). One schema for SQLite and PostgreSQL; the
migrations in ``tillit/bank/migrations`` create it, never ``metadata.create_all``.

Organisations are the 290 municipalities and 21 regions (seeded from the store's
metadata, ``code`` = Kolada's id) plus others (SKR, agencies). Users have one role:
``admin`` (everything), ``editor`` (writes the examples of one organisation) or
``reader``. Good examples keep every earlier version in ``example_revisions``; every
change of anything is one row in ``audit_log``. Trials (försök) record a change a
municipality made and the KPIs it expects to move, registered before the results are
known where possible."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

#: The seven principles of trust-based governance (Tillitsdelegationen), as tags.
TRUST_PRINCIPLES: tuple[str, ...] = (
    "tillit",
    "medborgarfokus",
    "helhetssyn",
    "handlingsutrymme",
    "stöd",
    "kunskap",
    "öppenhet",
)
ROLES: tuple[str, ...] = ("admin", "editor", "reader")
STATUSES: tuple[str, ...] = ("draft", "published")
ORGANISATION_KINDS: tuple[str, ...] = ("kommun", "region", "other")
#: What a text in the bank is: a good example a user entered ("example"), or an imported
#: project description, press release or other text. Only "example" counts as a good
#: example (gott exempel); the labels are what a reader sees.
EXAMPLE_KINDS: tuple[str, ...] = ("example", "project", "press_release", "text")
KIND_LABELS: dict[str, str] = {
    "example": "gott exempel",
    "project": "projektbeskrivning",
    "press_release": "pressmeddelande",
    "text": "importerad text",
}
#: The direction a trial expects a KPI to move.
TRIAL_DIRECTIONS: tuple[str, ...] = ("increase", "decrease")

# Constraint names are fixed so that migrations are the same on SQLite and PostgreSQL.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON}  # noqa: RUF012


def _now() -> datetime:
    from datetime import UTC

    return datetime.now(UTC)


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str | None] = mapped_column(String(16), unique=True)  # Kolada id, e.g. "1384"
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))  # one of ORGANISATION_KINDS
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-cased
    display_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id
    role: Mapped[str] = mapped_column(String(16))  # one of ROLES
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT")
    )  # required for editors
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)

    organisation: Mapped[Organisation | None] = relationship()


class ApiToken(Base):
    """A token for scripts: only its sha256 is stored; ``prefix`` identifies it in lists."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class LoginSession(Base):
    """A browser session: the cookie holds a random id whose sha256 is stored here."""

    __tablename__ = "login_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    session_hash: Mapped[str] = mapped_column(String(64), unique=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class LoginAttempt(Base):
    """One try to log in, stored before the password is checked (``succeeded`` is None until
    it is), so that simultaneous tries, from any server process, count against the login
    limit. Failures are kept for the limit's window, successes for longer: an address the
    account logged in from before is "known" and spared the account-wide slowdown."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_address", "email", "address"),
        Index("ix_login_attempts_address", "address"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))  # as typed, lower-cased
    address: Mapped[str] = mapped_column(String(64))  # the client (an IPv6 address: its /64)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    succeeded: Mapped[bool | None] = mapped_column(Boolean)


class Example(Base):
    """A text in the bank: a good example (gott exempel, ``kind`` "example"), what a
    municipality did and what it moved, or an imported text (a project description, a press
    release) with its ``source_name`` and ``source_url``. ``operating_area`` is Kolada's
    area only (an import maps its source's own category, kept in ``source_area``)."""

    __tablename__ = "examples"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    problem: Mapped[str] = mapped_column(Text, default="")
    what_was_done: Mapped[str] = mapped_column(Text, default="")
    results: Mapped[str] = mapped_column(Text, default="")  # results in words
    operating_area: Mapped[str | None] = mapped_column(String(200))  # Kolada's operating area
    period_start: Mapped[int | None] = mapped_column(Integer)  # year
    period_end: Mapped[int | None] = mapped_column(Integer)
    contact_role: Mapped[str] = mapped_column(String(300), default="")  # a role, not a person
    status: Mapped[str] = mapped_column(String(16), default="draft", index=True)
    source: Mapped[str | None] = mapped_column(String(500))  # import key: "file#record id"
    kind: Mapped[str] = mapped_column(
        String(32), default="example", server_default="example", index=True
    )  # one of EXAMPLE_KINDS
    source_name: Mapped[str | None] = mapped_column(String(200))  # who published it
    source_url: Mapped[str | None] = mapped_column(String(1000))  # a link to it there
    source_area: Mapped[str | None] = mapped_column(String(200))  # the source's own category
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped on every change
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    organisation: Mapped[Organisation] = relationship()
    kpis: Mapped[list[ExampleKpi]] = relationship(
        back_populates="example", cascade="all, delete-orphan", order_by="ExampleKpi.id"
    )
    tags: Mapped[list[ExampleTag]] = relationship(
        back_populates="example", cascade="all, delete-orphan", order_by="ExampleTag.tag"
    )


class ExampleKpi(Base):
    """A result the example moved: a Kolada KPI for a municipality over some years."""

    __tablename__ = "example_kpis"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    example_id: Mapped[int] = mapped_column(
        ForeignKey("examples.id", ondelete="CASCADE"), index=True
    )
    kpi: Mapped[str] = mapped_column(String(16), index=True)
    municipality: Mapped[str] = mapped_column(String(16))  # Kolada code
    year_from: Mapped[int | None] = mapped_column(Integer)
    year_to: Mapped[int | None] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")

    example: Mapped[Example] = relationship(back_populates="kpis")


class ExampleTag(Base):
    """A tag; the seven trust principles are tags with ``principle`` true."""

    __tablename__ = "example_tags"
    __table_args__ = (UniqueConstraint("example_id", "tag"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    example_id: Mapped[int] = mapped_column(
        ForeignKey("examples.id", ondelete="CASCADE"), index=True
    )
    tag: Mapped[str] = mapped_column(String(100), index=True)
    principle: Mapped[bool] = mapped_column(Boolean, default=False)

    example: Mapped[Example] = relationship(back_populates="tags")


class ExampleRevision(Base):
    """The whole example as it was after version ``version`` (JSON), for the history."""

    __tablename__ = "example_revisions"
    __table_args__ = (UniqueConstraint("example_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    example_id: Mapped[int] = mapped_column(
        ForeignKey("examples.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))


class AuditEntry(Base):
    """Who did what, when: one row per change of anything in the bank."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    action: Mapped[str] = mapped_column(String(50))  # e.g. "example.update", "user.login"
    entity: Mapped[str] = mapped_column(String(50))  # "example", "user", "organisation", …
    entity_id: Mapped[str | None] = mapped_column(String(50))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Trial(Base):
    """A trial (försök): a change one municipality made from ``start_year`` on, and the KPIs
    it expects to move. Evaluated later by a synthetic control."""

    __tablename__ = "trials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )  # the owner: its editors may change the trial
    municipality: Mapped[str] = mapped_column(String(16), index=True)  # Kolada code
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text)
    start_year: Mapped[int] = mapped_column(Integer)  # the first year the change was in effect
    example_id: Mapped[int | None] = mapped_column(
        ForeignKey("examples.id", ondelete="SET NULL"), index=True
    )
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    registered_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped on every change

    organisation: Mapped[Organisation] = relationship()
    example: Mapped[Example | None] = relationship()
    kpis: Mapped[list[TrialKpi]] = relationship(
        back_populates="trial", cascade="all, delete-orphan", order_by="TrialKpi.kpi"
    )


class TrialKpi(Base):
    """A KPI a trial expects to move, in ``direction``. ``data_through`` is the last year the
    store held a value of it for the municipality when it was registered (None: none)."""

    __tablename__ = "trial_kpis"

    trial_id: Mapped[int] = mapped_column(
        ForeignKey("trials.id", ondelete="CASCADE"), primary_key=True
    )
    kpi: Mapped[str] = mapped_column(String(16), primary_key=True, index=True)
    direction: Mapped[str] = mapped_column(String(16))  # one of TRIAL_DIRECTIONS
    registered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    data_through: Mapped[int | None] = mapped_column(Integer)

    trial: Mapped[Trial] = relationship(back_populates="kpis")


#: How a goal's indicator is to move (the analyses' ``Target.direction``): "increase" and
#: "decrease" ask for a change from the baseline, "at_least" and "at_most" for a level held.
GOAL_DIRECTIONS: tuple[str, ...] = ("increase", "decrease", "at_least", "at_most")
#: Kolada's genders: T (total), K (women), M (men).
GOAL_GENDERS: tuple[str, ...] = ("T", "K", "M")


class Goal(Base):
    """A goal (mål) a municipality or region set itself: a title and description, the
    political level that set it (free text, e.g. "kommunfullmäktige"), one or more
    indicators with targets, and links to trials and good examples. ``organisation_id`` is
    the owner, a municipality or a region (its code is the unit the indicators are read
    for); its editors and admins write, everyone reads."""

    __tablename__ = "goals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    political_level: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)  # bumped on every change

    organisation: Mapped[Organisation] = relationship()
    indicators: Mapped[list[GoalIndicator]] = relationship(
        back_populates="goal", cascade="all, delete-orphan", order_by="GoalIndicator.position"
    )
    trials: Mapped[list[GoalTrial]] = relationship(
        cascade="all, delete-orphan", order_by="GoalTrial.trial_id"
    )
    examples: Mapped[list[GoalExample]] = relationship(
        cascade="all, delete-orphan", order_by="GoalExample.example_id"
    )
    revisions: Mapped[list[GoalRevision]] = relationship(
        back_populates="goal", cascade="all, delete-orphan", order_by="GoalRevision.version"
    )


class GoalIndicator(Base):
    """One indicator of a goal: a KPI (and gender) with its baseline (year and value), its
    target value in the target year, the direction, and optional interim targets
    (``interim``: ``[[year, value], …]``, years between the baseline and the target)."""

    __tablename__ = "goal_indicators"
    __table_args__ = (UniqueConstraint("goal_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # 0, 1, … in the order given
    kpi: Mapped[str] = mapped_column(String(16), index=True)
    gender: Mapped[str] = mapped_column(String(1))  # one of GOAL_GENDERS
    baseline_year: Mapped[int] = mapped_column(Integer)
    baseline_value: Mapped[float] = mapped_column(Float)
    target_value: Mapped[float] = mapped_column(Float)
    target_year: Mapped[int] = mapped_column(Integer)
    direction: Mapped[str] = mapped_column(String(16))  # one of GOAL_DIRECTIONS
    interim: Mapped[list[Any]] = mapped_column(JSON, default=list)

    goal: Mapped[Goal] = relationship(back_populates="indicators")


class GoalTrial(Base):
    """A trial (försök) linked to a goal: what the organisation does to reach it."""

    __tablename__ = "goal_trials"

    goal_id: Mapped[int] = mapped_column(
        ForeignKey("goals.id", ondelete="CASCADE"), primary_key=True
    )
    trial_id: Mapped[int] = mapped_column(
        ForeignKey("trials.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class GoalExample(Base):
    """A good example linked to a goal."""

    __tablename__ = "goal_examples"

    goal_id: Mapped[int] = mapped_column(
        ForeignKey("goals.id", ondelete="CASCADE"), primary_key=True
    )
    example_id: Mapped[int] = mapped_column(
        ForeignKey("examples.id", ondelete="CASCADE"), primary_key=True, index=True
    )


class GoalRevision(Base):
    """The whole goal as it was after version ``version`` (JSON), who saved it and when, and
    the targets that version changed (``target_changes``: ``[{"kpi", "gender", "field",
    "old", "new"}]``, empty when no target changed), with the reason given (``note``). A
    lowered target stays visible: "målet sänktes 2023 från 85 till 80"."""

    __tablename__ = "goal_revisions"
    __table_args__ = (UniqueConstraint("goal_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id", ondelete="CASCADE"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    data: Mapped[dict[str, Any]] = mapped_column(JSON)
    target_changes: Mapped[list[Any]] = mapped_column(JSON, default=list)
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))

    goal: Mapped[Goal] = relationship(back_populates="revisions")
