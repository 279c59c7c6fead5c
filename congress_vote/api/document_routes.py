"""API routes: long documents made in the background (jobs/runner.py; docs/api.md,
"Congress, delegates, attendance"). The HTML pages (jobs/views.py) poll the same GET."""

from __future__ import annotations

from flask import request

from ..congress.setup import get_congress
from ..extensions import db
from ..jobs.poll_documents import guard, require_reader
from ..jobs.runner import get_job, job_dict, job_file, launch, start_job, start_poll_job
from ..polls.services import get_poll
from ..reports.pdf import pdf_response
from ..security import current_actor, roles
from .blueprint import bp
from .schemas import documents as sch
from .schemas.base import answer, load
from .util import doc


@bp.post("/congresses/<int:cid>/documents")
@roles("admin")
@doc(
    "Start a long document in the background (kind cards: every delegate card); 202 with its "
    "progress; the same admin's unfinished job of that kind is given back",
    body=sch.DocumentBody,
    response=sch.Document,
    statuses=(202, 422),
    tag="congress",
)
def documents_start(cid: int):
    c = get_congress(cid)
    kind = load(sch.DocumentBody())["kind"]
    job, new = start_job(c, kind, actor=current_actor())
    out = job_dict(job)
    db.session.commit()
    if new:
        launch(job)
    return answer(sch.Document(), out, 202)


@bp.post("/polls/<int:pid>/documents")
@roles("counter", "chair")
@doc(
    "Start a poll's long document in the background: kind slips or paper (a batch of `count` "
    "ballots, issued when made; the poll's counting committee) or minutes (the committee or a "
    "chair); 202 with its progress. What the direct routes refuse is refused here at once",
    body=sch.PollDocumentBody,
    response=sch.Document,
    statuses=(202, 403, 404, 409, 422),
    tag="counting",
)
def poll_documents_start(pid: int):
    poll, actor = get_poll(pid), current_actor()
    asked = (request.get_json(silent=True) or {}).get("kind")
    guard(poll, actor, "minutes" if asked == "minutes" else "")  # before the body is read
    body = load(sch.PollDocumentBody())
    job, new = start_poll_job(
        poll,
        body["kind"],
        actor,
        count=body.get("count"),
        size=body.get("size") or "A4",
        lang=body.get("lang"),
    )
    out = job_dict(job)
    db.session.commit()
    if new:
        launch(out["id"])
    return answer(sch.Document(), out, 202)


@bp.get("/documents/<jid>")
@roles("admin", "counter", "chair")
@doc(
    "A background document's progress (cards: an admin; a poll's slips or paper ballots: its "
    "counting committee; its minutes: the committee or a chair)",
    response=sch.Document,
    statuses=(200, 403, 404),
    tag="congress",
)
def documents_show(jid: str):
    job = get_job(jid)
    require_reader(job, current_actor())
    return answer(sch.Document(), job_dict(job))


@bp.get("/documents/<jid>/file")
@roles("admin", "counter", "chair")
@doc(
    "The finished document (no-store); 409 not_ready (or, for a batch of ballots, its poll "
    "closed), 410 expired; the readers of GET /documents/{id}",
    produces="application/pdf",
    statuses=(200, 403, 404, 409, 410),
    tag="congress",
)
def documents_file(jid: str):
    job = get_job(jid)
    actor = current_actor()
    require_reader(job, actor)
    data = job_file(job, actor)
    db.session.commit()  # a batch's download is audited (ballots.pdf_downloaded)
    return pdf_response(data, job.filename, no_store=True)
