"""Issue 17 item 10, in a real Chromium: the audit log page shows who by name, what in
Vietnamese words and the details in words (the poll's title, not a JSON object), and filters by
poll, by user and by action, a page of 50 at a time; at a 1024x768 tablet and a 390x844 phone.
The events are made by the services (closing, counting, publishing, the projector choice)."""

from __future__ import annotations

import pytest

from tests import fx_reports as fx
from tests.conftest import PASSWORD
from tests.e2e.conftest import login, shot

pytestmark = pytest.mark.e2e

NAMES = {
    "chair_audit": ("Trần Văn Chủ Tọa", ["chair"]),
    "counter_audit1": ("Lê Thị Kiểm Phiếu", ["counter"]),
    "counter_audit2": ("Phạm Văn Kiểm Phiếu", ["counter"]),
    "observer_audit": ("Đỗ Thị Giám Sát", ["observer"]),
}


def _world(live):
    from congress_vote.auth.models import User
    from congress_vote.auth.services import create_user
    from congress_vote.congress.models import Congress
    from congress_vote.extensions import db
    from congress_vote.polls.services import close_poll
    from congress_vote.reports.projector import set_choice
    from congress_vote.reports.services import publish_poll

    with live.app.app_context():
        ids = {}
        for username, (full, roles) in NAMES.items():
            user = db.session.query(User).filter_by(username=username).one_or_none()
            ids[username] = (user or create_user(username, PASSWORD, roles, full_name=full)).id
        staff = {"counter1": ids["counter_audit1"], "counter2": ids["counter_audit2"]}
        w = fx.world(staff)
        a, b = w["committee"], w["resolution"]
        chair = db.session.get(User, ids["chair_audit"])
        fx.open_poll(a)
        fx.vote_randomly(a, 15, 20)
        close_poll(a, chair)  # poll.closed by the chair
        fx.count(a)  # poll.counted by the committee's first member
        fx.certify(a, [staff["counter1"], staff["counter2"]])
        publish_poll(a, chair)
        fx.open_poll(b)
        close_poll(b, chair)
        congress = db.session.get(Congress, w["congress"].id)
        for n in range(55):  # enough events for a second page
            set_choice(congress, {"mode": "message", "message": f"Thông báo {n}"}, chair)
        db.session.commit()
        return ids, {"a": a.id, "b": b.id, "a_title": a.title, "b_title": b.title}


def _rows(page):
    return page.eval_on_selector_all(
        ".audit-table tbody tr",
        """els => els.map(tr => ({action: tr.dataset.action,
            label: tr.querySelector('.action').textContent.trim(),
            actor: tr.querySelector('.actor').textContent.trim(),
            details: tr.querySelector('.details').textContent}))""",
    )


def test_audit_page_names_labels_details_and_filters(live, screens):
    ids, polls = _world(live)
    for size in ("tablet_1024", "phone"):
        page = screens.open(size)
        login(page, live, "observer_audit")
        page.goto(live("/audit/"))
        rows = _rows(page)
        assert len(rows) == 50  # a page
        table = page.inner_text(".audit-table")
        assert '{"' not in table and "poll_id" not in table  # no raw JSON
        assert "projector.chosen" not in table and "Đổi nội dung màn hình trình chiếu" in table
        chosen = [r for r in rows if r["action"] == "projector.chosen"]
        assert len(chosen) >= 45 and all(r["actor"] == "Trần Văn Chủ Tọa" for r in chosen)
        assert "Thông báo 54" in chosen[0]["details"]  # the details in words
        shot(page, f"audit-page-{size}")
        # the second page, older events
        page.click("a[rel=next]")
        page.wait_for_selector("a[rel=prev]")
        assert "page=2" in page.url

        # by action: the polls closed, in words, with the poll's title in the details
        page.select_option("select[name=action]", "poll.closed")
        page.click("#audit-filters button.primary")
        page.wait_for_load_state()
        assert "action=poll.closed" in page.url and "page=2" not in page.url
        rows = _rows(page)
        assert {r["action"] for r in rows} == {"poll.closed"} and len(rows) == 2
        assert {r["label"] for r in rows} == {"Kết thúc bỏ phiếu"}
        assert any(polls["a_title"] in r["details"] for r in rows)
        assert any(polls["b_title"] in r["details"] for r in rows)

        # by poll: every event of poll A and only those
        page.goto(live(f"/audit/?poll={polls['a']}"))
        rows = _rows(page)
        assert {r["action"] for r in rows} == {"poll.closed", "poll.counted", "poll.published"}
        assert all(polls["a_title"] in r["details"] for r in rows)
        assert page.locator("select[name=poll] option:checked").inner_text() == polls["a_title"]
        shot(page, f"audit-page-by-poll-{size}")

        # by user: the counting committee's member, by name
        page.goto(live("/audit/"))
        page.select_option("select[name=user]", str(ids["counter_audit1"]))
        page.click("#audit-filters button.primary")
        page.wait_for_load_state()
        rows = _rows(page)
        assert rows and all(r["actor"] == "Lê Thị Kiểm Phiếu" for r in rows)
        assert {r["action"] for r in rows} == {"poll.counted"}

        # nothing matches: a sentence, not an empty table
        page.goto(live(f"/audit/?poll={polls['b']}&user={ids['counter_audit2']}"))
        assert page.locator("#audit-empty").is_visible()
