"""The projector: what the hall's screen shows, and the chair's choice of it.

The chair chooses on the console (or `PUT /api/v1/congresses/{cid}/projector`) one of
``PROJECTOR_MODES``: a poll, attendance and quorum, a message, nothing, or ``auto``. The screen
shows the chair's *last decision*: the last choice made, unless a poll was opened, closed or
published after it (by the audit log's order), in which case it shows that poll. In ``auto``
(and when nobody has chosen) it follows the poll of the chair's last open/close/publish; with no
such action on record, an open poll, else the one closed last.

Guarantee (as before the choice existed): `screen_state` is built from public-safe data only.
Whatever is chosen, a poll's result (names, votes, percentages, bars) appears only once the poll
is ``published``; before, only its title, its status and the turnout.
"""

from __future__ import annotations

import hashlib
import json
from fractions import Fraction

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.models import AuditEvent
from ..audit.services import record
from ..ballots.services import turnout
from ..congress.attendance import attendance
from ..congress.models import Congress
from ..db import utcnow
from ..errors import ServiceError
from ..extensions import db
from ..polls.models import Poll
from ..polls.services import polls_of, settings_of
from ..polls.status import AFTER_CLOSE
from .models import PROJECTOR_MODES, ProjectorChoice
from .services import public_result

#: the chair's poll actions the screen follows
POLL_ACTIONS = ("poll.opened", "poll.closed", "poll.published")
CHOICE_ACTION = "projector.chosen"
MESSAGE_MAX = 300


# ---- the choice ------------------------------------------------------------------------------


def get_choice(congress: Congress) -> ProjectorChoice:
    """The stored choice, or a transient ``auto`` one (nothing chosen yet)."""
    row = db.session.get(ProjectorChoice, congress.id)
    return row or ProjectorChoice(congress_id=congress.id, mode="auto")


def choice_to_dict(row: ProjectorChoice) -> dict:
    return {
        "mode": row.mode,
        "poll_id": row.poll_id,
        "message": row.message,
        "updated_at": row.updated_at.isoformat() if row.updated_at else None,
    }


def set_choice(congress: Congress, data: dict, actor) -> ProjectorChoice:
    """Store the chair's choice (console form and API alike). 422 for an unknown mode, a missing
    or foreign poll, an empty or over-long message. One audit event ``projector.chosen``."""
    mode = (data.get("mode") or "").strip()
    if mode not in PROJECTOR_MODES:
        raise ServiceError("bad_mode", _("Choose what the screen shows."), status=422)
    poll_id = data.get("poll_id") if mode == "poll" else None
    message = (data.get("message") or "").strip() if mode == "message" else None
    if mode == "poll":
        try:
            poll_id = int(poll_id) if poll_id not in (None, "") else None
        except (TypeError, ValueError):
            poll_id = None
        poll = db.session.get(Poll, poll_id) if poll_id else None
        if poll is None or poll.congress_id != congress.id:
            raise ServiceError(
                "unknown_poll", _("Choose a poll of this congress for the screen."), status=422
            )
    if mode == "message" and not message:
        raise ServiceError("empty_message", _("Write the message to show."), status=422)
    if message and len(message) > MESSAGE_MAX:
        raise ServiceError(
            "message_too_long",
            _("The message is too long (at most %(n)s characters).", n=MESSAGE_MAX),
            status=422,
        )
    row = db.session.get(ProjectorChoice, congress.id)
    if row is None:
        row = ProjectorChoice(congress_id=congress.id)
        db.session.add(row)
    row.mode, row.poll_id, row.message = mode, poll_id, message
    row.updated_at = utcnow()
    row.updated_by = getattr(actor, "id", actor)
    db.session.flush()
    record(
        CHOICE_ACTION,
        actor=actor,
        congress_id=congress.id,
        data={"mode": mode, "poll_id": poll_id, "message": message},
    )
    return row


# ---- what the screen shows -------------------------------------------------------------------


def _last_event(congress: Congress, actions: tuple[str, ...]) -> AuditEvent | None:
    return db.session.scalar(
        select(AuditEvent)
        .where(AuditEvent.congress_id == congress.id, AuditEvent.action.in_(actions))
        .order_by(AuditEvent.seq.desc())
        .limit(1)
    )


