"""Operator commands: `flask --app wsgi <command>` (docs/api.md, "Command line")."""

from __future__ import annotations

import sys

import click
from flask import Flask

from .audit.services import ensure_audit_head
from .extensions import db


def register_cli(app: Flask) -> None:
    @app.cli.command("init-db")
    def init_db():
        """Create or upgrade the schema (idempotent)."""
        from flask_migrate import upgrade

        upgrade()
        ensure_audit_head()
        click.echo(f"Database ready: {db.engine.url.render_as_string(hide_password=True)}")

    @app.cli.command("create-user")
    @click.argument("name")
    @click.option(
        "--role",
        "roles",
        multiple=True,
        required=True,
        help="admin, registrar, counter, chair or observer; repeat for several",
    )
    @click.option("--password", default=None)
    @click.option("--password-stdin", is_flag=True, help="read the password from standard input")
    @click.option("--full-name", default="")
    def create_user_cmd(name, roles, password, password_stdin, full_name):
        """Create a staff user."""
        from .auth.services import create_user
        from .errors import ServiceError

        if password_stdin:
            password = sys.stdin.readline().rstrip("\n")
        if not password:
            raise click.UsageError("give --password or --password-stdin")
        try:
            user = create_user(name, password, roles, full_name=full_name)
            db.session.commit()
        except ServiceError as err:
            db.session.rollback()
            raise click.ClickException(err.message) from err
        click.echo(
            f"Created user {user.username} (id {user.id}) with roles {', '.join(user.role_list)}"
        )

    @app.cli.command("verify-audit")
    def verify_audit():
        """Check the audit chain, naming the first bad event; then recount every counted poll
        and compare its result digest, naming the poll and the inputs that changed."""
        from .audit.services import verify_chain
        from .counting.verify_results import verify_results

        report = verify_chain()
        if report.ok:
            click.echo(f"Audit chain OK: {report.events} events, head {report.head}")
        else:
            click.echo(
                f"Audit chain BROKEN at event {report.first_bad_seq}: {report.problem}", err=True
            )
            sys.exit(1)
        try:
            checked, problems = verify_results()
        finally:
            db.session.rollback()
        if problems:
            click.echo("RESULTS DIFFER from their inputs:", err=True)
            for line in problems:
                click.echo(f"  {line}", err=True)
            sys.exit(1)
        click.echo(f"Results OK: {checked} counted polls recounted, digests agree")

    # Area commands (demo, recount, backup, restore, import-delegates) register themselves here.
    from . import cli_extra

    cli_extra.register(app)
