"""The lean path for casting a ballot: `POST /api/v1/ballot/<token>` answered without Flask.

Why: casting is the one request a hall sends in bursts (hundreds of tablets when a poll opens),
and a Flask request costs more CPU than the whole cast does in the database: the benchmark's
minimal Flask + Flask-SQLAlchemy app doing one INSERT reaches about half the throughput of a
plain WSGI function doing the same INSERT (bench/README.md). This WSGI middleware sits in front of
Flask (inside ProxyFix) and serves the *ordinary* cast — an unused slip token of an open secret
poll, a valid choice, a client under its rate limit — with the very statements of
`services.cast_ballot` on a pooled DB-API connection, in one transaction:

  1. UPDATE ballot_token SET state='used' WHERE hash=? AND state='unused' AND slip … RETURNING
  2. SELECT the poll (open, secret, its receipt key and setup fingerprint) — on PostgreSQL part
     of 1 (UPDATE … FROM poll … RETURNING the poll's columns)
  3. INSERT the ballot (random id, no delegate, no time), receipt = HMAC(poll key, token hash)
  4. the audit append of `audit.services.record`: on SQLite lock the head, INSERT the event,
     move the head; on PostgreSQL the one statement `audit.services.APPEND_PG`

Group commit: casts that arrive while another thread of the process is writing wait for it and
are then written together, by one thread, in one transaction (one write-queue turn on SQLite,
one COMMIT per batch). On PostgreSQL the chain head's row lock is held until COMMIT, so casts
are serialised on it: the batch takes three round trips (the head's presence; the token
UPDATEs pipelined; then the ballots, the appends and the COMMIT in one pipeline), so the lock is
held only while the server runs the last. Each answer is sent only after the batch's COMMIT
succeeded.

Everything else goes to Flask unchanged, which gives the canonical answer and message: any
refusal (unknown, used, paper or voided ballot, closed poll, over-vote, malformed body, huge
numbers), a client over the code-entry limit, a poll whose rules this process has not cached
yet, any database error. A cast of a batch that cannot be served gets its token back inside the
transaction (net: unchanged); a database error rolls the whole batch back. Either way the Flask
path starts from the state before the cast (the token still unused). A commit that fails is
also handed over: the Flask path then finds the token used (answers 409) or casts it — never
twice.

The success answer is the Flask path's: 201 `{"receipt": …}` with the same security headers.
`FAST_CAST = False` in the config turns the lean path off (the tests run the guarantees both
ways).
"""
from __future__ import annotations

import io
import json
import secrets
import threading

from sqlalchemy import bindparam, event, insert, select, update

from .. import codes
from .. import db as db_module
from ..api.util import has_huge_int
from ..audit import services as audit
from ..extensions import db, limiter
from ..errors import ServiceError
from ..rules import validate_ballot
from ..security import CSP, security_headers
from . import services
from .models import Ballot

PREFIX = "/api/v1/ballot/"
# The headers of every answer but Content-Type/-Length, over http and https (HSTS).
_HEADERS = {secure: [("Content-Security-Policy", CSP), *security_headers(secure),
                     ("Vary", "Cookie")] for secure in (False, True)}
MAX_BODY = 16 * 1024  # a 200-candidate choice is ~1.5 KB; bigger bodies take the Flask path


class _Statement:
    """A core statement compiled once for the engine's dialect, run on a DB-API cursor with the
    dialect's own parameter style and type processing."""

    def __init__(self, stmt, dialect):
        compiled = stmt.compile(dialect=dialect)
        self.sql = str(compiled)
        self.defaults = {name: b.effective_value for name, b in compiled.binds.items()
                         if not b.required}
        self.order = compiled.positiontup if dialect.positional else None
        self.procs = {}
        for key, bind in compiled.binds.items():
            proc = bind.type.dialect_impl(dialect).bind_processor(dialect)
            if proc is not None:
                self.procs[key] = proc

    def _params(self, values: dict):
        params = {**self.defaults, **values}
        for key, proc in self.procs.items():
            params[key] = proc(params[key])
        return [params[k] for k in self.order] if self.order else params

    def run(self, cursor, **values):
        cursor.execute(self.sql, self._params(values))
        return cursor

    def run_many(self, cursor, rows: list[dict], **kw) -> None:
        cursor.executemany(self.sql, [self._params(v) for v in rows], **kw)


