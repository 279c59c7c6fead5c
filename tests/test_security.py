"""Access hardening (issue 8, part 3): sessions expire, SECRET_KEY in production, security
headers, HSTS only over TLS, proxies, rate limits (also shared across processes through Redis),
CSRF corner cases and no secret in the logs."""

from __future__ import annotations

import json
import logging
import os
import re
import socket
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from itsdangerous import TimestampSigner

from congress_vote import create_app
from congress_vote.codes import format_code, new_code
from congress_vote.security import mask_secrets
from tests.conftest import PASSWORD, make_app

ROOT = Path(__file__).resolve().parent.parent


# ---- sessions ---------------------------------------------------------------------------------


def _login_cookie_session(client, monkeypatch=None, age_seconds=0):
    """Sign in by the login form, the cookie signed `age_seconds` ago."""
    if monkeypatch is not None and age_seconds:
        real = TimestampSigner.get_timestamp
        monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: real(self) - age_seconds)
    r = client.post("/login", data={"username": "admin", "password": PASSWORD})
    if monkeypatch is not None and age_seconds:
        monkeypatch.undo()
    return r


def test_login_session_is_permanent_with_expiry(client, staff):
    r = _login_cookie_session(client)
    assert r.status_code == 302
    cookie = [v for k, v in r.headers.items() if k == "Set-Cookie" and v.startswith("session=")]
    assert cookie and "Expires=" in cookie[-1] and "HttpOnly" in cookie[-1]
    assert "SameSite=Lax" in cookie[-1]


def test_session_older_than_lifetime_is_rejected(app, client, staff, monkeypatch):
    lifetime = app.permanent_session_lifetime.total_seconds()
    assert lifetime == 8 * 3600
    # Signed 9 hours ago: the cookie is refused, the user must sign in again.
    _login_cookie_session(client, monkeypatch, age_seconds=int(lifetime) + 3600)
    r = client.get("/users")
    assert r.status_code == 302 and "/login" in r.location
    # Signed 7 hours ago: still inside the lifetime.
    client.delete_cookie("session")
    _login_cookie_session(client, monkeypatch, age_seconds=int(lifetime) - 3600)
    r = client.get("/users")
    assert r.status_code == 200


def test_session_lifetime_setting_is_honoured(database_url, _schema, staff, monkeypatch):
    app = make_app(database_url, PERMANENT_SESSION_LIFETIME=600)
    client = app.test_client()
    _login_cookie_session(client, monkeypatch, age_seconds=660)
    r = client.get("/users")
    assert r.status_code == 302 and "/login" in r.location
    client.delete_cookie("session")
    _login_cookie_session(client, monkeypatch, age_seconds=540)
    assert client.get("/users").status_code == 200


def test_secret_key_required_in_production(monkeypatch, database_url):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY is required"):
        create_app(
            {
                "CONGRESS_VOTE_ENV": "production",
                "SECRET_KEY": None,
                "SQLALCHEMY_DATABASE_URI": database_url,
            }
        )
    # with one it starts
    app = create_app(
        {
            "CONGRESS_VOTE_ENV": "production",
            "SECRET_KEY": "k" * 32,
            "SQLALCHEMY_DATABASE_URI": database_url,
        }
    )
    assert app.config["SECRET_KEY"] == "k" * 32


# ---- headers ----------------------------------------------------------------------------------


def _assert_security_headers(resp, what):
    h = resp.headers
    csp = h.get("Content-Security-Policy", "")
    assert csp, f"{what}: no CSP"
    directives = dict((d.strip().split(" ", 1) + [""])[:2] for d in csp.split(";") if d.strip())
    assert "'unsafe-inline'" not in directives.get("script-src", "x"), what
    assert "'unsafe-eval'" not in csp, what
    assert directives.get("script-src") == "'self'", what
    assert directives.get("frame-ancestors") == "'none'", what
    assert directives.get("object-src") == "'none'", what
    assert h.get("X-Content-Type-Options") == "nosniff", what
    assert h.get("X-Frame-Options") == "DENY", what
    assert h.get("Referrer-Policy") == "no-referrer", what
    assert h.get("Cache-Control") == "no-store", what


