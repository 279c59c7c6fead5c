"""The page that shows a tablet how to trust the hall's certificate authority, and the
authority's certificate to download (PEM for iPad, DER for Android). Public: the certificate is
no secret; its fingerprint is printed by the hall command, to compare."""

from __future__ import annotations

from flask import Blueprint, Response, current_app, render_template
from flask_babel import gettext as _

from ..errors import ServiceError
from ..security import public
from .tls import der, fingerprint, tls_folder

bp = Blueprint("hall", __name__, url_prefix="/hall")


def _ca_pem() -> bytes:
    path = tls_folder(current_app.instance_path) / "ca.pem"
    if not path.exists():
        raise ServiceError(
            "no_hall_certificate",
            _(
                "This server was not started with the hall command: "
                "it has no certificate of its own."
            ),
            status=404,
        )
    return path.read_bytes()


@bp.get("/trust")
@public
def trust():
    pem = _ca_pem()
    return render_template("hall/trust.html", fingerprint=fingerprint(pem))


@bp.get("/ca.pem")
@public
def ca_pem():
    return Response(
        _ca_pem(),
        mimetype="application/x-pem-file",
        headers={"Content-Disposition": "attachment; filename=congress-vote-hall-ca.pem"},
    )


@bp.get("/ca.crt")
@public
def ca_crt():
    return Response(
        der(_ca_pem()),
        mimetype="application/x-x509-ca-cert",
        headers={"Content-Disposition": "attachment; filename=congress-vote-hall-ca.crt"},
    )
