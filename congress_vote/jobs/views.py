"""HTML views of the background documents: start one, watch its progress, download it. The
page's script (static/js/document-job.js) asks GET /api/v1/documents/<id> for the progress;
without the script the page reloads itself every few seconds. The delegate cards (an admin's)
live under the congress; a poll's documents (a batch of slips or paper ballots, the counting
minutes: jobs/poll_documents.py) under the poll, for who may read them."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from ..congress.setup import get_congress
from ..errors import ServiceError
from ..extensions import db
from ..ids import id_or_none
from ..polls.services import get_poll
from ..reports.pdf import pdf_response
from ..security import current_actor, roles
from .poll_documents import POLL_KINDS, guard, require_reader
from .runner import get_job, job_dict, job_file, launch, start_job, start_poll_job

bp = Blueprint("documents", __name__)


def _job_or_404(cid: int, jid: str):
    try:
        get_congress(cid)
        return get_job(jid, cid)
    except ServiceError:
        abort(404)


@bp.post("/congresses/<int:cid>/documents/<kind>")
@roles("admin")
def start(cid: int, kind: str):
    try:
        c = get_congress(cid)
    except ServiceError:
        abort(404)
    if kind != "cards":
        abort(404)
    job, new = start_job(c, kind, actor=current_actor())
    db.session.commit()
    if new:
        launch(job)
    return redirect(url_for("documents.show", cid=cid, jid=job.id))


@bp.get("/congresses/<int:cid>/documents/<jid>")
@roles("admin")
def show(cid: int, jid: str):
    job = _job_or_404(cid, jid)
    return render_template(
        "congress/document_job.html", congress=get_congress(cid), job=job_dict(job)
    )


@bp.get("/congresses/<int:cid>/documents/<jid>/file")
@roles("admin")
def file(cid: int, jid: str):
    job = _job_or_404(cid, jid)
    try:
        data = job_file(job)
    except ServiceError as err:
        abort(err.status, err.message)
    return pdf_response(data, job.filename, no_store=True)


# ---- a poll's documents ------------------------------------------------------------------------

_BACK = {"slips": "polls.show", "paper": "counting.paper", "minutes": "counting.result"}


@bp.post("/polls/<int:pid>/documents/<kind>")
@roles("counter", "chair")
def poll_start(pid: int, kind: str):
    """Start a poll's document (the issue form's slips, the paper ballots, the minutes) and
    show its progress page; a refusal goes back to the page it came from."""
    poll, actor = get_poll(pid), current_actor()
    guard(poll, actor, kind)  # the committee (a chair: the minutes) before anything else
    if kind not in POLL_KINDS:
        abort(404)
    count = id_or_none((request.form.get("count") or "").strip())
    try:
        if kind != "minutes" and count is None:
            raise ServiceError("bad_count", _("Enter how many ballots to issue."), status=422)
        job, new = start_poll_job(
            poll,
            kind,
            actor,
            count=count,
            size=request.form.get("size") or "A4",
            lang=request.values.get("lang"),
        )
    except ServiceError as err:
        db.session.rollback()
        if err.status in (401, 403):
            raise
        flash(err.message, "error")
        return redirect(url_for(_BACK[kind], pid=pid), 303)
    jid = job.id
    db.session.commit()
    if new:
        launch(jid)
    return redirect(url_for("documents.poll_show", pid=pid, jid=jid), 303)


def _poll_job(pid: int, jid: str):
    poll = get_poll(pid)
    guard(poll, current_actor(), None)  # nobody else reads any document of the poll
    try:
        job = get_job(jid, poll.congress_id)
    except ServiceError:
        abort(404)
    if job.poll_id != poll.id:
        abort(404)
    require_reader(job, current_actor())  # 403 for anyone who may not read the document
    return poll, job


@bp.get("/polls/<int:pid>/documents/<jid>")
@roles("counter", "chair")
def poll_show(pid: int, jid: str):
    poll, job = _poll_job(pid, jid)
    return render_template(
        "polls/document_job.html",
        poll=poll,
        job=job_dict(job),
        back=url_for(_BACK[job.kind], pid=pid),
    )


@bp.get("/polls/<int:pid>/documents/<jid>/file")
@roles("counter", "chair")
def poll_file(pid: int, jid: str):
    _poll, job = _poll_job(pid, jid)
    data = job_file(job, current_actor())  # a batch's: 409 once the poll is closed
    db.session.commit()  # a batch's download is audited (ballots.pdf_downloaded)
    return pdf_response(data, job.filename, no_store=True)
