"""Resolving a ballot code, casting exactly once, named votes, turnout.

Guarantees:
- a ballot token is 80 random bits plus a check character (`codes.new_code`); the database keeps
  only SHA-256 of it (issuing: ballots.issuing);
- a token is consumed by one conditional UPDATE ... WHERE state='unused' ... RETURNING in the same
  transaction as the stored ballot and its audit event: a token yields at most one ballot, even
  under concurrent casts, on SQLite and PostgreSQL; a refused choice (over-vote, unknown ids)
  raises before commit, so the token stays unused;
- a stored secret ballot carries no delegate, no time, no token, batch or kiosk and a random id;
  its receipt is random (ballots.receipts), so neither the token row nor anything else stored
  derives it.
"""

from __future__ import annotations

import json
import secrets
from typing import NoReturn

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from .. import codes
from ..audit.services import record
from ..congress.attendance import attendance
from ..congress.cards import delegate_by_card
from ..congress.models import Congress
from ..errors import ServiceError
from ..extensions import db
from ..polls.models import Poll
from ..polls.status import ACCEPTS_BALLOTS, PollStatus, require_status
from ..seal.sealing import seal_choice, store_sealed
from .models import Ballot, BallotToken, IssueBatch, NamedVote
from .receipts import new_receipt
from .spec import cached_rules, check_choice, poll_rules


def _err(code: str, message: str, status: int) -> ServiceError:
    return ServiceError(code, message, status=status)


# ---- resolving a ballot --------------------------------------------------------------------------


def resolve_code(text) -> str | None:
    """The normalised code in a QR URL (`…/b/<code>`), a formatted or a raw code; None when the
    text is not a code (wrong characters or check character)."""
    if not isinstance(text, str):
        return None
    text = text.strip()
    if len(text) > 300:
        return None
    if "/b/" in text.lower():  # a USB scanner or an upper-casing field may send "/B/"
        text = text[text.lower().rindex("/b/") + 3 :].split("?")[0].split("#")[0].strip("/")
    return codes.normalise(text)


NOT_A_BALLOT = _l("This code is not a ballot — check the characters.")


def _diagnose(h: str, congress_id: int | None) -> NoReturn:
    """Why the token `h` cannot be used (after the conditional UPDATE found nothing)."""
    token = db.session.get(BallotToken, h)
    if token is None:
        raise _err("unknown_ballot", _("No ballot has this code. Check the characters."), 404)
    poll = db.session.get_one(Poll, token.poll_id)
    if congress_id is not None and poll.congress_id != congress_id:
        raise _err("wrong_congress", _("This ballot belongs to another congress."), 409)
    batch = db.session.get(IssueBatch, token.batch_id)
    if batch is not None and batch.kind == "paper":
        raise _err(
            "paper_ballot", _("This is a paper ballot: mark it and put it in the ballot box."), 409
        )
    if token.state == "used":
        if token.tracker:  # sealed, box not yet opened: the kiosk may show the receipt again
            raise ServiceError(
                "ballot_used",
                _("This ballot has already been cast and is in the sealed ballot box."),
                status=409,
                receipt=token.tracker,
            )
        raise _err("ballot_used", _("This ballot has already been cast."), 409)
    raise _err("poll_not_open", _("This vote is not open (or the ballot was voided)."), 409)


def open_ballot(text, congress_id: int | None = None) -> tuple[Poll, BallotToken]:
    """The poll and token of an unused ballot ready to vote, or a clear error:
    404 unknown_ballot (malformed, check char, unknown), 409 ballot_used, 409 poll_not_open,
    409 wrong_congress (kiosk bound to another congress), 409 paper_ballot."""
    code = resolve_code(text)
    if code is None:
        raise _err("unknown_ballot", str(NOT_A_BALLOT), 404)
    h = codes.code_hash(code)
    token = db.session.get(BallotToken, h)
    if token is not None and token.state == "unused":
        poll = db.session.get_one(Poll, token.poll_id)
        if poll.status in ACCEPTS_BALLOTS and congress_id in (None, poll.congress_id):
            batch = db.session.get(IssueBatch, token.batch_id)
            if batch is None or batch.kind != "paper":
                return poll, token
    _diagnose(h, congress_id)  # every refusal, in one order, comes from there
    raise AssertionError("unreachable")  # pragma: no cover


