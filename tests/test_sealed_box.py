"""Issue 16, parts 2-4: the sealed ballot box, on SQLite and PostgreSQL.

A secret poll opens sealed for its counting committee's key cards; every tablet ballot is stored
only sealed (random id, poll, ciphertext) and its receipt is the tracker; the first count opens
the box with `threshold` members' opening codes and stores the opened set in random order.
The reader's checks look at the database file, its WAL, a dump and a backup as an attacker with
a copy would (the "Must show" items of the issue).
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

from sqlalchemy import inspect, make_url, text

from congress_vote.ballots.services import cast_ballot
from congress_vote.extensions import db
from congress_vote.seal import box
from congress_vote.seal.codes import parse_opening_code

TRACKER = re.compile(r"^[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){3}$")
PLAIN = (b'"kept"', b'"answers"', b"kept\\", b'{"choice"')


def _poll(hall, n: int, candidates: int = 3, seats: int = 2, committee=None, slips=True, **over):
    """A congress with `n` present voters and an open sealed poll with `n` slips issued
    (through the API, their PDF rendered and kept; `slips=False`: the tokens only, through the
    issuing service, for a test of what happens after the casts)."""
    cid = hall.congress(voters=max(n, 3))
    body = {}
    if candidates != 3:
        body["candidates"] = [
            {"full_name": f"Ứng viên Số {k}", "position": ""} for k in range(candidates)
        ]
    if committee:
        body["counting_committee"] = [hall.staff[c] for c in committee]
    poll = hall.poll(cid, seats=seats, **body, **over)
    opened = hall.open(poll["id"])
    if not n:
        tokens = []
    elif slips:
        tokens = hall.issue(poll["id"], n)["tokens"]
    else:
        from congress_vote.auth.models import User
        from congress_vote.ballots.issuing import issue_ballots
        from congress_vote.polls.models import Poll

        with hall.app.app_context():
            counter = db.session.get(User, hall.staff["counter1"])
            tokens = list(issue_ballots(db.session.get(Poll, poll["id"]), n, counter).codes)
            db.session.commit()
    return cid, opened, tokens


def _cast(app, tokens, kept_of) -> list[str]:
    """Cast every token through the cast service (the kiosk's and the API's), in order."""
    out = []
    with app.app_context():
        for k, t in enumerate(tokens):
            out.append(cast_ballot(t, kept=kept_of(k)))
            db.session.commit()
    return out


def _stored_choices(app, pid: int) -> list[str]:
    """The opened set as a reader finds it: the table in its stored order (no ORDER BY)."""
    with app.app_context(), db.engine.connect() as conn:
        return [
            r[0]
            for r in conn.execute(text("SELECT choice FROM ballot WHERE poll_id = :p"), {"p": pid})
        ]


def _spearman(xs: list[int]) -> float:
    n = len(xs)
    d2 = sum((i - x) ** 2 for i, x in enumerate(xs))
    return 1 - 6 * d2 / (n * (n * n - 1))


# ---- sealing at open ---------------------------------------------------------------------------


def test_opening_a_secret_poll_seals_it_for_the_committee(hall, api):
    cid = hall.congress(voters=3)
    poll = hall.poll(cid, counting_committee=[hall.staff[c] for c in ("counter1", "counter2")])
    # a member without a key card: the poll cannot open
    hall.key_cards.card(cid, "counter1")
    r = api("chair").post(f"/api/v1/polls/{poll['id']}/open")
    assert r.status_code == 409 and r.json["error"]["code"] == "key_cards_missing", r.json
    assert r.json["missing"] == [hall.staff["counter2"]]
    opened = hall.open(poll["id"])  # both have cards now
    assert opened["status"] == "open"
    seal = opened["seal"]
    assert seal["threshold"] == 2 and seal["members"] == 2  # ⌊2/2⌋ + 1
    assert len(bytes.fromhex(seal["public_key"])) == 32
    # named polls are not sealed
    named = hall.poll(cid, secrecy="open")
    assert hall.open(named["id"])["seal"] is None


def test_seal_threshold_from_the_poll_body(hall, api):
    cid = hall.congress(voters=3)
    trio = [hall.staff[c] for c in ("counter1", "counter2", "counter3")]
    r = api("admin").post(
        f"/api/v1/congresses/{cid}/polls",
        json=hall.body(counting_committee=trio, seal_threshold=4),
    )
    assert r.status_code == 422 and r.json["error"]["code"] == "bad_seal_threshold"
    poll = hall.poll(cid, counting_committee=trio, seal_threshold=3)
    assert hall.open(poll["id"])["seal"]["threshold"] == 3
    default = hall.poll(cid, counting_committee=trio)
    assert hall.open(default["id"])["seal"]["threshold"] == 2


# ---- casting -------------------------------------------------------------------------------------


def test_a_cast_ballot_is_stored_sealed_and_its_receipt_is_its_tracker(hall, app, client):
    _cid, poll, tokens = _poll(hall, 3)
    ids = [c["id"] for c in poll["candidates"]]
    r = client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": ids[:2]})
    assert r.status_code == 201, r.json
    receipt = r.json["receipt"]
    assert TRACKER.match(receipt), receipt
    with app.app_context():
        insp = inspect(db.engine)
        assert {c["name"] for c in insp.get_columns("sealed_ballot")} == {
            "id",
            "poll_id",
            "ciphertext",
        }
        assert {fk["referred_table"] for fk in insp.get_foreign_keys("sealed_ballot")} == {"poll"}
        rows = db.session.execute(text("SELECT id, ciphertext FROM sealed_ballot")).all()
        assert len(rows) == 1 and box.tracker(bytes(rows[0][1])) == receipt
        assert db.session.execute(text("SELECT count(*) FROM ballot")).scalar() == 0
    # a re-post of the used slip (a kiosk whose answer was lost) is told its receipt again
    again = client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": ids[:1]})
    assert again.status_code == 409 and again.json["error"]["code"] == "ballot_used"
    assert again.json["receipt"] == receipt
    # trackers are listed sorted (not in casting order), and only once counted
    for t in tokens[1:]:
        assert client.post(f"/api/v1/ballot/{t}", json={"kept": ids[:1]}).status_code == 201
    hall.close(poll["id"])
    hall.count(poll["id"])
    board = client.get(f"/api/v1/polls/{poll['id']}/receipts").json
    assert receipt in board["receipts"] and board["receipts"] == sorted(board["receipts"])
    assert len(board["receipts"]) == 3
    # after the opening the token rows forget their trackers: no receipt on a re-post
    later = client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": ids[:1]})
    assert later.status_code == 409 and "receipt" not in later.json


# ---- opening -------------------------------------------------------------------------------------


def test_members_minus_threshold_cards_lost_still_opens_threshold_minus_one_does_not(
    hall, api, app
):
    trio = ("counter1", "counter2", "counter3")
    _cid, poll, tokens = _poll(hall, 4, committee=trio)  # threshold 2 of 3
    ids = [c["id"] for c in poll["candidates"]]
    receipts = _cast(app, tokens, lambda k: ids[: 1 + k % 2])
    hall.close(poll["id"])
    pid = poll["id"]
    codes = hall.opening_codes(pid)
    url = f"/api/v1/polls/{pid}/count"
    # threshold − 1 = one card: refused, the box stays sealed
    one = api("counter1").post(url, json={"opening_codes": codes[:1]})
    assert one.status_code == 409 and one.json["error"]["code"] == "more_key_cards_needed"
    # the same member's code twice is still one member
    twice = api("counter1").post(url, json={"opening_codes": [codes[0], codes[0].lower()]})
    assert twice.status_code == 409 and twice.json["error"]["code"] == "more_key_cards_needed"
    assert api("counter1").post(url).json["error"]["code"] == "more_key_cards_needed"
    # a code from a card of no member / a mistyped code
    from congress_vote.seal.codes import new_card

    stranger = api("counter1").post(
        url, json={"opening_codes": [codes[0], new_card().opening_code]}
    )
    assert stranger.status_code == 422 and stranger.json["error"]["code"] == "wrong_key_card"
    typo = codes[1][:-1] + ("2" if codes[1][-1] != "2" else "3")
    bad = api("counter1").post(url, json={"opening_codes": [codes[0], typo]})
    assert bad.status_code == 422 and bad.json["error"]["code"] == "bad_opening_code"
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM sealed_ballot")).scalar() == 4
        assert db.session.execute(text("SELECT count(*) FROM ballot")).scalar() == 0
    # members − threshold = one card lost (counter2's): the other two open it
    res = api("counter1").post(url, json={"opening_codes": [codes[2], codes[0]]})
    assert res.status_code == 200, res.json
    assert res.json["figures"]["ballots_returned"] == 4
    votes = {c["id"]: c["votes"] for c in res.json["candidates"]}
    assert votes[ids[0]] == 4 and votes[ids[1]] == 2
    with app.app_context():
        for table in ("sealed_ballot", "box_share"):
            assert db.session.execute(text(f"SELECT count(*) FROM {table}")).scalar() == 0
        assert (
            db.session.execute(
                text("SELECT count(*) FROM ballot_token WHERE tracker IS NOT NULL")
            ).scalar()
            == 0
        )
        opened = db.session.execute(text("SELECT receipt, source FROM ballot")).all()
        assert len(opened) == 4 and all(r is None and s == "tablet" for r, s in opened)
    # the trackers stay for the board and the digest; a recount needs no card
    board = api("counter1").get(f"/api/v1/polls/{pid}/receipts").json
    assert board["receipts"] == sorted(receipts)
    again = api("counter2").post(url)
    assert again.status_code == 200 and again.json["digest"] == res.json["digest"]


def test_the_digest_covers_the_box_key_and_the_trackers(hall, api, app):
    _cid, poll, tokens = _poll(hall, 2)
    ids = [c["id"] for c in poll["candidates"]]
    _cast(app, tokens, lambda k: ids[:1])
    hall.close(poll["id"])
    res = hall.count(poll["id"])
    with app.app_context():
        from congress_vote.counting.digest_inputs import seal_of
        from congress_vote.polls.models import Poll

        seal = seal_of(db.session.get(Poll, poll["id"]))
        assert seal["public_key"] == poll["seal"]["public_key"]
        assert len(seal["trackers"]) == 2 and seal["trackers"] == sorted(seal["trackers"])
        # a tracker rewritten in the database changes the digest a recount computes
        db.session.execute(
            text("UPDATE poll_tracker SET tracker = 'AAAA-AAAA-AAAA-AAAA' WHERE tracker = :t"),
            {"t": seal["trackers"][0]},
        )
        db.session.commit()
    again = hall.count(poll["id"], user="counter2")
    assert again["digest"] != res["digest"]


def test_opened_set_order_is_independent_of_casting_order(hall, app):
    """|Spearman rank correlation| between casting order and the stored order of the opened
    set, averaged over 5 runs of 100 ballots, is below 0.2."""
    rhos = []
    for _run in range(5):
        _cid, poll, tokens = _poll(hall, 100, candidates=7, seats=7, slips=False)
        ids = [c["id"] for c in poll["candidates"]]

        def kept(k, ids=ids):  # ballot k keeps the names of the bits of k + 1: 100 distinct
            return [ids[b] for b in range(7) if (k + 1) >> b & 1]

        _cast(app, tokens, kept)
        hall.close(poll["id"])
        hall.count(poll["id"])
        order = {tuple(sorted(kept(k))): k for k in range(100)}
        stored = [order[tuple(json.loads(c)["kept"])] for c in _stored_choices(app, poll["id"])]
        assert sorted(stored) == list(range(100))
        rhos.append(abs(_spearman(stored)))
    assert sum(rhos) / len(rhos) < 0.2, rhos


# ---- what a reader of the database, its WAL, a dump or a backup finds ---------------------------


def _key_material(app, hall, pid: int) -> list[bytes]:
    """Every secret of the box and of the members' cards, as raw bytes."""
    from nacl.public import SealedBox

    from congress_vote.seal.models import BoxShare, KeyCard

    out: list[bytes] = []
    codes = hall.opening_codes(pid)
    names = hall.committee_names(pid)
    with app.app_context():
        from congress_vote.polls.models import Poll

        poll = db.session.get(Poll, pid)
        rows = db.session.execute(
            db.select(BoxShare.share, KeyCard.opening_public)
            .join(KeyCard, KeyCard.id == BoxShare.key_card_id)
            .where(BoxShare.poll_id == pid)
        ).all()
        by_pub = {bytes(p): bytes(s) for s, p in rows}
        pairs = []
        for code in codes:
            key = parse_opening_code(code)
            share = by_pub[bytes(key.public_key)]
            out.append(SealedBox(key).decrypt(share)[1:])  # the plain Shamir share
            out.append(bytes(key))
            pairs.append((share, key))
        out.append(bytes(box.open_box(pairs, poll.seal_threshold, poll.seal_public)))
    for name in names:
        card = hall.key_cards.for_poll(pid, name)
        out.append(bytes(card.signing_key))
        out.append(card.opening_code.encode())
        out.append(card.signing_code.encode())
    return out


