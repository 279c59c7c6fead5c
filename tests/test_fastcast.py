"""The lean casting path (congress_vote/ballots/fastcast.py): it serves the ordinary API cast with
the same rows, audit event and answer as the Flask path, and hands every other request to Flask,
which answers exactly as before (refusals, rate limit, database errors)."""
from __future__ import annotations

import pytest
from sqlalchemy import select

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
    with app.app_context():
        pg = db.engine.dialect.name == "postgresql"
    seen = []
    if pg:
        import psycopg
        real = psycopg.Connection.execute

        def spy(self, query, params=None, **kw):
            seen.append((" ".join(str(query).split()).lower(), params))
            return real(self, query, params, **kw)

        monkeypatch.setattr(psycopg.Connection, "execute", spy)
    else:
        real = fastcast.Statement.run
        real_many = fastcast.Statement.run_many

        def spy(self, cursor, **values):
            seen.append(" ".join(self.sql.split()).lower())
            return real(self, cursor, **values)

        def spy_many(self, cursor, rows, **kw):
            seen.append(" ".join(self.sql.split()).lower())
            assert len(rows) == 1  # one cast alone: a batch of one
            return real_many(self, cursor, rows, **kw)

        monkeypatch.setattr(fastcast.Statement, "run", spy)
        monkeypatch.setattr(fastcast.Statement, "run_many", spy_many)
    served = _fast(app).served
    r = client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": [poll["candidates"][1]["id"]]})
    assert r.status_code == 201 and _fast(app).served == served + 1
    if pg:
        # the session's function is created with the kept connection (the warm-up cast went
        # through Flask), then the whole cast is one call: one round trip, one transaction
        calls = [(q, p) for q, p in seen if q.startswith("select pg_temp.cv_cast_ballots")]
        assert len(calls) == 1 and len(seen) <= 2, seen
        assert len(calls[0][1][0]) == 1  # a batch of one
    else:
        # token UPDATE checking the poll, ballot INSERT, then the audit append: head lock,
        # event INSERT, head UPDATE
        assert len(seen) == 5, seen
        assert seen[0].startswith("update ballot_token") and "exists (select" in seen[0]
        assert seen[1].startswith("insert into ballot ")
        assert [s.split()[0] for s in seen[2:]] == ["select", "insert", "update"]
        assert seen[3].startswith("insert into audit_event")


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
    if plan.pg:
        # The call runs to its end (token taken, ballot and event written), then fails.
        monkeypatch.setattr(plan, "call", "SELECT s || 1 / (cardinality(s) - cardinality(s)) "
                            f"FROM ({plan.call} AS s OFFSET 0) q")
    else:
        class Boom:
            sql = "INSERT"

            def run_many(self, cursor, rows):
                raise RuntimeError("disk on fire")

        monkeypatch.setattr(plan, "ballot", Boom())  # after the token UPDATE, before the INSERT
    served, n = _fast(app).served, len(_ballots(app))
    events = len(_cast_events(app))
    r = client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": [poll["candidates"][0]["id"]]})
    assert r.status_code == 201 and _fast(app).served == served
    assert len(_ballots(app)) == n + 1  # one ballot, cast by the Flask path
    assert len(_cast_events(app)) == events + 1
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


def test_the_fast_path_lets_go_of_the_sqlite_write_queue(hall, sqlite_app, client):
    """After a cast and after a hand-over, no connection holds the writers' queue: another
    process could take it at once (non-blocking flock)."""
    from tests.conftest import queue_taken
    app = sqlite_app
    cid, poll, tokens = _warm(hall, client)
    served = _fast(app).served
    kept = [poll["candidates"][0]["id"]]
    assert client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": kept}).status_code == 201
    assert client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": kept}).status_code == 409
    assert _fast(app).served == served + 1
    assert not queue_taken(app)