def test_security_headers_on_html_json_pdf_and_errors(app, client, api, staff):
    r = client.get("/login")
    assert r.status_code == 200 and r.mimetype == "text/html"
    _assert_security_headers(r, "HTML page")
    r = client.get("/api/v1/openapi.json")
    assert r.is_json
    _assert_security_headers(r, "JSON")
    r = client.get("/api/v1/congresses/999999")
    assert r.status_code in (401, 404) and r.is_json
    _assert_security_headers(r, "JSON error")
    r = client.get("/no/such/page")
    assert r.status_code == 404 and r.mimetype == "text/html"
    _assert_security_headers(r, "HTML error")
    # A PDF: the counting minutes or announcement need a poll; delegate cards need a congress.
    pdf = _some_pdf(api)
    assert pdf is not None, "no PDF route answered"
    assert pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")
    _assert_security_headers(pdf, "PDF")


def _some_pdf(api):
    admin = api("admin")
    r = admin.post(
        "/api/v1/congresses",
        json={
            "name": "Đại hội thử",
            "organisation": "Đảng bộ X",
            "term": "2025–2030",
            "venue": "Hội trường",
            "starts_on": "2025-06-01",
            "kind": "members",
        },
    )
    if r.status_code != 201:
        return None
    cid = r.json["id"]
    r = admin.get(f"/api/v1/congresses/{cid}/cards.pdf")
    return r if r.status_code == 200 else None


def test_hsts_only_over_tls(database_url, _schema):
    app = make_app(database_url)
    c = app.test_client()
    assert "Strict-Transport-Security" not in c.get("/login").headers
    r = c.get("/login", base_url="https://vote.test")
    assert r.headers["Strict-Transport-Security"].startswith("max-age=")
    # A client cannot fake TLS with X-Forwarded-Proto when no proxy is trusted (the default)...
    r = c.get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" not in r.headers
    # ...but behind nginx (PROXY_FIX_X_PROTO=1) the proxy's word counts.
    behind = make_app(database_url, PROXY_FIX_X_PROTO=1, PROXY_FIX_X_FOR=1)
    r = behind.test_client().get("/login", headers={"X-Forwarded-Proto": "https"})
    assert "Strict-Transport-Security" in r.headers


def test_proxy_fix_from_environment(monkeypatch, database_url):
    monkeypatch.setenv("PROXY_FIX_X_FOR", "1")
    monkeypatch.setenv("PROXY_FIX_X_PROTO", "1")
    app = make_app(database_url)
    seen = {}

    @app.get("/_probe_ip")
    def _probe():  # a throwaway route on this app only
        from flask import request

        seen["ip"], seen["secure"] = request.remote_addr, request.is_secure
        return "ok"

    _probe.__access__ = "public"
    r = app.test_client().get(
        "/_probe_ip", headers={"X-Forwarded-For": "10.9.8.7", "X-Forwarded-Proto": "https"}
    )
    assert r.status_code == 200
    assert seen == {"ip": "10.9.8.7", "secure": True}


# ---- rate limits ------------------------------------------------------------------------------


def _limited_app(database_url, **extra):
    return make_app(
        database_url,
        RATELIMIT_ENABLED=True,
        RATELIMIT_STORAGE_URI="memory://",
        RATELIMIT_KEY_PREFIX=f"t{uuid.uuid4().hex[:8]}",
        **extra,
    )


def test_login_form_and_api_session_rate_limited(database_url, _schema, staff):
    app = _limited_app(database_url, RATELIMIT_LOGIN="5 per hour")
    c = app.test_client()
    ip = {"REMOTE_ADDR": "10.1.1.1"}
    codes = [
        c.post(
            "/login", data={"username": "admin", "password": "wrong-password"}, environ_base=ip
        ).status_code
        for _ in range(6)
    ]
    assert codes[:5] == [200] * 5 and codes[5] == 429
    # the right password does not get through either once the limit is reached
    r = c.post("/login", data={"username": "admin", "password": PASSWORD}, environ_base=ip)
    assert r.status_code == 429 and r.mimetype == "text/html"
    # another client is not affected
    r = c.post(
        "/login",
        data={"username": "admin", "password": PASSWORD},
        environ_base={"REMOTE_ADDR": "10.1.1.2"},
    )
    assert r.status_code == 302
    # the API sign-in has its own budget and answers 429 in JSON
    api_codes = [
        c.post(
            "/api/v1/session", json={"username": "admin", "password": "nope-nope"}, environ_base=ip
        )
        for _ in range(6)
    ]
    assert [r.status_code for r in api_codes[:5]] == [401] * 5
    assert api_codes[5].status_code == 429
    assert api_codes[5].json["error"]["code"] == "rate_limited"


