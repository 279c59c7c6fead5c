"""The kiosk's ballot pages in Chromium at the sizes of the hall's tablets and a phone (issue 17
items 4-6, issue 18 part 1): a cast survives the network dropping (Playwright's offline mode and
an answer lost on the way back) without being lost or cast twice; no kiosk page is a dead end;
an idle ballot clears itself after a warning while the receipt stays until "Xong"; an 11-name,
9-seat ballot opens neutral with visible focus and readable contrast; a 200-name ballot has a
name filter, a letter index and a review with the struck names first and "Bỏ phiếu" always on
screen; an all-struck ballot is cast only after a discreet second confirmation.

One congress for the module, built through the services and the API (tests/fx_polls.Hall on the
live server's app); the browser does only what the delegate does.
"""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import VIEWPORTS, shot

pytestmark = pytest.mark.e2e

SIZES = ["tablet_1024", "tablet_768", "phone"]
ELEVEN = [
    "Nguyễn Văn An",
    "Trần Thị Bình",
    "Lê Văn Cường",
    "Phạm Thị Dung",
    "Đặng Quốc Đạt",
    "Hoàng Minh Giang",
    "Vũ Thị Hạnh",
    "Bùi Văn Hùng",
    "Đỗ Thị Lan",
    "Ngô Quang Minh",
    "Dương Thị Yến",
]
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Vũ", "Đặng", "Bùi", "Đỗ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Minh", "Quốc", "Hữu", "Thu", "Đức", "Ngọc", "Thanh", "Xuân"]
GIVEN = [
    "An", "Ánh", "Bình", "Cường", "Dung", "Dũng", "Đạt", "Đức", "Giang", "Hà", "Hạnh", "Hùng",
    "Khánh", "Lan", "Long", "Minh", "Nam", "Ơn", "Phúc", "Quang", "Sơn", "Tâm", "Uyên", "Ước",
    "Vinh", "Xuân", "Yến",
]  # fmt: skip


def two_hundred() -> list[str]:
    names = []
    for i in range(200):
        names.append(f"{FAMILY[i % 10]} {MIDDLE[(i // 10) % 10]} {GIVEN[i % len(GIVEN)]}")
    assert len(set(names)) == 200
    return names


class World:
    """The module's congress: a kiosk, and open polls with slips issued."""

    def __init__(self, live):
        from congress_vote.extensions import db
        from tests.conftest import Auth, api_as, make_staff
        from tests.fx_polls import Hall

        self.live = live
        staff = make_staff(live.app)
        client = live.app.test_client()
        self.hall = Hall(live.app, api_as(client, Auth(live.app, client)), staff, client)
        self.cid = self.hall.congress(voters=60)
        self.kiosk = self.hall.kiosk_tokens[self.cid]
        self.db = db
        # 11 names for 9 seats: the neutral opening, the network drop and the idle screens
        self.p11 = self._poll("Bầu Ban Chấp hành", ELEVEN, 9, 30)
        # 200 names for 195 seats: the long list
        self.names200 = two_hundred()
        self.p200 = self._poll("Bầu đại biểu đi dự Đại hội cấp trên", self.names200, 195, 4)
        # every name struck (issue 18): a poll of its own, counted at the end
        self.pall = self._poll("Bầu Bí thư", ELEVEN[:4], 2, 2)
        # a poll closed while its slips are still out
        self.pclosed = self._poll("Bầu Ủy ban Kiểm tra", ELEVEN[:3], 2, 2)
        self.hall.close(self.pclosed[0])

    def _poll(self, title: str, names: list[str], seats: int, n: int) -> tuple[int, list[str]]:
        poll = self.hall.poll(
            self.cid, title=title, seats=seats, candidates=[{"full_name": x} for x in names]
        )
        self.hall.open(poll["id"])
        return poll["id"], list(self.hall.issue(poll["id"], n)["tokens"])

    def cast_count(self, pid: int) -> int:
        """Ballots cast in the poll (its used slips: one ballot each, by construction)."""
        from congress_vote.ballots.services import turnout
        from congress_vote.polls.models import Poll

        with self.live.app.app_context():
            return turnout(self.db.session.get(Poll, pid))["cast"]

    def stored_ballots(self, pid: int) -> int:
        """Ballots stored for the poll, sealed or not (a second cast would be a second row)."""
        from sqlalchemy import func, select

        from congress_vote.ballots.models import Ballot
        from congress_vote.seal.models import SealedBallot

        n = 0
        with self.live.app.app_context():
            n += self.db.session.scalar(
                select(func.count()).select_from(Ballot).where(Ballot.poll_id == pid)
            )
            n += self.db.session.scalar(
                select(func.count()).select_from(SealedBallot).where(SealedBallot.poll_id == pid)
            )
        return n


