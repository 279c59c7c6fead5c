"""Issue 14, hole 1: any staff login could vote as any delegate in a named poll.

Replays the attack: an observer read every delegate's card code from the delegate list and voted
with it (a named vote needs no login), and a photographed slip could be cast from any phone. Now
card codes exist only on the printed cards, and casts and named votes come only from enrolled
kiosks of the poll's congress (congress setting kiosk_only, on by default).
"""

from __future__ import annotations

import io
import json
import re
import zipfile

import pytest

from congress_vote import codes
from congress_vote.extensions import db
from tests.conftest import PASSWORD, STAFF


def _named_poll(hall, voters=3):
    cid = hall.congress(voters=voters)
    poll = hall.poll(cid, "resolution", secrecy="open")
    hall.open(poll["id"])
    return cid, poll


def _answers(poll) -> dict:
    return {str(i["id"]): "for" for i in poll["items"]}


def _cookie_client(app, username):
    c = app.test_client()
    r = c.post("/login", data={"username": username, "password": PASSWORD})
    assert r.status_code in (302, 303), r.status_code
    return c


def _texts(code: str) -> list[str]:
    """Every form a card code is written in (raw, dashed, the QR text)."""
    return [code, codes.format_code(code), "CV1:C:" + code]


# ---- 1. card codes are on the printed card only --------------------------------------------------


def _xlsx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return " ".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


def test_no_role_sees_a_card_code_in_json_exports_or_pages(
    app, api, sample_congress, card_of, staff
):
    cid = sample_congress
    ds = api("admin").get(f"/api/v1/congresses/{cid}/delegates").json
    secrets_ = [t for d in ds for t in _texts(card_of(d["id"])[0])]
    first = ds[0]["id"]
    answers = []
    for user in STAFF:
        a = api(user)
        answers += [
            a.get(f"/api/v1/congresses/{cid}/delegates"),
            a.get(f"/api/v1/congresses/{cid}/delegates?q=a"),
            a.get(f"/api/v1/congresses/{cid}"),
        ]
        web = _cookie_client(app, user)
        answers += [
            web.get(f"/congresses/{cid}/delegates"),
            web.get(f"/congresses/{cid}"),
            web.get(f"/congresses/{cid}/delegates/export/csv"),
            web.get(f"/congresses/{cid}/delegates/{first}/edit"),
            web.get(f"/congresses/{cid}/checkin?q=a"),
        ]
        xlsx = web.get(f"/congresses/{cid}/delegates/export/xlsx")
        assert xlsx.status_code == 200
        for s in secrets_[:30]:
            assert s not in _xlsx_text(xlsx.data)
    # check-in answers (API and desk JSON) and a single delegate's answer
    code, qr = card_of(first)
    answers.append(api("registrar").post(f"/api/v1/congresses/{cid}/checkin", json={"card": qr}))
    answers.append(
        api("registrar").post(
            f"/api/v1/congresses/{cid}/delegates/{first}/attendance", json={"status": "present"}
        )
    )
    desk = _cookie_client(app, "registrar")
    answers.append(
        desk.post(
            f"/congresses/{cid}/checkin",
            data={"card": code},
            headers={"Accept": "application/json"},
        )
    )
    assert (
        api("observer").get(f"/api/v1/congresses/{cid}/delegates").json[0].get("card_code") is None
    )
    seen = {(r.request.path, r.status_code) for r in answers}
    for path in (
        f"/api/v1/congresses/{cid}/delegates",
        f"/congresses/{cid}/delegates",
        f"/congresses/{cid}/delegates/{first}/edit",
        f"/congresses/{cid}/checkin",
        f"/congresses/{cid}/delegates/export/csv",
        f"/api/v1/congresses/{cid}/checkin",
    ):
        assert (path, 200) in seen, path  # shown to some role (others get 403)
    for r in answers:
        assert r.status_code in (200, 403), (r.request.path, r.status_code)
        body = r.get_data(as_text=True)
        assert "card_code" not in body, r.request.path
        for s in secrets_:
            assert s not in body, (r.request.path, s)
    # nor in the audit log
    from congress_vote.audit.models import AuditEvent

    with app.app_context():
        logged = " ".join(e.data for e in db.session.scalars(db.select(AuditEvent)))
    for s in secrets_:
        assert s not in logged


@pytest.fixture
def admin_web(app, staff):
    return _cookie_client(app, "admin")


