"""Who may act on a poll's ballots and count: the members of THAT poll's counting committee.

A counter role is not enough: a counter of another poll's committee must not issue this poll's
ballots, enter its paper ballots, count it, sign it or read its entry log. The chair and the admin
keep only their own verbs (open/close/publish; poll setup): without a committee seat they cannot
issue, count, enter or sign either.

One place per verb:

- a verb that writes is guarded in its service function (:func:`require_committee`, called by
  ``ballots.issuing.issue_ballots``, ``counting.count.count_poll`` and the paper, hand-count,
  complaints and sign-off services), so the HTML view and the API route share the check;
- a page or download with no service of its own (the slips PDF, the paper-entry and hand-count
  pages, the entry log, ballot review, ``ballots.json``, the minutes) carries
  :func:`committee_route`, the same decorator on the view and on the API route.

``tests/test_committee_scope.py`` walks the URL map: every route under ``/api/v1/polls/<pid>/``
and every ``counting.*`` / ``polls.*`` route that is not a known read-only or chair/admin verb
must answer 403 to a counter of another committee, and change nothing.
"""

from __future__ import annotations

import functools

from flask_babel import gettext as _

from ..errors import ServiceError
from ..security import current_actor
from .services import get_poll


def is_committee_member(poll, user) -> bool:
    """Whether `user` (a User or a user id) sits on `poll`'s counting committee."""
    uid = getattr(user, "id", user)
    return uid is not None and any(m.user_id == uid for m in poll.committee)


def require_committee(poll, user) -> None:
    """403 `not_on_committee` unless `user` is on this poll's counting committee."""
    if not is_committee_member(poll, user):
        raise ServiceError(
            "not_on_committee",
            _("Only members of this poll's counting committee may do this."),
            status=403,
        )


def committee_route(readers: tuple[str, ...] = ()):
    """Decorate a view or API route taking `pid`: it runs only for a member of that poll's
    counting committee, or (read-only pages) for a holder of one of the `readers` roles.

    Put it under ``@roles(...)``, which answers 401/redirects a request without a login first.
    The marker ``__committee__`` (the readers) lets the tests find the guarded routes."""
    readers = tuple(readers)

    def deco(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            actor = current_actor()
            poll = get_poll(kwargs["pid"])
            if not (readers and actor is not None and actor.has_role(*readers)):
                require_committee(poll, actor)
            return view(*args, **kwargs)

        wrapper.__committee__ = readers
        return wrapper

    return deco
