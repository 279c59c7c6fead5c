"""Counting: count from the stored ballots, paper double entry, hand counts, sign-off, rounds.

The decisions are the rules engine's (congress_vote.rules); this module only turns the stored
rows into its inputs, stores its result, and enforces the life cycle around it:

    closed ──count──▶ counted ──all committee members sign the digest──▶ certified (locked)
       ▲                 │
       └─ a late paper ballot is counted (signatures cleared; recount needed)

Figures (documented choices where domain.md is silent):

* ``ballots_issued`` = every token of the poll (used + void + unused). Tokens voided at close
  were issued and not returned: they are the "unused/voided" of the minutes.
* ``ballots_returned`` = the Ballot rows (tablet casts and agreed paper entries). Open (named)
  polls count their NamedVote rows; their "issued" is the voters present (every present full
  member may vote by card). A show of hands (HandCount rows) has no ballots.
* Attendance comes from ``Poll.attendance``, the snapshot taken when the poll closed; a poll
  closed without one (older data, fixtures) uses the congress's attendance at its first count,
  which freezes it then.
* The stored result's ``digest`` is the result digest over every input (counting.digest_inputs,
  rules.digest.result_document), with a hash per part so recount / verify-audit name what
  changed.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, func, select, update

from .. import rules
from ..audit.services import head_hash, record
from ..ballots.models import Ballot, BallotToken, HandCount, IssueBatch, NamedVote, PaperEntry
from ..ballots.receipts import new_receipt
from ..ballots.services import _build_spec, poll_spec, resolve_code
from ..codes import code_hash
from ..congress.models import Congress
from ..congress.services import attendance
from ..db import utcnow
from ..errors import ServiceError
from ..extensions import db
from ..ids import bad_id, check_ids
from ..polls.committee import is_committee_member, require_committee
from ..polls.models import Poll, PollItem
from ..polls.services import committee_ids, create_poll, settings_of
from ..rules.digest import RESULT_FORMAT
from ..rules.model import SOURCES
from .models import PollResult, Signoff
from .paper_figures import (
    require_after_close,
    require_entry_room,
    require_return,
    require_return_before_count,
)

PAPER_INVALID_REASONS = ("identifying_mark", "added_names", "not_issued", "torn", "other")
LOCKED = ("certified", "published")


# --- small helpers ----------------------------------------------------------------------------

def _refuse_locked(poll: Poll) -> None:
    if poll.status in LOCKED:
        raise ServiceError("certified", _("The result is certified: nothing about this poll can "
                             "change any more (a correction is a new round)."), status=409)


# Every verb on a poll's ballots and count is for THAT poll's committee (polls.committee); the
# guard comes first, before any state check, so an outsider learns nothing and changes nothing.
_require_committee = require_committee


def attendance_snapshot(poll: Poll) -> dict:
    """The attendance figures the count uses (the snapshot at close, else the congress now)."""
    if poll.attendance:
        try:
            data = json.loads(poll.attendance)
            if isinstance(data, dict):
                return data
        except ValueError:
            pass
    return attendance(db.session.get(Congress, poll.congress_id))


def _tokens_issued(poll: Poll) -> int:
    return db.session.scalar(select(func.count()).select_from(BallotToken)
                             .where(BallotToken.poll_id == poll.id)) or 0


def _hand_counts(poll: Poll) -> list[HandCount]:
    return list(db.session.scalars(select(HandCount).where(HandCount.poll_id == poll.id)))


_INT_ONLY = {int}


def _rules_ballot(choice: str, source: str, reason: str | None, receipt: str | None):
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
    if (type(kept) is list and "answers" not in data and set(map(type, kept)) <= _INT_ONLY
            and source in SOURCES and (reason is None or type(reason) is str)):
        return rules.Ballot(kept=tuple(kept), invalid_reason=reason or None, source=source,
                            receipt=None if receipt is None else str(receipt))
    data = {"kept": data.get("kept"), "answers": data.get("answers"),
            "invalid_reason": reason, "source": source, "receipt": receipt}
    try:
        return rules.Ballot.from_dict(data)
    except rules.RulesInputError:
        # A malformed stored row is counted as invalid, never silently dropped.
        return rules.Ballot(invalid_reason="other", source=source, receipt=receipt)


def rules_inputs(poll: Poll):
    """(PollSpec, Attendance, [rules.Ballot], Settings, HandCount | None) from the stored rows:
    Ballot rows (secret polls), NamedVote rows (open polls) or HandCount rows (show of hands),
    and the attendance snapshot taken at close. See the module docstring for the figures."""
    spec = _build_spec(poll)  # the rows as they are now: a recount must see any change
    settings = settings_of(poll)
    att = attendance_snapshot(poll)
    present = int(att.get("voters_present", 0) or 0)
    hands = _hand_counts(poll)
    ballots: list[rules.Ballot] = []
    hand = None
    if poll.secrecy == "open":
        rows = db.session.execute(select(NamedVote.choice, NamedVote.receipt)
                                  .where(NamedVote.poll_id == poll.id)).all()
        ballots = [_rules_ballot(c, "tablet", None, r) for c, r in rows]
        issued = present
    else:
        rows = db.session.execute(
            select(Ballot.choice, Ballot.source, Ballot.invalid_reason, Ballot.receipt)
            .where(Ballot.poll_id == poll.id)).all()
        ballots = [_rules_ballot(c, s, ir, r) for c, s, ir, r in rows]
        issued = _tokens_issued(poll)
    if hands and not ballots:
        hand = rules.HandCount({h.item_id: (h.votes_for, h.votes_against, h.votes_abstain)
                                for h in hands})
        issued = 0
    excluded = {"excused": int(att.get("excused", 0) or 0)}
    for k, v in (att.get("excluded") or {}).items() if isinstance(att.get("excluded"), dict) \
            else ():
        excluded[str(k)] = int(v)
    attendance = rules.Attendance(voters_summoned=int(att.get("voters_summoned", 0) or 0),
                                  excluded=excluded, voters_present=present,
                                  ballots_issued=issued)
    return spec, attendance, ballots, settings, hand


def _count(poll: Poll) -> rules.Result:
    return _count_doc(poll)[0]


def _count_doc(poll: Poll):
    """(rules.Result, DigestDocument): the count from the stored rows, its ``digest`` replaced
    by the result digest over every input (counting.digest_inputs)."""
    from .digest_inputs import document_for
    spec, attendance, ballots, settings, hand = rules_inputs(poll)
    try:
        result = rules.count(spec, attendance, ballots, settings, hand)
    except rules.RulesInputError as err:
        raise ServiceError("cannot_count", _("The poll cannot be counted: %(error)s", error=err),
                           status=409)
    doc = document_for(poll, attendance, ballots, settings, hand)
    result.digest = doc.digest
    return result, doc


def _named_result(poll: Poll, result: rules.Result) -> dict:
    data = result.to_dict()
    names = {c.id: c.full_name for c in poll.candidates}
    texts = {i.id: i.text for i in poll.items}
    for c in data["candidates"]:
        c["full_name"] = names.get(c["id"], "")
    for i in data["items"]:
        i["text"] = texts.get(i["id"], "")
    data["setup_fingerprint"] = poll.setup_fingerprint
    data["title"] = poll.title
    return data


def pending_paper(poll: Poll) -> dict[str, int]:
    """How many paper ballots have a single entry ('pending') or disagreeing entries."""
    rows = db.session.execute(
        select(PaperEntry.state, func.count(func.distinct(PaperEntry.token_hash)))
        .where(PaperEntry.poll_id == poll.id, PaperEntry.state.in_(("pending", "disputed")))
        .group_by(PaperEntry.state)).all()
    out = {"pending": 0, "disputed": 0}
    out.update({s: n for s, n in rows})
    return out


# --- count ------------------------------------------------------------------------------------

def count_poll(poll: Poll, actor) -> PollResult:
    """Count the poll from its stored ballots and store the result with its digest.

    Allowed when the poll is closed (first count, or after a late paper ballot) or counted (a
    recount); refused (409) before close, once certified, and while any paper ballot has a
    single entry or a dispute. A recount replaces the stored result and clears the signatures.
    403 unless `actor` is on the poll's counting committee.
    """
    _require_committee(poll, actor)
    _refuse_locked(poll)
    if poll.status not in ("closed", "counted"):
        raise ServiceError("poll_not_closed", _("Count after the poll is closed."), status=409)
    waiting = pending_paper(poll)
    if waiting["pending"] or waiting["disputed"]:
        raise ServiceError(
            "paper_entries_pending",
            _("Paper ballots still need entry or settling: %(pending)s with a single "
              "entry, %(disputed)s in dispute.", pending=waiting["pending"],
              disputed=waiting["disputed"]), status=409, **waiting)
    require_return_before_count(poll)
    if not poll.attendance:
        # freeze the figures this count uses, so a later check-in cannot move a signed result
        poll.attendance = json.dumps(attendance_snapshot(poll), sort_keys=True)
    result, doc = _count_doc(poll)
    data = _named_result(poll, result)
    # what the digest covers, part by part, so recount / verify-audit can name what changed
    data["digest_format"] = RESULT_FORMAT
    data["digest_parts"] = doc.part_hashes()
    data["paper"] = json.loads(doc.parts["paper"])
    stored = db.session.get(PollResult, poll.id)
    recount = stored is not None
    previous = stored.digest if stored else None
    cleared = _clear_signoffs(poll)
    if stored is None:
        stored = PollResult(poll_id=poll.id)
        db.session.add(stored)
    stored.data = json.dumps(data, ensure_ascii=False, sort_keys=True)
    stored.digest = result.digest
    stored.counted_at = utcnow()
    stored.counted_by = getattr(actor, "id", actor)
    stored.certified_at = None
    poll.status = "counted"
    db.session.flush()
    record("poll.recounted" if recount else "poll.counted", actor=actor, congress_id=poll.congress_id,
           data={"poll_id": poll.id, "digest": result.digest, "previous_digest": previous,
                 "signoffs_cleared": cleared, "checks_ok": result.checks_ok,
                 "ballots_returned": result.figures["ballots_returned"]})
    return stored


def _clear_signoffs(poll: Poll) -> int:
    n = db.session.execute(delete(Signoff).where(Signoff.poll_id == poll.id)).rowcount or 0
    return n


def stored_result(poll: Poll) -> dict | None:
    row = db.session.get(PollResult, poll.id)
    return json.loads(row.data) if row else None


def result_dict(poll: Poll) -> dict:
    """The API "Result" of the poll (api.md), from the stored count, plus checks, settings,
    elected_order, setup_fingerprint, title, kind, seats, alternate_seats (and named_votes for an
    open poll). Raises 409 `not_counted` before the first count. `stale` is true when ballots
    changed after the count (the poll is back to `closed`)."""
    row = db.session.get(PollResult, poll.id)
    if row is None:
        raise ServiceError("not_counted", _("The poll has not been counted yet."), status=409)
    data = json.loads(row.data)
    out = {"poll_id": poll.id, "status": poll.status, "round": poll.round,
           "title": poll.title, "kind": poll.kind, "seats": poll.seats,
           "alternate_seats": poll.alternate_seats, "parent_id": poll.parent_id}
    for key in ("denominator", "denominator_basis", "threshold_votes", "figures", "elected_order",
                "ties", "unfilled_seats", "unfilled_alternate_seats", "alternates_pending",
                "counted_by_hand", "checks", "checks_ok", "settings", "setup_fingerprint"):
        out[key] = data.get(key)
    out["candidates"] = [{"id": c["id"], "full_name": c.get("full_name", ""),
                          "votes": c["votes"], "percent": c["percent"],
                          "elected": c["elected"], "over_threshold": c.get("over_threshold")}
                         for c in data.get("candidates", [])]
    out["items"] = [{"id": i["id"], "text": i.get("text", ""), "for": i["for"],
                     "against": i["against"], "abstain": i["abstain"],
                     "not_voted": i.get("not_voted"), "percent_for": i["percent_for"],
                     "percent_against": i.get("percent_against"),
                     "percent_abstain": i.get("percent_abstain"), "passed": i["passed"]}
                    for i in data.get("items", [])]
    out["digest"] = row.digest
    out["counted_at"] = row.counted_at.isoformat() + "Z"
    out["certified_at"] = row.certified_at.isoformat() + "Z" if row.certified_at else None
    out["complaints"] = row.complaints or ""
    out["stale"] = poll.status == "closed"
    out["signoffs"] = [{"user_id": s.user_id, "signed_at": s.signed_at.isoformat() + "Z"}
                       for s in db.session.scalars(select(Signoff).where(
                           Signoff.poll_id == poll.id).order_by(Signoff.signed_at))]
    out["signoffs_required"] = signoffs_required(poll, data.get("settings"))
    if poll.secrecy == "open":
        out["named_votes"] = named_votes(poll)
    return out


def named_votes(poll: Poll) -> list[dict]:
    """Each delegate's vote in an open poll, in Vietnamese name order."""
    from ..congress.models import Delegate
    rows = db.session.execute(
        select(Delegate.id, Delegate.full_name, NamedVote.choice)
        .join(Delegate, Delegate.id == NamedVote.delegate_id)
        .where(NamedVote.poll_id == poll.id).order_by(Delegate.sort_key)).all()
    out = []
    for did, name, choice in rows:
        try:
            vote = json.loads(choice or "{}")
        except ValueError:
            vote = {}
        out.append({"delegate": {"id": did, "full_name": name}, "vote": vote})
    return out


