"""The API routes added so that the API does everything the UI does (issue 18 part 5): a branch,
a delegate added and edited, a lost card reissued, a check-in undone, a draft poll changed, the
complaints recorded — each through the service its page calls."""

from __future__ import annotations


def _patch(client, auth, user, path, body):
    return client.patch(path, json=body, headers=auth.headers(user))


def test_branch_and_delegates_by_hand(hall, api, client, auth):
    cid = hall.congress(voters=2)
    admin = api("admin")
    r = admin.post(f"/api/v1/congresses/{cid}/branches", json={"name": "Chi bộ Văn phòng"})
    assert r.status_code == 201, r.json
    again = admin.post(f"/api/v1/congresses/{cid}/branches", json={"name": "Chi bộ Văn phòng"})
    assert again.status_code == 409 and again.json["error"]["code"] == "branch_exists"
    body = {
        "code": "N01",
        "full_name": "Nguyễn Văn Hùng",
        "branch": "Chi bộ Văn phòng",
        "membership": "full",
    }
    r = admin.post(f"/api/v1/congresses/{cid}/delegates", json=body)
    assert r.status_code == 201, r.json
    did = r.json["id"]
    assert (r.json["full_name"], r.json["branch"], r.json["status"]) == (
        "Nguyễn Văn Hùng",
        "Chi bộ Văn phòng",
        "absent",
    )
    # a namesake with another code is accepted; the same code is not
    r = admin.post(f"/api/v1/congresses/{cid}/delegates", json={**body, "code": "N02"})
    assert r.status_code == 201
    r = admin.post(f"/api/v1/congresses/{cid}/delegates", json=body)
    assert r.status_code == 409
    r = admin.post(f"/api/v1/congresses/{cid}/delegates", json={**body, "membership": "x"})
    assert r.status_code == 422
    r = _patch(
        client, auth, "admin", f"/api/v1/congresses/{cid}/delegates/{did}", {"position": "Bí thư"}
    )
    assert r.status_code == 200 and r.json["position"] == "Bí thư"
    assert r.json["full_name"] == "Nguyễn Văn Hùng"  # the fields not given keep their value
    r = admin.post(f"/api/v1/congresses/{cid}/delegates/{did}/reissue")
    assert r.status_code == 201 and r.data[:5] == b"%PDF-"
    assert api("registrar").post(f"/api/v1/congresses/{cid}/delegates").status_code == 403


def test_checkin_undo(hall, api):
    cid = hall.congress(voters=2, present=0)
    did = hall.delegates(cid)[0][0]
    reg = api("registrar")
    r = reg.post(f"/api/v1/congresses/{cid}/checkin", json={"card": hall.cards[did]})
    assert r.status_code == 200 and r.json["delegate"]["status"] == "present"
    r = reg.post(f"/api/v1/congresses/{cid}/checkin/undo", json={"delegate_id": did})
    assert r.status_code == 200 and r.json["status"] == "absent"


def test_poll_change_and_complaints(hall, api, client, auth):
    cid = hall.congress(voters=3)
    poll = hall.poll(cid)
    pid = poll["id"]
    r = _patch(client, auth, "admin", f"/api/v1/polls/{pid}", {"title": "Bầu Ban Kiểm tra"})
    assert r.status_code == 200 and r.json["title"] == "Bầu Ban Kiểm tra"
    assert len(r.json["candidates"]) == 3  # untouched
    hall.open(pid)
    r = _patch(client, auth, "admin", f"/api/v1/polls/{pid}", {"seats": 1})
    assert r.status_code == 409
    c1 = poll["candidates"][0]["id"]
    for tok in hall.issue(pid, 2)["tokens"]:
        hall.client.post(f"/api/v1/ballot/{tok}", json={"kept": [c1]})
    r = api("counter1").post(f"/api/v1/polls/{pid}/complaints", json={"complaints": "Không có"})
    assert r.status_code == 409  # count first
    hall.close(pid)
    hall.count(pid)
    r = api("counter1").post(f"/api/v1/polls/{pid}/complaints", json={"complaints": "Không có"})
    assert r.status_code == 200 and r.json["complaints"] == "Không có"
    assert (
        api("counter3")
        .post(f"/api/v1/polls/{pid}/complaints", json={"complaints": "x"})
        .status_code
        == 403
    )
