from congress_vote.audit.models import AuditEvent
from congress_vote.extensions import db


def test_login_logout_and_failed_login_recorded(app, client, auth):
    r = auth.login("admin", "wrong-password")
    assert r.status_code == 200
    assert "Sai tên đăng nhập hoặc mật khẩu" in r.get_data(as_text=True)  # Vietnamese default
    with app.app_context():
        failed = db.session.scalars(
            db.select(AuditEvent).where(AuditEvent.action == "auth.login_failed")
        ).all()
        assert len(failed) == 1 and '"admin"' in failed[0].data
    r = auth.login("admin")
    assert r.status_code == 302
    assert client.get("/auth-check-nothing").status_code == 404
    assert client.get("/audit/").status_code == 200
    assert client.post("/logout").status_code == 302
    r = client.get("/audit/")
    assert r.status_code == 302 and "/login" in r.location


def test_password_is_hashed_with_argon2(app, staff):
    from congress_vote.auth.models import User

    with app.app_context():
        u = db.session.get(User, staff["admin"])
        assert u.password_hash.startswith("$argon2id$")
        assert "password123" not in u.password_hash


def test_api_session_and_bearer(client, staff):
    r = client.post("/api/v1/session", json={"username": "counter1", "password": "password123"})
    assert r.status_code == 201 and r.json["roles"] == ["counter"]
    tok = r.json["token"]
    assert (
        client.get("/api/v1/users", headers={"Authorization": f"Bearer {tok}"}).status_code == 403
    )
    assert (
        client.get("/api/v1/users", headers={"Authorization": "Bearer forged"}).status_code == 401
    )
    r = client.post("/api/v1/session", json={"username": "counter1", "password": "nope"})
    assert r.status_code == 401 and r.json["error"]["code"] == "bad_credentials"
    r = client.post("/api/v1/session", data="not json", content_type="text/plain")
    assert r.status_code == 400 and r.json["error"]["code"] == "bad_request"


def test_api_tokens_stored_as_hashes(app, auth):
    from congress_vote.auth.models import ApiToken

    tok = auth.token("admin")
    with app.app_context():
        stored = [t.token_hash for t in db.session.scalars(db.select(ApiToken))]
    assert tok not in stored and len(stored) == 1 and len(stored[0]) == 64


def test_login_rate_limited(database_url, _schema):
    from tests.conftest import make_app

    app = make_app(database_url, RATELIMIT_ENABLED=True, RATELIMIT_LOGIN="3 per minute")
    c = app.test_client()
    codes = [
        c.post("/api/v1/session", json={"username": "x", "password": "y"}).status_code
        for _ in range(5)
    ]
    assert codes[:3] == [401, 401, 401] and codes[3:] == [429, 429]
    assert (
        c.post("/api/v1/session", json={"username": "x", "password": "y"}).json["error"]["code"]
        == "rate_limited"
    )
    codes = [
        c.post("/login", data={"username": "x", "password": "y"}).status_code for _ in range(4)
    ]
    assert codes[-1] == 429


def test_create_user_cli(runner, app):
    r = runner.invoke(
        args=[
            "create-user",
            "anna",
            "--role",
            "counter",
            "--role",
            "chair",
            "--password",
            "longenough",
        ]
    )
    assert r.exit_code == 0, r.output
    r = runner.invoke(args=["create-user", "bob", "--role", "king", "--password", "longenough"])
    assert r.exit_code != 0 and "Unknown role" in r.output
    r = runner.invoke(
        args=["create-user", "carl", "--role", "admin", "--password-stdin"], input="fromstdin1\n"
    )
    assert r.exit_code == 0, r.output


def test_security_headers(client):
    r = client.get("/login")
    h = r.headers
    assert "script-src 'self'" in h["Content-Security-Policy"]
    assert "unsafe-inline" not in h["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in h["Content-Security-Policy"]
    assert h["X-Content-Type-Options"] == "nosniff"
    assert h["Referrer-Policy"] == "no-referrer"
    assert h["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in h
    r = client.get("/login", base_url="https://vote.test")
    assert "max-age" in r.headers["Strict-Transport-Security"]


def test_production_requires_secret_key(monkeypatch, tmp_path):
    import pytest

    from congress_vote import create_app

    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        create_app(
            {
                "CONGRESS_VOTE_ENV": "production",
                "SECRET_KEY": None,
                "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.db",
            }
        )
