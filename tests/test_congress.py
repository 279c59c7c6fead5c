"""Congress area: import, registry, card codes, check-in, attendance and quorum (API and
services)."""

from __future__ import annotations

import io

import pytest

from congress_vote import codes
from congress_vote.extensions import db
from tests.conftest import SAMPLE_CSV

HEADER_EN = "code,full_name,branch,membership,gender,birth_year,position\n"
HEADER_VI = "mã,họ và tên,chi bộ,đảng viên,giới tính,năm sinh,chức vụ\n"


def _delegates(api, cid, user="admin"):
    r = api(user).get(f"/api/v1/congresses/{cid}/delegates")
    assert r.status_code == 200
    return r.json


def _count(app, cid):
    from congress_vote.congress.models import Delegate

    with app.app_context():
        return db.session.query(Delegate).filter_by(congress_id=cid).count()


def _xlsx(rows) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


# ---- import ----------------------------------------------------------------------------------


def test_sample_import_145_delegates_7_branches_141_voters(api, congress_id, app):
    r = api("admin").post(
        f"/api/v1/congresses/{congress_id}/delegates/import",
        data=SAMPLE_CSV.read_bytes(),
        content_type="text/csv",
    )
    assert r.status_code == 201, r.json
    assert r.json == {"imported": 145, "warnings": []}
    ds = _delegates(api, congress_id)
    assert len(ds) == 145
    assert len({d["branch"] for d in ds}) == 7
    assert sum(d["can_vote"] for d in ds) == 141
    c = api("observer").get(f"/api/v1/congresses/{congress_id}").json
    assert len(c["branches"]) == 7
    att = api("observer").get(f"/api/v1/congresses/{congress_id}/attendance").json
    assert (att["summoned"], att["voters_summoned"], att["denominator"]) == (145, 141, 141)
    from congress_vote.audit.models import AuditEvent

    with app.app_context():
        ev = db.session.query(AuditEvent).filter_by(action="delegates.imported").one()
        assert '"count":145' in ev.data and "delegates-145.csv" not in ev.data  # body upload


def test_multipart_import_records_file_name_but_never_uses_it_as_path(api, congress_id, app):
    data = {"file": (io.BytesIO(SAMPLE_CSV.read_bytes()), "../../etc/passwd.csv")}
    r = api("admin").post(
        f"/api/v1/congresses/{congress_id}/delegates/import",
        data=data,
        content_type="multipart/form-data",
    )
    assert r.status_code == 201 and r.json["imported"] == 145
    from congress_vote.audit.models import AuditEvent

    with app.app_context():
        ev = db.session.query(AuditEvent).filter_by(action="delegates.imported").one()
        assert "passwd.csv" in ev.data and "../" not in ev.data


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("header", [HEADER_EN, HEADER_VI])
def test_one_bad_row_imports_nothing_and_names_row_and_reason(api, congress_id, app, fmt, header):
    membership_ok = "chính thức" if header is HEADER_VI else "full"
    lines = [header.strip()] + [
        f"D{i},Nguyễn Văn Người {i},Chi bộ A,{membership_ok},M,1980," for i in range(1, 6)
    ]
    lines.insert(4, "D9,Trần Thị Sai,Chi bộ A,đảng viên mới,F,1980,")  # file row 5
    if fmt == "csv":
        r = api("admin").post(
            f"/api/v1/congresses/{congress_id}/delegates/import",
            data="\n".join(lines).encode(),
            content_type="text/csv",
        )
    else:
        rows = [line.split(",") for line in lines]
        r = api("admin").post(
            f"/api/v1/congresses/{congress_id}/delegates/import",
            data={"file": (io.BytesIO(_xlsx(rows)), "list.xlsx")},
            content_type="multipart/form-data",
        )
    assert r.status_code == 422, r.json
    assert r.json["error"]["code"] == "invalid_rows"
    assert r.json["rows"] == [
        {"row": 5, "field": "membership", "message": r.json["rows"][0]["message"]}
    ]
    assert "đảng viên mới" in r.json["rows"][0]["message"]
    assert _count(app, congress_id) == 0


def test_vietnamese_headers_and_values_import(api, congress_id):
    body = HEADER_VI + (
        "A1,Lê Văn Bình,Chi bộ Một,Chính thức,Nam,1970,Bí thư\n"
        "A2,Phạm Thị Dung,Chi bộ Một,dự bị,Nữ,1995,\n"
    )
    r = api("admin").post(
        f"/api/v1/congresses/{congress_id}/delegates/import",
        data=("\ufeff" + body).encode(),
        content_type="text/csv",
    )
    assert r.status_code == 201, r.json
    ds = {d["code"]: d for d in _delegates(api, congress_id)}
    assert ds["A1"]["membership"] == "full" and ds["A2"]["membership"] == "probationary"
    assert ds["A2"]["can_vote"] is False