def test_forged_forwarded_for_does_not_dodge_the_limit(database_url, _schema, staff):
    app = _limited_app(database_url, RATELIMIT_LOGIN="3 per hour")
    c = app.test_client()
    codes = [
        c.post(
            "/api/v1/session",
            json={"username": "x", "password": "y"},
            environ_base={"REMOTE_ADDR": "10.2.2.2"},
            headers={"X-Forwarded-For": f"192.0.2.{i}"},
        ).status_code
        for i in range(5)
    ]
    assert codes == [401, 401, 401, 429, 429]


def test_client_ip_behind_proxy_is_the_forwarded_one(database_url, _schema, staff):
    app = _limited_app(database_url, RATELIMIT_LOGIN="2 per hour", PROXY_FIX_X_FOR=1)
    c = app.test_client()
    proxy = {"REMOTE_ADDR": "127.0.0.1"}

    def attempt(client_ip):
        return c.post(
            "/api/v1/session",
            json={"username": "x", "password": "y"},
            environ_base=proxy,
            headers={"X-Forwarded-For": client_ip},
        ).status_code

    assert [attempt("10.3.3.3") for _ in range(3)] == [401, 401, 429]
    # every tablet behind the same nginx is not punished for one client
    assert attempt("10.3.3.4") == 401


_LIMIT_SCRIPT = r"""
import json, os, sys
sys.path.insert(0, os.getcwd())
from tests.conftest import make_app
app = make_app(os.environ["CV_DB"], RATELIMIT_ENABLED=True,
               RATELIMIT_STORAGE_URI=os.environ["CV_RL"], RATELIMIT_KEY_PREFIX=os.environ["CV_PFX"],
               RATELIMIT_LOGIN="10 per hour", LOGIN_THROTTLE_ENABLED=False)
c = app.test_client()
out = [c.post("/api/v1/session", json={"username": "nobody", "password": "wrong-wrong"},
              environ_base={"REMOTE_ADDR": "10.4.4.4"}).status_code
       for _ in range(int(sys.argv[1]))]
print(json.dumps(out))
"""


# scripts/test.sh starts a private Redis and names it here; a bare pytest run uses the usual one.
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")


