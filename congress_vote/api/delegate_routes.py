"""API routes: what the congress pages change by hand — a branch, a delegate added or edited, a
lost card reissued, a check-in undone (docs/api.md, "Congress and delegates"). Each calls the
service its HTML page calls (tests/test_ui_api_parity.py)."""

from __future__ import annotations

from ..congress.cards import reissue_card
from ..congress.checkin import undo_check_in
from ..congress.delegates import add_delegate, delegate_dict, get_delegate, update_delegate
from ..congress.printing import cards_pdf
from ..congress.setup import add_branch, congress_dict, get_congress
from ..extensions import db
from ..reports.pdf import pdf_response
from ..security import current_actor, roles
from .blueprint import bp
from .schemas import congress as csch
from .schemas import delegates as sch
from .schemas.base import answer, load
from .util import doc


@bp.post("/congresses/<int:cid>/branches")
@roles("admin")
@doc(
    "Add a branch (chi bộ) by hand; 409 branch_exists",
    body=sch.BranchBody,
    response=csch.Congress,
    statuses=(201, 400, 404, 409, 422),
    tag="congress",
)
def branch_add(cid: int):
    c = get_congress(cid)
    add_branch(c, load(sch.BranchBody())["name"], actor=current_actor())
    db.session.commit()
    return answer(csch.Congress(), congress_dict(c), 201)


@bp.post("/congresses/<int:cid>/delegates")
@roles("admin")
@doc(
    "Add one delegate (validated as an import row); 409 duplicate_code; a namesake is accepted",
    body=sch.DelegateBody,
    response=csch.Delegate,
    statuses=(201, 400, 404, 409, 422),
    tag="congress",
)
def delegate_add(cid: int):
    c = get_congress(cid)
    d = add_delegate(c, load(sch.DelegateBody()), actor=current_actor())
    out = delegate_dict(d)
    db.session.commit()
    return answer(csch.Delegate(), out, 201)


@bp.patch("/congresses/<int:cid>/delegates/<int:did>")
@roles("admin")
@doc(
    "Change a delegate's fields (those given); 409 duplicate_code",
    body=sch.DelegateChange,
    response=csch.Delegate,
    statuses=(200, 400, 404, 409, 422),
    tag="congress",
)
def delegate_change(cid: int, did: int):
    d = get_delegate(get_congress(cid), did)
    now = delegate_dict(d)
    given = {k: v for k, v in load(sch.DelegateChange()).items() if v is not None}
    fields = ("code", "full_name", "branch", "membership", "gender", "birth_year", "position")
    update_delegate(d, {k: given.get(k, now.get(k)) for k in fields}, actor=current_actor())
    out = delegate_dict(d)
    db.session.commit()
    return answer(csch.Delegate(), out)


@bp.post("/congresses/<int:cid>/delegates/<int:did>/reissue")
@roles("admin")
@doc(
    "Cancel a lost card and answer the new card (PDF): its code exists only on that paper",
    produces="application/pdf",
    statuses=(201, 404),
    tag="congress",
)
def delegate_reissue(cid: int, did: int):
    c = get_congress(cid)
    d = get_delegate(c, did)
    reissue_card(d, actor=current_actor())
    pdf = cards_pdf(c, [d])  # rendered before the commit: a failed render reissues nothing
    db.session.commit()
    return pdf_response(pdf, f"card-{d.id}.pdf", 201)


@bp.post("/congresses/<int:cid>/checkin/undo")
@roles("registrar")
@doc(
    "Undo a check-in made by mistake: the delegate is absent again",
    body=sch.UndoCheckInBody,
    response=csch.Delegate,
    statuses=(200, 400, 404, 409, 422),
    tag="congress",
)
def checkin_undo(cid: int):
    d = get_delegate(get_congress(cid), load(sch.UndoCheckInBody())["delegate_id"])
    undo_check_in(d, actor=current_actor())
    out = delegate_dict(d)
    db.session.commit()
    return answer(csch.Delegate(), out)
