"""The in-page QR scanner (static/js/scanner.js + the vendored decoder) in a real Chromium, with
Chromium's fake camera playing a video made from a slip printed by our own PDF pipeline.

The page under test is served by a tiny Flask app built here (not part of the product) from the
project's real static/ folder, with the product's exact CSP header, so the scanner runs under the
same rules as on the kiosk and the check-in desk. Nothing is mocked on the decode path: the fake
camera frames go through getUserMedia, a <video>, a canvas and the vendored worker (Chromium on
Linux has no BarcodeDetector, and the tests delete it anyway to be sure).

Helpers `slip_png` and `png_to_y4m` are importable by other browser tests (with conftest's
`launch_chromium`, the Chromium whose fake camera plays their video).
"""

from __future__ import annotations

import html
import subprocess
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import ROOT, launch_chromium, require_chromium, serving

STATIC = ROOT / "static"
TOKEN_URL = (
    "http://vote.test/b/K7QM2XHD9RBTW4NCP"  # shape of a ballot QR (PUBLIC_BASE_URL/b/<code>)
)

pytestmark = pytest.mark.e2e

NO_BARCODE_DETECTOR = "delete window.BarcodeDetector;"


# ---- making the camera picture -------------------------------------------------------------------


def slip_png(text: str, out_dir: Path, dpi: int = 150, qr_mm: float = 30) -> Path:
    """A ballot-slip-like card with a QR of `text`, printed by the product's PDF pipeline
    (qr_svg → WeasyPrint) and rasterised with pdftoppm at `dpi`, as a cheap printer would."""
    from congress_vote.reports.pdf import html_to_pdf, qr_svg

    page = f"""<!doctype html><html lang="vi"><head><meta charset="utf-8"><style>
      @page {{ size: 105mm 74mm; margin: 4mm; }}
      body {{ font-family: 'DejaVu Sans', sans-serif; font-size: 9pt; margin: 0; }}
      .slip {{ display: flex; gap: 4mm; align-items: center; border: 0.3mm dashed #888;
              padding: 3mm; height: 60mm; box-sizing: border-box; }}
      h1 {{ font-size: 11pt; margin: 0 0 2mm; }} p {{ margin: 0 0 1.5mm; }}
    </style></head><body><div class="slip"><div>{qr_svg(text, size_mm=qr_mm)}</div><div>
      <h1>PHIẾU BẦU CỬ</h1><p>Bầu Ban Chấp hành Đảng bộ nhiệm kỳ 2025–2030</p>
      <p>Quét mã QR bằng máy tính bảng tại bàn bỏ phiếu.</p>
      <p>Mã: {html.escape(text[-17:])}</p><p>Dấu kiểm: 3F9A-12C4</p></div></div>
    </body></html>"""
    pdf = out_dir / "slip.pdf"
    pdf.write_bytes(html_to_pdf(page))
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-png", "-singlefile", str(pdf), str(out_dir / "slip")],
        check=True,
    )
    return out_dir / "slip.png"


