"""The real voting kiosk (/kiosk/<cid>) scanning a real printed ballot slip with Chromium's fake
camera: the slips PDF issued through the API is rasterised at 150 dpi, one slip is cut out and
played as the camera picture, and tapping "Dùng camera" must open that ballot's page. Then the
kiosk comes back (as after a vote) and reads the next slip without another tap.
The same for the registrar's check-in desk (/congresses/<cid>/checkin) with a delegate card from
the cards PDF.
"""

from __future__ import annotations

import subprocess
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import launch_chromium, require_chromium, serving
from tests.e2e.test_scanner_camera import AGE_LAST_READ, NO_BARCODE_DETECTOR, png_to_y4m

pytestmark = pytest.mark.e2e

CSV = """code,full_name,branch,membership
K01,Nguyễn Văn An,Chi bộ Văn phòng,full
K02,Trần Thị Bình,Chi bộ Văn phòng,full
K03,Lê Văn Cường,Chi bộ Tài chính,full
K04,Phạm Thị Dung,Chi bộ Tài chính,full
"""
CANDIDATES = ["Hoàng Minh Giang", "Vũ Thị Hạnh", "Đặng Quốc Khánh"]


def _ok(resp, status):
    assert resp.status_code == status, (resp.status_code, resp.get_data(as_text=True)[:500])
    return resp


@pytest.fixture
def issued_slips(app, api, staff, new_congress, tmp_path, key_cards):
    """An open secret committee poll with two ballots issued; answers (cid, codes, slips pdf)."""
    admin, chair, counter = api("admin"), api("chair"), api("counter1")
    cid = new_congress(CSV, "Đại hội thử máy quét")
    delegates = _ok(admin.get(f"/api/v1/congresses/{cid}/delegates"), 200).json
    for d in delegates:
        _ok(
            api("registrar").post(
                f"/api/v1/congresses/{cid}/delegates/{d['id']}/attendance",
                json={"status": "present"},
            ),
            200,
        )
    pid = _ok(
        admin.post(
            f"/api/v1/congresses/{cid}/polls",
            json={
                "kind": "committee",
                "title": "Bầu Ban Chấp hành",
                "seats": 2,
                "secrecy": "secret",
                "candidates": [{"full_name": n} for n in CANDIDATES],
                "counting_committee": [staff["counter1"], staff["counter2"], staff["counter3"]],
            },
        ),
        201,
    ).json["id"]
    key_cards.committee(cid)  # the committee's key cards: the poll opens sealed for them
    _ok(chair.post(f"/api/v1/polls/{pid}/open"), 200)
    batch = _ok(counter.post(f"/api/v1/polls/{pid}/ballots", json={"count": 2}), 201).json
    pdf = _ok(counter.get(batch["pdf_url"]), 200).data
    # The tablet must be an enrolled kiosk of the congress (kiosk_only is on by default).
    kiosk = _ok(
        api("registrar").post(f"/api/v1/congresses/{cid}/kiosks", json={"label": "Máy quét"}), 201
    ).json["token"]
    return cid, batch["codes"], pdf, kiosk


def slip_from_pdf(pdf: bytes, code: str, out_dir, dpi: int = 150):
    """Page 1 of the slips PDF at `dpi`, cut to the slip whose QR holds `code` (found with
    zxing-cpp, then cropped with ~15 mm of the slip around its QR)."""
    import zxingcpp
    from PIL import Image

    (out_dir / "slips.pdf").write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            str(dpi),
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(out_dir / "slips.pdf"),
            str(out_dir / "page"),
        ],
        check=True,
    )
    page = Image.open(out_dir / "page.png")
    raw = code.replace("-", "")
    for bc in zxingcpp.read_barcodes(page):
        if bc.text.replace("-", "").endswith("/b/" + raw):
            p = bc.position
            xs = [p.top_left.x, p.top_right.x, p.bottom_left.x, p.bottom_right.x]
            ys = [p.top_left.y, p.top_right.y, p.bottom_left.y, p.bottom_right.y]
            pad = int(15 / 25.4 * dpi)
            box = (
                max(min(xs) - pad, 0),
                max(min(ys) - pad, 0),
                min(max(xs) + 3 * pad, page.width),
                min(max(ys) + pad, page.height),
            )
            out = out_dir / "one-slip.png"
            page.crop(box).save(out)
            return out, bc.text
    raise AssertionError(f"no QR for {code} on page 1 of the slips PDF")


@pytest.fixture
def live(app):
    require_chromium()
    with serving(app) as srv:
        yield f"http://127.0.0.1:{srv.server_port}"


