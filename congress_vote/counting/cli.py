"""`flask --app wsgi recount POLL_ID`: count again from the stored ballots and compare."""

from __future__ import annotations

import sys

import click
from flask import Flask


def register_cli(app: Flask) -> None:
    @app.cli.command("recount")
    @click.argument("poll_id", type=int)
    def recount(poll_id):
        """Recount a poll from its stored ballots with the rules engine; compare the digest AND
        the figures/votes with the stored result; print what differs (exit 1 on any difference).
        Changes nothing in the database."""
        from ..errors import ServiceError
        from ..extensions import db
        from ..polls.models import Poll
        from ..rules.recount import render
        from .recount import recount_compare

        poll = db.session.get(Poll, poll_id)
        if poll is None:
            click.echo(f"recount: no poll {poll_id}", err=True)
            sys.exit(2)
        try:
            fresh, diffs = recount_compare(poll)
        except ServiceError as err:
            click.echo(f"recount: {err.message}", err=True)
            sys.exit(2)
        finally:
            db.session.rollback()
        click.echo(f"poll {poll.id}: {poll.title} (round {poll.round}, {poll.status})")
        click.echo(render(fresh))
        if diffs:
            click.echo("RECOUNT DIFFERS from the stored result:", err=True)
            for line in diffs:
                click.echo(f"  {line}", err=True)
            sys.exit(1)
        click.echo("recount agrees with the stored result (digest and figures)")
