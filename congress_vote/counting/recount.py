"""Recount: count again from the stored rows and compare with the stored result, naming what
changed (the inputs after the count, the paper ballots that no longer match their entries)."""

from __future__ import annotations

import json
from collections import Counter

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import rules
from ..ballots.models import Ballot, BallotToken, PaperEntry
from ..errors import ServiceError
from ..extensions import db
from ..polls.models import Poll
from .count import count_doc
from .inputs import rules_inputs
from .models import PollResult
from .paper_entry import PAPER_INVALID_REASONS


def recount_compare(poll: Poll) -> tuple[rules.Result, list[str]]:
    """Count again from the stored rows and compare with the stored PollResult: the digest AND
    the figures, votes, elected, ties, items. Returns (fresh result, lines naming differences).
    """
    row = db.session.get(PollResult, poll.id)
    if row is None:
        raise ServiceError(
            "not_counted", _("The poll has no stored result to compare with."), status=409
        )
    fresh, doc = count_doc(poll)
    stored = json.loads(row.data)
    if "digest_format" not in stored:
        # counted before the digest covered every input: compare the ballot-set digest it has
        spec, _att, ballots, settings, hand = rules_inputs(poll)
        fresh.digest = rules.ballot_digest(spec, settings, ballots, hand)
    payload = {"digest": row.digest, "result": stored}
    diffs = rules.compare_with_payload(payload, fresh)
    if fresh.digest != row.digest and "digest_format" in stored:
        # name the inputs that changed after the count (and so after any signature)
        changed = doc.differing(stored.get("digest_parts"))
        diffs.insert(
            0,
            "inputs changed since the count: "
            + (
                ", ".join(changed)
                or "none of the recorded parts (the stored part hashes were altered)"
            ),
        )
    if stored.get("digest") != row.digest:
        diffs.append(
            f"stored result.digest {stored.get('digest')} ≠ poll_result.digest {row.digest}"
        )
    if diffs:
        diffs += _name_changed_ballots(poll, fresh)
    return fresh, diffs


def _paper_key(choice: str | None, reason: str | None) -> str:
    """A paper ballot's content as entered: the engine's own rulings (over-vote…) are not part
    of an entry, only the reasons a counter gives (PAPER_INVALID_REASONS)."""
    try:
        data = json.loads(choice or "{}")
    except ValueError:
        data = choice
    return json.dumps([data, reason if reason in PAPER_INVALID_REASONS else None], sort_keys=True)


def _name_changed_ballots(poll: Poll, fresh: rules.Result) -> list[str]:
    """Point at the stored rows that no longer match the audit trail of their making. A counted
    paper ballot is not linked to its entries (secrecy): the multiset of the paper ballots'
    contents is compared with that of the agreed entries, and each content that differs in
    number is named (never a receipt: that would pair a receipt with a content)."""
    out = []
    rows = db.session.execute(
        select(Ballot.choice, Ballot.invalid_reason, Ballot.source).where(Ballot.poll_id == poll.id)
    ).all()
    entries = db.session.execute(
        select(PaperEntry.choice, PaperEntry.invalid_reason).where(
            PaperEntry.poll_id == poll.id, PaperEntry.state == "agreed"
        )
    ).all()
    # A paper ballot has two agreed entries (the two counters) or one (a settled dispute): so
    # for each content, ballots stored <= agreed entries <= 2 x ballots stored.
    stored = Counter(_paper_key(c, r) for c, r, s in rows if s == "paper")
    entered = Counter(_paper_key(c, r) for c, r in entries)
    for key in sorted(set(stored) | set(entered)):
        if not stored[key] <= entered[key] <= 2 * stored[key]:
            out.append(
                f"paper ballots with content {key}: {stored[key]} stored, "
                f"{entered[key]} agreed entries"
            )
    used = (
        db.session.scalar(
            select(func.count())
            .select_from(BallotToken)
            .where(BallotToken.poll_id == poll.id, BallotToken.state == "used")
        )
        or 0
    )
    if poll.secrecy != "open" and used != len(rows):
        out.append(f"ballots stored {len(rows)} ≠ tokens used {used}")
    return out
