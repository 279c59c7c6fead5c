"""Ballots: issuance limits, the download-once slips, resolving codes, casting guards in the API
and the HTML pages, named votes, turnout, rate limiting."""

import json
import re

import pytest

from congress_vote import codes
from congress_vote.extensions import db


def _typo(code: str) -> str:
    """The same code with one character changed (the check character must catch it)."""
    i = 5
    ch = codes.ALPHABET[(codes.ALPHABET.index(code[i]) + 1) % 32]
    return code[:i] + ch + code[i + 1 :]


def test_issuance_limited_by_voters_present(hall, api):
    cid = hall.congress(voters=6, present=4, probationary=2)
    pid = hall.poll(cid)["id"]
    r = api("counter1").post(f"/api/v1/polls/{pid}/ballots", json={"count": 1})
    assert r.status_code == 409 and r.json["error"]["code"] == "poll_not_open"
    hall.open(pid)
    out = hall.issue(pid, 3)
    assert len(out["tokens"]) == 3 and len(set(out["tokens"])) == 3
    assert all(codes.normalise(t) == t for t in out["tokens"])
    assert [codes.normalise(c) for c in out["codes"]] == out["tokens"]
    assert out["pdf_url"] == f"/polls/{pid}/slips/{out['batch_id']}.pdf"
    r = api("counter1").post(f"/api/v1/polls/{pid}/ballots", json={"count": 2})
    assert r.status_code == 409 and r.json["error"]["code"] == "too_many_ballots"
    hall.issue(pid, 1)  # the 4th voter present
    r = api("counter1").post(f"/api/v1/polls/{pid}/ballots", json={"count": 1})
    assert r.status_code == 409
    for bad in ({"count": 0}, {"count": -1}):
        assert api("counter1").post(f"/api/v1/polls/{pid}/ballots", json=bad).status_code == 422
    assert (
        api("counter1").post(f"/api/v1/polls/{pid}/ballots", json={"count": "2"}).status_code == 400
    )
    assert api("chair").post(f"/api/v1/polls/{pid}/ballots", json={"count": 1}).status_code == 403
    # only hashes are stored
    from congress_vote.ballots.models import BallotToken

    with hall.app.app_context():
        hashes = set(db.session.scalars(db.select(BallotToken.token_hash)))
    assert hashes == {codes.code_hash(t) for t in out["tokens"]} | (
        hashes - {codes.code_hash(t) for t in out["tokens"]}
    )
    assert not any(t in hashes for t in out["tokens"])


def test_slips_pdf_downloads_again_and_is_private(hall, api, client, auth):
    _, poll, _ = hall.open_poll_with_ballots(2)
    out = hall.issue(poll["id"], 1)
    url = out["pdf_url"]
    assert api("observer").get(url).status_code in (302, 403)
    auth.login("counter1")
    r = client.get(url)
    assert r.status_code == 200 and r.mimetype == "application/pdf" and r.data[:4] == b"%PDF"
    assert client.get(url).data == r.data  # again, until the poll closes (tests/test_batch_pdf)
    for fake in (
        url.replace(f"/{out['batch_id']}.pdf", "/999999.pdf"),
        url.replace(f"/{out['batch_id']}.pdf", "/x.pdf"),
    ):
        assert client.get(fake).status_code == 404


def test_resolve_code_accepts_url_formatted_raw():
    from congress_vote.ballots.services import resolve_code

    code = codes.new_code()
    assert resolve_code(code) == code
    assert resolve_code(codes.format_code(code).lower()) == code
    assert resolve_code(f"http://vote.test/b/{code}") == code
    assert resolve_code(f"http://vote.test/b/{code}?x=1") == code
    assert resolve_code(_typo(code)) is None
    assert resolve_code("hello") is None and resolve_code(None) is None


