"""Schemas of the projector choice and of a poll's opening warnings (api/hall_routes.py)."""

from __future__ import annotations

from .base import Answer, Body, Id, Int, List, Nested, Str


class ProjectorBody(Body):
    mode = Str(
        required=True,
        metadata={
            "enum": ["auto", "poll", "attendance", "message", "blank"],
            "description": "auto follows the chair's last open/close/publish",
        },
    )
    poll_id = Id(allow_none=True, load_default=None, metadata={"description": "mode poll"})
    message = Str(
        allow_none=True,
        load_default=None,
        metadata={"maxLength": 300, "description": "mode message"},
    )


class Projector(Answer):
    mode = Str(required=True)
    poll_id = Int(allow_none=True)
    message = Str(allow_none=True)
    updated_at = Str(allow_none=True)
    shows = Str(
        metadata={
            "enum": ["poll", "attendance", "message", "blank"],
            "description": "what the screen shows now (a later poll action overrides a choice)",
        }
    )
    shown_poll_id = Int(allow_none=True)


class OpeningWarning(Answer):
    code = Str(required=True)
    message = Str(required=True)


class OpeningCheck(Answer):
    """What the chair is asked to confirm before opening a poll (never blocking)."""

    poll_id = Int()
    warnings = List(Nested(OpeningWarning))
    facts = List(Str(), metadata={"description": "figures shown with the confirmation"})
