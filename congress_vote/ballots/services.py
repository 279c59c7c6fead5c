"""Ballot issuance, resolving a ballot code, casting exactly once, named votes, turnout.

Guarantees:
- a ballot token is 80 random bits plus a check character (`codes.new_code`); the database keeps
  only SHA-256 of it, so plain tokens exist only in the answer to the issuance (and its slips PDF);
- never more ballots are issued for a poll than voters present minus those already issued (the
  poll row is locked for the check, so two counters issuing at once cannot overshoot);
- a token is consumed by one conditional UPDATE ... WHERE state='unused' ... RETURNING in the same
  transaction as the stored ballot and its audit event: a token yields at most one ballot, even
  under concurrent casts, on SQLite and PostgreSQL; a refused choice (over-vote, unknown ids)
  raises before commit, so the token stays unused;
- a stored secret ballot carries no delegate, no time, no token, batch or kiosk and a random id;
  its receipt is random (ballots.receipts), so neither the token row nor anything else stored
  derives it; a batch's token rows are inserted in random order (no print order kept).
"""
from __future__ import annotations

import json
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import bindparam, func, insert, select, update

from .. import codes
from ..audit.services import canonical, record
from ..congress.models import Congress
from ..congress.services import attendance, delegate_by_card
from ..errors import ServiceError
from ..extensions import db
from ..ids import bad_id, check_ids
from ..polls.committee import require_committee
from ..polls.models import Poll
from ..polls.services import require_status, settings_of
from ..rules import BadIdError, PollSpec, RulesInputError, validate_ballot
from ..rules import Ballot as RulesBallot
from .models import Ballot, BallotToken, IssueBatch, NamedVote
from .receipts import new_receipt

MAX_BATCH = 5000


@dataclass
class IssuedBatch:
    """An issuance: the stored batch and the plain codes (normalised), which exist only here."""
    batch: IssueBatch
    codes: list[str]


def _err(code: str, message: str, status: int) -> ServiceError:
    return ServiceError(code, message, status=status)


# ---- issuance ----------------------------------------------------------------------------------

def issued_count(poll: Poll) -> int:
    """Ballots issued for the poll and not voided."""
    return db.session.scalar(select(func.count()).select_from(BallotToken)
                             .where(BallotToken.poll_id == poll.id,
                                    BallotToken.state != "void")) or 0


def issue_ballots(poll: Poll, count, actor, kind: str = "slip") -> IssuedBatch:
    """Issue `count` anonymous ballots for an open secret poll (the counting committee).

    409 when the poll is not open or not secret, or when count would exceed voters present minus
    ballots already issued. kind "slip" (QR slips for the tablets) or "paper" (full paper
    ballots, printed by the counting area from the returned codes). 403 `not_on_committee`
    unless `actor` is on this poll's counting committee (checked first).
    """
    require_committee(poll, actor)
    if isinstance(count, bool) or not isinstance(count, int):
        raise _err("bad_request", _("count must be an integer."), 400)
    if count < 1 or count > MAX_BATCH:
        raise _err("bad_count", _("count must be between 1 and %(max)s.", max=MAX_BATCH), 422)
    if kind not in ("slip", "paper"):
        raise _err("bad_kind", _("kind must be slip or paper."), 422)
    # Lock the poll row: two counters issuing at once queue here (PostgreSQL; SQLite's write
    # transactions are serialised by BEGIN IMMEDIATE already).
    poll = db.session.scalar(select(Poll).where(Poll.id == poll.id).with_for_update())
    require_status(poll, "open")
    if poll.secrecy != "secret":
        raise _err("poll_not_secret", _("This is an open (named) poll: delegates vote with their "
                     "cards, no ballots are issued."), 409)
    figures = attendance(db.session.get(Congress, poll.congress_id))
    present = int(figures.get("voters_present") or 0)
    already = issued_count(poll)
    if already + count > present:
        raise _err("too_many_ballots",
                   _("%(count)s more ballots would exceed the voters present (%(present)s); "
                     "%(already)s are issued already, so at most %(left)s more.",
                     count=count, present=present, already=already,
                     left=max(present - already, 0)), 409)
    batch = IssueBatch(poll_id=poll.id, count=count, kind=kind,
                       issued_by=getattr(actor, "id", None))
    db.session.add(batch)
    db.session.flush()
    plain = [codes.new_code() for _ in range(count)]
    rows = [{"token_hash": codes.code_hash(c), "poll_id": poll.id, "batch_id": batch.id,
             "state": "unused"} for c in plain]
    # Stored in random order, never in the print order of `plain` (the slips' order).
    secrets.SystemRandom().shuffle(rows)
    db.session.execute(insert(BallotToken), rows)
    record("ballots.issued", actor=actor, congress_id=poll.congress_id,
           data={"poll_id": poll.id, "batch_id": batch.id, "count": count, "kind": kind})
    return IssuedBatch(batch, plain)


