"""Schemas of the chair's side: the projector's screen, the receipt check, the recount file
(api/report_routes.py). The published result and the poll reuse counting.Result and polls.Poll.
"""

from __future__ import annotations

from .base import Answer, Body, Bool, Dict, Int, List, Nested, Str


class ScreenCongress(Answer):
    id = Int()
    name = Str()
    organisation = Str(allow_none=True)
    term = Str(allow_none=True)


class ScreenPoll(Answer):
    id = Int()
    title = Str()
    kind = Str()
    round = Int()


class ScreenTurnout(Answer):
    cast = Int()
    issued = Int()
    voters_present = Int()


class Screen(Answer):
    """Public-safe: the result appears only once published."""

    state = Str(
        required=True,
        metadata={
            "enum": [
                "idle",
                "attendance",
                "message",
                "blank",
                "upcoming",
                "voting",
                "counting",
                "result",
            ]
        },
    )
    source = Str(
        metadata={"enum": ["choice", "auto"], "description": "chosen by the chair, or followed"}
    )
    message = Str(allow_none=True, metadata={"description": "the chair's message (message)"})
    version = Str(metadata={"description": "changes whenever the state does"})
    congress = Nested(ScreenCongress)
    attendance = Dict(metadata={"description": "the attendance figures and quorum"})
    poll = Nested(ScreenPoll)
    turnout = Nested(ScreenTurnout)
    result = Dict(allow_none=True, metadata={"description": "the published result"})


class ReceiptCheckBody(Body):
    code = Str(required=True, metadata={"maxLength": 64, "description": "the receipt code"})


class ReceiptPoll(Answer):
    id = Int()
    title = Str()


class ReceiptCheck(Answer):
    counted = Bool()
    polls = List(Nested(ReceiptPoll))


class RecountFile(Answer):
    """The anonymous ballots and every input of the count, read by
    `python -m congress_vote.rules.recount FILE` (a download, written as stored)."""

    format = Str(metadata={"example": "congress-vote-ballots/1"})
    spec = Dict()
    attendance = Dict()
    settings = Dict()
    ballots = List(Dict())
    hand_count = Dict(allow_none=True)
    digest = Str()
    meta = Dict()
    digest_inputs = Dict()
    result = Dict()