def next_round_proposal(poll: Poll) -> rules.NextRound:
    data = stored_result(poll)
    if not data or poll.kind == "resolution":
        return rules.NextRound()
    return rules.propose_next_round(poll_spec(poll), _count(poll))


# --- sign-off ---------------------------------------------------------------------------------

def signoffs_required(poll: Poll, settings: dict | None = None) -> int:
    members = len(poll.committee)
    need = (settings or {}).get("signoff_required") or settings_of(poll).signoff_required
    if need == "all":
        return members
    return min(int(need), members) if members else int(need)


def sign_result(poll: Poll, user, digest: str) -> Signoff:
    """A committee member signs the current result digest with their own login.

    403 unless the user is on this poll's counting committee (an admin role alone never signs);
    409 `not_counted`, `stale_digest` (not the current result's digest), `already_signed`,
    `checks_failed` (a reconciliation check fails) or `certified`. When the required number of
    members (rules setting signoff_required: all, or N) have signed, the poll is certified.
    """
    _require_committee(poll, user)
    _refuse_locked(poll)
    row = db.session.get(PollResult, poll.id)
    if poll.status != "counted" or row is None:
        raise ServiceError("not_counted", _("There is no current result to sign; count first."),
                           status=409)
    # bytes: compare_digest refuses non-ASCII str with a TypeError (a 500 found by fuzzing)
    if not isinstance(digest, str) or not hmac.compare_digest(
            digest.strip().lower().encode(), row.digest.encode()):
        raise ServiceError("stale_digest", _("This is not the digest of the current result."),
                           status=409, digest=row.digest)
    uid = getattr(user, "id", user)
    if db.session.get(Signoff, (poll.id, uid)) is not None:
        raise ServiceError("already_signed", _("You have signed this result already."), status=409)
    data = json.loads(row.data)
    if not data.get("checks_ok", all(c["ok"] for c in data.get("checks", []))):
        raise ServiceError("checks_failed", _("A reconciliation check fails: the result cannot "
                             "be signed."), status=409)
    sig = Signoff(poll_id=poll.id, user_id=uid, digest=row.digest, signed_at=utcnow())
    db.session.add(sig)
    db.session.flush()
    record("result.signed", actor=user, congress_id=poll.congress_id,
           data={"poll_id": poll.id, "digest": row.digest})
    n = db.session.scalar(select(func.count()).select_from(Signoff)
                          .where(Signoff.poll_id == poll.id)) or 0
    need = signoffs_required(poll, data.get("settings"))
    if n >= need > 0:
        poll.status = "certified"
        row.certified_at = utcnow()
        db.session.flush()
        record("poll.certified", actor=user, congress_id=poll.congress_id,
               data={"poll_id": poll.id, "digest": row.digest, "signoffs": n})
    return sig