def ballot_url(code: str) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL']}/b/{code}"


# ---- a batch and its PDF ------------------------------------------------------------------------

def issue_batch(poll: Poll, count, actor, kind: str = "slip",
                size: str = "A4") -> tuple[IssuedBatch, bytes]:
    """Issue `count` ballots and render their PDF: QR slips, or full paper ballots (`size` A4
    or A5). The PDF is kept sealed in the database until the poll closes (batch_pdfs), so it can
    be downloaded again. Rendered before the caller commits: if rendering fails, nothing is
    issued."""
    from .batch_pdfs import keep_batch_pdf
    if size not in ("A4", "A5"):
        raise _err("bad_size", _("size must be A4 or A5."), 422)
    issued = issue_ballots(poll, count, actor, kind=kind)
    if kind == "paper":
        from .paper_ballots import paper_ballots_pdf
        pdf = paper_ballots_pdf(poll, list(issued.codes), size)
    else:
        from .slips import render_slips
        pdf = render_slips(poll, issued.codes)
    keep_batch_pdf(issued.batch, pdf)
    return issued, pdf


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
        text = text[text.lower().rindex("/b/") + 3:].split("?")[0].split("#")[0].strip("/")
    return codes.normalise(text)


NOT_A_BALLOT = _l("This code is not a ballot — check the characters.")


def _diagnose(h: str, congress_id: int | None):
    """Why the token `h` cannot be used (after the conditional UPDATE found nothing)."""
    token = db.session.get(BallotToken, h)
    if token is None:
        raise _err("unknown_ballot", _("No ballot has this code. Check the characters."), 404)
    poll = db.session.get(Poll, token.poll_id)
    if congress_id is not None and poll.congress_id != congress_id:
        raise _err("wrong_congress", _("This ballot belongs to another congress."), 409)
    batch = db.session.get(IssueBatch, token.batch_id)
    if batch is not None and batch.kind == "paper":
        raise _err("paper_ballot", _("This is a paper ballot: mark it and put it in the ballot "
                     "box."), 409)
    if token.state == "used":
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
        poll = db.session.get(Poll, token.poll_id)
        if poll.status == "open" and congress_id in (None, poll.congress_id):
            batch = db.session.get(IssueBatch, token.batch_id)
            if batch is None or batch.kind != "paper":
                return poll, token
    _diagnose(h, congress_id)  # every refusal, in one order, comes from there
    raise AssertionError("unreachable")  # pragma: no cover


def _build_spec(poll: Poll) -> PollSpec:
    return PollSpec(kind=poll.kind, seats=poll.seats,
                    alternate_seats=poll.alternate_seats if poll.kind == "slate" else 0,
                    candidate_ids=tuple(c.id for c in poll.candidates),
                    item_ids=tuple(i.id for i in poll.items))


# Per-process cache of what validating a choice needs from a poll: (PollSpec, Settings), keyed by
# (poll id, setup_fingerprint). The fingerprint is fixed when the poll opens and hashes its kind,
# seats, candidates, items and rules, so a key can only ever name the setup it was built from;
# draft polls (no fingerprint, still editable) are never cached. This saves the candidate and
# item lazy loads and the rules parsing on every cast (the setup is frozen while votes arrive).
_SPEC_CACHE: dict[tuple[int, str], tuple[PollSpec, object]] = {}
_SPEC_CACHE_MAX = 512


def poll_rules(poll: Poll) -> tuple[PollSpec, object]:
    """(PollSpec, rules Settings) of the poll; cached per process once the poll is opened."""
    fp = poll.setup_fingerprint
    if fp is None:
        return _build_spec(poll), settings_of(poll)
    key = (poll.id, fp)
    hit = _SPEC_CACHE.get(key)
    if hit is None:
        hit = (_build_spec(poll), settings_of(poll))
        if len(_SPEC_CACHE) >= _SPEC_CACHE_MAX:
            _SPEC_CACHE.clear()
        _SPEC_CACHE[key] = hit
    return hit


