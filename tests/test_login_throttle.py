"""Login throttling (issue 14, hole 8): failures are limited per account and per address, for
every worker (in the database), with growing, time-bounded locks. The per-IP limiter of
Flask-Limiter is off here (tests' default), so what refuses is the account throttle alone."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from congress_vote.auth.models import LoginThrottle
from congress_vote.db import utcnow
from congress_vote.extensions import db
from tests.conftest import PASSWORD, make_app


@pytest.fixture
def proxied(app, database_url):
    """The app behind one trusted proxy: X-Forwarded-For names the client."""
    return make_app(database_url, PROXY_FIX_X_FOR=1)


def _api_attempt(client, password: str, address: str, username: str = "admin"):
    return client.post(
        "/api/v1/session",
        json={"username": username, "password": password},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
        headers={"X-Forwarded-For": address},
    )


def test_eleventh_guess_from_rotating_addresses_is_refused(proxied, staff):
    c = proxied.test_client()
    answers = [_api_attempt(c, f"guess-{i}", f"198.51.100.{i}") for i in range(11)]
    codes = [r.status_code for r in answers]
    assert codes == [401] * 6 + [429] * 5
    refused = answers[-1]
    assert refused.json["error"]["code"] == "too_many_attempts"
    assert "retry_after" in refused.json and 0 < refused.json["retry_after"] <= 15 * 60
    # while locked, not even the right password gets in (no oracle for the guesser)
    r = _api_attempt(c, PASSWORD, "198.51.100.200")
    assert r.status_code == 429 and r.json["error"]["code"] == "too_many_attempts"
    # another account is not affected
    assert _api_attempt(c, PASSWORD, "198.51.100.201", "chair").status_code == 201


def test_html_login_refused_with_a_message(proxied, staff):
    c = proxied.test_client()
    for i in range(6):
        r = c.post(
            "/login",
            data={"username": "admin", "password": f"guess-{i}"},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
            headers={"X-Forwarded-For": f"203.0.113.{i}"},
        )
        assert r.status_code == 200
    r = c.post(
        "/login",
        data={"username": "admin", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "127.0.0.1"},
        headers={"X-Forwarded-For": "203.0.113.99"},
    )
    assert r.status_code == 429 and r.mimetype == "text/html"
    text = r.get_data(as_text=True)
    assert "Quá nhiều lần đăng nhập sai" in text  # Vietnamese, the default language
    # the API shares the account's count
    assert _api_attempt(c, PASSWORD, "203.0.113.100").status_code == 429


def test_the_limit_holds_across_two_workers(app, database_url, staff):
    """Two app instances on one database (two gunicorn workers): the second sees the first's
    failures."""
    first = make_app(database_url, PROXY_FIX_X_FOR=1).test_client()
    second = make_app(database_url, PROXY_FIX_X_FOR=1).test_client()
    codes = [
        _api_attempt(first if i % 2 else second, f"guess-{i}", "192.0.2.7").status_code
        for i in range(7)
    ]
    assert codes == [401] * 6 + [429]
    assert _api_attempt(second, PASSWORD, "192.0.2.8").status_code == 429
    assert _api_attempt(first, PASSWORD, "192.0.2.9").status_code == 429


def test_locks_grow_and_are_time_bounded(proxied, staff, monkeypatch):
    """1 min after the 6th failure, doubling per further failure, never more than 15 min; when
    the lock runs out the right password signs in and clears the account's count."""
    from congress_vote.auth import throttle

    c = proxied.test_client()
    now = [utcnow()]
    monkeypatch.setattr(throttle, "utcnow", lambda: now[0])
    locks = []
    for i in range(12):
        r = _api_attempt(c, f"guess-{i}", f"198.51.100.{i}")
        assert r.status_code == 401, (i, r.json)
        with proxied.app_context():
            until = db.session.scalar(
                select(LoginThrottle.locked_until).where(LoginThrottle.key.like("acct:%"))
            )
        locks.append(None if until is None else round((until - now[0]).total_seconds()))
        if until is not None:
            now[0] = until + timedelta(seconds=1)  # wait the lock out
    assert locks == [None] * 5 + [60, 120, 240, 480, 900, 900, 900]
    # right after a failure: locked; once the lock is over: the right password works
    assert _api_attempt(c, "guess-x", "198.51.100.250").status_code == 401
    assert _api_attempt(c, PASSWORD, "198.51.100.251").status_code == 429
    now[0] += timedelta(minutes=15, seconds=1)
    assert _api_attempt(c, PASSWORD, "198.51.100.252").status_code == 201
    with proxied.app_context():
        assert (
            db.session.scalar(select(LoginThrottle).where(LoginThrottle.key.like("acct:%"))) is None
        )


