"""Polls: committee elections, delegate slates and resolutions."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import utcnow
from ..extensions import Model

POLL_KINDS = ("committee", "slate", "resolution")


class Poll(Model):
    """One vote of the congress. `rules` is the JSON of the rules preset and its overrides;
    `setup_fingerprint` is fixed when the poll opens and printed on its slips."""

    __tablename__ = "poll"

    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(
        ForeignKey("congress.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20), default="draft")
    round: Mapped[int] = mapped_column(default=1)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("poll.id"))
    seats: Mapped[int] = mapped_column(default=1)
    alternate_seats: Mapped[int] = mapped_column(default=0)
    secrecy: Mapped[str] = mapped_column(String(10), default="secret")  # secret | open
    rules: Mapped[str] = mapped_column(Text, default="{}")
    agenda_order: Mapped[int] = mapped_column(default=0)
    setup_fingerprint: Mapped[str | None] = mapped_column(String(64))
    # Attendance figures (JSON) frozen when the poll closes: the count uses the hall as it was.
    attendance: Mapped[str | None] = mapped_column(Text)
    # The sealed box (secret polls opened since migration 0008): its X25519 public key and how
    # many members' opening codes open it (seal/box.py, docs/sealed-box.md).
    seal_public: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    seal_threshold: Mapped[int | None]
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    candidates: Mapped[list[Candidate]] = relationship(
        back_populates="poll", order_by="Candidate.ballot_order", cascade="all, delete-orphan"
    )
    items: Mapped[list[PollItem]] = relationship(
        back_populates="poll", order_by="PollItem.position", cascade="all, delete-orphan"
    )
    committee: Mapped[list[CommitteeMember]] = relationship(
        back_populates="poll", cascade="all, delete-orphan"
    )

    __table_args__ = (
        CheckConstraint("kind in ('committee', 'slate', 'resolution')", name="kind"),
        CheckConstraint(
            "status in ('draft', 'open', 'closed', 'counted', 'certified', 'published')",
            name="status",
        ),
        CheckConstraint("secrecy in ('secret', 'open')", name="secrecy"),
        CheckConstraint("seats >= 0 and alternate_seats >= 0", name="seats"),
    )


class Candidate(Model):
    """A name on the ballot. `position` is the candidate's job title, as in the API."""

    __tablename__ = "candidate"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    full_name: Mapped[str] = mapped_column(String(200))
    position: Mapped[str] = mapped_column(String(200), default="")
    ballot_order: Mapped[int] = mapped_column(default=0)
    delegate_id: Mapped[int | None] = mapped_column(ForeignKey("delegate.id", ondelete="SET NULL"))
    # The candidacy of an earlier round that this one continues (a further round copies its
    # candidates): rounds match a person by it, never by name (namesakes; counting/rounds.py).
    origin_id: Mapped[int | None] = mapped_column(ForeignKey("candidate.id", ondelete="SET NULL"))

    poll: Mapped[Poll] = relationship(back_populates="candidates")

    @property
    def person_id(self) -> int:
        """One person's id across the rounds of an election: the first candidacy's id."""
        return self.origin_id or self.id


class PollItem(Model):
    """One item of a resolution vote."""

    __tablename__ = "poll_item"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    text: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(default=0)

    poll: Mapped[Poll] = relationship(back_populates="items")


class CommitteeMember(Model):
    """A member of the poll's counting committee (a staff user who is not a candidate)."""

    __tablename__ = "committee_member"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    is_head: Mapped[bool] = mapped_column(Boolean, default=False)

    poll: Mapped[Poll] = relationship(back_populates="committee")
