"""Casting exactly once under concurrency; no path from a secret ballot to a delegate; printed
slips decode (150 dpi) to codes that vote."""

import io
import subprocess
import threading

import pytest
from sqlalchemy import inspect

from congress_vote.extensions import db


def test_concurrent_casts_store_exactly_one_ballot_per_token(hall, app):
    cid, poll, _ = hall.open_poll_with_ballots(1, voters=60)
    tokens = hall.issue(poll["id"], 50)["tokens"]
    kept = [poll["candidates"][0]["id"]]
    results: list[tuple[str, int]] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def worker(offset: int):
        client = app.test_client()  # its own client: its own request context and session
        client.environ_base["HTTP_X_KIOSK_TOKEN"] = hall.kiosk_tokens[cid]  # an enrolled tablet
        barrier.wait()
        order = tokens[offset % 7 :] + tokens[: offset % 7]  # different orders collide more
        for t in order:
            r = client.post(f"/api/v1/ballot/{t}", json={"kept": kept})
            with lock:
                results.append((t, r.status_code, (r.json or {}).get("error", {}).get("code")))

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert len(results) == 8 * 50
    for t in tokens:
        mine = [(s, c) for tok, s, c in results if tok == t]
        assert sorted(s for s, _ in mine) == [201] + [409] * 7, (t, mine)
        assert all(c == "ballot_used" for s, c in mine if s == 409)
    from congress_vote.ballots.models import BallotToken
    from congress_vote.seal.models import SealedBallot

    with app.app_context():
        rows = db.session.execute(db.select(SealedBallot.id)).scalars().all()
        assert len(rows) == len(set(rows)) == 51 - 1  # the first token was never cast
        assert (
            db.session.scalar(
                db.select(db.func.count())
                .select_from(BallotToken)
                .where(BallotToken.state == "used")
            )
            == 50
        )


def test_no_path_from_a_secret_ballot_to_a_delegate(hall, app, client):
    cid, poll, tokens = hall.open_poll_with_ballots(5)
    ids = [c["id"] for c in poll["candidates"]]
    for t in tokens:
        assert client.post(f"/api/v1/ballot/{t}", json={"kept": ids[:1]}).status_code == 201
    hall.close(poll["id"])
    hall.count(poll["id"])  # the box opened: the ballots are rows of `ballot` now
    with app.app_context():
        # One connection for the reflection and the reads below: an inspector on the engine
        # takes a second one, which waits behind the session's (SQLite's writers' queue).
        insp = inspect(db.session.connection())
        reachable = set()
        frontier = ["ballot", "sealed_ballot"]
        while frontier:  # every table reachable from ballot by foreign keys
            t = frontier.pop()
            if t in reachable:
                continue
            reachable.add(t)
            frontier += [fk["referred_table"] for fk in insp.get_foreign_keys(t)]
        assert "delegate" not in reachable and "named_vote" not in reachable
        assert reachable <= {
            "ballot",
            "sealed_ballot",
            "ballot_token",
            "poll",
            "issue_batch",
            "user",
            "congress",
        }
        for table in ("ballot", "sealed_ballot", "ballot_token"):
            cols = {c["name"]: c for c in insp.get_columns(table)}
            assert not [n for n in cols if "delegate" in n or "user" in n]
            assert not [
                n
                for n, c in cols.items()
                if "time" in type(c["type"]).__name__.lower()
                or "date" in type(c["type"]).__name__.lower()
                or n.endswith("_at")
            ], cols
        # ballot ids are random (not a sequence): 32 hex digits, no order shared with insertion
        from congress_vote.ballots.models import Ballot

        stored = list(db.session.scalars(db.select(Ballot)))
        assert len(stored) == 5
        for b in stored:
            assert len(b.id) == 32 and int(b.id, 16) >= 0 and not b.id.isdigit()
            assert set(b.choice) and "delegate" not in b.choice
        # no integer primary key on ballot
        pk = insp.get_pk_constraint("ballot")["constrained_columns"]
        assert (
            pk == ["id"]
            and "CHAR"
            in str({c["name"]: c["type"] for c in insp.get_columns("ballot")}["id"]).upper()
        )
        if db.engine.dialect.name == "sqlite":  # no hidden sequential rowid either
            sql = db.session.execute(
                db.text("SELECT sql FROM sqlite_master WHERE name='ballot'")
            ).scalar()
            assert "WITHOUT ROWID" in sql.upper()


