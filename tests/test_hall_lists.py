"""Issue 17 items 3, 7 and 9 through the services and the API: namesakes (import, by hand,
candidate lists, rounds matched by id, labels), the desk's search (accents as typed), the paged
delegate list, the background cards document (sealed at rest), and paper disputes as the
committee reads them. The browser side: tests/e2e/test_hall_lists.py."""

from __future__ import annotations

import io

from congress_vote.extensions import db

HEADER = "code,full_name,branch,membership,gender,birth_year,position\n"


def _import(api, cid, rows: list[str]):
    return api("admin").post(
        f"/api/v1/congresses/{cid}/delegates/import",
        data=(HEADER + "\n".join(rows) + "\n").encode(),
        content_type="text/csv",
    )


# ---- namesakes ---------------------------------------------------------------------------------


def test_namesakes_import_with_a_warning_and_are_added_by_hand(api, app, auth, client, congress_id):
    r = _import(
        api,
        congress_id,
        [
            "H1,Nguyễn Văn Hùng,Chi bộ 1,full,M,1975,Bí thư",
            "H2,Nguyễn Văn Hùng,Chi bộ 2,full,M,1982,",
            "H3,Trần Thị Nhung,Chi bộ 2,full,F,1990,",
        ],
    )
    assert r.status_code == 201, r.json
    assert r.json["imported"] == 3
    assert [(w["row"], w["field"]) for w in r.json["warnings"]] == [(3, "full_name")]
    # a second file naming one of them again: imported, with a warning against the list
    r = _import(api, congress_id, ["H4,Nguyễn Văn Hùng,Chi bộ 3,full,M,1990,"])
    assert r.status_code == 201 and len(r.json["warnings"]) == 1
    # a code twice is still an error
    r = _import(api, congress_id, ["H1,Lê Văn Khác,Chi bộ 3,full,M,1990,"])
    assert r.status_code == 422
    # by hand: the same name again is accepted (no 409), the page names the namesakes
    auth.login("admin")
    r = client.post(
        f"/congresses/{congress_id}/delegates/new",
        data={
            "code": "H5",
            "full_name": "Nguyễn Văn Hùng",
            "branch": "Chi bộ 4",
            "membership": "full",
        },
        follow_redirects=True,
    )
    assert r.status_code == 200
    page = r.data.decode()
    assert "H1 (Chi bộ 1)" in page and "H2 (Chi bộ 2)" in page
    rows = api("admin").get(f"/api/v1/congresses/{congress_id}/delegates?q=Hùng").json
    assert sorted(d["code"] for d in rows) == ["H1", "H2", "H4", "H5"]


def _poll_body(staff, candidates):
    return {
        "kind": "committee",
        "title": "Bầu Ban Chấp hành",
        "seats": 2,
        "secrecy": "secret",
        "counting_committee": [staff["counter1"], staff["counter2"]],
        "rules": {"preset": "vn-party"},
        "candidates": candidates,
    }


def test_a_candidate_list_takes_namesakes_told_apart(api, staff, congress_id):
    r = api("admin").post(
        f"/api/v1/congresses/{congress_id}/polls",
        json=_poll_body(
            staff,
            [
                {"full_name": "Nguyễn Văn Hùng", "position": "Bí thư Chi bộ 1"},
                {"full_name": "Nguyễn Văn Hùng", "position": "Trưởng phòng Tổ chức"},
                {"full_name": "Lê Thị Mai", "position": ""},
            ],
        ),
    )
    assert r.status_code == 201, r.json
    assert [c["full_name"] for c in r.json["candidates"]].count("Nguyễn Văn Hùng") == 2
    # the same name with nothing to tell them apart is refused, saying what to add
    r = api("admin").post(
        f"/api/v1/congresses/{congress_id}/polls",
        json=_poll_body(
            staff,
            [{"full_name": "Nguyễn Văn Hùng"}, {"full_name": "Nguyễn Văn Hùng"}],
        ),
    )
    assert r.status_code == 422 and r.json["error"]["code"] == "duplicate_candidate"


