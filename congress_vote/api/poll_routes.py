"""API routes: polls (docs/api.md, "Polls"): create, read, list, open, issue ballots and
download a batch's PDF again or void the batch, close, turnout."""

from flask import url_for

from ..ballots.batch_pdfs import batch_pdf
from ..ballots.issuing import issue_batch
from ..ballots.services import turnout
from ..ballots.voiding import void_batch
from ..congress.setup import get_congress
from ..extensions import db
from ..polls.committee import committee_route
from ..polls.services import close_poll, create_poll, get_poll, open_poll, poll_to_dict, polls_of
from ..reports.pdf import pdf_response
from ..security import current_actor, roles, staff
from .blueprint import bp
from .schemas import polls as sch
from .schemas.base import answer, load
from .util import doc


@bp.post("/congresses/<int:cid>/polls")
@roles("admin")
@doc("Create a poll (draft)", body=sch.PollBody, response=sch.Poll, statuses=(201, 400, 404, 422))
def create_poll_route(cid):
    congress = get_congress(cid)
    poll = create_poll(congress, load(sch.PollBody()), current_actor())
    db.session.commit()
    return answer(sch.Poll(), poll_to_dict(poll), 201)


@bp.get("/congresses/<int:cid>/polls")
@staff
@doc("The congress's polls in agenda order", response=sch.Poll(many=True), statuses=(200, 404))
def list_polls_route(cid):
    get_congress(cid)
    return answer(sch.Poll(many=True), [poll_to_dict(p) for p in polls_of(cid)])


@bp.get("/polls/<int:pid>")
@staff
@doc("A poll", response=sch.Poll, statuses=(200, 404))
def get_poll_route(pid):
    return answer(sch.Poll(), poll_to_dict(get_poll(pid)))


@bp.post("/polls/<int:pid>/open")
@roles("chair")
@doc(
    "Open a draft poll; fixes its setup fingerprint",
    response=sch.Poll,
    statuses=(200, 404, 409, 422),
)
def open_poll_route(pid):
    poll = open_poll(get_poll(pid, lock=True), current_actor())
    db.session.commit()
    return answer(sch.Poll(), poll_to_dict(poll))


@bp.post("/polls/<int:pid>/close")
@roles("chair")
@doc("Close an open poll; unused ballots are voided", response=sch.Poll, statuses=(200, 404, 409))
def close_poll_route(pid):
    poll = close_poll(get_poll(pid, lock=True), current_actor())
    db.session.commit()
    return answer(sch.Poll(), poll_to_dict(poll))


@bp.post("/polls/<int:pid>/ballots")
@roles("counter")
@doc(
    "Issue N anonymous ballots; the only time the tokens exist in plain text",
    body=sch.BatchBody,
    response=sch.Batch,
    statuses=(201, 400, 403, 404, 409, 422),
)
def issue_ballots_route(pid):
    from .. import codes

    data = load(sch.BatchBody())
    count, kind, size = data["count"], data["kind"] or "slip", data["size"] or "A4"
    poll = get_poll(pid)
    issued, _pdf = issue_batch(poll, count, current_actor(), kind=kind, size=size)
    db.session.commit()
    batch = {
        "tokens": issued.codes,
        "codes": [codes.format_code(c) for c in issued.codes],
        "pdf_url": url_for("polls.slips_pdf", pid=pid, fid=issued.batch.id),
        "batch_id": issued.batch.id,
        "kind": kind,
    }
    return answer(sch.Batch(), batch, 201)


@bp.get("/polls/<int:pid>/batches/<int:batch_id>.pdf")
@roles("counter")
@committee_route()  # it holds usable ballots: the poll's own committee only
@doc(
    "An issued batch's PDF (slips or paper ballots) again, until the poll closes",
    produces="application/pdf",
    statuses=(200, 403, 404, 409),
)
def batch_pdf_route(pid, batch_id):
    poll = get_poll(pid)
    data = batch_pdf(poll, batch_id, current_actor())
    db.session.commit()  # the download's audit event
    return pdf_response(data, f"batch-{pid}-{batch_id}.pdf")


@bp.post("/polls/<int:pid>/batches/<int:batch_id>/void")
@roles("counter")
@doc(
    "Void a batch while the poll is open: its unused ballots become void (and may be issued "
    "again), its PDF is deleted",
    response=sch.VoidedBatch,
    statuses=(200, 403, 404, 409),
)
def void_batch_route(pid, batch_id):
    poll = get_poll(pid)
    batch = void_batch(poll, batch_id, current_actor())
    db.session.commit()
    voided = {
        "poll_id": poll.id,
        "batch_id": batch.id,
        "kind": batch.kind,
        "count": batch.count,
        "voided": batch.voided_count or 0,
        "voided_at": batch.voided_at.isoformat() + "Z" if batch.voided_at else None,
    }
    return answer(sch.VoidedBatch(), voided)


@bp.get("/polls/<int:pid>/turnout")
@staff
@doc(
    "Live turnout: counts only, never a ballot's content", response=sch.Turnout, statuses=(200, 404)
)
def turnout_route(pid):
    return answer(sch.Turnout(), turnout(get_poll(pid)))