def _event_poll(congress: Congress, event: AuditEvent | None) -> Poll | None:
    if event is None:
        return None
    try:
        pid = json.loads(event.data or "{}").get("poll_id")
    except ValueError:
        return None
    poll = db.session.get(Poll, pid) if isinstance(pid, int) else None
    return poll if poll is not None and poll.congress_id == congress.id else None


def _fallback_poll(congress: Congress) -> Poll | None:
    """No poll action on record: an open poll, else the one closed last."""
    polls = polls_of(congress.id)
    open_polls = [p for p in polls if p.status == "open"]
    if open_polls:
        return max(open_polls, key=lambda p: (p.opened_at is not None, p.opened_at or 0, p.id))
    after = [p for p in polls if p.status in AFTER_CLOSE]
    if not after:
        return None
    return max(after, key=lambda p: (p.closed_at is not None, p.closed_at or 0, p.id))


def shown(congress: Congress) -> tuple[str, Poll | None, str | None, str]:
    """(what, poll, message, source): what the screen shows now — ``poll``, ``attendance``,
    ``message`` or ``blank`` — and why: ``choice`` (the chair chose it) or ``auto``."""
    choice = get_choice(congress)
    last = _last_event(congress, (*POLL_ACTIONS, CHOICE_ACTION))
    chosen_last = last is not None and last.action == CHOICE_ACTION
    if choice.mode != "auto" and (chosen_last or last is None):
        if choice.mode == "poll":
            poll = db.session.get(Poll, choice.poll_id) if choice.poll_id else None
            if poll is not None:
                return "poll", poll, None, "choice"
        else:
            return choice.mode, None, choice.message, "choice"
    event = last if last is not None and not chosen_last else _last_event(congress, POLL_ACTIONS)
    poll = _event_poll(congress, event) or _fallback_poll(congress)
    return ("poll" if poll else "attendance"), poll, None, "auto"


def _bars(result: dict, settings: dict) -> dict:
    """Each candidate's bar (its votes as a share of the denominator, 0–100) and the threshold
    line (the rules' fraction of the denominator, "more than half" by default)."""
    denominator = int(result.get("denominator") or 0)
    try:
        fraction = Fraction(str(settings.get("fraction") or "1/2"))
    except (ValueError, ZeroDivisionError):
        fraction = Fraction(1, 2)
    for c in result["candidates"]:
        share = (100 * int(c.get("votes") or 0) / denominator) if denominator else 0
        c["bar"] = round(min(100.0, share), 2)
    return {
        "threshold": round(float(fraction) * 100, 2),
        "threshold_votes": f"{float(fraction * denominator):g}" if denominator else None,
        "fraction": f"{fraction.numerator}/{fraction.denominator}",
        "strict": bool(settings.get("strict", True)),
    }


def screen_state(congress: Congress) -> dict:
    """The projector's state, public-safe: idle or attendance, message, blank, upcoming,
    voting, counting or result (see the module docstring)."""
    att = attendance(congress)
    state: dict = {
        "congress": {
            "id": congress.id,
            "name": congress.name,
            "organisation": congress.organisation,
            "term": congress.term,
        },
        "attendance": {
            k: att.get(k)
            for k in (
                "summoned",
                "present",
                "voters_summoned",
                "voters_present",
                "excused",
                "denominator",
                "quorum_fraction",
                "quorum_needed",
                "quorum_met",
            )
        },
    }
    what, poll, message, source = shown(congress)
    state["source"] = source
    if what == "message":
        state["state"], state["message"] = "message", message
    elif what == "blank":
        state["state"] = "blank"
    elif poll is None:
        state["state"] = "idle" if source == "auto" else "attendance"
    else:
        state["poll"] = {"id": poll.id, "title": poll.title, "kind": poll.kind, "round": poll.round}
        if poll.status == "draft":
            state["state"] = "upcoming"
        elif poll.status == "open":
            t = turnout(poll)
            state["state"] = "voting"
            state["turnout"] = {
                "cast": int(t.get("cast") or 0),
                "issued": int(t.get("issued") or 0),
                "voters_present": int(t.get("voters_present") or 0),
            }
        elif poll.status == "published":
            state["state"] = "result"
            result = public_result(poll)
            if result is not None:
                result["threshold"] = _bars(result, settings_of(poll).to_dict())
            state["result"] = result
        else:
            state["state"] = "counting"
    state["version"] = hashlib.sha256(
        json.dumps(state, sort_keys=True, default=str).encode()
    ).hexdigest()[:16]
    return state
