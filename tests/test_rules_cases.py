"""Hand-computed cases for the election rules engine (congress_vote.rules).

Every expected figure below was worked out by hand from docs/rules.md (QĐ 190-QĐ/TW for the
vn-party preset); the comment on each case shows the arithmetic.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from congress_vote.rules import (
    PRESETS,
    Attendance,
    Ballot,
    HandCount,
    InvalidReason,
    NextRound,
    PollSpec,
    Settings,
    ballot_digest,
    candidate_list_warning,
    canonical_json,
    count,
    percent,
    propose_next_round,
    recount_from_payload,
    recount_payload,
    settings_for,
    threshold_votes,
    validate_ballot,
)

# the rules engine imports no database (test_rules_package_never_imports_flask_or_sqlalchemy)
pytestmark = pytest.mark.db_independent

ROOT = Path(__file__).resolve().parent.parent
VN = settings_for("vn-party")
MOV = settings_for("majority-of-valid")
ROB = settings_for("roberts")


def K(n: int, *kept: int) -> list[Ballot]:
    """``n`` tablet ballots keeping ``kept``."""
    return [Ballot(kept=tuple(kept)) for _ in range(n)]


def P(n: int, reason: str) -> list[Ballot]:
    """``n`` paper ballots ruled invalid by the counting committee."""
    return [Ballot(invalid_reason=reason, source="paper") for _ in range(n)]


def A(n: int, **answers: str) -> list[Ballot]:
    """``n`` resolution ballots; keyword ``i11="for"`` answers item 11."""
    pairs = tuple((int(k[1:]), v) for k, v in answers.items())
    return [Ballot(answers=pairs) for _ in range(n)]


def att(summoned: int, present: int, issued: int, excused: int = 0) -> Attendance:
    return Attendance(summoned, {"excused": excused} if excused else {}, present, issued)


@dataclass
class Case:
    id: str
    spec: PollSpec
    attendance: Attendance
    ballots: list[Ballot]
    settings: Settings
    official: list[int]
    denominator: int
    threshold: int | None
    figures: dict[str, Any]
    alternate: list[int] = field(default_factory=list)
    ties: list[tuple[list[int], int, str]] = field(default_factory=list)
    unfilled: int = 0
    unfilled_alt: int = 0
    pending: bool = False
    votes: dict[int, tuple[int, str]] | None = None  # id -> (votes, percent)
    failed_checks: set[str] = field(default_factory=set)
    next_round: tuple[tuple[int, ...], int, int, str | None] = ((), 0, 0, None)


def committee(seats: int, n: int) -> PollSpec:
    return PollSpec("committee", seats, 0, tuple(range(1, n + 1)))


def slate(seats: int, alt: int, n: int) -> PollSpec:
    return PollSpec("slate", seats, alt, tuple(range(1, n + 1)))


CASES = [
    # docs/rules.md, "Who is elected", worked example: 150 summoned, 2 excused → 148; more than
    # 74 → 75 votes.
    # 135 returned: 3 over-votes + 2 identifying marks invalid → 130 valid.
    # votes: 1 = 70+40+20 = 130, 2 = 70+40 = 110, 3 = 70, 4 = 40+20 = 60.
    # 3 has 70/130 = 53.85 % of valid ballots and is NOT elected (70 < 75); one seat unfilled.
    Case(
        "domain_worked_example",
        committee(3, 4),
        att(150, 139, 135, excused=2),
        K(70, 1, 2, 3) + K(40, 1, 2, 4) + K(20, 1, 4) + K(3, 1, 2, 3, 4) + P(2, "identifying_mark"),
        VN,
        official=[1, 2],
        denominator=148,
        threshold=75,
        unfilled=1,
        figures={
            "voters_summoned": 150,
            "excused": 2,
            "voters_present": 139,
            "ballots_issued": 135,
            "ballots_returned": 135,
            "ballots_unused": 0,
            "ballots_valid": 130,
            "ballots_invalid": 5,
            "ballots_blank": 0,
            "invalid_by_reason": {"identifying_mark": 2, "overvote": 3},
        },
        # percents of 148: 130/148 = 87.837…, 110/148 = 74.324…, 70/148 = 47.297…,
        # 60/148 = 40.540…
        votes={1: (130, "87.84"), 2: (110, "74.32"), 3: (70, "47.30"), 4: (60, "40.54")},
        next_round=((3, 4), 1, 0, "shortfall"),
    ),
    # Same ballots counted state-election style: denominator 130 valid, more than 65 → 66:
    # 3 (70 = 53.85 % of 130) is elected.
    Case(
        "domain_example_majority_of_valid",
        committee(3, 4),
        att(150, 139, 135, excused=2),
        K(70, 1, 2, 3) + K(40, 1, 2, 4) + K(20, 1, 4) + K(3, 1, 2, 3, 4) + P(2, "identifying_mark"),
        MOV,
        official=[1, 2, 3],
        denominator=130,
        threshold=66,
        figures={"ballots_valid": 130, "ballots_invalid": 5},
        votes={3: (70, "53.85"), 4: (60, "46.15"), 1: (130, "100.00")},
    ),
    # 10 voters, 2 seats: 1 = 8, 2 = 4+2 = 6, 3 = 4+2 = 6; threshold > 5 → 6; 2 and 3 tie on
    # the last seat: neither elected, 1 seat contested.
    Case(
        "tie_at_cutoff",
        committee(2, 4),
        att(10, 10, 10),
        K(4, 1, 2) + K(4, 1, 3) + K(2, 2, 3),
        VN,
        official=[1],
        denominator=10,
        threshold=6,
        ties=[([2, 3], 1, "official")],
        figures={"ballots_valid": 10},
        votes={1: (8, "80.00"), 2: (6, "60.00"), 4: (0, "0.00")},
        next_round=((2, 3), 1, 0, "tie"),
    ),
    # Everybody over the threshold and three tied for two seats: D = 10 - 4 excused = 6, > 3 → 4.
    # 1 = 6, 2 = 2+2 = 4, 3 = 2+2 = 4, 4 = 2+2 = 4.
    Case(
        "tie_of_three_for_two_seats",
        committee(3, 4),
        att(10, 6, 6, excused=4),
        K(2, 1, 2, 3) + K(2, 1, 2, 4) + K(2, 1, 3, 4),
        VN,
        official=[1],
        denominator=6,
        threshold=4,
        ties=[([2, 3, 4], 2, "official")],
        figures={"ballots_valid": 6},
        next_round=((2, 3, 4), 2, 0, "tie"),
    ),
    # Equal votes that fit the seats are no tie: 1 = 9, 2 = 7, 3 = 7, 4 = 3; 3 seats.
    Case(
        "equal_votes_fitting_seats",
        committee(3, 4),
        att(10, 10, 10),
        K(7, 1, 2, 3) + K(2, 1, 4) + K(1, 4),
        VN,
        official=[1, 2, 3],
        denominator=10,
        threshold=6,
        figures={"ballots_valid": 10},
    ),
    # Equal votes below the threshold are a shortfall, not a tie: 1 = 8, 2 = 5, 3 = 5 of 10.
    Case(
        "equal_below_threshold_is_shortfall",
        committee(2, 3),
        att(10, 10, 10),
        K(5, 1, 2) + K(3, 1, 3) + K(2, 3),
        VN,
        official=[1],
        denominator=10,
        threshold=6,
        unfilled=1,
        figures={},
        next_round=((2, 3), 1, 0, "shortfall"),
    ),
    # Everybody over the threshold: 20 voters, > 10 → 11; a(1,2)=7, b(1,3)=6, c(2,3)=5,
    # 2 blank: 1 = 13, 2 = 12, 3 = 11 — all over, 3 not elected for want of a seat.
    Case(
        "everybody_over_threshold",
        committee(2, 3),
        att(20, 20, 20),
        K(7, 1, 2) + K(6, 1, 3) + K(5, 2, 3) + K(2),
        VN,
        official=[1, 2],
        denominator=20,
        threshold=11,
        # the 2 all-struck ballots are invalid under vn-party (QĐ 244 art. 17: 3 names, 2 seats)
        figures={
            "ballots_valid": 18,
            "ballots_invalid": 2,
            "ballots_blank": 0,
            "invalid_by_reason": {"all_struck": 2},
        },
        votes={1: (13, "65.00"), 2: (12, "60.00"), 3: (11, "55.00")},
    ),
    # Nobody over it: 1 = 5, 2 = 5, 3 = 4 of 10 (needs 6).
    Case(
        "nobody_over_threshold",
        committee(2, 3),
        att(10, 10, 10),
        K(4, 1, 2) + K(1, 1, 3) + K(1, 2, 3) + K(2, 3) + K(2),
        VN,
        official=[],
        denominator=10,
        threshold=6,
        unfilled=2,
        figures={"ballots_blank": 0, "ballots_invalid": 2, "invalid_by_reason": {"all_struck": 2}},
        next_round=((1, 2, 3), 2, 0, "shortfall"),
    ),
    # 9 seats from 11: 102 summoned, 2 excused → 100, > 50 → 51. 93 valid + 1 paper over-vote.
    # 1–5 = 93, 6–7 = 80, 8–9 = 50, 10–11 = 43: 8 and 9 have exactly half → not elected.
    Case(
        "committee_9_of_11",
        committee(9, 11),
        att(102, 95, 95, excused=2),
        K(50, *range(1, 10))
        + K(30, 1, 2, 3, 4, 5, 6, 7, 10, 11)
        + K(13, 1, 2, 3, 4, 5, 10, 11)
        + [Ballot(kept=tuple(range(1, 11)), source="paper")],
        VN,
        official=[1, 2, 3, 4, 5, 6, 7],
        denominator=100,
        threshold=51,
        unfilled=2,
        figures={
            "ballots_returned": 94,
            "ballots_unused": 1,
            "ballots_valid": 93,
            "ballots_invalid": 1,
            "invalid_by_reason": {"overvote": 1},
        },
        votes={1: (93, "93.00"), 6: (80, "80.00"), 8: (50, "50.00"), 11: (43, "43.00")},
        next_round=((8, 9, 10, 11), 2, 0, "shortfall"),
    ),
    # Same with "at least half": 50 ≥ 50 → 8 and 9 elected, all 9 seats filled.
    Case(
        "committee_9_of_11_at_least",
        committee(9, 11),
        att(102, 95, 95, excused=2),
        K(50, *range(1, 10)) + K(30, 1, 2, 3, 4, 5, 6, 7, 10, 11) + K(13, 1, 2, 3, 4, 5, 10, 11),
        settings_for("vn-party", {"strict": False}),
        official=list(range(1, 10)),
        denominator=100,
        threshold=50,
        figures={"ballots_valid": 93},
    ),
    # 7 + 1 slate: 139 summoned, 2 excused → 137, > 68.5 → 69; 132 valid, 2 over-votes (9 kept).
    # 1–5 = 132, 6–7 = 60+40 = 100, 8 = 60+32 = 92, 9 = 40+32 = 72.
    Case(
        "slate_7_plus_1",
        slate(7, 1, 9),
        att(139, 135, 135, excused=2),
        K(60, 1, 2, 3, 4, 5, 6, 7, 8)
        + K(40, 1, 2, 3, 4, 5, 6, 7, 9)
        + K(32, 1, 2, 3, 4, 5, 8, 9)
        + K(2, *range(1, 10)),
        VN,
        official=[1, 2, 3, 4, 5, 6, 7],
        alternate=[8],
        denominator=137,
        threshold=69,
        figures={
            "ballots_returned": 134,
            "ballots_unused": 1,
            "ballots_valid": 132,
            "ballots_invalid": 2,
            "invalid_by_reason": {"overvote": 2},
        },
        # 132/137 = 96.350…, 100/137 = 72.992…, 92/137 = 67.153…, 72/137 = 52.554…
        votes={1: (132, "96.35"), 6: (100, "72.99"), 8: (92, "67.15"), 9: (72, "52.55")},
    ),
    # 2 + 1 slate, the alternate seat contested: 1 = 10, 2 = 8, 3 = 6, 4 = 6 of 10 (> 5).
    Case(
        "slate_alternate_tie",
        slate(2, 1, 5),
        att(10, 10, 10),
        K(4, 1, 2, 3) + K(4, 1, 2, 4) + K(2, 1, 3, 4),
        VN,
        official=[1, 2],
        denominator=10,
        threshold=6,
        ties=[([3, 4], 1, "alternate")],
        figures={},
        next_round=((3, 4), 0, 1, "tie"),
    ),
    # 2 + 1 slate, a tie straddling the last official seat: 1 = 10, 2 = 7, 3 = 7, 4 = 6:
    # 1 official, 2–3 contest 1 official seat, the alternate is decided after that round.
    Case(
        "slate_official_tie_alternates_pending",
        slate(2, 1, 4),
        att(10, 10, 10),
        K(4, 1, 2, 3) + K(3, 1, 2, 4) + K(3, 1, 3, 4),
        VN,
        official=[1],
        denominator=10,
        threshold=6,
        ties=[([2, 3], 1, "official")],
        pending=True,
        figures={},
        next_round=((2, 3), 1, 0, "tie"),
    ),
    # 2 + 1 slate, only 1 qualified: 1 = 10, 2 = 5, 3 = 5 → 1 official seat and the alternate
    # seat unfilled.
    Case(
        "slate_shortfall",
        slate(2, 1, 3),
        att(10, 10, 10),
        K(5, 1, 2) + K(5, 1, 3),
        VN,
        official=[1],
        denominator=10,
        threshold=6,
        unfilled=1,
        unfilled_alt=1,
        figures={},
        next_round=((2, 3), 1, 1, "shortfall"),
    ),
    # Alternates on a separate ballot: a slate ballot keeps at most the 2 official seats (the
    # 3-name ballot is an over-vote); officials only, alternates pending.
    Case(
        "slate_alternates_separate_ballot",
        slate(2, 1, 4),
        att(10, 10, 10),
        K(6, 1, 2) + K(3, 1, 3) + K(1, 1, 2, 3),
        settings_for("vn-party", {"alternates_same_ballot": False}),
        official=[1, 2],
        denominator=10,
        threshold=6,
        pending=True,
        figures={"ballots_valid": 9, "invalid_by_reason": {"overvote": 1}},
        next_round=((3, 4), 0, 1, "alternates"),
    ),
    # The later alternates-only poll (seats 0, 1 alternate): 3 = 7, 4 = 3.
    Case(
        "slate_alternates_only_poll",
        slate(0, 1, 4),
        att(10, 10, 10),
        K(7, 3) + K(3, 4),
        settings_for("vn-party", {"alternates_same_ballot": False}),
        official=[],
        alternate=[3],
        denominator=10,
        threshold=6,
        figures={},
    ),
    # Exactly half with "more than": 1 = 5 of 10 is not more than 5.
    Case(
        "exactly_half_more_than",
        committee(1, 2),
        att(10, 10, 10),
        K(5, 1) + K(4, 2) + K(1),
        VN,
        official=[],
        denominator=10,
        threshold=6,
        unfilled=1,
        figures={},
        next_round=((1, 2), 1, 0, "shortfall"),
    ),
    # Exactly half with "at least": 5 ≥ 5 elected.
    Case(
        "exactly_half_at_least",
        committee(1, 2),
        att(10, 10, 10),
        K(5, 1) + K(4, 2) + K(1),
        settings_for("vn-party", {"strict": False}),
        official=[1],
        denominator=10,
        threshold=5,
        figures={},
    ),
    # 2/3 of 12 = 8: more than 8 → 9. 1 = 9, 2 = 8, 3 = 1+3 = 4.
    Case(
        "two_thirds_more_than",
        committee(2, 3),
        att(12, 12, 12),
        K(8, 1, 2) + K(1, 1, 3) + K(3, 3),
        settings_for("vn-party", {"fraction": "2/3"}),
        official=[1],
        denominator=12,
        threshold=9,
        unfilled=1,
        figures={},
        votes={2: (8, "66.67"), 3: (4, "33.33")},
        next_round=((2, 3), 1, 0, "shortfall"),
    ),
    # 2/3 "at least": 8 ≥ 8 → 2 elected as well.
    Case(
        "two_thirds_at_least",
        committee(2, 3),
        att(12, 12, 12),
        K(8, 1, 2) + K(1, 1, 3) + K(3, 3),
        settings_for("vn-party", {"fraction": Fraction(2, 3), "strict": False}),
        official=[1, 2],
        denominator=12,
        threshold=8,
        figures={},
    ),
    # All-struck ballots under each preset: 12 summoned, 10 returned:
    # 1 = 4, 2 = 2, 4 striking both names (2 names, 1 seat: a surplus).
    # vn-party: all-struck invalid, shown "gạch hết tên" (QĐ 244-QĐ/TW art. 17); D = 12,
    # needs 7 → nobody.
    Case(
        "all_struck_vn_party",
        committee(1, 2),
        att(12, 10, 10),
        K(4, 1) + K(2, 2) + K(4),
        VN,
        official=[],
        denominator=12,
        threshold=7,
        unfilled=1,
        figures={
            "ballots_valid": 6,
            "ballots_invalid": 4,
            "ballots_blank": 0,
            "invalid_by_reason": {"all_struck": 4},
        },
        next_round=((1, 2), 1, 0, "shortfall"),
    ),
    # majority-of-valid: all-struck invalid, D = 6 valid, needs 4 → 1 elected.
    Case(
        "all_struck_majority_of_valid",
        committee(1, 2),
        att(12, 10, 10),
        K(4, 1) + K(2, 2) + K(4),
        MOV,
        official=[1],
        denominator=6,
        threshold=4,
        figures={
            "ballots_valid": 6,
            "ballots_invalid": 4,
            "ballots_blank": 0,
            "invalid_by_reason": {"all_struck": 4},
        },
        votes={1: (4, "66.67")},
    ),
    # roberts: blanks valid but not cast, D = 10 - 4 = 6, needs 4 → 1 elected.
    Case(
        "blank_roberts",
        committee(1, 2),
        att(12, 10, 10),
        K(4, 1) + K(2, 2) + K(4),
        ROB,
        official=[1],
        denominator=6,
        threshold=4,
        figures={
            "ballots_valid": 10,
            "ballots_invalid": 0,
            "ballots_blank": 4,
            "ballots_valid_nonblank": 6,
        },
    ),
    # majority-of-valid with all-struck overridden valid: D = 10, needs 6 → nobody.
    Case(
        "blank_majority_of_valid_override",
        committee(1, 2),
        att(12, 10, 10),
        K(4, 1) + K(2, 2) + K(4),
        settings_for("majority-of-valid", {"all_struck_valid": True}),
        official=[],
        denominator=10,
        threshold=6,
        unfilled=1,
        figures={"ballots_blank": 4},
        next_round=((1, 2), 1, 0, "shortfall"),
    ),
    # Invalid ballots by reason; majority of valid: 4 valid (3×(1,2) + (1,)), D = 4, needs 3.
    Case(
        "overvote_unknown_duplicate",
        committee(2, 3),
        att(10, 10, 10),
        K(3, 1, 2) + K(1, 1, 2, 3) + K(1, 1, 9) + K(1, 2, 2) + P(1, "not_issued") + K(1, 1),
        MOV,
        official=[1, 2],
        denominator=4,
        threshold=3,
        figures={
            "ballots_returned": 8,
            "ballots_unused": 2,
            "ballots_valid": 4,
            "ballots_invalid": 4,
            "invalid_by_reason": {
                "duplicate_candidate": 1,
                "not_issued": 1,
                "overvote": 1,
                "unknown_candidate": 1,
            },
        },
        votes={1: (4, "100.00"), 2: (3, "75.00"), 3: (0, "0.00")},
    ),
    # A resolution-shaped ballot on an election, and a paper "added names" ruling.
    Case(
        "wrong_kind_and_added_names",
        committee(1, 2),
        att(4, 4, 4),
        K(3, 1) + [Ballot(answers=((1, "for"),))] + P(0, "x"),
        VN,
        official=[1],
        denominator=4,
        threshold=3,
        figures={"ballots_valid": 3, "invalid_by_reason": {"wrong_kind": 1}},
    ),
    # Zero denominator: nobody summoned → nobody elected, percents "0.00", no threshold.
    Case(
        "zero_denominator_empty",
        committee(2, 2),
        att(0, 0, 0),
        [],
        VN,
        official=[],
        denominator=0,
        threshold=None,
        unfilled=2,
        figures={"ballots_returned": 0},
        votes={1: (0, "0.00")},
        next_round=((1, 2), 2, 0, "shortfall"),
    ),
    # Zero valid ballots under majority-of-valid: 3 over-votes → D = 0, nobody elected.
    Case(
        "zero_denominator_all_invalid",
        committee(1, 2),
        att(3, 3, 3),
        K(3, 1, 2),
        MOV,
        official=[],
        denominator=0,
        threshold=None,
        unfilled=1,
        figures={"ballots_invalid": 3},
        next_round=((1, 2), 1, 0, "shortfall"),
    ),
    # Zero denominator with "at least": 0 ≥ 0 must still elect nobody.
    Case(
        "zero_denominator_at_least",
        committee(1, 2),
        att(0, 0, 0),
        [],
        settings_for("vn-party", {"strict": False}),
        official=[],
        denominator=0,
        threshold=None,
        unfilled=1,
        figures={},
        next_round=((1, 2), 1, 0, "shortfall"),
    ),
    # Failed check: 12 issued to 10 present (and 11 returned).
    Case(
        "failed_check_issued_over_present",
        committee(1, 2),
        att(20, 10, 12),
        K(11, 1),
        VN,
        official=[1],
        denominator=20,
        threshold=11,
        figures={"ballots_unused": 1},
        failed_checks={"issued_within_present"},
    ),
    # Failed check: 9 returned of 8 issued; unused never negative.
    Case(
        "failed_check_returned_over_issued",
        committee(1, 2),
        att(10, 10, 8),
        K(9, 2),
        VN,
        official=[2],
        denominator=10,
        threshold=6,
        figures={"ballots_returned": 9, "ballots_unused": 0},
        failed_checks={"returned_within_issued"},
    ),
    # Denominator voters present: 20 summoned, 11 present, > 5.5 → 6: 1 = 6 elected.
    Case(
        "denominator_voters_present",
        committee(1, 2),
        att(20, 11, 11),
        K(6, 1) + K(5, 2),
        settings_for("vn-party", {"denominator": "voters_present"}),
        official=[1],
        denominator=11,
        threshold=6,
        figures={},
        votes={1: (6, "54.55")},
    ),
    # Denominator ballots returned: 10 returned incl. 2 invalid, > 5 → 6: 1 = 5 not elected.
    Case(
        "denominator_ballots_returned",
        committee(1, 2),
        att(20, 12, 12),
        K(5, 1) + K(3, 2) + K(2, 1, 2),
        settings_for("vn-party", {"denominator": "ballots_returned"}),
        official=[],
        denominator=10,
        threshold=6,
        unfilled=1,
        figures={"ballots_valid": 8},
        next_round=((1, 2), 1, 0, "shortfall"),
    ),
    # As many candidates as seats (agree/disagree ballot): kept = agreed. 1 = 8, 2 = 5, 3 = 9.
    Case(
        "agree_disagree_ballot",
        committee(3, 3),
        att(10, 10, 10),
        K(5, 1, 2, 3) + K(3, 1, 3) + K(1, 3) + K(1),
        VN,
        official=[3, 1],
        denominator=10,
        threshold=6,
        unfilled=1,
        figures={},
        next_round=((2,), 1, 0, "shortfall"),
    ),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_election_case(case: Case) -> None:
    result = count(case.spec, case.attendance, case.ballots, case.settings)
    assert result.elected_official == case.official
    assert result.elected_alternate == case.alternate
    assert result.elected_order == case.official + case.alternate
    assert [(t["candidate_ids"], t["seats_contested"], t["kind"]) for t in result.ties] == case.ties
    assert result.unfilled_seats == case.unfilled
    assert result.unfilled_alternate_seats == case.unfilled_alt
    assert result.alternates_pending is case.pending
    assert result.denominator == case.denominator
    assert result.threshold_votes == case.threshold
    for key, value in case.figures.items():
        assert result.figures[key] == value, key
    by_id = {c["id"]: c for c in result.candidates}
    for cid, (votes, pct) in (case.votes or {}).items():
        assert (by_id[cid]["votes"], by_id[cid]["percent"]) == (votes, pct), cid
    failed = {c["name"] for c in result.checks if not c["ok"]}
    assert failed == case.failed_checks
    assert result.checks_ok is (not case.failed_checks)
    nr = propose_next_round(case.spec, result)
    assert (nr.candidate_ids, nr.seats, nr.alternate_seats, nr.reason) == case.next_round
    # the API shape is JSON-safe and carries the settings used
    data = json.loads(json.dumps(result.to_dict()))
    assert data["settings"] == case.settings.to_dict()
    assert [c["id"] for c in data["candidates"]] == list(case.spec.candidate_ids)


@dataclass
class ResCase:
    id: str
    attendance: Attendance
    ballots: list[Ballot]
    settings: Settings
    denominator: int
    items: dict[int, tuple[int, int, int, int, str, bool]]  # for, against, abstain, nv, %, passed
    figures: dict[str, Any] = field(default_factory=dict)
    hand: HandCount | None = None
    failed_checks: set[str] = field(default_factory=set)


RES_BALLOTS = (
    A(12, i11="for", i12="for", i13="against")
    + A(3, i11="against", i12="abstain", i13="for")
    + A(1, i11="for")
    + A(1)
)

RES_CASES = [
    # 20 summoned → more than 10. 17 valid ballots (one answers item 11 only, one blank).
    # 11: for 13, against 3, nv 1 → passed 65.00 %; 12: for 12, abstain 3, nv 2 → 60.00 %;
    # 13: for 3, against 12, nv 2 → 15.00 %, not passed.
    ResCase(
        "resolution_three_items",
        att(20, 18, 18),
        RES_BALLOTS,
        VN,
        20,
        {
            11: (13, 3, 0, 1, "65.00", True),
            12: (12, 0, 3, 2, "60.00", True),
            13: (3, 12, 0, 2, "15.00", False),
        },
        figures={
            "ballots_returned": 17,
            "ballots_unused": 1,
            "ballots_valid": 17,
            "ballots_blank": 1,
        },
    ),
    # Robert's: the blank ballot is not cast, D = 16, more than 8: 13/16 = 81.25 %.
    ResCase(
        "resolution_roberts",
        att(20, 18, 18),
        RES_BALLOTS,
        ROB,
        16,
        {
            11: (13, 3, 0, 1, "81.25", True),
            12: (12, 0, 3, 2, "75.00", True),
            13: (3, 12, 0, 2, "18.75", False),
        },
    ),
    # Invalid resolution ballots: unknown item, duplicate item, bad answer; 2 valid of 5 present.
    ResCase(
        "resolution_invalid_ballots",
        att(5, 5, 5),
        A(2, i11="for", i12="for")
        + A(1, i99="for")
        + A(1, i11="bogus")
        + [Ballot(answers=((11, "for"), (11, "against")))],
        VN,
        5,
        {
            11: (2, 0, 0, 0, "40.00", False),
            12: (2, 0, 0, 0, "40.00", False),
            13: (0, 0, 0, 2, "0.00", False),
        },
        figures={
            "ballots_valid": 2,
            "ballots_invalid": 3,
            "invalid_by_reason": {"bad_answer": 1, "duplicate_item": 1, "unknown_item": 1},
        },
    ),
    # "100 % approved": all 4 present and voting are for; D = 4 present.
    ResCase(
        "resolution_unanimous_of_present",
        att(6, 4, 4),
        A(4, i11="for", i12="for", i13="for"),
        settings_for("vn-party", {"denominator": "voters_present"}),
        4,
        {
            11: (4, 0, 0, 0, "100.00", True),
            12: (4, 0, 0, 0, "100.00", True),
            13: (4, 0, 0, 0, "100.00", True),
        },
    ),
    # Show of hands: 139 summoned, 2 excused → 137 (> 68.5); 135 present.
    # 11: 100/20/10, nv 5, 72.99 %; 12: 60/50/20, nv 5, 60/137 = 43.795… → 43.80 %; 13: 0.
    ResCase(
        "hand_count",
        att(139, 135, 0, excused=2),
        [],
        VN,
        137,
        {
            11: (100, 20, 10, 5, "72.99", True),
            12: (60, 50, 20, 5, "43.80", False),
            13: (0, 0, 0, 135, "0.00", False),
        },
        figures={"ballots_returned": 0, "ballots_valid": 0},
        hand=HandCount({11: (100, 20, 10), 12: (60, 50, 20)}),
    ),
    # Show of hands under majority-of-valid falls back to the voters present (10, > 5).
    ResCase(
        "hand_count_ballot_denominator",
        att(12, 10, 0),
        [],
        MOV,
        10,
        {
            11: (6, 4, 0, 0, "60.00", True),
            12: (5, 5, 0, 0, "50.00", False),
            13: (0, 0, 0, 10, "0.00", False),
        },
        hand=HandCount({11: (6, 4, 0), 12: (5, 5, 0)}),
    ),
    # Hands over the voters present: 11 counted for 10 present fails the check.
    ResCase(
        "hand_count_failed_check",
        att(12, 10, 0),
        [],
        VN,
        12,
        {
            11: (11, 0, 0, -1, "91.67", True),
            12: (0, 0, 0, 10, "0.00", False),
            13: (0, 0, 0, 10, "0.00", False),
        },
        hand=HandCount({11: (11, 0, 0)}),
        failed_checks={"votes_within_valid"},
    ),
]


@pytest.mark.parametrize("case", RES_CASES, ids=[c.id for c in RES_CASES])
def test_resolution_case(case: ResCase) -> None:
    spec = PollSpec("resolution", item_ids=(11, 12, 13))
    result = count(spec, case.attendance, case.ballots, case.settings, case.hand)
    assert result.denominator == case.denominator
    got = {
        i["id"]: (
            i["for"],
            i["against"],
            i["abstain"],
            i["not_voted"],
            i["percent_for"],
            i["passed"],
        )
        for i in result.items
    }
    assert got == case.items
    assert [i["id"] for i in result.items] == [11, 12, 13]
    for key, value in case.figures.items():
        assert result.figures[key] == value, key
    assert {c["name"] for c in result.checks if not c["ok"]} == case.failed_checks
    assert result.candidates == [] and result.elected_order == []
    assert result.counted_by_hand is (case.hand is not None)
    assert not propose_next_round(spec, result)


# --- arithmetic -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("votes", "den", "expected"),
    [
        (70, 148, "47.30"),
        (1, 3, "33.33"),
        (2, 3, "66.67"),
        (1, 32, "3.13"),  # 3.125 half up
        (1, 800, "0.13"),
        (1, 160000, "0.00"),
        (148, 148, "100.00"),
        (5, 0, "0.00"),
        (3, 8, "37.50"),
        (7, 2, "350.00"),
    ],
)
def test_percent_half_up(votes: int, den: int, expected: str) -> None:
    assert percent(votes, den) == expected


@pytest.mark.parametrize(
    ("den", "frac", "strict", "expected"),
    [
        (148, "1/2", True, 75),
        (148, "1/2", False, 74),
        (137, "1/2", True, 69),
        (137, "1/2", False, 69),
        (12, "2/3", True, 9),
        (12, "2/3", False, 8),
        (1, "1/2", True, 1),
        (1, "1/2", False, 1),
        (0, "1/2", True, None),
        (0, "1/2", False, None),
        (3, "2/3", True, 3),
    ],
)
def test_threshold_votes(den: int, frac: str, strict: bool, expected: int | None) -> None:
    assert threshold_votes(den, Fraction(frac), strict) == expected


# --- settings ---------------------------------------------------------------------------------


def test_presets() -> None:
    assert PRESETS["vn-party"].to_dict() == {
        "preset": "vn-party",
        "denominator": "voters_summoned_adjusted",
        "fraction": "1/2",
        "strict": True,
        "all_struck_valid": False,
        "tie_handling": "another_round",
        "alternates_same_ballot": True,
        "signoff_required": "all",
    }
    assert (MOV.denominator, MOV.all_struck_valid) == ("ballots_valid", False)
    assert (ROB.denominator, ROB.all_struck_valid) == ("ballots_valid_nonblank", True)
    s = settings_for("roberts", {"fraction": "2/3", "signoff_required": 3, "preset": "roberts"})
    assert s.fraction == Fraction(2, 3) and s.signoff_required == "3" and s.preset == "roberts"
    assert Settings.from_dict(s.to_dict()) == s


@pytest.mark.parametrize(
    ("preset", "overrides", "message"),
    [
        ("nope", None, "unknown preset"),
        ("vn-party", {"denominator": "ballots"}, "unknown denominator"),
        ("vn-party", {"fraction": "3/2"}, "between 0 and 1"),
        ("vn-party", {"fraction": "0"}, "between 0 and 1"),
        ("vn-party", {"fraction": 0.5}, "p/q"),
        ("vn-party", {"fraction": "half"}, "p/q"),
        ("vn-party", {"fraction": "1/0"}, "p/q"),
        ("vn-party", {"strict": "yes"}, "true or false"),
        ("vn-party", {"quorum": "2/3"}, "unknown rule setting"),
        ("vn-party", {"tie_handling": "lot"}, "tie_handling"),
        ("vn-party", {"signoff_required": "0"}, "signoff_required"),
        ("vn-party", {"preset": "roberts"}, "contradicts"),
    ],
)
def test_settings_errors(preset: str, overrides: dict | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        settings_for(preset, overrides)


# --- validation, ballots ----------------------------------------------------------------------


def test_validate_ballot_reasons() -> None:
    spec = slate(2, 1, 4)

    def v(kept: tuple[int, ...]) -> str | None:
        return validate_ballot(spec, VN, Ballot(kept=kept))

    assert v((1, 2, 3)) is None  # official + alternate seats on one ballot
    assert v((1, 2, 3, 4)) == InvalidReason.OVERVOTE == "overvote"
    assert v((1, 5)) == "unknown_candidate"
    assert v((1, 1)) == "duplicate_candidate"
    assert v(()) == "all_struck"  # 4 names for 3 places: a surplus (QĐ 244-QĐ/TW art. 17)
    assert validate_ballot(spec, MOV, Ballot(kept=())) == "all_struck"
    assert validate_ballot(spec, ROB, Ballot(kept=())) is None
    assert validate_ballot(spec, VN, Ballot(kept=(1,), invalid_reason="torn")) == "torn"
    assert validate_ballot(spec, VN, Ballot(answers=())) == "wrong_kind"
    res = PollSpec("resolution", item_ids=(1, 2))
    assert validate_ballot(res, VN, Ballot(answers=((1, "for"),))) is None
    assert validate_ballot(res, VN, Ballot(kept=(1,))) == "wrong_kind"


def test_ballot_from_dict_api_shapes() -> None:
    b = Ballot.from_dict({"answers": {"11": "for", "12": "abstain"}, "receipt": "R1"})
    assert b.answers == ((11, "for"), (12, "abstain")) and b.receipt == "R1"
    assert Ballot.from_dict(b.to_dict()) == b
    assert Ballot.from_dict({"kept": [3, 1]}).kept == (3, 1)
    for bad in (
        {"kept": [True]},
        {"kept": "1,2"},
        {"kept": [1.5]},
        {"answers": {"x": "for"}},
        {"source": "fax", "kept": []},
        {"answers": {"1": 1}},
        [],
    ):
        with pytest.raises(ValueError):
            Ballot.from_dict(bad)  # type: ignore[arg-type]


def test_spec_rejects_bad_input() -> None:
    for kwargs in (
        {"kind": "poll"},
        {"kind": "committee", "seats": -1},
        {"kind": "committee", "seats": 2, "alternate_seats": 1},
        {"kind": "committee", "seats": 1, "candidate_ids": (1, 1)},
    ):
        with pytest.raises(ValueError):
            PollSpec(**kwargs)


def test_count_rejects_inconsistent_inputs() -> None:
    res = PollSpec("resolution", item_ids=(1,))
    with pytest.raises(ValueError, match="not both"):
        count(res, att(3, 3, 3), A(1, i1="for"), VN, HandCount({1: (1, 0, 0)}))
    with pytest.raises(ValueError, match="unknown items"):
        count(res, att(3, 3, 0), [], VN, HandCount({2: (1, 0, 0)}))
    with pytest.raises(ValueError, match="resolution"):
        count(committee(1, 2), att(3, 3, 0), [], VN, HandCount({}))


# --- candidate list size ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("seats", "n", "code"),
    [
        (9, 11, None),
        (9, 10, None),
        (9, 12, "surplus_too_large"),
        (9, 9, "no_surplus"),
        (9, 8, "fewer_candidates_than_seats"),
        (5, 6, None),
        (5, 7, "surplus_too_large"),
        (3, 4, None),
        (3, 5, "surplus_too_large"),
        (10, 13, None),
        (10, 14, "surplus_too_large"),
        (1, 2, None),
        (0, 3, None),
    ],
)
def test_candidate_list_warning(seats: int, n: int, code: str | None) -> None:
    w = candidate_list_warning(seats, n)
    assert (w.code if w else None) == code
    if w:
        assert w.seats == seats and w.candidates == n and str(n) in w.message


# --- digest and recount -----------------------------------------------------------------------


def test_digest_canonical_form_and_receipts() -> None:
    spec = committee(2, 3)
    a = [Ballot(kept=(2, 1), receipt="AAA"), Ballot(kept=(3,))]
    b = [Ballot(kept=(3,), receipt="ZZZ"), Ballot(kept=(1, 2))]
    assert ballot_digest(spec, VN, a) == ballot_digest(spec, VN, b)
    assert ballot_digest(spec, VN, a) != ballot_digest(spec, MOV, a)
    assert ballot_digest(spec, VN, a) != ballot_digest(spec, VN, a + [Ballot(kept=())])
    paper = [Ballot(kept=(2, 1), source="paper"), Ballot(kept=(3,))]
    assert ballot_digest(spec, VN, a) != ballot_digest(spec, VN, paper)
    text = canonical_json(spec, VN, a)
    doc = json.loads(text)
    # the documented canonical JSON is reproducible with the standard library alone
    assert json.dumps(doc, sort_keys=True, separators=(",", ":")) == text
    assert doc["ballots"][0]["kept"] == [1, 2] and "receipt" not in doc["ballots"][0]
    assert count(spec, att(2, 2, 2), a, VN).receipts == ["AAA"]


def test_recount_payload_round_trip_and_cli(tmp_path: Path) -> None:
    case = CASES[0]
    result = count(case.spec, case.attendance, case.ballots, case.settings)
    payload = recount_payload(
        case.spec, case.attendance, case.settings, case.ballots, meta={"poll_id": 7}, result=result
    )
    payload = json.loads(json.dumps(payload))
    assert payload["format"] == "congress-vote-ballots/1" and payload["digest"] == result.digest
    again = recount_from_payload(payload)
    assert again.to_dict() == result.to_dict()

    def run(data: dict[str, Any]) -> subprocess.CompletedProcess[str]:
        path = tmp_path / "ballots.json"
        path.write_text(json.dumps(data), encoding="utf-8")
        return subprocess.run(
            [sys.executable, "-m", "congress_vote.rules.recount", str(path)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            check=False,
        )

    ok = run(payload)
    assert ok.returncode == 0, ok.stderr
    assert result.digest in ok.stdout and "official [1, 2]" in ok.stdout

    tampered = json.loads(json.dumps(payload))
    tampered["ballots"][0]["kept"] = [4]
    bad = run(tampered)
    assert bad.returncode == 1 and "digest" in bad.stderr

    lied = json.loads(json.dumps(payload))
    lied["result"]["figures"]["ballots_valid"] = 131
    lied["result"]["candidates"][2]["elected"] = "official"
    bad = run(lied)
    assert bad.returncode == 1
    assert "figures.ballots_valid" in bad.stderr and "candidate 3 elected" in bad.stderr
    assert "digest" not in bad.stderr

    assert run({"format": "something-else"}).returncode == 2


def test_next_round_nothing_to_do() -> None:
    spec = committee(1, 2)
    result = count(spec, att(3, 3, 3), K(3, 1), VN)
    assert propose_next_round(spec, result) == NextRound()
    assert not propose_next_round(spec, result)


def test_rules_package_never_imports_flask_or_sqlalchemy() -> None:
    for path in (ROOT / "congress_vote" / "rules").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            for name in names:
                assert not name.split(".")[0].lower().startswith(("flask", "sqlalchemy")), path


def test_attendance_rejects_bad_counts() -> None:
    for bad in (
        {"voters_summoned": -1},
        {"voters_summoned": 5, "voters_present": "3"},
        {"voters_summoned": 5, "excluded": {"excused": -2}},
        {"voters_summoned": True},
    ):
        with pytest.raises(ValueError):
            Attendance(**bad)
    a = Attendance.from_dict({"voters_summoned": "150", "excluded": {"excused": 2, "ill": 1}})
    assert (a.voters_summoned, a.excused, a.denominator_base) == (150, 3, 147)


def test_hand_count_payload_round_trip() -> None:
    case = next(c for c in RES_CASES if c.id == "hand_count")
    spec = PollSpec("resolution", item_ids=(11, 12, 13))
    result = count(spec, case.attendance, [], case.settings, case.hand)
    payload = json.loads(
        json.dumps(
            recount_payload(spec, case.attendance, case.settings, [], case.hand, result=result)
        )
    )
    assert recount_from_payload(payload).to_dict() == result.to_dict()
    assert result.digest != ballot_digest(spec, case.settings, [])  # the hand count is hashed