def poll_spec(poll: Poll) -> PollSpec:
    """The rules engine's PollSpec of the poll (cached once opened, see poll_rules)."""
    return poll_rules(poll)[0]


_MESSAGES = {
    "overvote": _l("You kept more names than there are seats. Strike out more names."),
    "unknown_candidate": _l("A name on this ballot is not on the list."),
    "duplicate_candidate": _l("A name is kept twice."),
    "all_struck": _l("Under this poll's rules a ballot striking every name is invalid."),
    "unknown_item": _l("An answer names an item that is not on this ballot."),
    "duplicate_item": _l("An item is answered twice."),
    "bad_answer": _l("Answer each item with for, against or abstain."),
    "wrong_kind": _l("This choice does not fit the kind of vote."),
}


def parse_choice(kind: str, kept=None, answers=None) -> RulesBallot:
    """The rules engine's Ballot of a choice as the API sends it; 400 when malformed, 422
    `bad_id` when an id in it is no id ("²", 1.5, -1...)."""
    if kind == "resolution":
        if answers is None:
            answers = {}
        if not isinstance(answers, dict):
            raise _err("bad_request", _("answers must be an object {item_id: answer}."), 400)
        raw = {"answers": answers}
    else:
        if kept is None:
            raise _err("bad_request", _("kept (the list of candidate ids kept) is required."), 400)
        if not isinstance(kept, list):
            raise _err("bad_request", _("kept must be a list of candidate ids."), 400)
        raw = {"kept": kept}
    try:
        ballot = RulesBallot.from_dict(raw)
    except BadIdError:
        raise bad_id("answers" if kind == "resolution" else "kept") from None
    except RulesInputError as exc:
        raise _err("bad_request", str(exc), 400) from None
    check_ids(ballot.kept or (), "kept")
    check_ids((i for i, _a in ballot.answers or ()), "answers")
    return ballot


def canonical_choice(ballot: RulesBallot) -> str:
    """How a valid choice is stored (Ballot.choice)."""
    if ballot.kept is not None:
        return canonical({"kept": sorted(ballot.kept)})
    return canonical({"answers": {str(i): a for i, a in sorted(ballot.answers)}})


def check_choice(poll: Poll, kept=None, answers=None, rules=None) -> str:
    """Validate a choice with the rules engine; answer its canonical JSON or raise 400/422.
    `rules`: the poll's (PollSpec, Settings) when the caller has them (then `poll` only needs
    a `kind`)."""
    ballot = parse_choice(poll.kind, kept, answers)
    spec, settings = rules if rules is not None else poll_rules(poll)
    reason = validate_ballot(spec, settings, ballot)
    if reason is not None:
        message = _MESSAGES.get(str(reason)) or _("This ballot is not valid.")
        raise _err(str(reason), str(message), 422)
    return canonical_choice(ballot)


# Built once (core table statements: no ORM bulk-update machinery, no per-call construction).
_TOKENS = BallotToken.__table__
_CONSUME_TOKEN = (
    update(_TOKENS)
    .where(_TOKENS.c.token_hash == bindparam("h"), _TOKENS.c.state == "unused",
           _TOKENS.c.batch_id.in_(select(IssueBatch.__table__.c.id)
                                  .where(IssueBatch.__table__.c.kind == "slip")))
    .values(state="used")
    .returning(_TOKENS.c.poll_id))
_INSERT_BALLOT = insert(Ballot.__table__)
_POLLS = Poll.__table__
_POLL_FOR_CAST = select(_POLLS.c.id, _POLLS.c.congress_id, _POLLS.c.kind, _POLLS.c.status,
                        _POLLS.c.secrecy, _POLLS.c.setup_fingerprint
                        ).where(_POLLS.c.id == bindparam("pid"))


