"""HTML views: the check-in desk (scan or type a card, search by name, undo, set attendance).

It works as plain forms; static/js/congress-checkin.js posts the same forms with
`Accept: application/json` and gets the feedback as JSON instead of a page. The routes register
on the congress blueprint (create_app imports this module).
"""

from __future__ import annotations

from flask import jsonify, render_template, request
from flask_babel import format_time
from flask_babel import gettext as _

from ..errors import ServiceError
from ..extensions import db
from ..security import current_actor, roles
from .attendance import attendance
from .checkin import check_in, check_in_delegate, last_check_in, set_attendance, undo_check_in
from .delegates import delegate_dict, list_delegates
from .views import bp, congress_or_404, delegate_or_404


def _wants_json() -> bool:
    return request.accept_mimetypes.best == "application/json"


def _feedback(kind: str, message: str, delegate=None, status: int = 200):
    """Answer a desk action: JSON for the script, else the desk page with the message."""
    c = congress_or_404((request.view_args or {})["cid"])  # the desk's routes all carry <cid>
    figures = attendance(c)
    # The desk's undo button: the delegate this desk has just checked in, else the latest.
    last = delegate if kind in ("ok", "probationary") else last_check_in(c)
    if _wants_json():
        return jsonify(
            {
                "kind": kind,
                "message": message,
                "delegate": delegate_dict(delegate) if delegate else None,
                "attendance": figures,
                "last": {"id": last.id, "full_name": last.full_name} if last else None,
            }
        ), status
    return render_template(
        "congress/checkin.html",
        congress=c,
        figures=figures,
        feedback={"kind": kind, "message": message},
        last=last,
        results=None,
        q="",
    ), status


@bp.get("/congresses/<int:cid>/checkin")
@roles("registrar")
def checkin(cid: int):
    c = congress_or_404(cid)
    q = request.args.get("q", "").strip()[:100]
    results = list_delegates(c, q=q, limit=30) if q else None
    return render_template(
        "congress/checkin.html",
        congress=c,
        figures=attendance(c),
        feedback=None,
        last=last_check_in(c),
        results=results,
        q=q,
    )


def _checked_in_message(d, already: bool) -> tuple[str, str]:
    where = f" — {d.branch_name}" if d.branch_name else ""
    if already:
        when = format_time(d.checked_in_at, "HH:mm") if d.checked_in_at else ""
        return "repeat", _(
            "Already checked in at %(time)s: %(name)s%(branch)s",
            time=when,
            name=d.full_name,
            branch=where,
        )
    if not d.can_vote:
        return "probationary", _(
            "Checked in: %(name)s%(branch)s. Probationary member: attends but does not vote.",
            name=d.full_name,
            branch=where,
        )
    return "ok", _("Checked in: %(name)s%(branch)s", name=d.full_name, branch=where)


_CARD_ERRORS = {
    "unknown_card": lambda: _("Unknown card: no delegate holds this card."),
    "card_of_another_congress": lambda: _("Card of another congress."),
    "not_a_card_code": lambda: _(
        "Not a card code: scan the QR on the delegate card or type the code printed under it."
    ),
}


@bp.post("/congresses/<int:cid>/checkin")
@roles("registrar")
def checkin_post(cid: int):
    c = congress_or_404(cid)
    actor = current_actor()
    did = request.form.get("delegate_id", type=int)
    text = (request.form.get("card") or "").strip()
    try:
        if did:
            d = delegate_or_404(c, did)
            already = check_in_delegate(d, actor=actor)
        elif text:
            d, already = check_in(c, text, actor=actor)
        else:
            return _feedback("error", _("Scan a card or type its code."), status=400)
        # The answer is built in the transaction (it sees the check-in), before the commit
        # expires the congress and the delegate, which would be read again one by one.
        kind, msg = _checked_in_message(d, already)
        answer = _feedback(kind, msg, d)
        db.session.commit()
    except ServiceError as err:
        db.session.rollback()
        message = err.message
        msg = _CARD_ERRORS.get(err.code, lambda: message)()
        return _feedback("error", msg, status=err.status)
    return answer


@bp.post("/congresses/<int:cid>/checkin/undo")
@roles("registrar")
def checkin_undo(cid: int):
    c = congress_or_404(cid)
    did = request.form.get("delegate_id", type=int)
    if not did:
        return _feedback("error", _("Nothing to undo."), status=400)
    d = delegate_or_404(c, did)
    try:
        undo_check_in(d, actor=current_actor())
        db.session.commit()
    except ServiceError as err:
        db.session.rollback()
        return _feedback("error", err.message, status=err.status)
    return _feedback("undo", _("Check-in undone: %(name)s is absent again.", name=d.full_name), d)


@bp.post("/congresses/<int:cid>/delegates/<int:did>/attendance")
@roles("registrar")
def attendance_set(cid: int, did: int):
    c = congress_or_404(cid)
    d = delegate_or_404(c, did)
    status = request.form.get("status", "")
    try:
        set_attendance(d, status, request.form.get("reason"), actor=current_actor())
        db.session.commit()
    except ServiceError as err:
        db.session.rollback()
        return _feedback("error", err.message, status=err.status)
    labels = {
        "excused": _("Excused absence recorded: %(name)s", name=d.full_name),
        "absent": _("Marked absent: %(name)s", name=d.full_name),
        "present": _("Checked in: %(name)s", name=d.full_name),
    }
    return _feedback("excused" if status == "excused" else "ok", labels[status], d)
