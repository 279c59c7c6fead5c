"""Account hygiene (issue 14, hole 8): server-side staff sessions, logout, password changes,
deactivation, revocation, the title of a staff member, the production key length, the Secure
cookie behind TLS and the demo's random password. Each test replays an attack through the
pages or the API."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from congress_vote import create_app
from congress_vote.extensions import db
from tests.conftest import PASSWORD, make_app

NEW_PASSWORD = "a-new-password-42"


def _copied_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None, "signed in by cookie"
    return cookie.value


def _replay(app, cookie: str, path: str = "/users"):
    """A second browser presenting a copy of the session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", cookie)
    return thief.get(path)


def _signed_out(resp) -> bool:
    return resp.status_code == 302 and "/login" in resp.location


def _bearer(client, token: str, path: str = "/api/v1/users"):
    return client.get(path, headers={"Authorization": f"Bearer {token}"})


def _token(client, username: str, password: str = PASSWORD) -> str:
    r = client.post("/api/v1/session", json={"username": username, "password": password})
    assert r.status_code == 201, r.json
    return r.json["token"]


def _admin(client) -> dict:
    return {"Authorization": f"Bearer {_token(client, 'admin')}"}


# ---- logout -----------------------------------------------------------------------------------


def test_copied_cookie_is_signed_out_after_logout(app, client, staff):
    assert (
        client.post("/login", data={"username": "admin", "password": PASSWORD}).status_code == 302
    )
    stolen = _copied_cookie(client)
    assert _replay(app, stolen).status_code == 200  # the copy works while the session lives
    assert client.post("/logout").status_code == 302
    assert _signed_out(_replay(app, stolen))
    assert _signed_out(client.get("/users"))


