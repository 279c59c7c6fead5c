"""Counting benchmark: a 200-candidate poll with 2,000 ballots — count, recount-compare, and the
counting minutes PDF render time (target < 2 s). Run: .venv/bin/python bench/bench_minutes.py"""

from __future__ import annotations

import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main() -> None:
    from congress_vote.auth.services import create_user
    from congress_vote.counting.count import count_poll
    from congress_vote.counting.minutes import minutes_pdf
    from congress_vote.counting.recount import recount_compare
    from congress_vote.extensions import db
    from tests.conftest import make_app
    from tests.fx_counting import CountingWorld

    tmp = tempfile.mkdtemp()
    app = make_app(f"sqlite:///{tmp}/bench.db")
    rnd = random.Random(7)
    with app.app_context():
        db.create_all()
        staff = {
            n: create_user(n, "password123", ["counter"], full_name=n.title()).id
            for n in ("counter1", "counter2", "counter3")
        }
        world = CountingWorld(app, staff)
        cid = world.congress(voters=2100, present=2050)
        names = [f"Ứng Viên Thứ {n:03d}" for n in range(200)]
        poll = world.poll(
            cid,
            seats=150,
            candidates=names,
            committee=("counter1", "counter2", "counter3"),
            head="counter1",
        )
        ids = [c.id for c in poll.candidates]
        codes = world.issue(poll, 2000)
        for code in codes:
            world.cast(poll, code, kept=rnd.sample(ids, rnd.randint(100, 150)))
        world.close(poll)
        db.session.commit()
        t = time.perf_counter()
        count_poll(poll, staff["counter1"])
        db.session.commit()
        t_count = time.perf_counter() - t
        t = time.perf_counter()
        _, diffs = recount_compare(poll)
        t_recount = time.perf_counter() - t
        assert not diffs
        times = []
        for _ in range(3):
            with app.test_request_context("/"):
                t = time.perf_counter()
                pdf = minutes_pdf(poll)
                times.append(time.perf_counter() - t)
        out = Path(tmp) / "minutes-200x2000.pdf"
        out.write_bytes(pdf)
        from pypdf import PdfReader

        pages = len(PdfReader(str(out)).pages)
    print(f"count 200 candidates x 2000 ballots: {t_count:.2f} s")
    print(f"recount + compare:                   {t_recount:.2f} s")
    print(
        f"minutes PDF ({pages} pages): best {min(times):.2f} s, "
        f"runs {', '.join(f'{x:.2f}' for x in times)} s (target < 2 s)"
    )
    print(f"PDF kept at {out}")


if __name__ == "__main__":
    main()