def set_complaints(poll: Poll, text: str, actor) -> PollResult:
    """Minutes section 6: complaints and how they were settled. Before certification only; by
    the poll's counting committee."""
    _require_committee(poll, actor)
    _refuse_locked(poll)
    row = db.session.get(PollResult, poll.id)
    if row is None:
        raise ServiceError("not_counted", _("Count first."), status=409)
    row.complaints = (text or "").strip()[:20000]
    db.session.flush()
    record("result.complaints", actor=actor, congress_id=poll.congress_id,
           data={"poll_id": poll.id, "length": len(row.complaints)})
    return row


# --- paper ballots ----------------------------------------------------------------------------

@dataclass
class EntryContent:
    kept: list[int] | None
    answers: dict[str, str] | None
    invalid_reason: str | None

    def choice_json(self) -> str:
        if self.kept is not None:
            return json.dumps({"kept": self.kept}, sort_keys=True)
        if self.answers is not None:
            return json.dumps({"answers": self.answers}, sort_keys=True)
        return "{}"

    def key(self) -> tuple:
        return (self.choice_json(), self.invalid_reason)


def _content(poll: Poll, kept, answers, invalid_reason) -> EntryContent:
    given = [x is not None for x in (kept, answers, invalid_reason)]
    if sum(given) != 1 and not (invalid_reason is not None and sum(given) == 2):
        raise ServiceError("bad_entry", _("Give the struck-out ballot as kept (candidate ids) or "
                             "answers, or mark it invalid with a reason."), status=400)
    if invalid_reason is not None:
        if invalid_reason not in PAPER_INVALID_REASONS:
            raise ServiceError("bad_reason", _("Invalid reason must be one of %(reasons)s.",
                                                 reasons=", ".join(PAPER_INVALID_REASONS)),
                               status=422)
        return EntryContent(None, None, invalid_reason)
    if poll.kind == "resolution":
        if not isinstance(answers, dict):
            raise ServiceError("bad_entry", _("A resolution ballot is entered as answers "
                                 "{item_id: for|against|abstain}."), status=422)
        items = {str(i.id) for i in poll.items}
        clean = {}
        for k, v in answers.items():
            if str(k) not in items:
                raise ServiceError("unknown_item",
                                   _("Item %(item)s is not on this ballot.", item=k), status=422)
            if v not in rules.ANSWERS:
                raise ServiceError("bad_answer", _("Answers are for, against or abstain."),
                                   status=422)
            clean[str(k)] = v
        return EntryContent(None, dict(sorted(clean.items())), None)
    if not isinstance(kept, list) or any(isinstance(c, bool) or not isinstance(c, int)
                                         for c in kept):
        raise ServiceError("bad_entry", _("An election ballot is entered as kept: [candidate ids] "
                             "(the names left standing)."), status=422)
    ids = {c.id for c in poll.candidates}
    unknown = sorted(set(kept) - ids)
    if unknown:
        raise ServiceError("unknown_candidate", _("Not on this ballot: %(ids)s.", ids=unknown),
                           status=422)
    if len(set(kept)) != len(kept):
        raise ServiceError("duplicate_candidate", _("A name was ticked twice."), status=422)
    return EntryContent(sorted(kept), None, None)


