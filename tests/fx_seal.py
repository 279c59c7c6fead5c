"""Fixtures for key cards (issue 16): cards issued through the service, kept by (congress,
user name) for the test, and a helper that signs a result with the member's signing code."""

from __future__ import annotations

import contextlib

import pytest
from flask import has_app_context

from congress_vote.auth.models import User
from congress_vote.congress.models import Congress
from congress_vote.extensions import db
from congress_vote.polls.models import Poll
from congress_vote.seal.codes import CardSecrets
from congress_vote.seal.keycards import issue_key_card


class KeyCards:
    """`card(cid, name)`: the member's current key card secrets, issued once through
    seal.keycards.issue_key_card (a new one with `reissue=True`)."""

    def __init__(self, app, staff):
        self.app = app
        self.staff = staff
        self.cards: dict[tuple[int, str], CardSecrets] = {}

    def _context(self):
        """The test's own app context when it has one (a second one's session would wait for
        the first one's SQLite write lock), else a fresh one."""
        return contextlib.nullcontext() if has_app_context() else self.app.app_context()

    def card(self, cid: int, name: str, reissue: bool = False) -> CardSecrets:
        if reissue or (cid, name) not in self.cards:
            with self._context():
                _, secrets = issue_key_card(
                    db.session.get(Congress, cid), db.session.get(User, self.staff[name])
                )
                db.session.commit()
            self.cards[(cid, name)] = secrets
        return self.cards[(cid, name)]

    def for_poll(self, pid: int, name: str) -> CardSecrets:
        with self._context():
            cid = db.session.get(Poll, pid).congress_id
        return self.card(cid, name)

    def committee(self, cid: int, names=("counter1", "counter2", "counter3")) -> dict:
        return {n: self.card(cid, n) for n in names}


@pytest.fixture
def key_cards(app, staff) -> KeyCards:
    return KeyCards(app, staff)


@pytest.fixture
def sign_off(api, key_cards):
    """sign_off(name, pid, digest) -> response: the member signs with their own key card's
    signing code (a card is printed for them on first use)."""

    def _sign(name: str, pid: int, digest: str, **kw):
        code = key_cards.for_poll(pid, name).signing_qr
        return api(name).post(
            f"/api/v1/polls/{pid}/signoffs", json={"digest": digest, "signing_code": code, **kw}
        )

    _sign.cards = key_cards
    return _sign
