"""Spreadsheet exports that cannot run code when opened.

A cell starting with = + - @ (or a tab/carriage return) is a formula to Excel and LibreOffice:
a delegate named "=HYPERLINK(...)" must come out as text. `safe_cell` prefixes such values with
an apostrophe (OWASP's advice for CSV injection), for CSV and XLSX alike.
"""

from __future__ import annotations

import csv
import io

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_bytes(header: list[str], rows) -> bytes:
    """UTF-8 CSV with a BOM (so Excel shows Vietnamese correctly)."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(header)
    for row in rows:
        w.writerow([safe_cell(v) for v in row])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def xlsx_bytes(header: list[str], rows, title: str = "Sheet1") -> bytes:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet(title=title[:31])
    ws.append(header)
    for row in rows:
        ws.append([safe_cell(v) for v in row])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
