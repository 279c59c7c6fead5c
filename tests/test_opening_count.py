"""Issue 16, the one path of opening and counting (bench/bench_seal.py measures its speed):
the count that opens a sealed box counts the rows the opening stored, handed over in memory
(the opened set is not read back), with the rows stored before it (paper entries); the
ballots' canonical text is built once per count; the result equals a recount from the
database. Statements and calls are asserted, not timings."""

from __future__ import annotations

import secrets

from sqlalchemy import event, text

from congress_vote.ballots.services import cast_ballot
from congress_vote.extensions import db


def _sealed_poll_with_paper(hall, app, api) -> tuple[int, list[int]]:
    """A closed sealed poll: 4 tablet ballots, one paper ballot entered twice after the close,
    and one sealed row that was not sealed to this box (counted invalid, `other`)."""
    cid = hall.congress(voters=6)
    poll = hall.poll(cid, seats=2)
    pid = poll["id"]
    hall.open(pid)
    ids = [c["id"] for c in poll["candidates"]]
    paper = api("counter1").post(f"/api/v1/polls/{pid}/ballots", json={"count": 1, "kind": "paper"})
    assert paper.status_code == 201, paper.json
    tokens = hall.issue(pid, 4)["tokens"]
    with app.app_context():
        for k, t in enumerate(tokens):
            cast_ballot(t, kept=ids[: 1 + k % 2])
            db.session.commit()
        db.session.execute(
            text("INSERT INTO sealed_ballot (id, poll_id, ciphertext) VALUES (:i, :p, :c)"),
            {"i": secrets.token_hex(16), "p": pid, "c": secrets.token_bytes(2096)},
        )
        db.session.commit()
    hall.close(pid)
    hall.enter_paper(pid, [(paper.json["codes"][0], [ids[2]])])
    return pid, ids


def test_the_count_after_opening_counts_the_stored_rows_without_reading_them_back(hall, app, api):
    pid, ids = _sealed_poll_with_paper(hall, app, api)
    seen: list[str] = []

    def listen(conn, cursor, statement, *rest):
        seen.append(" ".join(statement.split()).lower())

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", listen)
    try:
        res = hall.count(pid)
    finally:
        event.remove(engine, "before_cursor_execute", listen)
    # the ballot table is read once, before the opened set is inserted (the paper entry)
    reads = [i for i, s in enumerate(seen) if s.startswith("select ballot.choice")]
    inserts = [i for i, s in enumerate(seen) if s.startswith("insert into ballot ")]
    assert len(inserts) >= 1 and len(reads) == 1, (reads, inserts)
    assert reads[0] < inserts[0], "the count read the opened set back"
    # what it counted is what is stored: 4 tablet + 1 forged (invalid) + 1 paper
    figures = res["figures"]
    assert figures["ballots_returned"] == 6 and figures["ballots_invalid"] == 1
    assert figures["invalid_by_reason"] == {"other": 1}
    votes = {c["id"]: c["votes"] for c in res["candidates"]}
    assert (votes[ids[0]], votes[ids[1]], votes[ids[2]]) == (4, 2, 1)
    # a recount from the database (no card needed) gives the same digest and no difference
    again = hall.count(pid, user="counter2")
    assert again["digest"] == res["digest"]
    with app.app_context():
        from congress_vote.counting.recount import recount_compare
        from congress_vote.polls.models import Poll

        _fresh, diffs = recount_compare(db.session.get(Poll, pid))
        assert diffs == []
        assert db.session.execute(text("SELECT count(*) FROM ballot")).scalar() == 6
        assert db.session.execute(text("SELECT count(*) FROM poll_tracker")).scalar() == 5


def test_the_count_builds_each_ballots_canonical_text_once(hall, app, api, monkeypatch):
    from congress_vote.rules import digest

    pid, _ids = _sealed_poll_with_paper(hall, app, api)
    calls = []
    real = digest._ballot_json

    def counting(ballot, names=None):
        calls.append(ballot)
        return real(ballot, names)

    monkeypatch.setattr(digest, "_ballot_json", counting)
    res = hall.count(pid)
    # once for the result digest; the rules engine's ballot-set digest is not built beside it
    assert len(calls) == res["figures"]["ballots_returned"] == 6