def _token_for(poll: Poll, code_text: str) -> BallotToken:
    code = resolve_code(code_text)
    if code is None:
        raise ServiceError("bad_code", _("This is not a valid ballot code (check the characters)."),
                           status=422)
    tok = db.session.get(BallotToken, code_hash(code))
    if tok is None or tok.poll_id != poll.id:
        raise ServiceError("unknown_ballot",
                           _("No ballot with this code was issued for this poll."),
                           status=404)
    batch = db.session.get(IssueBatch, tok.batch_id)
    if batch is None or batch.kind != "paper":
        raise ServiceError("not_paper",
                           _("This code belongs to a tablet slip, not a paper ballot."),
                           status=422)
    return tok


def _check_entry_allowed(poll: Poll, actor) -> None:
    _require_committee(poll, actor)
    _refuse_locked(poll)
    # after the close, and after the committee recorded the unused paper ballots collected back
    require_after_close(poll)
    require_return(poll)


def _count_paper(poll: Poll, tok: BallotToken, content: EntryContent, actor) -> Ballot:
    """Make the one counted Ballot of an agreed paper ballot, consuming its token exactly once
    (a conditional UPDATE, as for a tablet cast). A paper token voided when the poll closed was
    still returned in the box, so void → used is allowed for paper tokens only."""
    res = db.session.execute(
        update(BallotToken).where(BallotToken.token_hash == tok.token_hash,
                                  BallotToken.state.in_(("unused", "void")))
        .values(state="used").execution_options(synchronize_session=False))
    if res.rowcount != 1:
        raise ServiceError("ballot_used", _("This ballot has been counted already."), status=409)
    reason = content.invalid_reason
    if reason is None:
        # Paper can be over-voted, unlike a tablet: the engine rules it; record the reason.
        rb = rules.Ballot(kept=tuple(content.kept) if content.kept is not None else None,
                          answers=tuple((int(k), v) for k, v in content.answers.items())
                          if content.answers is not None else None, source="paper")
        reason = rules.validate_ballot(poll_spec(poll), settings_of(poll), rb)
        reason = str(reason) if reason else None
    # The counted ballot names no token (random id, random receipt), and the entries of this
    # paper ballot stop naming its code: nothing stored ties its content to the code any more.
    ballot = Ballot(id=secrets.token_hex(16), poll_id=poll.id, source="paper",
                    choice=content.choice_json(), invalid_reason=reason,
                    receipt=new_receipt(Ballot, poll.id))
    db.session.add(ballot)
    db.session.flush()
    _unlink_entries(tok.token_hash)
    if poll.status == "counted":
        # A late paper ballot changes the ballot set: the signed digest no longer holds.
        cleared = _clear_signoffs(poll)
        poll.status = "closed"
        db.session.flush()
        record("result.invalidated", actor=actor, congress_id=poll.congress_id,
               data={"poll_id": poll.id, "reason": "late paper ballot",
                     "signoffs_cleared": cleared})
    return ballot


