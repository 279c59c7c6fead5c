"""Reading a stored count: the API "Result", the named votes of an open poll, the receipt board."""

from __future__ import annotations

import json

from flask_babel import gettext as _
from sqlalchemy import select

from ..ballots.models import Ballot, NamedVote
from ..congress.models import Delegate
from ..errors import ServiceError
from ..extensions import db
from ..polls.models import Poll
from ..polls.status import COUNTED_OR_LATER, PollStatus
from ..seal.sealing import trackers_of
from .models import PollResult, Signoff
from .signoff import signoffs_required


def stored_result(poll: Poll) -> dict | None:
    row = db.session.get(PollResult, poll.id)
    return json.loads(row.data) if row else None


def result_dict(poll: Poll) -> dict:
    """The API "Result" of the poll (docs/api.md, "Results and reports"), from the stored
    count, plus checks, settings,
    elected_order, setup_fingerprint, title, kind, seats, alternate_seats (and named_votes for an
    open poll). Raises 409 `not_counted` before the first count. `stale` is true when ballots
    changed after the count (the poll is back to `closed`)."""
    row = db.session.get(PollResult, poll.id)
    if row is None:
        raise ServiceError("not_counted", _("The poll has not been counted yet."), status=409)
    data = json.loads(row.data)
    out = {
        "poll_id": poll.id,
        "status": poll.status,
        "round": poll.round,
        "title": poll.title,
        "kind": poll.kind,
        "seats": poll.seats,
        "alternate_seats": poll.alternate_seats,
        "parent_id": poll.parent_id,
    }
    for key in (
        "denominator",
        "denominator_basis",
        "threshold_votes",
        "figures",
        "elected_order",
        "ties",
        "unfilled_seats",
        "unfilled_alternate_seats",
        "alternates_pending",
        "counted_by_hand",
        "checks",
        "checks_ok",
        "settings",
        "setup_fingerprint",
    ):
        out[key] = data.get(key)
    out["candidates"] = [
        {
            "id": c["id"],
            "full_name": c.get("full_name", ""),
            "votes": c["votes"],
            "percent": c["percent"],
            "elected": c["elected"],
            "over_threshold": c.get("over_threshold"),
        }
        for c in data.get("candidates", [])
    ]
    out["items"] = [
        {
            "id": i["id"],
            "text": i.get("text", ""),
            "for": i["for"],
            "against": i["against"],
            "abstain": i["abstain"],
            "not_voted": i.get("not_voted"),
            "percent_for": i["percent_for"],
            "percent_against": i.get("percent_against"),
            "percent_abstain": i.get("percent_abstain"),
            "passed": i["passed"],
        }
        for i in data.get("items", [])
    ]
    out["digest"] = row.digest
    out["counted_at"] = row.counted_at.isoformat() + "Z"
    out["certified_at"] = row.certified_at.isoformat() + "Z" if row.certified_at else None
    out["complaints"] = row.complaints or ""
    out["stale"] = poll.status == PollStatus.CLOSED
    out["signoffs"] = [
        {
            "user_id": s.user_id,
            "signed_at": s.signed_at.isoformat() + "Z",
            "key_card_id": s.key_card_id,
            "signature": s.signature.hex() if s.signature else None,
        }
        for s in db.session.scalars(
            select(Signoff).where(Signoff.poll_id == poll.id).order_by(Signoff.signed_at)
        )
    ]
    out["signoffs_required"] = signoffs_required(poll, data.get("settings"))
    if poll.secrecy == "open":
        out["named_votes"] = named_votes(poll)
    return out


def named_votes(poll: Poll) -> list[dict]:
    """Each delegate's vote in an open poll, in Vietnamese name order."""
    rows = db.session.execute(
        select(Delegate.id, Delegate.full_name, NamedVote.choice)
        .join(Delegate, Delegate.id == NamedVote.delegate_id)
        .where(NamedVote.poll_id == poll.id)
        .order_by(Delegate.sort_key)
    ).all()
    out = []
    for did, name, choice in rows:
        try:
            vote = json.loads(choice or "{}")
        except ValueError:
            vote = {}
        out.append({"delegate": {"id": did, "full_name": name}, "vote": vote})
    return out


def receipts(poll: Poll) -> dict:
    """The public board: every counted receipt, sorted, and the digest (once counted)."""
    row = db.session.get(PollResult, poll.id)
    if row is None or poll.status not in COUNTED_OR_LATER:
        raise ServiceError(
            "not_counted", _("Receipts are published once the poll is counted."), status=409
        )
    model = NamedVote if poll.secrecy == "open" else Ballot
    stored = db.session.scalars(select(model.receipt).where(model.poll_id == poll.id))
    codes = [c for c in stored if c is not None]  # the ballots opened from a box have none
    if poll.seal_public is not None:  # a sealed poll's receipts are its trackers
        codes += trackers_of(poll)
    codes.sort()
    return {"poll_id": poll.id, "receipts": codes, "digest": row.digest}