def test_api_logout_ends_the_bearer_token(client, staff):
    token = _token(client, "observer")
    assert _bearer(client, token, "/api/v1/users/me").status_code == 200
    r = client.delete("/api/v1/session", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200 and r.json == {"signed_out": True}
    r = _bearer(client, token, "/api/v1/users/me")
    assert r.status_code == 401 and r.json["error"]["code"]


def test_api_logout_by_cookie_ends_the_staff_session(app, client, staff):
    client.post("/login", data={"username": "chair", "password": PASSWORD})
    stolen = _copied_cookie(client)
    assert client.delete("/api/v1/session").status_code == 200
    assert _signed_out(_replay(app, stolen, "/account"))


def test_staff_session_stores_only_a_hash(app, client, staff):
    from congress_vote.auth.models import StaffSession
    from congress_vote.auth.sessions import SESSION_KEY

    client.post("/login", data={"username": "admin", "password": PASSWORD})
    with client.session_transaction() as sess:
        sid = sess[SESSION_KEY]
    with app.app_context():
        rows = db.session.scalars(select(StaffSession)).all()
        assert len(rows) == 1 and sid not in rows[0].token_hash and len(rows[0].token_hash) == 64


# ---- password changes -------------------------------------------------------------------------


def test_own_password_change_ends_every_session_and_token(app, client, staff):
    other = app.test_client()
    other.post("/login", data={"username": "chair", "password": PASSWORD})
    old_cookie = _copied_cookie(other)
    old_token = _token(client, "chair")
    me = _token(client, "chair")
    r = client.post(
        "/api/v1/users/me/password",
        headers={"Authorization": f"Bearer {me}"},
        json={"current_password": "not-my-password", "new_password": NEW_PASSWORD},
    )
    assert r.status_code == 403 and r.json["error"]["code"] == "wrong_password"
    assert _bearer(client, old_token, "/api/v1/users/me").status_code == 200
    r = client.post(
        "/api/v1/users/me/password",
        headers={"Authorization": f"Bearer {me}"},
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    assert r.status_code == 200, r.json
    assert r.json["tokens_ended"] == 2 and r.json["sessions_ended"] == 1
    for token in (old_token, me):
        assert _bearer(client, token, "/api/v1/users/me").status_code == 401
    assert _signed_out(_replay(app, old_cookie, "/account"))
    assert (
        client.post("/api/v1/session", json={"username": "chair", "password": PASSWORD}).status_code
        == 401
    )
    assert _token(client, "chair", NEW_PASSWORD)


def test_password_change_on_the_account_page(app, client, staff):
    token = _token(client, "counter1")
    client.post("/login", data={"username": "counter1", "password": PASSWORD})
    stolen = _copied_cookie(client)
    page = client.get("/account")
    assert page.status_code == 200 and b"current_password" in page.data
    r = client.post(
        "/account",
        data={"current_password": PASSWORD, "new_password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert r.status_code == 302
    assert client.get("/account").status_code == 200  # this browser stays signed in
    assert _signed_out(_replay(app, stolen, "/account"))  # the stolen copy does not
    assert _bearer(client, token, "/api/v1/users/me").status_code == 401


def test_admin_password_reset_ends_every_session_and_token(app, client, staff):
    victim = app.test_client()
    victim.post("/login", data={"username": "registrar", "password": PASSWORD})
    cookie = _copied_cookie(victim)
    token = _token(client, "registrar")
    h = _admin(client)
    r = client.post(
        f"/api/v1/users/{staff['registrar']}/password", headers=h, json={"password": "short"}
    )
    assert r.status_code == 422 and r.json["error"]["code"] == "weak_password"
    r = client.post(
        f"/api/v1/users/{staff['registrar']}/password", headers=h, json={"password": NEW_PASSWORD}
    )
    assert r.status_code == 200
    assert _bearer(client, token, "/api/v1/users/me").status_code == 401
    assert _signed_out(victim.get("/account")) and _signed_out(_replay(app, cookie, "/account"))
    assert _token(client, "registrar", NEW_PASSWORD)


# ---- deactivation and revocation --------------------------------------------------------------


def test_deactivated_user_is_signed_out_everywhere_and_cannot_sign_in(app, client, staff):
    victim = app.test_client()
    victim.post("/login", data={"username": "counter2", "password": PASSWORD})
    cookie = _copied_cookie(victim)
    token = _token(client, "counter2")
    h = _admin(client)
    r = client.post(f"/api/v1/users/{staff['counter2']}/deactivate", headers=h)
    assert r.status_code == 200 and r.json["user"]["active"] is False
    assert r.json["sessions_ended"] == 1 and r.json["tokens_ended"] == 1
    assert _bearer(client, token, "/api/v1/users/me").status_code == 401
    assert _signed_out(_replay(app, cookie, "/account"))
    assert (
        client.post(
            "/api/v1/session", json={"username": "counter2", "password": PASSWORD}
        ).status_code
        == 401
    )
    r = victim.post("/login", data={"username": "counter2", "password": PASSWORD})
    assert r.status_code == 200  # the form again, not a redirect into the app
    # reactivated, the same password signs in again
    r = client.post(f"/api/v1/users/{staff['counter2']}/activate", headers=h)
    assert r.status_code == 200 and r.json["user"]["active"] is True
    assert _token(client, "counter2")


def test_admin_cannot_deactivate_themselves(client, staff):
    r = client.post(f"/api/v1/users/{staff['admin']}/deactivate", headers=_admin(client))
    assert r.status_code == 409 and r.json["error"]["code"] == "own_account"


def test_admin_revokes_a_users_tokens(app, client, staff):
    tokens = [_token(client, "observer") for _ in range(2)]
    r = client.post(f"/api/v1/users/{staff['observer']}/revoke-tokens", headers=_admin(client))
    assert r.status_code == 200 and r.json["tokens_ended"] == 2
    assert all(_bearer(client, t, "/api/v1/users/me").status_code == 401 for t in tokens)
    assert _token(client, "observer")  # the account itself still works


def test_user_pages_deactivate_and_revoke(app, client, staff):
    victim_token = _token(client, "counter3")
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    uid = staff["counter3"]
    page = client.get(f"/users/{uid}")
    assert page.status_code == 200 and b"counter3" in page.data
    assert client.post(f"/users/{uid}/revoke-tokens").status_code == 302
    assert _bearer(client, victim_token, "/api/v1/users/me").status_code == 401
    victim_token = _token(client, "counter3")
    assert client.post(f"/users/{uid}/deactivate").status_code == 302
    assert _bearer(client, victim_token, "/api/v1/users/me").status_code == 401
    assert client.post(f"/users/{uid}/activate").status_code == 302
    assert client.post(f"/users/{uid}/password", data={"password": NEW_PASSWORD}).status_code == 302
    assert _token(client, "counter3", NEW_PASSWORD)
    assert client.get("/users/999999").status_code == 404


def test_kiosk_keeps_working_after_its_enroller_is_deactivated(app, client, hall, staff):
    """A kiosk belongs to the congress: deactivating the registrar who enrolled it (which ends
    the registrar's sessions and tokens) leaves the tablet casting."""
    cid, poll, tokens = hall.open_poll_with_ballots(n=2)
    registrar_token = hall.api("registrar").h["Authorization"].split(" ", 1)[1]
    r = client.post(f"/api/v1/users/{staff['registrar']}/deactivate", headers=_admin(client))
    assert r.status_code == 200
    assert _bearer(client, registrar_token, "/api/v1/users/me").status_code == 401
    kept = [poll["candidates"][0]["id"]]
    r = client.post(
        f"/api/v1/ballot/{tokens[0]}",
        json={"kept": kept},
        headers={"X-Kiosk-Token": hall.kiosk_tokens[cid]},
    )
    assert r.status_code == 201, r.json


# ---- name and title ---------------------------------------------------------------------------


def test_admin_creates_users_and_edits_title(app, client, staff):
    h = _admin(client)
    r = client.post(
        "/api/v1/users",
        headers=h,
        json={
            "username": "secretary",
            "password": "secretary-pass-1",
            "roles": ["observer"],
            "full_name": "Nguyễn Văn Thư",
            "title": "Chánh Văn phòng",
        },
    )
    assert r.status_code == 201 and r.json["title"] == "Chánh Văn phòng"
    uid = r.json["id"]
    r = client.post(
        "/api/v1/users", headers=h, json={"username": "x", "password": "xxxxxxxx", "roles": [1]}
    )
    assert r.status_code == 400
    r = client.patch(
        f"/api/v1/users/{staff['chair']}",
        headers=h,
        json={"title": "Bí thư Đảng ủy", "full_name": "Trần Văn Chủ"},
    )
    assert r.status_code == 200 and r.json["title"] == "Bí thư Đảng ủy"
    users = {u["id"]: u for u in client.get("/api/v1/users", headers=h).json}
    assert users[staff["chair"]]["title"] == "Bí thư Đảng ủy" and uid in users
    r = client.patch(f"/api/v1/users/{staff['chair']}", headers=h, json={"title": "x" * 201})
    assert r.status_code == 400
    # not the chair's own business: admin only
    r = client.patch(
        f"/api/v1/users/{staff['chair']}",
        json={"title": "Chủ tịch"},
        headers={"Authorization": f"Bearer {_token(client, 'chair')}"},
    )
    assert r.status_code == 403
    # the page
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    r = client.post(
        f"/users/{staff['observer']}",
        data={"full_name": "Quan Sát", "title": "Ủy viên", "roles": ["observer", "registrar"]},
    )
    assert r.status_code == 302
    users = {u["id"]: u for u in client.get("/api/v1/users", headers=h).json}
    assert users[staff["observer"]]["title"] == "Ủy viên"
    assert users[staff["observer"]]["roles"] == ["registrar", "observer"]


def test_account_actions_are_audited_without_secrets(app, client, staff):
    from congress_vote.audit.models import AuditEvent

    h = _admin(client)
    token = _token(client, "chair")
    client.post(
        "/api/v1/users/me/password",
        headers={"Authorization": f"Bearer {token}"},
        json={"current_password": PASSWORD, "new_password": NEW_PASSWORD},
    )
    client.post(
        f"/api/v1/users/{staff['observer']}/password",
        headers=h,
        json={"password": "reset-pass-123"},
    )
    client.post(f"/api/v1/users/{staff['counter1']}/deactivate", headers=h)
    client.post(f"/api/v1/users/{staff['counter1']}/activate", headers=h)
    client.post(f"/api/v1/users/{staff['registrar']}/revoke-tokens", headers=h)
    client.patch(f"/api/v1/users/{staff['chair']}", headers=h, json={"title": "Chủ tịch"})
    admin_token = h["Authorization"].split(" ", 1)[1]
    client.delete("/api/v1/session", headers=h)
    with app.app_context():
        events = db.session.scalars(select(AuditEvent)).all()
    actions = [e.action for e in events]
    for action in (
        "user.password_changed",
        "user.password_reset",
        "user.deactivated",
        "user.activated",
        "user.tokens_revoked",
        "user.updated",
        "auth.logout",
    ):
        assert action in actions, action
    everything = json.dumps([e.data for e in events])
    for secret in (PASSWORD, NEW_PASSWORD, "reset-pass-123", token, admin_token):
        assert secret not in everything


# ---- configuration: key length, Secure cookie ---------------------------------------------------


def test_production_refuses_a_short_secret_key(database_url, monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="at least 32 bytes"):
        create_app(
            {
                "CONGRESS_VOTE_ENV": "production",
                "SECRET_KEY": "x",
                "SQLALCHEMY_DATABASE_URI": database_url,
            }
        )
    with pytest.raises(RuntimeError, match="at least 32 bytes"):
        create_app(
            {
                "CONGRESS_VOTE_ENV": "production",
                "SECRET_KEY": "k" * 31,
                "SQLALCHEMY_DATABASE_URI": database_url,
            }
        )
    # from the environment too, as production sets it
    monkeypatch.setenv("SECRET_KEY", "x")
    monkeypatch.setenv("CONGRESS_VOTE_ENV", "production")
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app({"SQLALCHEMY_DATABASE_URI": database_url})
    monkeypatch.setenv("SECRET_KEY", "ű" * 16)  # 32 bytes in UTF-8
    assert create_app({"SQLALCHEMY_DATABASE_URI": database_url}).config["SECRET_KEY"]
    # development keeps working with any key
    monkeypatch.setenv("CONGRESS_VOTE_ENV", "development")
    monkeypatch.setenv("SECRET_KEY", "x")
    assert create_app({"SQLALCHEMY_DATABASE_URI": database_url}).config["SECRET_KEY"] == "x"


def _session_set_cookie(resp) -> str:
    cookies = [v for k, v in resp.headers.items() if k == "Set-Cookie" and v.startswith("session=")]
    assert cookies, "the sign-in sets the session cookie"
    return cookies[-1]


def test_session_cookie_secure_behind_the_tls_proxy(database_url, _schema, staff):
    behind = make_app(database_url, PROXY_FIX_X_PROTO=1, PROXY_FIX_X_FOR=1)
    c = behind.test_client()
    r = c.post(
        "/login",
        data={"username": "admin", "password": PASSWORD},
        headers={"X-Forwarded-Proto": "https"},
    )
    assert r.status_code == 302
    cookie = _session_set_cookie(r)
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    # plain http (a development server): no Secure flag, which the browser would refuse to send
    c = behind.test_client()
    cookie = _session_set_cookie(c.post("/login", data={"username": "admin", "password": PASSWORD}))
    assert "Secure" not in cookie and "HttpOnly" in cookie
    # a client cannot fake https when no proxy is trusted
    direct = make_app(database_url).test_client()
    cookie = _session_set_cookie(
        direct.post(
            "/login",
            headers={"X-Forwarded-Proto": "https"},
            data={"username": "admin", "password": PASSWORD},
        )
    )
    assert "Secure" not in cookie


# ---- demo password ----------------------------------------------------------------------------


def test_demo_prints_a_random_password_of_12_characters(app, runner, client, monkeypatch):
    from congress_vote.demo import demo_password

    monkeypatch.delenv("DEMO_PASSWORD", raising=False)
    drawn = [demo_password() for _ in range(20)]
    assert all(len(p) >= 12 for p in drawn)
    assert len(set(drawn)) == 20
    r = runner.invoke(args=["demo", "--password", "short-pass"])
    assert r.exit_code != 0 and "12" in r.output
    r = runner.invoke(args=["demo"])
    assert r.exit_code == 0, r.output
    printed = re.search(r"Password for every demo user: (\S+)", r.output).group(1)
    assert len(printed) >= 12
    r = client.post("/api/v1/session", json={"username": "admin", "password": printed})
    assert r.status_code == 201


def test_account_pages_are_vietnamese(app, client, staff):
    client.post("/login", data={"username": "admin", "password": PASSWORD})
    for path, vi, english in (
        ("/account", "Đổi mật khẩu của tôi", "Change my password"),
        (f"/users/{staff['chair']}", "Vô hiệu hóa", "Deactivate"),
        ("/users", "Chức vụ", "Title (office held)"),
    ):
        text = client.get(path).get_data(as_text=True)
        assert vi in text and english not in text, path
