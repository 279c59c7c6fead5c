"""The chair's side: publication, the projector state, public results and receipts (the
exports: result_exports.py).

Guarantees:

* A poll's figures reach the public (projector screen, its JSON, the public results page,
  public exports) only once the poll is ``published``; `publish_poll` is the only way there and
  it requires ``certified`` (every counting committee member signed the current digest).
* The projector (reports/projector.py) shows a result only through `public_result`, which
  answers only for a published poll.

Attendance, turnout, the poll's API shape and the stored result come from the areas that own
them (congress, ballots, polls, counting services); this module only decides what of them the
public may see, and when.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.services import record
from ..ballots.models import Ballot, NamedVote
from ..ballots.services import turnout
from ..congress.attendance import attendance
from ..congress.models import Congress
from ..counting.models import PollResult
from ..counting.results import result_dict as stored_result_dict
from ..errors import ServiceError
from ..extensions import db
from ..polls.models import Poll
from ..polls.namesakes import candidate_label
from ..polls.services import polls_of
from ..polls.status import COUNTED_OR_LATER, publish
from ..seal.sealing import trackers_of

# ---- lookups ---------------------------------------------------------------------------------


def agenda(congress: Congress) -> list[Poll]:
    """The congress's polls in agenda order (then creation order)."""
    return polls_of(congress.id)


def poll_congress(poll: Poll) -> Congress:
    return db.session.get_one(Congress, poll.congress_id)


def result_dict(poll: Poll) -> dict | None:
    """The stored result in the API "Result" shape (counting.results.result_dict), or None
    while the poll is not counted (a stale result of a poll back to ``closed`` included)."""
    if poll.status not in COUNTED_OR_LATER:
        return None
    return stored_result_dict(poll)


def require_result(poll: Poll) -> dict:
    """The result of a counted poll; 409 before counting."""
    data = result_dict(poll)
    if data is None:
        raise ServiceError("not_counted", _("This poll has not been counted yet."), status=409)
    return data


# ---- publication -----------------------------------------------------------------------------


def publish_poll(poll: Poll, actor) -> Poll:
    """Make a certified result public (certified → published); 409 in any other state.

    One conditional UPDATE, so two chairs pressing the button at once publish once.
    """
    if not publish(poll):
        raise ServiceError(
            "not_certified",
            _(
                "Only a certified result can be published (this poll is %(status)s).",
                status=poll.status,
            ),
            status=409,
        )
    result = db.session.get(PollResult, poll.id)
    record(
        "poll.published",
        actor=actor,
        congress_id=poll.congress_id,
        data={"poll_id": poll.id, "digest": result.digest if result else None},
    )
    db.session.flush()
    return poll


# ---- public views of a result ----------------------------------------------------------------


def public_result(poll: Poll) -> dict | None:
    """What the hall may see of a poll's result: only for a published poll, else None.

    Elected candidates come first in the order of election (official before alternate), then
    the others by votes; the figures are the ballot reconciliation, not the digest's inputs.
    """
    if poll.status != "published":
        return None
    data = result_dict(poll)
    if data is None:
        return None
    cands = data.get("candidates") or []
    order = {cid: n for n, cid in enumerate(data.get("elected_order") or [])}
    rank = {"official": 0, "alternate": 1}

    def key(c):
        return (rank.get(c.get("elected"), 2), order.get(c["id"], 10**6), -int(c.get("votes", 0)))

    names = {c["id"]: candidate_label(c) for c in cands}  # namesakes told apart
    return {
        "poll_id": poll.id,
        "title": poll.title,
        "kind": poll.kind,
        "round": poll.round,
        "seats": poll.seats,
        "alternate_seats": poll.alternate_seats,
        "denominator": data.get("denominator"),
        "denominator_basis": data.get("denominator_basis")
        or (data.get("settings") or {}).get("denominator"),
        "figures": data.get("figures") or {},
        "candidates": [
            {
                "id": c["id"],
                "full_name": c["full_name"],
                "votes": c.get("votes"),
                "percent": c.get("percent"),
                "elected": c.get("elected"),
            }
            for c in sorted(cands, key=key)
        ],
        "items": [
            {
                "id": i["id"],
                "text": i["text"],
                "for": i.get("for"),
                "against": i.get("against"),
                "abstain": i.get("abstain"),
                "not_voted": i.get("not_voted"),
                "percent_for": i.get("percent_for"),
                "passed": i.get("passed"),
            }
            for i in data.get("items") or []
        ],
        "ties": [
            {**t, "names": [names.get(x, str(x)) for x in t.get("candidate_ids", [])]}
            for t in data.get("ties") or []
        ],
        "unfilled_seats": data.get("unfilled_seats", 0),
        "unfilled_alternate_seats": data.get("unfilled_alternate_seats", 0),
        "alternates_pending": data.get("alternates_pending", False),
        "digest": data.get("digest"),
    }


def receipts(poll: Poll) -> list[str]:
    """Every receipt of the poll's returned ballots (tablet, paper, named), sorted; a sealed
    poll's tablet ballots are known by their trackers (its opened ballots carry no receipt)."""
    codes = [
        c
        for c in db.session.scalars(select(Ballot.receipt).where(Ballot.poll_id == poll.id))
        if c is not None
    ]
    codes += list(db.session.scalars(select(NamedVote.receipt).where(NamedVote.poll_id == poll.id)))
    if poll.seal_public is not None:
        codes += trackers_of(poll)
    return sorted(codes)


def _norm_receipt(text: str) -> str:
    return "".join(ch for ch in (text or "").upper() if ch.isalnum())


def check_receipt(congress: Congress, code: str) -> list[Poll]:
    """The published polls of the congress in which a ballot with this receipt was counted.

    Says nothing about the choice or the validity of the ballot. Case, spaces and dashes are
    ignored. Only published polls are searched: before publication nothing is confirmed.
    """
    wanted = _norm_receipt(code)
    if len(wanted) < 4:
        return []
    polls = [p for p in agenda(congress) if p.status == "published"]
    found = []
    for poll in polls:
        if any(_norm_receipt(r) == wanted for r in receipts(poll)):
            found.append(poll)
    return found


# ---- the console -----------------------------------------------------------------------------


def console_state(congress: Congress) -> dict:
    """For the presidium: attendance, every poll's status and the turnout of open polls."""
    polls = agenda(congress)
    return {
        "attendance": {k: v for k, v in attendance(congress).items() if k != "by_branch"},
        "polls": [
            {
                "id": p.id,
                "status": p.status,
                "title": p.title,
                **({"turnout": turnout(p)} if p.status == "open" else {}),
            }
            for p in polls
        ],
    }


# ---- summary ---------------------------------------------------------------------------------


def congress_summary(congress: Congress) -> dict:
    """All published results of the congress, its attendance, and the elected committee and
    delegation (official then alternate) gathered from the published polls, later rounds
    included."""
    published = [p for p in agenda(congress) if p.status == "published"]
    results = [r for r in (public_result(p) for p in published) if r]
    committee, officials, alternates = [], [], []
    for r in results:
        for c in r["candidates"]:
            if r["kind"] == "committee" and c["elected"]:
                committee.append({**c, "poll_title": r["title"]})
            elif r["kind"] == "slate" and c["elected"] == "official":
                officials.append({**c, "poll_title": r["title"]})
            elif r["kind"] == "slate" and c["elected"] == "alternate":
                alternates.append({**c, "poll_title": r["title"]})
    return {
        "attendance": attendance(congress),
        "results": results,
        "committee": committee,
        "officials": officials,
        "alternates": alternates,
    }