def _unlink_entries(token_hash: str) -> None:
    """Clear the code on every entry of a counted paper ballot (in the session too)."""
    for e in db.session.scalars(select(PaperEntry).where(PaperEntry.token_hash == token_hash)):
        e.token_hash = None
    db.session.flush()


def enter_paper_ballot(poll: Poll, code_text: str, actor, kept=None, answers=None,
                       invalid_reason=None) -> PaperEntry:
    """One counter's independent entry of one paper ballot (identified by its QR/code).

    The first entry is 'pending'. A second entry by a *different* committee member that agrees
    makes both 'agreed' and creates one counted Ballot (source 'paper'); one that disagrees makes
    both 'disputed' until `settle_dispute`. The same counter entering the same ballot twice, a
    third entry, or an entry of a ballot already counted is refused with 409.
    """
    _check_entry_allowed(poll, actor)
    tok = _token_for(poll, code_text)
    content = _content(poll, kept, answers, invalid_reason)
    require_entry_room(poll, tok.token_hash)  # no more ballots than issued − unused
    uid = getattr(actor, "id", actor)
    entries = list(db.session.scalars(select(PaperEntry).where(
        PaperEntry.token_hash == tok.token_hash, PaperEntry.state != "superseded")
        .order_by(PaperEntry.id)))
    if tok.state == "used" or any(e.state == "agreed" for e in entries):
        raise ServiceError("ballot_used", _("This ballot has been entered and counted already."),
                           status=409)
    if any(e.state == "disputed" for e in entries):
        raise ServiceError("disputed", _("The entries of this ballot disagree: the committee must "
                             "settle it."), status=409)
    if any(e.user_id == uid for e in entries):
        raise ServiceError("already_entered", _("You entered this ballot already; a different "
                             "counter must make the second entry."), status=409)
    entry = PaperEntry(poll_id=poll.id, token_hash=tok.token_hash, user_id=uid,
                       choice=content.choice_json(), invalid_reason=content.invalid_reason,
                       state="pending", entered_at=utcnow())
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
    record("paper.entered", actor=actor, congress_id=poll.congress_id,
           data={"poll_id": poll.id, "outcome": outcome})
    return entry


def can_settle(poll: Poll, user) -> bool:
    """The committee head settles disputes; a committee without a designated head lets any of
    its members settle (the decision is still a named, audited entry)."""
    uid = getattr(user, "id", user)
    heads = [m.user_id for m in poll.committee if m.is_head]
    return uid in heads if heads else is_committee_member(poll, user)


