"""The poll setup form (hand-written HTML form with a CSRF token) to and from the API body.

The HTML form and the JSON API feed the same `create_poll` / `update_poll`: this module only turns
form fields into the API's dict (candidates one per line, "Full name | position").
"""

from __future__ import annotations

import json

from flask_babel import gettext as _

from ..errors import ServiceError
from ..ids import id_or_none
from . import setup as poll_setup  # committee_ids: the name is this module's too


def _int(form, name: str, default: int) -> int:
    raw = (form.get(name) or "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ServiceError(
            "bad_request", _("%(field)s must be a whole number.", field=name), status=422
        ) from None


def committee_ids(form) -> list[int]:
    """The ticked committee members' user ids (anything that is not an id is left out)."""
    return [i for i in map(id_or_none, form.getlist("counting_committee")) if i is not None]


def poll_data_from_form(form) -> dict:
    """The API body for create_poll/update_poll from a submitted poll form."""
    kind = form.get("kind", "committee")
    data = {
        "kind": kind,
        "title": form.get("title", ""),
        "seats": _int(form, "seats", 0 if kind == "resolution" else 1),
        "alternate_seats": _int(form, "alternate_seats", 0),
        "secrecy": form.get("secrecy", "secret"),
    }
    lines = [ln.strip() for ln in (form.get("lines") or "").splitlines() if ln.strip()]
    if kind == "resolution":
        data["items"] = [{"text": ln} for ln in lines]
    else:
        cands = []
        for ln in lines:
            name, _, position = ln.partition("|")
            cands.append({"full_name": name.strip(), "position": position.strip()})
        data["candidates"] = cands
    committee = committee_ids(form)
    head = id_or_none(form.get("committee_head"))
    if head in committee:
        committee.remove(head)
        committee.insert(0, head)
    data["counting_committee"] = committee
    # how many key cards open the sealed box: empty = a majority of the committee
    data["seal_threshold"] = _int(form, "seal_threshold", 0) or None
    rules = {"preset": form.get("preset") or "vn-party"}
    for key in ("denominator", "fraction"):
        if form.get(key):
            rules[key] = form.get(key)
    for key in ("strict", "all_struck_valid"):
        if form.get(key) in ("yes", "no"):
            rules[key] = form.get(key) == "yes"
    data["rules"] = rules
    return data


def form_from_poll(poll) -> dict:
    """Initial form values of an existing poll."""
    rules = json.loads(poll.rules or "{}")
    if poll.kind == "resolution":
        lines = "\n".join(i.text for i in poll.items)
    else:
        lines = "\n".join(
            c.full_name + (f" | {c.position}" if c.position else "") for c in poll.candidates
        )
    ids = poll_setup.committee_ids(poll)
    return {
        "kind": poll.kind,
        "title": poll.title,
        "seats": poll.seats,
        "alternate_seats": poll.alternate_seats,
        "secrecy": poll.secrecy,
        "lines": lines,
        "counting_committee": ids,
        "committee_head": ids[0] if ids else None,
        "seal_threshold": poll.seal_threshold or "",
        "preset": rules.get("preset", "vn-party"),
        "denominator": rules.get("denominator"),
        "fraction": rules.get("fraction"),
        "strict": "yes" if rules.get("strict", True) else "no",
        "all_struck_valid": {True: "yes", False: "no"}.get(rules.get("all_struck_valid"), ""),
    }
