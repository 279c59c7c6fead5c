"""Staff accounts: creation, name/title/roles, passwords, deactivation, revocation."""

from ..auth import accounts
from ..auth.services import create_user
from ..extensions import db
from ..security import current_actor, roles, staff
from .blueprint import bp
from .schemas import accounts as sch
from .schemas.base import answer, load
from .util import doc

_ENDED = sch.UserSessionsEnded


def _answer(user, ended: dict | None = None, status: int = 200):
    body = {"user": accounts.user_dict(user)}
    if ended is not None:
        body.update({"sessions_ended": ended["sessions"], "tokens_ended": ended["tokens"]})
    return answer(_ENDED(), body, status)


@bp.post("/users")
@roles("admin")
@doc(
    "Create a staff user; 409 `username_taken`, 422 `weak_password` / `unknown_role`",
    statuses=(201,),
    body=sch.UserBody,
    response=sch.User,
)
def create_user_route():
    data = load(sch.UserBody())
    user = create_user(
        data["username"],
        data["password"],
        data["roles"],
        actor=current_actor(),
        full_name=data["full_name"] or "",
        title=data["title"] or "",
    )
    db.session.commit()
    return answer(sch.User(), accounts.user_dict(user), 201)


@bp.get("/users/me")
@staff
@doc("The signed-in user", response=sch.User)
def me():
    return answer(sch.User(), accounts.user_dict(current_actor()))


@bp.patch("/users/<int:user_id>")
@roles("admin")
@doc(
    "Change a user's full name, title (chức vụ, printed in the minutes' signature block) or roles",
    body=sch.UserChange,
    response=sch.User,
)
def update_user(user_id: int):
    data = load(sch.UserChange())
    user = accounts.update_user(accounts.get_user(user_id), data, actor=current_actor())
    db.session.commit()
    return answer(sch.User(), accounts.user_dict(user))


@bp.post("/users/me/password")
@staff
@doc(
    "Change one's own password; 403 `wrong_password`. Every staff session and API token of "
    "the user ends, this one included: sign in again",
    body=sch.OwnPassword,
    response=_ENDED,
)
def change_my_password():
    data = load(sch.OwnPassword())
    user = current_actor()
    ended = accounts.change_own_password(user, data["current_password"], data["new_password"])
    db.session.commit()
    return _answer(user, ended)


@bp.post("/users/<int:user_id>/password")
@roles("admin")
@doc(
    "Reset a user's password; every staff session and API token of the user ends",
    body=sch.PasswordReset,
    response=_ENDED,
)
def reset_password(user_id: int):
    data = load(sch.PasswordReset())
    user = accounts.get_user(user_id)
    ended = accounts.reset_password(user, data["password"], actor=current_actor())
    db.session.commit()
    return _answer(user, ended)


@bp.post("/users/<int:user_id>/deactivate")
@roles("admin")
@doc(
    "Deactivate a user: no sign-in, every staff session and API token ends; kiosks the user "
    "enrolled keep working; 409 `own_account`",
    response=_ENDED,
)
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
@doc("End every API token and staff session of a user (the account stays active)", response=_ENDED)
def revoke_tokens(user_id: int):
    user = accounts.get_user(user_id)
    ended = accounts.revoke_tokens(user, actor=current_actor())
    db.session.commit()
    return _answer(user, ended)
