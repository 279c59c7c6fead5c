"""Issue 14, hole 4: only a poll's OWN counting committee acts on its ballots and its count.

Two polls with different committees (A: counter1 + counter2; B: counter3). Every route taking a
poll id is walked from the URL map, so a route added later cannot be forgotten: unless it is in
NOT_COMMITTEE (chair/admin verbs, read-only staff views, voting), counter3 — a counter, but of
another committee — gets 403 on poll A and the database does not change (no token issued, no
audit event, no count, no complaint text, no entry). The chair and the admin, not on the
committee, get 403 on every such verb that writes. A's own counters still pass the guard, and the
whole work of the committee (issue, slips and paper PDFs, paper entry, count, complaints, sign,
hand count) still succeeds for them through the API and the pages.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import text

from congress_vote.extensions import db
from tests.conftest import PASSWORD

# Routes with a poll id that are NOT a committee verb, and why (docs/api.md's "who" column).
NOT_COMMITTEE = {
    "api.get_poll_route": "staff: read the poll",
    "api.turnout_route": "staff: live counts only",
    "api.open_poll_route": "chair's verb",
    "api.opening_check_route": "chair's read (the warnings before opening)",
    "api.close_poll_route": "chair's verb",
    "api.publish_poll": "chair's verb",
    "api.announcement_pdf": "chair's read",
    "api.api_result": "staff read after count (public once published)",
    "api.api_receipts": "public once counted",
    "api.api_board": "public once published (staff once counted)",
    "api.export_csv": "public result export",
    "api.export_json": "public result export",
    "api.export_xlsx": "public result export",
    "api.api_round": "admin: poll setup (the next round is a new draft poll)",
    "api.poll_change": "admin: poll setup (a draft poll's fields)",
    "api.post_named_vote": "voting by card",
    "ballots.named": "voting kiosk",
    "polls.show": "staff: the poll page",
    "polls.edit": "admin: poll setup",
    "polls.open_": "chair's verb",
    "polls.close": "chair's verb",
    "counting.result": "staff read of the result page",
    "counting.next_round": "admin: poll setup",
    "reports.open_poll": "chair's console",
    "reports.close_poll": "chair's console",
    "reports.publish": "chair's console",
}


def _login(app, username):
    c = app.test_client()
    r = c.post("/login", data={"username": username, "password": PASSWORD})
    assert r.status_code in (302, 303), r.status_code
    return c


class World:
    """Poll A (election) and poll R (show-of-hands resolution), committee counter1 + counter2;
    poll B, committee counter3. Built and driven through the API."""

    def __init__(self, app, api, hall, staff):
        self.app, self.api, self.hall, self.staff = app, api, hall, staff
        self.cid = hall.congress(voters=20)
        ours = [staff["counter1"], staff["counter2"]]
        self.a = hall.poll(self.cid, counting_committee=ours)
        self.r = hall.poll(self.cid, "resolution", secrecy="open", counting_committee=ours)
        self.b = hall.poll(self.cid, counting_committee=[staff["counter3"]])
        for p in (self.a, self.r, self.b):
            hall.open(p["id"])
        issued = hall.issue(self.a["id"], 2)
        self.batch_id = issued["batch_id"]
        m = re.search(r"/slips/([^/]+)\.pdf", issued.get("pdf_url") or "")
        self.fid = m.group(1) if m else "0"
        users = ("counter1", "counter2", "counter3", "admin", "chair")
        self.html = {u: _login(app, u) for u in users}
        self.bearer = {u: api(u).h for u in users}  # sign in now: a login is audited
        r = self.html["counter1"].post(
            f"/polls/{self.a['id']}/paper/print", data={"count": "3", "size": "A4"}
        )
        assert r.status_code == 200 and r.data[:4] == b"%PDF"
        self.n_paper = self._paper_tokens(self.a["id"])

    def _paper_tokens(self, pid):
        from congress_vote.ballots.models import BallotToken, IssueBatch

        with self.app.app_context():
            n = (
                db.session.query(BallotToken)
                .join(IssueBatch, IssueBatch.id == BallotToken.batch_id)
                .filter(BallotToken.poll_id == pid, IssueBatch.kind == "paper")
                .count()
            )
        return n

    # -- requests ----------------------------------------------------------------------------

    def call(self, user, rule, method, poll):
        pid = poll["id"]
        args = {"pid": pid, "cid": self.cid, "fid": self.fid, "batch_id": self.batch_id}
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(rf"<(?:[^:>]+:)?{name}>", str(args.get(name, 1)), url)
        body = self.body(url, poll)
        if url.startswith("/api/"):
            h = self.bearer[user]
            client = self.app.test_client()
            if method == "GET":
                return client.get(url, headers=h)
            return client.open(url, method=method, json=body, headers=h)
        client = self.html[user]
        accept = {"Accept": "application/json"}
        if method == "GET":
            return client.get(url, headers=accept)
        return client.open(url, method=method, data=self.form(url, poll), headers=accept)

    def body(self, url, poll):
        """A well-formed JSON body for the route, so only the committee guard can refuse it."""
        cand = [c["id"] for c in poll.get("candidates", [])][:1]
        items = {
            str(i["id"]): {"for": 1, "against": 0, "abstain": 0} for i in poll.get("items", [])
        } or {"1": {"for": 1, "against": 0, "abstain": 0}}
        tail = url.rsplit("/", 1)[-1]
        return {
            "ballots": {"count": 1},
            "count": {},
            "signoffs": {"digest": "0" * 64, "signing_code": "CV1:S:x"},
            "paper-ballots": {"code": "AAAA-BBBB-CCCC-DDDD-E", "kept": cand},
            "hand-count": {"items": items},
            "paper-returns": {"unused": 0},
        }.get(tail, {})

    def form(self, url, poll):
        tail = url.rsplit("/", 1)[-1]
        data = {
            "ballots": {"count": "1"},
            "print": {"count": "1", "size": "A4"},
            "sign": {"digest": "0" * 64},
            "complaints": {"complaints": "rewritten"},
            "paper": {
                "code": "AAAA-BBBB-CCCC-DDDD-E",
                "kept": [str(c["id"]) for c in poll.get("candidates", [])][:1],
            },
        }
        form = dict(data.get(tail, {}))
        if tail == "hand-count":
            for i in poll.get("items", []):
                form.update(
                    {f"for-{i['id']}": "1", f"against-{i['id']}": "0", f"abstain-{i['id']}": "0"}
                )
        return form

    # -- what must not change ----------------------------------------------------------------

    def snapshot(self):
        """Every row of every table that holds a poll's ballots, count or history."""
        skip = ("user", "api_token")
        out = {}
        with self.app.app_context():
            for t in db.metadata.sorted_tables:
                if t.name in skip or any(w in t.name for w in ("session", "login", "limit")):
                    continue
                rows = db.session.execute(text(f'SELECT * FROM "{t.name}"')).all()
                out[t.name] = sorted(map(repr, rows))
            db.session.remove()
        return out


