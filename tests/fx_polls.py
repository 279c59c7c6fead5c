"""Fixtures for the polls and ballots areas: a hall (congress with delegates made directly,
present or not), polls created, opened, issued and closed through the API."""

from __future__ import annotations

import pytest

from congress_vote.extensions import db


class Hall:
    def __init__(self, app, api, staff, client=None, key_cards=None):
        from tests.fx_seal import KeyCards

        self.app = app
        self.api = api
        self.staff = staff
        self.client = client
        # the counting committee's key cards (tests/fx_seal.py): a secret poll opens only when
        # every member has one, and its first count takes their opening codes
        self.key_cards = key_cards if key_cards is not None else KeyCards(app, staff)
        self.cards: dict[int, str] = {}  # delegate id -> card code
        self.kiosk_tokens: dict[int, str] = {}  # congress id -> its kiosk's token

    def enrol_kiosk(self, cid: int, label: str = "Máy 1") -> str:
        """Enrol a kiosk of the congress through the API (as the registrar) and make the test
        client send its token (X-Kiosk-Token) on every request from now on: casts and named
        votes need an enrolled kiosk (congress setting kiosk_only, on by default)."""
        r = self.api("registrar").post(f"/api/v1/congresses/{cid}/kiosks", json={"label": label})
        assert r.status_code == 201, r.json
        self.kiosk_tokens[cid] = r.json["token"]
        self.use_kiosk(cid)
        return r.json["token"]

    def use_kiosk(self, cid: int) -> None:
        """Make the test client a kiosk of congress `cid` (the last one enrolled there)."""
        if self.client is not None:
            self.client.environ_base["HTTP_X_KIOSK_TOKEN"] = self.kiosk_tokens[cid]

    def congress(
        self,
        voters: int = 10,
        present: int | None = None,
        probationary: int = 0,
        excused: int = 0,
        name: str = "Đại hội thử",
    ) -> int:
        """A congress with `voters` full members (`present` of them present, `excused` excused)
        and `probationary` probationary members (present). Returns its id."""
        from congress_vote import codes
        from congress_vote.congress.models import Congress, Delegate
        from congress_vote.i18n.collation import name_sort_key

        present = voters if present is None else present
        with self.app.app_context():
            c = Congress(
                name=name,
                organisation="Đảng bộ Sở Y tế",
                term="2025–2030",
                venue="Hội trường",
                kind="members",
            )
            db.session.add(c)
            db.session.flush()
            for n in range(voters + probationary):
                full = n < voters
                status = (
                    "present"
                    if (n < present or not full)
                    else ("excused" if n < present + excused else "absent")
                )
                code = codes.new_code()
                d = Delegate(
                    congress_id=c.id,
                    code=f"D{n:03d}",
                    full_name=f"Đảng viên Số {n}",
                    sort_key=name_sort_key(f"Đảng viên Số {n}"),
                    membership="full" if full else "probationary",
                    status=status,
                    card_nonce=f"n{n}",
                    card_hash=codes.code_hash(code),
                )
                db.session.add(d)
                db.session.flush()
                self.cards[d.id] = code
            db.session.commit()
            cid = c.id
        self.enrol_kiosk(cid)
        return cid

    def delegates(self, cid: int) -> list:
        from congress_vote.congress.models import Delegate

        with self.app.app_context():
            return [
                (d.id, d.full_name, d.membership, d.status)
                for d in db.session.scalars(
                    db.select(Delegate).where(Delegate.congress_id == cid).order_by(Delegate.id)
                )
            ]

    def body(self, kind: str = "committee", **over) -> dict:
        body = {
            "kind": kind,
            "title": "Bầu Ban Chấp hành",
            "seats": 2,
            "secrecy": "secret",
            "counting_committee": [self.staff["counter1"], self.staff["counter2"]],
            "rules": {"preset": "vn-party"},
        }
        if kind == "resolution":
            body.update(
                seats=0,
                title="Thông qua Nghị quyết",
                items=[{"text": "Báo cáo chính trị"}, {"text": "Chương trình hành động"}],
            )
        else:
            body["candidates"] = [
                {"full_name": "Trần Văn Bình", "position": "Bí thư"},
                {"full_name": "Nguyễn Thị An", "position": "Phó Bí thư"},
                {"full_name": "Lê Minh Châu", "position": ""},
            ]
        body.update(over)
        return body

    def poll(self, cid: int, kind: str = "committee", **over) -> dict:
        r = self.api("admin").post(f"/api/v1/congresses/{cid}/polls", json=self.body(kind, **over))
        assert r.status_code == 201, r.json
        return r.json

    def committee_names(self, pid: int) -> list[str]:
        from congress_vote.polls.models import CommitteeMember

        names = {uid: name for name, uid in self.staff.items()}
        with self.app.app_context():
            rows = db.session.scalars(
                db.select(CommitteeMember.user_id).where(CommitteeMember.poll_id == pid)
            )
            return sorted(names[uid] for uid in rows)

    def give_key_cards(self, pid: int) -> None:
        """Every member of the poll's counting committee prints a key card (once)."""
        from congress_vote.polls.models import Poll

        with self.app.app_context():
            cid = db.session.get(Poll, pid).congress_id
        self.key_cards.committee(cid, self.committee_names(pid))

    def opening_codes(self, pid: int, n: int | None = None) -> list[str]:
        """The opening codes of the poll's committee (the first `n` members; all by default)."""
        return [self.key_cards.for_poll(pid, m).opening_code for m in self.committee_names(pid)][:n]

    def open(self, pid: int) -> dict:
        self.give_key_cards(pid)
        r = self.api("chair").post(f"/api/v1/polls/{pid}/open")
        assert r.status_code == 200, r.json
        return r.json

    def count(self, pid: int, user: str = "counter1", status: int = 200):
        """Count the poll through the API, with every committee member's opening code."""
        r = self.api(user).post(
            f"/api/v1/polls/{pid}/count", json={"opening_codes": self.opening_codes(pid)}
        )
        assert r.status_code == status, r.json
        return r.json

    def close(self, pid: int) -> dict:
        r = self.api("chair").post(f"/api/v1/polls/{pid}/close")
        assert r.status_code == 200, r.json
        return r.json

    def enter_paper(self, pid: int, entries, unused: int = 0) -> None:
        """After the close: the paper return (`unused` blank papers collected back, as
        counter1), then each paper ballot of `entries` [(code, kept ids), ...] entered twice
        (double entry: counter1, then counter2), all through the API."""
        r = self.api("counter1").post(f"/api/v1/polls/{pid}/paper-returns", json={"unused": unused})
        assert r.status_code in (200, 201), r.json
        for code, kept in entries:
            for who in ("counter1", "counter2"):
                r = self.api(who).post(
                    f"/api/v1/polls/{pid}/paper-ballots", json={"code": code, "kept": kept}
                )
                assert r.status_code == 201, r.json

    def issue(self, pid: int, n: int) -> dict:
        r = self.api("counter1").post(f"/api/v1/polls/{pid}/ballots", json={"count": n})
        assert r.status_code == 201, r.json
        return r.json

    def open_poll_with_ballots(self, n: int = 3, voters: int = 10, kind: str = "committee", **over):
        cid = self.congress(voters=voters)
        poll = self.poll(cid, kind, **over)
        self.open(poll["id"])
        issued = self.issue(poll["id"], n)
        return cid, poll, issued["tokens"]


