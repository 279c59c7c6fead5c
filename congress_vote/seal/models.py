"""Key cards: the public halves only. The secrets exist only on the printed card."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import utcnow
from ..extensions import Model


class KeyCard(Model):
    """One printed key card of a counting committee member in one congress.

    Printing again adds a row: the member's newest row is their current card (it receives the
    shares of the polls sealed after it and must sign from then on); older rows stay, since the
    polls sealed before still hold shares encrypted to them and signatures made with them."""

    __tablename__ = "key_card"

    id: Mapped[int] = mapped_column(primary_key=True)
    congress_id: Mapped[int] = mapped_column(
        ForeignKey("congress.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    opening_public: Mapped[bytes] = mapped_column(LargeBinary(32))  # X25519
    signing_public: Mapped[bytes] = mapped_column(LargeBinary(32))  # Ed25519
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


# ---- the sealed box (seal/sealing.py, seal/opening.py; docs/sealed-box.md) -------------------
#
# - ``sealed_ballot``: one tablet ballot sealed to its poll's box key, under a random id, and
#   nothing else: no token, no time, no sequence (on SQLite a WITHOUT ROWID table, so no hidden
#   rowid keeps the casting order). Deleted by the opening.
# - ``box_share``: the box's private key's share for one member's key card, encrypted to that
#   card's opening key. Deleted by the opening.
# - ``poll_tracker``: the trackers of the sealed ballots a poll's opening found, kept for the
#   board and the digest; they were sorted when written and carry no ballot id.


class SealedBallot(Model):
    __tablename__ = "sealed_ballot"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, not sequential
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    ciphertext: Mapped[bytes] = mapped_column(LargeBinary)

    __table_args__ = ({"sqlite_with_rowid": False},)


class BoxShare(Model):
    __tablename__ = "box_share"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True
    )
    key_card_id: Mapped[int] = mapped_column(ForeignKey("key_card.id"), primary_key=True)
    share: Mapped[bytes] = mapped_column(LargeBinary)


class PollTracker(Model):
    __tablename__ = "poll_tracker"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True
    )
    tracker: Mapped[str] = mapped_column(String(24), primary_key=True)
