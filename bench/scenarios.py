"""The scenarios of the suite. Setup goes through the public JSON API (in-process test client, so
it costs the load nothing); the measured load goes over HTTP to gunicorn on 127.0.0.1 with wrk.
"""

from __future__ import annotations

import csv
import io
import os
import random
import re
import subprocess
import sys
import time

import lib

N_VOTERS = 2000
WARMUP = 256

BRANCHES = [
    f"Chi bộ {n}"
    for n in (
        "Văn phòng",
        "Tổ chức",
        "Kiểm tra",
        "Tuyên giáo",
        "Dân vận",
        "Trường THPT",
        "Bệnh viện",
    )
]
SURNAMES = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
]
MIDDLE = ["Văn", "Thị", "Minh", "Quang", "Hữu", "Thanh", "Ngọc", "Đức", "Khánh", "Thu"]
GIVEN = [
    "An",
    "Bình",
    "Cường",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hoa",
    "Hùng",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Nam",
    "Phong",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trang",
    "Tuấn",
    "Vân",
]

STAFF = {
    "admin": ["admin"],
    "chair": ["chair"],
    "counter1": ["counter"],
    "counter2": ["counter"],
    "counter3": ["counter"],
    **{f"registrar{i}": ["registrar"] for i in range(1, 17)},
}
PASSWORD = "bench-password-123"


def delegates_csv(n: int, seed: int) -> bytes:
    rng = random.Random(seed)
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["code", "full_name", "branch", "membership", "gender", "birth_year", "position"])
    # Names must be unique within a congress (the import refuses duplicates).
    names = [f"{a} {b} {c}" for a in SURNAMES for b in MIDDLE for c in GIVEN]
    rng.shuffle(names)
    for i in range(n):
        name = names[i] if i < len(names) else f"{names[i % len(names)]} {i}"
        w.writerow(
            [
                f"D{seed:02d}{i:05d}",
                name,
                rng.choice(BRANCHES),
                "full",
                rng.choice("MF"),
                rng.randint(1955, 1995),
                "Đảng viên",
            ]
        )
    return out.getvalue().encode()


