"""The suite hashes passwords at Argon2id's lowest cost (PASSWORD_HASH_COST = "minimal", set by
tests/conftest.py's make_app); that setting is honoured only when the app is TESTING, so a
production app always hashes at the library's parameters, and a cheap hash that reached a
production database is re-hashed at the first sign-in."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import VerifyMismatchError

from congress_vote.extensions import db
from tests.conftest import make_app

DEFAULT = PasswordHasher()  # the library's parameters, as production uses them
FULL = f"m={DEFAULT.memory_cost},t={DEFAULT.time_cost},p={DEFAULT.parallelism}"


def _params(password_hash: str) -> str:
    return password_hash.split("$")[3]  # "m=...,t=...,p=..."


def _create(app, username: str) -> str:
    from congress_vote.auth.services import create_user

    with app.app_context():
        user = create_user(username, "password-123", ["observer"])
        db.session.commit()
        return user.password_hash


def test_minimal_cost_only_under_test(app, database_url):
    cheap = _create(app, "cheap")
    assert _params(cheap) == "m=8,t=1,p=1"
    # The same setting in an app that is not TESTING: the library's parameters.
    prod = make_app(
        database_url,
        TESTING=False,
        PASSWORD_HASH_COST="minimal",
        SECRET_KEY="a-production-secret-key-of-32-bytes-or-more",
    )
    full = _create(prod, "full")
    assert _params(full) == FULL
    assert DEFAULT.verify(full, "password-123")
    try:
        DEFAULT.verify(full, "password-124")
        raise AssertionError("a wrong password verified")
    except VerifyMismatchError:
        pass
    with prod.app_context():
        db.engine.dispose()


def test_a_cheap_hash_is_rehashed_at_the_first_production_sign_in(app, database_url):
    from congress_vote.auth.models import User
    from congress_vote.auth.services import authenticate

    _create(app, "cheap")
    prod = make_app(
        database_url, TESTING=False, SECRET_KEY="a-production-secret-key-of-32-bytes-or-more"
    )
    with prod.test_request_context("/login", method="POST"):
        assert authenticate("cheap", "password-123") is not None
        db.session.commit()
        stored = db.session.scalar(db.select(User.password_hash).where(User.username == "cheap"))
    assert _params(stored) == FULL
    with prod.app_context():
        db.engine.dispose()
