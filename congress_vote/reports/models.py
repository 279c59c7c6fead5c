"""What the projector shows: the chair's choice, one row per congress."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..db import utcnow
from ..extensions import Model

#: auto: follow the chair's last poll action; poll: one poll (its status, turnout or published
#: result); attendance: attendance and quorum; message: a line of text; blank: nothing.
PROJECTOR_MODES = ("auto", "poll", "attendance", "message", "blank")


class ProjectorChoice(Model):
    """The chair's choice for the congress's projector (reports/projector.py). No row: auto."""

    __tablename__ = "projector_choice"

    congress_id: Mapped[int] = mapped_column(
        ForeignKey("congress.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    mode: Mapped[str] = mapped_column(String(20), default="auto")
    poll_id: Mapped[int | None] = mapped_column(ForeignKey("poll.id", ondelete="SET NULL"))
    message: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))

    __table_args__ = (
        CheckConstraint("mode in ('auto', 'poll', 'attendance', 'message', 'blank')", name="mode"),
    )