class _Plan:
    """The compiled statements of a cast for one engine."""

    def __init__(self, engine):
        d = engine.dialect
        self.engine = engine
        self.sqlite = d.name == "sqlite"
        self.pg = d.name == "postgresql"
        toks = services._TOKENS
        self.give_back = _Statement(update(toks).where(toks.c.token_hash == bindparam("h"),
                                                       toks.c.state == "used")
                                    .values(state="unused"), d)
        cols = ("id", "poll_id", "token_hash", "source", "choice", "invalid_reason", "receipt")
        self.ballot = _Statement(insert(Ballot.__table__).values(
            {c: bindparam(c) for c in cols}), d)
        if self.pg:
            # PostgreSQL: the token UPDATE also checks the poll (open, secret) and returns what
            # the cast needs of it (UPDATE … FROM poll); the audit append is one statement.
            polls, slips = services._POLLS, services.IssueBatch.__table__
            self.consume_pg = _Statement(
                update(toks).where(toks.c.token_hash == bindparam("h"),
                                   toks.c.state == "unused", polls.c.id == toks.c.poll_id,
                                   polls.c.status == "open", polls.c.secrecy == "secret",
                                   toks.c.batch_id.in_(select(slips.c.id)
                                                       .where(slips.c.kind == "slip")))
                .values(state="used")
                .returning(polls.c.id, polls.c.congress_id, polls.c.kind, polls.c.status,
                           polls.c.secrecy, polls.c.receipt_key, polls.c.setup_fingerprint), d)
            self.append = _Statement(audit.APPEND_PG, d)
            heads = audit._HEAD
            self.has_head = _Statement(select(heads.c.id).where(heads.c.id == 1), d)
        else:
            # SQLite: `services.cast_ballot`'s statements and `audit.services.record`'s three.
            self.consume = _Statement(services._CONSUME_TOKEN, d)
            self.poll = _Statement(services._POLL_FOR_CAST, d)
            self.head = _Statement(audit._SELECT_HEAD, d)
            ev_cols = ("seq", "at", "actor_id", "action", "congress_id", "data", "prev_hash",
                       "hash")
            self.event = _Statement(insert(audit._EVENTS).values(
                {c: bindparam(c) for c in ev_cols}), d)
            self.move = _Statement(audit._MOVE_HEAD, d)


class _Refer(Exception):
    """Not an ordinary cast: roll back and let the Flask path answer."""


