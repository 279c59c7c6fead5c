"""The real app as gunicorn serves it in the bench: wsgi.py's create_app() with the bench's
database and the rate limiter off (all bench clients share 127.0.0.1; in the hall every tablet
has its own address). Load with `gunicorn bench.bench_wsgi:app`, BENCH_DATABASE_URL set."""

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lib import make_app  # noqa: E402

app = make_app(os.environ["BENCH_DATABASE_URL"])