def test_every_bad_row_listed_duplicates_year_length_missing(
    api, congress_id, app, sample_congress
):
    body = (
        HEADER_EN
        + "\n".join(
            [
                "X1,Người Một,Chi bộ A,full,M,1980,",  # 2 ok
                "X1,Người Hai,Chi bộ A,full,M,1980,",  # 3 duplicate code in file
                "X3,Người Một,Chi bộ A,full,M,1980,",  # 4 a namesake in the file: no error
                "DB001,Người Bốn,Chi bộ A,full,M,1980,",  # 5 code already on the list
                "X5,Huỳnh Quang Quân,Chi bộ A,full,M,1980,",  # 6 a namesake on the list: no error
                "X6,Người Sáu,Chi bộ A,full,M,1850,",  # 7 birth year
                "X7," + "A" * 201 + ",Chi bộ A,full,,,",  # 8 overlong name
                "X8,,Chi bộ A,full,,,",  # 9 missing name
                "X9,Người Chín,Chi bộ A,full,X,,",  # 10 unknown gender
            ]
        )
        + "\n"
    )
    r = api("admin").post(
        f"/api/v1/congresses/{sample_congress}/delegates/import",
        data=body.encode(),
        content_type="text/csv",
    )
    assert r.status_code == 422
    got = {(e["row"], e["field"]) for e in r.json["rows"]}
    assert got == {
        (3, "code"),
        (5, "code"),
        (7, "birth_year"),
        (8, "full_name"),
        (9, "full_name"),
        (10, "gender"),
    }
    assert _count(app, sample_congress) == 145


def test_bad_encoding_is_a_clear_error(api, congress_id, app):
    body = (HEADER_EN + "Z1,Lê Văn Ánh,Chi bô A,full,M,1980,\n").encode("cp1258")
    r = api("admin").post(
        f"/api/v1/congresses/{congress_id}/delegates/import", data=body, content_type="text/csv"
    )
    assert r.status_code == 422
    assert "UTF-8" in r.json["error"]["message"]
    assert r.json["rows"][0]["field"] == "file" and "1258" in r.json["rows"][0]["message"]
    assert _count(app, congress_id) == 0


def test_missing_column_and_empty_file(api, congress_id):
    r = api("admin").post(
        f"/api/v1/congresses/{congress_id}/delegates/import",
        data=b"code,full_name\nA,B\n",
        content_type="text/csv",
    )
    assert r.status_code == 422
    assert {e["field"] for e in r.json["rows"]} == {"branch", "membership"}
    r = api("admin").post(
        f"/api/v1/congresses/{congress_id}/delegates/import", data=b"", content_type="text/csv"
    )
    assert r.status_code == 422


def test_vietnamese_order_of_the_list(api, sample_congress):
    from congress_vote.i18n.collation import name_sort_key

    names = [d["full_name"] for d in _delegates(api, sample_congress)]
    assert names == sorted(names, key=name_sort_key)
    # given name first: every "An" comes before every "Ánh", whatever the family name
    given = [n.split()[-1] for n in names]
    assert given.index("Ánh") > max(i for i, g in enumerate(given) if g == "An")


def test_search_is_accent_insensitive(app, sample_congress):
    from congress_vote.congress.delegates import list_delegates
    from congress_vote.congress.setup import get_congress

    with app.app_context():
        c = get_congress(sample_congress)
        hits = list_delegates(c, q="huynh quang quan")
        assert [d.code for d in hits] == ["DB001"]
        assert all("Chu Văn An" in d.branch_name for d in list_delegates(c, q="chu van an"))


# ---- congress setup --------------------------------------------------------------------------


def test_create_congress_api_validates(api):
    r = api("admin").post(
        "/api/v1/congresses",
        json={
            "name": "Đại hội B",
            "organisation": "Đảng bộ B",
            "term": "2025–2030",
            "venue": "Hội trường",
            "starts_on": "2025-07-01",
            "kind": "delegates",
            "quorum_fraction": "1/2",
        },
    )
    assert r.status_code == 201 and r.json["kind"] == "delegates"
    assert r.json["quorum_fraction"] == "1/2"
    assert api("observer").get("/api/v1/congresses").json[0]["id"] == r.json["id"]
    for bad in (
        {"name": "X", "quorum_fraction": "3/2"},
        {"name": "X", "quorum_fraction": "a"},
        {"name": "X", "kind": "party"},
        {"name": "X", "starts_on": "2025-13-40"},
        {"name": ""},
        {"name": "X", "starts_on": "2025-07-02", "ends_on": "2025-07-01"},
    ):
        r = api("admin").post("/api/v1/congresses", json=bad)
        assert r.status_code == 422, bad
    assert api("registrar").post("/api/v1/congresses", json={"name": "Y"}).status_code == 403


