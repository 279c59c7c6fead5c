"""API routes: voting kiosks of a congress — enrol, list, revoke (docs/api.md, "Kiosks";
congress/kiosks.py).
"""

from __future__ import annotations

from ..congress import kiosks
from ..congress.setup import get_congress
from ..extensions import db
from ..security import current_actor, roles
from .blueprint import bp
from .schemas import kiosks as sch
from .schemas.base import answer, load
from .util import doc


@bp.post("/congresses/<int:cid>/kiosks")
@roles("registrar", "counter")
@doc(
    "Enrol a voting device as a kiosk of the congress; its token (shown once) goes in the "
    "X-Kiosk-Token header of its voting calls",
    body=sch.KioskEnrolment,
    response=sch.EnrolledKiosk,
    statuses=(201, 400, 404, 422),
    tag="congress",
)
def kiosk_enrol(cid: int):
    congress = get_congress(cid)
    label = load(sch.KioskEnrolment())["label"]
    kiosk, token = kiosks.enrol_kiosk(congress, label, actor=current_actor())
    enrolled = {"id": kiosk.id, "label": kiosk.label, "token": token}
    db.session.commit()
    return answer(sch.EnrolledKiosk(), enrolled, 201)


@bp.get("/congresses/<int:cid>/kiosks")
@roles("registrar", "counter")
@doc(
    "The kiosks of the congress (never their tokens)", response=sch.Kiosk(many=True), tag="congress"
)
def kiosk_list(cid: int):
    return answer(
        sch.Kiosk(many=True), [kiosks.kiosk_dict(k) for k in kiosks.list_kiosks(get_congress(cid))]
    )


@bp.delete("/kiosks/<int:kid>")
@roles("registrar", "counter")
@doc(
    "Revoke a kiosk: its token stops working at once",
    response=sch.Kiosk,
    statuses=(200, 404),
    tag="congress",
)
def kiosk_revoke(kid: int):
    kiosk = kiosks.revoke_kiosk(kiosks.get_kiosk(kid), actor=current_actor())
    revoked = kiosks.kiosk_dict(kiosk)
    db.session.commit()
    return answer(sch.Kiosk(), revoked)
