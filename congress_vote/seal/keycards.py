"""Issuing key cards and finding a member's current card (issue 16; docs/sealed-box.md).

The database keeps only the public keys of a card; its secrets go to the caller once, to be
printed (seal/keycard_pdf.py) and forgotten. Nothing here logs or records a secret."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.services import record
from ..congress.models import Congress
from ..errors import ServiceError
from ..extensions import db
from ..polls.models import CommitteeMember, Poll
from .codes import CardSecrets, fingerprint, new_card
from .models import KeyCard


def issue_key_card(congress, user) -> tuple[KeyCard, CardSecrets]:
    """A new key card for `user` (a counter, for themself) in `congress`: a fresh random seed,
    the public keys stored, an audit event with the fingerprints only. It becomes the member's
    current card; older cards stay (the polls sealed before hold shares encrypted to them).
    Flushes; the caller commits the one transaction."""
    if user is None or not user.has_role("counter"):
        raise ServiceError(
            "forbidden", _("Only a member of a counting committee prints a key card."), status=403
        )
    secrets = new_card()
    card = KeyCard(
        congress_id=congress.id,
        user_id=user.id,
        opening_public=secrets.opening_public,
        signing_public=secrets.signing_public,
    )
    db.session.add(card)
    db.session.flush()
    record(
        "key_card.issued",
        actor=user,
        congress_id=congress.id,
        data={
            "key_card_id": card.id,
            "user_id": user.id,
            "opening_fingerprint": fingerprint(card.opening_public),
            "signing_fingerprint": fingerprint(card.signing_public),
        },
    )
    return card, secrets


def current_card(congress_id: int, user_id: int) -> KeyCard | None:
    """The member's newest card in the congress, or None."""
    return db.session.scalars(
        select(KeyCard)
        .where(KeyCard.congress_id == congress_id, KeyCard.user_id == user_id)
        .order_by(KeyCard.id.desc())
        .limit(1)
    ).first()


def cards_for(congress_id: int, user_ids: Iterable[int]) -> dict[int, KeyCard]:
    """{user id: current card} of those of `user_ids` who have one in the congress."""
    ids = list(user_ids)
    if not ids:
        return {}
    out: dict[int, KeyCard] = {}
    rows = db.session.scalars(
        select(KeyCard)
        .where(KeyCard.congress_id == congress_id, KeyCard.user_id.in_(ids))
        .order_by(KeyCard.id)
    )
    for card in rows:
        out[card.user_id] = card  # ascending ids: the newest wins
    return out


def card_fingerprints(card: KeyCard) -> dict[str, str]:
    """``{opening, signing}`` fingerprints of a card, as printed on it."""
    return {
        "opening": fingerprint(card.opening_public),
        "signing": fingerprint(card.signing_public),
    }


def member_congresses(user) -> list[dict]:
    """The congresses in which `user` sits on some poll's counting committee, newest first,
    each ``{congress, card, fingerprints}`` (card None until printed): the account page's
    key-card section."""
    congresses = db.session.scalars(
        select(Congress)
        .where(
            Congress.id.in_(
                select(Poll.congress_id)
                .join(CommitteeMember, CommitteeMember.poll_id == Poll.id)
                .where(CommitteeMember.user_id == user.id)
            )
        )
        .order_by(Congress.id.desc())
    ).all()
    out = []
    for c in congresses:
        card = current_card(c.id, user.id)
        out.append(
            {
                "congress": c,
                "card": card,
                "fingerprints": card_fingerprints(card) if card is not None else None,
            }
        )
    return out
