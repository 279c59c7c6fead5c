"""Fixtures for the counting area: a congress, a poll with candidates or items, its committee,
issued tokens, cast ballots and the close — built from the models directly (the ballots/polls
services are exercised by their own tests), so counting tests control every figure.
"""

from __future__ import annotations

import json
import secrets

import pytest

from congress_vote import codes
from congress_vote.ballots.models import Ballot, BallotToken, IssueBatch
from congress_vote.ballots.receipts import random_receipt
from congress_vote.congress.models import Congress, Delegate
from congress_vote.extensions import db
from congress_vote.i18n.collation import name_sort_key
from congress_vote.polls.models import Candidate, CommitteeMember, Poll, PollItem

NAMES = [
    "Hà Thị Khánh Vân",
    "Nguyễn Văn An",
    "Trần Thị Bình",
    "Lê Văn Cường",
    "Phạm Thị Dung",
    "Hoàng Văn Em",
    "Vũ Thị Giang",
    "Đặng Văn Hải",
    "Bùi Thị Hoa",
    "Đỗ Văn Khoa",
    "Ngô Thị Lan",
]


class CountingWorld:
    """Builds polls for counting tests. All methods work inside the app context."""

    def __init__(self, app, staff):
        self.app = app
        self.staff = staff

    def congress(self, voters=20, present=None, excused=0) -> int:
        present = voters - excused if present is None else present
        c = Congress(
            name="Đại hội Đảng bộ Sở",
            organisation="Đảng bộ Sở Xây dựng",
            term="2025–2030",
            venue="Hội trường A",
            kind="members",
        )
        db.session.add(c)
        db.session.flush()
        for n in range(voters):
            status = (
                "excused" if n < excused else ("present" if n < excused + present else "absent")
            )
            name = f"Đại biểu Số {n:03d}"
            db.session.add(
                Delegate(
                    congress_id=c.id,
                    code=f"D{n:03d}",
                    full_name=name,
                    sort_key=name_sort_key(name),
                    membership="full",
                    status=status,
                    card_nonce=secrets.token_hex(8),
                    card_hash=secrets.token_hex(32),
                )
            )
        db.session.flush()
        return c.id

    def poll(
        self,
        cid,
        kind="committee",
        seats=2,
        alternate_seats=0,
        candidates=None,
        items=None,
        committee=("counter1", "counter2"),
        head=None,
        secrecy="secret",
        rules=None,
        status="open",
    ) -> Poll:
        p = Poll(
            congress_id=cid,
            kind=kind,
            title=f"Bầu thử {kind}",
            status=status,
            seats=seats,
            alternate_seats=alternate_seats,
            secrecy=secrecy,
            rules=json.dumps(rules or {"preset": "vn-party"}),
            setup_fingerprint=secrets.token_hex(32),
        )
        db.session.add(p)
        db.session.flush()
        if kind == "resolution":
            for n, text in enumerate(items or ["Thông qua nghị quyết"]):
                db.session.add(PollItem(poll_id=p.id, text=text, position=n))
        else:
            names = sorted(candidates or NAMES[: seats + alternate_seats + 1], key=name_sort_key)
            for n, name in enumerate(names):
                db.session.add(
                    Candidate(poll_id=p.id, full_name=name, position="Chuyên viên", ballot_order=n)
                )
        for name in committee:
            db.session.add(
                CommitteeMember(poll_id=p.id, user_id=self.staff[name], is_head=(name == head))
            )
        db.session.flush()
        db.session.refresh(p)
        return p

    def issue(self, poll, n, kind="slip") -> list[str]:
        batch = IssueBatch(poll_id=poll.id, count=n, kind=kind, issued_by=self.staff["counter1"])
        db.session.add(batch)
        db.session.flush()
        out = []
        for _ in range(n):
            code = codes.new_code()
            db.session.add(
                BallotToken(
                    token_hash=codes.code_hash(code),
                    poll_id=poll.id,
                    batch_id=batch.id,
                    state="unused",
                )
            )
            out.append(code)
        db.session.flush()
        return out

    def cast(self, poll, code, kept=None, answers=None) -> Ballot:
        th = codes.code_hash(code)
        tok = db.session.get(BallotToken, th)
        tok.state = "used"
        choice = {"kept": sorted(kept)} if kept is not None else {"answers": answers}
        b = Ballot(
            id=secrets.token_hex(16),
            poll_id=poll.id,
            source="tablet",
            choice=json.dumps(choice),
            receipt=random_receipt(),
        )
        db.session.add(b)
        db.session.flush()
        return b

    def close(self, poll):
        from sqlalchemy import func, select

        present = db.session.scalar(
            select(func.count())
            .select_from(Delegate)
            .where(Delegate.congress_id == poll.congress_id, Delegate.status == "present")
        )
        summoned = db.session.scalar(
            select(func.count())
            .select_from(Delegate)
            .where(Delegate.congress_id == poll.congress_id)
        )
        excused = db.session.scalar(
            select(func.count())
            .select_from(Delegate)
            .where(Delegate.congress_id == poll.congress_id, Delegate.status == "excused")
        )
        issued = db.session.scalar(
            select(func.count()).select_from(BallotToken).where(BallotToken.poll_id == poll.id)
        )
        poll.attendance = json.dumps(
            {
                "summoned": summoned,
                "voters_summoned": summoned,
                "excused": excused,
                "denominator": summoned - excused,
                "present": present,
                "voters_present": present,
                "quorum_fraction": "2/3",
                "quorum_met": True,
                "ballots_issued": issued,
            }
        )
        # Unused slips are voided at close (paper ballots may still be in the box).
        for tok in db.session.scalars(
            select(BallotToken).where(BallotToken.poll_id == poll.id, BallotToken.state == "unused")
        ):
            tok.state = "void"
        poll.status = "closed"
        db.session.flush()

    def election(
        self, voters=20, present=None, excused=0, seats=2, votes=None, unused=1, **kw
    ) -> Poll:
        """A closed election where `votes` is a list of kept-index lists (indexes into the
        ballot order), one per cast ballot."""
        cid = self.congress(voters=voters, present=present, excused=excused)
        poll = self.poll(cid, seats=seats, **kw)
        votes = votes if votes is not None else [[0, 1]] * 8 + [[0, 2]] * 5 + [[1]] * 2 + [[]]
        toks = self.issue(poll, len(votes) + unused)
        ids = [c.id for c in poll.candidates]
        for code, kept in zip(toks, votes, strict=False):
            self.cast(poll, code, kept=[ids[i] for i in kept])
        self.close(poll)
        db.session.commit()
        return poll


@pytest.fixture
def world(app, staff):
    with app.app_context():
        yield CountingWorld(app, staff)