# ---- card codes and check-in -----------------------------------------------------------------


def test_check_in_by_qr_printed_code_and_raw_code(api, sample_congress, card_of):
    ds = _delegates(api, sample_congress)
    voters = [d for d in ds if d["can_vote"]]
    code, qr = card_of(voters[0]["id"])
    assert qr == "CV1:C:" + code
    assert "card_code" not in voters[0]  # a credential: on the printed card only
    url = f"/api/v1/congresses/{sample_congress}/checkin"
    r = api("registrar").post(url, json={"card": qr})
    assert r.status_code == 200 and r.json["already_present"] is False
    assert r.json["delegate"]["id"] == voters[0]["id"]
    assert r.json["delegate"]["status"] == "present"
    # printed form, lower case, with dashes
    code2, _ = card_of(voters[1]["id"])
    r = api("registrar").post(url, json={"card": codes.format_code(code2).lower()})
    assert r.status_code == 200 and r.json["delegate"]["id"] == voters[1]["id"]
    code3, _ = card_of(voters[2]["id"])
    r = api("registrar").post(url, json={"card": code3})
    assert r.json["delegate"]["id"] == voters[2]["id"]
    # repeated scan
    r = api("registrar").post(url, json={"card": qr})
    assert r.status_code == 200 and r.json["already_present"] is True
    att = api("observer").get(f"/api/v1/congresses/{sample_congress}/attendance").json
    assert att["present"] == 3 and att["voters_present"] == 3


def test_other_congress_card_and_forged_codes_refused(
    api, sample_congress, make_congress, card_of, app
):
    other = make_congress(name="Đại hội khác")
    api("admin").post(
        f"/api/v1/congresses/{other}/delegates/import",
        data=(HEADER_EN + "O1,Võ Văn Khác,Chi bộ K,full,,,\n").encode(),
        content_type="text/csv",
    )
    other_delegate = _delegates(api, other)[0]
    _, qr = card_of(other_delegate["id"])
    url = f"/api/v1/congresses/{sample_congress}/checkin"
    r = api("registrar").post(url, json={"card": qr}, headers={"Accept-Language": "en"})
    assert r.status_code == 404 and r.json["error"]["code"] == "card_of_another_congress"
    assert "another congress" in r.json["error"]["message"]
    from congress_vote.congress.cards import delegate_by_card
    from congress_vote.congress.setup import get_congress

    with app.app_context():
        assert delegate_by_card(get_congress(sample_congress), qr) is None
        assert delegate_by_card(get_congress(other), qr).id == other_delegate["id"]
    forged = codes.new_code()  # well-formed but nobody's card
    r = api("registrar").post(url, json={"card": "CV1:C:" + forged})
    assert r.status_code == 404 and r.json["error"]["code"] == "unknown_card"
    # a typo: the check character catches it
    code, _ = card_of(_delegates(api, sample_congress)[0]["id"])
    typo = ("3" if code[0] != "3" else "4") + code[1:]
    for text in (typo, "hello", "CV1:B:" + code, "DB001", ""):
        r = api("registrar").post(url, json={"card": text})
        assert r.status_code == 422 and r.json["error"]["code"] == "not_a_card_code", text
    att = api("observer").get(f"/api/v1/congresses/{sample_congress}/attendance").json
    assert att["present"] == 0


def test_reissue_card_cancels_the_old_card(app, sample_congress, card_of, api):
    did = _delegates(api, sample_congress)[0]["id"]
    old, _ = card_of(did)
    from congress_vote.congress.cards import reissue_card
    from congress_vote.congress.models import Delegate

    with app.app_context():
        new = reissue_card(db.session.get(Delegate, did))
        db.session.commit()
    assert new != old
    url = f"/api/v1/congresses/{sample_congress}/checkin"
    assert api("registrar").post(url, json={"card": old}).status_code == 404
    assert api("registrar").post(url, json={"card": new}).json["delegate"]["id"] == did


