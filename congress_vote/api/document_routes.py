"""API routes: long documents made in the background (jobs/runner.py; docs/api.md,
"Congress, delegates, attendance"). The HTML pages (jobs/views.py) poll the same GET."""

from __future__ import annotations

from ..congress.setup import get_congress
from ..extensions import db
from ..jobs.runner import get_job, job_dict, job_file, launch, start_job
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


@bp.get("/documents/<jid>")
@roles("admin")
@doc("A background document's progress", response=sch.Document, statuses=(200, 404), tag="congress")
def documents_show(jid: str):
    return answer(sch.Document(), job_dict(get_job(jid)))


@bp.get("/documents/<jid>/file")
@roles("admin")
@doc(
    "The finished document (no-store); 409 not_ready, 410 expired",
    produces="application/pdf",
    statuses=(200, 404, 409, 410),
    tag="congress",
)
def documents_file(jid: str):
    job = get_job(jid)
    resp = pdf_response(job_file(job), job.filename)
    resp.headers["Cache-Control"] = "no-store"
    return resp
