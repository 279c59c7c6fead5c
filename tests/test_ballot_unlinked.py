"""Issue 14, hole 5: a reader of the database cannot link a ballot to its slip or its moment.

The attack: with a copy of the database, join `ballot.token_hash` to `ballot_token` (whose stored
order is the print order of the slips) and to its `issue_batch` (issue time); or recompute a
receipt from a token row with `poll.receipt_key`. Casting goes through the public API; the
checks read the database file (SQLite) or server (PostgreSQL) directly, as that reader would.
"""

from __future__ import annotations

import re

from sqlalchemy import inspect, text

from congress_vote import codes
from congress_vote.extensions import db

LINKED = ("ballot_token", "issue_batch", "kiosk", "user")
RECEIPT = re.compile(r"^[2-9A-HJ-NP-Z]{4}(-[2-9A-HJ-NP-Z]{4}){3}$")  # a sealed ballot's tracker


def _cast_all(hall, client, n: int, voters: int = 20):
    cid, poll, tokens = hall.open_poll_with_ballots(n, voters=voters)
    ids = [c["id"] for c in poll["candidates"]]
    receipts = []
    for k, t in enumerate(tokens):
        r = client.post(f"/api/v1/ballot/{t}", json={"kept": ids[: 1 + k % 2]})
        assert r.status_code == 201, r.json
        receipts.append(r.json["receipt"])
    return cid, poll, tokens, receipts


def _forget(conn, receipt: str, token_hash: str) -> None:
    """Put the database back as before a cast: the sealed ballot with that tracker gone, its
    token unused."""
    from congress_vote.seal.box import tracker

    for bid, ct in conn.execute(text("SELECT id, ciphertext FROM sealed_ballot")).all():
        if tracker(bytes(ct)) == receipt:
            conn.execute(text("DELETE FROM sealed_ballot WHERE id = :i"), {"i": bid})
    conn.execute(
        text("UPDATE ballot_token SET state = 'unused', tracker = NULL WHERE token_hash = :h"),
        {"h": token_hash},
    )


def _rows(table: str) -> list[dict]:
    with db.engine.connect() as conn:
        return [dict(r._mapping) for r in conn.execute(text(f'SELECT * FROM "{table}"'))]


def _spearman(xs: list[int]) -> float:
    """Rank correlation of positions 0..n-1 with `xs` (a permutation of 0..n-1)."""
    n = len(xs)
    d2 = sum((i - x) ** 2 for i, x in enumerate(xs))
    return 1 - 6 * d2 / (n * (n * n - 1))


def test_no_column_of_ballot_joins_a_token_batch_kiosk_user_or_time(hall, app, client):
    _cid, poll, tokens, receipts = _cast_all(hall, client, 6)
    hall.close(poll["id"])
    hall.count(poll["id"])  # the sealed box opened: its ballots are rows of `ballot` now
    with app.app_context():
        insp = inspect(db.engine)
        fks = insp.get_foreign_keys("ballot")
        assert {fk["referred_table"] for fk in fks} == {"poll"}, fks
        cols = insp.get_columns("ballot")
        names = {c["name"] for c in cols}
        assert "token_hash" not in names
        for c in cols:
            kind = type(c["type"]).__name__.lower()
            assert "time" not in kind and "date" not in kind and not c["name"].endswith("_at"), c
        ballots = _rows("ballot")
        assert len(ballots) == len(tokens)
        # No ballot value (other than the poll it belongs to) equals any value stored in a
        # token, batch, kiosk or user row: nothing to join on, whatever the column is called.
        values = {
            str(v)
            for b in ballots
            for k, v in b.items()
            if k not in ("poll_id", "source") and v is not None
        }
        tables = [t for t in LINKED if insp.has_table(t)]
        assert {"ballot_token", "issue_batch", "user"} <= set(tables)
        for table in tables:
            theirs = {str(v) for row in _rows(table) for v in row.values() if v is not None}
            assert not values & theirs, (table, values & theirs)
        # and no token hash (the join key of the slips) appears inside any ballot value
        hashes = [codes.code_hash(codes.normalise(t)) for t in tokens]
        blob = " ".join(values)
        assert not [h for h in hashes if h in blob or h[:12] in blob]


