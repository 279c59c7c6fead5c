"""Ballot tokens, cast ballots and named votes.

Secrecy (QĐ 190-QĐ/TW: secret ballot): nothing in `ballot_token` or `ballot` leads to a delegate.
Tokens are issued anonymously in batches; a token row stores only SHA-256 of the token and whether
it is unused, used or void — no time of use. A cast ballot's primary key is random (not sequential,
so ids do not reveal the order of voting) and it has no timestamp. A `ballot` row carries no column
that joins to a token, batch, kiosk, user or time: the token is consumed by its own conditional
UPDATE in the transaction that inserts the ballot, and the receipt is random (not derived from the
token). Token rows keep no print order: their key is the SHA-256 of the token, a batch's rows are
inserted in random order and on SQLite the table has no hidden sequential rowid. Named (open)
votes live in their own table, `named_vote`, which is the only one that names a delegate.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import utcnow
from ..extensions import Model


class IssueBatch(Model):
    """One issuance of N ballots (slips or full paper ballots) by a counter."""

    __tablename__ = "issue_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    count: Mapped[int]
    kind: Mapped[str] = mapped_column(String(10), default="slip")  # slip | paper
    issued_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Voided by the committee while the poll was open (a lost or spoiled print run): its unused
    # ballots became void and may be issued again (ballots/voiding.py).
    voided_at: Mapped[datetime | None] = mapped_column()
    voided_by: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    voided_count: Mapped[int | None] = mapped_column()  # the unused ballots it voided


class BallotToken(Model):
    """An issued ballot. Consumed exactly once by a conditional UPDATE ... WHERE state='unused'."""

    __tablename__ = "ballot_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    # Indexed by poll only: `state` changes on every cast, and an index holding it would be
    # rewritten (two B-tree pages) by each one; turnout counts a poll's few thousand rows.
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("issue_batch.id", ondelete="CASCADE"))
    state: Mapped[str] = mapped_column(String(10), default="unused")  # unused | used | void
    # The tracker (receipt) of the sealed ballot this token became, kept only until the box is
    # opened, so a kiosk whose answer was lost can show it again; the opening clears it.
    tracker: Mapped[str | None] = mapped_column(String(24))

    __table_args__ = (
        CheckConstraint("state in ('unused', 'used', 'void')", name="state"),
        # SQLite: no hidden sequential rowid that would keep the print order of a batch.
        {"sqlite_with_rowid": False},
    )


class Ballot(Model):
    """A counted ballot: the kept candidate ids or the answers, or an invalid reason (paper).

    `choice` is canonical JSON: {"kept": [ids]} or {"answers": {item_id: answer}}.
    """

    __tablename__ = "ballot"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # random, not sequential
    # No index of its own: uq_ballot_poll_receipt (poll_id, receipt) serves lookups by poll.
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(10), default="tablet")  # tablet | paper
    choice: Mapped[str] = mapped_column(Text, default="{}")
    invalid_reason: Mapped[str | None] = mapped_column(String(40))
    # Random (ballots.receipts), unique per poll; none on the ballots opened from a sealed box
    # (their receipts are the trackers, listed apart: seal.models.PollTracker).
    receipt: Mapped[str | None] = mapped_column(String(20))

    __table_args__ = (
        UniqueConstraint("poll_id", "receipt", name="uq_ballot_poll_receipt"),
        CheckConstraint("source in ('tablet', 'paper')", name="source"),
        # SQLite: no hidden sequential rowid that would keep the order ballots were cast in.
        {"sqlite_with_rowid": False},
    )


class NamedVote(Model):
    """A vote in an open (named) poll, unlocked by the delegate's card: one per delegate."""

    __tablename__ = "named_vote"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    delegate_id: Mapped[int] = mapped_column(ForeignKey("delegate.id", ondelete="CASCADE"))
    choice: Mapped[str] = mapped_column(Text, default="{}")
    receipt: Mapped[str] = mapped_column(String(20))
    cast_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        UniqueConstraint("poll_id", "delegate_id", name="uq_named_vote_poll_delegate"),
    )


class PaperEntry(Model):
    """One counter's entry of one paper ballot. Two agreeing entries by different counters make
    one counted Ballot (source 'paper'); disagreeing entries stay 'disputed' until settled.

    `token_hash` names the paper ballot only while its entries are compared: once the ballot is
    counted (agreed or settled) it is cleared on every entry of that ballot, so no row ties a
    paper ballot's content to its code (and through it to the batch and time of issue)."""

    __tablename__ = "paper_entry"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str | None] = mapped_column(
        ForeignKey("ballot_token.token_hash"), index=True
    )
    # The printed code (normalised), shown to the committee while the entries are compared;
    # cleared with token_hash. A paper code casts nothing (a tablet refuses it, and entries begin
    # after the close), so it tells no more than token_hash does.
    code: Mapped[str | None] = mapped_column(String(17))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    choice: Mapped[str] = mapped_column(Text, default="{}")
    invalid_reason: Mapped[str | None] = mapped_column(String(40))
    state: Mapped[str] = mapped_column(String(12), default="pending")
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("state in ('pending', 'agreed', 'disputed', 'superseded')", name="state"),
    )


class HandCount(Model):
    """Counts of a show of hands for one resolution item, entered by the counting committee."""

    __tablename__ = "hand_count"

    id: Mapped[int] = mapped_column(primary_key=True)
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"))
    item_id: Mapped[int] = mapped_column(ForeignKey("poll_item.id", ondelete="CASCADE"))
    votes_for: Mapped[int]
    votes_against: Mapped[int]
    votes_abstain: Mapped[int]
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    entered_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (UniqueConstraint("poll_id", "item_id", name="uq_hand_count_poll_item"),)


class BatchPdf(Model):
    """An issued batch's PDF (slips or paper ballots) while its poll is open, so that a lost
    download does not cost the poll: AES-GCM sealed with a key derived from SECRET_KEY and the
    batch id (ballots/batch_pdfs.py), deleted by the poll's close. Never plain text at rest."""

    __tablename__ = "batch_pdf"

    batch_id: Mapped[int] = mapped_column(
        ForeignKey("issue_batch.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    poll_id: Mapped[int] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"), index=True)
    sealed: Mapped[bytes] = mapped_column(LargeBinary)  # nonce (12 bytes) ‖ ciphertext ‖ tag
