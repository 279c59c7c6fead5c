"""Schemas of sessions and staff accounts (api/session_routes.py, api/user_routes.py)."""

from __future__ import annotations

from .base import Answer, Body, Bool, Int, List, Nested, Str


class SessionBody(Body):
    username = Str(required=True)
    password = Str(required=True)


class SessionToken(Answer):
    token = Str(required=True)
    user_id = Int(required=True)
    roles = List(Str())


class SignedOut(Answer):
    signed_out = Bool(required=True)


class User(Answer):
    id = Int()
    username = Str()
    full_name = Str()
    title = Str()
    active = Bool()
    roles = List(Str())


class UserBody(Body):
    username = Str(required=True)
    password = Str(required=True, metadata={"minLength": 8})
    roles = List(Str(), required=True)
    full_name = Str(load_default="", allow_none=True)
    title = Str(load_default="", allow_none=True)


class UserChange(Body):
    """Only the fields named change (null = unchanged); the service checks lengths and roles."""

    full_name = Str(allow_none=True, metadata={"maxLength": 200})
    title = Str(allow_none=True, metadata={"maxLength": 200})
    roles = List(Str(), allow_none=True)


class OwnPassword(Body):
    current_password = Str(required=True)
    new_password = Str(required=True, metadata={"minLength": 8})


class PasswordReset(Body):
    password = Str(required=True, metadata={"minLength": 8})


class UserSessionsEnded(Answer):
    user = Nested(User, required=True)
    sessions_ended = Int()
    tokens_ended = Int()
