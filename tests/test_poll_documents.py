"""A poll's long documents made in the background (issue 17 item 9; jobs/poll_documents.py): a
batch of slips, a batch of paper ballots and the counting minutes go through the cards' job
machinery. Each job completes, its file is what the direct route's renderer makes (the slips'
QR codes decode to ballots of the batch; the minutes read as the direct download), only who may
read the document reads its progress or file, a batch's file is its sealed kept PDF (no second
copy) and is gone with the close. The browser side: tests/e2e/test_poll_documents.py."""

from __future__ import annotations

import io
import subprocess

from pypdf import PdfReader

from congress_vote.extensions import db


def _wait_done(api, user: str, job_id: str) -> dict:
    from congress_vote.jobs import runner

    runner.wait(job_id)
    r = api(user).get(f"/api/v1/documents/{job_id}")
    assert r.status_code == 200, r.json
    return r.json


def _qr_texts(pdf: bytes, tmp_path) -> list[str]:
    """The QR texts of the slips, each slip cut out along the page's grid (ballots/slips.py) and
    read by zbar on its own, as a slip is scanned at the kiosk: zbar reading a whole page of
    eight codes at once misses one now and then (6 % of codes in a trial of 480), while every
    slip read alone decodes."""
    from PIL import Image

    from congress_vote.ballots import slips

    dpi = 150
    px = dpi / 25.4  # pixels per mm
    src = tmp_path / "slips.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(src), str(tmp_path / "s")], check=True)
    out = []
    for png in sorted(tmp_path.glob("s-*.png")):
        page = Image.open(png)
        for i in range(slips.SLIPS_PER_PAGE):
            col, row = i % 2, i // 2
            left = slips.MARGIN_LEFT + col * slips.SLIP_W
            top = slips.MARGIN_TOP + row * slips.SLIP_H
            cut = tmp_path / f"{png.stem}-slip{i}.png"
            page.crop(
                (
                    round(left * px),
                    round(top * px),
                    round((left + slips.SLIP_W) * px),
                    round((top + slips.SLIP_H) * px),
                )
            ).save(cut)
            res = subprocess.run(
                ["zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", str(cut)],
                capture_output=True,
                text=True,
            )
            out += [ln for ln in res.stdout.splitlines() if ln.strip()]
    return out


def _text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)


def _audit(app, action: str) -> list[dict]:
    import json

    from congress_vote.audit.models import AuditEvent

    with app.app_context():
        rows = db.session.scalars(db.select(AuditEvent).where(AuditEvent.action == action))
        return [{"actor": e.actor_id, **json.loads(e.data or "{}")} for e in rows]


def test_a_slips_batch_is_made_in_the_background_for_its_committee_only(
    hall, api, app, staff, tmp_path
):
    from congress_vote.ballots.batch_pdfs import unseal
    from congress_vote.ballots.models import BallotToken, BatchPdf
    from congress_vote.codes import code_hash
    from congress_vote.jobs.models import DocumentJob

    cid = hall.congress(voters=12)
    pid = hall.poll(cid)["id"]
    hall.open(pid)
    # refused at once as the direct route refuses: outsiders, a count over the room left
    r = api("counter3").post(f"/api/v1/polls/{pid}/documents", json={"kind": "slips", "count": 9})
    assert r.status_code == 403 and r.json["error"]["code"] == "not_on_committee"
    r = api("counter1").post(f"/api/v1/polls/{pid}/documents", json={"kind": "slips", "count": 13})
    assert r.status_code == 409 and r.json["error"]["code"] == "too_many_ballots"
    r = api("chair").post(f"/api/v1/polls/{pid}/documents", json={"kind": "slips", "count": 9})
    assert r.status_code == 403

    r = api("counter1").post(f"/api/v1/polls/{pid}/documents", json={"kind": "slips", "count": 9})
    assert r.status_code == 202, r.json
    job = _wait_done(api, "counter1", r.json["id"])
    assert (job["state"], job["done"], job["total"], job["kind"]) == ("done", 9, 9, "slips")
    with app.app_context():
        row = db.session.get(DocumentJob, job["id"])
        assert row.sealed is None  # no second copy: the file is the batch's own sealed PDF
        (batch,) = db.session.scalars(db.select(BatchPdf).where(BatchPdf.poll_id == pid))
        kept = unseal(pid, batch.batch_id, batch.sealed)
        hashes = set(
            db.session.scalars(
                db.select(BallotToken.token_hash).where(
                    BallotToken.batch_id == batch.batch_id, BallotToken.state == "unused"
                )
            )
        )
    assert job["filename"] == f"slips-poll-{pid}-{batch.batch_id}.pdf"

    # the file: the batch's PDF, what the direct download gives; its QR codes are its ballots
    r = api("counter2").get(f"/api/v1/documents/{job['id']}/file")
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    assert r.data == kept
    assert r.data == api("counter1").get(f"/api/v1/polls/{pid}/batches/{batch.batch_id}.pdf").data
    urls = _qr_texts(r.data, tmp_path)
    assert len(urls) == 9 and all("/b/" in u for u in urls)
    assert {code_hash(u.rsplit("/b/", 1)[1]) for u in urls} == hashes
    assert all(u.rsplit("/b/", 1)[1].encode() not in batch.sealed for u in urls)

    # audited as the direct path is: issued (by the counter who started it), downloaded
    issued = [e for e in _audit(app, "ballots.issued") if e["batch_id"] == batch.batch_id]
    assert [(e["actor"], e["count"]) for e in issued] == [(staff["counter1"], 9)]
    assert any(
        e["batch_id"] == batch.batch_id and e["actor"] == staff["counter2"]
        for e in _audit(app, "ballots.pdf_downloaded")
    )
    assert any(e.get("poll_id") == pid for e in _audit(app, "documents.job_started"))

    # nobody else reads its progress or file: another counter, the chair, an admin
    for user in ("counter3", "chair", "admin"):
        assert api(user).get(f"/api/v1/documents/{job['id']}").status_code == 403
        assert api(user).get(f"/api/v1/documents/{job['id']}/file").status_code == 403
    assert api("registrar").get(f"/api/v1/documents/{job['id']}/file").status_code == 403

    # the close deletes the batch's PDF: the job's file goes with it
    hall.close(pid)
    r = api("counter1").get(f"/api/v1/documents/{job['id']}/file")
    assert r.status_code == 409 and r.json["error"]["code"] == "poll_not_open"


