"""API routes: congresses, delegates, import, attendance, check-in, cards (docs/api.md,
"Congress, delegates, attendance")."""

from __future__ import annotations

from flask import request
from flask_babel import gettext as _

from ..congress.attendance import attendance as attendance_of
from ..congress.checkin import check_in, set_attendance
from ..congress.delegates import delegate_dict, get_delegate, list_delegates
from ..congress.importing import import_delegates_report
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
from .blueprint import bp
from .schemas import congress as sch
from .schemas.base import answer, load
from .util import doc

_CSV_BODY = {"type": "string"}  # a CSV text (or a multipart XLSX file), not JSON


def _congress_data(schema) -> dict:
    """The body's fields that are given (null = not given)."""
    return {k: v for k, v in load(schema).items() if v is not None}


@bp.get("/congresses")
@staff
@doc("List the congresses", response=sch.Congress(many=True), tag="congress")
def congresses_list():
    return answer(sch.Congress(many=True), [congress_dict(c) for c in list_congresses()])


@bp.post("/congresses")
@roles("admin")
@doc(
    "Create a congress",
    body=sch.CongressBody,
    response=sch.Congress,
    statuses=(201,),
    tag="congress",
)
def congress_create():
    c = create_congress(_congress_data(sch.CongressBody()), actor=current_actor())
    db.session.commit()
    return answer(sch.Congress(), congress_dict(c), 201)


@bp.get("/congresses/<int:cid>")
@staff
@doc("A congress", response=sch.Congress, tag="congress")
def congress_get(cid: int):
    return answer(sch.Congress(), congress_dict(get_congress(cid)))


@bp.patch("/congresses/<int:cid>")
@roles("admin")
@doc(
    "Change fields of a congress (those given; e.g. {kiosk_only: false})",
    body=sch.CongressChange,
    response=sch.Congress,
    statuses=(200, 400, 404, 422),
    tag="congress",
)
def congress_update(cid: int):
    c = update_congress(
        get_congress(cid), _congress_data(sch.CongressChange()), actor=current_actor()
    )
    changed = congress_dict(c)
    db.session.commit()
    return answer(sch.Congress(), changed)


@bp.post("/congresses/<int:cid>/delegates/import")
@roles("admin")
@doc(
    "Import the delegate list (text/csv body, or multipart `file` with CSV or XLSX); "
    "all or nothing: 422 with `rows` lists every bad row",
    body=_CSV_BODY,
    body_content="text/csv",
    response=sch.Imported,
    statuses=(201, 422),
    tag="congress",
)
def delegates_import(cid: int):
    c = get_congress(cid)
    upload = request.files.get("file")
    if upload is not None:
        data, name = upload.read(), upload.filename or ""
    else:
        ctype = (request.mimetype or "").lower()
        if ctype in (
            "application/json",
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            raise ServiceError(
                "bad_request",
                _("Send the list as a text/csv body or as a multipart field named `file`."),
                status=400,
            )
        data, name = request.get_data(), ""
    n, warnings = import_delegates_report(c, data, filename=name, actor=current_actor())
    db.session.commit()
    return answer(sch.Imported(), {"imported": n, "warnings": warnings}, 201)


@bp.get("/congresses/<int:cid>/delegates")
@staff
@doc(
    "The delegates, in Vietnamese name order",
    response=sch.Delegate(many=True),
    query=sch.DelegateQuery,
    tag="congress",
)
def delegates_list(cid: int):
    c = get_congress(cid)
    args = load(sch.DelegateQuery(), request.args.to_dict())
    return answer(
        sch.Delegate(many=True),
        [delegate_dict(d) for d in list_delegates(c, q=args["q"][:100], status=args.get("status"))],
    )


@bp.post("/congresses/<int:cid>/delegates/<int:did>/attendance")
@roles("registrar")
@doc(
    "Set a delegate's attendance (excused needs a reason)",
    body=sch.AttendanceBody,
    response=sch.Delegate,
    tag="congress",
)
def delegate_attendance(cid: int, did: int):
    c = get_congress(cid)
    d = get_delegate(c, did)
    data = load(sch.AttendanceBody())
    set_attendance(d, data["status"], data.get("reason"), actor=current_actor())
    db.session.commit()
    return answer(sch.Delegate(), delegate_dict(d))


@bp.post("/congresses/<int:cid>/checkin")
@roles("registrar")
@doc(
    "Check a delegate in by the card's QR text or printed card code; 404 unknown_card or "
    "card_of_another_congress, 422 not_a_card_code",
    body=sch.CheckInBody,
    response=sch.CheckedIn,
    tag="congress",
)
def checkin(cid: int):
    try:
        card = load(sch.CheckInBody())["card"]
    except ServiceError:
        get_congress(cid)  # an unknown congress answers 404 before a bad body
        raise
    delegate, already = check_in(get_congress(cid), card, actor=current_actor())
    # Built before the commit: afterwards every ORM attribute is expired and reading one would
    # begin a second transaction (on SQLite a BEGIN IMMEDIATE, the write lock again).
    checked = {"delegate": delegate_dict(delegate), "already_present": already}
    db.session.commit()
    return answer(sch.CheckedIn(), checked)


@bp.get("/congresses/<int:cid>/attendance")
@staff
@doc("Attendance figures and quorum", response=sch.Attendance, tag="congress")
def attendance(cid: int):
    return answer(sch.Attendance(), attendance_of(get_congress(cid)))


@bp.get("/congresses/<int:cid>/cards.pdf")
@roles("admin")
@doc("Delegate cards with QR (A4 sheets, PDF)", produces="application/pdf", tag="congress")
def cards_pdf(cid: int):
    from ..congress.printing import cards_pdf as render

    c = get_congress(cid)
    return pdf_response(render(c), f"cards-{c.id}.pdf")


@bp.get("/congresses/<int:cid>/attendance.pdf")
@staff
@doc("Credentials committee attendance report (PDF)", produces="application/pdf", tag="congress")
def attendance_pdf(cid: int):
    from ..congress.printing import attendance_pdf as render

    return pdf_response(render(get_congress(cid)), f"attendance-{cid}.pdf")
