"""API routes of the chair's side: publish, printed outcomes, exports, receipt check."""

from __future__ import annotations

import json

from flask import current_app
from flask_babel import gettext as _

from ..audit.services import head_hash
from ..congress.setup import get_congress
from ..errors import ServiceError
from ..exports import csv_bytes, xlsx_bytes
from ..extensions import db, limiter
from ..polls.committee import committee_route
from ..polls.services import get_poll, poll_to_dict
from ..reports import services as svc
from ..reports.paper_form import heading
from ..reports.pdf import pdf_response, render_pdf
from ..reports.projector import screen_state
from ..reports.result_exports import (
    EXPORT_HEADER,
    ballots_export,
    export_rows,
    exportable_result,
)
from ..security import csrf_exempt, current_actor, public, roles
from .blueprint import bp
from .schemas import reports as sch
from .schemas.base import answer, dump, load
from .schemas.counting import Result
from .schemas.polls import Poll
from .util import doc


def _download(data: bytes, mimetype: str, filename: str):
    resp = current_app.response_class(data, mimetype=mimetype)
    resp.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return resp


@bp.post("/polls/<int:pid>/publish")
@roles("chair")
@doc("Publish a certified result (certified → published)", response=Poll, statuses=(200, 409))
def publish_poll(pid: int):
    poll = get_poll(pid)
    svc.publish_poll(poll, current_actor())
    db.session.commit()
    return answer(Poll(), poll_to_dict(poll))


@bp.get("/polls/<int:pid>/announcement.pdf")
@roles("chair")
@doc(
    "Results announcement PDF for the chair to read aloud (once counted)",
    produces="application/pdf",
    statuses=(200, 409),
)
def announcement_pdf(pid: int):
    poll = get_poll(pid)
    data = svc.require_result(poll)
    congress = svc.poll_congress(poll)
    order = {cid: n for n, cid in enumerate(data.get("elected_order") or [])}
    elected = sorted(
        [c for c in data["candidates"] if c.get("elected")],
        key=lambda c: (
            {"official": 0, "alternate": 1}[c["elected"]],
            order.get(c["id"], 10**6),
            -c.get("votes", 0),
        ),
    )
    names = {c["id"]: c["full_name"] for c in data["candidates"]}
    pdf = render_pdf(
        "print/announcement.html",
        congress=congress,
        poll=poll,
        r=data,
        elected=elected,
        audit_head=head_hash(),
        ties=[
            {**t, "names": [names.get(x, str(x)) for x in t.get("candidate_ids", [])]}
            for t in data.get("ties") or []
        ],
        fingerprint=poll.setup_fingerprint,
        doc_title=_("Results announcement"),
        head_block=heading(congress, _("Presidium")),
    )
    return pdf_response(pdf, f"announcement-{poll.id}.pdf")


@bp.get("/congresses/<int:cid>/summary.pdf")
@roles("chair", "observer")
@doc(
    "Congress summary PDF: published results, attendance, the elected",
    produces="application/pdf",
    statuses=(200,),
)
def summary_pdf(cid: int):
    congress = get_congress(cid)
    summary = svc.congress_summary(congress)
    fingerprints = {p.id: p.setup_fingerprint for p in svc.agenda(congress)}
    pdf = render_pdf(
        "print/summary.html",
        congress=congress,
        s=summary,
        fingerprints=fingerprints,
        audit_head=head_hash(),
        doc_title=_("Congress summary"),
        head_block=heading(congress, _("Presidium")),
    )
    return pdf_response(pdf, f"summary-{congress.id}.pdf")


def _export_data(pid: int) -> dict:
    return exportable_result(get_poll(pid), current_actor())


@bp.get("/polls/<int:pid>/export.json")
@public
@doc(
    "Result as JSON (staff once counted, anyone once published)",
    response=Result,
    statuses=(200, 409),
)
def export_json(pid: int):
    data = dump(Result(), _export_data(pid))
    body = json.dumps(data, ensure_ascii=False, indent=1, default=str).encode()
    return _download(body, "application/json", f"result-{pid}.json")


@bp.get("/polls/<int:pid>/export.csv")
@public
@doc(
    "Result as CSV (staff once counted, anyone once published)",
    produces="text/csv",
    statuses=(200, 409),
)
def export_csv(pid: int):
    data = _export_data(pid)
    return _download(
        csv_bytes(EXPORT_HEADER, export_rows(data)),
        "text/csv; charset=utf-8",
        f"result-{pid}.csv",
    )


@bp.get("/polls/<int:pid>/export.xlsx")
@public
@doc(
    "Result as XLSX (staff once counted, anyone once published)",
    produces="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    statuses=(200, 409),
)
def export_xlsx(pid: int):
    data = _export_data(pid)
    return _download(
        xlsx_bytes(EXPORT_HEADER, export_rows(data), title=f"poll {pid}"),
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        f"result-{pid}.xlsx",
    )


@bp.get("/polls/<int:pid>/ballots.json")
@roles("counter", "chair", "observer")
@committee_route(readers=("chair", "observer"))
@doc(
    "Anonymous ballots of a counted poll for an independent recount "
    "(python -m congress_vote.rules.recount FILE)",
    response=sch.RecountFile,
    statuses=(200, 409),
)
def ballots_json(pid: int):
    payload = ballots_export(get_poll(pid))
    body = json.dumps(payload, ensure_ascii=False, indent=1).encode()
    return _download(body, "application/json", f"ballots-{pid}.json")


@bp.get("/congresses/<int:cid>/screen")
@public
@doc(
    "The projector's public state (idle, voting, counting, result); never unpublished figures",
    response=sch.Screen,
)
def screen(cid: int):
    return answer(sch.Screen(), screen_state(get_congress(cid)))


@bp.post("/congresses/<int:cid>/receipt-check")
@limiter.limit(lambda: current_app.config["RATELIMIT_CODE_ENTRY"])
@public
@csrf_exempt
@doc(
    "Was a ballot with this receipt counted in a published poll? (never shows the choice)",
    body=sch.ReceiptCheckBody,
    response=sch.ReceiptCheck,
)
def receipt_check(cid: int):
    congress = get_congress(cid)
    code = load(sch.ReceiptCheckBody())["code"]
    if len(code) > 64:
        raise ServiceError("bad_request", _("code is too long."), status=400)
    found = svc.check_receipt(congress, code)
    return answer(
        sch.ReceiptCheck(),
        {"counted": bool(found), "polls": [{"id": p.id, "title": p.title} for p in found]},
    )
