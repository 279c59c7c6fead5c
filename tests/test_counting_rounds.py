"""A slate with a tie for the last official seat: round 2 decides the tied seat, then the chain of
rounds proposes the alternates round (seats 0, alternate seats 1) from round 1's candidates not
yet elected — on round 2's result page and on round 1's — and the congress summary lists the
delegation from all three rounds."""

from __future__ import annotations

import io
import re

import pytest

from congress_vote.counting import rounds
from congress_vote.counting.rounds import create_round
from congress_vote.errors import ServiceError
from congress_vote.extensions import db
from congress_vote.polls.models import Poll

A, B, C, D, E = "Bùi Thị Hoa", "Đặng Văn Hải", "Hoàng Văn Em", "Lê Văn Cường", "Nguyễn Văn An"


def _vote(world, poll, plan):
    """Issue, cast `plan` (lists of names kept) and close `poll`."""
    ids = {c.full_name: c.id for c in poll.candidates}
    poll.status = "open"
    toks = world.issue(poll, len(plan))
    for code, kept in zip(toks, plan, strict=False):
        world.cast(poll, code, kept=[ids[n] for n in kept])
    world.close(poll)
    db.session.commit()


def _certify_publish(sign_off, api, poll):
    res = api("counter1").post(f"/api/v1/polls/{poll.id}/count").json
    for who in ("counter1", "counter2"):
        r = sign_off(who, poll.id, res["digest"])
        assert r.status_code == 201, r.json
    assert api("chair").post(f"/api/v1/polls/{poll.id}/publish").status_code == 200
    db.session.expire_all()
    return res


def _form(html: str, pid: int) -> str | None:
    m = re.search(rf'<form method="post" action="/polls/{pid}/next-round".*?</form>', html, re.S)
    return m.group(0) if m else None


def _ticked(form: str) -> set[int]:
    return {int(v) for v in re.findall(r'value="(\d+)" checked', form)}


def _field(form: str, name: str) -> str:
    return re.search(rf'name="{name}" value="(\d+)"', form).group(1)


@pytest.fixture
def tie_slate(world, api, sign_off):
    """Round 1 of a 2 + 1 slate, 20 voters: A 16, B 12, C 12 (tie for the 2nd official seat),
    D 11 (over the threshold of 10), E 3. Counted, certified and published."""
    cid = world.congress(voters=20)
    poll = world.poll(
        cid, kind="slate", seats=2, alternate_seats=1, candidates=[A, B, C, D, E], status="open"
    )
    _vote(world, poll, [[A, B, C]] * 8 + [[A, B, D]] * 4 + [[A, C, D]] * 4 + [[D, E]] * 3)
    res = _certify_publish(sign_off, api, poll)
    by = {c["full_name"]: c for c in res["candidates"]}
    assert by[A]["elected"] == "official" and not by[B]["elected"] and not by[C]["elected"]
    assert res["alternates_pending"] and res["ties"][0]["seats_contested"] == 1
    return poll


