"""The lean casting path (congress_vote/ballots/fastcast.py): it serves the ordinary API cast with
the same rows, audit event and answer as the Flask path, and hands every other request to Flask,
which answers exactly as before (refusals, rate limit, database errors)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from congress_vote import codes
from congress_vote.ballots import fastcast
from congress_vote.extensions import db


def _fast(app):
    return app.extensions["fast_cast"]


def _token_state(app, token):
    from congress_vote.ballots.models import BallotToken
    with app.app_context():
        return db.session.get(BallotToken, codes.code_hash(codes.normalise(token))).state


def _ballots(app):
    from congress_vote.ballots.models import Ballot
    with app.app_context():
        return {b.token_hash: (b.choice, b.source, b.receipt, b.invalid_reason)
                for b in db.session.scalars(select(Ballot))}


def _cast_events(app):
    from congress_vote.audit.models import AuditEvent
    with app.app_context():
        return [(e.action, e.actor_id, e.congress_id, e.data) for e in db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "ballot.cast").order_by(AuditEvent.seq))]


def _warm(hall, client, n=4, **over):
    """A poll with n ballots; the first is cast (through whichever path) so that this process
    has the poll's rules cached, as a server has after its first cast of a poll."""
    cid, poll, tokens = hall.open_poll_with_ballots(n, **over)
    first = [poll["candidates"][0]["id"]] if poll.get("candidates") else None
    body = {"kept": first} if first is not None else {"answers": {}}
    assert client.post(f"/api/v1/ballot/{tokens[0]}", json=body).status_code == 201
    return cid, poll, tokens[1:]


def test_fast_and_flask_paths_store_the_same_ballot_event_and_answer(hall, app, client):
    from congress_vote.audit.services import verify_chain
    from congress_vote.ballots.services import receipt_for
    from congress_vote.polls.models import Poll
    cid, poll, tokens = _warm(hall, client, n=3)
    kept = [c["id"] for c in poll["candidates"][:2]][::-1]  # unsorted on purpose

    app.config["FAST_CAST"] = False
    served = _fast(app).served
    slow = client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": kept})
    assert slow.status_code == 201 and _fast(app).served == served
    app.config["FAST_CAST"] = True
    fast = client.post(f"/api/v1/ballot/{tokens[1]}", json={"kept": kept})
    assert fast.status_code == 201 and _fast(app).served == served + 1

    assert fast.get_data().endswith(b"\n") and set(fast.json) == {"receipt"}
    assert dict(fast.headers.items()).keys() == dict(slow.headers.items()).keys()
    for name, value in slow.headers.items():
        if name != "Content-Length":
            assert fast.headers[name] == value, name
    assert "Set-Cookie" not in fast.headers

    rows = _ballots(app)
    with app.app_context():
        key = db.session.get(Poll, poll["id"]).receipt_key
    for token, answer in ((tokens[0], slow), (tokens[1], fast)):
        h = codes.code_hash(codes.normalise(token))
        choice, source, receipt, invalid = rows[h]
        assert choice == '{"kept":[%d,%d]}' % tuple(sorted(kept))
        assert (source, invalid) == ("tablet", None)
        assert receipt == answer.json["receipt"] == receipt_for(key, h)
        assert _token_state(app, token) == "used"
    events = _cast_events(app)
    assert events[-2:] == [("ballot.cast", None, cid, '{"poll_id":%d}' % poll["id"])] * 2
    with app.app_context():
        assert verify_chain().ok  # the lean path's time and hash read back as written


def test_over_https_the_fast_answer_carries_hsts(hall, app, client):
    cid, poll, tokens = _warm(hall, client, n=2)
    served = _fast(app).served
    r = client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": [poll["candidates"][0]["id"]]},
                    base_url="https://vote.test")
    assert r.status_code == 201 and _fast(app).served == served + 1
    assert r.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    r = client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": [poll["candidates"][0]["id"]]})
    assert r.status_code == 409 and "Strict-Transport-Security" not in r.headers


def test_a_resolution_vote_takes_the_fast_path(hall, app, client):
    cid, poll, tokens = _warm(hall, client, n=2, kind="resolution")
    items = [i["id"] for i in poll["items"]]
    served = _fast(app).served
    r = client.post(f"/api/v1/ballot/{tokens[0]}",
                    json={"answers": {str(items[1]): "against", str(items[0]): "for"}})
    assert r.status_code == 201 and _fast(app).served == served + 1
    (choice,) = [c for c, *_ in _ballots(app).values()
                 if c != '{"answers":{}}']
    assert choice == '{"answers":{"%d":"for","%d":"against"}}' % (items[0], items[1])


