"""Delegate cards: the card code, its QR text, reissuing a card, and finding a delegate by card.

A delegate's card code is HMAC(SECRET_KEY, "card:<congress>:<delegate>:<nonce>") turned into a
17-character code (see codes.py); only SHA-256 of it is stored (`card_hash`, unique). The card's
QR holds `CV1:C:<code>`: compact (alphanumeric QR mode, version 2) and versioned so that a later
format can be told apart. Reissuing a card draws a new nonce, which cancels the old card.
Rotating SECRET_KEY would cancel every card: keep it for the congress.
"""

from __future__ import annotations

import secrets

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import bindparam, select
from sqlalchemy.orm import joinedload

from .. import codes
from ..audit.services import record
from ..errors import ServiceError
from ..extensions import db
from .models import Congress, Delegate

QR_PREFIX = "CV1:C:"


def new_card(d: Delegate) -> None:
    d.card_nonce = secrets.token_hex(16)
    # A unique placeholder until the id exists; the real hash needs the delegate id.
    d.card_hash = "pending:" + d.card_nonce


def seal_card(d: Delegate) -> None:
    d.card_hash = codes.code_hash(card_code(d))


def card_code(delegate: Delegate) -> str:
    """The delegate's current card code (17 characters, normalised, no dashes)."""
    key = current_app.config["SECRET_KEY"]
    return codes.derived_code(
        key, f"card:{delegate.congress_id}:{delegate.id}:{delegate.card_nonce}"
    )


def card_qr_text(delegate: Delegate) -> str:
    """What the card's QR holds: `CV1:C:<code>`."""
    return QR_PREFIX + card_code(delegate)


def reissue_card(delegate: Delegate, actor=None) -> str:
    """Draw a new card nonce: the old card stops working at once. Returns the new code."""
    delegate.card_nonce = secrets.token_hex(16)
    seal_card(delegate)
    db.session.flush()
    record(
        "delegate.card_reissued",
        actor=actor,
        congress_id=delegate.congress_id,
        data={"delegate_id": delegate.id},
    )
    return card_code(delegate)


def _card_lookup(text: str) -> str:
    """Normalised card code from QR text or a typed code; ServiceError for anything else."""
    s = (text or "").strip()
    if len(s) > 200:
        s = s[:200]
    upper = s.upper()
    if upper.startswith("CV1:"):
        if not upper.startswith(QR_PREFIX):
            raise ServiceError(
                "not_a_card_code",
                _("This QR code is not a delegate card (it is another document of the congress)."),
                status=422,
            )
        s = s[len(QR_PREFIX) :]
    code = codes.normalise(s)
    if code is None:
        raise ServiceError(
            "not_a_card_code",
            _(
                "Not a card code: scan the QR on the delegate card or type the code "
                "printed under it."
            ),
            status=422,
        )
    return code


def delegate_by_card(congress: Congress, text: str) -> Delegate | None:
    """The delegate of this congress whose current card reads `text` (QR text, printed code
    with or without dashes, any case); None for an unknown card or a card of another congress.
    Raises ServiceError 422 when `text` is not a card code at all."""
    d = db.session.scalar(
        select(Delegate).where(Delegate.card_hash == codes.code_hash(_card_lookup(text)))
    )
    if d is None or d.congress_id != congress.id:
        return None
    return d


# Built once (its compiled form is cached; building it is what each scan would pay). The branch
# comes in the same statement: the desk and the API show it with the delegate.
_BY_CARD_WITH_BRANCH = (
    select(Delegate)
    .options(joinedload(Delegate.branch))
    .where(Delegate.card_hash == bindparam("h"))
)


def find_card(congress: Congress, text: str) -> Delegate:
    """Like delegate_by_card, but 404 with a clear reason when no delegate matches."""
    d = db.session.scalar(_BY_CARD_WITH_BRANCH, {"h": codes.code_hash(_card_lookup(text))})
    if d is None:
        raise ServiceError(
            "unknown_card",
            _(
                "Unknown card: no delegate holds this card (it may "
                "have been replaced by a reissued card)."
            ),
            status=404,
        )
    if d.congress_id != congress.id:
        raise ServiceError(
            "card_of_another_congress", _("This card belongs to another congress."), status=404
        )
    return d
