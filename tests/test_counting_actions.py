"""The poll page links to the counting pages, per role and state (the "Counting" panel)."""

from __future__ import annotations

import re

from congress_vote.extensions import db
from congress_vote.polls.models import Poll


def _actions(client, auth, who, pid) -> dict[str, str]:
    client.post("/logout")
    auth.login(who)
    r = client.get(f"/polls/{pid}")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    links = dict(re.findall(r'data-action="([a-z_]+)" href="([^"]+)"', html))
    # the minutes are a form that starts their background job (jobs/poll_documents.py)
    forms = re.findall(
        r'<form method="post" action="([^"]+)"[^>]*>.*?data-action="([a-z_]+)"', html
    )
    return {**links, **{key: action for action, key in forms}}


def test_secret_election_actions_by_state_and_role(world, api, auth, client, sign_off):
    # 20 voters, 2 seats: A 12, B 6, C 6 -> one seat unfilled (the admin may propose a round)
    poll = world.election(voters=20, seats=2, votes=[[0, 1]] * 6 + [[0, 2]] * 6, unused=0)
    pid = poll.id
    count_url = f"/polls/{pid}/count"

    # closed: the counter counts (and may enter paper ballots); the others see the count page
    got = _actions(client, auth, "counter1", pid)
    assert got["count"] == count_url and got["paper"] == f"/polls/{pid}/paper"
    assert got["review"] == f"/polls/{pid}/ballots"
    assert "minutes" not in got and "sign" not in got and "hand_count" not in got
    for who in ("chair", "observer"):
        got = _actions(client, auth, who, pid)
        assert got["result"] == count_url and got["review"] == f"/polls/{pid}/ballots", who
        assert "count" not in got and "paper" not in got and "minutes" not in got
    assert set(_actions(client, auth, "admin", pid)) == {"result"}
    assert _actions(client, auth, "registrar", pid) == {}

    # counted: committee members sign; minutes for counter and chair; next round for the admin
    assert api("counter1").post(f"/api/v1/polls/{pid}/count").status_code == 200
    got = _actions(client, auth, "counter1", pid)
    assert got["sign"] == count_url + "#sign"
    assert got["minutes"] == f"/polls/{pid}/documents/minutes" and got["result"] == count_url
    assert "sign" not in _actions(client, auth, "counter3", pid)  # not on this committee
    assert set(_actions(client, auth, "chair", pid)) == {"result", "review", "minutes"}
    assert set(_actions(client, auth, "observer", pid)) == {"result", "review"}
    got = _actions(client, auth, "admin", pid)
    assert got["next_round"] == count_url + "#next-round"

    # the links lead to pages these roles may open, with the anchors present
    client.post("/logout")
    auth.login("counter1")
    page = client.get(count_url).get_data(as_text=True)
    assert 'id="sign"' in page and f'action="/polls/{pid}/sign"' in page
    assert client.get(f"/polls/{pid}/minutes.pdf").status_code == 200
    client.post("/logout")
    auth.login("admin")
    assert 'id="next-round"' in client.get(count_url).get_data(as_text=True)

    # signed by counter1: no more "sign" for them
    digest = api("counter1").get(f"/api/v1/polls/{pid}/result").json["digest"]
    sign_off("counter1", pid, digest)
    assert "sign" not in _actions(client, auth, "counter1", pid)
    assert "sign" in _actions(client, auth, "counter2", pid)


def test_draft_and_open_secret_poll_have_no_count_links(world, auth, client):
    cid = world.congress(voters=10)
    draft = world.poll(cid, status="draft")
    db.session.commit()
    for who in ("admin", "counter1", "chair", "observer"):
        assert _actions(client, auth, who, draft.id) == {}, who
    draft.status = "open"
    db.session.commit()
    # open: only the paper ballots page (printing; entry waits for the close and the return)
    assert _actions(client, auth, "counter1", draft.id) == {"paper": f"/polls/{draft.id}/paper"}
    assert _actions(client, auth, "chair", draft.id) == {}


def test_show_of_hands_while_open_and_closed(world, auth, client):
    cid = world.congress(voters=10)
    poll = world.poll(cid, kind="resolution", secrecy="open", status="open")
    db.session.commit()
    pid = poll.id
    got = _actions(client, auth, "counter1", pid)
    assert got["hand_count"] == f"/polls/{pid}/hand-count"
    assert got["result"] == f"/polls/{pid}/count" and "paper" not in got
    assert "hand_count" not in _actions(client, auth, "chair", pid)
    client.post("/logout")
    auth.login("counter1")
    r = client.post(
        f"/polls/{pid}/hand-count",
        data={
            f"for-{poll.items[0].id}": "6",
            f"against-{poll.items[0].id}": "1",
            f"abstain-{poll.items[0].id}": "0",
        },
    )
    assert r.status_code == 302
    world.close(db.session.get(Poll, pid))
    db.session.commit()
    got = _actions(client, auth, "counter1", pid)
    assert "hand_count" in got and got["count"] == f"/polls/{pid}/count"
