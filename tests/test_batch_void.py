"""Voiding a batch of ballots while the poll is open (issue 17 item 2, issue 18 part 5): its unused
ballots become void and may be issued again; the committee only; audited; the figures stay
reconciled and the minutes list the voided batch; the HTML button asks for a confirmation."""

from __future__ import annotations

from congress_vote.extensions import db
from tests.conftest import PASSWORD


def _events(app, action):
    import json

    from congress_vote.audit.models import AuditEvent

    with app.app_context():
        rows = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == action))
        out = [json.loads(e.data) for e in rows]
        db.session.remove()
    return out


def test_void_a_batch_then_reissue_and_count(hall, api, app):
    cid = hall.congress(voters=6)
    poll = hall.poll(cid)
    pid = poll["id"]
    hall.open(pid)
    first = hall.issue(pid, 4)
    c1, c2, _c3 = (c["id"] for c in poll["candidates"])
    assert (
        hall.client.post(f"/api/v1/ballot/{first['tokens'][0]}", json={"kept": [c1]}).status_code
        == 201
    )
    # 6 present, 4 issued: only 2 more until the batch is voided
    r = api("counter1").post(f"/api/v1/polls/{pid}/ballots", json={"count": 3})
    assert r.status_code == 409
    # not the committee: refused; unknown batch: 404
    url = f"/api/v1/polls/{pid}/batches/{first['batch_id']}/void"
    assert api("counter3").post(url).status_code == 403
    assert api("observer").post(url).status_code == 403
    assert api("counter1").post(f"/api/v1/polls/{pid}/batches/999999/void").status_code == 404
    r = api("counter2").post(url)
    assert r.status_code == 200, r.json
    assert (r.json["batch_id"], r.json["count"], r.json["voided"]) == (first["batch_id"], 4, 3)
    assert r.json["voided_at"]
    again = api("counter1").post(url)
    assert again.status_code == 409 and again.json["error"]["code"] == "batch_voided"
    # its ballots no longer vote, the cast one stays cast, its PDF is gone
    r = hall.client.post(f"/api/v1/ballot/{first['tokens'][1]}", json={"kept": [c2]})
    assert r.status_code == 409 and r.json["error"]["code"] == "poll_not_open"
    pdf = api("counter1").get(f"/api/v1/polls/{pid}/batches/{first['batch_id']}.pdf")
    assert pdf.status_code == 404
    t = api("observer").get(f"/api/v1/polls/{pid}/turnout").json
    assert (t["issued"], t["cast"], t["remaining"], t["voided"]) == (4, 1, 0, 3)
    # reissued: 6 present − 1 still issued = 5 more
    second = hall.issue(pid, 5)
    for tok in second["tokens"][:4]:
        r = hall.client.post(f"/api/v1/ballot/{tok}", json={"kept": [c1, c2]})
        assert r.status_code == 201
    (event,) = _events(app, "ballots.batch_voided")
    assert event == {"poll_id": pid, "batch_id": first["batch_id"], "kind": "slip", "voided": 3}
    hall.close(pid)
    res = hall.count(pid)
    fig = res["figures"]
    # issued = the 1 cast from the voided batch + the 5 of the second; never more than present
    assert (fig["ballots_issued"], fig["ballots_returned"], fig["ballots_unused"]) == (6, 5, 1)
    assert all(c["ok"] for c in res["checks"]), res["checks"]
    # the voided batch is listed for the minutes (and after the close, on the poll page)
    from congress_vote.counting.minutes import minutes_context
    from congress_vote.polls.models import Poll

    with app.test_request_context():
        ctx = minutes_context(db.session.get(Poll, pid))
        assert [
            (v["batch_id"], v["voided"], v["voided_by_name"]) for v in ctx["voided_batches"]
        ] == [(first["batch_id"], 3, "Counter2")]
        db.session.remove()
    # voiding needs an open poll
    assert (
        api("counter1").post(f"/api/v1/polls/{pid}/batches/{second['batch_id']}/void").status_code
        == 409
    )


def test_void_from_the_poll_page_asks_for_a_confirmation(hall, app):
    cid = hall.congress(voters=5)
    pid = hall.poll(cid)["id"]
    hall.open(pid)
    batch = hall.issue(pid, 2)
    c = app.test_client()
    c.post("/login", data={"username": "counter1", "password": PASSWORD})
    html = c.get(f"/polls/{pid}").get_data(as_text=True)
    action = f"/polls/{pid}/batches/{batch['batch_id']}/void"
    assert f'action="{action}"' in html and 'name="confirm"' in html
    # without the confirmation ticked nothing is voided
    r = c.post(action, data={}, follow_redirects=True)
    assert r.status_code == 200 and "Hãy đánh dấu ô xác nhận" in r.get_data(as_text=True)
    assert _events(app, "ballots.batch_voided") == []
    r = c.post(action, data={"confirm": "yes"}, follow_redirects=True)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and f"Đã hủy lô {batch['batch_id']}" in page
    assert "Các lô phiếu đã hủy" in page
    assert len(_events(app, "ballots.batch_voided")) == 1
    # the other committee's counter sees no button
    other = app.test_client()
    other.post("/login", data={"username": "counter3", "password": PASSWORD})
    assert action not in other.get(f"/polls/{pid}").get_data(as_text=True)
    assert other.post(action, data={"confirm": "yes"}).status_code == 403


def test_a_voided_paper_batch_is_not_issued_nor_entered(hall, api, app):
    cid = hall.congress(voters=6)
    poll = hall.poll(cid)
    pid = poll["id"]
    hall.open(pid)
    r = api("counter1").post(f"/api/v1/polls/{pid}/ballots", json={"count": 3, "kind": "paper"})
    assert r.status_code == 201, r.json
    paper = r.json
    assert (
        api("counter1").post(f"/api/v1/polls/{pid}/batches/{paper['batch_id']}/void").json["voided"]
        == 3
    )
    hall.close(pid)
    from congress_vote.counting.paper_figures import paper_figures
    from congress_vote.polls.models import Poll

    with app.app_context():
        assert paper_figures(db.session.get(Poll, pid))["issued"] == 0
        db.session.remove()
    r = api("counter1").post(f"/api/v1/polls/{pid}/paper-returns", json={"unused": 0})
    assert r.status_code in (200, 201), r.json
    r = api("counter1").post(
        f"/api/v1/polls/{pid}/paper-ballots", json={"code": paper["tokens"][0], "kept": []}
    )
    assert r.status_code == 409 and r.json["error"]["code"] == "batch_voided"
