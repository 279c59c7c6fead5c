"""The fast paths of issue 9 part 7 keep their guarantees: casting (one conditional UPDATE, the
poll checked after it, a cached poll spec, core audit statements), the count's fast ballot
parsing, check-in and bearer lookups in fewer statements, no cookie for cookie-less API calls.

Statement counts are asserted (not timings): they are what the benchmark's CPU per request
follows, and they do not depend on the machine."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import event, func, select

from congress_vote import codes
from congress_vote.extensions import db


class Statements:
    """The SQL statements the app's engine runs inside the `with` block."""

    def __init__(self, app):
        self.app = app
        self.seen: list[str] = []
        # per statement: the DB-API connection's autocommit flag (psycopg's; None on sqlite3)
        self.autocommit: list[bool | None] = []

    def _listen(self, conn, cursor, statement, *rest):
        self.seen.append(" ".join(statement.split()))
        self.autocommit.append(getattr(conn.connection.dbapi_connection, "autocommit", None))

    def __enter__(self):
        with self.app.app_context():
            self.engine = db.engine
        event.listen(self.engine, "before_cursor_execute", self._listen)
        return self

    def __exit__(self, *exc):
        event.remove(self.engine, "before_cursor_execute", self._listen)

    @property
    def work(self) -> list[str]:
        """Statements other than transaction control."""
        return [
            s
            for s in self.seen
            if s.split()[0].upper() not in ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")
        ]


def _append_statements(app) -> list[str]:
    """First words of the audit append: PostgreSQL's one statement (audit.APPEND_PG), or
    SQLite's head lock, event INSERT and head UPDATE."""
    with app.app_context():
        pg = db.engine.dialect.name == "postgresql"
    return ["WITH"] if pg else ["SELECT", "INSERT", "UPDATE"]


def _token_state(app, token: str) -> str:
    from congress_vote.ballots.models import BallotToken

    with app.app_context():
        return db.session.get(BallotToken, codes.code_hash(codes.normalise(token))).state


def _events(app, action: str) -> int:
    from congress_vote.audit.models import AuditEvent

    with app.app_context():
        return db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == action)
        )


def test_cast_statements_bounded_and_chains_one_event(hall, app, client):
    cid, poll, tokens = hall.open_poll_with_ballots(3)
    kept = [poll["candidates"][0]["id"]]
    assert client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": kept}).status_code == 201
    with Statements(app) as st:
        r = client.post(f"/api/v1/ballot/{tokens[1]}", json={"kept": kept})
    assert r.status_code == 201
    # An upper bound, not exact SQL: the kiosk check (congress/kiosks.py), one read before
    # anything is written; the token's conditional UPDATE before the ballot INSERT; the poll
    # read; the sealed ballot's INSERT (its tracker is the receipt); the audit append (see
    # _append_statements) last.
    work, append = st.work, _append_statements(app)
    assert len(work) <= 1 + 4 + len(append), work
    assert work[0].upper().startswith("SELECT") and "kiosk" in work[0].lower(), work
    heads = [w.upper() for w in work]
    update = next(i for i, w in enumerate(heads) if w.startswith("UPDATE BALLOT_TOKEN"))
    # a secret poll's tablet ballot is stored sealed (issue 16)
    insert = next(i for i, w in enumerate(heads) if w.startswith("INSERT INTO SEALED_BALLOT "))
    assert 0 < update < insert, work
    assert [w.split()[0].upper() for w in work[-len(append) :]] == append, work
    assert "Set-Cookie" not in r.headers  # a tablet's cast gets no session cookie
    assert _events(app, "ballot.cast") == 2
    from congress_vote.audit.services import head_hash, verify_chain

    with app.app_context():
        report = verify_chain()
        assert report.ok and head_hash() == report.head


def test_cast_refused_after_the_update_leaves_the_token_unused(hall, app):
    """A kiosk bound to another congress: the UPDATE consumed the token, the poll check refuses,
    the rollback gives it back; no ballot, no event. Then the right kiosk casts it."""
    from congress_vote.ballots.models import BallotToken
    from congress_vote.ballots.services import cast_ballot
    from congress_vote.errors import ServiceError
    from congress_vote.seal.models import SealedBallot

    cid, poll, tokens = hall.open_poll_with_ballots(1)
    other = hall.congress(voters=2, name="Đại hội khác")
    kept = [poll["candidates"][0]["id"]]
    with app.test_request_context("/", method="POST"):
        with pytest.raises(ServiceError) as err:
            cast_ballot(tokens[0], kept=kept, congress_id=other)
        assert err.value.code == "wrong_congress" and err.value.status == 409
        db.session.rollback()
    assert _token_state(app, tokens[0]) == "unused"
    assert _events(app, "ballot.cast") == 0
    with app.test_request_context("/", method="POST"):
        receipt = cast_ballot(tokens[0], kept=kept, congress_id=cid)
        db.session.commit()
        # the ballot is in the sealed box; the token keeps its tracker (the receipt) until
        # the opening
        assert db.session.scalar(select(func.count()).select_from(SealedBallot)) == 1
        assert db.session.scalar(select(BallotToken.tracker)) == receipt
    assert _token_state(app, tokens[0]) == "used"
    assert _events(app, "ballot.cast") == 1


