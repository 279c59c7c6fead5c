"""The kiosk's ballot pages without a browser (the server's half of issue 17 item 4 and issue 18
part 1; tests/e2e/test_kiosk_ballot.py drives the same pages in Chromium): an all-struck ballot is
reviewed with a note and cast only with `confirm_invalid`, a cast sent again answers the same
receipt, and every refusal links back to the kiosk's start page."""

from __future__ import annotations

import re

from werkzeug.datastructures import MultiDict


def _receipt(html: str) -> str | None:
    m = re.search(r'class="receipt-code">([^<]+)<', html)
    return m.group(1).strip() if m else None


def _cast_count(hall, pid: int) -> int:
    from congress_vote.ballots.services import turnout
    from congress_vote.extensions import db
    from congress_vote.polls.models import Poll

    with hall.app.app_context():
        return turnout(db.session.get(Poll, pid))["cast"]


def test_all_struck_is_asked_twice_and_a_repeated_cast_answers_its_receipt(hall, client):
    cid, poll, tokens = hall.open_poll_with_ballots(n=2)
    ids = [str(c["id"]) for c in poll["candidates"]]
    url = f"/b/{tokens[0]}?k={cid}"
    every = [("struck", i) for i in ids]

    r = client.post(url, data=MultiDict([*every, ("step", "review")]))
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "data-invalid-note" in page and "data-cast" in page
    assert 'name="confirm_invalid"' not in page  # the first review only says so

    r = client.post(url, data=MultiDict([*every, ("step", "cast")]))
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and _receipt(page) is None
    assert 'name="confirm_invalid" value="yes"' in page  # the second question
    assert _cast_count(hall, poll["id"]) == 0

    r = client.post(url, data=MultiDict([*every, ("step", "cast"), ("confirm_invalid", "yes")]))
    first = _receipt(r.get_data(as_text=True))
    assert r.status_code == 200 and first
    assert _cast_count(hall, poll["id"]) == 1

    # the same cast again (its answer lost on the way back): the same receipt, nothing more cast
    r = client.post(url, data=MultiDict([*every, ("step", "cast"), ("confirm_invalid", "yes")]))
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and _receipt(page) == first and "data-received-before" in page
    assert _cast_count(hall, poll["id"]) == 1
    # opened again later (not a cast): already cast, and the way back to the kiosk
    r = client.get(url)
    assert r.status_code == 409 and f'href="/kiosk/{cid}" data-start-link' in r.get_data(
        as_text=True
    )


def test_refusals_link_back_to_the_kiosk_start(hall, client):
    cid, poll, tokens = hall.open_poll_with_ballots(n=1)
    hall.close(poll["id"])
    start = f'href="/kiosk/{cid}" data-start-link'
    for url in (f"/b/{tokens[0]}?k={cid}", f"/b/{tokens[0]}", f"/b/2222-2222-2222-2222-2?k={cid}"):
        r = client.get(url)
        assert r.status_code in (404, 409) and start in r.get_data(as_text=True), url
    r = client.get(f"/kiosk/{cid}/vote/999999")
    assert r.status_code == 404 and start in r.get_data(as_text=True)


def _named_unlock(hall, client, cid: int, did: int, pid: int) -> None:
    r = client.post(f"/kiosk/{cid}", data={"code": f"CV1:C:{hall.cards[did]}"})
    assert r.status_code == 303 and r.location.endswith(f"/kiosk/{cid}/vote/{pid}")


def _named_votes(hall, pid: int) -> dict[int, tuple[str, str]]:
    from congress_vote.ballots.models import NamedVote
    from congress_vote.extensions import db

    with hall.app.app_context():
        rows = db.session.scalars(db.select(NamedVote).where(NamedVote.poll_id == pid))
        return {v.delegate_id: (v.choice, v.receipt) for v in rows}


