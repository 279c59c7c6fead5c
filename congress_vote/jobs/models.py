"""A document made in the background (jobs/runner.py)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import utcnow
from ..extensions import Model

JOB_STATES = ("queued", "running", "done", "failed")


class DocumentJob(Model):
    """One long document being made, then waiting to be downloaded. Its id is random (it is the
    download's address); `done`/`total` count the document's units (cards, slips); the finished
    file is kept AES-GCM sealed (`sealed`, jobs/runner.py), never in plain text, and deleted when
    it expires — except a batch of ballots, which is kept (sealed) as the batch's own PDF
    (ballots/batch_pdfs.py) and deleted with the poll's close or the batch's voiding."""

    __tablename__ = "document_job"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    congress_id: Mapped[int] = mapped_column(
        ForeignKey("congress.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(20))  # cards, slips, paper, minutes
    # a poll's document (slips, paper, minutes: jobs/poll_documents.py); None for the cards
    poll_id: Mapped[int | None] = mapped_column(ForeignKey("poll.id", ondelete="CASCADE"))
    params: Mapped[str | None] = mapped_column(Text)  # JSON: what was asked, what was made
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    state: Mapped[str] = mapped_column(String(10), default="queued")
    done: Mapped[int] = mapped_column(default=0)
    total: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)
    filename: Mapped[str] = mapped_column(String(100), default="")
    sealed: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    __table_args__ = (
        CheckConstraint("state in ('queued', 'running', 'done', 'failed')", name="state"),
    )
