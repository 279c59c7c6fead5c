"""Paper reconciliation figures and the rules that follow from them (issue 14 hole 7).

Paper ballots are handed out while the poll is open and entered only after it closes, by the
poll's committee, once the committee has recorded how many unused paper ballots it collected
back (:class:`PaperReturn`). Then:

* issued   = the paper ballots printed for the poll (its ``paper`` issue batches);
* unused   = the declared return;
* returned = issued − unused (thu vào: what is in the box and may be entered);
* entered  = the paper ballots counted (agreed double entries).

This module only reads and checks; recording the return is :mod:`.paper_returns`.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from ..ballots.models import Ballot, BallotToken, IssueBatch, PaperEntry
from ..errors import ServiceError
from ..extensions import db
from ..polls.models import Poll
from ..polls.status import BEFORE_CLOSE
from .models import PaperReturn


def paper_issued(poll: Poll) -> int:
    """The paper ballots printed for the poll, less those voided with their batch while the
    poll was open (ballots/voiding.py)."""
    return (
        db.session.scalar(
            select(
                func.coalesce(
                    func.sum(IssueBatch.count - func.coalesce(IssueBatch.voided_count, 0)), 0
                )
            ).where(IssueBatch.poll_id == poll.id, IssueBatch.kind == "paper")
        )
        or 0
    )


def paper_figures(poll: Poll) -> dict:
    """``{issued, unused, returned, entered}``; unused and returned are None until the return
    is recorded."""
    issued = paper_issued(poll)
    ret = db.session.get(PaperReturn, poll.id)
    entered = (
        db.session.scalar(
            select(func.count())
            .select_from(Ballot)
            .where(Ballot.poll_id == poll.id, Ballot.source == "paper")
        )
        or 0
    )
    unused = ret.unused if ret is not None else None
    return {
        "issued": issued,
        "unused": unused,
        "returned": None if unused is None else issued - unused,
        "entered": entered,
    }


def has_paper_entries(poll: Poll) -> bool:
    return bool(
        db.session.scalar(
            select(func.count()).select_from(PaperEntry).where(PaperEntry.poll_id == poll.id)
        )
    )


def require_after_close(poll: Poll) -> None:
    """Paper ballots are entered only after the close (409 ``poll_not_closed`` before)."""
    if poll.status in BEFORE_CLOSE:
        raise ServiceError(
            "poll_not_closed",
            _(
                "Paper ballots are entered after the poll "
                "closes, once the unused paper ballots are collected back."
            ),
            status=409,
        )


def require_return(poll: Poll) -> PaperReturn:
    ret = db.session.get(PaperReturn, poll.id)
    if ret is None:
        raise ServiceError(
            "paper_return_missing",
            _("Record first how many unused paper ballots were collected back."),
            status=409,
        )
    return ret


def require_entry_room(poll: Poll, token_hash: str) -> None:
    """A ballot not entered before may be entered only while fewer than issued − unused paper
    ballots have entries (409 ``paper_returns_exceeded``). The return row is locked (FOR
    UPDATE on PostgreSQL) so two counters cannot both take the last place."""
    require_return(poll)
    ret = db.session.get_one(PaperReturn, poll.id, with_for_update=True)
    # Entries name their paper ballot only until it is counted (then the code is cleared on them,
    # for secrecy): in entry = the codes still named + the paper ballots counted.
    waiting = set(
        db.session.scalars(
            select(PaperEntry.token_hash)
            .distinct()
            .where(PaperEntry.poll_id == poll.id, PaperEntry.token_hash.is_not(None))
        )
    )
    token = db.session.get(BallotToken, token_hash)
    if token_hash in waiting or (token is not None and token.state == "used"):
        return  # already in entry or counted: the caller answers that
    counted = (
        db.session.scalar(
            select(func.count())
            .select_from(Ballot)
            .where(Ballot.poll_id == poll.id, Ballot.source == "paper")
        )
        or 0
    )
    entered = len(waiting) + counted
    room = paper_issued(poll) - ret.unused
    if entered >= room:
        raise ServiceError(
            "paper_returns_exceeded",
            _(
                "%(returned)s paper ballots were returned in the box (%(issued)s issued, "
                "%(unused)s unused collected back) and %(entered)s are entered already: no "
                "further paper ballot can be entered.",
                returned=room,
                issued=paper_issued(poll),
                unused=ret.unused,
                entered=entered,
            ),
            status=409,
            returned=room,
            entered=entered,
        )


def require_return_before_count(poll: Poll) -> None:
    """Counting waits for the paper return when paper ballots were issued."""
    if paper_issued(poll) and db.session.get(PaperReturn, poll.id) is None:
        raise ServiceError(
            "paper_return_missing",
            _(
                "Paper ballots were issued: record how many "
                "unused paper ballots were collected back before counting."
            ),
            status=409,
        )
