"""The paper entries still waiting, as the committee reads them (issue 17 item 7): each ballot by
its printed code, each entry by its counter's full name, and for a dispute the names (or items)
on which the two entries differ, side by side.

The printed code is kept on an entry only while its ballot waits (PaperEntry.code, cleared with
the token hash when the ballot is counted: counting/paper_entry.py)."""

from __future__ import annotations

import json

from flask_babel import gettext as _
from sqlalchemy import select

from ..auth.models import User
from ..ballots.models import PaperEntry
from ..codes import format_code
from ..extensions import db
from ..polls.models import Poll
from ..polls.namesakes import candidate_label


def _readings(poll: Poll, entry: PaperEntry) -> dict[str, str]:
    """What one entry says, line by line: {line label: reading}."""
    try:
        choice = json.loads(entry.choice or "{}")
    except ValueError:
        choice = {}
    if entry.invalid_reason:
        return {_("Ballot"): _("invalid")}
    out: dict[str, str] = {}
    if "kept" in choice:
        kept = set(choice["kept"])
        for c in poll.candidates:
            out[candidate_label(c)] = _("Kept") if c.id in kept else _("Struck out")
    elif "marks" in choice:
        marks = {str(k): v for k, v in choice["marks"].items()}
        words = {"agree": _("Agree"), "disagree": _("Disagree")}
        for c in poll.candidates:
            mark = marks.get(str(c.id))
            out[candidate_label(c)] = words.get(mark, mark) if mark else "—"
    elif "answers" in choice:
        answers = {str(k): v for k, v in choice["answers"].items()}
        words = {"for": _("For"), "against": _("Against"), "abstain": _("Abstain")}
        for i in poll.items:
            a = answers.get(str(i.id))
            out[i.text[:80]] = words.get(a, a) if a else "—"
    return out


def _differences(poll: Poll, entries: list[PaperEntry]) -> list[dict]:
    """The lines on which the entries differ: [{line, readings: [one per entry]}]."""
    readings = [_readings(poll, e) for e in entries]
    lines: list[str] = []
    for r in readings:
        lines += [k for k in r if k not in lines]
    out = []
    for line in lines:
        values = [r.get(line, "—") for r in readings]
        if len(set(values)) > 1:
            out.append({"line": line, "readings": values})
    return out


def paper_queue(poll: Poll) -> dict[str, list[dict]]:
    """Pending single entries and disputes, grouped by ballot (for the entry page): each group
    {ballot: the printed code, code: the code to settle with, state, entries: [{id, user,
    invalid_reason}], differences} (differences only for a dispute)."""
    rows = list(
        db.session.scalars(
            select(PaperEntry)
            .where(PaperEntry.poll_id == poll.id, PaperEntry.state.in_(("pending", "disputed")))
            .order_by(PaperEntry.entered_at, PaperEntry.id)
        )
    )
    users = {
        u.id: u
        for u in db.session.scalars(select(User).where(User.id.in_({e.user_id for e in rows})))
    }
    groups: dict[str, dict] = {}
    by_group: dict[str, list[PaperEntry]] = {}
    for e in rows:
        assert e.token_hash is not None  # pending and disputed entries still name their ballot
        code = e.code
        g = groups.setdefault(
            e.token_hash,
            {
                "ballot": format_code(code) if code else e.token_hash[:12],
                "code": code or "",
                "state": e.state,
                "entries": [],
                "differences": [],
            },
        )
        user = users.get(e.user_id)
        g["entries"].append(
            {
                "id": e.id,
                "user_id": e.user_id,
                "user": user.display_name if user else str(e.user_id),
                "invalid_reason": e.invalid_reason,
            }
        )
        by_group.setdefault(e.token_hash, []).append(e)
    out: dict[str, list[dict]] = {"pending": [], "disputed": []}
    for key, g in groups.items():
        if g["state"] == "disputed":
            g["differences"] = _differences(poll, by_group[key])
        out[g["state"]].append(g)
    return out
