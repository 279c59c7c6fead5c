"""A poll's long documents made in the background (jobs/runner.py), as the delegate cards are: a
batch of ballot slips (`slips`) or of full paper ballots (`paper`), and the counting minutes
(`minutes`). 2,000 slips take about 5 s, the minutes of 200 candidates × 2,000 ballots about
3 s: enough for a proxy to time out, or a counter to click twice.

Each job runs the renderer the direct route runs (ballots/slips.render_slips,
ballots/paper_ballots.paper_ballots_pdf, counting/minutes.minutes_pdf), and its progress and
file are readable only by who may read the document (`require_reader`, at every request):

- a batch: the poll's counting committee, until the poll closes (ballots/batch_pdfs.py). The job
  draws the codes, renders the PDF while holding no write lock (reads in a GET request context,
  so SQLite takes no BEGIN IMMEDIATE), then issues the batch in one short transaction that
  checks the committee and the room left again and keeps the PDF sealed as the batch's own
  (batch_pdfs.keep_batch_pdf), with the job marked done in the same commit. The job stores no
  copy: its download is the batch's PDF (committee, audited `ballots.pdf_downloaded`, 409 once
  the poll is closed, when the PDFs are deleted; 404 once the batch is voided). If rendering or
  issuing fails, nothing is issued.
- the minutes: the committee and the chair (the direct route's rule); the file is sealed like
  the cards' and deleted `DONE_TTL` after it is made.
"""

from __future__ import annotations

import json
from collections.abc import Callable

from flask import current_app
from flask_babel import gettext as _

from ..auth.models import User
from ..ballots.batch_pdfs import batch_pdf
from ..ballots.issuing import check_issue, issue_rendered, new_codes
from ..ballots.paper_ballots import paper_ballots_pdf
from ..ballots.slips import render_slips
from ..congress.models import Congress
from ..counting.minutes import minutes_pdf, pick_lang
from ..counting.models import PollResult
from ..errors import ServiceError
from ..extensions import db
from ..polls.committee import require_committee
from ..polls.models import Poll
from .models import DocumentJob

BATCHES = {"slips": "slip", "paper": "paper"}  # job kind -> the batch's kind
POLL_KINDS = (*BATCHES, "minutes")
Progress = Callable[[int, int], None]


def params(job: DocumentJob) -> dict:
    return json.loads(job.params or "{}")


def _reads():
    """A GET request context: its transactions are plain BEGIN (no SQLite write lock held while
    a document renders; congress_vote/db.py)."""
    return current_app.test_request_context("/", method="GET")


# ---- who may read ------------------------------------------------------------------------------


def require_reader(job: DocumentJob, actor) -> None:
    """403 unless `actor` may read the document of `job`: an admin the cards; the poll's
    committee a batch; the committee or a chair the minutes."""
    if job.kind == "cards":
        if actor is None or not actor.has_role("admin"):
            raise ServiceError("forbidden", _("You may not read this document."), status=403)
        return
    poll = db.session.get_one(Poll, job.poll_id)
    if job.kind == "minutes" and actor is not None and actor.has_role("chair"):
        return
    require_committee(poll, actor)


def guard(poll: Poll, actor, kind: str | None) -> None:
    """The routes' guard, before anything else is read (tests/test_committee_scope.py): the
    poll's committee, or a chair for the minutes (`kind` None: any of the poll's documents)."""
    if kind in ("minutes", None) and actor is not None and actor.has_role("chair"):
        return
    require_committee(poll, actor)


# ---- starting: the request's checks, then runner.start_job -------------------------------------


def poll_job_request(poll: Poll, kind: str, actor, count=None, size="A4", lang=None) -> dict:
    """Check now what the job would refuse (the committee, the count, the room left; a counted
    poll for the minutes) and answer the job's params. Raises the direct route's errors."""
    if kind in BATCHES:
        if size not in ("A4", "A5"):
            raise ServiceError("bad_size", _("size must be A4 or A5."), status=422)
        check_issue(poll, count, actor, BATCHES[kind])
        return {"count": count, "size": size} if kind == "paper" else {"count": count}
    if kind != "minutes":
        raise ServiceError("bad_kind", _("No such document."), status=404)
    if not (actor is not None and actor.has_role("chair")):
        require_committee(poll, actor)
    if db.session.get(PollResult, poll.id) is None:
        raise ServiceError("not_counted", _("The poll has not been counted yet."), status=409)
    return {"lang": pick_lang(lang)}


def units(job_kind: str, congress: Congress, p: dict) -> int:
    return int(p.get("count") or 0) if job_kind in BATCHES else 1


# ---- making ------------------------------------------------------------------------------------


def make_batch(job: DocumentJob, congress: Congress, progress: Progress) -> None:
    p, kind, pid, uid = params(job), BATCHES[job.kind], job.poll_id, job.user_id
    plain = new_codes(int(p["count"]))
    with _reads():
        poll = db.session.get_one(Poll, pid)

        def step(done: int, total: int) -> None:
            db.session.rollback()  # the reads' transaction ends before the progress is written
            progress(done, total)

        if kind == "slip":
            pdf = render_slips(poll, plain, progress=step)
        else:
            pdf = paper_ballots_pdf(poll, plain, p.get("size", "A4"))
        db.session.rollback()
    # the issuing transaction: short, checked again (committee, open, room), done with the job
    actor = db.session.get(User, uid) if uid is not None else None
    issued = issue_rendered(db.session.get_one(Poll, pid), plain, pdf, actor, kind)
    row = db.session.get_one(DocumentJob, job.id)
    row.params = json.dumps({**p, "batch_id": issued.batch.id})
    name = "slips-poll-{pid}-{bid}.pdf" if kind == "slip" else "phieu-bau-{pid}-{bid}.pdf"
    row.filename = name.format(pid=pid, bid=issued.batch.id)
    return None


def make_minutes(job: DocumentJob, congress: Congress, progress: Progress) -> bytes:
    lang, pid = params(job).get("lang"), job.poll_id
    with _reads():
        pdf = minutes_pdf(db.session.get_one(Poll, pid), lang)
        db.session.rollback()
    return pdf


def batch_file(job: DocumentJob, actor) -> bytes:
    """A finished batch job's file: the batch's kept PDF (committee; 409 after the close;
    audited `ballots.pdf_downloaded` — the caller commits)."""
    poll = db.session.get_one(Poll, job.poll_id)
    return batch_pdf(poll, params(job).get("batch_id"), actor)
