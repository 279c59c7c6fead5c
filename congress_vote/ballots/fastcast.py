"""The lean path for casting a ballot: `POST /api/v1/ballot/<token>` answered without Flask.

Why: casting is the one request a hall sends in bursts (hundreds of tablets when a poll opens),
and a Flask request costs more CPU than the whole cast does in the database: the benchmark's
minimal Flask + Flask-SQLAlchemy app doing one INSERT reaches about half the throughput of a
plain WSGI function doing the same INSERT (bench/README.md). This WSGI middleware sits in front of
Flask (inside ProxyFix) and serves the *ordinary* cast — an unused slip token of an open secret
poll, a valid choice, a client under its rate limit — with the writes of `services.cast_ballot`
on one kept DB-API connection.

Before the database: the cast's poll is found from its choice among the open secret polls this
process has shown or taken a ballot of lately (`services.cast_polls`): kept candidate ids or
answered item ids belong to one poll only, so the poll whose rules accept the choice is the one
(a blank choice must fit exactly one remembered poll). The choice is validated and made
canonical, and the receipt (HMAC of the poll's key and the token hash), the ballot id and the
audit event's time and body are computed — all in the request's own thread.

In the database, per cast, in one transaction:
  1. UPDATE ballot_token SET state='used' WHERE hash=? AND state='unused' AND slip AND its poll is
     that poll AND the poll is open, secret, with that setup fingerprint, receipt key and
     congress — so every value taken from the process's memory is checked by the database;
  2. if a token was taken: INSERT the ballot;
  3. the audit appends of `audit.services.record` for the stored ballots, in order, under the
     chain head's lock, taken last.
On SQLite these are the statements, in-process, under the write queue (BEGIN IMMEDIATE). On
PostgreSQL they are one call of a session-temporary PL/pgSQL function (`pg_temp.cv_cast_ballots`,
created on the kept connection from this file's text, so it always matches the running code) in
autocommit: one round trip and one COMMIT for the whole batch, the head's row lock held only
from the first event insert to that COMMIT.

Group commit: casts that arrive while another thread of the process is writing wait for it and
are then written together, by one thread, in one transaction. Each answer is sent only after
the batch's COMMIT succeeded.

Everything else goes to Flask unchanged, which gives the canonical answer and message: any
refusal (unknown, used, paper or voided ballot, closed poll, over-vote, malformed body, huge
numbers), a client over the code-entry limit, a poll this process has not seen yet (the Flask
cast or ballot page then remembers it), a choice that fits no remembered poll or several, any
database error. A cast the database does not take changes nothing; a database error rolls the
whole batch back. Either way the Flask path starts from the state before the cast (the token
still unused). A commit that fails is also handed over: the Flask path then finds the token
used (answers 409) or casts it — never twice.

The success answer is the Flask path's: 201 `{"receipt": …}` with the same security headers.
`FAST_CAST = False` in the config turns the lean path off (the tests run the guarantees both
ways).
"""
from __future__ import annotations

import secrets
import threading
import time

from sqlalchemy import bindparam, event, exists, insert, select, update

from .. import codes
from .. import db as db_module
from ..audit import services as audit
from ..extensions import db, limiter
from ..errors import ServiceError
from ..lean import Refer, SqliteAppend, Statement, answer, read_json_object
from ..rules import validate_ballot
from . import services
from .models import Ballot, IssueBatch

PREFIX = "/api/v1/ballot/"
MAX_BODY = 16 * 1024  # a 200-candidate choice is ~1.5 KB; bigger bodies take the Flask path
RETRY_AFTER_S = 60  # after the PostgreSQL function could not be created, Flask casts this long