def _poll_rules(app):
    """Every route that takes a poll id, with its methods."""
    out = []
    for rule in app.url_map.iter_rules():
        if "pid" in rule.arguments:
            for m in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                out.append((rule, m))
    return sorted(out, key=lambda x: (x[0].rule, x[1]))


def _committee_rules(app):
    return [(r, m) for r, m in _poll_rules(app) if r.endpoint not in NOT_COMMITTEE]


@pytest.fixture
def w(app, api, hall, staff):
    return World(app, api, hall, staff)


def _refused(resp) -> bool:
    if resp.status_code != 403:
        return False
    body = resp.get_json(silent=True) or {}
    return (body.get("error") or {}).get("code") == "not_on_committee"


def _walk_outsiders(w, state):
    rules = _committee_rules(w.app)
    assert rules, "no committee routes found"
    # One snapshot before the walk: every request is compared with it, so the first request
    # that writes anything fails here (until then each request's "before" is this snapshot).
    before = w.snapshot()
    for poll in (w.a, w.r):
        for rule, method in rules:
            for user in ("counter3", "admin", "chair"):
                if user != "counter3" and method == "GET":
                    continue  # chair/observer read some of these (review, minutes)
                resp = w.call(user, rule, method, poll)
                where = f"{state}: {user} {method} {rule.rule} ({rule.endpoint})"
                assert resp.status_code == 403, (where, resp.status_code, resp.data[:300])
                if user == "counter3":
                    assert _refused(resp), (where, resp.data[:300])
                assert w.snapshot() == before, f"{where} changed the database"


def _walk_own(w, state):
    # The poll's own counters pass the guard (they may still meet the poll's state).
    for poll in (w.a, w.r):
        for rule, method in _committee_rules(w.app):
            resp = w.call("counter2", rule, method, poll)
            assert not _refused(resp), (state, method, rule.rule, resp.data[:300])


def test_another_committees_counter_is_refused_on_every_poll_verb(w):
    _walk_outsiders(w, "open")
    _walk_own(w, "open")
    for p in (w.a, w.r):
        w.hall.close(p["id"])
    _walk_outsiders(w, "closed")
    if any(r.rule.endswith("/paper-returns") for r, _ in _poll_rules(w.app)):
        r = w.api("counter1").post(
            f"/api/v1/polls/{w.a['id']}/paper-returns", json={"unused": w.n_paper}
        )
        assert r.status_code in (200, 201), r.json
    r = w.api("counter1").post(
        f"/api/v1/polls/{w.a['id']}/count", json={"opening_codes": w.hall.opening_codes(w.a["id"])}
    )
    assert r.status_code == 200, r.json
    _walk_outsiders(w, "counted")
    _walk_own(w, "counted")


