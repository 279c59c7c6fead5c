"""Benchmark: how fast the delegate import refuses an XLSX zip bomb (issue 14, hole 8).

Two bombs, each uploaded through the API as an admin would:
- "million rows": ~26 MB of sheet XML (a million real rows) in a ~60 KB zip — refused by the
  declared uncompressed size before openpyxl opens it;
- "row gap": a few KB whose last row is row 1,048,576 (openpyxl fills the gap with empty rows) —
  refused after reading the row cap.
Before the fix the first took ~70 s and ~80 MB on the reporting machine (31 s here).

Usage: .venv/bin/python bench/bench_import_bomb.py
"""

from __future__ import annotations

import io
import re
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from congress_vote import create_app

SHEET = "xl/worksheets/sheet1.xml"


def bomb(rows: int = 0, gap: bool = False) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    wb.active.append(["code", "full_name", "branch", "membership"])
    buf = io.BytesIO()
    wb.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename != SHEET:
                dst.writestr(info.filename, data)
                continue
            head, tail = data.decode().split("</sheetData>")
            last = 1_048_576 if gap else rows + 1
            head = re.sub(r'<dimension ref="[^"]*"\s*/>', f'<dimension ref="A1:D{last}"/>', head)
            sheet = zipfile.ZipInfo(SHEET)
            sheet.compress_type = zipfile.ZIP_DEFLATED
            with dst.open(sheet, "w", force_zip64=True) as f:
                f.write(head.encode())
                row = b"<row><c><v>1</v></c></row>"  # rows need no number: each is the next
                for start in range(0, rows, 10_000):
                    f.write(row * min(10_000, rows - start))
                if gap:
                    f.write(b'<row r="1048576"><c r="A1048576"><v>1</v></c></row>')
                f.write(("</sheetData>" + tail).encode())
    return out.getvalue()


def main() -> None:
    tmp = tempfile.mkdtemp()
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/b.db",
            "SECRET_KEY": "x" * 32,
            "WTF_CSRF_ENABLED": False,
            "RATELIMIT_ENABLED": False,
        }
    )
    from congress_vote.auth.services import create_user
    from congress_vote.extensions import db

    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        create_user("admin", "bench-password-123", ["admin"])
        db.session.commit()
    client = app.test_client()
    token = client.post(
        "/api/v1/session", json={"username": "admin", "password": "bench-password-123"}
    ).json["token"]
    auth = {"Authorization": f"Bearer {token}"}
    cid = client.post("/api/v1/congresses", json={"name": "Bench"}, headers=auth).json["id"]
    for label, data in (("million rows", bomb(rows=1_000_000)), ("row gap", bomb(gap=True))):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        t = time.perf_counter()
        r = client.post(
            f"/api/v1/congresses/{cid}/delegates/import",
            headers=auth,
            data={"file": (io.BytesIO(data), "bomb.xlsx")},
            content_type="multipart/form-data",
        )
        took = time.perf_counter() - t
        grew = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
        print(
            f"xlsx bomb, {label}: {len(data) / 1024:.0f} KB upload -> {r.status_code} in "
            f"{took:.2f} s (peak RSS +{grew:.0f} MB): {r.json['rows'][0]['message']}"
        )


if __name__ == "__main__":
    main()
