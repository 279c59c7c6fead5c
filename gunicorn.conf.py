"""gunicorn settings for congress-vote: `gunicorn -c gunicorn.conf.py wsgi:app`.

Every value can be overridden from the environment (GUNICORN_*), so the systemd unit in deploy/
needs no edits of this file. See deploy/README-production.md.

The access log never holds a ballot token, a card code, a query string, a referrer with a
token or an Authorization header: the ballot URL `/b/<code>` *is* the ballot, and a log file is
copied around far more freely than the database (see SafeAccessLogger).
"""

import multiprocessing
import os

from gunicorn.glogging import Logger


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    return int(value) if value else default


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000").split(",")
# Processes: 2 per core by default. Each is independent (no shared memory), which is why rate
# limits need RATELIMIT_STORAGE_URI=redis://... to be shared between them.
workers = _env_int("GUNICORN_WORKERS", 2 * multiprocessing.cpu_count())
# Threads per worker (gthread): ballots are short requests; PDFs are CPU-bound and few.
threads = _env_int("GUNICORN_THREADS", 4)
# A 2,000-slip PDF takes tens of seconds; a stuck worker is killed after this.
timeout = _env_int("GUNICORN_TIMEOUT", 120)
graceful_timeout = _env_int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _env_int("GUNICORN_KEEPALIVE", 5)
# Each worker imports the app itself: no database connection or SQLite handle is created in the
# master and inherited across fork (sharing one would corrupt SQLite's locks).
preload_app = False
# Recycle workers now and then (memory of big PDF renders); jitter so they do not restart at once.
max_requests = _env_int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = _env_int("GUNICORN_MAX_REQUESTS_JITTER", 500)
# nginx on the same machine sets X-Forwarded-Proto; trust it only from there.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
limit_request_line = 4094
limit_request_fields = 100

accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-")
errorlog = os.environ.get("GUNICORN_ERRORLOG", "-")
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
# The request line is logged as method, *masked path* (no query string) and protocol.
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(f)s" "%(a)s" %(p)s'


class SafeAccessLogger(Logger):
    """gunicorn's logger with secrets masked in every access-log atom that could carry them."""

    def atoms(self, resp, req, environ, request_time):
        from congress_vote.security import mask_secrets

        atoms = super().atoms(resp, req, environ, request_time)
        path = mask_secrets(environ.get("PATH_INFO") or "")
        atoms["U"] = path
        atoms["q"] = ""
        atoms["r"] = f"{environ.get('REQUEST_METHOD')} {path} {environ.get('SERVER_PROTOCOL')}"
        atoms["f"] = mask_secrets(atoms.get("f") or "-")
        for key in list(atoms):
            if key.startswith("{") and key.endswith("}i"):
                if key in ("{authorization}i", "{cookie}i", "{x-csrftoken}i"):
                    atoms[key] = "***"
                else:
                    atoms[key] = mask_secrets(str(atoms[key]))
            elif key.startswith("{") and key.endswith("}o") and key == "{set-cookie}o":
                atoms[key] = "***"
        return atoms


logger_class = SafeAccessLogger


def post_worker_init(worker):
    """The worker has loaded the app: move the objects it holds for good (modules, the app,
    its routes, compiled statements) out of the garbage collector's reach (`gc.freeze`), so a
    full collection during a request, which a count of 2,000 ballots or a busy hall sets off,
    no longer walks the ~200,000 of them (~0.16 s each time on the 2-core machine)."""
    import gc

    gc.collect()
    gc.freeze()