@pytest.fixture
def hall(app, api, staff, client, key_cards):
    return Hall(app, api, staff, client, key_cards)


def bare_hall(voters: int, counter: str, polls: int = 1, seats: int = 1, kiosk: str = "Máy 1"):
    """For a test with an app of its own (e.g. the rate limiter on: no `staff`, no API), inside
    that app's context: congress "C" with `voters` present full members, a new counter user
    `counter` who is the committee of `polls` secret polls of `seats` seats (candidates X Y and
    Z W), opened sealed to the counter's key card, and an enrolled kiosk labelled `kiosk`.
    Answers (congress, counter, polls, kiosk token); the caller commits."""
    from congress_vote import codes
    from congress_vote.auth.services import create_user
    from congress_vote.congress.kiosks import enrol_kiosk
    from congress_vote.congress.models import Congress, Delegate
    from congress_vote.polls.services import create_poll, open_poll
    from congress_vote.seal.keycards import issue_key_card

    user = create_user(counter, "password123", ["counter"])
    c = Congress(name="C")
    db.session.add(c)
    db.session.flush()
    for n in range(voters):
        db.session.add(
            Delegate(
                congress_id=c.id,
                code=f"d{n}",
                full_name=f"A {n}",
                sort_key="",
                membership="full",
                status="present",
                card_nonce="n",
                card_hash=codes.code_hash(codes.new_code()),
            )
        )
    db.session.flush()
    body = {
        "kind": "committee",
        "title": "T",
        "seats": seats,
        "counting_committee": [user.id],
        "candidates": [{"full_name": "X Y"}, {"full_name": "Z W"}],
    }
    made = [create_poll(c, body, None) for _ in range(polls)]
    issue_key_card(c, user)  # a secret poll opens sealed to its committee's key cards
    for p in made:
        open_poll(p, None)
    token = enrol_kiosk(c, kiosk, None)[1]
    return c, user, made, token
