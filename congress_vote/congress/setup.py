"""Congress setup: create and edit a congress (dates, quorum and threshold fractions), its
branches. Every verb flushes and records an audit event; the caller commits."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.services import record
from ..errors import ServiceError
from ..extensions import db
from .fields import KINDS, MAX_LEN, clean_name, parse_fraction
from .models import Branch, Congress


def get_congress(cid: int) -> Congress:
    congress = db.session.get(Congress, cid)
    if congress is None:
        raise ServiceError("not_found", _("No such congress."), status=404)
    return congress


def list_congresses() -> list[Congress]:
    return list(db.session.scalars(select(Congress).order_by(Congress.id.desc())))


def _parse_date(value, name: str) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise ServiceError(
            "bad_date", _("%(field)s must be a date written YYYY-MM-DD.", field=name)
        ) from None


def _congress_fields(data: dict, partial: bool = False) -> dict:
    out: dict[str, Any] = {}
    for key, limit in (("name", 300), ("organisation", 300), ("term", 50), ("venue", 300)):
        if key in data or not partial:
            value = clean_name(data.get(key))
            if len(value) > limit:
                raise ServiceError(
                    "too_long",
                    _("%(field)s is longer than %(limit)s characters.", field=key, limit=limit),
                )
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
    if "time_zone" in data or not partial:
        out["time_zone"] = check_time_zone(data.get("time_zone") or DEFAULT_TIME_ZONE)
    return out


DEFAULT_TIME_ZONE = "Asia/Ho_Chi_Minh"


def check_time_zone(value) -> str:
    """An IANA time zone name (zoneinfo knows it), else 422 bad_time_zone. UTC is refused: the
    papers print the hall's local time."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    name = str(value).strip()
    try:
        if not name or name.upper() in ("UTC", "ETC/UTC", "GMT", "Z") or "\x00" in name:
            raise ValueError(name)
        ZoneInfo(name)
    except (ValueError, ZoneInfoNotFoundError):
        raise ServiceError(
            "bad_time_zone",
            _("time_zone must be a time zone name such as Asia/Ho_Chi_Minh (not UTC)."),
        ) from None
    return name


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
    record(
        "congress.created",
        actor=actor,
        congress_id=congress.id,
        data={
            "name": congress.name,
            "kind": congress.kind,
            "quorum_fraction": congress.quorum_fraction,
            "kiosk_only": congress.kiosk_only,
        },
    )
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
        record(
            "congress.updated",
            actor=actor,
            congress_id=congress.id,
            data={"fields": sorted(changed)},
        )
    return congress


def branch_by_name(congress: Congress, name: str, create: bool = True) -> Branch | None:
    name = clean_name(name)
    if not name:
        return None
    b = db.session.scalar(
        select(Branch).where(Branch.congress_id == congress.id, Branch.name == name)
    )
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
        raise ServiceError(
            "branch_exists", _("The branch “%(name)s” exists already.", name=name), status=409
        )
    b = branch_by_name(congress, name)
    assert b is not None  # the name is not empty: the branch was created
    record("branch.created", actor=actor, congress_id=congress.id, data={"branch": name})
    return b


def congress_dict(c: Congress) -> dict:
    return {
        "id": c.id,
        "name": c.name,
        "organisation": c.organisation,
        "term": c.term,
        "venue": c.venue,
        "starts_on": c.starts_on.isoformat() if c.starts_on else None,
        "ends_on": c.ends_on.isoformat() if c.ends_on else None,
        "kind": c.kind,
        "quorum_fraction": c.quorum_fraction,
        "kiosk_only": c.kiosk_only,
        "time_zone": c.time_zone,
        "branches": [{"id": b.id, "name": b.name} for b in c.branches],
    }