def test_cast_through_api_and_guards(hall, api, client):
    cid, poll, tokens = hall.open_poll_with_ballots(3)
    pid = poll["id"]
    ids = [c["id"] for c in poll["candidates"]]
    t = tokens[0]
    r = client.get(f"/api/v1/ballot/{t}")
    assert r.status_code == 200 and r.json["poll"]["id"] == pid
    assert [c["id"] for c in r.json["candidates"]] == ids
    # over-vote: refused, and the token stays usable
    r = client.post(f"/api/v1/ballot/{t}", json={"kept": ids})
    assert r.status_code == 422 and r.json["error"]["code"] == "overvote"
    r = client.post(f"/api/v1/ballot/{t}", json={"kept": [999999]})
    assert r.status_code == 422 and r.json["error"]["code"] == "unknown_candidate"
    r = client.post(f"/api/v1/ballot/{t}", json={"kept": [ids[0], ids[0]]})
    assert r.status_code == 422 and r.json["error"]["code"] == "duplicate_candidate"
    assert client.post(f"/api/v1/ballot/{t}", json={"kept": "x"}).status_code == 400
    assert client.get(f"/api/v1/ballot/{t}").status_code == 200
    r = client.post(f"/api/v1/ballot/{codes.format_code(t)}", json={"kept": ids[:2]})
    assert r.status_code == 201 and re.fullmatch(r"([2-9A-Z]{4}-){3}[2-9A-Z]{4}", r.json["receipt"])
    # used
    r = client.post(f"/api/v1/ballot/{t}", json={"kept": ids[:1]})
    assert r.status_code == 409 and r.json["error"]["code"] == "ballot_used"
    assert client.get(f"/api/v1/ballot/{t}").json["error"]["code"] == "ballot_used"
    # forged code with a valid check character, and a typo
    forged = codes.new_code()
    r = client.post(f"/api/v1/ballot/{forged}", json={"kept": []})
    assert r.status_code == 404 and r.json["error"]["code"] == "unknown_ballot"
    r = client.get(f"/api/v1/ballot/{_typo(tokens[1])}", headers={"Accept-Language": "en"})
    assert r.status_code == 404 and r.json["error"]["code"] == "unknown_ballot"
    assert "check the characters" in r.json["error"]["message"]
    # striking every name on a list with a surplus is invalid under vn-party (QĐ 244 art. 17):
    # refused unless the voter confirms a deliberately spoiled ballot
    r = client.post(f"/api/v1/ballot/{tokens[1]}", json={"kept": []})
    assert r.status_code == 422 and r.json["error"]["code"] == "all_struck"
    body = {"kept": [], "confirm_invalid": True}
    assert client.post(f"/api/v1/ballot/{tokens[1]}", json=body).status_code == 201
    # closed poll: the last token is void
    hall.close(pid)
    r = client.post(f"/api/v1/ballot/{tokens[2]}", json={"kept": []})
    assert r.status_code == 409 and r.json["error"]["code"] == "poll_not_open"
    from congress_vote.seal.models import SealedBallot

    with hall.app.app_context():  # the poll is sealed: its ballots are in the box
        assert db.session.scalar(db.select(db.func.count()).select_from(SealedBallot)) == 2


def test_resolution_ballot(hall, client):
    _, poll, tokens = hall.open_poll_with_ballots(2, kind="resolution")
    items = [i["id"] for i in poll["items"]]
    r = client.post(
        f"/api/v1/ballot/{tokens[0]}",
        json={"answers": {str(items[0]): "for", str(items[1]): "maybe"}},
    )
    assert r.status_code == 422 and r.json["error"]["code"] == "bad_answer"
    r = client.post(
        f"/api/v1/ballot/{tokens[0]}",
        json={"answers": {str(items[0]): "for", str(items[1]): "abstain"}},
    )
    assert r.status_code == 201
    from congress_vote.ballots.models import Ballot

    hall.close(poll["id"])
    hall.count(poll["id"])  # the sealed box opened
    with hall.app.app_context():
        b = db.session.scalar(db.select(Ballot))
        assert b.choice == f'{{"answers":{{"{items[0]}":"for","{items[1]}":"abstain"}}}}'


def test_other_congress_at_a_kiosk(hall, client):
    cid, poll, tokens = hall.open_poll_with_ballots(2)
    other = hall.congress(name="Đại hội khác")
    r = client.post(f"/kiosk/{other}", data={"code": codes.format_code(tokens[0])})
    assert (
        r.status_code == 409
        and b"another congress" in r.data.replace(b"\xc4\x91", b"").lower()
        or r.status_code == 409
    )
    # the kiosk of another congress opens and casts none of this congress's ballots
    r = client.post(f"/b/{tokens[0]}?k={other}", data={"step": "cast"})
    assert r.status_code == 403
    r = client.get(f"/b/{tokens[0]}?k={other}")
    assert r.status_code == 403
    # still usable at its own congress's kiosk
    hall.use_kiosk(cid)
    r = client.post(f"/kiosk/{cid}", data={"code": codes.format_code(tokens[0])})
    assert r.status_code == 303 and r.location.endswith(f"/b/{tokens[0]}?k={cid}")


