"""After a count: the next round to propose, and the candidate-list size warning."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .count import Result
from .model import PollSpec


@dataclass(frozen=True)
class NextRound:
    """A proposed further round. ``reason`` is ``"tie"``, ``"shortfall"``, ``"alternates"`` or
    ``None`` (nothing to do: then ``candidate_ids`` is empty and the seats are 0).

    It is only a proposal: the congress decides whether to hold it, and may add new names
    (docs/rules.md, "Who is elected": shortfall). ``candidate_ids`` keep the ballot order.
    """

    candidate_ids: tuple[int, ...] = ()
    seats: int = 0
    alternate_seats: int = 0
    reason: str | None = None

    def __bool__(self) -> bool:
        return self.reason is not None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe dict (the body of ``POST /polls/{pid}/rounds`` plus the reason)."""
        return {
            "candidate_ids": list(self.candidate_ids),
            "seats": self.seats,
            "alternate_seats": self.alternate_seats,
            "reason": self.reason,
        }


def propose_next_round(spec: PollSpec, result: Result) -> NextRound:
    """Propose the next round from ``result``, in this order of precedence:

    1. a tie on the last official seat(s): the tied candidates, ``seats`` = seats contested
       (the alternates of a slate are decided after it, so none are proposed here);
    2. official seats left unfilled: every candidate not elected, ``seats`` = unfilled
       official seats and ``alternate_seats`` = the alternate seats left unfilled;
    3. a tie on the last alternate seat(s): the tied candidates, ``alternate_seats`` = contested;
    4. alternates still pending (decided on a separate ballot): every candidate not elected,
       ``alternate_seats`` = the slate's alternate seats, reason ``"alternates"``;
    5. alternate seats left unfilled: every candidate not elected, reason ``"shortfall"``;
    6. otherwise nothing: ``NextRound()`` (falsy).

    Resolutions never need a further round.
    """
    if not spec.is_election:
        return NextRound()
    ties = {t["kind"]: t for t in result.ties}
    elected = set(result.elected_order)
    others = tuple(cid for cid in spec.candidate_ids if cid not in elected)
    if "official" in ties:
        t = ties["official"]
        return NextRound(tuple(t["candidate_ids"]), t["seats_contested"], 0, "tie")
    if result.unfilled_seats:
        return NextRound(
            others, result.unfilled_seats, result.unfilled_alternate_seats, "shortfall"
        )
    if "alternate" in ties:
        t = ties["alternate"]
        return NextRound(tuple(t["candidate_ids"]), 0, t["seats_contested"], "tie")
    if result.alternates_pending:
        return NextRound(others, 0, spec.alternate_seats, "alternates")
    if result.unfilled_alternate_seats:
        return NextRound(others, 0, result.unfilled_alternate_seats, "shortfall")
    return NextRound()


@dataclass(frozen=True)
class CandidateListWarning:
    """Why a candidate list is outside the usual size. ``code`` is one of
    ``"fewer_candidates_than_seats"``, ``"no_surplus"``, ``"surplus_too_large"``; the app
    translates it. ``min_candidates``/``max_candidates`` give the usual range.
    """

    code: str
    seats: int
    candidates: int
    min_candidates: int
    max_candidates: int

    @property
    def message(self) -> str:
        """A plain English message (the app may translate ``code`` instead)."""
        return (
            f"{self.candidates} candidates for {self.seats} seats; the usual list has "
            f"{self.min_candidates} to {self.max_candidates} names"
        )


def max_surplus(seats: int) -> int:
    """The largest usual surplus of names over seats (docs/rules.md, "Candidate list size").

    At most 30 % more names than seats, rounded down (9 seats → 2, so at most 11 names); a
    small committee of 3–5 seats at most one surplus. Choice where the sources are silent: 1–2
    seats also allow one surplus (30 % rounded down would allow none, contradicting "more
    candidates than seats").
    """
    if seats <= 5:
        return 1
    return (seats * 3) // 10


def candidate_list_warning(seats: int, n_candidates: int) -> CandidateListWarning | None:
    """Warn (never forbid) when ``n_candidates`` is not more than ``seats`` or exceeds the
    surplus of :func:`max_surplus`. For a combined slate pass official + alternate seats.
    ``None`` when the list is within the usual range or there are no seats.
    """
    if seats <= 0:
        return None
    low, high = seats + 1, seats + max_surplus(seats)
    if n_candidates < seats:
        code = "fewer_candidates_than_seats"
    elif n_candidates == seats:
        code = "no_surplus"
    elif n_candidates > high:
        code = "surplus_too_large"
    else:
        return None
    return CandidateListWarning(code, seats, n_candidates, low, high)
