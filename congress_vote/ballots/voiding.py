"""Voiding a batch of ballots while its poll is open (a print run lost, misprinted or taken
away): its unused ballots become void, its kept PDF is deleted, and as many ballots can be
issued again (issue 17 item 2).

Guarantees:
- only the poll's counting committee voids, only while the poll is open, each batch once
  (409 `batch_voided` after); the ballots of the batch already cast stay cast and counted;
- one transaction: the conditional UPDATE of the batch's unused tokens, the batch's
  voided_at / voided_by / voided_count, the PDF's deletion and the audit event
  (`ballots.batch_voided`);
- the figures stay reconciled: the ballots a voided batch voided are not "issued"
  (counting/inputs.py `tokens_issued`, counting/paper_figures.py `paper_issued`), so a reissue
  never makes issued exceed the voters present; the minutes list each voided batch
  (`voided_batches`).
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import delete, select, update

from ..audit.services import record
from ..auth.models import User
from ..db import rowcount, utcnow
from ..errors import ServiceError
from ..extensions import db
from ..polls.committee import require_committee
from ..polls.models import Poll
from ..polls.status import PollStatus, require_status
from .models import BallotToken, BatchPdf, IssueBatch


def void_batch(poll: Poll, batch_id, actor) -> IssueBatch:
    """Void the unused ballots of batch `batch_id` of `poll` (see the module docstring).

    403 `not_on_committee`, 404 `unknown_batch`, 409 `poll_not_open` / `batch_voided`. The
    caller commits."""
    require_committee(poll, actor)
    # the poll row locked, as for an issuance: a void and an issue do not interleave
    poll = db.session.scalars(select(Poll).where(Poll.id == poll.id).with_for_update()).one()
    require_status(poll, PollStatus.OPEN)
    batch = db.session.get(IssueBatch, batch_id) if isinstance(batch_id, int) else None
    if batch is None or batch.poll_id != poll.id:
        raise ServiceError("unknown_batch", _("No such batch of ballots in this poll."), status=404)
    if batch.voided_at is not None:
        raise ServiceError("batch_voided", _("This batch has been voided already."), status=409)
    voided = rowcount(
        db.session.execute(
            update(BallotToken)
            .where(BallotToken.batch_id == batch.id, BallotToken.state == "unused")
            .values(state="void")
            .execution_options(synchronize_session=False)
        )
    )
    db.session.execute(delete(BatchPdf).where(BatchPdf.batch_id == batch.id))
    batch.voided_at = utcnow()
    batch.voided_by = getattr(actor, "id", None)
    batch.voided_count = voided
    db.session.flush()
    record(
        "ballots.batch_voided",
        actor=actor,
        congress_id=poll.congress_id,
        data={"poll_id": poll.id, "batch_id": batch.id, "kind": batch.kind, "voided": voided},
    )
    return batch


def voided_batches(poll_id: int) -> list[dict]:
    """The poll's voided batches, for the poll page, the API and the minutes:
    ``[{batch_id, kind, count, voided, voided_at, voided_by, voided_by_name}]`` in batch order."""
    rows = db.session.execute(
        select(IssueBatch, User)
        .outerjoin(User, User.id == IssueBatch.voided_by)
        .where(IssueBatch.poll_id == poll_id, IssueBatch.voided_at.is_not(None))
        .order_by(IssueBatch.id)
    ).all()
    return [
        {
            "batch_id": b.id,
            "kind": b.kind,
            "count": b.count,
            "voided": b.voided_count or 0,
            "voided_at": b.voided_at,
            "voided_by": b.voided_by,
            "voided_by_name": (u.full_name or u.username) if u is not None else None,
        }
        for b, u in rows
    ]


def voided_by_batches(poll_id: int) -> int:
    """How many ballots of the poll were voided with their batch (not issued any more)."""
    return sum(b["voided"] for b in voided_batches(poll_id))
