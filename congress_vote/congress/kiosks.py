"""Voting kiosks: enrolment, listing, revocation, and the one kiosk check every cast and named
vote passes (API and pages alike).

A registrar or counter enrols a device of a congress: the device gets a random token (as a
long-lived HttpOnly cookie when enrolled on the kiosk page, or from the API to send as
`X-Kiosk-Token`); the database keeps only its SHA-256. A kiosk belongs to the congress, not to the
staff member who enrolled it (`enrolled_by` is for the audit only): their logout, password change
or deactivation leaves it working; only a revocation ends it.

With the congress setting `kiosk_only` (default on), `require_kiosk` refuses a cast, a named vote
or the opening of a ballot from any device that is not an unrevoked kiosk of that congress with
403 `kiosk_required` (KioskRequired: JSON on /api/, a page saying where to vote elsewhere). It
runs before any token is consumed, and nothing about the kiosk is stored with a ballot.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import request
from flask_babel import gettext as _
from sqlalchemy import bindparam, exists, select

from .. import codes
from ..audit.services import record
from ..ballots.models import BallotToken
from ..ballots.services import resolve_code
from ..db import utcnow
from ..errors import ServiceError
from ..extensions import db
from ..polls.models import Poll
from .fields import clean_name
from .models import Congress, Kiosk

COOKIE = "cv_kiosk"
HEADER = "X-Kiosk-Token"
COOKIE_MAX_AGE = 400 * 24 * 3600  # the longest browsers keep a cookie
LABEL_MAX = 100
_CACHE_KEY = "congress_vote.kiosk"


class KioskRequired(ServiceError):
    """403 kiosk_required: this device is not an enrolled kiosk of the congress."""

    def __init__(self, congress_id: int):
        super().__init__(
            "kiosk_required",
            _(
                "This device is not a voting kiosk of this congress. Vote at one of the kiosks "
                "(tablets) in the congress hall."
            ),
            status=403,
        )
        self.congress_id = congress_id


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _clean_label(label) -> str:
    if not isinstance(label, str):
        raise ServiceError("bad_label", _("Give the kiosk a label (for example “Tablet 3”)."))
    text = clean_name(label)
    if not text:
        raise ServiceError("bad_label", _("Give the kiosk a label (for example “Tablet 3”)."))
    if len(text) > LABEL_MAX:
        raise ServiceError(
            "bad_label", _("The label is longer than %(n)d characters.", n=LABEL_MAX)
        )
    return text


def enrol_kiosk(congress: Congress, label, actor) -> tuple[Kiosk, str]:
    """Enrol a device as a kiosk of `congress`; answer the kiosk and its token (shown once, never
    stored). Audited without the token. The caller commits."""
    token = secrets.token_urlsafe(32)
    kiosk = Kiosk(
        congress_id=congress.id,
        label=_clean_label(label),
        token_hash=_hash(token),
        enrolled_at=utcnow(),
        enrolled_by=getattr(actor, "id", None),
    )
    db.session.add(kiosk)
    db.session.flush()
    record(
        "kiosk.enrolled",
        actor=actor,
        congress_id=congress.id,
        data={"kiosk_id": kiosk.id, "label": kiosk.label},
    )
    return kiosk, token


def list_kiosks(congress: Congress) -> list[Kiosk]:
    """The congress's kiosks, active first, then by id."""
    return list(
        db.session.scalars(
            select(Kiosk)
            .where(Kiosk.congress_id == congress.id)
            .order_by(Kiosk.revoked_at.is_not(None), Kiosk.id)
        )
    )


def get_kiosk(kid: int, congress_id: int | None = None) -> Kiosk:
    kiosk = db.session.get(Kiosk, kid)
    if kiosk is None or (congress_id is not None and kiosk.congress_id != congress_id):
        raise ServiceError("unknown_kiosk", _("No such kiosk."), status=404)
    return kiosk


def revoke_kiosk(kiosk: Kiosk, actor) -> Kiosk:
    """Revoke a kiosk: its token stops working at once. Revoking twice changes nothing (and
    records nothing). The caller commits."""
    if kiosk.revoked_at is None:
        kiosk.revoked_at = utcnow()
        db.session.flush()
        record(
            "kiosk.revoked",
            actor=actor,
            congress_id=kiosk.congress_id,
            data={"kiosk_id": kiosk.id, "label": kiosk.label},
        )
    return kiosk