def _forms(secret: bytes) -> list[bytes]:
    return [
        secret,
        secret.hex().encode(),
        secret.hex().upper().encode(),
        base64.b64encode(secret),
        base64.urlsafe_b64encode(secret).rstrip(b"="),
    ]


def _dump(app, dest: Path) -> bytes:
    """A backup taken now: the SQLite online backup, or a plain pg_dump."""
    from congress_vote.backup import backup_sqlite, libpq_url, sqlite_path

    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    path = sqlite_path(url)
    if path is not None:
        return backup_sqlite(path, dest).read_bytes()
    exe = shutil.which("pg_dump") or "/usr/lib/postgresql/15/bin/pg_dump"
    out = subprocess.run(
        [exe, "--format=plain", "--no-owner", f"--dbname={libpq_url(url)}"],
        check=True,
        capture_output=True,
    )
    return out.stdout


def _fresh_sqlite_file(app) -> None:
    """SQLite: the shared test database keeps earlier tests' rows in free pages; rewrite it so
    what is found is this test's."""
    import sqlite3

    from congress_vote.backup import sqlite_path

    path = sqlite_path(make_url(app.config["SQLALCHEMY_DATABASE_URI"]))
    if path is None:
        return
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("VACUUM")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def test_no_plain_choice_link_or_key_material_in_the_database_wal_dump_or_backup(
    hall, app, tmp_path, caplog
):
    import logging

    caplog.set_level(logging.DEBUG)
    _fresh_sqlite_file(app)
    _cid, poll, tokens = _poll(hall, 100, candidates=5, seats=3)
    pid = poll["id"]
    ids = [c["id"] for c in poll["candidates"]]
    _cast(app, tokens, lambda k: ids[: 1 + k % 3])
    secrets = [f for s in _key_material(app, hall, pid) for f in _forms(s)]
    # mid-poll: the backup, the database file and its WAL
    found: dict[str, bytes] = {"backup mid-poll": _dump(app, tmp_path / "mid.db")}
    with app.app_context():
        from congress_vote.backup import sqlite_path

        path = sqlite_path(make_url(app.config["SQLALCHEMY_DATABASE_URI"]))
        db.session.remove()
    if path is not None:
        found["database file"] = path.read_bytes()
        wal = Path(f"{path}-wal")
        found["WAL"] = wal.read_bytes() if wal.exists() else b""
        assert found["WAL"] or found["database file"]
    assert b"sealed_ballot" in found["backup mid-poll"]  # a real copy of the database
    for where, blob in found.items():
        for plain in PLAIN:
            assert plain not in blob, (where, plain)
    with app.app_context():
        insp = inspect(db.engine)
        for table in ("sealed_ballot", "ballot"):
            names = {c["name"] for c in insp.get_columns(table)}
            linked = {"token_hash", "batch_id", "kiosk_id", "user_id", "cast_at", "created_at"}
            assert not names & linked, (table, names)
            assert not [n for n in names if n.endswith("_at") or "seq" in n], names
    # after the opening (the count) too: a dump, the file, the WAL, the logs
    hall.close(pid)
    hall.count(pid)
    found["dump after the count"] = _dump(app, tmp_path / "after.db")
    if path is not None:
        found["database file after"] = path.read_bytes()
        wal = Path(f"{path}-wal")
        found["WAL after"] = wal.read_bytes() if wal.exists() else b""
    found["logs"] = caplog.text.encode()
    for where, blob in found.items():
        for s in secrets:
            assert s not in blob, (where, s[:8])


