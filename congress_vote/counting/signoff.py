"""Sign-off: each committee member signs the current result digest; the last required signature
certifies the poll. Complaints (minutes section 6) are written before certification."""

from __future__ import annotations

import hmac
import json

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from ..audit.services import record
from ..db import rowcount, utcnow
from ..errors import ServiceError
from ..extensions import db
from ..polls.committee import require_committee
from ..polls.models import Poll
from ..polls.services import settings_of
from ..polls.status import PollStatus, certify, refuse_locked
from .models import PollResult, Signoff


def clear_signoffs(poll: Poll) -> int:
    """Delete the poll's signatures (the result they signed changed); how many there were."""
    return rowcount(db.session.execute(delete(Signoff).where(Signoff.poll_id == poll.id))) or 0


def signoffs_required(poll: Poll, settings: dict | None = None) -> int:
    members = len(poll.committee)
    need = (settings or {}).get("signoff_required") or settings_of(poll).signoff_required
    if need == "all":
        return members
    return min(int(need), members) if members else int(need)


def sign_result(poll: Poll, user, digest: str) -> Signoff:
    """A committee member signs the current result digest with their own login.

    403 unless the user is on this poll's counting committee (an admin role alone never signs);
    409 `not_counted`, `stale_digest` (not the current result's digest), `already_signed`,
    `checks_failed` (a reconciliation check fails) or `certified`. When the required number of
    members (rules setting signoff_required: all, or N) have signed, the poll is certified.
    """
    require_committee(poll, user)
    refuse_locked(poll)
    row = db.session.get(PollResult, poll.id)
    if poll.status != PollStatus.COUNTED or row is None:
        raise ServiceError(
            "not_counted", _("There is no current result to sign; count first."), status=409
        )
    # bytes: compare_digest refuses non-ASCII str with a TypeError (a 500 found by fuzzing)
    if not isinstance(digest, str) or not hmac.compare_digest(
        digest.strip().lower().encode(), row.digest.encode()
    ):
        raise ServiceError(
            "stale_digest",
            _("This is not the digest of the current result."),
            status=409,
            digest=row.digest,
        )
    uid = getattr(user, "id", user)
    if db.session.get(Signoff, (poll.id, uid)) is not None:
        raise ServiceError("already_signed", _("You have signed this result already."), status=409)
    data = json.loads(row.data)
    if not data.get("checks_ok", all(c["ok"] for c in data.get("checks", []))):
        raise ServiceError(
            "checks_failed",
            _("A reconciliation check fails: the result cannot be signed."),
            status=409,
        )
    sig = Signoff(poll_id=poll.id, user_id=uid, digest=row.digest, signed_at=utcnow())
    db.session.add(sig)
    db.session.flush()
    record(
        "result.signed",
        actor=user,
        congress_id=poll.congress_id,
        data={"poll_id": poll.id, "digest": row.digest},
    )
    n = (
        db.session.scalar(
            select(func.count()).select_from(Signoff).where(Signoff.poll_id == poll.id)
        )
        or 0
    )
    need = signoffs_required(poll, data.get("settings"))
    if n >= need > 0:
        certify(poll)
        row.certified_at = utcnow()
        db.session.flush()
        record(
            "poll.certified",
            actor=user,
            congress_id=poll.congress_id,
            data={"poll_id": poll.id, "digest": row.digest, "signoffs": n},
        )
    return sig


def set_complaints(poll: Poll, text: str, actor) -> PollResult:
    """Minutes section 6: complaints and how they were settled. Before certification only; by
    the poll's counting committee."""
    require_committee(poll, actor)
    refuse_locked(poll)
    row = db.session.get(PollResult, poll.id)
    if row is None:
        raise ServiceError("not_counted", _("Count first."), status=409)
    row.complaints = (text or "").strip()[:20000]
    db.session.flush()
    record(
        "result.complaints",
        actor=actor,
        congress_id=poll.congress_id,
        data={"poll_id": poll.id, "length": len(row.complaints)},
    )
    return row
