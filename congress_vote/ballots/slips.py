"""The ballot slips PDF: 8 slips per A4 page with cut marks, the QR of PUBLIC_BASE_URL/b/<code>,
the printed code, the poll title, round and setup fingerprint, and short instructions (printed in
Vietnamese by default).

Why not one WeasyPrint run over all slips: WeasyPrint lays out ~30 slips a second, so 2,000 slips
took over a minute. The static part of a page is the same for every page of a batch, so
templates/print/slips.html is rendered once by WeasyPrint (a full page, plus a partial last page)
and each page of the PDF reuses that page's content stream; only the per-slip parts are drawn as
vector paths into an extra content stream per page: the QR modules as rectangles and the code in
DejaVu Sans Mono Bold glyph outlines (read with fontTools, so no font needs embedding). The QR
version is fixed per batch and the mask pattern fixed, which makes encoding ~8x faster; every
mask is a valid QR code.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import lru_cache

import qrcode
from flask import current_app, render_template
from flask_babel import force_locale
from pypdf import PdfReader, PdfWriter
from pypdf.generic import ArrayObject, DecodedStreamObject, NameObject

from .. import codes
from ..reports.pdf import STATIC, html_to_pdf

SLIPS_PER_PAGE = 8
MM = 72 / 25.4
PAGE_H = 297.0
MARGIN_LEFT, MARGIN_TOP = 10.0, 8.5
SLIP_W, SLIP_H = 95.0, 70.0
QR_BOX = (2.0, 23.0, 34.0)  # left, top, size (mm) inside a slip; the template's .qr
QR_BORDER = 2  # quiet modules inside the box (the rest of the quiet zone is blank)
CODE_AT = (38.0, 31.2)  # left, baseline (mm) inside a slip; the template's .code
CODE_PT = 10.8
FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSansMono-Bold.ttf"


@lru_cache(maxsize=1)
def _glyphs() -> dict[str, tuple[str, float]]:
    """PDF path operators (font units) and advance of each character a printed code uses."""
    from fontTools.pens.basePen import BasePen
    from fontTools.ttLib import TTFont

    class PdfPen(BasePen):
        def __init__(self, glyphset) -> None:
            super().__init__(glyphset)
            self.ops: list[str] = []

        def _moveTo(self, p):
            self.ops.append(f"{p[0]:g} {p[1]:g} m")

        def _lineTo(self, p):
            self.ops.append(f"{p[0]:g} {p[1]:g} l")

        def _curveToOne(self, p1, p2, p3):
            self.ops.append(f"{p1[0]:g} {p1[1]:g} {p2[0]:g} {p2[1]:g} {p3[0]:g} {p3[1]:g} c")

        def _closePath(self):
            self.ops.append("h")

    font = TTFont(FONT)
    cmap = font.getBestCmap()
    gs = font.getGlyphSet()
    upem = font["head"].unitsPerEm
    out = {}
    for ch in codes.ALPHABET + "-":
        name = cmap[ord(ch)]
        pen = PdfPen(gs)
        gs[name].draw(pen)
        out[ch] = (" ".join(pen.ops), font["hmtx"][name][0])
    out["_upem"] = ("", upem)
    return out


def _text_ops(text: str, x: float, y: float, size: float) -> str:
    g = _glyphs()
    scale = size / g["_upem"][1]
    parts = []
    for ch in text:
        ops, adv = g[ch]
        parts.append(f"q {scale:.6f} 0 0 {scale:.6f} {x:.3f} {y:.3f} cm {ops} f Q")
        x += adv * scale
    return "\n".join(parts)


def _qr_version(url: str) -> int:
    q = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=0)
    q.add_data(url)
    q.make(fit=True)
    return q.version


def _qr_ops(url: str, version: int, x0: float, y_top: float, size: float) -> str:
    """The QR of `url` as filled rectangles, one per run of dark modules, in a size-pt box."""
    q = qrcode.QRCode(
        version=version, error_correction=qrcode.constants.ERROR_CORRECT_M, border=0, mask_pattern=0
    )
    q.add_data(url)
    q.make(fit=False)
    matrix = q.get_matrix()
    n = len(matrix) + 2 * QR_BORDER
    m = size / n
    parts = []
    for r, row in enumerate(matrix):
        y = y_top - (r + QR_BORDER + 1) * m
        c = 0
        while c < len(row):
            if row[c]:
                start = c
                while c < len(row) and row[c]:
                    c += 1
                parts.append(
                    f"{x0 + (start + QR_BORDER) * m:.3f} {y:.3f} {(c - start) * m:.3f} {m:.3f} re"
                )
            else:
                c += 1
    return "0 g\n" + "\n".join(parts) + "\nf"


def _page_ops(base_url: str, page_codes: list[str], version: int) -> bytes:
    ops = []
    for i, code in enumerate(page_codes):
        col, row = i % 2, i // 2
        sx = (MARGIN_LEFT + col * SLIP_W) * MM
        stop = (PAGE_H - MARGIN_TOP - row * SLIP_H) * MM  # the slip's top edge, PDF y up
        qx, qy, qs = QR_BOX
        ops.append(_qr_ops(f"{base_url}/b/{code}", version, sx + qx * MM, stop - qy * MM, qs * MM))
        cx, cy = CODE_AT
        ops.append(
            "0 g\n" + _text_ops(codes.format_code(code), sx + cx * MM, stop - cy * MM, CODE_PT)
        )
    return ("q\n" + "\n".join(ops) + "\nQ\n").encode()


def _background(poll, congress, slots: int, locale: str) -> PdfReader:
    with force_locale(locale):
        html = render_template(
            "print/slips.html",
            poll=poll,
            congress=congress,
            slots=slots,
            locale=locale,
            static_path=STATIC.as_uri(),
        )
    return PdfReader(io.BytesIO(html_to_pdf(html)))


def render_slips(
    poll,
    plain_codes: list[str],
    locale: str = "vi",
    progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """The slips PDF for `plain_codes` (normalised codes) of `poll`; `progress(done, total)` is
    told the slips drawn so far after each page (a background job's bar)."""
    from ..congress.models import Congress
    from ..extensions import db

    congress = db.session.get(Congress, poll.congress_id)
    base_url = current_app.config["PUBLIC_BASE_URL"]
    pages = [
        plain_codes[i : i + SLIPS_PER_PAGE] for i in range(0, len(plain_codes), SLIPS_PER_PAGE)
    ]
    version = max(_qr_version(f"{base_url}/b/{plain_codes[0]}"), 2) if plain_codes else 2
    full = _background(poll, congress, SLIPS_PER_PAGE, locale) if len(pages[0]) == 8 else None
    last = None
    if pages and len(pages[-1]) < SLIPS_PER_PAGE:
        last = _background(poll, congress, len(pages[-1]), locale)
    writer = PdfWriter()
    push_stream, pop_stream = DecodedStreamObject(), DecodedStreamObject()
    push_stream.set_data(b"q\n")
    pop_stream.set_data(b"\nQ\n")
    push, pop = writer._add_object(push_stream), writer._add_object(pop_stream)
    title = f"Ballot slips: {poll.title}"
    for n, page_codes in enumerate(pages, 1):
        if progress is not None:
            progress(min((n - 1) * SLIPS_PER_PAGE, len(plain_codes)), len(plain_codes))
        background = full if len(page_codes) == SLIPS_PER_PAGE else last
        assert background is not None  # a full page has `full`, a short last page `last`
        page = writer.add_page(background.pages[0])
        overlay = DecodedStreamObject()
        overlay.set_data(_page_ops(base_url, page_codes, version))
        contents = page.raw_get("/Contents")
        base = list(contents) if isinstance(contents, ArrayObject) else [contents]
        # The page's own stream may leave a transform in force: fence it with q ... Q.
        page[NameObject("/Contents")] = ArrayObject(
            [push] + base + [pop, writer._add_object(overlay.flate_encode(level=1))]
        )
    writer.add_metadata({"/Title": title})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()
