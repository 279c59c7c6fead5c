"""Shared fixtures: the app on a real database (SQLite file by default, PostgreSQL when
TEST_DATABASE_URL names one), clients, and factories for users, congresses and delegates.

The schema is built once per run with the real migrations (so they are tested too); after each
test every table is emptied.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

import pytest
from sqlalchemy import text

from congress_vote import create_app
from congress_vote.extensions import db

# Area fixtures live in their own modules (one owner each).
pytest_plugins = ["tests.fx_congress", "tests.fx_polls", "tests.fx_counting", "tests.fx_seal"]

ROOT = Path(__file__).resolve().parent.parent
SAMPLE_CSV = ROOT / "data" / "delegates-145.csv"
PASSWORD = "password123"
STAFF = {
    "admin": ["admin"],
    "registrar": ["registrar"],
    "counter1": ["counter"],
    "counter2": ["counter"],
    "counter3": ["counter"],
    "chair": ["chair"],
    "observer": ["observer"],
}


def pytest_sessionstart(session):
    """Build the Vietnamese catalogue (git-ignored, made by scripts/setup.sh) when it is missing
    or older than the fragments, templates or code, so a fresh clone's run is in Vietnamese as
    in production. Under pytest-xdist only the controller builds it (its sessionstart runs
    before the workers start); a lock file keeps two concurrent runs from racing."""
    if hasattr(session.config, "workerinput"):  # an xdist worker: the controller built it
        return
    mo = ROOT / "congress_vote" / "i18n" / "translations" / "vi" / "LC_MESSAGES" / "messages.mo"
    sources = [
        *(ROOT / "congress_vote").rglob("*.py"),
        *(ROOT / "templates").rglob("*.html"),
        *(ROOT / "congress_vote" / "i18n" / "vi").glob("*.po"),
    ]
    newest = 0.0
    for p in sources:
        with contextlib.suppress(FileNotFoundError):  # a file removed meanwhile
            newest = max(newest, p.stat().st_mtime)
    if mo.exists() and mo.stat().st_mtime >= newest:
        return
    import subprocess
    import sys

    mo.parent.mkdir(parents=True, exist_ok=True)
    with open(mo.parent / ".compile.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not mo.exists() or mo.stat().st_mtime < newest:
            subprocess.run(
                [sys.executable, str(ROOT / "scripts" / "i18n.py")],
                cwd=ROOT,
                check=True,
                stdout=subprocess.DEVNULL,
            )


# The modules whose tests run longest (tens of seconds each, more on a slow machine) run first:
# under pytest-xdist a worker then takes each early, and the run does not end with one worker
# still on a long test while the other has nothing left. Every worker sorts alike (xdist checks
# that their collections agree).
RUN_FIRST = (
    "tests/e2e/test_congress_day.py",
    "tests/e2e/test_hall_command.py",
    "tests/e2e/test_sealed_box_browser.py",
    "tests/test_fuzz.py",
    "tests/test_receipt_secrecy.py",
    "tests/test_security.py",
    "tests/test_hall_2000.py",
    "tests/test_wheel_install.py",
    "tests/test_access.py",
    "tests/test_congress_cards.py",
    "tests/test_no_english.py",
    "tests/test_committee_scope.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {path: n for n, path in enumerate(RUN_FIRST)}
    items.sort(key=lambda item: rank.get(item.nodeid.split("::")[0], len(RUN_FIRST)))


def _url_builders_once() -> None:
    """Every test makes a fresh app (`make_app`), and for each of its ~150 URL rules Werkzeug
    writes and compiles a Python function that builds the rule's URLs (ast + compile): 80 % of a
    new app's time, ~0.1 s a test. That function depends only on the rule (its text, trace and
    defaults), never on the app: it reads the converters from the rule it is bound to. So the
    suite compiles each rule's builder once and binds it to every new rule, as Werkzeug does."""
    from werkzeug.routing.rules import Rule

    if getattr(Rule, "_suite_builders_once", False):
        return
    compile_builder = Rule._compile_builder
    done: dict[tuple, object] = {}

    def _compile_builder(self, append_unknown: bool = True):
        key = (
            append_unknown,
            self.rule,
            tuple(self._trace),
            repr(sorted((self.defaults or {}).items())),
        )
        if key not in done:
            done[key] = compile_builder(self, append_unknown)
        return done[key]

    Rule._compile_builder = _compile_builder  # type: ignore[method-assign]
    Rule._suite_builders_once = True  # type: ignore[attr-defined]


_url_builders_once()


def _worker_id(config) -> str | None:
    """The pytest-xdist worker's id (gw0, gw1 ...), or None outside xdist."""
    return getattr(config, "workerinput", {}).get("workerid")


