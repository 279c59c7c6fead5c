from sqlalchemy import text

from congress_vote.audit.services import record, verify_chain
from congress_vote.extensions import db


def test_chain_verifies_and_names_first_tampered_event(app, runner):
    with app.app_context():
        for i in range(5):
            record("test.event", data={"i": i})
        db.session.commit()
        assert verify_chain().ok
    assert runner.invoke(args=["verify-audit"]).exit_code == 0
    with app.app_context():
        db.session.execute(text("UPDATE audit_event SET data = :d WHERE seq = 3"), {"d": '{"i":99}'})
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