# PostgreSQL: a batch in one call. Per cast the token UPDATE (the conditions of
# services._CONSUME_TOKEN plus the remembered poll's values) and, if it took the token, the
# ballot INSERT; then, under the chain head's lock (taken after the tokens, as cast_ballot and
# record() do), one event per stored ballot, hashed as audit.APPEND_PG does (prefix, previous
# hash, '","seq":', seq, '}'), and the head moved once. Answers the 1-based positions stored.
# Any error aborts the statement, and autocommit rolls the whole batch back.
PG_FUNCTION = """
CREATE OR REPLACE FUNCTION pg_temp.cv_cast_ballots(
    hashes text[], polls integer[], fingerprints text[], keys text[], congresses integer[],
    ids text[], choices text[], receipts text[], ats timestamp[], datas text[],
    prefixes text[]) RETURNS integer[] LANGUAGE plpgsql AS $fn$
DECLARE
  stored integer[] := '{}';
  i integer;
  h_seq integer;
  h_hash text;
  next_hash text;
BEGIN
  FOR i IN 1 .. coalesce(array_length(hashes, 1), 0) LOOP
    UPDATE ballot_token SET state = 'used'
     WHERE token_hash = hashes[i] AND state = 'unused' AND poll_id = polls[i]
       AND batch_id IN (SELECT b.id FROM issue_batch b WHERE b.kind = 'slip')
       AND EXISTS (SELECT 1 FROM poll p WHERE p.id = polls[i] AND p.status = 'open'
                   AND p.secrecy = 'secret' AND p.setup_fingerprint = fingerprints[i]
                   AND p.receipt_key = keys[i] AND p.congress_id = congresses[i]);
    IF FOUND THEN
      INSERT INTO ballot (id, poll_id, token_hash, source, choice, invalid_reason, receipt)
      VALUES (ids[i], polls[i], hashes[i], 'tablet', choices[i], NULL, receipts[i]);
      stored := stored || i;
    END IF;
  END LOOP;
  IF cardinality(stored) = 0 THEN
    RETURN stored;
  END IF;
  SELECT seq, hash INTO h_seq, h_hash FROM audit_head WHERE id = 1 FOR UPDATE;
  IF NOT FOUND THEN
    RAISE EXCEPTION 'no audit chain head yet';  -- record() creates it: Flask casts
  END IF;
  FOREACH i IN ARRAY stored LOOP
    h_seq := h_seq + 1;
    next_hash := encode(sha256(convert_to(
        prefixes[i] || h_hash || '","seq":' || h_seq::text || '}', 'UTF8')), 'hex');
    INSERT INTO audit_event (seq, at, actor_id, action, congress_id, data, prev_hash, hash)
    VALUES (h_seq, ats[i], NULL, 'ballot.cast', congresses[i], datas[i], h_hash, next_hash);
    h_hash := next_hash;
  END LOOP;
  UPDATE audit_head SET seq = h_seq, hash = h_hash WHERE id = 1;
  RETURN stored;
END
$fn$"""
PG_CALL = ("SELECT pg_temp.cv_cast_ballots(%s::text[], %s::integer[], %s::text[], %s::text[], "
           "%s::integer[], %s::text[], %s::text[], %s::text[], %s::timestamp[], %s::text[], "
           "%s::text[])")


class _Plan:
    """What a batch runs on one engine: SQLite's compiled statements, or PostgreSQL's call."""

    def __init__(self, engine):
        d = engine.dialect
        self.engine = engine
        self.sqlite = d.name == "sqlite"
        self.pg = d.name == "postgresql"
        self.call = PG_CALL  # PostgreSQL (the tests replace it to make the call fail)
        if self.sqlite:
            toks, polls, slips = services._TOKENS, services._POLLS, IssueBatch.__table__
            self.consume = Statement(
                update(toks).where(
                    toks.c.token_hash == bindparam("h"), toks.c.state == "unused",
                    toks.c.poll_id == bindparam("pid"),
                    toks.c.batch_id.in_(select(slips.c.id).where(slips.c.kind == "slip")),
                    exists().where(polls.c.id == bindparam("pid"), polls.c.status == "open",
                                   polls.c.secrecy == "secret",
                                   polls.c.setup_fingerprint == bindparam("fp"),
                                   polls.c.receipt_key == bindparam("key"),
                                   polls.c.congress_id == bindparam("cid")))
                .values(state="used"), d)
            cols = ("id", "poll_id", "token_hash", "source", "choice", "invalid_reason",
                    "receipt")
            self.ballot = Statement(insert(Ballot.__table__).values(
                {c: bindparam(c) for c in cols}), d)
            self.append = SqliteAppend(d)


