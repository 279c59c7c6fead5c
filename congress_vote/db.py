"""Declarative base and database engine behaviour.

SQLite: WAL journal, a busy timeout and foreign keys on every connection, and BEGIN IMMEDIATE for
transactions of requests that change state (POST/PUT/PATCH/DELETE and CLI commands), so two
writers queue on the database lock instead of failing when a read transaction tries to upgrade.
Read-only requests begin deferred and read a WAL snapshot without blocking anybody.
"""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


def _wants_immediate() -> bool:
    try:
        from flask import has_request_context, request
    except ImportError:  # pragma: no cover
        return True
    if has_request_context():
        return request.method not in ("GET", "HEAD", "OPTIONS")
    return True


def configure_sqlite(engine: Engine) -> None:
    """Install the pragmas and the BEGIN behaviour on a SQLite engine."""

    @event.listens_for(engine, "connect")
    def _connect(dbapi_connection, _record):
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own is deferred only).
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE" if _wants_immediate() else "BEGIN")
