"""The session cookie is `Secure` whenever the request came over https (behind the TLS proxy:
request.is_secure after ProxyFix trusts X-Forwarded-Proto), besides SESSION_COOKIE_SECURE;
HttpOnly and SameSite come from the configuration (True, Lax). The cookie's signer is built once
per secret key, not on every request."""

from __future__ import annotations

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    def get_cookie_secure(self, app: Flask) -> bool:
        if super().get_cookie_secure(app):
            return True
        return has_request_context() and request.is_secure

    _signer: URLSafeTimedSerializer | None = None
    _signer_keys: tuple | None = None

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        # Flask builds it afresh for each request (open and save); it keeps no state between
        # uses, so one per key set serves every request. A new SECRET_KEY or fallback list
        # makes a new one.
        keys = (app.secret_key, tuple(app.config.get("SECRET_KEY_FALLBACKS") or ()))
        if self._signer_keys != keys:
            self._signer = super().get_signing_serializer(app)
            self._signer_keys = keys
        return self._signer
