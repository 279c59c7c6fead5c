"""Sealed ballot box benchmark (issue 16, "Must show"):

1. kiosk votes with sealing against the same votes with sealing off, in one run: two polls of
   one congress, one sealed and one not (its box key removed after opening: the unsealed path
   every poll took before issue 16), voted through the kiosk's API calls (GET then POST
   /api/v1/ballot/{token} from an enrolled kiosk) in alternating rounds; target: the sealed
   median within 10 % of the unsealed one;
2. opening and counting 2,000 sealed ballots × 200 candidates with two of three opening codes
   (count_poll: shares decrypted, key recombined, every ballot unsealed, stored in random order,
   counted, digest); target < 1 s. Wall and CPU time (``time.process_time``) of the call and
   its commit; the garbage the setup left (2,000 tokens and sealed rows made through the ORM)
   is collected before the clock starts, so a full collection of it is not billed to the
   count (``--keep-garbage`` leaves it, to see that cost).

Run: .venv/bin/python bench/bench_seal.py [--votes 400] [--rounds 8] [--only open]
     [--runs 3] [--db postgresql+psycopg://postgres@127.0.0.1:5432/congress_bench]
(``--db``: a PostgreSQL database the benchmark may empty; SQLite in a temporary file otherwise.)
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _app(url: str | None = None):
    from sqlalchemy import MetaData

    from congress_vote.extensions import db
    from tests.conftest import make_app

    app = make_app(url or f"sqlite:///{tempfile.mkdtemp()}/bench.db")
    with app.app_context():
        from flask_migrate import upgrade

        if url:  # start from an empty PostgreSQL database: every table it holds dropped
            tables = MetaData()
            tables.reflect(db.engine)
            tables.drop_all(db.engine)
        upgrade()
        db.session.commit()
    return app


def _staff(app) -> dict:
    from tests.conftest import make_staff

    return make_staff(app)


def kiosk_votes(app, staff, votes: int, rounds: int) -> dict:
    """Median milliseconds per kiosk vote, sealed and unsealed, in alternating rounds."""
    from congress_vote.extensions import db
    from congress_vote.polls.models import Poll
    from tests.conftest import Auth, api_as
    from tests.fx_polls import Hall
    from tests.fx_seal import KeyCards

    client = app.test_client()
    auth = Auth(app, client)

    api = api_as(client, auth)
    hall = Hall(app, api, staff, client, KeyCards(app, staff))
    cid = hall.congress(voters=2 * votes + 10)
    sealed = hall.poll(cid, title="Bầu có niêm phong")
    plain = hall.poll(cid, title="Bầu không niêm phong")
    for p in (sealed, plain):
        hall.open(p["id"])
    with app.app_context():  # sealing off: the unsealed path (polls opened before issue 16)
        db.session.get(Poll, plain["id"]).seal_public = None
        db.session.commit()
    tokens = {
        name: hall.issue(p["id"], votes)["tokens"]
        for name, p in (("sealed", sealed), ("plain", plain))
    }
    kept = {
        "sealed": [c["id"] for c in sealed["candidates"]][:2],
        "plain": [c["id"] for c in plain["candidates"]][:2],
    }
    times: dict[str, list[float]] = {"sealed": [], "plain": []}
    per_round = votes // rounds
    for r in range(rounds):
        order = ("sealed", "plain") if r % 2 == 0 else ("plain", "sealed")
        for name in order:
            batch = tokens[name][r * per_round : (r + 1) * per_round]
            for t in batch:
                start = time.perf_counter()
                assert client.get(f"/api/v1/ballot/{t}").status_code == 200
                res = client.post(f"/api/v1/ballot/{t}", json={"kept": kept[name]})
                times[name].append(time.perf_counter() - start)
                assert res.status_code == 201, res.json
    med = {k: statistics.median(v) * 1000 for k, v in times.items()}
    return {
        "sealed_ms": med["sealed"],
        "plain_ms": med["plain"],
        "ratio": med["sealed"] / med["plain"],
        "votes_each": len(times["sealed"]),
    }


def open_and_count(
    app, staff, ballots: int = 2000, candidates: int = 200, collect: bool = True
) -> dict:
    """Seconds to open a box of `ballots` sealed ballots × `candidates` and count it."""
    from congress_vote.auth.models import User
    from congress_vote.congress.models import Congress
    from congress_vote.counting.count import count_poll
    from congress_vote.extensions import db
    from congress_vote.polls.status import close
    from congress_vote.seal.keycards import issue_key_card
    from congress_vote.seal.sealing import seal_choice, seal_poll, store_sealed
    from tests.fx_counting import CountingWorld

    rnd = random.Random(16)
    with app.app_context():
        world = CountingWorld(app, staff)
        cid = world.congress(voters=ballots + 100, present=ballots + 50)
        congress = db.session.get(Congress, cid)
        codes = []
        for n in ("counter1", "counter2", "counter3"):
            _card, secrets = issue_key_card(congress, db.session.get(User, staff[n]))
            codes.append(secrets.opening_code)
        names = [f"Ứng Viên Thứ {n:03d}" for n in range(candidates)]
        poll = world.poll(
            cid,
            seats=150,
            candidates=names,
            committee=("counter1", "counter2", "counter3"),
            head="counter1",
        )
        seal_poll(poll)
        ids = [c.id for c in poll.candidates]
        tokens = world.issue(poll, ballots)
        from congress_vote import codes as ballot_codes
        from congress_vote.ballots.models import BallotToken
        from congress_vote.ballots.spec import canonical_choice, parse_choice

        for t in tokens:
            h = ballot_codes.code_hash(t)
            choice = canonical_choice(
                parse_choice("committee", sorted(rnd.sample(ids, rnd.randint(100, 150))))
            )
            sealed, tracker = seal_choice(poll.seal_public, choice)
            token = db.session.get(BallotToken, h)
            token.state, token.tracker = "used", tracker
            store_sealed(poll.id, sealed)
        db.session.flush()
        close(poll)
        db.session.commit()
        if collect:
            gc.collect()
        start, cpu = time.perf_counter(), time.process_time()
        stored = count_poll(poll, staff["counter1"], [codes[2], codes[0]])
        db.session.commit()
        took, took_cpu = time.perf_counter() - start, time.process_time() - cpu
        assert stored.digest and poll.status == "counted"
        import json

        returned = json.loads(stored.data)["figures"]["ballots_returned"]
        assert returned == ballots, returned
    return {
        "ballots": ballots,
        "candidates": candidates,
        "open_and_count_s": took,
        "open_and_count_cpu_s": took_cpu,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--votes", type=int, default=400, help="kiosk votes per mode")
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--only", choices=("kiosk", "open"), help="one of the two parts")
    ap.add_argument("--runs", type=int, default=1, help="opening and counting runs")
    ap.add_argument("--db", help="a PostgreSQL URL (emptied); SQLite otherwise")
    ap.add_argument("--keep-garbage", action="store_true", help="no gc.collect() before")
    args = ap.parse_args()
    app = _app(args.db)
    staff = _staff(app)
    print(
        f"database: {app.config['SQLALCHEMY_DATABASE_URI'].split(':')[0]}; load average "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}; {os.cpu_count()} CPUs"
    )
    if args.only != "open":
        kv = kiosk_votes(app, staff, args.votes, args.rounds)
        print(
            f"kiosk vote (GET + POST /api/v1/ballot), median of {kv['votes_each']} each: "
            f"sealed {kv['sealed_ms']:.2f} ms, sealing off {kv['plain_ms']:.2f} ms, "
            f"ratio {kv['ratio']:.3f} (target <= 1.10) {'OK' if kv['ratio'] <= 1.10 else 'OVER'}"
        )
    if args.only != "kiosk":
        runs = [open_and_count(app, staff, collect=not args.keep_garbage) for _ in range(args.runs)]
        for oc in runs:
            print(
                f"open + count {oc['ballots']} sealed ballots x {oc['candidates']} candidates: "
                f"{oc['open_and_count_s']:.3f} s wall, {oc['open_and_count_cpu_s']:.3f} s CPU "
                f"(target < 1 s) {'OK' if oc['open_and_count_s'] < 1 else 'OVER'}"
            )
        if len(runs) > 1:
            wall = statistics.median(oc["open_and_count_s"] for oc in runs)
            cpu = statistics.median(oc["open_and_count_cpu_s"] for oc in runs)
            print(f"open + count, median of {len(runs)}: {wall:.3f} s wall, {cpu:.3f} s CPU")
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