# ---- the ceremony in the pages -------------------------------------------------------------------


def test_counting_page_collects_opening_codes_and_console_shows_the_seal(hall, app, auth, client):
    cid, poll, tokens = _poll(hall, 2)
    pid = poll["id"]
    ids = [c["id"] for c in poll["candidates"]]
    _cast(app, tokens, lambda k: ids[:1])
    auth.login("chair")
    console = client.get(f"/congresses/{cid}/console").get_data(as_text=True)
    assert f'id="seal-{pid}"' in console and "trackers: 2" not in console  # in Vietnamese
    assert "mã biên nhận: 2" in console and "2/2 thành viên đã có thẻ khóa" in console
    client.post("/logout")
    hall.close(pid)
    auth.login("counter1")
    page = client.get(f"/polls/{pid}/count").get_data(as_text=True)
    assert 'id="open-box"' in page and page.count('name="opening_code"') == 2
    assert "Số phiếu đã niêm phong trong hòm: 2." in page
    codes = hall.opening_codes(pid)
    # one code: refused with the rule's message, nothing counted
    r = client.post(f"/polls/{pid}/count", data={"opening_code": [codes[0], ""]})
    assert r.status_code == 302
    page = client.get(f"/polls/{pid}/count").get_data(as_text=True)
    assert "chỉ mở được bằng mã mở của 2 thành viên" in page and 'id="open-box"' in page
    # both codes, as the page sends them (one field each): opened and counted
    r = client.post(f"/polls/{pid}/count", data={"opening_code": codes})
    assert r.status_code == 302
    page = client.get(f"/polls/{pid}/count").get_data(as_text=True)
    assert 'id="open-box"' not in page and "2 mã biên nhận được lưu để công bố" in page
    with app.app_context():
        assert db.session.execute(text("SELECT count(*) FROM ballot")).scalar() == 2


