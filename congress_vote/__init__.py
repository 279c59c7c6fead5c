"""congress-vote: the Flask application factory."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask

from .config import Defaults, load_env


def create_app(test_config: dict | None = None) -> Flask:
    """Build the app: configuration, extensions, blueprints, security hooks, CLI."""
    from .paths import STATIC, TEMPLATES

    app = Flask(
        __name__,
        template_folder=str(TEMPLATES),
        static_folder=str(STATIC),
        instance_relative_config=True,
        # CONGRESS_VOTE_INSTANCE: another instance folder (config.py, the SQLite database, the
        # secret key, the hall's certificates); the hall command passes its own to gunicorn.
        instance_path=os.path.abspath(os.environ["CONGRESS_VOTE_INSTANCE"])
        if os.environ.get("CONGRESS_VOTE_INSTANCE")
        else None,
    )
    app.config.from_object(Defaults)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_pyfile("config.py", silent=True)
    load_env(app.config)
    if test_config:
        app.config.update(test_config)

    _finish_config(app)

    from . import models  # noqa: F401  (registers every table on the metadata)
    from .db import configure_sqlite
    from .extensions import babel, csrf, db, limiter, login_manager, migrate
    from .i18n import select_locale

    db.init_app(app)
    migrate.init_app(
        app, db, directory=str(Path(__file__).parent / "migrations"), render_as_batch=True
    )
    csrf.init_app(app)
    # No current_user in the templates (they have `actor`): without Flask-Login's context
    # processor a page does not load the session's user to render.
    login_manager.init_app(app, add_context_processor=False)
    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=str(Path(__file__).parent / "i18n" / "translations"),
    )
    limiter.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            configure_sqlite(db.engine)

    from . import security

    security.init_app(app)
    from .auth import sessions as staff_sessions
    from .auth.cookie import HttpsAwareSessionInterface

    app.session_interface = HttpsAwareSessionInterface()
    staff_sessions.init_app(app)

    from .api import bp as api_bp
    from .audit.views import bp as audit_bp
    from .auth import account_views  # noqa: F401  (the account pages register on auth_bp)
    from .auth.views import bp as auth_bp
    from .ballots.views import bp as ballots_bp
    from .congress import (
        checkin_views,  # noqa: F401  (the check-in desk registers on congress_bp)
        kiosk_views,  # noqa: F401  (the kiosk pages register on congress_bp)
    )
    from .congress.views import bp as congress_bp
    from .counting.views import bp as counting_bp
    from .hall.views import bp as hall_bp
    from .jobs.views import bp as documents_bp
    from .main import bp as main_bp
    from .polls.views import bp as polls_bp
    from .reports.views import bp as reports_bp

    for bp in (
        main_bp,
        auth_bp,
        congress_bp,
        polls_bp,
        ballots_bp,
        counting_bp,
        documents_bp,
        reports_bp,
        audit_bp,
        hall_bp,
        api_bp,
    ):
        app.register_blueprint(bp)

    from .cli import register_cli

    register_cli(app)

    from .templating import init_templating

    init_templating(app)
    return app


MIN_SECRET_KEY_BYTES = 32


def _finish_config(app: Flask) -> None:
    cfg = app.config
    if not cfg.get("SQLALCHEMY_DATABASE_URI"):
        url = (
            cfg.get("DATABASE_URL") or f"sqlite:///{os.path.join(app.instance_path, 'congress.db')}"
        )
        if url.startswith("postgresql://"):
            url = "postgresql+psycopg://" + url[len("postgresql://") :]
        cfg["SQLALCHEMY_DATABASE_URI"] = url
    if not cfg.get("SECRET_KEY"):
        if cfg.get("CONGRESS_VOTE_ENV") == "production":
            raise RuntimeError(
                "SECRET_KEY is required in production: set it in the environment "
                "or in instance/config.py"
            )
        # Development: a key kept in the instance folder, so sessions and card codes survive
        # restarts.
        key_file = Path(app.instance_path) / "secret_key"
        if not key_file.exists():
            key_file.write_text(secrets.token_hex(32))
            key_file.chmod(0o600)
        cfg["SECRET_KEY"] = key_file.read_text().strip()
    key = cfg["SECRET_KEY"]
    if (
        cfg.get("CONGRESS_VOTE_ENV") == "production"
        and len(key.encode() if isinstance(key, str) else key) < MIN_SECRET_KEY_BYTES
    ):
        raise RuntimeError(
            f"SECRET_KEY is too short for production: it must have at least "
            f"{MIN_SECRET_KEY_BYTES} bytes (e.g. the output of "
            "`python -c 'import secrets; print(secrets.token_hex(32))'`)"
        )
    cfg.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    cfg["PUBLIC_BASE_URL"] = cfg["PUBLIC_BASE_URL"].rstrip("/")
