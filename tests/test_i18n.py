"""Languages: the Vietnamese catalogue is complete and consistent, pages and printed documents
are Vietnamese by default and English after /lang/en, API messages follow Accept-Language."""

from __future__ import annotations

import importlib.util
import io
import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po
from pypdf import PdfReader

ROOT = Path(__file__).resolve().parent.parent
FRAGMENTS = ROOT / "congress_vote" / "i18n" / "vi"
PLACEHOLDER = re.compile(r"%\((\w+)\)[sd]")

# The catalogue and the choice of language (session, ?lang=, Accept-Language); the database only
# supplies the congress and polls shown.
pytestmark = pytest.mark.db_independent


def _fragments() -> list[tuple[str, object]]:
    out = []
    for frag in sorted(FRAGMENTS.glob("*.po")):
        with frag.open("rb") as f:
            for m in read_po(f, locale="vi"):
                if m.id:
                    out.append((frag.name, m))
    return out


def _text(pdf: bytes) -> str:
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages)


# ---- the catalogue -------------------------------------------------------------------------------


def test_every_ui_string_has_a_vietnamese_translation():
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "i18n.py"), "--check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    missing = [line.strip() for line in run.stdout.splitlines() if "missing:" in line]
    assert run.returncode == 0 and not missing, "untranslated:\n" + "\n".join(missing)


def test_placeholders_are_kept_in_every_translation():
    bad = []
    for name, m in _fragments():
        ids = m.id if isinstance(m.id, tuple) else (m.id,)
        strings = m.string if isinstance(m.string, tuple) else (m.string,)
        want = sorted(set(PLACEHOLDER.findall(ids[0])))
        for s in strings:
            if s and sorted(set(PLACEHOLDER.findall(s))) != want:
                bad.append(f"{name}: {ids[0]!r} -> {s!r}")
            # A stray "%" breaks "%"-formatting of a message that has values.
            if s and want and re.search(r"%(?!\(\w+\)[sd]|%)", s):
                bad.append(f"{name}: lone % in {s!r}")
    assert not bad, "\n".join(bad)


def test_fragments_agree_on_shared_strings():
    """A msgid translated in two fragments must read the same (the first fragment wins, so a
    disagreement silently changes a term between pages)."""
    seen: dict = {}
    bad = []
    for name, m in _fragments():
        if not m.string:
            continue
        if m.id in seen and seen[m.id][1] != m.string:
            bad.append(f"{m.id!r}: {seen[m.id][0]} {seen[m.id][1]!r} / {name} {m.string!r}")
        seen.setdefault(m.id, (name, m.string))
    assert not bad, "\n".join(bad)


def test_translations_are_vietnamese_with_diacritics():
    """A msgstr that is plain ASCII letters only (and long) is most likely English left over."""
    suspects = [
        f"{name}: {m.string!r}"
        for name, m in _fragments()
        if isinstance(m.string, str)
        and m.string.isascii()
        and len(re.findall(r"[A-Za-z]{3,}", PLACEHOLDER.sub("", m.string))) >= 3
    ]
    assert not suspects, "\n".join(suspects)


