"""Issued batches' PDFs kept in the database, sealed, until the poll closes (issue 14, hole 8):
not in plain text at rest, downloadable again by the poll's committee, gone with the close,
unreadable with another SECRET_KEY, never a file in instance/."""

from __future__ import annotations

import glob
import os
import time
from pathlib import Path

import pytest

from congress_vote.extensions import db
from tests.conftest import make_app


def _rows(app, pid=None):
    from congress_vote.ballots.models import BatchPdf

    with app.app_context():
        q = db.session.query(BatchPdf)
        if pid is not None:
            q = q.filter_by(poll_id=pid)
        rows = [(r.batch_id, r.poll_id, bytes(r.sealed)) for r in q]
        db.session.remove()
    return rows


def _distinctive(pdf: bytes) -> list[bytes]:
    """Byte runs only this PDF has: its header and three 48-byte runs from its body."""
    n = len(pdf)
    return [pdf[:8]] + [pdf[i : i + 48] for i in (n // 4, n // 2, 3 * n // 4)]


def _database_bytes(app) -> bytes:
    """The SQLite database file and its WAL as a reader copying them would get them."""
    with app.app_context():
        path = db.engine.url.database
        db.session.remove()
        db.engine.dispose()
    return b"".join(
        Path(p).read_bytes()
        for p in glob.glob(path + "*")
        if not p.endswith((".lock", ".queue")) and os.path.isfile(p)
    )


@pytest.fixture
def started():
    return time.time() - 1


@pytest.fixture
def issued(started, hall, api):
    cid, poll, _ = hall.open_poll_with_ballots(2)
    out = hall.issue(poll["id"], 3)
    return {"cid": cid, "pid": poll["id"], **out}


def test_the_pdf_is_sealed_at_rest(started, issued, api, app):
    pid, bid = issued["pid"], issued["batch_id"]
    pdf = api("counter1").get(f"/api/v1/polls/{pid}/batches/{bid}.pdf").data
    assert pdf[:5] == b"%PDF-"
    rows = _rows(app, pid)
    assert {r[0] for r in rows} >= {bid}
    for _bid, _pid, sealed in rows:
        assert all(run not in sealed for run in _distinctive(pdf))
    (sealed,) = [r[2] for r in rows if r[0] == bid]
    assert len(sealed) == len(pdf) + 12 + 16  # the whole PDF is there, sealed (nonce, tag)
    with app.app_context():
        dialect = db.engine.dialect.name
    if dialect == "sqlite":  # what a copy of the database file holds
        raw = _database_bytes(app)
        assert sealed[20:80] in raw  # the sealed row is in the file we searched
        assert all(run not in raw for run in _distinctive(pdf)), "plain PDF bytes in the database"
    # and no file with usable ballots was written to instance/ (the old download-once files)
    assert not [
        p
        for p in Path(app.instance_path).rglob("*")
        if p.is_file() and p.stat().st_mtime >= started
    ]


def test_second_download_works_for_the_committee_only(issued, api, auth, client, app):
    pid, bid = issued["pid"], issued["batch_id"]
    url = f"/api/v1/polls/{pid}/batches/{bid}.pdf"
    first = api("counter1").get(url)
    second = api("counter2").get(url)  # another member, or the same one after a mis-click
    again = api("counter1").get(url)
    assert first.status_code == second.status_code == again.status_code == 200
    assert first.mimetype == "application/pdf" and first.data == second.data == again.data
    # the pdf_url of the issue answer (the browser's link) gives the same file, again and again
    auth.login("counter1")
    for _ in range(2):
        r = client.get(issued["pdf_url"])
        assert r.status_code == 200 and r.data == first.data
    # outside the committee: refused, nothing handed out
    for user in ("counter3", "observer", "chair", "admin"):
        r = api(user).get(url)
        assert r.status_code == 403, (user, r.status_code)
        assert r.data[:4] != b"%PDF"
    assert app.test_client().get(url).status_code == 401
    # another poll's batch id, or a batch that does not exist: 404
    other = api("counter1").get(f"/api/v1/polls/{pid}/batches/{bid + 1000}.pdf")
    assert other.status_code == 404
    # each download is audited
    from congress_vote.audit.models import AuditEvent

    with app.app_context():
        n = db.session.query(AuditEvent).filter_by(action="ballots.pdf_downloaded").count()
    assert n == 5


def test_close_deletes_the_pdfs(issued, api, hall, app, auth, client):
    pid, bid = issued["pid"], issued["batch_id"]
    url = f"/api/v1/polls/{pid}/batches/{bid}.pdf"
    assert api("counter1").get(url).status_code == 200
    assert _rows(app, pid)
    hall.close(pid)
    assert _rows(app, pid) == []
    r = api("counter1").get(url)
    assert r.status_code == 409 and r.json["error"]["code"] == "poll_not_open"
    auth.login("counter1")
    assert client.get(issued["pdf_url"]).status_code == 409


def test_close_deletes_in_its_own_transaction(issued, api, app):
    """A close that fails (rolled back) keeps the PDFs; a close that commits removes them."""
    from congress_vote.polls.models import Poll
    from congress_vote.polls.services import close_poll

    pid = issued["pid"]
    with app.app_context():
        close_poll(db.session.get(Poll, pid), None)
        db.session.rollback()
    assert _rows(app, pid)


def test_another_secret_key_cannot_open_it(issued, api, app, database_url):
    pid, bid = issued["pid"], issued["batch_id"]
    (sealed,) = [r[2] for r in _rows(app, pid) if r[0] == bid]
    from congress_vote.ballots.batch_pdfs import unseal

    with app.app_context():
        assert unseal(pid, bid, sealed)[:5] == b"%PDF-"
        from congress_vote.errors import ServiceError

        with pytest.raises(ServiceError):
            unseal(pid, bid, sealed, secret="another-secret-key-of-32-bytes!!")
        with pytest.raises(ServiceError):  # moved to another batch's row: does not open
            unseal(pid, bid + 1, sealed)
    # a server started with another SECRET_KEY answers 409, never the PDF
    other = make_app(database_url, SECRET_KEY="another-secret-key-of-32-bytes!!")
    c = other.test_client()
    token = c.post(
        "/api/v1/session", json={"username": "counter1", "password": "password123"}
    ).json["token"]
    r = c.get(
        f"/api/v1/polls/{pid}/batches/{bid}.pdf", headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status_code == 409 and r.json["error"]["code"] == "batch_pdf_unreadable"
    with other.app_context():
        db.session.remove()
        db.engine.dispose()


def test_paper_batches_are_kept_too(hall, api, app, auth, client):
    _cid, poll, _ = hall.open_poll_with_ballots(1)
    pid = poll["id"]
    r = api("counter1").post(
        f"/api/v1/polls/{pid}/ballots", json={"count": 2, "kind": "paper", "size": "A5"}
    )
    assert r.status_code == 201 and r.json["kind"] == "paper", r.json
    from congress_vote.ballots.models import IssueBatch

    with app.app_context():
        assert db.session.get(IssueBatch, r.json["batch_id"]).kind == "paper"
    pdf = api("counter1").get(f"/api/v1/polls/{pid}/batches/{r.json['batch_id']}.pdf")
    assert pdf.status_code == 200 and pdf.data[:5] == b"%PDF-"
    # the paper ballots printed from the count page are kept as well
    auth.login("counter1")
    page = client.post(f"/polls/{pid}/paper/print", data={"count": "1", "size": "A4"})
    assert page.status_code == 200 and page.data[:4] == b"%PDF"
    with app.app_context():
        last = (
            db.session.query(IssueBatch)
            .filter_by(poll_id=pid)
            .order_by(IssueBatch.id.desc())
            .first()
            .id
        )
    again = api("counter2").get(f"/api/v1/polls/{pid}/batches/{last}.pdf")
    assert again.status_code == 200 and again.data == page.data
    bad = api("counter1").post(
        f"/api/v1/polls/{pid}/ballots", json={"count": 1, "kind": "paper", "size": "A3"}
    )
    assert bad.status_code == 422


def test_the_poll_page_links_the_kept_pdfs_for_the_committee(issued, hall, app):
    from tests.conftest import PASSWORD

    pid, bid = issued["pid"], issued["batch_id"]

    def page(user):
        c = app.test_client()
        c.post("/login", data={"username": user, "password": PASSWORD})
        return c, c.get(f"/polls/{pid}").get_data(as_text=True)

    c, html = page("counter1")
    assert issued["pdf_url"] in html
    assert c.get(issued["pdf_url"]).data[:5] == b"%PDF-"
    assert f"/polls/{pid}/slips/" not in page("counter3")[1]
    assert f"/polls/{pid}/slips/" not in page("observer")[1]
    hall.close(pid)
    assert f"/polls/{pid}/slips/{bid}.pdf" not in page("counter1")[1]