class FastCast:
    """WSGI middleware: the lean cast, or the Flask app (`wsgi_app`) for everything else."""

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self._plan: _Plan | None = None
        self._proxy = self._conn = None  # see _connection
        self._limits = None
        self._off_until = 0.0  # see _connection
        self.served = 0  # casts answered here (read by the tests)
        # Group commit: casts that arrive while a batch is being written wait for the next one.
        self._cv = threading.Condition()
        self._pending: list[_Cast] = []
        self._busy = False

    # -- WSGI --------------------------------------------------------------------------------

    def __call__(self, environ, start_response):
        if (environ.get("REQUEST_METHOD") == "POST"
                and environ.get("PATH_INFO", "").startswith(PREFIX)
                and self.app.config.get("FAST_CAST", True)):
            out = self._try(environ)
            if out is not None:
                start_response("201 CREATED", out[1])
                return [out[0]]
        return self.wsgi_app(environ, start_response)

    def _try(self, environ):
        token = environ["PATH_INFO"][len(PREFIX):]
        if not token or "/" in token or time.monotonic() < self._off_until:
            return None
        data = read_json_object(environ, MAX_BODY)
        if data is None:
            return None
        code = services.resolve_code(token)
        if code is None or self._over_limit(environ):
            return None
        item = prepare(codes.code_hash(code), data.get("kept"), data.get("answers"))
        if item is None:
            return None
        try:
            receipt = self._cast(item)
        except Refer:
            return None
        except Exception:  # noqa: BLE001 - any failure: the Flask path answers (503, 500 ...)
            self.app.logger.debug("fast cast handed over after an error", exc_info=True)
            return None
        self.served += 1
        return answer({"receipt": receipt}, environ)

    # -- rate limit ----------------------------------------------------------------------------

    def _over_limit(self, environ) -> bool:
        """True when the code-entry limit (shared with the Flask route, same storage and keys)
        leaves this client no request, or cannot be read: then Flask answers (429 or not)."""
        cfg = self.app.config
        if not cfg.get("RATELIMIT_ENABLED", True):
            return False
        try:
            if self._limits is None:
                from limits import parse_many
                self._limits = parse_many(cfg["RATELIMIT_CODE_ENTRY"])
            key = environ.get("REMOTE_ADDR") or "127.0.0.1"  # flask_limiter's get_remote_address
            args = [key, "code-entry"]
            prefix = cfg.get("RATELIMIT_KEY_PREFIX") or ""
            if prefix:
                args.insert(0, prefix)
            strategy = limiter.limiter
            return not all(strategy.test(item, *args) for item in self._limits)
        except Exception:  # noqa: BLE001 - a storage problem: Flask-Limiter decides
            return True

    # -- the cast ------------------------------------------------------------------------------

    def _get_plan(self) -> _Plan:
        if self._plan is None:
            with self.app.app_context():
                plan = _Plan(db.engine)
            event.listen(plan.engine, "engine_disposed", self._drop_connection)
            self._plan = plan
        return self._plan

    def _cast(self, item: _Cast) -> str:
        """Cast through the group commit: the first thread in becomes the leader and writes every
        cast waiting at that moment in one transaction; the others wait for its commit."""
        with self._cv:
            self._pending.append(item)
            while self._busy and not item.done:
                self._cv.wait()
            batch = None
            if not item.done:
                self._busy = True
                batch, self._pending = self._pending, []
        if batch is not None:
            try:
                self._write(batch)
            finally:
                with self._cv:
                    self._busy = False
                    self._cv.notify_all()
        if not item.stored:
            raise Refer
        return item.receipt

    def _write(self, batch: list[_Cast]) -> None:
        """One transaction for the batch (see the module's docstring). A cast the database does
        not take is left to Flask; any error rolls the whole batch back and hands it all over.
        `stored` is set only after the COMMIT."""
        plan = self._get_plan()
        stored: list[_Cast] = []
        conn = None
        began = failed = False
        try:
            conn = self._connection(plan)
            if plan.pg:
                stored = self._write_pg(plan, conn, batch)
            else:
                db_module.acquire_write_queue(conn)
                cur = conn.cursor()
                cur.execute("BEGIN IMMEDIATE")
                began = True
                stored = self._write_sqlite(plan, cur, batch)
                conn.commit()
                began = False
            for item in stored:
                item.stored = True
        except Exception:  # noqa: BLE001 - rolled back below; every cast goes to Flask
            failed = True
            self.app.logger.debug("fast cast batch handed over after an error", exc_info=True)
        finally:
            if began:
                try:
                    conn.rollback()
                except Exception:  # noqa: BLE001
                    pass
            if plan.sqlite and conn is not None:
                db_module.release_write_queue(conn)
            if failed:
                self._drop_connection()  # the next batch starts on a fresh one
            for item in batch:
                item.done = True

    def _connection(self, plan: _Plan):
        """The batch writer's DB-API connection. One batch at a time per process (`_busy`), so
        one connection serves them all: taken from the engine's pool once and kept, like the
        ceiling app's per-thread connection (no pool check-out, reset and check-in per batch).
        Dropped after a failed batch and when the engine is disposed. On PostgreSQL it runs in
        autocommit (each batch is one call, so one transaction) and gets the session's
        function; if that cannot be created (no TEMP privilege, say), Flask casts for a while."""
        if self._conn is None:
            proxy = plan.engine.raw_connection()
            conn = proxy.driver_connection
            if plan.pg:
                try:
                    conn.rollback()
                    conn.autocommit = True
                    conn.execute(PG_FUNCTION)
                except Exception:
                    self._off_until = time.monotonic() + RETRY_AFTER_S
                    self.app.logger.warning("lean casting off for %d s: cannot create "
                                            "pg_temp.cv_cast_ballots", RETRY_AFTER_S,
                                            exc_info=True)
                    proxy.invalidate()
                    raise
            self._proxy, self._conn = proxy, conn
        return self._conn

    def _drop_connection(self, *_args) -> None:
        proxy, self._proxy, self._conn = self._proxy, None, None
        if proxy is not None:
            try:
                proxy.invalidate()  # closes the DB-API connection, never back in the pool
            except Exception:  # noqa: BLE001
                pass

    @staticmethod
    def _write_sqlite(plan: _Plan, cur, batch: list[_Cast]) -> list[_Cast]:
        """In-process calls, under the write queue: statement by statement."""
        ballots, stored = [], []
        for item in batch:
            poll = item.poll
            plan.consume.run(cur, h=item.h, pid=poll.id, fp=poll.setup_fingerprint,
                             key=poll.receipt_key, cid=poll.congress_id)
            if cur.rowcount != 1:
                continue  # unknown, used, voided, paper, closed, another poll: Flask says
            ballots.append({"id": item.ballot_id, "poll_id": poll.id, "token_hash": item.h,
                            "source": "tablet", "choice": item.choice, "invalid_reason": None,
                            "receipt": item.receipt})
            stored.append(item)
        if not stored:
            return stored
        plan.ballot.run_many(cur, ballots)
        plan.append.run(cur, [("ballot.cast", None, {"poll_id": item.poll.id},
                               item.poll.congress_id) for item in stored])
        return stored

    @staticmethod
    def _write_pg(plan: _Plan, conn, batch: list[_Cast]) -> list[_Cast]:
        """One round trip: the call, in autocommit (its answer comes after the COMMIT)."""
        polls = [item.poll for item in batch]
        events = [audit.append_params("ballot.cast", None, {"poll_id": p.id}, p.congress_id)
                  for p in polls]
        cur = conn.execute(plan.call, (
            [item.h for item in batch], [p.id for p in polls],
            [p.setup_fingerprint for p in polls], [p.receipt_key for p in polls],
            [p.congress_id for p in polls], [item.ballot_id for item in batch],
            [item.choice for item in batch], [item.receipt for item in batch],
            [e["at"] for e in events], [e["data"] for e in events],
            [e["prefix"] for e in events]))
        positions = cur.fetchone()[0]
        return [batch[i - 1] for i in positions]


