"""Issue 17 item 11: `flask --app wsgi hall`, started on a fresh instance folder with an address
to serve on (127.0.0.2 stands in for the laptop's LAN address; never a real network address),
makes its certificate authority and serves HTTPS there with gunicorn on SQLite; it prints the
address as text and as a QR code that reads back as the address; a Chromium told to trust the
generated authority (by the key's SPKI hash) opens the kiosk over https and scans a slip with the
fake camera; the trust page gives the authority's certificate and its fingerprint."""

from __future__ import annotations

import os
import secrets
import signal
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.e2e.conftest import decode_qr, launch_chromium, shot
from tests.e2e.test_scanner_camera import png_to_y4m, slip_png

pytestmark = pytest.mark.e2e

ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.2"
QR_CHARS = set("█▀▄ ")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _wait_https(url: str, ctx: ssl.SSLContext, proc, log: Path, seconds: float = 240) -> None:
    """Poll until the server answers (its start on a busy machine takes a while)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the hall command stopped:\n{log.read_text()}"
        try:
            with urllib.request.urlopen(url, context=ctx, timeout=5) as r:
                if r.status == 200:
                    return
        except (OSError, urllib.error.URLError):
            time.sleep(0.5)
    raise AssertionError(f"no HTTPS answer from {url}:\n{log.read_text()}")


def _qr_from_terminal(text: str, out: Path) -> Path:
    """The printed half-block QR code drawn back as a picture (a light module per █ half)."""
    from PIL import Image

    lines = [ln for ln in text.splitlines() if ln and set(ln) <= QR_CHARS and "█" in ln]
    width = max(len(ln) for ln in lines)
    scale = 8
    img = Image.new("L", ((width + 8) * scale, (2 * len(lines) + 8) * scale), 255)
    for y, line in enumerate(lines):
        for x, ch in enumerate(line.ljust(width)):
            top_light, bottom_light = ch in "█▀", ch in "█▄"
            for half, light in ((0, top_light), (1, bottom_light)):
                if not light:  # a dark module
                    for dy in range(scale):
                        for dx in range(scale):
                            img.putpixel(((x + 4) * scale + dx, (2 * y + half + 4) * scale + dy), 0)
    img.save(out)
    return out


def _hall_data(instance: Path, base: str) -> tuple[int, str, list[str]]:
    """A congress (kiosk_only off: the test browser is not an enrolled kiosk) with an open poll
    and one issued ballot, written straight into the hall's SQLite database."""
    from congress_vote import codes, create_app
    from congress_vote.ballots.models import BallotToken, IssueBatch
    from congress_vote.extensions import db
    from tests import fx_reports as fx

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{instance / 'congress.db'}",
            "SECRET_KEY": (instance / "secret_key").read_text().strip(),
            "PUBLIC_BASE_URL": base,
        }
    )
    with app.app_context():
        c = fx.make_congress()
        c.kiosk_only = False
        p = fx.make_poll(c, "committee", "Bầu Ban Chấp hành", fx.COMMITTEE, seats=3, order=1)
        fx.open_poll(p)
        batch = IssueBatch(poll_id=p.id, count=1, kind="slip")
        db.session.add(batch)
        db.session.flush()
        code = codes.new_code()
        db.session.add(
            BallotToken(
                token_hash=codes.code_hash(code), poll_id=p.id, batch_id=batch.id, state="unused"
            )
        )
        db.session.commit()
        cid = c.id
        db.engine.dispose()
    return cid, code, list(fx.COMMITTEE)


