"""Opening a sealed box at the count (docs/sealed-box.md, "Opening").

:func:`open_sealed_box`, called by ``counting.count.count_poll`` in its transaction: the opening
codes of at least ``threshold`` different members decrypt their shares (a code is matched to a
share by its public key), the box's private key is recombined in memory, every sealed ballot is
decrypted, and the set is stored as ``ballot`` rows in random
order with no receipt; the sealed rows and shares are deleted, the trackers move from the token
rows to ``poll_tracker`` (sorted, without ballot ids), and the key is dropped. The poll moves
closed → counted by one conditional UPDATE first, so two counts at once open it once.

The opened set is stored by one Core INSERT executed with every row (the driver's executemany:
sqlite3's, psycopg's pipelined one; no ORM object per ballot). The opening answers the poll's
ballot rows as they now stand (the rows stored before it, i.e. paper entries, read after the
state change, and the opened set), so the count in the same transaction counts exactly what is
stored without reading the opened set back (``counting.inputs.rules_inputs(poll, rows)``).
"""

from __future__ import annotations

import json
import secrets

from flask_babel import gettext as _
from nacl.exceptions import CryptoError
from nacl.public import SealedBox
from sqlalchemy import delete, exists, insert, select, update

from ..audit.services import record
from ..ballots.models import Ballot, BallotToken
from ..counting.inputs import BallotRow, ballot_rows
from ..errors import ServiceError
from ..extensions import db
from ..polls.status import counted_once
from .box import BoxError, open_box, tracker, unseal
from .codes import BadKeyCode, parse_opening_code
from .models import BoxShare, KeyCard, PollTracker, SealedBallot

_INSERT_BALLOT = insert(Ballot.__table__)  # Core: one executemany, no ORM object per row


def needs_opening(poll) -> bool:
    """A sealed poll whose box is still closed (its encrypted shares are still stored)."""
    if poll.seal_public is None:
        return False
    return bool(db.session.scalar(select(exists().where(BoxShare.poll_id == poll.id))))


def _keys(opening_codes) -> list:
    if opening_codes is None:
        opening_codes = []
    if not isinstance(opening_codes, list) or not all(isinstance(c, str) for c in opening_codes):
        raise ServiceError(
            "bad_request", _("opening_codes must be a list of opening codes."), status=400
        )
    keys = []
    for n, text in enumerate(opening_codes, 1):
        if not text.strip():
            continue
        try:
            keys.append(parse_opening_code(text))
        except BadKeyCode as err:
            raise ServiceError(
                "bad_opening_code",
                _(
                    "Opening code %(n)s cannot be read: check the characters or scan it again.",
                    n=n,
                ),
                status=422,
                index=n - 1,
                reason=err.reason,
            ) from None
    return keys


def _box_key(poll, opening_codes):
    """The box's private key from the codes, or 409 more_key_cards_needed / 422."""
    rows = db.session.execute(
        select(BoxShare.share, KeyCard.opening_public, KeyCard.user_id)
        .join(KeyCard, KeyCard.id == BoxShare.key_card_id)
        .where(BoxShare.poll_id == poll.id)
    ).all()
    by_public = {bytes(pub): (share, uid) for share, pub, uid in rows}
    pairs, members = [], set()
    for key in _keys(opening_codes):
        found = by_public.get(bytes(key.public_key))
        if found is None:
            raise ServiceError(
                "wrong_key_card",
                _(
                    "An opening code is not from a key card of this poll's counting committee "
                    "(or from a card printed after the poll opened)."
                ),
                status=422,
            )
        if found[1] not in members:
            members.add(found[1])
            pairs.append((found[0], key))
    threshold = poll.seal_threshold or 1
    if len(members) < threshold:
        raise ServiceError(
            "more_key_cards_needed",
            _(
                "The ballot box opens with the opening codes of %(t)s different members of the "
                "counting committee; %(n)s given.",
                t=threshold,
                n=len(members),
            ),
            status=409,
            threshold=threshold,
            given=len(members),
        )
    try:
        return open_box(pairs, threshold, poll.seal_public), sorted(members)
    except BoxError as err:
        raise ServiceError(
            "box_not_opened",
            _("The ballot box did not open with these codes."),
            status=409,
            reason=err.code,
        ) from None


def _opened_row(poll_id: int, box: SealedBox, ciphertext: bytes) -> dict:
    """One opened ballot as a ``ballot`` row, exactly as an unsealed cast stores it: the count
    checks it against the rules (rules.count), as every stored ballot. A ballot that does not
    decrypt or parse (a row written by someone else) is counted invalid, never dropped."""
    choice: str = "{}"
    reason: str | None = "other"
    try:
        data = json.loads(unseal(box, ciphertext))
        if isinstance(data, dict) and str(data["choice"]).startswith("{"):
            choice, reason = str(data["choice"]), data.get("invalid_reason")
    except (CryptoError, ValueError, KeyError, TypeError):
        pass
    return {
        "id": secrets.token_hex(16),
        "poll_id": poll_id,
        "source": "tablet",
        "choice": choice,
        "invalid_reason": reason if reason is None or isinstance(reason, str) else "other",
        "receipt": None,
    }


def open_sealed_box(poll, opening_codes, actor) -> list[BallotRow]:
    """Open the poll's box (see the module docstring); answers every ``ballot`` row of the
    poll as stored now: those stored before the opening and one per sealed ballot."""
    key, members = _box_key(poll, opening_codes)
    if not counted_once(poll):
        raise ServiceError(
            "poll_not_closed", _("The poll was counted meanwhile: reload the page."), status=409
        )
    box = SealedBox(key)
    del key
    sealed = list(
        db.session.scalars(select(SealedBallot.ciphertext).where(SealedBallot.poll_id == poll.id))
    )
    rows = [_opened_row(poll.id, box, ct) for ct in sealed]
    del box
    secrets.SystemRandom().shuffle(rows)
    before = ballot_rows(poll)  # paper entries made after the close
    if rows:
        db.session.execute(_INSERT_BALLOT, rows)
    trackers = sorted({tracker(ct) for ct in sealed})
    if trackers:
        db.session.execute(
            insert(PollTracker.__table__), [{"poll_id": poll.id, "tracker": t} for t in trackers]
        )
    db.session.execute(delete(SealedBallot).where(SealedBallot.poll_id == poll.id))
    db.session.execute(delete(BoxShare).where(BoxShare.poll_id == poll.id))
    db.session.execute(
        update(BallotToken)
        .where(BallotToken.poll_id == poll.id, BallotToken.tracker.is_not(None))
        .values(tracker=None)
        .execution_options(synchronize_session=False)
    )
    record(
        "poll.box_opened",
        actor=actor,
        congress_id=poll.congress_id,
        data={
            "poll_id": poll.id,
            "sealed_ballots": len(sealed),
            "invalid_on_opening": sum(1 for r in rows if r["invalid_reason"] == "other"),
            "members": members,
            "threshold": poll.seal_threshold,
        },
    )
    return before + [(r["choice"], r["source"], r["invalid_reason"], r["receipt"]) for r in rows]
