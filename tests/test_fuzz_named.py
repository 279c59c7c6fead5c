"""Hostile input by name (issue 8, part 2): oversized bodies, wrong types, unicode oddities,
formula injection, HTML/JS in text fields (pages and PDFs), path tricks in upload names, forged
and replayed tokens, tokens of another poll or congress."""

from __future__ import annotations

import io
import unicodedata

import pytest
from sqlalchemy import func, select, text

from congress_vote.extensions import db
from tests.faults.helpers import (
    FlaskCaller,
    cast,
    create_super_user,
    issue,
    setup_open_poll,
    sign_in,
)
from tests.test_fuzz import _counts

XSS = "<script>alert('x')</script>"


@pytest.fixture
def w(app):
    uid = create_super_user(app)
    client = app.test_client()
    caller = FlaskCaller(client)
    token = sign_in(caller)
    sc = setup_open_poll(caller, token, uid, voters=12)
    assert sc is not None
    got = issue(caller, sc, 6)
    client.environ_base["HTTP_X_KIOSK_TOKEN"] = sc.kiosk  # the pages too: an enrolled kiosk
    return {
        "app": app,
        "client": client,
        "call": caller,
        "token": token,
        "sc": sc,
        "tokens": got["tokens"],
        "codes": got["codes"],
        "uid": uid,
    }


def test_oversized_body_is_413_json(w):
    big = b"x" * (8 * 1024 * 1024 + 10)
    r = w["client"].post(
        f"/api/v1/congresses/{w['sc'].cid}/delegates/import",
        data=big,
        content_type="text/csv",
        headers={"Authorization": f"Bearer {w['token']}"},
    )
    assert r.status_code == 413 and r.is_json and r.json["error"]["code"] == "too_large"
    r = w["client"].post(
        f"/api/v1/ballot/{w['tokens'][0]}", data=big, content_type="application/json"
    )
    assert r.status_code == 413 and r.is_json
    r = w["client"].post("/login", data={"username": "x" * (9 * 1024 * 1024)})
    assert r.status_code == 413 and r.mimetype == "text/html"


def test_wrong_types_are_400_and_write_nothing(w):
    call, t, sc = w["call"], w["token"], w["sc"]
    before = _counts(w["app"])
    bad = [
        ("POST", "/api/v1/congresses", {"name": 123, "kind": []}),
        (
            "POST",
            f"/api/v1/congresses/{sc.cid}/polls",
            {"kind": "committee", "title": ["x"], "seats": "9", "candidates": {}},
        ),
        ("POST", f"/api/v1/polls/{sc.pid}/ballots", {"count": "5"}),
        ("POST", f"/api/v1/polls/{sc.pid}/ballots", {"count": True}),
        ("POST", f"/api/v1/polls/{sc.pid}/ballots", {"count": 10**30}),
        ("POST", f"/api/v1/congresses/{sc.cid}/checkin", {"card": 42}),
        ("POST", f"/api/v1/congresses/{sc.cid}/delegates/1/attendance", {"status": None}),
    ]
    for method, path, body in bad:
        r = call(method, path, json=body, token=t)
        assert r.status in (400, 404, 422), (path, r.status, r.body)
        assert "error" in r.body
    for body in (
        {"kept": "1"},
        {"kept": [True]},
        {"kept": [{"id": 1}]},
        {"kept": [10**40]},
        {"answers": [1]},
        [],
        "x",
        None,
    ):
        r = call("POST", f"/api/v1/ballot/{w['tokens'][0]}", json=body)
        assert r.status in (400, 422), (body, r.status, r.body)
    r = call(
        "POST",
        f"/api/v1/ballot/{w['tokens'][0]}",
        data=b"{not json",
        content_type="application/json",
    )
    assert r.status == 400
    assert _counts(w["app"]) == before
    # the ballot was not consumed by any of that
    assert cast(call, w["tokens"][0], w["sc"].candidate_ids[:1]).status == 201


