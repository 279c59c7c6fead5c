"""PDF rendering with WeasyPrint, and QR codes as inline SVG.

Templates live in templates/print/. The URL fetcher refuses the network and every file outside
static/: a template (or a name typed into it) can never make the server fetch anything.
Big documents are rendered in batches and joined with pypdf (`render_batches`).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

import qrcode
import qrcode.image.svg
from flask import current_app, render_template
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.urls import URLFetcher

from .. import paths

STATIC = paths.STATIC.resolve()


def static_file(url: str) -> Path | None:
    """The real path of a file: URL when it names a file inside static/, else None.

    The path is percent-decoded first (`%2e%2e` is `..`, as urllib reads it when it opens the
    file), then resolved with every symlink followed: `file://<static>/%2e%2e/…`, `..` and a link
    out of static/ all land outside and are refused."""
    parts = urlsplit(url)
    if parts.scheme.lower() != "file" or parts.netloc not in ("", "localhost"):
        return None
    raw = url2pathname(parts.path)
    if "\x00" in raw or not raw.startswith("/"):
        return None
    path = Path(os.path.realpath(raw))
    if path == STATIC or STATIC in path.parents:
        return path if path.is_file() else None
    return None


class LocalOnlyFetcher(URLFetcher):
    """Only data: URIs and files under static/; anything else is refused."""

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        path = static_file(url)
        if path is not None:
            # The checked real path, not the URL: nothing is decoded or resolved a second time.
            return super().fetch(path.as_uri(), headers)
        raise ValueError(f"refused to fetch {url[:80]!r}: printing reads only static/ files")


def qr_svg(data: str, size_mm: float = 30, border: int = 2) -> Markup:
    """A QR code (error correction M) as inline SVG markup of `size_mm` millimetres."""
    qr = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=border,
        box_size=10,
        image_factory=qrcode.image.svg.SvgPathImage,
    )
    qr.add_data(data)
    qr.make(fit=True)
    n = qr.modules_count + 2 * border
    # One path of unit squares: small, crisp at any printer resolution.
    parts = []
    for y, row in enumerate(qr.get_matrix()):
        x = 0
        while x < len(row):
            if row[x]:
                start = x
                while x < len(row) and row[x]:
                    x += 1
                parts.append(f"M{start} {y}h{x - start}v1h-{x - start}z")
            else:
                x += 1
    return Markup(
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {n} {n}" width="{size_mm}mm" '
        f'height="{size_mm}mm" shape-rendering="crispEdges"><rect width="{n}" height="{n}" '
        f'fill="#fff"/><path fill="#000" d="{"".join(parts)}"/></svg>'
    )


def html_to_pdf(
    html: str, html_class: type[HTML] = HTML, fetcher: type[LocalOnlyFetcher] = LocalOnlyFetcher
) -> bytes:
    """Lay out `html` (static/ as its base) with `fetcher`, a LocalOnlyFetcher (or a subclass
    that answers more, like the cards' QR codes), and `html_class` (the cards' trims
    WeasyPrint's user-agent stylesheet)."""
    return html_class(
        string=html,
        base_url=str(STATIC) + "/",
        url_fetcher=fetcher(allowed_protocols=("data", "file")),
    ).write_pdf()


def render_pdf(template: str, **context) -> bytes:
    """Render templates/print/<template> to PDF bytes."""
    context.setdefault("static_path", STATIC.as_uri())
    return html_to_pdf(render_template(template, **context))


def join_pdfs(parts: Iterable[bytes]) -> bytes:
    """PDFs -> one PDF; a part is appended as soon as the iterable gives it (e.g. from a pool)."""
    from pypdf import PdfWriter

    writer = PdfWriter()
    for part in parts:
        writer.append(io.BytesIO(part))
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pdf_response(data: bytes, filename: str, status: int = 200, no_store: bool = False):
    """A PDF answer shown inline as `filename`. `no_store`: a document that must never stay in a
    browser's or a proxy's cache (a background job's file) says so itself, not only through the
    after-request headers of security.py."""
    resp = current_app.response_class(data, status=status, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    if no_store:
        resp.headers["Cache-Control"] = "no-store"
    return resp
