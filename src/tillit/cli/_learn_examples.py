"""What `tillit learn` says of each learning partner's good examples, when a bank is set up:
the municipality page's rule (``tillit.query.partner_examples``): examples in the KPI's
operating area, else examples linked to the KPI, else "none yet". Imported texts (press
releases, project descriptions) are never counted."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from tillit.analyses import Finding
from tillit.config import Settings
from tillit.errors import TillitError
from tillit.query import LearnReport, partner_examples
from tillit.swedish import count

__all__ = ["partner_examples_note"]


def partner_examples_note(
    settings: Settings, report: LearnReport
) -> Callable[[str, Finding], str] | None:
    """``note(partner code, finding)`` in Swedish, or None when there is no bank to ask (none
    set up, not migrated, or unreachable): then `learn` says nothing of examples. A SQLite
    bank that does not exist is not created."""
    from tillit.bank import open_bank

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite" and not (url.database and Path(url.database).exists()):
        return None
    codes = sorted({p.municipality for f in report.learning.findings for p in f.partners})
    try:
        bank = open_bank(settings.database_url)
    except (TillitError, SQLAlchemyError):
        return None
    try:
        examples = bank.published_counts(codes)
        linked = bank.linked_counts(codes)
    except SQLAlchemyError:
        return None
    finally:
        bank.close()

    def note(code: str, finding: Finding) -> str:
        n, how = partner_examples(examples, linked, code, finding)
        if how == "area":
            return f"{count(n, 'gott exempel')} inom området i banken"
        if how == "kpi":
            return f"{count(n, 'gott exempel')} om nyckeltalet i banken"
        name = report.names.get(code, code)
        return f"inga goda exempel från {name} inom det här området ännu"

    return note