def test_html_ballot_flow_without_js(hall, client):
    cid, poll, tokens = hall.open_poll_with_ballots(2)
    ids = [c["id"] for c in poll["candidates"]]
    t = tokens[0]
    page = client.get(f"/b/{t}?k={cid}")
    assert page.status_code == 200
    html = page.data.decode()
    assert 'autocomplete="off"' in html and 'method="post"' in html
    assert [int(x) for x in re.findall(r'name="struck" value="(\d+)"', html)] == ids
    assert page.headers["Cache-Control"] == "no-store"
    # strike nothing: 3 kept of 2 seats → the over-vote message, no confirmation
    r = client.post(f"/b/{t}?k={cid}", data={"step": "review"})
    assert r.status_code == 422 and b'data-overvote role="alert"' in r.data
    assert b'class="overvote hidden"' not in r.data
    # strike one: the confirmation lists the choice, nothing stored yet
    r = client.post(f"/b/{t}?k={cid}", data={"step": "review", "struck": [str(ids[1])]})
    assert r.status_code == 200 and b'value="cast"' in r.data
    assert f'name="struck" value="{ids[1]}"'.encode() in r.data
    from congress_vote.ballots.models import Ballot, BallotToken

    with hall.app.app_context():
        assert db.session.get(BallotToken, codes.code_hash(t)).state == "unused"
    # a forged over-vote sent straight to "cast" is refused and the token stays unused
    r = client.post(f"/b/{t}?k={cid}", data={"step": "cast"})
    assert r.status_code == 422
    with hall.app.app_context():
        assert db.session.get(BallotToken, codes.code_hash(t)).state == "unused"
    r = client.post(f"/b/{t}?k={cid}", data={"step": "cast", "struck": [str(ids[1])]})
    assert r.status_code == 200
    receipt = re.search(rb'class="receipt-code">([^<]+)<', r.data).group(1).decode()
    assert f"url=/kiosk/{cid}".encode() in r.data  # back to the scanner
    from congress_vote.seal.box import tracker
    from congress_vote.seal.models import SealedBallot

    with hall.app.app_context():  # sealed, its receipt the tracker; opened at the count
        sealed = db.session.scalars(db.select(SealedBallot.ciphertext)).all()
        assert [tracker(bytes(c)) for c in sealed] == [receipt]
    hall.close(poll["id"])
    hall.count(poll["id"])
    with hall.app.app_context():
        b = db.session.scalar(db.select(Ballot))
        assert b.receipt is None and b.choice == '{{"kept":[{},{}]}}'.format(
            *sorted([ids[0], ids[2]])
        )
    r = client.get(f"/b/{t}")
    assert r.status_code == 409 and "Phiếu này đã được bỏ.".encode() in r.data  # Vietnamese default
    # no choice ever in a URL: the form posts to the ballot's own URL only
    assert not re.search(r'action="[^"]*struck', html)


def test_html_kiosk_errors(hall, client):
    cid, poll, tokens = hall.open_poll_with_ballots(1)
    page = client.get(f"/kiosk/{cid}")
    assert page.status_code == 200
    html = page.data.decode()
    assert 'data-scanner data-target="#code-input" data-submit="true"' in html
    assert "js/scanner.js" in html and 'autocomplete="off"' in html
    # The service's own message, translated (Vietnamese by default): a mistyped code and a
    # well-formed code nobody issued are told apart.
    typo = client.post(f"/kiosk/{cid}", data={"code": "hello"})
    assert typo.status_code == 404
    assert "Mã này không phải phiếu bầu — hãy kiểm tra lại các ký tự." in typo.data.decode()
    assert client.post(f"/kiosk/{cid}", data={"code": _typo(tokens[0])}).status_code == 404
    unknown = client.post(f"/kiosk/{cid}", data={"code": codes.new_code()})
    assert unknown.status_code == 404
    assert "Không có phiếu bầu nào mang mã này." in unknown.data.decode()
    page = client.get(f"/b/{codes.new_code()}")
    assert page.status_code == 404 and "Không có phiếu bầu nào mang mã này." in page.data.decode()
    r = client.post(f"/kiosk/{cid}", data={"code": f"http://vote.test/b/{tokens[0]}"})
    assert r.status_code == 303
    assert client.get(f"/b/{_typo(tokens[0])}").status_code == 404
    assert client.get("/kiosk/999999").status_code == 404


