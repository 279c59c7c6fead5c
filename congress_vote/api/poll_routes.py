"""API routes: polls (see api.md): create, read, list, open, issue ballots and download a batch's
PDF again, close, turnout."""
from flask import url_for

from ..ballots.batch_pdfs import batch_pdf
from ..ballots.services import issue_batch, turnout
from ..congress.services import get_congress
from ..extensions import db
from ..polls.committee import committee_route
from ..polls.services import close_poll, create_poll, get_poll, open_poll, poll_to_dict, polls_of
from ..reports.pdf import pdf_response
from ..security import current_actor, roles, staff
from . import bp
from .util import doc, field, json_body, ok

_ID = {"type": "integer"}
_STR = {"type": "string"}
RULES_SCHEMA = {"type": "object", "properties": {
    "preset": {"type": "string", "enum": ["vn-party", "majority-of-valid", "roberts"]},
    "denominator": {"type": "string", "enum": ["voters_summoned_adjusted", "voters_present",
                                               "ballots_returned", "ballots_valid",
                                               "ballots_valid_nonblank"]},
    "fraction": {"type": "string", "pattern": r"^\d+/\d+$"},
    "strict": {"type": "boolean"}, "all_struck_valid": {"type": "boolean"},
    "alternates_same_ballot": {"type": "boolean"}}}
POLL_BODY = {
    "type": "object", "required": ["kind", "title"],
    "properties": {
        "kind": {"type": "string", "enum": ["committee", "slate", "resolution"]},
        "title": {"type": "string", "minLength": 1, "maxLength": 500},
        "seats": {"type": "integer", "minimum": 0, "maximum": 1000},
        "alternate_seats": {"type": "integer", "minimum": 0, "maximum": 1000},
        "secrecy": {"type": "string", "enum": ["secret", "open"]},
        "candidates": {"type": "array", "items": {
            "type": "object", "required": ["full_name"],
            "properties": {"full_name": {"type": "string", "minLength": 1, "maxLength": 200},
                           "position": {"type": "string", "maxLength": 200},
                           "delegate_id": _ID}}},
        "items": {"type": "array", "items": {
            "type": "object", "required": ["text"],
            "properties": {"text": {"type": "string", "minLength": 1}}}},
        "counting_committee": {"type": "array", "items": _ID},
        "rules": RULES_SCHEMA}}
POLL_SCHEMA = {"type": "object", "properties": {
    "id": _ID, "congress_id": _ID, "kind": _STR, "title": _STR, "status": _STR, "round": _ID,
    "seats": _ID, "alternate_seats": _ID, "secrecy": _STR, "rules": {"type": "object"},
    "candidates": {"type": "array", "items": {"type": "object", "properties": {
        "id": _ID, "full_name": _STR, "position": _STR}}},
    "items": {"type": "array", "items": {"type": "object", "properties": {
        "id": _ID, "text": _STR}}},
    "counting_committee": {"type": "array", "items": _ID},
    "setup_fingerprint": {"type": ["string", "null"]},
    "warnings": {"type": "array", "items": {"type": "object"}}}}
TURNOUT_SCHEMA = {"type": "object", "properties": {
    "issued": _ID, "cast": _ID, "remaining": _ID, "voided": _ID, "voters_present": _ID}}


@bp.post("/congresses/<int:cid>/polls")
@roles("admin")
@doc("Create a poll (draft)", body=POLL_BODY, response=POLL_SCHEMA,
     statuses=(201, 400, 404, 422))
def create_poll_route(cid):
    congress = get_congress(cid)
    poll = create_poll(congress, json_body(), current_actor())
    db.session.commit()
    return ok(poll_to_dict(poll), 201)


@bp.get("/congresses/<int:cid>/polls")
@staff
@doc("The congress's polls in agenda order", response={"type": "array", "items": POLL_SCHEMA},
     statuses=(200, 404))
def list_polls_route(cid):
    get_congress(cid)
    return ok([poll_to_dict(p) for p in polls_of(cid)])


@bp.get("/polls/<int:pid>")
@staff
@doc("A poll", response=POLL_SCHEMA, statuses=(200, 404))
def get_poll_route(pid):
    return ok(poll_to_dict(get_poll(pid)))


@bp.post("/polls/<int:pid>/open")
@roles("chair")
@doc("Open a draft poll; fixes its setup fingerprint", response=POLL_SCHEMA,
     statuses=(200, 404, 409, 422))
def open_poll_route(pid):
    poll = open_poll(get_poll(pid, lock=True), current_actor())
    db.session.commit()
    return ok(poll_to_dict(poll))


@bp.post("/polls/<int:pid>/close")
@roles("chair")
@doc("Close an open poll; unused ballots are voided", response=POLL_SCHEMA,
     statuses=(200, 404, 409))
def close_poll_route(pid):
    poll = close_poll(get_poll(pid, lock=True), current_actor())
    db.session.commit()
    return ok(poll_to_dict(poll))


@bp.post("/polls/<int:pid>/ballots")
@roles("counter")
@doc("Issue N anonymous ballots; the only time the tokens exist in plain text",
     body={"type": "object", "required": ["count"],
           "properties": {"count": {"type": "integer", "minimum": 1, "maximum": 5000},
                          "kind": {"type": "string", "enum": ["slip", "paper"]},
                          "size": {"type": "string", "enum": ["A4", "A5"]}}},
     response={"type": "object", "properties": {
         "tokens": {"type": "array", "items": _STR}, "codes": {"type": "array", "items": _STR},
         "pdf_url": _STR, "batch_id": _ID, "kind": _STR}},
     statuses=(201, 400, 403, 404, 409, 422))
def issue_ballots_route(pid):
    from .. import codes
    data = json_body()
    count = field(data, "count", int)
    kind = field(data, "kind", str, required=False, default="slip")
    size = field(data, "size", str, required=False, default="A4")
    poll = get_poll(pid)
    issued, _pdf = issue_batch(poll, count, current_actor(), kind=kind, size=size)
    db.session.commit()
    return ok({"tokens": issued.codes, "codes": [codes.format_code(c) for c in issued.codes],
               "pdf_url": url_for("polls.slips_pdf", pid=pid, fid=issued.batch.id),
               "batch_id": issued.batch.id, "kind": kind}, 201)


@bp.get("/polls/<int:pid>/batches/<int:batch_id>.pdf")
@roles("counter")
@committee_route()  # it holds usable ballots: the poll's own committee only
@doc("An issued batch's PDF (slips or paper ballots) again, until the poll closes",
     produces="application/pdf", statuses=(200, 403, 404, 409))
def batch_pdf_route(pid, batch_id):
    poll = get_poll(pid)
    data = batch_pdf(poll, batch_id, current_actor())
    db.session.commit()  # the download's audit event
    return pdf_response(data, f"batch-{pid}-{batch_id}.pdf")


@bp.get("/polls/<int:pid>/turnout")
@staff
@doc("Live turnout: counts only, never a ballot's content", response=TURNOUT_SCHEMA,
     statuses=(200, 404))
def turnout_route(pid):
    return ok(turnout(get_poll(pid)))
