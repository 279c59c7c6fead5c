"""Poll setup and lifecycle: draft → open → closed (→ counted → certified → published, set by the
counting and chair areas).

Guarantees:
- a poll's rules are always a valid `rules.Settings` (validated by `settings_for` on every write);
- candidates are stored in Vietnamese ballot order (`Candidate.ballot_order`, by given name);
- the counting committee are users holding the `counter` role and none of them is a candidate;
- the setup (candidates, items, seats, rules, committee) can change only while the poll is a
  draft; `setup_fingerprint` is fixed when the poll opens and is printed on every slip;
- closing voids every unused ballot and freezes the attendance figures the count will use;
- every transition is recorded in the audit chain.
"""
from __future__ import annotations

import hashlib
import json
import unicodedata

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from ..audit.services import canonical, record
from ..auth.models import User
from ..ballots.batch_pdfs import drop_poll_pdfs
from ..ballots.models import BallotToken, NamedVote
from ..congress.attendance import attendance
from ..congress.fields import clean_name
from ..congress.models import Congress, Delegate
from ..db import utcnow
from ..errors import ServiceError
from ..extensions import db
from ..i18n.collation import name_sort_key
from ..ids import parse_id, parse_ids
from ..rules import RulesInputError, Settings, candidate_list_warning, settings_for
from . import status as poll_status
from .models import POLL_KINDS, Candidate, CommitteeMember, Poll, PollItem
from .status import PollStatus, require_status

MAX_CANDIDATES = 500
MAX_ITEMS = 200


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


def committee_ids(poll: Poll) -> list[int]:
    """Counting committee user ids, the head first."""
    members = sorted(poll.committee, key=lambda m: (not m.is_head, m.user_id))
    return [m.user_id for m in members]


def _norm_name(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name or "").casefold().split())


def warnings_of(poll: Poll) -> list[dict]:
    """Advisory warnings (never blocking): candidate list size, no counting committee."""
    out = []
    if poll.kind != "resolution":
        seats = poll.seats + (poll.alternate_seats if poll.kind == "slate" else 0)
        w = candidate_list_warning(seats, len(poll.candidates))
        if w is not None:
            # The rules engine speaks English; the message is said again in the page's language.
            message = _("%(n)s candidates for %(seats)s seats; the usual list has %(low)s to "
                        "%(high)s names", n=w.candidates, seats=w.seats, low=w.min_candidates,
                        high=w.max_candidates)
            out.append({"code": w.code, "message": message, "min_candidates": w.min_candidates,
                        "max_candidates": w.max_candidates})
    if poll.secrecy == "secret" and not poll.committee:
        out.append({"code": "no_counting_committee",
                    "message": _("No counting committee is named for this poll.")})
    return out


def poll_to_dict(poll: Poll) -> dict:
    """The poll in the API shape (docs/api.md, "Polls"), plus setup_fingerprint, warnings and
    congress_id."""
    return {
        "id": poll.id, "congress_id": poll.congress_id, "kind": poll.kind, "title": poll.title,
        "status": poll.status, "round": poll.round, "parent_id": poll.parent_id,
        "seats": poll.seats, "alternate_seats": poll.alternate_seats, "secrecy": poll.secrecy,
        "rules": json.loads(poll.rules or "{}"),
        "candidates": [{"id": c.id, "full_name": c.full_name, "position": c.position,
                        "ballot_order": c.ballot_order, "delegate_id": c.delegate_id}
                       for c in poll.candidates],
        "items": [{"id": i.id, "text": i.text} for i in poll.items],
        "counting_committee": committee_ids(poll),
        "setup_fingerprint": poll.setup_fingerprint,
        "opened_at": poll.opened_at.isoformat() if poll.opened_at else None,
        "closed_at": poll.closed_at.isoformat() if poll.closed_at else None,
        "warnings": warnings_of(poll),
    }


