"""Polls: create and edit a draft (its fields parsed and checked by polls.setup), open, close,
read. Status changes go through polls.status (→ counted → certified → published, by the
counting and chair areas).

Guarantees:
- the setup (candidates, items, seats, rules, committee) can change only while the poll is a
  draft; `setup_fingerprint` is fixed when the poll opens and is printed on every slip;
- closing voids every unused ballot and freezes the attendance figures the count will use;
- every transition is recorded in the audit chain.
"""

from __future__ import annotations

import hashlib
import json

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ..audit.services import canonical, record
from ..ballots.batch_pdfs import drop_poll_pdfs
from ..ballots.models import BallotToken, NamedVote
from ..congress.attendance import attendance
from ..congress.models import Congress
from ..db import rowcount, utcnow
from ..errors import ServiceError
from ..extensions import db
from ..rules import Settings, candidate_list_warning
from ..seal.sealing import seal_info, seal_poll
from . import status as poll_status
from .models import Poll
from .setup import apply_setup, committee_ids, refuse
from .status import PollStatus, require_status

# ---- helpers -----------------------------------------------------------------------------------


def get_poll(pid: int, lock: bool = False) -> Poll:
    """The poll or a 404 ServiceError. `lock` takes a row lock (PostgreSQL) for a transition."""
    stmt = select(Poll).where(Poll.id == pid)
    if lock:
        stmt = stmt.with_for_update()
    poll = db.session.scalar(stmt)
    if poll is None:
        raise ServiceError("unknown_poll", _("No such poll."), status=404)
    return poll


def settings_of(poll: Poll) -> Settings:
    """The poll's rules as a validated `rules.Settings`."""
    return Settings.from_dict(json.loads(poll.rules or "{}"))


def warnings_of(poll: Poll) -> list[dict]:
    """Advisory warnings (never blocking): candidate list size, no counting committee."""
    out = []
    if poll.kind != "resolution":
        seats = poll.seats + (poll.alternate_seats if poll.kind == "slate" else 0)
        w = candidate_list_warning(seats, len(poll.candidates))
        if w is not None:
            # The rules engine speaks English; the message is said again in the page's language.
            message = _(
                "%(n)s candidates for %(seats)s seats; the usual list has %(low)s to "
                "%(high)s names",
                n=w.candidates,
                seats=w.seats,
                low=w.min_candidates,
                high=w.max_candidates,
            )
            out.append(
                {
                    "code": w.code,
                    "message": message,
                    "min_candidates": w.min_candidates,
                    "max_candidates": w.max_candidates,
                }
            )
    if poll.secrecy == "secret" and not poll.committee:
        out.append(
            {
                "code": "no_counting_committee",
                "message": _("No counting committee is named for this poll."),
            }
        )
    return out


def poll_to_dict(poll: Poll) -> dict:
    """The poll in the API shape (docs/api.md, "Polls"), plus setup_fingerprint, warnings and
    congress_id."""
    return {
        "id": poll.id,
        "congress_id": poll.congress_id,
        "kind": poll.kind,
        "title": poll.title,
        "status": poll.status,
        "round": poll.round,
        "parent_id": poll.parent_id,
        "seats": poll.seats,
        "alternate_seats": poll.alternate_seats,
        "secrecy": poll.secrecy,
        "rules": json.loads(poll.rules or "{}"),
        "candidates": [
            {
                "id": c.id,
                "full_name": c.full_name,
                "position": c.position,
                "ballot_order": c.ballot_order,
                "delegate_id": c.delegate_id,
            }
            for c in poll.candidates
        ],
        "items": [{"id": i.id, "text": i.text} for i in poll.items],
        "counting_committee": committee_ids(poll),
        "setup_fingerprint": poll.setup_fingerprint,
        "opened_at": poll.opened_at.isoformat() if poll.opened_at else None,
        "closed_at": poll.closed_at.isoformat() if poll.closed_at else None,
        "warnings": warnings_of(poll),
        "seal_threshold": poll.seal_threshold,
        "seal": seal_info(poll),
    }


def setup_fingerprint(poll: Poll) -> str:
    """SHA-256 of the canonical setup: what a printed slip must match."""
    setup = {
        "poll_id": poll.id,
        "congress_id": poll.congress_id,
        "kind": poll.kind,
        "title": poll.title,
        "round": poll.round,
        "seats": poll.seats,
        "alternate_seats": poll.alternate_seats,
        "secrecy": poll.secrecy,
        "candidates": [[c.id, c.full_name, c.position] for c in poll.candidates],
        "items": [[i.id, i.text] for i in poll.items],
        "rules": json.loads(poll.rules or "{}"),
        "committee": committee_ids(poll),
    }
    return hashlib.sha256(canonical(setup).encode()).hexdigest()