def test_a_paper_batch_job_and_a_refusal_when_issued(hall, api, app, tmp_path):
    cid = hall.congress(voters=6)
    pid = hall.poll(cid)["id"]
    hall.open(pid)
    r = api("counter1").post(
        f"/api/v1/polls/{pid}/documents", json={"kind": "paper", "count": 2, "size": "A5"}
    )
    assert r.status_code == 202, r.json
    job = _wait_done(api, "counter1", r.json["id"])
    assert job["state"] == "done" and job["filename"].startswith(f"phieu-bau-{pid}-")
    pdf = api("counter1").get(f"/api/v1/documents/{job['id']}/file").data
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 2
    assert len(_qr_texts(pdf, tmp_path)) == 2

    # checked again when issued: the poll closed between the start and the job → nothing issued
    from congress_vote.ballots.services import turnout
    from congress_vote.jobs import runner
    from congress_vote.jobs.models import DocumentJob
    from congress_vote.polls.models import Poll

    with app.app_context():
        poll = db.session.get(Poll, pid)
        from congress_vote.auth.models import User
        from congress_vote.congress.models import Congress

        counter = db.session.scalar(db.select(User).where(User.username == "counter1"))
        job_row, new = runner.start_job(
            db.session.get(Congress, cid), "slips", counter, poll=poll, params={"count": 1}
        )
        db.session.commit()
        jid = job_row.id
        db.session.remove()
    hall.close(pid)
    with app.test_request_context():
        runner.launch(db.session.get(DocumentJob, jid))
        db.session.remove()
    job = _wait_done(api, "counter1", jid)
    assert job["state"] == "failed" and job["error"]  # the refusal, in words
    with app.app_context():
        assert turnout(db.session.get(Poll, pid))["issued"] == 2


def test_the_minutes_are_made_in_the_background_for_the_committee_and_the_chair(world, api, app):
    poll = world.election(
        voters=10,
        present=8,
        votes=[[0, 1]] * 5 + [[0, 2]] * 3,
        committee=("counter1", "counter2"),
        head="counter1",
    )
    pid = poll.id
    db.session.rollback()  # the fixture's context holds no transaction (nor SQLite's lock)
    r = api("counter1").post(f"/api/v1/polls/{pid}/documents", json={"kind": "minutes"})
    assert r.status_code == 409 and r.json["error"]["code"] == "not_counted"
    assert api("counter1").post(f"/api/v1/polls/{pid}/count").status_code == 200
    assert (
        api("counter3").post(f"/api/v1/polls/{pid}/documents", json={"kind": "minutes"})
    ).status_code == 403
    r = api("chair").post(f"/api/v1/polls/{pid}/documents", json={"kind": "minutes"})
    assert r.status_code == 202, r.json
    job = _wait_done(api, "chair", r.json["id"])
    assert job["state"] == "done" and job["filename"] == f"bien-ban-kiem-phieu-{pid}.pdf"
    pdf = api("chair").get(f"/api/v1/documents/{job['id']}/file").data
    direct = api("chair").get(f"/api/v1/polls/{pid}/minutes.pdf").data
    assert pdf[:5] == b"%PDF-" and _text(pdf) == _text(direct)
    assert api("counter2").get(f"/api/v1/documents/{job['id']}/file").data[:5] == b"%PDF-"
    for user in ("counter3", "admin", "observer"):
        assert api(user).get(f"/api/v1/documents/{job['id']}/file").status_code == 403
    from congress_vote.jobs.models import DocumentJob

    with app.app_context():
        sealed = db.session.get(DocumentJob, job["id"]).sealed
    assert b"%PDF" not in sealed and len(sealed) == len(pdf) + 28  # sealed at rest
