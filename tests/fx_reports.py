"""Fixtures for the chair's side: a congress with three polls (committee, slate, resolution),
ballots cast from the models directly (so every state, draft … published, can be set up quickly),
closed and counted with the polls and counting services; the figures in tests are read from the
stored result."""

from __future__ import annotations

import json
import random
import secrets

from congress_vote import codes
from congress_vote.ballots.models import Ballot, BallotToken, IssueBatch
from congress_vote.ballots.receipts import random_receipt
from congress_vote.congress.models import Congress, Delegate
from congress_vote.counting.count import count_poll
from congress_vote.counting.models import PollResult, Signoff
from congress_vote.db import utcnow
from congress_vote.extensions import db
from congress_vote.i18n.collation import name_sort_key
from congress_vote.polls.models import Candidate, CommitteeMember, Poll, PollItem
from congress_vote.polls.services import close_poll

# Distinctive names, so a test can search a page for any of them.
COMMITTEE = [
    "Hà Thị Khánh Vân",
    "Nguyễn Văn Quảng",
    "Trần Thị Bích Ngọc",
    "Lê Văn Cường",
    "Phạm Thị Dung",
]
SLATE = ["Vũ Minh Triết", "Đặng Thu Hường", "Bùi Quang Khải", "Đỗ Thị Mỹ Lệ"]
ITEMS = ["Thông qua Báo cáo chính trị", '=HYPERLINK("http://evil","x")']


def make_congress(voters=24, excused=1, present=21, probationary=2) -> Congress:
    c = Congress(
        name="Đại hội Đảng bộ Sở Xây dựng lần thứ XV",
        organisation="Đảng bộ Sở Xây dựng",
        term="2025–2030",
        venue="Hội trường A",
        kind="members",
        quorum_fraction="2/3",
    )
    db.session.add(c)
    db.session.flush()
    total = voters + probationary
    for n in range(total):
        full = n < voters
        status = (
            ("excused" if n < excused else "present" if n < excused + present else "absent")
            if full
            else "present"
        )
        name = f"Đảng viên {n:03d}"
        db.session.add(
            Delegate(
                congress_id=c.id,
                code=f"D{n:03d}",
                full_name=name,
                sort_key=name_sort_key(name),
                membership="full" if full else "probationary",
                status=status,
                card_nonce=secrets.token_hex(8),
                card_hash=secrets.token_hex(32),
            )
        )
    db.session.flush()
    return c


def make_poll(
    congress, kind, title, names=(), items=(), seats=0, alternate_seats=0, order=0, committee_ids=()
) -> Poll:
    p = Poll(
        congress_id=congress.id,
        kind=kind,
        title=title,
        seats=seats,
        alternate_seats=alternate_seats,
        rules=json.dumps({"preset": "vn-party"}),
        agenda_order=order,
        status="draft",
    )
    db.session.add(p)
    db.session.flush()
    for n, name in enumerate(names):
        db.session.add(Candidate(poll_id=p.id, full_name=name, ballot_order=n))
    for n, text in enumerate(items):
        db.session.add(PollItem(poll_id=p.id, text=text, position=n))
    for n, uid in enumerate(committee_ids):
        db.session.add(CommitteeMember(poll_id=p.id, user_id=uid, is_head=n == 0))
    db.session.flush()
    db.session.refresh(p)
    return p


def open_poll(p: Poll) -> None:
    p.status = "open"
    p.opened_at = utcnow()
    p.setup_fingerprint = secrets.token_hex(32)
    db.session.flush()


def issue(p: Poll, n: int) -> list[str]:
    """n unused tokens; answers their hashes."""
    batch = IssueBatch(poll_id=p.id, count=n, kind="slip")
    db.session.add(batch)
    db.session.flush()
    hashes = []
    for _ in range(n):
        h = codes.code_hash(codes.new_code())
        db.session.add(BallotToken(token_hash=h, poll_id=p.id, batch_id=batch.id, state="unused"))
        hashes.append(h)
    db.session.flush()
    return hashes


