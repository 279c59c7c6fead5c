"""The path tablets really use (issue 15 part 2): the kiosk's ballot page, its review and its
cast form (`/b/<code>`), and the check-in desk's cookie POST. Statement counts are upper bounds
(what the benchmark's CPU per request follows; they do not depend on the machine); the pages'
content comes from the poll's ballot sheet (ballots/sheet.py), built once per opened setup."""

from __future__ import annotations

import re

from werkzeug.datastructures import MultiDict

from congress_vote.extensions import db
from tests.test_perf_paths import Statements, _append_statements


def test_ballot_pages_read_one_row_and_give_no_cookie(hall, app, client):
    cid, poll, tokens = hall.open_poll_with_ballots(3)
    ids = [str(c["id"]) for c in poll["candidates"]]
    assert client.get(f"/b/{tokens[0]}?k={cid}").status_code == 200  # the sheet is built
    client.delete_cookie("session")
    url = f"/b/{tokens[1]}?k={cid}"
    with Statements(app) as page:
        r = client.get(url)
    assert r.status_code == 200 and 'name="struck"' in r.get_data(as_text=True)
    # the code's token, poll, congress and the kiosk check: one statement; the candidates come
    # from the sheet, not the database
    assert len(page.work) == 1 and "kiosk" in page.work[0].lower(), page.work
    # a secret ballot's pages make no CSRF token and give the tablet no session cookie
    assert "Set-Cookie" not in r.headers and 'name="csrf-token"' not in r.get_data(as_text=True)
    with Statements(app) as review:
        r = client.post(url, data=MultiDict([("struck", ids[0]), ("step", "review")]))
    assert r.status_code == 200 and 'value="cast"' in r.get_data(as_text=True)
    assert len(review.work) == 1 and "Set-Cookie" not in r.headers, review.work
    # a review writes nothing: on SQLite it does not queue for the write lock behind the casts
    assert not any("IMMEDIATE" in s.upper() for s in review.seen), review.seen
    with Statements(app) as cast:
        r = client.post(url, data=MultiDict([("struck", ids[0]), ("step", "cast")]))
    assert r.status_code == 200 and 'class="receipt-code"' in r.get_data(as_text=True)
    # the page's row (the token, its poll, the kiosk check), the token's conditional UPDATE
    # with the sealed ballot's tracker, the sealed ballot, then the audit append
    assert len(cast.work) <= 1 + 2 + len(_append_statements(app)), cast.work
    with app.app_context():
        dialect = db.engine.dialect.name
    if dialect == "sqlite":  # a cast does, before its first statement
        assert cast.seen[0].upper() == "BEGIN IMMEDIATE", cast.seen
    else:
        # PostgreSQL: the page and the review write nothing, so their one statement runs in
        # autocommit (no BEGIN and ROLLBACK round trips); the cast is one transaction, on a
        # connection the pool gave back out of autocommit
        assert page.autocommit == [True] and review.autocommit == [True], (page, review)
        assert cast.autocommit and not any(cast.autocommit), cast.autocommit
    assert "Set-Cookie" not in r.headers


def test_the_sheet_shows_namesakes_and_letters_and_is_cached_per_setup(hall, app, client):
    from congress_vote.ballots.sheet import SHEET_CACHE_KEY
    from congress_vote.polls.models import Poll

    names = ["Nguyễn Văn Hùng", "Nguyễn Văn Hùng", "Lê Thị Ánh"]
    candidates = [
        {"full_name": n, "position": p}
        for n, p in zip(names, ["Bí thư Chi bộ 1", "Bí thư Chi bộ 3", "Ủy viên"], strict=True)
    ]
    cid, poll, tokens = hall.open_poll_with_ballots(2, candidates=candidates)
    r = client.get(f"/b/{tokens[0]}?k={cid}")
    page = r.get_data(as_text=True)
    assert r.status_code == 200
    # namesakes told apart under their names; a name of its own shows its position
    assert page.count("Bí thư Chi bộ 1") == 1 and page.count("Bí thư Chi bộ 3") == 1
    assert "Ủy viên" in page
    assert re.search(r'data-name="Lê Thị Ánh" id="letter-A"', page), page
    r = client.post(
        f"/b/{tokens[0]}?k={cid}",
        data=MultiDict([("struck", str(poll["candidates"][0]["id"])), ("step", "review")]),
    )
    assert "Nguyễn Văn Hùng (Bí thư Chi bộ 1)" in r.get_data(as_text=True)
    with app.app_context():
        fp = db.session.get(Poll, poll["id"]).setup_fingerprint
        keys = [k for k in app.extensions[SHEET_CACHE_KEY] if k[0] == poll["id"]]
    assert keys == [(poll["id"], fp, "vi")]


def test_a_draft_poll_sheet_is_never_cached(hall, app):
    from congress_vote.ballots.sheet import SHEET_CACHE_KEY, sheet_of
    from congress_vote.polls.models import Poll

    cid = hall.congress()
    draft = hall.poll(cid)
    with app.test_request_context("/"):
        p = db.session.get(Poll, draft["id"])
        sheet = sheet_of(p)
        assert [c.id for c in sheet.candidates] == [c["id"] for c in draft["candidates"]]
        assert not any(k[0] == p.id for k in app.extensions.get(SHEET_CACHE_KEY, {}))


