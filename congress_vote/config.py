"""Configuration defaults. instance/config.py and environment variables override them.

Order (later wins): these defaults, instance/config.py, the environment (DATABASE_URL, SECRET_KEY,
PUBLIC_BASE_URL, RATELIMIT_STORAGE_URI, CONGRESS_VOTE_ENV), then the test_config of create_app.
"""

import os

ENV_KEYS = (
    "DATABASE_URL",
    "SECRET_KEY",
    "PUBLIC_BASE_URL",
    "RATELIMIT_STORAGE_URI",
    "CONGRESS_VOTE_ENV",
    "PROXY_FIX_X_FOR",
    "PROXY_FIX_X_PROTO",
    "PROXY_FIX_X_HOST",
    "RATELIMIT_LOGIN",
    "RATELIMIT_CODE_ENTRY",
)


class Defaults:
    # "development" runs with a generated SECRET_KEY; "production" refuses to start without one.
    CONGRESS_VOTE_ENV = "development"
    SECRET_KEY = None
    DATABASE_URL = None  # None: SQLite file instance/congress.db
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {}
    WTF_CSRF_CHECK_DEFAULT = False  # we call csrf.protect() ourselves, see security.py
    WTF_CSRF_TIME_LIMIT = None  # tied to the session, which expires on its own
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    PERMANENT_SESSION_LIFETIME = 8 * 3600  # a congress day
    REMEMBER_COOKIE_DURATION = 0
    BABEL_DEFAULT_LOCALE = "vi"
    BABEL_DEFAULT_TIMEZONE = "Asia/Ho_Chi_Minh"
    LANGUAGES = ("vi", "en")
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    RATELIMIT_LOGIN = "10 per minute"
    RATELIMIT_CODE_ENTRY = "30 per minute"
    RATELIMIT_ENABLED = True
    # If a shared limiter storage (Redis) goes away, keep serving with per-process limits rather
    # than refusing every login and ballot: the limit is a brake, not the lock on the vote.
    RATELIMIT_IN_MEMORY_FALLBACK_ENABLED = True
    RATELIMIT_SWALLOW_ERRORS = True
    # Behind a reverse proxy (nginx): how many proxies to trust for X-Forwarded-For / -Proto /
    # -Host (werkzeug ProxyFix). 0 = not behind a proxy: the headers are ignored, since a client
    # could forge them to dodge rate limits or fake HTTPS. deploy/nginx.conf needs 1 and 1.
    PROXY_FIX_X_FOR = 0
    PROXY_FIX_X_PROTO = 0
    PROXY_FIX_X_HOST = 0
    MAX_CONTENT_LENGTH = 8 * 1024 * 1024  # an Excel list of 2,000 delegates is far smaller
    API_TOKEN_LIFETIME_HOURS = 24
    # "default": Argon2id at the library's parameters. "minimal" (the lowest cost) is honoured
    # only when TESTING, so the test suite does not spend a quarter of a second per hash.
    PASSWORD_HASH_COST = "default"
    # Failed sign-ins, counted in the database for every worker (auth/throttle.py): after the
    # free failures of an account (of an address) each further failure within the window locks
    # it for the base delay, doubling per failure, never longer than the maximum.
    LOGIN_THROTTLE_ENABLED = True
    LOGIN_ACCOUNT_FREE_FAILURES = 5
    LOGIN_ADDRESS_FREE_FAILURES = 20
    LOGIN_LOCK_BASE_SECONDS = 60
    LOGIN_LOCK_MAX_SECONDS = 15 * 60
    LOGIN_THROTTLE_WINDOW_SECONDS = 3600
    SESSION_COOKIE_SECURE = False  # also Secure whenever the request is https (auth/cookie.py)
    PRIVACY_MIN_BALLOTS = 5  # reports over fewer ballots warn that a vote may be identifiable


def load_env(config) -> None:
    for key in ENV_KEYS:
        value = os.environ.get(key)
        if value:
            config[key] = value
