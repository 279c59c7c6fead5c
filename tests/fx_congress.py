"""Fixtures for the congress area: congress factories and the sample list imported."""

from __future__ import annotations

import pytest

from congress_vote.extensions import db


@pytest.fixture
def make_congress(app):
    """make_congress(name=..., **fields) -> congress id (committed)."""

    def _make(name: str = "Đại hội Đảng bộ thử nghiệm", **fields) -> int:
        from congress_vote.congress.setup import create_congress

        with app.app_context():
            c = create_congress(
                {
                    "name": name,
                    "organisation": "Đảng bộ Sở GD&ĐT",
                    "term": "2025–2030",
                    "venue": "Hội trường A",
                    "starts_on": "2025-06-20",
                    **fields,
                }
            )
            db.session.commit()
            return c.id

    return _make


@pytest.fixture
def congress_id(make_congress) -> int:
    return make_congress()


@pytest.fixture
def sample_congress(app, congress_id) -> int:
    """A congress with data/delegates-145.csv imported (145 delegates, 141 voters)."""
    from congress_vote.congress.importing import import_delegates
    from congress_vote.congress.setup import get_congress
    from tests.conftest import SAMPLE_CSV

    with app.app_context():
        import_delegates(get_congress(congress_id), SAMPLE_CSV.read_bytes(), "delegates-145.csv")
        db.session.commit()
    return congress_id


@pytest.fixture
def card_of(app):
    """card_of(delegate_id) -> (card code, QR text) of a delegate's current card."""

    def _card(did: int) -> tuple[str, str]:
        from congress_vote.congress.cards import card_code, card_qr_text
        from congress_vote.congress.models import Delegate

        with app.app_context():
            d = db.session.get(Delegate, did)
            return card_code(d), card_qr_text(d)

    return _card
