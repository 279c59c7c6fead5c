"""Access control, CSRF and security headers — fail closed.

Every view declares who may call it with `@roles(...)`, `@staff` or `@public`. A request to an
endpoint that declares nothing is refused (and a test walks every route with every role), so a new
route cannot be forgotten. Actors are staff users signed in by cookie (Flask-Login) or by an API
bearer token; a bearer request needs no CSRF token, a cookie session does.
"""

from __future__ import annotations

import functools
import logging
import re

from flask import Flask, abort, current_app, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.routing import IntegerConverter

from .auth.roles import ROLES
from .auth.services import user_for_api_token
from .errors import ServiceError

PUBLIC = "public"
STAFF = "staff"


def _mark(view, access):
    view.__access__ = access
    return view


def public(view):
    """Anyone, signed in or not (ballot pages, login, published results)."""
    return _mark(view, PUBLIC)


def csrf_exempt(view):
    """The credential is in the URL or body (a ballot token, a password), not a cookie."""
    view.__csrf_exempt__ = True
    return view


def roles(*names: str):
    """Only staff holding at least one of `names`. `staff` alone means any staff role."""
    for n in names:
        if n not in ROLES and n != STAFF:
            raise ValueError(f"unknown role {n!r}")

    def deco(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            user = current_actor()
            if user is None:
                if request.path.startswith("/api/"):
                    raise login_required()
                return redirect(url_for("auth.login", next=request.full_path))
            if STAFF not in names and not (set(names) & set(user.role_list)):
                abort(403, _("Your role does not allow this."))
            return view(*args, **kwargs)

        return _mark(wrapper, frozenset(names))

    return deco


staff = roles(STAFF)


def login_required():
    """The API's answer to a staff call by nobody signed in: 401 `login_required`."""
    return ServiceError(
        "login_required", _("Sign in first (Authorization: Bearer <token>)."), status=401
    )


_MISSING = object()


def bearer_token() -> str | None:
    header = request.headers.get("Authorization", "")
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None


def current_actor():
    """The staff user of this request (bearer token first, then the cookie session), or None."""
    # Cached on the request itself (not on g, which an unfinished streamed response can share).
    cached = request.environ.get("congress_vote.actor", _MISSING)
    if cached is not _MISSING:
        return cached
    actor = None
    token = bearer_token()
    if token is not None:
        actor = user_for_api_token(token)
    elif session and current_user.is_authenticated:
        # (a request with an empty session, such as every tablet's, has no signed-in user:
        # the app signs staff in through the session only, never a remember-me cookie, so
        # Flask-Login's loader, which hashes the client's address and agent, need not run)
        actor = current_user._get_current_object()
    request.environ["congress_vote.actor"] = actor
    return actor


CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "font-src 'self'; media-src 'self' blob:; connect-src 'self'; object-src 'none'; "
    "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
)


# Secrets that travel in URL paths: a ballot token (/b/<code>, /api/v1/ballot/<code>, kiosk
# pages) or a card code. Logs (gunicorn access log, app log, werkzeug) must never hold them: a log
# file copied for a complaint would otherwise let anyone cast or read an unused ballot.
_SECRET_SEGMENT = re.compile(r"(/(?:b|ballot|card|kiosk|code|token)/)([^/?#\s\"']+)", re.IGNORECASE)
# Anything shaped like one of our codes (17 characters of codes.ALPHABET, dashes allowed) or an
# API token (token_urlsafe(32): 43 characters), wherever it appears.
_CODE_SHAPE = re.compile(
    r"(?<![A-Za-z0-9_-])(?:[2-9A-HJ-NP-Z]{4}-?){4}[2-9A-HJ-NP-Z]"
    r"(?![A-Za-z0-9_-])|(?<![A-Za-z0-9_-])[A-Za-z0-9_-]{43}(?![A-Za-z0-9_-])"
)
_QUERY = re.compile(r"\?[^\s\"']*")


def mask_secrets(text: str) -> str:
    """`text` (a path, a request line or a log message) with ballot/card codes, bearer tokens and
    query strings replaced by `***`."""
    if not text:
        return text
    text = _SECRET_SEGMENT.sub(lambda m: m.group(1) + "***", text)
    text = _CODE_SHAPE.sub("***", text)
    return _QUERY.sub("?***", text)


