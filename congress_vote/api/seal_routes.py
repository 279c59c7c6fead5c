"""API routes of the sealed box's key cards and public board (issue 16; docs/sealed-box.md):
POST /congresses/{cid}/key-card, GET /polls/{pid}/board."""

from __future__ import annotations

from flask_babel import gettext as _

from ..congress.setup import get_congress
from ..errors import ServiceError
from ..extensions import db
from ..polls.services import get_poll
from ..polls.status import PollStatus
from ..seal.board import board_of
from ..seal.keycard_pdf import issue_and_print, key_card_response
from ..security import current_actor, public, roles
from .blueprint import bp
from .schemas import seal as sch
from .schemas.base import answer
from .util import doc


@bp.post("/congresses/<int:cid>/key-card")
@roles("counter")
@doc(
    "Print one's own key card (a counting committee member): a new card, served once, no-store",
    produces="application/pdf",
    statuses=(201, 401, 403, 404),
    tag="congress",
)
def api_key_card(cid: int):
    data = issue_and_print(get_congress(cid), current_actor())
    db.session.commit()
    return key_card_response(data)


@bp.get("/polls/<int:pid>/board")
@public
@doc(
    "The public board of a published poll: everything needed to check it without the database",
    response=sch.Board,
    statuses=(200, 403, 404, 409),
    tag="counting",
)
def api_board(pid: int):
    poll = get_poll(pid)
    if poll.status != PollStatus.PUBLISHED and current_actor() is None:
        raise ServiceError(
            "not_published", _("The board of a poll is public once it is published."), status=403
        )
    return answer(sch.Board(), board_of(poll))
