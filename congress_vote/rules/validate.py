"""Ballot validity (docs/rules.md, "Ballot validity"; QĐ 190-QĐ/TW)."""

from __future__ import annotations

from .model import ANSWERS, Ballot, InvalidReason, PollSpec
from .settings import Settings


def max_kept(spec: PollSpec, settings: Settings) -> int:
    """How many names one valid ballot may keep.

    A committee ballot keeps at most ``seats``. A slate ballot with alternates on the same ballot
    (the default) keeps at most ``seats + alternate_seats`` (docs/rules.md, "The three kinds of
    vote"). With
    ``alternates_same_ballot`` False a slate poll with official seats elects those only (the
    alternates come in a separate later poll), and an alternates-only poll (``seats == 0``) keeps
    at most ``alternate_seats``.
    """
    if spec.kind == "slate" and (settings.alternates_same_ballot or spec.seats == 0):
        return spec.seats + spec.alternate_seats
    return spec.seats


class _Rules:
    """What validation needs, computed once per poll rather than once per ballot."""

    __slots__ = ("all_struck_valid", "candidates", "election", "items", "limit")

    def __init__(self, spec: PollSpec, settings: Settings) -> None:
        self.election = spec.is_election
        self.candidates = frozenset(spec.candidate_ids)
        self.items = frozenset(spec.item_ids)
        self.limit = max_kept(spec, settings)
        self.all_struck_valid = settings.all_struck_valid

    def rule(self, ballot: Ballot) -> str | None:
        if ballot.invalid_reason:
            # ruled invalid on paper by the counting committee: carried as given
            try:
                return InvalidReason(ballot.invalid_reason)
            except ValueError:
                return ballot.invalid_reason
        if self.election:
            kept = ballot.kept
            if kept is None or ballot.answers is not None:
                return InvalidReason.WRONG_KIND
            distinct = set(kept)
            # a name not on the list (paper: "adds names") can never be counted
            if not distinct <= self.candidates:
                return InvalidReason.UNKNOWN_CANDIDATE
            if len(distinct) != len(kept):
                return InvalidReason.DUPLICATE_CANDIDATE
            # keeping more names than seats makes the whole ballot invalid; fewer is valid
            # ("bầu thiếu")
            if len(kept) > self.limit:
                return InvalidReason.OVERVOTE
            if not kept and not self.all_struck_valid:
                return InvalidReason.ALL_STRUCK
            return None
        answers = ballot.answers
        if answers is None or ballot.kept is not None:
            return InvalidReason.WRONG_KIND
        seen: set[int] = set()
        for item, answer in answers:
            if item not in self.items:
                return InvalidReason.UNKNOWN_ITEM
            if item in seen:
                return InvalidReason.DUPLICATE_ITEM
            seen.add(item)
            if answer not in ANSWERS:
                return InvalidReason.BAD_ANSWER
        return None


def validate_ballot(spec: PollSpec, settings: Settings, ballot: Ballot) -> str | None:
    """Return why ``ballot`` is invalid for this poll, or ``None`` when it is valid.

    The returned value is an :class:`InvalidReason` (a ``str``) — or, for a paper ballot ruled
    invalid with a reason outside the enum, that reason string as given. Checks, first failing
    wins: a committee ruling on paper; the wrong ballot shape for the poll kind; for elections
    unknown ids, duplicate ids, more names kept than :func:`max_kept`, and an all-struck ballot
    when ``settings.all_struck_valid`` is False; for resolutions unknown items, duplicate items
    and answers other than for/against/abstain.

    A valid election ballot keeping nobody, or a valid resolution ballot answering nothing, is
    *blank*: valid, but left out of the ``ballots_valid_nonblank`` denominator (Robert's Rules).
    The tablet calls this before accepting a cast so an over-vote is blocked with a message.
    """
    return _Rules(spec, settings).rule(ballot)