# Built once (core table statements: no ORM bulk-update machinery, no per-call construction).
_TOKENS, _BATCHES, _POLLS = BallotToken.__table__, IssueBatch.__table__, Poll.__table__
# What a cast reads of its ballot: the token's state, its batch's kind and the poll, in one
# statement. `ballot_row(*extra)` adds columns (the kiosk's page adds the kiosk check) and may
# be handed to `cast_ballot` as its `row`.
CAST_COLUMNS = (
    _TOKENS.c.state.label("state"),
    _BATCHES.c.kind.label("batch_kind"),
    _POLLS.c.id.label("poll_id"),
    _POLLS.c.congress_id.label("congress_id"),
    _POLLS.c.kind.label("kind"),
    _POLLS.c.status.label("status"),
    _POLLS.c.secrecy.label("secrecy"),
    _POLLS.c.setup_fingerprint.label("setup_fingerprint"),
    _POLLS.c.seal_public.label("seal_public"),
)


def ballot_row(*extra, joins=()):
    """SELECT CAST_COLUMNS (+ `extra`) of the token whose hash is bound as `h`; `joins`:
    (table, on clause) pairs joined after the poll."""
    stmt = select(*CAST_COLUMNS, *extra).select_from(_TOKENS)
    stmt = stmt.join(_POLLS, _POLLS.c.id == _TOKENS.c.poll_id)
    for table, on in joins:
        stmt = stmt.join(table, on)
    return stmt.outerjoin(_BATCHES, _BATCHES.c.id == _TOKENS.c.batch_id).where(
        _TOKENS.c.token_hash == bindparam("h")
    )


_CAST_ROW = ballot_row()
# Consumes the token: only if unused and of a slip batch, in one statement (two concurrent casts
# of one ballot: one matches, the other finds nothing). A sealed ballot's tracker goes on the
# token row in the same statement (seal.sealing).
_CONSUME_TOKEN = (
    update(_TOKENS)
    .where(
        _TOKENS.c.token_hash == bindparam("h"),
        _TOKENS.c.state == "unused",
        _TOKENS.c.batch_id.in_(select(_BATCHES.c.id).where(_BATCHES.c.kind == "slip")),
    )
    .values(state="used", tracker=bindparam("t"))
    .returning(_TOKENS.c.poll_id)
)
_INSERT_BALLOT = insert(Ballot.__table__)


def cast_ballot(
    text,
    kept=None,
    answers=None,
    source: str = "tablet",
    congress_id: int | None = None,
    marks=None,
    confirm_invalid: bool = False,
    row=None,
) -> str:
    """Consume the ballot `text` and store its choice; answer the receipt code.

    One transaction: the token and its poll are read (`row`: that row when the caller read it
    in this transaction with `ballot_row`); an unused slip of an open secret poll (of
    `congress_id` if given) with a valid choice is then consumed by the conditional UPDATE —
    any refusal raises (404/409/422) and the caller's rollback leaves the token unused; the
    ballot (sealed, for a sealed poll) and an audit event (poll id only) are written. The caller
    commits.
    """
    code = resolve_code(text)
    if code is None:
        raise _err("unknown_ballot", str(NOT_A_BALLOT), 404)
    h = codes.code_hash(code)
    if row is None:
        row = db.session.execute(_CAST_ROW, {"h": h}).first()
    if row is None or row.state != "unused" or row.batch_kind == "paper":
        _diagnose(h, congress_id)
    # The refusals _diagnose would give for an unused slip token, in its order.
    if congress_id is not None and row.congress_id != congress_id:
        raise _err("wrong_congress", _("This ballot belongs to another congress."), 409)
    if row.status not in ACCEPTS_BALLOTS or row.secrecy != "secret":
        raise _err("poll_not_open", _("This vote is not open (or the ballot was voided)."), 409)
    pid = row.poll_id
    rules = cached_rules(pid, row.setup_fingerprint)
    if rules is None:  # the first cast of this setup in this process
        rules = poll_rules(db.session.get_one(Poll, pid))
    choice = check_choice(
        row, kept, answers, rules=rules, marks=marks, confirm_invalid=confirm_invalid
    )
    sealed = None
    if row.seal_public is not None:
        # A sealed poll: only the sealed ballot is stored (random id, poll, ciphertext); its
        # tracker is the receipt, kept on the token row until the opening (seal.sealing).
        sealed, receipt = seal_choice(row.seal_public, choice)
    else:  # No token, batch, kiosk or time goes into the ballot row; the receipt is random.
        receipt = new_receipt(Ballot, pid)
    tracker = receipt if sealed is not None else None
    if db.session.execute(_CONSUME_TOKEN, {"h": h, "t": tracker}).first() is None:
        _diagnose(h, congress_id)  # another cast of this ballot came first
    if sealed is not None:
        store_sealed(pid, sealed)
    else:
        db.session.execute(
            _INSERT_BALLOT,
            {
                "id": secrets.token_hex(16),
                "poll_id": pid,
                "source": source,
                "choice": choice,
                "invalid_reason": None,
                "receipt": receipt,
            },
        )
    record("ballot.cast", data={"poll_id": pid}, congress_id=row.congress_id)
    return receipt


