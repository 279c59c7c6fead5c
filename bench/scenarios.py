"""The scenarios of the suite. Setup goes through the public JSON API (in-process test client, so
it costs the load nothing); the measured load goes over HTTP to gunicorn on 127.0.0.1 with wrk.
"""

from __future__ import annotations

import csv
import io
import os
import random
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
        return c["id"], self.card_codes(c["id"])

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

        with self.app.app_context():
            n = db.session.scalar(
                select(func.count()).select_from(Ballot).where(Ballot.poll_id == pid)
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


def checkin(s: Setup, base: str, connections: int = 16) -> dict:
    """16 registrars (their own bearer tokens) check in 2,000 distinct delegates by card code."""
    cid, cards = s.congress()
    regs = [s.tokens[f"registrar{i}"] for i in range(1, 17)]
    lib.wrk_requests(
        base,
        [("GET", f"/api/v1/congresses/{cid}/attendance", {}, regs[i % 16]) for i in range(WARMUP)],
        connections,
    )
    reqs = [
        ("POST", f"/api/v1/congresses/{cid}/checkin", {"card": card}, regs[i % 16])
        for i, card in enumerate(cards)
    ]
    r = lib.wrk_requests(base, reqs, connections)
    r["stored"] = s.present(cid)
    r["cid"] = cid
    return r


def casting(
    s: Setup, base: str, cid: int, connections: int = 32, seats: int = 9, n_candidates: int = 11
) -> dict:
    """32 tablets cast 2,000 ballots of a committee poll (9 seats, 11 candidates)."""
    pid = s.poll(cid, seats, n_candidates)
    cands = s.candidate_ids(pid)
    tokens, issue_s = s.issue(pid, N_VOTERS)
    rng = random.Random(pid)
    # Warm-up: read (not consume) ballots, so every worker has its imports and connections.
    kiosk = s.kiosks[cid]
    lib.wrk_requests(
        base, [("GET", f"/api/v1/ballot/{t}", {}, "", kiosk) for t in tokens[:WARMUP]], connections
    )
    reqs = [
        ("POST", f"/api/v1/ballot/{t}", {"kept": kept_choice(rng, cands, seats)}, "", kiosk)
        for t in tokens
    ]
    r = lib.wrk_requests(base, reqs, connections)
    r["stored"] = s.stored_ballots(pid)
    r["issue_api_s"] = issue_s
    r["pid"] = pid
    return r


def ceiling(kind: str, which: str, settings: dict, runs: int, connections: int = 32) -> list[dict]:
    """The minimal insert app (`plain` WSGI or `flask`) on a fresh database of the same kind."""
    db = lib.TempDatabase(kind, f"ceiling_{which}")
    env = {"CEILING_DB": db.url, "CEILING_KIND": which}
    subprocess.run(
        [sys.executable, str(lib.BENCH / "ceiling_app.py"), "init"],
        env={**os.environ, **env},
        check=True,
    )
    out = []
    try:
        with lib.gunicorn("bench.ceiling_app:app", env, **settings) as base:
            rng = random.Random(7)
            lib.wrk_requests(
                base,
                [("POST", f"/api/v1/ballot/w{i}", {"kept": [1]}) for i in range(WARMUP)],
                connections,
            )
            for run in range(runs):
                reqs = [
                    (
                        "POST",
                        f"/api/v1/ballot/r{run}x{i}",
                        {"kept": kept_choice(rng, list(range(1, 12)), 9)},
                    )
                    for i in range(N_VOTERS)
                ]
                out.append(lib.wrk_requests(base, reqs, connections))
    finally:
        db.drop()
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
        reqs.append(("POST", f"/api/v1/ballot/{t}", {"kept": kept}, "", s.kiosks[cid]))
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
