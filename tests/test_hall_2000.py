"""Issue 17, "must show": a 2,000-delegate congress with 300 namesake pairs imports, checks in
and votes end to end, through the API and the services (the browser side of each piece is in
tests/e2e/test_hall_lists.py)."""

from __future__ import annotations

import itertools
import time

from congress_vote.extensions import db

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Minh", "Quốc", "Thu", "Đức"]
GIVEN = [
    "Hùng", "Nhung", "Hưng", "An", "Bình", "Cường", "Dung", "Giang", "Hải", "Hoa",
    "Khoa", "Lan", "Mai", "Nam", "Oanh", "Phúc", "Quân", "Sơn", "Tâm", "Uyên",
    "Vinh", "Xuân", "Yến", "Bảo", "Châu", "Duy", "Hạnh", "Khánh", "Linh", "Thảo",
]  # fmt: skip


def _rows() -> tuple[str, list[str]]:
    names = [f"{f} {m} {g}" for f, m, g in itertools.product(FAMILY, MIDDLE, GIVEN)]  # 1,800
    pairs, single = names[:300], names[300:1700]
    rows = []
    for n, name in enumerate(pairs):  # each pair: two people, two branches, two years of birth
        rows.append(f"N{n:03d}A,{name},Chi bộ {n % 40 + 1},full,,{1960 + n % 30},")
        rows.append(f"N{n:03d}B,{name},Chi bộ {(n + 7) % 40 + 1},full,,{1970 + n % 30},")
    rows += [f"S{n:04d},{name},Chi bộ {n % 40 + 1},full,,," for n, name in enumerate(single)]
    return "code,full_name,branch,membership,gender,birth_year,position\n", rows


def test_2000_delegates_300_namesake_pairs_import_check_in_and_vote(
    app, api, client, hall, make_congress
):
    from congress_vote.ballots.services import cast_ballot
    from congress_vote.congress.cards import card_code
    from congress_vote.congress.checkin import check_in
    from congress_vote.congress.models import Delegate
    from congress_vote.congress.setup import get_congress

    timings = {}
    cid = make_congress("Đại hội đại biểu Đảng bộ Tỉnh")
    header, rows = _rows()
    t = time.perf_counter()
    r = api("admin").post(
        f"/api/v1/congresses/{cid}/delegates/import",
        data=(header + "\n".join(rows) + "\n").encode(),
        content_type="text/csv",
    )
    timings["import"] = time.perf_counter() - t
    assert r.status_code == 201, r.json
    assert r.json["imported"] == 2000 and len(r.json["warnings"]) == 300

    # check-in: a few namesakes through the API (one of a pair leaves the other absent) ...
    with app.app_context():
        ds = list(db.session.scalars(db.select(Delegate).where(Delegate.congress_id == cid)))
        cards = {d.code: card_code(d) for d in ds}
        ids = {d.code: d.id for d in ds}
    for n in range(5):
        r = api("registrar").post(
            f"/api/v1/congresses/{cid}/checkin", json={"card": cards[f"N{n:03d}A"]}
        )
        assert r.status_code == 200 and r.json["delegate"]["code"] == f"N{n:03d}A"
    found = api("registrar").get(f"/api/v1/congresses/{cid}/delegates?q={rows[0].split(',')[1]}")
    by_code = {d["code"]: d["status"] for d in found.json}
    assert by_code == {"N000A": "present", "N000B": "absent"}
    # ... and everyone else through the service, as the desk does
    t = time.perf_counter()
    with app.app_context():
        c = get_congress(cid)
        for n, code in enumerate(sorted(cards)):
            _d, _already = check_in(c, cards[code])
            if n % 500 == 499:
                db.session.commit()
        db.session.commit()
    timings["check-in"] = time.perf_counter() - t
    att = api("registrar").get(f"/api/v1/congresses/{cid}/attendance").json
    assert att["present"] == 2000

    # vote: an election with three namesake pairs (linked to their delegates) and two others
    cands = []
    for n in range(3):
        for s in "AB":
            code = f"N{n:03d}{s}"
            cands.append({"full_name": rows[2 * n].split(",")[1], "delegate_id": ids[code]})
    cands += [
        {"full_name": rows[600].split(",")[1], "position": "Bí thư"},
        {"full_name": rows[601].split(",")[1], "position": ""},
    ]
    poll = hall.poll(cid, seats=5, candidates=cands)
    pid = poll["id"]
    by_delegate = {c["delegate_id"]: c["id"] for c in poll["candidates"] if c["delegate_id"]}
    hall.enrol_kiosk(cid)
    hall.open(pid)
    voters = 2000
    # the first ballots issued through the API (their slips rendered and kept, as a counter gets
    # them), the rest through the same service without laying out 1,960 more QR slips: the
    # slips of a 2,000 batch are bench/bench_slips.py's, the subject here is the hall's data
    tokens = hall.issue(pid, 40)["tokens"]
    with app.app_context():
        from congress_vote.auth.models import User
        from congress_vote.ballots.issuing import issue_ballots
        from congress_vote.polls.models import Poll

        counter = db.session.get(User, hall.staff["counter1"])
        tokens += issue_ballots(db.session.get(Poll, pid), voters - 40, counter).codes
        db.session.commit()
    assert len(set(tokens)) == voters
    a_side = [by_delegate[ids[f"N{n:03d}A"]] for n in range(3)]
    b_side = [by_delegate[ids[f"N{n:03d}B"]] for n in range(3)]
    t = time.perf_counter()

    def kept(k):  # A ahead of B, 3:1
        return a_side + b_side[:1] if k % 4 else b_side + a_side[:1]

    # the first ballots through the API as a kiosk sends them, the rest through the same service
    # in one process (every ballot is still sealed, exactly once, with its receipt)
    for k, tok in enumerate(tokens[:40]):
        r = client.post(f"/api/v1/ballot/{tok}", json={"kept": kept(k)})
        assert r.status_code == 201, r.json
    with app.app_context():
        for k, tok in enumerate(tokens[40:], start=40):
            assert cast_ballot(tok, kept=kept(k), congress_id=cid)
            if k % 500 == 499:
                db.session.commit()
        db.session.commit()
    timings["cast"] = time.perf_counter() - t
    hall.close(pid)
    result = hall.count(pid)
    votes = {c["id"]: c["votes"] for c in result["candidates"]}
    assert len(votes) == 8  # every namesake counted apart
    assert votes[a_side[0]] == voters and votes[b_side[0]] == voters  # kept on every ballot
    assert votes[a_side[1]] == voters * 3 // 4 and votes[b_side[1]] == voters // 4
    assert votes[a_side[2]] == voters * 3 // 4 and votes[b_side[2]] == voters // 4
    # the count page tells each pair apart by the delegates' years of birth
    from tests.conftest import Auth

    Auth(app, client).login("counter1")
    page = client.get(f"/polls/{pid}/count").data.decode()
    name0 = rows[0].split(",")[1]
    assert f"{name0} (sinh năm 1960)" in page and f"{name0} (sinh năm 1970)" in page
    print("timings (s):", {k: round(v, 1) for k, v in timings.items()})
