"""Ballot validity (docs/rules.md, "Ballot validity"; QĐ 244-QĐ/TW art. 17, kept by QĐ 190-QĐ/TW).

A list **has a surplus** when it has more names than a ballot may keep (:func:`max_kept`); the
same test applies to every round's list. On a list with a surplus the voter strikes names
(``kept``); on a list without one the ballot has agree/disagree boxes per name (``marks``, or
``kept`` meaning agree for those names and disagree for the others).
"""

from __future__ import annotations

from .model import ANSWERS, MARKS, Ballot, InvalidReason, PollSpec
from .settings import Settings


def has_surplus(spec: PollSpec, settings: Settings) -> bool:
    """Whether the list has more names than a ballot may keep (docs/rules.md, "Ballot
    validity"): then a ballot striking every name is ``all_struck``; without a surplus the
    ballot is an agree/disagree ballot."""
    return len(spec.candidate_ids) > max_kept(spec, settings)


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

    __slots__ = ("all_struck_valid", "candidates", "election", "items", "limit", "surplus")

    def __init__(self, spec: PollSpec, settings: Settings) -> None:
        self.election = spec.is_election
        self.candidates = frozenset(spec.candidate_ids)
        self.items = frozenset(spec.item_ids)
        self.limit = max_kept(spec, settings)
        self.surplus = len(spec.candidate_ids) > self.limit
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
            if ballot.answers is not None or (kept is None) == (ballot.marks is None):
                return InvalidReason.WRONG_KIND
            if kept is None:
                return self.rule_marks(ballot.marks or ())
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
            # QĐ 244-QĐ/TW art. 17: striking every name on a list with a surplus; without a
            # surplus ``kept`` means agree/disagree, so every name has exactly one mark
            if not kept and self.surplus and not self.all_struck_valid:
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

    def rule_marks(self, marks: tuple[tuple[int, str], ...]) -> str | None:
        # agree/disagree boxes exist only on a list without a surplus
        if self.surplus:
            return InvalidReason.WRONG_KIND
        ids = [cid for cid, _mark in marks]
        if not set(ids) <= self.candidates:
            return InvalidReason.UNKNOWN_CANDIDATE
        if len(set(ids)) != len(ids):
            return InvalidReason.DUPLICATE_CANDIDATE
        if any(mark not in MARKS for _cid, mark in marks):
            return InvalidReason.BAD_MARK
        # with several names a name without a valid mark counts for no one; with a single name
        # the ballot needs exactly one box marked (QĐ 244-QĐ/TW art. 17)
        if len(self.candidates) == 1 and not marks and not self.all_struck_valid:
            return InvalidReason.NO_MARK
        return None


def validate_ballot(spec: PollSpec, settings: Settings, ballot: Ballot) -> str | None:
    """Return why ``ballot`` is invalid for this poll, or ``None`` when it is valid.

    The returned value is an :class:`InvalidReason` (a ``str``) — or, for a paper ballot ruled
    invalid with a reason outside the enum, that reason string as given. Checks, first failing
    wins: a committee ruling on paper; the wrong ballot shape for the poll kind (``marks`` on a
    list with a surplus, both ``kept`` and ``marks``, neither); for elections unknown ids,
    duplicate ids, more names kept than :func:`max_kept`, and — when
    ``settings.all_struck_valid`` is False — a ballot striking every name on a list with a
    surplus (``all_struck``) or a single-name agree/disagree ballot without exactly one box
    marked (``no_mark``); marks other than agree/disagree (``bad_mark``); for resolutions
    unknown items, duplicate items and answers other than for/against/abstain.

    A valid election ballot keeping nobody, or a valid resolution ballot answering nothing, is
    *blank*: valid, but left out of the ``ballots_valid_nonblank`` denominator (Robert's Rules).
    The tablet calls this before accepting a cast so an over-vote is blocked with a message.
    """
    return _Rules(spec, settings).rule(ballot)