def test_kiosk_camera_opens_the_scanned_ballot(issued_slips, live, tmp_path, playwright_driver):
    cid, codes, pdf, kiosk = issued_slips
    raw = codes[0].replace("-", "")
    png, qr_text = slip_from_pdf(pdf, codes[0], tmp_path)
    y4m = png_to_y4m(png, tmp_path / "slip.y4m")
    requests, errors = [], []
    browser = launch_chromium(playwright_driver, y4m)
    try:
        ctx = browser.new_context(viewport={"width": 800, "height": 1280}, locale="vi-VN")
        ctx.add_cookies(
            [
                {
                    "name": "cv_kiosk",
                    "value": kiosk,
                    "url": live,
                    "httpOnly": True,
                    "sameSite": "Strict",
                }
            ]
        )
        ctx.add_init_script(NO_BARCODE_DETECTOR)
        page = ctx.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{live}/kiosk/{cid}")
        page.get_by_role("button", name="Dùng camera").click()
        page.wait_for_url(f"**/b/{raw}?k={cid}", timeout=20000)
        for name in CANDIDATES:
            assert page.get_by_text(name).first.is_visible()
        page.screenshot(path=str(tmp_path / "kiosk-after-scan.png"))
        # Back at the scan screen (as after a vote): the camera restarts by itself, holds
        # back the slip it has just read, and reads it again a while later.
        page.goto(f"{live}/kiosk/{cid}")
        page.locator(".scanner-msg", has_text="vừa được đọc").wait_for(timeout=20000)
        page.evaluate(AGE_LAST_READ)
        page.wait_for_url(f"**/b/{raw}?k={cid}", timeout=20000)
    finally:
        browser.close()
    assert qr_text.replace("-", "").endswith("/b/" + raw)
    here = urlsplit(live).netloc
    assert [
        u
        for u in requests
        if urlsplit(u).scheme in ("http", "https") and urlsplit(u).netloc != here
    ] == []
    assert any(u.endswith("/static/vendor/qr-scanner/qr-scanner-worker.min.js") for u in requests)
    assert errors == []


def test_checkin_desk_camera_checks_in_the_scanned_card(
    app, api, staff, live, new_congress, tmp_path, playwright_driver
):
    """The registrar's check-in desk: a delegate card printed by the cards PDF, seen by the
    tablet camera, checks that delegate in; the camera stays usable for the next card."""
    import zxingcpp
    from PIL import Image

    from tests.conftest import PASSWORD

    admin = api("admin")
    cid = new_congress(CSV, "Đại hội thử bàn đón tiếp")
    pdf = _ok(admin.get(f"/api/v1/congresses/{cid}/cards.pdf"), 200).data
    (tmp_path / "cards.pdf").write_bytes(pdf)
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "150",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            "-singlefile",
            str(tmp_path / "cards.pdf"),
            str(tmp_path / "cards"),
        ],
        check=True,
    )
    sheet = Image.open(tmp_path / "cards.png")
    card = zxingcpp.read_barcodes(sheet)[0]
    p = card.position
    xs = [p.top_left.x, p.top_right.x, p.bottom_left.x, p.bottom_right.x]
    ys = [p.top_left.y, p.top_right.y, p.bottom_left.y, p.bottom_right.y]
    pad = int(12 / 25.4 * 150)
    sheet.crop((max(min(xs) - pad, 0), max(min(ys) - pad, 0), max(xs) + pad, max(ys) + pad)).save(
        tmp_path / "card.png"
    )
    y4m = png_to_y4m(tmp_path / "card.png", tmp_path / "card.y4m")
    delegates = _ok(admin.get(f"/api/v1/congresses/{cid}/delegates"), 200).json
    assert all(d["status"] != "present" for d in delegates)

    requests, errors = [], []
    browser = launch_chromium(playwright_driver, y4m)
    try:
        ctx = browser.new_context(viewport={"width": 1366, "height": 768})
        ctx.add_init_script(NO_BARCODE_DETECTOR)
        page = ctx.new_page()
        page.on("request", lambda r: requests.append(r.url))
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{live}/login")
        page.fill("input[name=username]", "registrar")
        page.fill("input[name=password]", PASSWORD)
        page.locator("form button").first.click()
        page.wait_for_load_state()
        page.goto(f"{live}/congresses/{cid}/checkin")
        page.get_by_role("button", name="Dùng camera").click()
        page.wait_for_function(
            "() => document.querySelector('#feedback').textContent.trim() !== ''", timeout=20000
        )
        feedback = page.locator("#feedback").text_content()
    finally:
        browser.close()
    present = [
        d
        for d in _ok(admin.get(f"/api/v1/congresses/{cid}/delegates"), 200).json
        if d["status"] == "present"
    ]
    assert len(present) == 1
    assert present[0]["full_name"] in feedback  # the desk names who was checked in
    here = urlsplit(live).netloc
    assert [
        u
        for u in requests
        if urlsplit(u).scheme in ("http", "https") and urlsplit(u).netloc != here
    ] == []
    assert errors == []
