"""The lean check-in path (congress_vote/congress/fastcheckin.py): it serves the ordinary API
check-in by card with the same row, audit event and answer (byte for byte) as the Flask path,
and hands every other request to Flask, which answers exactly as before."""
from __future__ import annotations

import json
from datetime import datetime

import pytest
from sqlalchemy import select, update

from congress_vote import codes, lean
from congress_vote.extensions import db


def _fast(app):
    return app.extensions["fast_checkin"]


def _orm_answer(app, did: int) -> dict:
    from congress_vote.congress.models import Delegate
    from congress_vote.congress.services import delegate_dict
    with app.app_context():
        return delegate_dict(db.session.get(Delegate, did), with_card=False)


def _events(app):
    from congress_vote.audit.models import AuditEvent
    with app.app_context():
        return [(e.actor_id, e.congress_id, json.loads(e.data)) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "delegate.checked_in")
            .order_by(AuditEvent.seq))]


def _status(app, did: int) -> str:
    from congress_vote.congress.models import Delegate
    with app.app_context():
        return db.session.get(Delegate, did).status


@pytest.fixture
def door(app, hall):
    """A congress of 5: the first excused (with a branch, a position and a reason), the rest
    absent; (cid, [(delegate id, card code)], url)."""
    from congress_vote.congress.models import Branch, Delegate
    cid = hall.congress(voters=5, present=0, excused=1)
    cards = list(hall.cards.items())
    with app.app_context():
        b = Branch(congress_id=cid, name="Chi bộ Văn phòng")
        db.session.add(b)
        db.session.flush()
        first = db.session.get(Delegate, cards[0][0])
        first.branch_id, first.position, first.absence_reason = b.id, "Bí thư", "Ốm"
        db.session.commit()
    return cid, cards, f"/api/v1/congresses/{cid}/checkin"


def test_fast_and_flask_check_ins_answer_and_store_the_same(app, client, auth, door, staff):
    from congress_vote.audit.services import verify_chain
    cid, cards, url = door
    headers = auth.headers("registrar")
    app.config["FAST_CHECKIN"] = False
    slow = client.post(url, json={"card": cards[1][1]}, headers=headers)
    app.config["FAST_CHECKIN"] = True
    served = _fast(app).served
    fast = client.post(url, json={"card": "CV1:C:" + cards[0][1]}, headers=headers)  # QR text
    assert slow.status_code == fast.status_code == 200
    assert _fast(app).served == served + 1
    for r, (did, _card) in ((slow, cards[1]), (fast, cards[0])):
        assert r.json == {"already_present": False, "delegate": _orm_answer(app, did)}
        assert r.get_data() == lean.answer(r.json, {})[0]  # Flask's bytes are the lean ones
        assert _status(app, did) == "present"
    assert fast.json["delegate"]["branch"] == "Chi bộ Văn phòng"
    assert fast.json["delegate"]["absence_reason"] is None  # excused, now present
    assert dict(fast.headers.items()).keys() == dict(slow.headers.items()).keys()
    for name, value in slow.headers.items():
        if name != "Content-Length":
            assert fast.headers[name] == value, name
    assert "Set-Cookie" not in fast.headers
    assert _events(app) == [(staff["registrar"], cid, {"delegate_id": did, "via": "card"})
                            for did in (cards[1][0], cards[0][0])]
    with app.app_context():
        assert verify_chain().ok
    # A second scan of the same card: present already, answered by Flask, nothing written.
    again = client.post(url, json={"card": cards[0][1]}, headers=headers)
    assert again.status_code == 200 and again.json["already_present"] is True
    assert _fast(app).served == served + 1 and len(_events(app)) == 2


def test_over_https_the_fast_answer_carries_hsts(app, client, auth, door):
    cid, cards, url = door
    served = _fast(app).served
    r = client.post(url, json={"card": cards[2][1]}, headers=auth.headers("registrar"),
                    base_url="https://vote.test")
    assert r.status_code == 200 and _fast(app).served == served + 1
    assert r.headers["Strict-Transport-Security"].startswith("max-age=31536000")