def test_printed_slips_decode_and_vote(hall, app, auth, client, tmp_path):
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    cid, poll, _ = hall.open_poll_with_ballots(1)
    out = hall.issue(poll["id"], 9)  # two pages: a full one and a partial one
    auth.login("counter1")
    pdf = client.get(out["pdf_url"]).data
    client.post("/logout")
    (tmp_path / "s.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", str(tmp_path / "s.pdf"), str(tmp_path / "p")], check=True
    )
    found = []
    for png in sorted(tmp_path.glob("p-*.png")):
        found += [r.text for r in zxingcpp.read_barcodes(Image.open(png))]
    assert len(found) == 9
    assert all(u.startswith("http://vote.test/b/") for u in found)
    assert sorted(u.rsplit("/", 1)[1] for u in found) == sorted(out["tokens"])
    # the printed codes (text) are there too, formatted
    from pypdf import PdfReader

    ids = [c["id"] for c in poll["candidates"]]
    for url in found:
        path = url[len("http://vote.test") :]
        assert client.get(path).status_code == 200
        r = client.post(path, data={"step": "cast", "struck": [str(ids[0])]})
        assert r.status_code == 200 and b"receipt-code" in r.data
    from congress_vote.seal.models import SealedBallot

    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(SealedBallot)) == 9
    assert PdfReader(io.BytesIO(pdf)).pages[0].extract_text()  # static text is real text


def test_a_cast_racing_the_close_waits_for_it_and_is_refused(hall, app, staff):
    """A cast sent while the close is being written (its unused tokens voided, not yet
    committed) waits for the close and is refused, 409 poll_not_open: the two serialise on the
    token's row (PostgreSQL: the close's UPDATE holds it, the cast's conditional UPDATE finds
    it void once the close commits) or on the write lock (SQLite). No ballot lands after the
    close, though the cast read the poll as open (PostgreSQL)."""
    import time

    from congress_vote.auth.models import User
    from congress_vote.ballots.models import Ballot, BallotToken
    from congress_vote.codes import code_hash, normalise
    from congress_vote.polls.models import Poll
    from congress_vote.polls.services import close_poll
    from congress_vote.seal.models import SealedBallot

    cid, poll, tokens = hall.open_poll_with_ballots(2)
    kept = [poll["candidates"][0]["id"]]
    closing, casting = threading.Event(), threading.Event()
    outcome: dict = {}

    def close():
        try:
            with app.app_context():
                close_poll(db.session.get(Poll, poll["id"]), db.session.get(User, staff["chair"]))
                db.session.flush()
                closing.set()
                casting.wait(10)
                time.sleep(0.5)  # the cast is now waiting for this transaction
                db.session.commit()
        except Exception as exc:  # noqa: BLE001  (reported below)
            outcome["close"] = exc
            closing.set()

    def cast():
        closing.wait(10)
        client = app.test_client()
        client.environ_base["HTTP_X_KIOSK_TOKEN"] = hall.kiosk_tokens[cid]
        casting.set()
        r = client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": kept})
        outcome["cast"] = (r.status_code, (r.json or {}).get("error", {}).get("code"))

    threads = [threading.Thread(target=close), threading.Thread(target=cast)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert "close" not in outcome, outcome
    assert outcome["cast"] == (409, "poll_not_open"), outcome
    with app.app_context():
        assert db.session.get(Poll, poll["id"]).status == "closed"
        assert db.session.get(BallotToken, code_hash(normalise(tokens[0]))).state == "void"
        for model in (Ballot, SealedBallot):
            assert not db.session.scalars(
                db.select(model.id).where(model.poll_id == poll["id"])
            ).all()
