"""Polls: setup, validation, the counting committee rule, lifecycle guards, fingerprint, HTML."""

import json

from congress_vote.extensions import db


def _audit_actions(app):
    from congress_vote.audit.models import AuditEvent

    with app.app_context():
        return [
            e.action for e in db.session.scalars(db.select(AuditEvent).order_by(AuditEvent.seq))
        ]


def test_create_poll_orders_candidates_and_reports_api_shape(hall, api):
    cid = hall.congress()
    p = hall.poll(cid)
    assert p["status"] == "draft" and p["kind"] == "committee" and p["congress_id"] == cid
    # Vietnamese ballot order: by given name (An, Bình, Châu)
    assert [c["full_name"] for c in p["candidates"]] == [
        "Nguyễn Thị An",
        "Trần Văn Bình",
        "Lê Minh Châu",
    ]
    assert p["counting_committee"] == [hall.staff["counter1"], hall.staff["counter2"]]
    assert p["rules"]["denominator"] == "voters_summoned_adjusted"
    assert p["rules"]["fraction"] == "1/2"
    assert p["setup_fingerprint"] is None
    got = api("observer").get(f"/api/v1/polls/{p['id']}")
    assert got.status_code == 200 and got.json["candidates"] == p["candidates"]
    listed = api("observer").get(f"/api/v1/congresses/{cid}/polls")
    assert [x["id"] for x in listed.json] == [p["id"]]


def test_candidate_list_warning_is_advisory(hall):
    cid = hall.congress()
    p = hall.poll(cid, seats=3)  # 3 candidates for 3 seats: no surplus
    assert any(w["code"] == "no_surplus" for w in p["warnings"])
    ok = hall.poll(cid, seats=2)
    assert not [w for w in ok["warnings"] if w["code"] != "no_counting_committee"]


def test_rules_and_body_validation(hall, api):
    cid = hall.congress()
    url = f"/api/v1/congresses/{cid}/polls"
    admin = api("admin")
    cases = [
        (hall.body(rules={"preset": "nope"}), 422, "bad_rules"),
        (hall.body(rules={"fraction": "3/2"}), 422, "bad_rules"),
        (hall.body(rules={"denominator": "people"}), 422, "bad_rules"),
        (hall.body(kind="referendum"), 422, "bad_kind"),
        (hall.body(candidates=[]), 422, "no_candidates"),
        (hall.body(seats="nine"), 400, "bad_request"),
        (hall.body(candidates="x"), 400, "bad_request"),
        (hall.body("resolution", items=[]), 422, "no_items"),
        (hall.body(alternate_seats=1), 422, "bad_alternate_seats"),
        (hall.body(secrecy="half"), 422, "bad_secrecy"),
        (hall.body(counting_committee=[hall.staff["chair"]]), 422, "not_a_counter"),
        (hall.body(counting_committee=[999999]), 422, "unknown_user"),
    ]
    for body, status, code in cases:
        r = admin.post(url, json=body)
        assert r.status_code == status, (body, r.json)
        assert r.json["error"]["code"] == code
    assert admin.post(url, data="x", content_type="text/plain").status_code == 400
    assert api("chair").post(url, json=hall.body()).status_code == 403


def test_counting_committee_must_not_be_candidates(hall, api):
    cid = hall.congress()
    body = hall.body(
        candidates=[{"full_name": "Counter1"}, {"full_name": "Phạm Thu"}, {"full_name": "Đỗ Hà"}]
    )
    r = api("admin").post(f"/api/v1/congresses/{cid}/polls", json=body)
    assert r.status_code == 422 and r.json["error"]["code"] == "committee_member_is_candidate"
    # a candidate linked to a delegate whose name is a committee member's
    from congress_vote.auth.models import User

    with hall.app.app_context():
        u = db.session.get(User, hall.staff["counter2"])
        u.full_name = "Đảng viên Số 0"
        db.session.commit()
    did = hall.delegates(cid)[0][0]
    body = hall.body(
        candidates=[
            {"full_name": "D. V. Số Không", "delegate_id": did},
            {"full_name": "Phạm Thu"},
            {"full_name": "Đỗ Hà"},
        ]
    )
    r = api("admin").post(f"/api/v1/congresses/{cid}/polls", json=body)
    assert r.status_code == 422 and r.json["error"]["code"] == "committee_member_is_candidate"


