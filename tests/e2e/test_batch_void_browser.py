"""Issue 17 item 2, in a real Chromium at 1024x768 and 768x1024: one mis-click no longer costs a
poll. The committee's counter issues slips, downloads the batch's PDF a second time from the poll
page, then voids the batch (a confirmation box must be ticked first) and can issue again; the
voided batch is listed and its PDF is gone."""

from __future__ import annotations

import pytest

from tests import fx_reports as fx
from tests.conftest import PASSWORD
from tests.e2e.conftest import login, shot

pytestmark = pytest.mark.e2e


def _world(live):
    from congress_vote.auth.models import User
    from congress_vote.auth.services import create_user
    from congress_vote.extensions import db

    with live.app.app_context():
        ids = []
        for name, full in (("void_c1", "Lê Thị Kiểm Phiếu"), ("void_c2", "Phạm Văn Kiểm")):
            user = db.session.query(User).filter_by(username=name).one_or_none()
            ids.append((user or create_user(name, PASSWORD, ["counter"], full_name=full)).id)
        c = fx.make_congress(voters=12, excused=0, present=10)
        p = fx.make_poll(
            c, "committee", "Bầu Ban Chấp hành", fx.COMMITTEE, seats=3, committee_ids=ids
        )
        fx.open_poll(p)
        db.session.commit()
        return p.id


@pytest.mark.parametrize("size", ["tablet_1024", "tablet_768"])
def test_redownload_then_void_a_batch_and_issue_again(live, screens, size):
    pid = _world(live)
    page = screens.open(size)
    login(page, live, "void_c1")
    page.goto(live(f"/polls/{pid}"))
    page.fill("#count", "4")
    page.locator("form.issue-form button").click()
    page.wait_for_load_state()  # the job's page (made in the background), then its download
    page.locator("[data-job-download]:not(.hidden)").wait_for(state="visible", timeout=60000)
    page.goto(live(f"/polls/{pid}"))
    link = page.locator("ul.batches li a").first
    href = link.get_attribute("href")
    # the PDF again, twice: a lost download no longer costs the poll
    for _ in range(2):
        resp = page.context.request.get(live(href))
        assert resp.status == 200 and resp.body()[:5] == b"%PDF-"
    page.locator("ul.batches").first.scroll_into_view_if_needed()
    shot(page, f"issue17-item2-batches-{size}")
    # voiding asks first: without the box ticked the browser does not send the form
    button = page.locator("form.void-batch button").first
    button.click()
    assert page.locator("ul.batches.voided").count() == 0
    page.locator("form.void-batch input[name=confirm]").first.check()
    button.click()
    page.wait_for_load_state()
    text = page.inner_text("main")
    assert "Đã hủy lô" in text and "Các lô phiếu đã hủy" in text
    assert "4 phiếu chưa dùng" in page.inner_text("ul.batches.voided")
    page.locator("ul.batches.voided").scroll_into_view_if_needed()
    shot(page, f"issue17-item2-voided-{size}")
    assert page.context.request.get(live(href)).status == 404
    # as many may be issued again
    assert page.locator("#count").input_value() == "10"
