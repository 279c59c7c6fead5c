"""Property tests of the election rules engine over random elections (Hypothesis)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, replace
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from congress_vote.rules import (
    DENOMINATORS,
    PRESETS,
    Attendance,
    Ballot,
    PollSpec,
    Result,
    Settings,
    ballot_digest,
    count,
    has_surplus,
    max_kept,
    settings_for,
)

# the rules engine imports no database
pytestmark = pytest.mark.db_independent

QUICK = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
UNKNOWN_ID = 999


@dataclass
class Election:
    spec: PollSpec
    attendance: Attendance
    ballots: list[Ballot]
    settings: Settings


@st.composite
def rule_settings(draw: st.DrawFn) -> Settings:
    return settings_for(
        draw(st.sampled_from(sorted(PRESETS))),
        {
            "denominator": draw(st.sampled_from(DENOMINATORS)),
            "fraction": draw(st.sampled_from(["1/2", "2/3", "1/3", "3/5"])),
            "strict": draw(st.booleans()),
            "all_struck_valid": draw(st.booleans()),
            "alternates_same_ballot": draw(st.booleans()),
        },
    )


@st.composite
def elections(draw: st.DrawFn, clean: bool = False) -> Election:
    """A random committee or slate poll; ``clean`` ballots are well-formed (known, distinct ids;
    no paper rulings) though they may still over-vote or be all struck."""
    n = draw(st.integers(1, 9))
    ids = tuple(draw(st.permutations(range(1, n + 1))))  # ballot order ≠ id order
    kind = draw(st.sampled_from(["committee", "slate"]))
    seats = draw(st.integers(0 if kind == "slate" else 1, n))
    alt = draw(st.integers(0, max(0, n - seats))) if kind == "slate" else 0
    spec = PollSpec(kind, seats, alt, ids)
    rules = draw(rule_settings())
    limit = max_kept(spec, rules)
    ballot = st.lists(st.sampled_from(ids), max_size=min(n, limit + 1), unique=True).map(
        lambda kept: Ballot(kept=tuple(kept))
    )
    if not clean:
        ballot = st.one_of(
            ballot,
            ballot,
            st.lists(st.sampled_from(ids + (UNKNOWN_ID,)), max_size=limit + 1).map(
                lambda kept: Ballot(kept=tuple(kept), source="paper")
            ),
            st.sampled_from(["identifying_mark", "not_issued"]).map(
                lambda r: Ballot(invalid_reason=r, source="paper")
            ),
        )
    ballots = draw(st.lists(ballot, max_size=40))
    summoned = draw(st.integers(0, 60))
    attendance = Attendance(
        summoned,
        {"excused": draw(st.integers(0, 5))},
        voters_present=draw(st.integers(0, 60)),
        ballots_issued=draw(st.integers(0, 60)),
    )
    return Election(spec, attendance, ballots, rules)


def run(e: Election, ballots: list[Ballot] | None = None) -> Result:
    return count(e.spec, e.attendance, e.ballots if ballots is None else ballots, e.settings)


def over(votes: int, result: Result) -> bool:
    """The threshold restated independently with Fraction."""
    s = result.settings
    if result.denominator <= 0:
        return False
    bar = s.fraction * result.denominator
    return Fraction(votes) > bar if s.strict else Fraction(votes) >= bar


@QUICK
@given(elections(), st.randoms(use_true_random=False))
def test_result_does_not_depend_on_ballot_order(e: Election, rnd) -> None:
    shuffled = list(e.ballots)
    rnd.shuffle(shuffled)
    assert run(e, shuffled).to_dict() == run(e).to_dict()


@QUICK
@given(elections())
def test_nobody_below_threshold_and_highest_fill_seats(e: Election) -> None:
    r = run(e)
    votes = {c["id"]: c["votes"] for c in r.candidates}
    for c in r.candidates:
        assert c["over_threshold"] is over(c["votes"], r)
        if c["elected"]:
            assert over(c["votes"], r)
    official, alternate = r.elected_official, r.elected_alternate
    others = [cid for cid in e.spec.candidate_ids if cid not in official]
    if official and others:
        assert min(votes[c] for c in official) > max(votes[c] for c in others)
    rest = [cid for cid in others if cid not in alternate]
    if alternate and rest:
        assert min(votes[c] for c in alternate) > max(votes[c] for c in rest)
    # descending order, officials first
    assert [votes[c] for c in official] == sorted((votes[c] for c in official), reverse=True)
    assert r.elected_order == official + alternate


@QUICK
@given(elections())
def test_never_more_elected_than_seats(e: Election) -> None:
    r = run(e)
    ties = {t["kind"]: t for t in r.ties}
    official, alternate = r.elected_official, r.elected_alternate
    assert len(official) <= e.spec.seats
    assert len(alternate) <= e.spec.alternate_seats
    contested = ties["official"]["seats_contested"] if "official" in ties else 0
    assert len(official) + contested + r.unfilled_seats == e.spec.seats
    if r.alternates_pending:
        assert alternate == [] and "alternate" not in ties and r.unfilled_alternate_seats == 0
    else:
        alt_contested = ties["alternate"]["seats_contested"] if "alternate" in ties else 0
        assert len(alternate) + alt_contested + r.unfilled_alternate_seats == e.spec.alternate_seats
    for t in r.ties:  # a tie is a group larger than the seats it contests, all over threshold
        assert len(t["candidate_ids"]) > t["seats_contested"] > 0
        assert all(over(t["votes"], r) for _ in t["candidate_ids"])
        assert not set(t["candidate_ids"]) & set(r.elected_order)


@QUICK
@given(elections(clean=True), st.data())
def test_adding_a_vote_never_unelects(e: Election, data: st.DataObject) -> None:
    """Adding a vote for an elected candidate X, on a ballot that did not keep X and has room:

    * if X was official, X stays official;
    * if X was an alternate, X stays elected (alternate or now official) — or X has climbed
      into a tie on the last *official* seat, which leaves the alternates pending. That is the
      one way an alternate can lose the seat: by contesting a better one.
    """
    r = run(e)
    if not r.elected_order:
        return
    x = data.draw(st.sampled_from(r.elected_order))
    limit = max_kept(e.spec, e.settings)
    room = [i for i, b in enumerate(e.ballots) if x not in b.kept and len(b.kept) < limit]
    if not room:
        return
    i = data.draw(st.sampled_from(room))
    ballots = list(e.ballots)
    ballots[i] = Ballot(kept=ballots[i].kept + (x,))
    after = run(e, ballots)
    before_status = {c["id"]: c["elected"] for c in r.candidates}[x]
    after_status = {c["id"]: c["elected"] for c in after.candidates}[x]
    assert {c["id"]: c["votes"] for c in after.candidates}[x] == {
        c["id"]: c["votes"] for c in r.candidates
    }[x] + 1
    if before_status == "official":
        assert after_status == "official"
    else:
        official_tie = [t for t in after.ties if t["kind"] == "official"]
        assert after_status is not None or (official_tie and x in official_tie[0]["candidate_ids"])


@QUICK
@given(elections())
def test_reconciliation_identities(e: Election) -> None:
    r = run(e)
    f = r.figures
    assert f["ballots_returned"] == len(e.ballots)
    assert f["ballots_valid"] + f["ballots_invalid"] == f["ballots_returned"]
    assert sum(f["invalid_by_reason"].values()) == f["ballots_invalid"]
    assert f["ballots_unused"] == max(0, f["ballots_issued"] - f["ballots_returned"])
    assert 0 <= f["ballots_blank"] <= f["ballots_valid"]
    assert f["ballots_valid_nonblank"] == f["ballots_valid"] - f["ballots_blank"]
    assert f["excused"] == sum(f["excluded"].values())
    votes = [c["votes"] for c in r.candidates]
    assert all(v <= f["ballots_valid"] for v in votes)
    assert sum(votes) <= f["ballots_valid"] * max_kept(e.spec, e.settings)
    # independent tally of the valid ballots
    valid = [
        b
        for b in e.ballots
        if b.invalid_reason is None
        and len(set(b.kept)) == len(b.kept) <= max_kept(e.spec, e.settings)
        and set(b.kept) <= set(e.spec.candidate_ids)
        # striking every name is invalid only on a list with a surplus (QĐ 244-QĐ/TW art. 17)
        and (b.kept or e.settings.all_struck_valid or not has_surplus(e.spec, e.settings))
    ]
    assert len(valid) == f["ballots_valid"]
    tally = Counter(c for b in valid for c in b.kept)
    assert {c["id"]: c["votes"] for c in r.candidates} == {
        c: tally[c] for c in e.spec.candidate_ids
    }
    ok = {c["name"]: c["ok"] for c in r.checks}
    assert ok == {
        "issued_within_present": f["ballots_issued"] <= f["voters_present"],
        "returned_within_issued": f["ballots_returned"] <= f["ballots_issued"],
        "valid_plus_invalid_is_returned": True,
        "votes_within_valid": True,
        "votes_sum_within_valid_times_seats": True,
    }
    assert r.checks_ok is all(ok.values())
    json.dumps(r.to_dict())  # JSON-safe


def _mutate(b: Ballot, ids: tuple[int, ...], how: int) -> Ballot:
    """A ballot whose canonical form differs from ``b``'s."""
    if how == 0:
        return replace(b, source="tablet" if b.source == "paper" else "paper")
    if how == 1:
        return replace(b, invalid_reason=None if b.invalid_reason else "identifying_mark")
    kept = b.kept or ()
    missing = [c for c in ids + (UNKNOWN_ID,) if c not in kept]
    if kept and (how == 2 or not missing):  # nothing left to add: drop one instead
        return replace(b, kept=kept[1:])
    return replace(b, kept=kept + (missing[0],))


