"""Rounds of one election, taken together: the chain round 1 → round 2 → … (Poll.parent_id),
and the further round to propose from the whole chain, not from one round alone.

Why: the rules engine proposes from one count. After a tie on the last official seat of a slate
(round 1) it proposes the tie round and leaves the alternates pending (docs/rules.md, "Who is
elected": "the tied
candidates contest that seat in another round, and the alternate seats are decided after it").
Once the tie round is counted, neither round on its own proposes the alternates: round 1 still
sees its tie, round 2 (one official seat, no alternates) is complete. :func:`chain_proposal`
looks at every round of the chain:

1. a round still under way (the latest round is not counted, or its count is stale): nothing;
2. the latest round needs a further round of its own (its tie, its shortfall): the engine's
   proposal for it, naming the latest round's candidates;
3. otherwise the seats of round 1 that the chain has not filled: the engine's proposal for
   round 1's result with the elected of every round merged in and its ties settled — for a slate
   whose official seats are now all filled that is the engine's ``"alternates"`` proposal
   (reason 4 of :func:`congress_vote.rules.propose_next_round`): every round-1 candidate not yet
   elected, for the alternate seats. Following the engine, the proposal names every candidate
   not elected, not only those who were over the threshold in round 1: a new round has its own
   threshold, and the congress ticks whom it wants (it is only a proposal).

A round for alternates only is a slate poll with ``seats == 0`` and ``alternate_seats == N``;
the engine fills only alternate seats on it (congress_vote.rules docstring).

Candidates are matched across rounds by a stable id, never by name (two namesakes may stand in
one election): a further round's candidate keeps the id of the candidacy it continues
(``Candidate.origin_id``; ``Candidate.person_id`` is that id, or its own on its first round).
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from .. import rules
from ..audit.services import record
from ..ballots.spec import poll_spec
from ..congress.models import Congress
from ..errors import ServiceError
from ..extensions import db
from ..polls.models import Candidate, Poll
from ..polls.services import create_poll
from ..polls.setup import committee_ids
from ..polls.status import COUNTED_OR_LATER
from .count import fresh_result, next_round_proposal
from .results import stored_result


def rounds_of(poll: Poll) -> list[Poll]:
    """The chain of rounds `poll` belongs to, round 1 first: its ancestors by parent_id, itself,
    then at each step the latest round created from the previous one (highest id)."""
    up: list[Poll] = [poll]
    seen = {poll.id}
    while up[0].parent_id and up[0].parent_id not in seen:
        parent = db.session.get(Poll, up[0].parent_id)
        if parent is None:
            break
        seen.add(parent.id)
        up.insert(0, parent)
    chain = up
    while True:
        child = db.session.scalar(
            select(Poll).where(Poll.parent_id == chain[-1].id).order_by(Poll.id.desc()).limit(1)
        )
        if child is None or child.id in seen:
            return chain
        seen.add(child.id)
        chain.append(child)


def later_round(poll: Poll) -> Poll | None:
    """The round created from `poll` (the next one in its chain), if any."""
    chain = rounds_of(poll)
    i = [p.id for p in chain].index(poll.id)
    return chain[i + 1] if i + 1 < len(chain) else None


def chain_candidates(poll: Poll) -> dict[int, Candidate]:
    """Every candidate of every round of the chain, by id."""
    return {c.id: c for p in rounds_of(poll) for c in p.candidates}


@dataclass(frozen=True)
class Proposal:
    """A further round proposed for a chain of rounds.

    ``next`` is the rules engine's :class:`~congress_vote.rules.NextRound` (falsy: nothing to
    propose); its ``candidate_ids`` are candidates of ``source`` (the latest round, or round 1
    for the seats the chain left open); ``after`` is the latest round (the new round's parent).
    """

    next: rules.NextRound
    source: Poll | None = None
    after: Poll | None = None

    def __bool__(self) -> bool:
        return bool(self.next)

    @property
    def candidate_ids(self):
        return self.next.candidate_ids

    @property
    def seats(self) -> int:
        return self.next.seats

    @property
    def alternate_seats(self) -> int:
        return self.next.alternate_seats

    @property
    def reason(self) -> str | None:
        return self.next.reason


def _elected_keys(chain: list[Poll]) -> tuple[set[int], set[int]]:
    """(official, alternate) person ids (Candidate.person_id) elected in the counted rounds."""
    official: set[int] = set()
    alternate: set[int] = set()
    for p in chain:
        if p.status not in COUNTED_OR_LATER:
            continue
        data = stored_result(p) or {}
        person = {c.id: c.person_id for c in p.candidates}
        for c in data.get("candidates") or []:
            key = person.get(c["id"])
            if key is None:
                continue
            if c.get("elected") == "official":
                official.add(key)
            elif c.get("elected") == "alternate":
                alternate.add(key)
    return official, alternate


def chain_proposal(poll: Poll) -> Proposal:
    """The further round to propose for `poll`'s chain of rounds (module docstring): falsy when a
    round is under way or every seat of round 1 is decided. The same proposal is given on every
    round's result page."""
    if poll.kind == "resolution":
        return Proposal(rules.NextRound())
    chain = rounds_of(poll)
    latest, first = chain[-1], chain[0]
    if latest.status not in COUNTED_OR_LATER:
        return Proposal(rules.NextRound())
    own = next_round_proposal(latest)
    if own or len(chain) == 1:
        return Proposal(own, latest, latest)
    official, alternate = _elected_keys(chain)
    keys = {c.id: c.person_id for c in first.candidates}
    elected_ids = [cid for cid, k in keys.items() if k in official or k in alternate]
    left_official = max(0, first.seats - len(official))
    left_alternate = max(
        0, (first.alternate_seats if first.kind == "slate" else 0) - len(alternate)
    )
    base = fresh_result(first)
    merged = dataclasses.replace(
        base,
        ties=[],
        elected_order=elected_ids,
        unfilled_seats=left_official,
        unfilled_alternate_seats=left_alternate if left_official else 0,
        alternates_pending=bool(left_alternate) and not left_official,
    )
    spec = dataclasses.replace(poll_spec(first), alternate_seats=left_alternate)
    return Proposal(rules.propose_next_round(spec, merged), first, latest)


def create_round(
    poll: Poll,
    candidate_ids: list[int],
    seats: int,
    actor,
    new_names: list[str] | None = None,
    alternate_seats: int = 0,
) -> Poll:
    """A further round of an election (tie, shortfall, alternates): a new draft poll listing the
    chosen candidates (and new names the congress adds), the same rules and committee.

    It follows the latest round of `poll`'s chain (counting.rounds): parent_id = the latest
    round, round = its round + 1, so asking from round 1 after round 2 gives round 3, never a
    second round 2. The candidates may be those of any round of the chain (round 1's for the
    alternates after a tie round). 409 `not_counted` unless the latest round is counted,
    certified or published (`round_in_progress` when that is a later round than `poll`)."""
    if poll.kind == "resolution":
        raise ServiceError("not_election", _("Only an election has further rounds."), status=422)
    latest = rounds_of(poll)[-1]
    if latest.status not in COUNTED_OR_LATER:
        if latest.id != poll.id:
            raise ServiceError(
                "round_in_progress",
                _(
                    "Round %(n)s of this election is under way: a further round "
                    "follows its counted result.",
                    n=latest.round,
                ),
                status=409,
            )
        raise ServiceError(
            "not_counted", _("A further round follows a counted result."), status=409
        )
    if not isinstance(seats, int) or isinstance(seats, bool) or seats < 0:
        raise ServiceError("bad_seats", _("seats must be a non-negative integer."), status=422)
    if seats + alternate_seats < 1:
        raise ServiceError("bad_seats", _("A further round needs at least one seat."), status=422)
    by_id = chain_candidates(poll)
    unknown = [c for c in candidate_ids if c not in by_id]
    if unknown:
        raise ServiceError(
            "unknown_candidate", _("Not candidates of this poll: %(ids)s.", ids=unknown), status=422
        )
    chosen, seen = [], set()
    for c in sorted(set(candidate_ids), key=lambda c: (by_id[c].poll_id, by_id[c].ballot_order)):
        if by_id[c].person_id not in seen:  # one person listed once
            seen.add(by_id[c].person_id)
            chosen.append(by_id[c])
    names = [
        {
            "full_name": c.full_name,
            "position": c.position,
            "delegate_id": c.delegate_id,
            "origin_id": c.person_id,
        }
        for c in chosen
    ]
    names += [{"full_name": n.strip(), "position": ""} for n in (new_names or []) if n.strip()]
    if not names:
        raise ServiceError("no_candidates", _("A further round needs candidates."), status=422)
    rules_json = json.loads(poll.rules or "{}")
    data = {
        "kind": poll.kind,
        "title": poll.title,
        "seats": seats,
        "alternate_seats": alternate_seats if poll.kind == "slate" else 0,
        "secrecy": poll.secrecy,
        "candidates": names,
        "rules": rules_json,
        "counting_committee": committee_ids(poll),
        "seal_threshold": poll.seal_threshold,  # the same key cards open the next round's box
    }
    new = create_poll(db.session.get(Congress, poll.congress_id), data, actor)
    new.parent_id = latest.id
    new.round = latest.round + 1
    db.session.flush()
    record(
        "poll.round_created",
        actor=actor,
        congress_id=poll.congress_id,
        data={
            "poll_id": new.id,
            "parent_id": new.parent_id,
            "round": new.round,
            "seats": seats,
            "alternate_seats": new.alternate_seats,
            "candidates": len(names),
        },
    )
    return new
