"""Staff accounts: creation, name/title/roles, passwords, deactivation, revocation."""
from flask_babel import gettext as _

from ..auth import accounts
from ..auth.services import create_user
from ..errors import ServiceError
from ..extensions import db
from ..security import current_actor, roles, staff
from . import bp
from .session_routes import USER_SCHEMA
from .util import doc, field, json_body, ok

_ENDED = {"type": "object", "properties": {
    "user": USER_SCHEMA, "sessions_ended": {"type": "integer"},
    "tokens_ended": {"type": "integer"}}}


def _answer(user, ended: dict | None = None, status: int = 200):
    body = {"user": accounts.user_dict(user)}
    if ended is not None:
        body.update({"sessions_ended": ended["sessions"], "tokens_ended": ended["tokens"]})
    return ok(body, status)


@bp.post("/users")
@roles("admin")
@doc("Create a staff user; 409 `username_taken`, 422 `weak_password` / `unknown_role`",
     statuses=(201,), body={"type": "object", "required": ["username", "password", "roles"],
                            "properties": {"username": {"type": "string"},
                                           "password": {"type": "string", "minLength": 8},
                                           "roles": {"type": "array",
                                                     "items": {"type": "string"}},
                                           "full_name": {"type": "string"},
                                           "title": {"type": "string"}}},
     response=USER_SCHEMA)
def create_user_route():
    data = json_body()
    role_names = field(data, "roles", list)
    if not all(isinstance(r, str) for r in role_names):
        raise ServiceError("bad_request", _("roles must be a list of role names."), status=400)
    user = create_user(field(data, "username", str), field(data, "password", str),
                       role_names, actor=current_actor(),
                       full_name=field(data, "full_name", str, required=False, default=""),
                       title=field(data, "title", str, required=False, default=""))
    db.session.commit()
    return ok(accounts.user_dict(user), 201)


@bp.get("/users/me")
@staff
@doc("The signed-in user", response=USER_SCHEMA)
def me():
    return ok(accounts.user_dict(current_actor()))


@bp.patch("/users/<int:user_id>")
@roles("admin")
@doc("Change a user's full name, title (chức vụ, printed in the minutes' signature block) or "
     "roles", body={"type": "object", "properties": {
         "full_name": {"type": "string"}, "title": {"type": "string"},
         "roles": {"type": "array", "items": {"type": "string"}}}},
     response=USER_SCHEMA)
def update_user(user_id: int):
    data = json_body()
    user = accounts.update_user(accounts.get_user(user_id), data, actor=current_actor())
    db.session.commit()
    return ok(accounts.user_dict(user))


@bp.post("/users/me/password")
@staff
@doc("Change one's own password; 403 `wrong_password`. Every staff session and API token of "
     "the user ends, this one included: sign in again",
     body={"type": "object", "required": ["current_password", "new_password"],
           "properties": {"current_password": {"type": "string"},
                          "new_password": {"type": "string", "minLength": 8}}},
     response=_ENDED)
def change_my_password():
    data = json_body()
    user = current_actor()
    ended = accounts.change_own_password(user, field(data, "current_password", str),
                                         field(data, "new_password", str))
    db.session.commit()
    return _answer(user, ended)


@bp.post("/users/<int:user_id>/password")
@roles("admin")
@doc("Reset a user's password; every staff session and API token of the user ends",
     body={"type": "object", "required": ["password"],
           "properties": {"password": {"type": "string", "minLength": 8}}}, response=_ENDED)
def reset_password(user_id: int):
    data = json_body()
    user = accounts.get_user(user_id)
    ended = accounts.reset_password(user, field(data, "password", str), actor=current_actor())
    db.session.commit()
    return _answer(user, ended)


@bp.post("/users/<int:user_id>/deactivate")
@roles("admin")
@doc("Deactivate a user: no sign-in, every staff session and API token ends; kiosks the user "
     "enrolled keep working; 409 `own_account`", response=_ENDED)
def deactivate(user_id: int):
    user = accounts.get_user(user_id)
    ended = accounts.set_active(user, False, actor=current_actor())
    db.session.commit()
    return _answer(user, ended)


@bp.post("/users/<int:user_id>/activate")
@roles("admin")
@doc("Reactivate a user (they sign in again with their password)", response=_ENDED)
def activate(user_id: int):
    user = accounts.get_user(user_id)
    ended = accounts.set_active(user, True, actor=current_actor())
    db.session.commit()
    return _answer(user, ended)


@bp.post("/users/<int:user_id>/revoke-tokens")
@roles("admin")
@doc("End every API token and staff session of a user (the account stays active)",
     response=_ENDED)
def revoke_tokens(user_id: int):
    user = accounts.get_user(user_id)
    ended = accounts.revoke_tokens(user, actor=current_actor())
    db.session.commit()
    return _answer(user, ended)

