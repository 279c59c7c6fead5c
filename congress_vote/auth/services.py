"""Staff accounts: creation, password checks, API tokens."""

from __future__ import annotations

import secrets
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.services import record
from ..db import utcnow
from ..errors import ServiceError
from ..extensions import db
from .models import ApiToken, User
from .roles import ROLES, token_hash

_DEFAULT_HASHER = PasswordHasher()  # Argon2id with the library's current parameters
# Argon2id at its lowest cost, for the test suite only (PASSWORD_HASH_COST = "minimal" is
# honoured only when the app is TESTING): a default hash costs a quarter of a second.
_MINIMAL_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
# A hash to verify against when the user does not exist, so timing does not reveal usernames.
_DUMMY_HASHES = {h: h.hash("not a password") for h in (_DEFAULT_HASHER, _MINIMAL_HASHER)}


def _hasher() -> PasswordHasher:
    if current_app.testing and current_app.config.get("PASSWORD_HASH_COST") == "minimal":
        return _MINIMAL_HASHER
    return _DEFAULT_HASHER


def normalise_roles(roles) -> str:
    roles = [r.strip() for r in roles if r and r.strip()]
    bad = [r for r in roles if r not in ROLES]
    if bad:
        raise ServiceError(
            "unknown_role",
            _(
                "Unknown role(s): %(bad)s. Roles: %(roles)s.",
                bad=", ".join(bad),
                roles=", ".join(ROLES),
            ),
        )
    if not roles:
        raise ServiceError("no_role", _("A user needs at least one role."))
    return ",".join(r for r in ROLES if r in roles)


def create_user(
    username: str, password: str, roles, full_name: str = "", actor=None, title: str = ""
) -> User:
    """Create a staff user; the password is stored as an Argon2id hash only."""
    username = (username or "").strip()
    if not username or len(username) > 80:
        raise ServiceError("bad_username", _("A username of 1 to 80 characters is required."))
    if len(password or "") < 8:
        raise ServiceError("weak_password", _("The password must have at least 8 characters."))
    if len((full_name or "").strip()) > 200 or len((title or "").strip()) > 200:
        raise ServiceError(
            "bad_request", _("A full name or title has at most 200 characters."), status=400
        )
    if db.session.scalar(select(User).where(User.username == username)):
        raise ServiceError(
            "username_taken", _("The username “%(name)s” is taken.", name=username), status=409
        )
    user = User(
        username=username,
        password_hash=_hasher().hash(password),
        roles=normalise_roles(roles),
        full_name=(full_name or "").strip(),
        title=(title or "").strip(),
    )
    db.session.add(user)
    db.session.flush()
    record(
        "user.created",
        actor=actor,
        data={"user_id": user.id, "username": username, "roles": user.role_list},
    )
    return user


def set_password(user: User, password: str, actor=None) -> None:
    if len(password or "") < 8:
        raise ServiceError("weak_password", _("The password must have at least 8 characters."))
    user.password_hash = _hasher().hash(password)
    record("user.password_changed", actor=actor, data={"user_id": user.id})


def verify_password(user: User, password: str) -> bool:
    try:
        return _hasher().verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        return False


def authenticate(username: str, password: str) -> User | None:
    """The user if the password matches; records failed attempts in the audit log."""
    user = db.session.scalar(select(User).where(User.username == (username or "").strip()))
    hasher = _hasher()
    try:
        hasher.verify(user.password_hash if user else _DUMMY_HASHES[hasher], password or "")
        ok = user is not None and user.active
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok or user is None:
        record("auth.login_failed", data={"username": (username or "")[:80]})
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    record("auth.login", actor=user, data={"user_id": user.id})
    return user


def issue_api_token(user: User) -> str:
    """A new bearer token; the plain token is returned once and only its hash is stored."""
    token = secrets.token_urlsafe(32)
    hours = current_app.config["API_TOKEN_LIFETIME_HOURS"]
    db.session.add(
        ApiToken(
            user_id=user.id,
            token_hash=token_hash(token),
            expires_at=utcnow() + timedelta(hours=hours),
        )
    )
    return token


def user_for_api_token(token: str) -> User | None:
    # One statement for the token and its user (this runs on every bearer request).
    row = db.session.execute(
        select(ApiToken.expires_at, User)
        .join(User, User.id == ApiToken.user_id)
        .where(ApiToken.token_hash == token_hash(token))
    ).first()
    if row is None or row[0] < utcnow() or not row[1].active:
        return None
    return row[1]


def list_users() -> list[User]:
    return list(db.session.scalars(select(User).order_by(User.username)))
