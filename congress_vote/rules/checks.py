"""The five reconciliation checks of a count (docs/rules.md, "Counting, checks and the
minutes"). Each is a dict ``{"name", "ok", "detail"}``, in the fixed order of
:data:`CHECK_NAMES`; sign-off is blocked unless every one holds.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from .model import PollSpec

CHECK_NAMES: tuple[str, ...] = (
    "issued_within_present",
    "returned_within_issued",
    "valid_plus_invalid_is_returned",
    "votes_within_valid",
    "votes_sum_within_valid_times_seats",
)


def reconciliation_checks(
    spec: PollSpec,
    fig: dict[str, Any],
    votes: Counter[int],
    items: list[dict[str, Any]],
    limit: int,
    by_hand: bool,
) -> list[dict[str, Any]]:
    """The five reconciliation checks (docs/rules.md, "Counting, checks and the minutes")."""
    issued, present = fig["ballots_issued"], fig["voters_present"]
    returned, valid, invalid = fig["ballots_returned"], fig["ballots_valid"], fig["ballots_invalid"]
    out = [
        {
            "name": CHECK_NAMES[0],
            "ok": issued <= present,
            "detail": f"issued {issued} ≤ present {present}",
        },
        {
            "name": CHECK_NAMES[1],
            "ok": returned <= issued,
            "detail": f"returned {returned} ≤ issued {issued}",
        },
        {
            "name": CHECK_NAMES[2],
            "ok": valid + invalid == returned,
            "detail": f"valid {valid} + invalid {invalid} = returned {returned}",
        },
    ]
    if spec.is_election:
        cap, per = valid, limit
        over = sorted(cid for cid, v in votes.items() if v > valid)
        total = sum(votes.values())
        what = "candidate"
    else:
        # a resolution: each item is answered at most once per valid ballot (or per voter
        # present, for a show of hands)
        cap = present if by_hand else valid
        per = len(spec.item_ids)
        over = sorted(i["id"] for i in items if i["for"] + i["against"] + i["abstain"] > cap)
        total = sum(i["for"] + i["against"] + i["abstain"] for i in items)
        what = "item"
    basis = "present" if by_hand else "valid"
    out.append(
        {
            "name": CHECK_NAMES[3],
            "ok": not over,
            "detail": (
                f"every {what} ≤ {basis} {cap}"
                if not over
                else f"{what}s over {basis} {cap}: {over}"
            ),
        }
    )
    out.append(
        {
            "name": CHECK_NAMES[4],
            "ok": total <= cap * per,
            "detail": f"sum {total} ≤ {basis} {cap} × {per} = {cap * per}",
        }
    )
    return out
