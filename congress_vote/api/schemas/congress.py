"""Schemas of congresses, delegates, attendance and check-in (api/congress_routes.py). The
values' rules (dates, kinds, quorum fraction, lengths, attendance statuses) are checked by the
congress services (422 with their codes); the metadata here documents them."""

from __future__ import annotations

from typing import Any

from .base import Answer, Body, Bool, Int, List, Nested, Str

_OPT: dict[str, Any] = {"allow_none": True}


class CongressChange(Body):
    """The fields given change (null = unchanged)."""

    name = Str(**_OPT, metadata={"minLength": 1, "maxLength": 300})
    organisation = Str(**_OPT, metadata={"maxLength": 300})
    term = Str(**_OPT, metadata={"maxLength": 50})
    venue = Str(**_OPT, metadata={"maxLength": 300})
    starts_on = Str(**_OPT, metadata={"format": "date"})
    ends_on = Str(**_OPT, metadata={"format": "date"})
    kind = Str(**_OPT, metadata={"enum": ["members", "delegates"]})
    quorum_fraction = Str(**_OPT, metadata={"pattern": r"^\d+/\d+$"})
    kiosk_only = Bool(**_OPT, metadata={"default": True})
    time_zone = Str(**_OPT, metadata={"default": "Asia/Ho_Chi_Minh", "maxLength": 64})


class CongressBody(CongressChange):
    name = Str(required=True, metadata={"minLength": 1, "maxLength": 300})


class Branch(Answer):
    id = Int()
    name = Str()


class Congress(Answer):
    id = Int()
    name = Str()
    organisation = Str(allow_none=True)
    term = Str(allow_none=True)
    venue = Str(allow_none=True)
    starts_on = Str(allow_none=True)
    ends_on = Str(allow_none=True)
    kind = Str()
    quorum_fraction = Str()
    kiosk_only = Bool()
    time_zone = Str()
    branches = List(Nested(Branch))


class Delegate(Answer):
    """Never the card code: it exists only on the printed card."""

    id = Int()
    code = Str()
    full_name = Str()
    branch = Str(allow_none=True)
    membership = Str(metadata={"enum": ["full", "probationary"]})
    can_vote = Bool()
    status = Str(metadata={"enum": ["absent", "present", "excused"]})
    gender = Str(allow_none=True)
    birth_year = Int(allow_none=True)
    position = Str(allow_none=True)
    absence_reason = Str(allow_none=True)
    checked_in_at = Str(allow_none=True)


class DelegateQuery(Body):
    """GET …/delegates?q=&status= (a longer q is cut at 100 characters)."""

    q = Str(load_default="", metadata={"description": "name, code or branch, accents ignored"})
    status = Str(metadata={"enum": ["absent", "present", "excused"]})


class ImportWarning(Answer):
    row = Int()
    field = Str()
    message = Str()


class Imported(Answer):
    imported = Int()
    # Namesakes (a name another row or listed delegate carries too): imported, and named here.
    warnings = List(Nested(ImportWarning))


class AttendanceBody(Body):
    status = Str(required=True, metadata={"enum": ["present", "excused", "absent"]})
    reason = Str(
        allow_none=True, metadata={"maxLength": 500, "description": "required when excused"}
    )


class CheckInBody(Body):
    card = Str(
        required=True,
        metadata={"maxLength": 200, "description": "the card's QR text or printed code"},
    )


class CheckedIn(Answer):
    delegate = Nested(Delegate)
    already_present = Bool()


class BranchAttendance(Answer):
    branch = Str()
    summoned = Int()
    voters_summoned = Int()
    present = Int()
    voters_present = Int()
    excused = Int()


class Attendance(Answer):
    summoned = Int(required=True)
    voters_summoned = Int(required=True)
    excused = Int(required=True)
    excused_voters = Int()
    denominator = Int(required=True)
    present = Int(required=True)
    voters_present = Int(required=True)
    absent = Int()
    quorum_fraction = Str(required=True)
    quorum_needed = Int()
    quorum_met = Bool(required=True)
    by_branch = List(Nested(BranchAttendance))
