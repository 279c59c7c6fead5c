"""Append to and verify the audit chain.

`record()` joins the caller's transaction: the event is written if and only if the state change it
describes is committed. Appends are serialised by the row lock on `audit_head` (PostgreSQL) or the
database write lock (SQLite, BEGIN IMMEDIATE), so the chain never forks.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import DateTime, Integer, String, Text, bindparam, insert, select, text, update
from sqlalchemy.dialects.postgresql import insert as pg_insert

from ..db import utcnow
from ..extensions import db
from .models import GENESIS, AuditEvent, AuditHead


def canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(seq: int, at, actor_id, action: str, congress_id, data: str, prev_hash: str) -> str:
    body = canonical(
        {
            "seq": seq,
            "at": at.isoformat(timespec="microseconds"),
            "actor": actor_id,
            "action": action,
            "congress": congress_id,
            "data": data,
            "prev": prev_hash,
        }
    )
    return hashlib.sha256(body.encode()).hexdigest()


_EVENTS = AuditEvent.__table__
_HEAD = AuditHead.__table__
# Built once: an append runs these three statements with fresh parameters (no per-call
# statement construction; SQLAlchemy's compiled cache does the rest).
_SELECT_HEAD = select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1).with_for_update()
_INSERT_EVENT = insert(_EVENTS)
_MOVE_HEAD = (
    update(_HEAD)
    .where(_HEAD.c.id == 1)
    .values(seq=bindparam("new_seq"), hash=bindparam("new_hash"))
)


def _lock_head() -> tuple[int, str]:
    """(seq, hash) of the chain head, row-locked for this transaction (FOR UPDATE on
    PostgreSQL; SQLite's write transaction holds the database lock already)."""
    row = db.session.execute(_SELECT_HEAD).first()
    if row is not None:
        return row[0], row[1]
    if db.session.get_bind().dialect.name != "postgresql":
        db.session.execute(insert(_HEAD).values(id=1, seq=0, hash=GENESIS))
        return 0, GENESIS
    # The first event ever, perhaps in several transactions at once (two logins, say): one
    # creates the head, the others wait for it and then lock and follow it (instead of failing
    # on the duplicate key).
    db.session.execute(
        pg_insert(_HEAD)
        .values(id=1, seq=0, hash=GENESIS)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    row = db.session.execute(_SELECT_HEAD).one()
    return row[0], row[1]


def hash_prefix(at, actor_id, action: str, congress_id, payload: str) -> str:
    """The start of an event's hashed body, up to its previous hash: the canonical form sorts
    its keys as action, actor, at, congress, data, prev, seq, so the body is this prefix, the
    previous hash, '","seq":', the number and '}' (see event_hash)."""
    body = canonical(
        {
            "at": at.isoformat(timespec="microseconds"),
            "actor": actor_id,
            "action": action,
            "congress": congress_id,
            "data": payload,
        }
    )
    return body[:-1] + ',"prev":"'


# PostgreSQL: the whole append as one statement — lock the head, insert the event with its
# hash computed by the server from the prefix and the locked head, move the head. One round
# trip under the head's row lock instead of three: that lock is held until COMMIT and every
# state change of every congress queues on it. (SQLite keeps the three statements: its calls
# are in-process and its write lock is taken at BEGIN anyway.)
APPEND_PG = text("""
WITH h AS (SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE),
e AS (
  INSERT INTO audit_event (seq, at, actor_id, action, congress_id, data, prev_hash, hash)
  SELECT h.seq + 1, :at, :actor_id, :action, :congress_id, :data, h.hash,
         encode(sha256(convert_to(:prefix || h.hash || '","seq":' || (h.seq + 1)::text || '}',
                                  'UTF8')), 'hex')
  FROM h
  RETURNING seq, hash, prev_hash)
UPDATE audit_head SET seq = e.seq, hash = e.hash FROM e WHERE audit_head.id = 1
RETURNING e.seq, e.hash, e.prev_hash""").bindparams(
    bindparam("at", type_=DateTime()),
    bindparam("actor_id", type_=Integer()),
    bindparam("action", type_=String()),
    bindparam("congress_id", type_=Integer()),
    bindparam("data", type_=Text()),
    bindparam("prefix", type_=Text()),
)


def append_params(action: str, actor_id, data: dict | None, congress_id) -> dict:
    """The parameters of APPEND_PG for one event."""
    payload = canonical(data or {})
    at = utcnow()
    return {
        "at": at,
        "actor_id": actor_id,
        "action": action,
        "congress_id": congress_id,
        "data": payload,
        "prefix": hash_prefix(at, actor_id, action, congress_id, payload),
    }


def record(
    action: str, actor=None, data: dict | None = None, congress_id: int | None = None
) -> AuditEvent:
    """Append one event. Never put a ballot's content, a token or a password in `data`.

    In the caller's transaction: on PostgreSQL one statement (APPEND_PG), on SQLite three
    (lock the head, insert the event, move the head); core statements, as the ORM unit of
    work costs more CPU than the hash. The answer is a transient AuditEvent (not in the
    session) describing what was written."""
    actor_id = getattr(actor, "id", actor)
    if db.session.get_bind().dialect.name == "postgresql":
        params = append_params(action, actor_id, data, congress_id)
        row = db.session.execute(APPEND_PG, params).first()
        if row is not None:  # else no head yet: the first event takes the long way
            params.pop("prefix")
            return AuditEvent(seq=row[0], hash=row[1], prev_hash=row[2], **params)
    head_seq, head_hash_ = _lock_head()
    values = next_event(head_seq, head_hash_, action, actor_id, data, congress_id)
    db.session.execute(_INSERT_EVENT, values)
    db.session.execute(_MOVE_HEAD, {"new_seq": values["seq"], "new_hash": values["hash"]})
    return AuditEvent(**values)


def next_event(
    head_seq: int, head_hash_: str, action: str, actor_id, data: dict | None, congress_id
) -> dict:
    """The row of the event that follows the head (seq, hash): what `record` inserts."""
    payload = canonical(data or {})
    at = utcnow()
    seq = head_seq + 1
    return {
        "seq": seq,
        "at": at,
        "actor_id": actor_id,
        "action": action,
        "congress_id": congress_id,
        "data": payload,
        "prev_hash": head_hash_,
        "hash": event_hash(seq, at, actor_id, action, congress_id, payload, head_hash_),
    }


def head_hash() -> str:
    """The hash of the last event (read from the table: the head is only written by core
    statements, so an ORM AuditHead in the session could be stale)."""
    value = db.session.scalar(select(_HEAD.c.hash).where(_HEAD.c.id == 1))
    return value or GENESIS


@dataclass
class ChainReport:
    ok: bool
    events: int
    head: str
    first_bad_seq: int | None = None
    problem: str | None = None


def verify_chain() -> ChainReport:
    """Re-hash every event in order; name the first event that does not fit."""
    prev = GENESIS
    n = 0
    expected_seq = 1
    for ev in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).yield_per(2000):
        n += 1
        if ev.seq != expected_seq:
            return ChainReport(
                False,
                n,
                prev,
                expected_seq,
                f"event {expected_seq} is missing (next stored is {ev.seq})",
            )
        if ev.prev_hash != prev:
            return ChainReport(
                False,
                n,
                prev,
                ev.seq,
                f"event {ev.seq} ({ev.action}) does not name the previous hash",
            )
        if (
            event_hash(ev.seq, ev.at, ev.actor_id, ev.action, ev.congress_id, ev.data, ev.prev_hash)
            != ev.hash
        ):
            return ChainReport(
                False,
                n,
                prev,
                ev.seq,
                f"event {ev.seq} ({ev.action}) was changed after it was written",
            )
        prev = ev.hash
        expected_seq += 1
    head = db.session.execute(select(_HEAD.c.seq, _HEAD.c.hash).where(_HEAD.c.id == 1)).first()
    if head is not None and (head.seq != n or head.hash != prev):
        return ChainReport(
            False,
            n,
            prev,
            n + 1 if head.seq > n else head.seq,
            f"the chain head names event {head.seq} but {n} events verify",
        )
    return ChainReport(True, n, prev)


def export_jsonl():
    """Yield the chain as JSON lines (one event per line), oldest first."""
    for ev in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).yield_per(2000):
        yield (
            canonical(
                {
                    "seq": ev.seq,
                    "at": ev.at.isoformat(timespec="microseconds"),
                    "actor": ev.actor_id,
                    "action": ev.action,
                    "congress": ev.congress_id,
                    "data": json.loads(ev.data),
                    "prev_hash": ev.prev_hash,
                    "hash": ev.hash,
                }
            )
            + "\n"
        )


def ensure_audit_head() -> None:
    """Create the chain's head row (genesis) if the database has none yet; commits."""
    if db.session.get(AuditHead, 1) is None:
        db.session.add(AuditHead(id=1, seq=0, hash=GENESIS))
        db.session.commit()
