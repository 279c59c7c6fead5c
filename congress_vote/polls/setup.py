"""A poll's setup from the API body (the HTML form is turned into the same body by polls.forms):
every field parsed and checked, then written onto the draft poll.

- a poll's rules are always a valid `rules.Settings` (validated by `settings_for` on every write);
- candidates are stored in Vietnamese ballot order (`Candidate.ballot_order`, by given name);
- the counting committee are users holding the `counter` role and none of them is a candidate.
"""

from __future__ import annotations

import unicodedata
from typing import Literal, overload

from flask_babel import gettext as _

from ..audit.services import canonical
from ..auth.models import User
from ..congress.fields import clean_name
from ..congress.models import Delegate
from ..errors import ServiceError
from ..extensions import db
from ..i18n.collation import name_sort_key
from ..ids import parse_id, parse_ids
from ..rules import RulesInputError, settings_for
from ..seal.sealing import check_threshold
from .models import POLL_KINDS, Candidate, CommitteeMember, Poll, PollItem

MAX_CANDIDATES = 500
MAX_ITEMS = 200


def committee_ids(poll: Poll) -> list[int]:
    """Counting committee user ids, the head first."""
    members = sorted(poll.committee, key=lambda m: (not m.is_head, m.user_id))
    return [m.user_id for m in members]


def _norm_name(name: str) -> str:
    return " ".join(unicodedata.normalize("NFC", name or "").casefold().split())


def refuse(code: str, message: str, status: int = 422) -> ServiceError:
    """The error of a setup field (422 unless said)."""
    return ServiceError(code, message, status=status)


@overload
def _str(data: dict, key: str, max_len: int, required: Literal[True] = True) -> str: ...
@overload
def _str(data: dict, key: str, max_len: int, required: bool) -> str | None: ...
def _str(data: dict, key: str, max_len: int, required: bool = True) -> str | None:
    value = data.get(key)
    if value is None:
        if required:
            raise refuse("bad_request", _("Missing field: %(field)s.", field=key), 400)
        return None
    if not isinstance(value, str):
        raise refuse("bad_request", _("%(field)s must be a string.", field=key), 400)
    # As a delegate's name: NFC, single spaces, no zero-width or bidi-override characters (two
    # names that look the same are the same name; none displays reversed).
    value = clean_name(value)
    if required and not value:
        raise refuse(f"missing_{key}", _("%(field)s must not be empty.", field=key))
    if len(value) > max_len:
        raise refuse(
            f"{key}_too_long",
            _("%(field)s is longer than %(limit)s characters.", field=key, limit=max_len),
        )
    return value


