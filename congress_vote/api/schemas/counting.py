"""Schemas of counting: the result, receipts, sign-offs, rounds, paper ballots and hand counts
(api/counting_routes.py). Whether a value is allowed (unknown ids, a digest that is not the
current one, an over-vote) is the counting services' to say (409/422 with their codes)."""

from __future__ import annotations

from typing import Any

from ...counting.paper_entry import PAPER_INVALID_REASONS
from .base import Answer, Body, Bool, Dict, Id, IdKey, Int, List, Nested, Str
from .polls import Poll

_ANSWER = Str(metadata={"enum": ["for", "against", "abstain"]})
_N: dict[str, Any] = {"allow_none": True}


class ResultCandidate(Answer):
    id = Int()
    full_name = Str()
    votes = Int()
    percent = Str(metadata={"description": 'two decimals, e.g. "66.67"'})
    elected = Str(allow_none=True)
    over_threshold = Bool(allow_none=True)


class ResultItem(Answer):
    id = Int()
    text = Str()
    for_ = Int(attribute="for", data_key="for")
    against = Int()
    abstain = Int()
    not_voted = Int(allow_none=True)
    percent_for = Str()
    percent_against = Str(allow_none=True)
    percent_abstain = Str(allow_none=True)
    passed = Bool()


class Signoff(Answer):
    user_id = Int()
    signed_at = Str()
    key_card_id = Int(allow_none=True)
    signing_fingerprint = Str(allow_none=True)
    signature = Str(allow_none=True, metadata={"description": "Ed25519 signature, hex"})


class Result(Answer):
    """The stored count of a poll (docs/api.md, "Results and reports")."""

    poll_id = Int(required=True)
    status = Str(required=True)
    round = Int(required=True)
    title = Str()
    kind = Str()
    seats = Int()
    alternate_seats = Int()
    parent_id = Int(allow_none=True)
    denominator = Int(required=True, **_N)
    denominator_basis = Str(**_N)
    threshold_votes = Int(**_N)
    figures = Dict(required=True, **_N)
    elected_order = List(Int(), **_N)
    ties = List(Dict(), required=True, **_N)
    unfilled_seats = Int(required=True, **_N)
    unfilled_alternate_seats = Int(**_N)
    alternates_pending = Bool(**_N)
    counted_by_hand = Bool(**_N)
    checks = List(Dict(), **_N)
    checks_ok = Bool(**_N)
    settings = Dict(**_N)
    setup_fingerprint = Str(**_N)
    candidates = List(Nested(ResultCandidate), required=True)
    items = List(Nested(ResultItem), required=True)
    digest = Str(required=True)
    counted_at = Str()
    certified_at = Str(allow_none=True)
    complaints = Str()
    stale = Bool(metadata={"description": "ballots changed after the count"})
    signoffs = List(Nested(Signoff), required=True)
    signoffs_required = Int()
    named_votes = List(Dict(), metadata={"description": "open polls: each delegate's vote"})


class MinutesQuery(Body):
    lang = Str(metadata={"enum": ["vi", "en"], "description": "the minutes' language (vi)"})


class CountBody(Body):
    opening_codes = List(
        Str(),
        load_default=list,
        metadata={
            "description": "a sealed poll's first count: the opening codes (QR text or typed) "
            "of at least its threshold of counting committee members"
        },
    )


class Receipts(Answer):
    poll_id = Int()
    receipts = List(Str(), required=True)
    digest = Str(required=True)


class SignoffBody(Body):
    digest = Str(required=True, metadata={"description": "the result digest being signed"})
    signing_code = Str(
        required=True,
        metadata={
            "description": "the signing code of the member's key card: its QR text "
            "(CV1:S:…) or the printed code"
        },
    )


class Signed(Answer):
    poll_id = Int()
    user_id = Int()
    digest = Str()
    status = Str()
    signed_at = Str()
    signature = Str(
        required=True,
        metadata={
            "description": "Ed25519 over congress-vote/signoff/v1 ‖ poll id ‖ digest, hex "
            "(docs/sealed-box.md)"
        },
    )
    key_card_id = Int()


class RoundBody(Body):
    candidate_ids = List(Id(), required=True)
    seats = Int(required=True, metadata={"minimum": 0})
    alternate_seats = Int(load_default=0, **_N, metadata={"minimum": 0})
    new_names = List(Str(), load_default=list, **_N)


class NewRound(Poll):
    """The new round's poll."""


class PaperBallotBody(Body):
    code = Str(required=True, metadata={"description": "the paper ballot's printed code"})
    kept = List(Id(), **_N)
    answers = Dict(
        keys=IdKey("answers"),
        values=_ANSWER,
        **_N,
        metadata={"description": "{item_id: for|against|abstain}"},
    )
    marks = Dict(
        keys=IdKey("marks"),
        values=Str(metadata={"enum": ["agree", "disagree"]}),
        **_N,
        metadata={
            "description": "agree/disagree ballot (no surplus): {candidate_id: agree|disagree}; "
            "a name with neither box or both boxes marked is left out"
        },
    )
    invalid_reason = Str(**_N, metadata={"enum": list(PAPER_INVALID_REASONS)})
    settle = Bool(load_default=False, **_N)


class Pending(Answer):
    pending = Int()
    disputed = Int()


class PaperEntered(Answer):
    entry_id = Int()
    poll_id = Int()
    state = Str()
    pending = Nested(Pending)


class ItemCounts(Body):
    """One item's counts (the service checks them against the voters present: 422)."""

    for_ = Int(attribute="for", data_key="for", metadata={"minimum": 0})
    against = Int(metadata={"minimum": 0})
    abstain = Int(metadata={"minimum": 0})


class HandCountBody(Body):
    items = Dict(
        keys=IdKey("items"),
        values=Nested(ItemCounts),
        required=True,
        metadata={"description": "{item_id: {for, against, abstain}}"},
    )


class HandCounted(Answer):
    poll_id = Int()
    items = Dict(keys=Str(), values=Nested(ItemCounts))
