"""Issuing ballots: anonymous tokens for an open secret poll, and a batch's PDF (QR slips or full
paper ballots), kept sealed until the close (ballots.batch_pdfs).

Never more ballots are issued for a poll than voters present minus those already issued (the
poll row is locked for the check, so two counters issuing at once cannot overshoot); a batch's
token rows are inserted in random order (no print order kept).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, insert, select

from .. import codes
from ..audit.services import record
from ..congress.attendance import attendance
from ..congress.models import Congress
from ..errors import ServiceError
from ..extensions import db
from ..polls.committee import require_committee
from ..polls.models import Poll
from ..polls.status import PollStatus, require_status
from .batch_pdfs import keep_batch_pdf
from .models import BallotToken, IssueBatch
from .paper_ballots import paper_ballots_pdf
from .slips import render_slips

MAX_BATCH = 5000


@dataclass
class IssuedBatch:
    """An issuance: the stored batch and the plain codes (normalised), which exist only here."""

    batch: IssueBatch
    codes: list[str]


def _err(code: str, message: str, status: int) -> ServiceError:
    return ServiceError(code, message, status=status)


def issued_count(poll: Poll) -> int:
    """Ballots issued for the poll and not voided."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(BallotToken)
            .where(BallotToken.poll_id == poll.id, BallotToken.state != "void")
        )
        or 0
    )


def _check_request(poll: Poll, count, actor, kind: str) -> None:
    require_committee(poll, actor)
    if isinstance(count, bool) or not isinstance(count, int):
        raise _err("bad_request", _("count must be an integer."), 400)
    if count < 1 or count > MAX_BATCH:
        raise _err("bad_count", _("count must be between 1 and %(max)s.", max=MAX_BATCH), 422)
    if kind not in ("slip", "paper"):
        raise _err("bad_kind", _("kind must be slip or paper."), 422)


def new_codes(count: int) -> list[str]:
    """Fresh ballot codes (normalised) for a batch."""
    return [codes.new_code() for _ in range(count)]


def _check_room(poll: Poll, count: int) -> None:
    require_status(poll, PollStatus.OPEN)
    if poll.secrecy != "secret":
        raise _err(
            "poll_not_secret",
            _(
                "This is an open (named) poll: delegates vote with their "
                "cards, no ballots are issued."
            ),
            409,
        )
    figures = attendance(db.session.get_one(Congress, poll.congress_id))
    present = int(figures.get("voters_present") or 0)
    already = issued_count(poll)
    if already + count > present:
        raise _err(
            "too_many_ballots",
            _(
                "%(count)s more ballots would exceed the voters present (%(present)s); "
                "%(already)s are issued already, so at most %(left)s more.",
                count=count,
                present=present,
                already=already,
                left=max(present - already, 0),
            ),
            409,
        )


def check_issue(poll: Poll, count, actor, kind: str = "slip") -> None:
    """Raise what `issue_ballots` would refuse now, issuing nothing (a background batch's start:
    jobs/poll_documents.py; the job checks again when it issues)."""
    _check_request(poll, count, actor, kind)
    _check_room(poll, count)


def issue_ballots(
    poll: Poll, count, actor, kind: str = "slip", plain: list[str] | None = None
) -> IssuedBatch:
    """Issue `count` anonymous ballots for an open secret poll (the counting committee).

    409 when the poll is not open or not secret, or when count would exceed voters present minus
    ballots already issued. kind "slip" (QR slips for the tablets) or "paper" (full paper
    ballots, printed by the counting area from the returned codes). 403 `not_on_committee`
    unless `actor` is on this poll's counting committee (checked first). `plain`: the codes,
    drawn beforehand (`new_codes`) when the PDF was rendered before the issuing transaction.
    """
    _check_request(poll, count, actor, kind)
    # Lock the poll row: two counters issuing at once queue here (PostgreSQL; SQLite's write
    # transactions are serialised by BEGIN IMMEDIATE already).
    poll = db.session.scalars(select(Poll).where(Poll.id == poll.id).with_for_update()).one()
    _check_room(poll, count)
    batch = IssueBatch(
        poll_id=poll.id, count=count, kind=kind, issued_by=getattr(actor, "id", None)
    )
    db.session.add(batch)
    db.session.flush()
    if plain is None:
        plain = new_codes(count)
    assert len(plain) == count
    rows = [
        {
            "token_hash": codes.code_hash(c),
            "poll_id": poll.id,
            "batch_id": batch.id,
            "state": "unused",
        }
        for c in plain
    ]
    # Stored in random order, never in the print order of `plain` (the slips' order).
    secrets.SystemRandom().shuffle(rows)
    db.session.execute(insert(BallotToken), rows)
    record(
        "ballots.issued",
        actor=actor,
        congress_id=poll.congress_id,
        data={"poll_id": poll.id, "batch_id": batch.id, "count": count, "kind": kind},
    )
    return IssuedBatch(batch, plain)


def issue_batch(
    poll: Poll, count, actor, kind: str = "slip", size: str = "A4"
) -> tuple[IssuedBatch, bytes]:
    """Issue `count` ballots and render their PDF: QR slips, or full paper ballots (`size` A4
    or A5). The PDF is kept sealed in the database until the poll closes (batch_pdfs), so it can
    be downloaded again. Rendered before the caller commits: if rendering fails, nothing is
    issued."""
    if size not in ("A4", "A5"):
        raise _err("bad_size", _("size must be A4 or A5."), 422)
    issued = issue_ballots(poll, count, actor, kind=kind)
    if kind == "paper":
        pdf = paper_ballots_pdf(poll, list(issued.codes), size)
    else:
        pdf = render_slips(poll, issued.codes)
    keep_batch_pdf(issued.batch, pdf)
    return issued, pdf


def issue_rendered(poll: Poll, plain: list[str], pdf: bytes, actor, kind: str = "slip"):
    """Issue the ballots of `plain` (codes from `new_codes`) whose PDF `pdf` was rendered before
    this transaction (a background job: no write lock held while rendering), and keep the PDF
    sealed as `issue_batch` does. The caller commits."""
    issued = issue_ballots(poll, len(plain), actor, kind=kind, plain=plain)
    keep_batch_pdf(issued.batch, pdf)
    return issued