def cast_ballot(text, kept=None, answers=None, source: str = "tablet",
                congress_id: int | None = None) -> str:
    """Consume the ballot `text` and store its choice; answer the receipt code.

    One transaction: the conditional UPDATE consumes the token only if it is unused and a slip
    ballot; then its poll must be open and secret (of `congress_id` if given) and the choice
    valid — any refusal raises (409/422) and the caller's rollback leaves the token unused; the
    ballot and an audit event (poll id only) are written. The caller commits.
    """
    code = resolve_code(text)
    if code is None:
        raise _err("unknown_ballot", str(NOT_A_BALLOT), 404)
    h = codes.code_hash(code)
    # One statement consumes the token: unused and of a slip batch (a paper ballot goes in the
    # box). The poll's state is checked just below, in the same transaction: a refusal raises
    # and the caller's rollback leaves the token unused, exactly as a refused choice does.
    row = db.session.execute(_CONSUME_TOKEN, {"h": h}).first()
    if row is None:
        _diagnose(h, congress_id)
    poll = db.session.execute(_POLL_FOR_CAST, {"pid": row[0]}).one()  # a row, not the ORM Poll
    # The refusals _diagnose would give for an unused slip token, in its order.
    if congress_id is not None and poll.congress_id != congress_id:
        raise _err("wrong_congress", _("This ballot belongs to another congress."), 409)
    if poll.status != "open" or poll.secrecy != "secret":
        raise _err("poll_not_open", _("This vote is not open (or the ballot was voided)."), 409)
    rules = _SPEC_CACHE.get((poll.id, poll.setup_fingerprint))
    if rules is None:  # the first cast of this setup in this process
        rules = poll_rules(db.session.get(Poll, poll.id))
    choice = check_choice(poll, kept, answers, rules=rules)
    # No token, batch, kiosk or time goes into the ballot row; the receipt is random.
    receipt = new_receipt(Ballot, poll.id)
    db.session.execute(_INSERT_BALLOT, {
        "id": secrets.token_hex(16), "poll_id": poll.id, "source": source,
        "choice": choice, "invalid_reason": None, "receipt": receipt})
    record("ballot.cast", data={"poll_id": poll.id}, congress_id=poll.congress_id)
    return receipt


# ---- open (named) polls ------------------------------------------------------------------------

def open_named_polls(congress_id: int) -> list[Poll]:
    return list(db.session.scalars(select(Poll).where(
        Poll.congress_id == congress_id, Poll.status == "open", Poll.secrecy == "open")
        .order_by(Poll.agenda_order, Poll.id)))


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
    return db.session.scalar(select(NamedVote.id).where(
        NamedVote.poll_id == poll.id, NamedVote.delegate_id == delegate_id)) is not None


def cast_named_vote(poll: Poll, delegate, kept=None, answers=None) -> str:
    """Record a delegate's vote in an open (named) poll; once per delegate (409 ballot_used,
    backed by the unique constraint). Answers the receipt code."""
    if poll.secrecy != "open":
        raise _err("poll_not_named", _("This poll is secret: vote with a ballot slip."), 409)
    require_status(poll, "open")
    if delegate.congress_id != poll.congress_id:
        raise _err("wrong_congress", _("This card belongs to another congress."), 409)
    if not delegate.can_vote or delegate.status != "present":
        raise _err("not_a_voter", _("Only full members checked in as present vote."), 409)
    choice = check_choice(poll, kept, answers)
    if named_vote_exists(poll, delegate.id):
        raise _err("ballot_used", _("This delegate has already voted in this poll."), 409)
    receipt = new_receipt(NamedVote, poll.id)
    from sqlalchemy.exc import IntegrityError
    try:
        with db.session.begin_nested():
            db.session.add(NamedVote(poll_id=poll.id, delegate_id=delegate.id, choice=choice,
                                     receipt=receipt))
    except IntegrityError:
        raise _err("ballot_used", _("This delegate has already voted in this poll."),
                   409) from None
    record("ballot.named_vote", data={"poll_id": poll.id, "delegate_id": delegate.id},
           congress_id=poll.congress_id)
    return receipt


# ---- live turnout -----------------------------------------------------------------------------

def turnout(poll: Poll) -> dict:
    """Counts only (never a choice): issued, cast, remaining, voided, voters_present."""
    rows = dict(db.session.execute(
        select(BallotToken.state, func.count()).where(BallotToken.poll_id == poll.id)
        .group_by(BallotToken.state)).all())
    if poll.attendance:
        present = json.loads(poll.attendance).get("voters_present", 0)
    else:
        present = attendance(db.session.get(Congress, poll.congress_id)).get("voters_present", 0)
    used, unused, void = rows.get("used", 0), rows.get("unused", 0), rows.get("void", 0)
    named = 0
    if poll.secrecy == "open":
        named = db.session.scalar(select(func.count()).select_from(NamedVote)
                                  .where(NamedVote.poll_id == poll.id)) or 0
    return {"poll_id": poll.id, "status": poll.status, "secrecy": poll.secrecy,
            "issued": used + unused + void, "cast": used + named, "remaining": unused,
            "voided": void, "voters_present": present}
