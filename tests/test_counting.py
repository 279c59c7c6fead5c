"""Counting: count, result, sign-off, certification, recount, hand count, rounds, review."""

from __future__ import annotations

import json

from congress_vote.ballots.models import Ballot
from congress_vote.counting.models import PollResult, Signoff
from congress_vote.counting.review import REVIEW_PAGE
from congress_vote.extensions import db


def _count(api, poll, user="counter1"):
    return api(user).post(f"/api/v1/polls/{poll.id}/count")


def test_count_result_shape_and_figures(world, api):
    poll = world.election()
    r = _count(api, poll)
    assert r.status_code == 200, r.json
    res = r.json
    for key in (
        "poll_id",
        "status",
        "round",
        "denominator",
        "figures",
        "candidates",
        "items",
        "ties",
        "unfilled_seats",
        "digest",
        "signoffs",
        "checks",
        "settings",
        "elected_order",
        "setup_fingerprint",
        "title",
        "kind",
        "seats",
        "alternate_seats",
    ):
        assert key in res
    assert res["status"] == "counted"
    fig = res["figures"]
    returned = db.session.query(Ballot).filter_by(poll_id=poll.id).count()
    assert fig["ballots_returned"] == returned
    assert fig["ballots_issued"] == returned + 1  # one slip voided at close
    assert fig["ballots_unused"] == 1
    assert [c["id"] for c in res["candidates"]] == [c.id for c in poll.candidates]
    for c in res["candidates"]:
        assert set(c) >= {"id", "full_name", "votes", "percent", "elected"}
        assert c["full_name"]
    # the votes are those of the stored ballots
    tally = {}
    for b in db.session.query(Ballot).filter_by(poll_id=poll.id):
        for cid in json.loads(b.choice)["kept"]:
            tally[cid] = tally.get(cid, 0) + 1
    assert {c["id"]: c["votes"] for c in res["candidates"]} == {
        c.id: tally.get(c.id, 0) for c in poll.candidates
    }
    assert all(c["ok"] for c in res["checks"])
    # the result endpoint serves the same
    again = api("observer").get(f"/api/v1/polls/{poll.id}/result")
    assert again.status_code == 200 and again.json["digest"] == res["digest"]


def test_count_refused_before_close_and_result_409_before_count(world, api):
    cid = world.congress()
    poll = world.poll(cid)
    db.session.commit()
    assert _count(api, poll).status_code == 409
    r = api("chair").get(f"/api/v1/polls/{poll.id}/result")
    assert r.status_code == 409 and r.json["error"]["code"] == "not_counted"


def test_result_public_only_once_published(world, api, client):
    poll = world.election()
    _count(api, poll)
    assert client.get(f"/api/v1/polls/{poll.id}/result").status_code == 401
    poll.status = "published"
    db.session.commit()
    assert client.get(f"/api/v1/polls/{poll.id}/result").status_code == 200


def test_receipts_public_once_counted(world, api, client):
    poll = world.election()
    assert client.get(f"/api/v1/polls/{poll.id}/receipts").status_code == 409
    res = _count(api, poll).json
    r = client.get(f"/api/v1/polls/{poll.id}/receipts")
    assert r.status_code == 200
    stored = sorted(b.receipt for b in db.session.query(Ballot).filter_by(poll_id=poll.id))
    assert r.json["receipts"] == stored
    assert r.json["digest"] == res["digest"]


def test_signoff_stale_digest_wrong_user_twice_and_certification(world, api, staff, sign_off):
    poll = world.election(committee=("counter1", "counter2", "counter3"))
    res = _count(api, poll).json
    url = f"/api/v1/polls/{poll.id}/signoffs"
    # stale: a digest that is not the current one
    r = sign_off("counter1", poll.id, "0" * 64)
    assert r.status_code == 409 and r.json["error"]["code"] == "stale_digest"
    # admin alone does not sign; a counter outside the committee neither
    code = sign_off.cards.for_poll(poll.id, "counter1").signing_qr
    assert (
        api("admin").post(url, json={"digest": res["digest"], "signing_code": code}).status_code
        == 403
    )
    poll2 = world.election(committee=("counter2",))
    res2 = _count(api, poll2, "counter2").json  # counted by its own committee
    r = sign_off("counter1", poll2.id, res2["digest"])
    assert r.status_code == 403
    # sign once
    r = sign_off("counter1", poll.id, res["digest"])
    assert r.status_code == 201 and r.json["status"] == "counted"
    r = sign_off("counter1", poll.id, res["digest"])
    assert r.status_code == 409 and r.json["error"]["code"] == "already_signed"
    sign_off("counter2", poll.id, res["digest"])
    r = sign_off("counter3", poll.id, res["digest"])
    assert r.status_code == 201 and r.json["status"] == "certified"
    got = api("chair").get(f"/api/v1/polls/{poll.id}/result").json
    assert {s["user_id"] for s in got["signoffs"]} == {
        staff["counter1"],
        staff["counter2"],
        staff["counter3"],
    }
    # certified: locked
    assert _count(api, poll).status_code == 409
    assert (
        api("counter1")
        .post(f"/api/v1/polls/{poll.id}/paper-ballots", json={"code": "x", "kept": []})
        .status_code
        == 409
    )


