"""Counting: figures, thresholds, who is elected, what passed (seats filled and ties: seats.py;
the reconciliation checks: checks.py).

Everything that decides is exact integer arithmetic (docs/rules.md, "Who is elected": never
decide "more than half" with floats).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import chain
from typing import Any

from .checks import reconciliation_checks
from .digest import ballot_digest
from .errors import RulesInputError
from .model import ANSWERS, Attendance, Ballot, HandCount, PollSpec
from .seats import fill_seats, tie_entry
from .settings import Settings
from .validate import _Rules, max_kept

# --- exact arithmetic -------------------------------------------------------------------------


def percent(votes: int, denominator: int) -> str:
    """``votes / denominator`` as a percentage with two decimals, rounded half up.

    Integer arithmetic only; a zero (or negative) denominator gives ``"0.00"``.
    """
    if denominator <= 0:
        return "0.00"
    hundredths, rest = divmod(votes * 10000, denominator)
    if 2 * rest >= denominator:  # half up
        hundredths += 1
    return f"{hundredths // 100}.{hundredths % 100:02d}"


def qualifies(votes: int, denominator: int, fraction: Fraction, strict: bool) -> bool:
    """Whether ``votes`` passes the threshold: ``votes > fraction × denominator`` when strict,
    ``votes ≥ fraction × denominator`` otherwise. A zero denominator passes nobody.
    """
    if denominator <= 0:
        return False
    lhs = votes * fraction.denominator
    rhs = fraction.numerator * denominator
    return lhs > rhs if strict else lhs >= rhs


def threshold_votes(denominator: int, fraction: Fraction, strict: bool) -> int | None:
    """The least whole number of votes that passes, or ``None`` when nothing can pass
    (denominator zero). E.g. 148 with 1/2 strict → 75; 148 with 1/2 "at least" → 74.
    """
    if denominator <= 0:
        return None
    num = fraction.numerator * denominator
    den = fraction.denominator
    if strict:
        return num // den + 1
    return -(-num // den)


# --- result -----------------------------------------------------------------------------------


@dataclass
class Result:
    """The outcome of one count, ready for the API (``to_dict``), the minutes and the recount.

    Guarantees: every figure is an integer computed from the inputs; ``candidates`` and
    ``items`` are in ballot order; ``elected_order`` lists official seats in descending votes,
    then alternates; for each category, elected + seats contested by ties + unfilled = seats
    (unless the alternates are ``alternates_pending``); ``checks`` holds the five reconciliation
    checks in a fixed order and ``checks_ok`` is their conjunction.
    """

    kind: str
    seats: int
    alternate_seats: int
    denominator: int
    denominator_basis: str
    threshold_votes: int | None
    figures: dict[str, Any]
    candidates: list[dict[str, Any]]
    elected_order: list[int]
    items: list[dict[str, Any]]
    ties: list[dict[str, Any]]
    unfilled_seats: int
    unfilled_alternate_seats: int
    alternates_pending: bool
    checks: list[dict[str, Any]]
    settings: Settings
    digest: str
    counted_by_hand: bool = False
    receipts: list[str] = field(default_factory=list)

    @property
    def checks_ok(self) -> bool:
        """True when every reconciliation check holds (sign-off is blocked otherwise)."""
        return all(c["ok"] for c in self.checks)

    @property
    def elected_official(self) -> list[int]:
        """Official seats, descending votes."""
        return [c["id"] for c in self._elected_sorted("official")]

    @property
    def elected_alternate(self) -> list[int]:
        """Alternate seats, descending votes."""
        return [c["id"] for c in self._elected_sorted("alternate")]

    def _elected_sorted(self, kind: str) -> list[dict[str, Any]]:
        order = {cid: n for n, cid in enumerate(self.elected_order)}
        return sorted(
            (c for c in self.candidates if c["elected"] == kind), key=lambda c: order[c["id"]]
        )

    def to_dict(self) -> dict[str, Any]:
        """The API's result shape, less ``poll_id``, ``status``, ``round`` and ``signoffs``
        (which the app adds) and less ``full_name``/``text`` (the app joins them by id).
        Receipts are left out (the app serves them on their own route).
        """
        return {
            "kind": self.kind,
            "seats": self.seats,
            "alternate_seats": self.alternate_seats,
            "denominator": self.denominator,
            "denominator_basis": self.denominator_basis,
            "threshold_votes": self.threshold_votes,
            "figures": dict(self.figures),
            "candidates": [dict(c) for c in self.candidates],
            "elected_order": list(self.elected_order),
            "items": [dict(i) for i in self.items],
            "ties": [dict(t) for t in self.ties],
            "unfilled_seats": self.unfilled_seats,
            "unfilled_alternate_seats": self.unfilled_alternate_seats,
            "alternates_pending": self.alternates_pending,
            "counted_by_hand": self.counted_by_hand,
            "checks": [dict(c) for c in self.checks],
            "checks_ok": self.checks_ok,
            "settings": self.settings.to_dict(),
            "digest": self.digest,
        }


# --- the count --------------------------------------------------------------------------------

_BALLOT_DENOMINATORS = ("ballots_returned", "ballots_valid", "ballots_valid_nonblank")


def count(
    spec: PollSpec,
    attendance: Attendance,
    ballots: Iterable[Ballot],
    settings: Settings,
    hand_count: HandCount | None = None,
    *,
    digest: bool = True,
) -> Result:
    """Count one poll.

    ``digest=False`` leaves ``Result.digest`` empty, for a caller that sets the result digest
    itself (the app's count: ``rules.digest.result_document``), so the ballots' canonical text
    is not built twice.

    ``ballots`` are every ballot returned (tablet and paper, valid or not); each is ruled by
    :func:`validate_ballot`. A resolution may instead be counted from ``hand_count`` (a show of
    hands, no ballots). Raises :class:`RulesInputError` only for inconsistent *inputs* (ballots and
    a hand count together, a hand count for an election, a hand count naming an unknown item);
    problems with the figures never raise — they are failed checks in the result.

    Decision rules (docs/rules.md, "Who is elected"; QĐ 190-QĐ/TW):

    * the threshold is ``votes > fraction × denominator`` (strict) or ``≥`` (not strict),
      decided exactly; a zero denominator elects nobody and passes nothing;
    * among those over the threshold the highest vote-getters fill the seats in descending
      order; when a group with equal votes straddles the last seat, nobody of the group is
      elected and the tie is reported with the seats it contests (those strictly above it
      are elected);
    * a slate fills official seats first; if a tie straddles the last official seat, the
      alternates are not decided (``alternates_pending``) — they are decided after the further
      round; otherwise the remaining qualified fill the alternate seats the same way;
    * fewer qualified than seats leaves seats unfilled; the engine never fills them itself.
    """
    ballots = ballots if isinstance(ballots, Sequence) else list(ballots)
    if hand_count is not None:
        if spec.is_election:
            raise RulesInputError("a show of hands can only count a resolution")
        if ballots:
            raise RulesInputError(
                "a poll is counted from its ballots or from a hand count, not both"
            )
        unknown = set(hand_count.items) - set(spec.item_ids)
        if unknown:
            raise RulesInputError(f"hand count names unknown items {sorted(unknown)}")

    rules = _Rules(spec, settings)
    limit = max_kept(spec, settings)
    invalid_by_reason: Counter[str] = Counter()
    valid: list[Ballot] = []
    for ballot in ballots:
        reason = rules.rule(ballot)
        if reason is None:
            valid.append(ballot)
        else:
            invalid_by_reason[str(reason)] += 1

    returned = len(ballots)
    n_valid = len(valid)
    n_invalid = returned - n_valid
    if spec.is_election:
        blank = sum(1 for b in valid if not b.votes)
    else:
        blank = sum(1 for b in valid if not b.answers)

    # --- figures and the denominator ---
    issued = attendance.ballots_issued
    present = attendance.voters_present
    figures: dict[str, Any] = {
        "voters_summoned": attendance.voters_summoned,
        "excused": attendance.excused,
        "excluded": dict(sorted(attendance.excluded.items())),
        "denominator_base": attendance.denominator_base,
        "voters_present": present,
        "ballots_issued": issued,
        "ballots_returned": returned,
        "ballots_unused": max(0, issued - returned),
        "ballots_valid": n_valid,
        "ballots_invalid": n_invalid,
        "ballots_blank": blank,
        "ballots_valid_nonblank": n_valid - blank,
        "invalid_by_reason": dict(sorted(invalid_by_reason.items())),
    }
    basis = settings.denominator
    if hand_count is not None and basis in _BALLOT_DENOMINATORS:
        # A show of hands has no ballots: everyone present is asked, so the ballot-based
        # denominators fall back to the voters present (see the package docstring).
        basis = "voters_present"
    if basis == "voters_summoned_adjusted":
        denominator = attendance.denominator_base
    elif basis == "voters_present":
        denominator = present
    else:
        denominator = figures[basis]
    denominator = max(0, denominator)
    fraction, strict = settings.fraction, settings.strict

    # --- elections ---
    candidates: list[dict[str, Any]] = []
    elected_order: list[int] = []
    ties: list[dict[str, Any]] = []
    unfilled = unfilled_alt = 0
    alternates_pending = False
    votes: Counter[int] = Counter()
    if spec.is_election:
        votes = Counter(chain.from_iterable(b.votes for b in valid))
        position = {cid: n for n, cid in enumerate(spec.candidate_ids)}
        over = {
            cid: qualifies(votes[cid], denominator, fraction, strict) for cid in spec.candidate_ids
        }
        ranked = sorted(
            (cid for cid in spec.candidate_ids if over[cid]),
            key=lambda cid: (-votes[cid], position[cid]),
        )
        groups: list[list[int]] = []
        for cid in ranked:
            if groups and votes[groups[-1][0]] == votes[cid]:
                groups[-1].append(cid)
            else:
                groups.append([cid])

        official_seats = spec.seats
        alt_seats = spec.alternate_seats
        alt_on_this_ballot = spec.kind == "slate" and (
            settings.alternates_same_ballot or spec.seats == 0
        )
        official, tie, contested, unfilled, rest = fill_seats(groups, official_seats)
        alternates: list[int] = []
        if tie:
            ties.append(tie_entry(tie, contested, votes, "official", position))
        if alt_seats and (tie or not alt_on_this_ballot):
            # QĐ 190 practice (docs/rules.md, "Who is elected"): a tie on the last official
            # seat goes to another round and "the alternate seats are decided after it"; with
            # alternates on a separate ballot they are decided by that later poll.
            alternates_pending = True
        elif alt_seats:
            alternates, alt_tie, alt_contested, unfilled_alt, _ = fill_seats(rest, alt_seats)
            if alt_tie:
                ties.append(tie_entry(alt_tie, alt_contested, votes, "alternate", position))
        status = dict.fromkeys(official, "official") | dict.fromkeys(alternates, "alternate")
        elected_order = official + alternates
        candidates = [
            {
                "id": cid,
                "votes": votes[cid],
                "percent": percent(votes[cid], denominator),
                "elected": status.get(cid),
                "over_threshold": over[cid],
            }
            for cid in spec.candidate_ids
        ]

    # --- resolutions ---
    items: list[dict[str, Any]] = []
    answered: Counter[tuple[int, str]] = Counter()
    if not spec.is_election:
        if hand_count is not None:
            for item, counts in hand_count.items.items():
                for answer, n in zip(ANSWERS, counts, strict=True):
                    answered[(item, answer)] = n
            voters = present
        else:
            answered = Counter(chain.from_iterable(b.answers for b in valid))  # type: ignore[misc]
            voters = n_valid
        for item in spec.item_ids:
            f, a, b = (answered[(item, ans)] for ans in ANSWERS)
            items.append(
                {
                    "id": item,
                    "for": f,
                    "against": a,
                    "abstain": b,
                    "not_voted": voters - f - a - b,
                    "percent_for": percent(f, denominator),
                    "percent_against": percent(a, denominator),
                    "percent_abstain": percent(b, denominator),
                    "passed": qualifies(f, denominator, fraction, strict),
                }
            )

    checks = reconciliation_checks(spec, figures, votes, items, limit, hand_count is not None)
    receipts = sorted(b.receipt for b in ballots if b.receipt)
    return Result(
        kind=spec.kind,
        seats=spec.seats,
        alternate_seats=spec.alternate_seats,
        denominator=denominator,
        denominator_basis=basis,
        threshold_votes=threshold_votes(denominator, fraction, strict),
        figures=figures,
        candidates=candidates,
        elected_order=elected_order,
        items=items,
        ties=ties,
        unfilled_seats=unfilled,
        unfilled_alternate_seats=unfilled_alt,
        alternates_pending=alternates_pending,
        checks=checks,
        settings=settings,
        digest=ballot_digest(spec, settings, ballots, hand_count) if digest else "",
        counted_by_hand=hand_count is not None,
        receipts=receipts,
    )
