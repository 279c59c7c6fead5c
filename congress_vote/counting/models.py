"""Stored results and the counting committee's signatures."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import utcnow
from ..extensions import Model


class PollResult(Model):
    """The current count of a poll (the rules engine's result as JSON, with names) and its
    digest. A recount replaces it and clears the signatures. While the poll is `counted` it is
    the result the committee signs; if a late paper ballot is counted the poll goes back to
    `closed` and this row is stale until the next count."""

    __tablename__ = "poll_result"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True
    )
    data: Mapped[str] = mapped_column(Text)
    digest: Mapped[str] = mapped_column(String(64))
    counted_at: Mapped[datetime] = mapped_column(default=utcnow)
    counted_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    # Minutes section 6: complaints and how they were settled (free text, entered by a counter).
    complaints: Mapped[str | None] = mapped_column(Text)
    # When the last required signature certified the result (the minutes are closed then).
    certified_at: Mapped[datetime | None]


class Signoff(Model):
    """A committee member's signature on one result digest: Ed25519 over the message of
    ``seal.signing.signoff_message`` with the signing key of the member's card `key_card_id`
    (None only for sign-offs made before key cards existed)."""

    __tablename__ = "signoff"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), primary_key=True)
    digest: Mapped[str] = mapped_column(String(64))
    signed_at: Mapped[datetime] = mapped_column(default=utcnow)
    key_card_id: Mapped[int | None] = mapped_column(ForeignKey("key_card.id"))
    signature: Mapped[bytes | None] = mapped_column(LargeBinary(64))


class PaperReturn(Model):
    """The unused paper ballots the counting committee collected back after the close (counted
    by hand and sealed). Recorded before any paper ballot is entered; may be corrected until
    the first entry exists, then frozen. Paper entries are refused beyond issued − unused."""

    __tablename__ = "paper_return"

    poll_id: Mapped[int] = mapped_column(
        ForeignKey("poll.id", ondelete="CASCADE"), primary_key=True
    )
    unused: Mapped[int]
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
