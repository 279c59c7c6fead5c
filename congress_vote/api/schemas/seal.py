"""Schemas of the sealed box's public side (issue 16): the board of a poll."""

from __future__ import annotations

from typing import Any

from .base import Answer, Bool, Dict, Int, List, Nested, Str

_N: dict[str, Any] = {"allow_none": True}


class BoardPoll(Answer):
    id = Int(required=True)
    title = Str()
    kind = Str()
    round = Int()
    secrecy = Str()
    status = Str()


class BoardMember(Answer):
    """A committee member's key card: the public keys (hex) and their printed fingerprints."""

    user_id = Int()
    full_name = Str(**_N)
    title = Str(**_N)
    is_head = Bool()
    key_card_id = Int(**_N)
    opening_public = Str(**_N, metadata={"description": "X25519 public key, hex"})
    signing_public = Str(**_N, metadata={"description": "Ed25519 public key, hex"})
    opening_fingerprint = Str(**_N)
    signing_fingerprint = Str(**_N)


class BoardSignature(Answer):
    user_id = Int()
    full_name = Str(**_N)
    key_card_id = Int(**_N)
    signing_public = Str(**_N)
    signing_fingerprint = Str(**_N)
    signature = Str(
        required=True,
        metadata={"description": "Ed25519 over congress-vote/signoff/v1 ‖ poll id ‖ digest, hex"},
    )
    signed_at = Str(**_N)


class Board(Answer):
    """Everything needed to check a poll without the database (docs/sealed-box.md)."""

    format = Str(required=True, metadata={"description": "congress-vote-board/1"})
    poll = Nested(BoardPoll, required=True)
    congress = Str()
    digest = Str(required=True)
    signoff_message = Str()
    inputs = Dict(
        required=True,
        metadata={
            "description": "the recount export (congress-vote-ballots/1) with digest_inputs: "
            "the inputs of the result digest, the opened ballot set in canonical order"
        },
    )
    trackers = List(Str(), required=True)
    result = Dict(required=True, metadata={"description": "the published result"})
    members = List(Nested(BoardMember), required=True)
    signatures = List(Nested(BoardSignature), required=True)
    signoffs_required = Int()
