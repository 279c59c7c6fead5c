"""Sealing a secret poll at its opening and sealing each tablet ballot as it is cast
(docs/sealed-box.md, "Sealing" and "Casting").

- :func:`seal_poll` (called by ``polls.services.open_poll``, in its transaction): a fresh box
  key for the poll's counting committee, its private half split ``threshold``-of-``members``,
  each share encrypted to the member's current key card; 409 ``key_cards_missing`` while a
  member has no card. The private key is never stored.
- :func:`seal_choice` and :func:`store_sealed` (called by ``ballots.services.cast_ballot``, in
  its transaction): the ballot's canonical JSON sealed to the box key and stored under a random
  id; its tracker, the receipt, is kept on the token row (set by the cast's consuming UPDATE)
  until the opening.
"""

from __future__ import annotations

import json
import secrets

from flask_babel import gettext as _
from sqlalchemy import func, insert, select

from ..errors import ServiceError
from ..extensions import db
from .box import default_threshold, new_box, seal_ballot, tracker
from .keycards import cards_for
from .models import BoxShare, KeyCard, PollTracker, SealedBallot

_SEALED = SealedBallot.__table__
_INSERT_SEALED = insert(_SEALED)


def _members(poll) -> list[int]:
    return [m.user_id for m in sorted(poll.committee, key=lambda m: (not m.is_head, m.user_id))]


def is_sealed(poll) -> bool:
    """A poll whose tablet ballots are sealed (a secret poll opened since sealing exists)."""
    return poll.seal_public is not None


def check_threshold(value, members: int | None) -> int | None:
    """A poll body's ``seal_threshold``: None (the default) or 1..members. 422 otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ServiceError("bad_request", _("seal_threshold must be an integer."), status=400)
    if value < 1 or (members is not None and members and value > members):
        raise ServiceError(
            "bad_seal_threshold",
            _(
                "seal_threshold must be between 1 and the number of counting committee "
                "members (%(n)s).",
                n=members or 1,
            ),
            status=422,
        )
    return value


def seal_poll(poll) -> dict | None:
    """Seal a secret poll as it opens (flushes; the caller commits with the opening). Answers
    ``{threshold, members, public_key}``, None for a named poll (not sealed)."""
    if poll.secrecy != "secret":
        return None
    members = _members(poll)
    if not members:
        raise ServiceError(
            "no_counting_committee",
            _("Name the counting committee first: they hold the keys of the ballot box."),
            status=409,
        )
    cards = cards_for(poll.congress_id, members)
    missing = [uid for uid in members if uid not in cards]
    if missing:
        raise ServiceError(
            "key_cards_missing",
            _(
                "%(n)s member(s) of the counting committee have no key card yet: each prints "
                "their own key card before the poll opens.",
                n=len(missing),
            ),
            status=409,
            missing=missing,
        )
    threshold = check_threshold(poll.seal_threshold, len(members)) or default_threshold(
        len(members)
    )
    public, shares = new_box([(cards[u].id, cards[u].opening_public) for u in members], threshold)
    poll.seal_public = public
    poll.seal_threshold = threshold
    db.session.add_all(BoxShare(poll_id=poll.id, key_card_id=c, share=s) for c, s in shares)
    db.session.flush()
    return seal_info(poll)


def seal_info(poll) -> dict | None:
    """``{threshold, members, public_key}`` of a sealed poll (None otherwise)."""
    if not is_sealed(poll):
        return None
    return {
        "threshold": poll.seal_threshold,
        "members": len(poll.committee),
        "public_key": poll.seal_public.hex(),
    }


# ---- casting --------------------------------------------------------------------------------


def sealed_plaintext(choice: str, invalid_reason: str | None = None) -> bytes:
    """What is sealed: the ballot row's content (canonical JSON), nothing about its casting."""
    return json.dumps(
        {"choice": choice, "invalid_reason": invalid_reason},
        ensure_ascii=False,
        sort_keys=True,
        separators=(",", ":"),
    ).encode()


def seal_choice(box_public: bytes, choice: str, invalid_reason=None) -> tuple[bytes, str]:
    """The checked choice sealed to the box, and its tracker (the receipt, which the cast keeps
    on the token row until the opening)."""
    ciphertext = seal_ballot(box_public, sealed_plaintext(choice, invalid_reason))
    return ciphertext, tracker(ciphertext)


def store_sealed(poll_id: int, ciphertext: bytes) -> None:
    """Store a sealed ballot under a random id (nothing else: no token, time or kiosk)."""
    db.session.execute(
        _INSERT_SEALED,
        {"id": secrets.token_hex(16), "poll_id": poll_id, "ciphertext": ciphertext},
    )


# ---- trackers -------------------------------------------------------------------------------


def trackers_of(poll) -> list[str]:
    """The sorted trackers of a sealed poll: those the opening kept, or before it those of the
    sealed ballots in the box now."""
    kept = list(
        db.session.scalars(
            select(PollTracker.tracker)
            .where(PollTracker.poll_id == poll.id)
            .order_by(PollTracker.tracker)
        )
    )
    if kept:
        return kept
    return sorted(
        tracker(ct)
        for ct in db.session.scalars(
            select(SealedBallot.ciphertext).where(SealedBallot.poll_id == poll.id)
        )
    )


def sealed_count(poll) -> int:
    """How many sealed ballots are in the box (0 after the opening)."""
    return (
        db.session.scalar(
            select(func.count()).select_from(SealedBallot).where(SealedBallot.poll_id == poll.id)
        )
        or 0
    )


# ---- the seal on the console and counting pages ----------------------------------------------


def seal_view(poll) -> dict | None:
    """What the pages show of a secret poll's seal: the threshold, each committee member and
    whether they hold a key card (and one that holds a share of this box), the trackers in the
    box (or found at the opening), and whether the box is still closed. None for a named poll."""
    if poll.secrecy != "secret":
        return None
    from ..auth.models import User  # the members' names only

    members = _members(poll)
    cards = cards_for(poll.congress_id, members)
    shared = set(
        db.session.scalars(
            select(KeyCard.user_id)
            .join(BoxShare, BoxShare.key_card_id == KeyCard.id)
            .where(BoxShare.poll_id == poll.id)
        )
    )
    users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(members)))}
    in_box = sealed_count(poll)
    return {
        "sealed": is_sealed(poll),
        "closed_box": bool(shared),
        "threshold": poll.seal_threshold or (default_threshold(len(members)) if members else None),
        "members": [
            {
                "id": uid,
                "name": getattr(users.get(uid), "display_name", str(uid)),
                "has_card": uid in cards,
                "holds_share": uid in shared,
            }
            for uid in members
        ],
        "in_box": in_box,
        "trackers": in_box or (len(trackers_of(poll)) if is_sealed(poll) else 0),
        "public_key": poll.seal_public.hex() if poll.seal_public else None,
    }
