"""Issue 17 items 1, 6 (the projector's part) and 8, in a real Chromium:

- the projector follows the chair's last action (publishing A while B is open shows A's result,
  which the old "open poll first" rule never did), and the chair chooses from the console — with
  a live preview — a poll, a message, nothing, attendance, or automatic again; the API sets the
  same choice; unpublished figures never appear;
- a published result is a picture: each candidate's bar against the threshold line, elected
  first and highlighted; 200 names are cut into pages of what fits that turn by themselves;
- opening a poll from the console asks first, listing what matters.

Data is built with the services and fixtures (tests/fx_reports.py), not through the browser. The
projector's clock is Playwright's: the 2 seconds between two of its polls are moved on, not
waited for (conftest.polled); the polls and the page's updates are real."""

from __future__ import annotations

import pytest

from tests import fx_reports as fx
from tests.conftest import PASSWORD
from tests.e2e.conftest import login, polled, shot

pytestmark = pytest.mark.e2e


def _staff(live) -> dict:
    from congress_vote.auth.models import User
    from congress_vote.auth.services import create_user
    from congress_vote.extensions import db

    with live.app.app_context():
        out = {}
        for name, roles in (
            ("chair", ["chair"]),
            ("observer", ["observer"]),
            ("counter1", ["counter"]),
            ("counter2", ["counter"]),
        ):
            user = db.session.query(User).filter_by(username=name).one_or_none()
            out[name] = (user or create_user(name, PASSWORD, roles, full_name=name.title())).id
        db.session.commit()
        return out


def _token(page, live, username: str) -> str:
    r = page.request.post(
        live("/api/v1/session"), data={"username": username, "password": PASSWORD}
    )
    assert r.status == 201, r.text()
    return r.json()["token"]


def _result(live, pid):
    from congress_vote.extensions import db
    from congress_vote.polls.models import Poll
    from congress_vote.reports.services import result_dict

    with live.app.app_context():
        return result_dict(db.session.get(Poll, pid))


