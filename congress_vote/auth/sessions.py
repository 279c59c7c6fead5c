"""Server-side staff sessions and the ending of a user's sessions and API tokens.

The signed Flask session cookie carries a random session id (`SESSION_KEY`); the staff_session
table keeps only its SHA-256. A cookie is a signed-in user only while that row exists, so
signing out, a password change or a deactivation makes every copy of the cookie anonymous.
Kiosks are not touched here: an enrolled kiosk belongs to the congress, not to its enroller.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from flask import Flask, current_app, request, session
from sqlalchemy import bindparam, delete, select, update

from ..db import rowcount, utcnow
from ..extensions import db
from .models import ApiToken, StaffSession, User
from .roles import token_hash

SESSION_KEY = "_staff_sid"
_TOUCH = "congress_vote.staff_session_touch"
LAST_SEEN_EVERY = timedelta(minutes=5)  # last_seen_at is written at most this often


def start_session(user: User) -> None:
    """A new server session for this browser (after the password check; the caller commits).
    Any session the cookie held before is ended: no session fixation."""
    end_current_session()
    sid = secrets.token_urlsafe(32)
    db.session.add(StaffSession(user_id=user.id, token_hash=token_hash(sid)))
    session[SESSION_KEY] = sid


def end_current_session() -> None:
    """Delete this cookie's server session (the caller commits) and forget its id."""
    sid = session.pop(SESSION_KEY, None)
    if isinstance(sid, str):
        db.session.execute(delete(StaffSession).where(StaffSession.token_hash == token_hash(sid)))


def end_everything(user_id: int) -> dict:
    """End every staff session and API token of the user (not their kiosks). Counts."""
    sessions = db.session.execute(delete(StaffSession).where(StaffSession.user_id == user_id))
    tokens = db.session.execute(delete(ApiToken).where(ApiToken.user_id == user_id))
    return {"sessions": rowcount(sessions), "tokens": rowcount(tokens)}


def revoke_bearer(token: str) -> int:
    return rowcount(
        db.session.execute(delete(ApiToken).where(ApiToken.token_hash == token_hash(token)))
    )


# Built once (every signed-in request runs it): the cookie's server session and its user.
_SESSION_USER = (
    select(StaffSession.id, StaffSession.last_seen_at, User)
    .join(User, User.id == StaffSession.user_id)
    .where(StaffSession.token_hash == bindparam("h"))
)


def user_for_session(user_id: str) -> User | None:
    """Flask-Login's user loader: the user only while the cookie's server session exists, is
    theirs, is not idle longer than the session lifetime and the user is active."""
    sid = session.get(SESSION_KEY)
    if not isinstance(sid, str) or not user_id.isdigit():
        return None
    row = db.session.execute(_SESSION_USER, {"h": token_hash(sid)}).first()
    if row is None or row[2].id != int(user_id) or not row[2].active:
        return None
    now = utcnow()
    if row[1] < now - current_app.permanent_session_lifetime:
        return None
    if row[1] < now - LAST_SEEN_EVERY:
        request.environ[_TOUCH] = row[0]
    return row[2]


def prune(user_id: int) -> None:
    """Forget the user's sessions idle longer than the lifetime (called at sign-in)."""
    cutoff = utcnow() - current_app.permanent_session_lifetime
    db.session.execute(
        delete(StaffSession).where(
            StaffSession.user_id == user_id, StaffSession.last_seen_at < cutoff
        )
    )


def init_app(app: Flask) -> None:
    @app.teardown_request
    def _touch_last_seen(exc):
        session_id = request.environ.pop(_TOUCH, None)
        if session_id is None:
            return
        # The request is over: whatever it left uncommitted is dropped anyway (as the
        # teardown of the app context would), then last_seen_at goes in its own transaction.
        try:
            db.session.rollback()
            db.session.execute(
                update(StaffSession)
                .where(StaffSession.id == session_id)
                .values(last_seen_at=utcnow())
            )
            db.session.commit()
        except Exception:  # a missed "last seen" must not turn an answer into an error
            db.session.rollback()
            app.logger.warning("could not record a staff session's last use", exc_info=True)
