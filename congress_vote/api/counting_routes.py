"""API routes: counting (docs/api.md, "Counting"): count, result, signoffs, rounds,
paper-ballots, hand-count, minutes.pdf, receipts."""

from __future__ import annotations

from flask import abort, request
from flask_babel import gettext as _

from ..counting.count import count_poll
from ..counting.hand_count import enter_hand_count
from ..counting.paper_entry import enter_paper_ballot, pending_paper, settle_dispute
from ..counting.results import receipts, result_dict
from ..counting.rounds import create_round
from ..counting.signoff import sign_result
from ..extensions import db
from ..polls.committee import committee_route
from ..polls.services import get_poll, poll_to_dict
from ..security import current_actor, public, roles
from .blueprint import bp
from .schemas import counting as sch
from .schemas.base import answer, load
from .util import doc


def _poll(pid: int):
    return get_poll(pid)


@bp.post("/polls/<int:pid>/count")
@roles("counter")
@doc(
    "Count (or recount) a closed poll from its stored ballots",
    response=sch.Result,
    body=sch.CountBody,
    statuses=(200, 400, 404, 409, 422),
    tag="counting",
)
def api_count(pid):
    poll = _poll(pid)
    data = load(sch.CountBody()) if request.get_data() else {}
    count_poll(poll, current_actor(), data.get("opening_codes"))
    db.session.commit()
    return answer(sch.Result(), result_dict(poll))


@bp.get("/polls/<int:pid>/result")
@public
@doc(
    "The result of a counted poll (staff; anyone once published)",
    response=sch.Result,
    statuses=(200, 401, 404, 409),
    tag="counting",
)
def api_result(pid):
    poll = _poll(pid)
    if poll.status != "published" and current_actor() is None:
        abort(401, _("Sign in first (Authorization: Bearer <token>)."))
    return answer(sch.Result(), result_dict(poll))


@bp.get("/polls/<int:pid>/receipts")
@public
@doc(
    "The receipt codes of the counted ballots, sorted, with the ballot-set digest",
    response=sch.Receipts,
    statuses=(200, 404, 409),
    tag="counting",
)
def api_receipts(pid):
    return answer(sch.Receipts(), receipts(_poll(pid)))


@bp.post("/polls/<int:pid>/signoffs")
@roles("counter")
@doc(
    "Sign the current result digest (counter on this poll's committee)",
    body=sch.SignoffBody,
    response=sch.Signed,
    statuses=(201, 400, 403, 404, 409, 422),
    tag="counting",
)
def api_signoff(pid):
    poll = _poll(pid)
    body = load(sch.SignoffBody())
    sig = sign_result(poll, current_actor(), body["digest"], body["signing_code"])
    db.session.commit()
    return answer(
        sch.Signed(),
        {
            "poll_id": poll.id,
            "user_id": sig.user_id,
            "digest": sig.digest,
            "status": poll.status,
            "signed_at": sig.signed_at.isoformat() + "Z",
            "signature": (sig.signature or b"").hex(),
            "key_card_id": sig.key_card_id,
        },
        201,
    )


@bp.post("/polls/<int:pid>/rounds")
@roles("admin")
@doc(
    "Create the next round of an election (after a tie or a shortfall)",
    body=sch.RoundBody,
    response=sch.NewRound,
    statuses=(201, 400, 404, 409, 422),
    tag="counting",
)
def api_round(pid):
    poll = _poll(pid)
    data = load(sch.RoundBody())
    new = create_round(
        poll,
        data["candidate_ids"],
        data["seats"],
        current_actor(),
        new_names=data["new_names"] or [],
        alternate_seats=data["alternate_seats"] or 0,
    )
    db.session.commit()
    return answer(sch.NewRound(), {**poll_to_dict(new), "parent_id": new.parent_id}, 201)


@bp.post("/polls/<int:pid>/paper-ballots")
@roles("counter")
@doc(
    "Enter one paper ballot (double entry by two counters of the committee)",
    body=sch.PaperBallotBody,
    response=sch.PaperEntered,
    statuses=(201, 400, 403, 404, 409, 422),
    tag="counting",
)
def api_paper(pid):
    poll = _poll(pid)
    data = load(sch.PaperBallotBody())
    fn = settle_dispute if data["settle"] else enter_paper_ballot
    entry = fn(
        poll,
        data["code"],
        current_actor(),
        kept=data.get("kept"),
        answers=data.get("answers"),
        invalid_reason=data.get("invalid_reason"),
        marks=data.get("marks"),
    )
    db.session.commit()
    entered = {
        "entry_id": entry.id,
        "poll_id": poll.id,
        "state": entry.state,
        "pending": pending_paper(poll),
    }
    return answer(sch.PaperEntered(), entered, 201)


@bp.post("/polls/<int:pid>/hand-count")
@roles("counter")
@doc(
    "Enter the counts of a show of hands (open resolution votes)",
    body=sch.HandCountBody,
    response=sch.HandCounted,
    statuses=(201, 400, 404, 409, 422),
    tag="counting",
)
def api_hand_count(pid):
    poll = _poll(pid)
    items = load(sch.HandCountBody())["items"]
    rows = enter_hand_count(poll, items, current_actor())
    db.session.commit()
    return answer(
        sch.HandCounted(),
        {
            "poll_id": poll.id,
            "items": {
                str(r.item_id): {
                    "for": r.votes_for,
                    "against": r.votes_against,
                    "abstain": r.votes_abstain,
                }
                for r in rows
            },
        },
        201,
    )


@bp.get("/polls/<int:pid>/minutes.pdf")
@roles("counter", "chair")
@committee_route(readers=("chair",))
@doc(
    "The counting minutes (Biên bản kiểm phiếu) as PDF; ?lang=en for English",
    produces="application/pdf",
    statuses=(200, 404, 409),
    tag="counting",
    query=sch.MinutesQuery,
)
def api_minutes(pid):
    from ..counting.minutes import minutes_pdf
    from ..reports.pdf import pdf_response

    poll = _poll(pid)
    lang = load(sch.MinutesQuery(), request.args.to_dict()).get("lang")
    return pdf_response(minutes_pdf(poll, lang), f"bien-ban-kiem-phieu-{poll.id}.pdf")
