"""Backups of a live database and restores that refuse anything unsound (issue 8, part 4)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import threading
import uuid

import pytest
from sqlalchemy import func, select, text

from congress_vote.audit.models import AuditEvent
from congress_vote.audit.services import record, verify_chain
from congress_vote.extensions import db
from tests.conftest import make_app


def _is_sqlite(app) -> bool:
    with app.app_context():
        return db.engine.dialect.name == "sqlite"


class Writer(threading.Thread):
    """Commits audit events (and, once casting exists, ballots) until told to stop."""

    def __init__(self, app, work=None):
        super().__init__(daemon=True)
        self.app = app
        self.work = work
        self.stop = threading.Event()
        self.started_writing = threading.Event()
        self.commits = 0
        self.error = None

    def run(self):
        try:
            with self.app.app_context():
                while not self.stop.is_set():
                    if self.work is not None:
                        if not self.work():
                            break
                    else:
                        record("test.tick", data={"n": self.commits})
                        db.session.commit()
                    self.commits += 1
                    if self.commits >= 5:
                        self.started_writing.set()
                db.session.remove()
        except Exception as err:  # noqa: BLE001
            self.error = err
            self.started_writing.set()


def _events(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AuditEvent))


def test_backup_of_live_sqlite_while_writing_restores_and_verifies(app, runner, tmp_path):
    if not _is_sqlite(app):
        pytest.skip("SQLite online backup; the PostgreSQL path is tested below")
    with app.app_context():
        for i in range(20):
            record("test.before", data={"i": i})
        db.session.commit()
    writer = Writer(app)
    writer.start()
    assert writer.started_writing.wait(30)
    before = _events(app)
    dest = tmp_path / "backups" / "live.db"
    r = runner.invoke(args=["backup", str(dest)])
    after_backup = _events(app)
    writer.stop.set()
    writer.join(30)
    assert writer.error is None, writer.error
    assert r.exit_code == 0, r.output
    assert dest.is_file() and "Backup written" in r.output
    assert writer.commits > 5
    # No leftovers of the temp file, and the copy stands alone (no -wal needed).
    assert [p.name for p in dest.parent.iterdir()] == ["live.db"]
    con = sqlite3.connect(dest)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    n_backup = con.execute("SELECT count(*) FROM audit_event").fetchone()[0]
    con.close()
    # A consistent snapshot: some committed state between the two counts, chain intact.
    assert before <= n_backup <= after_backup

    # Restore into a fresh, empty database file.
    target = tmp_path / "restored" / "congress.db"
    fresh = make_app(f"sqlite:///{target}")
    fresh_runner = fresh.test_cli_runner()
    r = fresh_runner.invoke(args=["restore", str(dest)])
    assert r.exit_code == 2 and "--yes" in r.output  # refuses without --yes
    r = fresh_runner.invoke(args=["restore", str(dest), "--yes"])
    assert r.exit_code == 0, r.output
    assert "Audit chain OK" in r.output
    with fresh.app_context():
        rep = verify_chain()
        assert rep.ok and rep.events == n_backup
        db.engine.dispose()
    r = fresh_runner.invoke(args=["verify-audit"])
    assert r.exit_code == 0, r.output


def test_default_backup_path_in_instance_folder(app, runner):
    if not _is_sqlite(app):
        pytest.skip("SQLite")
    r = runner.invoke(args=["backup"])
    assert r.exit_code == 0, r.output
    path = r.output.split("Backup written: ")[1].split(" (")[0]
    try:
        assert os.path.dirname(path) == os.path.join(app.instance_path, "backups")
        assert os.path.basename(path).startswith("congress-") and path.endswith("Z.db")
        assert oct(os.stat(path).st_mode & 0o777) == "0o600"
    finally:
        os.unlink(path)


def test_restore_refuses_unsound_files(app, runner, tmp_path):
    if not _is_sqlite(app):
        pytest.skip("SQLite")
    with app.app_context():
        for i in range(5):
            record("test.event", data={"i": i})
        db.session.commit()
    good = tmp_path / "good.db"
    assert runner.invoke(args=["backup", str(good)]).exit_code == 0
    target = tmp_path / "target.db"
    fresh = make_app(f"sqlite:///{target}")
    fr = fresh.test_cli_runner()

    def refused(path, words):
        r = fr.invoke(args=["restore", str(path), "--yes"])
        assert r.exit_code != 0, r.output
        assert "refused" in r.output and words in r.output, r.output
        assert not target.exists() or target.stat().st_size == 0

    # not a database at all
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"PK\x03\x04 this is a zip, not a database" * 10)
    refused(junk, "not a SQLite database")
    # a SQLite file without our schema
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.commit()
    con.close()
    refused(other, "alembic_version")
    # the right schema but a tampered audit chain
    tampered = tmp_path / "tampered.db"
    shutil.copyfile(good, tampered)
    con = sqlite3.connect(tampered)
    con.execute("UPDATE audit_event SET data = '{\"i\":99}' WHERE seq = 3")
    con.commit()
    con.close()
    refused(tampered, "audit chain")
    # an unknown schema revision
    old = tmp_path / "old.db"
    shutil.copyfile(good, old)
    con = sqlite3.connect(old)
    con.execute("UPDATE alembic_version SET version_num = 'ffff'")
    con.commit()
    con.close()
    refused(old, "revision")
    # a missing file
    refused(tmp_path / "nope.db", "does not exist")
    with fresh.app_context():
        db.engine.dispose()


def test_restore_over_existing_database_replaces_it(app, runner, tmp_path):
    """Restoring over a database that has moved on brings back exactly the backed-up state."""
    if not _is_sqlite(app):
        pytest.skip("SQLite")
    with app.app_context():
        record("test.kept", data={})
        db.session.commit()
    snap = tmp_path / "snap.db"
    assert runner.invoke(args=["backup", str(snap)]).exit_code == 0
    with app.app_context():
        for i in range(7):
            record("test.later", data={"i": i})
        db.session.commit()
        assert verify_chain().events == 8
    r = runner.invoke(args=["restore", str(snap), "--yes"])
    assert r.exit_code == 0, r.output
    with app.app_context():
        db.session.remove()
        rep = verify_chain()
        assert rep.ok and rep.events == 1
        assert db.session.scalar(text("SELECT action FROM audit_event")) == "test.kept"
        # the restored database is still the live one: it takes new writes
        record("test.after_restore", data={})
        db.session.commit()
        assert verify_chain().ok


@pytest.mark.skipif(shutil.which("pg_dump") is None, reason="pg_dump is not installed")
def test_postgresql_backup_and_restore_with_pg_tools(app, runner, tmp_path):
    if _is_sqlite(app):
        pytest.skip("PostgreSQL path (set TEST_DATABASE_URL)")
    with app.app_context():
        for i in range(6):
            record("test.pg", data={"i": i})
        db.session.commit()
        url = db.engine.url
    dump = tmp_path / "pg.dump"
    r = runner.invoke(args=["backup", str(dump), "--print-only"])
    assert r.exit_code == 0 and r.output.startswith("pg_dump --format=custom")
    r = runner.invoke(args=["backup", str(dump)])
    assert r.exit_code == 0, r.output
    assert dump.stat().st_size > 0
    name = f"cv_restore_{uuid.uuid4().hex[:8]}"
    host = [
        "-h",
        url.host or "127.0.0.1",
        "-p",
        str(url.port or 5432),
        "-U",
        url.username or "postgres",
    ]
    subprocess.run(["createdb", *host, name], check=True)
    try:
        fresh = make_app(url.set(database=name).render_as_string(hide_password=False))
        fr = fresh.test_cli_runner()
        assert fr.invoke(args=["restore", str(dump)]).exit_code == 2
        r = fr.invoke(args=["restore", str(dump), "--yes"])
        assert r.exit_code == 0, r.output
        assert "Audit chain OK: 6 events" in r.output
        with fresh.app_context():
            db.engine.dispose()
    finally:
        subprocess.run(["dropdb", *host, "--if-exists", name], check=False)


def test_backup_taken_mid_poll_restores_and_recounts(app, runner, tmp_path):
    """Ballots cast before and during the backup (a writer thread keeps casting); the restored
    copy holds a consistent prefix: every stored ballot has its used token, the audit chain
    verifies, and the poll closes, counts and recounts on the restored data."""
    if not _is_sqlite(app):
        pytest.skip("SQLite online backup")
    from tests.faults.helpers import (
        FlaskCaller,
        cast,
        create_super_user,
        issue,
        setup_open_poll,
        sign_in,
    )

    uid = create_super_user(app)
    caller = FlaskCaller(app.test_client())
    token = sign_in(caller)
    sc = setup_open_poll(caller, token, uid, voters=80)
    assert sc is not None
    tokens = issue(caller, sc, 80)["tokens"]
    kept = sc.candidate_ids[: sc.seats]
    for t in tokens[:20]:
        assert cast(caller, t, kept).status == 201
    pending = list(tokens[20:])
    thread_caller = FlaskCaller(app.test_client())
    thread_caller.kiosk = sc.kiosk

    def cast_one():
        if not pending:
            return False
        assert cast(thread_caller, pending.pop(), kept).status == 201
        return True

    writer = Writer(app, work=cast_one)
    writer.start()
    assert writer.started_writing.wait(60)
    dest = tmp_path / "midpoll.db"
    r = runner.invoke(args=["backup", str(dest)])
    writer.stop.set()
    writer.join(60)
    assert writer.error is None, writer.error
    assert r.exit_code == 0, r.output
    con = sqlite3.connect(dest)
    n_ballots = con.execute("SELECT count(*) FROM sealed_ballot").fetchone()[0]  # sealed
    n_used = con.execute("SELECT count(*) FROM ballot_token WHERE state='used'").fetchone()[0]
    con.close()
    assert 25 <= n_ballots <= 80 and n_ballots == n_used

    target = tmp_path / "restored.db"
    fresh = make_app(f"sqlite:///{target}")
    fr = fresh.test_cli_runner()
    r = fr.invoke(args=["restore", str(dest), "--yes"])
    assert r.exit_code == 0 and "Audit chain OK" in r.output, r.output
    fc = FlaskCaller(fresh.test_client())
    ftoken = sign_in(fc)
    assert fc("POST", f"/api/v1/polls/{sc.pid}/close", token=ftoken).status == 200
    counted = fc(
        "POST",
        f"/api/v1/polls/{sc.pid}/count",
        token=ftoken,
        json={"opening_codes": sc.opening_codes},
    )
    assert counted.status == 200, counted.body
    assert counted.body["figures"]["ballots_returned"] == n_ballots
    assert all(c["votes"] == n_ballots for c in counted.body["candidates"] if c["id"] in kept)
    r = fr.invoke(args=["recount", str(sc.pid)])
    assert r.exit_code == 0, r.output
    assert counted.body["digest"] in r.output or "match" in r.output.lower()
    r = fr.invoke(args=["verify-audit"])
    assert r.exit_code == 0, r.output
    with fresh.app_context():
        db.engine.dispose()
