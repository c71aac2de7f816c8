"""Trials (försök): register, edit with optimistic locking, delete, read.

A trial is a change one municipality or region made from ``start_year`` on (the first treated year),
with the KPIs it expects to move and in which direction. Trials are public: anyone, also an
anonymous visitor, reads them, because pre-registration is about openness. Registering,
editing and deleting are for the owning organisation's editors and for admins.

Pre-registration is made visible, not enforced. Each KPI keeps when it was registered and
``data_through``, the last year the store held a value of it for the municipality then
(the caller reads the store; the bank cannot). When ``data_through >= start_year`` the
outcome of a treated year was already known, and the record says so (``results_known``).
Editing keeps that honest: a KPI kept as it was keeps its stamp; a new KPI, or one whose
direction changes, is stamped now; a new start year re-stamps every KPI."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session, selectinload

from tillit.bank._base import BankBase, utc, utcnow
from tillit.bank._examples import MAX_PAGE, can_see, can_write
from tillit.bank._models import Example, Organisation, Trial, TrialKpi, User
from tillit.bank._records import TrialKpiRecord, TrialRecord, UserRecord
from tillit.bank._validate import clean_data_through, clean_trial, field_error, is_region_code
from tillit.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError

__all__ = ["Trials", "trial_record", "trial_snapshot"]

_SCALARS = ("title", "description", "start_year", "example_id")


def trial_record(trial: Trial, user: User | None) -> TrialRecord:
    """The trial as ``user`` sees it: a linked example they may not see (a draft) is shown
    as no link, so that its existence does not leak."""
    example = trial.example
    shown = example is not None and can_see(user, example)
    return TrialRecord(
        id=trial.id,
        organisation_id=trial.organisation_id,
        organisation_code=trial.organisation.code,
        organisation_name=trial.organisation.name,
        municipality=trial.municipality,
        title=trial.title,
        description=trial.description,
        start_year=trial.start_year,
        example_id=example.id if shown and example is not None else None,
        example_title=example.title if shown and example is not None else None,
        kpis=tuple(
            TrialKpiRecord(
                kpi=k.kpi,
                direction=k.direction,
                registered_at=utc(k.registered_at),
                data_through=k.data_through,
                results_known=k.data_through is not None and k.data_through >= trial.start_year,
            )
            for k in sorted(trial.kpis, key=lambda k: k.kpi)
        ),
        registered_at=utc(trial.registered_at),
        registered_by=trial.registered_by,
        updated_at=utc(trial.updated_at),
        version=trial.version,
    )


def trial_snapshot(trial: Trial) -> dict[str, Any]:
    """The whole trial as JSON for the audit log (times ISO, the example link as stored)."""
    return {
        "id": trial.id,
        "organisation_id": trial.organisation_id,
        "municipality": trial.municipality,
        "title": trial.title,
        "description": trial.description,
        "start_year": trial.start_year,
        "example_id": trial.example_id,
        "kpis": _kpi_snapshot(trial.kpis),
        "registered_at": utc(trial.registered_at).isoformat(),
        "registered_by": trial.registered_by,
        "version": trial.version,
    }


def _kpi_snapshot(kpis: Iterable[TrialKpi]) -> list[dict[str, Any]]:
    return [
        {
            "kpi": k.kpi,
            "direction": k.direction,
            "registered_at": utc(k.registered_at).isoformat(),
            "data_through": k.data_through,
        }
        for k in sorted(kpis, key=lambda k: k.kpi)
    ]


def _through(data_through: dict[str, int | None], kpis: Iterable[str]) -> None:
    """Every KPI about to be stamped must be in ``data_through`` (None is an answer: no
    value); a missing one would hide whether the results were known."""
    for kpi in kpis:
        if kpi not in data_through:
            raise field_error(
                f"data_through.{kpi}",
                "saknas: det senaste år lagret har ett värde för nyckeltalet i kommunen eller "
                "regionen.",
                "Läs det ur lagret (None om det inte finns något värde) och försök igen.",
            )


def _check_owner(owner: Organisation, unit: str) -> None:
    """Whose trial it may be. A municipality's trials are its own. A region registers
    trials for itself, and may run trials in municipalities (as may another organisation,
    SKR or a research group), but not for another region: a region's own results are that
    region's to claim."""
    if not owner.code:
        return
    if owner.kind == "kommun" and owner.code != unit:
        raise field_error(
            "municipality",
            f"{owner.name} kan bara registrera försök i sin egen kommun ({owner.code}).",
            "Låt kommunen eller regionen registrera försöket, eller registrera det för en "
            "annan organisation som driver det.",
        )
    if owner.kind == "region" and is_region_code(unit) and owner.code != unit:
        raise field_error(
            "municipality",
            f"{owner.name} kan registrera försök för sig själv ({owner.code}) och i kommuner, "
            f"men inte för en annan region ({unit}).",
            "Låt den regionen registrera försöket, eller registrera det för en annan "
            "organisation som driver det.",
        )


