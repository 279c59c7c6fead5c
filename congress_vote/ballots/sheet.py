"""What a ballot page shows of its poll, built once per opened setup: the ballot sheet.

Every kiosk page of a poll (the ballot, the review, the receipt) shows the same title, names,
details and letter index; once a poll is open its set-up is frozen and its `setup_fingerprint`
names it. :func:`ballot_sheet` builds a :class:`Sheet` of plain values from the ORM rows once
per app, poll setup and language (the namesake details are words: "sinh năm 1975") and answers
it from ``app.extensions["congress_vote.sheet_cache"]`` after that, so a page renders without
loading a row or touching an ORM attribute. Draft polls (no fingerprint) are never cached.
The rules (PollSpec, Settings) come from `spec.poll_rules`, the one cache of what validating a
choice needs.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask import current_app
from flask_babel import get_locale

from ..extensions import db
from ..i18n.collation import given_initial, initials_in_order
from ..polls.models import Poll
from ..polls.namesakes import poll_namesakes
from ..rules import max_kept
from .spec import Rules, poll_rules

SHEET_CACHE_KEY = "congress_vote.sheet_cache"
SHEET_CACHE_MAX = 256


@dataclass(frozen=True)
class SheetName:
    """A candidate as the ballot shows them: `detail` under the name (what tells a namesake
    apart, else the position), `label` as results and the review show it (the `who` filter),
    `initial` the given name's first letter (the letter index), `anchor` that letter when this
    is the first name of the list with it (the index's link lands there), else None."""

    id: int
    full_name: str
    detail: str
    label: str
    initial: str
    anchor: str | None = None


@dataclass(frozen=True)
class SheetItem:
    id: int
    text: str


@dataclass(frozen=True)
class Sheet:
    """A poll's ballot as its pages show it (the templates' `poll`)."""

    id: int
    congress_id: int
    kind: str
    title: str
    round: int
    secrecy: str
    setup_fingerprint: str | None
    candidates: tuple[SheetName, ...]
    items: tuple[SheetItem, ...]
    letters: tuple[str, ...]  # the letter index of a long list, in alphabet order
    rules: Rules
    limit: int  # the most names a ballot may keep
    agree: bool  # agree/disagree boxes per name (as many candidates as seats)


def build_sheet(poll: Poll) -> Sheet:
    """The sheet of the poll's rows as they are now."""
    spec, settings = rules = poll_rules(poll)
    namesakes = poll_namesakes(poll)
    anchored: set[str] = set()
    names = []
    for c in poll.candidates:
        initial = given_initial(c.full_name)
        anchor = initial if initial and initial not in anchored else None
        if anchor:
            anchored.add(anchor)
        names.append(
            SheetName(
                id=c.id,
                full_name=c.full_name,
                detail=namesakes.get(c.id) or c.position or "",
                label=f"{c.full_name} ({namesakes[c.id]})" if namesakes.get(c.id) else c.full_name,
                initial=initial,
                anchor=anchor,
            )
        )
    return Sheet(
        id=poll.id,
        congress_id=poll.congress_id,
        kind=poll.kind,
        title=poll.title,
        round=poll.round,
        secrecy=poll.secrecy,
        setup_fingerprint=poll.setup_fingerprint,
        candidates=tuple(names),
        items=tuple(SheetItem(i.id, i.text) for i in poll.items),
        letters=tuple(initials_in_order(n.full_name for n in names)),
        rules=rules,
        limit=max_kept(spec, settings),
        agree=spec.kind != "resolution"
        and len(spec.candidate_ids) <= spec.seats + spec.alternate_seats,
    )


def ballot_sheet(poll_id: int, fingerprint: str | None, poll: Poll | None = None) -> Sheet:
    """The sheet of poll `poll_id` whose setup is `fingerprint` (cached per app once opened);
    `poll` is its ORM row when the caller has it loaded."""
    if fingerprint is None:
        return build_sheet(poll or db.session.get_one(Poll, poll_id))
    cache: dict = current_app.extensions.setdefault(SHEET_CACHE_KEY, {})
    key = (poll_id, fingerprint, str(get_locale()))
    hit = cache.get(key)
    if hit is None:
        hit = build_sheet(poll or db.session.get_one(Poll, poll_id))
        if len(cache) >= SHEET_CACHE_MAX:
            cache.clear()
        cache[key] = hit
    return hit


def sheet_of(poll: Poll) -> Sheet:
    return ballot_sheet(poll.id, poll.setup_fingerprint, poll)