def setup_fingerprint(poll: Poll) -> str:
    """SHA-256 of the canonical setup: what a printed slip must match."""
    setup = {
        "poll_id": poll.id, "congress_id": poll.congress_id, "kind": poll.kind,
        "title": poll.title, "round": poll.round, "seats": poll.seats,
        "alternate_seats": poll.alternate_seats, "secrecy": poll.secrecy,
        "candidates": [[c.id, c.full_name, c.position] for c in poll.candidates],
        "items": [[i.id, i.text] for i in poll.items],
        "rules": json.loads(poll.rules or "{}"),
        "committee": committee_ids(poll),
    }
    return hashlib.sha256(canonical(setup).encode()).hexdigest()


# ---- parsing the API body ----------------------------------------------------------------------

def _bad(code: str, message: str, status: int = 422):
    return ServiceError(code, message, status=status)


def _str(data: dict, key: str, max_len: int, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise _bad("bad_request", _("Missing field: %(field)s.", field=key), 400)
        return None
    if not isinstance(value, str):
        raise _bad("bad_request", _("%(field)s must be a string.", field=key), 400)
    # As a delegate's name: NFC, single spaces, no zero-width or bidi-override characters (two
    # names that look the same are the same name; none displays reversed).
    value = clean_name(value)
    if required and not value:
        raise _bad(f"missing_{key}", _("%(field)s must not be empty.", field=key))
    if len(value) > max_len:
        raise _bad(f"{key}_too_long", _("%(field)s is longer than %(limit)s characters.",
                                                 field=key, limit=max_len))
    return value


def _int(data: dict, key: str, default: int | None) -> int | None:
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise _bad("bad_request", _("%(field)s must be an integer.", field=key), 400)
    if value < 0 or value > 1000:
        raise _bad(f"bad_{key}", _("%(field)s must be between 0 and 1000.", field=key))
    return value


def _parse_rules(value) -> str:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise _bad("bad_request", _("rules must be an object."), 400)
    value = dict(value)
    preset = value.pop("preset", None) or "vn-party"
    if not isinstance(preset, str):
        raise _bad("bad_rules", _("rules.preset must be a string."))
    try:
        settings = settings_for(preset, value)
    except RulesInputError as exc:
        raise _bad("bad_rules", str(exc)) from None
    return canonical(settings.to_dict())


def _parse_candidates(congress, value) -> list[dict]:
    if not isinstance(value, list):
        raise _bad("bad_request", _("candidates must be a list."), 400)
    if len(value) > MAX_CANDIDATES:
        raise _bad("too_many_candidates", _("At most %(n)s candidates.", n=MAX_CANDIDATES))
    out, seen = [], set()
    for n, c in enumerate(value, 1):
        if not isinstance(c, dict):
            raise _bad("bad_request", _("candidates[%(n)s] must be an object.", n=n), 400)
        name = _str(c, "full_name", 200)
        position = _str(c, "position", 200, required=False) or ""
        did = c.get("delegate_id")
        if did is not None:
            did = parse_id(did, f"candidates[{n}].delegate_id")
            d = db.session.get(Delegate, did)
            if d is None or d.congress_id != congress.id:
                raise _bad("unknown_delegate", _("Candidate %(name)s: no such delegate in this "
                             "congress.", name=name))
        key = (_norm_name(name), did)
        if key in seen:
            raise _bad("duplicate_candidate", _("%(name)s is on the list twice.", name=name))
        seen.add(key)
        out.append({"full_name": " ".join(name.split()), "position": position,
                    "delegate_id": did})
    return out


def _parse_items(value) -> list[str]:
    if not isinstance(value, list):
        raise _bad("bad_request", _("items must be a list."), 400)
    if len(value) > MAX_ITEMS:
        raise _bad("too_many_items", _("At most %(n)s items.", n=MAX_ITEMS))
    out, seen = [], set()
    for n, it in enumerate(value, 1):
        if not isinstance(it, dict):
            raise _bad("bad_request", _("items[%(n)s] must be an object.", n=n), 400)
        text = _str(it, "text", 5000)
        if _norm_name(text) in seen:
            raise _bad("duplicate_item", _("“%(text)s” is on the list twice.", text=text[:80]))
        seen.add(_norm_name(text))
        out.append(text)
    return out


def _parse_committee(value) -> list:
    value = parse_ids(value, "counting_committee")
    if len(set(value)) != len(value):
        raise _bad("duplicate_committee_member", _("A user is named twice in the committee."))
    users = []
    for uid in value:
        u = db.session.get(User, uid)
        if u is None:
            raise _bad("unknown_user", _("No staff user with id %(id)s.", id=uid))
        if not u.has_role("counter"):
            raise _bad("not_a_counter", _("%(name)s does not hold the counter role.",
                                                 name=u.display_name))
        users.append(u)
    return users


def _check_committee_not_candidates(users, candidates: list[dict]) -> None:
    """Counting committee members must not be candidates (docs/rules.md, "Who is who")."""
    names = set()
    for c in candidates:
        names.add(_norm_name(c["full_name"]))
        if c.get("delegate_id"):
            d = db.session.get(Delegate, c["delegate_id"])
            if d is not None:
                names.add(_norm_name(d.full_name))
    for u in users:
        if _norm_name(u.full_name) and _norm_name(u.full_name) in names:
            raise _bad("committee_member_is_candidate",
                       _("%(name)s is a candidate and cannot sit on the counting "
                         "committee.", name=u.display_name))


def _apply(poll: Poll, congress, data: dict, creating: bool) -> None:
    """Validate `data` (the API body, all or some fields) and write it onto `poll`."""
    kind = poll.kind
    if creating or "kind" in data:
        kind = data.get("kind")
        if kind not in POLL_KINDS:
            raise _bad("bad_kind", _("kind must be one of %(kinds)s.", kinds=", ".join(POLL_KINDS)))
    title = _str(data, "title", 500) if (creating or "title" in data) else poll.title
    default_seats = 0 if kind == "resolution" else 1
    seats = _int(data, "seats", poll.seats if not creating else default_seats)
    alt = _int(data, "alternate_seats", poll.alternate_seats if not creating else 0)
    if kind == "resolution":
        seats, alt = 0, 0
    elif kind == "committee" and alt:
        raise _bad("bad_alternate_seats", _("Only a delegate slate has alternate seats."))
    elif seats + alt < 1:
        raise _bad("bad_seats", _("An election needs at least one seat."))
    secrecy = data.get("secrecy", poll.secrecy if not creating else "secret")
    if secrecy not in ("secret", "open"):
        raise _bad("bad_secrecy", _("secrecy must be 'secret' or 'open'."))
    rules = _parse_rules(data.get("rules")) if (creating or "rules" in data) else poll.rules

    candidates = items = None
    if kind == "resolution":
        if creating or "items" in data or "kind" in data:
            items = _parse_items(data.get("items") or [])
            if not items:
                raise _bad("no_items", _("A resolution needs at least one item."))
        if data.get("candidates"):
            raise _bad("candidates_on_resolution", _("A resolution has items, not candidates."))
    else:
        if creating or "candidates" in data or "kind" in data:
            candidates = _parse_candidates(congress, data.get("candidates") or [])
            if not candidates:
                raise _bad("no_candidates", _("An election needs at least one candidate."))
        if data.get("items"):
            raise _bad("items_on_election", _("An election has candidates, not items."))
    committee = None
    if creating or "counting_committee" in data:
        committee = _parse_committee(data.get("counting_committee") or [])
    check_cands = candidates if candidates is not None else [
        {"full_name": c.full_name, "delegate_id": c.delegate_id} for c in poll.candidates]
    if committee is not None or candidates is not None:
        users = committee if committee is not None else [
            db.session.get(User, uid) for uid in committee_ids(poll)]
        _check_committee_not_candidates(users, check_cands)

    poll.kind, poll.title, poll.seats, poll.alternate_seats = kind, title, seats, alt
    poll.secrecy, poll.rules = secrecy, rules
    if kind == "resolution":
        poll.candidates = []
    else:
        poll.items = []
    if candidates is not None:
        ordered = sorted(candidates, key=lambda c: (name_sort_key(c["full_name"]), c["position"]))
        poll.candidates = [Candidate(full_name=c["full_name"], position=c["position"],
                                     delegate_id=c["delegate_id"], ballot_order=n)
                           for n, c in enumerate(ordered, 1)]
    if items is not None:
        poll.items = [PollItem(text=t, position=n) for n, t in enumerate(items, 1)]
    if committee is not None:
        poll.committee = [CommitteeMember(user_id=u.id, is_head=(n == 0))
                          for n, u in enumerate(committee)]


# ---- verbs -------------------------------------------------------------------------------------

def create_poll(congress, data: dict, actor) -> Poll:
    """Create a draft poll from the API body (docs/api.md, "Polls"). 400 malformed, 422 broken
    rule."""
    if not isinstance(data, dict):
        raise _bad("bad_request", _("The body must be a JSON object."), 400)
    poll = Poll(congress_id=congress.id, status=PollStatus.DRAFT.value, round=1,
                candidates=[], items=[], committee=[])
    _apply(poll, congress, data, creating=True)
    last = db.session.scalar(select(func.max(Poll.agenda_order))
                             .where(Poll.congress_id == congress.id)) or 0
    poll.agenda_order = last + 1
    db.session.add(poll)
    db.session.flush()
    record("poll.created", actor=actor, congress_id=congress.id,
           data={"poll_id": poll.id, "kind": poll.kind, "title": poll.title,
                 "secrecy": poll.secrecy, "seats": poll.seats,
                 "candidates": len(poll.candidates), "items": len(poll.items)})
    return poll


def update_poll(poll: Poll, data: dict, actor) -> Poll:
    """Change a draft poll (any subset of the creation fields). 409 once it is open: the ballot
    and its candidates are frozen then."""
    if poll.status != PollStatus.DRAFT:
        raise ServiceError("candidates_frozen" if ("candidates" in data or "items" in data)
                           else "poll_not_draft",
                           _("The poll is open or over: its setup and candidates are frozen."),
                           status=409)
    congress = db.session.get(Congress, poll.congress_id)
    _apply(poll, congress, data, creating=False)
    db.session.flush()
    record("poll.updated", actor=actor, congress_id=poll.congress_id,
           data={"poll_id": poll.id, "fields": sorted(k for k in data if isinstance(k, str))})
    return poll


def open_poll(poll: Poll, actor) -> Poll:
    """draft → open (the chair). Fixes the setup fingerprint printed on the slips."""
    require_status(poll, PollStatus.DRAFT)
    if poll.kind == "resolution" and not poll.items:
        raise _bad("no_items", _("A resolution needs at least one item."))
    if poll.kind != "resolution" and not poll.candidates:
        raise _bad("no_candidates", _("An election needs at least one candidate."))
    db.session.flush()  # candidate ids go into the fingerprint
    poll_status.open_(poll)
    poll.opened_at = utcnow()
    poll.setup_fingerprint = setup_fingerprint(poll)
    db.session.flush()
    record("poll.opened", actor=actor, congress_id=poll.congress_id,
           data={"poll_id": poll.id, "setup_fingerprint": poll.setup_fingerprint})
    return poll


def close_poll(poll: Poll, actor) -> Poll:
    """open → closed (the chair). Unused ballots become void; the attendance is frozen."""
    require_status(poll, PollStatus.OPEN)
    issued = db.session.scalar(select(func.count()).select_from(BallotToken)
                               .where(BallotToken.poll_id == poll.id)) or 0
    voided = db.session.execute(
        update(BallotToken).where(BallotToken.poll_id == poll.id, BallotToken.state == "unused")
        .values(state="void")).rowcount
    named = db.session.scalar(select(func.count()).select_from(NamedVote)
                              .where(NamedVote.poll_id == poll.id)) or 0
    figures = attendance(db.session.get(Congress, poll.congress_id))
    figures.update({"ballots_issued": issued, "ballots_voided": voided, "named_votes": named})
    poll.attendance = canonical(figures)
    poll_status.close(poll)
    poll.closed_at = utcnow()
    # The kept batch PDFs (usable ballots until now) go with the close, in its transaction.
    pdfs = drop_poll_pdfs(poll.id)
    db.session.flush()
    record("poll.closed", actor=actor, congress_id=poll.congress_id,
           data={"poll_id": poll.id, "ballots_issued": issued, "ballots_voided": voided,
                 "batch_pdfs_deleted": pdfs})
    return poll


def polls_of(congress_id: int) -> list[Poll]:
    """The congress's polls in agenda order."""
    return list(db.session.scalars(select(Poll).where(Poll.congress_id == congress_id)
                                   .order_by(Poll.agenda_order, Poll.id)))
