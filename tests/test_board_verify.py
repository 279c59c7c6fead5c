"""The public board and the verifiers (issue 16 parts 5 and 6): `GET /api/v1/polls/{pid}/board`,
`flask --app wsgi verify-poll PID --keys FPS` and `python -m congress_vote.verify BOARD.json
--keys FPS` (one checking code, seal/verify_board.py).

The attack: a database writer rewrites, consistently, a ballot, the stored result and digest,
the members' public keys, the sign-off rows (re-signed with keys of their own) and the audit
chain. recount, verify-audit and a verifier without the printed fingerprints are satisfied;
given the fingerprints printed on the key cards or the minutes, both verifiers fail, naming why.
"""

from __future__ import annotations

import io
import json
import subprocess
import sys

from sqlalchemy import select

from congress_vote.extensions import db
from congress_vote.seal.codes import fingerprint, new_card
from congress_vote.seal.signing import sign_signoff
from congress_vote.seal.verify_board import check_board

MEMBERS = ("counter1", "counter2")


def _published(world, api, sign_off):
    poll = world.election(committee=MEMBERS)
    res = api("counter1").post(f"/api/v1/polls/{poll.id}/count").json
    for who in MEMBERS:
        assert sign_off(who, poll.id, res["digest"]).status_code == 201
    assert api("chair").post(f"/api/v1/polls/{poll.id}/publish").status_code == 200
    cards = [sign_off.cards.card(poll.congress_id, who) for who in MEMBERS]
    keys = [fingerprint(k) for c in cards for k in (c.opening_public, c.signing_public)]
    return poll, res, keys


def _standalone(tmp_path, board: dict, keys=()) -> subprocess.CompletedProcess:
    path = tmp_path / "board.json"
    path.write_text(json.dumps(board, ensure_ascii=False))
    args = [str(path)] + [a for k in keys for a in ("--keys", k)]
    # the verifier in a fresh interpreter: it creates no app and loads no database driver
    code = (
        "import sys\n"
        "from congress_vote.verify import main\n"
        f"rc = main({args!r})\n"
        "assert 'sqlalchemy' not in sys.modules and 'flask_sqlalchemy' not in sys.modules\n"
        "sys.exit(rc)\n"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_board_is_public_once_published_and_both_verifiers_pass(
    world, api, client, runner, sign_off, tmp_path
):
    poll = world.election(committee=MEMBERS)
    assert client.get(f"/api/v1/polls/{poll.id}/board").status_code == 403
    assert api("observer").get(f"/api/v1/polls/{poll.id}/board").status_code == 409
    assert client.get("/api/v1/polls/99999/board").status_code == 404
    poll, res, keys = _published(world, api, sign_off)
    r = client.get(f"/api/v1/polls/{poll.id}/board")  # anyone, without a login
    assert r.status_code == 200, r.json
    board = r.json
    assert board["format"] == "congress-vote-board/1" and board["digest"] == res["digest"]
    assert len(board["inputs"]["ballots"]) == res["figures"]["ballots_returned"]
    assert all("receipt" not in b for b in board["inputs"]["ballots"])
    assert board["trackers"] == [] and board["inputs"]["digest_inputs"]["seal"] is None
    assert {m["signing_fingerprint"] for m in board["members"]} <= set(keys)
    assert len(board["signatures"]) == 2 and board["result"]["candidates"]
    report = check_board(board, keys)
    assert report.ok, report.findings
    out = _standalone(tmp_path, board, [",".join(keys)])
    assert out.returncode == 0, out.stdout + out.stderr
    assert "OK" in out.stdout
    out = runner.invoke(
        args=["verify-poll", str(poll.id), *[a for k in keys for a in ("--keys", k)]]
    )
    assert out.exit_code == 0, out.output
    out = runner.invoke(args=["verify-poll", "99999"])
    assert out.exit_code == 2
    # the printed minutes carry the same fingerprints and signatures as the board
    from pypdf import PdfReader

    pdf = api("counter1").get(f"/api/v1/polls/{poll.id}/minutes.pdf").data
    text = "".join(
        "".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages).split()
    )
    for m in board["members"]:
        assert m["opening_fingerprint"] in text and m["signing_fingerprint"] in text
    for s in board["signatures"]:
        assert s["signature"] in text