@pytest.fixture(scope="module")
def world(live):
    return World(live)


@pytest.fixture
def kiosk(screens, world):
    """kiosk(size) → a page on an enrolled kiosk of the congress (its cookie set)."""

    def open_(size: str = "tablet_1024", kiosk_cookie: bool = True):
        page = screens.open(size)
        if kiosk_cookie:
            page.context.add_cookies(
                [
                    {
                        "name": "cv_kiosk",
                        "value": world.kiosk,
                        "url": world.live.url,
                        "httpOnly": True,
                        "sameSite": "Strict",
                    }
                ]
            )
        return page

    return open_


def plain(text: str) -> str:
    """`text` as typed without tone marks or letter marks ("Đức" → "duc")."""
    import unicodedata

    bare = unicodedata.normalize("NFD", text.lower().replace("đ", "d"))
    return "".join(ch for ch in bare if not unicodedata.combining(ch))


def open_slip(page, world, token: str, k: bool = True):
    page.goto(world.live(f"/b/{token}" + (f"?k={world.cid}" if k else "")))


def row(page, name: str):
    return page.locator("label.strike-row").filter(
        has=page.locator(".name b").get_by_text(name, exact=True)
    )


def strike(page, *names: str):
    for name in names:
        # in the middle of the screen, clear of the fixed bar (Playwright scrolls to the edge)
        row(page, name).evaluate("e => e.scrollIntoView({block: 'center'})")
        row(page, name).click()
        assert "struck" in (row(page, name).get_attribute("class") or "")


def expect():
    from playwright.sync_api import expect as _expect

    return _expect


# ---- item 5: the ballot opens neutral; focus visible; contrast ----------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_ballot_opens_neutral_and_warns_only_after_a_change_or_an_attempt(kiosk, world, size):
    pid, tokens = world.p11
    page = kiosk(size)
    open_slip(page, world, tokens[SIZES.index(size)])
    over = page.locator("[data-overvote]")
    review = page.locator("[data-review]")
    assert page.locator("[data-instructions]").inner_text().strip() == (
        "Gạch tên những người không bầu; giữ lại tối đa 9"
    )
    assert not over.is_visible(), "the ballot opens with an over-vote warning"
    assert review.is_enabled(), "the ballot opens with its button disabled"
    assert "over" not in (page.locator("[data-tally]").get_attribute("class") or "")
    shot(page, f"kiosk-ballot-neutral-{size}")
    # an attempt to review 11 names for 9 seats warns, and stays on the ballot
    review.click()
    expect()(over).to_be_visible()
    assert page.locator("form[data-confirm]").count() == 0
    # striking one name leaves one too many: still warned, with how many more to strike
    strike(page, ELEVEN[0])
    expect()(over).to_be_visible()
    assert "1" in page.locator("[data-more]").inner_text()
    strike(page, ELEVEN[1])
    expect()(over).to_be_hidden()
    shot(page, f"kiosk-ballot-nine-kept-{size}")


