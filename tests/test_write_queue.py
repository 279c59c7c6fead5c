"""The SQLite write queue (congress_vote/db.py): a writer takes the flock of `<db>-writelock`
before BEGIN IMMEDIATE and lets go only after the driver's COMMIT/ROLLBACK, and never goes back to
the pool holding it; writers of other threads wait for it instead of SQLite's sleeping busy
handler."""

from __future__ import annotations

import os
import sqlite3
import threading

import pytest
from sqlalchemy import event, func, select, text

from congress_vote.db import acquire_write_queue, release_write_queue, write_queue_held
from congress_vote.extensions import db
from tests.conftest import make_app, queue_taken

# In a pytest of their own, one process (scripts/test.sh): under xdist the worker's database read
# "file is not a database" after these tests.
pytestmark = pytest.mark.isolated


def _write(action: str = "test.write") -> None:
    from congress_vote.audit.services import record

    record(action, data={"n": 1})


def test_held_during_the_transaction_and_released_after_the_driver_commits(sqlite_app):
    app = sqlite_app
    at_commit_event = []
    with app.test_request_context("/", method="POST"):
        engine = db.engine

        def _commit(conn):  # fires before the driver's COMMIT
            at_commit_event.append(
                write_queue_held(conn.connection.dbapi_connection) and queue_taken(app)
            )

        event.listen(engine, "commit", _commit)
        try:
            assert not queue_taken(app)
            _write()
            raw = db.session.connection().connection.dbapi_connection
            assert write_queue_held(raw) and queue_taken(app)
            db.session.commit()
            assert not write_queue_held(raw) and not queue_taken(app)
        finally:
            event.remove(engine, "commit", _commit)
    assert at_commit_event == [True]


def test_released_after_rollback(sqlite_app):
    app = sqlite_app
    with app.test_request_context("/", method="POST"):
        _write()
        assert queue_taken(app)
        db.session.rollback()
        assert not queue_taken(app)
    with app.app_context():
        from congress_vote.audit.models import AuditEvent

        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_released_by_commit_and_rollback_of_a_connection_kept_checked_out(sqlite_app):
    """Not only when the connection goes back to the pool: right after the driver's COMMIT or
    ROLLBACK, while the same connection carries on."""
    app = sqlite_app
    with app.test_request_context("/", method="POST"), db.engine.connect() as conn:
        conn.execute(text("UPDATE audit_head SET seq = seq WHERE id = 1"))
        assert queue_taken(app)
        conn.commit()
        assert not queue_taken(app)
        conn.execute(text("UPDATE audit_head SET seq = seq WHERE id = 1"))
        assert queue_taken(app)
        conn.rollback()
        assert not queue_taken(app)


def test_a_read_only_request_does_not_take_it(sqlite_app):
    app = sqlite_app
    with app.test_request_context("/", method="GET"):
        db.session.execute(text("SELECT 1"))
        assert db.session.connection().in_transaction() and not queue_taken(app)
        db.session.rollback()


def test_released_when_a_request_fails_midway(sqlite_app):
    """A view that writes and then raises: the teardown gives the connection back to the pool
    (rolled back) and the queue is free; the write is not stored."""
    from congress_vote.security import public

    app = sqlite_app
    app.config["PROPAGATE_EXCEPTIONS"] = False
    seen = {}

    @public
    def boom():
        _write("test.boom")
        seen["held"] = queue_taken(app)
        raise RuntimeError("midway")

    app.add_url_rule("/_test/boom", "test_boom", boom, methods=["POST"])
    from congress_vote.security import csrf_exempt

    csrf_exempt(boom)
    r = app.test_client().post("/_test/boom")
    assert r.status_code == 500
    assert seen == {"held": True}
    assert not queue_taken(app)
    with app.app_context():
        from congress_vote.audit.models import AuditEvent

        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 0