# ---- verbs -------------------------------------------------------------------------------------


def create_poll(congress, data: dict, actor) -> Poll:
    """Create a draft poll from the API body (docs/api.md, "Polls"). 400 malformed, 422 broken
    rule."""
    if not isinstance(data, dict):
        raise refuse("bad_request", _("The body must be a JSON object."), 400)
    poll = Poll(
        congress_id=congress.id,
        status=PollStatus.DRAFT.value,
        round=1,
        candidates=[],
        items=[],
        committee=[],
    )
    apply_setup(poll, congress, data, creating=True)
    last = (
        db.session.scalar(
            select(func.max(Poll.agenda_order)).where(Poll.congress_id == congress.id)
        )
        or 0
    )
    poll.agenda_order = last + 1
    db.session.add(poll)
    db.session.flush()
    record(
        "poll.created",
        actor=actor,
        congress_id=congress.id,
        data={
            "poll_id": poll.id,
            "kind": poll.kind,
            "title": poll.title,
            "secrecy": poll.secrecy,
            "seats": poll.seats,
            "candidates": len(poll.candidates),
            "items": len(poll.items),
        },
    )
    return poll


def update_poll(poll: Poll, data: dict, actor) -> Poll:
    """Change a draft poll (any subset of the creation fields). 409 once it is open: the ballot
    and its candidates are frozen then."""
    if poll.status != PollStatus.DRAFT:
        raise ServiceError(
            "candidates_frozen" if ("candidates" in data or "items" in data) else "poll_not_draft",
            _("The poll is open or over: its setup and candidates are frozen."),
            status=409,
        )
    congress = db.session.get(Congress, poll.congress_id)
    apply_setup(poll, congress, data, creating=False)
    db.session.flush()
    record(
        "poll.updated",
        actor=actor,
        congress_id=poll.congress_id,
        data={"poll_id": poll.id, "fields": sorted(k for k in data if isinstance(k, str))},
    )
    return poll


def open_poll(poll: Poll, actor) -> Poll:
    """draft → open (the chair). Fixes the setup fingerprint printed on the slips; seals a
    secret poll's ballot box (seal.sealing: 409 key_cards_missing while a committee member has
    no key card)."""
    require_status(poll, PollStatus.DRAFT)
    if poll.kind == "resolution" and not poll.items:
        raise refuse("no_items", _("A resolution needs at least one item."))
    if poll.kind != "resolution" and not poll.candidates:
        raise refuse("no_candidates", _("An election needs at least one candidate."))
    db.session.flush()  # candidate ids go into the fingerprint
    poll_status.open_(poll)
    poll.opened_at = utcnow()
    poll.setup_fingerprint = setup_fingerprint(poll)
    seal = seal_poll(poll)  # a secret poll: a fresh box for its committee's key cards
    db.session.flush()
    record(
        "poll.opened",
        actor=actor,
        congress_id=poll.congress_id,
        data={"poll_id": poll.id, "setup_fingerprint": poll.setup_fingerprint, "seal": seal},
    )
    return poll


def close_poll(poll: Poll, actor) -> Poll:
    """open → closed (the chair). Unused ballots become void; the attendance is frozen."""
    require_status(poll, PollStatus.OPEN)
    issued = (
        db.session.scalar(
            select(func.count()).select_from(BallotToken).where(BallotToken.poll_id == poll.id)
        )
        or 0
    )
    voided = rowcount(
        db.session.execute(
            update(BallotToken)
            .where(BallotToken.poll_id == poll.id, BallotToken.state == "unused")
            .values(state="void")
        )
    )
    named = (
        db.session.scalar(
            select(func.count()).select_from(NamedVote).where(NamedVote.poll_id == poll.id)
        )
        or 0
    )
    figures = attendance(db.session.get_one(Congress, poll.congress_id))
    figures.update({"ballots_issued": issued, "ballots_voided": voided, "named_votes": named})
    poll.attendance = canonical(figures)
    poll_status.close(poll)
    poll.closed_at = utcnow()
    # The kept batch PDFs (usable ballots until now) go with the close, in its transaction.
    pdfs = drop_poll_pdfs(poll.id)
    db.session.flush()
    record(
        "poll.closed",
        actor=actor,
        congress_id=poll.congress_id,
        data={
            "poll_id": poll.id,
            "ballots_issued": issued,
            "ballots_voided": voided,
            "batch_pdfs_deleted": pdfs,
        },
    )
    return poll


def polls_of(congress_id: int) -> list[Poll]:
    """The congress's polls in agenda order."""
    return list(
        db.session.scalars(
            select(Poll).where(Poll.congress_id == congress_id).order_by(Poll.agenda_order, Poll.id)
        )
    )
