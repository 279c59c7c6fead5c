"""Congress verbs: setup, delegate registry and import, card codes, check-in and attendance.

Every verb validates, changes the session, flushes and records an audit event; the caller (a view,
an API handler or a CLI command) commits. Broken rules raise `ServiceError` and nothing is written.

Card codes. A delegate's card code is HMAC(SECRET_KEY, "card:<congress>:<delegate>:<nonce>")
turned into a 17-character code (see codes.py); only SHA-256 of it is stored (`card_hash`,
unique). The card's QR holds `CV1:C:<code>`: compact (alphanumeric QR mode, version 2) and
versioned so that a later format can be told apart. Reissuing a card draws a new nonce, which
cancels the old card. Rotating SECRET_KEY would cancel every card: keep it for the congress.
"""
from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import date
from fractions import Fraction

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from .. import codes
from ..audit.services import record
from ..db import utcnow
from ..errors import ServiceError
from ..extensions import db
from ..i18n.collation import name_sort_key
from .models import Branch, Congress, Delegate
from .tables import read_table
from .tables import reject_rows as _reject

QR_PREFIX = "CV1:C:"
KINDS = ("members", "delegates")
MEMBERSHIPS = ("full", "probationary")
STATUSES = ("absent", "present", "excused")
MAX_LEN = {"code": 50, "full_name": 200, "branch": 300, "position": 200}
MAX_IMPORT_ROWS = 5000
MAX_TABLE_ROWS = MAX_IMPORT_ROWS + 100  # rows read from a file: the header and some blank rows


# ---- small helpers ---------------------------------------------------------------------------

def fold(text: str | None) -> str:
    """Lowercase, accents removed, đ -> d, spaces collapsed: for accent-insensitive matching."""
    if not text:
        return ""
    text = unicodedata.normalize("NFD", str(text).replace("đ", "d").replace("Đ", "D"))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return " ".join(text.lower().split())


def clean_name(text: str | None) -> str:
    """NFC, single spaces, no invisible format characters: the stored form of a name.

    Format characters (Unicode Cf: the right-to-left override U+202E, zero-width space U+200B,
    joiners, BOM, soft hyphen) are never part of a Vietnamese name; kept, they let two names look
    the same or one display reversed (reliability fuzzing, issue 8)."""
    text = unicodedata.normalize("NFC", str(text or ""))
    text = "".join(" " if unicodedata.category(c) == "Cf" else c for c in text)
    return " ".join(text.split())


def parse_fraction(text) -> Fraction:
    """A quorum fraction "p/q" with 0 < p/q <= 1, or ServiceError 422."""
    m = re.fullmatch(r"\s*(\d{1,4})\s*/\s*(\d{1,4})\s*", str(text or ""))
    if not m or int(m.group(2)) == 0 or not (0 < int(m.group(1)) <= int(m.group(2))):
        raise ServiceError("bad_quorum_fraction",
                           _("The quorum fraction must look like 2/3 (p/q with 0 < p/q ≤ 1)."))
    return Fraction(int(m.group(1)), int(m.group(2)))


def get_congress(cid: int) -> Congress:
    congress = db.session.get(Congress, cid)
    if congress is None:
        raise ServiceError("not_found", _("No such congress."), status=404)
    return congress


def get_delegate(congress: Congress, did: int) -> Delegate:
    d = db.session.get(Delegate, did)
    if d is None or d.congress_id != congress.id:
        raise ServiceError("not_found", _("No such delegate in this congress."), status=404)
    return d


def list_congresses() -> list[Congress]:
    return list(db.session.scalars(select(Congress).order_by(Congress.id.desc())))


# ---- congress setup --------------------------------------------------------------------------

