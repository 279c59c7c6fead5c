"""Paper ballots: printing, double entry, disputes, settling, late ballots, counting blocked."""

from __future__ import annotations

import io
import json

from congress_vote.ballots.models import Ballot, BallotToken, PaperEntry
from congress_vote.codes import code_hash, format_code
from congress_vote.counting.models import Signoff
from congress_vote.extensions import db


def _setup(
    world, n_paper=4, committee=("counter1", "counter2", "counter3"), head="counter3", votes=None
):
    poll = world.election(committee=committee, head=head, votes=votes or [[0, 1]] * 6)
    codes = world.issue(poll, n_paper, kind="paper")
    db.session.commit()
    # after the close the committee records the unused paper ballots collected back (none)
    from congress_vote.counting.paper_returns import record_paper_return

    record_paper_return(poll, 0, world.staff[committee[0]])
    db.session.commit()
    return poll, codes


def _enter(api, poll, user, code, **body):
    return api(user).post(f"/api/v1/polls/{poll.id}/paper-ballots", json={"code": code, **body})


def test_double_entry_agreement_counts_one_paper_ballot(world, api):
    poll, codes = _setup(world)
    a, b = poll.candidates[0].id, poll.candidates[2].id
    r = _enter(api, poll, "counter1", codes[0], kept=[b, a])
    assert r.status_code == 201 and r.json["state"] == "pending"
    # the same counter cannot enter it twice
    r = _enter(api, poll, "counter1", codes[0], kept=[a, b])
    assert r.status_code == 409 and r.json["error"]["code"] == "already_entered"
    # counting is refused while an entry is single
    r = api("counter1").post(f"/api/v1/polls/{poll.id}/count")
    assert r.status_code == 409 and r.json["error"]["code"] == "paper_entries_pending"
    # a second counter agrees (typed with dashes, from the QR URL form)
    r = _enter(api, poll, "counter2", f"http://vote.test/b/{codes[0]}", kept=[a, b])
    assert r.status_code == 201 and r.json["state"] == "agreed"
    entries = db.session.query(PaperEntry).filter_by(poll_id=poll.id).all()
    assert {e.state for e in entries} == {"agreed"} and len(entries) == 2
    ballot = db.session.query(Ballot).filter_by(poll_id=poll.id, source="paper").one()
    assert ballot.source == "paper" and json.loads(ballot.choice) == {"kept": sorted([a, b])}
    # once counted, no entry names the paper ballot's code any more (secrecy)
    assert {e.token_hash for e in entries} == {None}
    assert db.session.get(BallotToken, code_hash(codes[0])).state == "used"
    # a third entry of a counted ballot is refused
    assert _enter(api, poll, "counter3", codes[0], kept=[a]).status_code == 409
    res = api("counter1").post(f"/api/v1/polls/{poll.id}/count").json
    assert res["figures"]["ballots_returned"] == 7
    assert {c["id"]: c["votes"] for c in res["candidates"]}[b] == 1


def test_disagreement_then_settling(world, api, staff):
    poll, codes = _setup(world)
    a, b, c = (x.id for x in poll.candidates[:3])
    _enter(api, poll, "counter1", format_code(codes[1]), kept=[a])
    r = _enter(api, poll, "counter2", codes[1], kept=[b])
    assert r.status_code == 201 and r.json["state"] == "disputed"
    assert (
        api("counter1").post(f"/api/v1/polls/{poll.id}/count").json["error"]["code"]
        == "paper_entries_pending"
    )
    # a disputed ballot takes no further plain entries
    assert _enter(api, poll, "counter3", codes[1], kept=[a]).status_code == 409
    # only the committee head settles
    r = _enter(api, poll, "counter1", codes[1], kept=[a], settle=True)
    assert r.status_code == 403
    r = _enter(api, poll, "counter3", codes[1], invalid_reason="identifying_mark", settle=True)
    assert r.status_code == 201 and r.json["state"] == "agreed"
    states = sorted(e.state for e in db.session.query(PaperEntry).filter_by(poll_id=poll.id))
    assert states == ["agreed", "superseded", "superseded"]
    res = api("counter1").post(f"/api/v1/polls/{poll.id}/count").json
    assert res["figures"]["invalid_by_reason"] == {"identifying_mark": 1}