class FastCast:
    """WSGI middleware: the lean cast, or the Flask app (`wsgi_app`) for everything else."""

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self._plan: _Plan | None = None
        self._proxy = self._conn = None  # see _connection
        self._limits = None
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
            answer = self._try(environ)
            if answer is not None:
                start_response("201 CREATED", answer[1])
                return [answer[0]]
        return self.wsgi_app(environ, start_response)

    def _try(self, environ):
        token = environ["PATH_INFO"][len(PREFIX):]
        if not token or "/" in token:
            return None
        if environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower() != "application/json":
            return None
        try:
            length = int(environ.get("CONTENT_LENGTH") or -1)
        except ValueError:
            return None
        if not 0 < length <= MAX_BODY:
            return None
        body = environ["wsgi.input"].read(length)
        # Whatever happens next, the Flask path can read the same body.
        environ["wsgi.input"] = io.BytesIO(body)
        if len(body) != length:
            return None
        code = services.resolve_code(token)
        if code is None:
            return None
        try:
            data = json.loads(body)
        except ValueError:
            return None
        if not isinstance(data, dict):
            return None
        if has_huge_int(data) or self._over_limit(environ):
            return None
        try:
            receipt = self._cast(codes.code_hash(code), data.get("kept"), data.get("answers"))
        except _Refer:
            return None
        except Exception:  # noqa: BLE001 - any failure: the Flask path answers (503, 500 ...)
            self.app.logger.debug("fast cast handed over after an error", exc_info=True)
            return None
        self.served += 1
        out = json.dumps({"receipt": receipt}, separators=(",", ":")).encode() + b"\n"
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(out))),
                   *_HEADERS[environ.get("wsgi.url_scheme") == "https"]]
        return out, headers

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

    def _cast(self, h: str, kept, answers) -> str:
        """Cast through the group commit: the first thread in becomes the leader and writes every
        cast waiting at that moment in one transaction; the others wait for its commit."""
        item = _Cast(h, kept, answers)
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
        if item.receipt is None:
            raise _Refer
        return item.receipt

    def _write(self, batch: list[_Cast]) -> None:
        """One transaction for the batch. Per cast, as `services.cast_ballot`: the conditional
        token UPDATE, the poll (open, secret, rules cached), the choice, the ballot; then one
        audit append per stored ballot, in order. A cast that cannot be served is handed to
        Flask (its token, if taken, given back inside the transaction); any error rolls the
        whole batch back and hands it all over. Answers are set only after the COMMIT."""
        plan = self._get_plan()
        conn = self._connection(plan)
        began = failed = False
        stored: list[tuple[_Cast, tuple, str]] = []
        try:
            cur = conn.cursor()
            if plan.pg:
                began = True
                stored = self._write_pg(plan, conn, cur, batch)
            else:
                db_module.acquire_write_queue(conn)
                cur.execute("BEGIN IMMEDIATE")
                began = True
                stored = self._write_sqlite(plan, cur, batch)
                conn.commit()
            began = False
            for item, _poll, receipt in stored:
                item.receipt = receipt
        except Exception:  # noqa: BLE001 - rolled back below; every cast goes to Flask
            failed = True
            self.app.logger.debug("fast cast batch handed over after an error", exc_info=True)
        finally:
            if began:
                try:
                    conn.rollback()
                except Exception:  # noqa: BLE001
                    pass
            if plan.sqlite:
                db_module.release_write_queue(conn)
            if failed:
                self._drop_connection()  # the next batch starts on a fresh one
            for item in batch:
                item.done = True

    def _connection(self, plan: _Plan):
        """The batch writer's DB-API connection. One batch at a time per process (`_busy`), so
        one connection serves them all: taken from the engine's pool once and kept, like the
        ceiling app's per-thread connection (no pool check-out, reset and check-in per batch).
        Dropped after a failed batch and when the engine is disposed."""
        if self._conn is None:
            self._proxy = plan.engine.raw_connection()
            self._conn = self._proxy.driver_connection
        return self._conn

    def _drop_connection(self, *_args) -> None:
        proxy, self._proxy, self._conn = self._proxy, None, None
        if proxy is not None:
            try:
                proxy.invalidate()  # closes the DB-API connection, never back in the pool
            except Exception:  # noqa: BLE001
                pass

    @staticmethod
    def _ballot(item: _Cast, poll) -> dict | None:
        """The ballot row of a cast whose token was taken, or None to hand it to Flask.
        poll: (id, congress_id, kind, status, secrecy, receipt_key, setup_fingerprint)."""
        if poll is None or poll[3] != "open" or poll[4] != "secret":
            return None
        rules = services._SPEC_CACHE.get((poll[0], poll[6]))
        if rules is None:  # Flask builds and caches this poll's rules
            return None
        choice = _valid_choice(poll[2], item.kept, item.answers, rules)
        if choice is None:
            return None
        return {"id": secrets.token_hex(16), "poll_id": poll[0], "token_hash": item.h,
                "source": "tablet", "choice": choice, "invalid_reason": None,
                "receipt": services.receipt_for(poll[5], item.h)}

    def _write_sqlite(self, plan: _Plan, cur, batch: list[_Cast]) -> list:
        """In-process calls, under the write queue: statement by statement."""
        polls: dict[int, tuple | None] = {}
        ballots, stored = [], []
        for item in batch:
            row = plan.consume.run(cur, h=item.h).fetchone()
            if row is None:
                continue  # unknown, used, voided or paper: Flask says which
            if row[0] not in polls:
                polls[row[0]] = plan.poll.run(cur, pid=row[0]).fetchone()
            ballot = self._ballot(item, polls[row[0]])
            if ballot is None:
                plan.give_back.run(cur, h=item.h)
                continue
            ballots.append(ballot)
            stored.append((item, polls[row[0]], ballot["receipt"]))
        if not stored:
            return stored
        plan.ballot.run_many(cur, ballots)
        head = plan.head.run(cur).fetchone()
        if head is None:
            raise _Refer  # an empty chain: record() creates the head
        seq, prev = head
        events = []
        for _item, poll, _receipt in stored:
            ev = audit.next_event(seq, prev, "ballot.cast", None, {"poll_id": poll[0]}, poll[1])
            events.append(ev)
            seq, prev = ev["seq"], ev["hash"]
        plan.event.run_many(cur, events)
        plan.move.run(cur, new_seq=seq, new_hash=prev)
        return stored

    @staticmethod
    def _write_pg(plan: _Plan, conn, cur, batch: list[_Cast]) -> list:
        """Three round trips for the whole batch: the chain head is there (else record() must
        create it first); the token UPDATEs with their polls (one pipelined executemany); then
        the given-back tokens, the ballots, one APPEND_PG per event and the COMMIT in one
        pipeline. The head's row lock is taken by the first APPEND and held only while the
        server runs the rest of that last trip."""
        if plan.has_head.run(cur).fetchone() is None:
            raise _Refer  # an empty chain: record() creates the head
        plan.consume_pg.run_many(cur, [{"h": item.h} for item in batch], returning=True)
        taken = []
        for item in batch:
            taken.append((item, cur.fetchone()))
            cur.nextset()
        give_back, ballots, stored = [], [], []
        for item, poll in taken:
            if poll is None:
                continue  # unknown, used, voided, paper or closed: Flask says which
            ballot = FastCast._ballot(item, poll)
            if ballot is None:
                give_back.append({"h": item.h})
                continue
            ballots.append(ballot)
            stored.append((item, poll, ballot["receipt"]))
        with conn.pipeline():
            if give_back:
                plan.give_back.run_many(cur, give_back)
            if ballots:
                plan.ballot.run_many(cur, ballots)
            for _item, poll, _receipt in stored:
                plan.append.run(cur, **audit.append_params("ballot.cast", None,
                                                          {"poll_id": poll[0]}, poll[1]))
            conn.commit()
        return stored


class _Cast:
    """One cast waiting for the group commit."""
    __slots__ = ("h", "kept", "answers", "receipt", "done")

    def __init__(self, h, kept, answers):
        self.h, self.kept, self.answers = h, kept, answers
        self.receipt: str | None = None
        self.done = False


def _valid_choice(kind: str, kept, answers, rules) -> str | None:
    """The canonical JSON of a valid choice (as `services.check_choice` stores it); None for
    anything `check_choice` would refuse, so that Flask answers with its message."""
    try:
        ballot = services.parse_choice(kind, kept, answers)
    except ServiceError:
        return None
    spec, settings = rules
    if validate_ballot(spec, settings, ballot) is not None:
        return None
    return services.canonical_choice(ballot)
