"""Stored trial evaluations: one evaluation, kept, so that the command line and the web reuse
each other's results instead of computing a synthetic control again.

A row is one KPI of one trial evaluated once, as JSON (``payload``, written and read by the
query layer's codec; the bank does not look inside). ``key`` is what makes it that
evaluation: a hash, made by the caller, of the store's state, the trial and its version, the
KPI and the other KPIs judged with it (their Holm family, each with the units left out of its
donors), the donor pool's size, the significance level, the predictors and the method's
version. A row whose key is asked for is the evaluation; any other is not. ``store_state``,
``trial_version`` and ``method_version`` are kept beside the key so that the trials list can
show the latest verdicts without computing a key, and so that rows made stale by a sync, an
edit or a new method are pruned when a new one is written for the same trial and KPI.

The rows hang on their trial (``ON DELETE CASCADE``): deleting a trial removes them. They are
derived data, so the bank's export leaves them out (``tillit.bank._transfer``)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Integer, String, Text, and_, delete, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, mapped_column

from tillit.bank._base import BankBase, utc, utcnow
from tillit.bank._models import Base, _now

__all__ = [
    "NewEvaluation",
    "StoredEvaluation",
    "StoredEvaluations",
    "StoredVerdict",
    "TrialEvaluationRow",
]


class TrialEvaluationRow(Base):
    """One KPI of one trial evaluated, as the query layer's JSON (see the module)."""

    __tablename__ = "trial_evaluations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("trials.id", ondelete="CASCADE"), index=True)
    trial_version: Mapped[int] = mapped_column(Integer)
    kpi: Mapped[str] = mapped_column(String(16))
    store_state: Mapped[str] = mapped_column(String(64))
    method_version: Mapped[str] = mapped_column(String(32))
    #: The verdict's kind and label (None: refused), for the trials list.
    verdict: Mapped[str | None] = mapped_column(String(40))
    label: Mapped[str] = mapped_column(String(200))
    payload: Mapped[str] = mapped_column(Text)
    computed_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)


@dataclass(frozen=True)
class StoredEvaluation:
    """A stored evaluation of one KPI: its JSON and when it was computed."""

    trial_id: int
    kpi: str
    key: str
    payload: str
    computed_at: datetime


@dataclass(frozen=True)
class StoredVerdict:
    """The latest stored verdict of one KPI of a trial (``verdict`` None: refused)."""

    trial_id: int
    kpi: str
    verdict: str | None
    label: str
    computed_at: datetime


@dataclass(frozen=True)
class NewEvaluation:
    """One KPI's evaluation to store (see :meth:`StoredEvaluations.store_evaluations`)."""

    kpi: str
    key: str
    verdict: str | None
    label: str
    payload: str


class StoredEvaluations(BankBase):
    """The bank's part for stored trial evaluations. Not audited: they are derived data,
    computed again from the store whenever they are missing."""

    def stored_evaluations(self, keys: Sequence[str]) -> dict[str, StoredEvaluation]:
        """The stored evaluations with these keys, by key (missing keys are not in it)."""
        if not keys:
            return {}
        with self.sessions() as session:
            rows = session.scalars(
                select(TrialEvaluationRow).where(TrialEvaluationRow.key.in_(list(keys)))
            )
            return {
                r.key: StoredEvaluation(r.trial_id, r.kpi, r.key, r.payload, utc(r.computed_at))
                for r in rows
            }

    def store_evaluations(
        self,
        trial_id: int,
        trial_version: int,
        store_state: str,
        method_version: str,
        evaluations: Iterable[NewEvaluation],
    ) -> int:
        """Store one trial's evaluations (a row with the same key is replaced) and prune the
        rows of the same trial and KPIs made for another version of the trial, another
        state of the store or another method. Returns the rows written; 0 when the trial is
        gone (deleted meanwhile) or another writer stored the same keys first."""
        items = list(evaluations)
        if not items:
            return 0
        kpis = sorted({e.kpi for e in items})
        stale = or_(
            TrialEvaluationRow.trial_version != trial_version,
            TrialEvaluationRow.store_state != store_state,
            TrialEvaluationRow.method_version != method_version,
        )
        now = utcnow()
        try:
            with self.transaction() as session:
                session.execute(
                    delete(TrialEvaluationRow)
                    .where(
                        TrialEvaluationRow.trial_id == trial_id,
                        or_(
                            TrialEvaluationRow.key.in_([e.key for e in items]),
                            and_(TrialEvaluationRow.kpi.in_(kpis), stale),
                        ),
                    )
                    .execution_options(synchronize_session=False)
                )
                session.add_all(
                    TrialEvaluationRow(
                        key=e.key,
                        trial_id=trial_id,
                        trial_version=trial_version,
                        kpi=e.kpi,
                        store_state=store_state,
                        method_version=method_version,
                        verdict=e.verdict,
                        label=e.label[:200],
                        payload=e.payload,
                        computed_at=now,
                    )
                    for e in items
                )
        except IntegrityError:
            # The trial was deleted meanwhile, or another process stored the same keys
            # first: either way there is nothing to add.
            return 0
        return len(items)

    def stored_verdicts(
        self,
        trials: Iterable[tuple[int, int]],
        store_state: str,
        method_version: str,
        keys: Iterable[str] | None = None,
    ) -> dict[tuple[int, str], StoredVerdict]:
        """The latest stored verdict per (trial, KPI) for ``trials`` (id, version) at this
        state of the store and version of the method, only rows with one of ``keys`` when
        given (the settings a list shows); nothing is computed."""
        versions = dict(trials)
        if not versions:
            return {}
        wanted = None if keys is None else list(keys)
        with self.sessions() as session:
            rows = session.execute(
                select(
                    TrialEvaluationRow.trial_id,
                    TrialEvaluationRow.trial_version,
                    TrialEvaluationRow.key,
                    TrialEvaluationRow.kpi,
                    TrialEvaluationRow.verdict,
                    TrialEvaluationRow.label,
                    TrialEvaluationRow.computed_at,
                )
                .where(
                    TrialEvaluationRow.trial_id.in_(list(versions)),
                    TrialEvaluationRow.store_state == store_state,
                    TrialEvaluationRow.method_version == method_version,
                )
                .order_by(TrialEvaluationRow.computed_at, TrialEvaluationRow.id)
            )
            out: dict[tuple[int, str], StoredVerdict] = {}
            for trial_id, version, key, kpi, verdict, label, at in rows:
                if wanted is not None and key not in wanted:
                    continue
                if versions.get(trial_id) == version:
                    out[(trial_id, kpi)] = StoredVerdict(trial_id, kpi, verdict, label, utc(at))
            return out

    def forget_evaluations(self, trial_id: int | None = None) -> int:
        """Delete the stored evaluations of one trial (or of all); the number deleted."""
        with self.transaction() as session:
            query = delete(TrialEvaluationRow)
            if trial_id is not None:
                query = query.where(TrialEvaluationRow.trial_id == trial_id)
            result = session.execute(query.execution_options(synchronize_session=False))
            return int(getattr(result, "rowcount", 0) or 0)
