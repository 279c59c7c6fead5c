"""Congress HTML pages: setup, registry, import with the error list, the check-in desk."""

from __future__ import annotations

import io
import re

from congress_vote.extensions import db
from tests.conftest import SAMPLE_CSV


def test_create_and_edit_congress_in_the_browser(client, auth):
    auth.login("admin")
    assert client.get("/congresses/new").status_code == 200
    r = client.post(
        "/congresses/new",
        data={
            "name": "Đại hội Đảng bộ X",
            "organisation": "Đảng bộ X",
            "term": "2025–2030",
            "venue": "Hội trường",
            "starts_on": "2025-06-20",
            "ends_on": "2025-06-21",
            "kind": "members",
            "quorum_fraction": "2/3",
        },
    )
    assert r.status_code == 302
    cid = int(r.location.rstrip("/").split("/")[-1])
    page = client.get(f"/congresses/{cid}").get_data(as_text=True)
    assert "Đại hội Đảng bộ X" in page and 'data-fig="summoned"' in page
    r = client.post(
        f"/congresses/{cid}/edit",
        data={"name": "Đại hội Đảng bộ Y", "kind": "delegates", "quorum_fraction": "3/4"},
    )
    assert r.status_code == 302
    r = client.post(f"/congresses/{cid}/branches", data={"b-branch_name": "Chi bộ Một"})
    assert "Chi bộ Một" in client.get(f"/congresses/{cid}/edit").get_data(as_text=True)
    r = client.post(
        f"/congresses/{cid}/edit", data={"name": "Z", "kind": "members", "quorum_fraction": "5/3"}
    )
    assert r.status_code == 200  # refused, page shown again
    assert "Đại hội Đảng bộ Y" in client.get(f"/congresses/{cid}").get_data(as_text=True)


