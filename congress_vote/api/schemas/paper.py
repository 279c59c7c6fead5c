"""Schemas of the paper ballots' figures and return (api/paper_return_routes.py)."""

from __future__ import annotations

from .base import Answer, Body, Bool, Int


class PaperReturnBody(Body):
    unused = Int(
        required=True, metadata={"minimum": 0, "description": "unused paper ballots collected back"}
    )


class PaperFigures(Answer):
    poll_id = Int()
    issued = Int(metadata={"description": "paper ballots issued (phát ra)"})
    unused = Int(allow_none=True, metadata={"description": "unused, collected back"})
    returned = Int(
        allow_none=True, metadata={"description": "returned in the box (thu vào) = issued − unused"}
    )
    entered = Int(metadata={"description": "paper ballots entered and counted"})
    frozen = Bool(metadata={"description": "a paper entry exists: no more corrections"})
