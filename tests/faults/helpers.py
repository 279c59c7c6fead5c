"""Drive a whole vote through the public JSON API (the contract of docs/api.md), in-process through
the Flask test client or over real HTTP against a server (gunicorn) on 127.0.0.1.

Every step goes through the API so the fault and fuzz tests exercise what clients exercise.
`setup_open_poll` answers None when a route of the scenario does not exist yet (the features
are built in parallel), so callers can skip with a clear reason.
"""

from __future__ import annotations

import http.client
import io
import json as _json
import re
from dataclasses import dataclass, field

SUPER = "reliab"  # one staff user with every role but observer
SUPER_PASSWORD = "password123"
SUPER_ROLES = ("admin", "registrar", "counter", "chair")


class Missing(Exception):
    """A route of the scenario is not there (404/405 on a documented path)."""


@dataclass
class Answer:
    status: int
    body: object
    raw: bytes = b""
    headers: dict = field(default_factory=dict)


class FlaskCaller:
    """call(method, path, json=..., token=...) through a Flask test client. `kiosk`, once set
    (setup_open_poll enrols one), is sent as X-Kiosk-Token on every call: this caller is then an
    enrolled voting kiosk of the scenario's congress."""

    kiosk: str | None = None

    def __init__(self, client):
        self.client = client

    def __call__(
        self, method, path, json=None, data=None, content_type=None, token=None, headers=None
    ) -> Answer:
        h = {"X-Kiosk-Token": self.kiosk} if self.kiosk else {}
        h.update(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        kw = {"headers": h}
        if json is not None:
            kw["json"] = json
        elif data is not None:
            kw["data"] = data
            kw["content_type"] = content_type
        r = self.client.open(path, method=method, **kw)
        return Answer(r.status_code, r.get_json(silent=True), r.data, dict(r.headers))


class HttpCaller:
    """The same over HTTP/1.1 (one connection per call: simple and thread-safe)."""

    kiosk: str | None = None

    def __init__(self, host: str, port: int, timeout: float = 30):
        self.host, self.port, self.timeout = host, port, timeout

    def __call__(
        self, method, path, json=None, data=None, content_type=None, token=None, headers=None
    ) -> Answer:
        h = {"X-Kiosk-Token": self.kiosk} if self.kiosk else {}
        h.update(headers or {})
        body = None
        if json is not None:
            body = _json.dumps(json).encode()
            h["Content-Type"] = "application/json"
        elif data is not None:
            body = data if isinstance(data, bytes) else data.encode()
            h["Content-Type"] = content_type
        if token:
            h["Authorization"] = f"Bearer {token}"
        conn = http.client.HTTPConnection(self.host, self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=h)
            resp = conn.getresponse()
            raw = resp.read()
            try:
                parsed = _json.loads(raw) if raw else None
            except ValueError:
                parsed = None
            return Answer(resp.status, parsed, raw, dict(resp.getheaders()))
        finally:
            conn.close()


def create_super_user(app) -> int:
    """The all-roles staff user of these tests (in the app's database)."""
    from congress_vote.auth.models import User
    from congress_vote.auth.services import create_user
    from congress_vote.extensions import db

    with app.app_context():
        u = db.session.scalar(db.select(User).where(User.username == SUPER))
        if u is None:
            u = create_user(SUPER, SUPER_PASSWORD, SUPER_ROLES, full_name="Tổ kiểm phiếu thử")
            db.session.commit()
        return u.id


def sign_in(call, username=SUPER, password=SUPER_PASSWORD) -> str:
    r = call("POST", "/api/v1/session", json={"username": username, "password": password})
    assert r.status == 201, (r.status, r.body)
    return r.body["token"]


def _need(r: Answer, status, what):
    if r.status in (404, 405) and (
        not isinstance(r.body, dict)
        or r.body.get("error", {}).get("code") in ("not_found", "method_not_allowed")
    ):
        raise Missing(f"{what}: {r.status}")
    ok = status if isinstance(status, tuple) else (status,)
    assert r.status in ok, f"{what}: {r.status} {r.body}"
    return r.body


def delegates_csv(n: int, prefix: str = "DB") -> str:
    given = [
        "An",
        "Bình",
        "Chi",
        "Dũng",
        "Giang",
        "Hà",
        "Khánh",
        "Lan",
        "Minh",
        "Nam",
        "Oanh",
        "Phúc",
        "Quân",
        "Sơn",
        "Tâm",
        "Uyên",
        "Vân",
        "Xuân",
        "Yến",
    ]
    rows = ["code,full_name,branch,membership"]
    for i in range(n):
        rows.append(
            f"{prefix}{i:04d},Nguyễn Văn {given[i % len(given)]} {i},Chi bộ {i % 7 + 1},full"
        )
    return "\n".join(rows) + "\n"


@dataclass
class Scenario:
    cid: int
    pid: int
    candidate_ids: list[int]
    seats: int
    token: str  # bearer token of the all-roles user
    user_id: int
    kiosk: str | None = None  # the token of the congress's enrolled kiosk (X-Kiosk-Token)
    # the opening code of the committee member's key card: the first count opens the sealed box
    opening_codes: list[str] = field(default_factory=list)


def key_card_codes(pdf: bytes) -> dict[str, str]:
    """{"opening": code, "signing": code} read from a printed key card's PDF text (the typable
    codes printed under each QR), checked by the code parser."""
    from pypdf import PdfReader

    from congress_vote.seal.codes import BadKeyCode, parse_opening_code, parse_signing_code

    text = "".join(page.extract_text() or "" for page in PdfReader(io.BytesIO(pdf)).pages)
    flat = re.sub(r"[\s-]", "", text)
    found: dict[str, str] = {}
    for kind, first, parse in (
        ("opening", "M", parse_opening_code),
        ("signing", "K", parse_signing_code),
    ):
        for m in re.finditer(first + r"A[2-9A-HJ-NP-Z]{53}", flat):
            try:
                parse(m.group(0))
            except BadKeyCode:
                continue
            found[kind] = m.group(0)
            break
    return found


def setup_open_poll(
    call,
    token: str,
    user_id: int,
    voters: int,
    seats: int = 3,
    candidates: int = 5,
    title: str = "Bầu Ban Chấp hành (thử)",
    name: str = "Đại hội thử nghiệm",
) -> Scenario | None:
    """Congress + `voters` full members all present + an open secret committee poll."""
    try:
        r = call(
            "POST",
            "/api/v1/congresses",
            token=token,
            json={
                "name": name,
                "organisation": "Đảng bộ Khối thử",
                "term": "2025–2030",
                "venue": "Hội trường A",
                "starts_on": "2025-06-01",
                "kind": "members",
            },
        )
        cid = _need(r, 201, "create congress")["id"]
        r = call(
            "POST",
            f"/api/v1/congresses/{cid}/delegates/import",
            token=token,
            data=delegates_csv(voters),
            content_type="text/csv; charset=utf-8",
        )
        _need(r, 201, "import delegates")
        r = call("GET", f"/api/v1/congresses/{cid}/delegates", token=token)
        delegates = _need(r, 200, "list delegates")
        for d in delegates:
            r = call(
                "POST",
                f"/api/v1/congresses/{cid}/delegates/{d['id']}/attendance",
                token=token,
                json={"status": "present"},
            )
            _need(r, 200, "attendance")
        r = call(
            "POST",
            f"/api/v1/congresses/{cid}/polls",
            token=token,
            json={
                "kind": "committee",
                "title": title,
                "seats": seats,
                "alternate_seats": 0,
                "secrecy": "secret",
                "candidates": [
                    {"full_name": f"Trần Thị Ứng Viên {i}", "position": "Chuyên viên"}
                    for i in range(candidates)
                ],
                "counting_committee": [user_id],
                "rules": {"preset": "vn-party"},
            },
        )
        poll = _need(r, 201, "create poll")
        pid = poll["id"]
        # the committee member prints their key card: a secret poll opens sealed for it
        r = call("POST", f"/api/v1/congresses/{cid}/key-card", token=token)
        _need(r, 201, "print key card")
        opening = key_card_codes(r.raw)["opening"]
        r = call("POST", f"/api/v1/polls/{pid}/open", token=token)
        poll = _need(r, 200, "open poll")
        cands = [c["id"] for c in poll["candidates"]]
        # Votes come only from enrolled kiosks (kiosk_only, on by default): this caller is one.
        r = call("POST", f"/api/v1/congresses/{cid}/kiosks", token=token, json={"label": "Máy thử"})
        kiosk = _need(r, 201, "enrol kiosk")["token"]
        call.kiosk = kiosk
        return Scenario(cid, pid, cands, seats, token, user_id, kiosk, [opening])
    except Missing:
        return None


def issue(call, sc: Scenario, count: int) -> dict | None:
    """Issue `count` ballots: {tokens, codes}; None if issuance is not there yet."""
    try:
        r = call("POST", f"/api/v1/polls/{sc.pid}/ballots", token=sc.token, json={"count": count})
        body = _need(r, 201, "issue ballots")
    except Missing:
        return None
    assert len(body["tokens"]) == count and len(body["codes"]) == count
    return body


def cast(call, token_or_code: str, kept) -> Answer:
    return call("POST", f"/api/v1/ballot/{token_or_code}", json={"kept": list(kept)})


def issue_and_cast(
    app, client, bearer: str, n: int = 3, cast_count: int = 2, cast=None
) -> dict | None:
    """In-process: a small open poll, `n` ballots issued, `cast_count` of them cast. Answers
    {tokens, codes, receipts, scenario} or None when the features are not there yet."""
    from congress_vote.security import current_actor  # noqa: F401  (app must import)

    caller = FlaskCaller(client)
    uid = create_super_user(app)
    token = sign_in(caller)
    sc = setup_open_poll(caller, token, uid, voters=max(n, 3))
    if sc is None:
        return None
    got = issue(caller, sc, n)
    if got is None:
        return None
    receipts = []
    for t in got["tokens"][:cast_count]:
        r = globals()["cast"](caller, t, sc.candidate_ids[: sc.seats])
        if (
            r.status in (404, 405)
            and r.body
            and r.body["error"]["code"] in ("not_found", "method_not_allowed")
        ):
            return None
        assert r.status == 201, (r.status, r.body)
        receipts.append(r.body["receipt"])
    return {"tokens": got["tokens"], "codes": got["codes"], "receipts": receipts, "scenario": sc}