def settle_dispute(poll: Poll, code_text: str, actor, kept=None, answers=None,
                   invalid_reason=None) -> PaperEntry:
    """The committee's ruling on a disputed paper ballot: the disputed entries become
    'superseded', the decision is recorded as an 'agreed' entry by `actor`, and it is counted."""
    _check_entry_allowed(poll, actor)
    if not can_settle(poll, actor):
        raise ServiceError("not_committee_head",
                           _("Only the head of the counting committee settles "
                             "disputes."), status=403)
    tok = _token_for(poll, code_text)
    content = _content(poll, kept, answers, invalid_reason)
    disputed = list(db.session.scalars(select(PaperEntry).where(
        PaperEntry.token_hash == tok.token_hash, PaperEntry.state == "disputed")))
    if not disputed:
        raise ServiceError("not_disputed", _("This ballot is not in dispute."), status=409)
    for e in disputed:
        e.state = "superseded"
    entry = PaperEntry(poll_id=poll.id, token_hash=tok.token_hash,
                       user_id=getattr(actor, "id", actor), choice=content.choice_json(),
                       invalid_reason=content.invalid_reason, state="agreed", entered_at=utcnow())
    db.session.add(entry)
    db.session.flush()
    _count_paper(poll, tok, content, actor)
    record("paper.settled", actor=actor, congress_id=poll.congress_id,
           data={"poll_id": poll.id, "outcome": "settled"})
    return entry


def paper_queue(poll: Poll) -> dict[str, list[dict]]:
    """Pending single entries and disputes, grouped by ballot (for the entry page)."""
    rows = list(db.session.scalars(select(PaperEntry).where(
        PaperEntry.poll_id == poll.id, PaperEntry.state.in_(("pending", "disputed")))
        .order_by(PaperEntry.entered_at, PaperEntry.id)))
    groups: dict[str, dict] = {}
    for e in rows:
        g = groups.setdefault(e.token_hash, {"ballot": e.token_hash[:12], "state": e.state,
                                             "entries": []})
        g["entries"].append(e)
    out: dict[str, list[dict]] = {"pending": [], "disputed": []}
    for g in groups.values():
        out[g["state"]].append(g)
    return out


def entry_log(poll: Poll) -> list[PaperEntry]:
    """Every paper entry of the poll, oldest first (the printed entry log)."""
    return list(db.session.scalars(select(PaperEntry).where(PaperEntry.poll_id == poll.id)
                                   .order_by(PaperEntry.entered_at, PaperEntry.id)))


def entry_log_reference(poll: Poll) -> str:
    """A short fingerprint of the entry log (minutes section 7 names it)."""
    h = hashlib.sha256()
    for e in entry_log(poll):
        h.update(json.dumps([e.id, e.token_hash, e.user_id, e.choice, e.invalid_reason, e.state,
                             e.entered_at.isoformat()]).encode())
    return h.hexdigest()


# --- hand count -------------------------------------------------------------------------------

def enter_hand_count(poll: Poll, items: dict, actor) -> list[HandCount]:
    """The counts of a show of hands, per resolution item: while the poll is open or closed,
    before counting, by the poll's counting committee. Each item's for + against + abstain must
    not exceed the voters present (422). Entering again replaces the item's counts."""
    _require_committee(poll, actor)
    _refuse_locked(poll)
    if poll.kind != "resolution":
        raise ServiceError("not_resolution", _("Only a resolution is voted by show of hands."),
                           status=422)
    if poll.status not in ("open", "closed"):
        raise ServiceError("poll_not_open" if poll.status == "draft" else "already_counted",
                           _("Hand counts are entered while the poll is open or closed, before "
                             "counting."), status=409)
    if db.session.scalar(select(func.count()).select_from(Ballot)
                         .where(Ballot.poll_id == poll.id)):
        raise ServiceError("has_ballots", _("This poll has ballots; it is not a show of hands."),
                           status=409)
    if not isinstance(items, dict) or not items:
        raise ServiceError("bad_request", _("items must be an object {item_id: {for, against, "
                             "abstain}}."), status=400)
    try:
        hand = rules.HandCount.from_dict({"items": items})
    except rules.BadIdError:
        raise bad_id("items") from None
    except rules.RulesInputError as err:
        raise ServiceError("bad_hand_count", str(err), status=422) from None
    check_ids(hand.items, "items")
    known = {i.id for i in poll.items}
    unknown = sorted(set(hand.items) - known)
    if unknown:
        raise ServiceError("unknown_item", _("Unknown item(s): %(ids)s.", ids=unknown), status=422)
    present = int(attendance_snapshot(poll).get("voters_present", 0) or 0)
    for item, counts in hand.items.items():
        if sum(counts) > present:
            raise ServiceError("too_many_votes", _("Item %(item)s: %(votes)s votes but only "
                                 "%(present)s voters present.", item=item,
                                 votes=sum(counts), present=present), status=422)
    out = []
    uid = getattr(actor, "id", actor)
    for item, (f, a, b) in hand.items.items():
        row = db.session.scalar(select(HandCount).where(HandCount.poll_id == poll.id,
                                                        HandCount.item_id == item))
        if row is None:
            row = HandCount(poll_id=poll.id, item_id=item, votes_for=f, votes_against=a,
                            votes_abstain=b, user_id=uid)
            db.session.add(row)
        row.votes_for, row.votes_against, row.votes_abstain = f, a, b
        row.user_id, row.entered_at = uid, utcnow()
        out.append(row)
    db.session.flush()
    record("hand_count.entered", actor=actor, congress_id=poll.congress_id,
           data={"poll_id": poll.id, "items": {str(k): list(v) for k, v in hand.items.items()}})
    return out


