"""API routes: congresses, delegates, import, attendance, check-in, cards (see api.md)."""
from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from ..congress.attendance import attendance as attendance_of
from ..congress.checkin import check_in, set_attendance
from ..congress.delegates import delegate_dict, get_delegate, list_delegates
from ..congress.importing import import_delegates
from ..congress.setup import (
    congress_dict,
    create_congress,
    get_congress,
    list_congresses,
    update_congress,
)
from ..errors import ServiceError
from ..extensions import db
from ..reports.pdf import pdf_response
from ..security import current_actor, roles, staff
from . import bp
from .util import doc, field, json_body, ok

_STR = {"type": "string"}
_DATE = {"type": "string", "format": "date"}
CONGRESS_BODY = {"type": "object", "required": ["name"], "properties": {
    "name": {"type": "string", "minLength": 1, "maxLength": 300},
    "organisation": {"type": "string", "maxLength": 300}, "term": {"type": "string",
                                                                   "maxLength": 50},
    "venue": {"type": "string", "maxLength": 300}, "starts_on": _DATE, "ends_on": _DATE,
    "kind": {"type": "string", "enum": ["members", "delegates"]},
    "quorum_fraction": {"type": "string", "pattern": r"^\d+/\d+$"},
    "kiosk_only": {"type": "boolean", "default": True}}}
CONGRESS = {"type": "object", "properties": {
    "id": {"type": "integer"}, "name": _STR, "organisation": _STR, "term": _STR, "venue": _STR,
    "starts_on": {"type": "string", "nullable": True}, "ends_on": {"type": "string",
                                                                   "nullable": True},
    "kind": _STR, "quorum_fraction": _STR, "kiosk_only": {"type": "boolean"},
    "branches": {"type": "array", "items": {"type": "object", "properties": {
        "id": {"type": "integer"}, "name": _STR}}}}}
DELEGATE = {"type": "object", "properties": {
    "id": {"type": "integer"}, "code": _STR, "full_name": _STR, "branch": _STR,
    "membership": {"type": "string", "enum": ["full", "probationary"]},
    "can_vote": {"type": "boolean"},
    "status": {"type": "string", "enum": ["absent", "present", "excused"]}}}
ATTENDANCE = {"type": "object", "required": [
    "summoned", "voters_summoned", "excused", "denominator", "present", "voters_present",
    "quorum_fraction", "quorum_met"], "properties": {
    "summoned": {"type": "integer"}, "voters_summoned": {"type": "integer"},
    "excused": {"type": "integer"}, "denominator": {"type": "integer"},
    "present": {"type": "integer"}, "voters_present": {"type": "integer"},
    "quorum_fraction": _STR, "quorum_met": {"type": "boolean"},
    "absent": {"type": "integer"}, "excused_voters": {"type": "integer"},
    "by_branch": {"type": "array", "items": {"type": "object"}}}}
IMPORT_ERRORS = {"type": "object", "properties": {"error": {"type": "object"}, "rows": {
    "type": "array", "items": {"type": "object", "properties": {
        "row": {"type": "integer"}, "field": _STR, "message": _STR}}}}}


def _congress_data(data: dict, partial: bool = False) -> dict:
    out = {}
    for key in ("name", "organisation", "term", "venue", "starts_on", "ends_on", "kind",
                "quorum_fraction"):
        value = field(data, key, str, required=key == "name" and not partial)
        if value is not None:
            out[key] = value
    only = field(data, "kiosk_only", bool, required=False)
    if only is not None:
        out["kiosk_only"] = only
    return out


@bp.get("/congresses")
@staff
@doc("List the congresses", response={"type": "array", "items": CONGRESS}, tag="congress")
def congresses_list():
    return ok([congress_dict(c) for c in list_congresses()])


@bp.post("/congresses")
@roles("admin")
@doc("Create a congress", body=CONGRESS_BODY, response=CONGRESS, statuses=(201,),
     tag="congress")
def congress_create():
    c = create_congress(_congress_data(json_body()), actor=current_actor())
    db.session.commit()
    return ok(congress_dict(c), 201)


@bp.get("/congresses/<int:cid>")
@staff
@doc("A congress", response=CONGRESS, tag="congress")
def congress_get(cid: int):
    return ok(congress_dict(get_congress(cid)))


@bp.patch("/congresses/<int:cid>")
@roles("admin")
@doc("Change fields of a congress (those given; e.g. {kiosk_only: false})",
     body={**CONGRESS_BODY, "required": []}, response=CONGRESS, statuses=(200, 400, 404, 422),
     tag="congress")
