"""Issue 17 items 3, 7 and 9 in a real Chromium at tablet sizes (1024x768, 768x1024): namesakes
(import, by hand, told apart on the count page), paper double entry for real disputes, and a
long list (the paged, searched delegate list; the desk's search and its live status; the cards
as a background document with a progress bar). Data are built through the services; the browser
does only what the test is about. Screenshots: artifacts/screenshots/hall-*.png."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import login, pdf_text, shot

pytestmark = pytest.mark.e2e

HEADER = "code,full_name,branch,membership,gender,birth_year,position\n"
STAFF = {
    "admin": (["admin"], "Phạm Quốc Quản"),
    "registrar": (["registrar"], "Lê Thị Lễ Tân"),
    "counter1": (["counter"], "Nguyễn Thị Kiểm"),
    "counter2": (["counter"], "Trần Văn Phiếu"),
}


def _staff(live) -> dict[str, int]:
    from congress_vote.auth.models import User
    from congress_vote.auth.services import create_user
    from congress_vote.extensions import db

    with live.app.app_context():
        out = {}
        for name, (roles, full) in STAFF.items():
            u = db.session.query(User).filter_by(username=name).one_or_none()
            out[name] = (u or create_user(name, PASSWORD, roles, full_name=full)).id
        db.session.commit()
        return out


def _congress(live, rows: list[str]) -> int:
    from congress_vote.congress.importing import import_delegates
    from congress_vote.congress.setup import create_congress
    from congress_vote.extensions import db

    with live.app.app_context():
        c = create_congress(
            {"name": "Đại hội Đảng bộ Khối thử", "organisation": "Đảng bộ Khối", "kind": "members"}
        )
        if rows:
            import_delegates(c, (HEADER + "\n".join(rows) + "\n").encode())
        db.session.commit()
        return c.id


def _filler(n: int, start: int = 0) -> list[str]:
    return [f"P{k:03d},Đảng viên Số {k:03d},Chi bộ {k % 7 + 1},full,,," for k in range(start, n)]


HUNG = [
    "H1,Nguyễn Văn Hùng,Chi bộ 1,full,M,1975,Bí thư Chi bộ 1",
    "H2,Nguyễn Văn Hùng,Chi bộ 2,full,M,1982,Trưởng phòng",
    "H3,Trần Thị Nhung,Chi bộ 2,full,F,1990,",
    "H4,Lê Văn Hưng,Chi bộ 3,full,M,1988,",
]


# ---- item 9: a long list ------------------------------------------------------------------------


def test_long_list_paged_searched_live_desk_and_cards_in_the_background(live, screens, tmp_path):
    _staff(live)
    cid = _congress(live, HUNG + _filler(316))  # 320 delegates: the cards go to the background
    admin = screens.open("tablet_1024")
    login(admin, live, "admin")

    admin.goto(live(f"/congresses/{cid}/delegates"))
    assert admin.locator("table.delegates tbody tr").count() == 100
    assert "1/4" in admin.inner_text("[data-page]")
    shot(admin, "hall-9-delegates-page1-1024")
    admin.locator("a[rel=next]").click()
    admin.wait_for_load_state()
    assert admin.locator("table.delegates tbody tr").first.inner_text().startswith("101")
    admin.fill("input[name=q]", "Hùng")
    admin.locator("form.filters button").click()
    admin.wait_for_load_state()
    rows = admin.locator("table.delegates tbody tr")
    text = " ".join(rows.all_inner_texts())
    assert rows.count() == 2 and "H1" in text and "H2" in text and "Nhung" not in text
    assert "Chi bộ 1" in text and "Chi bộ 2" in text
    shot(admin, "hall-9-delegates-search-1024")

    # the desk: accents as typed, and a row checked in from the search turns "present" at once
    desk = screens.open("tablet_768")
    login(desk, live, "registrar")
    desk.goto(live(f"/congresses/{cid}/checkin?q=Hùng"))
    rows = desk.locator(".results tr[data-delegate-id]")
    assert rows.count() == 2
    assert "Nhung" not in desk.inner_text(".results")
    assert "Hưng" not in desk.inner_text(".results")
    desk.evaluate("window.__noReload = true")
    first = rows.first
    assert first.locator("[data-status-badge]").inner_text() == "Vắng mặt"
    first.locator("[data-checkin-row] button").click()
    desk.wait_for_function(
        "() => document.querySelector('.results tr[data-delegate-id] [data-status-badge]')"
        ".textContent === 'Có mặt'"
    )
    assert desk.evaluate("window.__noReload") is True
    assert not first.locator("[data-checkin-row]").is_visible()
    assert rows.nth(1).locator("[data-status-badge]").inner_text() == "Vắng mặt"  # the namesake
    shot(desk, "hall-9-checkin-live-768")
    desk.goto(live(f"/congresses/{cid}/checkin?q=hung"))  # without marks: every Hùng and Hưng
    assert desk.locator(".results tr[data-delegate-id]").count() == 3
    assert "Nhung" not in desk.inner_text(".results")

    # the cards: a background document with a progress bar, then the download
    admin.goto(live(f"/congresses/{cid}/delegates"))
    admin.locator("form[data-cards-job] button").click()
    admin.wait_for_selector("[data-job-progress]")
    assert "/documents/" in admin.url
    admin.wait_for_load_state("load")  # the stylesheet that hides the retry button is in
    job_url = live(admin.get_attribute("[data-job-url]", "data-job-url"))
    assert not admin.locator("[data-job-retry]").is_visible(), (
        admin.inner_text("[data-job-status]"),  # what went wrong, if it did
        admin.context.request.get(job_url).text(),
    )
    shot(admin, "hall-9-cards-progress-1024")
    admin.wait_for_selector("[data-job-download]:not(.hidden)", timeout=120000)
    assert admin.eval_on_selector("[data-job-progress]", "e => e.value") == 100
    shot(admin, "hall-9-cards-done-1024")
    href = admin.get_attribute("[data-job-download]", "href")
    resp = admin.context.request.get(live(href))
    assert resp.status == 200 and resp.headers["cache-control"] == "no-store"
    text = pdf_text(resp.body())
    assert text.count("Nguyễn Văn Hùng") == 2 and "H1" in text and "H2" in text


# ---- item 3: namesakes -----------------------------------------------------------------------


def test_namesakes_import_add_by_hand_and_count_page(live, screens, tmp_path):
    from congress_vote.extensions import db
    from congress_vote.polls.models import Poll
    from tests import fx_reports as fx

    staff = _staff(live)
    cid = _congress(live, [])
    admin = screens.open("tablet_1024")
    login(admin, live, "admin")
    admin.goto(live(f"/congresses/{cid}/import"))
    csv = tmp_path / "dai-bieu.csv"
    csv.write_text(HEADER + "\n".join(HUNG) + "\n", encoding="utf-8")
    admin.set_input_files("input[type=file]", str(csv))
    admin.locator("main form button.primary, main form button[type=submit]").first.click()
    admin.wait_for_load_state()
    flashes = " ".join(admin.locator(".flash").all_inner_texts())
    assert "4" in flashes and "trùng tên" in flashes.lower(), flashes
    shot(admin, "hall-3-import-warning-1024")

    admin.goto(live(f"/congresses/{cid}/delegates/new"))
    admin.fill("input[name=code]", "H5")
    admin.fill("input[name=full_name]", "Nguyễn Văn Hùng")
    admin.fill("input[name=branch]", "Chi bộ 5")
    admin.select_option("select[name=membership]", "full")
    admin.locator("main form button.primary, main form button[type=submit]").first.click()
    admin.wait_for_load_state()
    flashes = " ".join(admin.locator(".flash").all_inner_texts())
    assert "H1 (Chi bộ 1)" in flashes and "H2 (Chi bộ 2)" in flashes, flashes
    assert "/delegates" in admin.url
    shot(admin, "hall-3-added-by-hand-1024")

    # a counted election with two namesakes: the count page tells them apart
    with live.app.app_context():
        c = fx.make_congress()
        p = fx.make_poll(
            c,
            "committee",
            "Bầu Ban Chấp hành",
            ["Nguyễn Văn Hùng", "Nguyễn Văn Hùng", "Lê Thị Mai"],
            seats=2,
            committee_ids=[staff["counter1"], staff["counter2"]],
        )
        p.candidates[0].position, p.candidates[1].position = "Bí thư Chi bộ 1", "Trưởng phòng"
        fx.advance(p, "counted", {"counter1": staff["counter1"], "counter2": staff["counter2"]})
        db.session.commit()
        pid = db.session.get(Poll, p.id).id
    counter = screens.open("tablet_768")
    login(counter, live, "counter1")
    counter.goto(live(f"/polls/{pid}/count"))
    page = counter.inner_text("main")
    assert "Nguyễn Văn Hùng (Bí thư Chi bộ 1)" in page
    assert "Nguyễn Văn Hùng (Trưởng phòng)" in page
    shot(counter, "hall-3-count-namesakes-768", full_page=True)


# ---- item 7: paper double entry ----------------------------------------------------------------


def _paper_poll(live, staff):
    """A closed committee poll with 3 paper ballots issued and the paper return recorded: the
    poll id, its candidates' ids by name, and the printed codes."""
    from congress_vote import codes
    from congress_vote.auth.models import User
    from congress_vote.ballots.models import BallotToken, IssueBatch
    from congress_vote.counting.paper_returns import record_paper_return
    from congress_vote.extensions import db
    from tests import fx_reports as fx

    with live.app.app_context():
        c = fx.make_congress()
        p = fx.make_poll(
            c,
            "committee",
            "Bầu Ban Kiểm tra",
            ["Nguyễn Văn Hùng", "Nguyễn Văn Hùng", "Lê Thị Mai", "Đỗ Minh Tâm"],
            seats=2,
            committee_ids=[staff["counter1"], staff["counter2"]],
        )
        p.candidates[0].position, p.candidates[1].position = "Bí thư Chi bộ 1", "Trưởng phòng"
        fx.open_poll(p)
        batch = IssueBatch(poll_id=p.id, count=3, kind="paper", issued_by=staff["counter1"])
        db.session.add(batch)
        db.session.flush()
        printed = [codes.new_code() for _ in range(3)]
        for code in printed:
            db.session.add(
                BallotToken(
                    token_hash=codes.code_hash(code),
                    poll_id=p.id,
                    batch_id=batch.id,
                    state="unused",
                )
            )
        db.session.flush()
        fx.close(p)
        record_paper_return(p, "0", db.session.get(User, staff["counter1"]))
        ids = [x.id for x in p.candidates]
        db.session.commit()
        return p.id, ids, printed