def test_rounds_match_namesakes_by_id_and_labels_tell_them_apart(world, staff):
    from congress_vote.counting.rounds import create_round
    from congress_vote.polls.namesakes import candidate_label

    cid = world.congress(voters=10)
    poll = world.poll(cid, seats=1, candidates=["Nguyễn Văn Hùng", "Nguyễn Văn Hùng", "Lê Thị Mai"])
    hung = [c for c in poll.candidates if c.full_name == "Nguyễn Văn Hùng"]
    hung[0].position, hung[1].position = "Bí thư Chi bộ 1", "Trưởng phòng"
    poll.status = "counted"
    db.session.flush()
    labels = {candidate_label(c) for c in hung}
    assert labels == {"Nguyễn Văn Hùng (Bí thư Chi bộ 1)", "Nguyễn Văn Hùng (Trưởng phòng)"}
    assert candidate_label(poll.candidates[-1]) in ("Lê Thị Mai", "Nguyễn Văn Hùng (Trưởng phòng)")
    # the tie round between the two namesakes keeps both (matched by id, not by name)
    r2 = create_round(poll, [c.id for c in hung], seats=1, actor=staff["admin"])
    assert len(r2.candidates) == 2
    assert {c.origin_id for c in r2.candidates} == {c.id for c in hung}
    assert {c.person_id for c in r2.candidates} == {c.id for c in hung}
    r2.status = "counted"
    db.session.flush()
    r3 = create_round(r2, [r2.candidates[0].id], seats=1, actor=staff["admin"])
    assert [c.person_id for c in r3.candidates] == [r2.candidates[0].person_id]


# ---- search and paging -------------------------------------------------------------------------


def test_search_keeps_the_marks_typed_and_the_list_pages(api, app, congress_id):
    from congress_vote.congress.delegates import delegate_page, list_delegates
    from congress_vote.congress.setup import get_congress

    _import(
        api,
        congress_id,
        [
            "S1,Nguyễn Văn Hùng,Chi bộ 1,full,M,1975,",
            "S2,Trần Thị Nhung,Chi bộ 1,full,F,1980,",
            "S3,Lê Văn Hưng,Chi bộ 2,full,M,1981,",
            "S4,Phạm Hùng Anh,Chi bộ 2,full,M,1982,",
        ]
        + [f"P{n:03d},Đảng viên Số {n:03d},Chi bộ 3,full,,," for n in range(230)],
    )
    with app.app_context():
        c = get_congress(congress_id)

        def codes(q):
            return sorted(d.code for d in list_delegates(c, q=q))

        assert codes("Hùng") == ["S1", "S4"]  # not Nhung, not Hưng
        assert codes("hung") == ["S1", "S3", "S4"]  # without marks: every Hùng/Hưng, no Nhung
        assert codes("nguyen van hung") == ["S1"]
        assert codes("Hưng") == ["S3"]
        assert codes("s2") == ["S2"]
        page, total = delegate_page(c, offset=100, limit=100)
        assert total == 234 and len(page) == 100
        last, total = delegate_page(c, offset=200, limit=100)
        assert len(last) == 34
        page, total = delegate_page(c, q="số 00", offset=0, limit=5)  # Số 000 … Số 009
        assert total == 10 and len(page) == 5
        assert codes("hùng nguyễn") == []  # the words in the name's order
    r = api("admin").get(f"/api/v1/congresses/{congress_id}/delegates?q=Hùng")
    assert sorted(d["code"] for d in r.json) == ["S1", "S4"]


def test_the_delegate_page_is_paged_and_searched_on_the_server(api, auth, client, congress_id):
    _import(
        api, congress_id, [f"P{n:03d},Đảng viên Số {n:03d},Chi bộ 3,full,,," for n in range(230)]
    )
    auth.login("admin")
    page = client.get(f"/congresses/{congress_id}/delegates").data.decode()
    assert page.count("<tr>") - 1 == 100 and "P099" in page and "P100" not in page
    page3 = client.get(f"/congresses/{congress_id}/delegates?page=3").data.decode()
    assert "P229" in page3 and "P199" not in page3
    found = client.get(f"/congresses/{congress_id}/delegates?q=P22").data.decode()
    assert "P229" in found and "P001" not in found


# ---- the cards as a background document ---------------------------------------------------------


