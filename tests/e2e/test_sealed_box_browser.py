"""The sealed ballot box's opening in Chromium (issue 16, part 4): a secret poll of a three-member
counting committee (two of three cards open it) is voted and closed; at the counting page, a
tablet-sized screen, the counter enters one opening code (as a USB scanner types it, ending with
Enter), then a second member's; the page collects them and sends them in one POST, and the box
opens. The console shows the seal. (Printing the cards and reading them back from the PDF, and
the members' signatures, are in test_congress_day.py.)
"""

from __future__ import annotations

import pytest

from congress_vote.ballots.services import cast_ballot
from congress_vote.extensions import db
from tests.e2e.conftest import login, shot

pytestmark = pytest.mark.e2e

PASSWORD = "password123"


def test_two_of_three_cards_open_the_box_in_the_counting_page(app, hall, live, screens):
    trio = [hall.staff[c] for c in ("counter1", "counter2", "counter3")]
    cid = hall.congress(voters=4)
    poll = hall.poll(cid, counting_committee=trio)
    pid = poll["id"]
    assert hall.open(pid)["seal"]["threshold"] == 2
    ids = [c["id"] for c in poll["candidates"]]
    with app.app_context():
        for k, t in enumerate(hall.issue(pid, 3)["tokens"]):
            cast_ballot(t, kept=ids[: 1 + k % 2])
            db.session.commit()

    chair = screens.open("tablet_1024")
    login(chair, live, "chair")
    chair.goto(live(f"/congresses/{cid}/console"))
    seal_line = chair.locator(f"#seal-{pid}").inner_text()
    assert "2 trong 3 thẻ khóa" in seal_line and "mã biên nhận: 3" in seal_line, seal_line
    shot(chair, "sealed-box-console-1024")
    hall.close(pid)

    codes = hall.opening_codes(pid)  # counter1, counter2, counter3; counter2's card is lost
    page = screens.open("tablet_768")
    login(page, live, "counter1")
    page.goto(live(f"/polls/{pid}/count"))
    box = page.locator("#open-box")
    assert box.count() == 1
    assert "Số phiếu đã niêm phong trong hòm: 3." in page.inner_text("#seal")
    page.fill("#opening-scan", codes[0])
    page.press("#opening-scan", "Enter")  # a USB scanner ends with Enter: collected, not sent
    assert page.url.endswith(f"/polls/{pid}/count") and box.count() == 1
    assert page.input_value("#opening-code-1") == codes[0]
    assert "1/2" in page.inner_text("#opening-count")
    page.fill("#opening-scan", codes[2])
    page.press("#opening-scan", "Enter")
    assert "2/2" in page.inner_text("#opening-count")
    shot(page, "sealed-box-opening-768", full_page=True)
    box.locator("button.primary").click()
    page.wait_for_load_state()
    assert page.locator("#open-box").count() == 0, page.inner_text("main")[:1500]
    assert "3 mã biên nhận được lưu để công bố" in page.inner_text("#seal")
    shot(page, "sealed-box-opened-768", full_page=True)
    with app.app_context():
        from sqlalchemy import text

        assert db.session.execute(text("SELECT count(*) FROM ballot")).scalar() == 3
        assert db.session.execute(text("SELECT count(*) FROM sealed_ballot")).scalar() == 0
