"""`flask --app wsgi demo`: the quick start's congress."""

from sqlalchemy import func, select

from congress_vote.congress.models import Delegate
from congress_vote.extensions import db
from congress_vote.polls.models import Poll


def test_demo_builds_a_usable_congress_once(app, runner, client):
    r = runner.invoke(args=["demo", "--password", "demo-pass-11"])
    assert r.exit_code == 0, r.output
    assert "demo-pass-11" in r.output and "admin" in r.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Delegate)) == 145
        polls = db.session.scalars(select(Poll).order_by(Poll.id)).all()
        assert [(p.kind, p.seats, p.alternate_seats, p.status) for p in polls] == [
            ("committee", 9, 0, "draft"),
            ("slate", 7, 1, "draft"),
            ("resolution", 0, 0, "draft"),
        ]
        assert len(polls[0].candidates) == 11 and len(polls[1].candidates) == 9
        assert len(polls[2].items) == 2
        # candidates are full members who are present
        for c in polls[0].candidates:
            d = db.session.get(Delegate, c.delegate_id)
            assert d.membership == "full" and d.status == "present"
    # the printed password signs in
    r = client.post("/api/v1/session", json={"username": "chair", "password": "demo-pass-11"})
    assert r.status_code == 201
    # a second run changes nothing
    r = runner.invoke(args=["demo", "--password", "demo-pass-11"])
    assert r.exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Poll)) == 3
        assert db.session.scalar(select(func.count()).select_from(Delegate)) == 145
