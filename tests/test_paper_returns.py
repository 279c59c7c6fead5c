"""Issue 14 hole 7: paper reconciliation.

Paper ballots are entered only after the close, by the poll's committee, after it records the
unused paper ballots collected back (`POST /api/v1/polls/{pid}/paper-returns {unused}`, frozen
once an entry exists); entries beyond issued − unused are refused; counting waits for the
return; the minutes show paper issued, returned, entered and unused.
"""

from __future__ import annotations

import io

from congress_vote.audit.models import AuditEvent
from congress_vote.extensions import db

COMMITTEE = ("counter1", "counter2")


def _poll(world, n_paper=3, status="open"):
    """A secret election with 6 tablet ballots and `n_paper` paper ballots handed out while
    open; closed unless status is "open"."""
    cid = world.congress(voters=20)
    poll = world.poll(cid, seats=2, committee=COMMITTEE, head="counter1")
    ids = [c.id for c in poll.candidates]
    for code in world.issue(poll, 6):
        world.cast(poll, code, kept=ids[:2])
    codes = world.issue(poll, n_paper, kind="paper")
    if status != "open":
        world.close(poll)
    db.session.commit()
    return poll, codes


def _enter(api, poll, user, code, kept):
    return api(user).post(
        f"/api/v1/polls/{poll.id}/paper-ballots", json={"code": code, "kept": kept}
    )


def _enter_both(api, poll, code, kept):
    assert _enter(api, poll, "counter1", code, kept).status_code == 201
    r = _enter(api, poll, "counter2", code, kept)
    assert r.status_code == 201 and r.json["state"] == "agreed", r.json
    return r


def _return(api, poll, unused, user="counter1"):
    return api(user).post(f"/api/v1/polls/{poll.id}/paper-returns", json={"unused": unused})


def test_entry_while_open_is_refused(world, api):
    poll, codes = _poll(world)
    a = poll.candidates[0].id
    r = _enter(api, poll, "counter1", codes[0], [a])
    assert r.status_code == 409 and r.json["error"]["code"] == "poll_not_closed"
    # nor can the return be recorded while ballots are still being handed out
    r = _return(api, poll, 0)
    assert r.status_code == 409 and r.json["error"]["code"] == "poll_not_closed"


def test_entry_and_count_before_the_return_are_refused(world, api):
    poll, codes = _poll(world, status="closed")
    a = poll.candidates[0].id
    r = _enter(api, poll, "counter1", codes[0], [a])
    assert r.status_code == 409 and r.json["error"]["code"] == "paper_return_missing"
    r = api("counter1").post(f"/api/v1/polls/{poll.id}/count")
    assert r.status_code == 409 and r.json["error"]["code"] == "paper_return_missing"


def test_return_rules_and_entries_beyond_issued_minus_unused(world, api):
    poll, codes = _poll(world, n_paper=3, status="closed")
    a, b = poll.candidates[0].id, poll.candidates[1].id
    r = _return(api, poll, 4)  # more than issued
    assert r.status_code == 422
    for bad in (-1, "x", True, None, 1.5):
        assert _return(api, poll, bad).status_code in (400, 422), bad
    r = _return(api, poll, 2)
    assert r.status_code == 201, r.json
    assert {k: r.json[k] for k in ("issued", "unused", "returned", "entered", "frozen")} == {
        "issued": 3,
        "unused": 2,
        "returned": 1,
        "entered": 0,
        "frozen": False,
    }
    r = _return(api, poll, 1)  # corrected before any entry
    assert r.status_code == 201 and r.json["returned"] == 2
    _enter_both(api, poll, codes[0], [a])
    _enter_both(api, poll, codes[1], [b])
    # a third paper ballot: only 3 − 1 = 2 came back in the box
    r = _enter(api, poll, "counter1", codes[2], [a])
    assert r.status_code == 409 and r.json["error"]["code"] == "paper_returns_exceeded"
    assert "2" in r.json["error"]["message"]
    # the declared number is frozen once an entry exists
    r = _return(api, poll, 0)
    assert r.status_code == 409 and r.json["error"]["code"] == "paper_return_frozen"
    res = api("counter1").post(f"/api/v1/polls/{poll.id}/count")
    assert res.status_code == 200, res.json
    assert res.json["figures"]["ballots_returned"] == 8
    actions = [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.seq)]
    assert actions.count("paper.returned") == 2


