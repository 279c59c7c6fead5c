"""The real app as gunicorn serves it in the bench: wsgi.py's create_app() with the bench's
database and the rate limiter off (all bench clients share 127.0.0.1; in the hall every tablet
has its own address). Load with `gunicorn bench.bench_wsgi:app`, BENCH_DATABASE_URL set.

BENCH_WRITE_QUEUE=0 serves the same app without the SQLite write queue (congress_vote/db.py):
the engine is configured as if the database had no lock file, so writers wait for SQLite's lock
in its busy handler alone. Only the bench does this, to weigh the queue."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

if os.environ.get("BENCH_WRITE_QUEUE") == "0":
    from congress_vote import db as _db

    _db._lock_path = lambda database: None

from lib import make_app  # noqa: E402

app = make_app(os.environ["BENCH_DATABASE_URL"])