@pytest.fixture(scope="session")
def database_url(pytestconfig):
    """The suite's database. SQLite: a file in a temporary folder of this run's (this
    worker's) own, outside pytest's numbered basetemp folders: pytest deletes all but the newest
    three of those when a session starts, so a second pytest run on the machine would delete
    the database under a long run. PostgreSQL (TEST_DATABASE_URL): that database, or under
    pytest-xdist a database of each worker's own, `<name>_<worker>`, created here on the same
    server and dropped at the end."""
    url = os.environ.get("TEST_DATABASE_URL")
    if not url:
        import shutil
        import tempfile

        folder = tempfile.mkdtemp(prefix="congress-test-db-")
        yield f"sqlite:///{folder}/test.db"
        shutil.rmtree(folder, ignore_errors=True)
        return
    worker = _worker_id(pytestconfig)
    if worker is None:
        yield url
        return
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.pool import NullPool

    base = make_url(url)
    mine = base.set(database=f"{base.database}_{worker}")
    server = create_engine(
        base.set(database="postgres"), isolation_level="AUTOCOMMIT", poolclass=NullPool
    )
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{mine.database}"'))
        conn.execute(text(f'CREATE DATABASE "{mine.database}"'))
    yield mine.render_as_string(hide_password=False)
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{mine.database}" WITH (FORCE)'))
    server.dispose()


def make_app(database_url: str, **overrides):
    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key",
        "PUBLIC_BASE_URL": "http://vote.test",
        "WTF_CSRF_ENABLED": False,
        "RATELIMIT_ENABLED": False,
        "SERVER_NAME": None,
        "PASSWORD_HASH_COST": "minimal",  # Argon2id's lowest cost (honoured only when TESTING)
    }
    config.update(overrides)
    return create_app(config)


@pytest.fixture(scope="session")
def _schema(database_url):
    app = make_app(database_url)
    with app.app_context():
        from flask_migrate import downgrade, upgrade

        # Start from nothing: a previous run may have left tables behind on PostgreSQL.
        db.drop_all()
        with db.engine.begin() as conn:
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
        upgrade()
        # No connection of this app stays open across the session: a pooled SQLite connection
        # held from here to the end read a database the tests had rewritten meanwhile as "file
        # is not a database" at the downgrade below.
        db.engine.dispose()
    yield
    with app.app_context():
        db.engine.dispose()
        downgrade(revision="base")
        db.engine.dispose()


# PostgreSQL: the tables that hold a row or whose id sequence has handed out a value (a table
# emptied by the test itself still has its sequence moved on). pg_sequences.last_value is NULL
# until a sequence's first value and again after TRUNCATE ... RESTART IDENTITY.
_USED_SEQUENCES = text(
    """
    SELECT t.relname
    FROM pg_sequences s
    JOIN pg_class sc ON sc.relname = s.sequencename AND sc.relkind = 'S'
    JOIN pg_namespace n ON n.oid = sc.relnamespace AND n.nspname = s.schemaname
    JOIN pg_depend d ON d.objid = sc.oid AND d.classid = 'pg_class'::regclass
        AND d.deptype IN ('a', 'i')
    JOIN pg_class t ON t.oid = d.refobjid
    WHERE s.schemaname = current_schema() AND s.last_value IS NOT NULL
    """
)


def _empty_tables():
    """Every table of the app emptied, its ids starting again at 1. On PostgreSQL only the
    tables that need it are truncated: TRUNCATE costs per table named (a new file for the
    table and for each of its indexes), ~70 ms for all of them even when empty, twice a test;
    one probe finds those with a row or a used sequence (~10 ms)."""
    db.session.remove()
    tables = [t.name for t in db.metadata.sorted_tables]
    with db.engine.begin() as conn:
        if db.engine.dialect.name == "postgresql":
            probe = "SELECT " + ", ".join(f'EXISTS (SELECT 1 FROM "{t}")' for t in tables)
            held = conn.execute(text(probe)).one()
            used = set(conn.execute(_USED_SEQUENCES).scalars())
            dirty = [t for t, rows in zip(tables, held, strict=True) if rows or t in used]
            if dirty:
                conn.execute(
                    text(
                        "TRUNCATE "
                        + ", ".join(f'"{t}"' for t in dirty)
                        + " RESTART IDENTITY CASCADE"
                    )
                )
        else:
            for t in reversed(tables):
                conn.execute(text(f'DELETE FROM "{t}"'))


