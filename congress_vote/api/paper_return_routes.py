"""API route: the paper return, `POST /api/v1/polls/{pid}/paper-returns` (docs/api.md,
"Counting")."""

from __future__ import annotations

from ..counting.paper_returns import paper_return_dict, record_paper_return
from ..extensions import db
from ..polls.committee import committee_route
from ..polls.services import get_poll
from ..security import current_actor, roles
from .blueprint import bp
from .schemas import paper as sch
from .schemas.base import answer, load
from .util import doc


@bp.post("/polls/<int:pid>/paper-returns")
@roles("counter")
@committee_route()
@doc(
    "Record the unused paper ballots collected back after the close (counter on this poll's "
    "committee); may be corrected until the first paper entry, then frozen",
    body=sch.PaperReturnBody,
    response=sch.PaperFigures,
    statuses=(201, 400, 403, 404, 409, 422),
    tag="counting",
)
def api_paper_returns(pid):
    poll = get_poll(pid)
    data = load(sch.PaperReturnBody())
    record_paper_return(poll, data["unused"], current_actor())
    db.session.commit()
    return answer(sch.PaperFigures(), paper_return_dict(poll), 201)