def test_probationary_undo_excused_denominator_and_quorum(app, sample_congress, api):
    from congress_vote.congress.attendance import attendance
    from congress_vote.congress.cards import card_qr_text
    from congress_vote.congress.checkin import (
        check_in,
        check_in_delegate,
        set_attendance,
        undo_check_in,
    )
    from congress_vote.congress.delegates import list_delegates
    from congress_vote.congress.models import Delegate
    from congress_vote.congress.setup import get_congress
    from congress_vote.errors import ServiceError

    with app.app_context():
        c = get_congress(sample_congress)
        ds = list_delegates(c)
        prob = [d for d in ds if not d.can_vote]
        full = [d for d in ds if d.can_vote]
        d, already = check_in(c, card_qr_text(prob[0]))
        assert not already and not d.can_vote
        f = attendance(c)
        assert (f["present"], f["voters_present"]) == (1, 0)
        undo_check_in(prob[0])
        assert attendance(c)["present"] == 0
        with pytest.raises(ServiceError):
            undo_check_in(prob[0])
        # excused: a reason is required; the denominator drops for full members only
        with pytest.raises(ServiceError):
            set_attendance(full[0], "excused", "  ")
        set_attendance(full[0], "excused", "Ốm")
        set_attendance(prob[1], "excused", "Công tác")
        f = attendance(c)
        assert (f["excused"], f["excused_voters"], f["denominator"]) == (2, 1, 140)
        assert f["voters_summoned"] == 141
        # quorum 2/3 of 141 voters summoned = 94
        for x in full[1:94]:
            check_in_delegate(x)
        f = attendance(c)
        assert f["voters_present"] == 93 and f["quorum_met"] is False
        check_in_delegate(full[94])
        f = attendance(c)
        assert f["voters_present"] == 94 and f["quorum_met"] is True
        assert sum(b["voters_present"] for b in f["by_branch"]) == 94
        assert sum(b["excused"] for b in f["by_branch"]) == 2
        db.session.commit()
        # an excused delegate who turns up becomes present again
        check_in_delegate(full[0])
        assert db.session.get(Delegate, full[0].id).absence_reason is None
        assert attendance(c)["denominator"] == 141
        db.session.commit()
    from congress_vote.audit.models import AuditEvent

    with app.app_context():
        actions = {e.action for e in db.session.query(AuditEvent)}
        assert {"delegate.checked_in", "delegate.checkin_undone", "delegate.attendance"} <= actions


def test_attendance_api(api, sample_congress):
    did = _delegates(api, sample_congress)[0]["id"]
    url = f"/api/v1/congresses/{sample_congress}/delegates/{did}/attendance"
    r = api("registrar").post(url, json={"status": "excused", "reason": "Ốm nặng"})
    assert r.status_code == 200 and r.json["status"] == "excused"
    assert r.json["absence_reason"] == "Ốm nặng"
    assert api("registrar").post(url, json={"status": "excused"}).status_code == 422
    assert api("registrar").post(url, json={"status": "gone"}).status_code == 422
    assert api("registrar").post(url, json={"status": 3}).status_code == 400
    assert api("admin").post(url, json={"status": "present"}).status_code == 403
    r = api("registrar").post(url, json={"status": "present"})
    assert r.json["status"] == "present"
    att = api("observer").get(f"/api/v1/congresses/{sample_congress}/attendance").json
    assert set(att) >= {
        "summoned",
        "voters_summoned",
        "excused",
        "denominator",
        "present",
        "voters_present",
        "quorum_fraction",
        "quorum_met",
    }
    assert att["present"] == 1 and att["excused"] == 0
    assert (
        api("registrar")
        .post(
            f"/api/v1/congresses/{sample_congress}/delegates/999999/attendance",
            json={"status": "present"},
        )
        .status_code
        == 404
    )


def test_delegate_of_another_congress_is_not_reachable(api, sample_congress, make_congress):
    other = make_congress(name="Đại hội khác 2")
    did = _delegates(api, sample_congress)[0]["id"]
    r = api("registrar").post(
        f"/api/v1/congresses/{other}/delegates/{did}/attendance", json={"status": "present"}
    )
    assert r.status_code == 404


# ---- exports ---------------------------------------------------------------------------------


def test_exports_neutralise_formulas(app, client, auth, congress_id):
    from congress_vote.congress.delegates import add_delegate
    from congress_vote.congress.setup import get_congress

    with app.app_context():
        c = get_congress(congress_id)
        add_delegate(
            c,
            {
                "code": "=1+1",
                "full_name": '=HYPERLINK("http://x")',
                "branch": "@Chi bộ",
                "membership": "full",
            },
        )
        db.session.commit()
    auth.login("observer")
    r = client.get(f"/congresses/{congress_id}/delegates/export/csv")
    assert r.status_code == 200
    text = r.data.decode("utf-8-sig")
    assert "'=HYPERLINK" in text and "'=1+1" in text and "'@Chi bộ" in text
    r = client.get(f"/congresses/{congress_id}/delegates/export/xlsx")
    from openpyxl import load_workbook

    ws = load_workbook(io.BytesIO(r.data)).active
    values = [c.value for c in list(ws.iter_rows())[1]]
    assert '\'=HYPERLINK("http://x")' in values and "'=1+1" in values
    assert all(not (isinstance(v, str) and v.startswith(("=", "@"))) for v in values)
