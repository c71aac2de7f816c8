"""The bank of good examples: organisations, users and roles, examples with their
revision history, the audit log, and Swedish search. SQLite is the embedded default
(``$TILLIT_HOME/bank.sqlite``), PostgreSQL the shared server (``TILLIT_DATABASE_URL``)."""

from tillit.bank._corpus import ImportReport, import_jsonl, repair_text
from tillit.bank._db import create_bank_engine, current_revision, head_revision, upgrade
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
from tillit.bank._passwords import Passwords
from tillit.bank._records import (
    AuditRecord,
    ExamplePage,
    ExampleRecord,
    KpiLink,
    OrganisationRecord,
    RevisionRecord,
    SessionRecord,
    TokenRecord,
    UserRecord,
)
from tillit.bank._repository import Bank, open_bank
from tillit.bank._search import (
    Hit,
    SearchFilters,
    SearchResult,
    Visibility,
    index_example,
    index_examples,
    search_examples,
    similar_examples,
    unindex_example,
)
from tillit.bank._transfer import export_bank, import_bank
from tillit.bank._validate import EXAMPLE_FIELDS

__all__ = [
    "EXAMPLE_FIELDS",
    "ORGANISATION_KINDS",
    "ROLES",
    "STATUSES",
    "TRUST_PRINCIPLES",
    "ApiToken",
    "AuditEntry",
    "AuditRecord",
    "Bank",
    "Base",
    "Example",
    "ExampleKpi",
    "ExamplePage",
    "ExampleRecord",
    "ExampleRevision",
    "ExampleTag",
    "Hit",
    "ImportReport",
    "KpiLink",
    "LoginSession",
    "Organisation",
    "OrganisationRecord",
    "Passwords",
    "RevisionRecord",
    "SearchFilters",
    "SearchResult",
    "SessionRecord",
    "TokenRecord",
    "User",
    "UserRecord",
    "Visibility",
    "create_bank_engine",
    "current_revision",
    "export_bank",
    "head_revision",
    "import_bank",
    "import_jsonl",
    "index_example",
    "index_examples",
    "open_bank",
    "repair_text",
    "search_examples",
    "similar_examples",
    "unindex_example",
    "upgrade",
]
