"""Recording the unused paper ballots collected back after the close (issue 14 hole 7).

``POST /api/v1/polls/{pid}/paper-returns {unused}`` and the form on the count page call
:func:`record_paper_return`. The figures and the checks the entry and the count make are in
:mod:`.paper_figures`.
"""

from __future__ import annotations

from flask_babel import gettext as _

from ..audit.services import record
from ..db import utcnow
from ..errors import ServiceError
from ..extensions import db
from ..polls.committee import require_committee
from ..polls.models import Poll
from ..polls.status import BEFORE_CLOSE, PollStatus
from .models import PaperReturn
from .paper_figures import has_paper_entries, paper_figures, paper_issued


def parse_unused(value) -> int:
    """The declared number from JSON or a form field: a plain non-negative integer (422)."""
    if isinstance(value, bool):
        value = None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int) or value < 0:
        raise ServiceError("bad_unused", _("unused must be a whole number, 0 or more."), status=422)
    return value


def record_paper_return(poll: Poll, unused, actor) -> PaperReturn:
    """The committee records how many unused paper ballots were collected back.

    403 unless `actor` is on this poll's counting committee; 409 ``poll_not_closed`` before the
    close, ``already_counted`` once counted (a recount after a correction is not possible:
    correct before counting), ``paper_return_frozen`` once a paper ballot has been entered;
    422 unless 0 ≤ unused ≤ paper ballots issued. Recording again corrects the number.
    """
    require_committee(poll, actor)
    if poll.status in BEFORE_CLOSE:
        raise ServiceError(
            "poll_not_closed",
            _("The unused paper ballots are collected back after the poll closes."),
            status=409,
        )
    if poll.status != PollStatus.CLOSED:
        raise ServiceError(
            "already_counted",
            _("The poll is counted: the paper return can no longer change."),
            status=409,
        )
    unused = parse_unused(unused)
    issued = paper_issued(poll)
    if unused > issued:
        raise ServiceError(
            "too_many_unused",
            _(
                "%(unused)s unused paper ballots declared but only %(issued)s were issued.",
                unused=unused,
                issued=issued,
            ),
            status=422,
        )
    if has_paper_entries(poll):
        raise ServiceError(
            "paper_return_frozen",
            _(
                "Paper ballots have been entered: the number "
                "of unused paper ballots collected back is frozen."
            ),
            status=409,
        )
    row = db.session.get(PaperReturn, poll.id, with_for_update=True)
    previous = row.unused if row is not None else None
    if row is None:
        row = PaperReturn(poll_id=poll.id, unused=unused)
        db.session.add(row)
    row.unused = unused
    row.recorded_by = getattr(actor, "id", actor)
    row.recorded_at = utcnow()
    db.session.flush()
    record(
        "paper.returned",
        actor=actor,
        congress_id=poll.congress_id,
        data={
            "poll_id": poll.id,
            "issued": issued,
            "unused": unused,
            "returned": issued - unused,
            "previous_unused": previous,
        },
    )
    return row


def paper_return_dict(poll: Poll) -> dict:
    """The API answer: the four figures and whether the number may still be corrected."""
    fig = paper_figures(poll)
    return {"poll_id": poll.id, **fig, "frozen": has_paper_entries(poll)}
