"""The role matrix: every registered route, every role and anonymous.

A route that declares no access rule fails here; a staff route answered to the wrong role or to
nobody fails here; CSRF is enforced on every cookie-authenticated form.
"""

import re

import pytest

from congress_vote.auth.roles import ROLES
from congress_vote.security import PUBLIC, STAFF

ROLE_USER = {
    "admin": "admin",
    "registrar": "registrar",
    "counter": "counter1",
    "chair": "chair",
    "observer": "observer",
}
_PARAM = re.compile(r"<(?:(\w+):)?(\w+)>")


def _routes(app):
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            yield rule, method


def _url(rule) -> str:
    def sub(m):
        return "999999" if m.group(1) == "int" else "ZZZZ-ZZZZ-ZZZZ-ZZZZ-Z"

    return _PARAM.sub(sub, rule.rule)


def _call(client, method, url, headers=None):
    kw = {"headers": headers or {}}
    if method in ("POST", "PUT", "PATCH", "DELETE"):
        if url.startswith("/api/"):
            kw["json"] = {}
        else:
            kw["data"] = {}
    return client.open(url, method=method, **kw)


def test_every_route_declares_access(app):
    missing = [
        rule.rule
        for rule, _ in _routes(app)
        if getattr(app.view_functions[rule.endpoint], "__access__", None) is None
    ]
    assert not missing, f"routes without a declared role: {missing}"


def test_role_matrix(app, client, auth):
    from tests.conftest import Auth

    checked = 0
    problems = []
    # A cookie session of each role's own, signed in once (again after the route that signs it
    # out); `client` stays anonymous, and calls the API with each role's bearer token.
    signed_in: dict = {}

    def session_of(user):
        if user not in signed_in:
            signed_in[user] = app.test_client()
            assert Auth(app, signed_in[user]).login(user).status_code == 302
        return signed_in[user]

    for rule, method in _routes(app):
        access = app.view_functions[rule.endpoint].__access__
        url = _url(rule)
        is_api = url.startswith("/api/")
        # anonymous
        r = _call(client, method, url)
        if access != PUBLIC:
            expected = (401,) if is_api else (302,)
            if r.status_code not in expected or (not is_api and "/login" not in r.location):
                problems.append(f"anonymous {method} {rule.rule}: {r.status_code}")
        elif r.status_code in (401, 403):
            problems.append(f"public {method} {rule.rule} refused anonymous: {r.status_code}")
        checked += 1
        for role, user in ROLE_USER.items():
            headers = auth.headers(user) if is_api else None
            r = _call(client if is_api else session_of(user), method, url, headers)
            if rule.endpoint == "api.end_session":
                auth._tokens.pop(user, None)  # that call signed the token out
            if rule.endpoint == "auth.logout":
                signed_in.pop(user)  # that call signed the session out
            allowed = access == PUBLIC or STAFF in access or role in access
            if allowed and r.status_code in (401, 403):
                problems.append(f"{role} {method} {rule.rule}: refused {r.status_code}")
            if not allowed and r.status_code != 403:
                problems.append(f"{role} {method} {rule.rule}: expected 403, got {r.status_code}")
            if r.status_code >= 500:
                problems.append(f"{role} {method} {rule.rule}: server error {r.status_code}")
            if is_api and r.status_code >= 400 and not (r.is_json and "error" in r.json):
                problems.append(f"{role} {method} {rule.rule}: API error is not JSON")
            checked += 1
    assert not problems, "\n".join(problems)
    assert checked >= 6 * 3


def test_csrf_enforced_on_every_cookie_form(database_url, _schema):
    from tests.conftest import PASSWORD, make_app

    app = make_app(database_url, WTF_CSRF_ENABLED=True)
    from congress_vote.auth.services import create_user
    from congress_vote.extensions import db

    with app.app_context():
        for role, user in ROLE_USER.items():
            if not db.session.scalar(
                db.select(db.text("1"))
                .select_from(db.text('"user"'))
                .where(db.text("username = :u"))
                .params(u=user)
            ):
                create_user(user, PASSWORD, [role])
        db.session.commit()
    client = app.test_client()
    problems = []
    for rule, method in _routes(app):
        if method != "POST":
            continue
        view = app.view_functions[rule.endpoint]
        if getattr(view, "__csrf_exempt__", False):
            continue
        access = view.__access__
        role = "admin" if access == PUBLIC or STAFF in access else sorted(access)[0]
        with client.session_transaction() as sess:
            sess.clear()
        # sign in with a real token from the login form
        page = client.get("/login")
        token = re.search(rb'name="csrf_token" type="hidden" value="([^"]+)"', page.data)
        assert token, "login form carries a CSRF token"
        r = client.post(
            "/login",
            data={
                "username": ROLE_USER[role],
                "password": PASSWORD,
                "csrf_token": token.group(1).decode(),
            },
        )
        assert r.status_code == 302
        url = _url(rule)
        r = client.post(url, data={}) if not url.startswith("/api/") else client.post(url, json={})
        if r.status_code != 400:
            problems.append(f"POST {rule.rule} without CSRF token: {r.status_code}")
    assert not problems, "\n".join(problems)
    with app.app_context():
        from tests.conftest import _empty_tables

        _empty_tables()


@pytest.mark.parametrize("role", ROLES)
def test_roles_known(role):
    assert role in ROLE_USER


def test_huge_path_ids_answer_404_not_500_or_405(app, client, auth):
    """Ids beyond the database's INTEGER range are unknown objects (fuzzing found 500s and a
    405)."""
    h = auth.headers("admin")
    for method, path in (
        ("GET", "/api/v1/congresses/216898068441/polls"),
        ("POST", "/api/v1/congresses/216898068441/polls"),
        ("GET", "/api/v1/polls/" + "9" * 30),
    ):
        r = client.open(path, method=method, headers=h, json={} if method == "POST" else None)
        assert r.status_code == 404, (method, path, r.status_code)
        assert r.json["error"]["code"] in ("not_found", "unknown_poll", "unknown_congress")