class Setup:
    """The app on one temporary database, driven through its own API in-process."""

    def __init__(self, kind: str):
        self.kind = kind
        self.db = lib.TempDatabase(kind, "app")
        self.app = lib.make_app(self.db.url)
        lib.init_schema(self.app)
        from congress_vote.auth.services import create_user
        from congress_vote.extensions import db

        with self.app.app_context():
            self.user_ids = {}
            for name, roles in STAFF.items():
                self.user_ids[name] = create_user(name, PASSWORD, roles).id
            db.session.commit()
        self.client = self.app.test_client()
        self.kiosks: dict[int, str] = {}  # congress id -> an enrolled kiosk's token
        self.tokens = {}
        for name in STAFF:
            r = self.client.post("/api/v1/session", json={"username": name, "password": PASSWORD})
            assert r.status_code == 201, r.get_data(as_text=True)
            self.tokens[name] = r.json["token"]
        self.seq = 0

    def call(self, user: str, method: str, path: str, expect=(200, 201), **kw):
        headers = {"Authorization": f"Bearer {self.tokens[user]}"} if user else {}
        r = self.client.open(path, method=method, headers=headers, **kw)
        if r.status_code not in expect:
            raise RuntimeError(
                f"{method} {path} -> {r.status_code}: {r.get_data(as_text=True)[:500]}"
            )
        return r

    def congress(self, n: int = N_VOTERS) -> tuple[int, list[str]]:
        """A new congress with n full members, all absent; answer its id and the card codes."""
        self.seq += 1
        c = self.call(
            "admin",
            "POST",
            "/api/v1/congresses",
            json={
                "name": f"Đại hội bench {self.seq}",
                "organisation": "Đảng bộ Bench",
                "term": "2025–2030",
                "venue": "Hội trường",
                "starts_on": "2025-06-01",
                "kind": "delegates",
            },
        ).json
        self.call(
            "admin",
            "POST",
            f"/api/v1/congresses/{c['id']}/delegates/import",
            data=delegates_csv(n, self.seq),
            content_type="text/csv",
        )
        # A kiosk of the congress: casts send its token (kiosk_only is on by default).
        self.kiosks[c["id"]] = self.call(
            "registrar1", "POST", f"/api/v1/congresses/{c['id']}/kiosks", json={"label": "bench"}
        ).json["token"]
        self.key_cards(c["id"])
        return c["id"], self.card_codes(c["id"])

    def key_cards(self, cid: int) -> None:
        """The counting committee prints its key cards (a secret poll opens sealed only when
        every member has one)."""
        from congress_vote.auth.models import User
        from congress_vote.congress.models import Congress
        from congress_vote.extensions import db
        from congress_vote.seal.keycards import issue_key_card

        with self.app.app_context():
            for name in ("counter1", "counter2", "counter3"):
                issue_key_card(
                    db.session.get(Congress, cid), db.session.get(User, self.user_ids[name])
                )
            db.session.commit()

    def card_codes(self, cid: int) -> list[str]:
        """The delegates' card codes, as printed on their cards (the API never shows them)."""
        from congress_vote.congress.cards import card_code
        from congress_vote.congress.models import Delegate
        from congress_vote.extensions import db

        with self.app.app_context():
            return [
                card_code(d)
                for d in db.session.scalars(
                    db.select(Delegate).where(Delegate.congress_id == cid).order_by(Delegate.id)
                )
            ]

    def check_in_all(self, cid: int) -> None:
        from congress_vote.congress.models import Delegate
        from congress_vote.extensions import db

        with self.app.app_context():
            db.session.query(Delegate).filter(Delegate.congress_id == cid).update(
                {"status": "present"}
            )
            db.session.commit()

    def poll(self, cid: int, seats: int, n_candidates: int) -> int:
        rng = random.Random(n_candidates)
        cands = [
            {
                "full_name": f"{rng.choice(SURNAMES)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)} {i}",
                "position": "Ủy viên",
            }
            for i in range(n_candidates)
        ]
        p = self.call(
            "admin",
            "POST",
            f"/api/v1/congresses/{cid}/polls",
            json={
                "kind": "committee",
                "title": f"Bầu Ban Chấp hành ({n_candidates} ứng cử viên)",
                "seats": seats,
                "alternate_seats": 0,
                "secrecy": "secret",
                "candidates": cands,
                "counting_committee": [self.user_ids[f"counter{i}"] for i in (1, 2, 3)],
                "rules": {"preset": "vn-party"},
            },
        ).json
        self.call("chair", "POST", f"/api/v1/polls/{p['id']}/open")
        return p["id"]

    def candidate_ids(self, pid: int) -> list[int]:
        return [
            c["id"] for c in self.call("admin", "GET", f"/api/v1/polls/{pid}").json["candidates"]
        ]

    def issue(self, pid: int, count: int) -> tuple[list[str], float]:
        t0 = time.perf_counter()
        r = self.call("counter1", "POST", f"/api/v1/polls/{pid}/ballots", json={"count": count})
        seconds = time.perf_counter() - t0
        # Fetch the slips PDF as the counter would (kept sealed in the database until the close).
        self.call("counter1", "GET", r.json["pdf_url"], expect=(200, 404))
        return r.json["tokens"], seconds

    def stored_ballots(self, pid: int) -> int:
        from sqlalchemy import func, select

        from congress_vote.ballots.models import Ballot
        from congress_vote.extensions import db

        models = [Ballot]
        try:  # a sealed poll stores sealed ballots until its box is opened
            from congress_vote.seal.models import SealedBallot

            models.append(SealedBallot)
        except ImportError:
            pass
        with self.app.app_context():
            n = sum(
                db.session.scalar(select(func.count()).select_from(m).where(m.poll_id == pid))
                for m in models
            )
            db.session.remove()
            return n

    def present(self, cid: int) -> int:
        from sqlalchemy import func, select

        from congress_vote.congress.models import Delegate
        from congress_vote.extensions import db

        with self.app.app_context():
            n = db.session.scalar(
                select(func.count())
                .select_from(Delegate)
                .where(Delegate.congress_id == cid, Delegate.status == "present")
            )
            db.session.remove()
            return n

    def env(self) -> dict:
        return {"BENCH_DATABASE_URL": self.db.url}

    def drop(self) -> None:
        with self.app.app_context():
            from congress_vote.extensions import db

            db.session.remove()
            db.engine.dispose()
        self.db.drop()


def kept_choice(rng: random.Random, candidates: list[int], seats: int) -> list[int]:
    return rng.sample(candidates, rng.randint(max(1, seats - 3), seats))


# ---- HTTP scenarios ----------------------------------------------------------------------------

FORM = "application/x-www-form-urlencoded"
CSRF_FIELD = re.compile(r'name="csrf[_-]token"[^>]*?(?:value|content)="([^"]+)"')


