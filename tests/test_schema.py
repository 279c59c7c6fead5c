"""The migrations build exactly the schema the models describe, on this test's database."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from congress_vote.extensions import db


def test_migrations_match_models(app):
    with app.app_context(), db.engine.connect() as conn:
        mc = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(mc, db.metadata)
    assert diff == [], f"run scripts/regen-migration.sh: models and migration differ: {diff}"


def test_sqlite_pragmas(app):
    with app.app_context():
        if db.engine.dialect.name != "sqlite":
            pytest.skip("SQLite pragmas: this run is on PostgreSQL")
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_init_db_idempotent(tmp_path):
    from congress_vote import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/a.db", "SECRET_KEY": "x"})
    runner = app.test_cli_runner()
    for _ in range(2):
        r = runner.invoke(args=["init-db"])
        assert r.exit_code == 0, r.output
    r = runner.invoke(args=["verify-audit"])
    assert r.exit_code == 0 and "0 events" in r.output
