"""API routes: voting with a ballot token, and named votes with a delegate's card
(docs/api.md, "Voting").

No staff login: the token (or card) in the path/body is the credential, so these are public and
CSRF-exempt, and rate limited per client so codes cannot be guessed. With the congress setting
kiosk_only they must come from an enrolled kiosk (X-Kiosk-Token or the kiosk cookie): 403
kiosk_required otherwise, checked before anything else (congress/kiosks.py).
"""

from typing import Any

from flask import current_app

from ..ballots.services import cast_ballot, cast_named_vote, open_ballot, voter_by_card
from ..ballots.views import failed_lookup
from ..ballots.voting import ballot_of_code
from ..congress.kiosks import require_kiosk, require_kiosk_for_ballot
from ..congress.models import Congress
from ..extensions import db, limiter
from ..polls.services import get_poll
from ..security import csrf_exempt, public
from .blueprint import bp
from .schemas import ballots as sch
from .schemas.base import answer, load
from .util import doc


def code_entry_limit():
    return current_app.config["RATELIMIT_CODE_ENTRY"]


def _choice(data: dict) -> dict[str, Any]:
    """The choice of a cast body (schemas.ballots.Choice / NamedVote) as the cast's keywords."""
    return {
        "kept": data.get("kept"),
        "answers": data.get("answers"),
        "marks": data.get("marks"),
        "confirm_invalid": data.get("confirm_invalid") is True,
    }


def ballot_view(poll) -> dict:
    """What a voter sees: the poll and its candidates (ballot order) or items."""
    from ..ballots.spec import poll_spec
    from ..polls.services import settings_of
    from ..rules import max_kept

    out: dict[str, Any]
    out = {
        "poll": {
            "id": poll.id,
            "kind": poll.kind,
            "title": poll.title,
            "seats": poll.seats,
            "alternate_seats": poll.alternate_seats,
            "round": poll.round,
            "max_kept": max_kept(poll_spec(poll), settings_of(poll)),
            "setup_fingerprint": poll.setup_fingerprint,
        }
    }
    if poll.kind == "resolution":
        out["items"] = [{"id": i.id, "text": i.text} for i in poll.items]
    else:
        out["candidates"] = [
            {"id": c.id, "full_name": c.full_name, "position": c.position} for c in poll.candidates
        ]
    return out


@bp.get("/ballot/<token>")
@limiter.shared_limit(code_entry_limit, scope="code-entry", deduct_when=failed_lookup)
@public
@csrf_exempt
@doc(
    "The ballot of a token (or its printed code)",
    response=sch.BallotView,
    statuses=(200, 403, 404, 409, 429),
)
def get_ballot(token):
    require_kiosk_for_ballot(token)
    poll, _ = open_ballot(token)
    return answer(sch.BallotView(), ballot_view(poll))


@bp.post("/ballot/<token>")
@limiter.shared_limit(code_entry_limit, scope="code-entry", deduct_when=failed_lookup)
@public
@csrf_exempt
@doc(
    "Cast a ballot: {kept: [candidate ids]}, {marks: {candidate_id: agree|disagree}} or "
    "{answers: {item_id: for|against|abstain}}; confirm_invalid casts a deliberately spoiled one",
    body=sch.Choice,
    response=sch.Receipt,
    statuses=(201, 400, 403, 404, 409, 422, 429),
)
def post_ballot(token):
    row = ballot_of_code(token, None)  # the kiosk check and the ballot: one statement
    data = load(sch.Choice())
    receipt = cast_ballot(token, row=row, **_choice(data))
    db.session.commit()
    return answer(sch.Receipt(), {"receipt": receipt}, 201)


@bp.post("/polls/<int:pid>/named-votes")
@limiter.shared_limit(code_entry_limit, scope="code-entry", deduct_when=failed_lookup)
@public
@csrf_exempt
@doc(
    "Vote by name in an open poll, unlocked by the delegate's card",
    body=sch.NamedVote,
    response=sch.Receipt,
    statuses=(201, 400, 403, 404, 409, 422, 429),
)
def post_named_vote(pid):
    poll = get_poll(pid)
    require_kiosk(poll.congress_id)
    data = load(sch.NamedVote())
    delegate = voter_by_card(db.session.get(Congress, poll.congress_id), data["card"])
    receipt = cast_named_vote(poll, delegate, **_choice(data))
    db.session.commit()
    return answer(sch.Receipt(), {"receipt": receipt}, 201)
