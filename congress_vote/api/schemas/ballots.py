"""Schemas of voting: a ballot as the voter sees it, a choice, a named vote, the receipt
(api/ballot_routes.py). Whether the choice is allowed (over-vote, unknown ids, all struck) is
the rules engine's to say (ballots/spec.py: 422 with its code)."""

from __future__ import annotations

from .base import Answer, Body, Bool, Dict, Id, Int, List, Nested, Str


class BallotPoll(Answer):
    id = Int()
    kind = Str()
    title = Str()
    seats = Int()
    alternate_seats = Int()
    max_kept = Int()
    round = Int()
    setup_fingerprint = Str(allow_none=True)


class BallotCandidate(Answer):
    id = Int()
    full_name = Str()
    position = Str()


class BallotItem(Answer):
    id = Int()
    text = Str()


class BallotView(Answer):
    poll = Nested(BallotPoll)
    candidates = List(Nested(BallotCandidate))
    items = List(Nested(BallotItem))


class Choice(Body):
    """Committee/slate: `kept`, or on an agree/disagree ballot (no surplus) `marks`
    ({candidate_id: agree|disagree}; a name left out has no valid mark); resolution: `answers`
    ({item_id: for|against|abstain}). `confirm_invalid`: cast a ballot the rules make invalid
    (every name struck on a list with a surplus; a single name without exactly one mark) —
    without it such a cast is 422 `all_struck` / `no_mark`."""

    kept = List(Id(), allow_none=True, metadata={"description": "the candidate ids kept"})
    marks = Dict(
        keys=Str(),
        values=Str(metadata={"enum": ["agree", "disagree"]}),
        allow_none=True,
        metadata={"description": "agree/disagree ballot: the mark of each name marked"},
    )
    answers = Dict(
        keys=Str(), values=Str(metadata={"enum": ["for", "against", "abstain"]}), allow_none=True
    )
    confirm_invalid = Bool(
        load_default=False,
        metadata={"description": "cast anyway a ballot deliberately spoiled (counted invalid)"},
    )


class NamedVote(Choice):
    card = Str(required=True, metadata={"description": "the delegate's card code"})


class Receipt(Answer):
    receipt = Str()
