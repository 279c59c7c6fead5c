import io

import pytest
import zxingcpp
from PIL import Image

# WeasyPrint, the QR code and the fetcher: the app is there for its request context only
pytestmark = pytest.mark.db_independent


def test_qr_svg_decodes_and_fetcher_refuses_network(app, tmp_path):
    import subprocess

    from congress_vote.reports.pdf import html_to_pdf, qr_svg

    with app.test_request_context():
        svg = qr_svg("http://vote.test/b/K7QM2XHD9RBTW4NCP", 40)
        html = f"<html><body><p>Bầu Ban Chấp hành</p>{svg}<img src='http://example.com/x.png'></body></html>"
        pdf = html_to_pdf(html)
    p = tmp_path / "q.pdf"
    p.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(p), str(tmp_path / "pg")], check=True)
    img = Image.open(next(tmp_path.glob("pg*.png")))
    found = [r.text for r in zxingcpp.read_barcodes(img)]
    assert found == ["http://vote.test/b/K7QM2XHD9RBTW4NCP"]
    from pypdf import PdfReader

    assert "Bầu Ban Chấp hành" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()


def test_fetcher_refuses_files_outside_static():
    from congress_vote.reports.pdf import LocalOnlyFetcher

    f = LocalOnlyFetcher(allowed_protocols=("data", "file"))
    for url in ("file:///etc/passwd", "http://127.0.0.1/", "https://example.com/a.css"):
        with pytest.raises(ValueError):
            f.fetch(url)
