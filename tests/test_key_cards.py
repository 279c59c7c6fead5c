"""Key cards (issue 16 part 1): the codes, the printed card, the account page, and signing with
the card's signing code (part 5)."""

from __future__ import annotations

import base64
import io
import logging
import subprocess

import pytest
from pypdf import PdfReader
from sqlalchemy import select, text

from congress_vote.extensions import db
from congress_vote.seal import codes
from congress_vote.seal.codes import BadKeyCode, fingerprint, new_card

zxingcpp = pytest.importorskip("zxingcpp")
from PIL import Image  # noqa: E402

# ---- the codes (pure) ------------------------------------------------------------------------


def test_codes_round_trip_in_both_forms_and_keys_are_independent():
    card = new_card()
    assert card.opening_qr.startswith("CV1:O:MA") and card.signing_qr.startswith("CV1:S:KA")
    assert len(card.opening_code) == len(card.signing_code) == 55
    printed = codes.format_key_code(card.opening_code)
    for text_form in (
        card.opening_qr,
        card.opening_code,
        printed,
        printed.lower().replace("-", " "),
    ):
        assert bytes(codes.parse_opening_code(text_form)) == bytes(card.opening_key)
    assert bytes(codes.parse_signing_code(f" {card.signing_qr.lower()} ")) == bytes(
        card.signing_key
    )
    other = new_card()
    assert other.opening_public != card.opening_public  # a fresh seed every time
    # one seed gives two unrelated keys; the same seed the same card (HKDF, deterministic)
    seed = bytes(range(32))
    a, b = new_card(seed), new_card(seed)
    assert a == b or (a.opening_code, a.signing_code) == (b.opening_code, b.signing_code)
    assert bytes(a.opening_key) != bytes(a.signing_key)


def test_every_single_typo_is_named_and_kinds_do_not_mix():
    card = new_card()
    code = card.signing_code
    for i in range(2, len(code)):
        for repl in "2Z":
            if code[i] == repl:
                continue
            typo = code[:i] + repl + code[i + 1 :]
            with pytest.raises(BadKeyCode) as err:
                codes.parse_signing_code(typo)
            assert err.value.reason in ("typo", "out_of_range"), (i, err.value.reason)
    cases = {
        "": "empty",
        card.opening_qr: "wrong_kind",
        card.opening_code: "wrong_kind",
        "CV2:S:" + code: "unknown_version",
        "KB" + code[2:]: "unknown_version",
        code[:-1]: "wrong_length",
        code[:10] + "0" + code[11:]: "bad_character",
    }
    for given, reason in cases.items():
        with pytest.raises(BadKeyCode) as err:
            codes.parse_signing_code(given)
        assert err.value.reason == reason, (given, err.value.reason)
    assert isinstance(err.value, ValueError)


def test_fingerprint_is_100_bits_in_five_groups():
    fp = fingerprint(b"\x01" * 32)
    groups = fp.split("-")
    assert [len(g) for g in groups] == [4] * 5
    assert fingerprint(b"\x01" * 32) == fp and fingerprint(b"\x02" * 32) != fp
    assert codes.normalise_fingerprint(fp.lower().replace("-", " ")) == fp


# ---- the printed card ------------------------------------------------------------------------


def _committee_poll(app, staff, cid, members=("counter1", "counter2")):
    from congress_vote.polls.models import CommitteeMember, Poll

    with app.app_context():
        p = Poll(congress_id=cid, kind="committee", title="Bầu thử", status="draft", seats=1)
        db.session.add(p)
        db.session.flush()
        for m in members:
            db.session.add(CommitteeMember(poll_id=p.id, user_id=staff[m]))
        db.session.commit()
        return p.id


def _qr_texts(pdf: bytes, tmp_path) -> list[str]:
    src = tmp_path / "card.pdf"
    src.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "150", "-png", str(src), str(tmp_path / "k")], check=True)
    pages = sorted(tmp_path.glob("k-*.png"))
    assert len(pages) == 1  # one page
    return sorted(b.text for b in zxingcpp.read_barcodes(Image.open(pages[0])))


def _forms(secret: bytes | str) -> list[bytes]:
    raw = secret.encode() if isinstance(secret, str) else secret
    out = [raw]
    if isinstance(secret, bytes):
        out += [secret.hex().encode(), base64.b64encode(secret), base64.urlsafe_b64encode(secret)]
    return out


