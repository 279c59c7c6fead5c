"""The attendance figures of a congress (summoned, present, excused, the quorum) and its
absentees."""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from sqlalchemy import bindparam, func, select

from ..extensions import db
from .delegates import list_delegates
from .fields import fold, parse_fraction
from .models import Branch, Congress, Delegate

_D, _B = Delegate.__table__.c, Branch.__table__.c
# One statement, built once: the delegates counted by branch (with its name), membership and
# status.
_COUNTS = (
    select(_D.branch_id, _B.name, _D.membership, _D.status, func.count())
    .select_from(Delegate.__table__)
    .outerjoin(Branch.__table__, _B.id == _D.branch_id)
    .where(_D.congress_id == bindparam("cid"))
    .group_by(_D.branch_id, _B.name, _D.membership, _D.status)
)


def attendance(congress: Congress) -> dict:
    """The credentials figures.

    summoned: everyone on the list; voters_summoned: full members; excused: every excused
    delegate; excused_voters: excused full members; denominator = voters_summoned −
    excused_voters (an approved absence leaves the denominator: docs/rules.md, "Who is
    elected"); present /
    voters_present; absent = summoned − present − excused. quorum_met: voters_present ≥
    quorum_fraction × voters_summoned, in exact fractions. The base is *voters summoned* (the
    rule reads "2/3 of those summoned"), not the denominator: excusing a delegate does not
    lower the quorum.
    """
    rows = db.session.execute(_COUNTS, {"cid": congress.id}).all()
    per: dict = {}
    tot = {
        "summoned": 0,
        "voters_summoned": 0,
        "excused": 0,
        "excused_voters": 0,
        "present": 0,
        "voters_present": 0,
    }
    for branch_id, branch_name, membership, status, n in rows:
        b = per.setdefault(
            branch_id,
            {
                "branch": branch_name or "",
                "summoned": 0,
                "voters_summoned": 0,
                "present": 0,
                "voters_present": 0,
                "excused": 0,
            },
        )
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
    out: dict[str, Any] = dict(tot)
    out["denominator"] = tot["voters_summoned"] - tot["excused_voters"]
    out["absent"] = tot["summoned"] - tot["present"] - tot["excused"]
    out["quorum_fraction"] = f"{frac.numerator}/{frac.denominator}"
    out["quorum_needed"] = _ceil(frac * tot["voters_summoned"])
    out["quorum_met"] = (
        tot["voters_summoned"] > 0
        and Fraction(tot["voters_present"]) >= frac * tot["voters_summoned"]
    )
    out["by_branch"] = sorted(per.values(), key=lambda b: fold(b["branch"]))
    return out


def _ceil(f: Fraction) -> int:
    return -(-f.numerator // f.denominator)


def absentees(congress: Congress) -> tuple[list[Delegate], list[Delegate]]:
    """(absent, excused) delegates in Vietnamese name order."""
    items = list_delegates(congress)
    return ([d for d in items if d.status == "absent"], [d for d in items if d.status == "excused"])