class _Cast:
    """One cast, ready for the database, waiting for the group commit."""
    __slots__ = ("h", "poll", "choice", "receipt", "ballot_id", "stored", "done")

    def __init__(self, h: str, poll: services.CastPoll, choice: str):
        self.h, self.poll, self.choice = h, poll, choice
        self.receipt = services.receipt_for(poll.receipt_key, h)
        self.ballot_id = secrets.token_hex(16)
        self.stored = False
        self.done = False


def prepare(h: str, kept, answers) -> _Cast | None:
    """The cast of token hash `h`, its poll found from its choice (see the module's docstring),
    or None when Flask must answer: no remembered poll takes the choice, or it is blank and
    more than one does."""
    blank = []
    for poll in services.cast_polls():
        rules = services._SPEC_CACHE.get((poll.id, poll.setup_fingerprint))
        if rules is None:
            continue
        try:
            ballot = services.parse_choice(poll.kind, kept, answers)
        except ServiceError:
            continue
        if validate_ballot(rules[0], rules[1], ballot) is not None:
            continue
        if ballot.kept or ballot.answers:  # ids of this poll's candidates or items: the one
            return _Cast(h, poll, services.canonical_choice(ballot))
        blank.append((poll, ballot))
    if len(blank) == 1:
        return _Cast(h, blank[0][0], services.canonical_choice(blank[0][1]))
    return None