def test_signoff_n_of_m(world, api, sign_off):
    poll = world.election(
        committee=("counter1", "counter2", "counter3"),
        rules={"preset": "vn-party", "signoff_required": "2"},
    )
    res = _count(api, poll).json
    assert sign_off("counter1", poll.id, res["digest"]).json["status"] == "counted"
    assert sign_off("counter3", poll.id, res["digest"]).json["status"] == "certified"


def test_signoff_refused_when_a_check_fails(world, api, sign_off):
    # more ballots issued than voters present: reconciliation fails
    poll = world.election(voters=10, present=5, votes=[[0]] * 6, unused=0)
    res = _count(api, poll).json
    assert not all(c["ok"] for c in res["checks"])
    r = sign_off("counter1", poll.id, res["digest"])
    assert r.status_code == 409 and r.json["error"]["code"] == "checks_failed"


def test_recount_replaces_result_and_clears_signatures(world, api, app, sign_off):
    poll = world.election(committee=("counter1", "counter2", "counter3"))
    res = _count(api, poll).json
    sign_off("counter1", poll.id, res["digest"])
    assert db.session.query(Signoff).filter_by(poll_id=poll.id).count() == 1
    r = _count(api, poll, "counter2")
    assert r.status_code == 200 and r.json["signoffs"] == []
    from congress_vote.audit.models import AuditEvent

    actions = [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.seq)]
    assert "poll.counted" in actions and "poll.recounted" in actions
    assert "result.signed" in actions


def test_recount_cli_agrees_then_names_tampered_ballot(world, api, runner):
    poll = world.election()
    res = _count(api, poll).json
    out = runner.invoke(args=["recount", str(poll.id)])
    assert out.exit_code == 0, out.output
    assert "agrees" in out.output
    # tamper with one stored ballot: keep a different candidate
    b = next(
        b
        for b in db.session.query(Ballot).filter_by(poll_id=poll.id).order_by(Ballot.receipt)
        if json.loads(b.choice)["kept"]
    )
    kept = json.loads(b.choice)["kept"]
    others = [c.id for c in poll.candidates if c.id not in kept]
    victim, replacement = kept[0], others[0]
    b.choice = json.dumps({"kept": sorted([replacement] + kept[1:])})
    db.session.commit()
    out = runner.invoke(args=["recount", str(poll.id)])
    assert out.exit_code == 1
    text = out.output
    assert "digest" in text and res["digest"] in text
    assert f"candidate {victim} votes" in text
    assert f"candidate {replacement} votes" in text


def test_hand_count(world, api):
    cid = world.congress(voters=30, present=25)
    poll = world.poll(
        cid, kind="resolution", items=["Nghị quyết 1", "Nghị quyết 2"], secrecy="open"
    )
    db.session.commit()
    i1, i2 = (i.id for i in poll.items)
    url = f"/api/v1/polls/{poll.id}/hand-count"
    r = api("counter1").post(
        url, json={"items": {str(i1): {"for": 20, "against": 4, "abstain": 2}}}
    )
    assert r.status_code == 422  # 26 > 25 present
    r = api("counter1").post(
        url,
        json={
            "items": {
                str(i1): {"for": 20, "against": 3, "abstain": 2},
                str(i2): {"for": 10, "against": 10, "abstain": 0},
            }
        },
    )
    assert r.status_code == 201, r.json
    assert api("counter1").post(url, json={"items": {"abc": {}}}).status_code in (400, 422)
    assert api("chair").post(url, json={"items": {}}).status_code == 403
    world.close(poll)
    db.session.commit()
    res = _count(api, poll).json
    items = {i["id"]: i for i in res["items"]}
    assert (items[i1]["for"], items[i1]["against"], items[i1]["abstain"]) == (20, 3, 2)
    assert items[i1]["passed"] is True  # 20 > 30/2
    assert items[i2]["passed"] is False  # 10 of 30
    # after counting, hand counts are refused
    r = api("counter1").post(url, json={"items": {str(i1): {"for": 1, "against": 0, "abstain": 0}}})
    assert r.status_code == 409


