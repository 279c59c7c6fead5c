"""Sessions (bearer tokens) and the list of staff users."""
from flask import current_app
from flask_babel import gettext as _

from ..auth.services import authenticate, issue_api_token, list_users
from ..errors import ServiceError
from ..extensions import db, limiter
from ..security import csrf_exempt, public, roles
from . import bp
from .util import doc, field, json_body, ok

USER_SCHEMA = {"type": "object", "properties": {
    "id": {"type": "integer"}, "username": {"type": "string"},
    "roles": {"type": "array", "items": {"type": "string"}}}}


@bp.post("/session")
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN"])
@public
@csrf_exempt
@doc("Sign in; answers a bearer token", statuses=(201,),
     body={"type": "object", "required": ["username", "password"],
           "properties": {"username": {"type": "string"}, "password": {"type": "string"}}},
     response={"type": "object", "properties": {"token": {"type": "string"},
                                                 "user_id": {"type": "integer"},
                                                 "roles": {"type": "array"}}})
def create_session():
    data = json_body()
    username = field(data, "username", str)
    password = field(data, "password", str)
    user = authenticate(username, password)
    if user is None:
        db.session.commit()  # keep the record of the failed attempt
        raise ServiceError("bad_credentials", _("Wrong username or password."), status=401)
    token = issue_api_token(user)
    db.session.commit()
    return ok({"token": token, "user_id": user.id, "roles": user.role_list}, 201)


@bp.get("/users")
@roles("admin")
@doc("Staff users (to name a poll's counting committee)",
     response={"type": "array", "items": USER_SCHEMA})
def users():
    return ok([{"id": u.id, "username": u.username, "full_name": u.full_name,
                "roles": u.role_list} for u in list_users()])
