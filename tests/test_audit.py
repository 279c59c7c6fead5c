import hashlib
import threading
import time
from datetime import datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from congress_vote.audit.services import canonical, event_hash, hash_prefix, record, verify_chain
from congress_vote.extensions import db


def test_chain_verifies_and_names_first_tampered_event(app, runner):
    with app.app_context():
        for i in range(5):
            record("test.event", data={"i": i})
        db.session.commit()
        assert verify_chain().ok
    assert runner.invoke(args=["verify-audit"]).exit_code == 0
    with app.app_context():
        db.session.execute(
            text("UPDATE audit_event SET data = :d WHERE seq = 3"), {"d": '{"i":99}'}
        )
        db.session.commit()
        rep = verify_chain()
        assert not rep.ok and rep.first_bad_seq == 3 and "changed" in rep.problem
    r = runner.invoke(args=["verify-audit"])
    assert r.exit_code == 1 and "event 3" in r.output


def test_deleted_event_detected(app):
    with app.app_context():
        for i in range(4):
            record("test.event", data={"i": i})
        db.session.commit()
        db.session.execute(text("DELETE FROM audit_event WHERE seq = 4"))
        db.session.commit()
        rep = verify_chain()
        assert not rep.ok


def test_event_rolled_back_with_its_transaction(app):
    with app.app_context():
        record("kept", data={})
        db.session.commit()
        record("dropped", data={})
        db.session.rollback()
        rep = verify_chain()
        assert rep.ok and rep.events == 1


# ---- the one-statement append (PostgreSQL) and the hash prefix it relies on -------------------

_TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=30)


@settings(max_examples=200, deadline=None)
@given(
    seq=st.integers(1, 10**9),
    action=_TEXT,
    actor=st.none() | st.integers(1, 10**6),
    congress=st.none() | st.integers(1, 10**6),
    data=st.dictionaries(_TEXT, _TEXT | st.integers() | st.none(), max_size=3),
    micros=st.integers(0, 999_999),
    prev=st.text("0123456789abcdef", min_size=64, max_size=64),
)
def test_prefix_plus_prev_and_seq_is_the_hashed_body(
    seq, action, actor, congress, data, micros, prev
):
    """What PostgreSQL hashes (prefix || prev || '","seq":' || seq || '}') is exactly the body
    event_hash hashes in Python, whatever the text (quotes, backslashes, Vietnamese, emoji)."""
    at = datetime(2026, 11, 27, 10, 0, 0, micros)
    payload = canonical(data)
    body = hash_prefix(at, actor, action, congress, payload) + prev + '","seq":' + str(seq) + "}"
    assert hashlib.sha256(body.encode()).hexdigest() == event_hash(
        seq, at, actor, action, congress, payload, prev
    )


def test_appends_return_what_was_stored_and_verify(app, staff):
    """Events with awkward text, appended by record() (one statement on PostgreSQL, three on
    SQLite): the answer is the stored row and the chain verifies (the server's hash is
    Python's)."""
    from congress_vote.audit.models import AuditEvent

    awkward = ['Bầu "Ban Chấp hành" \\ khóa mới', "tab\there\nnewline", "emoji 🗳️", "", "x" * 300]
    with app.app_context():
        record("first", data={})  # creates the head if there is none
        answers = [
            record(
                f"test.{i}",
                actor=staff["admin"] if i % 2 else None,
                congress_id=i or None,
                data={"text": t, "n": i},
            )
            for i, t in enumerate(awkward)
        ]
        db.session.commit()
        for ev in answers:
            row = db.session.get(AuditEvent, ev.seq)
            assert (
                row.hash,
                row.prev_hash,
                row.action,
                row.actor_id,
                row.congress_id,
                row.data,
                row.at,
            ) == (ev.hash, ev.prev_hash, ev.action, ev.actor_id, ev.congress_id, ev.data, ev.at)
        assert [a.seq for a in answers] == list(range(answers[0].seq, answers[0].seq + 5))
        assert all(b.prev_hash == a.hash for a, b in zip(answers, answers[1:], strict=False))
        assert verify_chain().ok


def test_first_events_of_two_transactions_at_once_both_land_on_one_chain(app):
    """An empty chain (a new database) and two writers at once (two logins, say): the second
    waits for the first to create the head, then follows it, instead of failing (500) on the
    head's duplicate key."""
    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("SQLite's writers are serialised from BEGIN")
        assert db.session.execute(text("SELECT count(*) FROM audit_head")).scalar() == 0
    first_written, second_started = threading.Event(), threading.Event()
    errors = []

    def second():
        with app.app_context():
            try:
                first_written.wait(10)
                second_started.set()
                record("second", data={})  # waits for the first transaction's head row
                db.session.commit()
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(exc)
                db.session.rollback()

    t = threading.Thread(target=second)
    t.start()
    with app.app_context():
        record("first", data={})  # creates the head, uncommitted
        first_written.set()
        second_started.wait(10)
        time.sleep(0.5)  # the second is now blocked on the head row
        db.session.commit()
    t.join(20)
    assert errors == []
    with app.app_context():
        rep = verify_chain()
        assert rep.ok and rep.events == 2
        actions = db.session.execute(text("SELECT action FROM audit_event ORDER BY seq")).scalars()
        assert list(actions) == ["first", "second"]
