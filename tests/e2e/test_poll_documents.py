"""Issue 17 item 9 in Chromium at the hall's tablet sizes: a batch of slips is made in the
background. The committee's counter issues 40 slips from the poll page, sees the job's page
(a progress bar, then the download), downloads the PDF and its QR codes decode (zxing-cpp and
zbar) to ballots of the poll; a counter outside the committee cannot open the job's page or
file. Service side: tests/test_poll_documents.py."""

from __future__ import annotations

import pytest

from tests import fx_reports as fx
from tests.conftest import PASSWORD
from tests.e2e.conftest import decode_qr, download, login, pdf_pages_png, shot, zbar_decode

pytestmark = pytest.mark.e2e


def _world(live):
    from congress_vote.auth.models import User
    from congress_vote.auth.services import create_user
    from congress_vote.extensions import db

    with live.app.app_context():
        ids = []
        for name, full in (("job_c1", "Lê Thị Kiểm Phiếu"), ("job_c2", "Phạm Văn Kiểm")):
            user = db.session.query(User).filter_by(username=name).one_or_none()
            ids.append((user or create_user(name, PASSWORD, ["counter"], full_name=full)).id)
        if db.session.query(User).filter_by(username="job_out").one_or_none() is None:
            create_user("job_out", PASSWORD, ["counter"], full_name="Ngoài Tổ")
        c = fx.make_congress(voters=60, excused=0, present=50)
        p = fx.make_poll(
            c, "committee", "Bầu Ban Chấp hành", fx.COMMITTEE, seats=3, committee_ids=ids
        )
        fx.open_poll(p)
        db.session.commit()
        return p.id


def _tokens(live, pid: int) -> set[str]:
    from congress_vote.ballots.models import BallotToken
    from congress_vote.extensions import db

    with live.app.app_context():
        return set(
            db.session.scalars(
                db.select(BallotToken.token_hash).where(
                    BallotToken.poll_id == pid, BallotToken.state == "unused"
                )
            )
        )


@pytest.mark.parametrize("size", ["tablet_1024", "tablet_768"])
def test_slips_are_made_in_the_background_and_downloaded(live, screens, size, tmp_path):
    from congress_vote.codes import code_hash

    pid = _world(live)
    page = screens.open(size)
    login(page, live, "job_c1")
    page.goto(live(f"/polls/{pid}"))
    page.fill("#count", "40")
    page.locator("form.issue-form button").click()
    page.wait_for_url(f"**/polls/{pid}/documents/*")
    from playwright.sync_api import expect

    page.wait_for_load_state()  # its stylesheet in: hidden parts are hidden
    assert page.locator("progress[data-job-progress]").count() == 1
    # "issued, ready to print", in Vietnamese, once the job is done (the page asks every second)
    expect(page.locator("[data-job-status]")).to_contain_text("Đã phát", timeout=60000)
    link = page.locator("[data-job-download]")
    assert link.is_visible() and page.locator("[data-job-retry]").is_hidden()
    assert page.locator("progress[data-job-progress]").get_attribute("value") == "100"
    shot(page, f"issue17-item9-slips-job-{size}")
    job_url = page.url
    pdf = download(page, link, tmp_path / "slips.pdf")
    assert pdf[:5] == b"%PDF-"
    pages = pdf_pages_png(pdf, tmp_path / "png", "slips", dpi=150)
    assert len(pages) == 5  # 8 slips a page
    texts = [t for png in pages for t in decode_qr(png)]
    assert len(texts) == 40 == len(set(texts))
    assert all(t.startswith(live.url + "/b/") for t in texts)
    zbar = zbar_decode(pages[0])
    assert zbar and set(zbar) <= set(texts)
    assert {code_hash(t.rsplit("/b/", 1)[1]) for t in texts} == _tokens(live, pid)
    # the batch is on the poll page too, downloadable again by the committee
    page.goto(live(f"/polls/{pid}"))
    assert page.locator("ul.batches li a").count() == 1

    # a counter outside the poll's committee: neither the page nor the file
    other = screens.open(size)
    login(other, live, "job_out")
    assert other.context.request.get(job_url).status == 403
    assert other.context.request.get(job_url + "/file").status == 403