def test_agree_disagree_when_candidates_equal_seats(hall, client):
    cid, poll, tokens = hall.open_poll_with_ballots(1, seats=3)
    ids = [c["id"] for c in poll["candidates"]]
    html = client.get(f"/b/{tokens[0]}").data.decode()
    assert f'name="c{ids[0]}" value="agree"' in html and "disagree" in html
    assert html.count("<span>Đồng ý</span>") == 3 and html.count("<span>Không đồng ý</span>") == 3
    # the review says each name's mark; the third, marked in neither box, has no valid mark
    review = client.post(
        f"/b/{tokens[0]}", data={"step": "review", f"c{ids[0]}": "agree", f"c{ids[1]}": "disagree"}
    ).data.decode()
    tags = re.findall(r'<b class="answer-tag">([^<]*)</b>', review)
    assert tags == ["Đồng ý", "Không đồng ý", "Không có dấu hợp lệ"], tags
    r = client.post(
        f"/b/{tokens[0]}", data={"step": "cast", f"c{ids[0]}": "agree", f"c{ids[1]}": "disagree"}
    )
    assert r.status_code == 200
    from congress_vote.ballots.models import Ballot

    hall.close(poll["id"])
    hall.count(poll["id"])  # the sealed box opened
    with hall.app.app_context():
        stored = json.loads(db.session.scalar(db.select(Ballot.choice)))
    # the marks as given: the third name, marked in neither box, counts for no one (issue 18)
    assert stored["marks"] == {str(ids[0]): "agree", str(ids[1]): "disagree"}


def test_single_name_without_a_mark_is_asked_again_and_counted_invalid(hall, client):
    cid, poll, tokens = hall.open_poll_with_ballots(
        1, seats=1, candidates=[{"full_name": "Trần Văn Bình", "position": "Bí thư"}]
    )
    cand = poll["candidates"][0]["id"]
    review = client.post(f"/b/{tokens[0]}", data={"step": "review"})
    assert review.status_code == 200 and "data-invalid-note" in review.data.decode()
    again = client.post(f"/b/{tokens[0]}", data={"step": "cast"})
    assert "confirm_invalid" in again.data.decode()  # asked a second time, nothing cast
    shown = client.get(f"/b/{tokens[0]}")
    assert shown.status_code == 200 and f'name="c{cand}"' in shown.data.decode()
    cast = client.post(f"/b/{tokens[0]}", data={"step": "cast", "confirm_invalid": "yes"})
    assert cast.status_code == 200
    hall.close(poll["id"])
    result = hall.count(poll["id"])
    assert result["figures"]["invalid_by_reason"] == {"no_mark": 1}


def test_named_vote_at_kiosk_and_api(hall, client, api):
    cid = hall.congress(voters=3, present=2, probationary=1)
    poll = hall.poll(cid, "resolution", secrecy="open")
    pid = poll["id"]
    items = [i["id"] for i in poll["items"]]
    hall.open(pid)
    ds = hall.delegates(cid)
    present, absent, prob = ds[0][0], ds[2][0], ds[3][0]
    assert (
        api("counter1").post(f"/api/v1/polls/{pid}/ballots", json={"count": 1}).status_code == 409
    )  # no slips for open polls
    r = client.post(f"/kiosk/{cid}", data={"code": codes.format_code(hall.cards[absent])})
    assert r.status_code == 409
    r = client.post(f"/kiosk/{cid}", data={"code": f"CV1:C:{hall.cards[prob]}"})
    assert r.status_code == 409
    r = client.post(f"/kiosk/{cid}", data={"code": f"CV1:C:{hall.cards[present]}"})
    assert r.status_code == 303 and r.location.endswith(f"/kiosk/{cid}/vote/{pid}")
    page = client.get(f"/kiosk/{cid}/vote/{pid}")
    assert page.status_code == 200 and "Đảng viên Số 0".encode() in page.data
    r = client.post(
        f"/kiosk/{cid}/vote/{pid}",
        data={"step": "cast", f"i{items[0]}": "for", f"i{items[1]}": "against"},
    )
    assert r.status_code == 200 and b"receipt-code" in r.data
    # the card unlocked one ballot: a second try is refused
    assert client.get(f"/kiosk/{cid}/vote/{pid}").status_code == 403
    r = client.post(f"/kiosk/{cid}", data={"code": f"CV1:C:{hall.cards[present]}"})
    assert r.status_code == 409
    r = client.post(
        f"/api/v1/polls/{pid}/named-votes",
        json={"card": hall.cards[present], "answers": {str(items[0]): "for"}},
    )
    assert r.status_code == 409 and r.json["error"]["code"] == "ballot_used"
    other = ds[1][0]
    r = client.post(
        f"/api/v1/polls/{pid}/named-votes",
        json={"card": hall.cards[other], "answers": {str(items[0]): "abstain"}},
    )
    assert r.status_code == 201
    from congress_vote.ballots.models import NamedVote

    with hall.app.app_context():
        votes = {v.delegate_id: v.choice for v in db.session.scalars(db.select(NamedVote))}
    assert votes == {
        present: f'{{"answers":{{"{items[0]}":"for","{items[1]}":"against"}}}}',
        other: f'{{"answers":{{"{items[0]}":"abstain"}}}}',
    }
    t = api("observer").get(f"/api/v1/polls/{pid}/turnout").json
    assert t["cast"] == 2 and t["voters_present"] == 2