def congress_update(cid: int):
    c = update_congress(get_congress(cid), _congress_data(json_body(), partial=True),
                            actor=current_actor())
    answer = congress_dict(c)
    db.session.commit()
    return ok(answer)


@bp.post("/congresses/<int:cid>/delegates/import")
@roles("admin")
@doc("Import the delegate list (text/csv body, or multipart `file` with CSV or XLSX); "
     "all or nothing: 422 with `rows` lists every bad row",
     body={"type": "string"}, body_content="text/csv",
     response={"type": "object", "properties": {"imported": {"type": "integer"}}},
     statuses=(201, 422), tag="congress")
def delegates_import(cid: int):
    c = get_congress(cid)
    upload = request.files.get("file")
    if upload is not None:
        data, name = upload.read(), upload.filename or ""
    else:
        ctype = (request.mimetype or "").lower()
        if ctype in ("application/json", "application/x-www-form-urlencoded",
                     "multipart/form-data"):
            raise ServiceError("bad_request", _("Send the list as a text/csv body or as a "
                                 "multipart field named `file`."), status=400)
        data, name = request.get_data(), ""
    n = import_delegates(c, data, filename=name, actor=current_actor())
    db.session.commit()
    return ok({"imported": n}, 201)


@bp.get("/congresses/<int:cid>/delegates")
@staff
@doc("The delegates, in Vietnamese name order", response={"type": "array", "items": DELEGATE},
     tag="congress")
def delegates_list(cid: int):
    c = get_congress(cid)
    return ok([delegate_dict(d) for d in list_delegates(
        c, q=request.args.get("q", "")[:100], status=request.args.get("status"))])


@bp.post("/congresses/<int:cid>/delegates/<int:did>/attendance")
@roles("registrar")
@doc("Set a delegate's attendance (excused needs a reason)",
     body={"type": "object", "required": ["status"], "properties": {
         "status": {"type": "string", "enum": ["present", "excused", "absent"]},
         "reason": {"type": "string", "maxLength": 500}}},
     response=DELEGATE, tag="congress")
def delegate_attendance(cid: int, did: int):
    c = get_congress(cid)
    d = get_delegate(c, did)
    data = json_body()
    status = field(data, "status", str)
    reason = field(data, "reason", str, required=False)
    set_attendance(d, status, reason, actor=current_actor())
    db.session.commit()
    return ok(delegate_dict(d))


@bp.post("/congresses/<int:cid>/checkin")
@roles("registrar")
@doc("Check a delegate in by the card's QR text or printed card code; 404 unknown_card or "
     "card_of_another_congress, 422 not_a_card_code",
     body={"type": "object", "required": ["card"], "properties": {
         "card": {"type": "string", "maxLength": 200}}},
     response={"type": "object", "properties": {"delegate": DELEGATE,
                                                 "already_present": {"type": "boolean"}}},
     tag="congress")
def checkin(cid: int):
    try:
        card = field(json_body(), "card", str)
    except ServiceError:
        get_congress(cid)  # an unknown congress answers 404 before a bad body
        raise
    delegate, already = check_in(get_congress(cid), card, actor=current_actor())
    # Built before the commit: afterwards every ORM attribute is expired and reading one would
    # begin a second transaction (on SQLite a BEGIN IMMEDIATE, the write lock again).
    answer = {"delegate": delegate_dict(delegate),
              "already_present": already}
    db.session.commit()
    return ok(answer)


@bp.get("/congresses/<int:cid>/attendance")
@staff
@doc("Attendance figures and quorum", response=ATTENDANCE, tag="congress")
def attendance(cid: int):
    return ok(attendance_of(get_congress(cid)))


@bp.get("/congresses/<int:cid>/cards.pdf")
@roles("admin")
@doc("Delegate cards with QR (A4 sheets, PDF)", produces="application/pdf", tag="congress")
def cards_pdf(cid: int):
    from ..congress.printing import cards_pdf as render
    c = get_congress(cid)
    return pdf_response(render(c), f"cards-{c.id}.pdf")


@bp.get("/congresses/<int:cid>/attendance.pdf")
@staff
@doc("Credentials committee attendance report (PDF)", produces="application/pdf",
     tag="congress")
def attendance_pdf(cid: int):
    from ..congress.printing import attendance_pdf as render
    return pdf_response(render(get_congress(cid)), f"attendance-{cid}.pdf")
