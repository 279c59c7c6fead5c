"""The PDF of each issued batch (ballot slips or full paper ballots), kept in the database until
the poll closes, so that a lost or failed download does not cost the poll and every app server
sees it.

It holds usable ballots, so it is never stored in plain text: AES-256-GCM (the `cryptography`
package) with a key derived by HKDF-SHA256 from SECRET_KEY and the batch id, a random 96-bit
nonce, and the poll and batch ids as associated data (a sealed PDF moved to another row does not
open). A database copy without SECRET_KEY reveals nothing; a server with another SECRET_KEY
cannot open it (409 `batch_pdf_unreadable`). The rows of a poll are deleted in its close
transaction (`drop_poll_pdfs`): after the close the download answers 409, and unused slips are
void anyway. Downloads are for the poll's counting committee (the routes' committee guard) and
are audited (`ballots.pdf_downloaded`).
"""

from __future__ import annotations

import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select

from ..audit.services import record
from ..db import rowcount
from ..errors import ServiceError
from ..extensions import db
from ..polls.models import Poll
from ..polls.status import ACCEPTS_BALLOTS
from .models import BatchPdf, IssueBatch

_CONTEXT = b"congress-vote/batch-pdf/v1"
_NONCE = 12


def _key(batch_id: int, secret: str | bytes | None = None) -> bytes:
    secret = current_app.config["SECRET_KEY"] if secret is None else secret
    if isinstance(secret, str):
        secret = secret.encode()
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=_CONTEXT, info=b"batch:%d" % batch_id
    ).derive(secret)


def _aad(poll_id: int, batch_id: int) -> bytes:
    return _CONTEXT + b"|poll:%d|batch:%d" % (poll_id, batch_id)


def seal(poll_id: int, batch_id: int, pdf: bytes, secret=None) -> bytes:
    nonce = os.urandom(_NONCE)
    return nonce + AESGCM(_key(batch_id, secret)).encrypt(nonce, pdf, _aad(poll_id, batch_id))


def unseal(poll_id: int, batch_id: int, sealed: bytes, secret=None) -> bytes:
    """The PDF; 409 `batch_pdf_unreadable` when this server's SECRET_KEY does not open it."""
    try:
        return AESGCM(_key(batch_id, secret)).decrypt(
            sealed[:_NONCE], sealed[_NONCE:], _aad(poll_id, batch_id)
        )
    except (InvalidTag, ValueError):
        raise ServiceError(
            "batch_pdf_unreadable",
            _(
                "The stored PDF of this batch cannot be opened with this server's secret key (was "
                "SECRET_KEY changed?)."
            ),
            status=409,
        ) from None


def keep_batch_pdf(batch: IssueBatch, pdf: bytes) -> None:
    """Store the batch's PDF, sealed, in the issuing transaction."""
    db.session.add(
        BatchPdf(
            batch_id=batch.id, poll_id=batch.poll_id, sealed=seal(batch.poll_id, batch.id, pdf)
        )
    )
    db.session.flush()


def batch_pdf(poll: Poll, batch_id, actor) -> bytes:
    """The PDF of batch `batch_id` of `poll`, as often as needed until the poll closes.

    404 for an unknown batch (or one of another poll), 409 once the poll is no longer open (the
    PDFs are deleted at the close). The caller checks the committee and commits (the download
    is audited)."""
    row = db.session.get(BatchPdf, batch_id) if isinstance(batch_id, int) else None
    if poll.status not in ACCEPTS_BALLOTS:
        raise ServiceError(
            "poll_not_open",
            _("The poll is closed: the PDFs of its ballots were deleted with the close."),
            status=409,
        )
    if row is None or row.poll_id != poll.id:
        raise ServiceError("unknown_batch", _("No such batch of ballots in this poll."), status=404)
    pdf = unseal(poll.id, row.batch_id, row.sealed)
    kind = db.session.scalar(select(IssueBatch.kind).where(IssueBatch.id == row.batch_id))
    record(
        "ballots.pdf_downloaded",
        actor=actor,
        congress_id=poll.congress_id,
        data={"poll_id": poll.id, "batch_id": row.batch_id, "kind": kind},
    )
    return pdf


def drop_poll_pdfs(poll_id: int) -> int:
    """Delete every kept PDF of the poll (its close); answers how many."""
    return rowcount(db.session.execute(delete(BatchPdf).where(BatchPdf.poll_id == poll_id))) or 0


def kept_batches(poll_id: int) -> list[IssueBatch]:
    """The poll's batches whose PDF is still kept (the poll page's download links)."""
    return list(
        db.session.scalars(
            select(IssueBatch)
            .join(BatchPdf, BatchPdf.batch_id == IssueBatch.id)
            .where(BatchPdf.poll_id == poll_id)
            .order_by(IssueBatch.id)
        )
    )