def test_single_entry_counts_against_the_room(world, api):
    poll, codes = _poll(world, n_paper=2, status="closed")
    a = poll.candidates[0].id
    assert _return(api, poll, 1).status_code == 201
    assert _enter(api, poll, "counter1", codes[0], [a]).status_code == 201  # pending
    r = _enter(api, poll, "counter2", codes[1], [a])
    assert r.status_code == 409 and r.json["error"]["code"] == "paper_returns_exceeded"
    # the second entry of the ballot already in entry is still accepted
    assert _enter(api, poll, "counter2", codes[0], [a]).json["state"] == "agreed"


def test_counter_of_another_committee_cannot_record_the_return(world, api):
    poll, _ = _poll(world, status="closed")
    r = _return(api, poll, 0, user="counter3")
    assert r.status_code == 403 and r.json["error"]["code"] == "not_on_committee"
    assert _return(api, poll, 0, user="chair").status_code == 403  # not a counter at all


def test_count_page_form_and_figures(world, auth, client):
    poll, _ = _poll(world, n_paper=3, status="closed")
    auth.login("counter1")
    html = client.get(f"/polls/{poll.id}/count").get_data(as_text=True)
    assert f'action="/polls/{poll.id}/paper-returns"' in html and 'name="csrf_token"' in html
    r = client.post(f"/polls/{poll.id}/paper-returns", data={"unused": "1"})
    assert r.status_code == 302
    html = client.get(f"/polls/{poll.id}/count").get_data(as_text=True)
    assert 'data-paper="issued">3<' in html and 'data-paper="unused">1<' in html
    assert 'data-paper="returned">2<' in html and 'data-paper="entered">0<' in html
    r = client.post(f"/polls/{poll.id}/paper-returns", data={"unused": "9"})
    assert r.status_code == 422


def test_minutes_show_the_four_paper_figures(world, api):
    from pypdf import PdfReader

    poll, codes = _poll(world, n_paper=4, status="closed")
    a = poll.candidates[0].id
    assert _return(api, poll, 1).status_code == 201
    _enter_both(api, poll, codes[0], [a])
    _enter_both(api, poll, codes[1], [a])
    assert api("counter1").post(f"/api/v1/polls/{poll.id}/count").status_code == 200
    for lang, labels in (
        (
            "vi",
            (
                "Số phiếu giấy phát ra",
                "Số phiếu giấy thu vào",
                "Số phiếu giấy đã nhập",
                "Số phiếu giấy không dùng",
            ),
        ),
        (
            "en",
            (
                "Paper ballots issued",
                "Returned in the box",
                "Paper ballots entered",
                "Unused paper ballots",
            ),
        ),
    ):
        pdf = api("counter1").get(f"/api/v1/polls/{poll.id}/minutes.pdf?lang={lang}")
        assert pdf.status_code == 200
        text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
        lines = text.splitlines()
        for label, value in zip(labels, ("4", "3", "2", "1"), strict=False):
            line = next((x for x in lines if label in x), None)
            assert line is not None, (label, text)
            assert line.rstrip().endswith(value), (label, line)


def test_paper_page_says_entry_waits(world, auth, client):
    poll, _ = _poll(world)
    auth.login("counter1")
    html = client.get(f"/polls/{poll.id}/paper").get_data(as_text=True)
    assert "flash-warn" in html and 'class="primary big" disabled' in html
    world.close(poll)
    db.session.commit()
    html = client.get(f"/polls/{poll.id}/paper").get_data(as_text=True)
    assert f"/polls/{poll.id}/count#paper-return" in html
    assert 'class="primary big" disabled' in html
    client.post(f"/polls/{poll.id}/paper-returns", data={"unused": "0"})
    html = client.get(f"/polls/{poll.id}/paper").get_data(as_text=True)
    assert 'class="primary big" disabled' not in html