def test_a_batch_stores_the_good_casts_and_leaves_the_rest_untouched(hall, app, client):
    """One group-commit batch: two good casts, the same token twice, an unknown token, a token
    of another poll. The good ones are stored with one chained event each; the rest change
    nothing and are left for Flask to answer. An over-vote never reaches the database."""
    from congress_vote.audit.services import verify_chain
    cid, poll, tokens = _warm(hall, client, n=4)
    _cid2, _poll2, other = _warm(hall, client, n=2)
    cands = [c["id"] for c in poll["candidates"]]
    h = [codes.code_hash(codes.normalise(t)) for t in tokens]
    assert fastcast.prepare(h[2], cands, None) is None  # 3 kept, 2 seats: Flask says so
    unknown = codes.code_hash(codes.new_code())
    of_other = codes.code_hash(codes.normalise(other[0]))
    batch = [fastcast.prepare(x, kept, None) for x, kept in (
        (h[0], cands[:1]), (h[1], cands[1:3]), (h[0], cands[:1]), (unknown, cands[:1]),
        (of_other, cands[:1]))]
    assert {item.poll.id for item in batch} == {poll["id"]}  # the choice names the poll
    events_before = len(_cast_events(app))
    _fast(app)._write(batch)
    assert all(item.done for item in batch)
    assert [item.stored for item in batch] == [True, True, False, False, False]
    rows = _ballots(app)
    assert rows[h[0]][0] == '{"kept":[%d]}' % cands[0]
    assert rows[h[1]][0] == '{"kept":[%d,%d]}' % tuple(sorted(cands[1:3]))
    assert rows[h[0]][2] == batch[0].receipt and of_other not in rows
    assert (_token_state(app, tokens[0]), _token_state(app, tokens[1])) == ("used", "used")
    assert _token_state(app, tokens[2]) == _token_state(app, other[0]) == "unused"
    assert len(_cast_events(app)) == events_before + 2
    with app.app_context():
        assert verify_chain().ok
    # The token of the other poll, cast with this poll's candidates: Flask refuses the choice.
    r = client.post(f"/api/v1/ballot/{other[0]}", json={"kept": cands[:1]})
    assert r.status_code == 422 and _token_state(app, other[0]) == "unused"


def test_the_choice_finds_its_poll_among_the_open_ones(hall, app, client):
    """Two elections open at once (the committee and the delegates, say): each cast goes to
    the lean path with the poll its candidates belong to. A blank ballot (valid under
    vn-party) fits both, so Flask casts it, on the token's own poll."""
    _c1, p1, t1 = _warm(hall, client, n=3)
    _c2, p2, t2 = _warm(hall, client, n=3)
    served = _fast(app).served
    for poll, tokens in ((p1, t1), (p2, t2)):
        r = client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": [poll["candidates"][2]["id"]]})
        assert r.status_code == 201
    assert _fast(app).served == served + 2
    rows = _ballots(app)
    for poll, tokens in ((p1, t1), (p2, t2)):
        assert rows[codes.code_hash(codes.normalise(tokens[0]))][0] == \
            '{"kept":[%d]}' % poll["candidates"][2]["id"]
    h = codes.code_hash(codes.normalise(t1[1]))
    assert fastcast.prepare(h, [], None) is None
    r = client.post(f"/api/v1/ballot/{t1[1]}", json={"kept": []})
    assert r.status_code == 201 and _fast(app).served == served + 2
    assert _ballots(app)[h][0] == '{"kept":[]}'
    with app.app_context():
        from congress_vote.ballots.models import Ballot
        assert db.session.scalar(select(Ballot.poll_id).where(Ballot.token_hash == h)) == p1["id"]