def test_reissue_answers_the_printed_card_only(app, sample_congress, card_of, admin_web, api):
    cid = sample_congress
    did = api("admin").get(f"/api/v1/congresses/{cid}/delegates").json[0]["id"]
    old = card_of(did)[0]
    r = admin_web.post(f"/congresses/{cid}/delegates/{did}/reissue")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    new = card_of(did)[0]
    assert new != old
    page = admin_web.get(f"/congresses/{cid}/delegates/{did}/edit").get_data(as_text=True)
    for s in _texts(new) + _texts(old):
        assert s not in page and s not in r.headers.get("Content-Disposition", "")


# ---- 2. votes only from enrolled kiosks ----------------------------------------------------------


def test_named_vote_with_a_known_card_needs_a_kiosk(app, hall, client):
    cid, poll = _named_poll(hall)
    did = hall.delegates(cid)[0][0]
    card = hall.cards[did]
    outside = app.test_client()  # the observer's laptop: no kiosk token
    body = {"card": card, "answers": _answers(poll)}
    r = outside.post(f"/api/v1/polls/{poll['id']}/named-votes", json=body)
    assert r.status_code == 403 and r.json["error"]["code"] == "kiosk_required"
    # with a staff login it is no better
    r = outside.post(
        f"/api/v1/polls/{poll['id']}/named-votes", json=body, headers=hall.api("observer").h
    )
    assert r.status_code == 403 and r.json["error"]["code"] == "kiosk_required"
    # the kiosk page refuses too, before looking at the card
    r = outside.post(f"/kiosk/{cid}", data={"code": f"CV1:C:{card}"})
    assert r.status_code == 403 and f"/kiosk/{cid}" in r.get_data(as_text=True)
    r = outside.get(f"/kiosk/{cid}/vote/{poll['id']}")
    assert r.status_code == 403
    # from the enrolled kiosk (the `client`, which hall enrolled) it is accepted
    r = client.post(f"/api/v1/polls/{poll['id']}/named-votes", json=body)
    assert r.status_code == 201, r.json


def test_cast_with_a_photographed_slip_needs_a_kiosk(app, hall, client):
    cid, poll, tokens = hall.open_poll_with_ballots(2)
    kept = [poll["candidates"][0]["id"]]
    outside = app.test_client()
    r = outside.get(f"/api/v1/ballot/{tokens[0]}")
    assert r.status_code == 403 and r.json["error"]["code"] == "kiosk_required"
    assert "candidates" not in r.json and poll["title"] not in r.get_data(as_text=True)
    r = outside.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": kept})
    assert r.status_code == 403 and r.json["error"]["code"] == "kiosk_required"
    page = outside.get(f"/b/{tokens[0]}")
    html = page.get_data(as_text=True)
    assert page.status_code == 403 and poll["title"] not in html
    assert "Trần Văn Bình" not in html and f"/kiosk/{cid}" in html
    assert 'lang="vi"' in html and "Hãy bỏ phiếu tại máy bỏ phiếu trong hội trường" in html
    assert outside.post(f"/b/{tokens[0]}", data={"step": "cast"}).status_code == 403
    # nothing was consumed: the kiosk casts the same slip
    r = client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": kept})
    assert r.status_code == 201, r.json
    struck = str(poll["candidates"][2]["id"])
    r = client.post(f"/b/{tokens[1]}", data={"step": "cast", "struck": struck})
    assert r.status_code == 200 and b"receipt-code" in r.data


def test_revoked_kiosk_and_another_congress_kiosk_are_refused(app, hall, api):
    cid, poll, tokens = hall.open_poll_with_ballots(2)
    other = hall.congress(voters=2, name="Đại hội khác")
    other_token = hall.kiosk_tokens[other]
    kept = [poll["candidates"][0]["id"]]
    first = hall.kiosk_tokens[cid]
    dev = app.test_client()
    r = dev.post(
        f"/api/v1/ballot/{tokens[0]}", json={"kept": kept}, headers={"X-Kiosk-Token": other_token}
    )
    assert r.status_code == 403 and r.json["error"]["code"] == "kiosk_required"
    token = hall.enrol_kiosk(cid, "Máy 2")
    kid = next(
        k["id"]
        for k in api("counter1").get(f"/api/v1/congresses/{cid}/kiosks").json
        if k["label"] == "Máy 2"
    )
    r = hall.client.delete(f"/api/v1/kiosks/{kid}", headers=hall.api("counter1").h)
    assert r.status_code == 200 and r.json["active"] is False
    r = dev.post(
        f"/api/v1/ballot/{tokens[0]}", json={"kept": kept}, headers={"X-Kiosk-Token": token}
    )
    assert r.status_code == 403 and r.json["error"]["code"] == "kiosk_required"
    r = dev.post(
        f"/api/v1/ballot/{tokens[0]}", json={"kept": kept}, headers={"X-Kiosk-Token": first}
    )
    assert r.status_code == 201