def test_board_lists_the_opened_ballots_in_a_fresh_random_order(world, api, client, sign_off):
    """api.md: the board publishes "the opened ballot set (in random order)"; the ballots
    export for a recount keeps its canonical order, and the digest sorts the set itself."""
    poll, res, keys = _published(world, api, sign_off)  # 16 ballots, 4 distinct contents
    export = api("counter1").get(f"/api/v1/polls/{poll.id}/ballots.json")
    canonical = json.loads(export.data)["ballots"]
    boards = [client.get(f"/api/v1/polls/{poll.id}/board").json for _ in range(3)]

    def key(b):
        return json.dumps(b, sort_keys=True)

    for board in boards:
        listed = board["inputs"]["ballots"]
        assert sorted(map(key, listed)) == sorted(map(key, canonical))  # the same set
        assert listed != canonical  # chance of the canonical order: 8!·5!·2!/16! each
        assert board["digest"] == res["digest"] and check_board(board, keys).ok
    assert len({tuple(map(key, b["inputs"]["ballots"])) for b in boards}) > 1


def _rechain():
    """Re-hash the whole audit chain after its events were edited (what a writer with the
    database to themselves can do: the chain's head lives in the same database)."""
    from congress_vote.audit.models import GENESIS, AuditEvent, AuditHead
    from congress_vote.audit.services import event_hash

    prev = GENESIS
    events = list(db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)))
    for ev in events:  # hashes are unique: move them out of the way first
        ev.hash = f"tmp{ev.seq}"
    db.session.flush()
    for ev in events:
        ev.prev_hash = prev
        ev.hash = prev = event_hash(
            ev.seq, ev.at, ev.actor_id, ev.action, ev.congress_id, ev.data, prev
        )
    head = db.session.get(AuditHead, 1)
    head.seq, head.hash = events[-1].seq, prev
    db.session.flush()


def _rewrite_everything(poll, old_digest: str) -> dict:
    """The consistent attack; returns what was replaced."""
    from congress_vote.audit.models import AuditEvent
    from congress_vote.ballots.models import Ballot
    from congress_vote.counting.count import count_doc, named_result
    from congress_vote.counting.models import PollResult, Signoff
    from congress_vote.rules.digest import RESULT_FORMAT
    from congress_vote.seal.models import KeyCard

    poll = db.session.get(type(poll), poll.id)
    ids = [c.id for c in poll.candidates]
    # 1. a ballot: a vote moved from the first candidate to the last
    for b in db.session.scalars(select(Ballot).where(Ballot.poll_id == poll.id)):
        kept = json.loads(b.choice)["kept"]
        if ids[0] in kept and ids[-1] not in kept:
            b.choice = json.dumps({"kept": sorted([*(k for k in kept if k != ids[0]), ids[-1]])})
            break
    db.session.flush()
    # 2. the stored result and digest, as the app's own count stores them
    result, doc = count_doc(poll)
    data = named_result(poll, result)
    data["digest_format"] = RESULT_FORMAT
    data["digest_parts"] = doc.part_hashes()
    data["paper"] = json.loads(doc.parts["paper"])
    row = db.session.get(PollResult, poll.id)
    row.data = json.dumps(data, ensure_ascii=False, sort_keys=True)
    row.digest = new_digest = result.digest
    # 3. the members' public keys, and 4. the sign-offs re-signed with the attacker's keys
    swap: dict[str, str] = {old_digest: new_digest}
    for s in db.session.scalars(select(Signoff).where(Signoff.poll_id == poll.id)):
        card = db.session.get(KeyCard, s.key_card_id)
        fake = new_card()
        for old, new in (
            (card.opening_public, fake.opening_public),
            (card.signing_public, fake.signing_public),
        ):
            swap[fingerprint(old)] = fingerprint(new)
        card.opening_public, card.signing_public = fake.opening_public, fake.signing_public
        sig = sign_signoff(fake.signing_key, poll.id, new_digest)
        swap[s.signature.hex()] = sig.hex()
        s.signature, s.digest = sig, new_digest
    db.session.flush()
    # 5. the audit chain: every event that names the old digest, keys or signatures, re-hashed
    for ev in db.session.scalars(select(AuditEvent)):
        for old, new in swap.items():
            ev.data = ev.data.replace(old, new)
    _rechain()
    db.session.commit()
    return swap


def test_consistent_database_rewrite_fails_both_verifiers_given_the_printed_keys(
    world, api, client, runner, sign_off, tmp_path
):
    poll, res, keys = _published(world, api, sign_off)
    before = client.get(f"/api/v1/polls/{poll.id}/board").json
    assert check_board(before, keys).ok
    _rewrite_everything(poll, res["digest"])
    # the rewrite is consistent: the database's own checks are satisfied
    assert runner.invoke(args=["recount", str(poll.id)]).exit_code == 0
    out = runner.invoke(args=["verify-audit"])
    assert out.exit_code == 0, out.output
    out = runner.invoke(args=["verify-poll", str(poll.id)])
    assert out.exit_code == 0, out.output  # without the printed fingerprints nothing shows
    assert "no --keys" in out.output
    # given the fingerprints printed on the cards / minutes, both verifiers fail, naming why
    flags = [a for k in keys for a in ("--keys", k)]
    out = runner.invoke(args=["verify-poll", str(poll.id), *flags])
    assert out.exit_code == 1
    for code in ("unknown_key", "missing_key", "signatures"):
        assert f"FAIL {code}:" in out.output, (code, out.output)
    board = client.get(f"/api/v1/polls/{poll.id}/board").json
    assert board["digest"] != res["digest"]
    out = _standalone(tmp_path, board, keys)
    assert out.returncode == 1 and "FAIL unknown_key" in out.stderr, out.stderr
    # the board published before the rewrite (kept by anyone) still verifies, and differs
    assert check_board(before, keys).ok


