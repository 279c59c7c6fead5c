"""API routes of the chair's hall tools (docs/api.md, "Projector"): what the projector shows,
and what to confirm before opening a poll."""

from __future__ import annotations

from ..congress.setup import get_congress
from ..extensions import db
from ..polls.services import get_poll
from ..reports.opening import opening_check
from ..reports.projector import choice_to_dict, get_choice, set_choice, shown
from ..security import current_actor, roles
from .blueprint import bp
from .schemas import projector as sch
from .schemas.base import answer, load
from .util import doc


def _projector(congress) -> dict:
    what, poll, _message, _source = shown(congress)
    return {
        **choice_to_dict(get_choice(congress)),
        "shows": what,
        "shown_poll_id": poll.id if poll is not None else None,
    }


@bp.get("/congresses/<int:cid>/projector")
@roles("chair", "observer")
@doc("The chair's projector choice and what the screen shows now", response=sch.Projector)
def get_projector(cid: int):
    return answer(sch.Projector(), _projector(get_congress(cid)))


@bp.put("/congresses/<int:cid>/projector")
@roles("chair")
@doc(
    "Choose what the projector shows: auto, a poll, attendance, a message or nothing",
    body=sch.ProjectorBody,
    response=sch.Projector,
    statuses=(200, 400, 404, 422),
)
def put_projector(cid: int):
    congress = get_congress(cid)
    set_choice(congress, load(sch.ProjectorBody()), current_actor())
    db.session.commit()
    return answer(sch.Projector(), _projector(congress))


@bp.get("/polls/<int:pid>/opening-check")
@roles("chair")
@doc(
    "What to confirm before opening a poll: quorum, check-in, key cards, the list (advisory)",
    response=sch.OpeningCheck,
    statuses=(200, 404),
)
def opening_check_route(pid: int):
    return answer(sch.OpeningCheck(), opening_check(get_poll(pid)))
