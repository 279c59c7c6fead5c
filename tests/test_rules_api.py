"""The ballot validity rules through the API (docs/api.md, "Voting"; docs/rules.md, "Ballot
validity"): a deliberately spoiled ballot needs ``confirm_invalid`` and is counted invalid
(``all_struck``, shown "gạch hết tên"); agree/disagree ballots carry ``marks``; a single-name
ballot without exactly one mark is ``no_mark``."""

from __future__ import annotations


def _ballot_open(hall, token: str) -> bool:
    return hall.client.get(f"/api/v1/ballot/{token}").status_code == 200


def test_all_struck_needs_confirmation_and_is_counted_invalid(hall, auth):
    cid, poll, tokens = hall.open_poll_with_ballots(n=3)  # 3 names, 2 seats: a surplus
    pid = poll["id"]
    c1, c2, _c3 = (c["id"] for c in poll["candidates"])
    r = hall.client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": []})
    assert r.status_code == 422 and r.json["error"]["code"] == "all_struck"
    assert _ballot_open(hall, tokens[0])  # refused: the ballot is still unused
    # confirm_invalid must be the JSON true, not a truthy string
    r = hall.client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": [], "confirm_invalid": "yes"})
    assert r.status_code == 400
    r = hall.client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": [], "confirm_invalid": True})
    assert r.status_code == 201, r.json
    assert not _ballot_open(hall, tokens[0])
    # an over-vote is never cast, confirmed or not
    r = hall.client.post(
        f"/api/v1/ballot/{tokens[1]}", json={"kept": [c1, c2, _c3], "confirm_invalid": True}
    )
    assert r.status_code == 422 and r.json["error"]["code"] == "overvote"
    # confirm_invalid on a valid ballot changes nothing
    r = hall.client.post(
        f"/api/v1/ballot/{tokens[1]}", json={"kept": [c1, c2], "confirm_invalid": True}
    )
    assert r.status_code == 201
    hall.close(pid)
    res = hall.count(pid)
    fig = res["figures"]
    assert fig["ballots_returned"] == 2 and fig["ballots_valid"] == 1
    assert fig["invalid_by_reason"] == {"all_struck": 1}
    # the result page in Vietnamese names the reason "gạch hết tên"
    auth.login("counter1")
    page = hall.client.get(f"/polls/{pid}/count").get_data(as_text=True)
    assert "gạch hết tên" in page


def test_single_name_marks(hall):
    cid = hall.congress(voters=10)
    poll = hall.poll(
        cid, seats=1, candidates=[{"full_name": "Trần Văn Bình", "position": "Bí thư"}]
    )
    pid, cand = poll["id"], poll["candidates"][0]["id"]
    hall.open(pid)
    tokens = hall.issue(pid, 5)["tokens"]

    def cast(token, body):
        return hall.client.post(f"/api/v1/ballot/{token}", json=body)

    r = cast(tokens[0], {"marks": {}})
    assert r.status_code == 422 and r.json["error"]["code"] == "no_mark"
    assert cast(tokens[0], {"marks": {}, "confirm_invalid": True}).status_code == 201
    assert cast(tokens[1], {"marks": {str(cand): "agree"}}).status_code == 201
    assert cast(tokens[2], {"marks": {str(cand): "disagree"}}).status_code == 201
    assert cast(tokens[3], {"kept": []}).status_code == 201  # kept: disagree for the others
    r = cast(tokens[4], {"marks": {str(cand): "both"}})
    assert r.status_code == 422 and r.json["error"]["code"] == "bad_mark"
    r = cast(tokens[4], {"marks": {str(cand): "agree"}, "kept": [cand]})
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_request"
    hall.close(pid)
    res = hall.count(pid)
    assert res["figures"]["ballots_returned"] == 4
    assert res["figures"]["invalid_by_reason"] == {"no_mark": 1}
    assert res["candidates"][0]["votes"] == 1


def test_several_names_marks_and_wrong_kind(hall):
    cid = hall.congress(voters=10)
    names = [{"full_name": "Trần Văn Bình"}, {"full_name": "Nguyễn Thị An"}]
    poll = hall.poll(cid, seats=2, candidates=names)  # 2 names, 2 seats: agree/disagree
    pid = poll["id"]
    a, b = (c["id"] for c in poll["candidates"])
    hall.open(pid)
    tokens = hall.issue(pid, 3)["tokens"]
    assert hall.client.post(f"/api/v1/ballot/{tokens[0]}", json={"marks": {}}).status_code == 201
    r = hall.client.post(f"/api/v1/ballot/{tokens[1]}", json={"marks": {str(a): "agree"}})
    assert r.status_code == 201
    r = hall.client.post(f"/api/v1/ballot/{tokens[2]}", json={"marks": {"999": "agree"}})
    assert r.status_code == 422 and r.json["error"]["code"] == "unknown_candidate"
    hall.close(pid)
    res = hall.count(pid)
    assert res["figures"]["ballots_valid"] == 2 and res["figures"]["ballots_invalid"] == 0
    assert {c["id"]: c["votes"] for c in res["candidates"]} == {a: 1, b: 0}
    # marks on a list with a surplus are refused
    poll2 = hall.poll(cid, seats=1, candidates=names)
    hall.open(poll2["id"])
    t = hall.issue(poll2["id"], 1)["tokens"][0]
    r = hall.client.post(f"/api/v1/ballot/{t}", json={"marks": {str(a): "agree"}})
    assert r.status_code == 422
