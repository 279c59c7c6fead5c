"""Paper double entry: two counters enter each paper ballot independently; agreeing entries make
one counted Ballot, disagreeing ones wait for the committee's ruling (settle_dispute). The entry
log is the committee's archive (minutes section 7)."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from .. import rules
from ..audit.services import record
from ..ballots.models import Ballot, BallotToken, IssueBatch, PaperEntry
from ..ballots.receipts import new_receipt
from ..ballots.services import resolve_code
from ..ballots.spec import poll_spec
from ..codes import code_hash
from ..db import rowcount, utcnow
from ..errors import ServiceError
from ..extensions import db
from ..polls.committee import is_committee_member, require_committee
from ..polls.models import Poll
from ..polls.services import settings_of
from ..polls.status import PollStatus, back_to_closed, refuse_locked
from .paper_figures import require_after_close, require_entry_room, require_return
from .paper_marks import clean_marks
from .signoff import clear_signoffs

PAPER_INVALID_REASONS = ("identifying_mark", "added_names", "not_issued", "torn", "other")


def pending_paper(poll: Poll) -> dict[str, int]:
    """How many paper ballots have a single entry ('pending') or disagreeing entries."""
    rows = db.session.execute(
        select(PaperEntry.state, func.count(func.distinct(PaperEntry.token_hash)))
        .where(PaperEntry.poll_id == poll.id, PaperEntry.state.in_(("pending", "disputed")))
        .group_by(PaperEntry.state)
    ).all()
    out = {"pending": 0, "disputed": 0}
    out.update({s: n for s, n in rows})
    return out


@dataclass
class EntryContent:
    kept: list[int] | None
    answers: dict[str, str] | None
    invalid_reason: str | None
    marks: dict[str, str] | None = None  # agree/disagree ballot: {candidate_id: mark}

    def choice_json(self) -> str:
        if self.kept is not None:
            return json.dumps({"kept": self.kept}, sort_keys=True)
        if self.marks is not None:
            return json.dumps({"marks": self.marks}, sort_keys=True)
        if self.answers is not None:
            return json.dumps({"answers": self.answers}, sort_keys=True)
        return "{}"

    def key(self) -> tuple:
        return (self.choice_json(), self.invalid_reason)


def _content(poll: Poll, kept, answers, invalid_reason, marks=None) -> EntryContent:
    given = [x is not None for x in (kept, answers, invalid_reason, marks)]
    if sum(given) != 1 and not (invalid_reason is not None and sum(given) == 2):
        raise ServiceError(
            "bad_entry",
            _(
                "Give the struck-out ballot as kept (candidate ids) or "
                "answers, or mark it invalid with a reason."
            ),
            status=400,
        )
    if invalid_reason is not None:
        if invalid_reason not in PAPER_INVALID_REASONS:
            raise ServiceError(
                "bad_reason",
                _(
                    "Invalid reason must be one of %(reasons)s.",
                    reasons=", ".join(PAPER_INVALID_REASONS),
                ),
                status=422,
            )
        return EntryContent(None, None, invalid_reason)
    if poll.kind == "resolution":
        if not isinstance(answers, dict):
            raise ServiceError(
                "bad_entry",
                _("A resolution ballot is entered as answers {item_id: for|against|abstain}."),
                status=422,
            )
        items = {str(i.id) for i in poll.items}
        clean = {}
        for k, v in answers.items():
            if str(k) not in items:
                raise ServiceError(
                    "unknown_item", _("Item %(item)s is not on this ballot.", item=k), status=422
                )
            if v not in rules.ANSWERS:
                raise ServiceError(
                    "bad_answer", _("Answers are for, against or abstain."), status=422
                )
            clean[str(k)] = v
        return EntryContent(None, dict(sorted(clean.items())), None)
    if marks is not None:
        return EntryContent(None, None, None, clean_marks(poll, marks))
    if not isinstance(kept, list) or any(
        isinstance(c, bool) or not isinstance(c, int) for c in kept
    ):
        raise ServiceError(
            "bad_entry",
            _("An election ballot is entered as kept: [candidate ids] (the names left standing)."),
            status=422,
        )
    ids = {c.id for c in poll.candidates}
    unknown = sorted(set(kept) - ids)
    if unknown:
        raise ServiceError(
            "unknown_candidate", _("Not on this ballot: %(ids)s.", ids=unknown), status=422
        )
    if len(set(kept)) != len(kept):
        raise ServiceError("duplicate_candidate", _("A name was ticked twice."), status=422)
    return EntryContent(sorted(kept), None, None)


def _token_for(poll: Poll, code_text: str) -> BallotToken:
    code = resolve_code(code_text)
    if code is None:
        raise ServiceError(
            "bad_code", _("This is not a valid ballot code (check the characters)."), status=422
        )
    tok = db.session.get(BallotToken, code_hash(code))
    if tok is None or tok.poll_id != poll.id:
        raise ServiceError(
            "unknown_ballot", _("No ballot with this code was issued for this poll."), status=404
        )
    batch = db.session.get(IssueBatch, tok.batch_id)
    if batch is None or batch.kind != "paper":
        raise ServiceError(
            "not_paper", _("This code belongs to a tablet slip, not a paper ballot."), status=422
        )
    if batch.voided_at is not None and tok.state == "void":
        raise ServiceError(
            "batch_voided",
            _("This paper ballot's batch was voided while the poll was open: it is not counted."),
            status=409,
        )
    return tok


def _check_entry_allowed(poll: Poll, actor) -> None:
    require_committee(poll, actor)
    refuse_locked(poll)
    # after the close, and after the committee recorded the unused paper ballots collected back
    require_after_close(poll)
    require_return(poll)


def _count_paper(poll: Poll, tok: BallotToken, content: EntryContent, actor) -> Ballot:
    """Make the one counted Ballot of an agreed paper ballot, consuming its token exactly once
    (a conditional UPDATE, as for a tablet cast). A paper token voided when the poll closed was
    still returned in the box, so void → used is allowed for paper tokens only."""
    res = db.session.execute(
        update(BallotToken)
        .where(BallotToken.token_hash == tok.token_hash, BallotToken.state.in_(("unused", "void")))
        .values(state="used")
        .execution_options(synchronize_session=False)
    )
    if rowcount(res) != 1:
        raise ServiceError("ballot_used", _("This ballot has been counted already."), status=409)
    reason = content.invalid_reason
    if reason is None:
        # Paper can be over-voted, unlike a tablet: the engine rules it; record the reason.
        rb = rules.Ballot(
            kept=tuple(content.kept) if content.kept is not None else None,
            marks=tuple((int(k), v) for k, v in content.marks.items())
            if content.marks is not None
            else None,
            answers=tuple((int(k), v) for k, v in content.answers.items())
            if content.answers is not None
            else None,
            source="paper",
        )
        reason = rules.validate_ballot(poll_spec(poll), settings_of(poll), rb)
        reason = str(reason) if reason else None
    # The counted ballot names no token (random id, random receipt), and the entries of this
    # paper ballot stop naming its code: nothing stored ties its content to the code any more.
    ballot = Ballot(
        id=secrets.token_hex(16),
        poll_id=poll.id,
        source="paper",
        choice=content.choice_json(),
        invalid_reason=reason,
        receipt=new_receipt(Ballot, poll.id),
    )
    db.session.add(ballot)
    db.session.flush()
    _unlink_entries(tok.token_hash)
    if poll.status == PollStatus.COUNTED:
        # A late paper ballot changes the ballot set: the signed digest no longer holds.
        cleared = clear_signoffs(poll)
        back_to_closed(poll)
        db.session.flush()
        record(
            "result.invalidated",
            actor=actor,
            congress_id=poll.congress_id,
            data={"poll_id": poll.id, "reason": "late paper ballot", "signoffs_cleared": cleared},
        )
    return ballot


def _unlink_entries(token_hash: str) -> None:
    """Clear the code on every entry of a counted paper ballot (in the session too)."""
    for e in db.session.scalars(select(PaperEntry).where(PaperEntry.token_hash == token_hash)):
        e.token_hash = None
        e.code = None
    db.session.flush()


def enter_paper_ballot(
    poll: Poll, code_text: str, actor, kept=None, answers=None, invalid_reason=None, marks=None
) -> PaperEntry:
    """One counter's independent entry of one paper ballot (identified by its QR/code).

    The first entry is 'pending'. A second entry by a *different* committee member that agrees
    makes both 'agreed' and creates one counted Ballot (source 'paper'); one that disagrees makes
    both 'disputed' until `settle_dispute`. The same counter entering the same ballot twice, a
    third entry, or an entry of a ballot already counted is refused with 409.
    """
    _check_entry_allowed(poll, actor)
    tok = _token_for(poll, code_text)
    content = _content(poll, kept, answers, invalid_reason, marks)
    require_entry_room(poll, tok.token_hash)  # no more ballots than issued − unused
    uid = getattr(actor, "id", actor)
    entries = list(
        db.session.scalars(
            select(PaperEntry)
            .where(PaperEntry.token_hash == tok.token_hash, PaperEntry.state != "superseded")
            .order_by(PaperEntry.id)
        )
    )
    if tok.state == "used" or any(e.state == "agreed" for e in entries):
        raise ServiceError(
            "ballot_used", _("This ballot has been entered and counted already."), status=409
        )
    if any(e.state == "disputed" for e in entries):
        raise ServiceError(
            "disputed",
            _("The entries of this ballot disagree: the committee must settle it."),
            status=409,
        )
    if any(e.user_id == uid for e in entries):
        raise ServiceError(
            "already_entered",
            _("You entered this ballot already; a different counter must make the second entry."),
            status=409,
        )
    entry = PaperEntry(
        poll_id=poll.id,
        token_hash=tok.token_hash,
        code=resolve_code(code_text),  # shown on a dispute (counting/paper_disputes.py)
        user_id=uid,
        choice=content.choice_json(),
        invalid_reason=content.invalid_reason,
        state="pending",
        entered_at=utcnow(),
    )
    db.session.add(entry)
    db.session.flush()
    outcome = "pending"
    if entries:
        first = entries[0]
        agree = (first.choice, first.invalid_reason) == content.key()
        outcome = "agreed" if agree else "disputed"
        first.state = entry.state = outcome
        db.session.flush()
        if agree:
            _count_paper(poll, tok, content, actor)
    # The audit log says that an entry happened and its outcome, never what it held nor which
    # ballot (code, hash, entry row) it was: content beside a ballot identifier is for the
    # committee's entry log (paper_entry), not for every reader of the chain.
    record(
        "paper.entered",
        actor=actor,
        congress_id=poll.congress_id,
        data={"poll_id": poll.id, "outcome": outcome},
    )
    return entry


def can_settle(poll: Poll, user) -> bool:
    """The committee head settles disputes; a committee without a designated head lets any of
    its members settle (the decision is still a named, audited entry)."""
    uid = getattr(user, "id", user)
    heads = [m.user_id for m in poll.committee if m.is_head]
    return uid in heads if heads else is_committee_member(poll, user)


def settle_dispute(
    poll: Poll, code_text: str, actor, kept=None, answers=None, invalid_reason=None, marks=None
) -> PaperEntry:
    """The committee's ruling on a disputed paper ballot: the disputed entries become
    'superseded', the decision is recorded as an 'agreed' entry by `actor`, and it is counted."""
    _check_entry_allowed(poll, actor)
    if not can_settle(poll, actor):
        raise ServiceError(
            "not_committee_head",
            _("Only the head of the counting committee settles disputes."),
            status=403,
        )
    tok = _token_for(poll, code_text)
    content = _content(poll, kept, answers, invalid_reason, marks)
    disputed = list(
        db.session.scalars(
            select(PaperEntry).where(
                PaperEntry.token_hash == tok.token_hash, PaperEntry.state == "disputed"
            )
        )
    )
    if not disputed:
        raise ServiceError("not_disputed", _("This ballot is not in dispute."), status=409)
    for e in disputed:
        e.state = "superseded"
    entry = PaperEntry(
        poll_id=poll.id,
        token_hash=tok.token_hash,
        code=resolve_code(code_text),
        user_id=getattr(actor, "id", actor),
        choice=content.choice_json(),
        invalid_reason=content.invalid_reason,
        state="agreed",
        entered_at=utcnow(),
    )
    db.session.add(entry)
    db.session.flush()
    _count_paper(poll, tok, content, actor)
    record(
        "paper.settled",
        actor=actor,
        congress_id=poll.congress_id,
        data={"poll_id": poll.id, "outcome": "settled"},
    )
    return entry


def entry_log(poll: Poll) -> list[PaperEntry]:
    """Every paper entry of the poll, oldest first (the printed entry log)."""
    return list(
        db.session.scalars(
            select(PaperEntry)
            .where(PaperEntry.poll_id == poll.id)
            .order_by(PaperEntry.entered_at, PaperEntry.id)
        )
    )


def entry_log_reference(poll: Poll) -> str:
    """A short fingerprint of the entry log (minutes section 7 names it)."""
    h = hashlib.sha256()
    for e in entry_log(poll):
        h.update(
            json.dumps(
                [
                    e.id,
                    e.token_hash,
                    e.user_id,
                    e.choice,
                    e.invalid_reason,
                    e.state,
                    e.entered_at.isoformat(),
                ]
            ).encode()
        )
    return h.hexdigest()
