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
from .blueprint import bp
from .schemas import accounts as sch
from .schemas.base import answer, load
from .util import doc


@bp.post("/session")
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"])
@public
@csrf_exempt
@doc(
    "Sign in; answers a bearer token. 401 `bad_credentials`; 429 `too_many_attempts` while "
    "the account or the address is locked after repeated failures (time-bounded; "
    "`retry_after` seconds)",
    statuses=(201, 401, 429),
    body=sch.SessionBody,
    response=sch.SessionToken,
)
def create_session():
    data = load(sch.SessionBody())
    try:
        user = sign_in(data["username"], data["password"], client_address())
    except ServiceError:
        db.session.commit()  # keep the record of the failed attempt
        raise
    token = issue_api_token(user)
    db.session.commit()
    return answer(
        sch.SessionToken(), {"token": token, "user_id": user.id, "roles": user.role_list}, 201
    )


@bp.get("/users")
@roles("admin")
@doc("Staff users (to name a poll's counting committee)", response=sch.User(many=True))
def users():
    return answer(sch.User(many=True), [user_dict(u) for u in list_users()])


@bp.delete("/session")
@staff
@doc(
    "Sign out: ends the bearer token of the request (or the cookie's staff session)",
    response=sch.SignedOut,
)
def end_session():
    actor = current_actor()
    token = bearer_token()
    if token is not None:
        sessions.revoke_bearer(token)
    else:
        sessions.end_current_session()
    record(
        "auth.logout",
        actor=actor,
        data={"user_id": actor.id, "via": "token" if token is not None else "cookie"},
    )
    db.session.commit()
    if token is None and current_user.is_authenticated:
        logout_user()
    return answer(sch.SignedOut(), {"signed_out": True})