def test_cards_document_runs_in_the_background_and_is_sealed_at_rest(api, app, sample_congress):
    from pypdf import PdfReader

    from congress_vote.congress.cards import card_code
    from congress_vote.congress.models import Delegate
    from congress_vote.jobs import runner
    from congress_vote.jobs.models import DocumentJob

    r = api("admin").post(f"/api/v1/congresses/{sample_congress}/documents", json={"kind": "cards"})
    assert r.status_code == 202, r.json
    job_id = r.json["id"]
    assert r.json["total"] == 145 and r.json["state"] in ("queued", "running", "done")
    # a second click while it runs gives the same job
    again = api("admin").post(
        f"/api/v1/congresses/{sample_congress}/documents", json={"kind": "cards"}
    )
    assert again.json["id"] == job_id or again.json["state"] == "done"
    with app.app_context():
        runner.wait(job_id)
    r = api("admin").get(f"/api/v1/documents/{job_id}")
    assert r.json["state"] == "done" and r.json["percent"] == 100 and r.json["done"] == 145
    pdf = api("admin").get(r.json["file_url"])
    assert pdf.status_code == 200 and pdf.headers["Cache-Control"] == "no-store"
    assert len(PdfReader(io.BytesIO(pdf.data)).pages) == 15
    with app.app_context():
        job = db.session.get(DocumentJob, job_id)
        d = db.session.scalars(
            db.select(Delegate).where(Delegate.congress_id == sample_congress)
        ).first()
        code = card_code(d)
        assert b"%PDF" not in job.sealed and code.encode() not in job.sealed
    assert api("registrar").get(f"/api/v1/documents/{job_id}").status_code == 403
    assert api("admin").get("/api/v1/documents/nope").status_code == 404
    r = api("admin").post(f"/api/v1/congresses/{sample_congress}/documents", json={"kind": "x"})
    assert r.status_code == 422


# ---- paper disputes ----------------------------------------------------------------------------


def test_a_dispute_names_the_printed_code_the_counters_and_what_differs(world, staff):
    from congress_vote.auth.models import User
    from congress_vote.codes import format_code
    from congress_vote.counting.paper_disputes import paper_queue
    from congress_vote.counting.paper_entry import enter_paper_ballot
    from congress_vote.counting.paper_returns import record_paper_return

    cid = world.congress(voters=10)
    poll = world.poll(cid, seats=2)
    a, b, c = (x.id for x in poll.candidates)
    code, code2 = world.issue(poll, 2, kind="paper")
    world.close(poll)
    c1, c2 = (db.session.get(User, staff[n]) for n in ("counter1", "counter2"))
    record_paper_return(poll, "0", c1)
    enter_paper_ballot(poll, code, c1, kept=[a, b])
    enter_paper_ballot(poll, code, c2, kept=[a, c])
    enter_paper_ballot(poll, code2, c1, kept=[a])
    q = paper_queue(poll)
    (d,) = q["disputed"]
    assert d["ballot"] == format_code(code) and d["code"] == code
    assert [e["user"] for e in d["entries"]] == [c1.display_name, c2.display_name]
    names = {x.id: x.full_name for x in poll.candidates}
    assert [x["line"] for x in d["differences"]] == [names[b], names[c]]
    assert d["differences"][0]["readings"][0] != d["differences"][0]["readings"][1]
    (p,) = q["pending"]
    assert p["ballot"] == format_code(code2) and p["entries"][0]["user"] == c1.display_name


def test_a_refused_entry_keeps_the_form_for_the_committee_only(world, staff, client, auth):
    from congress_vote.auth.models import User
    from congress_vote.codes import format_code
    from congress_vote.counting.paper_entry import enter_paper_ballot
    from congress_vote.counting.paper_returns import record_paper_return

    cid = world.congress(voters=10)
    poll = world.poll(cid, seats=2)
    a, b, c = (x.id for x in poll.candidates)
    (code,) = world.issue(poll, 1, kind="paper")
    world.close(poll)
    c1, c2 = (db.session.get(User, staff[n]) for n in ("counter1", "counter2"))
    record_paper_return(poll, "0", c1)
    enter_paper_ballot(poll, code, c1, kept=[a, b])
    enter_paper_ballot(poll, code, c2, kept=[a])
    db.session.commit()
    pid = poll.id
    # a member's refused entry (the same ballot again): the page again, with the ticks kept
    auth.login("counter1")
    r = client.post(f"/polls/{pid}/paper", data={"code": code, "kept": [str(a), str(c)]})
    assert r.status_code == 409
    html = r.data.decode()
    assert f'value="{code}"' in html and format_code(code) in html
    assert f'value="{a}" data-counting-kept checked' in html
    assert f'value="{b}" data-counting-kept>' in html  # struck, as the counter left it
    # someone not on the committee gets the refusal, never the committee's page
    auth.logout()
    auth.login("counter3")
    r = client.post(f"/polls/{pid}/paper", data={"code": code, "kept": [str(a)]})
    assert r.status_code == 403 and format_code(code) not in r.data.decode()
