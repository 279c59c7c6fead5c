"""Long documents made in the background: a thread of the app's own process, a row per job.

Why this way: the hall runs on one laptop (gunicorn on SQLite) or a small server; a job queue
with its own server (Celery, RQ + Redis) would be one more thing to install and keep running,
for a handful of documents a day. A `ThreadPoolExecutor` of one thread per app process makes
the document (the cards still lay out in worker processes: congress/printing.py), and the
`document_job` row tells every process (any gunicorn worker may answer the progress request)
how far it got. The request that starts a job answers at once: nothing waits at the proxy.

Secrets: delegate cards carry card codes, which are credentials. The finished PDF is sealed
with AES-256-GCM (the `cryptography` package; the key derived with HKDF-SHA256 from SECRET_KEY
and the job id; the congress and job ids as associated data), so the database, its WAL and its
backups hold no card code in plain text; nothing is written to disk. It is deleted
`DONE_TTL` after it is made (at the next job's start), and only an admin can download it.
A poll's documents (a batch of ballots, the minutes) are jobs too: jobs/poll_documents.py says
who reads them and where a batch's file is kept.

A job whose process died (a restart) stops moving: one not updated for `STALE_AFTER` is
reported failed, and the admin starts another.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import timedelta

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import Flask, current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from ..audit.services import record
from ..congress.models import Congress
from ..db import utcnow
from ..errors import ServiceError
from ..extensions import db
from .models import DocumentJob
from .poll_documents import (
    BATCHES,
    batch_file,
    make_batch,
    make_minutes,
    poll_job_request,
    units,
)

log = logging.getLogger(__name__)

DONE_TTL = timedelta(minutes=30)  # a finished document is kept this long for its download
STALE_AFTER = timedelta(minutes=2)  # a job not updated for this long died with its process
_CONTEXT = b"congress-vote/document-job/v1"
_NONCE = 12


def _make_cards(job, congress: Congress, progress: Callable[[int, int], None]) -> bytes:
    from ..congress.delegates import list_delegates
    from ..congress.printing import cards_pdf

    delegates = list_delegates(congress)
    for d in delegates:
        _ = d.branch  # loaded now: the layout runs with the session closed (see _run)
    db.session.expunge_all()
    db.session.rollback()  # no transaction (nor SQLite write lock) held while laying out
    return cards_pdf(congress, delegates, progress)


def _count_delegates(congress: Congress, params: dict) -> int:
    from ..congress.models import Delegate

    n = db.session.scalar(
        select(func.count(Delegate.id)).where(Delegate.congress_id == congress.id)
    )
    return int(n or 0)


# kind: (what makes it — its bytes, or None when the document is kept elsewhere (a batch's own
# PDF) —, how many units it has, its file name)
KINDS: dict[str, tuple[Callable, Callable[[Congress, dict], int], str]] = {
    "cards": (_make_cards, _count_delegates, "cards-{cid}.pdf"),
    "slips": (make_batch, lambda c, p: units("slips", c, p), "slips-poll-{pid}.pdf"),
    "paper": (make_batch, lambda c, p: units("paper", c, p), "phieu-bau-{pid}.pdf"),
    "minutes": (make_minutes, lambda c, p: 1, "bien-ban-kiem-phieu-{pid}.pdf"),
}
PROGRESS_EVERY = 0.5  # seconds between two progress writes (each is a write transaction)


# ---- sealing -----------------------------------------------------------------------------------


def _key(job_id: str) -> bytes:
    secret = current_app.config["SECRET_KEY"]
    if isinstance(secret, str):
        secret = secret.encode()
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=_CONTEXT, info=b"job:" + job_id.encode()
    ).derive(secret)


def _aad(job: DocumentJob) -> bytes:
    return _CONTEXT + b"|congress:%d|job:" % job.congress_id + job.id.encode()


def _seal(job: DocumentJob, data: bytes) -> bytes:
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(_key(job.id)).encrypt(nonce, data, _aad(job))


def _unseal(job: DocumentJob) -> bytes:
    try:
        assert job.sealed is not None
        return AESGCM(_key(job.id)).decrypt(job.sealed[:_NONCE], job.sealed[_NONCE:], _aad(job))
    except (InvalidTag, ValueError):
        raise ServiceError(
            "document_unreadable",
            _("This document cannot be opened with this server's secret key: make it again."),
            status=409,
        ) from None


# ---- the thread --------------------------------------------------------------------------------

_lock = threading.Lock()
_executor: ThreadPoolExecutor | None = None
_executor_pid: int | None = None
_futures: dict[str, Future] = {}


def _pool() -> ThreadPoolExecutor:
    """One thread per process (made after a fork: gunicorn's workers each get their own)."""
    global _executor, _executor_pid
    with _lock:
        if _executor is None or _executor_pid != os.getpid():
            _executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cv-documents")
            _executor_pid = os.getpid()
            _futures.clear()
        return _executor


def _set(job_id: str, **values) -> None:
    db.session.execute(
        update(DocumentJob)
        .where(DocumentJob.id == job_id)
        .values(updated_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()


def _progress(job_id: str) -> Callable[[int, int], None]:
    """Write the progress at most every PROGRESS_EVERY seconds."""
    last = [0.0]

    def tell(done: int, total: int) -> None:
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY:
            last[0] = now
            _set(job_id, done=done, total=total)

    return tell


def _run(app: Flask, job_id: str) -> None:
    # A request context of its own: templates want one (their context processors); POST makes
    # its SQLite transactions BEGIN IMMEDIATE, as a writer's must be (congress_vote/db.py).
    with app.test_request_context("/", method="POST"):
        try:
            job = db.session.get_one(DocumentJob, job_id)
            make = KINDS[job.kind][0]
            congress = db.session.get_one(Congress, job.congress_id)
            _set(job_id, state="running")
            data = make(job, congress, _progress(job_id))
            job = db.session.get_one(DocumentJob, job_id)
            job.sealed = _seal(job, data) if data is not None else None
            job.state = "done"
            job.done = job.total
            job.updated_at = utcnow()
            db.session.commit()
        except ServiceError as exc:  # refused when made (a batch: the poll closed, no room left)
            db.session.rollback()
            _set(job_id, state="failed", error=exc.message[:500])
        except Exception:
            log.exception("document job %s failed", job_id)
            db.session.rollback()
            _set(job_id, state="failed", error="render_failed")
        finally:
            db.session.remove()


def launch(job: DocumentJob | str) -> None:
    """Start making a committed job (or job id: read before the commit, no query after it) in
    this process's background thread."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    job_id = job if isinstance(job, str) else job.id
    _futures[job_id] = _pool().submit(_run, app, job_id)


def wait(job_id: str, timeout: float = 120) -> None:
    """Wait for a job started by this process (tests, the CLI)."""
    fut = _futures.get(job_id)
    if fut is not None:
        fut.result(timeout)


# ---- the service -------------------------------------------------------------------------------


def start_job(
    congress: Congress, kind: str, actor=None, poll=None, params: dict | None = None
) -> tuple[DocumentJob, bool]:
    """A new background document of `kind` for `congress` (and `poll`, with `params`, checked
    by poll_documents.poll_job_request): (job, new). The caller commits, then calls
    :func:`launch` for a new job. A second start while the same user's job of that kind (and
    poll) is under way gives that job back, not new (a double click makes one document).
    Expired documents are deleted here."""
    if kind not in KINDS:
        raise ServiceError(
            "bad_kind", _("kind must be one of %(kinds)s.", kinds=", ".join(KINDS)), status=422
        )
    now = utcnow()
    db.session.execute(delete(DocumentJob).where(DocumentJob.updated_at < now - DONE_TTL))
    uid = getattr(actor, "id", actor)
    for running in db.session.scalars(
        select(DocumentJob).where(
            DocumentJob.congress_id == congress.id,
            DocumentJob.kind == kind,
            DocumentJob.poll_id == getattr(poll, "id", None)
            if poll is not None
            else DocumentJob.poll_id.is_(None),
            DocumentJob.user_id == uid,
            DocumentJob.state.in_(("queued", "running")),
        )
    ):
        if now - running.updated_at < STALE_AFTER:
            return running, False
    job = DocumentJob(
        id=secrets.token_hex(16),
        congress_id=congress.id,
        kind=kind,
        poll_id=getattr(poll, "id", None),
        params=json.dumps(params) if params else None,
        user_id=uid,
        state="queued",
        done=0,
        total=KINDS[kind][1](congress, params or {}),
        filename=KINDS[kind][2].format(cid=congress.id, pid=getattr(poll, "id", None)),
        created_at=now,
        updated_at=now,
    )
    db.session.add(job)
    db.session.flush()
    record(
        "documents.job_started",
        actor=actor,
        congress_id=congress.id,
        data={"kind": kind, "units": job.total}
        | ({"poll_id": poll.id} if poll is not None else {}),
    )
    return job, True


def start_poll_job(
    poll, kind: str, actor, count=None, size: str = "A4", lang: str | None = None
) -> tuple[DocumentJob, bool]:
    """A poll's document in the background (the UI's forms and POST /polls/{pid}/documents):
    what the job would refuse is refused now, with the direct route's errors (poll_documents);
    then :func:`start_job`. The caller commits and launches."""
    params = poll_job_request(poll, kind, actor, count=count, size=size, lang=lang)
    congress = db.session.get_one(Congress, poll.congress_id)
    return start_job(congress, kind, actor, poll=poll, params=params)


def get_job(job_id: str, congress_id: int | None = None) -> DocumentJob:
    job = db.session.get(DocumentJob, job_id) if isinstance(job_id, str) else None
    if job is None or (congress_id is not None and job.congress_id != congress_id):
        raise ServiceError("not_found", _("No such document."), status=404)
    return job


def job_state(job: DocumentJob) -> str:
    """queued, running, done or failed; a job that stopped moving is failed, a finished
    document past its time is expired."""
    age = utcnow() - job.updated_at
    if job.state in ("queued", "running") and age > STALE_AFTER:
        return "failed"
    if job.state == "done" and age > DONE_TTL:
        return "expired"
    return job.state


def job_dict(job: DocumentJob) -> dict:
    state = job_state(job)
    return {
        "id": job.id,
        "kind": job.kind,
        "state": state,
        "done": job.done,
        "total": job.total,
        "percent": 100 if state == "done" else (100 * job.done // job.total if job.total else 0),
        "filename": job.filename,
        "error": job.error if state == "failed" and job.error != "render_failed" else None,
        "file_url": f"/api/v1/documents/{job.id}/file" if state == "done" else None,
        "created_at": job.created_at.isoformat() + "Z",
    }


def job_file(job: DocumentJob, actor=None) -> bytes:
    """The finished document; 409 `not_ready` before, 410 `expired` after its time. The caller
    has checked the reader (poll_documents.require_reader) and commits (a batch's download is
    audited)."""
    state = job_state(job)
    if state == "expired":
        raise ServiceError("expired", _("This document has expired: make it again."), status=410)
    if state == "done" and job.kind in BATCHES:
        return batch_file(job, actor)
    if state != "done" or job.sealed is None:
        raise ServiceError(
            "not_ready",
            _("This document is not ready yet.")
            if state != "failed"
            else _("Making this document failed: start it again."),
            status=409,
        )
    return _unseal(job)
