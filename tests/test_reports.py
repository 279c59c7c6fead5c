"""The chair's side: publication, projector JSON in every state, the public results page, the
receipt check, the console. Figures are read from the stored result, never hard-coded."""

from __future__ import annotations

import json
import re

import pytest

from congress_vote.extensions import db
from tests import fx_reports as fx


@pytest.fixture
def w(app, staff):
    with app.app_context():
        world = fx.world(staff)
        db.session.commit()
        ids = {k: v.id for k, v in world.items()}
    return ids


def _advance(app, staff, pid, to, **kw):
    from congress_vote.polls.models import Poll

    with app.app_context():
        r = fx.advance(db.session.get(Poll, pid), to, staff, **kw)
        db.session.commit()
        return r


def _result(app, pid):
    from congress_vote.polls.models import Poll
    from congress_vote.reports.services import result_dict

    with app.app_context():
        return result_dict(db.session.get(Poll, pid))


def _secrets_of(result: dict) -> list[str]:
    """Strings that must not appear anywhere public before publication."""
    out = [c["full_name"] for c in result["candidates"]] + [result["digest"]]
    out += [c["percent"] for c in result["candidates"]]
    out += [i["percent_for"] for i in result["items"]]
    return out


def test_screen_json_in_every_state(app, client, staff, w):
    cid, pid = w["congress"], w["committee"]
    s = client.get(f"/congresses/{cid}/screen.json").json
    assert s["state"] == "idle"
    assert s["attendance"]["present"] == 23 and s["attendance"]["voters_present"] == 21
    assert "poll" not in s and "result" not in s

    _advance(app, staff, pid, "voted", n_cast=15, n_issued=19)
    s = client.get(f"/congresses/{cid}/screen.json").json
    assert s["state"] == "voting"
    assert s["poll"]["id"] == pid
    assert s["turnout"]["cast"] == 15 and s["turnout"]["issued"] == 19
    text = json.dumps(s, ensure_ascii=False)
    for name in fx.COMMITTEE:
        assert name not in text

    versions = set()
    for step in ("closed", "counted", "certified"):
        from congress_vote.polls.models import Poll

        with app.app_context():
            p = db.session.get(Poll, pid)
            if step == "closed":
                fx.close(p)
            elif step == "counted":
                fx.count(p)
            else:
                fx.certify(p, [staff["counter1"], staff["counter2"]])
            db.session.commit()
        r = client.get(f"/congresses/{cid}/screen.json")
        s = r.json
        assert s["state"] == "counting", step
        assert "result" not in s and "turnout" not in s
        body = r.get_data(as_text=True)
        if step != "closed":
            for secret in _secrets_of(_result(app, pid)):
                assert secret not in body, (step, secret)
            assert json.dumps(fx.COMMITTEE[0], ensure_ascii=False)[1:-1] not in body
        versions.add(s["version"])
        # the page itself too
        page = client.get(f"/congresses/{cid}/screen").get_data(as_text=True)
        for name in fx.COMMITTEE:
            assert name not in page

    r = api_publish(client, app, staff, pid)
    assert r.status_code == 200 and r.json["status"] == "published"
    s = client.get(f"/congresses/{cid}/screen.json").json
    assert s["state"] == "result"
    res = _result(app, pid)
    shown = s["result"]["candidates"]
    elected = [c for c in res["candidates"] if c["elected"]]
    # elected first, in the order of election, with votes and percent
    assert [c["id"] for c in shown[: len(elected)]] == res["elected_order"][: len(elected)]
    by_id = {c["id"]: c for c in res["candidates"]}
    for c in shown:
        assert c["votes"] == by_id[c["id"]]["votes"]
        assert c["percent"] == by_id[c["id"]]["percent"]
    for c in elected:
        assert c["full_name"] in s["html"]
    assert s["result"]["denominator"] == res["denominator"]


def api_publish(client, app, staff, pid, user="chair"):
    from tests.conftest import PASSWORD

    tok = client.post("/api/v1/session", json={"username": user, "password": PASSWORD}).json[
        "token"
    ]
    return client.post(f"/api/v1/polls/{pid}/publish", headers={"Authorization": f"Bearer {tok}"})


def test_publish_is_guarded(app, client, staff, w):
    pid = w["committee"]
    for state in ("open", "closed", "counted"):
        _advance(app, staff, pid, state) if state == "open" else None
        if state != "open":
            from congress_vote.polls.models import Poll

            with app.app_context():
                p = db.session.get(Poll, pid)
                if state == "closed":
                    fx.vote_randomly(p, 10, 12)
                    fx.close(p)
                else:
                    fx.count(p)
                db.session.commit()
        r = api_publish(client, app, staff, pid)
        assert r.status_code == 409, state
        assert r.json["error"]["code"] == "not_certified"
    from congress_vote.polls.models import Poll

    with app.app_context():
        fx.certify(db.session.get(Poll, pid), [staff["counter1"], staff["counter2"]])
        db.session.commit()
    for user in ("admin", "counter1", "observer", "registrar"):
        assert api_publish(client, app, staff, pid, user).status_code == 403
    r = api_publish(client, app, staff, pid)
    assert r.status_code == 200 and r.json["status"] == "published"
    assert api_publish(client, app, staff, pid).status_code == 409  # published already
    from congress_vote.audit.models import AuditEvent

    with app.app_context():
        ev = db.session.query(AuditEvent).filter_by(action="poll.published").one()
        assert json.loads(ev.data)["poll_id"] == pid
        assert ev.actor_id == staff["chair"]