def test_refused_choice_and_used_token_keep_their_answers(hall, app, client):
    cid, poll, tokens = hall.open_poll_with_ballots(2)
    ids = [c["id"] for c in poll["candidates"]]
    r = client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": ids})  # 3 kept, 2 seats
    assert r.status_code == 422 and r.json["error"]["code"] == "overvote"
    assert _token_state(app, tokens[0]) == "unused"
    assert client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": ids[:2]}).status_code == 201
    r = client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": ids[:2]})
    assert r.status_code == 409 and r.json["error"]["code"] == "ballot_used"
    hall.close(poll["id"])  # the unused token is voided
    r = client.post(f"/api/v1/ballot/{tokens[1]}", json={"kept": ids[:1]})
    assert r.status_code == 409 and r.json["error"]["code"] == "poll_not_open"
    assert _events(app, "ballot.cast") == 1


def test_poll_spec_cached_only_for_an_opened_setup(hall, app):
    from congress_vote.ballots import spec as bs
    from congress_vote.polls.models import Poll

    cid = hall.congress()
    draft = hall.poll(cid)
    with app.app_context():
        p = db.session.get(Poll, draft["id"])
        assert p.setup_fingerprint is None
        assert bs.poll_spec(p).candidate_ids == tuple(c["id"] for c in draft["candidates"])
        assert not any(k[0] == p.id for k in bs.spec_cache())  # a draft can still change
    hall.open(draft["id"])
    with app.app_context():
        p = db.session.get(Poll, draft["id"])
        spec = bs.poll_spec(p)
        assert (p.id, p.setup_fingerprint) in bs.spec_cache()
        assert bs.poll_spec(p) is spec
        assert spec.candidate_ids == tuple(c["id"] for c in draft["candidates"])
        assert spec.seats == 2


@pytest.mark.parametrize(
    "choice,source,reason,receipt",
    [
        ({"kept": [3, 1, 2]}, "tablet", None, "ABCD-EFGH"),
        ({"kept": []}, "tablet", None, None),
        ({"kept": [1, 1]}, "paper", None, "X"),
        ({"kept": ["1", 2]}, "tablet", None, None),  # a digit string: the slow path
        ({"kept": [True]}, "tablet", None, None),  # a bool is no id: invalid ("other")
        ({"kept": [1]}, "tablet", "torn", None),
        ({"kept": [1]}, "tablet", "", None),
        ({"kept": [1], "answers": None}, "tablet", None, None),
        ({"answers": {"5": "for"}}, "tablet", None, None),
        ({"kept": [1]}, "fax", None, None),  # unknown source: invalid ("other")
        ("not json", "tablet", None, None),
    ],
)
def test_count_fast_path_builds_the_same_ballot(choice, source, reason, receipt):
    from congress_vote import rules
    from congress_vote.counting.inputs import rules_ballot

    text = choice if isinstance(choice, str) else json.dumps(choice)
    data = json.loads(text) if not isinstance(choice, str) else {}
    try:
        expected = rules.Ballot.from_dict(
            {
                "kept": data.get("kept"),
                "answers": data.get("answers"),
                "invalid_reason": reason,
                "source": source,
                "receipt": receipt,
            }
        )
    except rules.RulesInputError:
        expected = rules.Ballot(invalid_reason="other", source=source, receipt=receipt)
    assert rules_ballot(text, source, reason, receipt) == expected


def _orm_answer(app, did: int) -> dict:
    """The check-in answer as the ORM path builds it (delegate_dict of the stored row)."""
    from congress_vote.congress.delegates import delegate_dict
    from congress_vote.congress.models import Delegate

    with app.app_context():
        return delegate_dict(db.session.get(Delegate, did))