ODD = {
    "combining": "Nguye\u0302\u0303n Thi\u0323 Ha\u0300",  # NFD: must be stored NFC
    "rtl": "Lê Văn \u202eAnh\u202c",  # right-to-left override
    "zw": "Trần\u200b Bình",  # zero-width space
    "xss": f"Phạm {XSS} Dũng",
    "formula": '=HYPERLINK("http://x","Vân")',
}


def _import(w, rows):
    csv = "code,full_name,branch,membership\n" + "\n".join(
        f'X{i},"{name.replace(chr(34), chr(34) * 2)}",Chi bộ 1,full' for i, name in enumerate(rows)
    )
    r = w["call"](
        "POST",
        f"/api/v1/congresses/{w['sc'].cid}/delegates/import",
        data=csv.encode(),
        content_type="text/csv",
        token=w["token"],
    )
    assert r.status == 201, r.body
    r = w["call"]("GET", f"/api/v1/congresses/{w['sc'].cid}/delegates", token=w["token"])
    return {d["code"]: d["full_name"] for d in r.body}


def test_unicode_oddities_in_names(w):
    names = _import(w, list(ODD.values()))
    stored = [names[f"X{i}"] for i in range(len(ODD))]
    for s in stored:
        assert unicodedata.is_normalized("NFC", s), repr(s)
    assert stored[0] == unicodedata.normalize("NFC", ODD["combining"])
    # invisible format characters (bidi override, zero-width space) are not kept
    assert stored[1] == "Lê Văn Anh" and stored[2] == "Trần Bình"
    assert not any(unicodedata.category(c) == "Cf" for s in stored for c in s)
    # Displayed escaped: the registry page shows the markup as text.
    client = w["client"]
    assert (
        client.post("/login", data={"username": "reliab", "password": "password123"}).status_code
        == 302
    )
    page = client.get(f"/congresses/{w['sc'].cid}/delegates").get_data(as_text=True)
    assert XSS not in page
    assert "&lt;script&gt;" in page


def test_formula_injection_neutralised_in_delegate_export(w):
    from openpyxl import load_workbook

    _import(w, [ODD["formula"], "+84 912", "-1", "@SUM(A1)", "Hà Thị Bình"])
    client = w["client"]
    assert (
        client.post("/login", data={"username": "reliab", "password": "password123"}).status_code
        == 302
    )
    r = client.get(f"/congresses/{w['sc'].cid}/delegates/export/csv")
    assert r.status_code == 200
    body = r.get_data().decode("utf-8-sig")
    for line in body.splitlines()[1:]:
        for cell in line.split(","):
            assert not cell.strip('"').startswith(("=", "+", "-", "@")), line
    assert "'=HYPERLINK" in body
    r = client.get(f"/congresses/{w['sc'].cid}/delegates/export/xlsx")
    ws = load_workbook(io.BytesIO(r.data)).active
    cells = [c.value for row in ws.iter_rows(min_row=2) for c in row if isinstance(c.value, str)]
    assert not [c for c in cells if c.startswith(("=", "+", "-", "@"))]
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)


def test_html_in_names_is_text_in_pdf_and_pages(w):
    """A candidate called <script> prints literally in the ballot page, the cards PDF and the
    counting minutes; nothing is interpreted."""
    from pypdf import PdfReader

    call, t, sc = w["call"], w["token"], w["sc"]
    _import(w, [f"Đỗ {XSS} Nam"])
    r = w["client"].get(
        f"/api/v1/congresses/{sc.cid}/cards.pdf", headers={"Authorization": f"Bearer {t}"}
    )
    assert r.status_code == 200
    txt = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages)
    assert "<script>" in txt.replace(" ", "") or "script" in txt
    r = call(
        "POST",
        f"/api/v1/congresses/{sc.cid}/polls",
        token=t,
        json={
            "kind": "committee",
            "title": f"Bầu {XSS}",
            "seats": 1,
            "candidates": [
                {"full_name": f"Lý {XSS} Hoa", "position": "<b>bold</b>"},
                {"full_name": "Ngô Thị Lan"},
            ],
            "counting_committee": [w["uid"]],
        },
    )
    assert r.status == 201
    pid = r.body["id"]
    assert call("POST", f"/api/v1/polls/{pid}/open", token=t).status == 200
    tok = call("POST", f"/api/v1/polls/{pid}/ballots", token=t, json={"count": 1}).body["tokens"][0]
    page = w["client"].get(f"/b/{tok}").get_data(as_text=True)
    assert XSS not in page and "<b>bold</b>" not in page and "&lt;script&gt;" in page
    assert call("POST", f"/api/v1/polls/{pid}/close", token=t).status == 200
    body = {"opening_codes": w["sc"].opening_codes}  # the same member's key card opens it
    assert call("POST", f"/api/v1/polls/{pid}/count", token=t, json=body).status == 200
    r = w["client"].get(
        f"/api/v1/polls/{pid}/minutes.pdf", headers={"Authorization": f"Bearer {t}"}
    )
    assert r.status_code == 200 and r.data.startswith(b"%PDF")
    txt = "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.data)).pages)
    assert "alert('x')" in txt  # the markup came out as literal text