def test_a_raw_connection_returned_to_the_pool_lets_go(sqlite_app):
    """The lean path's steps on a raw DB-API connection; one returned to the pool while holding
    the queue (its caller failed before releasing) does not keep it."""
    app = sqlite_app
    with app.app_context():
        raw = db.engine.raw_connection()
        assert acquire_write_queue(raw) is True
        assert acquire_write_queue(raw) is False  # held already: nothing more to take
        raw.dbapi_connection.execute("BEGIN IMMEDIATE")
        assert queue_taken(app)
        raw.dbapi_connection.execute("COMMIT")
        release_write_queue(raw)
        assert not queue_taken(app)
        release_write_queue(raw)  # not held: a no-op

        assert acquire_write_queue(raw.dbapi_connection) is True
        raw.dbapi_connection.execute("BEGIN IMMEDIATE")
        raw.close()  # back to the pool mid-transaction
        assert not queue_taken(app)
        db.engine.dispose()


def test_the_same_thread_never_waits_for_itself(sqlite_app):
    """A second connection of a thread that holds the queue goes without it (SQLite's busy
    timeout decides, as before) instead of blocking forever."""
    app = sqlite_app
    with app.app_context():
        a, b = db.engine.raw_connection(), db.engine.raw_connection()
        try:
            assert acquire_write_queue(a) is True
            assert acquire_write_queue(b) is False
            release_write_queue(a)
            assert acquire_write_queue(b) is True
            release_write_queue(b)
        finally:
            a.close()
            b.close()


def test_no_op_without_a_sqlite_file(app):
    """PostgreSQL connections and in-memory SQLite have no queue."""
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            if db.engine.dialect.name != "sqlite":
                assert acquire_write_queue(raw) is False
                assert not write_queue_held(raw)
                release_write_queue(raw)
        finally:
            raw.close()
    mem = make_app("sqlite://")
    with mem.app_context():
        raw = db.engine.raw_connection()
        try:
            assert acquire_write_queue(raw) is False
            release_write_queue(raw)
        finally:
            raw.close()
        db.engine.dispose()
    plain = sqlite3.connect(":memory:")
    assert acquire_write_queue(plain) is False
    plain.close()


def test_concurrent_writers_queue_instead_of_failing(sqlite_app, database_url):
    """With SQLite's busy timeout at 0 a writer that finds the lock taken fails at once
    ("database is locked"); with the queue the writers of four threads wait their turn, each
    holding its transaction open a moment, and every append lands in one unforked chain."""
    app = make_app(database_url)
    with app.app_context():

        @event.listens_for(db.engine, "connect")
        def _no_busy_wait(dbapi_connection, _record):
            dbapi_connection.execute("PRAGMA busy_timeout=0")

    errors, inside, overlaps = [], [], []
    in_tx = threading.Lock()
    start = threading.Barrier(4)

    def writer(n: int) -> None:
        try:
            start.wait()
            for _i in range(5):
                with app.test_request_context("/", method="POST"):
                    _write(f"test.thread{n}")
                    if not in_tx.acquire(blocking=False):
                        overlaps.append(n)  # two write transactions at once: impossible
                    inside.append(n)
                    threading.Event().wait(0.01)  # hold the transaction while others queue
                    in_tx.release()
                    db.session.commit()
                    db.session.remove()
        except Exception as exc:  # noqa: BLE001 (reported below)
            errors.append(repr(exc))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == [] and overlaps == []
    assert len(inside) == 20
    assert not queue_taken(app)
    with app.app_context():
        from congress_vote.audit.models import AuditEvent
        from congress_vote.audit.services import verify_chain

        assert db.session.scalar(select(func.count()).select_from(AuditEvent)) == 20
        assert verify_chain().ok
        db.session.remove()
        db.engine.dispose()


def test_a_forked_child_drops_its_copy_of_the_lock(sqlite_app):
    """fork shares the open lock file (and so the flock) with the child: the child closes its
    copies at once, so a child that outlives its parent cannot keep the queue taken."""
    app = sqlite_app
    with app.app_context():
        raw = db.engine.raw_connection()
        try:
            conn = raw.dbapi_connection
            fd = conn._wq_fd
            assert fd is not None and acquire_write_queue(raw)
            pid = os.fork()
            if pid == 0:  # the child: exit code 0 only when the copy is gone
                try:
                    os.fstat(fd)
                    code = 1
                except OSError:
                    code = 0 if conn._wq_fd is None and not write_queue_held(conn) else 2
                os._exit(code)
            _, status = os.waitpid(pid, 0)
            assert os.waitstatus_to_exitcode(status) == 0
            assert write_queue_held(raw) and queue_taken(app)
            release_write_queue(raw)
            assert not queue_taken(app)
        finally:
            raw.close()