def test_import_page_lists_bad_rows_and_imports_nothing(client, auth, congress_id):
    auth.login("admin")
    bad = "mã,họ và tên,chi bộ,đảng viên\nA1,Lê Văn An,Chi bộ 1,chính thức\nA2,,Chi bộ 1,dự bị\n"
    r = client.post(
        f"/congresses/{congress_id}/import",
        data={"file": (io.BytesIO(bad.encode()), "ds.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 422
    page = r.get_data(as_text=True)
    assert re.search(r"<td class=\"num\">3</td><td>Họ và tên</td>", page)
    r = client.post(
        f"/congresses/{congress_id}/import",
        data={"file": (io.BytesIO(SAMPLE_CSV.read_bytes()), "ds.csv")},
        content_type="multipart/form-data",
    )
    assert r.status_code == 302
    page = client.get(f"/congresses/{congress_id}/delegates").get_data(as_text=True)
    assert "(145 / 145)" in page
    page = client.get(f"/congresses/{congress_id}/delegates?q=huynh+quang").get_data(as_text=True)
    assert "Huỳnh Quang Quân" in page and "(1 / 145)" in page


def test_checkin_desk_form_without_js(client, auth, sample_congress, card_of, app):
    from congress_vote.congress.models import Delegate

    with app.app_context():
        ds = db.session.query(Delegate).order_by(Delegate.code).all()
        full = next(d for d in ds if d.can_vote)
        prob = next(d for d in ds if not d.can_vote)
        full_id, full_name, prob_id = full.id, full.full_name, prob.id
    auth.login("registrar")
    page = client.get(f"/congresses/{sample_congress}/checkin").get_data(as_text=True)
    assert 'id="card-input"' in page and 'data-scanner data-target="#card-input"' in page
    assert "js/scanner.js" in page and "js/congress-checkin.js" in page
    _, qr = card_of(full_id)
    r = client.post(f"/congresses/{sample_congress}/checkin", data={"card": qr})
    body = r.get_data(as_text=True)
    assert r.status_code == 200 and "feedback-ok" in body and full_name in body
    r = client.post(f"/congresses/{sample_congress}/checkin", data={"card": qr})
    assert "feedback-repeat" in r.get_data(as_text=True)
    _, pqr = card_of(prob_id)
    r = client.post(f"/congresses/{sample_congress}/checkin", data={"card": pqr})
    assert "feedback-probationary" in r.get_data(as_text=True)
    r = client.post(f"/congresses/{sample_congress}/checkin", data={"card": "rubbish"})
    assert r.status_code == 422 and "feedback-error" in r.get_data(as_text=True)
    # undo the last one (the probationary member)
    r = client.post(f"/congresses/{sample_congress}/checkin/undo", data={"delegate_id": prob_id})
    assert "feedback-undo" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Delegate, prob_id).status == "absent"
        assert db.session.get(Delegate, full_id).status == "present"


def test_checkin_desk_json_for_the_script(
    client, auth, sample_congress, card_of, app, make_congress
):
    from congress_vote.congress.models import Delegate

    with app.app_context():
        d = db.session.query(Delegate).filter_by(membership="full").first()
        did = d.id
    auth.login("registrar")
    url = f"/congresses/{sample_congress}/checkin"
    h = {"Accept": "application/json"}
    _, qr = card_of(did)
    r = client.post(url, data={"card": qr}, headers=h)
    assert r.json["kind"] == "ok" and r.json["delegate"]["id"] == did
    assert r.json["attendance"]["present"] == 1 and r.json["last"]["id"] == did
    r = client.post(url, data={"card": qr}, headers=h)
    assert (
        r.json["kind"] == "repeat"
        and "Already checked in at" in r.json["message"]
        or r.json["kind"] == "repeat"
    )
    r = client.post(url, data={"card": "CV1:C:23456789ABCDEFGHJ"}, headers=h)
    assert r.json["kind"] == "error"
    # name search and check-in by name
    page = client.get(url + "?q=nguyen").get_data(as_text=True)
    assert 'name="delegate_id"' in page
    r = client.post(
        f"/congresses/{sample_congress}/delegates/{did}/attendance",
        data={"status": "excused", "reason": "Ốm"},
        headers=h,
    )
    assert r.json["kind"] == "excused" and r.json["attendance"]["denominator"] == 140


def test_add_and_edit_delegate_and_reissue(client, auth, congress_id, app):
    auth.login("admin")
    r = client.post(
        f"/congresses/{congress_id}/delegates/new",
        data={
            "code": "N1",
            "full_name": "Lò Văn Mới",
            "branch": "Chi bộ Mới",
            "membership": "probationary",
            "gender": "M",
            "birth_year": "1990",
            "position": "",
        },
    )
    assert r.status_code == 302
    from congress_vote.congress.models import Delegate

    with app.app_context():
        d = db.session.query(Delegate).filter_by(code="N1").one()
        did, old_hash = d.id, d.card_hash
    r = client.post(
        f"/congresses/{congress_id}/delegates/{did}/edit",
        data={
            "code": "N1",
            "full_name": "Lò Văn Mới",
            "branch": "Chi bộ Mới",
            "membership": "full",
            "gender": "M",
            "birth_year": "1990",
            "position": "Bí thư",
        },
    )
    assert r.status_code == 302
    client.post(f"/congresses/{congress_id}/delegates/{did}/reissue")
    with app.app_context():
        d = db.session.get(Delegate, did)
        assert d.membership == "full" and d.position == "Bí thư" and d.card_hash != old_hash
    assert client.get(f"/congresses/{congress_id}/delegates/{did}/card.pdf").status_code == 200


def test_form_refused_by_a_rule_keeps_the_page_and_writes_nothing(client, auth, congress_id, app):
    """A service refusal on a form is flashed on the same page, rolled back, and not audited."""
    from congress_vote.audit.models import AuditEvent
    from congress_vote.congress.models import Delegate

    auth.login("admin")
    data = {
        "code": "N1",
        "full_name": "Lò Văn Mới",
        "branch": "Chi bộ Mới",
        "membership": "full",
        "gender": "M",
        "birth_year": "1990",
        "position": "",
    }
    assert client.post(f"/congresses/{congress_id}/delegates/new", data=data).status_code == 302
    with app.app_context():
        events = db.session.query(AuditEvent).count()
    r = client.post(
        f"/congresses/{congress_id}/delegates/new", data=data | {"full_name": "Lò Văn Khác"}
    )
    assert r.status_code == 200
    assert "flash-error" in r.get_data(as_text=True) and "N1" in r.get_data(as_text=True)
    with app.app_context():
        assert db.session.query(Delegate).filter_by(code="N1").count() == 1
        assert db.session.query(AuditEvent).count() == events
    r = client.post(
        "/users",
        data={
            "username": "admin",
            "full_name": "",
            "password": "longenough",
            "roles": ["observer"],
        },
    )
    assert r.status_code == 200 and "flash-error" in r.get_data(as_text=True)
