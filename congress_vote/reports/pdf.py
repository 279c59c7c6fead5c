"""PDF rendering with WeasyPrint, and QR codes as inline SVG.

Templates live in templates/print/. The URL fetcher refuses the network and every file outside
static/: a template (or a name typed into it) can never make the server fetch anything.
Big documents are rendered in batches and joined with pypdf (`render_batches`).
"""
from __future__ import annotations

import io
from collections.abc import Iterable
from pathlib import Path

import qrcode
import qrcode.image.svg
from flask import current_app, render_template
from markupsafe import Markup
from weasyprint import HTML
from weasyprint.urls import URLFetcher

STATIC = (Path(__file__).resolve().parent.parent.parent / "static").resolve()


class LocalOnlyFetcher(URLFetcher):
    """Only data: URIs and files under static/; anything else is refused."""

    def fetch(self, url, headers=None):
        if url.startswith("data:"):
            return super().fetch(url, headers)
        if url.startswith("file://"):
            path = Path(url[len("file://"):].split("?")[0]).resolve()
            if path == STATIC or STATIC in path.parents:
                return super().fetch(url, headers)
        raise ValueError(f"refused to fetch {url[:80]!r}: printing never uses the network")


def qr_svg(data: str, size_mm: float = 30, border: int = 2) -> Markup:
    """A QR code (error correction M) as inline SVG markup of `size_mm` millimetres."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=border,
                       box_size=10, image_factory=qrcode.image.svg.SvgPathImage)
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
        f'fill="#fff"/><path fill="#000" d="{"".join(parts)}"/></svg>')


def html_to_pdf(html: str, html_class: type[HTML] = HTML,
                fetcher: type[LocalOnlyFetcher] = LocalOnlyFetcher) -> bytes:
    """Lay out `html` (static/ as its base) with `fetcher`, a LocalOnlyFetcher (or a subclass
    that answers more, like the cards' QR codes), and `html_class` (the cards' trims
    WeasyPrint's user-agent stylesheet)."""
    return html_class(string=html, base_url=str(STATIC) + "/",
                      url_fetcher=fetcher(allowed_protocols=("data", "file"))).write_pdf()


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


def pdf_response(data: bytes, filename: str):
    resp = current_app.response_class(data, mimetype="application/pdf")
    resp.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    return resp
