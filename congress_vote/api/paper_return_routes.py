"""API route: the paper return (api.md, `POST /api/v1/polls/{pid}/paper-returns`)."""
from __future__ import annotations

from ..counting.paper_returns import paper_return_dict, record_paper_return
from ..extensions import db
from ..polls.committee import committee_route
from ..polls.services import get_poll
from ..security import current_actor, roles
from . import bp
from .util import doc, json_body, ok

PAPER_FIGURES = {"type": "object", "properties": {
    "poll_id": {"type": "integer"},
    "issued": {"type": "integer", "description": "paper ballots issued (phát ra)"},
    "unused": {"type": ["integer", "null"], "description": "unused, collected back"},
    "returned": {"type": ["integer", "null"],
                 "description": "returned in the box (thu vào) = issued − unused"},
    "entered": {"type": "integer", "description": "paper ballots entered and counted"},
    "frozen": {"type": "boolean", "description": "a paper entry exists: no more corrections"}}}


@bp.post("/polls/<int:pid>/paper-returns")
@roles("counter")
@committee_route()
@doc("Record the unused paper ballots collected back after the close (counter on this poll's "
     "committee); may be corrected until the first paper entry, then frozen",
     body={"type": "object", "required": ["unused"], "properties": {
         "unused": {"type": "integer", "minimum": 0}}},
     response=PAPER_FIGURES, statuses=(201, 400, 403, 404, 409, 422), tag="counting")
def api_paper_returns(pid):
    poll = get_poll(pid)
    data = json_body(required=("unused",))
    record_paper_return(poll, data["unused"], current_actor())
    db.session.commit()
    return ok(paper_return_dict(poll), 201)
