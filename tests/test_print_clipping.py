"""No printed letter is lost (issue 18 part 4): every paper layout — ballot slips, delegate
cards, full paper ballots — rendered with long Vietnamese names and titles twice, once with the
overflow of every box hidden and once visible (an injected stylesheet), then rasterised with
pdftoppm at 150 dpi: identical pixels mean no text reaches outside its box (a cut word, the hook
of Ả or Ở cut at the top of a tight line box, a title under the QR code)."""

from __future__ import annotations

import shutil
import subprocess

import pytest
import weasyprint

from congress_vote.extensions import db

# The layout of the papers; the database only supplies the congress, poll and people drawn.
pytestmark = [
    pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="needs poppler-utils"),
    pytest.mark.db_independent,
]

ORG = "Đảng bộ Sở Giáo dục và Đào tạo Thành phố Hồ Chí Minh, Khối các cơ quan Đảng"
NAME = "Đại hội đại biểu Đảng bộ Sở Giáo dục và Đào tạo lần thứ XVIII, nhiệm kỳ 2025–2030"
TITLE = (
    "Bầu Ban Chấp hành Đảng bộ Sở Giáo dục và Đào tạo khóa XVIII, "
    "nhiệm kỳ 2025–2030 (Phiếu bầu ỦY VIÊN ẢNH HƯỞNG ỞỂẾẦẨ)"
)
PEOPLE = [
    "Nguyễn Thị Phượng Hoàng Ngọc Ánh Tuyết Nhung",
    "Tôn Thất Ưng Hoàng Ẩn Ổn Định Bảo Quốc",
    "Âu Dương Ỷ Thiên Ẩm Ểnh Ổi Ở Ủ",
]
POSITION = "Phó Giám đốc Sở Giáo dục và Đào tạo, Bí thư Chi bộ Văn phòng Sở kiêm Trưởng phòng"
BRANCH = "Chi bộ Phòng Giáo dục Thường xuyên và Giáo dục Nghề nghiệp, Ủy ban Kiểm tra Đảng ủy"

# Every block box but a table's own parts (a collapsed border is drawn half outside its cell, so
# a hidden overflow would cut the rule, not a letter) and inline elements (CSS gives them no
# overflow; WeasyPrint would clip them to their font's ascent).
BOXES = "body *:not(table):not(thead):not(tbody):not(tr):not(td):not(th)" + "".join(
    f":not({tag})" for tag in ("b", "i", "em", "strong", "span", "small", "a", "code", "br", "li")
)  # (nor a list item: its marker is drawn outside it; the list's own box is checked)
HIDDEN = BOXES + " { overflow: hidden !important; }"
VISIBLE = BOXES + " { overflow: visible !important; }"


def _pixels(pdf: bytes, tmp_path, name: str) -> list[bytes]:
    (tmp_path / f"{name}.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-gray", str(tmp_path / f"{name}.pdf"), str(tmp_path / name)],
        check=True,
    )
    return [p.read_bytes() for p in sorted(tmp_path.glob(f"{name}-*.pgm"))]


def _twice(monkeypatch, tmp_path, name: str, render) -> tuple[list[bytes], list[bytes]]:
    """`render()` with every box's overflow hidden, then visible: the two rasters."""
    write_pdf = weasyprint.HTML.write_pdf
    out = []
    for label, css in (("hidden", HIDDEN), ("visible", VISIBLE)):

        def patched(self, *a, _css=css, **kw):
            kw["stylesheets"] = [*(kw.get("stylesheets") or []), weasyprint.CSS(string=_css)]
            return write_pdf(self, *a, **kw)

        monkeypatch.setattr(weasyprint.HTML, "write_pdf", patched)
        out.append(_pixels(render(), tmp_path, f"{name}-{label}"))
    monkeypatch.setattr(weasyprint.HTML, "write_pdf", write_pdf)
    return out[0], out[1]


@pytest.fixture
def long_world(world):
    from congress_vote.congress.models import Congress, Delegate
    from congress_vote.congress.setup import branch_by_name

    cid = world.congress(voters=3)
    congress = db.session.get(Congress, cid)
    congress.organisation, congress.name = ORG, NAME
    for d, name in zip(
        db.session.scalars(db.select(Delegate).where(Delegate.congress_id == cid)),
        PEOPLE,
        strict=False,
    ):
        d.full_name, d.position = name, POSITION
        d.branch_id = branch_by_name(congress, BRANCH).id
    poll = world.poll(cid, seats=2, candidates=PEOPLE)
    poll.title = TITLE
    for c in poll.candidates:
        c.position = POSITION
    db.session.flush()
    return congress, poll


def _assert_same(hidden, visible, what):
    assert len(hidden) == len(visible), f"{what}: the page count changes with overflow"
    bad = [n + 1 for n, (a, b) in enumerate(zip(hidden, visible, strict=True)) if a != b]
    assert not bad, f"{what}: text is clipped on page(s) {bad} (hidden ≠ visible overflow)"


def test_slips_clip_no_letter(app, long_world, monkeypatch, tmp_path):
    from congress_vote import codes
    from congress_vote.ballots.slips import render_slips

    _congress, poll = long_world
    plain = [codes.normalise(codes.new_code()) for _ in range(8)]
    with app.test_request_context():
        hidden, visible = _twice(
            monkeypatch, tmp_path, "slips", lambda: render_slips(poll, plain, "vi")
        )
    _assert_same(hidden, visible, "ballot slips")


def test_cards_clip_no_letter(app, long_world, monkeypatch, tmp_path):
    from congress_vote.congress.printing import cards_pdf

    congress, _poll = long_world
    with app.test_request_context():
        hidden, visible = _twice(monkeypatch, tmp_path, "cards", lambda: cards_pdf(congress))
    _assert_same(hidden, visible, "delegate cards")


def test_paper_ballots_clip_no_letter(app, long_world, monkeypatch, tmp_path):
    from congress_vote import codes
    from congress_vote.ballots.paper_ballots import paper_ballots_pdf

    _congress, poll = long_world
    plain = [codes.normalise(codes.new_code())]
    for size in ("A4", "A5"):
        with app.test_request_context():
            hidden, visible = _twice(
                monkeypatch,
                tmp_path,
                f"paper-{size}",
                lambda size=size: paper_ballots_pdf(poll, plain, size),
            )
        _assert_same(hidden, visible, f"paper ballot {size}")


def test_key_card_clips_no_letter(app, long_world, staff, monkeypatch, tmp_path):
    from congress_vote.auth.models import User
    from congress_vote.seal.keycard_pdf import key_card_pdf
    from congress_vote.seal.keycards import issue_key_card

    congress, _poll = long_world
    user = db.session.get(User, staff["counter1"])  # on the poll's counting committee
    user.full_name, user.title = PEOPLE[1], POSITION
    db.session.flush()
    with app.test_request_context():
        card, secrets = issue_key_card(congress, user)  # one card, rendered twice
        hidden, visible = _twice(
            monkeypatch, tmp_path, "keycard", lambda: key_card_pdf(congress, user, card, secrets)
        )
    _assert_same(hidden, visible, "key card")
