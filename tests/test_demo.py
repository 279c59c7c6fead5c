"""`flask --app wsgi demo`: the quick start's congress."""

import re

from sqlalchemy import func, select

from congress_vote.congress.models import Delegate
from congress_vote.extensions import db
from congress_vote.polls.models import Poll


def test_demo_builds_a_usable_congress_once(app, runner, client):
    r = runner.invoke(args=["demo", "--password", "demo-pass-11"])
    assert r.exit_code == 0, r.output
    assert "demo-pass-11" in r.output and "admin" in r.output
    codes = dict(re.findall(r"(counter\d): opening code (\S+)", r.output))
    assert sorted(codes) == ["counter1", "counter2", "counter3"], r.output
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
    # end to end: the chair opens the election sealed for the committee's demo key cards, a
    # delegate votes, the chair closes and two of the three printed opening codes count it
    chair = {"Authorization": f"Bearer {r.json['token']}"}
    pid = polls[0].id
    opened = client.post(f"/api/v1/polls/{pid}/open", headers=chair)
    assert opened.status_code == 200 and opened.json["seal"]["threshold"] == 2, opened.json
    r = client.post("/api/v1/session", json={"username": "counter1", "password": "demo-pass-11"})
    counter = {"Authorization": f"Bearer {r.json['token']}"}
    issued = client.post(f"/api/v1/polls/{pid}/ballots", json={"count": 1}, headers=counter)
    assert issued.status_code == 201, issued.json
    with app.app_context():
        from congress_vote.ballots.services import cast_ballot

        kept = [c.id for c in db.session.get(Poll, pid).candidates][:9]
        cast_ballot(issued.json["tokens"][0], kept=kept)
        db.session.commit()
    assert client.post(f"/api/v1/polls/{pid}/close", headers=chair).status_code == 200
    body = {"opening_codes": [codes["counter3"], codes["counter1"]]}
    res = client.post(f"/api/v1/polls/{pid}/count", json=body, headers=counter)
    assert res.status_code == 200 and res.json["figures"]["ballots_returned"] == 1, res.json
    # a second run changes nothing
    r = runner.invoke(args=["demo", "--password", "demo-pass-11"])
    assert r.exit_code == 0
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Poll)) == 3
        assert db.session.scalar(select(func.count()).select_from(Delegate)) == 145