FOCUS_SEEN = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const ring = (e) => {
    const cs = getComputedStyle(e);
    const shown = parseFloat(cs.opacity) > 0 && cs.visibility !== "hidden";
    return shown && cs.outlineStyle !== "none" && parseFloat(cs.outlineWidth) >= 2;
  };
  const label = el.closest("label, .answer");
  return {what: el.outerHTML.slice(0, 80), ok: ring(el) || (!!label && ring(label))};
}"""

# The contrast of every piece of text on the page against what is behind it (tests/e2e/contrast.js).
CONTRAST = (Path(__file__).with_name("contrast.js")).read_text(encoding="utf-8")


def test_focus_is_visible_and_text_contrast_is_enough(kiosk, world):
    pid, tokens = world.p11
    page = kiosk("tablet_1024")
    open_slip(page, world, tokens[3])
    seen, missing = 0, []
    for _ in range(len(ELEVEN) + 6):
        page.keyboard.press("Tab")
        f = page.evaluate(FOCUS_SEEN)
        if f is None:
            continue
        seen += 1
        if not f["ok"]:
            missing.append(f["what"])
    assert seen >= len(ELEVEN), seen
    assert missing == [], f"focus not visible on: {missing}"
    low = page.evaluate(CONTRAST)
    assert low == [], f"text below 4.5:1 on the ballot: {low}"
    strike(page, ELEVEN[0], ELEVEN[1], ELEVEN[2])  # struck rows are greyed: still readable
    page.locator("[data-review]").click()
    page.locator("form[data-confirm]").wait_for()
    assert page.evaluate(CONTRAST) == [], "review"
    page.locator("[data-cast]").focus()
    page.keyboard.press("Shift+Tab")  # keyboard focus on "Sửa lại", then back on "Bỏ phiếu"
    assert page.evaluate(FOCUS_SEEN)["ok"], "review: focus not visible"
    page.keyboard.press("Tab")
    assert page.evaluate(FOCUS_SEEN)["ok"], "review: focus not visible"
    page.keyboard.press("Enter")
    page.locator(".receipt-code").wait_for()
    assert page.evaluate(CONTRAST) == [], "receipt"
    page.goto(world.live(f"/kiosk/{world.cid}"))
    assert page.evaluate(CONTRAST) == [], "kiosk start"
    shot(page, "kiosk-start-1024")


# ---- item 4: the network drops; Back; dead ends; idle -----------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_offline_cast_is_kept_retried_and_ends_on_the_receipt(kiosk, world, size):
    pid, tokens = world.p11
    token = tokens[4 + SIZES.index(size)]
    page = kiosk(size)
    open_slip(page, world, token)
    strike(page, ELEVEN[2], ELEVEN[5])
    page.locator("[data-review]").click()
    page.locator("form[data-confirm]").wait_for()
    before = world.cast_count(pid)
    page.context.set_offline(True)
    page.locator("[data-cast]").click()
    net = page.locator("[data-net]")
    expect()(net).to_contain_text("Mất kết nối")
    assert urlsplit(page.url).path.startswith("/b/"), page.url  # not the browser's error page
    assert page.locator("form[data-confirm]").count() == 1
    shot(page, f"kiosk-offline-{size}")
    assert world.cast_count(pid) == before  # nothing reached the server
    page.context.set_offline(False)  # the page notices ('online') and sends again
    code = page.locator(".receipt-code")
    expect()(code).to_be_visible()
    assert code.inner_text().strip()
    assert world.cast_count(pid) == before + 1
    assert code.evaluate(ONE_LINE), "the receipt code breaks over two lines"
    shot(page, f"kiosk-receipt-after-offline-{size}")


def test_a_cast_whose_answer_was_lost_is_recognised_on_retry(kiosk, world):
    pid, tokens = world.p11
    page = kiosk("tablet_768")
    open_slip(page, world, tokens[7])
    strike(page, ELEVEN[0], ELEVEN[10])
    page.locator("[data-review]").click()
    page.locator("form[data-confirm]").wait_for()
    before, stored = world.cast_count(pid), world.stored_ballots(pid)
    lost: list[str] = []

    def drop_the_answer(route):
        req = route.request
        if req.method == "POST" and "step=cast" in (req.post_data or "") and not lost:
            resp = route.fetch()  # the server casts the ballot...
            lost.append(resp.text())
            route.abort("connectionreset")  # ...and its answer never reaches the tablet
        else:
            route.continue_()

    page.route(re.compile(r".*/b/.*"), drop_the_answer)
    page.locator("[data-cast]").click()
    code = page.locator(".receipt-code")
    expect()(code).to_be_visible()
    assert lost, "the first cast went through the route"
    first = re.search(r'class="receipt-code">([^<]+)<', lost[0]).group(1).strip()
    assert code.inner_text().strip() == first  # the same receipt, not a second ballot
    assert page.locator("[data-received-before]").is_visible()
    assert world.cast_count(pid) == before + 1
    assert world.stored_ballots(pid) == stored + 1
    shot(page, "kiosk-receipt-answer-lost-768")


def test_back_from_the_review_keeps_the_strikes(kiosk, world):
    pid, tokens = world.p11
    page = kiosk("tablet_1024")
    open_slip(page, world, tokens[8])
    strike(page, ELEVEN[3], ELEVEN[4])
    page.locator("[data-review]").click()
    page.locator("form[data-confirm]").wait_for()
    page.go_back()
    expect()(row(page, ELEVEN[3])).to_have_class(re.compile(r"\bstruck\b"))
    expect()(row(page, ELEVEN[4])).to_have_class(re.compile(r"\bstruck\b"))
    expect()(page.locator("[data-kept]")).to_have_text("9")
    assert "struck" not in (row(page, ELEVEN[0]).get_attribute("class") or "")


def test_the_next_voters_ballot_takes_its_css_and_script_from_the_tablets_cache(browser, world):
    """The ballot page's CSS and script are versioned links (templating.static_url) the tablet
    may keep: the next voter's ballot page (a full page load: the review and the receipt are
    swapped in by the page's script) takes them from the tablet's cache, with nothing fetched
    from the server (transfer size 0). (A context of its own: the `screens` contexts route
    every request to refuse other hosts, and Playwright turns a routed context's cache off.)"""
    from tests.e2e.conftest import VIEWPORTS

    _pid, tokens = world.p11
    ctx = browser.new_context(viewport=VIEWPORTS["tablet_1024"], locale="vi-VN")
    try:
        ctx.add_cookies(
            [{"name": "cv_kiosk", "value": world.kiosk, "url": world.live.url, "httpOnly": True}]
        )
        page = ctx.new_page()
        open_slip(page, world, tokens[20])  # the first voter's ballot: fetched
        row(page, ELEVEN[0]).wait_for()
        open_slip(page, world, tokens[21])  # the next voter's
        row(page, ELEVEN[0]).wait_for()
        assets = page.evaluate(
            """() => performance.getEntriesByType('resource')
                .filter(e => /\\/static\\/(css|js)\\/.*\\?v=/.test(e.name))
                .map(e => [e.name, e.transferSize])"""
        )
    finally:
        ctx.close()
    names = {name.split("/static/")[1].split("?")[0] for name, _size in assets}
    assert {"css/app.css", "css/ballot.css", "js/ballot-vote.js"} <= names, assets
    assert all(size == 0 for _name, size in assets), assets


# Whether an element's text sits on one line, inside the screen.
ONE_LINE = """e => {
  const r = document.createRange(); r.selectNodeContents(e);
  const rects = [...r.getClientRects()];
  return new Set(rects.map(x => Math.round(x.top))).size === 1
    && rects.every(x => x.left >= 0 && x.right <= window.innerWidth);
}"""


def _start_link(page, world) -> str:
    link = page.locator("[data-start-link]")
    expect()(link).to_be_visible()
    return urlsplit(link.get_attribute("href")).path


def test_no_kiosk_page_is_a_dead_end(kiosk, world):
    start = f"/kiosk/{world.cid}"
    page = kiosk("tablet_1024")
    # a slip of a closed poll, scanned at the kiosk and opened by its QR link
    _pid, closed = world.pclosed
    open_slip(page, world, closed[0])
    assert _start_link(page, world) == start
    open_slip(page, world, closed[0], k=False)
    assert _start_link(page, world) == start
    shot(page, "kiosk-closed-poll-1024")
    # a used slip opened by its QR link (no ?k=): cast through the API first
    pid, tokens = world.pall
    r = world.hall.client.post(f"/api/v1/ballot/{tokens[1]}", json={"kept": []})
    if r.status_code == 422:  # the rules refuse an all-struck ballot without confirmation
        r = world.hall.client.post(
            f"/api/v1/ballot/{tokens[1]}", json={"kept": [], "confirm_invalid": True}
        )
    assert r.status_code == 201, r.get_data(as_text=True)
    open_slip(page, world, tokens[1], k=False)
    assert _start_link(page, world) == start
    # an unknown code, and a page that does not exist under the kiosk
    open_slip(page, world, "2222-2222-2222-2222-2")
    assert _start_link(page, world) == start
    page.goto(world.live(f"/kiosk/{world.cid}/vote/999999"))
    assert _start_link(page, world) == start
    # a slip opened on a device that is not a kiosk: where to vote, and the kiosk's start page
    phone = kiosk("phone", kiosk_cookie=False)
    open_slip(phone, world, world.p11[1][9], k=False)
    assert "máy bỏ phiếu" in phone.locator("main").inner_text().lower()
    assert _start_link(phone, world) == start
    shot(phone, "kiosk-not-a-kiosk-phone")


def test_an_idle_ballot_clears_itself_after_a_warning(kiosk, world):
    pid, tokens = world.p11
    page = kiosk("tablet_768")
    page.clock.install()
    open_slip(page, world, tokens[10])
    strike(page, ELEVEN[6])
    warning = page.locator("[data-idle]")
    assert not warning.is_visible()
    page.clock.run_for("01:50")
    assert not warning.is_visible()
    strike(page, ELEVEN[7])  # a touch: the count starts again
    page.clock.run_for("01:50")
    assert not warning.is_visible()
    page.clock.run_for("00:11")
    expect()(warning).to_be_visible()
    shot(page, "kiosk-idle-warning-768")
    page.clock.run_for("00:31")
    page.wait_for_url(re.compile(rf"/kiosk/{world.cid}$"))
    kept = page.evaluate(
        "() => Object.keys(sessionStorage).filter(k => k.startsWith('cv-ballot:')).length"
    )
    assert kept == 0
    open_slip(page, world, tokens[10])  # the next voter sees a clean ballot
    expect()(page.locator("[data-kept]")).to_have_text("11")


def test_the_receipt_stays_until_done(kiosk, world):
    pid, tokens = world.p11
    page = kiosk("tablet_1024")
    page.clock.install()
    open_slip(page, world, tokens[11])
    strike(page, ELEVEN[8], ELEVEN[9])
    page.locator("[data-review]").click()
    page.locator("[data-cast]").click()
    page.locator(".receipt-code").wait_for()
    page.clock.run_for("01:30")
    assert page.locator(".receipt-code").is_visible(), "the receipt went away by itself"
    done = page.get_by_role("link", name="Xong")
    expect()(done).to_be_visible()
    shot(page, "kiosk-receipt-1024")
    done.click()
    page.wait_for_url(re.compile(rf"/kiosk/{world.cid}$"))


# ---- item 6: 200 names ------------------------------------------------------------------------


@pytest.mark.parametrize("size", SIZES)
def test_a_200_name_ballot_has_a_filter_a_letter_index_and_a_short_review(kiosk, world, size):
    from congress_vote.i18n.collation import initials_in_order, sort_names

    pid, tokens = world.p200
    page = kiosk(size)
    open_slip(page, world, tokens[SIZES.index(size)])
    box = page.locator("[data-filter]")
    expect()(box).to_be_visible()
    letters = page.locator(".letter-index .letter").all_inner_texts()
    assert letters == initials_in_order(world.names200)
    shot(page, f"kiosk-200-top-{size}")
    # jump to the last letter: its first name is on screen, below the sticky tools
    page.locator(".letter-index .letter", has_text=letters[-1]).click()
    first_of_last = page.locator(f"#letter-{letters[-1]}")
    top = first_of_last.bounding_box()["y"]
    tools = page.locator("[data-list-tools]").bounding_box()
    assert tools["y"] + tools["height"] - 2 <= top < VIEWPORTS[size]["height"], (tools, top)
    shot(page, f"kiosk-200-letter-{size}")
    # find five names by typing part of them (without the tone marks) and strike each
    order = sort_names(world.names200)
    chosen = [order[3], order[50], order[101], order[150], order[198]]
    for name in chosen:
        box.fill(plain(name.split()[-1]) + " " + plain(name.split()[0])[:2])
        visible = page.locator("[data-names] > li:visible")
        assert 1 <= visible.count() < 20, (name, visible.count())
        row(page, name).click()
    shot(page, f"kiosk-200-filtered-{size}")
    box.fill("")
    expect()(page.locator("[data-kept]")).to_have_text("195")
    page.locator("[data-review]").click()
    page.locator("form[data-confirm]").wait_for()
    struck_first = page.locator("[data-summary-struck] .name").all_inner_texts()
    assert sorted(struck_first) == sorted(chosen)
    first_list = page.locator("ol.summary").first
    assert first_list.get_attribute("data-summary-struck") is not None
    cast = page.locator("[data-cast]")
    height = VIEWPORTS[size]["height"]
    for where in ("top", "middle", "bottom"):
        if where != "top":  # scrolled at once (a key or the wheel scrolls smoothly)
            page.evaluate(
                "f => window.scrollTo({top: document.body.scrollHeight * f, behavior: 'instant'})",
                0.5 if where == "middle" else 1,
            )
        b = cast.bounding_box()
        assert b is not None and b["y"] >= 0 and b["y"] + b["height"] <= height, (where, b)
    shot(page, f"kiosk-200-review-{size}")
    cast.click()
    expect()(page.locator(".receipt-code")).to_be_visible()


# ---- issue 18: every name struck -------------------------------------------------------------


def test_an_all_struck_ballot_needs_a_second_confirmation_and_counts_invalid(kiosk, world):
    pid, tokens = world.pall
    page = kiosk("tablet_1024")
    open_slip(page, world, tokens[0])
    strike(page, *ELEVEN[:4])
    expect()(page.locator("[data-kept]")).to_have_text("0")
    assert not page.locator("[data-overvote]").is_visible()
    page.locator("[data-review]").click()
    page.locator("form[data-confirm]").wait_for()
    note = page.locator("[data-invalid-note]")
    expect()(note).to_contain_text("không hợp lệ")
    shot(page, "kiosk-all-struck-review-1024")
    before = world.cast_count(pid)
    page.locator("[data-cast]").click()
    again = page.get_by_role("button", name="Vẫn bỏ phiếu")
    expect()(again).to_be_visible()
    assert world.cast_count(pid) == before, "cast without the second confirmation"
    shot(page, "kiosk-all-struck-confirm-1024")
    again.click()
    expect()(page.locator(".receipt-code")).to_be_visible()
    assert world.cast_count(pid) == before + 1
    # counted: both all-struck ballots of this poll (this one and the API's) are invalid
    world.hall.close(pid)
    result = world.hall.count(pid)
    figures = result.get("figures", result)
    assert figures["invalid_by_reason"] == {"all_struck": before + 1}, figures


@pytest.mark.parametrize("size", ["tablet_1024", "tablet_768"])
def test_a_named_cast_whose_answer_was_lost_offline_ends_on_its_receipt(kiosk, world, size):
    """A named vote (open poll, the delegate's card unlocks the ballot): the cast reaches the
    server, the tablet goes offline before the answer arrives, then back online; the page sends
    the cast again and shows the same receipt ("received once"), recorded once."""
    import urllib.request

    from congress_vote import codes
    from congress_vote.ballots.models import NamedVote

    hall, names = world.hall, ELEVEN[:4]
    pid = hall.poll(
        world.cid,
        title=f"Biểu quyết công khai ({size})",
        seats=2,
        secrecy="open",
        candidates=[{"full_name": x} for x in names],
    )["id"]
    hall.open(pid)
    did = sorted(hall.cards)[-1 - SIZES.index(size)]  # a present member no other test uses

    def votes():
        with world.live.app.app_context():
            rows = world.db.session.scalars(
                world.db.select(NamedVote).where(NamedVote.poll_id == pid)
            )
            return [(v.delegate_id, v.receipt) for v in rows]

    page = kiosk(size)
    page.goto(world.live(f"/kiosk/{world.cid}"))
    page.locator("#code-input").fill(codes.format_code(hall.cards[did]))
    page.locator("#code-input").press("Enter")
    page.wait_for_url(re.compile(rf".*/kiosk/{world.cid}/vote/{pid}$"))
    strike(page, names[1], names[3])
    page.locator("[data-review]").click()
    page.locator("form[data-confirm]").wait_for()
    lost: list[str] = []

    def cast_then_drop(route):
        req = route.request
        if req.method == "POST" and "step=cast" in (req.post_data or "") and not lost:
            headers = {k: v for k, v in req.all_headers().items() if not k.startswith(":")}
            sent = urllib.request.Request(
                req.url, data=req.post_data_buffer, headers=headers, method="POST"
            )
            with urllib.request.urlopen(sent) as resp:  # the server records the vote...
                lost.append(resp.read().decode())
            page.context.set_offline(True)  # ...and the tablet drops off the network
            route.abort("internetdisconnected")
        else:
            route.continue_()

    page.route(re.compile(rf".*/kiosk/{world.cid}/vote/{pid}$"), cast_then_drop)
    page.locator("[data-cast]").click()
    expect()(page.locator("[data-net]")).to_contain_text("Mất kết nối")
    assert lost, "the first cast went through the route"
    first = re.search(r'class="receipt-code">([^<]+)<', lost[0]).group(1).strip()
    assert votes() == [(did, first)]  # recorded while the tablet heard nothing
    assert page.locator("form[data-confirm]").count() == 1  # still the review, not an error page
    shot(page, f"kiosk-named-offline-{size}")
    page.context.set_offline(False)  # the page sends the cast again
    code = page.locator(".receipt-code")
    expect()(code).to_be_visible()
    assert code.inner_text().strip() == first  # its receipt, not "already voted"
    assert page.locator("[data-received-before]").is_visible()
    assert votes() == [(did, first)]  # once
    shot(page, f"kiosk-named-receipt-after-offline-{size}")
    hall.close(pid)
