"""Ballot review: the anonymous ballots of a closed poll with the rules engine's ruling."""

from __future__ import annotations

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from .. import rules
from ..ballots.models import Ballot
from ..ballots.spec import poll_spec
from ..errors import ServiceError
from ..extensions import db
from ..polls.models import Poll
from ..polls.services import settings_of
from ..polls.status import BEFORE_CLOSE
from .inputs import rules_ballot

REVIEW_PAGE = 50


def review_ballots(
    poll: Poll, page: int = 1, validity: str = "", reason: str = "", source: str = ""
) -> dict:
    """The anonymous ballots of a closed poll, ordered by their content (never by insertion),
    with the ruling of the rules engine, filterable by validity/reason/source, 50 per page.

    No receipt (nor any other code) is shown next to a ballot's content: the receipt board shows
    receipts without contents, this page contents without receipts, so no login maps a receipt
    to a vote."""
    if poll.status in BEFORE_CLOSE:
        raise ServiceError(
            "poll_not_closed", _("Ballots can be reviewed after the poll is closed."), status=409
        )
    spec, settings = poll_spec(poll), settings_of(poll)
    names = {c.id: c.full_name for c in poll.candidates}
    texts = {i.id: i.text for i in poll.items}
    q = select(Ballot.choice, Ballot.source, Ballot.invalid_reason).where(Ballot.poll_id == poll.id)
    if source in ("tablet", "paper"):
        q = q.where(Ballot.source == source)
    rows = sorted(db.session.execute(q).all(), key=lambda r: (r[1], r[2] or "", r[0] or ""))
    listed = []
    reasons: dict[str, int] = {}
    for choice, src, stored_reason in rows:
        rb = rules_ballot(choice, src, stored_reason, None)
        ruling = rules.validate_ballot(spec, settings, rb)
        ruling = str(ruling) if ruling else None
        if ruling:
            reasons[ruling] = reasons.get(ruling, 0) + 1
        if validity == "valid" and ruling:
            continue
        if validity == "invalid" and not ruling:
            continue
        if reason and ruling != reason:
            continue
        listed.append(
            {
                "source": src,
                "invalid_reason": ruling,
                "kept": [names.get(c, f"#{c}") for c in rb.votes],
                # struck out, or marked "disagree" on an agree/disagree ballot
                "struck": [
                    n
                    for cid, n in names.items()
                    if (rb.kept is not None and cid not in rb.kept)
                    or (cid, "disagree") in (rb.marks or ())
                ],
                "answers": [(texts.get(i, f"#{i}"), a) for i, a in (rb.answers or ())],
            }
        )
    total = len(listed)
    pages = max(1, -(-total // REVIEW_PAGE))
    page = min(max(1, page), pages)
    return {
        "ballots": listed[(page - 1) * REVIEW_PAGE : page * REVIEW_PAGE],
        "total": total,
        "page": page,
        "pages": pages,
        "all": len(rows),
        "reasons": reasons,
        "privacy_warning": 0 < total < current_app.config.get("PRIVACY_MIN_BALLOTS", 5),
    }
