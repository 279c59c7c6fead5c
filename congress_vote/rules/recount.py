"""Independent recount from an exported ballots file, without the app's database.

Usage::

    python -m congress_vote.rules.recount FILE.json

prints the figures, the elected and the digest, compares them with the digest (and, when the
file carries one, the stored ``result``) and exits 1 naming what differs (2 if the file cannot
be read). The export format is ``congress-vote-ballots/1``, made by
:func:`congress_vote.rules.export.recount_payload`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence

from .count import Result
from .export import compare_with_payload, recount_from_payload


def render(result: Result) -> str:
    """A plain-text summary: denominator, figures, votes, the elected, ties, checks, digest."""
    f = result.figures
    lines = [
        (
            f"denominator {result.denominator} ({result.denominator_basis}), "
            f"threshold {result.threshold_votes} votes; rules {result.settings.to_dict()}"
        ),
        "figures: " + ", ".join(f"{k} {v}" for k, v in f.items()),
    ]
    for c in result.candidates:
        lines.append(
            f"  candidate {c['id']}: {c['votes']} votes, {c['percent']} %"
            + (f", elected {c['elected']}" if c["elected"] else "")
        )
    for i in result.items:
        lines.append(
            f"  item {i['id']}: for {i['for']}, against {i['against']}, "
            f"abstain {i['abstain']}, not voted {i['not_voted']}, "
            f"{i['percent_for']} % for, {'passed' if i['passed'] else 'not passed'}"
        )
    if result.kind != "resolution":
        lines.append(
            f"elected: official {result.elected_official}, alternate {result.elected_alternate}"
        )
        lines.append(
            f"ties: {result.ties}; unfilled seats {result.unfilled_seats}, "
            f"alternate {result.unfilled_alternate_seats}"
            + ("; alternates pending" if result.alternates_pending else "")
        )
    for c in result.checks:
        lines.append(f"check {c['name']}: {'ok' if c['ok'] else 'FAILED'} ({c['detail']})")
    lines.append(f"digest {result.digest}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line; returns the exit status (0 agree, 1 differ, 2 unreadable)."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m congress_vote.rules.recount FILE.json", file=sys.stderr)
        return 2
    try:
        with open(args[0], encoding="utf-8") as fh:
            payload = json.load(fh)
        result = recount_from_payload(payload)
    except (OSError, ValueError) as exc:
        print(f"recount: cannot read {args[0]}: {exc}", file=sys.stderr)
        return 2
    print(render(result))
    diffs = compare_with_payload(payload, result)
    if diffs:
        print("RECOUNT DIFFERS:", file=sys.stderr)
        for line in diffs:
            print(f"  {line}", file=sys.stderr)
        return 1
    print("recount agrees with the file")
    return 0


if __name__ == "__main__":
    sys.exit(main())
