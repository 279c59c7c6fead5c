"""`flask --app wsgi verify-poll POLL_ID [--keys FPS]`: the poll's board built from the
database, checked by the same code as the standalone ``python -m congress_vote.verify``,
plus the audit chain."""

from __future__ import annotations

import sys

import click
from flask import Flask


def register_cli(app: Flask) -> None:
    @app.cli.command("verify-poll")
    @click.argument("poll_id", type=int)
    @click.option(
        "--keys",
        multiple=True,
        metavar="FPS",
        help="expected key fingerprints (printed on the key cards and the minutes)",
    )
    def verify_poll(poll_id, keys):
        """Check one counted poll: its inputs give the signed digest, the tally matches the
        stored result, the trackers match the tablet ballots, every signature verifies against
        keys with the given fingerprints, and the audit chain is whole. Exit 1 on a failure
        (each named), 2 if the poll cannot be checked. Changes nothing."""
        from ..audit.services import verify_chain
        from ..errors import ServiceError
        from ..extensions import db
        from ..polls.models import Poll
        from ..verify import render
        from .board import board_of
        from .verify_board import Finding, check_board

        poll = db.session.get(Poll, poll_id)
        if poll is None:
            click.echo(f"verify-poll: no poll {poll_id}", err=True)
            sys.exit(2)
        try:
            report = check_board(board_of(poll), keys)
            chain = verify_chain()
        except ServiceError as err:
            click.echo(f"verify-poll: {err.message}", err=True)
            sys.exit(2)
        finally:
            db.session.rollback()
        if not chain.ok:
            report.findings.append(
                Finding("audit_chain", f"event {chain.first_bad_seq}: {chain.problem}")
            )
        for line in render(report, f"poll {poll.id} ({poll.title})"):
            click.echo(line, err=line.startswith("FAIL"))
        sys.exit(0 if report.ok else 1)