def _parse_date(value, name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ServiceError("bad_date", _("%(field)s must be a date written YYYY-MM-DD.",
                                         field=name)) from None


def _congress_fields(data: dict, partial: bool = False) -> dict:
    out = {}
    for key, limit in (("name", 300), ("organisation", 300), ("term", 50), ("venue", 300)):
        if key in data or not partial:
            value = clean_name(data.get(key))
            if len(value) > limit:
                raise ServiceError("too_long", _("%(field)s is longer than %(limit)s characters.",
                                                           field=key, limit=limit))
            out[key] = value
    if "name" in out and not out["name"]:
        raise ServiceError("name_required", _("A congress needs a name."))
    for key in ("starts_on", "ends_on"):
        if key in data or not partial:
            out[key] = _parse_date(data.get(key), key)
    if "kind" in data or not partial:
        kind = data.get("kind") or "members"
        if kind not in KINDS:
            raise ServiceError("bad_kind", _("kind must be 'members' or 'delegates'."))
        out["kind"] = kind
    if "quorum_fraction" in data or not partial:
        frac = parse_fraction(data.get("quorum_fraction") or "2/3")
        out["quorum_fraction"] = f"{frac.numerator}/{frac.denominator}"
    if "kiosk_only" in data or not partial:
        only = data.get("kiosk_only", True)
        if not isinstance(only, bool):
            raise ServiceError("bad_kiosk_only", _("kiosk_only must be true or false."))
        out["kiosk_only"] = only
    return out


def _check_dates(c: Congress) -> None:
    if c.starts_on and c.ends_on and c.ends_on < c.starts_on:
        raise ServiceError("bad_dates", _("The congress cannot end before it starts."))


def create_congress(data: dict, actor=None) -> Congress:
    """Create a congress from name, organisation, term, venue, starts_on, ends_on, kind and
    quorum_fraction ("2/3"); validates every field."""
    fields = _congress_fields(data)
    congress = Congress(**fields)
    _check_dates(congress)
    db.session.add(congress)
    db.session.flush()
    record("congress.created", actor=actor, congress_id=congress.id,
           data={"name": congress.name, "kind": congress.kind,
                 "quorum_fraction": congress.quorum_fraction,
                 "kiosk_only": congress.kiosk_only})
    return congress


def update_congress(congress: Congress, data: dict, actor=None) -> Congress:
    """Change the given fields of a congress (same validation as creation)."""
    fields = _congress_fields(data, partial=True)
    changed = {k: v for k, v in fields.items() if getattr(congress, k) != v}
    for k, v in changed.items():
        setattr(congress, k, v)
    _check_dates(congress)
    db.session.flush()
    if changed:
        record("congress.updated", actor=actor, congress_id=congress.id,
               data={"fields": sorted(changed)})
    return congress


def branch_by_name(congress: Congress, name: str, create: bool = True) -> Branch | None:
    name = clean_name(name)
    if not name:
        return None
    b = db.session.scalar(select(Branch).where(Branch.congress_id == congress.id,
                                               Branch.name == name))
    if b is None and create:
        b = Branch(congress_id=congress.id, name=name)
        db.session.add(b)
        db.session.flush()
    return b


def add_branch(congress: Congress, name: str, actor=None) -> Branch:
    """Add a branch by hand; 409 if it exists, 422 if the name is empty or too long."""
    name = clean_name(name)
    if not name or len(name) > MAX_LEN["branch"]:
        raise ServiceError("bad_branch", _("A branch needs a name of 1 to 300 characters."))
    if branch_by_name(congress, name, create=False) is not None:
        raise ServiceError("branch_exists", _("The branch “%(name)s” exists already.", name=name),
                           status=409)
    b = branch_by_name(congress, name)
    record("branch.created", actor=actor, congress_id=congress.id, data={"branch": name})
    return b


# ---- delegate fields (shared by import, add and edit) ----------------------------------------

_MEMBERSHIP_WORDS = {"full": "full", "chinh thuc": "full", "probationary": "probationary",
                     "du bi": "probationary", "dv chinh thuc": "full", "dv du bi": "probationary",
                     "dang vien chinh thuc": "full", "dang vien du bi": "probationary"}
_GENDER_WORDS = {"m": "M", "male": "M", "nam": "M", "f": "F", "female": "F", "nu": "F"}


def _delegate_values(raw: dict) -> tuple[dict, list[tuple[str, str]]]:
    """Validate one delegate's fields. Returns (clean values, [(field, message)])."""
    errors: list[tuple[str, str]] = []
    v: dict = {}
    for key in ("code", "full_name", "branch", "position"):
        value = raw.get(key)
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # a spreadsheet turns code 12 into 12.0
        v[key] = clean_name("" if value is None else str(value))
        if len(v[key]) > MAX_LEN[key]:
            errors.append((key, _("longer than %(limit)s characters", limit=MAX_LEN[key])))
    missing = {"code": _("the code is missing"), "full_name": _("the full name is missing"),
               "branch": _("the branch is missing")}
    for key, message in missing.items():
        if not v[key]:
            errors.append((key, message))
    membership = fold(raw.get("membership"))
    if not membership:
        errors.append(("membership", _("the membership is missing (full/probationary, "
                                       "chính thức/dự bị)")))
    elif membership not in _MEMBERSHIP_WORDS:
        errors.append(("membership", _("unknown membership “%(value)s” (use full/probationary "
                                       "or chính thức/dự bị)", value=raw.get("membership"))))
    else:
        v["membership"] = _MEMBERSHIP_WORDS[membership]
    gender = fold(raw.get("gender"))
    if gender:
        if gender not in _GENDER_WORDS:
            errors.append(("gender", _("unknown gender “%(value)s” (M/F, Nam/Nữ)",
                                             value=raw.get("gender"))))
        else:
            v["gender"] = _GENDER_WORDS[gender]
    else:
        v["gender"] = None
    year = raw.get("birth_year")
    if year in (None, ""):
        v["birth_year"] = None
    else:
        text = str(year).strip()
        if text.endswith(".0"):
            text = text[:-2]  # a spreadsheet number
        try:
            y = int(text)
        except ValueError:
            errors.append(("birth_year", _("“%(value)s” is not a year", value=year)))
        else:
            if not 1900 <= y <= date.today().year - 16:
                errors.append(("birth_year", _("%(year)s is outside 1900–%(last)s", year=y,
                                                   last=date.today().year - 16)))
            v["birth_year"] = y
    v["position"] = v["position"] or None
    return v, errors


def _new_card(d: Delegate) -> None:
    d.card_nonce = secrets.token_hex(16)
    # A unique placeholder until the id exists; the real hash needs the delegate id.
    d.card_hash = "pending:" + d.card_nonce


def _seal_card(d: Delegate) -> None:
    d.card_hash = codes.code_hash(card_code(d))


def card_code(delegate: Delegate) -> str:
    """The delegate's current card code (17 characters, normalised, no dashes)."""
    key = current_app.config["SECRET_KEY"]
    return codes.derived_code(key, f"card:{delegate.congress_id}:{delegate.id}:"
                                   f"{delegate.card_nonce}")


def card_qr_text(delegate: Delegate) -> str:
    """What the card's QR holds: `CV1:C:<code>`."""
    return QR_PREFIX + card_code(delegate)


def _existing(congress: Congress) -> tuple[dict, dict]:
    rows = db.session.execute(select(Delegate.id, Delegate.code, Delegate.full_name)
                              .where(Delegate.congress_id == congress.id)).all()
    return ({r.code.casefold(): r.id for r in rows},
            {clean_name(r.full_name).casefold(): r.id for r in rows})


def add_delegate(congress: Congress, raw: dict, actor=None) -> Delegate:
    """Add one delegate; the same validation as an import row. 422 with `rows` on a bad field,
    409 when the code or the full name is taken in this congress."""
    v, errors = _delegate_values(raw)
    if errors:
        raise ServiceError("invalid_delegate", "; ".join(f"{f}: {m}" for f, m in errors),
                           rows=[{"row": 1, "field": f, "message": m} for f, m in errors])
    codes_, names = _existing(congress)
    if v["code"].casefold() in codes_:
        raise ServiceError("duplicate_code", _("The code %(code)s is taken.", code=v["code"]),
                           status=409)
    if v["full_name"].casefold() in names:
        raise ServiceError("duplicate_name", _("A delegate named %(name)s exists already.",
                                               name=v["full_name"]), status=409)
    d = _make_delegate(congress, v)
    db.session.flush()
    _seal_card(d)
    db.session.flush()
    record("delegate.added", actor=actor, congress_id=congress.id,
           data={"delegate_id": d.id, "code": d.code})
    return d


def _make_delegate(congress: Congress, v: dict, branches: dict | None = None) -> Delegate:
    if branches is not None and v["branch"] in branches:
        branch = branches[v["branch"]]
    else:
        branch = branch_by_name(congress, v["branch"])
        if branches is not None:
            branches[v["branch"]] = branch
    d = Delegate(congress_id=congress.id, code=v["code"], full_name=v["full_name"],
                 sort_key=name_sort_key(v["full_name"]), branch_id=branch.id,
                 membership=v["membership"], gender=v["gender"], birth_year=v["birth_year"],
                 position=v["position"], status="absent")
    _new_card(d)
    db.session.add(d)
    return d


def update_delegate(delegate: Delegate, raw: dict, actor=None) -> Delegate:
    """Edit a delegate's fields (all given again, as on the form)."""
    v, errors = _delegate_values(raw)
    if errors:
        raise ServiceError("invalid_delegate", "; ".join(f"{f}: {m}" for f, m in errors),
                           rows=[{"row": 1, "field": f, "message": m} for f, m in errors])
    codes_, names = _existing(delegate.congress)
    if codes_.get(v["code"].casefold(), delegate.id) != delegate.id:
        raise ServiceError("duplicate_code", _("The code %(code)s is taken.", code=v["code"]),
                           status=409)
    if names.get(v["full_name"].casefold(), delegate.id) != delegate.id:
        raise ServiceError("duplicate_name", _("A delegate named %(name)s exists already.",
                                               name=v["full_name"]), status=409)
    branch = branch_by_name(delegate.congress, v["branch"])
    changed = []
    for key in ("code", "full_name", "membership", "gender", "birth_year", "position"):
        if getattr(delegate, key) != v[key]:
            setattr(delegate, key, v[key])
            changed.append(key)
    if delegate.branch_id != branch.id:
        delegate.branch_id = branch.id
        delegate.branch = branch
        changed.append("branch")
    delegate.sort_key = name_sort_key(delegate.full_name)
    db.session.flush()
    if changed:
        record("delegate.updated", actor=actor, congress_id=delegate.congress_id,
               data={"delegate_id": delegate.id, "fields": changed})
    return delegate


def reissue_card(delegate: Delegate, actor=None) -> str:
    """Draw a new card nonce: the old card stops working at once. Returns the new code."""
    delegate.card_nonce = secrets.token_hex(16)
    _seal_card(delegate)
    db.session.flush()
    record("delegate.card_reissued", actor=actor, congress_id=delegate.congress_id,
           data={"delegate_id": delegate.id})
    return card_code(delegate)


# ---- import ----------------------------------------------------------------------------------

_HEADERS = {
    "code": ("code", "ma", "ma dai bieu", "ma so", "ma dv"),
    "full_name": ("full_name", "full name", "name", "ho va ten", "ho ten", "ten"),
    "branch": ("branch", "delegation", "chi bo", "doan", "doan dai bieu", "chi bo/doan"),
    "membership": ("membership", "dang vien", "loai dang vien", "chinh thuc/du bi",
                   "dang vien (chinh thuc/du bi)", "dang vien (chinh thuc|du bi)"),
    "gender": ("gender", "sex", "gioi tinh"),
    "birth_year": ("birth_year", "birth year", "year of birth", "nam sinh"),
    "position": ("position", "title", "chuc vu"),
}
_HEADER_INDEX = {alias: key for key, aliases in _HEADERS.items() for alias in aliases}
REQUIRED_COLUMNS = ("code", "full_name", "branch", "membership")


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
        key = _HEADER_INDEX.get(fold(name).replace("_", " ").strip()) or \
            _HEADER_INDEX.get(fold(name))
        if key and key not in columns.values():
            columns[i] = key
    missing = [k for k in REQUIRED_COLUMNS if k not in columns.values()]
    if missing:
        return [], [{"row": 1, "field": k, "message": _(
                     "the column “%(column)s” is missing (headers: code, full_name, branch, "
                     "membership or mã, họ và tên, chi bộ, đảng viên)", column=k)}
                    for k in missing]
    out = []
    for n, row in enumerate(table[1:], start=2):
        if not any(str(c if c is not None else "").strip() for c in row):
            continue
        raw = {key: (row[i] if i < len(row) else None) for i, key in columns.items()}
        out.append((n, raw))
    return out, []


def import_delegates(congress: Congress, data: bytes, filename: str = "", actor=None) -> int:
    """Import a CSV or XLSX delegate list. All or nothing: if any row is bad, ServiceError 422
    with `rows: [{row, field, message}]` and nothing is written. Codes and full names must be
    unique within the file and against the delegates already on the list. `filename` is only
    recorded (never used as a path). Returns the number imported."""
    if not data:
        _reject([{"row": 0, "field": "file", "message": _("the file is empty")}],
                _("The file is empty. Nothing was saved."))
    rows, errors = parse_delegate_rows(read_table(data, MAX_TABLE_ROWS))
    if errors:
        _reject(errors)
    if not rows:
        _reject([{"row": 2, "field": "file", "message": _("the file has no delegate rows")}])
    if len(rows) > MAX_IMPORT_ROWS:
        _reject([{"row": 0, "field": "file",
                  "message": _("more than %(n)s rows; split the file", n=MAX_IMPORT_ROWS)}])
    codes_, names = _existing(congress)
    seen_codes: dict[str, int] = {}
    seen_names: dict[str, int] = {}
    clean = []
    for n, raw in rows:
        v, errs = _delegate_values(raw)
        for f, m in errs:
            errors.append({"row": n, "field": f, "message": m})
        if v["code"]:
            k = v["code"].casefold()
            if k in seen_codes:
                errors.append({"row": n, "field": "code",
                               "message": _("duplicate code %(code)s (also row %(row)s)",
                                           code=v["code"], row=seen_codes[k])})
            elif k in codes_:
                errors.append({"row": n, "field": "code",
                               "message": _("code %(code)s is already on the list",
                                            code=v["code"])})
            seen_codes.setdefault(k, n)
        if v["full_name"]:
            k = v["full_name"].casefold()
            if k in seen_names:
                errors.append({"row": n, "field": "full_name",
                               "message": _("duplicate name %(name)s (also row %(row)s)",
                                           name=v["full_name"], row=seen_names[k])})
            elif k in names:
                errors.append({"row": n, "field": "full_name",
                               "message": _("%(name)s is already on the list",
                                            name=v["full_name"])})
            seen_names.setdefault(k, n)
        clean.append(v)
    if errors:
        _reject(errors)
    branches: dict[str, Branch] = {}
    made = [_make_delegate(congress, v, branches) for v in clean]
    db.session.flush()
    for d in made:
        _seal_card(d)
    db.session.flush()
    safe_name = re.sub(r"[^\w.\- ]", "_", (filename or "").rsplit("/", 1)[-1]
                       .rsplit("\\", 1)[-1])[:100]
    record("delegates.imported", actor=actor, congress_id=congress.id,
           data={"count": len(made), "file": safe_name})
    return len(made)


# ---- listing and search ----------------------------------------------------------------------

def list_delegates(congress: Congress, q: str = "", branch_id: int | None = None,
                   status: str | None = None, membership: str | None = None,
                   limit: int | None = None) -> list[Delegate]:
    """Delegates in Vietnamese name order, filtered; `q` matches name, code or branch,
    accent-insensitively ("nguyen van an" finds "Nguyễn Văn An")."""
    stmt = (select(Delegate).where(Delegate.congress_id == congress.id)
            .order_by(Delegate.sort_key, Delegate.code))
    if branch_id:
        stmt = stmt.where(Delegate.branch_id == branch_id)
    if status in STATUSES:
        stmt = stmt.where(Delegate.status == status)
    if membership in MEMBERSHIPS:
        stmt = stmt.where(Delegate.membership == membership)
    items = list(db.session.scalars(stmt))
    needle = fold(q)
    if needle:
        # In Python: accent folding is not portable SQL, and a congress has at most a few
        # thousand delegates.
        items = [d for d in items if needle in fold(d.full_name) or needle in fold(d.code)
                 or needle in fold(d.branch_name)]
    return items[:limit] if limit else items


# ---- check-in and attendance -----------------------------------------------------------------

def _card_lookup(text: str) -> str:
    """Normalised card code from QR text or a typed code; ServiceError for anything else."""
    s = (text or "").strip()
    if len(s) > 200:
        s = s[:200]
    upper = s.upper()
    if upper.startswith("CV1:"):
        if not upper.startswith(QR_PREFIX):
            raise ServiceError("not_a_card_code",
                               _("This QR code is not a delegate card (it is another document "
                                 "of the congress)."), status=422)
        s = s[len(QR_PREFIX):]
    code = codes.normalise(s)
    if code is None:
        raise ServiceError("not_a_card_code",
                           _("Not a card code: scan the QR on the delegate card or type the code "
                             "printed under it."), status=422)
    return code


def delegate_by_card(congress: Congress, text: str) -> Delegate | None:
    """The delegate of this congress whose current card reads `text` (QR text, printed code
    with or without dashes, any case); None for an unknown card or a card of another congress.
    Raises ServiceError 422 when `text` is not a card code at all."""
    d = db.session.scalar(select(Delegate).where(
        Delegate.card_hash == codes.code_hash(_card_lookup(text))))
    if d is None or d.congress_id != congress.id:
        return None
    return d


def find_card(congress: Congress, text: str) -> Delegate:
    """Like delegate_by_card, but 404 with a clear reason when no delegate matches."""
    # The branch comes in the same statement: the desk and the API show it with the delegate.
    d = db.session.scalar(select(Delegate).options(joinedload(Delegate.branch)).where(
        Delegate.card_hash == codes.code_hash(_card_lookup(text))))
    if d is None:
        raise ServiceError("unknown_card", _("Unknown card: no delegate holds this card (it may "
                           "have been replaced by a reissued card)."), status=404)
    if d.congress_id != congress.id:
        raise ServiceError("card_of_another_congress",
                           _("This card belongs to another congress."), status=404)
    return d


def check_in(congress: Congress, text: str, actor=None) -> tuple[Delegate, bool]:
    """Mark the card's holder present. Returns (delegate, already_present). Exactly one audit
    event per actual check-in, even when two desks scan the same card at once (conditional
    UPDATE). An excused delegate who turns up becomes present."""
    d = find_card(congress, text)
    return d, _mark_present(d, actor, via="card")


def check_in_delegate(delegate: Delegate, actor=None) -> bool:
    """Check in by name (the registrar picked the delegate). Returns already_present."""
    return _mark_present(delegate, actor, via="name")


def _mark_present(d: Delegate, actor, via: str) -> bool:
    now = utcnow()
    res = db.session.execute(
        update(Delegate).where(Delegate.id == d.id, Delegate.status != "present")
        .values(status="present", checked_in_at=now, absence_reason=None)
        .execution_options(synchronize_session=False))
    if res.rowcount == 0:
        db.session.refresh(d)  # present already (maybe by another desk a moment ago)
        return True
    # This UPDATE wrote exactly these values: set them on the loaded delegate instead of
    # reading the row back (one statement less per check-in).
    for key, value in (("status", "present"), ("checked_in_at", now), ("absence_reason", None)):
        set_committed_value(d, key, value)
    record("delegate.checked_in", actor=actor, congress_id=d.congress_id,
           data={"delegate_id": d.id, "via": via})
    return False


def undo_check_in(delegate: Delegate, actor=None) -> Delegate:
    """Take back a check-in made by mistake: the delegate is absent again. 409 if not present."""
    if delegate.status != "present":
        raise ServiceError("not_present", _("%(name)s is not checked in.", name=delegate.full_name),
                           status=409)
    delegate.status = "absent"
    delegate.checked_in_at = None
    db.session.flush()
    record("delegate.checkin_undone", actor=actor, congress_id=delegate.congress_id,
           data={"delegate_id": delegate.id})
    return delegate


def set_attendance(delegate: Delegate, status: str, reason: str | None = None, actor=None
                   ) -> Delegate:
    """Set present / excused / absent. Excused needs a reason (it leaves the denominator)."""
    if status not in STATUSES:
        raise ServiceError("bad_status", _("status must be present, excused or absent."))
    reason = clean_name(reason) or None
    if reason and len(reason) > 500:
        raise ServiceError("too_long", _("The reason is longer than 500 characters."))
    if status == "excused" and not reason:
        raise ServiceError("reason_required", _("An excused absence needs a reason."))
    if status == "present":
        if delegate.status != "present":
            _mark_present(delegate, actor, via="manual")
        return delegate
    if delegate.status == status and delegate.absence_reason == (reason if status == "excused"
                                                                 else None):
        return delegate
    delegate.status = status
    delegate.checked_in_at = None
    delegate.absence_reason = reason if status == "excused" else None
    db.session.flush()
    record("delegate.attendance", actor=actor, congress_id=delegate.congress_id,
           data={"delegate_id": delegate.id, "status": status, "reason": delegate.absence_reason})
    return delegate


def attendance(congress: Congress) -> dict:
    """The credentials figures.

    summoned: everyone on the list; voters_summoned: full members; excused: every excused
    delegate; excused_voters: excused full members; denominator = voters_summoned −
    excused_voters (domain.md: an approved absence leaves the denominator); present /
    voters_present; absent = summoned − present − excused. quorum_met: voters_present ≥
    quorum_fraction × voters_summoned, in exact fractions. The base is *voters summoned* (the
    rule reads "2/3 of those summoned"), not the denominator: excusing a delegate does not
    lower the quorum.
    """
    rows = db.session.execute(
        select(Delegate.branch_id, Delegate.membership, Delegate.status, func.count())
        .where(Delegate.congress_id == congress.id)
        .group_by(Delegate.branch_id, Delegate.membership, Delegate.status)).all()
    names = {b.id: b.name for b in congress.branches}
    per: dict = {}
    tot = {"summoned": 0, "voters_summoned": 0, "excused": 0, "excused_voters": 0,
           "present": 0, "voters_present": 0}
    for branch_id, membership, status, n in rows:
        b = per.setdefault(branch_id, {"branch": names.get(branch_id, ""), "summoned": 0,
                                       "voters_summoned": 0, "present": 0,
                                       "voters_present": 0, "excused": 0})
        voter = membership == "full"
        for target in (b, tot):
            target["summoned"] += n
            if voter:
                target["voters_summoned"] += n
            if status == "present":
                target["present"] += n
                if voter:
                    target["voters_present"] += n
            if status == "excused":
                target["excused"] += n
        if status == "excused" and voter:
            tot["excused_voters"] += n
    frac = parse_fraction(congress.quorum_fraction)
    out = dict(tot)
    out["denominator"] = tot["voters_summoned"] - tot["excused_voters"]
    out["absent"] = tot["summoned"] - tot["present"] - tot["excused"]
    out["quorum_fraction"] = f"{frac.numerator}/{frac.denominator}"
    out["quorum_needed"] = _ceil(frac * tot["voters_summoned"])
    out["quorum_met"] = tot["voters_summoned"] > 0 and \
        Fraction(tot["voters_present"]) >= frac * tot["voters_summoned"]
    out["by_branch"] = sorted(per.values(), key=lambda b: fold(b["branch"]))
    return out


def _ceil(f: Fraction) -> int:
    return -(-f.numerator // f.denominator)


def last_check_in(congress: Congress) -> Delegate | None:
    """The delegate checked in most recently (for the desk's undo button)."""
    return db.session.scalar(select(Delegate).where(
        Delegate.congress_id == congress.id, Delegate.status == "present")
        .order_by(Delegate.checked_in_at.desc(), Delegate.id.desc()).limit(1))


def absentees(congress: Congress) -> tuple[list[Delegate], list[Delegate]]:
    """(absent, excused) delegates in Vietnamese name order."""
    items = list_delegates(congress)
    return ([d for d in items if d.status == "absent"],
            [d for d in items if d.status == "excused"])


def delegate_dict(d: Delegate) -> dict:
    """A delegate as JSON shows it. Never the card code: a card code is a credential and
    exists only on the printed card (printing.cards_pdf)."""
    return {"id": d.id, "code": d.code, "full_name": d.full_name, "branch": d.branch_name,
            "membership": d.membership, "can_vote": d.can_vote, "status": d.status,
            "gender": d.gender, "birth_year": d.birth_year, "position": d.position,
            "absence_reason": d.absence_reason,
            "checked_in_at": d.checked_in_at.isoformat() if d.checked_in_at else None}


def congress_dict(c: Congress) -> dict:
    return {"id": c.id, "name": c.name, "organisation": c.organisation, "term": c.term,
            "venue": c.venue, "starts_on": c.starts_on.isoformat() if c.starts_on else None,
            "ends_on": c.ends_on.isoformat() if c.ends_on else None, "kind": c.kind,
            "quorum_fraction": c.quorum_fraction, "kiosk_only": c.kiosk_only,
            "branches": [{"id": b.id, "name": b.name} for b in c.branches]}


EXPORT_HEADER = ["code", "full_name", "branch", "membership", "gender", "birth_year", "position",
                 "status", "absence_reason"]


def export_rows(congress: Congress):
    for d in list_delegates(congress):
        yield [d.code, d.full_name, d.branch_name, d.membership, d.gender or "",
               d.birth_year or "", d.position or "", d.status, d.absence_reason or ""]