def test_each_failure_is_named(world, api, client, sign_off, tmp_path):
    poll, res, keys = _published(world, api, sign_off)
    board = client.get(f"/api/v1/polls/{poll.id}/board").json

    def codes(b, k=keys):
        return {f.code for f in check_board(b, k).findings}

    assert codes(board) == set()
    assert codes({"format": "x"}) == {"format"}
    # a ballot changed on the board: the inputs no longer give the digest (the board lists the
    # opened set in a fresh random order: change one that keeps names, so the change is one)
    b = json.loads(json.dumps(board))
    changed = next(x for x in b["inputs"]["ballots"] if x.get("kept"))
    changed["kept"] = []
    assert "digest" in codes(b)
    # the published result changed: the tally of the opened set disagrees
    b = json.loads(json.dumps(board))
    b["result"]["candidates"][0]["votes"] += 1
    assert codes(b) == {"tally"}
    # a signature damaged
    b = json.loads(json.dumps(board))
    sig = bytearray.fromhex(b["signatures"][0]["signature"])
    sig[0] ^= 1
    b["signatures"][0]["signature"] = sig.hex()
    assert codes(b) == {"bad_signature", "signatures"}
    # a printed fingerprint that is not the key's
    b = json.loads(json.dumps(board))
    b["members"][0]["signing_fingerprint"] = "AAAA-AAAA-AAAA-AAAA-AAAA"
    assert codes(b) == {"fingerprint"}
    # trackers: a sealed poll's count of trackers must be its tablet ballots
    b = json.loads(json.dumps(board))
    b["inputs"]["digest_inputs"]["seal"] = {"public_key": "00" * 32, "trackers": ["A", "B"]}
    b["trackers"] = ["A", "B"]
    assert {"trackers", "digest"} <= codes(b)
    # a key given that no member has
    assert codes(board, [*keys, fingerprint(b"\x07" * 32)]) == {"missing_key"}
    # a verifier given unreadable input
    path = tmp_path / "bad.json"
    path.write_text("{not json")
    out = subprocess.run(
        [sys.executable, "-m", "congress_vote.verify", str(path)], capture_output=True, text=True
    )
    assert out.returncode == 2


def test_sealed_poll_board_lists_one_tracker_per_tablet_ballot(hall, app, api, client, sign_off):
    from congress_vote.ballots.services import cast_ballot

    cid = hall.congress(voters=6)
    poll = hall.poll(cid, seats=2)
    pid = poll["id"]
    hall.open(pid)
    ids = [c["id"] for c in poll["candidates"]]
    tokens = hall.issue(pid, 5)["tokens"]
    with app.app_context():
        for k, t in enumerate(tokens):
            cast_ballot(t, kept=ids[: 1 + k % 2])
            db.session.commit()
    hall.close(pid)
    res = hall.count(pid)
    for who in MEMBERS:  # the cards the box was sealed to (sign_off shares the hall's)
        assert sign_off(who, pid, res["digest"]).status_code == 201
    assert api("chair").post(f"/api/v1/polls/{pid}/publish").status_code == 200
    board = client.get(f"/api/v1/polls/{pid}/board").json
    seal = board["inputs"]["digest_inputs"]["seal"]
    assert seal is not None and len(board["trackers"]) == 5 == len(seal["trackers"])
    assert sum(b["source"] == "tablet" for b in board["inputs"]["ballots"]) == 5
    cards = [hall.key_cards.card(cid, who) for who in MEMBERS]
    keys = [fingerprint(k) for c in cards for k in (c.opening_public, c.signing_public)]
    assert check_board(board, keys).ok, check_board(board, keys).findings
    # a tracker dropped from the board (and from what the digest covers) is named
    b = json.loads(json.dumps(board))
    b["trackers"].pop()
    b["inputs"]["digest_inputs"]["seal"]["trackers"].pop()
    assert {f.code for f in check_board(b, keys).findings} == {"trackers", "digest"}