@pytest.fixture
def rate_limited_app(_schema, database_url):
    """Factory: an app with the rate limiter on (`code_entry` limit), on empty tables and a
    fresh limiter. Use it instead of the `app` fixture: creating that app too would re-init
    the shared limiter with the limiter off."""
    from congress_vote.extensions import limiter

    made = []

    def make(code_entry: str):
        app = make_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_CODE_ENTRY=code_entry)
        with app.app_context():
            _empty_tables()
            limiter.reset()
        made.append(app)
        return app

    yield make
    for app in made:
        with app.app_context():
            _empty_tables()
            limiter.reset()


@pytest.fixture
def app(_schema, database_url):
    app = make_app(database_url)
    with app.app_context():
        _empty_tables()
    yield app
    with app.app_context():
        _empty_tables()
        db.engine.dispose()


@pytest.fixture
def sqlite_app(app):
    """The app, on SQLite only (the write queue is SQLite's; PostgreSQL locks rows)."""
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("the write queue is SQLite's; this run is on PostgreSQL")
    return app


def queue_taken(app) -> bool:
    """Whether some connection holds the SQLite writers' queue (congress_vote/db.py), probed
    with a non-blocking flock from a descriptor of our own."""
    from congress_vote.db import WRITE_LOCK_SUFFIX

    with app.app_context():
        path = os.path.abspath(db.engine.url.database) + WRITE_LOCK_SUFFIX
    fd = os.open(path, os.O_RDWR)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)  # also lets go of the probe's own lock
    return False


@pytest.fixture
def pdf_once(monkeypatch):
    """Within one test, lay out each distinct HTML as PDF once (WeasyPrint, ~1-3 s a document):
    a walk that reads the same paper as every role gets the same bytes for the same HTML.
    Every request still runs its view, its access check and its template; only the layout of
    an HTML already laid out in this test is answered from memory. Yields the counts."""
    from congress_vote.reports import pdf

    layout = pdf.html_to_pdf
    done: dict[tuple, bytes] = {}
    counts = {"laid out": 0, "reused": 0}

    def html_to_pdf(html, html_class=pdf.HTML, fetcher=pdf.LocalOnlyFetcher):
        key = (html, html_class, fetcher)
        if key in done:
            counts["reused"] += 1
        else:
            counts["laid out"] += 1
            done[key] = layout(html, html_class, fetcher)
        return done[key]

    monkeypatch.setattr(pdf, "html_to_pdf", html_to_pdf)
    from congress_vote.ballots import slips
    from congress_vote.congress import printing

    for module in (slips, printing):  # they import it by name
        if getattr(module, "html_to_pdf", None) is layout:
            monkeypatch.setattr(module, "html_to_pdf", html_to_pdf)
    yield counts


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def ctx(app):
    with app.app_context():
        yield app


# ---- factories -------------------------------------------------------------------------------


def make_staff(app) -> dict[str, int]:
    """Create the standard staff users (name -> id), all with password PASSWORD."""
    from congress_vote.auth.services import create_user

    ids = {}
    with app.app_context():
        for name, roles in STAFF.items():
            ids[name] = create_user(name, PASSWORD, roles, full_name=name.title()).id
        db.session.commit()
    return ids


@pytest.fixture
def staff(app):
    """The standard staff users (name -> id), all with password PASSWORD."""
    return make_staff(app)


class Auth:
    """Sign in as a staff user, by cookie (browser) or bearer token (API)."""

    def __init__(self, app, client):
        self.app = app
        self.client = client
        self._tokens: dict[str, str] = {}

    def login(self, username: str, password: str = PASSWORD):
        return self.client.post("/login", data={"username": username, "password": password})

    def logout(self):
        self.client.cookie_jar.clear() if hasattr(self.client, "cookie_jar") else None
        with self.client.session_transaction() as sess:
            sess.clear()

    def token(self, username: str) -> str:
        if username not in self._tokens:
            r = self.client.post(
                "/api/v1/session", json={"username": username, "password": PASSWORD}
            )
            assert r.status_code == 201, r.json
            self._tokens[username] = r.json["token"]
        return self._tokens[username]

    def headers(self, username: str) -> dict:
        return {"Authorization": f"Bearer {self.token(username)}"}


@pytest.fixture
def auth(app, client, staff):
    return Auth(app, client)


@pytest.fixture
def api(client, auth):
    """Call the JSON API as a given staff user: api("admin").post(path, json=...)."""
    return api_as(client, auth)


def api_as(client, auth):
    class _As:
        def __init__(self, username):
            self.h = auth.headers(username) if username else {}

        def get(self, path, **kw):
            return client.get(path, headers={**self.h, **kw.pop("headers", {})}, **kw)

        def post(self, path, **kw):
            return client.post(path, headers={**self.h, **kw.pop("headers", {})}, **kw)

    return _As