def test_a_named_cast_sent_again_from_its_kiosk_session_answers_its_receipt(hall, client):
    """Issue 17 item 4 for an open (named) poll: the cast's answer is lost (the tablet keeps the
    session cookie it had before the cast) and the page sends it again: the receipt again, once
    recorded; a different choice is not recorded; another session or delegate gets nothing."""
    cid = hall.congress(voters=3)
    poll = hall.poll(cid, "resolution", secrecy="open")
    hall.open(poll["id"])
    pid, items = poll["id"], [str(i["id"]) for i in poll["items"]]
    (a, *_r), (b, *_s) = hall.delegates(cid)[:2]
    url = f"/kiosk/{cid}/vote/{pid}"
    cast = {"step": "cast", f"i{items[0]}": "for", f"i{items[1]}": "against"}

    _named_unlock(hall, client, cid, a, pid)
    before = client.get_cookie("session").value  # what the tablet holds when it taps "Bỏ phiếu"
    r = client.post(url, data=cast)
    first = _receipt(r.get_data(as_text=True))
    assert r.status_code == 200 and first
    assert "data-received-before" not in r.get_data(as_text=True)
    stored = _named_votes(hall, pid)
    assert list(stored) == [a] and stored[a][1] == first

    # the answer never arrived: the tablet sends the same cast with the cookie it had
    client.set_cookie("session", before)
    r = client.post(url, data=cast)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and _receipt(page) == first and "data-received-before" in page
    assert "Đảng viên Số" not in page  # the receipt page tells nothing new
    assert _named_votes(hall, pid) == stored

    # the same session with another choice: nothing recorded, the vote stays as cast
    client.set_cookie("session", before)
    other = {**cast, f"i{items[0]}": "abstain"}
    r = client.post(url, data=other)
    assert r.status_code == 200 and _receipt(r.get_data(as_text=True)) == first
    assert _named_votes(hall, pid) == stored

    # the same session's review (not a cast) is refused as before: no receipt
    client.set_cookie("session", before)
    r = client.post(url, data={**cast, "step": "review"})
    assert r.status_code == 409 and _receipt(r.get_data(as_text=True)) is None

    # a new session of the same delegate (the card scanned again at another time) gets nothing
    fresh = hall.app.test_client()
    fresh.environ_base.update(client.environ_base)  # the same kiosk
    r = fresh.post(f"/kiosk/{cid}", data={"code": f"CV1:C:{hall.cards[a]}"})
    assert r.status_code == 409
    # another delegate at the same tablet: their own vote, their own receipt
    _named_unlock(hall, client, cid, b, pid)
    r = client.post(url, data=cast)
    second = _receipt(r.get_data(as_text=True))
    assert r.status_code == 200 and second and second != first
    assert "data-received-before" not in r.get_data(as_text=True)
    assert {k: v[1] for k, v in _named_votes(hall, pid).items()} == {a: first, b: second}


def test_a_named_cast_from_another_session_of_the_same_card_answers_no_receipt(hall, client):
    """Two unlocks of the same card (two kiosk sessions, e.g. two tablets): the vote cast in
    one is not answered with its receipt in the other."""
    cid = hall.congress(voters=2)
    poll = hall.poll(cid, "resolution", secrecy="open")
    hall.open(poll["id"])
    pid, items = poll["id"], [str(i["id"]) for i in poll["items"]]
    a = hall.delegates(cid)[0][0]
    url = f"/kiosk/{cid}/vote/{pid}"
    cast = {"step": "cast", f"i{items[0]}": "for", f"i{items[1]}": "for"}
    other = hall.app.test_client()
    other.environ_base.update(client.environ_base)
    _named_unlock(hall, client, cid, a, pid)
    _named_unlock(hall, other, cid, a, pid)
    r = client.post(url, data=cast)
    first = _receipt(r.get_data(as_text=True))
    assert r.status_code == 200 and first
    r = other.post(url, data=cast)
    page = r.get_data(as_text=True)
    assert r.status_code == 409 and _receipt(page) is None and first not in page
    assert len(_named_votes(hall, pid)) == 1