@pytest.mark.parametrize("case", ["anonymous", "counter", "admin", "expired", "inactive",
                                  "unknown_token", "cookie", "unknown_congress", "no_card",
                                  "card_not_text", "not_json", "not_a_card", "unknown_card",
                                  "other_congress"])
def test_everything_else_is_answered_by_flask(app, client, auth, hall, door, staff, case):
    from congress_vote.auth.models import ApiToken, User
    cid, cards, url = door
    did, card = cards[3]
    headers = auth.headers("registrar")
    kw = {"json": {"card": card}}
    expect = {"anonymous": 401, "counter": 403, "admin": 403, "expired": 401, "inactive": 401,
              "unknown_token": 401, "cookie": 200, "unknown_congress": 404, "no_card": 400,
              "card_not_text": 400, "not_json": 400, "not_a_card": 422, "unknown_card": 404,
              "other_congress": 404}[case]
    if case == "anonymous":
        headers = {}
    elif case in ("counter", "admin"):
        headers = auth.headers("counter1" if case == "counter" else "admin")
    elif case in ("expired", "inactive"):
        with app.app_context():
            if case == "expired":
                db.session.execute(update(ApiToken).values(expires_at=datetime(2025, 1, 1)))
            else:
                db.session.execute(update(User).where(User.id == staff["registrar"])
                                   .values(active=False))
            db.session.commit()
    elif case == "unknown_token":
        headers = {"Authorization": "Bearer " + "x" * 43}
    elif case == "cookie":
        # a signed-in browser (its session cookie is Flask's to read and renew), even with a
        # bearer token as well
        assert auth.login("registrar").status_code in (302, 303)
    elif case == "unknown_congress":
        url = "/api/v1/congresses/999999/checkin"
    elif case == "no_card":
        kw = {"json": {"kard": card}}
    elif case == "card_not_text":
        kw = {"json": {"card": 42}}
    elif case == "not_json":
        kw = {"data": f"card={card}", "content_type": "application/x-www-form-urlencoded"}
    elif case == "not_a_card":
        kw = {"json": {"card": "rubbish"}}
    elif case == "unknown_card":
        kw = {"json": {"card": codes.new_code()}}
    elif case == "other_congress":
        hall.congress(voters=1, present=0, name="Đại hội khác")
        kw = {"json": {"card": list(hall.cards.values())[-1]}}
    served, events = _fast(app).served, len(_events(app))
    r = client.post(url, headers=headers, **kw)
    assert r.status_code == expect, r.get_data(as_text=True)
    assert _fast(app).served == served
    if case == "cookie":
        assert _status(app, did) == "present" and len(_events(app)) == events + 1
    else:
        assert _status(app, did) == "absent" and len(_events(app)) == events


def test_a_database_error_on_the_fast_path_is_rolled_back_and_flask_checks_in(
        app, client, auth, door, monkeypatch):
    from congress_vote.audit.services import verify_chain
    cid, cards, url = door
    did, card = cards[4]
    plan = _fast(app)._get_plan()

    class Boom:
        sql = "audit"

        def run(self, cursor, *events, **values):
            raise RuntimeError("disk on fire")

    monkeypatch.setattr(plan, "append", Boom())  # after the delegate's UPDATE
    served = _fast(app).served
    r = client.post(url, json={"card": card}, headers=auth.headers("registrar"))
    assert r.status_code == 200 and r.json["already_present"] is False
    assert _fast(app).served == served  # Flask did it, from the state before
    assert _status(app, did) == "present" and len(_events(app)) == 1
    with app.app_context():
        assert verify_chain().ok
    monkeypatch.undo()
    r = client.post(url, json={"card": cards[2][1]}, headers=auth.headers("registrar"))
    assert r.status_code == 200 and _fast(app).served == served + 1


def test_the_fast_path_lets_go_of_the_sqlite_write_queue(sqlite_app, client, auth, door):
    from tests.conftest import queue_taken
    app = sqlite_app
    cid, cards, url = door
    headers = auth.headers("registrar")
    served = _fast(app).served
    assert client.post(url, json={"card": cards[1][1]}, headers=headers).status_code == 200
    assert client.post(url, json={"card": cards[1][1]}, headers=headers).json["already_present"]
    assert _fast(app).served == served + 1
    assert not queue_taken(app)