def test_a_poll_this_process_has_not_seen_is_cast_by_flask_first(hall, app, client):
    """The first cast of a poll in a process goes through Flask, which remembers the poll; a
    tablet that opened the ballot page first has already made it known."""
    cid, poll, tokens = hall.open_poll_with_ballots(3)
    kept = [poll["candidates"][0]["id"]]
    served = _fast(app).served
    assert client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": kept}).status_code == 201
    assert _fast(app).served == served
    assert client.post(f"/api/v1/ballot/{tokens[1]}", json={"kept": kept}).status_code == 201
    assert _fast(app).served == served + 1
    from congress_vote.ballots import services
    services._CAST_POLLS.clear()
    assert client.get(f"/api/v1/ballot/{tokens[2]}").status_code == 200
    assert client.post(f"/api/v1/ballot/{tokens[2]}", json={"kept": kept}).status_code == 201
    assert _fast(app).served == served + 2


def test_a_stale_memory_of_a_poll_is_refused_by_the_database(hall, app, client):
    """Whatever the process remembers of a poll (key, fingerprint, congress) is checked by the
    database in the cast itself: a wrong value stores nothing and Flask casts."""
    from congress_vote.ballots import services
    from congress_vote.ballots.services import receipt_for
    from congress_vote.polls.models import Poll
    cid, poll, tokens = _warm(hall, client, n=5)
    kept = [poll["candidates"][0]["id"]]
    good = services._CAST_POLLS[poll["id"]]
    # rules under the wrong fingerprint too, so that the wrong one reaches the database
    services._SPEC_CACHE[(poll["id"], "f" * 64)] = services._SPEC_CACHE[
        (poll["id"], good.setup_fingerprint)]
    with app.app_context():
        key = db.session.get(Poll, poll["id"]).receipt_key
    for n, wrong in enumerate((good._replace(receipt_key="00" * 32),
                               good._replace(setup_fingerprint="f" * 64),
                               good._replace(congress_id=good.congress_id + 1))):
        services._CAST_POLLS[poll["id"]] = wrong
        assert fastcast.prepare("0" * 64, kept, None).poll == wrong
        served = _fast(app).served
        r = client.post(f"/api/v1/ballot/{tokens[n]}", json={"kept": kept})
        assert r.status_code == 201 and _fast(app).served == served  # Flask cast it
        h = codes.code_hash(codes.normalise(tokens[n]))
        assert r.json["receipt"] == _ballots(app)[h][2] == receipt_for(key, h)
    assert services._CAST_POLLS[poll["id"]] == good  # Flask's cast put the truth back
    served = _fast(app).served
    assert client.post(f"/api/v1/ballot/{tokens[3]}", json={"kept": kept}).status_code == 201
    assert _fast(app).served == served + 1
    with app.app_context():
        assert [e for e in _cast_events(app) if e[2] != cid] == []


def test_without_the_postgresql_function_flask_casts_for_a_while(hall, app, client, monkeypatch,
                                                                 caplog):
    """A database user without the TEMP privilege cannot create the session's function: the
    casts go through Flask (all stored, once), the log says why, and the lean path does not
    retry on every request."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the session function is PostgreSQL's")
        db.engine.dispose()  # the next lean batch opens a new connection
    cid, poll, tokens = _warm(hall, client, n=4)
    monkeypatch.setattr(fastcast, "PG_FUNCTION", "CREATE FUNCTION pg_temp.nope(")  # fails
    kept = [poll["candidates"][0]["id"]]
    served = _fast(app).served
    with caplog.at_level("WARNING"):
        assert client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": kept}).status_code == 201
    assert "cannot create pg_temp.cv_cast_ballots" in caplog.text
    assert _fast(app)._conn is None and _fast(app)._off_until > 0
    monkeypatch.setattr(fastcast, "prepare", lambda *a: pytest.fail("the lean path retried"))
    assert client.post(f"/api/v1/ballot/{tokens[1]}", json={"kept": kept}).status_code == 201
    assert _fast(app).served == served and len(_cast_events(app)) == 3
    monkeypatch.undo()
    _fast(app)._off_until = 0.0  # a minute later
    assert client.post(f"/api/v1/ballot/{tokens[2]}", json={"kept": kept}).status_code == 201
    assert _fast(app).served == served + 1
