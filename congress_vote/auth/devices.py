"""Known devices: a browser where an account signed in with the right password gets a signed,
long-lived cookie naming that account (an HMAC of the username, not the name). An account lock
(auth/throttle.py) does not apply to such a browser, so an attacker who keeps guessing the
admin's password from elsewhere cannot keep the real admin out of their own browser; the
address limit still applies. A copied device cookie gives no access by itself: the password is
still checked."""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, request
from itsdangerous import BadSignature, URLSafeTimedSerializer

COOKIE = "cv_device"
MAX_AGE = 365 * 24 * 3600
MAX_ACCOUNTS = 8  # a shared tablet remembers at most this many accounts


def _serializer() -> URLSafeTimedSerializer:
    key = current_app.secret_key
    assert key is not None  # the app factory refuses to start without SECRET_KEY
    return URLSafeTimedSerializer(key, salt="congress-vote-known-device")


def _tag(username: str) -> str:
    key = str(current_app.secret_key).encode()
    name = (username or "").strip().lower().encode("utf-8", "replace")
    return hmac.new(key, b"device:" + name, hashlib.sha256).hexdigest()[:32]


def _known() -> list[str]:
    raw = request.cookies.get(COOKIE)
    if not raw:
        return []
    try:
        tags = _serializer().loads(raw, max_age=MAX_AGE)
    except BadSignature:
        return []
    return [t for t in tags if isinstance(t, str)] if isinstance(tags, list) else []


def is_known(username: str) -> bool:
    return _tag(username) in _known()


def remember(response, username: str) -> None:
    """Mark this browser as a known device of the account (after a right password)."""
    tag = _tag(username)
    tags = [tag] + [t for t in _known() if t != tag][: MAX_ACCOUNTS - 1]
    secure = bool(current_app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure
    response.set_cookie(
        COOKIE,
        _serializer().dumps(tags),
        max_age=MAX_AGE,
        httponly=True,
        secure=secure,
        samesite="Lax",
    )