@QUICK
@given(elections(), st.randoms(use_true_random=False), st.data())
def test_digest_changes_with_any_ballot_not_with_order(
    e: Election, rnd, data: st.DataObject
) -> None:
    digest = run(e).digest
    assert digest == ballot_digest(e.spec, e.settings, e.ballots)
    shuffled = list(e.ballots)
    rnd.shuffle(shuffled)
    assert ballot_digest(e.spec, e.settings, shuffled) == digest
    with_receipts = [replace(b, receipt=f"R{n}") for n, b in enumerate(e.ballots)]
    assert ballot_digest(e.spec, e.settings, with_receipts) == digest
    if not e.ballots:
        return
    i = data.draw(st.integers(0, len(e.ballots) - 1))
    changed = list(e.ballots)
    changed[i] = _mutate(changed[i], e.spec.candidate_ids, data.draw(st.integers(0, 3)))
    assert ballot_digest(e.spec, e.settings, changed) != digest
    assert ballot_digest(e.spec, e.settings, e.ballots[:i] + e.ballots[i + 1 :]) != digest


@st.composite
def resolutions(draw: st.DrawFn) -> tuple[PollSpec, Attendance, list[Ballot], Settings]:
    items = tuple(range(1, draw(st.integers(1, 4)) + 1))
    answer = st.sampled_from(["for", "against", "abstain"])
    ballot = st.dictionaries(st.sampled_from(items), answer).map(
        lambda d: Ballot(answers=tuple(d.items()))
    )
    ballots = draw(st.lists(ballot, max_size=40))
    attendance = Attendance(
        draw(st.integers(0, 50)), {}, draw(st.integers(0, 50)), draw(st.integers(0, 50))
    )
    return PollSpec("resolution", item_ids=items), attendance, ballots, draw(rule_settings())


@QUICK
@given(resolutions())
def test_resolution_items_add_up(args) -> None:
    spec, attendance, ballots, rules = args
    r = count(spec, attendance, ballots, rules)
    assert r.figures["ballots_valid"] == len(ballots)
    for item in r.items:
        assert item["for"] + item["against"] + item["abstain"] + item["not_voted"] == len(ballots)
        assert item["passed"] is over(item["for"], r)
    assert r.checks_ok is (
        attendance.ballots_issued <= attendance.voters_present
        and len(ballots) <= attendance.ballots_issued
    )
