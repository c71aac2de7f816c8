"""What the bank returns: plain frozen dataclasses, safe to use after the session is gone."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from tillit.bank._models import KIND_LABELS

__all__ = [
    "AuditRecord",
    "ExamplePage",
    "ExampleRecord",
    "KpiLink",
    "OrganisationRecord",
    "RevisionRecord",
    "SessionRecord",
    "TokenRecord",
    "TrialKpiRecord",
    "TrialRecord",
    "UserRecord",
]


@dataclass(frozen=True)
class OrganisationRecord:
    id: int
    code: str | None
    name: str
    kind: str
    created_at: datetime


@dataclass(frozen=True)
class UserRecord:
    id: int
    email: str
    display_name: str
    role: str
    organisation_id: int | None
    organisation_code: str | None
    is_active: bool
    created_at: datetime

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True)
class TokenRecord:
    id: int
    user_id: int
    name: str
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


@dataclass(frozen=True)
class SessionRecord:
    id: int
    user_id: int
    csrf_token: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True)
class KpiLink:
    """A Kolada KPI the example moved, for one municipality (code) over some years."""

    kpi: str
    municipality: str
    year_from: int | None = None
    year_to: int | None = None
    note: str = ""


@dataclass(frozen=True)
class ExampleRecord:
    id: int
    organisation_id: int
    organisation_code: str | None
    organisation_name: str
    title: str
    summary: str
    problem: str
    what_was_done: str
    results: str
    operating_area: str | None
    period_start: int | None
    period_end: int | None
    contact_role: str
    status: str
    source: str | None
    """An imported text's import key ("file#record id")."""
    kind: str
    """One of EXAMPLE_KINDS: "example" (a good example) or an imported text's kind."""
    source_name: str | None
    """Who published the text (an imported one)."""
    source_url: str | None
    """A link to the text where it was published."""
    source_area: str | None
    """The category the source gave the text (never shown as the operating area)."""
    version: int
    tags: tuple[str, ...]
    """Free tags, sorted (the trust principles are in ``principles``)."""
    principles: tuple[str, ...]
    """Trust principles, in the order of ``TRUST_PRINCIPLES``."""
    kpis: tuple[KpiLink, ...]
    created_at: datetime
    updated_at: datetime
    created_by: int | None
    updated_by: int | None

    @property
    def is_example(self) -> bool:
        """A good example (gott exempel), not an imported text of another kind."""
        return self.kind == "example"

    @property
    def kind_label(self) -> str:
        """The kind in Swedish: "gott exempel", "pressmeddelande", …"""
        return KIND_LABELS.get(self.kind, self.kind)


@dataclass(frozen=True)
class ExamplePage:
    items: tuple[ExampleRecord, ...]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class RevisionRecord:
    example_id: int
    version: int
    data: dict[str, Any]
    created_at: datetime
    created_by: int | None


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    user_id: int | None
    action: str
    entity: str
    entity_id: str | None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class TrialKpiRecord:
    """A KPI a trial expects to move, as registered."""

    kpi: str
    direction: str
    """``increase`` or ``decrease``: the direction the trial expects."""
    registered_at: datetime
    """When this KPI was registered (UTC); again when the trial's start year changed."""
    data_through: int | None
    """The last year the store held a value of this KPI for the municipality at
    registration (None: no value)."""
    results_known: bool
    """The outcome of a treated year (``start_year`` or later) was known at registration:
    for this KPI the trial is not pre-registered."""


@dataclass(frozen=True)
class TrialRecord:
    """A trial (försök): a change ``municipality`` made from ``start_year`` on."""

    id: int
    organisation_id: int
    organisation_code: str | None
    organisation_name: str
    municipality: str
    title: str
    description: str
    start_year: int
    """The first year the change was in effect (the first treated year)."""
    example_id: int | None
    """The linked good example; None also when the reader may not see it (a draft)."""
    example_title: str | None
    kpis: tuple[TrialKpiRecord, ...]
    registered_at: datetime
    registered_by: int | None
    updated_at: datetime
    version: int

    @property
    def pre_registered(self) -> bool:
        """True when no KPI's results were known at its registration."""
        return not any(k.results_known for k in self.kpis)