def test_publish_from_console(app, client, auth, staff, w):
    cid, pid = w["congress"], w["slate"]
    _advance(app, staff, pid, "certified")
    auth.login("chair")
    page = client.get(f"/congresses/{cid}/console")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    # agenda order
    titles = [
        html.index(t) for t in ("Bầu Ban Chấp hành", "Bầu đoàn đại biểu", "Thông qua Nghị quyết")
    ]
    assert titles == sorted(titles)
    assert f"/console/polls/{pid}/publish" in html
    r = client.post(f"/congresses/{cid}/console/polls/{pid}/publish")
    assert r.status_code == 302
    from congress_vote.polls.models import Poll

    with app.app_context():
        assert db.session.get(Poll, pid).status == "published"
    # publishing again: a 409 page, not a crash
    assert client.post(f"/congresses/{cid}/console/polls/{pid}/publish").status_code == 409


def test_console_opens_and_closes_with_the_polls_services(app, client, auth, staff, w, key_cards):
    cid, pid = w["congress"], w["resolution"]
    key_cards.committee(cid, ("counter1", "counter2"))  # a secret poll opens sealed for them
    auth.login("chair")
    # without confirming, the console answers the confirmation page and opens nothing
    page = client.post(f"/congresses/{cid}/console/polls/{pid}/open")
    assert page.status_code == 200 and 'name="confirmed"' in page.get_data(as_text=True)
    r = client.post(f"/congresses/{cid}/console/polls/{pid}/open", data={"confirmed": "1"})
    assert r.status_code == 302
    from congress_vote.polls.models import Poll

    with app.app_context():
        assert db.session.get(Poll, pid).status == "open"
    html = client.get(f"/congresses/{cid}/console").get_data(as_text=True)
    assert f"/console/polls/{pid}/close" in html and 'class="turnout"' in html
    j = client.get(f"/congresses/{cid}/console.json").json
    assert [p for p in j["polls"] if p["id"] == pid][0]["turnout"]["issued"] == 0
    assert client.post(f"/congresses/{cid}/console/polls/{pid}/close").status_code == 302
    with app.app_context():
        assert db.session.get(Poll, pid).status == "closed"


def test_console_is_for_the_chair(app, client, auth, staff, w):
    cid = w["congress"]
    auth.login("observer")
    assert client.get(f"/congresses/{cid}/console").status_code == 403
    assert client.get(f"/congresses/{cid}/console.json").status_code == 200


def test_public_page_shows_only_published(app, client, staff, w):
    cid = w["congress"]
    r1 = _advance(app, staff, w["committee"], "published", seed=3)
    r2 = _advance(app, staff, w["slate"], "certified", seed=4)
    html = client.get(f"/congresses/{cid}/results").get_data(as_text=True)
    res1 = _result(app, w["committee"])
    for c in res1["candidates"]:
        assert c["full_name"] in html
    for code in r1:
        assert code in html
    for name in fx.SLATE:
        assert name not in html
    for code in r2:
        assert code not in html
    # receipts are listed sorted
    listed = re.findall(r"<li>([0-9A-Z]{4}-[0-9A-Z]{4})</li>", html)
    assert listed == sorted(r1)


def test_receipt_check(app, client, staff, w):
    cid = w["congress"]
    r1 = _advance(app, staff, w["committee"], "published", seed=5)
    r2 = _advance(app, staff, w["slate"], "counted", seed=6)
    res = _result(app, w["committee"])
    typed = r1[0].lower().replace("-", " ")
    html = client.post(f"/congresses/{cid}/results/check", data={"code": typed}).get_data(
        as_text=True
    )
    assert "Bầu Ban Chấp hành" in html and "flash-ok" in html
    # nothing of the choice: the page is the public page, whose figures are published anyway;
    # the confirmation itself names only the poll
    confirm = re.search(r'<div class="flash flash-ok"[^>]*>(.*?)</div>', html).group(1)
    assert not any(c["full_name"] in confirm for c in res["candidates"])
    html = client.post(f"/congresses/{cid}/results/check", data={"code": r2[0]}).get_data(
        as_text=True
    )
    assert "flash-warn" in html and "flash-ok" not in html
    r = client.post(f"/api/v1/congresses/{cid}/receipt-check", json={"code": r1[1]})
    assert r.json == {"counted": True, "polls": [{"id": w["committee"], "title": res["title"]}]}
    assert (
        client.post(f"/api/v1/congresses/{cid}/receipt-check", json={"code": "ZZZZ-ZZZZ"}).json[
            "counted"
        ]
        is False
    )
    assert (
        client.post(f"/api/v1/congresses/{cid}/receipt-check", json={"code": 5}).status_code == 400
    )


def test_receipt_check_is_rate_limited(database_url, _schema, staff):
    from tests.conftest import make_app

    app = make_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_CODE_ENTRY="3 per minute")
    with app.app_context():
        c = fx.make_congress(voters=3, excused=0, present=3, probationary=0)
        db.session.commit()
        cid = c.id
    client = app.test_client()
    codes = [
        client.post(f"/congresses/{cid}/results/check", data={"code": "AAAA-AAAA"}).status_code
        for _ in range(4)
    ]
    assert codes[:3] == [200, 200, 200] and codes[3] == 429


def test_unknown_congress_and_poll(client):
    assert client.get("/congresses/999999/screen.json").status_code == 404
    assert client.get("/api/v1/polls/999999/export.csv").status_code == 404