class Trials(BankBase):
    def _load_trial(self, session: Session, trial_id: int) -> Trial | None:
        return session.scalar(
            select(Trial)
            .where(Trial.id == trial_id)
            .options(
                selectinload(Trial.kpis),
                selectinload(Trial.organisation),
                selectinload(Trial.example),
            )
        )

    def _writable_trial(self, session: Session, user: User | None, trial_id: int) -> Trial:
        trial = self._load_trial(session, trial_id)
        if trial is None:
            raise NotFoundError(f"Försöket {trial_id} finns inte.")
        if not can_write(user, trial.organisation_id):
            raise PermissionDeniedError(
                "Du får inte ändra det här försöket.",
                hint="Bara försökets organisations redaktörer och administratörer får ändra det.",
            )
        return trial

    @staticmethod
    def _check_example(session: Session, user: User | None, example_id: int) -> None:
        example = session.get(Example, example_id)
        if example is None or not can_see(user, example):
            raise field_error(
                "example_id",
                f"exemplet {example_id} finns inte.",
                "Länka till ett gott exempel som finns i banken, eller lämna fältet tomt.",
            )

    # -- writing -------------------------------------------------------------------------

    def register_trial(
        self,
        actor: UserRecord | None,
        data: Mapping[str, Any],
        data_through: Mapping[str, int | None],
    ) -> TrialRecord:
        """Register a trial (version 1). ``data`` has ``municipality``, ``title``,
        ``description``, ``start_year``, ``kpis`` (``[{"kpi", "direction"}]``, at least one)
        and optionally ``example_id`` and ``organisation_id`` (the owner; an editor's own by
        default, another only for admins). ``data_through`` gives, per KPI, the last year
        the store holds a value for the municipality (None: no value); every KPI must be in
        it. Editors and admins only."""
        fields = clean_trial(data, creating=True)
        through = clean_data_through(data_through)
        _through(through, (kpi for kpi, _ in fields["kpis"]))
        with self.transaction() as session:
            user = self._actor(session, actor)
            if user is None or user.role not in ("admin", "editor"):
                raise PermissionDeniedError(
                    "Bara redaktörer och administratörer får registrera försök.",
                    hint="Be en administratör om redaktörsbehörighet för din organisation.",
                )
            org_id = fields.get("organisation_id")
            if org_id is None:
                if user.organisation_id is None:
                    raise field_error(
                        "organisation_id", "ange vilken organisation som äger försöket."
                    )
                org_id = user.organisation_id
            elif session.get(Organisation, org_id) is None:
                raise field_error(
                    "organisation_id",
                    f"organisationen {org_id} finns inte.",
                    "Se `tillit bank organisations` eller kör `tillit bank seed`.",
                )
            if not can_write(user, org_id):
                raise PermissionDeniedError(
                    "Du får bara registrera försök för din egen organisation."
                )
            owner = session.get(Organisation, org_id)
            if owner is not None:
                _check_owner(owner, fields["municipality"])
            if fields["example_id"] is not None:
                self._check_example(session, user, fields["example_id"])
            now = utcnow()
            trial = Trial(
                organisation_id=org_id,
                municipality=fields["municipality"],
                title=fields["title"],
                description=fields["description"],
                start_year=fields["start_year"],
                example_id=fields["example_id"],
                registered_at=now,
                registered_by=user.id,
                updated_at=now,
                version=1,
            )
            trial.kpis = [
                TrialKpi(kpi=kpi, direction=direction, registered_at=now, data_through=through[kpi])
                for kpi, direction in fields["kpis"]
            ]
            session.add(trial)
            session.flush()
            session.refresh(trial)
            self._audit(
                session, user, "trial.register", "trial", trial.id, trial=trial_snapshot(trial)
            )
            return trial_record(trial, user)

    def update_trial(
        self,
        actor: UserRecord | None,
        trial_id: int,
        expected_version: int,
        changes: Mapping[str, Any],
        data_through: Mapping[str, int | None],
    ) -> TrialRecord:
        """Change ``title``, ``description``, ``example_id``, ``start_year`` or ``kpis``
        (the whole list). ``expected_version`` is the version the editor started from;
        ConflictError when someone saved in between. A KPI kept with the same direction
        keeps its registration; a new KPI, or one whose direction changes, is stamped now
        with ``data_through``; a new ``start_year`` re-stamps every KPI. A change that
        changes nothing writes nothing. The audit log keeps the old and new values."""
        fields = clean_trial(changes, creating=False)
        through = clean_data_through(data_through)
        with self.transaction() as session:
            user = self._actor(session, actor)
            trial = self._writable_trial(session, user, trial_id)
            if trial.version != expected_version:
                raise _stale(trial_id, expected_version, trial.version)
            changed = [n for n in _SCALARS if n in fields and fields[n] != getattr(trial, n)]
            if "example_id" in changed and fields["example_id"] is not None:
                self._check_example(session, user, fields["example_id"])
            existing = {k.kpi: k for k in trial.kpis}
            wanted = (
                dict(fields["kpis"])
                if "kpis" in fields
                else {k.kpi: k.direction for k in trial.kpis}
            )
            restart = "start_year" in changed
            stamp = sorted(
                kpi
                for kpi, direction in wanted.items()
                if restart or kpi not in existing or existing[kpi].direction != direction
            )
            removed = sorted(set(existing) - set(wanted))
            if stamp or removed:
                changed.append("kpis")
            if not changed:
                return trial_record(trial, user)
            _through(through, stamp)
            before = trial_snapshot(trial)
            now = utcnow()
            self._claim_trial(session, trial, expected_version, now)
            for name in _SCALARS:
                if name in changed:
                    setattr(trial, name, fields[name])
            for kpi in removed:
                trial.kpis.remove(existing[kpi])
            for kpi in stamp:
                row = existing.get(kpi)
                if row is None:
                    trial.kpis.append(
                        TrialKpi(
                            kpi=kpi,
                            direction=wanted[kpi],
                            registered_at=now,
                            data_through=through[kpi],
                        )
                    )
                else:
                    row.direction = wanted[kpi]
                    row.registered_at = now
                    row.data_through = through[kpi]
            session.flush()
            session.refresh(trial)
            after = trial_snapshot(trial)
            self._audit(
                session,
                user,
                "trial.update",
                "trial",
                trial.id,
                version=trial.version,
                fields=changed,
                changes={name: {"old": before[name], "new": after[name]} for name in changed},
                restamped=stamp,
            )
            return trial_record(trial, user)

    @staticmethod
    def _claim_trial(session: Session, trial: Trial, expected: int, now: datetime) -> None:
        """Raise the version only if nobody else did first: a conditional UPDATE, atomic on
        both databases (see ``Examples._claim``)."""
        result = session.execute(
            update(Trial)
            .where(Trial.id == trial.id, Trial.version == expected)
            .values(version=expected + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if getattr(result, "rowcount", 1) != 1:
            raise _stale(trial.id, expected, None)
        session.expire(trial, ["version", "updated_at"])

    def delete_trial(self, actor: UserRecord | None, trial_id: int, expected_version: int) -> None:
        """Delete a trial and its KPIs; the audit log keeps its last state."""
        with self.transaction() as session:
            user = self._actor(session, actor)
            trial = self._writable_trial(session, user, trial_id)
            if trial.version != expected_version:
                raise _stale(trial_id, expected_version, trial.version)
            last = trial_snapshot(trial)
            result = session.execute(
                delete(Trial)
                .where(Trial.id == trial_id, Trial.version == expected_version)
                .execution_options(synchronize_session=False)
            )
            if getattr(result, "rowcount", 1) != 1:
                raise _stale(trial_id, expected_version, None)
            session.expunge(trial)
            self._audit(session, user, "trial.delete", "trial", trial_id, last=last)

    # -- reading -------------------------------------------------------------------------

    def trial(self, actor: UserRecord | None, trial_id: int) -> TrialRecord:
        """One trial (public); NotFoundError when there is none with this id."""
        with self.sessions() as session:
            user = self._actor(session, actor)
            trial = self._load_trial(session, trial_id)
            if trial is None:
                raise NotFoundError(f"Försöket {trial_id} finns inte.")
            return trial_record(trial, user)

    def trials(
        self,
        actor: UserRecord | None,
        *,
        municipality: str | None = None,
        kpi: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[TrialRecord]:
        """Trials, newest registration first, of one municipality (code) and/or with one KPI.
        ``limit`` 1–500."""
        if not 1 <= limit <= MAX_PAGE:
            raise InvalidInputError(f"limit ska vara 1–{MAX_PAGE}, inte {limit}.")
        if offset < 0:
            raise InvalidInputError(f"offset ska vara 0 eller mer, inte {offset}.")
        with self.sessions() as session:
            user = self._actor(session, actor)
            query = select(Trial)
            if municipality is not None:
                query = query.where(Trial.municipality == municipality.strip())
            if kpi is not None:
                query = query.where(
                    Trial.id.in_(
                        select(TrialKpi.trial_id).where(TrialKpi.kpi == kpi.strip().upper())
                    )
                )
            rows = session.scalars(
                query.options(
                    selectinload(Trial.kpis),
                    selectinload(Trial.organisation),
                    selectinload(Trial.example),
                )
                .order_by(Trial.registered_at.desc(), Trial.id.desc())
                .limit(limit)
                .offset(offset)
            )
            return [trial_record(t, user) for t in rows]

    def trial_municipalities(self, kpi: str, *, exclude_trial: int | None = None) -> frozenset[str]:
        """The municipalities (codes) with a registered trial on ``kpi``, except the trial
        ``exclude_trial``: a synthetic control leaves them out of the donor pool."""
        with self.sessions() as session:
            query = (
                select(Trial.municipality)
                .join(TrialKpi, TrialKpi.trial_id == Trial.id)
                .where(TrialKpi.kpi == kpi.strip().upper())
            )
            if exclude_trial is not None:
                query = query.where(Trial.id != exclude_trial)
            return frozenset(session.scalars(query.distinct()))


def _stale(trial_id: int, expected: int, current: int | None) -> ConflictError:
    now = f" (nu version {current})" if current is not None else ""
    return ConflictError(
        f"Försöket {trial_id} har ändrats av någon annan sedan version {expected}{now}.",
        hint="Läs in försöket igen och gör om din ändring.",
    )