def test_key_card_pdf_decodes_to_the_stored_public_keys_and_no_secret_is_kept(
    app, api, staff, congress_id, tmp_path, caplog
):
    from congress_vote.audit.models import AuditEvent
    from congress_vote.seal.models import KeyCard

    caplog.set_level(logging.DEBUG)
    r = api("counter1").post(f"/api/v1/congresses/{congress_id}/key-card")
    assert r.status_code == 201 and r.mimetype == "application/pdf"
    assert "no-store" in r.headers["Cache-Control"]
    qr = _qr_texts(r.data, tmp_path)
    assert len(qr) == 2 and qr[0].startswith("CV1:O:") and qr[1].startswith("CV1:S:")
    opening = codes.parse_opening_code(qr[0])
    signing = codes.parse_signing_code(qr[1])
    with app.app_context():
        card = db.session.scalars(select(KeyCard)).one()
        assert card.user_id == staff["counter1"] and card.congress_id == congress_id
        assert bytes(opening.public_key) == card.opening_public
        assert bytes(signing.verify_key) == card.signing_public
        events = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "key_card.issued")
        ).all()
        assert len(events) == 1 and fingerprint(card.signing_public) in events[0].data
    # the printed text: name, congress, both codes typable, both fingerprints, in Vietnamese
    page = PdfReader(io.BytesIO(r.data)).pages[0].extract_text()
    flat = " ".join(page.split())
    for want in (
        "Counter1",
        "MÃ MỞ HÒM PHIẾU",  # the headings, in capitals
        "MÃ KÝ",
        fingerprint(bytes(opening.public_key)),
        fingerprint(bytes(signing.verify_key)),
        "Đại hội Đảng bộ thử nghiệm",
    ):
        assert want in flat, want
    typed = "".join(flat.split("MÃ MỞ HÒM PHIẾU", 1)[1].split())
    assert codes.format_key_code(qr[0][6:]).replace("-", "") in typed.replace("-", "")
    assert "code" not in flat.lower() and "fingerprint" not in flat.lower()  # no English
    # no secret in the database (every row of every table, and the SQLite file) nor the log
    secrets = [
        *_forms(bytes(opening)),
        *_forms(bytes(signing)),
        *_forms(qr[0][6:]),
        *_forms(qr[1][6:]),
    ]
    with app.app_context():
        rows = []
        for table in db.metadata.sorted_tables:
            for row in db.session.execute(text(f'SELECT * FROM "{table.name}"')):
                rows.append(repr(tuple(row)).encode())
        blob = b"\n".join(rows)
        files = []
        if db.engine.dialect.name == "sqlite":
            db.session.remove()
            db.engine.dispose()
            with open(db.engine.url.database, "rb") as f:
                files = [f.read()]
    for where, data in [
        ("rows", blob),
        ("log", caplog.text.encode()),
        *[("file", f) for f in files],
    ]:
        for s in secrets:
            assert s not in data, (where, s[:8])


def test_key_card_roles_and_reprinting(app, api, staff, congress_id, client):
    from congress_vote.seal.keycards import cards_for, current_card

    url = f"/api/v1/congresses/{congress_id}/key-card"
    assert client.post(url).status_code == 401
    assert api("admin").post(url).status_code == 403
    assert api("chair").post(url).status_code == 403
    assert api("counter1").post("/api/v1/congresses/99999/key-card").status_code == 404
    assert api("counter1").post(url).status_code == 201
    with app.app_context():
        first = current_card(congress_id, staff["counter1"]).id
    assert api("counter1").post(url).status_code == 201  # printing again re-keys
    with app.app_context():
        second = current_card(congress_id, staff["counter1"])
        assert second.id != first
        got = cards_for(congress_id, [staff["counter1"], staff["counter2"]])
        assert list(got) == [staff["counter1"]] and got[staff["counter1"]].id == second.id


def test_account_page_prints_the_card_per_congress(app, auth, client, staff, congress_id):
    _committee_poll(app, staff, congress_id)
    auth.login("counter1")
    page = client.get("/account").get_data(as_text=True)
    assert 'id="key-cards"' in page and "Chưa in" in page
    assert f'action="/account/key-card/{congress_id}"' in page
    assert 'name="csrf_token"' in page
    r = client.post(f"/account/key-card/{congress_id}")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert "no-store" in r.headers["Cache-Control"]
    with app.app_context():
        from congress_vote.seal.keycards import current_card

        card = current_card(congress_id, staff["counter1"])
    page = client.get("/account").get_data(as_text=True)
    assert fingerprint(card.opening_public) in page and fingerprint(card.signing_public) in page
    assert "Chưa in" not in page
    # a counter on no committee sees no section; an observer cannot print
    auth.logout()
    auth.login("counter3")
    assert 'id="key-cards"' not in client.get("/account").get_data(as_text=True)
    auth.logout()
    auth.login("observer")
    assert client.post(f"/account/key-card/{congress_id}").status_code == 403


