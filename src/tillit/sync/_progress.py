"""How long-running library work reports progress, without knowing about terminals."""

from __future__ import annotations

from typing import Protocol

__all__ = ["NullProgress", "Progress"]


class Progress(Protocol):
    """Receives progress of one stage at a time. The CLI draws it as a Rich progress bar."""

    def stage(self, description: str, total: int | None) -> None:
        """A new stage begins; ``total`` units of work (None: unknown)."""

    def advance(self, steps: int = 1, *, rows: int = 0) -> None:
        """``steps`` units of the current stage are done, having moved ``rows`` values."""

    def note(self, text: str) -> None:
        """A line for the user (e.g. "resuming an interrupted sync")."""


class NullProgress:
    """Progress that goes nowhere (library use, tests)."""

    def stage(self, description: str, total: int | None) -> None:
        pass

    def advance(self, steps: int = 1, *, rows: int = 0) -> None:
        pass

    def note(self, text: str) -> None:
        pass
