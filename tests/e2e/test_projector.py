"""The projector screen in a real Chromium at 1920x1080, before, during and after a poll: the
screen follows the poll by itself (projector.js polling screen.json, no reload), and no candidate
name, vote or percentage reaches the page or any JSON response before publication. The page's
clock is Playwright's: the 2 seconds between two polls are moved on, not waited for
(conftest.polled); the polls, the answers and the page's updates are real."""

from __future__ import annotations

import contextlib
import json

import pytest

from tests import fx_reports as fx
from tests.conftest import PASSWORD
from tests.e2e.conftest import polled, shot

pytestmark = pytest.mark.e2e


def _world(live):
    from congress_vote.auth.services import create_user
    from congress_vote.extensions import db

    with live.app.app_context():
        staff = {}
        for name, roles in (
            ("chair", ["chair"]),
            ("counter1", ["counter"]),
            ("counter2", ["counter"]),
        ):
            from congress_vote.auth.models import User

            user = db.session.query(User).filter_by(username=name).one_or_none()
            staff[name] = (user or create_user(name, PASSWORD, roles)).id
        w = fx.world(staff)
        db.session.commit()
        return staff, {k: v.id for k, v in w.items()}


def _step(live, pid, staff, step, **kw):
    from congress_vote.extensions import db
    from congress_vote.polls.models import Poll

    with live.app.app_context():
        p = db.session.get(Poll, pid)
        if step == "open":
            fx.open_poll(p)
        elif step == "vote":
            fx.vote_randomly(p, kw["n"], kw["issued"], seed=kw.get("seed", 1))
        elif step == "close":
            fx.close(p)
        elif step == "count":
            fx.count(p)
        elif step == "certify":
            fx.certify(p, [staff["counter1"], staff["counter2"]])
        db.session.commit()


def _result(live, pid):
    from congress_vote.extensions import db
    from congress_vote.polls.models import Poll
    from congress_vote.reports.services import result_dict

    with live.app.app_context():
        return result_dict(db.session.get(Poll, pid))


def _pct(percent: str) -> str:
    """A percentage as the Vietnamese pages write it (fmt_percent): '52.17' -> '52,17%'."""
    return percent.replace(".", ",") + "%"


def _font_px(page, selector):
    return page.eval_on_selector(selector, "e => parseFloat(getComputedStyle(e).fontSize)")


def test_projector_before_during_after(live, screens):
    staff, w = _world(live)
    cid, pid = w["congress"], w["committee"]
    page = screens.open("projector")
    bodies: list[str] = []

    def keep(resp):
        if "/screen" in resp.url and resp.status == 200:
            with contextlib.suppress(Exception):  # a response the page navigated away from
                bodies.append(resp.text())

    page.on("response", keep)
    page.clock.install()  # the screen's 2-second polls are moved on, not waited for (`polled`)

    page.goto(live(f"/congresses/{cid}/screen"))
    page.wait_for_selector('[data-state="idle"]')
    assert _font_px(page, "body") >= 48
    shot(page, "projector-1-idle")

    # during: the poll opens, ballots are cast; the screen follows without a reload
    page.evaluate("window.__noReload = true")
    _step(live, pid, staff, "open")
    _step(live, pid, staff, "vote", n=14, issued=20)
    polled(page, '[data-state="voting"]')
    page.wait_for_function(
        "() => document.querySelector('.bar-fill')"
        " && parseFloat(document.querySelector('.bar-fill').style.width) === 70"
    )
    assert page.evaluate("window.__noReload") is True  # swapped in place, not reloaded
    assert "14" in page.inner_text(".scr-big")
    assert _font_px(page, ".scr-line") >= 48
    shot(page, "projector-2-voting")

    # after close, counted and certified: "counting in progress", nothing of the result
    for step in ("close", "count", "certify"):
        _step(live, pid, staff, step)
        polled(page, '[data-state="counting"]')
        # one more poll of screen.json after the change, whose body is checked below
        with page.expect_response(lambda r: "/screen.json" in r.url):
            page.clock.run_for(2000)
        content = page.content()
        res = _result(live, pid)
        secrets = list(fx.COMMITTEE)
        if res:
            secrets += [res["digest"]] + [c["percent"] for c in res["candidates"]]
            secrets += [_pct(c["percent"]) for c in res["candidates"]]
        for s in secrets:
            assert s not in content, (step, s)
            for body in bodies:
                assert s not in body and json.dumps(s)[1:-1] not in body, (step, s)
    shot(page, "projector-3-counting")
    assert bodies, "the page polled screen.json"

    # the chair publishes from the console (a second person, at a desk)
    chair = screens.open("desk")
    chair.goto(live("/login"))
    chair.fill("input[name=username]", "chair")
    chair.fill("input[name=password]", PASSWORD)
    chair.click("form button.primary")
    chair.goto(live(f"/congresses/{cid}/console"))
    shot(chair, "console-certified")
    chair.click(f"form[action$='/console/polls/{pid}/publish'] button")
    chair.wait_for_selector(".flash-ok")

    polled(page, '[data-state="result"]')
    res = _result(live, pid)
    text = page.inner_text("#screen")
    elected = [c for c in res["candidates"] if c["elected"]]
    assert elected
    for c in elected:
        assert c["full_name"] in text and _pct(c["percent"]) in text
    shown = page.eval_on_selector_all(".scr-list li .name", "els => els.map(e => e.textContent)")
    by_id = {c["id"]: c for c in res["candidates"]}
    assert shown[: len(elected)] == [by_id[i]["full_name"] for i in res["elected_order"]]
    assert page.eval_on_selector_all(".scr-list li.elected", "els => els.length") == len(elected)
    assert page.evaluate("window.__noReload") is True
    shot(page, "projector-4-result")


