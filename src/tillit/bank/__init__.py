"""The bank of good examples: organisations, users and roles, examples with their
revision history, the audit log, and Swedish search. SQLite is the embedded default
(``$TILLIT_HOME/bank.sqlite``), PostgreSQL the shared server (``TILLIT_DATABASE_URL``)."""

from tillit.bank._models import (
    ORGANISATION_KINDS,
    ROLES,
    STATUSES,
    TRUST_PRINCIPLES,
    ApiToken,
    AuditEntry,
    Base,
    Example,
    ExampleKpi,
    ExampleRevision,
    ExampleTag,
    LoginSession,
    Organisation,
    User,
)

__all__ = [
    "ORGANISATION_KINDS",
    "ROLES",
    "STATUSES",
    "TRUST_PRINCIPLES",
    "ApiToken",
    "AuditEntry",
    "Base",
    "Example",
    "ExampleKpi",
    "ExampleRevision",
    "ExampleTag",
    "LoginSession",
    "Organisation",
    "User",
]