def test_paper_overvote_is_counted_invalid(world, api):
    poll, codes = _setup(world)
    ids = [c.id for c in poll.candidates]  # 3 names, 2 seats
    _enter(api, poll, "counter1", codes[2], kept=ids)
    r = _enter(api, poll, "counter2", codes[2], kept=ids)
    assert r.json["state"] == "agreed"
    res = api("counter1").post(f"/api/v1/polls/{poll.id}/count").json
    assert res["figures"]["invalid_by_reason"] == {"overvote": 1}


def test_entry_rules(world, api):
    poll, codes = _setup(world)
    slip = world.issue(poll, 1, kind="slip")[0]
    db.session.commit()
    assert _enter(api, poll, "counter1", "NOT-A-CODE", kept=[]).status_code == 422
    assert _enter(api, poll, "counter1", slip, kept=[]).status_code == 422  # a tablet slip
    assert _enter(api, poll, "counter1", codes[0], kept=[999999]).status_code == 422
    assert _enter(api, poll, "counter1", codes[0], invalid_reason="bogus").status_code in (400, 422)
    assert _enter(api, poll, "counter1", codes[0]).status_code == 400
    # not on this poll's committee
    other, ocodes = _setup(world, committee=("counter2",), head="counter2")
    assert _enter(api, other, "counter1", ocodes[0], kept=[]).status_code == 403


def test_late_paper_ballot_clears_signatures(world, api, sign_off):
    poll, codes = _setup(world)
    res = api("counter1").post(f"/api/v1/polls/{poll.id}/count").json
    for user in ("counter1", "counter2"):
        r = sign_off(user, poll.id, res["digest"])
        assert r.status_code == 201
    assert db.session.query(Signoff).filter_by(poll_id=poll.id).count() == 2
    a = poll.candidates[0].id
    _enter(api, poll, "counter1", codes[3], kept=[a])
    assert db.session.query(Signoff).filter_by(poll_id=poll.id).count() == 2  # single entry
    _enter(api, poll, "counter2", codes[3], kept=[a])
    assert db.session.query(Signoff).filter_by(poll_id=poll.id).count() == 0
    got = api("chair").get(f"/api/v1/polls/{poll.id}/result").json
    assert got["stale"] is True and got["signoffs"] == [] and got["status"] == "closed"
    # the old digest is refused; a recount gives a new one that can be signed
    r = sign_off("counter3", poll.id, res["digest"])
    assert r.status_code == 409
    new = api("counter1").post(f"/api/v1/polls/{poll.id}/count").json
    assert new["digest"] != res["digest"]
    assert new["figures"]["ballots_returned"] == res["figures"]["ballots_returned"] + 1


def test_entry_page_and_entry_log_pdf(world, api, auth, client):
    from pypdf import PdfReader

    poll, codes = _setup(world)
    a = poll.candidates[0].id
    auth.login("counter1")
    page = client.get(f"/polls/{poll.id}/paper")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert 'data-scanner data-target="#code-input"' in html and "js/scanner.js" in html
    r = client.post(f"/polls/{poll.id}/paper", data={"code": codes[0], "kept": [str(a)]})
    assert r.status_code == 302
    assert db.session.query(PaperEntry).filter_by(poll_id=poll.id).count() == 1
    _enter(api, poll, "counter2", codes[0], kept=[a])
    pdf = client.get(f"/polls/{poll.id}/entry-log.pdf?lang=en")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    assert "Counter1" in text and "Counter2" in text
    assert poll.candidates[0].full_name.split()[-1] in text


def test_print_paper_ballots(world, auth, client):
    from pypdf import PdfReader

    cid = world.congress()
    poll = world.poll(cid, seats=2, committee=("counter1",))
    db.session.commit()
    auth.login("counter1")
    r = client.post(f"/polls/{poll.id}/paper/print", data={"count": 3, "size": "A4"})
    assert r.status_code == 200, r.get_data(as_text=True)[:500]
    reader = PdfReader(io.BytesIO(r.data))
    assert len(reader.pages) == 3
    text = reader.pages[0].extract_text()
    assert poll.title in text and "Gạch tên người không bầu" in text
    for c in poll.candidates:
        assert c.full_name in text
    assert db.session.query(BallotToken).filter_by(poll_id=poll.id).count() == 3
