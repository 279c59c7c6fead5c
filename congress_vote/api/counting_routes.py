"""API routes: counting (docs/api.md, "Counting"): count, result, signoffs, rounds,
paper-ballots, hand-count, minutes.pdf, receipts."""
from __future__ import annotations

from flask import abort, request
from flask_babel import gettext as _

from ..counting.count import count_poll
from ..counting.hand_count import enter_hand_count
from ..counting.paper_entry import (
    PAPER_INVALID_REASONS,
    enter_paper_ballot,
    pending_paper,
    settle_dispute,
)
from ..counting.results import receipts, result_dict
from ..counting.rounds import create_round
from ..counting.signoff import sign_result
from ..errors import ServiceError
from ..extensions import db
from ..polls.committee import committee_route
from ..polls.services import get_poll, poll_to_dict
from ..security import current_actor, public, roles
from .blueprint import bp
from .util import check_id_keys, doc, field, ids_field, json_body, ok

_COUNTS = {"type": "object", "additionalProperties": {"type": "integer"}}
RESULT_SCHEMA = {
    "type": "object",
    "required": ["poll_id", "status", "round", "denominator", "figures", "candidates", "items",
                 "ties", "unfilled_seats", "digest", "signoffs"],
    "properties": {
        "poll_id": {"type": "integer"}, "status": {"type": "string"},
        "round": {"type": "integer"}, "denominator": {"type": "integer"},
        "figures": {"type": "object"},
        "candidates": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "integer"}, "full_name": {"type": "string"},
            "votes": {"type": "integer"}, "percent": {"type": "string"},
            "elected": {"type": ["string", "null"]}}}},
        "items": {"type": "array", "items": {"type": "object"}},
        "ties": {"type": "array", "items": {"type": "object"}},
        "unfilled_seats": {"type": "integer"}, "digest": {"type": "string"},
        "signoffs": {"type": "array", "items": {"type": "object", "properties": {
            "user_id": {"type": "integer"}, "signed_at": {"type": "string"}}}},
        "checks": {"type": "array", "items": {"type": "object"}},
        "settings": {"type": "object"},
    }}


def _poll(pid: int):
    return get_poll(pid)


@bp.post("/polls/<int:pid>/count")
@roles("counter")
@doc("Count (or recount) a closed poll from its stored ballots", response=RESULT_SCHEMA,
     statuses=(200, 404, 409), tag="counting")
def api_count(pid):
    poll = _poll(pid)
    count_poll(poll, current_actor())
    db.session.commit()
    return ok(result_dict(poll))


@bp.get("/polls/<int:pid>/result")
@public
@doc("The result of a counted poll (staff; anyone once published)", response=RESULT_SCHEMA,
     statuses=(200, 401, 404, 409), tag="counting")
def api_result(pid):
    poll = _poll(pid)
    if poll.status != "published" and current_actor() is None:
        abort(401, _("Sign in first (Authorization: Bearer <token>)."))
    return ok(result_dict(poll))


@bp.get("/polls/<int:pid>/receipts")
@public
@doc("The receipt codes of the counted ballots, sorted, with the ballot-set digest",
     response={"type": "object", "required": ["receipts", "digest"], "properties": {
         "receipts": {"type": "array", "items": {"type": "string"}},
         "digest": {"type": "string"}}}, statuses=(200, 404, 409), tag="counting")
def api_receipts(pid):
    return ok(receipts(_poll(pid)))


@bp.post("/polls/<int:pid>/signoffs")
@roles("counter")
@doc("Sign the current result digest (counter on this poll's committee)",
     body={"type": "object", "required": ["digest"],
           "properties": {"digest": {"type": "string"}}},
     response={"type": "object", "properties": {"poll_id": {"type": "integer"},
                                                 "user_id": {"type": "integer"},
                                                 "status": {"type": "string"},
                                                 "signed_at": {"type": "string"}}},
     statuses=(201, 400, 403, 404, 409), tag="counting")
def api_signoff(pid):
    poll = _poll(pid)
    data = json_body()
    digest = field(data, "digest", str)
    sig = sign_result(poll, current_actor(), digest)
    db.session.commit()
    return ok({"poll_id": poll.id, "user_id": sig.user_id, "digest": sig.digest,
               "signed_at": sig.signed_at.isoformat() + "Z", "status": poll.status}, 201)