def test_turnout_counts_only(hall, client, api):
    cid, poll, tokens = hall.open_poll_with_ballots(4)
    pid = poll["id"]
    client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": [], "confirm_invalid": True})
    t = api("observer").get(f"/api/v1/polls/{pid}/turnout")
    assert t.status_code == 200
    assert {k: t.json[k] for k in ("issued", "cast", "remaining", "voided", "voters_present")} == {
        "issued": 4,
        "cast": 1,
        "remaining": 3,
        "voided": 0,
        "voters_present": 10,
    }
    assert "kept" not in t.text and "choice" not in t.text
    assert client.get(f"/api/v1/polls/{pid}/turnout").status_code == 401
    hall.close(pid)
    t = api("observer").get(f"/api/v1/polls/{pid}/turnout").json
    assert (t["cast"], t["remaining"], t["voided"]) == (1, 0, 3)


def test_audit_of_a_cast_names_only_the_poll(hall, client):
    _, poll, tokens = hall.open_poll_with_ballots(1)
    client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": [], "confirm_invalid": True})
    from congress_vote.audit.models import AuditEvent

    with hall.app.app_context():
        ev = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "ballot.cast"))
        assert ev.data == f'{{"poll_id":{poll["id"]}}}' and ev.actor_id is None
        dump = " ".join(e.data for e in db.session.scalars(db.select(AuditEvent)))
    assert tokens[0] not in dump and codes.code_hash(tokens[0]) not in dump


@pytest.fixture
def limited_app(rate_limited_app):
    return rate_limited_app("5 per minute")


@pytest.fixture
def limited_client(limited_app):
    yield limited_app.test_client()


def test_valid_votes_do_not_use_up_the_code_entry_budget(limited_app):
    """A kiosk tablet is one client for a whole queue of voters: only failed lookups count."""
    from congress_vote.ballots.issuing import issue_ballots
    from tests.fx_polls import bare_hall

    app = limited_app
    with app.app_context():
        # 12 present voters, the counter "dem" the poll's committee
        c, counter, (p,), kiosk = bare_hall(12, "dem", seats=2)
        tokens = issue_ballots(p, 8, counter).codes
        cid = c.id
        db.session.commit()
    client = app.test_client()
    client.environ_base["HTTP_X_KIOSK_TOKEN"] = kiosk  # an enrolled tablet
    for t in tokens:  # 8 voters x 4 requests, well over 5 per minute
        assert client.post(f"/kiosk/{cid}", data={"code": t}).status_code == 303
        assert client.get(f"/b/{t}?k={cid}").status_code == 200
        assert client.post(f"/b/{t}?k={cid}", data={"step": "review"}).status_code == 200
        assert client.post(f"/b/{t}?k={cid}", data={"step": "cast"}).status_code == 200


def test_code_entry_is_rate_limited(limited_client):
    """One budget per client across every code-entry route (API, ballot page, kiosk)."""
    c = limited_client
    attempts = [
        c.get(f"/api/v1/ballot/{codes.new_code()}"),
        c.get(f"/b/{codes.new_code()}"),
        c.post(f"/b/{codes.new_code()}", data={"step": "review"}),
        c.post("/kiosk/1", data={"code": "x"}),
        c.post(f"/api/v1/ballot/{codes.new_code()}", json={"kept": []}),
    ]
    assert [r.status_code for r in attempts] == [404] * 5
    after = [
        c.get(f"/api/v1/ballot/{codes.new_code()}"),
        c.get(f"/b/{codes.new_code()}"),
        c.post("/kiosk/1", data={"code": "x"}),
        c.post(f"/api/v1/ballot/{codes.new_code()}", json={"kept": []}),
    ]
    assert [r.status_code for r in after] == [429] * 4
    assert after[0].json["error"]["code"] == "rate_limited"
    # the kiosk page itself (no code) is not limited
    assert c.get("/kiosk/1").status_code == 404
