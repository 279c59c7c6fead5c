"""The count: from the stored rows (counting.inputs) through the rules engine to the stored
result with its digest, and the life cycle around it:

    closed ──count──▶ counted ──all committee members sign the digest──▶ certified (locked)
       ▲                 │
       └─ a late paper ballot is counted (signatures cleared; recount needed)

The stored result's ``digest`` is the result digest over every input (counting.digest_inputs,
rules.digest.result_document), with a hash per part so recount / verify-audit name what changed.
"""

from __future__ import annotations

import json

from flask_babel import gettext as _

from .. import rules
from ..audit.services import record
from ..ballots.spec import poll_spec
from ..db import utcnow
from ..errors import ServiceError
from ..extensions import db
from ..polls.committee import require_committee
from ..polls.models import Poll
from ..polls.status import COUNTABLE, counted, refuse_locked
from ..rules.digest import RESULT_FORMAT
from ..seal.opening import needs_opening, open_sealed_box
from .digest_inputs import document_for
from .inputs import BallotRow, attendance_snapshot, rules_inputs
from .models import PollResult
from .paper_entry import pending_paper
from .paper_figures import require_return_before_count
from .results import stored_result
from .signoff import clear_signoffs


def fresh_result(poll: Poll) -> rules.Result:
    """The count from the stored rows now (nothing stored: the rounds and the recount compare
    it with what was)."""
    return count_doc(poll)[0]


def count_doc(poll: Poll, rows: list[BallotRow] | None = None):
    """(rules.Result, DigestDocument): the count from the stored rows (``rows``: the ballot
    rows when the caller holds exactly what is stored, see ``rules_inputs``), its ``digest``
    the result digest over every input (counting.digest_inputs)."""
    spec, attendance, ballots, settings, hand = rules_inputs(poll, rows)
    try:
        # no ballot-set digest: the result digest below replaces it (one canonical text built)
        result = rules.count(spec, attendance, ballots, settings, hand, digest=False)
    except rules.RulesInputError as err:
        raise ServiceError(
            "cannot_count", _("The poll cannot be counted: %(error)s", error=err), status=409
        ) from err
    doc = document_for(poll, attendance, ballots, settings, hand)
    result.digest = doc.digest
    return result, doc


def named_result(poll: Poll, result: rules.Result) -> dict:
    """The engine's result as stored: with the candidates' names, the items' texts, the title
    and the setup fingerprint."""
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


def count_poll(poll: Poll, actor, opening_codes: list | None = None) -> PollResult:
    """Count the poll from its stored ballots and store the result with its digest.

    A sealed poll's first count opens its box first (seal.opening: `opening_codes` of at least
    its threshold of members, else 409 more_key_cards_needed), in the same transaction.

    Allowed when the poll is closed (first count, or after a late paper ballot) or counted (a
    recount); refused (409) before close, once certified, and while any paper ballot has a
    single entry or a dispute. A recount replaces the stored result and clears the signatures.
    403 unless `actor` is on the poll's counting committee.
    """
    require_committee(poll, actor)
    refuse_locked(poll)
    if poll.status not in COUNTABLE:
        raise ServiceError("poll_not_closed", _("Count after the poll is closed."), status=409)
    waiting = pending_paper(poll)
    if waiting["pending"] or waiting["disputed"]:
        raise ServiceError(
            "paper_entries_pending",
            _(
                "Paper ballots still need entry or settling: %(pending)s with a single "
                "entry, %(disputed)s in dispute.",
                pending=waiting["pending"],
                disputed=waiting["disputed"],
            ),
            status=409,
            **waiting,
        )
    require_return_before_count(poll)
    if not poll.attendance:
        # freeze the figures this count uses, so a later check-in cannot move a signed result
        poll.attendance = json.dumps(attendance_snapshot(poll), sort_keys=True)
    # opening a sealed box answers the poll's ballot rows as it stored them in this transaction
    # (paper entries and the opened set): counted without reading the opened set back
    rows = open_sealed_box(poll, opening_codes, actor) if needs_opening(poll) else None
    result, doc = count_doc(poll, rows)
    data = named_result(poll, result)
    # what the digest covers, part by part, so recount / verify-audit can name what changed
    data["digest_format"] = RESULT_FORMAT
    data["digest_parts"] = doc.part_hashes()
    data["paper"] = json.loads(doc.parts["paper"])
    stored = db.session.get(PollResult, poll.id)
    recount = stored is not None
    previous = stored.digest if stored else None
    cleared = clear_signoffs(poll)
    if stored is None:
        stored = PollResult(poll_id=poll.id)
        db.session.add(stored)
    stored.data = json.dumps(data, ensure_ascii=False, sort_keys=True)
    stored.digest = result.digest
    stored.counted_at = utcnow()
    stored.counted_by = getattr(actor, "id", actor)
    stored.certified_at = None
    counted(poll)
    db.session.flush()
    record(
        "poll.recounted" if recount else "poll.counted",
        actor=actor,
        congress_id=poll.congress_id,
        data={
            "poll_id": poll.id,
            "digest": result.digest,
            "previous_digest": previous,
            "signoffs_cleared": cleared,
            "checks_ok": result.checks_ok,
            "ballots_returned": result.figures["ballots_returned"],
        },
    )
    return stored


def next_round_proposal(poll: Poll) -> rules.NextRound:
    """The engine's proposal for a further round after this round's count (none before it);
    counting.rounds.chain_proposal looks at every round of the election."""
    data = stored_result(poll)
    if not data or poll.kind == "resolution":
        return rules.NextRound()
    return rules.propose_next_round(poll_spec(poll), fresh_result(poll))