def test_projector_resolution_result_and_no_script_refresh(live, screens):
    staff, w = _world(live)
    cid, pid = w["congress"], w["resolution"]
    for step in ("open", "close", "count", "certify"):
        _step(live, pid, staff, step) if step != "open" else (
            _step(live, pid, staff, "open"),
            _step(live, pid, staff, "vote", n=19, issued=21, seed=9),
        )
    from congress_vote.audit.services import record  # noqa: F401
    from congress_vote.extensions import db
    from congress_vote.polls.models import Poll
    from congress_vote.reports.services import publish_poll

    page = screens.open("projector")
    page.clock.install()
    page.goto(live(f"/congresses/{cid}/screen"))
    page.wait_for_selector('[data-state="counting"]')
    assert fx.ITEMS[0] not in page.content()
    with live.app.app_context():
        publish_poll(db.session.get(Poll, pid), staff["chair"])
        db.session.commit()
    polled(page, '[data-state="result"]')
    res = _result(live, pid)
    text = page.inner_text("#screen")
    for item in res["items"]:
        assert item["text"] in text and str(item["for"]) in text
    shot(page, "projector-5-resolution")
    # without JavaScript the page refreshes itself with a meta refresh inside <noscript>
    assert '<noscript><meta http-equiv="refresh" content="10"></noscript>' in page.content()


LONG_NAMES = [
    "Nguyễn Trần Hoàng Phương Thảo Nguyên",
    "Tôn Nữ Hoàng Thị Khánh Ngọc Bích",
    "Công Tằng Tôn Nữ Thị Minh Nguyệt",
    "Âu Dương Thị Thanh Hương",
    "Lê Văn Cường",
    "Phạm Thị Dung",
    "Hà Thị Khánh Vân",
    "Trần Thị Bích Ngọc",
    "Vũ Minh Triết",
    "Đặng Thu Hường",
    "Bùi Quang Khải",
    "Đỗ Thị Mỹ Lệ",
    "Ngô Thị Lan",
    "Hoàng Văn Em",
    "Nguyễn Văn Quảng",
]


@pytest.mark.parametrize("n", [5, 8, 11, 15])
def test_projector_result_fits_1920x1080(live, screens, n):
    """Every candidate row of a published result — with its name (wrapped, never cut with "…"),
    votes, percentage and elected tag — lies inside the 1920x1080 screen, for up to 15 names."""
    staff, _ = _world(live)
    from congress_vote.extensions import db

    with live.app.app_context():
        c = fx.make_congress(voters=24, excused=1, present=21)
        p = fx.make_poll(
            c,
            "committee",
            f"Bầu Ban Chấp hành Đảng bộ nhiệm kỳ 2025–2030 (đợt {n})",
            LONG_NAMES[:n],
            seats=max(1, n - 2),
            order=1,
            committee_ids=[staff["counter1"], staff["counter2"]],
        )
        fx.advance(p, "published", staff, n_cast=20, n_issued=21, seed=n)
        db.session.commit()
        cid, pid = c.id, p.id
    res = _result(live, pid)
    page = screens.open("projector")
    page.goto(live(f"/congresses/{cid}/screen"))
    page.wait_for_selector('[data-state="result"]')
    view = page.viewport_size
    assert (view["width"], view["height"]) == (1920, 1080)
    boxes = page.eval_on_selector_all(
        ".scr-list li",
        """els => els.map(li => {
        const r = li.getBoundingClientRect();
        const name = li.querySelector('.name');
        const parts = [...li.children].map(e => e.getBoundingClientRect());
        return {x: r.left, y: r.top, right: r.right, bottom: r.bottom,
                partsRight: Math.max(...parts.map(b => b.right)),
                partsBottom: Math.max(...parts.map(b => b.bottom)),
                name: name.textContent, clipped: name.scrollWidth > name.clientWidth + 1,
                ellipsis: getComputedStyle(name).textOverflow === 'ellipsis'
                          && getComputedStyle(name).whiteSpace === 'nowrap'};
    })""",
    )
    shot(page, f"projector-fit-{n}")
    assert len(boxes) == n
    assert sorted(b["name"] for b in boxes) == sorted(LONG_NAMES[:n])
    for b in boxes:
        assert b["x"] >= 0 and b["y"] >= 0, b
        assert b["right"] <= 1920 and b["bottom"] <= 1080, b
        assert b["partsRight"] <= 1920 and b["partsBottom"] <= 1080, b
        assert not b["clipped"] and not b["ellipsis"], b
    # the percentages and the elected tags are on the screen, inside the viewport
    text = page.inner_text("#screen")
    for cand in res["candidates"]:
        assert _pct(cand["percent"]) in text
    tags = page.eval_on_selector_all(
        ".scr-list .tag",
        "els => els.map(e => { const r = e.getBoundingClientRect(); return [r.right, r.bottom]; })",
    )
    assert len(tags) == sum(1 for cand in res["candidates"] if cand["elected"])
    assert all(r <= 1920 and b <= 1080 for r, b in tags), tags
    foot = page.eval_on_selector(".scr-foot", "e => e.getBoundingClientRect().bottom")
    assert foot <= 1080
