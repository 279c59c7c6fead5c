"""API routes: a draft poll's setup changed, and the counting committee's record of complaints
(minutes section 6) — each the service its HTML page calls (tests/test_ui_api_parity.py)."""

from __future__ import annotations

from ..counting.signoff import set_complaints
from ..extensions import db
from ..polls.committee import committee_route
from ..polls.services import get_poll, poll_to_dict, update_poll
from ..security import current_actor, roles
from .blueprint import bp
from .schemas import polls as sch
from .schemas.base import answer, load
from .util import doc


@bp.patch("/polls/<int:pid>")
@roles("admin")
@doc(
    "Change a draft poll's setup (only the fields given); 409 once it is open",
    body=sch.PollChange,
    response=sch.Poll,
    statuses=(200, 400, 404, 409, 422),
)
def poll_change(pid: int):
    poll = get_poll(pid, lock=True)
    data = {k: v for k, v in load(sch.PollChange()).items() if v is not None}
    update_poll(poll, data, current_actor())
    db.session.commit()
    return answer(sch.Poll(), poll_to_dict(poll))


@bp.post("/polls/<int:pid>/complaints")
@roles("counter")
@committee_route()  # the committee's guard before the body is read
@doc(
    "Record the complaints and how they were settled (minutes section 6), before certification",
    body=sch.ComplaintsBody,
    response=sch.Complaints,
    statuses=(200, 400, 403, 404, 409),
    tag="counting",
)
def complaints(pid: int):
    poll = get_poll(pid)
    row = set_complaints(poll, load(sch.ComplaintsBody())["complaints"], current_actor())
    out = {"poll_id": poll.id, "complaints": row.complaints}
    db.session.commit()
    return answer(sch.Complaints(), out)
