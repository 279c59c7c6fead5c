"""The staff pages' top bar at the tablet and phone sizes of issue 17: every navigation link on
one line (a 768-pixel-wide tablet once broke "Các cuộc biểu quyết" into four lines, making a bar
350 pixels tall), nothing wider than the screen; the delegate list's search fields not cut."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD
from tests.e2e.conftest import login, shot

pytestmark = pytest.mark.e2e


def test_topbar_links_stay_on_one_line(live, screens):
    from congress_vote.auth.models import User
    from congress_vote.auth.services import create_user
    from congress_vote.congress.models import Congress
    from congress_vote.extensions import db

    with live.app.app_context():  # a congress's page: the bar offers all its links
        if db.session.query(User).filter_by(username="topbar_admin").one_or_none() is None:
            create_user("topbar_admin", PASSWORD, ["admin"], full_name="Nguyễn Văn Quản Trị")
        c = Congress(
            name="Đại hội Đảng bộ Sở Y tế",
            organisation="Đảng bộ Sở Y tế",
            term="2025–2030",
            venue="Hội trường",
            kind="members",
        )
        db.session.add(c)
        db.session.commit()
        cid = c.id
    for size, tallest in (("tablet_768", 110), ("tablet_1024", 110), ("phone", 230)):
        page = screens.open(size)
        login(page, live, "topbar_admin")
        page.goto(live(f"/congresses/{cid}/delegates"))
        links = page.eval_on_selector_all(
            ".topbar .mainnav a, .topbar .brand, .topbar-right a",
            """els => els.map(a => {
                const r = a.getBoundingClientRect();
                const line = parseFloat(getComputedStyle(a).lineHeight) ||
                             1.3 * parseFloat(getComputedStyle(a).fontSize);
                return {text: a.textContent.trim(), height: r.height, right: r.right,
                        lines: Math.round(a.getClientRects().length), line};
            })""",
        )
        shot(page, f"staff-topbar-{size}")
        assert len(links) >= 7, links  # the brand, the congress's pages, the account
        width = page.viewport_size["width"]
        for link in links:
            assert link["lines"] == 1 and link["height"] < 1.8 * link["line"] + 16, (size, link)
            assert link["right"] <= width, (size, link)
        bar = page.eval_on_selector(".topbar", "el => el.getBoundingClientRect().height")
        assert bar <= tallest, (size, bar)
        # the delegate list's search fields show their whole words (a placeholder or a choice
        # cut to "Tên, mã hoặc" on a phone is text a registrar cannot read)
        cut = page.eval_on_selector_all(
            ".filters input, .filters select",
            """els => els.filter(el => {
                const probe = document.createElement("span");
                probe.style.cssText = "position:absolute;visibility:hidden;white-space:nowrap;" +
                    "font:" + getComputedStyle(el).font;
                probe.textContent = el.tagName === "SELECT"
                    ? el.options[el.selectedIndex].text : el.placeholder;
                document.body.appendChild(probe);
                const need = probe.getBoundingClientRect().width;
                probe.remove();
                return need > el.clientWidth - 24;
            }).map(el => el.name)""",
        )
        assert cut == [], (size, cut)
