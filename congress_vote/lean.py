"""What the lean WSGI paths share (ballots/fastcast.py: casting; congress/fastcheckin.py:
check-in by card). Each serves only the ordinary case of one hot API route without Flask, with
the statements of its Flask service, and hands everything else to Flask untouched."""
from __future__ import annotations

import io
import json

from sqlalchemy import bindparam

from .api.util import has_huge_int
from .audit import services as audit
from .security import CSP, security_headers

# The headers of every lean answer but Content-Type/-Length, over http and https (HSTS): what
# the Flask path sends on a JSON API answer (tests compare the two).
HEADERS = {secure: [("Content-Security-Policy", CSP), *security_headers(secure),
                    ("Vary", "Cookie")] for secure in (False, True)}


class Refer(Exception):
    """Not the ordinary case: roll back and let the Flask path answer."""


def read_json_object(environ, max_body: int) -> dict | None:
    """The request's JSON object (Content-Type application/json, at most `max_body` bytes, no
    number out of the database's range), or None for anything else, which Flask then answers.
    The body stays readable for the Flask path."""
    if environ.get("CONTENT_TYPE", "").split(";")[0].strip().lower() != "application/json":
        return None
    try:
        length = int(environ.get("CONTENT_LENGTH") or -1)
    except ValueError:
        return None
    if not 0 < length <= max_body:
        return None
    body = environ["wsgi.input"].read(length)
    environ["wsgi.input"] = io.BytesIO(body)
    if len(body) != length:
        return None
    try:
        data = json.loads(body)
    except ValueError:
        return None
    if not isinstance(data, dict) or has_huge_int(data):
        return None
    return data


def answer(obj, environ) -> tuple[bytes, list]:
    """(body, headers) of a JSON answer, byte for byte as Flask's jsonify makes it outside debug
    (sorted keys, ASCII, compact, a final newline), with the security headers."""
    out = json.dumps(obj, ensure_ascii=True, sort_keys=True, separators=(",", ":")).encode()
    out += b"\n"
    return out, [("Content-Type", "application/json"), ("Content-Length", str(len(out))),
                 *HEADERS[environ.get("wsgi.url_scheme") == "https"]]


class Statement:
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


class SqliteAppend:
    """`audit.services.record`'s three statements on SQLite (lock the head, insert the event,
    move the head), for several events in order, on a DB-API cursor inside the caller's write
    transaction. (PostgreSQL's paths use `audit.APPEND_PG` or their own function.)"""

    _COLUMNS = ("seq", "at", "actor_id", "action", "congress_id", "data", "prev_hash", "hash")

    def __init__(self, dialect):
        self.head = Statement(audit._SELECT_HEAD, dialect)
        self.event = Statement(audit._EVENTS.insert().values(
            {c: bindparam(c) for c in self._COLUMNS}), dialect)
        self.move = Statement(audit._MOVE_HEAD, dialect)

    def run(self, cursor, events: list[tuple]) -> None:
        """Append (action, actor_id, data, congress_id) events; Refer on an empty chain (the
        Flask path's record() creates its head)."""
        head = self.head.run(cursor).fetchone()
        if head is None:
            raise Refer
        seq, prev = head
        rows = []
        for action, actor_id, data, congress_id in events:
            ev = audit.next_event(seq, prev, action, actor_id, data, congress_id)
            rows.append(ev)
            seq, prev = ev["seq"], ev["hash"]
        self.event.run_many(cursor, rows)
        self.move.run(cursor, new_seq=seq, new_hash=prev)
