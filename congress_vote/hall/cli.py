"""`flask --app wsgi hall`: one command runs the hall on the laptop.

It prepares the SQLite database (as init-db), makes the local certificate authority and the
server certificate for the address on first run (tls.py, kept in instance/hall-tls/), prints the
address as text and as a QR code for the tablets, and replaces itself with gunicorn serving the
app over HTTPS on that address (gunicorn.conf.py's settings when the source tree has it).
"""

from __future__ import annotations

import ipaddress
import os
import shutil
import socket
import sys
from pathlib import Path

import click
from flask import Flask, current_app

from ..paths import PACKAGE
from .tls import ensure_tls, fingerprint

DEFAULT_PORT = 8443


def lan_address() -> str:
    """The laptop's address on the hall's network: the source address the system would use
    to reach a private address (a UDP socket that is connected, never sent on); 127.0.0.1
    when the laptop has no network."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        try:
            s.connect(("10.255.255.255", 9))
            return s.getsockname()[0]
        except OSError:
            return "127.0.0.1"


def terminal_qr(text: str) -> str:
    """The QR code of `text` drawn with half-block characters (two modules a line)."""
    import qrcode

    qr = qrcode.QRCode(border=2, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    m = qr.get_matrix()
    if len(m) % 2:
        m.append([False] * len(m[0]))
    chars = {(False, False): "█", (True, False): "▄", (False, True): "▀", (True, True): " "}
    return "\n".join(
        "".join(chars[(top, bottom)] for top, bottom in zip(m[y], m[y + 1], strict=True))
        for y in range(0, len(m), 2)
    )


def _gunicorn_argv(host: str, port: int, workers: int, cert: Path, key: Path) -> list[str]:
    argv = [sys.executable, "-m", "gunicorn"]
    conf = PACKAGE.parent / "gunicorn.conf.py"
    if conf.exists():
        argv += ["-c", str(conf)]
    argv += [
        "--bind",
        f"{host}:{port}",
        "--certfile",
        str(cert),
        "--keyfile",
        str(key),
        "--workers",
        str(workers),
        "congress_vote:create_app()",
    ]
    return argv


def register_cli(app: Flask) -> None:
    @app.cli.command("hall")
    @click.option(
        "--host",
        default=None,
        help="the address to serve on (default: the laptop's address on the network)",
    )
    @click.option("--port", default=DEFAULT_PORT, show_default=True, type=int)
    @click.option("--workers", default=2, show_default=True, type=int)
    @click.option("--dry-run", is_flag=True, help="prepare and print, do not start the server")
    def hall(host, port, workers, dry_run):
        """Serve the hall over HTTPS on the laptop's network address, on SQLite."""
        from flask_migrate import upgrade

        from ..audit.services import ensure_audit_head
        from ..extensions import db

        host = host or lan_address()
        try:
            if ipaddress.ip_address(host).version != 4:
                raise ValueError(host)
        except ValueError as err:
            raise click.UsageError(f"--host must be an IPv4 address, not {host!r}") from err
        if db.engine.dialect.name != "sqlite":
            click.echo(f"Database: {db.engine.url.render_as_string(hide_password=True)}")
        upgrade()
        ensure_audit_head()
        db.session.commit()
        instance = current_app.instance_path
        tls = ensure_tls(instance, host)
        url = f"https://{host}:{port}"
        ca_pem = tls.ca_cert.read_bytes()
        click.echo("")
        click.echo(f"  Địa chỉ cho máy tính bảng / Address for the tablets:  {url}")
        click.echo(f"  Tin cậy chứng chỉ lần đầu / Trust the certificate once:  {url}/hall/trust")
        click.echo(f"  Dấu vân tay / Fingerprint (SHA-256):  {fingerprint(ca_pem)}")
        click.echo("")
        click.echo(terminal_qr(url))
        click.echo("")
        click.echo(f"  Chứng chỉ / Certificates: {tls.folder}")
        sys.stdout.flush()
        if dry_run:
            return
        env = dict(os.environ)
        env["PUBLIC_BASE_URL"] = url
        env["CONGRESS_VOTE_INSTANCE"] = instance
        env.setdefault("GUNICORN_ACCESSLOG", "-")
        argv = _gunicorn_argv(host, port, workers, tls.cert, tls.key)
        if shutil.which(argv[0]) is None and not Path(argv[0]).exists():
            raise click.ClickException("gunicorn's Python was not found")
        db.engine.dispose()  # nothing of this process's database handles goes on
        os.execve(argv[0], argv, env)
