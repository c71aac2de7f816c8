"""Which way is better for a KPI: higher, lower, neither, or unknown."""

from __future__ import annotations

import enum


class Polarity(enum.StrEnum):
    """Direction in which a KPI's value is better. ``UNKNOWN`` is the honest default."""

    HIGHER = "higher"
    LOWER = "lower"
    NEITHER = "neither"
    UNKNOWN = "unknown"

    @property
    def sign(self) -> int:
        """+1 when higher is better, -1 when lower is better, 0 otherwise."""
        return {"higher": 1, "lower": -1}.get(self.value, 0)

    @property
    def label(self) -> str:
        """Swedish wording for tables and pages."""
        return {
            "higher": "högre är bättre",
            "lower": "lägre är bättre",
            "neither": "varken högre eller lägre är bättre",
            "unknown": "okänt vilket håll som är bättre",
        }[self.value]