def cast(p: Poll, token_hash: str, choice: dict) -> str:
    db.session.query(BallotToken).filter_by(token_hash=token_hash).update({"state": "used"})
    r = random_receipt()
    db.session.add(
        Ballot(
            id=secrets.token_hex(16),
            poll_id=p.id,
            source="tablet",
            choice=json.dumps(choice, sort_keys=True),
            receipt=r,
        )
    )
    db.session.flush()
    return r


def vote_randomly(p: Poll, n_cast: int, n_issued: int, seed: int = 1) -> list[str]:
    """Issue n_issued ballots and cast n_cast of them with seeded random choices."""
    rnd = random.Random(seed)
    hashes = issue(p, n_issued)
    receipts = []
    cands = [c.id for c in p.candidates]
    for h in hashes[:n_cast]:
        if p.kind == "resolution":
            choice = {
                "answers": {
                    str(i.id): rnd.choice(["for", "for", "for", "against", "abstain"])
                    for i in p.items
                }
            }
        else:
            k = min(len(cands), p.seats + p.alternate_seats)
            if rnd.random() < 0.2:
                k -= 1  # some keep fewer names than seats (valid)
            # Weighted sampling without replacement, biased toward the first names so the
            # result has a clear order: key = u^(1/weight).
            keyed = sorted(
                cands, key=lambda c: -(rnd.random() ** (1 / (len(cands) - cands.index(c))))
            )
            choice = {"kept": sorted(keyed[:k])}
        receipts.append(cast(p, h, choice))
    return receipts


def close(p: Poll) -> None:
    """Close with the polls service (voids unused ballots, freezes the attendance)."""
    close_poll(p, None)


def count(p: Poll) -> dict:
    """Count with the counting service, as a member of the poll's own counting committee;
    answers the stored result data (names joined)."""
    member = min((m.user_id for m in p.committee), default=None)
    return json.loads(count_poll(p, member).data)


def certify(p: Poll, user_ids) -> None:
    row = db.session.get(PollResult, p.id)
    for uid in user_ids:
        db.session.add(Signoff(poll_id=p.id, user_id=uid, digest=row.digest))
    p.status = "certified"
    db.session.flush()


def advance(p: Poll, to: str, staff: dict, n_cast=18, n_issued=20, seed=1) -> list[str]:
    """Take a draft poll to `to` (open, voted, closed, counted, certified, published)."""
    steps = ["open", "voted", "closed", "counted", "certified", "published"]
    receipts = []
    for step in steps[: steps.index(to) + 1]:
        if step == "open":
            open_poll(p)
        elif step == "voted":
            receipts = vote_randomly(p, n_cast, n_issued, seed)
        elif step == "closed":
            close(p)
        elif step == "counted":
            count(p)
        elif step == "certified":
            certify(p, [staff["counter1"], staff["counter2"]])
        elif step == "published":
            p.status = "published"
            db.session.flush()
    return receipts


def world(staff) -> dict:
    """A congress with a committee election, a slate and a resolution, all in draft."""
    c = make_congress()
    committee = [staff["counter1"], staff["counter2"]]
    p1 = make_poll(
        c,
        "committee",
        "Bầu Ban Chấp hành Đảng bộ nhiệm kỳ 2025–2030",
        COMMITTEE,
        seats=3,
        order=1,
        committee_ids=committee,
    )
    p2 = make_poll(
        c,
        "slate",
        "Bầu đoàn đại biểu đi dự Đại hội cấp trên",
        SLATE,
        seats=2,
        alternate_seats=1,
        order=2,
        committee_ids=committee,
    )
    p3 = make_poll(
        c,
        "resolution",
        "Thông qua Nghị quyết Đại hội",
        items=ITEMS,
        order=3,
        committee_ids=committee,
    )
    return {"congress": c, "committee": p1, "slate": p2, "resolution": p3}
