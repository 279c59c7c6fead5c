"""Key cards: the public halves only. The secrets exist only on the printed card."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary
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
