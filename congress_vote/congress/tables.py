"""Reading an uploaded delegate list (CSV or XLSX) into rows, within fixed bounds.

An XLSX file is a zip: 144 KB can expand to a million rows. Before openpyxl parses anything the
zip's declared member sizes are added up (Python's zipfile never inflates a member beyond its
declared size, so the declaration is a real bound) and a workbook over `XLSX_MAX_BYTES` is refused;
then the first sheet is streamed in read-only mode, at most `MAX_TABLE_COLUMNS` wide, and reading
stops at the first row past the row cap: a row gap (`<row r="1048576">`), which openpyxl fills
with empty rows, costs no more than real rows. CSV rows stop at the same cap.
Every refusal is the import's 422 `invalid_rows` with one row naming the file.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Generator, Iterable
from typing import Any, NoReturn

from flask_babel import gettext as _

from ..errors import ServiceError

XLSX_MAX_BYTES = 20 * 1024 * 1024  # uncompressed; a 5,000-delegate list is ~2 MB
XLSX_MAX_MEMBERS = 1000
MAX_TABLE_COLUMNS = 100


def reject_rows(rows: list[dict], message: str | None = None) -> NoReturn:
    """422 `invalid_rows` with the row errors `[{row, field, message}]`."""
    n = len({r["row"] for r in rows})
    raise ServiceError(
        "invalid_rows",
        message
        or _("The file was not imported: %(n)s row(s) have errors. Nothing was saved.", n=n),
        status=422,
        rows=rows,
    )


def reject_file(problem: str, message: str | None = None, row: int = 0) -> NoReturn:
    """422 `invalid_rows` for the file as a whole: one row error (field "file", at `row`) saying
    `problem`; `message` is the answer's (else reject_rows' count of rows with errors)."""
    reject_rows([{"row": row, "field": "file", "message": problem}], message)


def too_many_rows(max_rows: int) -> NoReturn:
    reject_file(
        _("more than %(n)s rows; split the file", n=max_rows),
        _("The file has more than %(n)s rows; split it. Nothing was saved.", n=max_rows),
    )


def decode_csv(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        guess = _("Windows-1258 (Vietnamese Windows)")
        try:
            data.decode("cp1258")
        except UnicodeDecodeError:
            guess = _("Latin-1 or another 8-bit encoding")
        line = data[: err.start].count(b"\n") + 1
        reject_file(
            _(
                "the file is not UTF-8 (byte %(byte)s, it looks like "
                "%(guess)s); save it as “CSV UTF-8” and import again",
                byte=err.start + 1,
                guess=guess,
            ),
            _(
                "The file is not UTF-8 text; save it as “CSV UTF-8” (Excel: Save As → "
                "CSV UTF-8) and import it again. Nothing was saved."
            ),
            row=line,
        )


def _capped(rows: Iterable, max_rows: int) -> list[list]:
    """The rows as lists; refused as soon as a row beyond `max_rows` is read."""
    out: list[list] = []
    for row in rows:
        if len(out) >= max_rows:
            too_many_rows(max_rows)
        out.append(list(row))
    return out


def _unreadable() -> NoReturn:
    reject_file(
        _("not a readable XLSX workbook"),
        _("The file is not a readable XLSX workbook. Nothing was saved."),
    )


def check_xlsx_size(data: bytes) -> None:
    """Refuse a zip whose members declare more than XLSX_MAX_BYTES in all (a zip bomb)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError, OSError):
        _unreadable()
    total = sum(i.file_size for i in infos)
    if len(infos) > XLSX_MAX_MEMBERS or total > XLSX_MAX_BYTES:
        mb = XLSX_MAX_BYTES // (1024 * 1024)
        reject_file(
            _("the workbook expands to more than %(mb)s MB", mb=mb),
            _(
                "The workbook expands to more than %(mb)s MB: save only the delegate "
                "list in it and import again. Nothing was saved.",
                mb=mb,
            ),
        )


def _xlsx_rows(data: bytes, max_rows: int) -> Generator[tuple[Any, ...], None, None]:
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    try:
        ws = wb.worksheets[0]
        # max_row: openpyxl stops parsing there; the row after the cap is what refuses the file.
        yield from ws.iter_rows(
            min_col=1, max_col=MAX_TABLE_COLUMNS, max_row=max_rows + 1, values_only=True
        )
    finally:
        wb.close()


def read_table(data: bytes, max_rows: int) -> list[list]:
    """The rows of a CSV (UTF-8, BOM or not) or XLSX file, header first; 422 when the file has
    more than `max_rows` rows (blank ones included) or an XLSX expands beyond XLSX_MAX_BYTES."""
    if data[:4] == b"PK\x03\x04":
        check_xlsx_size(data)
        rows = _xlsx_rows(data, max_rows)
        try:
            return _capped(rows, max_rows)
        except ServiceError:
            raise
        except Exception:  # noqa: BLE001 (openpyxl raises many kinds on a damaged zip)
            _unreadable()
        finally:
            rows.close()
    if b"\x00" in data[:4096]:
        reject_file(
            _("binary file (UTF-16 or not a CSV)"),
            _("The file is not CSV text in UTF-8 or an XLSX workbook. Nothing was saved."),
        )
    text = decode_csv(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    return _capped(csv.reader(io.StringIO(text), dialect), max_rows)