def test_projector_follows_the_chair_and_the_chair_chooses(live, screens):
    staff = _staff(live)
    from congress_vote.extensions import db
    from congress_vote.polls.models import Poll
    from congress_vote.reports.services import publish_poll

    with live.app.app_context():
        w = fx.world(staff)
        a, b = w["committee"], w["slate"]
        fx.open_poll(b)  # B is open and voting ...
        fx.vote_randomly(b, 9, 20, seed=4)
        fx.advance(a, "certified", staff, n_cast=20, n_issued=21, seed=3)
        db.session.commit()
        cid, pa, pb = w["congress"].id, a.id, b.id
        # ... when the chair publishes A
        publish_poll(db.session.get(Poll, pa), staff["chair"])
        db.session.commit()
    res = _result(live, pa)

    hall = screens.open("projector")
    hall.clock.install()  # its 2-second polls moved on, not waited for (conftest.polled)
    hall.goto(live(f"/congresses/{cid}/screen"))
    hall.wait_for_selector('#screen [data-state="result"]')
    text = hall.inner_text("#screen")
    assert res["candidates"][0]["full_name"] in text  # A's result, not B's turnout
    # every candidate has a bar of its votes out of the denominator and the threshold line
    bars = hall.eval_on_selector_all(
        ".scr-list li",
        """els => els.map(li => ({
            name: li.querySelector('.name').textContent,
            elected: li.classList.contains('elected'),
            fill: parseFloat(li.querySelector('.vbar .fill').getAttribute('width')),
            mark: parseFloat(li.querySelector('.vbar .mark').getAttribute('x1')),
            bg: getComputedStyle(li).backgroundColor}))""",
    )
    by_name = {c["full_name"]: c for c in res["candidates"]}
    assert len(bars) == len(res["candidates"])
    for bar in bars:
        c = by_name[bar["name"]]
        assert bar["fill"] == pytest.approx(100 * c["votes"] / res["denominator"], abs=0.01)
        assert bar["mark"] == 50  # more than half of the denominator
        assert bar["elected"] == bool(c["elected"])
        assert (bar["fill"] > 50) == bool(c["elected"]), bar
    elected = [x for x in bars if x["elected"]]
    assert elected and bars[: len(elected)] == elected  # elected first
    assert {x["bg"] for x in elected} != {x["bg"] for x in bars if not x["elected"]}
    assert "1/2" in hall.inner_text(".scr-legend")
    shot(hall, "hall-projector-result-bars")

    # the chair's console at a 1024x768 tablet: the live preview shows the same screen
    chair = screens.open("tablet_1024")
    login(chair, live, "chair")
    chair.goto(live(f"/congresses/{cid}/console"))
    chair.wait_for_selector('#preview [data-state="result"]')
    assert chair.locator("#preview .scr-list li").count() == len(res["candidates"])
    assert chair.locator("input[name=mode][value=auto]").is_checked()
    chair.locator("#projector").scroll_into_view_if_needed()
    shot(chair, "hall-console-projector-1024")

    # the chair shows B (open): its turnout, never a vote of B
    chair.check("input[name=mode][value=poll]")
    chair.select_option("select[name=poll_id]", str(pb))
    chair.click("#projector button.primary")
    chair.wait_for_selector(".flash-ok")
    polled(hall, '#screen [data-state="voting"]')
    assert hall.inner_text("#screen .scr-big").replace(" ", "").startswith("9/20")
    chair.wait_for_selector('#preview [data-state="voting"]')
    for name in fx.SLATE:
        assert name not in hall.content() and name not in chair.inner_text("#preview")
    shot(hall, "hall-projector-turnout")

    # a message, then nothing
    chair.check("input[name=mode][value=message]")
    chair.fill("input[name=message]", "Giải lao 15 phút — 10 giờ 30 tiếp tục")
    chair.click("#projector button.primary")
    polled(hall, '#screen [data-state="message"]')
    assert "Giải lao 15 phút" in hall.inner_text("#screen")
    chair.wait_for_selector('#preview [data-state="message"]')
    shot(hall, "hall-projector-message")
    shot(chair, "hall-console-preview-message")
    chair.check("input[name=mode][value=blank]")
    chair.click("#projector button.primary")
    polled(hall, '#screen [data-state="blank"]')
    assert hall.inner_text("#screen .scr-body").strip() == ""

    # a message without text is refused with a clear error, the screen unchanged
    chair.check("input[name=mode][value=message]")
    chair.fill("input[name=message]", "")
    chair.click("#projector button.primary")
    assert "thông báo" in chair.inner_text(".flash-error").lower()
    with hall.expect_response(lambda r: "/screen.json" in r.url):  # the screen asks again...
        hall.clock.run_for(2000)
    hall.wait_for_selector('#screen [data-state="blank"]')  # ...and stays blank

    # the API sets the same choice (chair only; a foreign poll is refused)
    token = _token(chair, live, "chair")
    head = {"Authorization": f"Bearer {token}"}
    url = live(f"/api/v1/congresses/{cid}/projector")
    r = chair.request.put(url, data={"mode": "attendance"}, headers=head)
    assert r.status == 200 and r.json()["mode"] == "attendance", r.text()
    assert r.json()["shows"] == "attendance"
    polled(hall, '#screen [data-state="attendance"]')
    r = chair.request.put(url, data={"mode": "poll", "poll_id": 999999}, headers=head)
    assert r.status == 422 and r.json()["error"]["code"] == "unknown_poll"
    obs = {"Authorization": f"Bearer {_token(chair, live, 'observer')}"}
    assert chair.request.put(url, data={"mode": "blank"}, headers=obs).status == 403
    assert chair.request.get(url, headers=obs).json()["mode"] == "attendance"

    # back to automatic: the chair's last poll action (publishing A)
    r = chair.request.put(url, data={"mode": "auto"}, headers=head)
    assert r.json()["shown_poll_id"] == pa
    polled(hall, '#screen [data-state="result"]')
    # a poll action after a choice takes the screen: B closes, the screen follows B
    chair.request.put(url, data={"mode": "message", "message": "Nghỉ"}, headers=head)
    polled(hall, '#screen [data-state="message"]')
    r = chair.request.post(live(f"/api/v1/polls/{pb}/close"), headers=head)
    assert r.status == 200, r.text()
    polled(hall, '#screen [data-state="counting"]')
    assert fx.SLATE[0] not in hall.content()


