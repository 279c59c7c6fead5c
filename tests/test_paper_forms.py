"""The official form of the papers (issue 18 parts 2-3): Vietnamese formats through Babel, the
congress's time zone, one wording of the checks, ties and seats not filled, the announcement
read back with pypdf, a minutes page as PNG in artifacts/."""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path

from flask_babel import force_locale
from pypdf import PdfReader

from congress_vote.extensions import db
from congress_vote.i18n.formats import fmt_date, fmt_datetime, fmt_int, fmt_percent, fmt_time
from congress_vote.i18n.wording import check_text, outcome_notes

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def test_vietnamese_formats():
    assert fmt_percent("92.20", "vi") == "92,20%"
    assert fmt_percent(5, "vi") == "5,00%"
    assert fmt_percent("92.20", "en") == "92.20%"
    assert fmt_int(12345, "vi") == "12.345" and fmt_int(12345, "en") == "12,345"
    assert fmt_date(date(2025, 6, 20), locale="vi") == "ngày 20 tháng 6 năm 2025"
    # stored times are naive UTC; papers print the congress's zone (UTC+7 by default)
    at = datetime(2025, 6, 20, 0, 59)
    assert fmt_time(at, locale="vi") == "7 giờ 59 phút"
    assert fmt_datetime(at, locale="vi") == "20/06/2025 07:59"
    assert fmt_time(at, "Asia/Tokyo", locale="vi") == "9 giờ 59 phút"
    assert fmt_date(datetime(2025, 6, 20, 20, 0, tzinfo=UTC), locale="vi") == (
        "ngày 21 tháng 6 năm 2025"
    )


def test_checks_and_outcomes_in_words(app):
    checks = [
        {"name": "issued_within_present", "ok": True, "detail": "issued 132 ≤ present 139"},
        {"name": "returned_within_issued", "ok": True, "detail": "returned 101 ≤ issued 132"},
        {
            "name": "valid_plus_invalid_is_returned",
            "ok": True,
            "detail": "valid 100 + invalid 1 = returned 101",
        },
        {"name": "votes_within_valid", "ok": True, "detail": "every candidate ≤ valid 100"},
        {
            "name": "votes_sum_within_valid_times_seats",
            "ok": True,
            "detail": "sum 1234 ≤ valid 100 × 15 = 1500",
        },
    ]
    result = {
        "candidates": [{"id": 1, "full_name": "Nguyễn Văn An"}, {"id": 2, "full_name": "Lê Bình"}],
        "ties": [{"candidate_ids": [1, 2], "votes": 60, "seats_contested": 1, "kind": "official"}],
        "unfilled_seats": 1,
        "unfilled_alternate_seats": 0,
    }
    with app.test_request_context(), force_locale("vi"):
        words = [check_text(c) for c in checks]
        notes = outcome_notes(result)
    assert words[0] == "phát ra 132 ≤ có mặt 139"
    assert words[2] == "hợp lệ 100 + không hợp lệ 1 = thu vào 101"
    assert words[4] == "tổng 1.234 ≤ số phiếu hợp lệ 100 × 15 = 1.500"
    assert not any(re.search(r"issued|present|valid |returned|sum ", w) for w in words)
    assert notes[0].startswith("Các đồng chí Nguyễn Văn An, Lê Bình có số phiếu bằng nhau")
    assert "Số suất chưa bầu đủ: 1" in notes


def test_congress_time_zone_setting(world, api, client, auth):
    cid = world.congress(voters=2)
    db.session.commit()
    r = api("admin").get(f"/api/v1/congresses/{cid}")
    assert r.json["time_zone"] == "Asia/Ho_Chi_Minh"
    h = auth.headers("admin")

    def patch(body):
        return client.patch(f"/api/v1/congresses/{cid}", json=body, headers=h)

    r = patch({"time_zone": "Asia/Bangkok"})
    assert r.status_code == 200 and r.json["time_zone"] == "Asia/Bangkok"
    for bad in ("UTC", "Mars/Olympus", "../etc/passwd", ""):
        r = patch({"time_zone": bad})
        if bad == "":
            assert r.status_code == 200  # empty: the default zone
            assert r.json["time_zone"] == "Asia/Ho_Chi_Minh"
            continue
        assert r.status_code == 422, bad
        assert r.json["error"]["code"] == "bad_time_zone"


def test_announcement_in_the_official_form(world, api, tmp_path):
    poll = world.election(
        voters=24,
        votes=[[0, 1]] * 9 + [[0, 2]] * 4 + [[1, 2]] * 3 + [[]],
        committee=("counter1", "counter2"),
        head="counter1",
    )
    api("counter1").post(f"/api/v1/polls/{poll.id}/count")
    r = api("chair").get(f"/api/v1/polls/{poll.id}/announcement.pdf")
    assert r.status_code == 200
    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages)
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in text and "ĐOÀN CHỦ TỊCH" in text
    assert re.search(r"ngày \d{1,2} tháng \d{1,2} năm \d{4}", text)
    assert re.search(r"\d,\d\d%", text) and "UTC" not in text
    assert text.count("2025–2030") == 1  # the term once
    # the verification block is last
    assert text.rfind("Thông tin kiểm chứng") > text.rfind("T/M Đoàn Chủ tịch")

    # a minutes page as PNG in artifacts/ (looked at by people, not committed)
    minutes = api("counter1").get(f"/api/v1/polls/{poll.id}/minutes.pdf").data
    if shutil.which("pdftoppm"):
        ARTIFACTS.mkdir(exist_ok=True)
        (tmp_path / "m.pdf").write_bytes(minutes)
        subprocess.run(
            ["pdftoppm", "-r", "110", "-png", "-f", "1", "-l", "1", "-singlefile"]
            + [str(tmp_path / "m.pdf"), str(ARTIFACTS / "minutes-page1")],
            check=True,
        )
        assert (ARTIFACTS / "minutes-page1.png").stat().st_size > 10_000