def test_checkin_desk_cookie_post_statements(app, client, hall, auth):
    """The desk's script: the scan form posted with the session cookie and the CSRF token,
    JSON back with the attendance figures and the desk's last check-in."""
    cid = hall.congress(voters=3, present=0)
    cards = list(hall.cards.items())
    auth.login("registrar")
    page = client.get(f"/congresses/{cid}/checkin").get_data(as_text=True)
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    headers = {"Accept": "application/json", "X-CSRFToken": token}
    with Statements(app) as st:
        r = client.post(f"/congresses/{cid}/checkin", data={"card": cards[0][1]}, headers=headers)
    assert r.status_code == 200 and r.json["kind"] == "ok", r.json
    assert r.json["attendance"]["present"] == 1 and r.json["last"]["id"] == cards[0][0]
    # the session's user, the congress, the card's delegate, the conditional UPDATE, the
    # attendance figures (with the branches' names), then the audit append
    append = _append_statements(app)
    assert len(st.work) <= 5 + len(append), st.work
    assert not any(w.upper().startswith("SELECT BRANCH") for w in st.work), st.work
    # a card scanned again: the figures and the last check-in (the latest of the congress)
    r = client.post(f"/congresses/{cid}/checkin", data={"card": cards[0][1]}, headers=headers)
    assert r.json["kind"] == "repeat" and r.json["last"]["id"] == cards[0][0]


def test_gunicorn_workers_freeze_what_the_app_holds():
    """gunicorn.conf.py's post_worker_init moves the loaded app's objects out of the garbage
    collector's reach, so a full collection during a request does not walk them."""
    import gc
    import runpy
    from pathlib import Path

    conf = runpy.run_path(str(Path(__file__).resolve().parents[1] / "gunicorn.conf.py"))
    assert gc.get_freeze_count() == 0
    try:
        conf["post_worker_init"](None)
        assert gc.get_freeze_count() > 10_000
    finally:
        gc.unfreeze()


def test_asset_links_are_versioned_cached_and_built_once(hall, app, client):
    """The pages link their CSS and scripts through `static_url`: url_for('static') with `v=`
    the file's content hash, built once per app, script root and file (a deployment under a
    path prefix gets its own links). A versioned asset may be kept by the browser for a year;
    the same file without `v=` is revalidated as before."""
    import hashlib
    from pathlib import Path

    from flask import url_for

    from congress_vote.templating import STATIC_URLS_KEY

    cid, _poll, tokens = hall.open_poll_with_ballots(1)
    page = client.get(f"/b/{tokens[0]}?k={cid}").get_data(as_text=True)
    prefixed = client.get(f"/b/{tokens[0]}?k={cid}", base_url="http://localhost/hall").get_data(
        as_text=True
    )
    version = hashlib.sha256(
        (Path(app.static_folder) / "css" / "ballot.css").read_bytes()
    ).hexdigest()[:12]
    with app.test_request_context("/"):
        plain_css = url_for("static", filename="css/ballot.css", v=version)
    with app.test_request_context("/", base_url="http://localhost/hall"):
        hall_css = url_for("static", filename="css/ballot.css", v=version)
    assert plain_css == f"/static/css/ballot.css?v={version}" and hall_css == "/hall" + plain_css
    assert f'href="{plain_css}"' in page and f'href="{hall_css}"' in prefixed
    cached = app.extensions[STATIC_URLS_KEY]
    assert cached[("", "css/ballot.css")] == plain_css
    assert cached[("/hall", "css/ballot.css")] == hall_css
    kept = client.get(plain_css)
    assert kept.status_code == 200 and kept.cache_control.max_age == 365 * 24 * 3600
    assert kept.cache_control.public and kept.cache_control.immutable
    assert not kept.cache_control.no_cache, kept.headers["Cache-Control"]
    revalidated = client.get("/static/css/ballot.css")
    assert revalidated.status_code == 200 and revalidated.cache_control.max_age is None


def test_page_gettext_translates_escapes_and_formats(app):
    """The pages' `_` (templating.page_gettext): the page's catalogue, the arguments escaped
    under autoescape, %-formatted, as Jinja's own new-style gettext."""
    from flask import render_template_string

    with app.test_request_context("/", headers={"Accept-Language": "vi"}):
        out = render_template_string("{{ _('Struck out (%(n)s)', n='<b>3</b>') }}|{{ _('Kept') }}")
    assert out == "Đã gạch (&lt;b&gt;3&lt;/b&gt;)|Giữ lại", out


def test_the_session_signer_follows_the_secret_key(app, client, auth):
    """The session cookie's signer is built once per secret key: a new key refuses the cookies
    the old one signed (staff are signed out), as Flask's own does."""
    auth.login("admin")
    assert client.get("/account").status_code == 200
    first = app.session_interface.get_signing_serializer(app)
    assert app.session_interface.get_signing_serializer(app) is first
    old_key = app.secret_key
    app.secret_key = "another-secret-key-for-this-test-only"
    try:
        assert app.session_interface.get_signing_serializer(app) is not first
        r = client.get("/account")
        assert r.status_code in (302, 401) and "/login" in r.headers.get("Location", "/login")
    finally:
        app.secret_key = old_key