def test_hall_command_serves_https_and_a_trusting_tablet_scans_a_slip(tmp_path, playwright_driver):
    from congress_vote.hall.tls import der, fingerprint, spki_hash

    instance = tmp_path / "instance"
    port = _free_port()
    base = f"https://{HOST}:{port}"
    log = tmp_path / "hall.log"
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "TEST_DATABASE_URL")}
    env.update(CONGRESS_VOTE_INSTANCE=str(instance), PYTHONUNBUFFERED="1", GUNICORN_WORKERS="2")
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "flask",
                "--app",
                "wsgi",
                "hall",
                "--host",
                HOST,
                "--port",
                str(port),
            ],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        ca_file = instance / "hall-tls" / "ca.pem"
        deadline = time.monotonic() + 240
        while not ca_file.exists() and time.monotonic() < deadline:
            assert proc.poll() is None, log.read_text()
            time.sleep(0.2)
        ctx = ssl.create_default_context(cafile=str(ca_file))
        _wait_https(base + "/hall/trust", ctx, proc, log)

        # HTTPS for real: a client that does not trust the authority is refused
        with pytest.raises(urllib.error.URLError) as refused:
            urllib.request.urlopen(base + "/", context=ssl.create_default_context(), timeout=10)
        assert "CERTIFICATE_VERIFY_FAILED" in str(refused.value)
        # SQLite in the fresh instance; the certificate names the address
        assert (instance / "congress.db").exists()
        ca_pem = ca_file.read_bytes()
        printed = log.read_text()
        assert base in printed and f"{base}/hall/trust" in printed
        assert fingerprint(ca_pem) in printed
        assert decode_qr(_qr_from_terminal(printed, tmp_path / "qr.png")) == [base]

        cid, code, names = _hall_data(instance, base)
        y4m = png_to_y4m(slip_png(f"{base}/b/{code}", tmp_path), tmp_path / "slip.y4m")
        # Chromium trusts a key named by its SPKI hash: the hall's server key, which the
        # authority certified (Chromium matches the leaf's key, not its issuer's)
        server_pem = (instance / "hall-tls" / "server.pem").read_bytes()
        trust = f"--ignore-certificate-errors-spki-list={spki_hash(server_pem)}"
        browser = launch_chromium(playwright_driver, y4m, trust)
        try:
            ctx_b = browser.new_context(viewport={"width": 1024, "height": 768}, locale="vi-VN")
            ctx_b.grant_permissions(["camera"], origin=base)
            page = ctx_b.new_page()
            assert proc.poll() is None, log.read_text()
            page.goto(f"{base}/kiosk/{cid}")
            assert page.evaluate("window.isSecureContext") is True
            assert page.evaluate("location.protocol") == "https:"
            # the fake camera shows the slip: the scanner reads it and opens the ballot
            with page.expect_navigation(url="**/b/**", timeout=60000):
                page.get_by_role("button", name="Dùng camera").click()
            page.wait_for_selector("label.strike-row", timeout=30000)
            text = page.inner_text("main")
            assert all(n in text for n in names)
            shot(page, "hall-https-kiosk-ballot-1024")

            # the trust page, at a portrait tablet: the certificate and its fingerprint
            tab = browser.new_context(
                viewport={"width": 768, "height": 1024}, locale="vi-VN", accept_downloads=True
            ).new_page()
            tab.goto(f"{base}/hall/trust")
            assert tab.inner_text("#ca-fingerprint") == fingerprint(ca_pem)
            assert "Android" in tab.inner_text("main") and "iPad" in tab.inner_text("main")
            with tab.expect_download() as dl:
                tab.click("#ca-android")
            assert Path(dl.value.path()).read_bytes() == der(ca_pem)
            shot(tab, "hall-trust-768", full_page=True)
        finally:
            browser.close()
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def test_the_authority_is_made_once_and_a_new_address_gets_a_new_server_certificate(tmp_path):
    from congress_vote.hall.tls import ensure_tls

    first = ensure_tls(str(tmp_path), "127.0.0.2")
    ca, server = first.ca_cert.read_bytes(), first.cert.read_bytes()
    again = ensure_tls(str(tmp_path), "127.0.0.2")
    assert again.ca_cert.read_bytes() == ca and again.cert.read_bytes() == server
    moved = ensure_tls(str(tmp_path), "127.0.0.3")
    assert moved.ca_cert.read_bytes() == ca and moved.cert.read_bytes() != server
    assert oct(first.ca_key.stat().st_mode & 0o777) == "0o600"
    assert secrets.compare_digest(ca, moved.ca_cert.read_bytes())
