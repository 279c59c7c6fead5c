"""Sessions (bearer tokens) and the list of staff users."""
from flask import current_app
from flask_login import current_user, logout_user

from ..audit.services import record
from ..auth import sessions
from ..auth.accounts import sign_in, user_dict
from ..auth.services import issue_api_token, list_users
from ..auth.throttle import client_address
from ..errors import ServiceError
from ..extensions import db, limiter
from ..security import bearer_token, csrf_exempt, current_actor, public, roles, staff
from . import bp
from .util import doc, field, json_body, ok

USER_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "username": {"type": "string"}, "full_name": {"type": "string"},
    "title": {"type": "string"}, "active": {"type": "boolean"},
    "roles": {"type": "array", "items": {"type": "string"}}}}


@bp.post("/session")
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"])
@public
@csrf_exempt
@doc("Sign in; answers a bearer token. 401 `bad_credentials`; 429 `too_many_attempts` while "
     "the account or the address is locked after repeated failures (time-bounded; "
     "`retry_after` seconds)", statuses=(201, 401, 429),
     body={"type": "object", "required": ["username", "password"],
           "properties": {"username": {"type": "string"}, "password": {"type": "string"}}},
     response={"type": "object", "properties": {"token": {"type": "string"},
                                                 "user_id": {"type": "integer"},
                                                 "roles": {"type": "array"}}})
def create_session():
    data = json_body()
    username = field(data, "username", str)
    password = field(data, "password", str)
    try:
        user = sign_in(username, password, client_address())
    except ServiceError:
        db.session.commit()  # keep the record of the failed attempt
        raise
    token = issue_api_token(user)
    db.session.commit()
    return ok({"token": token, "user_id": user.id, "roles": user.role_list}, 201)


@bp.get("/users")
@roles("admin")
@doc("Staff users (to name a poll's counting committee)",
     response={"type": "array", "items": USER_SCHEMA})
def users():
    return ok([user_dict(u) for u in list_users()])


@bp.delete("/session")
@staff
@doc("Sign out: ends the bearer token of the request (or the cookie's staff session)",
     response={"type": "object", "properties": {"signed_out": {"type": "boolean"}}})
def end_session():
    actor = current_actor()
    token = bearer_token()
    if token is not None:
        sessions.revoke_bearer(token)
    else:
        sessions.end_current_session()
    record("auth.logout", actor=actor, data={"user_id": actor.id,
                                             "via": "token" if token is not None else "cookie"})
    db.session.commit()
    if token is None and current_user.is_authenticated:
        logout_user()
    return ok({"signed_out": True})
