"""Printed outcomes and exports: announcement and summary PDFs (text read back, pages rendered),
CSV/XLSX/JSON results with formula injection neutralised, and the ballots file recounted
standalone by `python -m congress_vote.rules.recount`."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from congress_vote.extensions import db
from tests import fx_reports as fx
from tests.test_reports import _advance, _result

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def w(app, staff):
    with app.app_context():
        world = fx.world(staff)
        db.session.commit()
        return {k: v.id for k, v in world.items()}


def _text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


def _pngs(pdf: bytes, tmp_path: Path, name: str) -> list[Path]:
    f = tmp_path / f"{name}.pdf"
    f.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "80", "-png", str(f), str(tmp_path / name)], check=True)
    pages = sorted(tmp_path.glob(f"{name}*.png"))
    keep = os.environ.get("REPORTS_KEEP_PNG")  # to look at them: REPORTS_KEEP_PNG=/tmp/dir
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        for page in pages:
            shutil.copy(page, Path(keep) / page.name)
    assert pages and all(p.stat().st_size > 5000 for p in pages)
    return pages


def _squash(s: str) -> str:
    return "".join(s.split())


def _vi(percent: str) -> str:
    """The API's "92.20" as the Vietnamese papers print it: "92,20"."""
    return percent.replace(".", ",")