def test_failures_are_forgotten_after_the_window(proxied, staff, monkeypatch):
    from congress_vote.auth import throttle

    c = proxied.test_client()
    now = [utcnow()]
    monkeypatch.setattr(throttle, "utcnow", lambda: now[0])
    for i in range(5):
        assert _api_attempt(c, f"guess-{i}", "198.51.100.1").status_code == 401
    now[0] += timedelta(hours=1, seconds=1)
    for i in range(5):
        assert _api_attempt(c, f"guess-{i}", "198.51.100.2").status_code == 401
    assert _api_attempt(c, PASSWORD, "198.51.100.3").status_code == 201


def test_a_success_resets_the_account_count(proxied, staff):
    c = proxied.test_client()
    for i in range(5):
        assert _api_attempt(c, f"guess-{i}", "198.51.100.1").status_code == 401
    assert _api_attempt(c, PASSWORD, "198.51.100.1").status_code == 201
    for i in range(6):
        assert _api_attempt(c, f"guess-{i}", "198.51.100.2").status_code == 401


def test_one_address_guessing_many_accounts_is_refused(proxied, staff):
    c = proxied.test_client()
    codes = [_api_attempt(c, "guess", "198.51.100.66", f"user{i}").status_code for i in range(21)]
    assert codes == [401] * 21
    r = _api_attempt(c, PASSWORD, "198.51.100.66", "observer")
    assert r.status_code == 429 and r.json["error"]["code"] == "too_many_attempts"
    # the real user from another address signs in
    assert _api_attempt(c, PASSWORD, "198.51.100.67", "observer").status_code == 201


def test_nothing_typed_is_stored(proxied, staff):
    c = proxied.test_client()
    _api_attempt(c, "typed-secret", "198.51.100.9", "someone-typed-this")
    with proxied.app_context():
        rows = db.session.scalars(select(LoginThrottle)).all()
    assert len(rows) == 2
    stored = " ".join(r.key for r in rows)
    assert "someone-typed-this" not in stored and "198.51.100.9" not in stored
    assert "typed-secret" not in stored


def test_the_real_admins_browser_is_not_locked_out(proxied, staff):
    """An attacker who keeps the admin account locked from elsewhere does not keep the admin out
    of a browser where they signed in before; a browser that never did stays locked, and a
    known-device cookie of another account does not help."""

    def form(client, password, address, username="admin"):
        return client.post(
            "/login",
            data={"username": username, "password": password},
            environ_base={"REMOTE_ADDR": "127.0.0.1"},
            headers={"X-Forwarded-For": address},
        )

    admins = proxied.test_client()
    assert form(admins, PASSWORD, "10.9.0.1").status_code == 302
    assert admins.get_cookie("cv_device") is not None
    admins.post("/logout")
    chairs = proxied.test_client()
    assert form(chairs, PASSWORD, "10.9.0.2", "chair").status_code == 302
    attacker = proxied.test_client()
    codes = [form(attacker, f"guess-{i}", f"198.51.100.{i}").status_code for i in range(8)]
    assert codes == [200] * 6 + [429] * 2
    assert form(attacker, PASSWORD, "198.51.100.50").status_code == 429
    assert form(chairs, PASSWORD, "10.9.0.2").status_code == 429  # the chair's browser
    forged = proxied.test_client()
    forged.set_cookie("cv_device", "forged-value")
    assert form(forged, PASSWORD, "10.9.0.3").status_code == 429
    assert form(admins, PASSWORD, "10.9.0.1").status_code == 302  # the admin's own browser
    assert admins.get("/users").status_code == 200