# --- review -----------------------------------------------------------------------------------

REVIEW_PAGE = 50


def review_ballots(poll: Poll, page: int = 1, validity: str = "", reason: str = "",
                   source: str = "") -> dict:
    """The anonymous ballots of a closed poll, ordered by their content (never by insertion),
    with the ruling of the rules engine, filterable by validity/reason/source, 50 per page.

    No receipt (nor any other code) is shown next to a ballot's content: the receipt board shows
    receipts without contents, this page contents without receipts, so no login maps a receipt
    to a vote."""
    if poll.status in ("draft", "open"):
        raise ServiceError("poll_not_closed",
                           _("Ballots can be reviewed after the poll is closed."),
                           status=409)
    spec, settings = poll_spec(poll), settings_of(poll)
    names = {c.id: c.full_name for c in poll.candidates}
    texts = {i.id: i.text for i in poll.items}
    q = select(Ballot.choice, Ballot.source, Ballot.invalid_reason).where(
        Ballot.poll_id == poll.id)
    if source in ("tablet", "paper"):
        q = q.where(Ballot.source == source)
    rows = db.session.execute(q).all()
    rows.sort(key=lambda r: (r[1], r[2] or "", r[0] or ""))
    listed = []
    reasons: dict[str, int] = {}
    for choice, src, stored_reason in rows:
        rb = _rules_ballot(choice, src, stored_reason, None)
        ruling = rules.validate_ballot(spec, settings, rb)
        ruling = str(ruling) if ruling else None
        if ruling:
            reasons[ruling] = reasons.get(ruling, 0) + 1
        if validity == "valid" and ruling:
            continue
        if validity == "invalid" and not ruling:
            continue
        if reason and ruling != reason:
            continue
        listed.append({"source": src, "invalid_reason": ruling,
                       "kept": [names.get(c, f"#{c}") for c in (rb.kept or ())],
                       "struck": [n for cid, n in names.items() if rb.kept is not None
                                  and cid not in rb.kept],
                       "answers": [(texts.get(i, f"#{i}"), a) for i, a in (rb.answers or ())]})
    total = len(listed)
    pages = max(1, -(-total // REVIEW_PAGE))
    page = min(max(1, page), pages)
    return {"ballots": listed[(page - 1) * REVIEW_PAGE: page * REVIEW_PAGE], "total": total,
            "page": page, "pages": pages, "all": len(rows), "reasons": reasons,
            "privacy_warning": 0 < total < current_app.config.get("PRIVACY_MIN_BALLOTS", 5)}


# --- receipts ---------------------------------------------------------------------------------

def receipts(poll: Poll) -> dict:
    """The public board: every counted receipt, sorted, and the digest (once counted)."""
    row = db.session.get(PollResult, poll.id)
    if row is None or poll.status not in ("counted", "certified", "published"):
        raise ServiceError("not_counted", _("Receipts are published once the poll is counted."),
                           status=409)
    model = NamedVote if poll.secrecy == "open" else Ballot
    codes = sorted(db.session.scalars(select(model.receipt).where(model.poll_id == poll.id)))
    return {"poll_id": poll.id, "receipts": codes, "digest": row.digest}


# --- next round -------------------------------------------------------------------------------

def create_round(poll: Poll, candidate_ids: list[int], seats: int, actor,
                 new_names: list[str] | None = None, alternate_seats: int = 0) -> Poll:
    """A further round of an election (tie, shortfall, alternates): a new draft poll listing the
    chosen candidates (and new names the congress adds), the same rules and committee.

    It follows the latest round of `poll`'s chain (counting.rounds): parent_id = the latest
    round, round = its round + 1, so asking from round 1 after round 2 gives round 3, never a
    second round 2. The candidates may be those of any round of the chain (round 1's for the
    alternates after a tie round). 409 `not_counted` unless the latest round is counted,
    certified or published (`round_in_progress` when that is a later round than `poll`)."""
    from .rounds import chain_candidates, name_key, rounds_of
    if poll.kind == "resolution":
        raise ServiceError("not_election", _("Only an election has further rounds."), status=422)
    latest = rounds_of(poll)[-1]
    if latest.status not in ("counted", "certified", "published"):
        if latest.id != poll.id:
            raise ServiceError("round_in_progress",
                               _("Round %(n)s of this election is under way: a further round "
                                 "follows its counted result.", n=latest.round), status=409)
        raise ServiceError("not_counted", _("A further round follows a counted result."),
                           status=409)
    if not isinstance(seats, int) or isinstance(seats, bool) or seats < 0:
        raise ServiceError("bad_seats", _("seats must be a non-negative integer."), status=422)
    if seats + alternate_seats < 1:
        raise ServiceError("bad_seats", _("A further round needs at least one seat."), status=422)
    by_id = chain_candidates(poll)
    unknown = [c for c in candidate_ids if c not in by_id]
    if unknown:
        raise ServiceError("unknown_candidate",
                           _("Not candidates of this poll: %(ids)s.", ids=unknown),
                           status=422)
    chosen, seen = [], set()
    for c in sorted(set(candidate_ids), key=lambda c: (by_id[c].poll_id, by_id[c].ballot_order)):
        if name_key(by_id[c].full_name) not in seen:  # one person listed once
            seen.add(name_key(by_id[c].full_name))
            chosen.append(by_id[c])
    names = [{"full_name": c.full_name, "position": c.position, "delegate_id": c.delegate_id}
             for c in chosen]
    names += [{"full_name": n.strip(), "position": ""} for n in (new_names or []) if n.strip()]
    if not names:
        raise ServiceError("no_candidates", _("A further round needs candidates."), status=422)
    rules_json = json.loads(poll.rules or "{}")
    data = {"kind": poll.kind, "title": poll.title, "seats": seats,
            "alternate_seats": alternate_seats if poll.kind == "slate" else 0,
            "secrecy": poll.secrecy, "candidates": names, "rules": rules_json,
            "counting_committee": committee_ids(poll)}
    new = create_poll(db.session.get(Congress, poll.congress_id), data, actor)
    new.parent_id = latest.id
    new.round = latest.round + 1
    db.session.flush()
    record("poll.round_created", actor=actor, congress_id=poll.congress_id,
           data={"poll_id": new.id, "parent_id": new.parent_id, "round": new.round,
                 "seats": seats, "alternate_seats": new.alternate_seats,
                 "candidates": len(names)})
    return new


# --- recount ----------------------------------------------------------------------------------

def recount_compare(poll: Poll) -> tuple[rules.Result, list[str]]:
    """Count again from the stored rows and compare with the stored PollResult: the digest AND
    the figures, votes, elected, ties, items. Returns (fresh result, lines naming differences).
    """
    row = db.session.get(PollResult, poll.id)
    if row is None:
        raise ServiceError("not_counted", _("The poll has no stored result to compare with."),
                           status=409)
    fresh, doc = _count_doc(poll)
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
        diffs.insert(0, "inputs changed since the count: " + (", ".join(changed) or
                     "none of the recorded parts (the stored part hashes were altered)"))
    if stored.get("digest") != row.digest:
        diffs.append(f"stored result.digest {stored.get('digest')} ≠ poll_result.digest "
                     f"{row.digest}")
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
    return json.dumps([data, reason if reason in PAPER_INVALID_REASONS else None],
                      sort_keys=True)


def _name_changed_ballots(poll: Poll, fresh: rules.Result) -> list[str]:
    """Point at the stored rows that no longer match the audit trail of their making. A counted
    paper ballot is not linked to its entries (secrecy): the multiset of the paper ballots'
    contents is compared with that of the agreed entries, and each content that differs in
    number is named (never a receipt: that would pair a receipt with a content)."""
    from collections import Counter
    out = []
    rows = db.session.execute(select(Ballot.choice, Ballot.invalid_reason, Ballot.source)
                              .where(Ballot.poll_id == poll.id)).all()
    entries = db.session.execute(select(PaperEntry.choice, PaperEntry.invalid_reason).where(
        PaperEntry.poll_id == poll.id, PaperEntry.state == "agreed")).all()
    # A paper ballot has two agreed entries (the two counters) or one (a settled dispute): so
    # for each content, ballots stored <= agreed entries <= 2 x ballots stored.
    stored = Counter(_paper_key(c, r) for c, r, s in rows if s == "paper")
    entered = Counter(_paper_key(c, r) for c, r in entries)
    for key in sorted(set(stored) | set(entered)):
        if not stored[key] <= entered[key] <= 2 * stored[key]:
            out.append(f"paper ballots with content {key}: {stored[key]} stored, "
                       f"{entered[key]} agreed entries")
    used = db.session.scalar(select(func.count()).select_from(BallotToken).where(
        BallotToken.poll_id == poll.id, BallotToken.state == "used")) or 0
    if poll.secrecy != "open" and used != len(rows):
        out.append(f"ballots stored {len(rows)} ≠ tokens used {used}")
    return out


def audit_head() -> str:
    return head_hash()


def ballot_count(poll: Poll) -> int:
    model = NamedVote if poll.secrecy == "open" else Ballot
    return db.session.scalar(select(func.count()).select_from(model)
                             .where(model.poll_id == poll.id)) or 0


def items_of(poll: Poll) -> list[PollItem]:
    return list(poll.items)