def test_a_rehearsal_congress_practises_the_ceremony(app, runner, hall, api, client):
    """`flask rehearsal --committee …`: a congress of its own, a secret poll for those counters;
    their practice cards open it (and only that congress's cards)."""
    r = runner.invoke(args=["rehearsal", "--committee", "counter1", "--committee", "observer"])
    assert r.exit_code != 0 and "observer" in r.output
    r = runner.invoke(args=["rehearsal", "--committee", "counter1", "--committee", "counter3"])
    assert r.exit_code == 0, r.output
    m = re.search(r"Rehearsal congress (\d+), poll (\d+)", r.output)
    cid, pid = int(m.group(1)), int(m.group(2))
    assert api("chair").post(f"/api/v1/polls/{pid}/open").json["error"]["code"] == (
        "key_cards_missing"
    )
    opened = hall.open(pid)  # each prints a practice card for the rehearsal congress
    assert opened["seal"]["threshold"] == 2 and opened["title"].startswith("Bầu thử (diễn tập)")
    kiosk = hall.enrol_kiosk(cid)
    token = hall.issue(pid, 1)["tokens"][0]
    ids = [c["id"] for c in opened["candidates"]]
    r = client.post(
        f"/api/v1/ballot/{token}", json={"kept": ids[:2]}, headers={"X-Kiosk-Token": kiosk}
    )
    assert r.status_code == 201, r.json
    hall.close(pid)
    assert hall.count(pid)["figures"]["ballots_returned"] == 1


