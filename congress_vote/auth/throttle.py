"""Failed sign-ins, limited per account and per address for every worker (the database).

Each failure counts against the account typed and against the client's address (after ProxyFix).
After LOGIN_ACCOUNT_FREE_FAILURES failures of an account (LOGIN_ADDRESS_FREE_FAILURES of an
address) within LOGIN_THROTTLE_WINDOW_SECONDS of each other, every further failure locks that
key for LOGIN_LOCK_BASE_SECONDS, doubling per failure up to LOGIN_LOCK_MAX_SECONDS: a lock is
always time-bounded, so nobody can lock the real admin out for good, only slow the guesses down to
a few an hour; and an account lock does not apply in a browser where that account signed in
before (auth/devices.py), so the real user keeps their way in. While a key is locked no password
is checked, the right one included. A success clears the account's count. Keys are SHA-256
digests: nothing typed is stored.
"""

from __future__ import annotations

import hashlib
import math
from datetime import timedelta

from flask import current_app, request
from flask_babel import ngettext
from sqlalchemy import case, delete, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from ..audit.services import record
from ..db import utcnow
from ..errors import ServiceError
from ..extensions import db
from . import devices
from .models import LoginThrottle


def _key(kind: str, value: str) -> str:
    return f"{kind}:" + hashlib.sha256(value.encode("utf-8", "replace")).hexdigest()


def _keys(username: str, address: str | None) -> list[tuple[str, int]]:
    cfg = current_app.config
    return [
        (_key("acct", (username or "").strip().lower()), cfg["LOGIN_ACCOUNT_FREE_FAILURES"]),
        (_key("addr", address or "-"), cfg["LOGIN_ADDRESS_FREE_FAILURES"]),
    ]


def client_address() -> str:
    return request.remote_addr or "-"


def _enabled() -> bool:
    return bool(current_app.config.get("LOGIN_THROTTLE_ENABLED", True))


def check(username: str, address: str) -> None:
    """Raise 429 `too_many_attempts` while the account or the address is locked."""
    if not _enabled():
        return
    keys = [k for k, _free in _keys(username, address)]
    if devices.is_known(username):
        keys = keys[1:]  # the account's own browser: only the address limit applies
    now = utcnow()
    until = db.session.scalar(
        select(LoginThrottle.locked_until)
        .where(LoginThrottle.key.in_(keys), LoginThrottle.locked_until > now)
        .order_by(LoginThrottle.locked_until.desc())
        .limit(1)
    )
    if until is not None:
        seconds = max(1, math.ceil((until - now).total_seconds()))
        minutes = math.ceil(seconds / 60)
        raise ServiceError(
            "too_many_attempts",
            ngettext(
                "Too many failed sign-in attempts. Try again in %(num)d minute.",
                "Too many failed sign-in attempts. Try again in %(num)d minutes.",
                minutes,
            ),
            status=429,
            retry_after=seconds,
        )


def note_failure(username: str, address: str) -> None:
    """Count a failed sign-in against the account and the address, and lock a key that passed
    its free failures. In the caller's transaction (it commits)."""
    if not _enabled():
        return
    cfg = current_app.config
    now = utcnow()
    window_start = now - timedelta(seconds=cfg["LOGIN_THROTTLE_WINDOW_SECONDS"])
    table = LoginThrottle.__table__
    insert = pg_insert if db.session.get_bind().dialect.name == "postgresql" else sqlite_insert
    for key, free in _keys(username, address):
        # One statement, so two workers counting the same key at once both count.
        row = insert(table).values(key=key, failures=1, last_failed_at=now)
        stmt = row.on_conflict_do_update(
            index_elements=[table.c.key],
            set_={
                "failures": case(
                    (table.c.last_failed_at < window_start, 1), else_=table.c.failures + 1
                ),
                "last_failed_at": now,
            },
        ).returning(table.c.failures)
        failures = db.session.execute(stmt).scalar_one()
        if failures > free:
            delay = min(
                cfg["LOGIN_LOCK_BASE_SECONDS"] * 2 ** min(failures - free - 1, 20),
                cfg["LOGIN_LOCK_MAX_SECONDS"],
            )
            db.session.execute(
                update(LoginThrottle)
                .where(LoginThrottle.key == key)
                .values(locked_until=now + timedelta(seconds=delay))
            )
            record(
                "auth.login_locked", data={"scope": key[:4], "failures": failures, "seconds": delay}
            )


def note_success(username: str) -> None:
    """A right password clears the account's count (not the address's)."""
    if not _enabled():
        return
    key = _key("acct", (username or "").strip().lower())
    db.session.execute(delete(LoginThrottle).where(LoginThrottle.key == key))