def test_catalogue_script_reports_missing_strings(tmp_path):
    """scripts/i18n.py --check fails when a string has no translation (the check above relies
    on it)."""
    spec = importlib.util.spec_from_file_location("i18n_script", ROOT / "scripts" / "i18n.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    known = mod.translations()
    assert known["Sign in"] == "Đăng nhập"
    assert "A string nobody translated" not in known


# ---- pages ---------------------------------------------------------------------------------------


@pytest.fixture
def scene(app, hall, auth, api, staff):
    """A congress of 10 voters, an open committee election with 3 ballots issued, a second
    election counted, both reached through the real API."""
    cid, poll, tokens = hall.open_poll_with_ballots(n=3)
    other = hall.poll(cid, title="Bầu Ban Kiểm tra")
    hall.open(other["id"])
    toks = hall.issue(other["id"], 2)["tokens"]
    ids = [c["id"] for c in other["candidates"]]
    client = app.test_client()
    client.environ_base["HTTP_X_KIOSK_TOKEN"] = hall.kiosk_tokens[cid]  # an enrolled tablet
    for t in toks:
        r = client.post(f"/api/v1/ballot/{t}", json={"kept": ids[:1]})
        assert r.status_code in (200, 201), r.json
    hall.close(other["id"])
    r = api("counter1").post(
        f"/api/v1/polls/{other['id']}/count",
        json={"opening_codes": hall.opening_codes(other["id"])},
    )
    assert r.status_code == 200, r.json
    return {
        "cid": cid,
        "poll": poll["id"],
        "token": tokens[0],
        "counted": other["id"],
        "kiosk": hall.kiosk_tokens[cid],
    }


# (path, who signs in, Vietnamese phrase, its English source)
PAGES = [
    ("/login", None, "Đăng nhập cán bộ", "Staff sign-in"),
    ("/", None, "Các đại hội", "Congresses"),
    ("/kiosk/{cid}", None, "Quét phiếu bầu của bạn", "Scan your ballot"),
    ("/b/{token}", None, "Xem lại phiếu", "Review my vote"),
    ("/congresses/{cid}/checkin", "registrar", "Bàn điểm danh", "Check-in desk"),
    ("/congresses/{cid}/delegates", "registrar", "Tất cả chi bộ", "All branches"),
    ("/polls/{poll}", "admin", "Thiết lập", "Setup"),
    ("/polls/{counted}/count", "counter1", "Ban kiểm phiếu", "Counting committee"),
    ("/congresses/{cid}/screen", None, "Nhiệm kỳ", "Term"),
    ("/congresses/{cid}/results", None, "Kiểm tra mã biên nhận", "Check your receipt"),
]


@pytest.mark.parametrize("path,who,vi,en", PAGES, ids=[p[0] for p in PAGES])
def test_pages_are_vietnamese_by_default_and_english_on_request(
    app, scene, auth, path, who, vi, en
):
    client = app.test_client()
    if path.startswith(("/kiosk/", "/b/")):  # voting pages: on an enrolled kiosk
        client.environ_base["HTTP_X_KIOSK_TOKEN"] = scene["kiosk"]
    if who:
        client.post("/login", data={"username": who, "password": "password123"})
    url = path.format(**scene)
    page = client.get(url)
    assert page.status_code == 200, url
    html = page.get_data(as_text=True)
    assert 'lang="vi"' in html
    assert vi in html and en not in html, url
    assert client.get("/lang/en").status_code == 302
    html = client.get(url).get_data(as_text=True)
    assert 'lang="en"' in html
    assert en in html and vi not in html, url
    client.get("/lang/vi")
    assert vi in client.get(url).get_data(as_text=True)


def test_browser_accept_language_does_not_switch_pages(app, scene):
    """A hall tablet whose browser asks for English still gets Vietnamese pages; only the
    language switch changes them."""
    client = app.test_client()
    html = client.get(
        f"/kiosk/{scene['cid']}",
        headers={
            "X-Kiosk-Token": scene["kiosk"],
            "Accept-Language": "en-US,en;q=0.9",
            "Accept": "text/html,application/xhtml+xml,*/*;q=0.8",
        },
    ).get_data(as_text=True)
    assert "Quét phiếu bầu của bạn" in html


def test_service_messages_shown_on_pages_are_vietnamese(app, scene, auth):
    """A rule broken in a service (a card code that is no card) reaches the desk in Vietnamese."""
    client = app.test_client()
    client.post("/login", data={"username": "registrar", "password": "password123"})
    r = client.post(
        f"/congresses/{scene['cid']}/checkin",
        data={"card": "not a card"},
        headers={"Accept": "application/json"},
    )
    assert r.status_code == 422
    message = r.json["message"]
    assert "card" not in message
    assert "thẻ đại biểu" in message


# ---- the API -------------------------------------------------------------------------------------


def test_api_error_message_follows_accept_language(app, scene, auth):
    client = app.test_client()
    headers = auth.headers("admin")
    vi = client.get("/api/v1/polls/999999/result", headers=headers).json
    en = client.get(
        "/api/v1/polls/999999/result", headers={**headers, "Accept-Language": "en-GB,en;q=0.8"}
    ).json
    assert vi["error"]["code"] == en["error"]["code"]  # the contract does not change
    assert en["error"]["message"] == "No such poll."
    assert vi["error"]["message"] != en["error"]["message"]
    assert re.search(r"[ạ-ỹđĐ]", vi["error"]["message"])
    forced = client.get("/api/v1/polls/999999/result?lang=en", headers=headers).json
    assert forced["error"]["message"] == "No such poll."


def test_api_row_errors_of_an_import_follow_the_language(app, scene, auth):
    client = app.test_client()
    bad = "code,full_name,branch,membership\nX1,Nguyễn Văn A,Chi bộ 1,sometimes\n"
    url = f"/api/v1/congresses/{scene['cid']}/delegates/import"
    headers = {**auth.headers("admin"), "Content-Type": "text/csv"}
    vi = client.post(url, data=bad.encode(), headers=headers).json
    en = client.post(url, data=bad.encode(), headers={**headers, "Accept-Language": "en"}).json
    assert vi["error"]["code"] == en["error"]["code"] == "invalid_rows"
    assert "unknown membership" in en["rows"][0]["message"]
    assert "loại đảng viên không xác định" in vi["rows"][0]["message"]
    assert "Chưa có gì được lưu" in vi["error"]["message"]


def test_cli_messages_work_outside_a_request(runner):
    result = runner.invoke(
        args=["create-user", "someone", "--role", "wizard", "--password", "password123"]
    )
    assert result.exit_code != 0
    assert "Unknown role(s): wizard" in result.output


# ---- printed documents ---------------------------------------------------------------------------


def test_printed_documents_are_vietnamese_by_default(app, scene, auth, api):
    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": "password123"})
    cards = _text(client.get(f"/congresses/{scene['cid']}/cards.pdf").data)
    assert "Mã: D000" in cards and "List code" not in cards
    client.post("/login", data={"username": "counter1", "password": "password123"})
    minutes = _text(client.get(f"/polls/{scene['counted']}/minutes.pdf").data)
    assert "BIÊN BẢN KIỂM PHIẾU" in minutes.upper()
    assert "Counting minutes" not in minutes
    issued = api("counter1").post(f"/api/v1/polls/{scene['poll']}/ballots", json={"count": 1})
    assert issued.status_code == 201, issued.json
    slips = _text(client.get(issued.json["pdf_url"]).data)
    assert "PHIẾU BẦU" in slips.upper() and "BALLOT:" not in slips


def test_form_validation_messages_are_vietnamese(app, staff):
    """WTForms ships no Vietnamese: its messages come from our catalogue."""
    client = app.test_client()
    client.post("/login", data={"username": "admin", "password": "password123"})
    html = client.post(
        "/congresses/new", data={"name": "", "quorum_fraction": "2/3", "kind": "members"}
    ).get_data(as_text=True)
    assert "Mục này không được để trống." in html
    assert "This field is required." not in html
    client.get("/lang/en")
    html = client.post(
        "/congresses/new", data={"name": "", "quorum_fraction": "2/3", "kind": "members"}
    ).get_data(as_text=True)
    assert "This field is required." in html
