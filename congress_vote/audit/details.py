"""The audit log as a person reads it: who (the user's name), what (the action's label,
audit/labels.py) and the details in words (ids turned into the poll's title, the user's or the
delegate's name; yes/no; fingerprints shortened), and the filters of the audit page (by poll,
by user, by action; paginated). The stored events are never changed: the JSON export keeps
them as written."""

from __future__ import annotations

import json
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select

from ..auth.models import User
from ..congress.models import Delegate
from ..extensions import db
from ..polls.models import Poll
from .labels import action_label
from .models import AuditEvent

PAGE_SIZE = 50

#: labels of the keys found in events' data; a key not listed is shown as itself
DETAIL_LABELS = {
    "poll_id": _l("Poll"),
    "user_id": _l("User"),
    "delegate_id": _l("Delegate"),
    "kind": _l("Kind"),
    "digest": _l("Result fingerprint"),
    "id": _l("Number"),
    "fields": _l("Fields changed"),
    "batch_id": _l("Ballot batch"),
    "via": _l("Through"),
    "username": _l("User name"),
    "signoffs_cleared": _l("Signatures cleared"),
    "signing_fingerprint": _l("Signing key fingerprint"),
    "opening_fingerprint": _l("Opening key fingerprint"),
    "seats": _l("Seats"),
    "alternate_seats": _l("Alternate seats"),
    "reason": _l("Reason"),
    "outcome": _l("Outcome"),
    "name": _l("Name"),
    "label": _l("Label"),
    "kiosk_id": _l("Kiosk"),
    "key_card_id": _l("Key card"),
    "items": _l("Items"),
    "count": _l("Number of ballots"),
    "candidates": _l("Candidates"),
    "voided": _l("Voided"),
    "unused": _l("Unused"),
    "title": _l("Title"),
    "threshold": _l("Threshold"),
    "status": _l("Status"),
    "source": _l("Source"),
    "signoffs": _l("Signatures"),
    "setup_fingerprint": _l("Setup fingerprint"),
    "secrecy": _l("Secrecy"),
    "round": _l("Round"),
    "roles": _l("Roles"),
    "returned": _l("Returned"),
    "issued": _l("Issued"),
    "parent_id": _l("Previous round"),
    "previous_digest": _l("Previous fingerprint"),
    "mode": _l("Shows"),
    "message": _l("Message"),
    "members": _l("Members"),
    "ballots_voided": _l("Ballots voided"),
    "ballots_returned": _l("Ballots returned"),
    "ballots_issued": _l("Ballots issued"),
    "sealed_ballots": _l("Sealed ballots"),
    "tokens_ended": _l("Tokens ended"),
    "sessions_ended": _l("Sessions ended"),
    "failures": _l("Failed attempts"),
    "seconds": _l("Seconds"),
    "file": _l("File"),
    "branch": _l("Branch"),
    "checks_ok": _l("Checks passed"),
    "code": _l("Code"),
}

#: words for the values of a few keys (a value not listed is shown as itself)
VALUE_LABELS = {
    ("kind", "committee"): _l("Committee election"),
    ("kind", "slate"): _l("Delegate slate"),
    ("kind", "resolution"): _l("Resolution"),
    ("secrecy", "secret"): _l("secret ballot"),
    ("secrecy", "open"): _l("open vote"),
    ("via", "token"): _l("API token"),
    ("via", "cookie"): _l("browser session"),
    ("mode", "auto"): _l("automatic"),
    ("mode", "poll"): _l("A poll"),
    ("mode", "attendance"): _l("Attendance and quorum"),
    ("mode", "message"): _l("A message"),
    ("mode", "blank"): _l("Nothing (black screen)"),
}


def poll_filter(poll_id: int):
    """Events whose data names the poll (the canonical JSON: sorted keys, no spaces)."""
    key = f'%"poll_id":{int(poll_id)}'
    return or_(AuditEvent.data.like(key + ",%"), AuditEvent.data.like(key + "}"))


def search(
    poll_id: int | None = None,
    user_id: int | None = None,
    action: str | None = None,
    page: int = 1,
) -> tuple[list[AuditEvent], bool]:
    """One page of events, newest first, and whether there is a next page."""
    stmt = select(AuditEvent)
    if poll_id:
        stmt = stmt.where(poll_filter(poll_id))
    if user_id:
        stmt = stmt.where(AuditEvent.actor_id == user_id)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    page = max(1, page)
    rows = list(
        db.session.scalars(
            stmt.order_by(AuditEvent.seq.desc()).offset((page - 1) * PAGE_SIZE).limit(PAGE_SIZE + 1)
        )
    )
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


def _names(model, ids: set[Any], text) -> dict[int, str]:
    ids = {i for i in ids if isinstance(i, int) and not isinstance(i, bool)}
    if not ids:
        return {}
    return {row.id: text(row) for row in db.session.scalars(select(model).where(model.id.in_(ids)))}


def _value(key: str, value: Any, polls: dict, users: dict, delegates: dict) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if key in ("poll_id", "parent_id") and value in polls:
        return polls[value]
    if key == "user_id" and value in users:
        return users[value]
    if key == "delegate_id" and value in delegates:
        return delegates[value]
    if isinstance(value, str) and (key, value) in VALUE_LABELS:
        return str(VALUE_LABELS[(key, value)])
    if isinstance(value, str) and len(value) >= 40 and all(c in "0123456789abcdef" for c in value):
        return value[:12] + "…"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def describe(events: list[AuditEvent]) -> list[dict]:
    """Each event as the page shows it: seq, at, actor (name), action (label and key), details
    [(label, text)] and the hash."""
    datas = []
    for e in events:
        try:
            data = json.loads(e.data or "{}")
        except ValueError:
            data = {"data": e.data}
        datas.append(data if isinstance(data, dict) else {"data": data})
    poll_ids = {d.get(k) for d in datas for k in ("poll_id", "parent_id")}
    user_ids = {d.get("user_id") for d in datas} | {e.actor_id for e in events if e.actor_id}
    polls = _names(Poll, poll_ids, lambda p: p.title)
    users = _names(User, user_ids, lambda u: u.display_name)
    delegates = _names(
        Delegate, {d.get("delegate_id") for d in datas}, lambda d: f"{d.full_name} ({d.code})"
    )
    out = []
    for e, data in zip(events, datas, strict=True):
        details = [
            (str(DETAIL_LABELS.get(k, k)), _value(k, v, polls, users, delegates))
            for k, v in data.items()
            if v is not None
        ]
        out.append(
            {
                "seq": e.seq,
                "at": e.at,
                "actor": users.get(e.actor_id, "") if e.actor_id else "",
                "actor_id": e.actor_id,
                "action": action_label(e.action),
                "action_key": e.action,
                "details": details,
                "hash": e.hash,
            }
        )
    return out


def filter_choices() -> dict:
    """The filters' options: every poll (title, with its congress's id) and every user."""
    polls = db.session.scalars(select(Poll).order_by(Poll.congress_id, Poll.agenda_order, Poll.id))
    users = db.session.scalars(select(User).order_by(User.username))
    return {
        "polls": [(p.id, p.title + (f" ({p.round})" if p.round > 1 else "")) for p in polls],
        "users": [(u.id, u.display_name) for u in users],
    }