def png_to_y4m(png: Path, out: Path, width: int = 640, height: int = 480, frames: int = 10) -> Path:
    """A still picture as a YUV4MPEG2 (4:2:0) video for Chromium's fake camera: the picture
    scaled to fit and centred on a grey table, as a slip held under a tablet camera looks."""
    from PIL import Image

    img = Image.open(png).convert("RGB")
    img.thumbnail((width - 40, height - 40), Image.LANCZOS)
    canvas = Image.new("RGB", (width, height), (128, 128, 128))
    canvas.paste(img, ((width - img.width) // 2, (height - img.height) // 2))
    y, u, v = canvas.convert("YCbCr").split()
    u = u.resize((width // 2, height // 2), Image.BILINEAR)
    v = v.resize((width // 2, height // 2), Image.BILINEAR)
    frame = b"FRAME\n" + y.tobytes() + u.tobytes() + v.tobytes()
    with open(out, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        f.writelines(frame for _ in range(frames))
    return out


def blank_y4m(out: Path, width: int = 640, height: int = 480) -> Path:
    """A camera that sees an empty grey table (nothing to read)."""
    from PIL import Image

    png = out.with_suffix(".png")
    Image.new("RGB", (width, height), (140, 140, 140)).save(png)
    return png_to_y4m(png, out, width, height, frames=2)


# ---- a test page served with the product's CSP ---------------------------------------------------

PAGE = """<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8"><title>scanner test</title>
{css}<script src="/static/js/scanner.js" defer></script></head>
<body><form method="post" action="/submitted">
<label for="code">Code</label> <input id="code" name="code" autocomplete="off">
<div class="scanner" data-scanner data-target="#code" data-submit="{submit}"></div>
<button id="ok">OK</button></form></body></html>"""


def make_page_app(submissions: list):
    from flask import Flask, redirect, request

    from congress_vote.security import CSP

    app = Flask("scanner_test_page", static_folder=str(STATIC), static_url_path="/static")

    @app.get("/")
    def page():
        css = (
            '<link rel="stylesheet" href="/static/css/scanner.css">'
            if request.args.get("css", "1") == "1"
            else ""
        )
        return PAGE.format(
            css=css, lang=request.args.get("lang", "vi"), submit=request.args.get("submit", "true")
        )

    @app.get("/favicon.ico")
    def favicon():
        return "", 204

    @app.post("/submitted")
    def submitted():
        submissions.append(request.form.get("code"))
        if request.args.get("again") and len(submissions) < 2:
            return redirect("/", 303)  # like the kiosk: back to the scan screen after a vote
        return f'<!doctype html><p id="got">{html.escape(request.form.get("code", ""))}</p>'

    @app.after_request
    def headers(resp):
        resp.headers["Content-Security-Policy"] = CSP
        resp.headers["Permissions-Policy"] = "camera=(self), microphone=(), geolocation=()"
        return resp

    return app


@pytest.fixture(scope="module")
def server():
    require_chromium()
    submissions: list = []
    with serving(make_page_app(submissions), "scanner-page") as srv:
        srv.submissions = submissions
        srv.url = f"http://127.0.0.1:{srv.server_port}"
        yield srv


@pytest.fixture(scope="module")
def videos(tmp_path_factory):
    require_chromium()
    d = tmp_path_factory.mktemp("camera")
    return {
        "slip": png_to_y4m(slip_png(TOKEN_URL, d), d / "slip.y4m"),
        "blank": blank_y4m(d / "blank.y4m"),
    }


@pytest.fixture(scope="module")
def slip_browser(playwright_driver, videos):
    b = launch_chromium(playwright_driver, videos["slip"])
    yield b
    b.close()


@pytest.fixture(scope="module")
def blank_browser(playwright_driver, videos):
    b = launch_chromium(playwright_driver, videos["blank"])
    yield b
    b.close()


class Watch:
    """A page with every request and every CSP/console error recorded."""

    def __init__(self, browser, server, init_script=NO_BARCODE_DETECTOR):
        self.ctx = browser.new_context(viewport={"width": 1280, "height": 800})
        if init_script:
            self.ctx.add_init_script(init_script)
        self.page = self.ctx.new_page()
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.server = server
        server.submissions.clear()

    def foreign_requests(self):
        here = urlsplit(self.server.url).netloc
        return [
            u
            for u in self.requests
            if urlsplit(u).scheme in ("http", "https", "ws", "wss") and urlsplit(u).netloc != here
        ]

    def close(self):
        self.ctx.close()


@pytest.fixture
def watch(server):
    made = []

    def _make(browser, **kw):
        w = Watch(browser, server, **kw)
        made.append(w)
        return w

    yield _make
    for w in made:
        w.close()


# ---- the tests -----------------------------------------------------------------------------------


def test_camera_scan_fills_input_and_submits_form(server, slip_browser, watch):
    w = watch(slip_browser)
    page = w.page
    page.goto(server.url + "/?submit=true")
    button = page.get_by_role("button", name="Dùng camera")  # Vietnamese by default
    with page.expect_navigation(url="**/submitted", timeout=20000):
        button.click()
    assert page.locator("#got").text_content() == TOKEN_URL
    assert server.submissions == [TOKEN_URL]
    assert w.errors == []
    assert w.foreign_requests() == []
    # The decoder came from our own static folder.
    assert any(u.endswith("/static/vendor/qr-scanner/qr-scanner-worker.min.js") for u in w.requests)


def test_scan_without_submit_sets_value_and_fires_events_then_stops_camera(
    server, slip_browser, watch
):
    w = watch(slip_browser)
    page = w.page
    page.goto(server.url + "/?submit=false&lang=en")
    page.evaluate("""() => {
        window.seen = [];
        const i = document.querySelector('#code');
        i.addEventListener('input', () => seen.push('input:' + i.value));
        i.addEventListener('change', () => seen.push('change:' + i.value));
    }""")
    page.get_by_role("button", name="Use camera").click()
    page.wait_for_function("() => document.querySelector('#code').value !== ''", timeout=20000)
    assert page.input_value("#code") == TOKEN_URL
    assert page.evaluate("window.seen") == ["input:" + TOKEN_URL, "change:" + TOKEN_URL]
    assert page.locator(".scanner").get_attribute("data-decoder") == "worker"
    # The camera is released after a read, the start button is back, and nothing was submitted.
    assert page.evaluate("document.querySelector('.scanner video').srcObject") is None
    assert page.get_by_role("button", name="Use camera").is_visible()
    assert page.locator(".scanner-msg").text_content() == "Code read"
    assert server.submissions == []
    assert w.errors == [] and w.foreign_requests() == []


AGE_LAST_READ = """() => { const k = 'cv-scanner-last';
    const v = JSON.parse(sessionStorage.getItem(k)); v.at -= 60000;
    sessionStorage.setItem(k, JSON.stringify(v)); }"""


def test_kiosk_keeps_scanning_after_the_page_comes_back(server, slip_browser, watch):
    """Once started, the camera restarts by itself when the scan page loads again (the kiosk
    returns to it after every vote) and reads the next slip without another tap; the slip just
    read is not sent again at once (a refused ballot must not loop), but is after a while."""
    w = watch(slip_browser)
    page = w.page
    page.goto(server.url + "/?submit=true")
    page.evaluate("() => { document.querySelector('form').action = '/submitted?again=1'; }")
    page.get_by_role("button", name="Dùng camera").click()
    # first scan → 303 back to "/" → camera restarts by itself → reads the same slip: held back
    page.locator(".scanner-msg", has_text="vừa được đọc").wait_for(timeout=20000)
    assert page.url == server.url + "/"
    assert server.submissions == [TOKEN_URL]
    page.evaluate(AGE_LAST_READ)  # as if the next delegate came a minute later
    page.wait_for_selector("#got", timeout=20000)
    assert server.submissions == [TOKEN_URL, TOKEN_URL]
    assert w.foreign_requests() == []


def test_missing_decoder_is_reported_and_nothing_is_read(server, slip_browser, watch):
    """The decode path really is the vendored worker: without it, nothing is read."""
    w = watch(slip_browser)
    page = w.page
    page.route("**/qr-scanner-worker.min.js", lambda route: route.fulfill(status=404, body=""))
    page.goto(server.url + "/?submit=true&lang=en")
    page.get_by_role("button", name="Use camera").click()
    msg = page.locator(".scanner-msg")
    msg.filter(has_text="could not start").wait_for(timeout=10000)
    assert page.locator(".scanner").get_attribute("data-state") == "error"
    assert page.input_value("#code") == ""
    assert page.evaluate("document.querySelector('.scanner video').srcObject") is None
    assert server.submissions == []


@pytest.mark.parametrize(
    "error, text",
    [
        ("NotFoundError", "Camera not available — type the code instead"),
        ("NotAllowedError", "Camera permission denied — type the code instead"),
    ],
)
def test_no_camera_or_denied_says_type_the_code(server, blank_browser, watch, error, text):
    w = watch(
        blank_browser,
        init_script=NO_BARCODE_DETECTOR
        + f"""
        navigator.mediaDevices.getUserMedia = () =>
            Promise.reject(new DOMException('test', '{error}'));""",
    )
    page = w.page
    page.goto(server.url + "/?lang=en")
    page.get_by_role("button", name="Use camera").click()
    page.locator(".scanner-msg", has_text=text).wait_for(timeout=5000)
    assert page.get_by_role("button", name="Use camera").is_visible()
    # A denial must not make the next page load try again by itself.
    if error == "NotAllowedError":
        assert page.evaluate("sessionStorage.getItem('cv-scanner-on')") is None


def test_stop_button_and_hidden_page_release_the_camera(server, blank_browser, watch):
    w = watch(blank_browser)
    page = w.page
    page.goto(server.url + "/?lang=vi")
    page.get_by_role("button", name="Dùng camera").click()
    page.wait_for_function(
        "() => document.querySelector('.scanner').dataset.state === 'scanning'"
        " && document.querySelector('.scanner video').readyState >= 2",
        timeout=10000,
    )
    live = (
        "() => { const s = document.querySelector('.scanner video').srcObject;"
        " return !!s && s.getTracks().some(t => t.readyState === 'live'); }"
    )
    assert page.evaluate(live)
    # The tablet goes to sleep / another app comes up: the camera must be released.
    page.evaluate("""() => {
        window.__tracks = document.querySelector('.scanner video').srcObject.getTracks();
        Object.defineProperty(document, 'visibilityState', {value: 'hidden', configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    assert page.evaluate("window.__tracks.every(t => t.readyState === 'ended')")
    # Visible again: the scanner resumes (the user had started it).
    page.evaluate("""() => {
        Object.defineProperty(document, 'visibilityState', {value: 'visible', configurable: true});
        document.dispatchEvent(new Event('visibilitychange'));
    }""")
    page.wait_for_function(live, timeout=10000)
    page.get_by_role("button", name="Tắt camera").click()
    assert not page.evaluate(live)
    assert page.get_by_role("button", name="Dùng camera").is_visible()
    assert page.evaluate("sessionStorage.getItem('cv-scanner-on')") is None
    assert w.errors == [] and w.foreign_requests() == []


def test_barcode_detector_is_preferred_when_the_browser_has_one(server, blank_browser, watch):
    """Chrome on Android has BarcodeDetector: then the vendored worker is never downloaded."""
    w = watch(
        blank_browser,
        init_script="""
        window.BarcodeDetector = class {
            static getSupportedFormats() { return Promise.resolve(['qr_code', 'ean_13']); }
            constructor(o) { this.formats = o.formats; }
            detect(source) { return Promise.resolve(source.width > 1
                ? [{rawValue: 'FROM-DETECTOR', format: 'qr_code'}] : []); }
        };""",
    )
    page = w.page
    page.goto(server.url + "/?submit=false&lang=en")
    page.get_by_role("button", name="Use camera").click()
    page.wait_for_function("() => document.querySelector('#code').value !== ''", timeout=10000)
    assert page.input_value("#code") == "FROM-DETECTOR"
    assert page.locator(".scanner").get_attribute("data-decoder") == "barcode-detector"
    assert not any("qr-scanner-worker" in u for u in w.requests)


def test_page_without_camera_use_does_not_load_the_decoder(server, blank_browser, watch):
    """Pages pay only for scanner.js until the camera starts; the script links its own
    stylesheet when the page has not (here: no <link> in the page)."""
    w = watch(blank_browser)
    page = w.page
    page.goto(server.url + "/?lang=en&css=0")
    button = page.get_by_role("button", name="Use camera")
    button.wait_for()
    page.wait_for_load_state("networkidle")
    assert not any("qr-scanner-worker" in u for u in w.requests)
    assert any(u.endswith("/static/js/scanner.js") for u in w.requests)
    assert any(u.endswith("/static/css/scanner.css") for u in w.requests)
    # Styled by scanner.css: a big touch target.
    assert button.bounding_box()["height"] >= 60