# ---- signing with the card -------------------------------------------------------------------


def test_signing_needs_the_members_own_current_card(world, api, staff, key_cards):
    from congress_vote.counting.models import Signoff
    from congress_vote.counting.signoff import signature_rows
    from congress_vote.seal.signing import signoff_message, verify_signoff

    poll = world.election(committee=("counter1", "counter2"))
    res = api("counter1").post(f"/api/v1/polls/{poll.id}/count").json
    url = f"/api/v1/polls/{poll.id}/signoffs"

    def sign(who, code, digest=res["digest"]):
        return api(who).post(url, json={"digest": digest, "signing_code": code})

    r = sign("counter1", new_card().signing_qr)
    assert r.status_code == 409 and r.json["error"]["code"] == "no_key_card"
    c1 = key_cards.card(poll.congress_id, "counter1")
    c2 = key_cards.card(poll.congress_id, "counter2")
    r = sign("counter1", c2.signing_qr)  # someone else's card
    assert r.status_code == 403 and r.json["error"]["code"] == "wrong_key_card"
    code = c1.signing_code
    typo = code[:9] + ("3" if code[9] != "3" else "4") + code[10:]
    r = sign("counter1", typo)
    assert r.status_code == 422 and r.json["error"]["code"] == "bad_signing_code"
    assert r.json["reason"] == "typo"
    r = sign("counter1", c1.opening_qr)
    assert r.status_code == 422 and r.json["reason"] == "wrong_kind"
    r = api("counter1").post(url, json={"digest": res["digest"]})
    assert r.status_code == 400  # the code is required
    # a re-printed card replaces the old one for signing
    new1 = key_cards.card(poll.congress_id, "counter1", reissue=True)
    r = sign("counter1", c1.signing_qr)
    assert r.status_code == 403 and r.json["error"]["code"] == "wrong_key_card"
    r = sign("counter1", codes.format_key_code(new1.signing_code).lower())  # typed form
    assert r.status_code == 201, r.json
    sig = bytes.fromhex(r.json["signature"])
    assert verify_signoff(new1.signing_public, poll.id, res["digest"], sig)
    assert not verify_signoff(new1.signing_public, poll.id + 1, res["digest"], sig)
    msg = signoff_message(poll.id, res["digest"])
    assert msg == b"congress-vote/signoff/v1" + poll.id.to_bytes(8, "big") + bytes.fromhex(
        res["digest"]
    )
    r = sign("counter2", c2.signing_qr)
    assert r.status_code == 201 and r.json["status"] == "certified"
    db.session.expire_all()
    row = db.session.get(Signoff, (poll.id, staff["counter1"]))
    assert row.signature == sig and row.key_card_id is not None
    rows = {r["user_id"]: r for r in signature_rows(poll)}
    assert rows[staff["counter1"]]["signing_fingerprint"] == fingerprint(new1.signing_public)
    assert rows[staff["counter1"]]["opening_fingerprint"] == fingerprint(new1.opening_public)
    assert rows[staff["counter2"]]["signature"] == r.json["signature"]
    assert set(rows[staff["counter2"]]) >= {
        "full_name",
        "title",
        "is_head",
        "opening_fingerprint",
        "signing_fingerprint",
        "signature",
        "signed_at",
    }


def test_counting_page_signs_with_the_code(world, api, auth, client, key_cards):
    poll = world.election(committee=("counter1", "counter2"))
    res = api("counter1").post(f"/api/v1/polls/{poll.id}/count").json
    card = key_cards.card(poll.congress_id, "counter1")
    auth.login("counter1")
    page = client.get(f"/polls/{poll.id}/count").get_data(as_text=True)
    assert 'name="signing_code"' in page and "data-scanner" in page
    assert fingerprint(card.signing_public) in page
    r = client.post(
        f"/polls/{poll.id}/sign", data={"digest": res["digest"], "signing_code": card.signing_qr}
    )
    assert r.status_code == 302
    page = client.get(f"/polls/{poll.id}/count").get_data(as_text=True)
    got = api("counter1").get(f"/api/v1/polls/{poll.id}/result").json["signoffs"]
    assert len(got) == 1 and got[0]["signature"] in page
