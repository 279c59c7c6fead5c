"""The lean path for casting a ballot: `POST /api/v1/ballot/<token>` answered without Flask.

Why: casting is the one request a hall sends in bursts (hundreds of tablets when a poll opens),
and a Flask request costs more CPU than the whole cast does in the database: the benchmark's
minimal Flask + Flask-SQLAlchemy app doing one INSERT reaches about half the throughput of a
plain WSGI function doing the same INSERT (bench/README.md). This WSGI middleware sits in front of
Flask (inside ProxyFix) and serves the *ordinary* cast — an unused slip token of an open secret
poll, a valid choice, a client under its rate limit — with the very statements of
`services.cast_ballot` on a pooled DB-API connection, in one transaction:

  1. UPDATE ballot_token SET state='used' WHERE hash=? AND state='unused' AND slip … RETURNING
  2. SELECT the poll (open, secret, its receipt key and setup fingerprint)
  3. INSERT the ballot (random id, no delegate, no time), receipt = HMAC(poll key, token hash)
  4. the audit append of `audit.services.record`: lock the head, INSERT the event, move the head

Everything else goes to Flask unchanged, which gives the canonical answer and message: any
refusal (unknown, used, paper or voided ballot, closed poll, over-vote, malformed body, huge
numbers), a client over the code-entry limit, a poll whose rules this process has not cached
yet, any database error. Before handing over, the transaction is rolled back, so the Flask path
starts from the same state (the token still unused). A commit that fails is also handed over:
the Flask path then finds the token used (answers 409) or casts it — never twice.

The success answer is the Flask path's: 201 `{"receipt": …}` with the same security headers.
`FAST_CAST = False` in the config turns the lean path off (the tests run the guarantees both
ways).
"""
from __future__ import annotations

import io
import json
import secrets

from sqlalchemy import bindparam, insert

from .. import codes
from .. import db as db_module
from ..audit import services as audit
from ..extensions import db, limiter
from ..errors import ServiceError
from ..rules import validate_ballot
from ..security import CSP, security_headers
from . import services
from .models import Ballot

PREFIX = "/api/v1/ballot/"
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

    def run(self, cursor, **values):
        params = {**self.defaults, **values}
        for key, proc in self.procs.items():
            params[key] = proc(params[key])
        cursor.execute(self.sql, [params[k] for k in self.order] if self.order else params)
        return cursor


class _Plan:
    """The compiled statements of a cast for one engine."""

    def __init__(self, engine):
        d = engine.dialect
        self.engine = engine
        self.sqlite = d.name == "sqlite"
        self.consume = _Statement(services._CONSUME_TOKEN, d)
        self.poll = _Statement(services._POLL_FOR_CAST, d)
        cols = ("id", "poll_id", "token_hash", "source", "choice", "invalid_reason", "receipt")
        self.ballot = _Statement(insert(Ballot.__table__).values(
            {c: bindparam(c) for c in cols}), d)
        self.head = _Statement(audit._SELECT_HEAD, d)
        ev_cols = ("seq", "at", "actor_id", "action", "congress_id", "data", "prev_hash", "hash")
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
        self._limits = None
        self.served = 0  # casts answered here (read by the tests)

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
        from ..api.util import has_huge_int
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
        secure = environ.get("wsgi.url_scheme") == "https"
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(out))),
                   ("Content-Security-Policy", CSP), *security_headers(secure),
                   ("Vary", "Cookie")]
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
                self._plan = _Plan(db.engine)
        return self._plan

    def _cast(self, h: str, kept, answers) -> str:
        plan = self._get_plan()
        conn = plan.engine.raw_connection()
        began = False
        try:
            cur = conn.cursor()
            if plan.sqlite:
                db_module.acquire_write_queue(conn)
                cur.execute("BEGIN IMMEDIATE")
            began = True
            row = plan.consume.run(cur, h=h).fetchone()
            if row is None:
                raise _Refer
            poll = plan.poll.run(cur, pid=row[0]).fetchone()
            # (id, congress_id, kind, status, secrecy, receipt_key, setup_fingerprint)
            if poll is None or poll[3] != "open" or poll[4] != "secret":
                raise _Refer
            rules = services._SPEC_CACHE.get((poll[0], poll[6]))
            if rules is None:
                raise _Refer  # the Flask path builds and caches this poll's rules
            choice = _valid_choice(poll[2], kept, answers, rules)
            receipt = services.receipt_for(poll[5], h)
            plan.ballot.run(cur, id=secrets.token_hex(16), poll_id=poll[0], token_hash=h,
                            source="tablet", choice=choice, invalid_reason=None,
                            receipt=receipt)
            head = plan.head.run(cur).fetchone()
            if head is None:
                raise _Refer  # an empty chain: record() creates the head
            ev = audit.next_event(head[0], head[1], "ballot.cast", None,
                                  {"poll_id": poll[0]}, poll[1])
            plan.event.run(cur, **ev)
            plan.move.run(cur, new_seq=ev["seq"], new_hash=ev["hash"])
            cur.close()
            conn.commit()
            began = False
            return receipt
        finally:
            if began:
                try:
                    conn.rollback()
                except Exception:  # noqa: BLE001
                    pass
            if plan.sqlite:
                db_module.release_write_queue(conn)
            conn.close()  # back to the pool


def _valid_choice(kind: str, kept, answers, rules) -> str:
    """The canonical JSON of a valid choice (as `services.check_choice` stores it); _Refer for
    anything `check_choice` would refuse, so that Flask answers with its message."""
    try:
        ballot = services.parse_choice(kind, kept, answers)
    except ServiceError:
        raise _Refer from None
    spec, settings = rules
    if validate_ballot(spec, settings, ballot) is not None:
        raise _Refer
    return services.canonical_choice(ballot)
