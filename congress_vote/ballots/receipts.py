"""Receipt codes: random, unique per poll, kept on the ballot (or named vote) row only.

A receipt lets a voter check on the public board that their ballot was counted. It is 40 random
bits from `secrets` written as `XXXX-XXXX` in the ballot-code alphabet. It is not derived from the
ballot token, the time or anything else stored: a reader of the database who holds a token row (or
a photographed slip) cannot compute the receipt of the ballot it became, and the receipt board
cannot be joined to the tokens, batches or times of issue.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from sqlalchemy import select

from .. import codes
from ..extensions import db

RECEIPT_BITS = 40
_TRIES = 8


def random_receipt() -> str:
    """40 random bits as `XXXX-XXXX` (8 characters of the 32-letter code alphabet)."""
    return _format(secrets.randbits(RECEIPT_BITS))


def kiosk_session_receipt(nonce: str, poll_id: int) -> str:
    """The receipt a named vote cast in one kiosk session gets in poll `poll_id`: 40 bits of
    HMAC-SHA256 keyed by the session's random `nonce` (128 bits, drawn when the delegate's card
    unlocked the kiosk, kept only in that kiosk's session cookie, never stored by the server).
    A cast sent again from the same session (its answer lost) is recognised by it; another
    session, or another delegate, has another nonce and gets nothing. Without the nonce it is as
    random as `random_receipt`, so it tells nothing either."""
    mac = hmac.new(nonce.encode(), b"named-receipt|poll:%d" % poll_id, hashlib.sha256).digest()
    return _format(int.from_bytes(mac[:8], "big") >> (64 - RECEIPT_BITS))


def _format(value: int) -> str:
    chars = []
    for _i in range(RECEIPT_BITS // 5):
        value, r = divmod(value, 32)
        chars.append(codes.ALPHABET[r])
    s = "".join(chars)
    return f"{s[:4]}-{s[4:]}"


def new_receipt(model, poll_id: int) -> str:
    """A random receipt not yet used in the poll's `model` rows (Ballot or NamedVote).

    A repeat is unlikely (2^-40 per pair) but would make two ballots share a code on the board;
    the unique constraint (poll_id, receipt) is the backstop for two concurrent casts.
    """
    for _i in range(_TRIES):
        receipt = random_receipt()
        taken = db.session.scalar(
            select(model.receipt).where(model.poll_id == poll_id, model.receipt == receipt).limit(1)
        )
        if taken is None:
            return receipt
    raise RuntimeError("no free receipt code after several random draws")  # pragma: no cover
