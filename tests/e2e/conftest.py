"""Browser-test infrastructure: the real app served over HTTP by a live server, Chromium driven by
Playwright, and helpers to read what the app prints (PDF text, PDF pages as pictures, QR codes).

- `live` — the product (`make_app` of tests/conftest.py) served by werkzeug in a thread
  (threaded=True) on the suite's database: a FILE SQLite database built with the real migrations
  by the `_schema` fixture, or PostgreSQL when TEST_DATABASE_URL names one. Tables are emptied
  before and after, like the `app` fixture does. CSRF is ON (the browser must pass real CSRF
  tokens), rate limits are ON but generous, and PUBLIC_BASE_URL is the live server's own address,
  so the QR codes the app prints point back at it.
- `browser` — Debian's Chromium (/usr/bin/chromium) through Playwright's sync API, one per
  worker (each person on a screen is a fresh context of it); `launch_chromium` starts one whose
  fake camera plays a video, from the worker's one Playwright driver (`playwright_driver`).
- `screens` — opens pages at the sizes people use (desk laptop, 10-inch tablet both ways,
  1920x1080 projector); every request of every page is recorded and any request to another host
  than the live server is blocked AND fails the test (the hall has no internet); uncaught page
  errors and CSP refusals fail the test too.
- helpers: `polled` (wait for a page that asks the server every few seconds, moving its clock
  on instead of waiting), `pdf_text`, `pdf_pages_png`, `decode_qr` (zxing-cpp), `zbar_decode`
  (zbarimg), `fetch` (a GET with the page's cookies), `download` (a click that downloads, via
  the browser).

Skips only when /usr/bin/chromium is missing on a developer machine; in CI (CI=true) a missing
browser fails.
"""

from __future__ import annotations

import contextlib
import io
import os
import subprocess
import threading
import time
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
FAKE_CAMERA_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]

# Screen sizes people use in the hall.
DESK = {"width": 1366, "height": 768}  # staff laptop (secretariat, desk, counters)
TABLET = {"width": 1280, "height": 800}  # 10-inch voting tablet, landscape
TABLET_PORTRAIT = {"width": 800, "height": 1280}  # the same tablet on its stand, portrait
PROJECTOR = {"width": 1920, "height": 1080}
# The sizes issue 17 walks the kiosk at: small tablets both ways and a phone.
TABLET_1024 = {"width": 1024, "height": 768}
TABLET_768 = {"width": 768, "height": 1024}
PHONE = {"width": 390, "height": 844}
VIEWPORTS = {
    "desk": DESK,
    "tablet": TABLET,
    "tablet_portrait": TABLET_PORTRAIT,
    "projector": PROJECTOR,
    "tablet_1024": TABLET_1024,
    "tablet_768": TABLET_768,
    "phone": PHONE,
}


def require_chromium():
    """Skip without Chromium/Playwright on a developer machine; in CI their absence fails."""
    missing = None
    if not os.path.exists(CHROMIUM):
        missing = f"{CHROMIUM} is not installed"
    else:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError:
            missing = "playwright is not installed"
    if missing:
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(f"browser tests must run in CI: {missing}")
        pytest.skip(missing)


# ---- the live server --------------------------------------------------------------------------


@contextlib.contextmanager
def serving(wsgi, name: str = "live-server"):
    """`wsgi` served over HTTP on 127.0.0.1 (a free port) by werkzeug in a thread (threaded=True)
    while the block runs; yields the werkzeug server (`server_port`)."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name=name, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        thread.join(10)


class LiveServer:
    def __init__(self, app, server):
        self.app = app
        self.server = server
        self.url = f"http://127.0.0.1:{server.server_port}"
        self.netloc = urlsplit(self.url).netloc

    def __call__(self, path: str) -> str:
        return urljoin(self.url + "/", path.lstrip("/"))


@pytest.fixture(scope="module")
def live(_schema, database_url):
    """The product on the suite's database, served over HTTP for the browser (see module doc)."""
    require_chromium()
    from congress_vote.extensions import db
    from tests.conftest import _empty_tables, make_app

    app = make_app(
        database_url,
        WTF_CSRF_ENABLED=True,
        RATELIMIT_ENABLED=True,
        # generous: the whole rehearsal runs from one address (127.0.0.1)
        RATELIMIT_LOGIN="1000 per minute",
        RATELIMIT_CODE_ENTRY="2000 per minute",
    )
    with app.app_context():
        _empty_tables()
    wsgi = app
    if os.environ.get("E2E_PROFILE"):  # where does the rehearsal spend its time?
        import time as _t

        stats: list = []
        app.e2e_stats = stats

        def wsgi(environ, start_response, _app=app.wsgi_app):
            t = _t.perf_counter()
            try:
                return _app(environ, start_response)
            finally:
                stats.append(
                    (_t.perf_counter() - t, environ["REQUEST_METHOD"], environ["PATH_INFO"])
                )

    with serving(wsgi) as server:
        live = LiveServer(app, server)
        # The QR codes printed on cards and slips must point at this server.
        app.config["PUBLIC_BASE_URL"] = live.url
        yield live
    with app.app_context():
        _empty_tables()
        db.engine.dispose()


