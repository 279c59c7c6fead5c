"""HTML views: the staff list of a congress's voting kiosks, with revocation. (A tablet is
enrolled on the kiosk page itself, ballots/views.py, which gives it the kiosk cookie.)"""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _

from ..errors import ServiceError
from ..extensions import db
from ..security import current_actor, roles
from . import kiosks
from .setup import get_congress
from .views import bp


@bp.get("/congresses/<int:cid>/kiosks")
@roles("registrar", "counter")
def kiosk_list(cid: int):
    congress = get_congress(cid)
    return render_template(
        "congress/kiosks.html", congress=congress, kiosks=kiosks.list_kiosks(congress)
    )


@bp.post("/congresses/<int:cid>/kiosks/<int:kid>/revoke")
@roles("registrar", "counter")
def kiosk_revoke(cid: int, kid: int):
    get_congress(cid)
    try:
        kiosk = kiosks.revoke_kiosk(kiosks.get_kiosk(kid, congress_id=cid), actor=current_actor())
        db.session.commit()
    except ServiceError as exc:
        db.session.rollback()
        flash(exc.message, "error")
    else:
        flash(_("Kiosk “%(label)s” revoked: it no longer takes votes.", label=kiosk.label), "ok")
    return redirect(url_for("congress.kiosk_list", cid=cid), 303)