# ---- open (named) polls ------------------------------------------------------------------------


def open_named_polls(congress_id: int) -> list[Poll]:
    return list(
        db.session.scalars(
            select(Poll)
            .where(
                Poll.congress_id == congress_id,
                Poll.status == PollStatus.OPEN.value,
                Poll.secrecy == "open",
            )
            .order_by(Poll.agenda_order, Poll.id)
        )
    )


def voter_by_card(congress, card_text: str):
    """The delegate of a card, who must be present and a full member. 404 / 409 otherwise."""
    try:
        delegate = delegate_by_card(congress, card_text or "")
    except ServiceError as exc:
        if exc.status != 422:
            raise
        delegate = None  # not a card code at all
    if delegate is None:
        raise _err("unknown_card", _("This card is not known for this congress."), 404)
    if not delegate.can_vote:
        raise _err("not_a_voter", _("Probationary members attend but do not vote."), 409)
    if delegate.status != "present":
        raise _err("not_present", _("This delegate is not checked in as present."), 409)
    return delegate


def named_vote_exists(poll: Poll, delegate_id: int) -> bool:
    return (
        db.session.scalar(
            select(NamedVote.id).where(
                NamedVote.poll_id == poll.id, NamedVote.delegate_id == delegate_id
            )
        )
        is not None
    )


def named_vote_receipt(poll: Poll, delegate_id: int) -> str | None:
    """The receipt of the delegate's vote in the poll (None: not voted)."""
    return db.session.scalar(
        select(NamedVote.receipt).where(
            NamedVote.poll_id == poll.id, NamedVote.delegate_id == delegate_id
        )
    )


def cast_named_vote(
    poll: Poll,
    delegate,
    kept=None,
    answers=None,
    marks=None,
    confirm_invalid: bool = False,
    receipt: str | None = None,
) -> str:
    """Record a delegate's vote in an open (named) poll; once per delegate (409 ballot_used,
    backed by the unique constraint). Answers the receipt code: `receipt` when given and free
    in the poll (the kiosk session's, receipts.kiosk_session_receipt), else a random one."""
    if poll.secrecy != "open":
        raise _err("poll_not_named", _("This poll is secret: vote with a ballot slip."), 409)
    require_status(poll, PollStatus.OPEN)
    if delegate.congress_id != poll.congress_id:
        raise _err("wrong_congress", _("This card belongs to another congress."), 409)
    if not delegate.can_vote or delegate.status != "present":
        raise _err("not_a_voter", _("Only full members checked in as present vote."), 409)
    choice = check_choice(poll, kept, answers, marks=marks, confirm_invalid=confirm_invalid)
    if named_vote_exists(poll, delegate.id):
        raise _err("ballot_used", _("This delegate has already voted in this poll."), 409)
    if receipt is None or db.session.scalar(
        select(NamedVote.id).where(NamedVote.poll_id == poll.id, NamedVote.receipt == receipt)
    ):
        receipt = new_receipt(NamedVote, poll.id)
    try:
        with db.session.begin_nested():
            db.session.add(
                NamedVote(poll_id=poll.id, delegate_id=delegate.id, choice=choice, receipt=receipt)
            )
    except IntegrityError:
        raise _err("ballot_used", _("This delegate has already voted in this poll."), 409) from None
    record(
        "ballot.named_vote",
        data={"poll_id": poll.id, "delegate_id": delegate.id},
        congress_id=poll.congress_id,
    )
    return receipt


# ---- live turnout -----------------------------------------------------------------------------


def turnout(poll: Poll) -> dict:
    """Counts only (never a choice): issued, cast, remaining, voided, voters_present."""
    rows = dict(
        db.session.execute(
            select(BallotToken.state, func.count())
            .where(BallotToken.poll_id == poll.id)
            .group_by(BallotToken.state)
        ).all()
    )
    if poll.attendance:
        present = json.loads(poll.attendance).get("voters_present", 0)
    else:
        congress = db.session.get_one(Congress, poll.congress_id)
        present = attendance(congress).get("voters_present", 0)
    used, unused, void = rows.get("used", 0), rows.get("unused", 0), rows.get("void", 0)
    named = 0
    if poll.secrecy == "open":
        named = (
            db.session.scalar(
                select(func.count()).select_from(NamedVote).where(NamedVote.poll_id == poll.id)
            )
            or 0
        )
    return {
        "poll_id": poll.id,
        "status": poll.status,
        "secrecy": poll.secrecy,
        "issued": used + unused + void,
        "cast": used + named,
        "remaining": unused,
        "voided": void,
        "voters_present": present,
    }