# ---- the browser --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright_driver():
    """Playwright's driver, one per worker (the tests that launch a Chromium of their own, with a
    fake camera, launch it from this driver: a second sync_playwright in the process would fail)."""
    require_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        yield p


def launch_chromium(playwright, y4m: Path, *args: str):
    """Chromium whose fake camera plays the video `y4m` (a YUV4MPEG2 file; see
    test_scanner_camera.png_to_y4m), camera permission granted without asking; `args` added."""
    return playwright.chromium.launch(
        executable_path=CHROMIUM,
        args=CHROMIUM_ARGS + FAKE_CAMERA_ARGS + [f"--use-file-for-fake-video-capture={y4m}", *args],
    )


@pytest.fixture(scope="session")
def browser(playwright_driver):
    """One Chromium per worker (~1 s to start); every person is a new context of it (own
    cookies, storage and cache: `Screens.open`)."""
    b = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield b
    b.close()


class Screens:
    """Browser contexts at the hall's screen sizes, each a separate person (own cookies).

    Every request is recorded; a request to a host other than the live server is aborted and
    reported by `check()` (called after each test), as are uncaught page errors and CSP refusals.
    """

    def __init__(self, browser, live: LiveServer):
        self.browser = browser
        self.live = live
        self.contexts = []
        self.requests: list[str] = []
        self.foreign: list[str] = []
        self.errors: list[str] = []

    def _route(self, route):
        url = route.request.url
        parts = urlsplit(url)
        if parts.scheme in ("data", "blob", "about") or parts.netloc == self.live.netloc:
            route.continue_()
        else:
            self.foreign.append(url)
            route.abort()

    def _on_request(self, req):
        self.requests.append(req.url)
        parts = urlsplit(req.url)
        if parts.scheme in ("http", "https", "ws", "wss") and parts.netloc != self.live.netloc:
            self.foreign.append(req.url)

    def _on_console(self, msg):
        text = msg.text
        if msg.type == "error" and ("Content Security Policy" in text or "Refused to" in text):
            self.errors.append(f"CSP: {text}")

    def open(self, size: str = "desk", locale: str = "vi-VN", accept_dialogs: bool = True):
        """A new person at a screen of `size` (a key of VIEWPORTS)."""
        ctx = self.browser.new_context(
            viewport=VIEWPORTS[size], locale=locale, accept_downloads=True
        )
        ctx.route("**/*", self._route)
        ctx.on("request", self._on_request)
        ctx.set_default_timeout(15000)
        self.contexts.append(ctx)
        page = ctx.new_page()
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        page.on("console", self._on_console)
        if accept_dialogs:  # "Close voting on this poll?" and the like: the user says yes
            page.on("dialog", lambda d: d.accept())
        return page

    def check(self):
        assert self.foreign == [], f"pages requested other hosts: {self.foreign}"
        assert self.errors == [], f"errors in the pages: {self.errors}"

    def close(self):
        for c in self.contexts:
            with contextlib.suppress(Exception):  # the browser may already be gone
                c.close()


@pytest.fixture
def screens(browser, live):
    s = Screens(browser, live)
    yield s
    s.close()
    s.check()


def login(page, live, username: str, password: str | None = None) -> None:
    """Sign in on the login page as a staff user (the suite's password by default) and check it
    took: the top bar names them."""
    from tests.conftest import PASSWORD

    page.goto(live("/login"))
    page.fill("#username", username)
    page.fill("#password", password or PASSWORD)
    page.locator("main form button").click()
    page.wait_for_load_state()
    assert page.locator(".who").count() == 1, f"{username} could not sign in: {page.url}"


