"""Issue 14, hole 6: the audit log never ties a ballot's content to the ballot.

`paper.entered` used to carry a hash prefix of the ballot's code beside the names kept, so anyone
who reads the audit log (observers included) could pair a printed code with a vote. Audit events
of paper entry, settlement and casting say that it happened, its outcome, the poll and the actor
— no content, no code, no token hash, no receipt, no entry row. The entry log itself (content per
ballot) is the committee's archive: only the poll's committee may download it.
"""

from __future__ import annotations

import io
import json
import re

from congress_vote import codes
from tests.conftest import PASSWORD

BALLOT_KEYS = {
    "kept",
    "answers",
    "marks",
    "choice",
    "invalid_reason",
    "ballot",
    "code",
    "token",
    "token_hash",
    "receipt",
    "entry_id",
    "superseded",
}


def _login(app, username):
    c = app.test_client()
    assert c.post("/login", data={"username": username, "password": PASSWORD}).status_code == 302
    return c


def _pdf_codes(pdf: bytes) -> list[str]:
    from pypdf import PdfReader

    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)
    found = re.findall(r"(?:[2-9A-HJ-NP-Z]{4}-){4}[2-9A-HJ-NP-Z]", text)
    return list(dict.fromkeys(found))


def _keys(value) -> set[str]:
    if isinstance(value, dict):
        return set(value) | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


def _route(app, suffix) -> bool:
    return any(r.rule.endswith(suffix) for r in app.url_map.iter_rules())


def test_audit_events_carry_no_ballot_content_beside_a_ballot(app, api, hall, staff):
    cid = hall.congress(voters=20)
    ours = [staff["counter1"], staff["counter2"], staff["counter3"]]
    poll = hall.poll(cid, counting_committee=ours)
    pid = poll["id"]
    a, b, c = (x["id"] for x in poll["candidates"])
    hall.open(pid)
    slips = hall.issue(pid, 3)["tokens"]
    c1 = _login(app, "counter1")
    pdf = c1.post(f"/polls/{pid}/paper/print", data={"count": "4", "size": "A4"})
    assert pdf.status_code == 200
    paper = _pdf_codes(pdf.data)
    assert len(paper) == 4, paper

    kiosk = {}
    if _route(app, "/congresses/<int:cid>/kiosks"):
        r = api("counter1").post(f"/api/v1/congresses/{cid}/kiosks", json={"label": "Bàn 1"})
        assert r.status_code == 201, r.json
        kiosk = {"X-Kiosk-Token": r.json["token"]}
    for token, kept in zip(slips, ([a, b], [c], []), strict=False):
        body = {"kept": kept, **({} if kept else {"confirm_invalid": True})}  # spoiled on purpose
        r = api(None).post(f"/api/v1/ballot/{token}", json=body, headers=kiosk)
        assert r.status_code == 201, r.json
    hall.close(pid)
    if _route(app, "/paper-returns"):
        r = api("counter1").post(f"/api/v1/polls/{pid}/paper-returns", json={"unused": 0})
        assert r.status_code in (200, 201), r.json

    def enter(user, code, **body):
        r = api(user).post(f"/api/v1/polls/{pid}/paper-ballots", json={"code": code, **body})
        assert r.status_code == 201, r.json
        return r.json["state"]

    # agreed; disputed then settled (by the head, the first named); agreed invalid; agreed
    assert enter("counter1", paper[0], kept=[a]) == "pending"
    assert enter("counter2", paper[0], kept=[a]) == "agreed"
    assert enter("counter1", paper[1], kept=[a, b]) == "pending"
    assert enter("counter2", paper[1], kept=[b]) == "disputed"
    assert enter("counter1", paper[1], kept=[b], settle=True) == "agreed"
    assert enter("counter1", paper[2], invalid_reason="identifying_mark") == "pending"
    assert enter("counter2", paper[2], invalid_reason="identifying_mark") == "agreed"
    assert enter("counter2", paper[3], kept=[c, b]) == "pending"
    assert enter("counter3", paper[3], kept=[b, c]) == "agreed"
    assert (
        api("counter1")
        .post(f"/api/v1/polls/{pid}/count", json={"opening_codes": hall.opening_codes(pid)})
        .status_code
        == 200
    )
    receipts = api(None).get(f"/api/v1/polls/{pid}/receipts").json["receipts"]
    assert len(receipts) == 7

    # What an observer reads of the audit log.
    r = _login(app, "observer").get("/audit/export.jsonl")
    assert r.status_code == 200
    events = [json.loads(line) for line in r.data.decode().splitlines() if line.strip()]
    datas = [(e.get("action"), e.get("data")) for e in events]
    datas = [(act, json.loads(d) if isinstance(d, str) else (d or {})) for act, d in datas]
    mine = [(act, d) for act, d in datas if d.get("poll_id") == pid]
    assert any(act == "paper.entered" for act, _d in mine), [act for act, _d in datas]

    # No identifier of any ballot anywhere in the log: codes, token hashes (or a prefix), receipts.
    plain = [codes.normalise(x) for x in slips + paper]
    marks = set(plain) | {codes.format_code(x) for x in plain} | set(receipts)
    marks |= {codes.code_hash(x)[:10] for x in plain}
    blob = r.data.decode()
    for m in marks:
        assert m not in blob, f"the audit log names a ballot: {m}"

    # Entry and cast events: that it happened, its outcome, the poll — nothing of the ballot.
    for act, d in mine:
        assert not (_keys(d) & BALLOT_KEYS), (act, d)
        if act in ("paper.entered", "paper.settled", "ballot.cast"):
            assert set(d) <= {"poll_id", "outcome"}, (act, d)
    outcomes = [d.get("outcome") for act, d in mine if act == "paper.entered"]
    assert sorted(outcomes) == sorted(
        ["pending", "agreed", "pending", "disputed", "pending", "agreed", "pending", "agreed"]
    )
    assert [d.get("outcome") for act, d in mine if act == "paper.settled"] == ["settled"]
    assert sum(act == "ballot.cast" for act, _d in mine) == 3


def test_entry_log_is_the_committees_only(app, api, hall, staff):
    cid = hall.congress(voters=10)
    pid = hall.poll(cid)["id"]  # committee counter1 + counter2
    other = hall.poll(cid, counting_committee=[staff["counter3"]])["id"]
    hall.open(pid)
    hall.open(other)
    for user in ("chair", "observer", "counter3", "admin"):
        r = _login(app, user).get(f"/polls/{pid}/entry-log.pdf")
        assert r.status_code == 403, user
        page = _login(app, user).get(f"/polls/{pid}/count").data.decode()
        assert f"/polls/{pid}/entry-log.pdf" not in page, user
    r = _login(app, "counter2").get(f"/polls/{pid}/entry-log.pdf")
    assert r.status_code == 200 and r.data[:4] == b"%PDF"
