"""One printing job in a fresh process, so its time and peak memory are its own.

    python bench/print_job.py DATABASE_URL slips POLL_ID N
    python bench/print_job.py DATABASE_URL cards CONGRESS_ID
    python bench/print_job.py DATABASE_URL minutes POLL_ID

Prints one JSON line: seconds (the render call only; the app is built before the clock starts),
pages, bytes, and peak RSS in MB of this process (`rss_self_mb`), of its largest waited-for child
(`rss_children_mb`, e.g. a process-pool worker) and `rss_peak_mb` = self + cores x largest child
(a pool has at most one worker per core): an upper bound of what the job held at once, which is
the figure compared with the target (forked workers share pages, so the truth is lower).
"""

import io
import json
import os
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lib import make_app  # noqa: E402


def main() -> None:
    url, job, ident = sys.argv[1], sys.argv[2], int(sys.argv[3])
    app = make_app(url)
    from congress_vote.extensions import db

    with app.test_request_context("/"):
        if job == "slips":
            from congress_vote import codes
            from congress_vote.ballots.slips import render_slips
            from congress_vote.polls.models import Poll

            poll = db.session.get(Poll, ident)
            plain = [codes.new_code() for _ in range(int(sys.argv[4]))]  # not stored: render only
            t0 = time.perf_counter()
            pdf = render_slips(poll, plain)
        elif job == "cards":
            from congress_vote.congress.models import Congress
            from congress_vote.congress.printing import cards_pdf

            congress = db.session.get(Congress, ident)
            t0 = time.perf_counter()
            pdf = cards_pdf(congress)
        elif job == "minutes":
            from congress_vote.counting.minutes import minutes_pdf
            from congress_vote.polls.models import Poll

            poll = db.session.get(Poll, ident)
            t0 = time.perf_counter()
            pdf = minutes_pdf(poll)
        else:
            raise SystemExit(f"unknown job {job}")
        seconds = time.perf_counter() - t0
    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "seconds": seconds,
                "pages": pages,
                "bytes": len(pdf),
                "rss_self_mb": round(me, 1),
                "rss_children_mb": round(kids, 1),
                "rss_peak_mb": round(me + (os.cpu_count() or 1) * kids, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