def polled(page, selector: str, step_ms: int = 2000, timeout: float = 30) -> None:
    """Wait until `selector` is on a page that follows the server by asking it every few seconds
    (the projector screen: projector.js fetches screen.json 2 s after its last answer), without
    waiting those seconds: the page's clock is Playwright's (`page.clock.install()` before the
    page loads) and is moved on by `step_ms` whenever the selector is not there yet. The fetch,
    the answer and the page's update are real; only the pause between two questions is skipped.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    deadline = time.monotonic() + timeout
    while True:
        try:
            page.wait_for_selector(selector, timeout=250)
            return
        except PlaywrightTimeout:
            if time.monotonic() > deadline:
                raise
            page.clock.run_for(step_ms)


def shot(page, name: str, full_page: bool = False) -> Path:
    """Save a screenshot into artifacts/screenshots/ (not committed) and return its path."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path


# ---- a congress built through the API ---------------------------------------------------------


def congress_by_api(admin, csv: str, name: str = "Đại hội thử", **fields) -> int:
    """Create a congress and import its delegates (`csv`) through the API as `admin` (an
    `api("admin")` of tests/conftest.py); answers its id."""
    body = {
        "name": name,
        "organisation": "Đảng bộ Thử",
        "term": "2025–2030",
        "venue": "Hội trường",
        "starts_on": "2025-06-01",
        "kind": "delegates",
        **fields,
    }
    r = admin.post("/api/v1/congresses", json=body)
    assert r.status_code == 201, r.get_data(as_text=True)[:500]
    cid = r.json["id"]
    r = admin.post(
        f"/api/v1/congresses/{cid}/delegates/import", data=csv.encode(), content_type="text/csv"
    )
    assert r.status_code == 201, r.get_data(as_text=True)[:500]
    return cid


@pytest.fixture
def new_congress(api):
    """Factory: `new_congress(csv, name=...)` → the id of a congress made through the API."""

    def make(csv: str, name: str = "Đại hội thử", **fields) -> int:
        return congress_by_api(api("admin"), csv, name, **fields)

    return make


# ---- reading what the app prints ----------------------------------------------------------------


def fetch(page, href: str) -> bytes:
    """GET `href` with the page's cookies (the signed-in user), asserting a 200."""
    url = (
        href
        if href.startswith("http")
        else page.url.split("/", 3)[0] + "//" + urlsplit(page.url).netloc + href
    )
    resp = page.context.request.get(url)
    assert resp.status == 200, (url, resp.status, resp.text()[:300])
    return resp.body()


def download(page, locator, out: Path) -> bytes:
    """Click a link/button that downloads a file (as the user does) and return its bytes.

    Chromium without a PDF viewer turns an inline PDF into a download; when it shows it instead
    we read the same response from the navigation (one request either way: slips are
    downloadable only once)."""
    out.parent.mkdir(parents=True, exist_ok=True)
    with page.expect_download(timeout=30000) as info:
        locator.click(modifiers=["Alt"])  # Alt+click = "save link as" in Chromium
    info.value.save_as(str(out))
    return out.read_bytes()


def pdf_text(pdf: bytes) -> str:
    from pypdf import PdfReader

    return "\n".join(p.extract_text() or "" for p in PdfReader(io.BytesIO(pdf)).pages)


def pdf_pages_png(
    pdf: bytes,
    out_dir: Path,
    prefix: str = "page",
    dpi: int = 150,
    first: int | None = None,
    last: int | None = None,
) -> list[Path]:
    """Render PDF pages to PNG with poppler's pdftoppm, as a cheap printer/scan would."""
    out_dir.mkdir(parents=True, exist_ok=True)
    src = out_dir / f"{prefix}.pdf"
    src.write_bytes(pdf)
    cmd = ["pdftoppm", "-r", str(dpi), "-png"]
    if first:
        cmd += ["-f", str(first)]
    if last:
        cmd += ["-l", str(last)]
    subprocess.run(cmd + [str(src), str(out_dir / prefix)], check=True)
    return sorted(out_dir.glob(f"{prefix}-*.png"))


def decode_qr(png: Path) -> list[str]:
    """Every QR code zxing-cpp finds on the picture, top to bottom, left to right."""
    import zxingcpp
    from PIL import Image

    found = zxingcpp.read_barcodes(Image.open(png))
    found = [b for b in found if b.format == zxingcpp.BarcodeFormat.QRCode]
    found.sort(key=lambda b: (round(b.position.top_left.y / 50), b.position.top_left.x))
    return [b.text for b in found]


def zbar_decode(png: Path) -> list[str]:
    """The same with a second, independent decoder (zbar's zbarimg)."""
    out = subprocess.run(
        ["zbarimg", "-q", "--raw", "-Sdisable", "-Sqrcode.enable", str(png)],
        capture_output=True,
        text=True,
    )
    return [ln for ln in out.stdout.splitlines() if ln.strip()]
