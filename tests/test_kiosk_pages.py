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