def test_two_counts_at_once_open_the_box_once(hall, app, auth):
    import threading

    _cid, poll, tokens = _poll(hall, 6)
    pid = poll["id"]
    ids = [c["id"] for c in poll["candidates"]]
    _cast(app, tokens, lambda k: ids[: 1 + k % 2])
    hall.close(pid)
    body = {"opening_codes": hall.opening_codes(pid)}
    headers = {u: auth.headers(u) for u in ("counter1", "counter2")}
    barrier = threading.Barrier(2)
    answers: list[int] = []

    def count(user):
        client = app.test_client()  # its own client: its own request context and session
        barrier.wait()
        r = client.post(f"/api/v1/polls/{pid}/count", json=body, headers=headers[user])
        answers.append(r.status_code)

    threads = [threading.Thread(target=count, args=(u,)) for u in headers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    # the second either waited and recounted the opened set, or found the poll counted (409)
    assert 200 in answers and set(answers) <= {200, 409}, answers
    with app.app_context():
        opened = db.session.execute(
            text("SELECT count(*) FROM audit_event WHERE action = 'poll.box_opened'")
        ).scalar()
        assert opened == 1
        assert db.session.execute(text("SELECT count(*) FROM ballot")).scalar() == 6
        assert db.session.execute(text("SELECT count(*) FROM poll_tracker")).scalar() == 6


def test_paper_entries_join_the_opened_set(hall, app, api):
    _cid, poll, tokens = _poll(hall, 2)
    pid = poll["id"]
    ids = [c["id"] for c in poll["candidates"]]
    paper = api("counter1").post(f"/api/v1/polls/{pid}/ballots", json={"count": 1, "kind": "paper"})
    assert paper.status_code == 201, paper.json
    _cast(app, tokens, lambda k: ids[:1])
    hall.close(pid)
    hall.enter_paper(pid, [(paper.json["codes"][0], [ids[1]])])
    res = hall.count(pid)
    assert res["figures"]["ballots_returned"] == 3
    votes = {c["id"]: c["votes"] for c in res["candidates"]}
    assert votes[ids[0]] == 2 and votes[ids[1]] == 1
    with app.app_context():
        rows = db.session.execute(text("SELECT source, receipt FROM ballot")).all()
        assert sorted(s for s, _ in rows) == ["paper", "tablet", "tablet"]
        assert all(r is None for s, r in rows if s == "tablet")
