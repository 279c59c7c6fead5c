"""Delegate cards and the credentials committee's attendance report (PDF).

Cards: A4 sheets of 10 cards (2 columns x 5 rows, 90 x 54 mm, cut marks by the card borders),
each with the congress, the delegate's name, branch, list code, membership, a 28 mm QR code of
`CV1:C:<card code>` and the card code printed in groups for typing. Large lists are rendered in
batches of whole pages (HTML is built here, WeasyPrint lays out each batch, pypdf joins them), in
worker processes when the machine has more than one core.
"""
from __future__ import annotations

import base64
import io
import os
import re
from concurrent.futures import ProcessPoolExecutor
import multiprocessing

import qrcode
from flask import current_app, render_template
from flask_babel import force_locale, format_datetime
from PIL import Image

from .. import codes
from ..audit.services import head_hash
from ..db import utcnow
from ..reports.pdf import STATIC, html_to_pdf, join_pdfs
from .models import Congress, Delegate
from .services import QR_PREFIX, absentees, attendance, card_code, list_delegates

CARDS_PER_PAGE = 10
BATCH_PAGES = 25  # 250 cards per WeasyPrint run


def qr_png_uri(data: str, border: int = 2) -> str:
    """A QR code (error correction M) as a data: URI of a PNG with one pixel per module.

    Printed with `image-rendering: pixelated`, it is as sharp as the SVG of reports.pdf.qr_svg
    but WeasyPrint draws it about ten times faster (an image, not a path of hundreds of
    squares), which matters for 2,000 cards."""
    # Version 2-M holds 38 alphanumeric characters: `CV1:C:` + 17 fits with room to spare.
    # A fixed mask skips the library's search over eight masks (8x faster); any mask decodes.
    qr = qrcode.QRCode(version=2 if len(data) <= 38 else None,
                       error_correction=qrcode.constants.ERROR_CORRECT_M, border=border,
                       mask_pattern=4)
    qr.add_data(data)
    qr.make(fit=len(data) > 38)
    matrix = qr.get_matrix()
    n = len(matrix)
    img = Image.new("1", (n, n), 1)
    img.putdata([0 if cell else 1 for row in matrix for cell in row])
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=False)
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def _card(d: Delegate) -> dict:
    code = card_code(d)
    return {"name": d.full_name, "branch": d.branch_name, "code": d.code,
            "full": d.can_vote, "card_code": codes.format_code(code),
            # A placeholder: the QR image is drawn by the worker that lays out the batch.
            "qr": _QR_PLACEHOLDER + QR_PREFIX + code}


def cards_html(congress: Congress, delegates: list[Delegate]) -> list[str]:
    """One HTML document per batch of BATCH_PAGES pages (Vietnamese, as printed)."""
    batch = CARDS_PER_PAGE * BATCH_PAGES
    docs = []
    with force_locale("vi"):
        for start in range(0, max(len(delegates), 1), batch):
            cards = [_card(d) for d in delegates[start:start + batch]]
            pages = [cards[i:i + CARDS_PER_PAGE] for i in range(0, len(cards), CARDS_PER_PAGE)]
            docs.append(render_template("print/cards.html", congress=congress, pages=pages,
                                        static_path=STATIC.as_uri()))
    return docs


_QR_PLACEHOLDER = "cvqr:"
_QR_SRC = re.compile(r'src="cvqr:([A-Z0-9:]{1,60})"')


def _layout(html: str) -> bytes:
    """Fill in the QR images of a batch and lay it out (runs in a worker process)."""
    html = _QR_SRC.sub(lambda m: f'src="{qr_png_uri(m.group(1))}"', html)
    return html_to_pdf(html)


def _workers(n_docs: int) -> int:
    if n_docs < 2 or current_app.config.get("PDF_WORKERS") == 1:
        return 1
    return max(1, min(n_docs, current_app.config.get("PDF_WORKERS") or os.cpu_count() or 1))


def render_many(docs: list[str]) -> bytes:
    """HTML documents -> one PDF; in parallel processes when it pays."""
    workers = _workers(len(docs))
    if workers == 1:
        parts = [_layout(h) for h in docs]
    else:
        # fork: the children only lay out HTML strings; they touch no database or request.
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as ex:
            parts = list(ex.map(_layout, docs))
    return parts[0] if len(parts) == 1 else join_pdfs(parts)


def cards_pdf(congress: Congress, delegates: list[Delegate] | None = None) -> bytes:
    """The delegate cards of `delegates` (default: the whole list in Vietnamese name order)."""
    if delegates is None:
        delegates = list_delegates(congress)
    return render_many(cards_html(congress, delegates))


def attendance_pdf(congress: Congress) -> bytes:
    """The credentials committee's attendance report, in Vietnamese."""
    absent, excused = absentees(congress)
    with force_locale("vi"):
        html = render_template("print/attendance.html", congress=congress,
                               figures=attendance(congress), absent=absent, excused=excused,
                               printed_at=format_datetime(utcnow(), "HH:mm, dd/MM/yyyy"), audit_head=head_hash(),
                               static_path=STATIC.as_uri())
    return html_to_pdf(html)
