"""A staff API call with neither a bearer token nor a session cookie answers 401 `login_required`
(docs/api.md, "Conventions"), not 400 `csrf_failed`, on every staff route of the API; a signed-in
browser session still needs its CSRF token; the voting calls keep their own credentials."""

from __future__ import annotations

import pytest

from congress_vote.security import PUBLIC
from tests.conftest import PASSWORD

WRITES = ("POST", "PUT", "PATCH", "DELETE")


def _staff_api_rules(app):
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/"):
            continue
        view = app.view_functions[rule.endpoint]
        if getattr(view, "__access__", None) == PUBLIC:
            continue
        yield rule


def _url(rule) -> str:
    path = rule.rule
    for arg in rule.arguments:
        conv = rule._converters[arg]
        value = "1" if conv.__class__.__name__.lower().startswith(("_id", "int")) else "x"
        path = path.replace(f"<{conv_text(rule, arg)}>", value)
    return path


def conv_text(rule, arg: str) -> str:
    import re

    m = re.search(r"<([^>]*:)?" + re.escape(arg) + ">", rule.rule)
    assert m is not None
    return m.group(0)[1:-1]


@pytest.fixture
def csrf_app(app):
    app.config["WTF_CSRF_ENABLED"] = True  # read at each request (security.py)
    yield app
    app.config["WTF_CSRF_ENABLED"] = False


def test_every_staff_api_route_answers_401_login_required(csrf_app):
    client = csrf_app.test_client()
    checked = 0
    for rule in _staff_api_rules(csrf_app):
        url = _url(rule)
        for method in sorted(rule.methods & {"GET", *WRITES}):
            r = client.open(url, method=method, json={})
            assert r.status_code == 401, (method, url, r.status_code, r.get_data(as_text=True))
            assert r.json["error"]["code"] == "login_required", (method, url, r.json)
            checked += 1
    assert checked > 40  # the API's staff routes are all there


def test_a_signed_in_session_still_needs_csrf(csrf_app, staff):
    import re

    client = csrf_app.test_client()
    # the login form needs its CSRF token too when CSRF is on
    page = client.get("/login")
    token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.data)
    assert token is not None
    r = client.post(
        "/login", data={"username": "admin", "password": PASSWORD, "csrf_token": token.group(1)}
    )
    assert r.status_code == 302
    r = client.post("/api/v1/congresses", json={"name": "x"})
    assert r.status_code == 400 and r.json["error"]["code"] == "csrf_failed"


def test_voting_calls_keep_their_own_credentials(csrf_app, staff):
    client = csrf_app.test_client()
    r = client.post("/api/v1/ballot/ABCD-EFGH-JKLM-NPQR-S", json={"kept": []})
    assert r.status_code != 401
    r = client.post("/api/v1/session", json={"username": "admin", "password": "wrong"})
    assert r.status_code == 401 and r.json["error"]["code"] != "login_required"
    r = client.post("/api/v1/session", json={"username": "admin", "password": PASSWORD})
    assert r.status_code == 201
    token = r.json["token"]
    r = client.post("/api/v1/congresses", json={}, headers={"Authorization": f"Bearer {token}"})
    assert r.status_code not in (400, 401) or r.json["error"]["code"] not in (
        "csrf_failed",
        "login_required",
    )