def test_lifecycle_guards_and_roles(hall, api):
    cid = hall.congress()
    pid = hall.poll(cid)["id"]
    assert api("admin").post(f"/api/v1/polls/{pid}/open").status_code == 403
    assert api("counter1").post(f"/api/v1/polls/{pid}/open").status_code == 403
    r = api("chair").post(f"/api/v1/polls/{pid}/close")
    assert r.status_code == 409 and r.json["error"]["code"] == "poll_not_open"
    opened = hall.open(pid)
    assert opened["status"] == "open" and len(opened["setup_fingerprint"]) == 64
    r = api("chair").post(f"/api/v1/polls/{pid}/open")
    assert r.status_code == 409 and r.json["error"]["code"] == "poll_not_draft"
    hall.issue(pid, 4)
    closed = hall.close(pid)
    assert closed["status"] == "closed"
    assert api("chair").post(f"/api/v1/polls/{pid}/close").status_code == 409
    r = api("counter1").post(f"/api/v1/polls/{pid}/ballots", json={"count": 1})
    assert r.status_code == 409 and r.json["error"]["code"] == "poll_not_open"
    acts = _audit_actions(hall.app)
    for a in ("poll.created", "poll.opened", "ballots.issued", "poll.closed"):
        assert a in acts
    from congress_vote.ballots.models import BallotToken
    from congress_vote.polls.models import Poll

    with hall.app.app_context():
        states = [t.state for t in db.session.scalars(db.select(BallotToken))]
        assert states == ["void"] * 4
        snap = json.loads(db.session.get(Poll, pid).attendance)
        assert snap["voters_present"] == 10 and snap["ballots_issued"] == 4


def test_candidates_frozen_once_open(hall, app):
    from congress_vote.errors import ServiceError
    from congress_vote.polls.models import Poll
    from congress_vote.polls.services import update_poll

    cid = hall.congress()
    pid = hall.poll(cid)["id"]
    with app.app_context():
        poll = db.session.get(Poll, pid)
        update_poll(
            poll,
            {
                "title": "Bầu lại",
                "candidates": [{"full_name": "A B"}, {"full_name": "C D"}, {"full_name": "E F"}],
            },
            None,
        )
        db.session.commit()
        assert [c.full_name for c in poll.candidates] == ["A B", "C D", "E F"]
    fp = hall.open(pid)["setup_fingerprint"]
    with app.app_context():
        poll = db.session.get(Poll, pid)
        try:
            update_poll(poll, {"candidates": [{"full_name": "X Y"}]}, None)
            raise AssertionError("frozen candidates changed")
        except ServiceError as exc:
            assert exc.status == 409 and exc.code == "candidates_frozen"
        db.session.rollback()
        assert db.session.get(Poll, pid).setup_fingerprint == fp


def test_fingerprint_depends_on_setup(app, hall):
    from congress_vote.polls.models import Poll
    from congress_vote.polls.services import setup_fingerprint

    cid = hall.congress()
    pid = hall.poll(cid)["id"]
    fp = hall.open(pid)["setup_fingerprint"]
    with app.app_context():
        poll = db.session.get(Poll, pid)
        assert setup_fingerprint(poll) == fp
        poll.candidates[0].full_name = "Someone Else"
        assert setup_fingerprint(poll) != fp
        db.session.rollback()


def test_html_poll_pages(hall, auth, client):
    cid = hall.congress()
    auth.login("admin")
    r = client.get(f"/congresses/{cid}/polls/new")
    assert r.status_code == 200 and b'name="lines"' in r.data
    r = client.post(
        f"/congresses/{cid}/polls/new",
        data={
            "kind": "committee",
            "title": "Bầu BCH",
            "seats": "2",
            "secrecy": "secret",
            "lines": "Trần Văn Bình | Bí thư\nNguyễn Thị An\nLê Minh Châu",
            "counting_committee": [str(hall.staff["counter1"])],
            "preset": "vn-party",
            "strict": "yes",
            "all_struck_valid": "yes",
        },
    )
    assert r.status_code == 302, r.data
    pid = int(r.location.rstrip("/").split("/")[-1])
    page = client.get(f"/polls/{pid}")
    assert page.status_code == 200 and "Nguyễn Thị An".encode() in page.data
    assert client.get(f"/congresses/{cid}/polls").status_code == 200
    # a rule broken in the form: shown again with the message, nothing created
    r = client.post(
        f"/congresses/{cid}/polls/new",
        data={"kind": "committee", "title": "X", "seats": "2", "lines": ""},
    )
    assert r.status_code == 422
    client.post("/logout")
    auth.login("chair")
    r = client.post(f"/polls/{pid}/open")  # the committee has no key card yet: refused, said
    assert r.status_code == 409 and "thẻ khóa".encode() in r.data
    hall.give_key_cards(pid)
    assert client.post(f"/polls/{pid}/open").status_code == 302
    client.post("/logout")
    auth.login("admin")
    r = client.get(f"/polls/{pid}/edit")
    assert r.status_code == 409  # frozen once open
    client.post("/logout")
    auth.login("counter1")
    r = client.post(f"/polls/{pid}/ballots", data={"count": "3"})
    assert r.status_code == 200 and b"/slips/" in r.data
    client.post("/logout")
    auth.login("chair")
    assert client.post(f"/polls/{pid}/close").status_code == 302
    assert client.post(f"/polls/{pid}/close").status_code == 409