def test_alternates_round_after_the_tie_round(world, api, auth, client, tie_slate, sign_off):
    r1 = tie_slate
    ids1 = {c.full_name: c.id for c in r1.candidates}
    # Round 1 proposes the tie round: B and C for one official seat.
    p = rounds.chain_proposal(r1)
    assert p.reason == "tie" and set(p.candidate_ids) == {ids1[B], ids1[C]} and p.seats == 1
    r2 = create_round(r1, list(p.candidate_ids), p.seats, None)
    db.session.commit()
    assert (r2.round, r2.parent_id, r2.seats, r2.alternate_seats) == (2, r1.id, 1, 0)

    # While round 2 is under way, round 1 proposes nothing and refuses a second round 2.
    assert not rounds.chain_proposal(r1)
    with pytest.raises(ServiceError) as exc:
        create_round(r1, [ids1[B], ids1[C]], 1, None)
    assert exc.value.status == 409 and exc.value.code == "round_in_progress"
    db.session.rollback()
    auth.login("admin")
    assert _form(client.get(f"/polls/{r1.id}/count").get_data(as_text=True), r1.id) is None

    # Round 2: B 13, C 6 -> B takes the official seat.
    _vote(world, r2, [[B]] * 13 + [[C]] * 6 + [[]])
    res2 = _certify_publish(sign_off, api, r2)
    assert {c["full_name"]: c["elected"] for c in res2["candidates"]} == {B: "official", C: None}

    # Now the chain proposes the alternates round, from round 1's candidates not yet elected
    # (the engine's "alternates" reason: every candidate not elected), on both pages.
    r1 = db.session.get(Poll, r1.id)
    for page_poll in (r2, r1):
        p = rounds.chain_proposal(page_poll)
        assert p.reason == "alternates", page_poll.round
        assert set(p.candidate_ids) == {ids1[C], ids1[D], ids1[E]}
        assert (p.seats, p.alternate_seats) == (0, 1) and p.after.id == r2.id
        html = client.get(f"/polls/{page_poll.id}/count").get_data(as_text=True)
        form = _form(html, page_poll.id)
        assert form is not None, f"round {page_poll.round}: no next-round form"
        assert _ticked(form) == {ids1[C], ids1[D], ids1[E]}
        assert _field(form, "seats") == "0" and _field(form, "alternate_seats") == "1"

    # The admin creates it from round 2's result page.
    r = client.post(
        f"/polls/{r2.id}/next-round",
        data={
            "candidate_ids": [str(ids1[C]), str(ids1[D]), str(ids1[E])],
            "seats": "0",
            "alternate_seats": "1",
        },
    )
    assert r.status_code == 302, r.get_data(as_text=True)[-2000:]
    r3 = db.session.scalars(db.select(Poll).where(Poll.parent_id == r2.id)).one()
    assert (r3.round, r3.kind, r3.seats, r3.alternate_seats) == (3, "slate", 0, 1)
    assert sorted(c.full_name for c in r3.candidates) == sorted([C, D, E])

    # Round 3 (alternates only): C 12, D 6 -> C is the alternate.
    _vote(world, r3, [[C]] * 12 + [[D]] * 6 + [[E]])
    res3 = _certify_publish(sign_off, api, r3)
    assert {c["full_name"]: c["elected"] for c in res3["candidates"]} == {
        C: "alternate",
        D: None,
        E: None,
    }
    for pol in (r1, r2, r3):
        pol = db.session.get(Poll, pol.id)
        assert not rounds.chain_proposal(pol), pol.round
        html = client.get(f"/polls/{pol.id}/count").get_data(as_text=True)
        assert _form(html, pol.id) is None

    # The congress summary: officials from rounds 1 and 2, the alternate from round 3.
    from congress_vote.congress.models import Congress
    from congress_vote.reports.services import congress_summary

    s = congress_summary(db.session.get(Congress, r1.congress_id))
    assert [c["full_name"] for c in s["officials"]] == [A, B]
    assert [c["full_name"] for c in s["alternates"]] == [C]
    client.post("/logout")
    auth.login("chair")
    pdf = client.get(f"/api/v1/congresses/{r1.congress_id}/summary.pdf")
    assert pdf.status_code == 200
    import pypdf

    text = " ".join(pg.extract_text() for pg in pypdf.PdfReader(io.BytesIO(pdf.data)).pages)
    flat = re.sub(r"\s+", " ", text)
    # the delegation table comes first: officials A, B then the alternate C
    assert -1 < flat.index(A) < flat.index(B) < flat.index(C)


def test_round_from_round_one_follows_the_latest_round(world, api, tie_slate, sign_off):
    """Asking round 1 for a further round once round 2 is counted gives round 3 (parent round
    2), never a second round 2."""
    r1 = tie_slate
    ids1 = {c.full_name: c.id for c in r1.candidates}
    r2 = create_round(r1, [ids1[B], ids1[C]], 1, None)
    db.session.commit()
    _vote(world, r2, [[B]] * 13 + [[C]] * 6)
    _certify_publish(sign_off, api, r2)
    r = api("admin").post(
        f"/api/v1/polls/{r1.id}/rounds",
        json={"candidate_ids": [ids1[C], ids1[D]], "seats": 0, "alternate_seats": 1},
    )
    assert r.status_code == 201, r.json
    assert (r.json["round"], r.json["parent_id"]) == (3, r2.id)