class SecretMaskingFilter(logging.Filter):
    """A logging filter that masks secrets in the formatted message (see mask_secrets)."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # pragma: no cover (a broken log call must not break the request)
            return True
        masked = mask_secrets(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def _install_log_masking(app: Flask) -> None:
    from flask.logging import default_handler

    flt = SecretMaskingFilter()
    for logger in (app.logger, logging.getLogger("werkzeug"), logging.getLogger("gunicorn.error")):
        if not any(isinstance(f, SecretMaskingFilter) for f in logger.filters):
            logger.addFilter(flt)
    if not any(isinstance(f, SecretMaskingFilter) for f in default_handler.filters):
        default_handler.addFilter(flt)  # also catches child loggers' records reaching it


def _install_proxy_fix(app: Flask) -> None:
    """Trust X-Forwarded-* from the configured number of proxies (0: none, the default)."""
    cfg = app.config
    x_for, x_proto, x_host = (
        int(cfg.get(k) or 0) for k in ("PROXY_FIX_X_FOR", "PROXY_FIX_X_PROTO", "PROXY_FIX_X_HOST")
    )
    if x_for or x_proto or x_host:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Flask's documented way to wrap its WSGI app (its typing declares a method)
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=x_for, x_proto=x_proto, x_host=x_host
        )


class _IdConverter(IntegerConverter):
    """`<int:...>` for database ids: a path id beyond the INTEGER range (10**30) becomes 0, which
    no row has, so the view answers its ordinary 404 instead of an OverflowError (SQLite) or an
    out-of-range DataError (PostgreSQL) answered as 500. (Refusing the match instead makes
    werkzeug answer 405 for some paths.)"""

    def to_python(self, value: str) -> int:
        number = super().to_python(value)
        return number if number <= 2**31 - 1 else 0


def security_headers(secure: bool, static: bool = False) -> list[tuple[str, str]]:
    """The headers every response carries besides the CSP."""
    h = [
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "DENY"),
        # Ballot URLs carry the token: never send them on as a referrer.
        ("Referrer-Policy", "no-referrer"),
        ("Permissions-Policy", "camera=(self), microphone=(), geolocation=()"),
        ("Cross-Origin-Opener-Policy", "same-origin"),
    ]
    if secure:
        h.append(("Strict-Transport-Security", "max-age=31536000; includeSubDomains"))
    if not static:
        # Nothing of a vote or a staff page may stay in a shared tablet's cache or history.
        h += [("Cache-Control", "no-store"), ("Pragma", "no-cache")]
    return h


def _holds_nul(value) -> bool:
    """Whether a string anywhere in `value` (strings, lists, tuples, dicts) holds NUL."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_holds_nul(k) or _holds_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(_holds_nul(v) for v in value)
    return False


def init_app(app: Flask) -> None:
    from .extensions import csrf

    # Before the blueprints are registered: their rules compile with this converter.
    app.url_map.converters["int"] = _IdConverter
    _install_proxy_fix(app)
    _install_log_masking(app)

    @app.after_request
    def _permanent_session(resp):
        # A permanent session carries its own expiry: Flask refuses a cookie signed longer ago
        # than PERMANENT_SESSION_LIFETIME (and re-signs it on each request: an idle timeout).
        # Only a session holding something (a signed-in user, a CSRF token, a kiosk unlock) is
        # marked: flagging an empty one would hand every cookie-less API call (a tablet casting,
        # a bearer client) a fresh signed cookie, a signature per request for nothing. Done
        # after the view, so the request that signs in gets the permanent cookie already.
        if session and not session.permanent:
            session.permanent = True
        return resp

    @app.before_request
    def _access_and_csrf():
        if request.endpoint is None:
            return None  # 404/405 answered by the error handlers
        view = app.view_functions.get(request.endpoint)
        if request.endpoint == "static":
            return None
        access = getattr(view, "__access__", None)
        if access is None:
            current_app.logger.error("route %s declares no access; refused", request.endpoint)
            abort(403, _("This route declares no access rule."))
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            if bearer_token() is not None and request.path.startswith("/api/"):
                return None
            if (
                request.path.startswith("/api/")
                and access != PUBLIC
                and current_actor() is None
                and not getattr(view, "__csrf_exempt__", False)
            ):
                # A staff call with neither a bearer token nor a signed-in session: say so
                # (401) rather than that a CSRF token is missing (400); it can change nothing.
                raise login_required()
            if getattr(view, "__csrf_exempt__", False):
                return None
            if current_app.config.get("WTF_CSRF_ENABLED", True):
                csrf.protect()
        return None

    @app.before_request
    def _refuse_nul():
        # No field of the app has a use for a NUL character, and PostgreSQL's text cannot hold
        # one (the driver raises: a 500 where a clear 400 is due). Form fields (not uploaded
        # files), the query, the path and a JSON body are looked at before any view runs.
        if (
            "\x00" in request.path
            or _holds_nul(list(request.args.items(multi=True)))
            or (request.method != "GET" and _holds_nul(list(request.form.items(multi=True))))
            or (request.is_json and _holds_nul(request.get_json(silent=True)))
        ):
            raise ServiceError(
                "invalid_text",
                _("The request holds a NUL character, which no field accepts."),
                status=400,
            )
        return None

    @app.after_request
    def _headers(resp):
        h = resp.headers
        h.setdefault("Content-Security-Policy", CSP)
        for name, value in security_headers(request.is_secure, request.endpoint == "static"):
            h[name] = value
        return resp

    from flask_wtf.csrf import CSRFError

    @app.errorhandler(CSRFError)
    def _csrf_error(err):
        from flask import render_template

        from .errors import json_error, wants_json

        msg = _(
            "The form expired or was forged (CSRF check failed). Reload the page and try again."
        )
        if wants_json():
            return json_error(400, "csrf_failed", msg)
        return render_template("error.html", status=400, message=msg), 400

    from . import errors

    errors.init_app(app)
