"""The review of a response's stances: confirm, correct, add and delete. Every change is
audited with the stance before and after; every stance has a version, and a stale one is a
ConflictError. A confirmed or corrected stance, or one a reviewer added, is kept by every
later re-extraction; a deleted extracted stance is kept as rejected so that none brings it
back."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from tillit.bank._base import utcnow
from tillit.bank._models import User
from tillit.bank._records import UserRecord
from tillit.bank._remiss_models import RemissResponse, RemissStance
from tillit.bank._remiss_records import StanceInput, StanceRecord, stale
from tillit.bank._remiss_responses import RemissResponses, _stance_data, _stance_record
from tillit.errors import InvalidInputError, NotFoundError

__all__ = ["RemissReview"]


class RemissReview(RemissResponses):
    """Responses, and the review of their stances (a part of :class:`~tillit.bank.Remisser`)."""

    def _stance_for_review(
        self, session: Session, user: User | None, stance_id: int, expected: int
    ) -> tuple[RemissStance, RemissResponse]:
        stance = session.get(RemissStance, stance_id)
        if stance is None or stance.rejected:
            raise NotFoundError(
                f"Ställningstagandet {stance_id} finns inte.", hint="Läs in svaret igen."
            )
        response = self._load_response(session, stance.response_id)
        self._check_writer(session, user, response.remiss_id)
        if stance.version != expected:
            raise stale(f"Ställningstagandet {stance_id}", expected, stance.version)
        return stance, response

    def _review(
        self,
        actor: UserRecord | None,
        stance_id: int,
        expected: int,
        action: str,
        changes: Mapping[str, Any],
    ) -> StanceRecord:
        with self.transaction() as session:
            user = self._actor(session, actor)
            stance, response = self._stance_for_review(session, user, stance_id, expected)
            before = _stance_data(stance)
            wanted = {**before, **changes}
            if {"quote", "start", "end"} & set(changes) or {"proposal_key", "stance", "page"} & set(
                changes
            ):
                [checked] = self._new_stances(
                    session,
                    response,
                    [
                        (
                            wanted["proposal_key"],
                            wanted["stance"],
                            wanted["quote"],
                            wanted["start"],
                            wanted["end"],
                            wanted.get("page") if "page" in changes else None,
                            wanted["basis"],
                        )
                    ],
                    "reviewer",
                    user,
                )
                stance.proposal_id, stance.proposal_key = checked.proposal_id, checked.proposal_key
                stance.stance, stance.quote = checked.stance, checked.quote
                stance.quote_start, stance.quote_end = checked.quote_start, checked.quote_end
                stance.page, stance.basis = checked.page, checked.basis
            if action == "remiss.stance.correct":
                stance.source = "reviewer"
            stance.confirmed = True
            stance.updated_at, stance.updated_by = utcnow(), user.id if user else None
            session.flush()
            self._claim(
                session, RemissStance, stance_id, expected, f"Ställningstagandet {stance_id}"
            )
            after = _stance_data(stance)
            self._audit(
                session,
                user,
                action,
                "remiss_stance",
                stance_id,
                response_id=response.id,
                version=expected + 1,
                old=before,
                new=after,
            )
            session.flush()
            session.refresh(stance)
            return _stance_record(stance)

    def confirm_stance(
        self, actor: UserRecord | None, stance_id: int, expected_version: int
    ) -> StanceRecord:
        """A person checked the stance and it is right: it is kept from now on."""
        return self._review(actor, stance_id, expected_version, "remiss.stance.confirm", {})

    def correct_stance(
        self,
        actor: UserRecord | None,
        stance_id: int,
        expected_version: int,
        changes: Mapping[str, Any],
    ) -> StanceRecord:
        """Correct a stance: any of ``stance``, ``proposal_key`` (None: the whole remiss),
        ``quote``/``start``/``end`` (together) and ``page``. It becomes the reviewer's,
        confirmed; the audit entry keeps the old and new stance."""
        unknown = sorted(set(changes) - {"stance", "proposal_key", "quote", "start", "end", "page"})
        if unknown:
            raise InvalidInputError(f"Okänt fält: {', '.join(unknown)}.")
        if {"quote", "start", "end"} & set(changes) and not {"quote", "start", "end"} <= set(
            changes
        ):
            raise InvalidInputError(
                "quote, start och end ändras tillsammans.",
                hint="Ange hela det nya citatet med sin plats i texten.",
            )
        extra = {"basis": "reviewer"} if "proposal_key" in changes else {}
        return self._review(
            actor, stance_id, expected_version, "remiss.stance.correct", {**changes, **extra}
        )

    def add_stance(
        self, actor: UserRecord | None, response_id: int, stance: StanceInput | Mapping[str, Any]
    ) -> StanceRecord:
        """A stance the extraction missed, added by a reviewer (confirmed)."""
        with self.transaction() as session:
            user = self._actor(session, actor)
            response = self._load_response(session, response_id)
            self._check_writer(session, user, response.remiss_id)
            [new] = self._new_stances(session, response, [stance], "reviewer", user)
            response.stances.append(new)
            session.flush()
            self._audit(
                session,
                user,
                "remiss.stance.add",
                "remiss_stance",
                new.id,
                response_id=response_id,
                new=_stance_data(new),
            )
            return _stance_record(new)

    def delete_stance(
        self, actor: UserRecord | None, stance_id: int, expected_version: int
    ) -> None:
        """Remove a wrong stance. An extracted one is kept as rejected, so that a
        re-extraction does not bring it back; a reviewer's is deleted."""
        with self.transaction() as session:
            user = self._actor(session, actor)
            stance, response = self._stance_for_review(session, user, stance_id, expected_version)
            last = _stance_data(stance)
            if stance.source == "extracted":
                self._claim(
                    session,
                    RemissStance,
                    stance_id,
                    expected_version,
                    f"Ställningstagandet {stance_id}",
                )
                session.execute(
                    update(RemissStance)
                    .where(RemissStance.id == stance_id)
                    .values(
                        rejected=True,
                        confirmed=False,
                        updated_at=utcnow(),
                        updated_by=user.id if user else None,
                    )
                    .execution_options(synchronize_session=False)
                )
            else:
                session.delete(stance)
            self._audit(
                session,
                user,
                "remiss.stance.delete",
                "remiss_stance",
                stance_id,
                response_id=response.id,
                last=last,
            )
