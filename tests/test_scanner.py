"""The vendored QR decoder and scanner.js, without a browser: the files are there with their
licences, they obey the CSP (no eval, no blob: workers, no network), the pages that use the
scanner load it, and the decoder itself reads slips printed by our PDF pipeline at 150 dpi
(run in Node.js, the same worker file the browser runs). The camera path is in
tests/e2e/test_scanner_camera.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

# the vendored decoder, scanner.js and the templates' source; no app
pytestmark = pytest.mark.db_independent

ROOT = Path(__file__).resolve().parent.parent
STATIC = ROOT / "static"
SCANNER_JS = STATIC / "js" / "scanner.js"
SCANNER_CSS = STATIC / "css" / "scanner.css"
WORKER = STATIC / "vendor" / "qr-scanner" / "qr-scanner-worker.min.js"


def test_vendored_decoder_has_licences_and_recorded_version():
    assert WORKER.stat().st_size > 30_000
    lic = (WORKER.parent / "LICENSE").read_text()
    assert "MIT License" in lic and "Nimiq" in lic
    assert "Apache License" in (WORKER.parent / "LICENSE.jsQR").read_text()
    readme = (STATIC / "vendor" / "README.md").read_text()
    assert "qr-scanner" in readme and "1.4.2" in readme


def test_scanner_obeys_the_csp():
    js = SCANNER_JS.read_text()
    worker = WORKER.read_text()
    for src in (js, worker):
        src = re.sub(r"/\*.*?\*/", "", src, flags=re.DOTALL)  # comments may name what we avoid
        assert "eval(" not in src and "new Function" not in src
        assert "WebAssembly" not in src
        assert not re.search(r"https?://", src)
        assert "importScripts" not in src and "fetch(" not in src
    code = re.sub(r"/\*.*?\*/", "", js, flags=re.DOTALL)
    assert "createObjectURL" not in code and "blob:" not in code
    # The worker is a same-origin file next to scanner.js, as the README says.
    assert "vendor/qr-scanner/qr-scanner-worker.min.js" in js
    assert "style=" not in code and ".innerHTML" not in code


def test_sizes_stay_small():
    """The kiosk page has a 150 KB budget: scanner.js + its CSS + the lazily loaded decoder
    must leave most of it to the page."""
    total = sum(p.stat().st_size for p in (SCANNER_JS, SCANNER_CSS, WORKER))
    assert SCANNER_JS.stat().st_size < 20_000
    assert total < 75_000


def test_every_page_with_a_scanner_loads_it():
    """A template with a data-scanner element must load scanner.js (it links scanner.css
    itself if the page has not) and say which input the decoded text goes to."""
    for tpl in (ROOT / "templates").rglob("*.html"):
        text = tpl.read_text()
        if "data-scanner" not in text:
            continue
        assert "js/scanner.js" in text, f"{tpl} has a scanner but does not load scanner.js"
        for tag in re.findall(r"<[^>]*\bdata-scanner\b[^>]*>", text):
            assert "data-target=" in tag, f"{tpl}: {tag} names no data-target"


# ---- the decoder on printed slips ------------------------------------------------------------

NODE_HARNESS = r"""
const fs = require('fs');
const src = fs.readFileSync(process.argv[2], 'utf8');
const out = [];
const self = {postMessage: m => out.push(m), close() {}};
new Function('self', src)(self);
const jobs = JSON.parse(fs.readFileSync(0, 'utf8'));
for (const j of jobs) {
  const data = new Uint8ClampedArray(fs.readFileSync(j.file));
  const msg = {data, width: j.width, height: j.height};
  self.onmessage({data: {id: j.id, type: 'decode', data: msg}});
}
process.stdout.write(JSON.stringify(out.map(m => m.data)));
"""


def decode_with_worker(images, tmp_path) -> list[str | None]:
    """Run the vendored worker in Node.js on PIL images (as the browser would post them)."""
    node = shutil.which("node")
    if node is None:
        pytest.skip("node is not installed (the browser test covers the decoder too)")
    harness = tmp_path / "harness.js"
    harness.write_text(NODE_HARNESS)
    jobs = []
    for i, img in enumerate(images):
        f = tmp_path / f"frame{i}.rgba"
        f.write_bytes(img.convert("RGBA").tobytes())
        jobs.append({"id": i, "file": str(f), "width": img.width, "height": img.height})
    res = subprocess.run(
        [node, str(harness), str(WORKER)],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    return json.loads(res.stdout)


def camera_frame(png: Path, width=640, height=480):
    """What scanner.js hands the decoder: the slip seen by a 640x480 camera."""
    from PIL import Image

    img = Image.open(png).convert("RGB")
    img.thumbnail((width - 40, height - 40), Image.LANCZOS)
    frame = Image.new("RGB", (width, height), (128, 128, 128))
    frame.paste(img, ((width - img.width) // 2, (height - img.height) // 2))
    return frame


def test_worker_reads_ballot_slips_printed_at_150_dpi(tmp_path):
    from congress_vote.codes import new_code
    from tests.e2e.test_scanner_camera import slip_png

    texts = [f"http://vote.test/b/{new_code()}" for _ in range(6)]
    frames = []
    for i, text in enumerate(texts):
        d = tmp_path / f"s{i}"
        d.mkdir()
        # Both the 30 mm QR of a slip and a smaller 22 mm one (a card), at 150 dpi.
        frames.append(camera_frame(slip_png(text, d, dpi=150, qr_mm=30 if i % 2 else 22)))
    blank = frames[0].copy()
    blank.paste((200, 200, 200), (0, 0, blank.width, blank.height))
    assert decode_with_worker(frames + [blank], tmp_path) == texts + [None]


def test_a_scanned_ballot_url_resolves_whatever_its_case():
    """The kiosk field upper-cases what is typed into it (and a USB scanner with caps lock does
    too), so the QR text reaches the server as HTTP://…/B/<CODE>: it must still be the ballot."""
    from congress_vote.ballots.services import resolve_code
    from congress_vote.codes import new_code, normalise

    code = normalise(new_code())
    for text in (
        f"http://vote.test/b/{code}",
        f"HTTP://VOTE.TEST/B/{code}",
        f"https://vote.test/B/{code}?k=3",
    ):
        assert resolve_code(text) == code
