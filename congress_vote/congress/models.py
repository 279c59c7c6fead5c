"""Congresses, branches and delegates."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import utcnow
from ..extensions import Model


class Congress(Model):
    """One congress (Đại hội). Several can live in one installation."""

    __tablename__ = "congress"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    organisation: Mapped[str] = mapped_column(String(300), default="")
    term: Mapped[str] = mapped_column(String(50), default="")
    venue: Mapped[str] = mapped_column(String(300), default="")
    starts_on: Mapped[date | None]
    ends_on: Mapped[date | None]
    kind: Mapped[str] = mapped_column(String(20), default="members")  # members | delegates
    quorum_fraction: Mapped[str] = mapped_column(String(20), default="2/3")
    # Casts and named votes only from enrolled kiosks (congress/kiosks.py).
    kiosk_only: Mapped[bool] = mapped_column(default=True, server_default=true())
    # IANA zone of every time printed or shown for this congress (i18n/formats.py); never UTC.
    time_zone: Mapped[str] = mapped_column(
        String(64), default="Asia/Ho_Chi_Minh", server_default="Asia/Ho_Chi_Minh"
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    branches: Mapped[list[Branch]] = relationship(back_populates="congress", order_by="Branch.name")

    __table_args__ = (CheckConstraint("kind in ('members', 'delegates')", name="kind"),)


class Branch(Model):
    """A branch (chi bộ) or delegation."""

    __tablename__ = "branch"

    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(ForeignKey("congress.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(300))

    congress: Mapped[Congress] = relationship(back_populates="branches")

    __table_args__ = (UniqueConstraint("congress_id", "name", name="uq_branch_congress_name"),)


class Delegate(Model):
    """A summoned delegate. Only full members vote (`can_vote`).

    The card secret is never stored: it is HMAC(SECRET_KEY, congress, delegate, card_nonce) and
    the database keeps only SHA-256 of the normalised card code; a new nonce cancels a lost card.
    """

    __tablename__ = "delegate"

    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(ForeignKey("congress.id", ondelete="CASCADE"))
    code: Mapped[str] = mapped_column(String(50))
    full_name: Mapped[str] = mapped_column(String(200))
    sort_key: Mapped[str] = mapped_column(String(400))  # i18n.collation.name_sort_key
    branch_id: Mapped[int | None] = mapped_column(ForeignKey("branch.id", ondelete="SET NULL"))
    membership: Mapped[str] = mapped_column(String(20))  # full | probationary
    gender: Mapped[str | None] = mapped_column(String(10))
    birth_year: Mapped[int | None]
    position: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(20), default="absent")  # absent|present|excused
    absence_reason: Mapped[str | None] = mapped_column(Text)
    # When the delegate was (last) checked in; None while absent or excused.
    checked_in_at: Mapped[datetime | None]
    card_nonce: Mapped[str] = mapped_column(String(32))
    card_hash: Mapped[str] = mapped_column(String(64), unique=True)

    congress: Mapped[Congress] = relationship()
    branch: Mapped[Branch | None] = relationship()

    __table_args__ = (
        UniqueConstraint("congress_id", "code", name="uq_delegate_congress_code"),
        Index("ix_delegate_congress_sort", "congress_id", "sort_key"),
        CheckConstraint("membership in ('full', 'probationary')", name="membership"),
        CheckConstraint("status in ('absent', 'present', 'excused')", name="status"),
    )

    @property
    def can_vote(self) -> bool:
        return self.membership == "full"

    @property
    def branch_name(self) -> str:
        return self.branch.name if self.branch else ""


class Kiosk(Model):
    """An enrolled voting device of a congress (congress/kiosks.py). The device holds a random
    token (cookie or X-Kiosk-Token); only its SHA-256 is stored. It belongs to the congress:
    `enrolled_by` is kept for the audit only, and the user's logout or deactivation does not
    touch it; `revoked_at` ends it."""

    __tablename__ = "kiosk"

    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(
        ForeignKey("congress.id", ondelete="CASCADE"), index=True
    )
    label: Mapped[str] = mapped_column(String(100))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    enrolled_at: Mapped[datetime] = mapped_column(default=utcnow)
    enrolled_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    revoked_at: Mapped[datetime | None]
