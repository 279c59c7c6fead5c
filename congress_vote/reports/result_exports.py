"""Exports of a poll's result: CSV/XLSX rows and the anonymous ballots for a recount.

Guarantees: a result reaches an anonymous reader only once published (`exportable_result`);
the ballots export carries no receipt and no order of casting (the rules engine sorts it).
"""

from __future__ import annotations

from flask_babel import gettext as _

from ..counting.digest_inputs import digest_inputs
from ..counting.inputs import rules_inputs
from ..errors import ServiceError
from ..polls.models import Poll
from .services import poll_congress, require_result


def exportable_result(poll: Poll, actor) -> dict:
    """The result for an export: staff once counted, anyone once published (409 otherwise)."""
    if actor is None:
        if poll.status != "published":
            raise ServiceError(
                "not_published", _("This result has not been published yet."), status=409
            )
        return require_result(poll)
    return require_result(poll)


EXPORT_HEADER = [
    "poll_id",
    "poll",
    "round",
    "kind",
    "row_id",
    "name",
    "votes",
    "percent",
    "elected",
    "for",
    "against",
    "abstain",
    "percent_for",
    "passed",
]


def export_rows(data: dict) -> list[list]:
    """One row per candidate (ballot order) or item, for CSV/XLSX."""
    rows = []
    base = [data["poll_id"], data.get("title", ""), data.get("round", 1), data.get("kind", "")]
    for c in data.get("candidates") or []:
        rows.append(
            base
            + [
                c["id"],
                c.get("full_name", ""),
                c.get("votes"),
                c.get("percent"),
                c.get("elected") or "",
                "",
                "",
                "",
                "",
                "",
            ]
        )
    for i in data.get("items") or []:
        rows.append(
            base
            + [
                i["id"],
                i.get("text", ""),
                "",
                "",
                "",
                i.get("for"),
                i.get("against"),
                i.get("abstain"),
                i.get("percent_for"),
                "yes" if i.get("passed") else "no",
            ]
        )
    return rows


def ballots_export(poll: Poll) -> dict:
    """The anonymous ballots of a counted poll for an independent recount
    (format congress-vote-ballots/1; `python -m congress_vote.rules.recount FILE`)."""
    from ..rules import recount_payload
    from ..rules.export import RESULT_FIELDS

    data = require_result(poll)
    spec, att, ballots, settings, hand = rules_inputs(poll)
    meta = {
        "poll_id": poll.id,
        "title": poll.title,
        "round": poll.round,
        "congress": poll_congress(poll).name,
        "setup_fingerprint": poll.setup_fingerprint,
        "candidates": {str(c.id): c.full_name for c in poll.candidates},
        "items": {str(i.id): i.text for i in poll.items},
    }
    stored = {k: v for k, v in data.items() if k in RESULT_FIELDS}
    return recount_payload(
        spec,
        att,
        settings,
        ballots,
        hand,
        meta=meta,
        result=stored,
        digest_inputs=digest_inputs(poll),
    )
