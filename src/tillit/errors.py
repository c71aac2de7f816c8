"""The errors Tillit's library code raises.

Library code raises these; the CLI (and later the web app) translates them once into a message
and the next step for the user. Every error carries ``message`` (what went wrong, in Swedish,
since users read it) and ``hint`` (the next step, or ``None``).

::

    TillitError
    ├── ConfigError                 a TILLIT_* setting is malformed
    ├── NotFoundError               a KPI, group or municipality named by the user does not exist
    ├── NoDataError                 the store has nothing yet for what was asked
    ├── InvalidInputError           a bad argument (year range, file type, a field of an example)
    ├── NotEvaluableError           an analysis refuses: too little data to answer honestly
    ├── PermissionDeniedError       the user (or an anonymous visitor) may not do this
    ├── ConflictError               a stale version, a duplicate, or a bank that is not empty
    ├── SourceError                 talking to the outside failed
    │   ├── KoladaUnavailableError  Kolada could not be reached (network, DNS, retries exhausted)
    │   ├── KoladaHTTPError         Kolada answered with an error status that retrying will not fix
    │   └── KoladaPayloadError      a response was not the JSON shape we expect (URL, field)
    └── StoreError                  the local store cannot be read or written
        └── StoreLockedError        another sync or import holds the store's write lock
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "ConflictError",
    "InvalidInputError",
    "KoladaHTTPError",
    "KoladaPayloadError",
    "KoladaUnavailableError",
    "NoDataError",
    "NotEvaluableError",
    "NotFoundError",
    "PermissionDeniedError",
    "SourceError",
    "StoreError",
    "StoreLockedError",
    "TillitError",
]


class TillitError(Exception):
    """Base of every error Tillit raises on purpose."""

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message if self.hint is None else f"{self.message}\n{self.hint}"


class ConfigError(TillitError):
    """A ``TILLIT_*`` environment variable has a value we cannot use."""


class NotFoundError(TillitError):
    """Something the user named (KPI, KPI group, municipality) does not exist in the store."""


class NoDataError(TillitError):
    """The store has no values (or no metadata) for the request yet."""


class InvalidInputError(TillitError):
    """An argument or input file is malformed."""


class NotEvaluableError(TillitError):
    """The data cannot support an honest answer (a pre-period too short for a synthetic
    control, too few comparable units); the message says why and what would be needed."""


class PermissionDeniedError(TillitError):
    """The acting user's role does not allow this (e.g. an editor touching another
    organisation's example, a reader writing anything)."""

    def __init__(
        self, message: str = "Du har inte behörighet att göra detta.", *, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)


class ConflictError(TillitError):
    """The change collides with the stored state: someone saved a newer version first, the
    thing already exists, or an import target is not empty."""


class SourceError(TillitError):
    """Fetching from an outside source failed."""


class KoladaUnavailableError(SourceError):
    """Kolada could not be reached, or kept failing after all retries."""

    def __init__(self, message: str, *, url: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.url = url


class KoladaHTTPError(SourceError):
    """Kolada answered with a status that retrying will not change (e.g. 400, 404)."""

    def __init__(self, message: str, *, url: str, status: int, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.url = url
        self.status = status


class KoladaPayloadError(SourceError):
    """A Kolada response did not have the shape we validate against.

    ``field`` is a dotted path into the payload, e.g. ``values[3].values[0].gender``.
    """

    def __init__(self, message: str, *, url: str, field: str, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.url = url
        self.field = field


class StoreError(TillitError):
    """The local store (Parquet files under TILLIT_HOME) could not be read or written."""


class StoreLockedError(StoreError):
    """Another process holds the store's write lock."""
