"""Schemas of the delegate and branch edits (api/delegate_routes.py): the same fields as a row of
the delegate import; the services validate them (congress/delegates.py `delegate_values`)."""

from __future__ import annotations

from typing import Any

from .base import Body, Id, Int, Str

_N: dict[str, Any] = {"allow_none": True}


class DelegateBody(Body):
    """A delegate added by hand (the import's columns)."""

    code = Str(required=True, metadata={"maxLength": 50})
    full_name = Str(required=True, metadata={"maxLength": 200})
    branch = Str(required=True, metadata={"maxLength": 300})
    membership = Str(required=True, metadata={"description": "full | probationary"})
    gender = Str(**_N)
    birth_year = Int(**_N)
    position = Str(**_N)


class DelegateChange(Body):
    """A delegate's fields to change (the others keep their value)."""

    code = Str(**_N, metadata={"maxLength": 50})
    full_name = Str(**_N, metadata={"maxLength": 200})
    branch = Str(**_N, metadata={"maxLength": 300})
    membership = Str(**_N, metadata={"description": "full | probationary"})
    gender = Str(**_N)
    birth_year = Int(**_N)
    position = Str(**_N)


class BranchBody(Body):
    name = Str(required=True, metadata={"minLength": 1, "maxLength": 300})


class UndoCheckInBody(Body):
    delegate_id = Id(required=True)
