"""Check-in at the desk (a card scanned or typed, or a delegate picked from the list), its undo,
and an attendance status set by hand (absent, present, excused with a reason)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm.attributes import set_committed_value

from ..audit.services import record
from ..db import rowcount, utcnow
from ..errors import ServiceError
from ..extensions import db
from .cards import find_card
from .fields import STATUSES, clean_name
from .models import Congress, Delegate


def check_in(congress: Congress, text: str, actor=None) -> tuple[Delegate, bool]:
    """Mark the card's holder present. Returns (delegate, already_present). Exactly one audit
    event per actual check-in, even when two desks scan the same card at once (conditional
    UPDATE). An excused delegate who turns up becomes present."""
    d = find_card(congress, text)
    return d, _mark_present(d, actor, via="card")


def check_in_delegate(delegate: Delegate, actor=None) -> bool:
    """Check in by name (the registrar picked the delegate). Returns already_present."""
    return _mark_present(delegate, actor, via="name")


_DELEGATES = Delegate.__table__
# The conditional UPDATE of a check-in, built once (a Core statement: no ORM update machinery).
_MARK_PRESENT = (
    update(_DELEGATES)
    .where(_DELEGATES.c.id == bindparam("did"), _DELEGATES.c.status != "present")
    .values(status="present", checked_in_at=bindparam("now"), absence_reason=None)
)


def _mark_present(d: Delegate, actor, via: str) -> bool:
    now = utcnow()
    res = db.session.execute(_MARK_PRESENT, {"did": d.id, "now": now})
    if rowcount(res) == 0:
        db.session.refresh(d)  # present already (maybe by another desk a moment ago)
        return True
    # This UPDATE wrote exactly these values: set them on the loaded delegate instead of
    # reading the row back (one statement less per check-in).
    for key, value in (("status", "present"), ("checked_in_at", now), ("absence_reason", None)):
        set_committed_value(d, key, value)
    record(
        "delegate.checked_in",
        actor=actor,
        congress_id=d.congress_id,
        data={"delegate_id": d.id, "via": via},
    )
    return False


def undo_check_in(delegate: Delegate, actor=None) -> Delegate:
    """Take back a check-in made by mistake: the delegate is absent again. 409 if not present."""
    if delegate.status != "present":
        raise ServiceError(
            "not_present", _("%(name)s is not checked in.", name=delegate.full_name), status=409
        )
    delegate.status = "absent"
    delegate.checked_in_at = None
    db.session.flush()
    record(
        "delegate.checkin_undone",
        actor=actor,
        congress_id=delegate.congress_id,
        data={"delegate_id": delegate.id},
    )
    return delegate


def set_attendance(
    delegate: Delegate, status: str, reason: str | None = None, actor=None
) -> Delegate:
    """Set present / excused / absent. Excused needs a reason (it leaves the denominator)."""
    if status not in STATUSES:
        raise ServiceError("bad_status", _("status must be present, excused or absent."))
    reason = clean_name(reason) or None
    if reason and len(reason) > 500:
        raise ServiceError("too_long", _("The reason is longer than 500 characters."))
    if status == "excused" and not reason:
        raise ServiceError("reason_required", _("An excused absence needs a reason."))
    if status == "present":
        if delegate.status != "present":
            _mark_present(delegate, actor, via="manual")
        return delegate
    if delegate.status == status and delegate.absence_reason == (
        reason if status == "excused" else None
    ):
        return delegate
    delegate.status = status
    delegate.checked_in_at = None
    delegate.absence_reason = reason if status == "excused" else None
    db.session.flush()
    record(
        "delegate.attendance",
        actor=actor,
        congress_id=delegate.congress_id,
        data={"delegate_id": delegate.id, "status": status, "reason": delegate.absence_reason},
    )
    return delegate


def last_check_in(congress: Congress) -> Delegate | None:
    """The delegate checked in most recently (for the desk's undo button)."""
    return db.session.scalar(
        select(Delegate)
        .where(Delegate.congress_id == congress.id, Delegate.status == "present")
        .order_by(Delegate.checked_in_at.desc(), Delegate.id.desc())
        .limit(1)
    )
