"""The rules engine's inputs, read from the stored rows of a poll.

Figures (documented choices where the regulation is silent):

* ``ballots_issued`` = every token of the poll (used + void + unused). Tokens voided at close
  were issued and not returned: they are the "unused/voided" of the minutes. The unused ballots
  of a batch voided while the poll was open (ballots/voiding.py) were taken back: not issued
  (the minutes list the voided batches apart).
* ``ballots_returned`` = the Ballot rows (tablet casts and agreed paper entries). Open (named)
  polls count their NamedVote rows; their "issued" is the voters present (every present full
  member may vote by card). A show of hands (HandCount rows) has no ballots.
* Attendance comes from ``Poll.attendance``, the snapshot taken when the poll closed; a poll
  closed without one (older data, fixtures) uses the congress's attendance at its first count,
  which freezes it then.
"""

from __future__ import annotations

import json

from sqlalchemy import func, select

from .. import rules
from ..ballots.models import Ballot, BallotToken, HandCount, IssueBatch, NamedVote
from ..ballots.spec import build_spec
from ..congress.attendance import attendance
from ..congress.models import Congress
from ..extensions import db
from ..polls.models import Poll
from ..polls.services import settings_of
from ..rules.model import SOURCES


def attendance_snapshot(poll: Poll) -> dict:
    """The attendance figures the count uses (the snapshot at close, else the congress now)."""
    if poll.attendance:
        try:
            data = json.loads(poll.attendance)
            if isinstance(data, dict):
                return data
        except ValueError:
            pass
    return attendance(db.session.get_one(Congress, poll.congress_id))


def tokens_issued(poll: Poll) -> int:
    """Every token of the poll but those voided with their batch while the poll was open
    (ballots/voiding.py): those were taken back, not issued."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(BallotToken)
            .join(IssueBatch, IssueBatch.id == BallotToken.batch_id)
            .where(
                BallotToken.poll_id == poll.id,
                ~((BallotToken.state == "void") & IssueBatch.voided_at.is_not(None)),
            )
        )
        or 0
    )


def hand_counts(poll: Poll) -> list[HandCount]:
    return list(db.session.scalars(select(HandCount).where(HandCount.poll_id == poll.id)))


_INT_ONLY = {int}


def rules_ballot(choice: str, source: str, reason: str | None, receipt: str | None):
    try:
        data = json.loads(choice or "{}")
    except ValueError:
        data = {}
    if not isinstance(data, dict):
        data = {}
    kept = data.get("kept")
    # Fast path for the common row, a kept list of plain ints (what check_choice stores): the
    # same Ballot rules.Ballot.from_dict would build, without re-checking every id's type
    # (~60 % of a 2,000 × 200 count). `type(x) is int` leaves bools and strings to from_dict.
    if (
        type(kept) is list
        and "answers" not in data
        and set(map(type, kept)) <= _INT_ONLY
        and source in SOURCES
        and (reason is None or type(reason) is str)
    ):
        return rules.Ballot(
            kept=tuple(kept),
            invalid_reason=reason or None,
            source=source,
            receipt=None if receipt is None else str(receipt),
        )
    data = {
        "kept": data.get("kept"),
        "marks": data.get("marks"),
        "answers": data.get("answers"),
        "invalid_reason": reason,
        "source": source,
        "receipt": receipt,
    }
    try:
        return rules.Ballot.from_dict(data)
    except rules.RulesInputError:
        # A malformed stored row is counted as invalid, never silently dropped.
        return rules.Ballot(invalid_reason="other", source=source, receipt=receipt)


BallotRow = tuple[str, str, str | None, str | None]  # choice, source, invalid_reason, receipt


def ballot_rows(poll: Poll) -> list[BallotRow]:
    """The poll's stored ``ballot`` rows, as :func:`rules_inputs` counts them."""
    return [
        (c, s, ir, r)
        for c, s, ir, r in db.session.execute(
            select(Ballot.choice, Ballot.source, Ballot.invalid_reason, Ballot.receipt).where(
                Ballot.poll_id == poll.id
            )
        )
    ]


def rules_inputs(poll: Poll, rows: list[BallotRow] | None = None):
    """(PollSpec, Attendance, [rules.Ballot], Settings, HandCount | None) from the stored rows:
    Ballot rows (secret polls), NamedVote rows (open polls) or HandCount rows (show of hands),
    and the attendance snapshot taken at close. See the module docstring for the figures.

    ``rows``: a secret poll's ``ballot`` rows as :func:`ballot_rows` gives them, when the caller
    holds exactly what is stored (the count right after opening a sealed box, which wrote them
    in the same transaction); read from the database when None."""
    spec = build_spec(poll)  # the rows as they are now: a recount must see any change
    settings = settings_of(poll)
    att = attendance_snapshot(poll)
    present = int(att.get("voters_present", 0) or 0)
    hands = hand_counts(poll)
    ballots: list[rules.Ballot] = []
    hand = None
    if poll.secrecy == "open":
        named = db.session.execute(
            select(NamedVote.choice, NamedVote.receipt).where(NamedVote.poll_id == poll.id)
        ).all()
        ballots = [rules_ballot(c, "tablet", None, r) for c, r in named]
        issued = present
    else:
        if rows is None:
            rows = ballot_rows(poll)
        ballots = [rules_ballot(c, s, ir, r) for c, s, ir, r in rows]
        issued = tokens_issued(poll)
    if hands and not ballots:
        hand = rules.HandCount(
            {h.item_id: (h.votes_for, h.votes_against, h.votes_abstain) for h in hands}
        )
        issued = 0
    excluded = {"excused": int(att.get("excused", 0) or 0)}
    for k, v in (
        (att.get("excluded") or {}).items() if isinstance(att.get("excluded"), dict) else ()
    ):
        excluded[str(k)] = int(v)
    attendance = rules.Attendance(
        voters_summoned=int(att.get("voters_summoned", 0) or 0),
        excluded=excluded,
        voters_present=present,
        ballots_issued=issued,
    )
    return spec, attendance, ballots, settings, hand
