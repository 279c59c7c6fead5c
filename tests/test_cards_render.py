"""Delegate cards PDF, how it is made: the QR codes (the qrcode package's modules with a fixed
mask, written as grayscale PNGs) have the modules the package chooses itself, the trimmed
user-agent stylesheet changes no pixel, the cvqr: fetcher, and batches laid out in a process
pool come back in order."""

from __future__ import annotations

import io
import random
import subprocess

import pytest
import qrcode
import qrcode.util
from PIL import Image, ImageChops
from pypdf import PdfReader

from congress_vote import codes
from congress_vote.congress import printing

zxingcpp = pytest.importorskip("zxingcpp")

# The layout of the cards; the database only supplies the delegates drawn.
pytestmark = pytest.mark.db_independent


def _package_modules(text: str, border: int, segment: bool = True) -> list[list[bool]]:
    """The qrcode package's modules: version 2-M, mask 4; `segment`: one alphanumeric segment,
    else the package's own choice of segments (what the cards used before)."""
    qr = qrcode.QRCode(
        version=2, error_correction=qrcode.constants.ERROR_CORRECT_M, border=border, mask_pattern=4
    )
    qr.add_data(
        qrcode.util.QRData(text.encode(), mode=qrcode.util.MODE_ALPHA_NUM) if segment else text
    )
    qr.make(fit=False)
    return [[bool(m) for m in row] for row in qr.get_matrix()]


def _png_modules(png: bytes) -> list[list[bool]]:
    img = Image.open(io.BytesIO(png))
    assert img.format == "PNG" and img.mode == "L"  # grayscale: WeasyPrint keeps it as it is
    w, h = img.size
    hist = img.histogram()
    assert w == h and sum(hist) == hist[0] + hist[255]  # black and white only
    return [[img.getpixel((x, y)) == 0 for x in range(w)] for y in range(h)]


def test_card_qr_has_the_modules_the_qrcode_package_gives():
    rnd = random.Random(190)
    for i in range(300):
        text = "CV1:C:" + codes.new_code()
        border = (0, 2, 4)[i % 3]
        expected = _package_modules(text, border, segment=False)
        assert _package_modules(text, border) == expected  # the package's choice for cards
        assert _png_modules(printing.qr_png(text, border)) == expected
        assert printing.qr_matrix(text, border) == expected
    # any text of the alphanumeric set that fits version 2-M, odd and even lengths
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    for n in list(range(1, 39)) * 5:
        text = "".join(rnd.choice(alphabet) for _ in range(n))
        assert _png_modules(printing.qr_png(text)) == _package_modules(text, 2), text


def test_other_qr_texts_go_through_the_package_and_decode():
    for text in ("http://vote.test/b/K7QM2XHD9RBTW4NCP", "CV1:C:" + "K" * 40, "Đại hội"):
        assert not printing._fits_v2m(text)
        assert _png_modules(printing.qr_png(text)) == printing.qr_matrix(text)
    for text in ("CV1:C:" + codes.new_code(), "http://vote.test/b/K7QM2XHD9RBTW4NCP"):
        img = Image.open(io.BytesIO(printing.qr_png(text)))
        big = img.resize((img.width * 8, img.height * 8), Image.NEAREST)
        assert [r.text for r in zxingcpp.read_barcodes(big)] == [text]


def test_cards_user_agent_stylesheet_drops_only_the_marker_and_footnote_rules():
    """If a WeasyPrint upgrade changes these rules, this fails: then check that the cards
    still never have the pseudo-elements of the rules that the trimming removes."""
    from weasyprint.html import UA

    full, trimmed = UA.splitlines(), printing.cards_ua_css(UA).splitlines()
    removed = [a for a, b in zip(full, trimmed, strict=False) if a != b]
    assert len(full) == len(trimmed) and all(
        b == "" for a, b in zip(full, trimmed, strict=False) if a != b
    )
    assert sorted(line.split("{")[0].strip() for line in removed) == sorted(
        "::" + p for p in printing._UNUSED_PSEUDO
    )
    assert printing._cards_html_class() is not printing.HTML


def _raster(pdf: bytes, tmp_path, name: str) -> list[Image.Image]:
    src = tmp_path / f"{name}.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "100", "-png", str(src), str(tmp_path / name)], check=True)
    return [Image.open(p).convert("RGB") for p in sorted(tmp_path.glob(f"{name}-*.png"))]


def test_cards_look_the_same_with_the_full_user_agent_stylesheet(app, sample_congress, tmp_path):
    from weasyprint import HTML

    from congress_vote.congress.delegates import list_delegates
    from congress_vote.congress.setup import get_congress

    with app.test_request_context():
        c = get_congress(sample_congress)
        ds = list_delegates(c)
        probationary = [d for d in ds if not d.can_vote]
        assert probationary
        html = printing.cards_html(c, (probationary + ds)[:20])[0]
        trimmed = printing._layout(html)
        full = HTML(
            string=html,
            base_url=str(printing.STATIC) + "/",
            url_fetcher=printing.CardsFetcher(allowed_protocols=("data", "file")),
        ).write_pdf()
    a, b = _raster(trimmed, tmp_path, "trimmed"), _raster(full, tmp_path, "full")
    assert len(a) == len(b) == 2
    for x, y in zip(a, b, strict=False):
        assert ImageChops.difference(x, y).getbbox() is None


def test_cards_fetcher_draws_card_qr_codes_and_nothing_else():
    f = printing.CardsFetcher(allowed_protocols=("data", "file"))
    r = f.fetch("cvqr:CV1:C:K7QM2XHD9RBTW4NCP")
    assert r.content_type == "image/png"
    assert _png_modules(r.read()) == _package_modules("CV1:C:K7QM2XHD9RBTW4NCP", 2)
    for url in (
        "cvqr:",
        "cvqr:cv1:c:abc",
        "cvqr:../../etc/passwd",
        "cvqr:" + "A" * 61,
        "file:///etc/passwd",
        "http://127.0.0.1/x.png",
    ):
        with pytest.raises(ValueError):
            f.fetch(url)


def test_cards_laid_out_in_a_pool_come_back_in_order(app, sample_congress, monkeypatch):
    from congress_vote.congress.delegates import list_delegates
    from congress_vote.congress.setup import get_congress

    monkeypatch.setattr(printing, "BATCH_PAGES", 2)  # 145 cards: 8 batches of up to 20
    app.config["PDF_WORKERS"] = 2
    with app.test_request_context():
        c = get_congress(sample_congress)
        ds = list_delegates(c)
        from_iterable = printing.cards_pdf(c)  # batches handed to the pool as they are made
        from_list = printing.render_many(printing.cards_html(c, ds[:50]))  # 3 batches
    for pdf, n in ((from_iterable, 145), (from_list, 50)):
        pages = PdfReader(io.BytesIO(pdf)).pages
        assert len(pages) == -(-n // 10)
        for i, page in enumerate(pages):
            text = page.extract_text()
            assert all(d.full_name in text for d in ds[i * 10 : min(n, (i + 1) * 10)])