@pytest.mark.parametrize("kind", ["committee", "slate", "resolution"])
def test_announcement_pdf(app, api, staff, w, tmp_path, kind):
    pid = w[kind]
    _advance(app, staff, pid, "closed", seed=7)
    assert api("chair").get(f"/api/v1/polls/{pid}/announcement.pdf").status_code == 409
    _advance_more(app, staff, pid, "counted")
    assert api("counter1").get(f"/api/v1/polls/{pid}/announcement.pdf").status_code == 403
    r = api("chair").get(f"/api/v1/polls/{pid}/announcement.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    res = _result(app, pid)
    text = _text(r.data)
    flat = _squash(text)
    assert res["title"] in text
    f = res["figures"]
    for key in (
        "voters_summoned",
        "voters_present",
        "ballots_issued",
        "ballots_returned",
        "ballots_valid",
        "ballots_invalid",
    ):
        assert str(f[key]) in text
    assert str(res["denominator"]) in text
    if kind == "resolution":
        for i in res["items"]:
            assert str(i["for"]) in text and _vi(i["percent_for"]) in text
    else:
        for c in res["candidates"]:
            assert _squash(c["full_name"]) in flat and _vi(c["percent"]) in text, c
        elected = [c for c in res["candidates"] if c["elected"]]
        # the elected table lists them in the order of election
        tail = flat[flat.rindex(_squash("Elected")) if "Elected" in flat else 0 :]
        positions = [
            tail.find(_squash(by_id(res, cid)["full_name"])) for cid in res["elected_order"]
        ]
        assert positions == sorted(positions) and len(elected) >= 1
    assert res["digest"] in flat
    with app.app_context():
        from congress_vote.audit.services import head_hash

        assert head_hash() in flat
        from congress_vote.polls.models import Poll

        assert db.session.get(Poll, pid).setup_fingerprint in flat
    _pngs(r.data, tmp_path, f"announcement-{kind}")


def by_id(res, cid):
    return next(c for c in res["candidates"] if c["id"] == cid)


def _advance_more(app, staff, pid, to):
    """From closed (or later) onwards to `to`."""
    from congress_vote.polls.models import Poll

    steps = ["closed", "counted", "certified", "published"]
    with app.app_context():
        p = db.session.get(Poll, pid)
        for step in steps[steps.index(p.status) + 1 : steps.index(to) + 1]:
            if step == "counted":
                fx.count(p)
            elif step == "certified":
                fx.certify(p, [staff["counter1"], staff["counter2"]])
            else:
                p.status = "published"
        db.session.commit()


def test_announcement_in_vietnamese_and_english(app, client, auth, staff, w):
    pid = w["committee"]
    _advance(app, staff, pid, "counted")
    auth.login("chair")
    vi = _text(client.get(f"/api/v1/polls/{pid}/announcement.pdf").data)
    client.get("/lang/en")
    en = _text(client.get(f"/api/v1/polls/{pid}/announcement.pdf").data)
    assert "ANNOUNCEMENT OF THE ELECTION RESULT" in en.upper().replace("\n", " ")
    assert "THÔNG BÁO KẾT QUẢ BẦU CỬ" in vi.upper().replace("\n", " ") or not _catalogue_built()


def _catalogue_built() -> bool:
    mo = ROOT / "congress_vote/i18n/translations/vi/LC_MESSAGES/messages.mo"
    if not mo.exists():
        return False
    from babel.messages.mofile import read_mo

    with mo.open("rb") as f:
        return "Announcement of the election result" in read_mo(f)


def test_summary_pdf(app, api, staff, w, tmp_path):
    cid = w["congress"]
    for kind, seed in (("committee", 11), ("slate", 12), ("resolution", 13)):
        _advance(app, staff, w[kind], "published", seed=seed)
    for user in ("chair", "observer"):
        assert api(user).get(f"/api/v1/congresses/{cid}/summary.pdf").status_code == 200
    assert api("counter1").get(f"/api/v1/congresses/{cid}/summary.pdf").status_code == 403
    pdf = api("observer").get(f"/api/v1/congresses/{cid}/summary.pdf").data
    text = _text(pdf)
    flat = _squash(text)
    for kind in ("committee", "slate", "resolution"):
        res = _result(app, w[kind])
        assert _squash(res["title"]) in flat
        for c in res["candidates"]:
            if c["elected"]:
                assert _squash(c["full_name"]) in flat
        for i in res["items"]:
            assert _vi(i["percent_for"]) in text
    slate = _result(app, w["slate"])
    officials = [c for c in slate["candidates"] if c["elected"] == "official"]
    alternates = [c for c in slate["candidates"] if c["elected"] == "alternate"]
    assert len(officials) + len(alternates) >= 1
    _pngs(pdf, tmp_path, "summary")


def test_summary_leaves_out_unpublished(app, api, staff, w):
    cid = w["congress"]
    _advance(app, staff, w["committee"], "certified")
    flat = _squash(_text(api("chair").get(f"/api/v1/congresses/{cid}/summary.pdf").data))
    for name in fx.COMMITTEE:
        assert _squash(name) not in flat


def test_exports_csv_xlsx_json(app, client, api, staff, w):
    pid = w["resolution"]
    _advance(app, staff, pid, "closed")
    for ext in ("csv", "xlsx", "json"):
        assert api("observer").get(f"/api/v1/polls/{pid}/export.{ext}").status_code == 409
    _advance_more(app, staff, pid, "counted")
    for ext in ("csv", "xlsx", "json"):
        assert api("observer").get(f"/api/v1/polls/{pid}/export.{ext}").status_code == 200
        assert client.get(f"/api/v1/polls/{pid}/export.{ext}").status_code == 409  # not public yet
    _advance_more(app, staff, pid, "published")
    res = _result(app, pid)
    r = client.get(f"/api/v1/polls/{pid}/export.csv")
    assert r.status_code == 200
    rows = list(csv.reader(io.StringIO(r.data.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    texts = [row[header.index("name")] for row in body]
    assert "'" + fx.ITEMS[1] in texts and fx.ITEMS[0] in texts  # formula neutralised
    for row, item in zip(body, res["items"], strict=False):
        assert int(row[header.index("for")]) == item["for"]
        assert row[header.index("percent_for")] == item["percent_for"]
    from openpyxl import load_workbook

    wb = load_workbook(io.BytesIO(client.get(f"/api/v1/polls/{pid}/export.xlsx").data))
    cells = [c.value for row in wb.active.iter_rows() for c in row]
    assert "'" + fx.ITEMS[1] in cells and fx.ITEMS[1] not in cells
    data = json.loads(client.get(f"/api/v1/polls/{pid}/export.json").data)
    assert data["items"] == res["items"] and data["digest"] == res["digest"]


def test_ballots_export_recounts_standalone(app, api, staff, w, tmp_path):
    pid = w["slate"]
    _advance(app, staff, pid, "closed", seed=21)
    assert api("counter1").get(f"/api/v1/polls/{pid}/ballots.json").status_code == 409
    _advance_more(app, staff, pid, "counted")
    assert api("admin").get(f"/api/v1/polls/{pid}/ballots.json").status_code == 403
    for user in ("counter1", "chair", "observer"):
        assert api(user).get(f"/api/v1/polls/{pid}/ballots.json").status_code == 200
    payload = json.loads(api("observer").get(f"/api/v1/polls/{pid}/ballots.json").data)
    res = _result(app, pid)
    assert payload["digest"] == res["digest"]
    assert all("receipt" not in b for b in payload["ballots"])
    assert len(payload["ballots"]) == res["figures"]["ballots_returned"]
    good = tmp_path / "ballots.json"
    good.write_text(json.dumps(payload, ensure_ascii=False))
    run = subprocess.run(
        [sys.executable, "-m", "congress_vote.rules.recount", str(good)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    assert res["digest"] in run.stdout
    # tamper: move one ballot's vote to another candidate
    bad = json.loads(json.dumps(payload))
    ids = bad["spec"]["candidate_ids"]
    b = next(b for b in bad["ballots"] if b["kept"] and len(b["kept"]) < len(ids))
    missing = next(i for i in ids if i not in b["kept"])
    b["kept"] = sorted(b["kept"][1:] + [missing])
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(bad, ensure_ascii=False))
    run = subprocess.run(
        [sys.executable, "-m", "congress_vote.rules.recount", str(tampered)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert run.returncode == 1
    assert "digest" in run.stderr
