"""Faults (issue 8, part 1): the server is killed mid-vote, the disk fills up.

The kill test runs the real deployment: gunicorn with gunicorn.conf.py and 3 workers on the test
database (a SQLite file, or PostgreSQL when TEST_DATABASE_URL is set), 16 client threads casting
ballots over HTTP, then SIGKILL of the whole process group while requests are in flight, a
restart, and the checks that no acknowledged vote was lost and none was stored twice.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from congress_vote.audit.models import AuditEvent
from congress_vote.audit.services import verify_chain
from congress_vote.extensions import db
from tests.conftest import make_app
from tests.faults.helpers import (
    FlaskCaller,
    HttpCaller,
    cast,
    create_super_user,
    issue,
    setup_open_poll,
    sign_in,
)

pytestmark = [pytest.mark.slow, pytest.mark.isolated]

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = str(Path(sys.executable).with_name("gunicorn"))
VOTERS = 300
CLIENTS = 16
KILL_AFTER_ACKS = 110


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """gunicorn in its own session (process group), so SIGKILL reaches master and workers."""

    def __init__(self, database_url: str, log_dir: Path, workers: int = 3):
        self.database_url = database_url
        self.log_dir = log_dir
        self.workers = workers
        self.proc: subprocess.Popen | None = None
        self.port = 0

    def start(self) -> HttpCaller:
        self.port = _free_port()
        env = {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": "fault-test-secret",
            "PUBLIC_BASE_URL": "http://vote.test",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "GUNICORN_WORKERS": str(self.workers),
            "GUNICORN_THREADS": "4",
            "GUNICORN_ACCESSLOG": str(self.log_dir / "access.log"),
            "GUNICORN_ERRORLOG": str(self.log_dir / "error.log"),
            "RATELIMIT_STORAGE_URI": "memory://",
            # 16 tablets behind one address (the test): the guessing brake is not under test.
            "RATELIMIT_CODE_ENTRY": "100000 per minute",
            "RATELIMIT_LOGIN": "1000 per minute",
        }
        env.pop("CONGRESS_VOTE_ENV", None)
        self.proc = subprocess.Popen(
            [GUNICORN, "-c", "gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT,
            env=env,
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        caller = HttpCaller("127.0.0.1", self.port, timeout=60)
        deadline = time.monotonic() + 90
        while True:
            assert self.proc.poll() is None, "gunicorn exited: " + self.errors()
            try:
                if caller("GET", "/api/v1/openapi.json").status == 200:
                    return caller
            except OSError:
                pass
            assert time.monotonic() < deadline, "gunicorn did not come up: " + self.errors()
            time.sleep(0.2)  # polling for readiness, not synchronising on a guess

    def errors(self) -> str:
        p = self.log_dir / "error.log"
        return p.read_text()[-3000:] if p.exists() else ""

    def kill(self) -> None:
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(30)
        # every worker of the group is gone too
        deadline = time.monotonic() + 30
        while True:
            try:
                os.killpg(self.proc.pid, 0)
            except ProcessLookupError:
                return
            assert time.monotonic() < deadline, "workers survived SIGKILL"
            time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)


def _hash(code_text: str) -> str:
    from congress_vote.ballots.services import resolve_code
    from congress_vote.codes import code_hash

    return code_hash(resolve_code(code_text))


def _store_state(app, pid: int) -> dict:
    """The stored truth for poll `pid`: ballot receipts, used tokens, audit. A ballot row names
    no token (secrecy): a token is used exactly when its ballot was committed (one transaction)."""
    from congress_vote.ballots.models import Ballot, BallotToken
    from congress_vote.seal.models import SealedBallot

    with app.app_context():
        db.session.remove()
        # A sealed poll's receipt is its ballot's tracker, kept on the used token until the box
        # is opened (issue 16); an unsealed ballot row carries its own.
        rows = [
            r
            for r in db.session.scalars(select(Ballot.receipt).where(Ballot.poll_id == pid))
            if r is not None
        ]
        rows += [
            t
            for t in db.session.scalars(
                select(BallotToken.tracker).where(
                    BallotToken.poll_id == pid, BallotToken.state == "used"
                )
            )
            if t is not None
        ]
        ballots = sum(
            db.session.scalar(select(func.count()).select_from(m).where(m.poll_id == pid))
            for m in (Ballot, SealedBallot)
        )
        used = set(
            db.session.scalars(
                select(BallotToken.token_hash).where(
                    BallotToken.poll_id == pid, BallotToken.state == "used"
                )
            )
        )
        cast_events = db.session.scalar(
            select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "ballot.cast")
        )
        rep = verify_chain()
        db.session.remove()
    return {
        "receipts": rows,
        "ballots": ballots,
        "used": used,
        "cast_events": cast_events,
        "audit_ok": rep.ok,
        "audit_problem": rep.problem,
    }


def _assert_consistent(state: dict) -> dict:
    """{"receipts": set of stored receipts, "used": set of used token hashes}."""
    receipts = state["receipts"]
    assert len(receipts) == len(set(receipts)), "two ballots share a receipt"
    assert len(receipts) == len(state["used"]), "used tokens and receipts differ"
    assert state["ballots"] == len(state["used"]), "used tokens and ballots differ"
    assert state["cast_events"] == len(receipts), "audit events and ballots differ"
    assert state["audit_ok"], state["audit_problem"]
    return {"receipts": set(receipts), "used": state["used"]}


def test_sigkill_mid_vote_loses_no_acknowledged_ballot(app, database_url, tmp_path, capsys):
    uid = create_super_user(app)
    local = FlaskCaller(app.test_client())
    token = sign_in(local)
    sc = setup_open_poll(local, token, uid, voters=VOTERS)
    assert sc is not None, "could not set up an open poll through the API"

    server = Server(database_url, tmp_path)
    try:
        http = server.start()
        http.kiosk = sc.kiosk  # an enrolled kiosk of the congress
        got = issue(http, sc, VOTERS)
        assert got is not None, "ballot issuance through the API failed"
        tokens = got["tokens"]
        work: queue.Queue[str] = queue.Queue()
        for t in tokens:
            work.put(t)
        lock = threading.Lock()
        acked: dict[str, str] = {}  # token -> receipt (201 received)
        unacked: list[str] = []  # sent, no answer (connection died)
        not_delivered: list[str] = []  # connection refused: the server was gone
        refused: list[tuple[str, int]] = []  # an answer other than 201
        killed = threading.Event()
        enough = threading.Event()
        kept = sc.candidate_ids[: sc.seats]

        def client():
            while not killed.is_set():
                try:
                    t = work.get_nowait()
                except queue.Empty:
                    return
                try:
                    r = cast(http, t, kept)
                except ConnectionRefusedError:
                    with lock:
                        not_delivered.append(t)
                    continue
                except OSError:  # reset, or closed without an answer: in flight at the kill
                    with lock:
                        unacked.append(t)
                    continue
                with lock:
                    if r.status == 201:
                        acked[t] = r.body["receipt"]
                        if len(acked) >= KILL_AFTER_ACKS:
                            enough.set()
                    else:
                        refused.append((t, r.status))
            # left in the queue: never sent

        threads = [threading.Thread(target=client, daemon=True) for _ in range(CLIENTS)]
        for th in threads:
            th.start()
        assert enough.wait(300), f"only {len(acked)} ballots acknowledged; {refused[:5]}"
        server.kill()
        killed.set()
        for th in threads:
            th.join(120)
        assert not refused, f"casts refused before the kill: {refused[:5]}"
        attempted = len(acked) + len(unacked)
        never_sent = list(not_delivered)
        while not work.empty():
            never_sent.append(work.get_nowait())

        # --- after the crash, before restart: the database is consistent --------------------
        stored = _assert_consistent(_store_state(app, sc.pid))
        with app.app_context():
            for t, receipt in acked.items():
                assert _hash(t) in stored["used"], "an acknowledged ballot's token is unused"
                assert receipt in stored["receipts"], "an acknowledged ballot was lost"
        committed_unacked = [t for t in unacked if _hash_in(app, t, stored)]

        # --- restart and re-cast what was not acknowledged ----------------------------------
        http = server.start()
        http.kiosk = sc.kiosk  # an enrolled kiosk of the congress
        outcome = {201: 0, 409: 0}
        for t in unacked + never_sent:
            r = cast(http, t, kept)
            assert r.status in (201, 409), (r.status, r.body)
            if r.status == 409:
                assert r.body["error"]["code"] == "ballot_used"
                assert t in committed_unacked, "409 for a ballot that was never stored"
            else:
                assert t not in committed_unacked, "a stored ballot was accepted twice"
            outcome[r.status] += 1
        # and an acknowledged one cannot be cast again
        r = cast(http, next(iter(acked)), kept)
        assert r.status == 409 and r.body["error"]["code"] == "ballot_used"

        final = _assert_consistent(_store_state(app, sc.pid))
        assert len(final["receipts"]) == VOTERS
        assert set(acked.values()) <= final["receipts"]

        # --- counted: every acknowledged receipt is on the public list ----------------------
        receipts_checked = _close_count_receipts(http, sc, acked)
        with capsys.disabled():
            print(
                f"\n[faults] kill test ({db_kind(database_url)}): issued {VOTERS}, "
                f"cast by 16 clients until the kill {attempted}, acknowledged {len(acked)}, "
                f"in flight at the kill (no answer) {len(unacked)}, of which committed "
                f"{len(committed_unacked)}; not delivered {len(never_sent)}; stored after the "
                f"crash {len(stored['receipts'])}; re-cast after restart: {outcome[201]} "
                f"accepted, "
                f"{outcome[409]} ballot_used; stored in the end {len(final['receipts'])}; "
                f"receipts on the public list checked: {receipts_checked}"
            )
        # the tokens never reached the access log
        log = (tmp_path / "access.log").read_text()
        assert "/api/v1/ballot/***" in log
        leaked = [t for t in tokens if t in log]
        assert not leaked, f"{len(leaked)} tokens in the access log"
    finally:
        server.stop()


def db_kind(url: str) -> str:
    return "PostgreSQL" if url.startswith("postgresql") else "SQLite"


def _hash_in(app, t, stored) -> bool:
    with app.app_context():
        return _hash(t) in stored["used"]


def _close_count_receipts(http, sc, acked) -> int | str:
    r = http("POST", f"/api/v1/polls/{sc.pid}/close", token=sc.token)
    if r.status == 404 and r.body and r.body["error"]["code"] == "not_found":
        return "n/a (close not available)"
    assert r.status == 200, (r.status, r.body)
    r = http(
        "POST",
        f"/api/v1/polls/{sc.pid}/count",
        token=sc.token,
        json={"opening_codes": sc.opening_codes},
    )
    if r.status == 404 and r.body and r.body["error"]["code"] == "not_found":
        return "n/a (count not available)"
    assert r.status == 200, (r.status, r.body)
    r = http("GET", f"/api/v1/polls/{sc.pid}/receipts")
    if r.status == 404 and r.body and r.body["error"]["code"] == "not_found":
        return "n/a (receipts not available)"
    assert r.status == 200, (r.status, r.body)
    listed = set(r.body["receipts"])
    missing = [x for x in acked.values() if x not in listed]
    assert not missing, f"{len(missing)} acknowledged receipts missing from the public list"
    return len(acked)


# ---- full disk ----------------------------------------------------------------------------------


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mnt)], capture_output=True, text=True
    )
    if done.returncode != 0:
        if os.environ.get("CI"):
            pytest.fail(f"cannot mount a tmpfs for the full-disk test: {done.stderr.strip()}")
        pytest.skip(f"cannot mount a tmpfs (needs root): {done.stderr.strip()}")
    try:
        yield mnt
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def _fill(folder: Path) -> Path:
    """Write zeros until the file system has not one byte left."""
    filler = folder / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 16, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)
    return filler


def test_full_disk_gives_a_clear_503_and_corrupts_nothing(small_disk, _schema, monkeypatch):
    path = small_disk / "congress.db"
    url = f"sqlite:///{path}"
    app = make_app(url)
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.session.remove()
    uid = create_super_user(app)
    client = app.test_client()
    caller = FlaskCaller(client)
    token = sign_in(caller)
    sc = setup_open_poll(caller, token, uid, voters=12)
    assert sc is not None, "could not set up an open poll through the API"
    got = issue(caller, sc, 12)
    assert got is not None, "ballot issuance through the API failed"
    kept = sc.candidate_ids[: sc.seats]
    r = cast(caller, got["tokens"][0], kept)
    assert r.status == 201
    # Empty the WAL into the database file, so the next write must take new disk space.
    with app.app_context():
        db.session.remove()
        db.engine.dispose()
    con = sqlite3.connect(path, isolation_level=None)
    assert con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()[0] == 0
    con.close()
    filler = _fill(small_disk)
    try:
        failed = cast(caller, got["tokens"][1], kept)
        html = _cast_html(client, app, got["tokens"][2], sc.candidate_ids[sc.seats :])
    finally:
        filler.unlink()
    assert failed.status == 503, (failed.status, failed.body)
    assert failed.body["error"]["code"] == "storage_unavailable"
    msg = failed.body["error"]["message"]  # Vietnamese by default, English on request
    assert ("cannot store votes" in msg and "counting committee" in msg) or (
        "không lưu được phiếu" in msg and "Ban kiểm phiếu" in msg
    ), msg
    assert failed.headers.get("Retry-After")
    if html is not None:
        assert html.status_code == 503 and html.mimetype == "text/html"
        page = html.get_data(as_text=True)
        assert "counting committee" in page or "Ban kiểm phiếu" in page or "ban kiểm phiếu" in page
    # Space is back: nothing was half-written, the same ballot can now be cast.
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.close()
    r = cast(caller, got["tokens"][1], kept)
    assert r.status == 201, (r.status, r.body)
    with app.app_context():
        db.session.remove()
        assert verify_chain().ok
        from congress_vote.ballots.models import Ballot
        from congress_vote.seal.models import SealedBallot

        n = sum(
            db.session.scalar(select(func.count()).select_from(m)) for m in (Ballot, SealedBallot)
        )
        assert n == 2 + (1 if html is not None and html.status_code == 201 else 0)
        assert db.session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
        db.session.remove()
        db.engine.dispose()


def _cast_html(client, app, token, struck):
    """The tablet's HTML ballot page, if there is one: the final "cast" step on /b/<token>."""
    rules = [
        r for r in app.url_map.iter_rules() if r.rule.startswith("/b/") and "POST" in r.methods
    ]
    if not rules:
        return None
    return client.post(
        f"/b/{token}",
        data={"step": "cast", "struck": [str(k) for k in struck]},
        headers={"Accept": "text/html"},
    )