def test_kiosk_api_roles_list_shows_no_token_and_enrol_revoke_are_audited(app, hall, client):
    cid = hall.congress(voters=2)
    for user in ("admin", "chair", "observer"):
        r = client.post(
            f"/api/v1/congresses/{cid}/kiosks", json={"label": "x"}, headers=hall.api(user).h
        )
        assert r.status_code == 403
    r = client.post(
        f"/api/v1/congresses/{cid}/kiosks", json={"label": "  "}, headers=hall.api("counter1").h
    )
    assert r.status_code == 422
    r = client.post(
        f"/api/v1/congresses/{cid}/kiosks", json={"label": "Bàn 7"}, headers=hall.api("counter1").h
    )
    assert r.status_code == 201 and set(r.json) == {"id", "label", "token"}
    token, kid = r.json["token"], r.json["id"]
    listed = client.get(f"/api/v1/congresses/{cid}/kiosks", headers=hall.api("registrar").h)
    assert listed.status_code == 200 and token not in listed.get_data(as_text=True)
    assert {k["label"] for k in listed.json} == {"Máy 1", "Bàn 7"}
    r = client.delete(f"/api/v1/kiosks/{kid}", headers=hall.api("registrar").h)
    assert r.status_code == 200
    assert (
        client.delete("/api/v1/kiosks/999999", headers=hall.api("registrar").h).status_code == 404
    )
    from congress_vote.audit.models import AuditEvent
    from congress_vote.congress.models import Kiosk

    with app.app_context():
        events = {e.action: e for e in db.session.scalars(db.select(AuditEvent))}
        assert json.loads(events["kiosk.revoked"].data)["kiosk_id"] == kid
        assert events["kiosk.revoked"].actor_id == hall.staff["registrar"]
        enrolled = [
            e
            for e in db.session.scalars(
                db.select(AuditEvent).where(AuditEvent.action == "kiosk.enrolled")
            )
        ]
        assert {json.loads(e.data)["kiosk_id"] for e in enrolled} >= {kid}
        stored = db.session.get(Kiosk, kid)
        assert stored.token_hash != token and token not in stored.token_hash
        assert stored.enrolled_by == hall.staff["counter1"]
        for e in db.session.scalars(db.select(AuditEvent)):
            assert token not in e.data and stored.token_hash not in e.data


def test_kiosk_page_enrols_the_tablet_and_survives_the_staff_logout(app, hall):
    cid, poll, tokens = hall.open_poll_with_ballots(1)
    tablet = app.test_client()
    # not a kiosk, nobody signed in: where to vote, no scanner
    r = tablet.get(f"/kiosk/{cid}")
    assert r.status_code == 403 and 'name="code"' not in r.get_data(as_text=True)
    assert tablet.post(
        "/login", data={"username": "registrar", "password": PASSWORD}
    ).status_code in (302, 303)
    page = tablet.get(f"/kiosk/{cid}").get_data(as_text=True)
    assert f"/kiosk/{cid}/enrol" in page
    r = tablet.post(f"/kiosk/{cid}/enrol", data={"label": "Máy sảnh"})
    assert r.status_code == 303
    cookie = r.headers.get("Set-Cookie", "")
    assert "cv_kiosk=" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    assert tablet.post("/logout").status_code in (302, 303)
    # the registrar's own session is over, and the user deactivated: the kiosk still works
    from congress_vote.auth.models import User

    with app.app_context():
        db.session.get(User, hall.staff["registrar"]).active = False
        db.session.commit()
    assert tablet.get(f"/congresses/{cid}").status_code in (302, 303)  # signed out
    page = tablet.get(f"/kiosk/{cid}")
    assert page.status_code == 200 and 'name="code"' in page.get_data(as_text=True)
    r = tablet.post(
        f"/b/{tokens[0]}", data={"step": "cast", "struck": str(poll["candidates"][2]["id"])}
    )
    assert r.status_code == 200 and b"receipt-code" in r.data


def test_staff_kiosk_page_lists_and_revokes(app, hall):
    cid = hall.congress(voters=2)
    web = _cookie_client(app, "counter1")
    page = web.get(f"/congresses/{cid}/kiosks")
    assert page.status_code == 200 and "Máy 1" in page.get_data(as_text=True)
    assert _cookie_client(app, "observer").get(f"/congresses/{cid}/kiosks").status_code == 403
    from congress_vote.congress.models import Kiosk

    with app.app_context():
        kid = db.session.scalar(db.select(Kiosk.id).where(Kiosk.congress_id == cid))
    r = web.post(f"/congresses/{cid}/kiosks/{kid}/revoke")
    assert r.status_code == 303
    dev = app.test_client()
    r = dev.get(f"/kiosk/{cid}", headers={"X-Kiosk-Token": hall.kiosk_tokens[cid]})
    assert r.status_code == 403