def test_one_cast_alone_runs_its_few_statements(hall, app, client, monkeypatch):
    cid, poll, tokens = _warm(hall, client)
    seen = []
    real = fastcast._Statement.run
    real_many = fastcast._Statement.run_many

    def spy(self, cursor, **values):
        seen.append(" ".join(self.sql.split()).lower())
        return real(self, cursor, **values)

    def spy_many(self, cursor, rows, **kw):
        seen.append(" ".join(self.sql.split()).lower())
        assert len(rows) == 1  # one cast alone: a batch of one
        return real_many(self, cursor, rows, **kw)

    monkeypatch.setattr(fastcast._Statement, "run", spy)
    monkeypatch.setattr(fastcast._Statement, "run_many", spy_many)
    r = client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": [poll["candidates"][1]["id"]]})
    assert r.status_code == 201
    with app.app_context():
        pg = db.engine.dialect.name == "postgresql"
    if pg:
        # the chain head is there; token UPDATE … FROM poll … RETURNING; the ballot; the
        # one-statement audit append (audit.APPEND_PG)
        assert len(seen) == 4, seen
        assert seen[0].startswith("select audit_head.id from audit_head")
        assert seen[1].startswith("update ballot_token") and "from poll" in seen[1]
        assert "returning" in seen[1] and seen[2].startswith("insert into ballot ")
        assert seen[3].startswith("with h as (select seq, hash from audit_head")
    else:
        # token UPDATE … RETURNING, poll, ballot INSERT, then the audit append: head lock,
        # event INSERT, head UPDATE
        assert len(seen) == 6, seen
        assert seen[0].startswith("update ballot_token") and "returning" in seen[0]
        assert seen[1].startswith("select") and seen[2].startswith("insert into ballot ")
        assert [s.split()[0] for s in seen[3:]] == ["select", "insert", "update"]
        assert seen[4].startswith("insert into audit_event")


@pytest.mark.parametrize("case", ["overvote", "used", "unknown", "malformed", "not_json",
                                  "huge", "wrong_kind", "closed"])
def test_refusals_are_answered_by_flask_and_leave_the_token_unused(hall, app, client, case):
    cid, poll, tokens = _warm(hall, client, n=3)
    cands = [c["id"] for c in poll["candidates"]]
    token = tokens[0]
    kw = {"json": {"kept": cands[:1]}}
    expect = {"overvote": (422, "overvote"), "used": (409, "ballot_used"),
              "unknown": (404, "unknown_ballot"), "malformed": (400, "bad_request"),
              "not_json": (400, "bad_request"), "huge": (400, "bad_request"),
              "wrong_kind": (400, "bad_request"), "closed": (409, "poll_not_open")}[case]
    if case == "overvote":
        kw = {"json": {"kept": cands}}  # 3 kept, 2 seats
    elif case == "used":
        assert client.post(f"/api/v1/ballot/{token}", **kw).status_code == 201
    elif case == "unknown":
        token = codes.new_code()
    elif case == "malformed":
        kw = {"data": b'{"kept": [1,', "content_type": "application/json"}
    elif case == "not_json":
        kw = {"data": b"kept=1", "content_type": "application/x-www-form-urlencoded"}
    elif case == "huge":
        kw = {"json": {"kept": [10**20]}}
    elif case == "wrong_kind":
        kw = {"json": {"kept": "1,2"}}
    elif case == "closed":
        hall.close(poll["id"])
    before = (_fast(app).served, len(_ballots(app)), len(_cast_events(app)))
    r = client.post(f"/api/v1/ballot/{token}", **kw)
    assert (r.status_code, r.json["error"]["code"]) == expect
    assert r.headers["Cache-Control"] == "no-store"
    assert (_fast(app).served, len(_ballots(app)), len(_cast_events(app))) == before
    if case != "unknown":
        # (closing a poll voids its unused ballots)
        assert _token_state(app, token) == {"used": "used", "closed": "void"}.get(case, "unused")


def test_a_database_error_on_the_fast_path_is_rolled_back_and_flask_casts(hall, app, client,
                                                                        monkeypatch):
    from congress_vote.audit.services import verify_chain
    cid, poll, tokens = _warm(hall, client)
    plan = _fast(app)._get_plan()

    class Boom:
        sql = "INSERT"

        def run_many(self, cursor, rows):
            raise RuntimeError("disk on fire")

    monkeypatch.setattr(plan, "ballot", Boom())  # after the token UPDATE, before the INSERT
    served, n = _fast(app).served, len(_ballots(app))
    r = client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": [poll["candidates"][0]["id"]]})
    assert r.status_code == 201 and _fast(app).served == served
    assert len(_ballots(app)) == n + 1  # one ballot, cast by the Flask path
    assert _token_state(app, tokens[0]) == "used"
    with app.app_context():
        assert verify_chain().ok
    monkeypatch.undo()
    r = client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": [poll["candidates"][0]["id"]]})
    assert r.status_code == 409  # and never twice
    # The failed batch's connection was dropped; the next cast takes the fast path on a new one.
    r = client.post(f"/api/v1/ballot/{tokens[1]}", json={"kept": [poll["candidates"][0]["id"]]})
    assert r.status_code == 201 and _fast(app).served == served + 1


