"""Schemas of polls: setup body, the poll, ballot batches, turnout (api/poll_routes.py).

Shapes only: the rules of a poll's setup (kinds, seat limits, rules presets, committee members)
are checked by polls/services.py, which answers 422 with its own codes; the `enum` / `minimum`
metadata here documents them.
"""

from __future__ import annotations

from marshmallow import INCLUDE

from ...polls.models import POLL_KINDS
from .base import Answer, Body, Bool, Dict, Id, Int, List, Nested, Str

_PRESETS = ["vn-party", "majority-of-valid", "roberts"]
_DENOMINATORS = [
    "voters_summoned_adjusted",
    "voters_present",
    "ballots_returned",
    "ballots_valid",
    "ballots_valid_nonblank",
]


class RulesBody(Body):
    """The counting rules: a preset and the settings that differ from it (unknown settings are
    passed on, and refused by the rules engine with 422 `bad_rules`)."""

    class Meta:
        unknown = INCLUDE

    preset = Str(allow_none=True, metadata={"enum": _PRESETS})
    denominator = Str(metadata={"enum": _DENOMINATORS})
    fraction = Str(metadata={"pattern": r"^\d+/\d+$"})
    strict = Bool()
    all_struck_valid = Bool()
    alternates_same_ballot = Bool()


class CandidateBody(Body):
    full_name = Str(required=True, metadata={"minLength": 1, "maxLength": 200})
    position = Str(allow_none=True, metadata={"maxLength": 200})
    delegate_id = Id(allow_none=True)


class ItemBody(Body):
    text = Str(required=True, metadata={"minLength": 1})


class PollChange(Body):
    """A change to a draft poll's setup: only the fields named change."""

    kind = Str(metadata={"enum": list(POLL_KINDS)})
    title = Str(metadata={"minLength": 1, "maxLength": 500})
    seats = Int(allow_none=True, metadata={"minimum": 0, "maximum": 1000})
    alternate_seats = Int(allow_none=True, metadata={"minimum": 0, "maximum": 1000})
    secrecy = Str(metadata={"enum": ["secret", "open"]})
    candidates = List(Nested(CandidateBody), allow_none=True)
    items = List(Nested(ItemBody), allow_none=True)
    counting_committee = List(Id(), allow_none=True)
    rules = Nested(RulesBody, allow_none=True)
    seal_threshold = Int(
        allow_none=True,
        metadata={
            "minimum": 1,
            "description": "secret poll: how many committee members' key cards open the "
            "ballot box (null: a majority, ⌊n/2⌋ + 1)",
        },
    )


class PollBody(PollChange):
    """A new poll's setup (`kind` is required too: 422 `bad_kind` without it)."""

    title = Str(required=True, metadata={"minLength": 1, "maxLength": 500})


class PollCandidate(Answer):
    id = Int()
    full_name = Str()
    position = Str()
    ballot_order = Int()
    delegate_id = Int(allow_none=True)


class PollItem(Answer):
    id = Int()
    text = Str()


class PollWarning(Answer):
    code = Str()
    message = Str()
    min_candidates = Int()
    max_candidates = Int()


class Seal(Answer):
    """A secret poll's sealed ballot box (docs/sealed-box.md)."""

    threshold = Int()
    members = Int()
    public_key = Str(metadata={"description": "the box's X25519 public key, hex"})


class Poll(Answer):
    id = Int()
    congress_id = Int()
    kind = Str()
    title = Str()
    status = Str()
    round = Int()
    parent_id = Int(allow_none=True)
    seats = Int()
    alternate_seats = Int()
    secrecy = Str()
    rules = Dict()
    candidates = List(Nested(PollCandidate))
    items = List(Nested(PollItem))
    counting_committee = List(Int())
    setup_fingerprint = Str(allow_none=True)
    opened_at = Str(allow_none=True)
    closed_at = Str(allow_none=True)
    warnings = List(Nested(PollWarning))
    seal_threshold = Int(allow_none=True)
    seal = Nested(Seal, allow_none=True)


class BatchBody(Body):
    count = Int(required=True, metadata={"minimum": 1, "maximum": 5000})
    kind = Str(load_default="slip", allow_none=True, metadata={"enum": ["slip", "paper"]})
    size = Str(load_default="A4", allow_none=True, metadata={"enum": ["A4", "A5"]})


class Batch(Answer):
    tokens = List(Str())
    codes = List(Str())
    pdf_url = Str()
    batch_id = Int()
    kind = Str()


class ComplaintsBody(Body):
    complaints = Str(required=True, metadata={"maxLength": 20000})


class Complaints(Answer):
    poll_id = Int()
    complaints = Str()


class VoidedBatch(Answer):
    """A batch voided while its poll is open: `voided` of its `count` ballots were unused and
    are void now (they may be issued again)."""

    poll_id = Int()
    batch_id = Int()
    kind = Str()
    count = Int()
    voided = Int()
    voided_at = Str()


class Turnout(Answer):
    poll_id = Int()
    status = Str()
    secrecy = Str()
    issued = Int()
    cast = Int()
    remaining = Int()
    voided = Int()
    voters_present = Int()