def test_kiosk_only_off_lets_any_device_vote(app, hall, api):
    cid, poll, tokens = hall.open_poll_with_ballots(1)
    assert api("admin").get(f"/api/v1/congresses/{cid}").json["kiosk_only"] is True
    r = hall.client.patch(
        f"/api/v1/congresses/{cid}", json={"kiosk_only": "no"}, headers=hall.api("admin").h
    )
    assert r.status_code == 400
    r = hall.client.patch(
        f"/api/v1/congresses/{cid}", json={"kiosk_only": False}, headers=hall.api("admin").h
    )
    assert r.status_code == 200 and r.json["kiosk_only"] is False
    r = app.test_client().post(
        f"/api/v1/ballot/{tokens[0]}", json={"kept": [poll["candidates"][0]["id"]]}
    )
    assert r.status_code == 201


def test_new_congress_is_kiosk_only_by_default(api, staff):
    r = api("admin").post("/api/v1/congresses", json={"name": "Đại hội mới"})
    assert r.status_code == 201 and r.json["kiosk_only"] is True
    r = api("admin").post("/api/v1/congresses", json={"name": "Đại hội mở", "kiosk_only": False})
    assert r.status_code == 201 and r.json["kiosk_only"] is False


# ---- 3. a secret ballot keeps nothing of its kiosk ----------------------------------------------


def test_secret_ballot_and_cast_event_carry_no_kiosk(app, hall, client):
    cid, poll, tokens = hall.open_poll_with_ballots(1)
    r = client.post(f"/api/v1/ballot/{tokens[0]}", json={"kept": [poll["candidates"][0]["id"]]})
    assert r.status_code == 201
    from congress_vote.audit.models import AuditEvent
    from congress_vote.ballots.models import Ballot
    from congress_vote.congress.models import Kiosk

    cols = {c.name for c in Ballot.__table__.columns}
    assert not {c for c in cols if "kiosk" in c or "device" in c}
    assert not [fk for fk in Ballot.__table__.foreign_keys if fk.column.table.name == "kiosk"]
    from congress_vote.seal.models import SealedBallot

    sealed_cols = {c.name for c in SealedBallot.__table__.columns}
    assert not {c for c in sealed_cols if "kiosk" in c or "device" in c}
    with app.app_context():
        kiosk = db.session.scalar(db.select(Kiosk).where(Kiosk.congress_id == cid))
        sealed = db.session.execute(db.select(SealedBallot.__table__)).one()._mapping
        event = db.session.scalar(db.select(AuditEvent).where(AuditEvent.action == "ballot.cast"))
        data = json.loads(event.data)
        assert "kiosk" not in event.data and set(data) <= {"poll_id"}
        assert event.actor_id is None
        kiosk_hash, kiosk_label = kiosk.token_hash, kiosk.label
    assert kiosk_hash not in " ".join(str(v) for v in sealed.values())
    hall.close(poll["id"])
    hall.count(poll["id"])  # the box opened: the ballot row as counted
    with app.app_context():
        row = db.session.execute(db.select(Ballot.__table__)).one()._mapping
    values = " ".join(str(v) for v in row.values())
    assert kiosk_hash not in values and kiosk_label not in values


def test_kiosk_only_in_the_congress_form_and_secure_cookie_over_https(app, hall):
    cid = hall.congress(voters=2)
    web = _cookie_client(app, "admin")
    page = web.get(f"/congresses/{cid}/edit").get_data(as_text=True)
    box = re.search(r'<input[^>]*name="kiosk_only"[^>]*>', page).group(0)
    assert "checked" in box  # on by default
    r = web.post(
        f"/congresses/{cid}/edit",
        data={"name": "Đại hội thử", "kind": "members", "quorum_fraction": "2/3"},
    )
    assert r.status_code in (302, 303)
    from congress_vote.congress.models import Congress

    with app.app_context():
        assert db.session.get(Congress, cid).kiosk_only is False
    tablet = app.test_client()
    tablet.post(
        "/login", data={"username": "counter1", "password": PASSWORD}, base_url="https://vote.test"
    )
    r = tablet.post(f"/kiosk/{cid}/enrol", data={"label": "Máy TLS"}, base_url="https://vote.test")
    assert r.status_code == 303 and "Secure" in r.headers["Set-Cookie"]
