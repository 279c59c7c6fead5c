"""What the chair is asked to confirm before opening a poll: the warnings that matter and the
figures beside them. Advisory, never blocking: the console's confirmation page and
`GET /api/v1/polls/{pid}/opening-check` both call `opening_check`."""

from __future__ import annotations

from flask_babel import format_time
from flask_babel import gettext as _
from sqlalchemy import func, select

from ..auth.models import User
from ..congress.attendance import attendance
from ..congress.models import Congress, Delegate
from ..extensions import db
from ..polls.models import Poll
from ..polls.services import polls_of, warnings_of
from ..polls.setup import committee_ids
from ..seal.keycards import cards_for


def _last_closed(congress: Congress, poll: Poll) -> Poll | None:
    closed = [
        (p.closed_at, p.id, p)
        for p in polls_of(congress.id)
        if p.id != poll.id and p.closed_at is not None
    ]
    return max(closed, key=lambda t: (t[0], t[1]))[2] if closed else None


def _missing_key_cards(poll: Poll) -> list[str]:
    """The names of the poll's counting committee members without a key card in the
    congress (the sealed ballot box is opened and the result signed with those cards)."""
    members = committee_ids(poll)
    if not members:
        return []
    have = cards_for(poll.congress_id, members)
    missing = [uid for uid in members if uid not in have]
    if not missing:
        return []
    users = db.session.scalars(select(User).where(User.id.in_(missing))).all()
    return sorted(u.display_name for u in users)


def opening_check(poll: Poll) -> dict:
    """``{poll_id, warnings: [{code, message}], facts: [text]}`` for opening `poll` now.

    Warnings: quorum not met; nobody checked in since the last poll of the congress closed;
    counting committee members without a key card; the poll's own setup warnings (a list
    without a surplus, too long a list, no counting committee: polls.services.warnings_of).
    """
    congress = db.session.get_one(Congress, poll.congress_id)
    att = attendance(congress)
    warnings: list[dict] = []
    facts: list[str] = []
    quorum = _(
        "Voting members present: %(p)s; the quorum needs %(n)s (%(f)s of %(s)s full members "
        "summoned).",
        p=att["voters_present"],
        n=att["quorum_needed"],
        f=att["quorum_fraction"],
        s=att["voters_summoned"],
    )
    if not att["quorum_met"]:
        warnings.append({"code": "quorum_not_met", "message": _("Quorum not met.") + " " + quorum})
    else:
        facts.append(quorum)
    last = _last_closed(congress, poll)
    if last is not None and last.closed_at is not None:
        since = db.session.scalar(
            select(func.count())
            .select_from(Delegate)
            .where(
                Delegate.congress_id == congress.id,
                Delegate.status == "present",
                Delegate.checked_in_at > last.closed_at,
            )
        )
        if not since:
            warnings.append(
                {
                    "code": "no_checkin_since_last_poll",
                    "message": _(
                        "Nobody has checked in since the last poll closed (%(title)s, at "
                        "%(time)s): is the check-in desk still working?",
                        title=last.title,
                        time=format_time(last.closed_at, "HH:mm"),
                    ),
                }
            )
        else:
            facts.append(_("Checked in since the last poll closed: %(n)s.", n=since))
    if poll.secrecy == "secret":
        missing = _missing_key_cards(poll)
        if missing:
            warnings.append(
                {
                    "code": "key_cards_missing",
                    "message": _(
                        "Counting committee members without a key card: %(names)s.",
                        names=", ".join(missing),
                    ),
                }
            )
    warnings += [{"code": w["code"], "message": w["message"]} for w in warnings_of(poll)]
    if poll.kind != "resolution":
        facts.append(
            _(
                "%(n)s candidates for %(seats)s seats.",
                n=len(poll.candidates),
                seats=poll.seats + (poll.alternate_seats if poll.kind == "slate" else 0),
            )
        )
    return {"poll_id": poll.id, "warnings": warnings, "facts": facts}
