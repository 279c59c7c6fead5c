"""The counting actions a person may take on a poll, for the poll page's "Counting" panel.

One place decides which counting page applies in which state and for which role, mirroring the
roles of counting.views and the committee guard (polls.committee), so a link is never shown to
someone the page would refuse. "Committee" below is a member of THIS poll's counting committee (a
counter of another poll's committee gets only what any counter reads):

- result / count page (``counting.result``): admin, counter, chair, observer, once the poll is
  closed (and while it is open for a show of hands, whose counts are entered then);
- count the ballots: committee, when closed (the button is on the result page);
- review ballots: committee, chair, observer, after close;
- paper ballots: committee, secret polls, while open (printing), closed or counted (entry,
  which waits for the close and the paper return: counting.paper_figures);
- show of hands: committee, open-vote resolutions, while open or closed, before any ballot;
- sign: committee, when counted and not yet signed by them;
- counting minutes (PDF): committee, chair, once counted;
- next round: admin, when the chain of rounds proposes one (counting.rounds.chain_proposal).
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import url_for
from sqlalchemy import func, select

from ..ballots.models import Ballot
from ..extensions import db
from ..polls.committee import is_committee_member
from ..polls.models import Poll
from ..polls.status import AFTER_CLOSE, COUNTED_OR_LATER, HAND_COUNT, OPENED_NOT_LOCKED, PollStatus
from .models import Signoff
from .rounds import chain_proposal


@dataclass(frozen=True)
class Action:
    """``key`` names the action (the template gives its label); ``url`` is the page or file."""

    key: str
    url: str
    primary: bool = False


def poll_actions(poll: Poll, actor) -> list[Action]:
    """The counting actions `actor` may take on `poll` now, in the order of the work."""
    if actor is None:
        return []
    out: list[Action] = []
    is_ = actor.has_role
    member = is_committee_member(poll, actor)
    result_url = url_for("counting.result", pid=poll.id)
    hands = (
        poll.kind == "resolution"
        and poll.secrecy == "open"
        and poll.status in HAND_COUNT
        and member
        and not db.session.scalar(
            select(func.count()).select_from(Ballot).where(Ballot.poll_id == poll.id)
        )
    )
    if hands:
        out.append(
            Action(
                "hand_count",
                url_for("counting.hand_count", pid=poll.id),
                primary=poll.status == PollStatus.OPEN,
            )
        )
    if member and poll.status == PollStatus.CLOSED:
        out.append(Action("count", result_url, primary=True))
    elif is_("admin", "counter", "chair", "observer") and (poll.status in AFTER_CLOSE or hands):
        out.append(Action("result", result_url))
    if member and poll.secrecy == "secret" and poll.status in OPENED_NOT_LOCKED:
        out.append(Action("paper", url_for("counting.paper", pid=poll.id)))
    if (member or is_("chair", "observer")) and poll.status in AFTER_CLOSE:
        out.append(Action("review", url_for("counting.review", pid=poll.id)))
    if poll.status == PollStatus.COUNTED and member:
        signed = db.session.scalar(
            select(func.count())
            .select_from(Signoff)
            .where(Signoff.poll_id == poll.id, Signoff.user_id == actor.id)
        )
        if not signed:
            out.append(Action("sign", result_url + "#sign", primary=True))
    if (member or is_("chair")) and poll.status in COUNTED_OR_LATER:
        out.append(Action("minutes", url_for("counting.minutes", pid=poll.id)))
    if (
        is_("admin")
        and poll.kind != "resolution"
        and poll.status in COUNTED_OR_LATER
        and chain_proposal(poll)
    ):
        out.append(Action("next_round", result_url + "#next-round"))
    return out
