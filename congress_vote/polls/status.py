"""A poll's status: the values, the named sets, and the one place that changes it.

    draft ──open──▶ open ──close──▶ closed ──count──▶ counted ──certify──▶ certified ──publish──▶
                                      ▲                  │                                published
                                      └──back_to_closed──┘  (a late paper ballot: recount needed)

Every change of ``Poll.status`` goes through the functions below (``tests/test_poll_status.py``
greps the package for any other assignment). The database column keeps the plain strings.
"""

from __future__ import annotations

from enum import StrEnum

from flask_babel import gettext as _
from sqlalchemy import update

from ..db import rowcount
from ..errors import ServiceError
from ..extensions import db
from .models import Poll


class PollStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    COUNTED = "counted"
    CERTIFIED = "certified"
    PUBLISHED = "published"


S = PollStatus
#: before the close: no ballot may be reviewed, returned or entered on paper yet
BEFORE_CLOSE = frozenset({S.DRAFT, S.OPEN})
#: the poll takes ballots (tablet casts, named votes, issued slips)
ACCEPTS_BALLOTS = frozenset({S.OPEN})
#: a show of hands may be entered (while voting, or after the close before the count)
HAND_COUNT = frozenset({S.OPEN, S.CLOSED})
#: opened and not yet certified: the committee's paper work goes on
OPENED_NOT_LOCKED = frozenset({S.OPEN, S.CLOSED, S.COUNTED})
#: closed or any later status
AFTER_CLOSE = frozenset({S.CLOSED, S.COUNTED, S.CERTIFIED, S.PUBLISHED})
#: a count may run (first count, or a recount before certification)
COUNTABLE = frozenset({S.CLOSED, S.COUNTED})
#: a stored result that is current (not stale)
COUNTED_OR_LATER = frozenset({S.COUNTED, S.CERTIFIED, S.PUBLISHED})
#: certified or published: nothing about the poll may change any more
LOCKED = frozenset({S.CERTIFIED, S.PUBLISHED})


def require_status(poll: Poll, *statuses: str) -> None:
    """409 `poll_not_<first status>` unless the poll is in one of `statuses`."""
    if poll.status not in statuses:
        raise ServiceError(
            f"poll_not_{statuses[0]}",
            # The statuses are msgids of the poll pages ("draft", "open", ...).
            _(
                "The poll is %(status)s; this needs it %(needed)s.",
                status=_(poll.status),
                needed=" / ".join(_(s) for s in statuses),
            ),
            status=409,
        )


def refuse_locked(poll: Poll) -> None:
    """409 `certified` once the result is certified or published."""
    if poll.status in LOCKED:
        raise ServiceError(
            "certified",
            _(
                "The result is certified: nothing about this poll can "
                "change any more (a correction is a new round)."
            ),
            status=409,
        )


def _move(poll: Poll, allowed: frozenset[PollStatus], to: PollStatus) -> None:
    if poll.status not in allowed:  # the callers check first: this is the last line of defence
        require_status(poll, *sorted(allowed))
    poll.status = to.value


def open_(poll: Poll) -> None:
    """draft → open."""
    _move(poll, frozenset({S.DRAFT}), S.OPEN)


def close(poll: Poll) -> None:
    """open → closed."""
    _move(poll, ACCEPTS_BALLOTS, S.CLOSED)


def counted(poll: Poll) -> None:
    """closed → counted (first count), counted → counted (recount)."""
    _move(poll, COUNTABLE, S.COUNTED)


def counted_once(poll: Poll) -> bool:
    """closed → counted in one conditional UPDATE (the opening of a sealed box: two counts at
    once open it once). False when the poll was not closed any more; the poll is refreshed."""
    done = db.session.execute(
        update(Poll)
        .where(Poll.id == poll.id, Poll.status == S.CLOSED.value)
        .values(status=S.COUNTED.value)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(poll, ["status"])
    return rowcount(done) == 1


def certify(poll: Poll) -> None:
    """counted → certified (the last required signature)."""
    _move(poll, frozenset({S.COUNTED}), S.CERTIFIED)


def back_to_closed(poll: Poll) -> None:
    """counted → closed: the ballot set changed after the count (a late paper ballot)."""
    _move(poll, frozenset({S.COUNTED}), S.CLOSED)


def publish(poll: Poll) -> bool:
    """certified → published in one conditional UPDATE (two chairs at once publish once).
    False when the poll was not certified; the poll is refreshed either way."""
    done = db.session.execute(
        update(Poll)
        .where(Poll.id == poll.id, Poll.status == S.CERTIFIED.value)
        .values(status=S.PUBLISHED.value)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(poll)
    return rowcount(done) == 1
