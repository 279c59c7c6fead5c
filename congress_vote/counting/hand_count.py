"""A show of hands: the committee enters each resolution item's counts (no ballots)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import rules
from ..audit.services import record
from ..ballots.models import Ballot, HandCount
from ..db import utcnow
from ..errors import ServiceError
from ..extensions import db
from ..ids import bad_id, check_ids
from ..polls.committee import require_committee
from ..polls.models import Poll
from ..polls.status import HAND_COUNT, PollStatus, refuse_locked
from .inputs import attendance_snapshot


def enter_hand_count(poll: Poll, items: dict, actor) -> list[HandCount]:
    """The counts of a show of hands, per resolution item: while the poll is open or closed,
    before counting, by the poll's counting committee. Each item's for + against + abstain must
    not exceed the voters present (422). Entering again replaces the item's counts."""
    require_committee(poll, actor)
    refuse_locked(poll)
    if poll.kind != "resolution":
        raise ServiceError(
            "not_resolution", _("Only a resolution is voted by show of hands."), status=422
        )
    if poll.status not in HAND_COUNT:
        raise ServiceError(
            "poll_not_open" if poll.status == PollStatus.DRAFT else "already_counted",
            _("Hand counts are entered while the poll is open or closed, before counting."),
            status=409,
        )
    if db.session.scalar(select(func.count()).select_from(Ballot).where(Ballot.poll_id == poll.id)):
        raise ServiceError(
            "has_ballots", _("This poll has ballots; it is not a show of hands."), status=409
        )
    if not isinstance(items, dict) or not items:
        raise ServiceError(
            "bad_request",
            _("items must be an object {item_id: {for, against, abstain}}."),
            status=400,
        )
    try:
        hand = rules.HandCount.from_dict({"items": items})
    except rules.BadIdError:
        raise bad_id("items") from None
    except rules.RulesInputError as err:
        raise ServiceError("bad_hand_count", str(err), status=422) from None
    check_ids(hand.items, "items")
    known = {i.id for i in poll.items}
    unknown = sorted(set(hand.items) - known)
    if unknown:
        raise ServiceError("unknown_item", _("Unknown item(s): %(ids)s.", ids=unknown), status=422)
    present = int(attendance_snapshot(poll).get("voters_present", 0) or 0)
    for item, counts in hand.items.items():
        if sum(counts) > present:
            raise ServiceError(
                "too_many_votes",
                _(
                    "Item %(item)s: %(votes)s votes but only %(present)s voters present.",
                    item=item,
                    votes=sum(counts),
                    present=present,
                ),
                status=422,
            )
    out = []
    uid = getattr(actor, "id", actor)
    for item, (f, a, b) in hand.items.items():
        row = db.session.scalar(
            select(HandCount).where(HandCount.poll_id == poll.id, HandCount.item_id == item)
        )
        if row is None:
            row = HandCount(
                poll_id=poll.id,
                item_id=item,
                votes_for=f,
                votes_against=a,
                votes_abstain=b,
                user_id=uid,
            )
            db.session.add(row)
        row.votes_for, row.votes_against, row.votes_abstain = f, a, b
        row.user_id, row.entered_at = uid, utcnow()
        out.append(row)
    db.session.flush()
    record(
        "hand_count.entered",
        actor=actor,
        congress_id=poll.congress_id,
        data={"poll_id": poll.id, "items": {str(k): list(v) for k, v in hand.items.items()}},
    )
    return out
