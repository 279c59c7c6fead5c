"""The counting minutes (Biên bản kiểm phiếu) and the paper-entry log, as PDF.

Every field of the counting minutes (docs/rules.md, "Counting, checks and the minutes") comes
from the stored result (never a
fresh count: the minutes print what the committee signs). Vietnamese by default; English with
`lang=en` (or when the UI is in English).
"""

from __future__ import annotations

from typing import Any

from flask import session
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from ..audit.services import head_hash
from ..auth.models import User
from ..ballots.voiding import voided_batches
from ..congress.models import Congress
from ..extensions import db
from ..i18n.collation import name_sort_key
from ..i18n.formats import fmt_date, fmt_datetime, fmt_time, local
from ..polls.models import Poll
from ..polls.namesakes import candidate_label
from ..reports.paper_form import heading, signer_rows
from ..reports.pdf import render_pdf
from .inputs import attendance_snapshot
from .models import PollResult
from .paper_entry import entry_log, entry_log_reference
from .paper_figures import paper_figures
from .results import result_dict, stored_result


def pick_lang(lang: str | None) -> str:
    if lang in ("vi", "en"):
        return lang
    chosen = session.get("lang")
    return chosen if chosen in ("vi", "en") else "vi"


def committee(poll: Poll) -> list[dict]:
    """Committee members, head first, then by name: the full name and title (chức vụ) the
    papers print (never the account name: a member without a full name signs on a blank)."""
    ids = {m.user_id: m.is_head for m in poll.committee}
    users = list(db.session.scalars(select(User).where(User.id.in_(ids)))) if ids else []
    users.sort(key=lambda u: (not ids[u.id], name_sort_key(u.full_name or u.username)))
    return [
        {
            "id": u.id,
            "name": u.display_name,
            "full_name": u.full_name,
            "title": u.title,
            "head": ids[u.id],
        }
        for u in users
    ]


def minutes_context(poll: Poll) -> dict:
    result = result_dict(poll)
    stored = stored_result(poll) or {}
    congress = db.session.get(Congress, poll.congress_id)
    att = attendance_snapshot(poll)
    fig = result["figures"] or {}
    by_id = {c["id"]: c for c in result["candidates"]}
    official = [
        by_id[i]
        for i in result["elected_order"] or []
        if by_id.get(i, {}).get("elected") == "official"
    ]
    alternate = [
        by_id[i]
        for i in result["elected_order"] or []
        if by_id.get(i, {}).get("elected") == "alternate"
    ]
    ties = [
        {
            "names": [candidate_label(by_id[i]) for i in t["candidate_ids"] if i in by_id],
            "votes": t.get("votes"),
            "seats": t["seats_contested"],
            "kind": t.get("kind"),
        }
        for t in result["ties"]
    ]
    denominator_base = fig.get("denominator_base", 0)
    signed = {s["user_id"]: s["signed_at"] for s in result["signoffs"]}
    members = committee(poll)
    for m in members:
        m["signed_at"] = signed.get(m["id"])
    return {
        "poll": poll,
        "congress": congress,
        "result": result,
        "fig": fig,
        "excluded": fig.get("excluded") or {"excused": fig.get("excused", 0)},
        "absent": max(0, denominator_base - fig.get("voters_present", 0)),
        "official": official,
        "alternate": alternate,
        "ties": ties,
        "members": members,
        "head": next((m for m in members if m["head"]), None),
        "entry_log_ref": entry_log_reference(poll),
        "paper_entries": len(entry_log(poll)),
        # the paper figures the digest covers (stored with the count), else as they are now
        "paper": stored.get("paper") or paper_figures(poll),
        # batches voided while the poll was open (ballots/voiding.py): not among the issued
        "voided_batches": voided_batches(poll.id),
        "ballots_fingerprint": (stored.get("digest_parts") or {}).get("ballots"),
        "audit_head": head_hash(),
        "fingerprint": poll.setup_fingerprint,
        "att": att,
        "privacy_warning": 0 < fig.get("ballots_returned", 0) < _privacy_min(),
    }


def _privacy_min() -> int:
    from flask import current_app

    return current_app.config.get("PRIVACY_MIN_BALLOTS", 5)


def minutes_pdf(poll: Poll, lang: str | None = None) -> bytes:
    """Render the minutes PDF of a counted poll (409 before counting)."""
    ctx = minutes_context(poll)
    lang = pick_lang(lang)
    with force_locale(lang):
        row = db.session.get_one(PollResult, poll.id)  # counted: minutes_context checked
        congress = ctx["congress"]
        ctx["counted_time"] = fmt_time(row.counted_at, congress)
        ctx["counted_date"] = fmt_date(row.counted_at, congress)
        ctx["closed_time"] = fmt_time(row.certified_at, congress) if row.certified_at else None
        ctx["closed_same_day"] = row.certified_at is None or (
            (c := local(row.certified_at, congress)) is not None
            and (o := local(row.counted_at, congress)) is not None
            and c.date() == o.date()
        )
        ctx["closed_date"] = fmt_date(row.certified_at, congress) if row.certified_at else None
        ctx["head_block"] = heading(congress, _("Counting committee"), row.counted_at)
        ctx["signers"] = signer_rows(poll, congress, ctx["members"], ctx["result"]["signoffs"])
        ctx["lang"] = lang
        return render_pdf("print/minutes.html", **ctx)


def entry_log_pdf(poll: Poll, lang: str | None = None) -> bytes:
    """The paper-entry log (appendix to the minutes): who entered what, when."""
    congress = db.session.get(Congress, poll.congress_id)
    names = {c.id: c.full_name for c in poll.candidates}
    texts = {str(i.id): i.text for i in poll.items}
    users = {u.id: u.full_name or u.username for u in db.session.scalars(select(User))}
    import json

    rows: list[dict[str, Any]] = []
    for e in entry_log(poll):
        choice = json.loads(e.choice or "{}")
        if e.invalid_reason:
            content = None
        elif "kept" in choice:
            content = ", ".join(names.get(c, f"#{c}") for c in choice["kept"]) or "—"
        elif "marks" in choice:  # an agree/disagree ballot: each name with a valid mark
            marked = {"agree": _("Agree"), "disagree": _("Disagree")}
            content = (
                "; ".join(
                    f"{names.get(int(k), f'#{k}')}: {marked.get(v, v)}"
                    for k, v in (choice.get("marks") or {}).items()
                    if str(k).isdigit()
                )
                or "—"
            )
        else:
            content = (
                "; ".join(
                    f"{texts.get(k, k)}: {v}" for k, v in (choice.get("answers") or {}).items()
                )
                or "—"
            )
        # A counted paper ballot's entries no longer name its code (ballots.models.PaperEntry).
        rows.append(
            {
                "e": e,
                "ballot": (e.token_hash or "")[:12] or "—",
                "user": users.get(e.user_id, "?"),
                "content": content,
            }
        )
    lang = pick_lang(lang)
    with force_locale(lang):
        for r in rows:
            r["at"] = fmt_datetime(r["e"].entered_at, congress)
        return render_pdf(
            "print/entry_log.html",
            poll=poll,
            congress=congress,
            rows=rows,
            reference=entry_log_reference(poll),
            audit_head=head_hash(),
            fingerprint=poll.setup_fingerprint,
            lang=lang,
        )