def test_the_writer_keeps_one_connection_until_the_engine_is_disposed(hall, app, client):
    cid, poll, tokens = _warm(hall, client)
    kept = [poll["candidates"][0]["id"]]
    assert client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": kept}).status_code == 201
    first = _fast(app)._conn
    assert first is not None
    assert client.post(f"/api/v1/ballot/{tokens[1]}", json={"kept": kept}).status_code == 201
    assert _fast(app)._conn is first  # no pool check-out per batch
    with app.app_context():
        db.engine.dispose()
    assert _fast(app)._conn is None  # closed with the engine's pool, not left open
    served = _fast(app).served
    assert client.post(f"/api/v1/ballot/{tokens[2]}", json={"kept": kept}).status_code == 201
    assert _fast(app).served == served + 1 and _fast(app)._conn is not None


def test_a_client_over_the_code_entry_limit_cannot_cast_on_the_fast_path(rate_limited_app):
    """Failed lookups use up the budget; then even a valid ballot is refused (429) for that
    client, or the fast path would let a guesser test codes without limit."""
    from tests.conftest import Auth, api_as, make_staff
    from tests.fx_polls import Hall
    app = rate_limited_app("3 per minute")
    staff_client = app.test_client()
    hall = Hall(app, api_as(staff_client, Auth(app, staff_client)), make_staff(app))
    client = app.test_client()
    cid, poll, tokens = _warm(hall, client, n=6)
    kept = [poll["candidates"][0]["id"]]
    served = _fast(app).served
    for t in tokens[:3]:  # valid casts do not use up the budget, and go the fast way
        assert client.post(f"/api/v1/ballot/{t}", json={"kept": kept}).status_code == 201
    assert _fast(app).served == served + 3
    for _ in range(3):
        assert client.post(f"/api/v1/ballot/{codes.new_code()}",
                           json={"kept": kept}).status_code == 404
    r = client.post(f"/api/v1/ballot/{tokens[3]}", json={"kept": kept})
    assert r.status_code == 429 and r.json["error"]["code"] == "rate_limited"
    assert _token_state(app, tokens[3]) == "unused" and _fast(app).served == served + 3
    other = app.test_client()  # another tablet (address) keeps its own budget
    r = other.post(f"/api/v1/ballot/{tokens[3]}", json={"kept": kept},
                   environ_base={"REMOTE_ADDR": "10.0.0.7"})
    assert r.status_code == 201 and _fast(app).served == served + 4


def test_the_fast_path_lets_go_of_the_sqlite_write_queue(hall, app, client):
    """After a cast and after a hand-over, no connection holds the writers' queue: another
    process could take it at once (non-blocking flock)."""
    import fcntl
    import os

    from congress_vote.db import WRITE_LOCK_SUFFIX
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the write queue is SQLite's (PostgreSQL locks rows)")
        path = os.path.abspath(db.engine.url.database) + WRITE_LOCK_SUFFIX
    cid, poll, tokens = _warm(hall, client)
    served = _fast(app).served
    kept = [poll["candidates"][0]["id"]]
    assert client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": kept}).status_code == 201
    assert client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": kept}).status_code == 409
    assert _fast(app).served == served + 1
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # raises BlockingIOError when held
        fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def test_a_batch_stores_the_good_casts_and_hands_back_the_rest(hall, app, client):
    """One group-commit batch: two good casts, an over-vote, the same token twice, an unknown
    token. The good ones are stored with one chained event each; the over-voted token is given
    back inside the transaction (still unused); the rest are left for Flask to answer."""
    from congress_vote.audit.services import verify_chain
    cid, poll, tokens = _warm(hall, client, n=4)
    cands = [c["id"] for c in poll["candidates"]]
    h = [codes.code_hash(codes.normalise(t)) for t in tokens]
    unknown = codes.code_hash(codes.new_code())
    batch = [fastcast._Cast(h[0], cands[:1], None), fastcast._Cast(h[1], cands[1:3], None),
             fastcast._Cast(h[2], cands, None),  # 3 kept, 2 seats
             fastcast._Cast(h[0], cands[:1], None), fastcast._Cast(unknown, cands[:1], None)]
    events_before = len(_cast_events(app))
    _fast(app)._write(batch)
    assert all(item.done for item in batch)
    assert [item.receipt is not None for item in batch] == [True, True, False, False, False]
    rows = _ballots(app)
    assert rows[h[0]][0] == '{"kept":[%d]}' % cands[0]
    assert rows[h[1]][0] == '{"kept":[%d,%d]}' % tuple(sorted(cands[1:3]))
    assert h[2] not in rows and _token_state(app, tokens[2]) == "unused"
    assert (_token_state(app, tokens[0]), _token_state(app, tokens[1])) == ("used", "used")
    assert len(_cast_events(app)) == events_before + 2
    with app.app_context():
        assert verify_chain().ok
    # The given-back token still votes (through whichever path).
    r = client.post(f"/api/v1/ballot/{tokens[2]}", json={"kept": cands[:2]})
    assert r.status_code == 201
