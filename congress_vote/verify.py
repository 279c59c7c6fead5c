"""Check a poll from its published board, without the app or the database (issue 16):

    python -m congress_vote.verify BOARD.json [--keys FPS]

FPS are the key fingerprints printed on the key cards and the minutes (repeat --keys, or
separate them with commas). The checks are those of ``seal.verify_board`` — the same code
``flask --app wsgi verify-poll`` runs on the database's board. Exit 0 if every check passes,
1 if one fails (each failure named), 2 if the file cannot be read.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence

from .seal.verify_board import Report, check_board


def render(report: Report, name: str) -> list[str]:
    """The lines the two verifiers print."""
    lines = [f"{name}: digest {report.digest}"]
    if not report.trusted_keys:
        lines.append(
            "note: no --keys given: signatures checked against the board's own keys only "
            "(give the fingerprints printed on the key cards or the minutes)"
        )
    if report.ok:
        lines.append(
            f"OK: the inputs give the digest, the tally matches the published result, "
            f"the trackers match, {report.checked_signatures} signature(s) verify"
        )
    else:
        lines += [f"FAIL {f}" for f in report.findings]
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m congress_vote.verify",
        description="Check a poll's published board (GET /api/v1/polls/PID/board) offline.",
    )
    parser.add_argument("board", help="the board JSON file ('-' for standard input)")
    parser.add_argument(
        "--keys",
        action="append",
        metavar="FPS",
        help="expected key fingerprints (from the key cards or the minutes), comma-separated",
    )
    args = parser.parse_args(argv)
    try:
        if args.board == "-":
            board = json.load(sys.stdin)
        else:
            with open(args.board, encoding="utf-8") as f:
                board = json.load(f)
    except (OSError, ValueError) as err:
        print(f"verify: cannot read {args.board}: {err}", file=sys.stderr)
        return 2
    report = check_board(board, args.keys)
    poll = board.get("poll") if isinstance(board, dict) else None
    name = f"poll {poll.get('id')}" if isinstance(poll, dict) else args.board
    for line in render(report, name):
        print(line, file=sys.stdout if report.ok or not line.startswith("FAIL") else sys.stderr)
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