def test_path_tricks_in_upload_names(w, tmp_path):
    _call, t, sc = w["call"], w["token"], w["sc"]
    csv = "code,full_name,branch,membership\nP1,Hoàng Văn Tư,Chi bộ 2,full\n".encode()
    before = {p for p in tmp_path.parent.rglob("passwd.csv")}
    r = w["client"].post(
        f"/api/v1/congresses/{sc.cid}/delegates/import",
        headers={"Authorization": f"Bearer {t}"},
        data={"file": (io.BytesIO(csv), "../../etc/passwd.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 201, r.json
    assert {p for p in tmp_path.parent.rglob("passwd.csv")} == before
    import os

    assert not os.path.exists("/etc/passwd.csv")
    with w["app"].app_context():
        data = db.session.scalar(
            text("SELECT data FROM audit_event WHERE action LIKE '%import%' ORDER BY seq DESC")
        )
    assert data is None or ("../" not in data and "/etc/" not in data)


def test_forged_replayed_and_foreign_tokens(w):
    from congress_vote.codes import new_code

    call, sc = w["call"], w["sc"]
    kept = sc.candidate_ids[:1]
    # forged: well-formed but never issued, or a failed check character
    r = cast(call, new_code(), kept)
    assert r.status == 404
    good = w["codes"][1]
    typo = good[:-1] + ("2" if good[-1] != "2" else "3")
    assert cast(call, typo, kept).status == 404
    assert cast(call, "../../etc/passwd", kept).status == 404
    # replayed: the second cast of the same ballot, by token or by its printed code
    assert cast(call, w["tokens"][1], kept).status == 201
    for again in (w["tokens"][1], w["codes"][1]):
        r = cast(call, again, kept)
        assert r.status == 409 and r.body["error"]["code"] == "ballot_used"
    # a token of another poll (draft, then closed) and of another congress
    uid = w["uid"]
    other = setup_open_poll(call, w["token"], uid, voters=3, name="Đại hội khác")
    foreign = issue(call, other, 1)["tokens"][0]
    r = call("POST", f"/api/v1/polls/{other.pid}/close", token=w["token"])
    assert r.status == 200
    r = cast(call, foreign, kept)
    assert r.status in (404, 409) and r.body["error"]["code"] != "ballot_used"
    # a token of another poll cannot carry this poll's candidate ids
    third = setup_open_poll(call, w["token"], uid, voters=3, name="Đại hội thứ ba")
    tok3 = issue(call, third, 1)["tokens"][0]
    r = cast(call, tok3, sc.candidate_ids[:1])
    assert r.status == 422
    # and the kiosk of one congress refuses a ballot of another
    r = w["client"].post(f"/kiosk/{sc.cid}", data={"code": tok3})
    assert r.status_code in (404, 409, 422) or (r.status_code == 200 and b"/b/" not in r.data)
    with w["app"].app_context():
        from congress_vote.seal.models import SealedBallot

        assert db.session.scalar(select(func.count()).select_from(SealedBallot)) == 1