def vote_flow(code: str, kiosk_cid: int | None, struck: list[int], kiosk: str = "") -> list:
    """A tablet's vote: the ballot page, the review POST, the cast POST (the page's form, the
    CSRF token the page showed — the ceiling's; the kiosk's ballot pages show none, their route
    being CSRF-exempt — and the kiosk cookie). `expect` checks each answer is the right page:
    the ballot form, the confirmation, the receipt."""
    path = f"/b/{code}" + (f"?k={kiosk_cid}" if kiosk_cid else "")
    headers = {"Cookie": f"cv_kiosk={kiosk}"} if kiosk else {}
    marks = "".join(f"&struck={c}" for c in struck)
    post = {**headers, "Content-Type": FORM}
    return [
        lib.Req("GET", path, "", headers, "page", 'name="struck"'),
        lib.Req("POST", path, f"csrf_token={{csrf}}&step=review{marks}", post, "review", "cast"),
        lib.Req(
            "POST", path, f"csrf_token={{csrf}}&step=cast{marks}", post, "cast", "receipt-code"
        ),
    ]


def struck_choice(rng: random.Random, candidates: list[int], seats: int) -> list[int]:
    """Strike enough names to keep between seats - 3 and seats."""
    keep = rng.randint(max(1, seats - 3), seats)
    return sorted(rng.sample(candidates, len(candidates) - keep))


def _votes_result(r: dict, stored: int) -> dict:
    r["stored"] = stored
    r["successes"] = r["tag_statuses"].get("cast", {}).get("200", 0)
    r["votes_per_s"] = r["units_per_s"]
    return r


def kiosk_votes(
    s: Setup,
    base: str,
    cid: int,
    n: int,
    connections: int = 64,
    seats: int = 9,
    cands: int = 11,
    pace_ms: float = 0,
) -> dict:
    """`connections` tablets (the kiosk cookie of an enrolled kiosk) each vote their share of n
    ballots of a committee poll (9 seats, 11 candidates): page, review, cast; `pace_ms`: the
    mean think time before each request (0: none, as fast as the server answers)."""
    pid = s.poll(cid, seats, cands)
    ids = s.candidate_ids(pid)
    tokens, _ = s.issue(pid, n + WARMUP)
    warm, tokens = tokens[:WARMUP], tokens[WARMUP:]
    kiosk = s.kiosks[cid]
    rng = random.Random(pid)
    # Warm-up: pages and reviews of other ballots (nothing cast), so every worker has its
    # imports, connections and compiled templates.
    lib.wrk_requests(
        base, [vote_flow(t, cid, struck_choice(rng, ids, seats), kiosk)[:2] for t in warm], 64
    )
    units = [vote_flow(t, cid, struck_choice(rng, ids, seats), kiosk) for t in tokens]
    r = lib.wrk_requests(base, units, connections, pace_ms=pace_ms)
    r = _votes_result(r, s.stored_ballots(pid))
    r["pid"] = pid
    return r


def api_casts(s: Setup, base: str, cid: int, n: int, connections: int = 64) -> dict:
    """Other clients cast through the API: POST /api/v1/ballot/{token} with X-Kiosk-Token."""
    pid = s.poll(cid, 9, 11)
    ids = s.candidate_ids(pid)
    tokens, _ = s.issue(pid, n)
    kiosk = {"X-Kiosk-Token": s.kiosks[cid]}
    rng = random.Random(pid)
    lib.wrk_requests(
        base,
        [lib.json_req("GET", f"/api/v1/ballot/{t}", None, "warm", kiosk) for t in tokens[:WARMUP]],
        64,
    )
    reqs = [
        lib.json_req(
            "POST", f"/api/v1/ballot/{t}", {"kept": kept_choice(rng, ids, 9)}, "cast", kiosk
        )
        for t in tokens
    ]
    r = lib.wrk_requests(base, reqs, connections)
    r["stored"] = s.stored_ballots(pid)
    r["successes"] = r["statuses"].get("201", 0)
    return r


def desk_session(s: Setup, user: str, cid: int) -> tuple[str, str]:
    """A registrar signed in at the check-in desk, as a browser is: the Cookie header and the
    CSRF token of the check-in page."""
    client = s.app.test_client()
    page = client.get("/login").get_data(as_text=True)
    token = CSRF_FIELD.search(page).group(1)
    r = client.post("/login", data={"username": user, "password": PASSWORD, "csrf_token": token})
    assert r.status_code in (302, 303), r.status_code
    page = client.get(f"/congresses/{cid}/checkin").get_data(as_text=True)
    token = CSRF_FIELD.search(page).group(1)
    cookies = "; ".join(
        f"{c.key}={c.value}"
        for c in client._cookies.values()  # noqa: SLF001
    )
    return cookies, token