def test_checkin_statements_and_answer(app, client, auth, hall, staff):
    from congress_vote.audit.models import AuditEvent
    from congress_vote.congress.models import Branch, Delegate

    cid = hall.congress(voters=3, present=0, excused=1)  # the first one excused
    cards = list(hall.cards.items())
    with app.app_context():  # it has a reason, a branch and a position; the others neither
        b = Branch(congress_id=cid, name="Chi bộ Văn phòng")
        db.session.add(b)
        db.session.flush()
        first = db.session.get(Delegate, cards[0][0])
        assert first.status == "excused"
        first.branch_id, first.position, first.absence_reason = b.id, "Bí thư", "Ốm"
        db.session.commit()
    headers = auth.headers("registrar")
    url = f"/api/v1/congresses/{cid}/checkin"
    with Statements(app) as st:
        r = client.post(url, json={"card": cards[0][1]}, headers=headers)
    assert r.status_code == 200, r.json
    assert r.json["already_present"] is False
    d = r.json["delegate"]
    assert d["id"] == cards[0][0] and d["status"] == "present" and d["checked_in_at"]
    # an excused delegate who turns up is present, the reason gone
    assert d["branch"] == "Chi bộ Văn phòng" and d["position"] == "Bí thư"
    assert d["absence_reason"] is None
    assert d == _orm_answer(app, cards[0][0])
    # An upper bound, not exact SQL: token+user, congress, the card's delegate, the conditional
    # UPDATE, then the audit append last.
    work = [w.split()[0].upper() for w in st.work]
    append = _append_statements(app)
    assert len(st.work) <= 4 + len(append), st.work
    assert any(w.upper().startswith("UPDATE DELEGATE") for w in st.work), st.work
    assert work[-len(append) :] == append, st.work
    assert "Set-Cookie" not in r.headers
    for did, card in cards[1:]:  # no branch
        r = client.post(url, json={"card": card}, headers=headers)
        assert r.status_code == 200 and r.json["already_present"] is False
        assert r.json["delegate"] == _orm_answer(app, did)
        assert r.json["delegate"]["branch"] == ""
    # present already: the same answer, nothing written
    with Statements(app) as st:
        r = client.post(url, json={"card": cards[0][1]}, headers=headers)
    assert r.status_code == 200 and r.json["already_present"] is True
    assert r.json["delegate"] == _orm_answer(app, cards[0][0])
    assert not any(w.upper().startswith("INSERT") for w in st.work)
    assert _events(app, "delegate.checked_in") == 3
    with app.app_context():
        events = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "delegate.checked_in")
            .order_by(AuditEvent.seq)
        ).all()
        assert [json.loads(e.data) for e in events] == [
            {"delegate_id": did, "via": "card"} for did, _ in cards
        ]
        assert {e.actor_id for e in events} == {staff["registrar"]}
        assert {e.congress_id for e in events} == {cid}
        from congress_vote.audit.services import verify_chain

        assert verify_chain().ok


def test_checkin_refusals_keep_their_codes_and_order(app, client, auth, hall):
    """An unknown congress answers 404 before anything about the body or the card; then a
    bad body 400, not a card 422, an unknown card or another congress's card 404. Nothing is
    written for any of them."""
    cid = hall.congress(voters=2, present=0)
    other = hall.congress(voters=1, present=0, name="Đại hội khác")
    mine, theirs = list(hall.cards.values())[0], list(hall.cards.values())[2]
    headers = auth.headers("registrar")
    nowhere = "/api/v1/congresses/999999/checkin"
    for body in ({"card": mine}, {"card": "rubbish"}, {"card": 42}, {}, ["x"]):
        r = client.post(nowhere, json=body, headers=headers)
        assert r.status_code == 404 and r.json["error"]["code"] == "not_found", body
    url = f"/api/v1/congresses/{cid}/checkin"
    for body, status, code in (
        ({}, 400, "bad_request"),
        ({"card": 42}, 400, "bad_request"),
        (["x"], 400, "bad_request"),
        ({"card": "rubbish"}, 422, "not_a_card_code"),
        ({"card": "CV1:C:" + codes.new_code()}, 404, "unknown_card"),
        ({"card": theirs}, 404, "card_of_another_congress"),
    ):
        r = client.post(url, json=body, headers=headers)
        assert (r.status_code, r.json["error"]["code"]) == (status, code), body
    assert client.post(url, json={"card": mine}).status_code == 401
    assert (
        client.post(url, json={"card": mine}, headers=auth.headers("counter1")).status_code == 403
    )
    assert _events(app, "delegate.checked_in") == 0
    assert {s for _, _, _, s in hall.delegates(cid) + hall.delegates(other)} == {"absent"}


def test_bearer_token_of_an_inactive_or_expired_user_is_refused(app, client, auth, staff):
    from congress_vote.auth.models import ApiToken, User

    headers = auth.headers("observer")
    assert client.get("/api/v1/congresses", headers=headers).status_code == 200
    with app.app_context():
        db.session.get(User, staff["observer"]).active = False
        db.session.commit()
    assert client.get("/api/v1/congresses", headers=headers).status_code == 401
    with app.app_context():
        db.session.get(User, staff["observer"]).active = True
        for t in db.session.scalars(select(ApiToken)):
            t.expires_at = t.expires_at.replace(year=2000)
        db.session.commit()
    assert client.get("/api/v1/congresses", headers=headers).status_code == 401
