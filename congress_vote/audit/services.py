"""Append to and verify the audit chain.

`record()` joins the caller's transaction: the event is written if and only if the state change it
describes is committed. Appends are serialised by the row lock on `audit_head` (PostgreSQL) or the
database write lock (SQLite, BEGIN IMMEDIATE), so the chain never forks.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from sqlalchemy import select

from ..db import utcnow
from ..extensions import db
from .models import GENESIS, AuditEvent, AuditHead


def canonical(obj) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def event_hash(seq: int, at, actor_id, action: str, congress_id, data: str, prev_hash: str) -> str:
    body = canonical({"seq": seq, "at": at.isoformat(timespec="microseconds"),
                      "actor": actor_id, "action": action, "congress": congress_id,
                      "data": data, "prev": prev_hash})
    return hashlib.sha256(body.encode()).hexdigest()


def _head() -> AuditHead:
    head = db.session.execute(
        select(AuditHead).where(AuditHead.id == 1).with_for_update()).scalar_one_or_none()
    if head is None:
        head = AuditHead(id=1, seq=0, hash=GENESIS)
        db.session.add(head)
        db.session.flush()
    return head


def record(action: str, actor=None, data: dict | None = None, congress_id: int | None = None
           ) -> AuditEvent:
    """Append one event. Never put a ballot's content, a token or a password in `data`."""
    head = _head()
    actor_id = getattr(actor, "id", actor)
    payload = canonical(data or {})
    at = utcnow()
    seq = head.seq + 1
    ev = AuditEvent(seq=seq, at=at, actor_id=actor_id, action=action, congress_id=congress_id,
                    data=payload, prev_hash=head.hash)
    ev.hash = event_hash(seq, at, actor_id, action, congress_id, payload, head.hash)
    db.session.add(ev)
    head.seq = seq
    head.hash = ev.hash
    db.session.flush()
    return ev


def head_hash() -> str:
    head = db.session.get(AuditHead, 1)
    return head.hash if head else GENESIS


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
            return ChainReport(False, n, prev, expected_seq,
                               f"event {expected_seq} is missing (next stored is {ev.seq})")
        if ev.prev_hash != prev:
            return ChainReport(False, n, prev, ev.seq,
                               f"event {ev.seq} ({ev.action}) does not name the previous hash")
        if event_hash(ev.seq, ev.at, ev.actor_id, ev.action, ev.congress_id, ev.data,
                      ev.prev_hash) != ev.hash:
            return ChainReport(False, n, prev, ev.seq,
                               f"event {ev.seq} ({ev.action}) was changed after it was written")
        prev = ev.hash
        expected_seq += 1
    head = db.session.get(AuditHead, 1)
    if head is not None and (head.seq != n or head.hash != prev):
        return ChainReport(False, n, prev, n + 1 if head.seq > n else head.seq,
                           f"the chain head names event {head.seq} but {n} events verify")
    return ChainReport(True, n, prev)


def export_jsonl():
    """Yield the chain as JSON lines (one event per line), oldest first."""
    for ev in db.session.scalars(select(AuditEvent).order_by(AuditEvent.seq)).yield_per(2000):
        yield canonical({"seq": ev.seq, "at": ev.at.isoformat(timespec="microseconds"),
                         "actor": ev.actor_id, "action": ev.action, "congress": ev.congress_id,
                         "data": json.loads(ev.data), "prev_hash": ev.prev_hash,
                         "hash": ev.hash}) + "\n"
