"""The delegate import against XLSX zip bombs (issue 14, hole 8): a small upload that expands to a
million rows is refused with 422 after reading at most the row cap, or before parsing at all
when the zip declares more than the uncompressed-size cap."""

from __future__ import annotations

import io
import re
import time
import zipfile

import pytest

from congress_vote.extensions import db

HEADER = ["code", "full_name", "branch", "membership"]
SHEET = "xl/worksheets/sheet1.xml"


def _row(n: int) -> str:
    return (
        f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>D{n}</t></is></c>'
        f'<c r="B{n}" t="inlineStr"><is><t>Đảng viên {n}</t></is></c>'
        f'<c r="C{n}" t="inlineStr"><is><t>Chi bộ 1</t></is></c>'
        f'<c r="D{n}" t="inlineStr"><is><t>full</t></is></c></row>'
    )


def _lean_row(n: int) -> str:
    return "<row><c><v>1</v></c></row>"  # no row number: each row is the next one


def _xlsx(rows_xml=None, real_rows: int = 0, row=_row) -> bytes:
    """A workbook made by openpyxl (header and one delegate), whose sheet then gets `rows_xml`
    and `real_rows` more rows (`row(n)`) written straight into its XML (fast, streamed)."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.append(HEADER)
    ws.append(["D0001", "Nguyễn Văn An", "Chi bộ 1", "full"])
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename != SHEET:
                dst.writestr(info.filename, data)
                continue
            head, tail = data.decode().split("</sheetData>")
            # the sheet's declared extent, as Excel writes it (openpyxl reads up to it)
            last = 1_048_576 if rows_xml else real_rows + 2
            head = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:D{last}"/>', head)
            sheet = zipfile.ZipInfo(SHEET)
            sheet.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(sheet, "w", force_zip64=real_rows > 100_000) as f:
                f.write(head.encode())
                chunk = []
                for n in range(3, real_rows + 3):
                    chunk.append(row(n))
                    if len(chunk) == 10_000:
                        f.write("".join(chunk).encode())
                        chunk = []
                f.write("".join(chunk).encode())
                f.write((rows_xml or "").encode())
                f.write(("</sheetData>" + tail).encode())
    return out.getvalue()


@pytest.fixture
def pulled(monkeypatch):
    """How many rows openpyxl's read-only sheet handed out, and how many sheets it opened."""
    from openpyxl.worksheet._read_only import ReadOnlyWorksheet

    seen = {"rows": 0, "sheets": 0}
    original = ReadOnlyWorksheet._cells_by_row

    def counting(self, *args, **kwargs):
        seen["sheets"] += 1
        for row in original(self, *args, **kwargs):
            seen["rows"] += 1
            yield row

    monkeypatch.setattr(ReadOnlyWorksheet, "_cells_by_row", counting)
    return seen


def _import(api, cid, data: bytes):
    return api("admin").post(
        f"/api/v1/congresses/{cid}/delegates/import",
        data={"file": (io.BytesIO(data), "bomb.xlsx")},
        content_type="multipart/form-data",
    )


def _no_delegates(app, cid):
    from congress_vote.congress.models import Delegate

    with app.app_context():
        return db.session.query(Delegate).filter_by(congress_id=cid).count() == 0


@pytest.fixture
def cid(api):
    r = api("admin").post("/api/v1/congresses", json={"name": "Đại hội thử"})
    assert r.status_code == 201, r.json
    return r.json["id"]


def test_row_gap_bomb_stops_at_the_row_cap(api, app, cid, pulled):
    """One row at the sheet's last line: openpyxl fills the gap with a million empty rows."""
    from congress_vote.congress.importing import MAX_TABLE_ROWS

    data = _xlsx('<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row>')
    assert len(data) < 20_000
    start = time.perf_counter()
    r = _import(api, cid, data)
    took = time.perf_counter() - start
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == "invalid_rows"
    assert str(MAX_TABLE_ROWS) in r.json["rows"][0]["message"]
    assert 0 < pulled["rows"] <= MAX_TABLE_ROWS + 1, pulled
    assert took < 10, took
    assert _no_delegates(app, cid)


def test_many_real_rows_stop_at_the_row_cap(api, app, cid, pulled):
    from congress_vote.congress.importing import MAX_TABLE_ROWS

    data = _xlsx(real_rows=MAX_TABLE_ROWS + 5_000)
    r = _import(api, cid, data)
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_rows", r.json
    assert pulled["rows"] <= MAX_TABLE_ROWS + 1, pulled
    assert _no_delegates(app, cid)


def test_million_row_bomb_is_refused_before_parsing(api, app, cid, pulled):
    """The reported attack: a small XLSX holding a million rows (~26 MB of XML). The zip's
    declared sizes refuse it before openpyxl opens the workbook."""
    from congress_vote.congress.tables import XLSX_MAX_BYTES

    data = _xlsx(real_rows=1_000_000, row=_lean_row)
    assert len(data) < 200 * 1024  # as small as the reported 144 KB
    declared = sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())
    assert declared > XLSX_MAX_BYTES
    start = time.perf_counter()
    r = _import(api, cid, data)
    took = time.perf_counter() - start
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_rows", r.json
    assert "MB" in r.json["rows"][0]["message"]
    assert pulled == {"rows": 0, "sheets": 0}
    assert took < 2, took
    assert _no_delegates(app, cid)


def test_a_lying_zip_cannot_inflate_beyond_its_declared_size(api, app, cid):
    """A member that declares a small size but inflates to much more is cut at the declared
    size by zipfile (its CRC then fails): the declared total is a real bound."""
    data = bytearray(_xlsx(real_rows=20_000))
    zf = zipfile.ZipFile(io.BytesIO(bytes(data)))
    info = zf.getinfo(SHEET)
    assert info.file_size > 1000
    # rewrite the declared size in the central directory (and local header) to 1000 bytes
    real = info.file_size.to_bytes(4, "little")
    assert data.count(real) >= 1
    data = bytes(data).replace(real, (1000).to_bytes(4, "little"))
    r = _import(api, cid, data)
    assert r.status_code == 422 and r.json["error"]["code"] == "invalid_rows", r.json
    assert _no_delegates(app, cid)


def test_an_ordinary_xlsx_still_imports(api, app, cid):
    r = _import(api, cid, _xlsx(real_rows=300))
    assert r.status_code == 201, r.json
    assert r.json["imported"] == 301
