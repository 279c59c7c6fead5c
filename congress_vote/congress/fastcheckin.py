"""The lean path for checking a delegate in by card: `POST /api/v1/congresses/<cid>/checkin`
answered without Flask.

Why: at the door 16 registrars scan cards as fast as delegates arrive, and the Flask request
machinery costs more CPU than the check-in does in the database; on a 2-core laptop that put the
p99 latency over its 50 ms target (bench/README.md). Like the lean cast (ballots/fastcast.py),
this WSGI middleware serves only the *ordinary* check-in, with the statements of the Flask path:

  1. `services._CHECK_IN_BY_CARD`: one `UPDATE delegate … RETURNING` of the absent or excused
     holder of the card in that congress, only if the bearer token is known and unexpired and
     its user active and a registrar (`user_for_api_token` and `@roles("registrar")`; on
     PostgreSQL a sub-select of the same statement, which also answers the user's id; on
     SQLite a SELECT just before it, in the same transaction);
  2. the audit event of `services.check_in_by_card`, appended last (`audit.services.record`'s
     statements: on PostgreSQL `APPEND_PG`, on SQLite lock the head, insert, move the head),

in one transaction (on SQLite under the write queue, BEGIN IMMEDIATE), on a pooled DB-API
connection, and answers exactly as the Flask route does (body byte for byte, same headers).

Everything else goes to Flask unchanged, which names the case: no or a bad token, another role,
a request with a cookie (a signed-in browser: CSRF and the session are Flask's), a malformed
body or card text, a delegate present already, an unknown card or one of another congress, an
unknown congress, any database error (rolled back first). `FAST_CHECKIN = False` in the config
turns the lean path off.
"""
from __future__ import annotations

import re

from sqlalchemy import bindparam, exists, literal, select

from .. import codes
from .. import db as db_module
from ..audit import services as audit
from ..auth.models import ApiToken, User
from ..db import utcnow
from ..errors import ServiceError
from ..extensions import db
from ..lean import Refer, SqliteAppend, Statement, answer, read_json_object
from ..security import token_hash
from . import services

PATH = re.compile(r"/api/v1/congresses/([1-9][0-9]{0,8})/checkin")
MAX_BODY = 1024  # {"card": "<QR text>"}: the card field is at most 200 characters
ROLE = "registrar"  # the route's @roles("registrar")


class _Plan:
    def __init__(self, engine):
        d = engine.dialect
        self.engine = engine
        self.sqlite = d.name == "sqlite"
        tokens, users = ApiToken.__table__, User.__table__
        # The bearer token's user, if the token is unexpired and the user active and a
        # registrar (`user_for_api_token` and `@roles("registrar")`; roles are comma-separated).
        actor = (select(users.c.id)
                 .select_from(tokens.join(users, users.c.id == tokens.c.user_id))
                 .where(tokens.c.token_hash == bindparam("h"),
                        tokens.c.expires_at >= bindparam("now"), users.c.active.is_(True),
                        (literal(",") + users.c.roles + literal(",")).like(f"%,{ROLE},%")))
        if self.sqlite:  # in-process calls: the user first, then the check-in
            self.actor = Statement(actor, d)
            self.check_in = Statement(services._CHECK_IN_BY_CARD, d)
        else:
            # One statement: the check-in only for such a user, answering who (not on SQLite:
            # its RETURNING is compiled without table names, see _CHECK_IN_BY_CARD), and only
            # once the audit chain has its head (never deleted), so that the append that
            # follows in the COMMIT's round trip cannot miss.
            self.check_in = Statement(
                services._CHECK_IN_BY_CARD.where(actor.exists(),
                                                 exists().where(audit._HEAD.c.id == 1))
                .returning(actor.scalar_subquery()), d)
        if self.sqlite:
            self.append = SqliteAppend(d)
        else:
            self.append = Statement(audit.APPEND_PG, d)


class FastCheckIn:
    """WSGI middleware: the lean check-in, or the next app (`wsgi_app`) for everything else."""

    def __init__(self, app, wsgi_app):
        self.app = app
        self.wsgi_app = wsgi_app
        self._plan: _Plan | None = None
        self.served = 0  # check-ins answered here (read by the tests)

    def __call__(self, environ, start_response):
        if (environ.get("REQUEST_METHOD") == "POST"
                and environ.get("PATH_INFO", "").endswith("/checkin")
                and self.app.config.get("FAST_CHECKIN", True)):
            out = self._try(environ)
            if out is not None:
                start_response("200 OK", out[1])
                return [out[0]]
        return self.wsgi_app(environ, start_response)

    def _try(self, environ):
        m = PATH.fullmatch(environ["PATH_INFO"])
        if m is None or "HTTP_COOKIE" in environ:
            return None
        auth = environ.get("HTTP_AUTHORIZATION", "")
        bearer = auth[7:].strip() if auth[:7].lower() == "bearer " else ""
        if not bearer:
            return None
        data = read_json_object(environ, MAX_BODY)
        if data is None or not isinstance(data.get("card"), str):
            return None
        try:
            card_hash = codes.code_hash(services._card_lookup(data["card"]))
        except ServiceError:
            return None
        try:
            delegate = self._check_in(int(m.group(1)), token_hash(bearer), card_hash)
        except Refer:
            return None
        except Exception:  # noqa: BLE001 - any failure: the Flask path answers (503, 500 ...)
            self.app.logger.debug("fast check-in handed over after an error", exc_info=True)
            return None
        self.served += 1
        return answer({"already_present": False, "delegate": delegate}, environ)

    def _get_plan(self) -> _Plan:
        if self._plan is None:
            with self.app.app_context():
                self._plan = _Plan(db.engine)
        return self._plan

    def _check_in(self, cid: int, token_h: str, card_hash: str) -> dict:
        """One transaction; the delegate's answer (services.check_in_by_card's), or Refer."""
        plan = self._get_plan()
        proxy = plan.engine.raw_connection()
        conn = proxy.driver_connection
        try:
            cur = conn.cursor()
            now = utcnow()
            if plan.sqlite:
                db_module.acquire_write_queue(conn)
                cur.execute("BEGIN IMMEDIATE")
                user = plan.actor.run(cur, h=token_h, now=now).fetchone()
                if user is None:
                    raise Refer  # Flask answers 401 or 403
            row = plan.check_in.run(cur, h=token_h, b_card_hash=card_hash, b_congress_id=cid,
                                    now=now).fetchone()
            if row is None:
                # a bad token or role (401/403), present already, an unknown card or one of
                # another congress: Flask names the case
                raise Refer
            delegate = services.checked_in_dict(row, now)
            event = ("delegate.checked_in", user[0] if plan.sqlite else row[8],
                     {"delegate_id": delegate["id"], "via": "card"}, cid)
            if plan.sqlite:
                plan.append.run(cur, [event])
                conn.commit()
            else:
                # The append and the COMMIT in one round trip: the chain head's row lock,
                # which every state change queues on, is held only while the server runs them.
                with conn.pipeline():
                    plan.append.run(cur, **audit.append_params(*event))
                    conn.commit()
                if cur.fetchone() is None:  # cannot be: the head was there (see _Plan)
                    raise RuntimeError("the audit append wrote nothing")
        except BaseException:
            try:
                conn.rollback()
            except Exception:  # noqa: BLE001
                pass
            raise
        finally:
            if plan.sqlite:
                db_module.release_write_queue(conn)
            proxy.close()  # back to the pool
        return delegate
