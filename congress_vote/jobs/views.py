"""HTML views of the background documents: start one, watch its progress, download it. The
page's script (static/js/document-job.js) asks GET /api/v1/documents/<id> for the progress;
without the script the page reloads itself every few seconds."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, url_for

from ..congress.setup import get_congress
from ..errors import ServiceError
from ..extensions import db
from ..reports.pdf import pdf_response
from ..security import current_actor, roles
from .runner import get_job, job_dict, job_file, launch, start_job

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
    resp = pdf_response(data, job.filename)
    resp.headers["Cache-Control"] = "no-store"
    return resp