@bp.post("/polls/<int:pid>/rounds")
@roles("admin")
@doc("Create the next round of an election (after a tie or a shortfall)",
     body={"type": "object", "required": ["candidate_ids", "seats"], "properties": {
         "candidate_ids": {"type": "array", "items": {"type": "integer"}},
         "seats": {"type": "integer", "minimum": 0},
         "alternate_seats": {"type": "integer", "minimum": 0},
         "new_names": {"type": "array", "items": {"type": "string"}}}},
     response={"type": "object", "properties": {"id": {"type": "integer"},
                                                 "round": {"type": "integer"},
                                                 "parent_id": {"type": "integer"}}},
     statuses=(201, 400, 404, 409, 422), tag="counting")
def api_round(pid):
    poll = _poll(pid)
    data = json_body()
    ids = ids_field(data, "candidate_ids")
    seats = field(data, "seats", int)
    alt = field(data, "alternate_seats", int, required=False, default=0)
    names = field(data, "new_names", list, required=False, default=[])
    if any(not isinstance(n, str) for n in names):
        raise ServiceError("bad_request", _("new_names must be strings."), status=400)
    new = create_round(poll, ids, seats, current_actor(), new_names=names,
                          alternate_seats=alt)
    db.session.commit()
    return ok({**poll_to_dict(new), "parent_id": new.parent_id}, 201)


@bp.post("/polls/<int:pid>/paper-ballots")
@roles("counter")
@doc("Enter one paper ballot (double entry by two counters of the committee)",
     body={"type": "object", "required": ["code"], "properties": {
         "code": {"type": "string"},
         "kept": {"type": "array", "items": {"type": "integer"}},
         "answers": {"type": "object", "additionalProperties": {
             "type": "string", "enum": ["for", "against", "abstain"]}},
         "invalid_reason": {"type": "string", "enum": list(PAPER_INVALID_REASONS)},
         "settle": {"type": "boolean"}}},
     response={"type": "object", "properties": {"entry_id": {"type": "integer"},
                                                 "state": {"type": "string"}}},
     statuses=(201, 400, 403, 404, 409, 422), tag="counting")
def api_paper(pid):
    poll = _poll(pid)
    data = json_body()
    code = field(data, "code", str)
    kept = ids_field(data, "kept", required=False)
    answers = field(data, "answers", dict, required=False)
    check_id_keys(answers, "answers")
    reason = field(data, "invalid_reason", str, required=False)
    settle = field(data, "settle", bool, required=False, default=False)
    fn = settle_dispute if settle else enter_paper_ballot
    entry = fn(poll, code, current_actor(), kept=kept, answers=answers, invalid_reason=reason)
    db.session.commit()
    return ok({"entry_id": entry.id, "poll_id": poll.id, "state": entry.state,
               "pending": pending_paper(poll)}, 201)


@bp.post("/polls/<int:pid>/hand-count")
@roles("counter")
@doc("Enter the counts of a show of hands (open resolution votes)",
     body={"type": "object", "required": ["items"], "properties": {"items": {
         "type": "object", "additionalProperties": {
             "type": "object", "properties": {"for": {"type": "integer", "minimum": 0},
                                              "against": {"type": "integer", "minimum": 0},
                                              "abstain": {"type": "integer", "minimum": 0}}}}}},
     response={"type": "object", "properties": {"items": _COUNTS}},
     statuses=(201, 400, 404, 409, 422), tag="counting")
def api_hand_count(pid):
    poll = _poll(pid)
    data = json_body()
    items = field(data, "items", dict)
    check_id_keys(items, "items")
    rows = enter_hand_count(poll, items, current_actor())
    db.session.commit()
    return ok({"poll_id": poll.id, "items": {str(r.item_id): {
        "for": r.votes_for, "against": r.votes_against, "abstain": r.votes_abstain}
        for r in rows}}, 201)


@bp.get("/polls/<int:pid>/minutes.pdf")
@roles("counter", "chair")
@committee_route(readers=("chair",))
@doc("The counting minutes (Biên bản kiểm phiếu) as PDF; ?lang=en for English",
     produces="application/pdf", statuses=(200, 404, 409), tag="counting")
def api_minutes(pid):
    from ..counting.minutes import minutes_pdf
    from ..reports.pdf import pdf_response
    poll = _poll(pid)
    return pdf_response(minutes_pdf(poll, request.args.get("lang")),
                        f"bien-ban-kiem-phieu-{poll.id}.pdf")