def test_projector_pages_through_200_names(live, screens):
    """200 candidates: pages of what fits the screen, turning by themselves, every name once,
    elected first; at the hall's 1920x1080 and at an old 1024x768 projector."""
    staff = _staff(live)
    from congress_vote.extensions import db

    names = [f"Ứng cử viên {n:03d} Nguyễn Thị Phương" for n in range(200)]
    with live.app.app_context():
        c = fx.make_congress(voters=24, excused=1, present=21)
        p = fx.make_poll(
            c,
            "committee",
            "Bầu Ban Chấp hành (danh sách dài)",
            names,
            seats=15,
            order=1,
            committee_ids=[staff["counter1"], staff["counter2"]],
        )
        fx.open_poll(p)
        ids = [x.id for x in p.candidates]
        for n, h in enumerate(fx.issue(p, 21)[:20]):  # 15 names everyone keeps, and a few
            fx.cast(p, h, {"kept": sorted(ids[:14] + [ids[14 + n % 5]])})
        fx.close(p)
        fx.count(p)
        fx.certify(p, [staff["counter1"], staff["counter2"]])
        p.status = "published"
        db.session.commit()
        cid, pid = c.id, p.id
    res = _result(live, pid)
    n_elected = sum(1 for x in res["candidates"] if x["elected"])
    assert n_elected
    for size in ("projector", "tablet_1024"):
        hall = screens.open(size)
        hall.clock.install()
        hall.goto(live(f"/congresses/{cid}/screen"))
        hall.wait_for_selector('#screen [data-state="result"]')
        hall.wait_for_function("() => document.querySelector('.scr-list[data-pages]')")
        pages = int(hall.get_attribute(".scr-list", "data-pages"))
        # from here the page's time moves only when the test moves it: one turn per 8 s
        hall.clock.pause_at(hall.evaluate("Date.now()") + 500)
        start = int(hall.get_attribute(".scr-list", "data-page"))
        view = hall.viewport_size
        assert pages > 1
        seen: list[str] = []
        first_page: list[str] = []
        for n in range(pages):
            number = (start - 1 + n) % pages + 1
            assert hall.get_attribute(".scr-list", "data-page") == str(number), (n, size)
            assert hall.inner_text(".pg-n") == str(number)
            assert hall.inner_text(".pg-of") == str(pages)
            rows = hall.eval_on_selector_all(
                ".scr-list li:not(.off-page)",
                """els => els.map(li => { const r = li.getBoundingClientRect();
                   return {name: li.querySelector('.name').textContent, bottom: r.bottom,
                           right: r.right, elected: li.classList.contains('elected')}; })""",
            )
            assert rows
            for row in rows:
                assert row["bottom"] <= view["height"] and row["right"] <= view["width"], row
            if number == 1:
                shot(hall, f"hall-projector-200-page1-{size}")
                assert all(r["elected"] for r in rows[: min(n_elected, len(rows))])
                first_page = [r["name"] for r in rows]
            seen += [r["name"] for r in rows]
            hall.clock.run_for(8000)  # the page turns by itself
        assert sorted(seen) == sorted(names), "every name shown exactly once"
        elected = [x["full_name"] for x in res["candidates"][:n_elected]]
        assert first_page[: min(n_elected, len(first_page))] == elected[: len(first_page)]
        assert hall.get_attribute(".scr-list", "data-page") == str(start)  # and round again


def test_opening_a_poll_asks_first_with_what_matters(live, screens):
    staff = _staff(live)
    from congress_vote.extensions import db

    with live.app.app_context():
        c = fx.make_congress(voters=24, excused=1, present=10)  # the quorum needs 16
        first = fx.make_poll(
            c, "resolution", "Thông qua chương trình", items=["Chương trình"], order=1
        )
        fx.advance(first, "closed", staff, n_cast=8, n_issued=10)
        p = fx.make_poll(
            c,
            "committee",
            "Bầu Ban Chấp hành",
            fx.COMMITTEE[:3],
            seats=3,  # no surplus
            order=2,
            committee_ids=[staff["counter1"], staff["counter2"]],  # no key cards printed
        )
        db.session.commit()
        cid, pid = c.id, p.id

    for size in ("tablet_1024", "tablet_768"):
        chair = screens.open(size)
        login(chair, live, "chair")
        chair.goto(live(f"/congresses/{cid}/console"))
        # the quorum label says the figures it is about
        quorum = chair.inner_text("#att-quorum")
        assert "10" in quorum and "16" in quorum and "24" in quorum, quorum
        chair.click(f"a[href$='/console/polls/{pid}/open']")
        chair.wait_for_selector("#open-confirm")
        codes = chair.eval_on_selector_all(
            ".confirm-warnings li", "els => els.map(e => e.dataset.code)"
        )
        assert set(codes) >= {
            "quorum_not_met",
            "no_checkin_since_last_poll",
            "key_cards_missing",
            "no_surplus",
        }, codes
        text = chair.inner_text("#open-confirm")
        assert "Counter1" in text and "Counter2" in text  # who has no key card, by name
        assert "Thông qua chương trình" in text  # the poll closed last
        shot(chair, f"hall-open-confirm-{size}")
        chair.click("#open-confirm a.button")  # cancel
        chair.wait_for_selector("#console")
        assert chair.locator(f"#poll-{pid} .badge-draft").count() == 1

    # the API answers the same check
    token = _token(chair, live, "chair")
    r = chair.request.get(
        live(f"/api/v1/polls/{pid}/opening-check"), headers={"Authorization": f"Bearer {token}"}
    )
    assert r.status == 200
    assert {w["code"] for w in r.json()["warnings"]} == set(codes)
