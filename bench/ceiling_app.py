"""The ceiling: the least a request that stores a vote can do on this stack.

Two WSGI apps, both served by the same gunicorn settings as the real app and both doing exactly
one INSERT (its own transaction, committed) into the same kind of database:

* ``plain``: a bare WSGI function (no Flask), the DB-API driver directly (sqlite3 / psycopg 3),
  one connection per worker thread kept open. This is the limit of gunicorn + Python + the
  database.
* ``flask``: a minimal Flask app with Flask-SQLAlchemy, one model, ``db.session.add`` +
  ``commit``. This is the limit of the framework the product is built on.

SQLite gets the product's pragmas (WAL, synchronous=NORMAL, busy_timeout=30000, foreign_keys) and
``BEGIN IMMEDIATE``, like congress_vote/db.py. The request body is parsed as JSON, as a cast is.

Select with CEILING_KIND=plain|flask and CEILING_DB=<SQLAlchemy URL>; gunicorn loads
``bench.ceiling_app:app``. ``python bench/ceiling_app.py init`` creates the table.
"""

import json
import os
import secrets
import sys
import threading

from sqlalchemy.orm import Mapped, mapped_column

DB_URL = os.environ.get("CEILING_DB", "sqlite:////tmp/cvbench-ceiling.db")
KIND = os.environ.get("CEILING_KIND", "plain")
IS_SQLITE = DB_URL.startswith("sqlite")
DDL = (
    "CREATE TABLE IF NOT EXISTS bench_vote (id VARCHAR(32) PRIMARY KEY, poll_id INTEGER "
    "NOT NULL, choice TEXT NOT NULL, receipt VARCHAR(20) NOT NULL)"
)
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA busy_timeout=30000",
    "PRAGMA foreign_keys=ON",
    "PRAGMA synchronous=NORMAL",
)


def _sqlite_path() -> str:
    return DB_URL.split("sqlite:///", 1)[1]


def _pg_conninfo() -> str:
    return DB_URL.replace("postgresql+psycopg://", "postgresql://")


def connect():
    if IS_SQLITE:
        import sqlite3

        conn = sqlite3.connect(_sqlite_path(), isolation_level=None, check_same_thread=False)
        for p in PRAGMAS:
            conn.execute(p)
        return conn
    import psycopg

    return psycopg.connect(_pg_conninfo())


# ---- plain WSGI --------------------------------------------------------------------------------

_local = threading.local()


def _conn():
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = connect()
    return conn


def plain_app(environ, start_response):
    if environ["REQUEST_METHOD"] != "POST":
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]
    size = int(environ.get("CONTENT_LENGTH") or 0)
    body = json.loads(environ["wsgi.input"].read(size) or b"{}")
    row = (
        secrets.token_hex(16),
        1,
        json.dumps({"kept": sorted(body.get("kept", []))}),
        secrets.token_hex(5),
    )
    conn = _conn()
    if IS_SQLITE:
        conn.execute("BEGIN IMMEDIATE")
        conn.execute(
            "INSERT INTO bench_vote (id, poll_id, choice, receipt) VALUES (?, ?, ?, ?)", row
        )
        conn.execute("COMMIT")
    else:
        with conn.transaction():
            conn.execute(
                "INSERT INTO bench_vote (id, poll_id, choice, receipt) VALUES (%s, %s, %s, %s)", row
            )
    out = json.dumps({"receipt": row[3]}).encode()
    start_response(
        "201 Created", [("Content-Type", "application/json"), ("Content-Length", str(len(out)))]
    )
    return [out]


# ---- minimal Flask + SQLAlchemy ----------------------------------------------------------------


def make_flask_app():
    from flask import Flask, jsonify, request
    from flask_sqlalchemy import SQLAlchemy
    from sqlalchemy import String, Text, event

    app = Flask(__name__)
    app.config["SQLALCHEMY_DATABASE_URI"] = DB_URL
    db = SQLAlchemy(app)

    class BenchVote(db.Model):
        __tablename__ = "bench_vote"
        id: Mapped[str] = mapped_column(String(32), primary_key=True)
        poll_id: Mapped[int]
        choice: Mapped[str] = mapped_column(Text)
        receipt: Mapped[str] = mapped_column(String(20))

    if IS_SQLITE:
        with app.app_context():
            engine = db.engine

        @event.listens_for(engine, "connect")
        def _connect(dbapi_connection, _record):
            dbapi_connection.isolation_level = None
            for p in PRAGMAS:
                dbapi_connection.execute(p)

        @event.listens_for(engine, "begin")
        def _begin(conn):
            conn.exec_driver_sql("BEGIN IMMEDIATE")

    @app.post("/api/v1/ballot/<token>")
    def cast(token):
        body = request.get_json()
        row = BenchVote(
            id=secrets.token_hex(16),
            poll_id=1,
            choice=json.dumps({"kept": sorted(body.get("kept", []))}),
            receipt=secrets.token_hex(5),
        )
        receipt = row.receipt  # read before commit: after it the row is expired (a SELECT)
        db.session.add(row)
        db.session.commit()
        resp = jsonify(receipt=receipt)
        resp.status_code = 201
        return resp

    return app


app = make_flask_app() if KIND == "flask" else plain_app


def init_db() -> None:
    conn = connect()
    conn.execute(DDL)
    if not IS_SQLITE:
        conn.commit()
    conn.close()


def count_rows() -> int:
    conn = connect()
    n = conn.execute("SELECT count(*) FROM bench_vote").fetchone()[0]
    conn.close()
    return n


if __name__ == "__main__":
    if sys.argv[1:] == ["init"]:
        init_db()
    elif sys.argv[1:] == ["count"]:
        print(count_rows())