def kiosk_dict(kiosk: Kiosk) -> dict:
    """A kiosk as the API shows it: never its token or hash."""
    return {
        "id": kiosk.id,
        "congress_id": kiosk.congress_id,
        "label": kiosk.label,
        "enrolled_at": kiosk.enrolled_at.isoformat(),
        "enrolled_by": kiosk.enrolled_by,
        "revoked_at": kiosk.revoked_at.isoformat() if kiosk.revoked_at else None,
        "active": kiosk.revoked_at is None,
    }


# ---- the device of this request --------------------------------------------------------------


def presented_token() -> str | None:
    """The kiosk token this request carries: the X-Kiosk-Token header, else the kiosk cookie."""
    token = request.headers.get(HEADER) or request.cookies.get(COOKIE)
    token = (token or "").strip()
    return token if 0 < len(token) <= 200 else None


def request_kiosk() -> Kiosk | None:
    """The unrevoked kiosk this request comes from, or None (cached on the request)."""
    cached = request.environ.get(_CACHE_KEY, False)
    if cached is not False:
        return cached
    kiosk = None
    token = presented_token()
    if token is not None:
        h = _hash(token)
        kiosk = db.session.scalar(
            select(Kiosk).where(Kiosk.token_hash == h, Kiosk.revoked_at.is_(None))
        )
    request.environ[_CACHE_KEY] = kiosk
    return kiosk


def is_kiosk_of(congress_id: int) -> bool:
    kiosk = request_kiosk()
    return kiosk is not None and kiosk.congress_id == congress_id


def kiosk_of_column(congress_id_column):
    """SQL, for a statement built once: whether the kiosk whose token hash is bound as
    `kiosk_hash` is an unrevoked kiosk of that congress. Bind it with `kiosk_params()` (a NULL
    hash, when no token was presented, matches no kiosk)."""
    kiosk = Kiosk.__table__.c  # the table's columns: the statement stays Core-only
    return exists().where(
        kiosk.congress_id == congress_id_column,
        kiosk.token_hash == bindparam("kiosk_hash"),
        kiosk.revoked_at.is_(None),
    )


def kiosk_params() -> dict[str, str | None]:
    """The bound parameter of `kiosk_of_column` for this request."""
    token = presented_token()
    return {"kiosk_hash": None if token is None else _hash(token)}


_CONGRESS, _POLL, _TOKEN = Congress.__table__, Poll.__table__, BallotToken.__table__
# Built once, of tables only (no ORM compile step on each cast): the congress's kiosk_only and
# whether this request's kiosk is one of its unrevoked kiosks, for a congress or a ballot code.
_KIOSK_OF_CONGRESS = select(
    _CONGRESS.c.id, _CONGRESS.c.kiosk_only, kiosk_of_column(_CONGRESS.c.id)
).where(_CONGRESS.c.id == bindparam("cid"))
_KIOSK_OF_BALLOT = (
    select(_POLL.c.congress_id, _CONGRESS.c.kiosk_only, kiosk_of_column(_POLL.c.congress_id))
    .select_from(_TOKEN)
    .join(_POLL, _POLL.c.id == _TOKEN.c.poll_id)
    .join(_CONGRESS, _CONGRESS.c.id == _POLL.c.congress_id)
    .where(_TOKEN.c.token_hash == bindparam("h"))
)


def _refuse_unless(row) -> None:
    """row: (congress id, kiosk_only, is a kiosk of it) or None (nothing to check)."""
    if row is not None and row[1] and not row[2]:
        raise KioskRequired(row[0])


def kiosk_needed(congress_id: int) -> bool:
    """Whether this request must come from a kiosk of the congress and does not."""
    try:
        require_kiosk(congress_id)
    except KioskRequired:
        return True
    return False


def require_kiosk(congress_id: int) -> None:
    """THE kiosk check (API and pages): refuse with 403 kiosk_required unless the congress lets
    any device vote or this request comes from one of its unrevoked kiosks. One statement; call
    it before any token is consumed or any card is looked up."""
    _refuse_unless(
        db.session.execute(_KIOSK_OF_CONGRESS, {"cid": congress_id, **kiosk_params()}).first()
    )


def require_kiosk_for_ballot(text) -> None:
    """require_kiosk for the congress of the ballot `text` names (nothing to check when it names
    none: the ballot lookup itself then answers its 404). One read-only statement."""
    code = resolve_code(text)
    if code is None:
        return
    _refuse_unless(
        db.session.execute(_KIOSK_OF_BALLOT, {"h": codes.code_hash(code), **kiosk_params()}).first()
    )


def set_kiosk_cookie(response, token: str) -> None:
    """Give this browser the kiosk token: HttpOnly, SameSite=Strict, Secure over https."""
    response.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_MAX_AGE,
        httponly=True,
        samesite="Strict",
        secure=request.is_secure,
        path="/",
    )
