"""Importing the delegate list from a CSV or XLSX file (congress.tables reads the file, within
its size and row caps): all rows or none."""

from __future__ import annotations

import re

from flask_babel import gettext as _

from ..audit.services import record
from ..extensions import db
from .cards import seal_card
from .delegates import delegate_values, existing_delegates, make_delegate
from .fields import fold
from .models import Branch, Congress
from .tables import read_table, reject_file
from .tables import reject_rows as _reject

MAX_IMPORT_ROWS = 5000


MAX_TABLE_ROWS = MAX_IMPORT_ROWS + 100  # rows read from a file: the header and some blank rows


_HEADERS = {
    "code": ("code", "ma", "ma dai bieu", "ma so", "ma dv"),
    "full_name": ("full_name", "full name", "name", "ho va ten", "ho ten", "ten"),
    "branch": ("branch", "delegation", "chi bo", "doan", "doan dai bieu", "chi bo/doan"),
    "membership": (
        "membership",
        "dang vien",
        "loai dang vien",
        "chinh thuc/du bi",
        "dang vien (chinh thuc/du bi)",
        "dang vien (chinh thuc|du bi)",
    ),
    "gender": ("gender", "sex", "gioi tinh"),
    "birth_year": ("birth_year", "birth year", "year of birth", "nam sinh"),
    "position": ("position", "title", "chuc vu"),
}


_HEADER_INDEX = {alias: key for key, aliases in _HEADERS.items() for alias in aliases}


REQUIRED_COLUMNS = ("code", "full_name", "branch", "membership")


def column_label(key: str) -> str:
    """The column as a person names it ("full_name" → "Họ và tên"); errors keep the key in
    their `field` (the API's), pages and messages show this."""
    labels = {
        "code": _("List code"),
        "full_name": _("Full name"),
        "branch": _("Branch"),
        "membership": _("Membership"),
        "gender": _("Gender"),
        "birth_year": _("Birth year"),
        "position": _("Position"),
        "file": _("File"),
    }
    return labels.get(key, key)


def parse_delegate_rows(table: list[list]) -> tuple[list[tuple[int, dict]], list[dict]]:
    """Map the header to fields; returns ([(row number, raw dict)], errors). Row numbers count
    the header as row 1, as a spreadsheet shows them."""
    while table and not any(str(c or "").strip() for c in table[0]):
        table = table[1:]
    if not table:
        return [], [{"row": 1, "field": "file", "message": _("the file is empty")}]
    header = table[0]
    columns: dict[int, str] = {}
    for i, name in enumerate(header):
        key = _HEADER_INDEX.get(fold(name).replace("_", " ").strip()) or _HEADER_INDEX.get(
            fold(name)
        )
        if key and key not in columns.values():
            columns[i] = key
    missing = [k for k in REQUIRED_COLUMNS if k not in columns.values()]
    if missing:
        return [], [
            {
                "row": 1,
                "field": k,
                "message": _(
                    "the column “%(column)s” is missing (headers: code, full_name, branch, "
                    "membership or mã, họ và tên, chi bộ, đảng viên)",
                    column=column_label(k),
                ),
            }
            for k in missing
        ]
    out = []
    for n, row in enumerate(table[1:], start=2):
        if not any(str(c if c is not None else "").strip() for c in row):
            continue
        raw = {key: (row[i] if i < len(row) else None) for i, key in columns.items()}
        out.append((n, raw))
    return out, []


def import_delegates(congress: Congress, data: bytes, filename: str = "", actor=None) -> int:
    """Import a CSV or XLSX delegate list (:func:`import_delegates_report`); the number
    imported."""
    return import_delegates_report(congress, data, filename, actor)[0]


def import_delegates_report(
    congress: Congress, data: bytes, filename: str = "", actor=None
) -> tuple[int, list[dict]]:
    """Import a CSV or XLSX delegate list. All or nothing: if any row is bad, ServiceError 422
    with `rows: [{row, field, message}]` and nothing is written. Codes must be unique within the
    file and against the delegates already on the list. Names need not be: namesakes are common
    (issue 17), so a name that another row or a listed delegate carries too is only a warning
    (`[{row, field, message}]`, returned with the number imported), the rows told apart by code
    and branch. `filename` is only recorded (never used as a path)."""
    if not data:
        reject_file(_("the file is empty"), _("The file is empty. Nothing was saved."))
    rows, errors = parse_delegate_rows(read_table(data, MAX_TABLE_ROWS))
    if errors:
        _reject(errors)
    if not rows:
        reject_file(_("the file has no delegate rows"), row=2)
    if len(rows) > MAX_IMPORT_ROWS:
        reject_file(_("more than %(n)s rows; split the file", n=MAX_IMPORT_ROWS))
    codes_, names = existing_delegates(congress)
    seen_codes: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    clean = []
    warnings: list[dict] = []
    for n, raw in rows:
        v, errs = delegate_values(raw)
        for f, m in errs:
            errors.append({"row": n, "field": f, "message": m})
        if v["code"]:
            k = v["code"].casefold()
            if k in seen_codes:
                errors.append(
                    {
                        "row": n,
                        "field": "code",
                        "message": _(
                            "duplicate code %(code)s (also row %(row)s)",
                            code=v["code"],
                            row=seen_codes[k],
                        ),
                    }
                )
            elif k in codes_:
                errors.append(
                    {
                        "row": n,
                        "field": "code",
                        "message": _("code %(code)s is already on the list", code=v["code"]),
                    }
                )
            seen_codes.setdefault(k, n)
        if v["full_name"]:
            k = v["full_name"].casefold()
            if k in seen_names:
                warnings.append(
                    {
                        "row": n,
                        "field": "full_name",
                        "message": _(
                            "%(name)s: the same name as row %(row)s (namesakes are told apart "
                            "by code and branch; check it is not the same person twice)",
                            name=v["full_name"],
                            row=seen_names[k],
                        ),
                    }
                )
            elif k in names:
                warnings.append(
                    {
                        "row": n,
                        "field": "full_name",
                        "message": _(
                            "%(name)s: a delegate of this name is already on the list "
                            "(namesakes are told apart by code and branch)",
                            name=v["full_name"],
                        ),
                    }
                )
            seen_names.setdefault(k, n)
        clean.append(v)
    if errors:
        _reject(errors)
    branches: dict[str, Branch] = {}
    made = [make_delegate(congress, v, branches) for v in clean]
    db.session.flush()
    for d in made:
        seal_card(d)
    db.session.flush()
    safe_name = re.sub(r"[^\w.\- ]", "_", (filename or "").rsplit("/", 1)[-1].rsplit("\\", 1)[-1])[
        :100
    ]
    record(
        "delegates.imported",
        actor=actor,
        congress_id=congress.id,
        data={"count": len(made), "file": safe_name, "namesake_warnings": len(warnings)},
    )
    return len(made), warnings