def test_receipts_are_random_not_derived_from_the_token(hall, app, client):
    _cid, poll, tokens, receipts = _cast_all(hall, client, 4)
    assert all(RECEIPT.match(r) for r in receipts), receipts
    assert len(set(receipts)) == len(receipts)
    with app.app_context():
        cols = {c["name"] for c in inspect(db.engine).get_columns("poll")}
        assert not [c for c in cols if "key" in c or "nonce" in c or "secret" in c], cols
        # Replay the same token on the same poll: put the database back as it was before the
        # cast (token unused, that ballot gone) and cast again. A receipt computed from the
        # token row (and anything else stored) would come out the same; a random one does not.
        h = codes.code_hash(codes.normalise(tokens[0]))
        with db.engine.begin() as conn:
            _forget(conn, receipts[0], h)
    ids = [c["id"] for c in poll["candidates"]]
    again = set()
    for _ in range(3):
        r = client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": ids[:1]})
        assert r.status_code == 201, r.json
        again.add(r.json["receipt"])
        with app.app_context(), db.engine.begin() as conn:
            _forget(conn, r.json["receipt"], h)
    assert receipts[0] not in again and len(again) == 3, (receipts[0], again)


def test_token_rows_do_not_keep_the_print_order(hall, app, client):
    cid = hall.congress(voters=60)
    poll = hall.poll(cid)
    hall.open(poll["id"])
    printed = hall.issue(poll["id"], 50)["tokens"]  # the order of the slips in the PDF
    rank = {codes.code_hash(codes.normalise(t)): n for n, t in enumerate(printed)}
    with app.app_context(), db.engine.connect() as conn:
        for sql in (
            "SELECT token_hash FROM ballot_token",
            "SELECT token_hash FROM ballot_token WHERE poll_id = :p",
            "SELECT * FROM ballot_token WHERE poll_id = :p",
        ):
            stored = [r[0] for r in conn.execute(text(sql), {"p": poll["id"]})]
            assert sorted(stored) == sorted(rank)
            rho = _spearman([rank[h] for h in stored])
            assert rho < 0.5, (sql, rho)
        insp = inspect(conn)  # on this connection: a second one would wait behind it
        assert insp.get_pk_constraint("ballot_token")["constrained_columns"] == ["token_hash"]
        if db.engine.dialect.name == "sqlite":
            # No hidden sequential rowid that keeps the insertion (= print) order.
            ddl = conn.execute(
                text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'ballot_token'")
            ).scalar()
            assert "WITHOUT ROWID" in ddl.upper()
            try:
                conn.execute(text("SELECT rowid FROM ballot_token")).all()
            except Exception as exc:  # noqa: BLE001 — "no such column: rowid"
                assert "rowid" in str(exc)
            else:
                raise AssertionError("ballot_token still has a rowid")


def test_counted_paper_ballot_joins_neither_its_token_nor_its_entries(hall, app, api, staff):
    import io

    from pypdf import PdfReader

    from tests.conftest import PASSWORD

    cid = hall.congress(voters=10)
    poll = hall.poll(cid, counting_committee=[staff["counter1"], staff["counter2"]])
    pid = poll["id"]
    x, y, _z = (c["id"] for c in poll["candidates"])
    hall.open(pid)
    c1 = app.test_client()
    assert c1.post("/login", data={"username": "counter1", "password": PASSWORD}).status_code == 302
    pdf = c1.post(f"/polls/{pid}/paper/print", data={"count": "3", "size": "A4"})
    assert pdf.status_code == 200
    text_ = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.data)).pages)
    paper = list(dict.fromkeys(re.findall(r"(?:[2-9A-HJ-NP-Z]{4}-){4}[2-9A-HJ-NP-Z]", text_)))
    assert len(paper) == 3, paper
    hall.close(pid)
    hall.enter_paper(pid, zip(paper[:2], ([x], [x, y]), strict=True), unused=1)
    hashes = {codes.code_hash(codes.normalise(p)) for p in paper}
    with app.app_context():
        ballots = _rows("ballot")
        assert len(ballots) == 2 and {b["source"] for b in ballots} == {"paper"}
        # poll_id and source ('paper') are shared by whole categories of rows, not links
        values = {
            str(v)
            for b in ballots
            for k, v in b.items()
            if k not in ("poll_id", "source") and v is not None
        }
        for table in ("ballot_token", "issue_batch"):
            theirs = {str(v) for row in _rows(table) for v in row.values() if v is not None}
            assert not values & theirs, (table, values & theirs)
        assert not [v for v in values for h in hashes if h[:12] in v]
        # the entries hold the same content (they are what was typed), but no shared id/receipt
        ids = {str(b[k]) for b in ballots for k in ("id", "receipt")}
        theirs = {str(v) for row in _rows("paper_entry") for v in row.values() if v is not None}
        assert not ids & theirs
        # the entries of a counted paper ballot no longer name its code
        entries = _rows("paper_entry")
        assert len(entries) == 4 and {e["token_hash"] for e in entries} == {None}
