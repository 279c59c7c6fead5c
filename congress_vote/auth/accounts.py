"""Account management: sign-in with the throttle, password changes, deactivation, revocation,
a user's name and title. One implementation for the pages and the API; the caller commits.
Audit data never holds a password or a token."""

from __future__ import annotations

from flask_babel import gettext as _

from ..audit.services import record
from ..errors import ServiceError
from ..extensions import db
from . import throttle
from .models import User
from .services import authenticate, normalise_roles, set_password, verify_password
from .sessions import end_everything


def sign_in(username: str, password: str, address: str) -> User:
    """The user for a right password; 429 while the account or address is locked, 401 for a
    wrong one (the failure is written: the caller commits in both cases)."""
    throttle.check(username, address)
    user = authenticate(username, password)
    if user is None:
        throttle.note_failure(username, address)
        raise ServiceError("bad_credentials", _("Wrong username or password."), status=401)
    throttle.note_success(username)
    return user


def get_user(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise ServiceError("unknown_user", _("No such user."), status=404)
    return user


def user_dict(user: User) -> dict:
    return {
        "id": user.id,
        "username": user.username,
        "full_name": user.full_name,
        "title": user.title,
        "roles": user.role_list,
        "active": user.active,
    }


def change_own_password(user: User, current: str, new: str) -> dict:
    """The user's own change: the current password is required. Ends every session and API
    token of the user (the page then signs its own browser in again)."""
    if not verify_password(user, current or ""):
        raise ServiceError("wrong_password", _("The current password is wrong."), status=403)
    set_password(user, new, actor=user)
    return end_everything(user.id)


def reset_password(user: User, new: str, actor: User) -> dict:
    """An administrator sets a new password; every session and token of the user ends."""
    set_password(user, new, actor=actor)
    ended = end_everything(user.id)
    record("user.password_reset", actor=actor, data={"user_id": user.id, **_ended(ended)})
    return ended


def set_active(user: User, active: bool, actor: User) -> dict:
    """Deactivate (no sign-in, every session and token ends; kiosks stay) or reactivate."""
    if not active and user.id == getattr(actor, "id", None):
        raise ServiceError("own_account", _("You cannot deactivate your own account."), status=409)
    user.active = active
    ended = end_everything(user.id) if not active else {"sessions": 0, "tokens": 0}
    record(
        "user.deactivated" if not active else "user.activated",
        actor=actor,
        data={"user_id": user.id, **_ended(ended)},
    )
    return ended


def revoke_tokens(user: User, actor: User) -> dict:
    """End every API token and staff session of the user (the account stays usable)."""
    ended = end_everything(user.id)
    record("user.tokens_revoked", actor=actor, data={"user_id": user.id, **_ended(ended)})
    return ended


def update_user(user: User, data: dict, actor: User) -> User:
    """Full name, title (chức vụ) and roles, as far as `data` names them."""
    changed: dict[str, str | list[str]] = {}
    for name in ("full_name", "title"):
        if data.get(name) is not None:
            value = data[name]
            if not isinstance(value, str) or len(value.strip()) > 200:
                raise ServiceError(
                    "bad_request",
                    _("%(field)s must be a text of at most 200 characters.", field=name),
                    status=400,
                )
            if value.strip() != getattr(user, name):
                setattr(user, name, value.strip())
                changed[name] = value.strip()
    if data.get("roles") is not None:
        if not isinstance(data["roles"], list) or not all(
            isinstance(r, str) for r in data["roles"]
        ):
            raise ServiceError("bad_request", _("roles must be a list of role names."), status=400)
        roles = normalise_roles(data["roles"])
        if user.id == getattr(actor, "id", None) and "admin" not in roles.split(","):
            raise ServiceError(
                "own_account",
                _("You cannot take the administrator role from your own account."),
                status=409,
            )
        if roles != user.roles:
            user.roles = roles
            changed["roles"] = user.role_list
    if changed:
        record("user.updated", actor=actor, data={"user_id": user.id, **changed})
    return user


def _ended(ended: dict) -> dict:
    return {"sessions_ended": ended["sessions"], "tokens_ended": ended["tokens"]}
