"""Backups and restores of the database (`flask --app wsgi backup` / `restore`).

SQLite: the copy is made with SQLite's online backup API (`sqlite3.Connection.backup`), which
reads one consistent snapshot of the database while the server keeps writing (in WAL mode the
readers and the single writer do not block each other). A plain `cp` of a live WAL database can
lose the last committed transactions (they sit in the -wal file) or copy a torn page; never do that.
The copy is written to a temporary file next to its destination, checked (`PRAGMA
integrity_check`) and renamed into place, so a backup file either is complete or does not exist.

Restore refuses a file that is not a SQLite database, fails the integrity check, lacks our schema
(`alembic_version` at the revision this code expects) or whose audit chain does not verify. It
writes the backup into the live database with the same backup API, in one write transaction: other
connections (a running server) wait on the lock and then see either the old or the restored
database, never a mixture, and SQLite's -wal/-shm files stay consistent (replacing the file under
an open WAL database would corrupt it). Still: stop the server before a restore.

PostgreSQL: `pg_dump --format=custom` and `pg_restore --clean --if-exists --no-owner` (see
deploy/README-production.md). The commands run them when the client programs are installed and
print the command line otherwise.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(Exception):
    """The backup or restore could not be made; nothing was changed."""


@dataclass
class CheckReport:
    """What `check_sqlite_backup` found in a backup file."""

    revision: str | None  # the head revision (None only if there were no migrations at all)
    audit_events: int
    audit_head: str
    ballots: int


# ---- helpers ------------------------------------------------------------------------------------


def default_backup_path(instance_path: str, suffix: str = ".db") -> Path:
    """instance/backups/congress-<UTC timestamp>.db (never an existing file)."""
    folder = Path(instance_path) / "backups"
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"congress-{stamp}{suffix}"
    n = 1
    while path.exists():
        path = folder / f"congress-{stamp}-{n}{suffix}"
        n += 1
    return path


def sqlite_path(url) -> Path | None:
    """The file of a SQLite SQLAlchemy URL, or None for another database (or :memory:)."""
    if url.get_backend_name() != "sqlite":
        return None
    if not url.database or url.database == ":memory:":
        return None
    return Path(url.database)


def libpq_url(url) -> str:
    """A SQLAlchemy URL as a libpq connection string for pg_dump/pg_restore."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def expected_revision() -> str | None:
    """The head revision of our migrations (what alembic_version must hold)."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    cfg = Config()
    cfg.set_main_option("script_location", str(Path(__file__).parent / "migrations"))
    return ScriptDirectory.from_config(cfg).get_current_head()


# ---- SQLite -------------------------------------------------------------------------------------


def backup_sqlite(source: Path, dest: Path) -> Path:
    """Copy the live database `source` to `dest` with the online backup API.

    Guarantees: `dest` is a consistent snapshot of one committed state of `source` (all of a
    transaction or none of it); it appears atomically (temp file + rename); it is a standalone
    file (rollback journal, no -wal needed); `source` is never blocked for writers.
    """
    source, dest = Path(source), Path(dest)
    if not source.exists():
        raise BackupError(f"no database at {source}")
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".backup-", suffix=".tmp", dir=dest.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        src = sqlite3.connect(source, timeout=30)
        try:
            src.execute("PRAGMA busy_timeout=30000")
            out = sqlite3.connect(tmp)
            try:
                # pages=-1: the whole database in one step, i.e. from one read snapshot. (Stepping
                # in chunks would restart whenever another connection writes, forever under load.)
                src.backup(out, pages=-1)
                out.execute("PRAGMA journal_mode=DELETE")  # a self-contained file
                ok = out.execute("PRAGMA integrity_check").fetchone()[0]
                if ok != "ok":
                    raise BackupError(f"the copy fails the integrity check: {ok}")
                out.commit()
            finally:
                out.close()
        finally:
            src.close()
        os.chmod(tmp, 0o600)  # holds password hashes and ballots
        os.replace(tmp, dest)
        _fsync_dir(dest.parent)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return dest


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover (not on every platform)
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def check_sqlite_backup(path: Path, secret_key: str) -> CheckReport:
    """Refuse anything that is not a sound backup of this application (raises BackupError)."""
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"{path} does not exist")
    with open(path, "rb") as fh:
        if fh.read(16) != SQLITE_MAGIC:
            raise BackupError(f"{path} is not a SQLite database")
    # Work on a private copy: opening the file with the app would switch it to WAL mode.
    with tempfile.TemporaryDirectory(prefix="cv-restore-check-") as tmpdir:
        probe = Path(tmpdir) / "probe.db"
        shutil.copyfile(path, probe)
        con = sqlite3.connect(probe)
        try:
            try:
                ok = con.execute("PRAGMA integrity_check").fetchone()[0]
            except sqlite3.DatabaseError as err:
                raise BackupError(f"{path} is not a readable SQLite database: {err}") from None
            if ok != "ok":
                raise BackupError(f"{path} fails the integrity check: {ok}")
            tables = {
                r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")
            }
            if "alembic_version" not in tables:
                raise BackupError(
                    f"{path} has no alembic_version table: not a congress-vote database"
                )
            row = con.execute("SELECT version_num FROM alembic_version").fetchone()
            revision = row[0] if row else None
            want = expected_revision()
            if revision != want:
                raise BackupError(
                    f"{path} has schema revision {revision!r}; this version of "
                    f"congress-vote expects {want!r}"
                )
            ballots = (
                con.execute("SELECT count(*) FROM ballot").fetchone()[0]
                if "ballot" in tables
                else 0
            )
        finally:
            con.close()
        report = _verify_audit_of(probe, secret_key)
        if not report.ok:
            raise BackupError(
                f"the audit chain of {path} does not verify: event "
                f"{report.first_bad_seq}: {report.problem}"
            )
        return CheckReport(
            revision=revision, audit_events=report.events, audit_head=report.head, ballots=ballots
        )


def _verify_audit_of(path: Path, secret_key: str):
    """Run the application's own audit verification against another SQLite file (a bare Flask
    app holding only the database: the chain check needs nothing else)."""
    from flask import Flask

    from .audit.services import verify_chain
    from .extensions import db

    other = Flask(__name__)
    other.config.update(SQLALCHEMY_DATABASE_URI=f"sqlite:///{path}", SECRET_KEY=secret_key)
    db.init_app(other)
    with other.app_context():
        try:
            return verify_chain()
        finally:
            db.session.remove()
            db.engine.dispose()


def restore_sqlite(backup: Path, target: Path) -> None:
    """Write `backup` over the database `target` in one transaction (see the module docstring).

    The caller has checked the backup with `check_sqlite_backup`.
    """
    backup, target = Path(backup), Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{backup}?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target, timeout=60)
        try:
            dst.execute("PRAGMA busy_timeout=60000")
            src.backup(dst, pages=-1)
            dst.commit()
            ok = dst.execute("PRAGMA integrity_check").fetchone()[0]
            if ok != "ok":  # pragma: no cover (the backup was checked)
                raise BackupError(f"the restored database fails the integrity check: {ok}")
        finally:
            dst.close()
    finally:
        src.close()


# ---- PostgreSQL ---------------------------------------------------------------------------------


def pg_dump_command(url, dest: Path) -> list[str]:
    return [
        "pg_dump",
        "--format=custom",
        "--no-owner",
        f"--file={dest}",
        f"--dbname={libpq_url(url)}",
    ]


def pg_restore_command(url, backup: Path) -> list[str]:
    return [
        "pg_restore",
        "--clean",
        "--if-exists",
        "--no-owner",
        "--single-transaction",
        "--exit-on-error",
        f"--dbname={libpq_url(url)}",
        str(backup),
    ]


def shown(cmd: list[str]) -> str:
    """A command line for the terminal, with the password hidden."""
    import re

    return re.sub(r"(://[^:/@]+:)[^@]+@", r"\1***@", shlex.join(cmd))


def run_pg(cmd: list[str]) -> None:
    if shutil.which(cmd[0]) is None:
        raise BackupError(f"{cmd[0]} is not installed; run this yourself:\n  {shown(cmd)}")
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{cmd[0]} failed ({done.returncode}): {done.stderr.strip()}")


# ---- the commands -------------------------------------------------------------------------------


def register_cli(app) -> None:
    import click

    from .extensions import db

    @app.cli.command("backup")
    @click.argument("path", required=False, type=click.Path(dir_okay=False, path_type=Path))
    @click.option(
        "--print-only",
        is_flag=True,
        help="PostgreSQL: print the pg_dump command instead of running it",
    )
    def backup_cmd(path, print_only):
        """Copy the live database to PATH (default instance/backups/congress-<UTC time>.db)."""
        url = db.engine.url
        if url.get_backend_name() == "postgresql":
            dest = path or default_backup_path(app.instance_path, ".dump")
            cmd = pg_dump_command(url, dest)
            if print_only:
                click.echo(shown(cmd))
                return
            try:
                run_pg(cmd)
            except BackupError as err:
                raise click.ClickException(str(err)) from err
            click.echo(
                f"Backup written: {dest} (pg_dump custom format; restore with "
                f"`flask --app wsgi restore {dest} --yes` or pg_restore)"
            )
            return
        source = sqlite_path(url)
        if source is None:
            raise click.ClickException(
                f"cannot back up a {url.get_backend_name()} database with this command"
            )
        dest = path or default_backup_path(app.instance_path)
        if dest.resolve() == source.resolve():
            raise click.ClickException("the backup cannot overwrite the database itself")
        try:
            backup_sqlite(source, dest)
        except (BackupError, sqlite3.Error) as err:
            raise click.ClickException(f"backup failed: {err}") from err
        click.echo(f"Backup written: {dest} ({dest.stat().st_size} bytes)")

    @app.cli.command("restore")
    @click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
    @click.option("--yes", is_flag=True, help="really replace the current database with the backup")
    def restore_cmd(path, yes):
        """Replace the database with the backup PATH (checked first; stop the server first)."""
        url = db.engine.url
        if url.get_backend_name() == "postgresql":
            cmd = pg_restore_command(url, path)
            if not yes:
                click.echo(
                    "This replaces every table of the database. Stop the servers, then "
                    "run again with --yes, or run:\n  " + shown(cmd)
                )
                raise SystemExit(2)
            if not path.is_file():
                raise click.ClickException(f"{path} does not exist")
            db.session.remove()
            db.engine.dispose()
            try:
                run_pg(cmd)
            except BackupError as err:
                raise click.ClickException(str(err)) from err
            _report_audit_after_restore(click)
            return
        target = sqlite_path(url)
        if target is None:
            raise click.ClickException(
                f"cannot restore a {url.get_backend_name()} database with this command"
            )
        try:
            report = check_sqlite_backup(path, app.config["SECRET_KEY"])
        except BackupError as err:
            raise click.ClickException(f"refused: {err}") from err
        click.echo(
            f"Backup checked: schema {report.revision}, {report.audit_events} audit "
            f"events (head {report.audit_head[:16]}…), {report.ballots} ballots."
        )
        if not yes:
            click.echo(
                f"This replaces the database {target}. Stop the server, then run again with --yes."
            )
            raise SystemExit(2)
        db.session.remove()
        db.engine.dispose()
        try:
            restore_sqlite(path, target)
        except (BackupError, sqlite3.Error) as err:
            raise click.ClickException(f"restore failed: {err}") from err
        _report_audit_after_restore(click)


def _report_audit_after_restore(click) -> None:
    from .audit.services import verify_chain

    rep = verify_chain()
    if not rep.ok:
        raise click.ClickException(
            f"restored, but the audit chain does not verify: event "
            f"{rep.first_bad_seq}: {rep.problem}"
        )
    click.echo(f"Restored. Audit chain OK: {rep.events} events, head {rep.head}")
