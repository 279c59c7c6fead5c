"""Full paper ballots through the API alone (issue 18 part 5): a congress made, imported and
checked in over the API; paper ballots issued with `{count, kind: "paper"}`; after the close the
paper return, every ballot entered by two counters (a disagreement settled by the committee), the
count and the result — no HTML page and no service call. Only the committee's key cards come from
the fixture (their secrets exist only on the printed card)."""

from __future__ import annotations

CSV = "code,full_name,branch,membership\n" + "".join(
    f"P{n:02d},Đảng viên Giấy {n},Chi bộ {n % 2 + 1},full\n" for n in range(6)
)


def _congress(api) -> int:
    admin, registrar = api("admin"), api("registrar")
    r = admin.post(
        "/api/v1/congresses",
        json={
            "name": "Đại hội phiếu giấy",
            "organisation": "Đảng bộ Thử",
            "term": "2025–2030",
            "venue": "Hội trường",
            "starts_on": "2025-06-01",
            "kind": "members",
        },
    )
    assert r.status_code == 201, r.json
    cid = r.json["id"]
    r = admin.post(
        f"/api/v1/congresses/{cid}/delegates/import", data=CSV.encode(), content_type="text/csv"
    )
    assert r.status_code == 201 and r.json["imported"] == 6, r.json
    for d in registrar.get(f"/api/v1/congresses/{cid}/delegates").json:
        r = registrar.post(
            f"/api/v1/congresses/{cid}/delegates/{d['id']}/attendance", json={"status": "present"}
        )
        assert r.status_code == 200, r.json
    assert api("observer").get(f"/api/v1/congresses/{cid}/attendance").json["voters_present"] == 6
    return cid


def _enter(api, user, pid, code, **content):
    r = api(user).post(f"/api/v1/polls/{pid}/paper-ballots", json={"code": code, **content})
    assert r.status_code == 201, r.json
    return r.json["state"]


def test_paper_ballots_issued_entered_twice_and_counted_through_the_api(api, staff, key_cards):
    cid = _congress(api)
    key_cards.committee(cid, ("counter1", "counter2"))
    committee = [staff["counter1"], staff["counter2"]]
    names = ["Trần Văn Bình", "Nguyễn Thị An", "Lê Minh Châu"]
    r = api("admin").post(
        f"/api/v1/congresses/{cid}/polls",
        json={
            "kind": "committee",
            "title": "Bầu Ban Chấp hành",
            "seats": 2,
            "secrecy": "secret",
            "candidates": [{"full_name": n} for n in names],
            "counting_committee": committee,
            "rules": {"preset": "vn-party"},
        },
    )
    assert r.status_code == 201, r.json
    pid = r.json["id"]
    c1, c2, _c3 = (c["id"] for c in r.json["candidates"])
    assert api("chair").post(f"/api/v1/polls/{pid}/open").status_code == 200
    r = api("counter1").post(f"/api/v1/polls/{pid}/ballots", json={"count": 4, "kind": "paper"})
    assert r.status_code == 201, r.json
    batch = r.json
    assert batch["kind"] == "paper" and len(batch["tokens"]) == 4 and batch["batch_id"]
    pdf = api("counter2").get(f"/api/v1/polls/{pid}/batches/{batch['batch_id']}.pdf")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    # a paper ballot is not cast at a tablet
    r = api(None).post(f"/api/v1/ballot/{batch['tokens'][0]}", json={"kept": [c1]})
    assert r.status_code in (403, 409)
    assert api("chair").post(f"/api/v1/polls/{pid}/close").status_code == 200
    # the paper return: 1 of the 4 came back unused
    r = api("counter1").post(f"/api/v1/polls/{pid}/paper-returns", json={"unused": 1})
    assert r.status_code in (200, 201), r.json
    t0, t1, t2 = batch["codes"][:3]  # the printed codes, as typed from the paper
    # ballot 0: both counters agree
    assert _enter(api, "counter1", pid, t0, kept=[c1, c2]) == "pending"
    assert _enter(api, "counter2", pid, t0, kept=[c2, c1]) == "agreed"
    # ballot 1: every name struck (a surplus: 3 names, 2 seats) — entered, counted invalid
    assert _enter(api, "counter2", pid, t1, kept=[]) == "pending"
    assert _enter(api, "counter1", pid, t1, kept=[]) == "agreed"
    # ballot 2: the counters disagree; the committee settles it
    assert _enter(api, "counter1", pid, t2, kept=[c1]) == "pending"
    assert _enter(api, "counter2", pid, t2, kept=[c2]) == "disputed"
    r = api("counter1").post(f"/api/v1/polls/{pid}/count", json={"opening_codes": []})
    assert r.status_code == 409 and r.json["error"]["code"] == "paper_entries_pending"
    assert _enter(api, "counter1", pid, t2, kept=[c1], settle=True) == "agreed"
    opening = [key_cards.for_poll(pid, m).opening_code for m in ("counter1", "counter2")]
    r = api("counter1").post(f"/api/v1/polls/{pid}/count", json={"opening_codes": opening})
    assert r.status_code == 200, r.json
    res = api("chair").get(f"/api/v1/polls/{pid}/result").json
    fig = res["figures"]
    assert (fig["ballots_issued"], fig["ballots_returned"], fig["ballots_valid"]) == (4, 3, 2)
    assert fig["invalid_by_reason"] == {"all_struck": 1}
    assert {c["id"]: c["votes"] for c in res["candidates"]} == {c1: 2, c2: 1, _c3: 0}
    assert all(c["ok"] for c in res["checks"]), res["checks"]


def test_agree_disagree_paper_ballots_through_the_api(api, staff, key_cards):
    cid = _congress(api)
    key_cards.committee(cid, ("counter1", "counter2"))
    r = api("admin").post(
        f"/api/v1/congresses/{cid}/polls",
        json={
            "kind": "committee",
            "title": "Bầu Bí thư",
            "seats": 1,
            "secrecy": "secret",
            "candidates": [{"full_name": "Trần Văn Bình"}],
            "counting_committee": [staff["counter1"], staff["counter2"]],
        },
    )
    pid, cand = r.json["id"], str(r.json["candidates"][0]["id"])
    api("chair").post(f"/api/v1/polls/{pid}/open")
    codes = (
        api("counter1")
        .post(f"/api/v1/polls/{pid}/ballots", json={"count": 3, "kind": "paper"})
        .json["codes"]
    )
    api("chair").post(f"/api/v1/polls/{pid}/close")
    api("counter1").post(f"/api/v1/polls/{pid}/paper-returns", json={"unused": 0})
    # agree; disagree; and neither box (or both) marked: no valid mark on a single name
    for code, marks in zip(codes, ({cand: "agree"}, {cand: "disagree"}, {}), strict=True):
        assert _enter(api, "counter1", pid, code, marks=marks) == "pending"
        assert _enter(api, "counter2", pid, code, marks=marks) == "agreed"
    r = api("counter1").post(f"/api/v1/polls/{pid}/paper-ballots", json={"code": codes[0]})
    assert r.status_code == 400
    opening = [key_cards.for_poll(pid, m).opening_code for m in ("counter1", "counter2")]
    assert (
        api("counter1")
        .post(f"/api/v1/polls/{pid}/count", json={"opening_codes": opening})
        .status_code
        == 200
    )
    res = api("chair").get(f"/api/v1/polls/{pid}/result").json
    assert res["figures"]["ballots_valid"] == 2
    assert res["figures"]["invalid_by_reason"] == {"no_mark": 1}
    assert res["candidates"][0]["votes"] == 1
