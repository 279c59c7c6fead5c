"""Paper entry of an agree/disagree ballot (a list without a surplus: docs/rules.md, "Ballot
validity"): each name has agree, disagree or no valid mark (neither box, or both), entered as
``marks`` ``{candidate_id: "agree"|"disagree"}`` with the names without a valid mark left out."""

from __future__ import annotations

from flask_babel import gettext as _

from .. import rules
from ..ballots.spec import poll_spec
from ..errors import ServiceError
from ..polls.models import Poll
from ..polls.services import settings_of


def agree_ballot(poll: Poll) -> bool:
    """Whether the poll's paper ballot has agree/disagree boxes (an election list without a
    surplus: docs/rules.md, "Ballot validity"), entered as marks rather than names kept."""
    return poll.kind != "resolution" and not rules.has_surplus(poll_spec(poll), settings_of(poll))


def marks_from_form(poll: Poll, form) -> dict[str, str]:
    """The marks of an entry form's agree/disagree radios (`mark-<id>`); "none" (neither box,
    or both) leaves the name out."""
    return {
        str(c.id): form.get(f"mark-{c.id}")
        for c in poll.candidates
        if form.get(f"mark-{c.id}") in rules.MARKS
    }


def clean_marks(poll: Poll, marks) -> dict[str, str]:
    """An agree/disagree paper ballot: the mark of each name with one valid mark (a name with
    neither box or both boxes marked is left out: it has no valid mark)."""
    if not isinstance(marks, dict):
        raise ServiceError(
            "bad_entry",
            _("An agree/disagree ballot is entered as marks {candidate_id: agree|disagree}."),
            status=422,
        )
    if rules.has_surplus(poll_spec(poll), settings_of(poll)):
        raise ServiceError(
            "wrong_kind",
            _("This list has more names than seats: enter the names kept, not marks."),
            status=422,
        )
    ids = {str(c.id) for c in poll.candidates}
    clean: dict[str, str] = {}
    for key, mark in marks.items():
        if str(key) not in ids:
            raise ServiceError(
                "unknown_candidate", _("Not on this ballot: %(ids)s.", ids=key), status=422
            )
        if mark not in rules.MARKS:
            raise ServiceError("bad_mark", _("Mark each name agree or disagree."), status=422)
        clean[str(key)] = mark
    return clean
