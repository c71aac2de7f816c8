"""The tables of consultations (remisser), on the bank's one ``Base``: a remiss (the referred
document, its ministry, deadline and owner), its proposals, its consulted bodies
(remissinstanser), the responses (remissvar) with their extracted text, and each response's
stances per proposal, each tied to an exact quote of the text.

Migration 0010 creates them. ``deadline`` is an ISO date string (``2019-03-12``), not a
``Date`` column: the bank's JSON Lines export writes every value as it is read, and an ISO
string sorts as a date and survives the round trip on both databases."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from tillit.bank._models import Base, Organisation, _now

#: What a consulted body is: a municipality, a region, a government agency or another
#: organisation. Matched bodies take theirs from the bank's organisation.
BODY_KINDS: tuple[str, ...] = ("kommun", "region", "myndighet", "organisation")


class Remiss(Base):
    """A consultation: the referred document (``document``, e.g. "SOU 2018:47"), its title,
    the ministry (departement) that sent it, its diarienummer, the last day to answer
    (``deadline``, ISO date or None) and, for an imported page, its address (``url``,
    unique: a re-import updates). ``organisation_id`` is the owner whose editors work on
    it; None (an imported page) leaves it to admins until one is named."""

    __tablename__ = "remisser"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="RESTRICT"), index=True
    )
    document: Mapped[str] = mapped_column(String(300), default="", index=True)
    title: Mapped[str] = mapped_column(String(1000))
    ministry: Mapped[str] = mapped_column(String(200), default="")
    diarienummer: Mapped[str] = mapped_column(String(100), default="")
    deadline: Mapped[str | None] = mapped_column(String(10))  # ISO date
    url: Mapped[str | None] = mapped_column(String(1000), unique=True)
    source: Mapped[str] = mapped_column(String(50), default="")  # "g0vse" for an imported page
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    created_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    organisation: Mapped[Organisation | None] = relationship()
    proposals: Mapped[list[RemissProposal]] = relationship(
        cascade="all, delete-orphan", order_by="RemissProposal.position"
    )
    bodies: Mapped[list[RemissBody]] = relationship(
        cascade="all, delete-orphan", order_by="RemissBody.position"
    )


class RemissProposal(Base):
    """A proposal of the referred document: its section number (``key``, "7.1"; unique
    within the remiss) and heading."""

    __tablename__ = "remiss_proposals"
    __table_args__ = (UniqueConstraint("remiss_id", "key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    remiss_id: Mapped[int] = mapped_column(
        ForeignKey("remisser.id", ondelete="CASCADE"), index=True
    )
    key: Mapped[str] = mapped_column(String(50))
    heading: Mapped[str] = mapped_column(String(1000), default="")
    position: Mapped[int] = mapped_column(Integer)


class RemissBody(Base):
    """A consulted body (remissinstans) as the remiss names it, and the organisation of the
    bank it was matched to (None when none was)."""

    __tablename__ = "remiss_bodies"
    __table_args__ = (UniqueConstraint("remiss_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    remiss_id: Mapped[int] = mapped_column(
        ForeignKey("remisser.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(500))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # one of BODY_KINDS

    organisation: Mapped[Organisation | None] = relationship()


class RemissResponse(Base):
    """A response (remissvar): who answered (as written, and the organisation matched or
    chosen), the file, and its extracted text with the page ranges (``pages``:
    ``[[page, start, end], …]``). ``needs_ocr``: a PDF without a text layer."""

    __tablename__ = "remiss_responses"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    remiss_id: Mapped[int] = mapped_column(
        ForeignKey("remisser.id", ondelete="CASCADE"), index=True
    )
    respondent_name: Mapped[str] = mapped_column(String(500), default="")
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    file_name: Mapped[str] = mapped_column(String(500), default="")
    format: Mapped[str] = mapped_column(String(16), default="")
    text: Mapped[str] = mapped_column(Text, default="")
    pages: Mapped[list[Any]] = mapped_column(JSON, default=list)
    needs_ocr: Mapped[bool] = mapped_column(Boolean, default=False)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    uploaded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)

    organisation: Mapped[Organisation | None] = relationship()
    stances: Mapped[list[RemissStance]] = relationship(
        cascade="all, delete-orphan", order_by=lambda: [RemissStance.quote_start, RemissStance.id]
    )


class RemissStance(Base):
    """One stance of a response: on a proposal (``proposal_key``, and ``proposal_id`` while
    the proposal exists) or on the whole remiss (None), with its quote (exactly
    ``text[quote_start:quote_end]`` of the response) and page. ``source`` says who made it
    (``extracted`` by the rules, or a ``reviewer``); ``confirmed`` that a person checked it.
    A rejected extracted stance is kept (``rejected``) so that a re-extraction does not
    bring it back; it is no part of the response any more."""

    __tablename__ = "remiss_stances"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    response_id: Mapped[int] = mapped_column(
        ForeignKey("remiss_responses.id", ondelete="CASCADE"), index=True
    )
    proposal_id: Mapped[int | None] = mapped_column(
        ForeignKey("remiss_proposals.id", ondelete="SET NULL"), index=True
    )
    proposal_key: Mapped[str | None] = mapped_column(String(50))
    stance: Mapped[str] = mapped_column(String(20))
    quote: Mapped[str] = mapped_column(Text)
    quote_start: Mapped[int] = mapped_column(Integer)
    quote_end: Mapped[int] = mapped_column(Integer)
    page: Mapped[int | None] = mapped_column(Integer)
    basis: Mapped[str] = mapped_column(String(20))
    confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    source: Mapped[str] = mapped_column(String(16))  # "extracted" | "reviewer"
    rejected: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=_now)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    version: Mapped[int] = mapped_column(Integer, default=1)
