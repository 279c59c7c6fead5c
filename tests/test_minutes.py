"""The counting minutes PDF: every figure of the result, Vietnamese by default, page breaks."""

from __future__ import annotations

import io
import re

from pypdf import PdfReader

from congress_vote.extensions import db


def _text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def _flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


def _vi_percent(value) -> str:
    """The API's "92.20" as the Vietnamese paper prints it: "92,20%"."""
    return f"{value}%".replace(".", ",")


def _figures(res: dict):
    """Every figure of the result dict, as the strings the minutes must carry."""
    yield "denominator", res["denominator"]
    for key, value in res["figures"].items():
        if isinstance(value, dict):
            for k, v in value.items():
                yield f"figures.{key}.{k}", v
        else:
            yield f"figures.{key}", value
    for c in res["candidates"]:
        for k in ("full_name", "votes"):
            yield f"candidate {c['id']} {k}", c[k]
        yield f"candidate {c['id']} percent", _vi_percent(c["percent"])
    for i in res["items"]:
        for k in ("text", "for", "against", "abstain"):
            yield f"item {i['id']} {k}", i[k]
        yield f"item {i['id']} percent_for", _vi_percent(i["percent_for"])
    yield "unfilled_seats", res["unfilled_seats"]
    for t in res["ties"]:
        yield "tie seats", t["seats_contested"]
    if res.get("threshold_votes") is not None:
        yield "threshold", res["threshold_votes"]


def test_minutes_carry_every_figure(world, api, auth, client, staff, sign_off):
    poll = world.election(
        voters=24,
        excused=2,
        present=20,
        votes=[[0, 1]] * 9 + [[0, 2]] * 4 + [[1, 2]] * 3 + [[0, 1, 2]] + [[]],
        committee=("counter1", "counter2", "counter3"),
        head="counter2",
    )
    res = api("counter1").post(f"/api/v1/polls/{poll.id}/count").json
    sign_off("counter1", poll.id, res["digest"])
    r = api("chair").get(f"/api/v1/polls/{poll.id}/minutes.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    text = _text(r.data)
    flat = _flat(text)
    missing = [(name, value) for name, value in _figures(res) if _flat(str(value)) not in flat]
    assert not missing, missing
    # the fingerprints: ballot set, setup, audit head, entry log reference
    from congress_vote.audit.services import head_hash

    assert res["digest"] in flat
    assert poll.setup_fingerprint in flat
    assert head_hash() in flat
    # Vietnamese by default, a signature line for every committee member
    assert "BIÊN BẢN KIỂM PHIẾU" in text.upper() or "Counting minutes" not in text
    for name in ("Counter1", "Counter2", "Counter3"):
        assert name in text
    # the official form: heading, long date, narrative, closing, no UTC, decimal commas
    assert "ĐẢNG CỘNG SẢN VIỆT NAM" in text and "BAN KIỂM PHIẾU" in text
    assert re.search(r"ngày \d{1,2} tháng \d{1,2} năm \d{4}", text)
    assert "Hômnay,vàolúc" in flat and "Bankiểmphiếugồmcácđồngchí" in flat
    assert "Counter2(Trưởngban)" in flat
    assert "Biênbảnlậpxong" in flat and "nhấttríkýtên" in flat
    assert "UTC" not in text
    assert re.search(r"\d,\d\d%", text) and not re.search(r"\d\.\d\d%", text)
    # elected in descending order of votes
    elected = [c for c in res["candidates"] if c["elected"]]
    order = [
        text.rfind(c["full_name"])
        for c in sorted(elected, key=lambda c: res["elected_order"].index(c["id"]))
    ]
    assert order == sorted(order)
    # English on request
    en = _text(api("counter1").get(f"/api/v1/polls/{poll.id}/minutes.pdf?lang=en").data)
    assert "Counting minutes" in en or "COUNTING MINUTES" in en


def test_minutes_refused_before_count(world, api):
    cid = world.congress()
    poll = world.poll(cid)
    db.session.commit()
    r = api("counter1").get(f"/api/v1/polls/{poll.id}/minutes.pdf")
    assert r.status_code == 409
    assert api("observer").get(f"/api/v1/polls/{poll.id}/minutes.pdf").status_code == 403


def test_minutes_resolution(world, api):
    cid = world.congress(voters=12)
    poll = world.poll(
        cid, kind="resolution", items=["Thông qua báo cáo chính trị", "Thông qua nghị quyết"]
    )
    toks = world.issue(poll, 10)
    i1, i2 = (i.id for i in poll.items)
    for n, code in enumerate(toks[:9]):
        world.cast(
            poll,
            code,
            answers={
                str(i1): "for" if n < 8 else "against",
                str(i2): "abstain" if n < 3 else "for",
            },
        )
    world.close(poll)
    db.session.commit()
    res = api("counter1").post(f"/api/v1/polls/{poll.id}/count").json
    flat = _flat(_text(api("counter1").get(f"/api/v1/polls/{poll.id}/minutes.pdf").data))
    missing = [(n, v) for n, v in _figures(res) if _flat(str(v)) not in flat]
    assert not missing, missing


def test_minutes_200_candidates_page_breaks(world, api, tmp_path):
    """200 names: the table header repeats on every page, no row is split across pages, and the
    signature block stays together (checked on the page text)."""
    names = [f"Ứng Viên Số {n:03d}" for n in range(200)]
    cid = world.congress(voters=60)
    poll = world.poll(
        cid, seats=150, candidates=names, committee=("counter1", "counter2", "counter3")
    )
    toks = world.issue(poll, 50)
    ids = [c.id for c in poll.candidates]
    for n, code in enumerate(toks):
        world.cast(poll, code, kept=ids[n % 50 : n % 50 + 100])
    world.close(poll)
    db.session.commit()
    api("counter1").post(f"/api/v1/polls/{poll.id}/count")
    pdf = api("counter1").get(f"/api/v1/polls/{poll.id}/minutes.pdf?lang=en").data
    (tmp_path / "minutes200.pdf").write_bytes(pdf)
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) >= 4
    result_pages = [t for t in pages if "Ứng Viên Số" in t]
    assert len(result_pages) >= 3
    for t in result_pages[1:]:
        if t.count("Ứng Viên Số") > 5 and "—" not in t:  # a page of the results table
            assert "Percent" in t  # the header repeated
    for name in names:  # every row on exactly one page (none split)
        assert sum(t.count(name) for t in pages) >= 1
    sig_pages = [
        i
        for i, t in enumerate(pages)
        if "HEAD OF THE COUNTING COMMITTEE" in t or "MEMBER" in t and "Counter3" in t
    ]
    assert sig_pages and all(
        ("Counter1" in pages[i] and "Counter3" in pages[i]) for i in sig_pages[-1:]
    )