def _int(data: dict, key: str, default: int) -> int:
    value = data.get(key, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        raise refuse("bad_request", _("%(field)s must be an integer.", field=key), 400)
    if value < 0 or value > 1000:
        raise refuse(f"bad_{key}", _("%(field)s must be between 0 and 1000.", field=key))
    return value


def _parse_rules(value) -> str:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        raise refuse("bad_request", _("rules must be an object."), 400)
    value = dict(value)
    preset = value.pop("preset", None) or "vn-party"
    if not isinstance(preset, str):
        raise refuse("bad_rules", _("rules.preset must be a string."))
    try:
        settings = settings_for(preset, value)
    except RulesInputError as exc:
        raise refuse("bad_rules", str(exc)) from None
    return canonical(settings.to_dict())


def _parse_candidates(congress, value) -> list[dict]:
    if not isinstance(value, list):
        raise refuse("bad_request", _("candidates must be a list."), 400)
    if len(value) > MAX_CANDIDATES:
        raise refuse("too_many_candidates", _("At most %(n)s candidates.", n=MAX_CANDIDATES))
    out, seen = [], set()
    for n, c in enumerate(value, 1):
        if not isinstance(c, dict):
            raise refuse("bad_request", _("candidates[%(n)s] must be an object.", n=n), 400)
        name = _str(c, "full_name", 200)
        position = _str(c, "position", 200, required=False) or ""
        did = c.get("delegate_id")
        if did is not None:
            did = parse_id(did, f"candidates[{n}].delegate_id")
            d = db.session.get(Delegate, did)
            if d is None or d.congress_id != congress.id:
                raise refuse(
                    "unknown_delegate",
                    _("Candidate %(name)s: no such delegate in this congress.", name=name),
                )
        # Namesakes may stand together (issue 17): refused only when nothing tells the two
        # entries apart on the ballot (the same name, the same position, the same delegate or
        # none): give the position (or link the delegates) to tell them apart.
        key = (_norm_name(name), _norm_name(position), did)
        if key in seen:
            raise refuse(
                "duplicate_candidate",
                _(
                    "%(name)s is on the list twice with nothing to tell them apart: give each "
                    "one's position or link each to their delegate.",
                    name=name,
                ),
            )
        seen.add(key)
        origin = c.get("origin_id")  # set by counting.rounds for a further round; not in the API
        if origin is not None:
            origin_row = db.session.get(Candidate, origin) if isinstance(origin, int) else None
            if origin_row is None or origin_row.poll.congress_id != congress.id:
                raise refuse("unknown_candidate", _("No such candidate in this congress."))
        out.append(
            {
                "full_name": " ".join(name.split()),
                "position": position,
                "delegate_id": did,
                "origin_id": origin,
            }
        )
    return out


def _parse_items(value) -> list[str]:
    if not isinstance(value, list):
        raise refuse("bad_request", _("items must be a list."), 400)
    if len(value) > MAX_ITEMS:
        raise refuse("too_many_items", _("At most %(n)s items.", n=MAX_ITEMS))
    out, seen = [], set()
    for n, it in enumerate(value, 1):
        if not isinstance(it, dict):
            raise refuse("bad_request", _("items[%(n)s] must be an object.", n=n), 400)
        text = _str(it, "text", 5000)
        if _norm_name(text) in seen:
            raise refuse("duplicate_item", _("“%(text)s” is on the list twice.", text=text[:80]))
        seen.add(_norm_name(text))
        out.append(text)
    return out


def _parse_committee(value) -> list:
    value = parse_ids(value, "counting_committee")
    if len(set(value)) != len(value):
        raise refuse("duplicate_committee_member", _("A user is named twice in the committee."))
    users = []
    for uid in value:
        u = db.session.get(User, uid)
        if u is None:
            raise refuse("unknown_user", _("No staff user with id %(id)s.", id=uid))
        if not u.has_role("counter"):
            raise refuse(
                "not_a_counter", _("%(name)s does not hold the counter role.", name=u.display_name)
            )
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
            raise refuse(
                "committee_member_is_candidate",
                _(
                    "%(name)s is a candidate and cannot sit on the counting committee.",
                    name=u.display_name,
                ),
            )


def apply_setup(poll: Poll, congress, data: dict, creating: bool) -> None:
    """Validate `data` (the API body, all or some fields) and write it onto `poll`."""
    kind = poll.kind
    if creating or "kind" in data:
        new_kind = data.get("kind")
        if new_kind not in POLL_KINDS:
            raise refuse(
                "bad_kind", _("kind must be one of %(kinds)s.", kinds=", ".join(POLL_KINDS))
            )
        kind = new_kind
    title = _str(data, "title", 500) if (creating or "title" in data) else poll.title
    default_seats = 0 if kind == "resolution" else 1
    seats = _int(data, "seats", poll.seats if not creating else default_seats)
    alt = _int(data, "alternate_seats", poll.alternate_seats if not creating else 0)
    if kind == "resolution":
        seats, alt = 0, 0
    elif kind == "committee" and alt:
        raise refuse("bad_alternate_seats", _("Only a delegate slate has alternate seats."))
    elif seats + alt < 1:
        raise refuse("bad_seats", _("An election needs at least one seat."))
    secrecy = data.get("secrecy", poll.secrecy if not creating else "secret")
    if secrecy not in ("secret", "open"):
        raise refuse("bad_secrecy", _("secrecy must be 'secret' or 'open'."))
    rules = _parse_rules(data.get("rules")) if (creating or "rules" in data) else poll.rules

    candidates = items = None
    if kind == "resolution":
        if creating or "items" in data or "kind" in data:
            items = _parse_items(data.get("items") or [])
            if not items:
                raise refuse("no_items", _("A resolution needs at least one item."))
        if data.get("candidates"):
            raise refuse("candidates_on_resolution", _("A resolution has items, not candidates."))
    else:
        if creating or "candidates" in data or "kind" in data:
            candidates = _parse_candidates(congress, data.get("candidates") or [])
            if not candidates:
                raise refuse("no_candidates", _("An election needs at least one candidate."))
        if data.get("items"):
            raise refuse("items_on_election", _("An election has candidates, not items."))
    committee = None
    if creating or "counting_committee" in data:
        committee = _parse_committee(data.get("counting_committee") or [])
    check_cands = (
        candidates
        if candidates is not None
        else [{"full_name": c.full_name, "delegate_id": c.delegate_id} for c in poll.candidates]
    )
    if committee is not None or candidates is not None:
        users = (
            committee
            if committee is not None
            else [db.session.get(User, uid) for uid in committee_ids(poll)]
        )
        _check_committee_not_candidates(users, check_cands)

    poll.kind, poll.title, poll.seats, poll.alternate_seats = kind, title, seats, alt
    poll.secrecy, poll.rules = secrecy, rules
    if kind == "resolution":
        poll.candidates = []
    else:
        poll.items = []
    if candidates is not None:
        ordered = sorted(candidates, key=lambda c: (name_sort_key(c["full_name"]), c["position"]))
        poll.candidates = [
            Candidate(
                full_name=c["full_name"],
                position=c["position"],
                delegate_id=c["delegate_id"],
                origin_id=c.get("origin_id"),
                ballot_order=n,
            )
            for n, c in enumerate(ordered, 1)
        ]
    if items is not None:
        poll.items = [PollItem(text=t, position=n) for n, t in enumerate(items, 1)]
    if committee is not None:
        poll.committee = [
            CommitteeMember(user_id=u.id, is_head=(n == 0)) for n, u in enumerate(committee)
        ]
    if "seal_threshold" in data:  # how many key cards open the box (None: a majority)
        members = len(committee) if committee is not None else len(poll.committee)
        poll.seal_threshold = check_threshold(data["seal_threshold"], members)
