"""API routes: voting kiosks of a congress — enrol, list, revoke (see api.md, congress/kiosks.py).
"""
from __future__ import annotations

from ..congress import kiosks
from ..congress.services import get_congress
from ..extensions import db
from ..security import current_actor, roles
from . import bp
from .util import doc, field, json_body, ok

_STR = {"type": "string"}
KIOSK = {"type": "object", "properties": {
    "id": {"type": "integer"}, "congress_id": {"type": "integer"}, "label": _STR,
    "enrolled_at": _STR, "enrolled_by": {"type": "integer", "nullable": True},
    "revoked_at": {"type": "string", "nullable": True}, "active": {"type": "boolean"}}}
ENROLLED = {"type": "object", "properties": {
    "id": {"type": "integer"}, "label": _STR,
    "token": {"type": "string", "description": "send as X-Kiosk-Token; shown only once"}}}


@bp.post("/congresses/<int:cid>/kiosks")
@roles("registrar", "counter")
@doc("Enrol a voting device as a kiosk of the congress; its token (shown once) goes in the "
     "X-Kiosk-Token header of its voting calls",
     body={"type": "object", "required": ["label"], "properties": {
         "label": {"type": "string", "minLength": 1, "maxLength": kiosks.LABEL_MAX}}},
     response=ENROLLED, statuses=(201, 400, 404, 422), tag="congress")
def kiosk_enrol(cid: int):
    congress = get_congress(cid)
    label = field(json_body(), "label", str)
    kiosk, token = kiosks.enrol_kiosk(congress, label, actor=current_actor())
    answer = {"id": kiosk.id, "label": kiosk.label, "token": token}
    db.session.commit()
    return ok(answer, 201)


@bp.get("/congresses/<int:cid>/kiosks")
@roles("registrar", "counter")
@doc("The kiosks of the congress (never their tokens)",
     response={"type": "array", "items": KIOSK}, tag="congress")
def kiosk_list(cid: int):
    return ok([kiosks.kiosk_dict(k) for k in kiosks.list_kiosks(get_congress(cid))])


@bp.delete("/kiosks/<int:kid>")
@roles("registrar", "counter")
@doc("Revoke a kiosk: its token stops working at once", response=KIOSK,
     statuses=(200, 404), tag="congress")
def kiosk_revoke(kid: int):
    kiosk = kiosks.revoke_kiosk(kiosks.get_kiosk(kid), actor=current_actor())
    answer = kiosks.kiosk_dict(kiosk)
    db.session.commit()
    return ok(answer)
