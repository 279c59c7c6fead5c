"""The session cookie is `Secure` whenever the request came over https (behind the TLS proxy:
request.is_secure after ProxyFix trusts X-Forwarded-Proto), besides SESSION_COOKIE_SECURE;
HttpOnly and SameSite come from the configuration (True, Lax)."""

from __future__ import annotations

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface


class HttpsAwareSessionInterface(SecureCookieSessionInterface):
    def get_cookie_secure(self, app: Flask) -> bool:
        if super().get_cookie_secure(app):
            return True
        return has_request_context() and request.is_secure