def _redis_up() -> bool:
    from urllib.parse import urlsplit

    where = urlsplit(REDIS_URL)
    try:
        with socket.create_connection((where.hostname, where.port or 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def _start(database_url, storage, prefix, n) -> subprocess.Popen:
    env = {**os.environ, "CV_DB": database_url, "CV_RL": storage, "CV_PFX": prefix}
    return subprocess.Popen(
        [sys.executable, "-c", _LIMIT_SCRIPT, str(n)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _result(proc: subprocess.Popen) -> list[int]:
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err
    return json.loads(out.strip().splitlines()[-1])


@pytest.mark.slow
def test_rate_limit_shared_across_processes_through_redis(database_url, _schema):
    """Two app processes (as two gunicorn workers) share one budget through Redis; with the
    per-process memory:// default each has its own (the control)."""
    if not _redis_up():
        if os.environ.get("CI"):
            pytest.fail(f"Redis is not running at {REDIS_URL}")
        pytest.skip(f"Redis is not running at {REDIS_URL} (scripts/test.sh starts one)")
    prefix = f"cvtest{uuid.uuid4().hex[:10]}"
    redis = REDIS_URL
    # The control and the Redis-down case run beside the first Redis process (other keys).
    control_a = _start(database_url, "memory://", prefix + "m", 6)
    down = _start(database_url, "redis://127.0.0.1:1", prefix + "d", 2)
    first = _result(_start(database_url, redis, prefix, 6))
    control_b = _start(database_url, "memory://", prefix + "m", 5)
    second = _result(_start(database_url, redis, prefix, 5))
    assert first == [401] * 6
    assert second == [401] * 4 + [429]
    assert 429 not in _result(control_a) + _result(control_b)
    # Redis down: the app still answers (in-memory fallback); it does not refuse everybody.
    assert _result(down) == [401, 401]


# ---- CSRF corner cases ------------------------------------------------------------------------


def _csrf_app(database_url):
    return make_app(database_url, WTF_CSRF_ENABLED=True)


def _signed_in(app):
    c = app.test_client()
    page = c.get("/login")
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.data).group(1)
    r = c.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token.decode()}
    )
    assert r.status_code == 302
    return c, token.decode()


def test_csrf_header_accepted_and_foreign_token_refused(database_url, _schema, staff):
    """JS sends the token in X-CSRFToken: accepted for its own session, refused from another."""
    app = _csrf_app(database_url)
    c, token = _signed_in(app)
    other, other_token = _signed_in(app)
    r = c.post("/logout")
    assert r.status_code == 400
    r = c.post("/logout", headers={"X-CSRFToken": other_token})
    assert r.status_code == 400
    assert c.get("/users").status_code == 200  # still signed in
    r = c.post("/logout", headers={"X-CSRFToken": token})
    assert r.status_code == 302
    assert c.get("/users").status_code == 302  # signed out


def test_fake_bearer_header_does_not_bypass_csrf(database_url, _schema, staff):
    """A cookie session plus any `Authorization: Bearer` header skips CSRF only on the API, and
    there the bearer token (not the cookie) must authenticate: a forged page cannot use the
    victim's cookie by adding a junk bearer header."""
    app = _csrf_app(database_url)
    c, _ = _signed_in(app)
    r = c.post("/api/v1/polls/1/publish", json={}, headers={"Authorization": "Bearer junk"})
    assert r.status_code == 401
    r = c.post("/logout", headers={"Authorization": "Bearer junk"})
    assert r.status_code == 400  # a non-API form still needs its CSRF token
    assert c.get("/users").status_code == 200  # still signed in


def test_login_form_itself_needs_csrf(database_url, _schema, staff):
    app = _csrf_app(database_url)
    c = app.test_client()
    r = c.post("/login", data={"username": "admin", "password": PASSWORD})
    assert r.status_code == 400  # login CSRF: nobody can sign a tablet into an attacker account


# ---- logs -------------------------------------------------------------------------------------


def test_mask_secrets():
    code = new_code()
    token = "A" * 20 + "_-" + "b" * 21
    cases = {
        f"GET /b/{code} HTTP/1.1": "GET /b/*** HTTP/1.1",
        f"/api/v1/ballot/{format_code(code)}": "/api/v1/ballot/***",
        f"/b/{code.lower()}?x=1": "/b/***?***",
        f"/kiosk/{code}/done": "/kiosk/***/done",
        f"Bearer {token}": "Bearer ***",
        f"card {format_code(code)} read": "card *** read",
        "/api/v1/polls/3/ballots": "/api/v1/polls/3/ballots",
        "/congresses/12/delegates": "/congresses/12/delegates",
        "/static/css/app.css": "/static/css/app.css",
    }
    for raw, masked in cases.items():
        assert mask_secrets(raw) == masked, raw


@pytest.fixture
def loud_logs(app, monkeypatch):
    """Re-enable the app's loggers: alembic's fileConfig (run by the schema fixture) disables
    every logger that existed before it (disable_existing_loggers defaults to True)."""
    for name in (app.logger.name, "werkzeug", "sqlalchemy"):
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)


def test_app_log_masks_tokens(app, caplog, loud_logs):
    code = new_code()
    with caplog.at_level(logging.DEBUG):
        app.logger.error("unhandled error on %s %s", "POST", f"/b/{code}")
        app.logger.warning("card %s refused", format_code(code))
    assert code not in caplog.text and format_code(code) not in caplog.text
    assert "/b/***" in caplog.text


def test_no_secret_in_logs_during_sign_in_issue_and_cast(app, client, staff, caplog, loud_logs):
    """Capture every log record (all loggers, DEBUG) while a user signs in, ballots are issued
    and one is cast; no password, bearer token, ballot token or code may appear."""
    with caplog.at_level(logging.DEBUG):
        r = client.post("/api/v1/session", json={"username": "admin", "password": PASSWORD})
        assert r.status_code == 201
        secrets = [PASSWORD, r.json["token"]]
        client.post("/api/v1/session", json={"username": "admin", "password": "Wr0ng-Secret!"})
        secrets.append("Wr0ng-Secret!")
        from tests.faults.helpers import issue_and_cast

        issued = issue_and_cast(app, client, r.json["token"], n=3, cast_count=2)
        if issued is not None:
            secrets += issued["tokens"] + issued["codes"]
        app.logger.info("request for %s", f"/b/{issued['tokens'][0]}" if issued else "/b/x")
    text = caplog.text + "\n".join(str(rec.__dict__) for rec in caplog.records)
    leaked = [s for s in secrets if s and s in text]
    assert not leaked, f"secrets in the logs: {leaked}"
    assert issued is not None, "issuance failed: only sign-in was checked"
