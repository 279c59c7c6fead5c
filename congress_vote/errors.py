"""One error type for the services, and the HTML/JSON error answers.

Services raise `ServiceError(code, message, status)`; the request is rolled back and the client
gets `{"error": {"code", "message"}}` on /api/ or an error page (or a flashed message) elsewhere.
"""

from __future__ import annotations

from flask import Flask, jsonify, render_template, request
from flask_babel import gettext as _
from werkzeug.exceptions import HTTPException


class ServiceError(Exception):
    """A rule was broken; nothing was written. `status` follows the API doc (409, 422, 404...)."""

    def __init__(self, code: str, message: str, status: int = 422, **extra):
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status
        self.extra = extra

    def to_dict(self) -> dict:
        body = {"error": {"code": self.code, "message": self.message}}
        body.update(self.extra)
        return body


_HTTP_CODES = {
    400: "bad_request",
    401: "not_signed_in",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "rate_limited",
    500: "internal_error",
    503: "storage_unavailable",
}


def commit_or_flash(call):
    """Run a form's service call as one transaction: commit it, or, when it breaks a rule, roll
    back and flash the rule's message for the form page. Returns (committed, the call's result)."""
    from flask import flash

    from .extensions import db

    try:
        result = call()
        db.session.commit()
    except ServiceError as err:
        db.session.rollback()
        flash(err.message, "error")
        return False, None
    return True, result


def wants_json() -> bool:
    return request.path.startswith("/api/") or (request.accept_mimetypes.best == "application/json")


def json_error(status: int, code: str, message: str, **extra):
    body = {"error": {"code": code, "message": message}}
    body.update(extra)
    return jsonify(body), status


def _generic_message(status: int) -> str | None:
    """A translated stand-in for Werkzeug's English description of a bare HTTP error."""
    return {
        400: _("The request is malformed."),
        401: _("Sign in first."),
        403: _("Your role does not allow this."),
        404: _("This page or item does not exist."),
        405: _("This action is not possible here."),
        413: _("The upload is too large."),
        415: _("This kind of content is not accepted here."),
    }.get(status)


def init_app(app: Flask) -> None:
    from .extensions import db

    @app.errorhandler(ServiceError)
    def _service_error(err: ServiceError):
        db.session.rollback()
        if wants_json():
            return jsonify(err.to_dict()), err.status
        return render_template("error.html", status=err.status, message=err.message), err.status

    @app.errorhandler(HTTPException)
    def _http_error(err: HTTPException):
        db.session.rollback()
        status = err.code or 500
        code = _HTTP_CODES.get(status, "error")
        message = err.description or err.name
        if message == type(err).description or not message:
            # Werkzeug's stock English text: say it in the request's language instead.
            message = _generic_message(status) or message
        if status == 429:
            message = _("Too many attempts; wait a minute and try again.")
        if wants_json():
            resp = jsonify({"error": {"code": code, "message": message}})
            resp.status_code = status
            if status == 405 and hasattr(err, "valid_methods") and err.valid_methods:
                resp.headers["Allow"] = ", ".join(err.valid_methods)
            return resp
        return render_template("error.html", status=status, message=message), status

    from sqlalchemy.exc import OperationalError

    @app.errorhandler(OperationalError)
    def _storage_unavailable(err: OperationalError):
        # Disk full, database locked past the busy timeout, PostgreSQL down: nothing was stored
        # (the transaction is rolled back), and the voter must hear so plainly and get help,
        # not a generic 500. (reliability, issue 8)
        try:
            db.session.rollback()
        except Exception:  # noqa: BLE001  (the connection itself may be gone)
            db.session.remove()
        app.logger.error(
            "database unavailable on %s %s: %s",
            request.method,
            request.path,
            getattr(err, "orig", err),
        )
        message = _(
            "The server cannot store votes right now; nothing was saved. "
            "Call the counting committee."
        )
        if wants_json():
            resp, status = json_error(503, "storage_unavailable", message)
        else:
            resp, status = render_template("error.html", status=503, message=message), 503
        from flask import make_response

        resp = make_response(resp, status)
        resp.headers["Retry-After"] = "30"
        return resp

    @app.errorhandler(Exception)
    def _unexpected(err: Exception):
        db.session.rollback()
        app.logger.exception("unhandled error on %s %s", request.method, request.path)
        if wants_json():
            return json_error(500, "internal_error", _("Internal error; nothing was saved."))
        return render_template(
            "error.html", status=500, message=_("Internal error; nothing was saved.")
        ), 500