def multipart(fields: dict) -> tuple[str, str]:
    """A body as the browser's FormData sends it (the desk's script posts FormData)."""
    boundary = "----cvbenchBoundary7MA4YWxkTrZu0gW"
    parts = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{k}"\r\n\r\n{v}\r\n'
        for k, v in fields.items()
    )
    return parts + f"--{boundary}--\r\n", f"multipart/form-data; boundary={boundary}"


def checkin_desk(s: Setup, base: str, n: int, connections: int = 16, pace_ms: float = 0) -> dict:
    """16 registrars, each signed in at the desk (session cookie + CSRF), check in n distinct
    delegates by card as the desk page's script posts: the scan form as FormData,
    Accept: application/json, X-CSRFToken; `pace_ms`: the mean time between two scans at a
    desk (0: none)."""
    cid, cards = s.congress(n)
    sessions = [desk_session(s, f"registrar{i}", cid) for i in range(1, connections + 1)]
    units = []
    for i, card in enumerate(cards):
        cookie, token = sessions[i % connections]  # unit i goes to connection i % connections
        body, ctype = multipart({"csrf_token": token, "card": card})
        headers = {
            "Cookie": cookie,
            "Content-Type": ctype,
            "Accept": "application/json",
            "X-CSRFToken": token,
        }
        units.append(
            lib.Req("POST", f"/congresses/{cid}/checkin", body, headers, "checkin", '"ok"')
        )
    warm = [
        lib.Req(
            "GET",
            f"/congresses/{cid}/checkin",
            "",
            {"Cookie": sessions[i % connections][0]},
            "warm",
        )
        for i in range(WARMUP // 4)
    ]
    lib.wrk_requests(base, warm, connections)
    r = lib.wrk_requests(base, units, connections, pace_ms=pace_ms)
    r["stored"] = s.present(cid)
    r["successes"] = r["statuses"].get("200", 0) - r["not_ok"]
    r["cid"] = cid
    return r


class Ceiling:
    """The minimal Flask + Flask-SQLAlchemy + Flask-WTF app (bench/ceiling_app.py) on a fresh
    database of the same kind, under the same gunicorn settings; use as a context manager."""

    def __init__(self, kind: str, settings: dict, log=None):
        self.db = lib.TempDatabase(kind, "ceiling")
        self.env = {"CEILING_DB": self.db.url}
        self._tool("init")
        self.server = lib.gunicorn("bench.ceiling_app:app", self.env, **settings, log=log)
        self.rng = random.Random(7)
        self.seq = 0

    def _tool(self, what: str) -> str:
        return subprocess.run(
            [sys.executable, str(lib.BENCH / "ceiling_app.py"), what],
            env={**os.environ, "PYTHONPATH": str(lib.ROOT), **self.env},
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()

    def __enter__(self):
        self.base = self.server.__enter__()
        ids = list(range(1, 12))
        warm = [
            vote_flow(f"w{i}", None, struck_choice(self.rng, ids, 9))[:2] for i in range(WARMUP)
        ]
        lib.wrk_requests(self.base, warm, 64)
        return self

    def __exit__(self, *exc):
        try:
            self.server.__exit__(*exc)
        finally:
            self.db.drop()

    def votes(self, n: int, connections: int = 64, pace_ms: float = 0) -> dict:
        """n kiosk votes: the same requests as the app's (page, review, cast)."""
        self.seq += 1
        ids = list(range(1, 12))
        before = int(self._tool("count"))
        units = [
            vote_flow(f"r{self.seq}x{i}", None, struck_choice(self.rng, ids, 9)) for i in range(n)
        ]
        r = lib.wrk_requests(self.base, units, connections, pace_ms=pace_ms)
        return _votes_result(r, int(self._tool("count")) - before)

    def api(self, n: int, connections: int = 64) -> dict:
        """n JSON inserts (the ceiling of the API cast)."""
        self.seq += 1
        ids = list(range(1, 12))
        before = int(self._tool("count"))
        reqs = [
            lib.json_req(
                "POST", f"/api/v1/ballot/a{self.seq}x{i}", {"kept": kept_choice(self.rng, ids, 9)}
            )
            for i in range(n)
        ]
        r = lib.wrk_requests(self.base, reqs, connections)
        r["stored"] = int(self._tool("count")) - before
        r["successes"] = r["statuses"].get("201", 0)
        return r

    def page_bytes(self) -> dict:
        return page_sizes(self.base, "/b/size-probe", [1, 2])


def page_sizes(base: str, path: str, struck: list[int], cookie: str = "") -> dict:
    """Bytes of the three answers of a vote (body only), fetched once with urllib."""
    import http.cookiejar
    import urllib.request

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    headers = {"Cookie": cookie} if cookie else {}
    page = opener.open(urllib.request.Request(base + path, headers=headers)).read()
    found = CSRF_FIELD.search(page.decode())  # the kiosk's ballot pages carry none
    token = found.group(1) if found else ""
    out = {"page": len(page)}
    for step in ("review", "cast"):
        data = f"csrf_token={token}&step={step}" + "".join(f"&struck={c}" for c in struck)
        req = urllib.request.Request(base + path, data=data.encode(), headers=headers)
        out[step] = len(opener.open(req).read())
    return out


def tablet_weight(base: str, cid: int, token: str, kiosk: str) -> dict:
    """Bytes transferred (headers + bodies) to load the kiosk page and a ballot page, and every
    host they asked for, in headless Chromium."""
    from urllib.parse import urlsplit

    from playwright.sync_api import sync_playwright

    args = [
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
    ]
    out = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=args)
        for name, path in (("kiosk", f"/kiosk/{cid}"), ("ballot", f"/b/{token}")):
            ctx = browser.new_context(viewport={"width": 1280, "height": 800})
            ctx.add_cookies([{"name": "cv_kiosk", "value": kiosk, "url": base}])
            page = ctx.new_page()
            reqs: list = []
            page.on("requestfinished", reqs.append)
            failed: list = []
            page.on("requestfailed", lambda req, failed=failed: failed.append(req.url))
            resp = page.goto(base + path, wait_until="networkidle")
            total, hosts, items = 0, set(), []
            for req in reqs:
                sizes = req.sizes()
                size = sizes["responseBodySize"] + sizes["responseHeadersSize"]
                total += size
                hosts.add(urlsplit(req.url).netloc)
                items.append((urlsplit(req.url).path[:60], size))
            other = sorted(
                h
                for h in hosts | {urlsplit(u).netloc for u in failed}
                if h != urlsplit(base).netloc
            )
            out[name] = {
                "status": resp.status if resp else None,
                "bytes": total,
                "requests": len(reqs),
                "other_hosts": other,
                "failed": failed,
                "items": sorted(items, key=lambda x: -x[1]),
            }
            ctx.close()
        browser.close()
    return out


# ---- in-process and subprocess scenarios -------------------------------------------------------


def big_poll(s: Setup, base: str, cid: int, n_candidates: int = 200, seats: int = 100) -> int:
    """A 200-candidate election with 2,000 ballots cast over HTTP, closed: ready to count."""
    pid = s.poll(cid, seats, n_candidates)
    cands = s.candidate_ids(pid)
    tokens, _ = s.issue(pid, N_VOTERS)
    rng = random.Random(11)
    popular = cands[: n_candidates * 2 // 5]
    reqs = []
    for t in tokens:
        kept = rng.sample(popular, rng.randint(len(popular) // 2, len(popular)))
        kept += rng.sample(cands[len(popular) :], rng.randint(0, seats - len(kept)))
        kiosk = {"X-Kiosk-Token": s.kiosks[cid]}
        reqs.append(lib.json_req("POST", f"/api/v1/ballot/{t}", {"kept": kept}, "cast", kiosk))
    r = lib.wrk_requests(base, reqs, 32)
    if r["statuses"].get("201") != N_VOTERS:
        print(f"warning: {r['statuses']} of {N_VOTERS} casts for the counting poll", flush=True)
    s.call("chair", "POST", f"/api/v1/polls/{pid}/close")
    return pid


def counting(s: Setup, pid: int, runs: int) -> list[float]:
    """Seconds of the counting service over the stored ballots: load rows, rules engine, store
    the result (a recount after the first), commit. Each run in a fresh session."""
    from congress_vote.auth.models import User
    from congress_vote.counting.count import count_poll
    from congress_vote.extensions import db
    from congress_vote.polls.services import get_poll

    times = []
    with s.app.test_request_context("/"):
        for _ in range(runs):
            db.session.remove()
            poll = get_poll(pid)
            actor = db.session.get(User, s.user_ids["counter1"])
            t0 = time.perf_counter()
            count_poll(poll, actor)
            db.session.commit()
            times.append(time.perf_counter() - t0)
        db.session.remove()
    return times


def print_job(s: Setup, *args) -> dict:
    return lib.run_measured([str(lib.BENCH / "print_job.py"), s.db.url, *map(str, args)])
