"""Declarative base and database engine behaviour.

SQLite: WAL journal, a busy timeout and foreign keys on every connection, and BEGIN IMMEDIATE for
transactions of requests that change state (POST/PUT/PATCH/DELETE and CLI commands), so two
writers queue on the database lock instead of failing when a read transaction tries to upgrade.
Read-only requests (GET, and a POST that declares itself so with `read_only_request`) begin
deferred and read a WAL snapshot without blocking anybody.

Write queue (SQLite file databases). SQLite's own wait for the write lock is a busy handler that
sleeps 1, 2, 5, 10 … 50, 100 ms between tries: a writer that just missed the lock may sleep up to
100 ms while the database sits idle, which is what made the check-in and casting p99. So before
BEGIN IMMEDIATE every pooled connection first takes an exclusive `flock` on its own descriptor of
a lock file next to the database (`<db>-writelock`): waiters, in any thread or process, block in
the kernel (the GIL released) and wake as soon as the holder lets go. The flock is let go right
after the driver's COMMIT or ROLLBACK has completed (the dialect's `do_commit` / `do_rollback`,
not SQLAlchemy's "commit" event, which fires before the driver commits), and a connection going
back to the pool never keeps it (the pool's "checkin" event). SQLite's lock and busy timeout stay
as they were: the queue only decides who goes next; anything outside it (the sqlite3 shell, a
backup) is still waited for by the busy handler. `acquire_write_queue` / `release_write_queue`
are the same steps for code that begins a write transaction on a raw DB-API connection.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
import weakref
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, ClassVar, cast

from sqlalchemy import MetaData, Table, event
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.orm import DeclarativeBase

log = logging.getLogger(__name__)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    if TYPE_CHECKING:
        # Every model maps one table (none maps a join or a select), so `Model.__table__` is a
        # Table, not the FromClause DeclarativeBase declares.
        __table__: ClassVar[Table]


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def rowcount(result: Result[Any]) -> int:
    """How many rows an UPDATE or DELETE run through `Session.execute` matched. The session's
    typing answers Result for every statement; for those it is a CursorResult, which counts."""
    return cast("CursorResult[Any]", result).rowcount


READ_ONLY_KEY = "congress_vote.read_only"


def read_only_request() -> None:
    """Declare that this request writes nothing (the kiosk's ballot page and review step). Call
    it before the request's first statement; a write after it is not allowed.

    SQLite: its transaction begins deferred, so it does not wait in the write queue behind the
    casts (a write would have to upgrade the lock and could fail with "database is locked").
    PostgreSQL: its statements run in autocommit, without the BEGIN and ROLLBACK round trips
    around them. Under READ COMMITTED (PostgreSQL's default, which the app keeps) every
    statement takes its own snapshot inside a transaction too, so what a read sees is the same.
    """
    from flask import current_app, request

    request.environ[READ_ONLY_KEY] = True
    sa = current_app.extensions["sqlalchemy"]
    if sa.engine.dialect.name == "postgresql":
        sa.session.connection(execution_options={"isolation_level": "AUTOCOMMIT"})


def _wants_immediate() -> bool:
    try:
        from flask import has_request_context, request
    except ImportError:  # pragma: no cover
        return True
    if has_request_context():
        return request.method not in ("GET", "HEAD", "OPTIONS") and not request.environ.get(
            READ_ONLY_KEY
        )
    return True


# ---- write queue -------------------------------------------------------------------------------

WRITE_LOCK_SUFFIX = "-writelock"
# (lock file, thread) pairs holding the queue: a thread that already holds it through one
# connection and begins a write on a second connection must not wait for itself (it would wait
# forever); that second connection goes without the queue, as before the queue existed.
_holders: set[tuple[str, int]] = set()
# Every connection with a lock-file descriptor, so that a forked child (the cards PDF's process
# pool forks) can drop its copies: a flock belongs to the open file, which fork shares, so a
# child that outlived its parent would otherwise keep the parent's queue taken.
_queued: weakref.WeakSet[QueuedConnection] = weakref.WeakSet()


class QueuedConnection(sqlite3.Connection):
    """A pysqlite connection that carries its own descriptor of the write-lock file."""

    _wq_fd: int | None = None
    _wq_path: str | None = None
    _wq_held: bool = False
    _wq_holder: tuple[str, int] | None = None
    _wq_closer = None

    def _wq_open(self, lock_path: str) -> None:
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:  # a read-only folder: work without the queue
            log.warning("SQLite write queue off (cannot open %s: %s)", lock_path, exc)
            return
        self._wq_fd, self._wq_path = fd, lock_path
        # Closed with the connection, or when it is garbage collected without close().
        self._wq_closer = weakref.finalize(self, os.close, fd)
        _queued.add(self)

    def _wq_forget(self) -> None:
        """In a forked child: close this copy of the descriptor, queue off for the connection
        (the child must not use the parent's connections anyway)."""
        if self._wq_closer is not None:
            self._wq_closer()
        self._wq_fd, self._wq_held, self._wq_holder = None, False, None

    def close(self) -> None:
        try:
            super().close()  # rolls back an open transaction first
        finally:
            _release(self)
            if self._wq_closer is not None:
                self._wq_closer()


def _forget_in_child() -> None:
    for conn in list(_queued):
        conn._wq_forget()
    _queued.clear()
    _holders.clear()


os.register_at_fork(after_in_child=_forget_in_child)


def _lock_path(database: str | None) -> str | None:
    """The write-lock file of a SQLite database, None when it is not a plain file."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.path.abspath(database) + WRITE_LOCK_SUFFIX


def _raw(connection):
    """The DB-API connection behind a pool proxy (or the connection itself)."""
    return getattr(connection, "dbapi_connection", None) or connection


def acquire_write_queue(dbapi_connection) -> bool:
    """Wait for this connection's turn to write (call it just before BEGIN IMMEDIATE).

    Blocks on the flock, the GIL released, until no other connection of any process holds the
    queue. Answers True when this call took it; False when there is nothing to take (not a
    SQLite file connection, already held by this connection, or held by this thread through
    another connection)."""
    conn = _raw(dbapi_connection)
    fd = getattr(conn, "_wq_fd", None)
    if fd is None or conn._wq_held:
        return False
    holder = (conn._wq_path, threading.get_ident())
    if holder in _holders:
        return False
    fcntl.flock(fd, fcntl.LOCK_EX)
    conn._wq_held, conn._wq_holder = True, holder
    _holders.add(holder)
    return True


def release_write_queue(dbapi_connection) -> None:
    """Let the next writer go (call it right after COMMIT or ROLLBACK has completed).
    A no-op when the connection does not hold the queue."""
    _release(_raw(dbapi_connection))


def _release(conn) -> None:
    if not getattr(conn, "_wq_held", False):
        return
    conn._wq_held = False
    _holders.discard(conn._wq_holder)
    # A descriptor already closed holds nothing.
    with contextlib.suppress(OSError):
        fcntl.flock(conn._wq_fd, fcntl.LOCK_UN)


def write_queue_held(dbapi_connection) -> bool:
    """Whether this connection holds the write queue (for tests and diagnostics)."""
    return bool(getattr(_raw(dbapi_connection), "_wq_held", False))


def _release_when_done(conn) -> None:
    """After the driver's COMMIT/ROLLBACK: let go unless a transaction is still open (a failed
    COMMIT keeps it; the ROLLBACK that follows lets go)."""
    conn = _raw(conn)
    if getattr(conn, "_wq_held", False) and not conn.in_transaction:
        _release(conn)


def configure_sqlite(engine: Engine) -> None:
    """Install the pragmas, the write queue and the BEGIN behaviour on a SQLite engine."""
    lock_path = _lock_path(engine.url.database)

    if lock_path is not None:

        @event.listens_for(engine, "do_connect")
        def _factory(_dialect, _record, _cargs, cparams):
            cparams.setdefault("factory", QueuedConnection)

        dialect = engine.dialect
        plain_commit, plain_rollback = dialect.do_commit, dialect.do_rollback

        def do_commit(dbapi_connection):
            try:
                plain_commit(dbapi_connection)
            finally:
                _release_when_done(dbapi_connection)

        def do_rollback(dbapi_connection):
            try:
                plain_rollback(dbapi_connection)
            finally:
                _release_when_done(dbapi_connection)

        # Per engine (the dialect object is this engine's own).
        # (mypy forbids assigning to a method; here that replacement is the point)
        dialect.do_commit = do_commit  # type: ignore[method-assign]
        dialect.do_rollback = do_rollback  # type: ignore[method-assign]

        @event.listens_for(engine, "checkin")
        def _checkin(dbapi_connection, _record):
            release_write_queue(dbapi_connection)  # never back in the pool holding the queue

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is deferred only).
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()
        if lock_path is not None and isinstance(dbapi_connection, QueuedConnection):
            dbapi_connection._wq_open(lock_path)

    @event.listens_for(engine, "begin")
    def _begin(conn):
        if not _wants_immediate():
            conn.exec_driver_sql("BEGIN")
            return
        raw = conn.connection.dbapi_connection
        took = acquire_write_queue(raw)
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            if took:
                release_write_queue(raw)
            raise
