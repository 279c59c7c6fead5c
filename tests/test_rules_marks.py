"""The ballots that vote for nobody and the agree/disagree ballots (docs/rules.md, "Ballot
validity"; QĐ 244-QĐ/TW art. 17): hand-worked cases of the rules engine.

- A ballot striking every name on a list with a surplus (more names than a ballot may keep) is
  invalid under vn-party (``all_struck``), in every round; the setting ``all_struck_valid`` keeps
  it valid under roberts or when overridden.
- On a list without a surplus each name is marked agree, disagree or not at all: with several
  names an unmarked name counts for no one and the ballot stays valid; with a single name the
  ballot is valid only with exactly one box marked (``no_mark``).
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from congress_vote.rules import (
    Attendance,
    Ballot,
    PollSpec,
    ballot_digest,
    canonical_json,
    count,
    has_surplus,
    recount_from_payload,
    recount_payload,
    settings_for,
    validate_ballot,
)

# the rules engine imports no database
pytestmark = pytest.mark.db_independent

VN = settings_for("vn-party")
ROB = settings_for("roberts")
MOV = settings_for("majority-of-valid")
VN_VALID = settings_for("vn-party", {"all_struck_valid": True})


def M(**marks: str) -> Ballot:
    """An agree/disagree ballot: ``M(c1="agree", c2="disagree")``; a name left out is unmarked."""
    return Ballot(marks=tuple((int(k[1:]), v) for k, v in marks.items()))


def K(*kept: int) -> Ballot:
    return Ballot(kept=kept)


# --- every name struck on a list with a surplus -----------------------------------------------


@pytest.mark.parametrize(
    ("spec", "surplus"),
    [
        (PollSpec("committee", seats=2, candidate_ids=(1, 2, 3)), True),
        (PollSpec("committee", seats=2, candidate_ids=(1, 2)), False),
        (PollSpec("committee", seats=3, candidate_ids=(1, 2)), False),  # fewer names than seats
        # a combined slate: 2 official + 1 alternate = 3 kept at most
        (PollSpec("slate", seats=2, alternate_seats=1, candidate_ids=(1, 2, 3, 4)), True),
        (PollSpec("slate", seats=2, alternate_seats=1, candidate_ids=(1, 2, 3)), False),
        # a later round: 1 seat left, 2 tied names
        (PollSpec("committee", seats=1, candidate_ids=(7, 9)), True),
    ],
)
def test_surplus_is_more_names_than_a_ballot_may_keep(spec: PollSpec, surplus: bool) -> None:
    assert has_surplus(spec, VN) is surplus
    # striking every name: invalid under vn-party exactly when the list has a surplus
    assert validate_ballot(spec, VN, K()) == ("all_struck" if surplus else None)
    assert validate_ballot(spec, ROB, K()) is None
    assert validate_ballot(spec, VN_VALID, K()) is None


def test_all_struck_vn_party_invalid_every_round() -> None:
    # Round 1: 3 names, 2 seats; 10 summoned and present, 10 returned.
    # 1 = 6, 2 = 5, 3 = 3; 2 ballots strike all three names → invalid "all_struck".
    # D = 10 (summoned), needs 6 → 1 elected, 1 seat unfilled.
    spec = PollSpec("committee", seats=2, candidate_ids=(1, 2, 3))
    ballots = [K(1, 2)] * 4 + [K(1, 3)] * 2 + [K(2, 3)] + [K(2)] + [K(), K()]
    r = count(spec, Attendance(10, {}, 10, 10), ballots, VN)
    assert r.figures["ballots_valid"] == 8
    assert r.figures["ballots_invalid"] == 2
    assert r.figures["invalid_by_reason"] == {"all_struck": 2}
    assert r.figures["ballots_blank"] == 0
    assert [c["votes"] for c in r.candidates] == [6, 6, 3]
    assert r.checks_ok
    # Round 2: the seat left, 2 names for 1 seat (still a surplus): all struck is invalid again
    spec2 = PollSpec("committee", seats=1, candidate_ids=(2, 3))
    r2 = count(spec2, Attendance(10, {}, 10, 10), [K(2)] * 7 + [K(3)] * 2 + [K()], VN)
    assert r2.figures["invalid_by_reason"] == {"all_struck": 1}
    assert r2.elected_official == [2]


def test_all_struck_valid_under_roberts_is_blank() -> None:
    # roberts: the 2 all-struck ballots are valid blanks, left out of the denominator:
    # D = 10 − 2 = 8, needs 5 → 1 (6) and 2 (6) elected.
    spec = PollSpec("committee", seats=2, candidate_ids=(1, 2, 3))
    ballots = [K(1, 2)] * 4 + [K(1, 3)] * 2 + [K(2, 3)] + [K(2)] + [K(), K()]
    r = count(spec, Attendance(10, {}, 10, 10), ballots, ROB)
    assert r.figures["ballots_valid"] == 10
    assert r.figures["ballots_blank"] == 2
    assert r.figures["invalid_by_reason"] == {}
    assert r.denominator == 8
    assert r.elected_official == [1, 2]


# --- agree/disagree ballots --------------------------------------------------------------------

TWO = PollSpec("committee", seats=2, candidate_ids=(1, 2))
ONE = PollSpec("committee", seats=1, candidate_ids=(5,))


@pytest.mark.parametrize(
    ("ballot", "reason", "votes"),
    [
        (M(c1="agree", c2="agree"), None, (1, 2)),
        (M(c1="agree", c2="disagree"), None, (1,)),
        (M(c1="disagree", c2="disagree"), None, ()),
        (M(c1="agree"), None, (1,)),  # 2 unmarked: counts for no one, ballot valid
        (M(c2="disagree"), None, ()),
        (M(), None, ()),  # no mark at all: still valid (and blank)
        (M(c1="maybe"), "bad_mark", ()),
        (M(c3="agree"), "unknown_candidate", ()),
        (Ballot(marks=((1, "agree"), (1, "disagree"))), "duplicate_candidate", ()),
        # kept on an agree/disagree ballot: agree for those, disagree for the others
        (K(1), None, (1,)),
        (K(), None, ()),
        (Ballot(kept=(1,), marks=((1, "agree"),)), "wrong_kind", ()),
    ],
)
def test_several_names_every_mark(ballot: Ballot, reason: str | None, votes: tuple) -> None:
    assert not has_surplus(TWO, VN)
    for settings in (VN, MOV, ROB):
        assert validate_ballot(TWO, settings, ballot) == reason
    if reason is None:
        assert ballot.votes == votes


@pytest.mark.parametrize(
    ("ballot", "vn_reason", "rob_reason"),
    [
        (M(c5="agree"), None, None),
        (M(c5="disagree"), None, None),
        # neither box (or on paper both): no valid mark → invalid under vn-party
        (M(), "no_mark", None),
        (K(5), None, None),  # kept = agree
        (K(), None, None),  # kept = disagree for the one name
        (M(c5="both"), "bad_mark", "bad_mark"),
    ],
)
def test_single_name_needs_exactly_one_box(
    ballot: Ballot, vn_reason: str | None, rob_reason: str | None
) -> None:
    assert validate_ballot(ONE, VN, ballot) == vn_reason
    assert validate_ballot(ONE, MOV, ballot) == vn_reason
    assert validate_ballot(ONE, ROB, ballot) == rob_reason


def test_marks_on_a_list_with_a_surplus_are_the_wrong_kind() -> None:
    spec = PollSpec("committee", seats=1, candidate_ids=(1, 2))
    assert validate_ballot(spec, VN, M(c1="agree")) == "wrong_kind"


def test_count_single_name_agree_disagree() -> None:
    # One name, one seat, 12 summoned, 10 returned: 6 agree, 2 disagree, 2 with no valid mark.
    # vn-party: the 2 unmarked are invalid ("no_mark"); D = 12, needs 7 → 6 agree: not elected.
    ballots = [M(c5="agree")] * 6 + [M(c5="disagree")] * 2 + [M(), M()]
    r = count(ONE, Attendance(12, {}, 10, 10), ballots, VN)
    assert r.figures["ballots_valid"] == 8
    assert r.figures["invalid_by_reason"] == {"no_mark": 2}
    assert r.candidates[0]["votes"] == 6
    assert r.elected_official == [] and r.unfilled_seats == 1
    assert r.checks_ok
    # roberts: the 2 unmarked are valid blanks; D = 10 − 2 − 2 (disagree are not blank)…
    # valid 10, blank 4 (2 disagree + 2 unmarked vote for nobody) → D = 6, needs 4 → elected.
    r = count(ONE, Attendance(12, {}, 10, 10), ballots, ROB)
    assert r.figures["ballots_valid"] == 10 and r.figures["ballots_blank"] == 4
    assert r.elected_official == [5]


def test_count_several_names_agree_disagree() -> None:
    # 2 names, 2 seats, 10 summoned, 10 returned; every ballot valid.
    # 1: agree on 7 ballots; 2: agree on 5. D = 10, needs 6 → 1 elected, 1 unfilled.
    ballots = (
        [M(c1="agree", c2="agree")] * 4
        + [M(c1="agree", c2="disagree")] * 2
        + [M(c1="agree")]  # 2 unmarked
        + [M(c2="agree")]  # 1 unmarked
        + [M()]  # nothing marked
        + [M(c1="disagree", c2="disagree")]
    )
    r = count(TWO, Attendance(10, {}, 10, 10), ballots, VN)
    assert r.figures["ballots_valid"] == 10 and r.figures["ballots_invalid"] == 0
    assert r.figures["ballots_blank"] == 2
    assert [c["votes"] for c in r.candidates] == [7, 5]
    assert r.elected_official == [1] and r.unfilled_seats == 1


def test_marks_in_the_digest_and_the_recount_payload() -> None:
    a = [M(c1="agree", c2="disagree")]
    b = [M(c1="agree")]  # same vote, different marks: a different ballot
    assert ballot_digest(TWO, VN, a) != ballot_digest(TWO, VN, b)
    assert ballot_digest(TWO, VN, a) == ballot_digest(TWO, VN, [M(c2="disagree", c1="agree")])
    # a ballot without marks keeps the canonical text it had before marks existed
    text = canonical_json(TWO, VN, [K(1)])
    assert '"marks"' not in text and '{"answers":null,"invalid_reason":null,"kept":[1],' in text
    assert '"marks":[[1,"agree"],[2,"disagree"]]' in canonical_json(TWO, VN, a)
    att = Attendance(10, {}, 10, 10)
    ballots = a * 3 + b * 2 + [M()]
    payload = recount_payload(TWO, att, VN, ballots)
    again = recount_from_payload(payload)
    assert again.digest == payload["digest"]
    assert [c["votes"] for c in again.candidates] == [5, 0]
    assert Ballot.from_dict({"marks": {"1": "agree"}}) == M(c1="agree")


# --- a property: agree/disagree ballots of any shape ---------------------------------------


_MARK = st.sampled_from(["agree", "disagree", None])


@st.composite
def _agree_polls(draw):
    n = draw(st.integers(1, 4))
    seats = draw(st.integers(n, n + 2))  # no surplus: as many seats as names, or more
    ids = tuple(range(1, n + 1))
    ballots = []
    for _ in range(draw(st.integers(0, 25))):
        marks = tuple((c, m) for c in ids if (m := draw(_MARK)) is not None)
        ballots.append(Ballot(marks=marks))
    preset = draw(st.sampled_from([VN, MOV, ROB]))
    return PollSpec("committee", seats=seats, candidate_ids=ids), ballots, preset


@hsettings(max_examples=60, deadline=None)
@given(_agree_polls())
def test_agree_disagree_property(poll) -> None:
    spec, ballots, preset = poll
    r = count(spec, Attendance(30, {}, 30, 30), ballots, preset)
    f = r.figures
    single = len(spec.candidate_ids) == 1
    spoiled = (
        sum(1 for b in ballots if not b.marks) if single and not preset.all_struck_valid else 0
    )
    assert f["ballots_invalid"] == spoiled == sum(f["invalid_by_reason"].values())
    assert f["ballots_valid"] + f["ballots_invalid"] == len(ballots)
    valid = [b for b in ballots if not (spoiled and not b.marks)]
    for c in r.candidates:
        assert c["votes"] == sum(1 for b in valid if (c["id"], "agree") in (b.marks or ()))
    assert r.checks_ok or f["ballots_issued"] < f["ballots_returned"]