def test_tie_then_next_round(world, api):
    # 2 seats, three candidates: A 12, B 6, C 6 (20 voters: threshold 11) -> tie? No:
    # B and C are below the threshold -> shortfall of one seat.
    poll = world.election(voters=20, seats=2, votes=[[0, 1]] * 6 + [[0, 2]] * 6, unused=0)
    res = _count(api, poll).json
    assert res["unfilled_seats"] == 1
    ids = [c["id"] for c in res["candidates"] if not c["elected"]]
    r = api("admin").post(
        f"/api/v1/polls/{poll.id}/rounds", json={"candidate_ids": ids, "seats": 1}
    )
    assert r.status_code == 201, r.json
    new = r.json
    assert new["round"] == 2 and new["parent_id"] == poll.id
    assert sorted(c["full_name"] for c in new["candidates"]) == sorted(
        c["full_name"] for c in res["candidates"] if c["id"] in ids
    )
    assert (
        api("counter1")
        .post(f"/api/v1/polls/{poll.id}/rounds", json={"candidate_ids": ids, "seats": 1})
        .status_code
        == 403
    )


def test_result_page_and_review(world, api, auth, client):
    poll = world.election(votes=[[0, 1]] * 60 + [[0, 1, 2]] * 3, voters=80)
    _count(api, poll)
    auth.login("counter1")
    page = client.get(f"/polls/{poll.id}/count")
    assert page.status_code == 200, page.get_data(as_text=True)[-3000:]
    html = page.get_data(as_text=True)
    assert "failed" not in html.split("checks-list")[1].split("</ul>")[0]
    r = client.get(f"/polls/{poll.id}/ballots?validity=invalid")
    assert r.status_code == 200
    body = r.get_data(as_text=True)
    row = '<span class="badge badge-'  # one ruling badge per ballot row
    assert body.count(row) == 3
    assert "data-privacy-warning" in body
    r = client.get(f"/polls/{poll.id}/ballots")
    body = r.get_data(as_text=True)
    assert body.count(row) == REVIEW_PAGE
    # contents without receipts (issue 14 hole 2): no receipt of the poll is on the page
    stored = [b.receipt for b in db.session.query(Ballot).filter_by(poll_id=poll.id)]
    assert len(stored) == 63 and not [x for x in stored if x in body]
    r2 = client.get(f"/polls/{poll.id}/ballots?page=2")
    assert r2.get_data(as_text=True).count(row) == 63 - REVIEW_PAGE


def test_stored_result_row(world, api):
    poll = world.election()
    res = _count(api, poll).json
    row = db.session.get(PollResult, poll.id)
    assert row.digest == res["digest"] and json.loads(row.data)["digest"] == res["digest"]


def test_audit_tamper_with_a_counting_event_is_named(world, api, runner, sign_off):
    from congress_vote.audit.models import AuditEvent

    poll = world.election()
    res = _count(api, poll).json
    sign_off("counter1", poll.id, res["digest"])
    assert runner.invoke(args=["verify-audit"]).exit_code == 0
    ev = db.session.query(AuditEvent).filter_by(action="result.signed").one()
    ev.data = ev.data.replace(res["digest"], "f" * 64)
    db.session.commit()
    out = runner.invoke(args=["verify-audit"])
    assert out.exit_code == 1
    assert f"event {ev.seq} (result.signed)" in out.output


def test_count_page_actions_by_role(world, api, auth, client):
    poll = world.election(votes=[[0, 1]] * 6 + [[0, 2]] * 6, voters=20, unused=0)
    _count(api, poll)
    auth.login("admin")
    html = client.get(f"/polls/{poll.id}/count").get_data(as_text=True)
    assert f"/polls/{poll.id}/next-round" in html  # shortfall -> next round for the admin
    assert f"/polls/{poll.id}/sign" not in html
    client.post("/logout")
    auth.login("counter1")
    html = client.get(f"/polls/{poll.id}/count").get_data(as_text=True)
    assert f"/polls/{poll.id}/sign" in html and "next-round" not in html
    r = client.post(f"/polls/{poll.id}/sign", data={"digest": "bad"})
    assert r.status_code == 409