def test_paper_entry_mirrors_the_paper_disputes_read_plainly_refusals_keep_the_ticks(live, screens):
    from congress_vote.auth.models import User
    from congress_vote.codes import format_code
    from congress_vote.counting.paper_entry import enter_paper_ballot
    from congress_vote.extensions import db
    from congress_vote.polls.models import Poll

    staff = _staff(live)
    pid, ids, printed = _paper_poll(live, staff)
    page = screens.open("tablet_1024")
    login(page, live, "counter1")
    page.goto(live(f"/polls/{pid}/paper"))
    boxes = page.locator("[data-counting-kept]")
    assert boxes.count() == 4
    assert all(boxes.nth(i).is_checked() for i in range(4)), "every name starts kept"
    assert page.input_value("#code-input") == ""
    shot(page, "hall-7-entry-fresh-1024")

    # a refusal (a code of no ballot of this poll) keeps the code and the names struck
    from congress_vote import codes

    wrong = codes.new_code()
    page.fill("#code-input", wrong)
    page.locator(".paper-mirror label").nth(2).click()  # strike the third name
    page.locator("#entry-form button.primary").click()
    page.wait_for_load_state()
    assert page.locator(".flash").count() >= 1
    assert page.input_value("#code-input") == wrong
    states = [boxes.nth(i).is_checked() for i in range(4)]
    assert states == [True, True, False, True], states
    shot(page, "hall-7-refusal-keeps-ticks-1024")

    # the first entry from the browser (strike the 2nd namesake), the second by another counter
    page.fill("#code-input", format_code(printed[0]))
    page.locator(".paper-mirror label").nth(1).click()
    states = [boxes.nth(i).is_checked() for i in range(4)]
    assert states == [True, False, False, True], states
    page.locator("#entry-form button.primary").click()
    page.wait_for_load_state()
    with live.app.app_context():
        poll = db.session.get(Poll, pid)
        enter_paper_ballot(
            poll, printed[0], db.session.get(User, staff["counter2"]), kept=[ids[0], ids[1]]
        )
        db.session.commit()
    page.goto(live(f"/polls/{pid}/paper"))
    dispute = page.locator("[data-dispute]")
    assert dispute.count() == 1
    text = dispute.inner_text()
    assert format_code(printed[0]) in text
    assert "Nguyễn Thị Kiểm" in text and "Trần Văn Phiếu" in text
    assert "Nguyễn Văn Hùng (Trưởng phòng)" in text  # the one name that differs
    assert "Lê Thị Mai" not in text and "Bí thư Chi bộ 1" not in text
    shot(page, "hall-7-dispute-1024")

    tablet = screens.open("tablet_768")
    login(tablet, live, "counter1")
    tablet.goto(live(f"/polls/{pid}/paper"))
    shot(tablet, "hall-7-dispute-768", full_page=True)
    tablet.locator("[data-dispute] a.button").click()
    tablet.wait_for_load_state()
    assert tablet.input_value("#code-input") == printed[0]  # the ballot's code, never "1"
    assert tablet.locator("input[name=settle]").count() == 1
    tablet.locator("#entry-form button.primary").click()  # the committee keeps every name
    tablet.wait_for_load_state()
    assert tablet.locator("[data-dispute]").count() == 0
    shot(tablet, "hall-7-settled-768")
