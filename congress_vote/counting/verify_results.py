"""`verify-audit`'s second half: every counted result still stands on its inputs.

After the audit chain is checked, each counted, certified or published poll is recounted from
the stored rows and its result digest (docs/rules.md, "The digests": poll, rules, candidates or
items,
attendance, ballots, hand counts, paper figures, seal) compared with the stored one, naming
the inputs that changed; the committee's signatures must be on the stored digest, and the
chain's last count event of the poll must carry it too.
"""

from __future__ import annotations

import json

from sqlalchemy import select

from ..audit.models import AuditEvent
from ..errors import ServiceError
from ..extensions import db
from ..polls.models import Poll
from ..polls.status import COUNTED_OR_LATER
from .models import PollResult, Signoff
from .recount import recount_compare

COUNT_EVENTS = ("poll.counted", "poll.recounted")


def verify_results() -> tuple[int, list[str]]:
    """(polls checked, problem lines each starting with ``poll N:``)."""
    problems: list[str] = []
    polls = list(
        db.session.scalars(select(Poll).where(Poll.status.in_(COUNTED_OR_LATER)).order_by(Poll.id))
    )
    last_digest = _last_counted_digests()
    for poll in polls:
        try:
            _, diffs = recount_compare(poll)
        except ServiceError as err:
            diffs = [err.message]
        row = db.session.get(PollResult, poll.id)
        if row is not None:
            for sig in db.session.scalars(select(Signoff).where(Signoff.poll_id == poll.id)):
                if sig.digest != row.digest:
                    diffs.append(
                        f"signature of user {sig.user_id} is on digest {sig.digest}, "
                        f"not on the stored result's {row.digest}"
                    )
            logged = last_digest.get(poll.id)
            if logged is not None and logged != row.digest:
                diffs.append(
                    f"the audit log's last count event has digest {logged}, the stored "
                    f"result {row.digest}"
                )
        problems += [f"poll {poll.id}: {d}" for d in diffs]
    return len(polls), problems


def _last_counted_digests() -> dict[int, str]:
    out: dict[int, str] = {}
    for data in db.session.scalars(
        select(AuditEvent.data).where(AuditEvent.action.in_(COUNT_EVENTS)).order_by(AuditEvent.seq)
    ):
        try:
            d = json.loads(data or "{}")
        except ValueError:
            continue
        if isinstance(d, dict) and isinstance(d.get("poll_id"), int) and d.get("digest"):
            out[d["poll_id"]] = d["digest"]
    return out