def test_the_committee_still_does_its_work(w, app, key_cards):
    a, r = w.a["id"], w.r["id"]
    # issue (API and page), and the slips PDF of another counter's batch stays its own
    assert (
        w.api("counter2").post(f"/api/v1/polls/{a}/ballots", json={"count": 1}).status_code == 201
    )
    assert w.html["counter3"].post(f"/polls/{a}/ballots", data={"count": "1"}).status_code == 403
    page = w.html["counter2"].post(f"/polls/{a}/ballots", data={"count": "1"})
    assert page.status_code == 200
    if w.fid != "0":
        assert w.html["counter3"].get(f"/polls/{a}/slips/{w.fid}.pdf").status_code == 403
        pdf = w.html["counter1"].get(f"/polls/{a}/slips/{w.fid}.pdf")
        assert pdf.status_code == 200 and pdf.data[:4] == b"%PDF"
    # show of hands on the resolution
    items = {str(i["id"]): {"for": 3, "against": 1, "abstain": 0} for i in w.r["items"]}
    assert (
        w.api("counter3").post(f"/api/v1/polls/{r}/hand-count", json={"items": items}).status_code
        == 403
    )
    assert (
        w.api("counter1").post(f"/api/v1/polls/{r}/hand-count", json={"items": items}).status_code
        == 201
    )
    w.hall.close(a)
    w.hall.close(r)
    if any(x.rule.endswith("/paper-returns") for x, _ in _poll_rules(app)):
        assert (
            w.api("counter3")
            .post(f"/api/v1/polls/{a}/paper-returns", json={"unused": w.n_paper})
            .status_code
            == 403
        )
        assert w.api("counter1").post(
            f"/api/v1/polls/{a}/paper-returns", json={"unused": w.n_paper}
        ).status_code in (200, 201)
    # count, complaints, sign
    assert w.api("counter3").post(f"/api/v1/polls/{a}/count", json={}).status_code == 403
    res = w.api("counter1").post(
        f"/api/v1/polls/{a}/count", json={"opening_codes": w.hall.opening_codes(a)}
    )
    assert res.status_code == 200, res.json
    assert (
        w.html["counter3"].post(f"/polls/{a}/complaints", data={"complaints": "x"}).status_code
        == 403
    )
    assert (
        w.html["counter2"]
        .post(f"/polls/{a}/complaints", data={"complaints": "Không có khiếu nại."})
        .status_code
        == 302
    )
    digest = res.json["digest"]
    own = {"digest": digest, "signing_code": key_cards.card(w.cid, "counter3").signing_qr}
    assert w.api("counter3").post(f"/api/v1/polls/{a}/signoffs", json=own).status_code == 403
    own = {"digest": digest, "signing_code": key_cards.card(w.cid, "counter1").signing_qr}
    assert w.api("counter1").post(f"/api/v1/polls/{a}/signoffs", json=own).status_code == 201
    # read-only views keep their readers (docs/api.md): the chair reads the minutes, the chair and
    # observers review the ballots; any staff reads the result
    assert w.api("chair").get(f"/api/v1/polls/{a}/minutes.pdf").status_code == 200
    assert w.api("counter3").get(f"/api/v1/polls/{a}/minutes.pdf").status_code == 403
    assert w.api("observer").get(f"/api/v1/polls/{a}/ballots.json").status_code == 200
    assert w.api("counter3").get(f"/api/v1/polls/{a}/ballots.json").status_code == 403
    assert _login(app, "observer").get(f"/polls/{a}/ballots").status_code == 200
    assert w.html["chair"].get(f"/polls/{a}/ballots").status_code == 200
    assert w.html["counter3"].get(f"/polls/{a}/count").status_code == 200
    result = w.api("chair").get(f"/api/v1/polls/{a}/result").json
    assert result["complaints"] == "Không có khiếu nại."
    assert [s["user_id"] for s in result["signoffs"]] == [w.staff["counter1"]]
    # and counter3 still runs poll B, its own
    assert (
        w.api("counter3").post(f"/api/v1/polls/{w.b['id']}/ballots", json={"count": 1}).status_code
        == 201
    )


def test_links_offered_only_to_the_committee(w):
    """The poll page and the result page offer the committee's verbs to the committee only."""
    a = w.a["id"]
    mine = w.html["counter1"].get(f"/polls/{a}").data.decode()
    theirs = w.html["counter3"].get(f"/polls/{a}").data.decode()
    # the issue form starts the slips in the background (issue 17 item 9)
    assert f"/polls/{a}/documents/slips" in mine and f"/polls/{a}/paper" in mine
    assert f"/polls/{a}/documents/" not in theirs and f'/polls/{a}/paper"' not in theirs
    theirs = w.html["counter3"].get(f"/polls/{a}/count").data.decode()
    for path in ('/paper"', '/hand-count"', '/entry-log.pdf"', '/complaints"'):
        assert f"/polls/{a}{path}" not in theirs, path
