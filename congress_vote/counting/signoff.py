"""Sign-off: each committee member signs the current result digest with the signing code of
their key card (Ed25519 over ``seal.signing.signoff_message``: docs/sealed-box.md); the last
required signature certifies the poll. Complaints (minutes section 6) are written before
certification."""

from __future__ import annotations

import hmac
import json

from flask_babel import gettext as _
from sqlalchemy import delete, func, select

from ..audit.services import record
from ..auth.models import User
from ..db import rowcount, utcnow
from ..errors import ServiceError
from ..extensions import db
from ..i18n.collation import name_sort_key
from ..polls.committee import require_committee
from ..polls.models import Poll
from ..polls.services import settings_of
from ..polls.status import PollStatus, certify, refuse_locked
from ..seal.codes import BadKeyCode, fingerprint, parse_signing_code
from ..seal.keycards import current_card
from ..seal.models import KeyCard
from ..seal.signing import sign_signoff
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


def _signing_key(poll: Poll, uid: int, signing_code: str):
    """(the member's current card, the signing key of `signing_code`): 422 `bad_signing_code`
    if the code cannot be read (a typo is named), 409 `no_key_card` without a card, 403
    `wrong_key_card` if the code is not the current card's."""
    try:
        key = parse_signing_code(signing_code)
    except BadKeyCode as err:
        message = (
            _("The signing code has a typo: check it against your key card.")
            if err.reason == "typo"
            else _("That is an opening code: give the signing code (Mã ký) of your key card.")
            if err.reason == "wrong_kind"
            else _("That is not a signing code from a key card.")
        )
        raise ServiceError("bad_signing_code", message, status=422, reason=err.reason) from None
    card = current_card(poll.congress_id, uid)
    if card is None:
        raise ServiceError(
            "no_key_card",
            _("You have no key card in this congress: print yours on your account page first."),
            status=409,
        )
    if not hmac.compare_digest(bytes(key.verify_key), bytes(card.signing_public)):
        raise ServiceError(
            "wrong_key_card",
            _("This signing code is not from your current key card."),
            status=403,
        )
    return card, key


def sign_result(poll: Poll, user, digest: str, signing_code: str) -> Signoff:
    """A committee member signs the current result digest in their own session, with the
    signing code of their current key card (seal.signing: Ed25519 over ``congress-vote/
    signoff/v1 ‖ poll id ‖ digest``); the signature and the card are stored on the row.

    403 unless the user is on this poll's counting committee (an admin role alone never signs);
    409 `not_counted`, `stale_digest` (not the current result's digest), `already_signed`,
    `checks_failed` (a reconciliation check fails) or `certified`; 422 `bad_signing_code`, 409
    `no_key_card`, 403 `wrong_key_card` (someone else's or an older card). When the required
    number of members (rules setting signoff_required: all, or N) have signed, the poll is
    certified.
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
    card, key = _signing_key(poll, uid, signing_code)
    signature = sign_signoff(key, poll.id, row.digest)
    sig = Signoff(
        poll_id=poll.id,
        user_id=uid,
        digest=row.digest,
        signed_at=utcnow(),
        key_card_id=card.id,
        signature=signature,
    )
    db.session.add(sig)
    db.session.flush()
    record(
        "result.signed",
        actor=user,
        congress_id=poll.congress_id,
        data={
            "poll_id": poll.id,
            "digest": row.digest,
            "key_card_id": card.id,
            "signing_fingerprint": fingerprint(card.signing_public),
            "signature": signature.hex(),
        },
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


def signature_rows(poll: Poll) -> list[dict]:
    """The verification block of the minutes and the seal view: each committee member (head
    first, then by name) with ``full_name, title, is_head, user_id, key_card_id,
    opening_fingerprint, signing_fingerprint, signature`` (hex, or None before signing) and
    ``signed_at`` (ISO, or None). The fingerprints are those of the card that signed, else of
    the member's current card (None without a card)."""
    heads = {m.user_id: m.is_head for m in poll.committee}
    if not heads:
        return []
    users = list(db.session.scalars(select(User).where(User.id.in_(heads))))
    users.sort(key=lambda u: (not heads[u.id], name_sort_key(u.full_name or u.username)))
    signed = {
        s.user_id: s for s in db.session.scalars(select(Signoff).where(Signoff.poll_id == poll.id))
    }
    rows = []
    for u in users:
        s = signed.get(u.id)
        card = (
            db.session.get(KeyCard, s.key_card_id)
            if s is not None and s.key_card_id is not None
            else current_card(poll.congress_id, u.id)
        )
        rows.append(
            {
                "user_id": u.id,
                "full_name": u.full_name,
                "title": u.title,
                "is_head": heads[u.id],
                "key_card_id": card.id if card else None,
                "opening_fingerprint": fingerprint(card.opening_public) if card else None,
                "signing_fingerprint": fingerprint(card.signing_public) if card else None,
                "signature": s.signature.hex() if s is not None and s.signature else None,
                "signed_at": s.signed_at.isoformat() + "Z" if s is not None else None,
            }
        )
    return rows


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
